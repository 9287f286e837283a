package dev.ascendj.ascend;

import dev.ascendj.acl.AclErrors;
import dev.ascendj.ascend.spi.AclApi;
import dev.ascendj.core.AscendjException;

/**
 * An ACL or aclnn call returned an error: carries the call, the code, the code's name and the
 * runtime's own description ({@code aclGetRecentErrMsg}), e.g.
 * {@code aclrtMalloc failed: ACL_ERROR_RT_MEMORY_ALLOCATION (207001): out of memory ...}.
 */
public class AclException extends AscendjException {
    private static final long serialVersionUID = 1L;

    private final String call;
    private final int code;
    private final String recentErrorMessage;

    public AclException(String call, int code, String recentErrorMessage) {
        super(call + " failed: " + AclErrors.name(code) + " (" + code + ")"
                + (recentErrorMessage == null || recentErrorMessage.isBlank() ? "" : ": " + recentErrorMessage.strip()));
        this.call = call;
        this.code = code;
        this.recentErrorMessage = recentErrorMessage == null ? "" : recentErrorMessage.strip();
    }

    /** Throws unless {@code code} is 0 ({@code ACL_SUCCESS} / {@code ACLNN_SUCCESS}). */
    public static void check(AclApi api, int code, String call) {
        if (code != 0) {
            throw new AclException(call, code, recentMessage(api));
        }
    }

    /** The runtime's last error message of this thread, never failing. */
    static String recentMessage(AclApi api) {
        try {
            return api.recentErrMsg();
        } catch (RuntimeException | LinkageError e) {
            return "(aclGetRecentErrMsg failed: " + e + ")";
        }
    }

    /** The C function that failed, e.g. {@code aclrtMalloc} or {@code aclnnMatmulGetWorkspaceSize}. */
    public String call() {
        return call;
    }

    /** The {@code aclError} or {@code aclnnStatus}. */
    public int code() {
        return code;
    }

    /** The code's constant name, e.g. {@code ACL_ERROR_RT_MEMORY_ALLOCATION}. */
    public String codeName() {
        return AclErrors.name(code);
    }

    /** What {@code aclGetRecentErrMsg} said (may be empty). */
    public String recentErrorMessage() {
        return recentErrorMessage;
    }
}
