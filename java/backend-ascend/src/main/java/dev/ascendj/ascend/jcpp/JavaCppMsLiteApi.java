package dev.ascendj.ascend.jcpp;

import dev.ascendj.acl.Cann;
import dev.ascendj.ascend.spi.MsLiteApi;
import dev.ascendj.mslite.AscendDeviceInfo;
import dev.ascendj.mslite.CPUDeviceInfo;
import dev.ascendj.mslite.Context;
import dev.ascendj.mslite.MSTensor;
import dev.ascendj.mslite.MSTensorVector;
import dev.ascendj.mslite.Model;
import dev.ascendj.mslite.global.mslite;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;

/**
 * {@link MsLiteApi} on the JavaCPP bindings of {@code presets/mslite}. Handles index Java-side
 * tables of the native objects, which keeps the {@code shared_ptr}s alive as long as the handles.
 */
public final class JavaCppMsLiteApi implements MsLiteApi {
    private final AtomicLong ids = new AtomicLong();
    private final Map<Long, Context> contexts = new ConcurrentHashMap<>();
    private final Map<Long, Model> models = new ConcurrentHashMap<>();
    private final Map<Long, MSTensorVector> outputs = new ConcurrentHashMap<>();
    private final Map<Long, Pointer> devices = new ConcurrentHashMap<>();

    /**
     * Loads the bindings.
     *
     * @throws dev.ascendj.acl.CannNotFoundException when MindSpore Lite or the JNI glue is missing
     */
    public JavaCppMsLiteApi() {
        Cann.load("dev.ascendj.mslite.global.mslite");
    }

    @Override
    public long createContext(int threads, boolean ascend, int deviceId, int rankId, boolean fp16) {
        Context ctx = new Context();
        ctx.SetThreadNum(threads);
        long id = ids.incrementAndGet();
        if (ascend) {
            AscendDeviceInfo info = new AscendDeviceInfo();
            info.SetDeviceID(deviceId);
            info.SetRankID(rankId);
            mslite.AppendDeviceInfo(ctx.MutableDeviceInfo(), info);
            devices.put(id, info);
        } else {
            CPUDeviceInfo info = new CPUDeviceInfo();
            info.SetEnableFP16(fp16);
            mslite.AppendDeviceInfo(ctx.MutableDeviceInfo(), info);
            devices.put(id, info);
        }
        contexts.put(id, ctx);
        return id;
    }

    @Override
    public void destroyContext(long context) {
        Context c = contexts.remove(context);
        Pointer info = devices.remove(context);
        if (c != null) {
            c.close();
        }
        if (info != null) {
            info.close();
        }
    }

    @Override
    public long createModel() {
        long id = ids.incrementAndGet();
        models.put(id, new Model());
        return id;
    }

    @Override
    public void destroyModel(long model) {
        MSTensorVector out = outputs.remove(model);
        if (out != null) {
            out.close();
        }
        Model m = models.remove(model);
        if (m != null) {
            m.close();
        }
    }

    /** Converts (and releases) a native status; the nested {@link MsLiteApi.Status} shadows its simple name here. */
    private static MsLiteApi.Status status(dev.ascendj.mslite.Status s) {
        try (s) {
            return new MsLiteApi.Status(s.StatusCode(), s.ToString());
        }
    }

    @Override
    public MsLiteApi.Status buildFromFile(long model, String path, int modelType, long context) {
        return status(models.get(model).Build(path, modelType, contexts.get(context)));
    }

    @Override
    public MsLiteApi.Status buildFromBuffer(long model, ByteBuffer data, int modelType, long context) {
        BytePointer p = new BytePointer(data);
        return status(models.get(model).Build(p.position(data.position()), data.remaining(), modelType,
                contexts.get(context)));
    }

    private static List<TensorInfo> describe(MSTensorVector v) {
        List<TensorInfo> list = new ArrayList<>();
        for (long i = 0; i < v.size(); i++) {
            MSTensor t = v.get(i);
            list.add(new TensorInfo(t.Name(), t.DataType(), t.Shape().toArray(), t.DataSize()));
        }
        return list;
    }

    @Override
    public List<TensorInfo> inputs(long model) {
        try (MSTensorVector v = models.get(model).GetInputs()) {
            return describe(v);
        }
    }

    @Override
    public List<TensorInfo> outputs(long model) {
        try (MSTensorVector v = models.get(model).GetOutputs()) {
            return describe(v);
        }
    }

    @Override
    public void writeInput(long model, int index, ByteBuffer data) {
        try (MSTensorVector v = models.get(model).GetInputs()) {
            MSTensor t = v.get(index);
            new BytePointer(t.MutableData()).capacity(t.DataSize()).asByteBuffer().put(data.duplicate());
        }
    }

    @Override
    public MsLiteApi.Status predict(long model) {
        Model m = models.get(model);
        MSTensorVector out = new MSTensorVector();
        MSTensorVector old = outputs.put(model, out);
        if (old != null) {
            old.close();
        }
        try (MSTensorVector in = m.GetInputs()) {
            return status(m.Predict(in, out));
        }
    }

    @Override
    public void readOutput(long model, int index, ByteBuffer dst) {
        MSTensor t = outputs.get(model).get(index);
        ByteBuffer src = new BytePointer(t.MutableData()).capacity(t.DataSize()).asByteBuffer();
        dst.duplicate().put(src);
    }
}
