package dev.ascendj.acl.global;

import dev.ascendj.acl.aclBoolArray;
import dev.ascendj.acl.aclFloatArray;
import dev.ascendj.acl.aclIntArray;
import dev.ascendj.acl.aclOpExecutor;
import dev.ascendj.acl.aclScalar;
import dev.ascendj.acl.aclScalarList;
import dev.ascendj.acl.aclTensor;
import dev.ascendj.acl.aclTensorList;
import dev.ascendj.acl.aclrtStream;
import org.bytedeco.javacpp.BoolPointer;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.annotation.ByPtrPtr;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Const;
import org.bytedeco.javacpp.annotation.Properties;

/**
 * The aclnn operator API: tensor, scalar and array descriptors ({@code aclnn/acl_meta.h},
 * {@code libnnopbase}) and the operators a LLaMA2 training step needs ({@code aclnnop/aclnn_*.h},
 * {@code libopapi}). Functions return an {@code aclnnStatus} (0 is {@link #ACLNN_SUCCESS}; names in
 * {@link dev.ascendj.acl.AclErrors}) unless the javadoc says otherwise.
 *
 * <p>Every operator is called in two phases: {@code aclnnXxxGetWorkspaceSize(inputs, attributes,
 * outputs, &workspaceSize, &executor)} checks the arguments, sizes the device workspace and
 * prepares an executor; {@code aclnnXxx(workspace, workspaceSize, executor, stream)} enqueues it on
 * a stream and consumes the executor (unless it was made repeatable). Descriptors may be destroyed
 * once phase 2 has been enqueued; the device memory they point to must live until the stream has
 * run the operator.
 *
 * <p>Written by hand from the documented signatures. Operator support differs between SoCs: the
 * fused RmsNorm, SwiGlu, rotary embedding, flash attention, cross-entropy and AdamW operators are not
 * available on the Atlas training series (Ascend 910A). The signatures of Div, InplaceCopy,
 * InplaceFillScalar, Sqrt, Exp, Log, Cos and Sin follow the common aclnn patterns ({@code (self, out)}
 * for unary operators) and should be checked against the installed {@code include/aclnnop/}.
 */
@Properties(inherit = dev.ascendj.acl.presets.aclnn.class)
public class aclnn extends dev.ascendj.acl.presets.aclnn {
    static {
        Loader.load();
    }

    // ------------------------------------------------------------------ aclnnStatus codes (opdev/op_errno.h)

    public static final int ACLNN_SUCCESS = 0;
    public static final int ACLNN_ERR_PARAM_NULLPTR = 161001;
    public static final int ACLNN_ERR_PARAM_INVALID = 161002;
    public static final int ACLNN_ERR_RUNTIME_ERROR = 361001;
    public static final int ACLNN_ERR_INNER = 561000;
    public static final int ACLNN_ERR_INNER_INFERSHAPE_ERROR = 561001;
    public static final int ACLNN_ERR_INNER_TILING_ERROR = 561002;
    public static final int ACLNN_ERR_INNER_FIND_KERNEL_ERROR = 561003;
    public static final int ACLNN_ERR_INNER_CREATE_EXECUTOR = 561101;
    public static final int ACLNN_ERR_INNER_NULLPTR = 561103;
    public static final int ACLNN_ERR_INNER_OPP_PATH_NOT_FOUND = 561107;

    // ------------------------------------------------------------------ attribute values

    /** {@code cubeMathType} of the matmul operators. */
    public static final byte KEEP_DTYPE = 0;
    public static final byte ALLOW_FP32_DOWN_PRECISION = 1;
    public static final byte USE_FP16 = 2;
    public static final byte USE_HF32 = 3;
    public static final byte USE_FP32_ADD = 4;
    /** {@code reduction} of the NLL loss. */
    public static final long REDUCTION_NONE = 0;
    public static final long REDUCTION_MEAN = 1;
    public static final long REDUCTION_SUM = 2;
    /** {@code mode} of the rotary position embedding. */
    public static final long ROPE_MODE_HALF = 0;
    public static final long ROPE_MODE_INTERLEAVE = 1;
    public static final long ROPE_MODE_QUARTER = 2;
    public static final long ROPE_MODE_INTERLEAVE_HALF = 3;

    // ------------------------------------------------------------------ library (aclnn_base.h)

    public static native @Cast("aclnnStatus") int aclnnInit(@Cast("const char*") String configPath);

    public static native @Cast("aclnnStatus") int aclnnFinalize();

    // ------------------------------------------------------------------ descriptors (acl_meta.h)

    /**
     * A tensor descriptor over device memory; returns null on failure. Strides and {@code offset} are
     * in elements; argument 5 is the offset and argument 6 the format.
     */
    public static native aclTensor aclCreateTensor(@Cast("const int64_t*") LongPointer viewDims,
            @Cast("uint64_t") long viewDimsNum, @Cast("aclDataType") int dataType,
            @Cast("const int64_t*") LongPointer stride, @Cast("int64_t") long offset, @Cast("aclFormat") int format,
            @Cast("const int64_t*") LongPointer storageDims, @Cast("uint64_t") long storageDimsNum,
            Pointer tensorData);

    /** Same as the {@link LongPointer} variant, from Java arrays. */
    public static native aclTensor aclCreateTensor(@Cast("const int64_t*") long[] viewDims,
            @Cast("uint64_t") long viewDimsNum, @Cast("aclDataType") int dataType,
            @Cast("const int64_t*") long[] stride, @Cast("int64_t") long offset, @Cast("aclFormat") int format,
            @Cast("const int64_t*") long[] storageDims, @Cast("uint64_t") long storageDimsNum,
            Pointer tensorData);

