package dev.ascendj.ascend.jcpp;

import static dev.ascendj.ascend.jcpp.Addresses.address;
import static dev.ascendj.ascend.jcpp.Addresses.ptr;

import dev.ascendj.acl.Cann;
import dev.ascendj.acl.aclIntArray;
import dev.ascendj.acl.aclOpExecutor;
import dev.ascendj.acl.aclScalar;
import dev.ascendj.acl.aclTensor;
import dev.ascendj.acl.aclrtStream;
import dev.ascendj.acl.global.acl;
import dev.ascendj.acl.global.aclnn;
import dev.ascendj.ascend.spi.AclnnApi;
import dev.ascendj.ascend.spi.AclnnOp;
import dev.ascendj.core.Half;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.ShortPointer;

/**
 * {@link AclnnApi} on the JavaCPP bindings of {@code presets/acl}: one native call per method, the
 * operator chosen by a switch over {@link AclnnOp}.
 */
public final class JavaCppAclnnApi implements AclnnApi {
    /** Host memory behind each live scalar: aclCreateScalar takes a host pointer. */
    private final Map<Long, Pointer> scalarValues = new ConcurrentHashMap<>();

    private static JavaCppAclnnApi instance;

    /**
     * The process-wide instance (ACL is initialised once per process, and {@link
     * dev.ascendj.ascend.AclRuntime} counts its users per API object).
     *
     * @throws dev.ascendj.acl.CannNotFoundException when CANN or the JNI glue is missing
     */
    public static synchronized JavaCppAclnnApi instance() {
        if (instance == null) {
            instance = new JavaCppAclnnApi();
        }
        return instance;
    }

    /**
     * Loads the bindings.
     *
     * @throws dev.ascendj.acl.CannNotFoundException when CANN or the JNI glue is missing
     */
    public JavaCppAclnnApi() {
        Cann.load();
    }

    private static aclTensor tensor(Object handle) {
        return handle == null ? null : new aclTensor(ptr((Long) handle));
    }

    private static aclScalar scalar(Object handle) {
        return handle == null ? null : new aclScalar(ptr((Long) handle));
    }

    private static aclIntArray intArray(Object handle) {
        return handle == null ? null : new aclIntArray(ptr((Long) handle));
    }

    private static BytePointer str(Object s, List<Pointer> keep) {
        if (s == null) {
            return null;
        }
        BytePointer p = new BytePointer((String) s);
        keep.add(p);
        return p;
    }

    @Override
    public long createTensor(long[] viewDims, int dataType, long[] strides, long offset, int format,
                             long[] storageDims, long data) {
        return address(aclnn.aclCreateTensor(viewDims, viewDims.length, dataType, strides, offset, format,
                storageDims, storageDims.length, ptr(data)));
    }

    @Override
    public int destroyTensor(long tensor) {
        return aclnn.aclDestroyTensor(new aclTensor(ptr(tensor)));
    }

    @Override
    public long createScalar(double value, int dataType) {
        Pointer host = switch (dataType) {
            case acl.ACL_FLOAT -> new FloatPointer(1).put((float) value);
            case acl.ACL_DOUBLE -> new DoublePointer(1).put(value);
            case acl.ACL_FLOAT16 -> new ShortPointer(1).put(Half.floatToHalf((float) value));
            case acl.ACL_BF16 -> new ShortPointer(1).put(Half.floatToBFloat16((float) value));
            case acl.ACL_INT32 -> new IntPointer(1).put((int) value);
            case acl.ACL_INT64 -> new LongPointer(1).put((long) value);
            default -> throw new IllegalArgumentException("no scalar of aclDataType " + dataType);
        };
        long h = address(aclnn.aclCreateScalar(host, dataType));
        if (h == 0) {
            host.close();
        } else {
            scalarValues.put(h, host);
        }
        return h;
    }

    @Override
    public int destroyScalar(long scalar) {
        int r = aclnn.aclDestroyScalar(new aclScalar(ptr(scalar)));
        Pointer host = scalarValues.remove(scalar);
        if (host != null) {
            host.close();
        }
        return r;
    }

    @Override
    public long createIntArray(long[] values) {
        return address(aclnn.aclCreateIntArray(values, values.length));
    }

    @Override
    public int destroyIntArray(long array) {
        return aclnn.aclDestroyIntArray(new aclIntArray(ptr(array)));
    }

    @Override
    public int destroyExecutor(long executor) {
        return aclnn.aclDestroyAclOpExecutor(new aclOpExecutor(ptr(executor)));
    }

