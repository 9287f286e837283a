package dev.ascendj.ascend;

import dev.ascendj.ascend.spi.HcclApi;
import dev.ascendj.core.CommunicatorException;
import dev.ascendj.hccl.HcclErrors;

/**
 * An HCCL call returned an error: carries the call, the {@code HcclResult}, its name and
 * {@code HcclGetErrorString}'s description. A {@link CommunicatorException}, as the
 * {@link dev.ascendj.core.Communicator} contract asks.
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
        if (code != 0) {
            String description;
            try {
                description = api.errorString(code);
            } catch (RuntimeException | LinkageError e) {
                description = null;
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