    /** A scalar whose value is read from host memory at {@code value}; returns null on failure. */
    public static native aclScalar aclCreateScalar(Pointer value, @Cast("aclDataType") int dataType);

    public static native aclIntArray aclCreateIntArray(@Cast("const int64_t*") LongPointer value,
            @Cast("uint64_t") long size);

    public static native aclIntArray aclCreateIntArray(@Cast("const int64_t*") long[] value,
            @Cast("uint64_t") long size);

    public static native aclFloatArray aclCreateFloatArray(@Const FloatPointer value, @Cast("uint64_t") long size);

    public static native aclBoolArray aclCreateBoolArray(@Cast("const bool*") BoolPointer value,
            @Cast("uint64_t") long size);

    public static native aclTensorList aclCreateTensorList(@Cast("const aclTensor*const*") PointerPointer<aclTensor> value,
            @Cast("uint64_t") long size);

    public static native aclScalarList aclCreateScalarList(@Cast("const aclScalar*const*") PointerPointer<aclScalar> value,
            @Cast("uint64_t") long size);

    public static native @Cast("aclnnStatus") int aclDestroyTensor(@Const aclTensor tensor);

    public static native @Cast("aclnnStatus") int aclDestroyScalar(@Const aclScalar scalar);

    public static native @Cast("aclnnStatus") int aclDestroyIntArray(@Const aclIntArray array);

    public static native @Cast("aclnnStatus") int aclDestroyFloatArray(@Const aclFloatArray array);

    public static native @Cast("aclnnStatus") int aclDestroyBoolArray(@Const aclBoolArray array);

    public static native @Cast("aclnnStatus") int aclDestroyTensorList(@Const aclTensorList array);

    public static native @Cast("aclnnStatus") int aclDestroyScalarList(@Const aclScalarList array);

    /** Points {@code viewDims} at the descriptor's own dimension array (not a copy). */
    public static native @Cast("aclnnStatus") int aclGetViewShape(@Const aclTensor tensor,
            @Cast("int64_t**") PointerPointer<LongPointer> viewDims, @Cast("uint64_t*") LongPointer viewDimsNum);

    public static native @Cast("aclnnStatus") int aclGetViewStrides(@Const aclTensor tensor,
            @Cast("int64_t**") PointerPointer<LongPointer> stridesValue, @Cast("uint64_t*") LongPointer stridesNum);

    public static native @Cast("aclnnStatus") int aclGetDataType(@Const aclTensor tensor,
            @Cast("aclDataType*") IntPointer dataType);

    /** Keeps an executor alive after phase 2, so that it can run again with new addresses. */
    public static native @Cast("aclnnStatus") int aclSetAclOpExecutorRepeatable(aclOpExecutor executor);

    public static native @Cast("aclnnStatus") int aclDestroyAclOpExecutor(aclOpExecutor executor);

    public static native @Cast("aclnnStatus") int aclSetInputTensorAddr(aclOpExecutor executor,
            @Cast("size_t") long index, aclTensor tensor, Pointer addr);

    public static native @Cast("aclnnStatus") int aclSetOutputTensorAddr(aclOpExecutor executor,
            @Cast("size_t") long index, aclTensor tensor, Pointer addr);

    // ------------------------------------------------------------------ operators

    /** Phase 1 of aclnnAdd (out = self + alpha * other, broadcasting): sizes the workspace and prepares the executor. */
    public static native @Cast("aclnnStatus") int aclnnAddGetWorkspaceSize(@Const aclTensor self,
            @Const aclTensor other,
            @Const aclScalar alpha,
            aclTensor out,
            @Cast("uint64_t*") LongPointer workspaceSize,
            @ByPtrPtr aclOpExecutor executor);

    /** Phase 2 of aclnnAdd: runs the prepared executor on {@code stream}. */
    public static native @Cast("aclnnStatus") int aclnnAdd(Pointer workspace, @Cast("uint64_t") long workspaceSize,
            aclOpExecutor executor, aclrtStream stream);

    /** Phase 1 of aclnnAdds (out = self + alpha * other for a scalar other): sizes the workspace and prepares the executor. */
    public static native @Cast("aclnnStatus") int aclnnAddsGetWorkspaceSize(@Const aclTensor self,
            @Const aclScalar other,
            @Const aclScalar alpha,
            aclTensor out,
            @Cast("uint64_t*") LongPointer workspaceSize,
            @ByPtrPtr aclOpExecutor executor);

    /** Phase 2 of aclnnAdds: runs the prepared executor on {@code stream}. */
    public static native @Cast("aclnnStatus") int aclnnAdds(Pointer workspace, @Cast("uint64_t") long workspaceSize,
            aclOpExecutor executor, aclrtStream stream);

    /** Phase 1 of aclnnInplaceAdd (selfRef += alpha * other): sizes the workspace and prepares the executor. */
    public static native @Cast("aclnnStatus") int aclnnInplaceAddGetWorkspaceSize(aclTensor selfRef,
            @Const aclTensor other,
            @Const aclScalar alpha,
            @Cast("uint64_t*") LongPointer workspaceSize,
            @ByPtrPtr aclOpExecutor executor);