    @Override
    public int getWorkspaceSize(AclnnOp op, Object[] a, long[] workspaceSize, long[] executor) {
        op.check(a);
        List<Pointer> keep = new ArrayList<>();
        try (LongPointer size = new LongPointer(1)) {
            aclOpExecutor exec = new aclOpExecutor();
            int r = switch (op) {
            case ADD -> aclnn.aclnnAddGetWorkspaceSize(tensor(a[0]), tensor(a[1]), scalar(a[2]), tensor(a[3]), size, exec);
            case ADDS -> aclnn.aclnnAddsGetWorkspaceSize(tensor(a[0]), scalar(a[1]), scalar(a[2]), tensor(a[3]), size, exec);
            case INPLACE_ADD -> aclnn.aclnnInplaceAddGetWorkspaceSize(tensor(a[0]), tensor(a[1]), scalar(a[2]), size, exec);
            case INPLACE_MUL -> aclnn.aclnnInplaceMulGetWorkspaceSize(tensor(a[0]), tensor(a[1]), size, exec);
            case MUL -> aclnn.aclnnMulGetWorkspaceSize(tensor(a[0]), tensor(a[1]), tensor(a[2]), size, exec);
            case MULS -> aclnn.aclnnMulsGetWorkspaceSize(tensor(a[0]), scalar(a[1]), tensor(a[2]), size, exec);
            case DIV -> aclnn.aclnnDivGetWorkspaceSize(tensor(a[0]), tensor(a[1]), tensor(a[2]), size, exec);
            case CAST -> aclnn.aclnnCastGetWorkspaceSize(tensor(a[0]), (Integer) a[1], tensor(a[2]), size, exec);
            case INPLACE_COPY -> aclnn.aclnnInplaceCopyGetWorkspaceSize(tensor(a[0]), tensor(a[1]), size, exec);
            case INPLACE_FILL_SCALAR -> aclnn.aclnnInplaceFillScalarGetWorkspaceSize(tensor(a[0]), scalar(a[1]), size, exec);
            case MATMUL -> aclnn.aclnnMatmulGetWorkspaceSize(tensor(a[0]), tensor(a[1]), tensor(a[2]), (Byte) a[3], size, exec);
            case MEAN -> aclnn.aclnnMeanGetWorkspaceSize(tensor(a[0]), intArray(a[1]), (Boolean) a[2], (Integer) a[3], tensor(a[4]), size, exec);
            case REDUCE_SUM -> aclnn.aclnnReduceSumGetWorkspaceSize(tensor(a[0]), intArray(a[1]), (Boolean) a[2], (Integer) a[3], tensor(a[4]), size, exec);
            case RSQRT -> aclnn.aclnnRsqrtGetWorkspaceSize(tensor(a[0]), tensor(a[1]), size, exec);
            case SQRT -> aclnn.aclnnSqrtGetWorkspaceSize(tensor(a[0]), tensor(a[1]), size, exec);
            case EXP -> aclnn.aclnnExpGetWorkspaceSize(tensor(a[0]), tensor(a[1]), size, exec);
            case LOG -> aclnn.aclnnLogGetWorkspaceSize(tensor(a[0]), tensor(a[1]), size, exec);
            case COS -> aclnn.aclnnCosGetWorkspaceSize(tensor(a[0]), tensor(a[1]), size, exec);
            case SIN -> aclnn.aclnnSinGetWorkspaceSize(tensor(a[0]), tensor(a[1]), size, exec);
            case SOFTMAX -> aclnn.aclnnSoftmaxGetWorkspaceSize(tensor(a[0]), (Long) a[1], tensor(a[2]), size, exec);
            case SOFTMAX_BACKWARD -> aclnn.aclnnSoftmaxBackwardGetWorkspaceSize(tensor(a[0]), tensor(a[1]), (Long) a[2], tensor(a[3]), size, exec);
            case LOG_SOFTMAX -> aclnn.aclnnLogSoftmaxGetWorkspaceSize(tensor(a[0]), (Long) a[1], tensor(a[2]), size, exec);
            case LOG_SOFTMAX_BACKWARD -> aclnn.aclnnLogSoftmaxBackwardGetWorkspaceSize(tensor(a[0]), tensor(a[1]), (Long) a[2], tensor(a[3]), size, exec);
            case SILU -> aclnn.aclnnSiluGetWorkspaceSize(tensor(a[0]), tensor(a[1]), size, exec);
            case SILU_BACKWARD -> aclnn.aclnnSiluBackwardGetWorkspaceSize(tensor(a[0]), tensor(a[1]), tensor(a[2]), size, exec);
            case EMBEDDING -> aclnn.aclnnEmbeddingGetWorkspaceSize(tensor(a[0]), tensor(a[1]), tensor(a[2]), size, exec);
            case EMBEDDING_DENSE_BACKWARD -> aclnn.aclnnEmbeddingDenseBackwardGetWorkspaceSize(tensor(a[0]), tensor(a[1]), (Long) a[2], (Long) a[3], (Boolean) a[4], tensor(a[5]), size, exec);
            case NLL_LOSS -> aclnn.aclnnNLLLossGetWorkspaceSize(tensor(a[0]), tensor(a[1]), tensor(a[2]), (Long) a[3], (Long) a[4], tensor(a[5]), tensor(a[6]), size, exec);
            case NLL_LOSS_BACKWARD -> aclnn.aclnnNLLLossBackwardGetWorkspaceSize(tensor(a[0]), tensor(a[1]), tensor(a[2]), tensor(a[3]), (Long) a[4], (Long) a[5], tensor(a[6]), tensor(a[7]), size, exec);
            case RMS_NORM -> aclnn.aclnnRmsNormGetWorkspaceSize(tensor(a[0]), tensor(a[1]), (Double) a[2], tensor(a[3]), tensor(a[4]), size, exec);
            case RMS_NORM_GRAD -> aclnn.aclnnRmsNormGradGetWorkspaceSize(tensor(a[0]), tensor(a[1]), tensor(a[2]), tensor(a[3]), tensor(a[4]), tensor(a[5]), size, exec);
            case SWI_GLU -> aclnn.aclnnSwiGluGetWorkspaceSize(tensor(a[0]), (Long) a[1], tensor(a[2]), size, exec);
            case SWI_GLU_GRAD -> aclnn.aclnnSwiGluGradGetWorkspaceSize(tensor(a[0]), tensor(a[1]), (Long) a[2], tensor(a[3]), size, exec);
            case ROTARY_POSITION_EMBEDDING -> aclnn.aclnnRotaryPositionEmbeddingGetWorkspaceSize(tensor(a[0]), tensor(a[1]), tensor(a[2]), (Long) a[3], tensor(a[4]), size, exec);
            case ROTARY_POSITION_EMBEDDING_GRAD -> aclnn.aclnnRotaryPositionEmbeddingGradGetWorkspaceSize(tensor(a[0]), tensor(a[1]), tensor(a[2]), tensor(a[3]), (Long) a[4], tensor(a[5]), tensor(a[6]), tensor(a[7]), size, exec);
            case FLASH_ATTENTION_SCORE -> aclnn.aclnnFlashAttentionScoreGetWorkspaceSize(tensor(a[0]), tensor(a[1]), tensor(a[2]), tensor(a[3]), tensor(a[4]), tensor(a[5]), tensor(a[6]), intArray(a[7]), (Double) a[8], (Double) a[9], (Long) a[10], (Long) a[11], (Long) a[12], str(a[13], keep), (Long) a[14], (Long) a[15], tensor(a[16]), tensor(a[17]), tensor(a[18]), tensor(a[19]), size, exec);
            case FLASH_ATTENTION_SCORE_GRAD -> aclnn.aclnnFlashAttentionScoreGradGetWorkspaceSize(tensor(a[0]), tensor(a[1]), tensor(a[2]), tensor(a[3]), tensor(a[4]), tensor(a[5]), tensor(a[6]), tensor(a[7]), tensor(a[8]), tensor(a[9]), tensor(a[10]), tensor(a[11]), intArray(a[12]), (Double) a[13], (Double) a[14], (Long) a[15], (Long) a[16], (Long) a[17], str(a[18], keep), (Long) a[19], (Long) a[20], tensor(a[21]), tensor(a[22]), tensor(a[23]), tensor(a[24]), size, exec);
            case CROSS_ENTROPY_LOSS -> aclnn.aclnnCrossEntropyLossGetWorkspaceSize(tensor(a[0]), tensor(a[1]), tensor(a[2]), str(a[3], keep), (Long) a[4], (Double) a[5], (Double) a[6], (Boolean) a[7], tensor(a[8]), tensor(a[9]), tensor(a[10]), tensor(a[11]), size, exec);
            case CROSS_ENTROPY_LOSS_GRAD -> aclnn.aclnnCrossEntropyLossGradGetWorkspaceSize(tensor(a[0]), tensor(a[1]), tensor(a[2]), tensor(a[3]), tensor(a[4]), tensor(a[5]), str(a[6], keep), (Long) a[7], (Double) a[8], (Double) a[9], tensor(a[10]), size, exec);
            case APPLY_ADAM_W_V2 -> aclnn.aclnnApplyAdamWV2GetWorkspaceSize(tensor(a[0]), tensor(a[1]), tensor(a[2]), tensor(a[3]), tensor(a[4]), tensor(a[5]), (Float) a[6], (Float) a[7], (Float) a[8], (Float) a[9], (Float) a[10], (Boolean) a[11], (Boolean) a[12], size, exec);            };
            workspaceSize[0] = size.get();
            executor[0] = address(exec);
            return r;
        } finally {
            keep.forEach(Pointer::close);
        }
    }

