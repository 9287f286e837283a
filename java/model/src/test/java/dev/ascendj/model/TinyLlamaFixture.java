package dev.ascendj.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ascendj.core.Device;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import dev.ascendj.model.io.SafetensorsFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The whole-model fixture written by {@code tools/gen_model_fixture.py}: a random 2-layer LLaMA2
 * (vocab 97, hidden 32, 4 heads over 2 key/value heads, linear RoPE scaling 2) in Hugging Face
 * layout, a PEFT LoRA adapter for it, and PyTorch's float64 logits, mean losses and gradients.
 *
 * <p>Agreement criterion, per tensor: {@code max_i |actual_i - expected_i| <= tol * max_i |expected_i|}
 * ("max-abs error over max magnitude"). An elementwise relative test would be meaningless for the
 * many gradient entries that are near zero, where FP32 rounding noise of the large entries
 * dominates; scaling by the tensor's largest magnitude measures the error in the units that matter
 * for a training step.
 */
final class TinyLlamaFixture {
    private static final Logger LOG = LogManager.getLogger(TinyLlamaFixture.class);

    /** Tolerance of AscendJ (FP32) against PyTorch (float64). */
    static final double TOL = 1e-4;

    /** Name of the embedding gradient's stored rows (the others are zero). */
    static final String EMBED = "model.embed_tokens.weight";

    final int batch;
    final int seq;
    final int[] ids;
    final int[] targets;
    final long tokens;
    final double loss;
    final double loraLoss;
    private final Map<String, float[]> expected = new HashMap<>();
    private final Map<String, int[]> expectedInts = new HashMap<>();

    private TinyLlamaFixture(JsonNode json, SafetensorsFile values, Device device) {
        batch = json.get("batch").intValue();
        seq = json.get("seq").intValue();
        ids = flatten(json.get("ids"));
        targets = flatten(json.get("targets"));
        tokens = json.get("tokens").longValue();
        loss = json.get("loss").doubleValue();
        loraLoss = json.get("lora_loss").doubleValue();
        for (String name : values.names()) {
            try (Tensor t = values.load(name, device)) {
                if (name.startsWith("grad.rows.")) {
                    expectedInts.put(name, t.toIntArray());
                } else {
                    expected.put(name, t.toFloatArray());
                }
            }
        }
    }

    static TinyLlamaFixture load(Device device) {
        try (SafetensorsFile f = SafetensorsFile.open(dir().resolve("expected.safetensors"))) {
            return new TinyLlamaFixture(new ObjectMapper().readTree(dir().resolve("expected.json").toFile()), f, device);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Path dir() {
        try {
            return Path.of(TinyLlamaFixture.class.getResource("/fixtures/llama-tiny").toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static Path modelDir() {
        return dir().resolve("model");
    }

    static Path adapterDir() {
        return dir().resolve("adapter");
    }

    private static int[] flatten(JsonNode rows) {
        int n = 0;
        for (JsonNode r : rows) {
            n += r.size();
        }
        int[] out = new int[n];
        int i = 0;
        for (JsonNode r : rows) {
            for (JsonNode v : r) {
                out[i++] = v.intValue();
            }
        }
        return out;
    }

    Tensor idsTensor(Device device) {
        return Tensor.fromInts(device, Shape.of(batch, seq), ids);
    }

    Tensor targetsTensor(Device device) {
        return Tensor.fromInts(device, Shape.of(batch * seq), targets);
    }

    /** An expected tensor, flat. */
    float[] expected(String name) {
        float[] v = expected.get(name);
        if (v == null) {
            throw new IllegalArgumentException("no expected tensor " + name + " in the fixture");
        }
        return v;
    }

    /** The expected full-model gradient of base weight {@code name} (the embedding's expanded to [V, H]). */
    float[] expectedGrad(String name, Shape shape) {
        float[] stored = expected("grad." + name);
        if (!name.equals(EMBED)) {
            return stored;
        }
        int[] rows = expectedInts.get("grad.rows." + name);
        int width = shape.dim(1);
        float[] full = new float[Math.toIntExact(shape.numel())];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(stored, i * width, full, rows[i] * width, width);
        }
        return full;
    }

    /** Number of expected gradients of base weights. */
    long baseGradCount() {
        return expected.keySet().stream().filter(n -> n.startsWith("grad.")).count();
    }

    /** Number of expected gradients of adapters. */
    long loraGradCount() {
        return expected.keySet().stream().filter(n -> n.startsWith("lora.grad.")).count();
    }

    /** max |a - e| / max |e|. */
    static double error(float[] actual, float[] expected) {
        assertEquals(expected.length, actual.length, "element count");
        double maxDiff = 0;
        double maxMag = 0;
        for (int i = 0; i < actual.length; i++) {
            assertTrue(Float.isFinite(actual[i]), "non-finite value at " + i);
            maxDiff = Math.max(maxDiff, Math.abs((double) actual[i] - expected[i]));
            maxMag = Math.max(maxMag, Math.abs((double) expected[i]));
        }
        return maxMag == 0 ? maxDiff : maxDiff / maxMag;
    }

    /** Asserts the criterion of the class comment and returns the error found. */
    static double assertClose(String what, float[] actual, float[] expected, double tol) {
        double err = error(actual, expected);
        LOG.info("{}: max|diff|/max|expected| = {}", what, String.format("%.3e", err));
        assertTrue(err <= tol, () -> what + ": max|diff|/max|expected| = " + err + " exceeds " + tol);
        return err;
    }

    /** Asserts a scalar agrees within relative {@code tol}. */
    static void assertClose(String what, double actual, double expected, double tol) {
        double err = Math.abs(actual - expected) / Math.abs(expected);
        LOG.info("{}: {} vs {} (relative error {})", what, actual, expected, String.format("%.3e", err));
        assertTrue(err <= tol, () -> what + ": " + actual + " vs " + expected + ", relative error " + err);
    }
}