    /** Phase 2 of aclnnInplaceAdd: runs the prepared executor on {@code stream}. */
    public static native @Cast("aclnnStatus") int aclnnInplaceAdd(Pointer workspace, @Cast("uint64_t") long workspaceSize,
            aclOpExecutor executor, aclrtStream stream);

    /** Phase 1 of aclnnMul (out = self * other, broadcasting): sizes the workspace and prepares the executor. */
    public static native @Cast("aclnnStatus") int aclnnMulGetWorkspaceSize(@Const aclTensor self,
            @Const aclTensor other,
            aclTensor out,
            @Cast("uint64_t*") LongPointer workspaceSize,
            @ByPtrPtr aclOpExecutor executor);

    /** Phase 2 of aclnnMul: runs the prepared executor on {@code stream}. */
    public static native @Cast("aclnnStatus") int aclnnMul(Pointer workspace, @Cast("uint64_t") long workspaceSize,
            aclOpExecutor executor, aclrtStream stream);

    /** Phase 1 of aclnnMuls (out = self * a scalar): sizes the workspace and prepares the executor. */
    public static native @Cast("aclnnStatus") int aclnnMulsGetWorkspaceSize(@Const aclTensor self,
            @Const aclScalar other,
            aclTensor out,
            @Cast("uint64_t*") LongPointer workspaceSize,
            @ByPtrPtr aclOpExecutor executor);

    /** Phase 2 of aclnnMuls: runs the prepared executor on {@code stream}. */
    public static native @Cast("aclnnStatus") int aclnnMuls(Pointer workspace, @Cast("uint64_t") long workspaceSize,
            aclOpExecutor executor, aclrtStream stream);

    /** Phase 1 of aclnnInplaceMul (selfRef *= other): sizes the workspace and prepares the executor. */
    public static native @Cast("aclnnStatus") int aclnnInplaceMulGetWorkspaceSize(aclTensor selfRef,
            @Const aclTensor other,
            @Cast("uint64_t*") LongPointer workspaceSize,
            @ByPtrPtr aclOpExecutor executor);

    /** Phase 2 of aclnnInplaceMul: runs the prepared executor on {@code stream}. */
    public static native @Cast("aclnnStatus") int aclnnInplaceMul(Pointer workspace, @Cast("uint64_t") long workspaceSize,
            aclOpExecutor executor, aclrtStream stream);

    /** Phase 1 of aclnnDiv (out = self / other, broadcasting): sizes the workspace and prepares the executor. */
    public static native @Cast("aclnnStatus") int aclnnDivGetWorkspaceSize(@Const aclTensor self,
            @Const aclTensor other,
            aclTensor out,
            @Cast("uint64_t*") LongPointer workspaceSize,
            @ByPtrPtr aclOpExecutor executor);

    /** Phase 2 of aclnnDiv: runs the prepared executor on {@code stream}. */
    public static native @Cast("aclnnStatus") int aclnnDiv(Pointer workspace, @Cast("uint64_t") long workspaceSize,
            aclOpExecutor executor, aclrtStream stream);

    /** Phase 1 of aclnnCast (converts to dtype): sizes the workspace and prepares the executor. */
    public static native @Cast("aclnnStatus") int aclnnCastGetWorkspaceSize(@Const aclTensor self,
            @Cast("aclDataType") int dtype,
            aclTensor out,
            @Cast("uint64_t*") LongPointer workspaceSize,
            @ByPtrPtr aclOpExecutor executor);

    /** Phase 2 of aclnnCast: runs the prepared executor on {@code stream}. */
    public static native @Cast("aclnnStatus") int aclnnCast(Pointer workspace, @Cast("uint64_t") long workspaceSize,
            aclOpExecutor executor, aclrtStream stream);

    /** Phase 1 of aclnnInplaceCopy (copies src into selfRef (any strides, with dtype conversion)): sizes the workspace and prepares the executor. */
    public static native @Cast("aclnnStatus") int aclnnInplaceCopyGetWorkspaceSize(aclTensor selfRef,
            @Const aclTensor src,
            @Cast("uint64_t*") LongPointer workspaceSize,
            @ByPtrPtr aclOpExecutor executor);

    /** Phase 2 of aclnnInplaceCopy: runs the prepared executor on {@code stream}. */
    public static native @Cast("aclnnStatus") int aclnnInplaceCopy(Pointer workspace, @Cast("uint64_t") long workspaceSize,
            aclOpExecutor executor, aclrtStream stream);

    /** Phase 1 of aclnnInplaceFillScalar (sets every element to value): sizes the workspace and prepares the executor. */
    public static native @Cast("aclnnStatus") int aclnnInplaceFillScalarGetWorkspaceSize(aclTensor selfRef,
            @Const aclScalar value,
            @Cast("uint64_t*") LongPointer workspaceSize,
            @ByPtrPtr aclOpExecutor executor);

    /** Phase 2 of aclnnInplaceFillScalar: runs the prepared executor on {@code stream}. */
    public static native @Cast("aclnnStatus") int aclnnInplaceFillScalar(Pointer workspace, @Cast("uint64_t") long workspaceSize,
            aclOpExecutor executor, aclrtStream stream);

    /** Phase 1 of aclnnMatmul (matrix product with broadcasting over batch axes; cubeMathType 0 KEEP_DTYPE, 1 ALLOW_FP32_DOWN_PRECISION, 2 USE_FP16, 3 USE_HF32, 4 USE_FP32_ADD): sizes the workspace and prepares the executor. */
    public static native @Cast("aclnnStatus") int aclnnMatmulGetWorkspaceSize(@Const aclTensor self,
            @Const aclTensor mat2,
            aclTensor out,
            @Cast("int8_t") byte cubeMathType,
            @Cast("uint64_t*") LongPointer workspaceSize,
            @ByPtrPtr aclOpExecutor executor);

