package dev.ascendj.plan;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ascendj.core.io.StrictReader.Syntax;
import dev.ascendj.core.io.StrictReader;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * The hardware profiles the planner knows: the built-in data files ({@code ascend-910a},
 * {@code ascend-910b}, {@code cpu}), optionally overridden or extended by a user file.
 *
 * <p>A user file (YAML or JSON) holds one profile or a list under {@code profiles}. An entry
 * whose {@code name} is a known profile changes only the fields it gives; an entry with
 * {@code base: <known profile>} defines a new profile starting from that one:
 * <pre>{@code
 * profiles:
 *   - name: ascend-910a
 *     memory: {usableBytes: 30064771072}      # cap at 28 GiB
 *   - name: ascend-910b3
 *     base: ascend-910b
 *     compute: {peakFlops: {fp16: 295.0e12, bf16: 295.0e12}}
 * }</pre>
 *
 * <p>The {@code cpu} profile takes a measurement of the running machine when one is given
 * ({@link #withCpuMeasurement}, which the CLI and the benchmarks pass from
 * {@code dev.ascendj.bench.CpuProfiler}); without one it keeps the fallback figures of its file.
 * A user entry for {@code cpu} is applied on top of the measurement, so it can pin figures for
 * reproducible plans.
 */
public final class HardwareCatalog {

    /** Names of the built-in profiles. */
    public static final List<String> BUILT_IN = List.of("ascend-910a", "ascend-910b", "cpu");

    /** Name of the measured CPU profile. */
    public static final String CPU = "cpu";

    private final Map<String, JsonNode> base;
    private final Map<String, JsonNode> overrides;
    private final Supplier<CpuMeasurement> cpuMeasurement;
    private final Map<String, HardwareProfile> resolved = new ConcurrentHashMap<>();

    private HardwareCatalog(Map<String, JsonNode> base, Map<String, JsonNode> overrides,
                            Supplier<CpuMeasurement> cpuMeasurement) {
        this.base = base;
        this.overrides = overrides;
        this.cpuMeasurement = cpuMeasurement;
    }

    /** The built-in profiles; the CPU's figures are the file's fallbacks until a measurement is given. */
    public static HardwareCatalog builtIn() {
        Map<String, JsonNode> trees = new LinkedHashMap<>();
        for (String name : BUILT_IN) {
            String resource = "hardware/" + name + ".yaml";
            try (InputStream in = HardwareCatalog.class.getResourceAsStream(resource)) {
                if (in == null) {
                    throw new IllegalStateException("built-in hardware profile missing from the jar: " + resource);
                }
                trees.put(name, PlanInputs.parseTree(new String(in.readAllBytes(), StandardCharsets.UTF_8), Syntax.YAML, resource));
            } catch (IOException e) {
                throw new IllegalStateException("cannot read " + resource, e);
            }
        }
        return new HardwareCatalog(trees, Map.of(), HardwareCatalog::unmeasured);
    }

    /** No measurement: every figure keeps the {@code cpu} file's fallback. */
    private static CpuMeasurement unmeasured() {
        return new CpuMeasurement(Double.NaN, null, Double.NaN, -1, Runtime.getRuntime().maxMemory(),
                Runtime.getRuntime().availableProcessors(), "not measured (the fallback figures of hardware/cpu.yaml)");
    }

    /** This catalog with the CPU figures taken from {@code measurement} (of this machine, or fixed for tests). */
    public HardwareCatalog withCpuMeasurement(Supplier<CpuMeasurement> measurement) {
        return new HardwareCatalog(base, overrides, measurement);
    }

    /** This catalog with the profiles of a user file applied (see the class comment). */
    public HardwareCatalog withUserFile(Path file) {
        return withUserProfiles(PlanInputs.readTree(file), file.toString());
    }

    /** This catalog with user profiles given as a tree (one profile or {@code {profiles: [...]}}). */
    public HardwareCatalog withUserProfiles(JsonNode root, String source) {
        List<JsonNode> entries = new ArrayList<>();
        List<String> paths = new ArrayList<>();
        if (root.isObject() && root.has("profiles")) {
            JsonNode list = root.get("profiles");
            if (!list.isArray()) {
                throw new PlanException(source, "profiles", "expected a list of profiles", null);
            }
            Iterator<String> extra = root.fieldNames();
            while (extra.hasNext()) {
                String f = extra.next();
                if (!f.equals("profiles")) {
                    throw new PlanException(source, f, "unknown field (a catalog file has only 'profiles')", null);
                }
            }
            for (int i = 0; i < list.size(); i++) {
                entries.add(list.get(i));
                paths.add("profiles[" + i + "]");
            }
        } else {
            entries.add(root);
            paths.add("");
        }
        Map<String, JsonNode> newBase = new LinkedHashMap<>(base);
        Map<String, JsonNode> newOverrides = new LinkedHashMap<>(overrides);
        for (int i = 0; i < entries.size(); i++) {
            JsonNode e = entries.get(i);
            String path = paths.get(i);
            String at = path.isEmpty() ? "" : path + ".";
            if (!e.isObject()) {
                throw new PlanException(source, path.isEmpty() ? null : path, "expected a profile object", null);
            }
            JsonNode nameNode = e.get("name");
            if (nameNode == null || !nameNode.isTextual()) {
                throw new PlanException(source, at + "name", "missing (every profile entry needs a name)", null);
            }
            String name = nameNode.textValue();
            ObjectNode body = ((ObjectNode) e).deepCopy();
            JsonNode baseNode = body.remove("base");
            if (baseNode != null) {
                if (!baseNode.isTextual() || !newBase.containsKey(baseNode.textValue())) {
                    throw new PlanException(source, at + "base", "'" + baseNode.asText() + "' is not a known profile ("
                            + String.join(", ", newBase.keySet()) + ")", null);
                }
                if (newBase.containsKey(name)) {
                    throw new PlanException(source, at + "name", "'" + name + "' already exists; drop 'base' to change it", null);
                }
                // A derived profile starts from its base as overridden so far.
                String baseName = baseNode.textValue();
                JsonNode start = newBase.get(baseName);
                if (newOverrides.containsKey(baseName)) {
                    start = merge(start, newOverrides.get(baseName));
                }
                newBase.put(name, start);
                newOverrides.put(name, body);
            } else if (newBase.containsKey(name)) {
                JsonNode prev = newOverrides.get(name);
                newOverrides.put(name, prev == null ? body : merge(prev, body));
            } else {
                newBase.put(name, body);
            }
        }
        HardwareCatalog c = new HardwareCatalog(newBase, newOverrides, cpuMeasurement);
        // Validate every profile now, so a bad user file fails where it is named.
        for (String name : c.base.keySet()) {
            if (!c.measured(name)) {
                c.profileFrom(name, source);
            }
        }
        return c;
    }

    /** Profile names, built-in first. */
    public List<String> names() {
        return List.copyOf(base.keySet());
    }

    /**
     * The named profile.
     *
     * @throws PlanException naming {@code hardware} when the name is unknown
     */
    public HardwareProfile profile(String name) {
        if (name == null || !base.containsKey(name)) {
            throw new PlanException("hardware", "unknown hardware profile '" + name + "' (known: " + String.join(", ", base.keySet()) + ")");
        }
        return resolved.computeIfAbsent(name, n -> profileFrom(n, "hardware profile " + n));
    }

    /** True when the profile's figures come from measuring this machine (cpu or profiles based on it). */
    private boolean measured(String name) {
        if (name.equals(CPU)) {
            return true;
        }
        JsonNode b = base.get(name);
        return b != null && b.path("name").asText().equals(CPU);
    }

    private HardwareProfile profileFrom(String name, String source) {
        JsonNode tree = base.get(name);
        List<String> notes = new ArrayList<>();
        if (measured(name)) {
            CpuMeasurement m = cpuMeasurement.get();
            tree = applyMeasurement(tree, m);
            notes.add("CPU profile: " + m.note());
        }
        JsonNode override = overrides.get(name);
        if (override != null) {
            tree = merge(tree, override);
        }
        HardwareProfile p = PlanInputs.bind(tree, HardwareProfile.class, source);
        return notes.isEmpty() ? p : p.withNotes(notes);
    }

    /** Puts measured figures into the CPU profile's tree; figures not measured keep the file's fallbacks. */
    static JsonNode applyMeasurement(JsonNode template, CpuMeasurement m) {
        ObjectNode t = template.deepCopy();
        JsonNodeFactory f = JsonNodeFactory.instance;
        if (m.gemmMeasured()) {
            ObjectNode peaks = f.objectNode();
            // The CPU backend computes in FP32 whatever the storage type; FP16/BF16 are emulated.
            peaks.put("fp32", m.gemmFlops()).put("fp16", m.gemmFlops()).put("bf16", m.gemmFlops());
            ObjectNode compute = (ObjectNode) t.get("compute");
            compute.set("peakFlops", peaks);
            compute.put("hostCores", m.threads());
            compute.set("matrixEfficiencyByGflop", StrictReader.mapper().valueToTree(m.matrixEfficiency()));
            if (m.skinnyEfficiency() != null) {
                compute.set("skinnyEfficiencyByMinDim", StrictReader.mapper().valueToTree(m.skinnyEfficiency()));
            }
            if (m.attentionFlops() > 0 && Double.isFinite(m.attentionFlops())) {
                compute.put("attentionFlops", m.attentionFlops());
            }
        }
        if (m.gemmMeasured() && m.kernelSecondsPerElement() != null && !m.kernelSecondsPerElement().isEmpty()) {
            ObjectNode k = ((ObjectNode) t.get("compute")).putObject("kernelSecondsPerElement");
            m.kernelSecondsPerElement().forEach((op, v) -> k.put(op.label(), v));
        }
        ObjectNode memory = (ObjectNode) t.get("memory");
        if (m.physicalMemory() > 0) {
            long ram = m.physicalMemory();
            // Leave a fifth of the RAM to the OS and other processes; the JVM heap is not available to
            // off-heap tensors, so it is part of the reserve.
            long usable = (long) (ram * 0.8);
            long reserve = Math.min(usable / 2, m.heapMax() + (512L << 20));
            memory.put("capacityBytes", ram).put("usableBytes", usable).put("reserveBytes", reserve);
        }
        if (m.copyBandwidth() > 0 && Double.isFinite(m.copyBandwidth())) {
            memory.put("bandwidthBytesPerSecond", m.copyBandwidth());
            ObjectNode topology = (ObjectNode) t.get("topology");
            // Moving S bytes between virtual devices is a copy: S read plus S written.
            for (String link : new String[] {"intraGroup", "interServer"}) {
                ((ObjectNode) topology.get(link)).put("bandwidthBytesPerSecond", m.copyBandwidth() / 2);
            }
        }
        return t;
    }

    /** Deep merge: objects merge field by field, anything else in {@code top} replaces {@code bottom}. */
    static JsonNode merge(JsonNode bottom, JsonNode top) {
        if (bottom == null || !bottom.isObject() || !top.isObject()) {
            return top.deepCopy();
        }
        ObjectNode out = ((ObjectNode) bottom).deepCopy();
        for (Map.Entry<String, JsonNode> e : top.properties()) {
            JsonNode prev = out.get(e.getKey());
            out.set(e.getKey(), prev != null && prev.isObject() && e.getValue().isObject()
                    ? merge(prev, e.getValue()) : e.getValue().deepCopy());
        }
        return out;
    }
}
