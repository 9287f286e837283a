package dev.ascendj.ascend;

import dev.ascendj.ascend.jcpp.JavaCppMsLiteApi;
import dev.ascendj.ascend.spi.MsLiteApi;
import dev.ascendj.ascend.spi.MsLiteApi.TensorInfo;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A MindSpore Lite model (MindIR) built for an Ascend NPU or the CPU, for inference.
 *
 * <pre>{@code
 * try (MsLiteModel model = MsLiteModel.load(Path.of("llama2-7b.mindir"), MsLiteModel.Options.ascend(0))) {
 *     float[][] out = model.predict(inputIds);
 * }
 * }</pre>
 */
public final class MsLiteModel implements AutoCloseable {
    /**
     * Where and how to run: on NPU {@code deviceId} (rank {@code rankId} of a distributed model), or on
     * the CPU with {@code threads} threads (FP16 when {@code fp16}).
     */
    public record Options(boolean ascend, int deviceId, int rankId, int threads, boolean fp16) {
        /** On NPU {@code deviceId}. */
        public static Options ascend(int deviceId) {
            return new Options(true, deviceId, 0, 2, false);
        }

        /** On the CPU. */
        public static Options cpu(int threads) {
            return new Options(false, 0, 0, threads, false);
        }
    }

    private final MsLiteApi api;
    private final long context;
    private final long model;
    private final List<TensorInfo> inputs;
    private final List<TensorInfo> outputs;
    private boolean closed;

    private MsLiteModel(MsLiteApi api, long context, long model) {
        this.api = api;
        this.context = context;
        this.model = model;
        this.inputs = List.copyOf(api.inputs(model));
        this.outputs = List.copyOf(api.outputs(model));
    }

    /** Builds a MindIR file. */
    public static MsLiteModel load(Path mindir, Options options) {
        return load(new JavaCppMsLiteApi(), mindir, options);
    }

    static MsLiteModel load(MsLiteApi api, Path mindir, Options options) {
        if (!Files.isRegularFile(mindir)) {
            throw new IllegalArgumentException("no model file at " + mindir);
        }
        return build(api, options, (m, c) -> api.buildFromFile(m, mindir.toAbsolutePath().toString(), MsLiteApi.MINDIR, c),
                "Model::Build(" + mindir + ")");
    }

    /** Builds a MindIR model held in memory. */
    public static MsLiteModel load(byte[] mindir, Options options) {
        return load(new JavaCppMsLiteApi(), mindir, options);
    }

    static MsLiteModel load(MsLiteApi api, byte[] mindir, Options options) {
        ByteBuffer direct = ByteBuffer.allocateDirect(mindir.length).put(mindir).flip();
        return build(api, options, (m, c) -> api.buildFromBuffer(m, direct, MsLiteApi.MINDIR, c),
                "Model::Build(" + mindir.length + " bytes)");
    }

    private interface Builder {
        MsLiteApi.Status build(long model, long context);
    }

    private static MsLiteModel build(MsLiteApi api, Options o, Builder builder, String call) {
        long ctx = api.createContext(o.threads(), o.ascend(), o.deviceId(), o.rankId(), o.fp16());
        long model = 0;
        try {
            model = api.createModel();
            MsLiteApi.Status s = builder.build(model, ctx);
            if (!s.ok()) {
                throw new MsLiteException(call, s.code(), s.message());
            }
            return new MsLiteModel(api, ctx, model);
        } catch (RuntimeException e) {
            if (model != 0) {
                api.destroyModel(model);
            }
            api.destroyContext(ctx);
            throw e;
        }
    }

    /** The model's inputs, in order. */
    public List<TensorInfo> inputs() {
        return inputs;
    }

    /** The model's outputs, in order. */
    public List<TensorInfo> outputs() {
        return outputs;
    }

    /** Runs the model on raw little-endian input bytes (one buffer per input) and returns the outputs' bytes. */
    public List<ByteBuffer> predict(List<ByteBuffer> inputData) {
        check();
        if (inputData.size() != inputs.size()) {
            throw new IllegalArgumentException("the model takes " + inputs.size() + " inputs, got " + inputData.size());
        }
        for (int i = 0; i < inputs.size(); i++) {
            ByteBuffer b = inputData.get(i);
            if (b.remaining() != inputs.get(i).byteSize()) {
                throw new IllegalArgumentException("input " + i + " (" + inputs.get(i).name() + ") takes "
                        + inputs.get(i).byteSize() + " bytes, got " + b.remaining());
            }
            api.writeInput(model, i, b);
        }
        MsLiteApi.Status s = api.predict(model);
        if (!s.ok()) {
            throw new MsLiteException("Model::Predict", s.code(), s.message());
        }
        List<TensorInfo> now = api.outputs(model); // shapes may depend on the inputs
        List<ByteBuffer> result = new ArrayList<>();
        for (int i = 0; i < now.size(); i++) {
            ByteBuffer dst = ByteBuffer.allocate(Math.toIntExact(now.get(i).byteSize())).order(ByteOrder.LITTLE_ENDIAN);
            api.readOutput(model, i, dst);
            result.add(dst);
        }
        return result;
    }

    /** Runs a model whose inputs and outputs are FP32. */
    public float[][] predict(float[]... inputData) {
        List<ByteBuffer> in = new ArrayList<>();
        for (int i = 0; i < inputData.length; i++) {
            requireFloat32(i < inputs.size() ? inputs.get(i) : null, "input " + i);
            ByteBuffer b = ByteBuffer.allocate(inputData[i].length * 4).order(ByteOrder.LITTLE_ENDIAN);
            b.asFloatBuffer().put(inputData[i]);
            in.add(b);
        }
        List<ByteBuffer> out = predict(in);
        float[][] r = new float[out.size()][];
        for (int i = 0; i < r.length; i++) {
            requireFloat32(outputs.get(i), "output " + i);
            r[i] = new float[out.get(i).remaining() / 4];
            out.get(i).asFloatBuffer().get(r[i]);
        }
        return r;
    }

    private static void requireFloat32(TensorInfo t, String what) {
        if (t != null && t.dataType() != MsLiteApi.FLOAT32) {
            throw new IllegalArgumentException(what + " (" + t.name() + ") is not FP32 (data type " + t.dataType()
                    + "); use predict(List<ByteBuffer>)");
        }
    }

    private void check() {
        if (closed) {
            throw new IllegalStateException("model used after close");
        }
    }

    /** Releases the model, then its context. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            api.destroyModel(model);
        } finally {
            api.destroyContext(context);
        }
    }
}
