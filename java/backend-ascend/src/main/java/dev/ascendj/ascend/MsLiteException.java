package dev.ascendj.ascend;

import dev.ascendj.core.AscendjException;

/** A MindSpore Lite call failed: carries the call, the status code and MindSpore Lite's message. */
public class MsLiteException extends AscendjException {
    private static final long serialVersionUID = 1L;

    private final int code;

    public MsLiteException(String call, int code, String message) {
        super(call + " failed: status " + Integer.toUnsignedString(code) + " (0x" + Integer.toHexString(code) + ")"
                + (message == null || message.isBlank() ? "" : ": " + message.strip()));
        this.code = code;
    }

    /** The {@code mindspore::StatusCode}, an unsigned 32-bit value. */
    public int code() {
        return code;
    }
}
