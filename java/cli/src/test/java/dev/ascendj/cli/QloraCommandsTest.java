package dev.ascendj.cli;

import static dev.ascendj.cli.Cli.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.core.DType;
import dev.ascendj.cpu.CpuBackend;
import dev.ascendj.model.LlamaConfig;
import dev.ascendj.model.LlamaConfigs;
import dev.ascendj.model.LlamaModel;
import dev.ascendj.model.ModelFiles;
import dev.ascendj.model.io.Checkpoint;
import dev.ascendj.testkit.CommandRun;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** quantize, finetune --method qlora and --rope-factor, and their errors, end to end on a tiny model. */
class QloraCommandsTest {
    private static final String TOKENIZER = "../../examples/tokenizer/tokenizer.json";
    private static final String DATA = "../../examples/data/kg-train.jsonl";
    private static final String DEV = "../../examples/data/kg-dev.jsonl";

    @TempDir
    static Path tmp;
    static Path dense;

    @BeforeAll
    static void tinyModel() throws Exception {
        dense = tmp.resolve("dense");
        LlamaConfig c = LlamaConfig.builder().hidden(64).intermediate(128).kvHeads(2).vocab(1594).build();
        try (LlamaModel m = LlamaModel.initialize(c, new CpuBackend(1).device(0), 7, null)) {
            ModelFiles.save(m, dense, DType.FP32);
        }
        Files.copy(Path.of(TOKENIZER), dense.resolve("tokenizer.json"));
    }

