package dev.ascendj.ascend.spi;

import static dev.ascendj.ascend.spi.AclnnOp.Param.BOOL;
import static dev.ascendj.ascend.spi.AclnnOp.Param.DTYPE;
import static dev.ascendj.ascend.spi.AclnnOp.Param.F32;
import static dev.ascendj.ascend.spi.AclnnOp.Param.F64;
import static dev.ascendj.ascend.spi.AclnnOp.Param.I64;
import static dev.ascendj.ascend.spi.AclnnOp.Param.I8;
import static dev.ascendj.ascend.spi.AclnnOp.Param.INT_ARRAY;
import static dev.ascendj.ascend.spi.AclnnOp.Param.SCALAR;
import static dev.ascendj.ascend.spi.AclnnOp.Param.STR;
import static dev.ascendj.ascend.spi.AclnnOp.Param.TENSOR;
import static dev.ascendj.ascend.spi.AclnnOp.Param.U64;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The aclnn operators AscendJ calls, each with the kinds of its phase-1 parameters in C order
 * (without the trailing workspace-size and executor out-parameters). Whether the SoC supports an
 * operator is the backend's business ({@link dev.ascendj.ascend.Soc}).
 */
public enum AclnnOp {
    ADD(TENSOR, TENSOR, SCALAR, TENSOR),
    ADDS(TENSOR, SCALAR, SCALAR, TENSOR),
    INPLACE_ADD(TENSOR, TENSOR, SCALAR),
    MUL(TENSOR, TENSOR, TENSOR),
    MULS(TENSOR, SCALAR, TENSOR),
    INPLACE_MUL(TENSOR, TENSOR),
    DIV(TENSOR, TENSOR, TENSOR),
    CAST(TENSOR, DTYPE, TENSOR),
    INPLACE_COPY(TENSOR, TENSOR),
    INPLACE_FILL_SCALAR(TENSOR, SCALAR),
    MATMUL(TENSOR, TENSOR, TENSOR, I8),
    MEAN(TENSOR, INT_ARRAY, BOOL, DTYPE, TENSOR),
    REDUCE_SUM(TENSOR, INT_ARRAY, BOOL, DTYPE, TENSOR),
    RSQRT(TENSOR, TENSOR),
    SQRT(TENSOR, TENSOR),
    EXP(TENSOR, TENSOR),
    LOG(TENSOR, TENSOR),
    COS(TENSOR, TENSOR),
    SIN(TENSOR, TENSOR),
    SOFTMAX(TENSOR, I64, TENSOR),
    SOFTMAX_BACKWARD(TENSOR, TENSOR, I64, TENSOR),
    LOG_SOFTMAX(TENSOR, I64, TENSOR),
    LOG_SOFTMAX_BACKWARD(TENSOR, TENSOR, I64, TENSOR),
    SILU(TENSOR, TENSOR),
    SILU_BACKWARD(TENSOR, TENSOR, TENSOR),
    EMBEDDING(TENSOR, TENSOR, TENSOR),
    EMBEDDING_DENSE_BACKWARD(TENSOR, TENSOR, U64, U64, BOOL, TENSOR),
    NLL_LOSS(TENSOR, TENSOR, TENSOR, I64, I64, TENSOR, TENSOR),
    NLL_LOSS_BACKWARD(TENSOR, TENSOR, TENSOR, TENSOR, I64, I64, TENSOR, TENSOR),
    RMS_NORM(TENSOR, TENSOR, F64, TENSOR, TENSOR),
    RMS_NORM_GRAD(TENSOR, TENSOR, TENSOR, TENSOR, TENSOR, TENSOR),
    SWI_GLU(TENSOR, I64, TENSOR),
    SWI_GLU_GRAD(TENSOR, TENSOR, I64, TENSOR),
    ROTARY_POSITION_EMBEDDING(TENSOR, TENSOR, TENSOR, I64, TENSOR),
    ROTARY_POSITION_EMBEDDING_GRAD(TENSOR, TENSOR, TENSOR, TENSOR, I64, TENSOR, TENSOR, TENSOR),
    FLASH_ATTENTION_SCORE(TENSOR, TENSOR, TENSOR, TENSOR, TENSOR, TENSOR, TENSOR, INT_ARRAY, F64, F64, I64, I64, I64,
            STR, I64, I64, TENSOR, TENSOR, TENSOR, TENSOR),
    FLASH_ATTENTION_SCORE_GRAD(TENSOR, TENSOR, TENSOR, TENSOR, TENSOR, TENSOR, TENSOR, TENSOR, TENSOR, TENSOR, TENSOR,
            TENSOR, INT_ARRAY, F64, F64, I64, I64, I64, STR, I64, I64, TENSOR, TENSOR, TENSOR, TENSOR),
    CROSS_ENTROPY_LOSS(TENSOR, TENSOR, TENSOR, STR, I64, F64, F64, BOOL, TENSOR, TENSOR, TENSOR, TENSOR),
    CROSS_ENTROPY_LOSS_GRAD(TENSOR, TENSOR, TENSOR, TENSOR, TENSOR, TENSOR, STR, I64, F64, F64, TENSOR),
    APPLY_ADAM_W_V2(TENSOR, TENSOR, TENSOR, TENSOR, TENSOR, TENSOR, F32, F32, F32, F32, F32, BOOL, BOOL);

    /** Kinds of operator parameters and the Java type each is passed as. */
    public enum Param {
        TENSOR(Long.class), SCALAR(Long.class), INT_ARRAY(Long.class), I64(Long.class), U64(Long.class),
        I8(Byte.class), DTYPE(Integer.class), F64(Double.class), F32(Float.class), BOOL(Boolean.class),
        STR(String.class);

        private final Class<?> javaType;

        Param(Class<?> javaType) {
            this.javaType = javaType;
        }

        /** The boxed type an argument of this kind must have. */
        public Class<?> javaType() {
            return javaType;
        }
    }

    private final List<Param> params;

    AclnnOp(Param... params) {
        this.params = List.of(params);
    }

    /** Kinds of the phase-1 parameters in C order. */
    public List<Param> params() {
        return params;
    }

    /** The C name, e.g. {@code aclnnMatmul}. */
    public String cName() {
        StringBuilder sb = new StringBuilder("aclnn");
        for (String part : name().split("_")) {
            String p = part.toLowerCase(Locale.ROOT);
            switch (p) {
                case "nll" -> sb.append("NLL");
                default -> sb.append(Character.toUpperCase(p.charAt(0))).append(p.substring(1));
            }
        }
        return sb.toString();
    }

    /**
     * Checks arity and argument types against {@link #params()}.
     *
     * @throws IllegalArgumentException naming the operator and the offending position
     */
    public void check(Object[] args) {
        if (args.length != params.size()) {
            throw new IllegalArgumentException(cName() + " takes " + params.size() + " arguments, got " + args.length
                    + ": " + Arrays.toString(args));
        }
        for (int i = 0; i < args.length; i++) {
            Param p = params.get(i);
            boolean nullable = p == TENSOR || p == SCALAR || p == INT_ARRAY || p == STR;
            if (args[i] == null) {
                if (!nullable) {
                    throw new IllegalArgumentException(cName() + " argument " + i + " (" + p + ") must not be null");
                }
                continue;
            }
            if (!p.javaType().isInstance(args[i])) {
                throw new IllegalArgumentException(cName() + " argument " + i + " must be " + p + " ("
                        + p.javaType().getSimpleName() + "), got " + args[i].getClass().getSimpleName());
            }
        }
    }
}
