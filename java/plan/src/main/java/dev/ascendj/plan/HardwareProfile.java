package dev.ascendj.plan;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the cost model knows about one device type: compute peaks and efficiency by GEMM size,
 * memory size, cap and bandwidth, the interconnect tiers (inside a full-mesh group such as a
 * 910A HCCS group, across groups of one server, across servers), and the fused operators the
 * device lacks. Profiles are data: the built-in ones live in
 * {@code dev/ascendj/plan/hardware/*.yaml} with the source of every number, and a user file can
 * override them ({@link HardwareCatalog}).
 *
 * @param name            profile name, e.g. {@code ascend-910a}
 * @param description     one line for humans
 * @param sources         where the numbers come from
 * @param compute         peaks and matrix efficiency
 * @param memory          device memory
 * @param topology        servers, groups and links
 * @param missingFusedOps fused operators the device does not have
 * @param notes           caveats the planner repeats in its output (e.g. unverified kernels)
 * @param calibration     per engine label ({@code mindformers}, {@code native}): what was fitted to
 *                        published runs of that engine on this device; an engine without an entry
 *                        uses the figures above as they are
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record HardwareProfile(
        @JsonProperty(value = "name", required = true) String name,
        @JsonProperty("description") String description,
        @JsonProperty("sources") List<String> sources,
        @JsonProperty(value = "compute", required = true) Compute compute,
        @JsonProperty(value = "memory", required = true) Memory memory,
        @JsonProperty(value = "topology", required = true) Topology topology,
        @JsonProperty("missingFusedOps") List<FusedOp> missingFusedOps,
        @JsonProperty("notes") List<String> notes,
        @JsonProperty("calibration") Map<String, Calibration> calibration) {

    public HardwareProfile {
        if (name == null || !name.matches("[a-z0-9][a-z0-9._-]{0,63}")) {
            throw new PlanException("name", "'" + name + "' is not a profile name (lower-case letters, digits, '.', '_', '-')");
        }
        if (compute == null) {
            throw new PlanException("compute", "missing");
        }
        if (memory == null) {
            throw new PlanException("memory", "missing");
        }
        if (topology == null) {
            throw new PlanException("topology", "missing");
        }
        description = description == null ? "" : description;
        sources = sources == null ? List.of() : List.copyOf(sources);
        missingFusedOps = missingFusedOps == null ? List.of() : List.copyOf(missingFusedOps);
        notes = notes == null ? List.of() : List.copyOf(notes);
        if (calibration != null) {
            for (String key : calibration.keySet()) {
                Engine.parse(key);
                if (calibration.get(key) == null) {
                    throw new PlanException("calibration." + key, "must not be null");
                }
            }
            calibration = Map.copyOf(calibration);
        }
    }

    /**
     * Figures fitted to published runs of one engine on this device (docs/planner.md, "Validation").
     *
     * @param gemmEfficiencyScale        factor on {@code matrixEfficiencyByGflop} for this engine
     * @param microBatchOverheadSeconds  fixed cost of one micro-batch on one stage (kernel launches,
     *                                   pipeline and accumulation bookkeeping)
     * @param heldOut                    the held-out error of the fit (leave-one-out), shown with every plan
     * @param source                     what it was fitted on
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Calibration(
            @JsonProperty("gemmEfficiencyScale") double gemmEfficiencyScale,
            @JsonProperty("microBatchOverheadSeconds") double microBatchOverheadSeconds,
            @JsonProperty("heldOut") ErrorBand heldOut,
            @JsonProperty("source") String source) {
        /** No correction. */
        public static final Calibration NONE = new Calibration(1, 0, null, null);

        public Calibration {
            if (!(gemmEfficiencyScale > 0) || gemmEfficiencyScale > 10) {
                throw new PlanException("gemmEfficiencyScale", "must lie in (0, 10], got " + gemmEfficiencyScale);
            }
            if (!(microBatchOverheadSeconds >= 0) || microBatchOverheadSeconds > 10) {
                throw new PlanException("microBatchOverheadSeconds", "must lie in [0, 10] seconds, got " + microBatchOverheadSeconds);
            }
        }

        /** The same with other fitted figures. */
        public Calibration with(double scale, double overhead) {
            return new Calibration(scale, overhead, heldOut, source);
        }
    }

    /** The calibration of {@code engine} on this device, {@link Calibration#NONE} when none was fitted. */
    public Calibration calibrationFor(Engine engine) {
        Calibration c = calibration == null ? null : calibration.get(engine.label());
        return c == null ? Calibration.NONE : c;
    }

    /** A copy with {@code c} as {@code engine}'s calibration. */
    public HardwareProfile withCalibration(Engine engine, Calibration c) {
        Map<String, Calibration> all = new LinkedHashMap<>(calibration == null ? Map.of() : calibration);
        all.put(engine.label(), c);
        return new HardwareProfile(name, description, sources, compute, memory, topology, missingFusedOps, notes, all);
    }

    /** A copy whose devices may use {@code usableBytes} (a run's own {@code max_device_memory}). */
    public HardwareProfile withUsableMemory(long usableBytes) {
        Memory m = new Memory(memory.capacityBytes(), Math.min(usableBytes, memory.capacityBytes()), memory.reserveBytes(),
                memory.bandwidthBytesPerSecond(), memory.efficiencyByMib(), memory.sharedByHost());
        return new HardwareProfile(name, description, sources, compute, m, topology, missingFusedOps, notes, calibration);
    }

    /** A copy that also lacks the fused operators {@code missing} (a framework that does not use them). */
    public HardwareProfile without(Set<FusedOp> missing) {
        Set<FusedOp> all = missingFusedOpSet();
        all.addAll(missing);
        return new HardwareProfile(name, description, sources, compute, memory, topology, List.copyOf(all), notes, calibration);
    }

    /**
     * Peak matrix throughput per precision and how much of it GEMMs reach.
     *
     * @param peakFlops                 FLOP/s by precision label ({@code fp16}, {@code bf16}, {@code fp32});
     *                                  a missing precision is not supported by the device
     * @param matrixEfficiencyByGflop   efficiency by GFLOP per GEMM call
     * @param defaultPrecision          training precision when the job does not say; null for
     *                                  BF16 if present, else FP16, else FP32
     * @param hostCores                 for devices that share one host ({@code memory.sharedByHost}):
     *                                  the cores they share, {@code peakFlops} being all of them
     *                                  together; null when unknown or not shared
     * @param skinnyEfficiencyByMinDim  optional factor on {@code matrixEfficiencyByGflop} by the
     *                                  smallest dimension of a GEMM (a 2048 x 288 x 48 product runs
     *                                  below a square one of the same FLOPs); null: no correction
     * @param attentionFlops            optional FLOP/s the fused attention kernel reaches (its two
     *                                  products counted as GEMMs, the backward twice the forward);
     *                                  null: the attention products are priced as GEMMs
     * @param kernelSecondsPerElement   optional measured cost of fused kernels, forward and backward
     *                                  together, in seconds per element (per element of the input
     *                                  for {@code rms-norm}, {@code rope} and {@code swiglu}, per
     *                                  logit for {@code cross-entropy}); a kernel without an entry
     *                                  is priced by the bytes it moves
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Compute(
            @JsonProperty(value = "peakFlops", required = true) Map<String, Double> peakFlops,
            @JsonProperty(value = "matrixEfficiencyByGflop", required = true) EfficiencyCurve matrixEfficiencyByGflop,
            @JsonProperty("defaultPrecision") Precision defaultPrecision,
            @JsonProperty("hostCores") Integer hostCores,
            @JsonProperty("skinnyEfficiencyByMinDim") EfficiencyCurve skinnyEfficiencyByMinDim,
            @JsonProperty("attentionFlops") Double attentionFlops,
            @JsonProperty("kernelSecondsPerElement") Map<FusedOp, Double> kernelSecondsPerElement) {
        public Compute {
            if (kernelSecondsPerElement != null) {
                for (Map.Entry<FusedOp, Double> e : kernelSecondsPerElement.entrySet()) {
                    Double v = e.getValue();
                    if (v == null || !(v > 0) || v.isInfinite()) {
                        throw new PlanException("kernelSecondsPerElement." + e.getKey().label(), "must be a positive finite time, got " + v);
                    }
                }
                kernelSecondsPerElement = Map.copyOf(kernelSecondsPerElement);
            }
            if (attentionFlops != null && (!(attentionFlops > 0) || attentionFlops.isInfinite())) {
                throw new PlanException("attentionFlops", "must be a positive finite FLOP/s figure, got " + attentionFlops);
            }
            if (hostCores != null && hostCores < 1) {
                throw new PlanException("hostCores", "must be at least 1, got " + hostCores);
            }
            if (peakFlops == null || peakFlops.isEmpty()) {
                throw new PlanException("peakFlops", "needs at least one precision (fp16, bf16, fp32)");
            }
            Map<String, Double> copy = new LinkedHashMap<>();
            for (Map.Entry<String, Double> e : peakFlops.entrySet()) {
                Precision.parse(e.getKey());
                Double v = e.getValue();
                if (v == null || !(v > 0) || v.isInfinite()) {
                    throw new PlanException("peakFlops." + e.getKey(), "must be a positive finite FLOP/s figure, got " + v);
                }
                copy.put(e.getKey(), v);
            }
            peakFlops = Map.copyOf(copy);
            if (matrixEfficiencyByGflop == null) {
                throw new PlanException("matrixEfficiencyByGflop", "missing");
            }
            if (defaultPrecision != null && !peakFlops.containsKey(defaultPrecision.label())) {
                throw new PlanException("defaultPrecision", defaultPrecision.label() + " has no entry in peakFlops");
            }
        }
    }

    /**
     * Device memory.
     *
     * @param capacityBytes             physical size (HBM, or host RAM for the CPU profile)
     * @param usableBytes               what the framework may allocate (MindSpore's max_device_memory)
     * @param reserveBytes              part of the usable memory kept for workspaces and fragmentation
     * @param bandwidthBytesPerSecond   peak bandwidth, which elementwise kernels are bound by
     * @param efficiencyByMib           achieved fraction of the bandwidth by MiB an operation moves
     * @param sharedByHost              true for virtual devices sharing one machine: memory, compute
     *                                  and bandwidth are divided among all devices of the cluster
     */
    public record Memory(
            @JsonProperty(value = "capacityBytes", required = true) long capacityBytes,
            @JsonProperty(value = "usableBytes", required = true) long usableBytes,
            @JsonProperty(value = "reserveBytes", required = true) long reserveBytes,
            @JsonProperty(value = "bandwidthBytesPerSecond", required = true) double bandwidthBytesPerSecond,
            @JsonProperty(value = "efficiencyByMib", required = true) EfficiencyCurve efficiencyByMib,
            @JsonProperty("sharedByHost") boolean sharedByHost) {
        public Memory {
            if (capacityBytes <= 0) {
                throw new PlanException("capacityBytes", "must be positive, got " + capacityBytes);
            }
            if (usableBytes <= 0 || usableBytes > capacityBytes) {
                throw new PlanException("usableBytes", "must lie in (0, capacityBytes = " + capacityBytes + "], got " + usableBytes);
            }
            if (reserveBytes < 0 || reserveBytes >= usableBytes) {
                throw new PlanException("reserveBytes", "must lie in [0, usableBytes = " + usableBytes + "), got " + reserveBytes);
            }
            if (!(bandwidthBytesPerSecond > 0) || Double.isInfinite(bandwidthBytesPerSecond)) {
                throw new PlanException("bandwidthBytesPerSecond", "must be a positive finite number, got " + bandwidthBytesPerSecond);
            }
            if (efficiencyByMib == null) {
                throw new PlanException("efficiencyByMib", "missing");
            }
        }
    }

    /**
     * How devices connect.
     *
     * @param devicesPerServer      device slots of one server (ids 0..devicesPerServer-1)
     * @param groupSize             devices of one full-mesh group (910A: an HCCS group of 4; 910B: 8);
     *                              tensor parallelism stays inside one group
     * @param intraGroup            one mesh link between two devices of a group
     * @param crossGroup            the path between groups of one server (null when a group is the server)
     * @param interServer           the per-device network path between servers
     * @param interServerAlgorithm  {@code auto} (HCCL: recursive halving-doubling when the server count
     *                              is a power of two, otherwise ring) or {@code ring}
     * @param commBufferBytes       buffer memory one communication group costs each member (HCCL_BUFFSIZE)
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Topology(
            @JsonProperty(value = "devicesPerServer", required = true) int devicesPerServer,
            @JsonProperty(value = "groupSize", required = true) int groupSize,
            @JsonProperty(value = "intraGroup", required = true) Link intraGroup,
            @JsonProperty("crossGroup") Link crossGroup,
            @JsonProperty(value = "interServer", required = true) Link interServer,
            @JsonProperty("interServerAlgorithm") String interServerAlgorithm,
            @JsonProperty("commBufferBytes") long commBufferBytes) {
        public Topology {
            if (devicesPerServer < 1 || devicesPerServer > 1024) {
                throw new PlanException("devicesPerServer", "must lie in [1, 1024], got " + devicesPerServer);
            }
            if (groupSize < 1 || devicesPerServer % groupSize != 0) {
                throw new PlanException("groupSize", "must be positive and divide devicesPerServer " + devicesPerServer + ", got " + groupSize);
            }
            if (intraGroup == null) {
                throw new PlanException("intraGroup", "missing");
            }
            if (interServer == null) {
                throw new PlanException("interServer", "missing");
            }
            if (groupSize < devicesPerServer && crossGroup == null) {
                throw new PlanException("crossGroup", "missing: a server of " + devicesPerServer + " devices has several groups of " + groupSize);
            }
            interServerAlgorithm = interServerAlgorithm == null ? "auto" : interServerAlgorithm;
            if (!interServerAlgorithm.equals("auto") && !interServerAlgorithm.equals("ring")) {
                throw new PlanException("interServerAlgorithm", "'" + interServerAlgorithm + "' is not one of auto, ring");
            }
            if (commBufferBytes < 0) {
                throw new PlanException("commBufferBytes", "must not be negative, got " + commBufferBytes);
            }
        }
    }

    /** True when the device computes in {@code p}. */
    public boolean supports(Precision p) {
        return compute.peakFlops().containsKey(p.label());
    }

    /** Peak matrix FLOP/s in {@code p}. */
    public double peakFlops(Precision p) {
        Double v = compute.peakFlops().get(p.label());
        if (v == null) {
            throw new PlanException("precision", p.label() + " is not supported by " + name + " (it has "
                    + String.join(", ", new java.util.TreeSet<>(compute.peakFlops().keySet())) + ")");
        }
        return v;
    }

    /** Measured seconds per element of fused kernel {@code op} (forward and backward), NaN when not measured. */
    public double kernelSecondsPerElement(FusedOp op) {
        Map<FusedOp, Double> k = compute.kernelSecondsPerElement();
        Double v = k == null ? null : k.get(op);
        return v == null ? Double.NaN : v;
    }

    /** True when the device has the fused operator. */
    public boolean has(FusedOp op) {
        return !missingFusedOps.contains(op);
    }

    /** The missing fused operators as a set. */
    @JsonIgnore
    public Set<FusedOp> missingFusedOpSet() {
        return missingFusedOps.isEmpty() ? EnumSet.noneOf(FusedOp.class) : EnumSet.copyOf(missingFusedOps);
    }

    /** The precision training uses on this device when the job does not say: the profile's choice, else BF16 if present, else FP16, else FP32. */
    public Precision defaultPrecision() {
        if (compute.defaultPrecision() != null) {
            return compute.defaultPrecision();
        }
        for (Precision p : new Precision[] {Precision.BF16, Precision.FP16, Precision.FP32}) {
            if (supports(p)) {
                return p;
            }
        }
        throw new IllegalStateException("no precision");
    }

    /** A copy with extra notes appended. */
    public HardwareProfile withNotes(List<String> more) {
        List<String> all = new ArrayList<>(notes);
        all.addAll(more);
        return new HardwareProfile(name, description, sources, compute, memory, topology, missingFusedOps, all, calibration);
    }
}