    /** Phase 2 of aclnnMatmul: runs the prepared executor on {@code stream}. */
    public static native @Cast("aclnnStatus") int aclnnMatmul(Pointer workspace, @Cast("uint64_t") long workspaceSize,
            aclOpExecutor executor, aclrtStream stream);

    /** Phase 1 of aclnnMm (2D matrix product): sizes the workspace and prepares the executor. */
    public static native @Cast("aclnnStatus") int aclnnMmGetWorkspaceSize(@Const aclTensor self,
            @Const aclTensor mat2,
            aclTensor out,
            @Cast("int8_t") byte cubeMathType,
            @Cast("uint64_t*") LongPointer workspaceSize,
            @ByPtrPtr aclOpExecutor executor);

    /** Phase 2 of aclnnMm: runs the prepared executor on {@code stream}. */
    public static native @Cast("aclnnStatus") int aclnnMm(Pointer workspace, @Cast("uint64_t") long workspaceSize,
            aclOpExecutor executor, aclrtStream stream);

    /** Phase 1 of aclnnBatchMatMul (3D batched matrix product): sizes the workspace and prepares the executor. */
    public static native @Cast("aclnnStatus") int aclnnBatchMatMulGetWorkspaceSize(@Const aclTensor self,
            @Const aclTensor mat2,
            aclTensor out,
            @Cast("int8_t") byte cubeMathType,
            @Cast("uint64_t*") LongPointer workspaceSize,
            @ByPtrPtr aclOpExecutor executor);

    /** Phase 2 of aclnnBatchMatMul: runs the prepared executor on {@code stream}. */
    public static native @Cast("aclnnStatus") int aclnnBatchMatMul(Pointer workspace, @Cast("uint64_t") long workspaceSize,
            aclOpExecutor executor, aclrtStream stream);

    /** Phase 1 of aclnnMean (mean over the axes dim): sizes the workspace and prepares the executor. */
    public static native @Cast("aclnnStatus") int aclnnMeanGetWorkspaceSize(@Const aclTensor self,
            @Const aclIntArray dim,
            @Cast("bool") boolean keepDim,
            @Cast("aclDataType") int dtype,
            aclTensor out,
            @Cast("uint64_t*") LongPointer workspaceSize,
            @ByPtrPtr aclOpExecutor executor);

    /** Phase 2 of aclnnMean: runs the prepared executor on {@code stream}. */
    public static native @Cast("aclnnStatus") int aclnnMean(Pointer workspace, @Cast("uint64_t") long workspaceSize,
            aclOpExecutor executor, aclrtStream stream);

    /** Phase 1 of aclnnReduceSum (sum over the axes dims): sizes the workspace and prepares the executor. */
    public static native @Cast("aclnnStatus") int aclnnReduceSumGetWorkspaceSize(@Const aclTensor self,
            @Const aclIntArray dims,
            @Cast("bool") boolean keepDims,
            @Cast("aclDataType") int dtype,
            aclTensor out,
            @Cast("uint64_t*") LongPointer workspaceSize,
            @ByPtrPtr aclOpExecutor executor);

    /** Phase 2 of aclnnReduceSum: runs the prepared executor on {@code stream}. */
    public static native @Cast("aclnnStatus") int aclnnReduceSum(Pointer workspace, @Cast("uint64_t") long workspaceSize,
            aclOpExecutor executor, aclrtStream stream);

    /** Phase 1 of aclnnRsqrt (1/sqrt): sizes the workspace and prepares the executor. */
    public static native @Cast("aclnnStatus") int aclnnRsqrtGetWorkspaceSize(@Const aclTensor self,
            aclTensor out,
            @Cast("uint64_t*") LongPointer workspaceSize,
            @ByPtrPtr aclOpExecutor executor);

    /** Phase 2 of aclnnRsqrt: runs the prepared executor on {@code stream}. */
    public static native @Cast("aclnnStatus") int aclnnRsqrt(Pointer workspace, @Cast("uint64_t") long workspaceSize,
            aclOpExecutor executor, aclrtStream stream);

    /** Phase 1 of aclnnSqrt (sqrt): sizes the workspace and prepares the executor. */
    public static native @Cast("aclnnStatus") int aclnnSqrtGetWorkspaceSize(@Const aclTensor self,
            aclTensor out,
            @Cast("uint64_t*") LongPointer workspaceSize,
            @ByPtrPtr aclOpExecutor executor);

    /** Phase 2 of aclnnSqrt: runs the prepared executor on {@code stream}. */
    public static native @Cast("aclnnStatus") int aclnnSqrt(Pointer workspace, @Cast("uint64_t") long workspaceSize,
            aclOpExecutor executor, aclrtStream stream);

    /** Phase 1 of aclnnExp (exp): sizes the workspace and prepares the executor. */
    public static native @Cast("aclnnStatus") int aclnnExpGetWorkspaceSize(@Const aclTensor self,
            aclTensor out,
            @Cast("uint64_t*") LongPointer workspaceSize,
            @ByPtrPtr aclOpExecutor executor);

    /** Phase 2 of aclnnExp: runs the prepared executor on {@code stream}. */
    public static native @Cast("aclnnStatus") int aclnnExp(Pointer workspace, @Cast("uint64_t") long workspaceSize,
            aclOpExecutor executor, aclrtStream stream);

