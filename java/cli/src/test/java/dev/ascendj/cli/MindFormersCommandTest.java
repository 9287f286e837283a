package dev.ascendj.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ascendj mindformers}: writes the canonical config of a plan and checks configs. */
class MindFormersCommandTest {

    @TempDir
    Path dir;


    @Test
    void commandWritesAndChecks() throws IOException {
        Path out = dir.resolve("run.yaml");
        Path plan = LaunchFixtures.CANONICAL.resolve("llama2_7b_full_4x8_910a.plan.json");
        var r = Cli.run("mindformers", "--plan", plan.toString(), "--model", "llama2-7b", "--data", "/data/alpaca/mindrecord",
                "--load-checkpoint", "/models/llama2_7b/llama2_7b.ckpt", "--vocab-file", "/models/llama2_7b/tokenizer.model", "--output-dir", "/shared/job1/output", "--shared-output",
                "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(Files.readString(LaunchFixtures.CANONICAL.resolve("llama2_7b_full_4x8_910a.yaml")), Files.readString(out));
        r = Cli.run("mindformers", "--check", out.toString(), "--plan", plan.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        // Accepted, with the shared-disk rule of a whole checkpoint on more than 8 devices as the one warning.
        assertEquals("warning: auto_trans_ckpt: True with 32 devices: MindFormers 1.0 starts only if output_dir (/shared/job1/output) is "
                + "on a mount of type nfs or dpc (run_mindformer.py, tools/utils.py check_shared_disk); ascendj preflight --config checks it "
                + "on every server\n" + out + ": OK (0 errors, 1 warning)\n", r.out());
        Files.writeString(out, Files.readString(out).replace("pipeline_stage: 4", "pipeline_stage: 2"));
        r = Cli.run("mindformers", "--check", out.toString(), "--plan", plan.toString());
        assertEquals(1, r.code(), r.out());
        List<String> lines = r.out().lines().toList();
        assertTrue(lines.contains("error: parallel_config.pipeline_stage: 2 differs from the plan's 4"), r.out());
        long errors = lines.stream().filter(l -> l.startsWith("error: ")).count();
        assertTrue(errors >= 2, "the device count and the plan's stages: " + r.out());
        assertEquals(out + ": refused (" + errors + " errors, 1 warning)", lines.get(lines.size() - 1));
    }
}
