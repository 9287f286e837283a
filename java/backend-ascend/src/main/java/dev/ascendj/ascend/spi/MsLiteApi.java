package dev.ascendj.ascend.spi;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * The MindSpore Lite calls AscendJ makes (C++ API: {@code mindspore::Context}, {@code Model},
 * {@code MSTensor}), with objects as {@code long} handles. {@link dev.ascendj.ascend.MsLiteModel}
 * builds on it; the production implementation is {@link dev.ascendj.ascend.jcpp.JavaCppMsLiteApi}.
 */
public interface MsLiteApi {
    /** A MindSpore Lite status: code 0 is success. */
    record Status(int code, String message) {
        public boolean ok() {
            return code == 0;
        }
    }

    /** Name, {@code mindspore::DataType} value, shape and size in bytes of a model input or output. */
    record TensorInfo(String name, int dataType, long[] shape, long byteSize) {
    }

    /**
     * A context with {@code threads} threads and one device: an Ascend NPU ({@code deviceId},
     * {@code rankId}) when {@code ascend}, else the CPU (in FP16 when {@code fp16}).
     */
    long createContext(int threads, boolean ascend, int deviceId, int rankId, boolean fp16);

    void destroyContext(long context);

    long createModel();

    void destroyModel(long model);

    /** {@code Model::Build} from a file; {@code modelType} is a {@code mindspore::ModelType}. */
    Status buildFromFile(long model, String path, int modelType, long context);

    /** {@code Model::Build} from the bytes of a direct buffer (position to limit). */
    Status buildFromBuffer(long model, ByteBuffer data, int modelType, long context);

    List<TensorInfo> inputs(long model);

    List<TensorInfo> outputs(long model);

    /** Copies {@code data} (position to limit) into input {@code index}. */
    void writeInput(long model, int index, ByteBuffer data);

    /** {@code Model::Predict} on the model's own input tensors. */
    Status predict(long model);

    /** Copies output {@code index} of the last prediction into {@code dst} (from its position). */
    void readOutput(long model, int index, ByteBuffer dst);

    /** {@code mindspore::ModelType::kMindIR}. */
    int MINDIR = 0;
    /** {@code mindspore::DataType::kNumberTypeFloat32}. */
    int FLOAT32 = 43;
    /** {@code mindspore::DataType::kNumberTypeFloat16}. */
    int FLOAT16 = 42;
}
