package dev.ascendj.ascend.jcpp;

import org.bytedeco.javacpp.Pointer;

/** Turns raw addresses into JavaCPP pointers for the native calls. */
final class Addresses {
    private Addresses() {
    }

    /** A pointer holding {@code address}, or null for 0. */
    static Pointer ptr(long address) {
        return address == 0 ? null : new RawPointer(address);
    }

    /** The address of {@code p}, or 0 for null. */
    static long address(Pointer p) {
        return p == null || p.isNull() ? 0 : p.address();
    }

    /** A pointer over memory owned elsewhere (device memory, or host memory of another owner). */
    private static final class RawPointer extends Pointer {
        RawPointer(long address) {
            this.address = address;
        }
    }
}
