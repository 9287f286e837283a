package dev.ascendj.hccl;

import java.util.List;

/**
 * Names of {@code HcclResult} codes, readable without loading the native library
 * ({@link dev.ascendj.hccl.global.hccl#HcclGetErrorString} needs it).
 */
public final class HcclErrors {
    /** Names of codes 0 to 24, in order. */
    private static final List<String> NAMES = List.of("HCCL_SUCCESS", "HCCL_E_PARA", "HCCL_E_PTR",
            "HCCL_E_MEMORY", "HCCL_E_INTERNAL", "HCCL_E_NOT_SUPPORT", "HCCL_E_NOT_FOUND", "HCCL_E_UNAVAIL",
            "HCCL_E_SYSCALL", "HCCL_E_TIMEOUT", "HCCL_E_OPEN_FILE_FAILURE", "HCCL_E_TCP_CONNECT",
            "HCCL_E_ROCE_CONNECT", "HCCL_E_TCP_TRANSFER", "HCCL_E_ROCE_TRANSFER", "HCCL_E_RUNTIME", "HCCL_E_DRV",
            "HCCL_E_PROFILING", "HCCL_E_CCE", "HCCL_E_NETWORK", "HCCL_E_AGAIN", "HCCL_E_REMOTE",
            "HCCL_E_SUSPENDING", "HCCL_E_OPRETRY_FAIL", "HCCL_E_OOM");

    private HcclErrors() {
    }

    /** The constant's name for {@code code}, or {@code UNKNOWN_HCCL_RESULT_<code>}. */
    public static String name(int code) {
        if (code >= 0 && code < NAMES.size()) {
            return NAMES.get(code);
        }
        if (code == dev.ascendj.hccl.global.hccl.HCCL_E_IN_STATUS) {
            return "HCCL_E_IN_STATUS";
        }
        return "UNKNOWN_HCCL_RESULT_" + code;
    }
}
