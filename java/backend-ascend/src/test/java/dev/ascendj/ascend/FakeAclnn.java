package dev.ascendj.ascend;

import dev.ascendj.ascend.spi.AclnnApi;
import dev.ascendj.ascend.spi.AclnnOp;
import dev.ascendj.core.Half;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.bytedeco.javacpp.BytePointer;

/**
 * aclnn without an NPU. It keeps every descriptor (so tests can ask which shapes and dtypes an
 * operator got), records each operator call with its workspace size, and evaluates the operators
 * AscendJ composes with on the fake's device memory (host memory), in double precision with the
 * output dtype's rounding on store. The fused operators are evaluated from their documented
 * semantics where a test needs them; the others are only recorded.
 */
class FakeAclnn implements AclnnApi {
    static final int FLOAT = 0;
    static final int FLOAT16 = 1;
    static final int INT8 = 2;
    static final int INT32 = 3;
    static final int UINT8 = 4;
    static final int INT64 = 9;
    static final int BF16 = 27;

    /** A tensor descriptor as created. */
    record Desc(long[] dims, int dtype, long[] strides, long offset, long storage, long base) {
        long numel() {
            long n = 1;
            for (long d : dims) {
                n *= d;
            }
            return n;
        }

        @Override
        public String toString() {
            return Arrays.toString(dims) + ":" + dtypeName(dtype);
        }
    }

    record Scalar(double value, int dtype) {
    }

    /** One phase-1 call: the operator, its raw arguments, the descriptors they named, the workspace granted. */
    record Call(AclnnOp op, Object[] args, List<Object> resolved, long workspaceSize) {
        Desc tensor(int i) {
            return (Desc) resolved.get(i);
        }

        @Override
        public String toString() {
            return op + resolved.toString();
        }
    }

    final Map<Long, Desc> tensors = new HashMap<>();
    final Map<Long, Scalar> scalars = new HashMap<>();
    final Map<Long, long[]> arrays = new HashMap<>();
    final Map<Long, Call> executors = new HashMap<>();
    final List<Call> calls = Collections.synchronizedList(new ArrayList<>());
    final List<String> log;
    final Map<AclnnOp, Long> workspaceSizes = new HashMap<>();
    final Map<AclnnOp, Integer> failures = new HashMap<>();
    private final AtomicLong handles = new AtomicLong(0x100000);
    int created;
    int destroyed;

    /** {@code log} is shared with the fake runtime so that orders across both can be checked. */
    FakeAclnn(List<String> log) {
        this.log = log;
    }

    static String dtypeName(int t) {
        return switch (t) {
            case FLOAT -> "FP32";
            case FLOAT16 -> "FP16";
            case BF16 -> "BF16";
            case INT32 -> "INT32";
            case INT64 -> "INT64";
            case UINT8 -> "UINT8";
            case INT8 -> "INT8";
            default -> "dtype" + t;
        };
    }

    /** Operators called so far, in order. */
    List<AclnnOp> ops() {
        synchronized (calls) {
            return calls.stream().map(Call::op).toList();
        }
    }

    int liveDescriptors() {
        return tensors.size() + scalars.size() + arrays.size();
    }

    @Override
    public synchronized long createTensor(long[] viewDims, int dataType, long[] strides, long offset, int format,
                                          long[] storageDims, long data) {
        if (viewDims.length != strides.length) {
            throw new AssertionError("dims and strides differ in rank");
        }
        long h = handles.addAndGet(8);
        tensors.put(h, new Desc(viewDims.clone(), dataType, strides.clone(), offset, storageDims[0], data));
        created++;
        return h;
    }

    @Override
    public synchronized int destroyTensor(long tensor) {
        if (tensors.remove(tensor) == null) {
            throw new AssertionError("aclDestroyTensor of unknown " + tensor);
        }
        destroyed++;
        return 0;
    }

    @Override
    public synchronized long createScalar(double value, int dataType) {
        long h = handles.addAndGet(8);
        scalars.put(h, new Scalar(value, dataType));
        created++;
        return h;
    }

    @Override
    public synchronized int destroyScalar(long scalar) {
        if (scalars.remove(scalar) == null) {
            throw new AssertionError("aclDestroyScalar of unknown " + scalar);
        }
        destroyed++;
        return 0;
    }

    @Override
    public synchronized long createIntArray(long[] values) {
        long h = handles.addAndGet(8);
        arrays.put(h, values.clone());
        created++;
        return h;
    }

