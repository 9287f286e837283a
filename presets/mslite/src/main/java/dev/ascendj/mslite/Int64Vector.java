package dev.ascendj.mslite;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Index;
import org.bytedeco.javacpp.annotation.Name;
import org.bytedeco.javacpp.annotation.Properties;

/** {@code std::vector<int64_t>}: tensor shapes. */
@Name("std::vector<int64_t>")
@Properties(inherit = dev.ascendj.mslite.presets.mslite.class)
public class Int64Vector extends Pointer {
    static {
        Loader.load();
    }

    /** An empty vector. */
    public Int64Vector() {
        allocate();
    }

    /** A vector holding {@code values}. */
    public Int64Vector(long... values) {
        allocate();
        for (long v : values) {
            push_back(v);
        }
    }

    /** Views existing native memory. */
    public Int64Vector(Pointer p) {
        super(p);
    }

    private native void allocate();

    public native @Cast("size_t") long size();

    @Index(function = "at")
    public native @Cast("int64_t") long get(@Cast("size_t") long i);

    public native void push_back(@Cast("int64_t") long value);

    /** The elements as a Java array. */
    public long[] toArray() {
        long[] a = new long[(int) size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = get(i);
        }
        return a;
    }
}