    /** Phase 1 of aclnnLog (natural logarithm): sizes the workspace and prepares the executor. */
    public static native @Cast("aclnnStatus") int aclnnLogGetWorkspaceSize(@Const aclTensor self,
            aclTensor out,
            @Cast("uint64_t*") LongPointer workspaceSize,
            @ByPtrPtr aclOpExecutor executor);

    /** Phase 2 of aclnnLog: runs the prepared executor on {@code stream}. */
    public static native @Cast("aclnnStatus") int aclnnLog(Pointer workspace, @Cast("uint64_t") long workspaceSize,
            aclOpExecutor executor, aclrtStream stream);

    /** Phase 1 of aclnnCos (cosine): sizes the workspace and prepares the executor. */
    public static native @Cast("aclnnStatus") int aclnnCosGetWorkspaceSize(@Const aclTensor self,
            aclTensor out,
            @Cast("uint64_t*") LongPointer workspaceSize,
            @ByPtrPtr aclOpExecutor executor);

    /** Phase 2 of aclnnCos: runs the prepared executor on {@code stream}. */
    public static native @Cast("aclnnStatus") int aclnnCos(Pointer workspace, @Cast("uint64_t") long workspaceSize,
            aclOpExecutor executor, aclrtStream stream);

    /** Phase 1 of aclnnSin (sine): sizes the workspace and prepares the executor. */
    public static native @Cast("aclnnStatus") int aclnnSinGetWorkspaceSize(@Const aclTensor self,
            aclTensor out,
            @Cast("uint64_t*") LongPointer workspaceSize,
            @ByPtrPtr aclOpExecutor executor);

    /** Phase 2 of aclnnSin: runs the prepared executor on {@code stream}. */
    public static native @Cast("aclnnStatus") int aclnnSin(Pointer workspace, @Cast("uint64_t") long workspaceSize,
            aclOpExecutor executor, aclrtStream stream);

    /** Phase 1 of aclnnSoftmax (softmax along dim): sizes the workspace and prepares the executor. */
    public static native @Cast("aclnnStatus") int aclnnSoftmaxGetWorkspaceSize(@Const aclTensor self,
            @Cast("int64_t") long dim,
            aclTensor out,
            @Cast("uint64_t*") LongPointer workspaceSize,
            @ByPtrPtr aclOpExecutor executor);

    /** Phase 2 of aclnnSoftmax: runs the prepared executor on {@code stream}. */
    public static native @Cast("aclnnStatus") int aclnnSoftmax(Pointer workspace, @Cast("uint64_t") long workspaceSize,
            aclOpExecutor executor, aclrtStream stream);

    /** Phase 1 of aclnnSoftmaxBackward (backward of softmax from its output): sizes the workspace and prepares the executor. */
    public static native @Cast("aclnnStatus") int aclnnSoftmaxBackwardGetWorkspaceSize(@Const aclTensor gradOutput,
            @Const aclTensor output,
            @Cast("int64_t") long dim,
            aclTensor out,
            @Cast("uint64_t*") LongPointer workspaceSize,
            @ByPtrPtr aclOpExecutor executor);

    /** Phase 2 of aclnnSoftmaxBackward: runs the prepared executor on {@code stream}. */
    public static native @Cast("aclnnStatus") int aclnnSoftmaxBackward(Pointer workspace, @Cast("uint64_t") long workspaceSize,
            aclOpExecutor executor, aclrtStream stream);

    /** Phase 1 of aclnnLogSoftmax (log-softmax along dim): sizes the workspace and prepares the executor. */
    public static native @Cast("aclnnStatus") int aclnnLogSoftmaxGetWorkspaceSize(@Const aclTensor self,
            @Cast("int64_t") long dim,
            aclTensor out,
            @Cast("uint64_t*") LongPointer workspaceSize,
            @ByPtrPtr aclOpExecutor executor);

    /** Phase 2 of aclnnLogSoftmax: runs the prepared executor on {@code stream}. */
    public static native @Cast("aclnnStatus") int aclnnLogSoftmax(Pointer workspace, @Cast("uint64_t") long workspaceSize,
            aclOpExecutor executor, aclrtStream stream);

    /** Phase 1 of aclnnLogSoftmaxBackward (backward of log-softmax from its output): sizes the workspace and prepares the executor. */
    public static native @Cast("aclnnStatus") int aclnnLogSoftmaxBackwardGetWorkspaceSize(@Const aclTensor gradOutput,
            @Const aclTensor output,
            @Cast("int64_t") long dim,
            aclTensor out,
            @Cast("uint64_t*") LongPointer workspaceSize,
            @ByPtrPtr aclOpExecutor executor);

    /** Phase 2 of aclnnLogSoftmaxBackward: runs the prepared executor on {@code stream}. */
    public static native @Cast("aclnnStatus") int aclnnLogSoftmaxBackward(Pointer workspace, @Cast("uint64_t") long workspaceSize,
            aclOpExecutor executor, aclrtStream stream);

    /** Phase 1 of aclnnSilu (x * sigmoid(x)): sizes the workspace and prepares the executor. */
    public static native @Cast("aclnnStatus") int aclnnSiluGetWorkspaceSize(@Const aclTensor self,
            aclTensor out,
            @Cast("uint64_t*") LongPointer workspaceSize,
            @ByPtrPtr aclOpExecutor executor);