    @Override
    public int execute(AclnnOp op, long workspace, long workspaceSize, long executor, long stream) {
        Pointer w = ptr(workspace);
        aclOpExecutor e = new aclOpExecutor(ptr(executor));
        aclrtStream s = new aclrtStream(ptr(stream));
        return switch (op) {
            case ADD -> aclnn.aclnnAdd(w, workspaceSize, e, s);
            case ADDS -> aclnn.aclnnAdds(w, workspaceSize, e, s);
            case INPLACE_ADD -> aclnn.aclnnInplaceAdd(w, workspaceSize, e, s);
            case INPLACE_MUL -> aclnn.aclnnInplaceMul(w, workspaceSize, e, s);
            case MUL -> aclnn.aclnnMul(w, workspaceSize, e, s);
            case MULS -> aclnn.aclnnMuls(w, workspaceSize, e, s);
            case DIV -> aclnn.aclnnDiv(w, workspaceSize, e, s);
            case CAST -> aclnn.aclnnCast(w, workspaceSize, e, s);
            case INPLACE_COPY -> aclnn.aclnnInplaceCopy(w, workspaceSize, e, s);
            case INPLACE_FILL_SCALAR -> aclnn.aclnnInplaceFillScalar(w, workspaceSize, e, s);
            case MATMUL -> aclnn.aclnnMatmul(w, workspaceSize, e, s);
            case MEAN -> aclnn.aclnnMean(w, workspaceSize, e, s);
            case REDUCE_SUM -> aclnn.aclnnReduceSum(w, workspaceSize, e, s);
            case RSQRT -> aclnn.aclnnRsqrt(w, workspaceSize, e, s);
            case SQRT -> aclnn.aclnnSqrt(w, workspaceSize, e, s);
            case EXP -> aclnn.aclnnExp(w, workspaceSize, e, s);
            case LOG -> aclnn.aclnnLog(w, workspaceSize, e, s);
            case COS -> aclnn.aclnnCos(w, workspaceSize, e, s);
            case SIN -> aclnn.aclnnSin(w, workspaceSize, e, s);
            case SOFTMAX -> aclnn.aclnnSoftmax(w, workspaceSize, e, s);
            case SOFTMAX_BACKWARD -> aclnn.aclnnSoftmaxBackward(w, workspaceSize, e, s);
            case LOG_SOFTMAX -> aclnn.aclnnLogSoftmax(w, workspaceSize, e, s);
            case LOG_SOFTMAX_BACKWARD -> aclnn.aclnnLogSoftmaxBackward(w, workspaceSize, e, s);
            case SILU -> aclnn.aclnnSilu(w, workspaceSize, e, s);
            case SILU_BACKWARD -> aclnn.aclnnSiluBackward(w, workspaceSize, e, s);
            case EMBEDDING -> aclnn.aclnnEmbedding(w, workspaceSize, e, s);
            case EMBEDDING_DENSE_BACKWARD -> aclnn.aclnnEmbeddingDenseBackward(w, workspaceSize, e, s);
            case NLL_LOSS -> aclnn.aclnnNLLLoss(w, workspaceSize, e, s);
            case NLL_LOSS_BACKWARD -> aclnn.aclnnNLLLossBackward(w, workspaceSize, e, s);
            case RMS_NORM -> aclnn.aclnnRmsNorm(w, workspaceSize, e, s);
            case RMS_NORM_GRAD -> aclnn.aclnnRmsNormGrad(w, workspaceSize, e, s);
            case SWI_GLU -> aclnn.aclnnSwiGlu(w, workspaceSize, e, s);
            case SWI_GLU_GRAD -> aclnn.aclnnSwiGluGrad(w, workspaceSize, e, s);
            case ROTARY_POSITION_EMBEDDING -> aclnn.aclnnRotaryPositionEmbedding(w, workspaceSize, e, s);
            case ROTARY_POSITION_EMBEDDING_GRAD -> aclnn.aclnnRotaryPositionEmbeddingGrad(w, workspaceSize, e, s);
            case FLASH_ATTENTION_SCORE -> aclnn.aclnnFlashAttentionScore(w, workspaceSize, e, s);
            case FLASH_ATTENTION_SCORE_GRAD -> aclnn.aclnnFlashAttentionScoreGrad(w, workspaceSize, e, s);
            case CROSS_ENTROPY_LOSS -> aclnn.aclnnCrossEntropyLoss(w, workspaceSize, e, s);
            case CROSS_ENTROPY_LOSS_GRAD -> aclnn.aclnnCrossEntropyLossGrad(w, workspaceSize, e, s);
            case APPLY_ADAM_W_V2 -> aclnn.aclnnApplyAdamWV2(w, workspaceSize, e, s);        };
    }
}