    @Override
    public synchronized int destroyIntArray(long array) {
        if (arrays.remove(array) == null) {
            throw new AssertionError("aclDestroyIntArray of unknown " + array);
        }
        destroyed++;
        return 0;
    }

    @Override
    public synchronized int getWorkspaceSize(AclnnOp op, Object[] args, long[] workspaceSize, long[] executor) {
        op.check(args);
        List<Object> resolved = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            Object a = args[i];
            resolved.add(switch (op.params().get(i)) {
                case TENSOR -> a == null ? null : need(tensors.get((Long) a), op, i);
                case SCALAR -> a == null ? null : need(scalars.get((Long) a), op, i);
                case INT_ARRAY -> a == null ? null : need(arrays.get((Long) a), op, i);
                default -> a;
            });
        }
        log.add(op.cName() + "GetWorkspaceSize");
        Integer fail = failures.remove(op);
        if (fail != null) {
            return fail;
        }
        long ws = workspaceSizes.getOrDefault(op, 0L);
        Call c = new Call(op, args.clone(), resolved, ws);
        calls.add(c);
        long h = handles.addAndGet(8);
        executors.put(h, c);
        workspaceSize[0] = ws;
        executor[0] = h;
        return 0;
    }

    private static Object need(Object o, AclnnOp op, int i) {
        if (o == null) {
            throw new AssertionError(op.cName() + " argument " + i + " names a destroyed or unknown descriptor");
        }
        return o;
    }

    @Override
    public synchronized int execute(AclnnOp op, long workspace, long workspaceSize, long executor, long stream) {
        Call c = executors.remove(executor);
        if (c == null || c.op != op) {
            throw new AssertionError("execute " + op + " with executor " + executor + " of " + c);
        }
        if (workspaceSize != c.workspaceSize || (workspaceSize > 0 && workspace == 0)) {
            throw new AssertionError(op + ": workspace " + workspace + "/" + workspaceSize + " but " + c.workspaceSize
                    + " was asked");
        }
        log.add(op.cName() + " " + stream);
        evaluate(c);
        return 0;
    }

    @Override
    public synchronized int destroyExecutor(long executor) {
        executors.remove(executor);
        return 0;
    }

    // ------------------------------------------------------------------ memory access

    static int elementSize(int dtype) {
        return switch (dtype) {
            case FLOAT, INT32 -> 4;
            case FLOAT16, BF16 -> 2;
            case INT64 -> 8;
            case UINT8, INT8 -> 1;
            default -> throw new AssertionError("dtype " + dtype);
        };
    }

    private static ByteBuffer memory(Desc d) {
        long bytes = d.storage() * elementSize(d.dtype());
        return new BytePointer(new FakeAcl.Raw(d.base())).capacity(bytes).asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    private static long elementOffset(Desc d, long[] idx) {
        long off = d.offset();
        for (int i = 0; i < idx.length; i++) {
            off += idx[i] * d.strides()[i];
        }
        return off;
    }

    /** The elements of {@code d} broadcast (right-aligned, numpy rules) to {@code outDims}, row-major. */
    static double[] read(Desc d, long[] outDims) {
        ByteBuffer m = memory(d);
        int n = (int) numel(outDims);
        double[] r = new double[n];
        long[] oi = new long[outDims.length];
        long[] di = new long[d.dims().length];
        int shift = outDims.length - di.length;
        if (shift < 0) {
            throw new AssertionError("cannot broadcast " + d + " to " + Arrays.toString(outDims));
        }
        for (int i = 0; i < n; i++) {
            for (int a = 0; a < di.length; a++) {
                long dd = d.dims()[a];
                long od = outDims[a + shift];
                if (dd != od && dd != 1) {
                    throw new AssertionError("cannot broadcast " + d + " to " + Arrays.toString(outDims));
                }
                di[a] = dd == 1 ? 0 : oi[a + shift];
            }
            r[i] = get(m, d.dtype(), elementOffset(d, di));
            increment(oi, outDims);
        }
        return r;
    }

    static double[] read(Desc d) {
        return read(d, d.dims());
    }

    static void write(Desc d, double[] values) {
        ByteBuffer m = memory(d);
        long[] idx = new long[d.dims().length];
        if (values.length != d.numel()) {
            throw new AssertionError("writing " + values.length + " values into " + d);
        }
        for (double v : values) {
            put(m, d.dtype(), elementOffset(d, idx), v);
            increment(idx, d.dims());
        }
    }

    private static double get(ByteBuffer m, int dtype, long off) {
        int o = (int) off;
        return switch (dtype) {
            case FLOAT -> m.getFloat(o * 4);
            case FLOAT16 -> Half.halfToFloat(m.getShort(o * 2));
            case BF16 -> Half.bfloat16ToFloat(m.getShort(o * 2));
            case INT32 -> m.getInt(o * 4);
            case INT64 -> m.getLong(o * 8);
            case UINT8 -> m.get(o) & 0xff;
            case INT8 -> m.get(o);
            default -> throw new AssertionError("dtype " + dtype);
        };
    }

    private static void put(ByteBuffer m, int dtype, long off, double v) {
        int o = (int) off;
        switch (dtype) {
            case FLOAT -> m.putFloat(o * 4, (float) v);
            case FLOAT16 -> m.putShort(o * 2, Half.floatToHalf((float) v));
            case BF16 -> m.putShort(o * 2, Half.floatToBFloat16((float) v));
            case INT32 -> m.putInt(o * 4, (int) v);
            case INT64 -> m.putLong(o * 8, (long) v);
            case UINT8 -> m.put(o, (byte) v);
            case INT8 -> m.put(o, (byte) v);
            default -> throw new AssertionError("dtype " + dtype);
        }
    }

    static long numel(long[] dims) {
        long n = 1;
        for (long d : dims) {
            n *= d;
        }
        return n;
    }

    private static void increment(long[] idx, long[] dims) {
        for (int a = idx.length - 1; a >= 0; a--) {
            if (++idx[a] < dims[a]) {
                return;
            }
            idx[a] = 0;
        }
    }

    // ------------------------------------------------------------------ evaluation

    private interface Unary {
        double apply(double x);
    }

    private void evaluate(Call c) {
        List<Object> r = c.resolved();
        switch (c.op()) {
            case ADD -> binary(c, 0, 1, 3, (a, b) -> a + scalar(r, 2) * b);
            case ADDS -> unary(c, 0, 3, x -> x + scalar(r, 2) * scalar(r, 1));
            case INPLACE_ADD -> binary(c, 0, 1, 0, (a, b) -> a + scalar(r, 2) * b);
            case MUL -> binary(c, 0, 1, 2, (a, b) -> a * b);
            case MULS -> unary(c, 0, 2, x -> x * scalar(r, 1));
            case INPLACE_MUL -> binary(c, 0, 1, 0, (a, b) -> a * b);
            case DIV -> binary(c, 0, 1, 2, (a, b) -> a / b);
            case CAST -> unary(c, 0, 2, x -> x);
            case INPLACE_COPY -> write(c.tensor(0), read(c.tensor(1), c.tensor(0).dims()));
            case INPLACE_FILL_SCALAR -> {
                double[] v = new double[(int) c.tensor(0).numel()];
                Arrays.fill(v, scalar(r, 1));
                write(c.tensor(0), v);
            }
            case RSQRT -> unary(c, 0, 1, x -> 1 / Math.sqrt(x));
            case SQRT -> unary(c, 0, 1, Math::sqrt);
            case EXP -> unary(c, 0, 1, Math::exp);
            case LOG -> unary(c, 0, 1, Math::log);
            case COS -> unary(c, 0, 1, Math::cos);
            case SIN -> unary(c, 0, 1, Math::sin);
            case SILU -> unary(c, 0, 1, x -> x / (1 + Math.exp(-x)));
            case SILU_BACKWARD -> binary(c, 0, 1, 2, (g, x) -> {
                double s = 1 / (1 + Math.exp(-x));
                return g * (s + x * s * (1 - s));
            });
            case MATMUL -> matmul(c.tensor(0), c.tensor(1), c.tensor(2));
            case MEAN -> reduce(c.tensor(0), (long[]) r.get(1), (Boolean) r.get(2), c.tensor(4), true);
            case REDUCE_SUM -> reduce(c.tensor(0), (long[]) r.get(1), (Boolean) r.get(2), c.tensor(4), false);
            case SOFTMAX -> rows(c.tensor(0), null, c.tensor(2), (x, g) -> softmax(x, false));
            case LOG_SOFTMAX -> rows(c.tensor(0), null, c.tensor(2), (x, g) -> softmax(x, true));
            case LOG_SOFTMAX_BACKWARD -> rows(c.tensor(1), c.tensor(0), c.tensor(3), (logp, g) -> {
                double sum = Arrays.stream(g).sum();
                double[] o = new double[g.length];
                for (int i = 0; i < o.length; i++) {
                    o[i] = g[i] - Math.exp(logp[i]) * sum;
                }
                return o;
            });
            case NLL_LOSS -> nllLoss(c);
            case NLL_LOSS_BACKWARD -> nllLossBackward(c);
            case EMBEDDING -> embedding(c.tensor(0), c.tensor(1), c.tensor(2));
            case EMBEDDING_DENSE_BACKWARD -> embeddingBackward(c.tensor(0), c.tensor(1), c.tensor(5));
            case RMS_NORM -> rmsNorm(c.tensor(0), c.tensor(1), (Double) r.get(2), c.tensor(3), c.tensor(4));
            case SWI_GLU -> swiGlu(c.tensor(0), c.tensor(2));
            default -> {
                // fused operators without a reference here: the call is recorded, nothing computed
            }
        }
    }

    private static double scalar(List<Object> r, int i) {
        return ((Scalar) r.get(i)).value();
    }

    private interface Binary {
        double apply(double a, double b);
    }

    private static void binary(Call c, int a, int b, int out, Binary f) {
        Desc o = c.tensor(out);
        double[] x = read(c.tensor(a), o.dims());
        double[] y = read(c.tensor(b), o.dims());
        double[] z = new double[x.length];
        for (int i = 0; i < z.length; i++) {
            z[i] = f.apply(x[i], y[i]);
        }
        write(o, z);
    }

    private static void unary(Call c, int in, int out, Unary f) {
        Desc o = c.tensor(out);
        double[] x = read(c.tensor(in), o.dims());
        for (int i = 0; i < x.length; i++) {
            x[i] = f.apply(x[i]);
        }
        write(o, x);
    }

    private static void matmul(Desc a, Desc b, Desc out) {
        int ra = a.dims().length;
        int rb = b.dims().length;
        long m = a.dims()[ra - 2];
        long k = a.dims()[ra - 1];
        long n = b.dims()[rb - 1];
        if (b.dims()[rb - 2] != k || out.dims()[out.dims().length - 2] != m || out.dims()[out.dims().length - 1] != n) {
            throw new AssertionError("matmul shapes " + a + " x " + b + " -> " + out);
        }
        long[] od = out.dims();
        long[] ad = od.clone();
        ad[ad.length - 2] = m;
        ad[ad.length - 1] = k;
        long[] bd = od.clone();
        bd[bd.length - 2] = k;
        bd[bd.length - 1] = n;
        double[] x = read(a, ad);
        double[] y = read(b, bd);
        long batches = numel(od) / (m * n);
        double[] z = new double[(int) numel(od)];
        for (long bt = 0; bt < batches; bt++) {
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int q = 0; q < k; q++) {
                        s += x[(int) (bt * m * k + i * k + q)] * y[(int) (bt * k * n + q * n + j)];
                    }
                    z[(int) (bt * m * n + i * n + j)] = s;
                }
            }
        }
        write(out, z);
    }

    private static void reduce(Desc in, long[] axes, boolean keep, Desc out, boolean mean) {
        long[] d = in.dims();
        boolean[] reduced = new boolean[d.length];
        for (long a : axes) {
            reduced[(int) (a < 0 ? a + d.length : a)] = true;
        }
        double[] x = read(in);
        List<Long> keptDims = new ArrayList<>();
        for (int i = 0; i < d.length; i++) {
            if (!reduced[i]) {
                keptDims.add(d[i]);
            } else if (keep) {
                keptDims.add(1L);
            }
        }
        long[] kd = keptDims.stream().mapToLong(Long::longValue).toArray();
        double[] sums = new double[(int) numel(kd)];
        long count = 1;
        for (int i = 0; i < d.length; i++) {
            if (reduced[i]) {
                count *= d[i];
            }
        }
        long[] idx = new long[d.length];
        for (double v : x) {
            long flat = 0;
            int j = 0;
            for (int i = 0; i < d.length; i++) {
                if (!reduced[i]) {
                    flat = flat * d[i] + idx[i];
                }
            }
            sums[(int) flat] += v;
            increment(idx, d);
            j++;
        }
        if (mean) {
            for (int i = 0; i < sums.length; i++) {
                sums[i] /= count;
            }
        }
        if (numel(out.dims()) != sums.length) {
            throw new AssertionError("reduction of " + in + " over " + Arrays.toString(axes) + " into " + out);
        }
        write(out, sums);
    }

    private interface RowFn {
        double[] apply(double[] x, double[] g);
    }

    /** Applies {@code f} to each last-axis row of {@code x} (and of {@code g}, if given). */
    private static void rows(Desc x, Desc g, Desc out, RowFn f) {
        long[] d = x.dims();
        int len = (int) d[d.length - 1];
        double[] xs = read(x);
        double[] gs = g == null ? null : read(g, d);
        double[] o = new double[xs.length];
        for (int r = 0; r < xs.length / len; r++) {
            double[] row = Arrays.copyOfRange(xs, r * len, (r + 1) * len);
            double[] grow = gs == null ? null : Arrays.copyOfRange(gs, r * len, (r + 1) * len);
            System.arraycopy(f.apply(row, grow), 0, o, r * len, len);
        }
        write(out, o);
    }

    static double[] softmax(double[] x, boolean log) {
        double max = Arrays.stream(x).max().orElse(0);
        double sum = 0;
        for (double v : x) {
            sum += Math.exp(v - max);
        }
        double lse = max + Math.log(sum);
        double[] o = new double[x.length];
        for (int i = 0; i < o.length; i++) {
            o[i] = log ? x[i] - lse : Math.exp(x[i] - lse);
        }
        return o;
    }

    private static void nllLoss(Call c) {
        Desc logp = c.tensor(0);
        double[] lp = read(logp);
        double[] t = read(c.tensor(1));
        double[] w = read(c.tensor(2));
        long reduction = (Long) c.resolved().get(3);
        long ignore = (Long) c.resolved().get(4);
        int v = (int) logp.dims()[1];
        double[] per = new double[t.length];
        double total = 0;
        double sum = 0;
        for (int i = 0; i < t.length; i++) {
            if ((long) t[i] == ignore) {
                continue;
            }
            int label = (int) t[i];
            per[i] = -w[label] * lp[i * v + label];
            total += w[label];
            sum += per[i];
        }
        write(c.tensor(6), new double[] {total});
        write(c.tensor(5), reduction == 0 ? per : new double[] {reduction == 1 ? sum / total : sum});
    }

    private static void nllLossBackward(Call c) {
        Desc logp = c.tensor(1);
        double[] t = read(c.tensor(2));
        double[] w = read(c.tensor(3));
        long reduction = (Long) c.resolved().get(4);
        long ignore = (Long) c.resolved().get(5);
        double total = read(c.tensor(6))[0];
        double[] g = read(c.tensor(0));
        int v = (int) logp.dims()[1];
        double[] o = new double[t.length * v];
        for (int i = 0; i < t.length; i++) {
            if ((long) t[i] == ignore) {
                continue;
            }
            int label = (int) t[i];
            double gi = reduction == 0 ? g[i] : g[0];
            o[i * v + label] = -w[label] * gi / (reduction == 1 ? total : 1);
        }
        write(c.tensor(7), o);
    }

    private static void embedding(Desc weight, Desc ids, Desc out) {
        double[] w = read(weight);
        double[] id = read(ids);
        int h = (int) weight.dims()[1];
        double[] o = new double[id.length * h];
        for (int i = 0; i < id.length; i++) {
            System.arraycopy(w, (int) id[i] * h, o, i * h, h);
        }
        write(out, o);
    }

    private static void embeddingBackward(Desc grad, Desc ids, Desc out) {
        double[] g = read(grad);
        double[] id = read(ids);
        int h = (int) out.dims()[1];
        double[] o = new double[(int) out.numel()];
        for (int i = 0; i < id.length; i++) {
            for (int j = 0; j < h; j++) {
                o[(int) id[i] * h + j] += g[i * h + j];
            }
        }
        write(out, o);
    }

    private static void rmsNorm(Desc x, Desc gamma, double eps, Desc y, Desc rstd) {
        double[] xs = read(x);
        double[] w = read(gamma);
        int h = w.length;
        double[] o = new double[xs.length];
        double[] r = new double[xs.length / h];
        for (int row = 0; row < r.length; row++) {
            double ss = 0;
            for (int j = 0; j < h; j++) {
                ss += xs[row * h + j] * xs[row * h + j];
            }
            r[row] = 1 / Math.sqrt(ss / h + eps);
            for (int j = 0; j < h; j++) {
                o[row * h + j] = xs[row * h + j] * r[row] * w[j];
            }
        }
        write(y, o);
        write(rstd, r);
    }

    private static void swiGlu(Desc x, Desc out) {
        double[] xs = read(x);
        long[] d = x.dims();
        int two = (int) d[d.length - 1];
        int half = two / 2;
        double[] o = new double[xs.length / 2];
        for (int row = 0; row < o.length / half; row++) {
            for (int j = 0; j < half; j++) {
                double a = xs[row * two + j];
                o[row * half + j] = a / (1 + Math.exp(-a)) * xs[row * two + half + j];
            }
        }
        write(out, o);
    }
}