    /** Phase 2 of aclnnSilu: runs the prepared executor on {@code stream}. */
    public static native @Cast("aclnnStatus") int aclnnSilu(Pointer workspace, @Cast("uint64_t") long workspaceSize,
            aclOpExecutor executor, aclrtStream stream);

    /** Phase 1 of aclnnSiluBackward (backward of silu): sizes the workspace and prepares the executor. */
    public static native @Cast("aclnnStatus") int aclnnSiluBackwardGetWorkspaceSize(@Const aclTensor gradOutput,
            @Const aclTensor self,
            aclTensor gradInput,
            @Cast("uint64_t*") LongPointer workspaceSize,
            @ByPtrPtr aclOpExecutor executor);

    /** Phase 2 of aclnnSiluBackward: runs the prepared executor on {@code stream}. */
    public static native @Cast("aclnnStatus") int aclnnSiluBackward(Pointer workspace, @Cast("uint64_t") long workspaceSize,
            aclOpExecutor executor, aclrtStream stream);

    /** Phase 1 of aclnnEmbedding (row lookup): sizes the workspace and prepares the executor. */
    public static native @Cast("aclnnStatus") int aclnnEmbeddingGetWorkspaceSize(@Const aclTensor weight,
            @Const aclTensor indices,
            aclTensor out,
            @Cast("uint64_t*") LongPointer workspaceSize,
            @ByPtrPtr aclOpExecutor executor);

    /** Phase 2 of aclnnEmbedding: runs the prepared executor on {@code stream}. */
    public static native @Cast("aclnnStatus") int aclnnEmbedding(Pointer workspace, @Cast("uint64_t") long workspaceSize,
            aclOpExecutor executor, aclrtStream stream);

    /** Phase 1 of aclnnEmbeddingDenseBackward (scatter-add of gradient rows): sizes the workspace and prepares the executor. */
    public static native @Cast("aclnnStatus") int aclnnEmbeddingDenseBackwardGetWorkspaceSize(@Const aclTensor grad,
            @Const aclTensor indices,
            @Cast("uint64_t") long numWeights,
            @Cast("uint64_t") long paddingIdx,
            @Cast("bool") boolean scaleGradByFreq,
            aclTensor out,
            @Cast("uint64_t*") LongPointer workspaceSize,
            @ByPtrPtr aclOpExecutor executor);

    /** Phase 2 of aclnnEmbeddingDenseBackward: runs the prepared executor on {@code stream}. */
    public static native @Cast("aclnnStatus") int aclnnEmbeddingDenseBackward(Pointer workspace, @Cast("uint64_t") long workspaceSize,
            aclOpExecutor executor, aclrtStream stream);

    /** Phase 1 of aclnnNLLLoss (negative log-likelihood; reduction 0 none, 1 mean, 2 sum): sizes the workspace and prepares the executor. */
    public static native @Cast("aclnnStatus") int aclnnNLLLossGetWorkspaceSize(@Const aclTensor self,
            @Const aclTensor target,
            @Const aclTensor weight,
            @Cast("int64_t") long reduction,
            @Cast("int64_t") long ignoreIndex,
            aclTensor out,
            aclTensor totalWeightOut,
            @Cast("uint64_t*") LongPointer workspaceSize,
            @ByPtrPtr aclOpExecutor executor);

    /** Phase 2 of aclnnNLLLoss: runs the prepared executor on {@code stream}. */
    public static native @Cast("aclnnStatus") int aclnnNLLLoss(Pointer workspace, @Cast("uint64_t") long workspaceSize,
            aclOpExecutor executor, aclrtStream stream);

    /** Phase 1 of aclnnNLLLossBackward (backward of NLL loss): sizes the workspace and prepares the executor. */
    public static native @Cast("aclnnStatus") int aclnnNLLLossBackwardGetWorkspaceSize(@Const aclTensor gradOutput,
            @Const aclTensor self,
            @Const aclTensor target,
            @Const aclTensor weight,
            @Cast("int64_t") long reduction,
            @Cast("int64_t") long ignoreIndex,
            @Const aclTensor totalWeight,
            aclTensor out,
            @Cast("uint64_t*") LongPointer workspaceSize,
            @ByPtrPtr aclOpExecutor executor);

    /** Phase 2 of aclnnNLLLossBackward: runs the prepared executor on {@code stream}. */
    public static native @Cast("aclnnStatus") int aclnnNLLLossBackward(Pointer workspace, @Cast("uint64_t") long workspaceSize,
            aclOpExecutor executor, aclrtStream stream);

    /** Phase 1 of aclnnRmsNorm (fused RMSNorm (not on the Atlas training series / 910A)): sizes the workspace and prepares the executor. */
    public static native @Cast("aclnnStatus") int aclnnRmsNormGetWorkspaceSize(@Const aclTensor x,
            @Const aclTensor gamma,
            double epsilon,
            aclTensor yOut,
            aclTensor rstdOut,
            @Cast("uint64_t*") LongPointer workspaceSize,
            @ByPtrPtr aclOpExecutor executor);

    /** Phase 2 of aclnnRmsNorm: runs the prepared executor on {@code stream}. */
    public static native @Cast("aclnnStatus") int aclnnRmsNorm(Pointer workspace, @Cast("uint64_t") long workspaceSize,
            aclOpExecutor executor, aclrtStream stream);

