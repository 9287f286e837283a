package dev.ascendj.mslite;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.ByRef;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Const;
import org.bytedeco.javacpp.annotation.Namespace;
import org.bytedeco.javacpp.annotation.NoOffset;
import org.bytedeco.javacpp.annotation.Properties;
import org.bytedeco.javacpp.annotation.StdString;

/**
 * {@code mindspore::MSTensor}: a named, typed tensor of a model, its data in host memory (or on the
 * device for device tensors). Tensors made by {@link #CreateTensor} are released with
 * {@link #DestroyTensorPtr}; those obtained from a model belong to the model.
 */
@Namespace("mindspore")
@NoOffset
@Properties(inherit = dev.ascendj.mslite.presets.mslite.class)
public class MSTensor extends Pointer {
    static {
        Loader.load();
    }

    /** An empty tensor handle. */
    public MSTensor() {
        allocate();
    }

    /** Views existing native memory. */
    public MSTensor(Pointer p) {
        super(p);
    }

    private native void allocate();

    /** A tensor with a copy of {@code dataLen} bytes at {@code data}; null on failure. */
    public static native MSTensor CreateTensor(@StdString String name, @Cast("mindspore::DataType") int type,
            @Const @ByRef Int64Vector shape, @Const Pointer data, @Cast("size_t") long dataLen);

    /** Releases a tensor made by {@link #CreateTensor} or {@link #Clone}. */
    public static native void DestroyTensorPtr(MSTensor tensor);

    public native @StdString String Name();

    /** One of the {@code kNumberType...} constants of {@code mslite}. */
    public native @Cast("mindspore::DataType") int DataType();

    public native @Const @ByRef Int64Vector Shape();

    public native @Cast("int64_t") long ElementNum();

    /** The data (allocated on first use), {@link #DataSize()} bytes. */
    public native Pointer MutableData();

    public native @Cast("size_t") long DataSize();

    public native void SetShape(@Const @ByRef Int64Vector shape);

    public native MSTensor Clone();
}