    /** A short finetune command line; {@code extra} (option, value pairs) overrides the defaults. */
    private static String[] finetune(Path model, String method, Path out, String... extra) {
        java.util.Map<String, String> opts = new java.util.LinkedHashMap<>();
        String[] base = {"--model", model.toString(), "--data", DATA, "--method", method, "--steps", "2",
            "--seq-len", "32", "--batch", "2", "--preview", "0", "--lora-rank", "2", "--threads", "1",
            "--out", out.toString()};
        for (int i = 0; i < base.length; i += 2) {
            opts.put(base[i], base[i + 1]);
        }
        for (int i = 0; i < extra.length; i += 2) {
            opts.put(extra[i], extra[i + 1]);
        }
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("finetune"));
        opts.forEach((k, v) -> {
            args.add(k);
            args.add(v);
        });
        return args.toArray(new String[0]);
    }

    @Test
    void quantizeThenQloraWithPositionInterpolationThenEvaluate() throws Exception {
        Path q = tmp.resolve("nf4");
        CommandRun r = run("quantize", "--model", dense.toString(), "--out", q.toString(), "--threads", "1");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("quantized 14 linear weights") && r.out().contains("bytes per parameter"), r.out());
        assertTrue(Files.exists(q.resolve("tokenizer.json")));
        try (Checkpoint ck = Checkpoint.open(q)) {
            assertTrue(ck.contains("model.layers.0.mlp.up_proj.weight.nf4"));
            assertEquals("nf4-dq", ck.metadata().get("quantization"));
        }

        Path out = tmp.resolve("qlora");
        r = run(finetune(q, "qlora", out, "--rope-scaling", "linear", "--rope-factor", "2", "--seq-len", "128"));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("QLoRA rank 2") && r.out().contains("NF4 base") && r.out().contains("0.51"), r.out());
        assertTrue(r.out().contains("context 64 -> 128 positions"), r.out());
        assertTrue(r.out().contains("peak memory"), r.out());
        LlamaConfig trained = LlamaConfigs.read(out.resolve("adapter/config.json"));
        assertEquals(2.0, trained.ropeScaling().factor());
        assertEquals(128, trained.maxPositionEmbeddings(), "max_position_embeddings extended in the saved config");
        assertEquals(64, trained.ropeScaling().originalMaxPositionEmbeddings());
        assertTrue(Files.exists(out.resolve("adapter/adapter_model.safetensors")));

        r = run("evaluate", "--model", q.toString(), "--adapter", out.resolve("adapter").toString(), "--data", DEV,
                "--seq-len", "128", "--json", "--threads", "1");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("\"perplexity\""), r.out());
    }

    @Test
    void qloraQuantizesADenseBaseWhileLoadingAndLoraStillWorks() {
        CommandRun r = run(finetune(dense, "qlora", tmp.resolve("qlora-dense")));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("NF4 base"), r.out());
        r = run(finetune(dense, "lora", tmp.resolve("lora-dense")));
        assertEquals(0, r.code(), r.err());
        assertFalse(r.out().contains("NF4 base"), r.out());
        r = run(finetune(dense, "full", tmp.resolve("full-dense"), "--rope-factor", "4"));
        assertEquals(0, r.code(), r.err());
        assertEquals(256, LlamaConfigs.read(tmp.resolve("full-dense/model/config.json")).maxPositionEmbeddings());
    }

    @Test
    void estimateFor7b() {
        CommandRun r = run("quantize", "--model", "llama2-7b", "--estimate");
        assertEquals(0, r.code(), r.err());
        // 32 layers x (4 x 4096^2 + 3 x 4096 x 11008) weights; 4 bits + 8/64 + 32/(64*256) bits each.
        assertTrue(r.out().contains("6,476,005,376 parameters of the linear layers in 3,340,772,224 bytes (0.5159"),
                r.out());
        assertEquals(2, run("quantize", "--model", "llama2-7b").code(), "--out is needed to quantize");
    }

    @Test
    void aQuantizedBaseNeedsQlora() {
        Path q = tmp.resolve("nf4-only");
        assertEquals(0, run("quantize", "--model", dense.toString(), "--out", q.toString()).code());
        CommandRun r = run(finetune(q, "lora", tmp.resolve("bad")));
        assertEquals(2, r.code());
        assertTrue(r.err().contains("NF4-quantized; fine-tune it with --method qlora"), r.err());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "zero factor        | --rope-factor | 0        | --rope-factor must be a finite number >= 1",
        "negative factor    | --rope-factor | -2       | --rope-factor must be a finite number >= 1",
        "NaN factor         | --rope-factor | NaN      | got NaN",
        "not a number       | --rope-factor | four     | 'four' is not a double",
        "other scaling type | --rope-scaling| dynamic  | only 'linear'",
        "unknown method     | --method      | qlora8   | --method must be full, lora or qlora",
    })
    void badOptionsGiveClearErrors(String name, String option, String value, String expected) {
        CommandRun r = run(finetune(dense, "qlora", tmp.resolve("never"), option, value));
        assertEquals(2, r.code(), r.out() + r.err());
        assertTrue(r.err().contains(expected), r.err());
        assertFalse(Files.exists(tmp.resolve("never")), "nothing written");
    }

    @Test
    void scalingTypeWithoutFactorIsRejected() {
        CommandRun r = run(finetune(dense, "qlora", tmp.resolve("never2"), "--rope-scaling", "linear"));
        assertEquals(2, r.code());
        assertTrue(r.err().contains("needs --rope-factor"), r.err());
    }

    @Test
    void positionInterpolationExperimentWritesItsFigures() throws Exception {
        Path out = tmp.resolve("pi");
        CommandRun r = run("experiment", "position-interpolation", "--data", DATA, "--eval-data", DEV, "--tokenizer", TOKENIZER,
                "--length", "16", "--factor", "2", "--pretrain-steps", "3", "--finetune-steps", "2", "--batch", "4",
                "--hidden", "32", "--layers", "1", "--heads", "2", "--threads", "1", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        for (String s : new String[] {"(a) at 32, extrapolating", "(b) at 32, interpolated", "(c) at 32, interpolated",
            "(d) at 32", "S = 16", "S = 32"}) {
            assertTrue(r.out().contains(s), s + " in " + r.out());
        }
        assertTrue(Files.size(out.resolve("position-interpolation.png")) > 1000);
        String json = Files.readString(out.resolve("position-interpolation.json"));
        assertTrue(json.contains("\"extrapolated\"") && json.contains("\"attentionMemory\""), json);
        CommandRun bad = run("experiment", "position-interpolation", "--factor", "0", "--out", out.toString());
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("--factor must be a finite number >= 1"), bad.err());
    }
}
