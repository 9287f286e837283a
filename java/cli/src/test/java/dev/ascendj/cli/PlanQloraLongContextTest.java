package dev.ascendj.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.plan.Plan;
import dev.ascendj.testkit.CommandRun;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ascendj plan for QLoRA at 4x the context (position interpolation) on the reference cluster. */
class PlanQloraLongContextTest {

    @Test
    void qloraAt16kOn4x8Ascend910aFitsAndSaysWhichEngineCanRunIt(@TempDir Path tmp) {
        Path save = tmp.resolve("plan.json");
        CommandRun r = PlanCommandTest.plan("--cluster", "4x8-910a", "--model", "llama2-7b", "--method", "qlora",
                "--seq-len", "16384", "--global-batch", "64", "--top", "3", "--explain", "--save", save.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("position interpolation assumed") && r.out().contains("factor: 4.0"), r.out());
        assertTrue(r.out().contains("memory per device") && r.out().contains("adapters"), r.out());
        assertTrue(r.out().contains("MindFormers cannot run QLoRA"), r.out());
        Plan p = Plan.read(save);
        assertEquals(16384, p.modelConfig().maxSequenceLength());
        assertEquals(4.0, p.modelConfig().ropeScaling().factor());
        assertEquals(4096, p.modelConfig().originalMaxPositionEmbeddings());
        assertTrue(p.estimate().fits());
        var mem = p.estimate().memoryByStage().get(0);
        assertTrue(mem.weights() < mem.activations(), "at 16k tokens the NF4 base is small next to the activations");
        assertTrue(p.notes().stream().anyMatch(n -> n.startsWith("Position interpolation: RoPE positions divided by 4.0")));
        // The MindFormers engine refuses it, naming the engine that can.
        OperatorRun mf = operator("mindformers", "--plan", save.toString(), "--model", "llama2-7b", "--data", "/data/x", "--out",
                tmp.resolve("x.yaml").toString());
        assertTrue(mf.code() != 0 && mf.err().contains("qlora has no MindFormers equivalent"), mf.err());
    }

    @Test
    void anExplicitFactorMustCoverTheSequenceAndBeValid() {
        CommandRun r = PlanCommandTest.plan("--cluster", "4x8-910a", "--model", "llama2-7b", "--method", "qlora",
                "--seq-len", "16384", "--global-batch", "64", "--rope-factor", "2");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("16384 exceeds the model's 8192 positions") && r.err().contains("factor: 4"), r.err());
        for (String bad : new String[] {"0", "-1", "NaN"}) {
            r = PlanCommandTest.plan("--cluster", "4x8-910a", "--model", "llama2-7b", "--method", "qlora", "--seq-len",
                    "16384", "--global-batch", "64", "--rope-factor", bad);
            assertEquals(2, r.code(), bad);
            assertTrue(r.err().contains("--rope-factor must be a finite number >= 1"), r.err());
        }
    }

    /** Exit code and streams of an operator command run through the root command. */
    record OperatorRun(int code, String out, String err) {
    }

    static OperatorRun operator(String... args) {
        CommandRun r = Cli.run(args);
        return new OperatorRun(r.code(), r.out(), r.err());
    }
}
