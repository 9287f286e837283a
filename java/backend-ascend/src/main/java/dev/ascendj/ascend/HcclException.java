package dev.ascendj.ascend;

import dev.ascendj.ascend.spi.AclApi;
import dev.ascendj.ascend.spi.HcclApi;
import dev.ascendj.core.CommunicatorException;
import dev.ascendj.hccl.HcclErrors;

/**
 * An HCCL call returned an error: carries the call, the {@code HcclResult}, its name,
 * {@code HcclGetErrorString}'s description and what the runtime's {@code aclGetRecentErrMsg} says
 * about it (the ranks that did not answer, the file that could not be read...). A
 * {@link CommunicatorException}, as the {@link dev.ascendj.core.Communicator} contract asks.
 */
public class HcclException extends CommunicatorException {
    private static final long serialVersionUID = 1L;

    private final String call;
    private final int code;

    public HcclException(String call, int code, String description) {
        super(call + " failed: " + HcclErrors.name(code) + " (" + code + ")"
                + (description == null || description.isBlank() ? "" : ": " + description.strip()));
        this.call = call;
        this.code = code;
    }

    /** Throws unless {@code code} is {@code HCCL_SUCCESS}. */
    static void check(HcclApi api, int code, String call) {
        check(api, null, code, call);
    }

    /** Throws unless {@code code} is {@code HCCL_SUCCESS}, with the runtime's recent message when {@code acl} is given. */
    static void check(HcclApi api, AclApi acl, int code, String call) {
        if (code != 0) {
            String description;
            try {
                description = api.errorString(code);
            } catch (RuntimeException | LinkageError e) {
                description = null;
            }
            String detail = acl == null ? null : AclException.recentMessage(acl);
            if (detail != null && !detail.isBlank()) {
                description = (description == null || description.isBlank() ? "" : description.strip() + "; ")
                        + detail.strip();
            }
            throw new HcclException(call, code, description);
        }
    }

    /** The HCCL function that failed. */
    public String call() {
        return call;
    }

    /** The {@code HcclResult}. */
    public int code() {
        return code;
    }

    /** The code's constant name, e.g. {@code HCCL_E_TIMEOUT}. */
    public String codeName() {
        return HcclErrors.name(code);
    }
}
