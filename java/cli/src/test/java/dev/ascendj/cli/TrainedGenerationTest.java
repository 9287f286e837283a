package dev.ascendj.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.core.DType;
import dev.ascendj.core.Device;
import dev.ascendj.core.Ops;
import dev.ascendj.cpu.CpuBackend;
import dev.ascendj.data.InstructionRecord;
import dev.ascendj.model.Generator;
import dev.ascendj.model.LlamaConfig;
import dev.ascendj.model.LlamaModel;
import dev.ascendj.model.ModelFiles;
import dev.ascendj.model.tokenizer.LlamaTokenizer;
import dev.ascendj.model.tokenizer.PromptTemplate;
import dev.ascendj.train.ModelSource;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Greedy generation by the fast decoder equals, token for token, that of the kernel engine (the
 * model's forward pass through the backend) on models trained by the CLI: a fully fine-tuned
 * base, LoRA on it (adapter applied, and merged into the weights), and QLoRA on its NF4
 * quantization (NF4 base with the adapter), prompted with the dev examples.
 */
class TrainedGenerationTest {
    private static final String TOKENIZER = "../../examples/tokenizer/tokenizer.json";
    private static final String DATA = "../../examples/data/kg-train.jsonl";
    private static final String DEV = "../../examples/data/kg-dev.jsonl";

    @TempDir
    static Path tmp;
    private static CpuBackend backend;
    private static LlamaTokenizer tokenizer;
    private static final List<int[]> PROMPTS = new ArrayList<>();

    private static void cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = AscendjCommand.commandLine(java.util.Map.of(), null);
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        assertEquals(0, cl.execute(args), String.join(" ", args) + "\n" + err);
    }

    @BeforeAll
    static void train() throws Exception {
        backend = new CpuBackend(1);
        tokenizer = LlamaTokenizer.load(Path.of(TOKENIZER));
        Path init = tmp.resolve("init");
        LlamaConfig c = LlamaConfig.builder().hidden(64).intermediate(128).kvHeads(2).vocab(1594).positions(128).build();
        try (LlamaModel m = LlamaModel.initialize(c, backend.device(0), 3, null)) {
            ModelFiles.save(m, init, DType.FP32);
        }
        Files.copy(Path.of(TOKENIZER), init.resolve("tokenizer.json"));
        String[] common = {"--data", DATA, "--seq-len", "64", "--batch", "4", "--preview", "0", "--threads", "2"};
        cli(concat(new String[] {"finetune", "--model", init.toString(), "--method", "full", "--steps", "40", "--lr", "3e-3",
            "--out", tmp.resolve("base").toString()}, common));
        cli(concat(new String[] {"finetune", "--model", tmp.resolve("base/model").toString(), "--method", "lora",
            "--lora-rank", "4", "--steps", "8", "--lr", "5e-3", "--out", tmp.resolve("lora").toString()}, common));
        cli("quantize", "--model", tmp.resolve("base/model").toString(), "--out", tmp.resolve("nf4").toString());
        cli(concat(new String[] {"finetune", "--model", tmp.resolve("nf4").toString(), "--method", "qlora",
            "--lora-rank", "4", "--steps", "8", "--lr", "5e-3", "--out", tmp.resolve("qlora").toString()}, common));
        List<InstructionRecord> dev = InstructionRecord.readJsonl(Path.of(DEV));
        for (InstructionRecord r : dev.subList(0, 6)) {
            PROMPTS.add(PromptTemplate.llama2().encodePrompt(tokenizer, r.instruction(), r.input()));
        }
    }

    @AfterAll
    static void close() {
        tokenizer.close();
        backend.close();
    }

    private static String[] concat(String[] a, String[] b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** The greedy answers of both engines, which must agree; returns them. */
    private static List<String> sameTokens(LlamaModel m, String what) {
        Ops ops = backend.ops();
        Generator reference = new Generator(m, ops, tokenizer.vocabSize(), Generator.Engine.KERNELS, 1);
        Generator fast = new Generator(m, ops, tokenizer.vocabSize(), Generator.Engine.FAST, 2);
        List<String> answers = new ArrayList<>();
        for (int[] p : PROMPTS) {
            int[] expected = reference.generate(p, tokenizer.eosId(), Generator.Options.greedy(24));
            assertArrayEquals(expected, fast.generate(p, tokenizer.eosId(), Generator.Options.greedy(24)), what);
            answers.add(tokenizer.decode(expected, true));
        }
        return answers;
    }

    @Test
    void fastGreedyDecodingEqualsTheKernelEngineOnTrainedModels() {
        Device dev = backend.device(0);
        Set<List<String>> distinct = new HashSet<>();
        try (LlamaModel base = ModelSource.load(tmp.resolve("base/model").toString(), null, null, dev, 0)) {
            distinct.add(sameTokens(base, "fully fine-tuned base"));
        }
        try (LlamaModel lora = ModelSource.load(tmp.resolve("base/model").toString(), tmp.resolve("lora/adapter"), null,
                dev, 0)) {
            distinct.add(sameTokens(lora, "base + LoRA adapter"));
            ModelFiles.mergeAdapters(lora, backend.ops());
            sameTokens(lora, "LoRA merged into the base");
        }
        try (LlamaModel qlora = ModelSource.load(tmp.resolve("nf4").toString(), tmp.resolve("qlora/adapter"), null, dev, 0)) {
            assertTrue(qlora.isQuantized());
            distinct.add(sameTokens(qlora, "NF4 base + QLoRA adapter"));
        }
        assertTrue(distinct.size() > 1, "the variants answer differently, so the comparison is not vacuous: " + distinct);
    }
}
