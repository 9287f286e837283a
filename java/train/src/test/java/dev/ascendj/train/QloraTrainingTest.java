package dev.ascendj.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.core.DType;
import dev.ascendj.core.Nf4Weight;
import dev.ascendj.core.Ops;
import dev.ascendj.cpu.CpuBackend;
import dev.ascendj.data.InstructionRecord;
import dev.ascendj.model.LlamaConfig;
import dev.ascendj.model.LlamaModel;
import dev.ascendj.model.ModelFiles;
import dev.ascendj.model.layers.LoraConfig;
import dev.ascendj.model.layers.Parameter;
import dev.ascendj.model.quant.Nf4Quantizer;
import dev.ascendj.model.tokenizer.LlamaTokenizer;
import dev.ascendj.model.tokenizer.PromptTemplate;
import dev.ascendj.train.batch.InstructionLoader;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * QLoRA against LoRA on the same trained base: a small model is first fully fine-tuned (so that its
 * weights carry what quantization can damage), then adapters are trained on the same data on
 * the FP32 base (LoRA) and on its NF4 quantization (QLoRA), with the same seeds.
 */
class QloraTrainingTest {
    private static final Logger LOG = LogManager.getLogger(QloraTrainingTest.class);
    /** The stated tolerance: QLoRA's loss after training within this many nats of LoRA's (measured: 0.002). */
    static final double TOLERANCE = 0.02;
    private static final long PRETRAIN_STEPS = 60;
    private static final long STEPS = 40;
    private static final double LR = 1e-2;

    private static LlamaTokenizer tokenizer;
    private static List<InstructionRecord> records;
    private final CpuBackend backend = new CpuBackend(1);
    private final Ops ops = backend.ops();

    @BeforeAll
    static void load() {
        tokenizer = LlamaTokenizer.load(Path.of("../../examples/tokenizer/tokenizer.json"));
        records = InstructionRecord.readJsonl(Path.of("../../examples/data/kg-train.jsonl"));
    }

    @AfterAll
    static void close() {
        tokenizer.close();
    }

    private Trainer.Result train(LlamaModel m, List<InstructionRecord> data, Path out, long steps, double lr) {
        TrainOptions o = TrainOptions.builder().steps(steps).microBatch(4).lr(lr).minLr(lr / 10).warmupSteps(2).seed(13)
                .keepCheckpoints(1).build();
        InstructionLoader loader = new InstructionLoader(data, tokenizer, PromptTemplate.llama2(), 64,
                InstructionLoader.Mode.PACKED, o.seed());
        try (Trainer t = new Trainer(m, ops, loader, o, out)) {
            return t.run(false, TrainListener.NONE);
        }
    }

    @Test
    void qloraReachesTheLossOfLoraOnTheSameBase(@TempDir Path tmp) {
        LlamaConfig config = LlamaConfig.builder().hidden(64).intermediate(172).kvHeads(2).vocab(tokenizer.vocabSize()).positions(256).build();
        Path base = tmp.resolve("base");
        try (LlamaModel m = LlamaModel.initialize(config, backend.device(0), 5, null)) {
            train(m, records, tmp.resolve("pretrain"), PRETRAIN_STEPS, 3e-3);
            ModelFiles.save(m, base, DType.FP32);
        }
        LoraConfig lora = new LoraConfig(8, 16, 0f, LoraConfig.ALL_TARGETS);
        double baseLoss;
        double loraLoss;
        double qloraBefore;
        double qloraLoss;
        Map<String, float[]> loraInit = new HashMap<>();
        try (LlamaModel m = ModelFiles.load(base, backend.device(0), lora, 9)) {
            m.trainableParameters().forEach(p -> loraInit.put(p.name(), p.value().toFloatArray()));
            baseLoss = evaluate(m);
            train(m, tuning(), tmp.resolve("lora"), STEPS, LR);
            loraLoss = evaluate(m);
        }
        try (LlamaModel m = ModelFiles.load(base, backend.device(0), lora, 9, new Nf4Quantizer(ops))) {
            assertTrue(m.isQuantized());
            for (Parameter p : m.trainableParameters()) {
                assertArrayEquals(loraInit.get(p.name()), p.value().toFloatArray(), "same initial adapter " + p.name());
            }
            Map<String, byte[]> codes = new HashMap<>();
            m.quantizedWeights().forEach((n, w) -> codes.put(n, bytes(w)));
            qloraBefore = evaluate(m);
            train(m, tuning(), tmp.resolve("qlora"), STEPS, LR);
            qloraLoss = evaluate(m);
            m.quantizedWeights().forEach((n, w) -> assertArrayEquals(codes.get(n), bytes(w), n + " stays frozen"));
        }
        LOG.info("eval loss: base {} -> LoRA {}; NF4 base {} -> QLoRA {}", baseLoss, loraLoss, qloraBefore, qloraLoss);
        assertTrue(loraLoss < baseLoss - 0.1, "LoRA learns: " + baseLoss + " -> " + loraLoss);
        assertTrue(qloraLoss < qloraBefore - 0.1, "QLoRA learns: " + qloraBefore + " -> " + qloraLoss);
        assertEquals(loraLoss, qloraLoss, TOLERANCE, "QLoRA " + qloraLoss + " vs LoRA " + loraLoss);
    }

    /** The examples the adapters learn: few enough to memorise in a few dozen steps. */
    private static List<InstructionRecord> tuning() {
        return records.subList(0, 16);
    }

    /** Mean response-token loss over the tuning examples. */
    private double evaluate(LlamaModel m) {
        return new Evaluator(m, ops).instructions(tuning(), tokenizer, PromptTemplate.llama2(), 64).mean();
    }

    private static byte[] bytes(Nf4Weight w) {
        ByteBuffer b = w.codes().toBytes();
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }
}
