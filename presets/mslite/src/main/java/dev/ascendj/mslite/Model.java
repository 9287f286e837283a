package dev.ascendj.mslite;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.ByVal;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Const;
import org.bytedeco.javacpp.annotation.ByRef;
import org.bytedeco.javacpp.annotation.Namespace;
import org.bytedeco.javacpp.annotation.NoOffset;
import org.bytedeco.javacpp.annotation.Properties;
import org.bytedeco.javacpp.annotation.SharedPtr;
import org.bytedeco.javacpp.annotation.StdString;

/** {@code mindspore::Model}: a model built for a context's devices, from a file or a buffer. */
@Namespace("mindspore")
@NoOffset
@Properties(inherit = dev.ascendj.mslite.presets.mslite.class)
public class Model extends Pointer {
    static {
        Loader.load();
    }

    /** An empty model; build it before use. */
    public Model() {
        allocate();
    }

    /** Views existing native memory. */
    public Model(Pointer p) {
        super(p);
    }

    private native void allocate();

    /** Builds from {@code dataSize} bytes of a MindIR model in host memory. */
    public native @ByVal Status Build(@Const Pointer modelData, @Cast("size_t") long dataSize,
            @Cast("mindspore::ModelType") int modelType, @SharedPtr Context context);

    /** Builds from a MindIR file. */
    public native @ByVal Status Build(@StdString String modelPath, @Cast("mindspore::ModelType") int modelType,
            @SharedPtr Context context);

    /** Runs the model on {@code inputs}; {@code outputs} receives the results. */
    public native @ByVal Status Predict(@Const @ByRef MSTensorVector inputs, MSTensorVector outputs);

    public native @ByVal MSTensorVector GetInputs();

    public native @ByVal MSTensorVector GetOutputs();

    public native @ByVal MSTensor GetInputByTensorName(@StdString String tensorName);

    public native @ByVal MSTensor GetOutputByTensorName(@StdString String tensorName);
}
