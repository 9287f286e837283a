package dev.ascendj.examples;

import dev.ascendj.core.Backend;
import dev.ascendj.core.Backends;
import dev.ascendj.core.Communicator;
import dev.ascendj.core.DType;
import dev.ascendj.core.Device;
import dev.ascendj.core.ReduceOp;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The AscendJ device API end to end, on whatever backend is best here: the Ascend NPUs of an Atlas
 * server, or the CPU. On every device of the backend it copies host data to the device, multiplies
 * it with a weight matrix, then all-reduces (sums) the products across the devices and copies the
 * result back. Nothing in it names a backend: {@code -Dascendj.backend=cpu} or {@code =ascend}
 * chooses one, otherwise the available backend with the highest priority is taken.
 *
 * <p>Its test runs it on two virtual CPU devices:
 * {@code mvn -pl examples/java-api -am test -Dtest=JavaApiExampleTest -Dsurefire.failIfNoSpecifiedTests=false};
 * {@link #main} runs it on the selected backend (see docs/ascend.md).
 */
public final class JavaApiExample {
    private static final Logger LOG = LogManager.getLogger(JavaApiExample.class);

    /**
     * What the example computed.
     *
     * @param backend the backend's name
     * @param devices how many devices took part
     * @param product device 0's product x0 @ w, [2, 2] row-major
     * @param reduced the sum of every device's product, or null when the backend cannot build an
     *                in-process communicator group
     */
    public record Result(String backend, int devices, float[] product, float[] reduced) {
    }

    private JavaApiExample() {
    }

    /** Runs the example on the selected backend and logs the results. */
    public static void main(String[] args) {
        Backend backend = Backends.get();
        Result r = run(backend);
        LOG.info("backend {} with {} device(s)", r.backend(), r.devices());
        LOG.info("x0 @ w on device 0       = {}", Arrays.toString(r.product()));
        LOG.info("sum over all devices     = {}", r.reduced() == null ? "(no in-process communicators on this backend)"
                : Arrays.toString(r.reduced()));
    }

    /** Host data of device {@code rank}: [2, 3], different on every device. */
    static float[] hostData(int rank) {
        float[] x = new float[6];
        for (int i = 0; i < x.length; i++) {
            x[i] = (rank + 1) * (i + 1);
        }
        return x;
    }

    /** The weight matrix every device uses: [3, 2]. */
    static final float[] WEIGHT = {1, 0, 0, 1, 1, 1};

    /** Runs the example on {@code backend}, using all of its devices. */
    public static Result run(Backend backend) {
        List<Device> devices = new ArrayList<>();
        for (int i = 0; i < backend.deviceCount(); i++) {
            devices.add(backend.device(i));
        }
        try (Scope scope = Scope.open()) {
            // 1. host data to each device, 2. a matmul on each device
            List<Tensor> products = new ArrayList<>();
            for (int rank = 0; rank < devices.size(); rank++) {
                Device d = devices.get(rank);
                Tensor x = Tensor.fromFloats(d, Shape.of(2, 3), hostData(rank));
                Tensor w = Tensor.fromFloats(d, Shape.of(3, 2), WEIGHT);
                Tensor y = Tensor.empty(d, DType.FP32, Shape.of(2, 2));
                backend.ops(d).matmul(x, false, w, false, y, 1f, 0f);
                products.add(y);
            }
            // Copying back waits for the device's queued work: no explicit synchronisation needed.
            float[] product = products.get(0).toFloatArray();
            // 3. all-reduce across the devices, 4. copy back
            float[] reduced = allReduce(backend, devices, products);
            return new Result(backend.name(), devices.size(), product, reduced);
        }
    }

    private static float[] allReduce(Backend backend, List<Device> devices, List<Tensor> tensors) {
        List<Communicator> group;
        try {
            group = backend.communicators(devices);
        } catch (UnsupportedOperationException e) {
            LOG.warn("skipping the all-reduce: {}", e.getMessage());
            return null;
        }
        try {
            // Every rank calls the collective, each from its own thread, as a real job's ranks would.
            List<CompletableFuture<Void>> ranks = new ArrayList<>();
            for (int r = 0; r < group.size(); r++) {
                Communicator c = group.get(r);
                Tensor t = tensors.get(r);
                ranks.add(CompletableFuture.runAsync(() -> c.allReduce(t, t, ReduceOp.SUM)));
            }
            ranks.forEach(CompletableFuture::join);
            return tensors.get(0).toFloatArray();
        } finally {
            group.forEach(Communicator::close);
        }
    }
}