    /** Phase 1 of aclnnRmsNormGrad (fused RMSNorm backward (not on 910A)): sizes the workspace and prepares the executor. */
    public static native @Cast("aclnnStatus") int aclnnRmsNormGradGetWorkspaceSize(@Const aclTensor dy,
            @Const aclTensor x,
            @Const aclTensor rstd,
            @Const aclTensor gamma,
            aclTensor dxOut,
            aclTensor dgammaOut,
            @Cast("uint64_t*") LongPointer workspaceSize,
            @ByPtrPtr aclOpExecutor executor);

    /** Phase 2 of aclnnRmsNormGrad: runs the prepared executor on {@code stream}. */
    public static native @Cast("aclnnStatus") int aclnnRmsNormGrad(Pointer workspace, @Cast("uint64_t") long workspaceSize,
            aclOpExecutor executor, aclrtStream stream);

    /** Phase 1 of aclnnSwiGlu (silu(first half of x along dim) * second half (not on 910A)): sizes the workspace and prepares the executor. */
    public static native @Cast("aclnnStatus") int aclnnSwiGluGetWorkspaceSize(@Const aclTensor x,
            @Cast("int64_t") long dim,
            aclTensor out,
            @Cast("uint64_t*") LongPointer workspaceSize,
            @ByPtrPtr aclOpExecutor executor);

    /** Phase 2 of aclnnSwiGlu: runs the prepared executor on {@code stream}. */
    public static native @Cast("aclnnStatus") int aclnnSwiGlu(Pointer workspace, @Cast("uint64_t") long workspaceSize,
            aclOpExecutor executor, aclrtStream stream);

    /** Phase 1 of aclnnSwiGluGrad (backward of SwiGlu (not on 910A)): sizes the workspace and prepares the executor. */
    public static native @Cast("aclnnStatus") int aclnnSwiGluGradGetWorkspaceSize(@Const aclTensor yGrad,
            @Const aclTensor x,
            @Cast("int64_t") long dim,
            aclTensor out,
            @Cast("uint64_t*") LongPointer workspaceSize,
            @ByPtrPtr aclOpExecutor executor);

    /** Phase 2 of aclnnSwiGluGrad: runs the prepared executor on {@code stream}. */
    public static native @Cast("aclnnStatus") int aclnnSwiGluGrad(Pointer workspace, @Cast("uint64_t") long workspaceSize,
            aclOpExecutor executor, aclrtStream stream);

    /** Phase 1 of aclnnRotaryPositionEmbedding (rotary embedding; mode 0 half, 1 interleave, 2 quarter, 3 interleave-half (A2/A3 only)): sizes the workspace and prepares the executor. */
    public static native @Cast("aclnnStatus") int aclnnRotaryPositionEmbeddingGetWorkspaceSize(@Const aclTensor x,
            @Const aclTensor cos,
            @Const aclTensor sin,
            @Cast("int64_t") long mode,
            aclTensor out,
            @Cast("uint64_t*") LongPointer workspaceSize,
            @ByPtrPtr aclOpExecutor executor);

    /** Phase 2 of aclnnRotaryPositionEmbedding: runs the prepared executor on {@code stream}. */
    public static native @Cast("aclnnStatus") int aclnnRotaryPositionEmbedding(Pointer workspace, @Cast("uint64_t") long workspaceSize,
            aclOpExecutor executor, aclrtStream stream);

    /** Phase 1 of aclnnRotaryPositionEmbeddingGrad (backward of the rotary embedding (A2/A3 only)): sizes the workspace and prepares the executor. */
    public static native @Cast("aclnnStatus") int aclnnRotaryPositionEmbeddingGradGetWorkspaceSize(@Const aclTensor dy,
            @Const aclTensor cos,
            @Const aclTensor sin,
            @Const aclTensor xOptional,
            @Cast("int64_t") long mode,
            aclTensor dxOut,
            aclTensor dcosOut,
            aclTensor dsinOut,
            @Cast("uint64_t*") LongPointer workspaceSize,
            @ByPtrPtr aclOpExecutor executor);

    /** Phase 2 of aclnnRotaryPositionEmbeddingGrad: runs the prepared executor on {@code stream}. */
    public static native @Cast("aclnnStatus") int aclnnRotaryPositionEmbeddingGrad(Pointer workspace, @Cast("uint64_t") long workspaceSize,
            aclOpExecutor executor, aclrtStream stream);

    /** Phase 1 of aclnnFlashAttentionScore (fused attention; inputLayout BSH, SBH, BSND or BNSD (A2 training series only)): sizes the workspace and prepares the executor. */
    public static native @Cast("aclnnStatus") int aclnnFlashAttentionScoreGetWorkspaceSize(@Const aclTensor query,
            @Const aclTensor key,
            @Const aclTensor value,
            @Const aclTensor realShiftOptional,
            @Const aclTensor dropMaskOptional,
            @Const aclTensor paddingMaskOptional,
            @Const aclTensor attenMaskOptional,
            @Const aclIntArray prefixOptional,
            double scaleValue,
            double keepProb,
            @Cast("int64_t") long preTokens,
            @Cast("int64_t") long nextTokens,
            @Cast("int64_t") long headNum,
            @Cast("char*") BytePointer inputLayout,
            @Cast("int64_t") long innerPrecise,
            @Cast("int64_t") long sparseMode,
            aclTensor softmaxMaxOut,
            aclTensor softmaxSumOut,
            aclTensor softmaxOutOut,
            aclTensor attentionOutOut,
            @Cast("uint64_t*") LongPointer workspaceSize,
            @ByPtrPtr aclOpExecutor executor);

    /** Phase 2 of aclnnFlashAttentionScore: runs the prepared executor on {@code stream}. */
    public static native @Cast("aclnnStatus") int aclnnFlashAttentionScore(Pointer workspace, @Cast("uint64_t") long workspaceSize,
            aclOpExecutor executor, aclrtStream stream);

    /** Phase 1 of aclnnFlashAttentionScoreGrad (fused attention backward (A2 training series only)): sizes the workspace and prepares the executor. */
    public static native @Cast("aclnnStatus") int aclnnFlashAttentionScoreGradGetWorkspaceSize(@Const aclTensor query,
            @Const aclTensor keyIn,
            @Const aclTensor value,
            @Const aclTensor dy,
            @Const aclTensor pseShiftOptional,
            @Const aclTensor dropMaskOptional,
            @Const aclTensor paddingMaskOptional,
            @Const aclTensor attenMaskOptional,
            @Const aclTensor softmaxMaxOptional,
            @Const aclTensor softmaxSumOptional,
            @Const aclTensor softmaxInOptional,
            @Const aclTensor attentionInOptional,
            @Const aclIntArray prefixOptional,
            double scaleValue,
            double keepProb,
            @Cast("int64_t") long preTokens,
            @Cast("int64_t") long nextTokens,
            @Cast("int64_t") long headNum,
            @Cast("char*") BytePointer inputLayout,
            @Cast("int64_t") long innerPrecise,
            @Cast("int64_t") long sparseMode,
            aclTensor dqOut,
            aclTensor dkOut,
            aclTensor dvOut,
            aclTensor dpseOut,
            @Cast("uint64_t*") LongPointer workspaceSize,
            @ByPtrPtr aclOpExecutor executor);

    /** Phase 2 of aclnnFlashAttentionScoreGrad: runs the prepared executor on {@code stream}. */
    public static native @Cast("aclnnStatus") int aclnnFlashAttentionScoreGrad(Pointer workspace, @Cast("uint64_t") long workspaceSize,
            aclOpExecutor executor, aclrtStream stream);

    /** Phase 1 of aclnnCrossEntropyLoss (fused softmax cross-entropy; reduction "none", "mean" or "sum" (not on 910A)): sizes the workspace and prepares the executor. */
    public static native @Cast("aclnnStatus") int aclnnCrossEntropyLossGetWorkspaceSize(@Const aclTensor input,
            @Const aclTensor target,
            @Const aclTensor weightOptional,
            @Cast("char*") BytePointer reductionOptional,
            @Cast("int64_t") long ignoreIndex,
            double labelSmoothing,
            double lseSquareScaleForZloss,
            @Cast("bool") boolean returnZloss,
            aclTensor lossOut,
            aclTensor logProbOut,
            aclTensor zlossOut,
            aclTensor lseForZlossOut,
            @Cast("uint64_t*") LongPointer workspaceSize,
            @ByPtrPtr aclOpExecutor executor);

    /** Phase 2 of aclnnCrossEntropyLoss: runs the prepared executor on {@code stream}. */
    public static native @Cast("aclnnStatus") int aclnnCrossEntropyLoss(Pointer workspace, @Cast("uint64_t") long workspaceSize,
            aclOpExecutor executor, aclrtStream stream);

    /** Phase 1 of aclnnCrossEntropyLossGrad (backward of the fused cross-entropy (not on 910A)): sizes the workspace and prepares the executor. */
    public static native @Cast("aclnnStatus") int aclnnCrossEntropyLossGradGetWorkspaceSize(@Const aclTensor gradLoss,
            @Const aclTensor logProb,
            @Const aclTensor target,
            @Const aclTensor weightOptional,
            @Const aclTensor gradZlossOptional,
            @Const aclTensor lseForZlossOptional,
            @Cast("char*") BytePointer reductionOptional,
            @Cast("int64_t") long ignoreIndex,
            double labelSmoothing,
            double lseSquareScaleForZloss,
            aclTensor out,
            @Cast("uint64_t*") LongPointer workspaceSize,
            @ByPtrPtr aclOpExecutor executor);

    /** Phase 2 of aclnnCrossEntropyLossGrad: runs the prepared executor on {@code stream}. */
    public static native @Cast("aclnnStatus") int aclnnCrossEntropyLossGrad(Pointer workspace, @Cast("uint64_t") long workspaceSize,
            aclOpExecutor executor, aclrtStream stream);

    /** Phase 1 of aclnnApplyAdamWV2 (one AdamW step in place (not on 910A)): sizes the workspace and prepares the executor. */
    public static native @Cast("aclnnStatus") int aclnnApplyAdamWV2GetWorkspaceSize(aclTensor varRef,
            aclTensor mRef,
            aclTensor vRef,
            aclTensor maxGradNormOptionalRef,
            @Const aclTensor grad,
            @Const aclTensor step,
            float lr,
            float beta1,
            float beta2,
            float weightDecay,
            float eps,
            @Cast("bool") boolean amsgrad,
            @Cast("bool") boolean maximize,
            @Cast("uint64_t*") LongPointer workspaceSize,
            @ByPtrPtr aclOpExecutor executor);

    /** Phase 2 of aclnnApplyAdamWV2: runs the prepared executor on {@code stream}. */
    public static native @Cast("aclnnStatus") int aclnnApplyAdamWV2(Pointer workspace, @Cast("uint64_t") long workspaceSize,
            aclOpExecutor executor, aclrtStream stream);
}
