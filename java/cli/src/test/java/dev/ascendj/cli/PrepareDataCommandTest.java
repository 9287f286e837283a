package dev.ascendj.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.testkit.TestFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ascendj prepare-data}: the conversations and a preprocess script that runs as written. */
class PrepareDataCommandTest {

    @TempDir
    Path dir;


    @Test
    void commandWritesConversationsAndThePreprocessScript() throws Exception {
        Path jsonl = TestFiles.write(dir, "d.jsonl", "{\"instruction\": \"x\", \"output\": \"y\"}\n");
        Path plan = LaunchFixtures.CANONICAL.resolve("llama2_7b_pi8k_4x8_910a.plan.json");
        var r = Cli.run("prepare-data", "--jsonl", jsonl.toString(), "--plan", plan.toString(), "--tokenizer",
                "/models/it's/tokenizer.model", "--out", dir.resolve("data").toString());
        assertEquals(0, r.code(), r.err());
        String sh = Files.readString(dir.resolve("data/preprocess.sh"));
        assertTrue(sh.contains("python \"$MINDFORMERS_DIR/mindformers/tools/dataset_preprocess/llama/llama_preprocess.py\" --dataset_type qa "
                + "--input_glob 'conversations.json' --model_file '/models/it'\\''s/tokenizer.model' "
                + "--seq_length 8192 --output_file 'train.mindrecord'"), sh);
        assertFalse(sh.contains(dir.toString()), "no path of this machine: " + sh);
        assertTrue(sh.contains("export PYTHONPATH="), sh);
        // Run as written from another directory, with a stand-in python that shows what it was given.
        Path fakeMf = dir.resolve("mf/mindformers/tools/dataset_preprocess/llama");
        Files.createDirectories(fakeMf);
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Files.writeString(bin.resolve("python"), "#!/bin/sh\necho \"cwd=$(pwd) pythonpath=$PYTHONPATH args=$*\"\ntest -f conversations.json\n");
        Files.setPosixFilePermissions(bin.resolve("python"), java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
        ProcessBuilder pb = new ProcessBuilder("bash", dir.resolve("data/preprocess.sh").toString()).directory(dir.toFile())
                .redirectErrorStream(true);
        pb.environment().put("PATH", bin + ":" + System.getenv("PATH"));
        pb.environment().put("MINDFORMERS_DIR", dir.resolve("mf").toString());
        pb.environment().remove("PYTHONPATH");
        Process run = pb.start();
        String out = new String(run.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(0, run.waitFor(), out);
        assertTrue(out.contains("cwd=" + dir.resolve("data").toRealPath() + " pythonpath=" + dir.resolve("mf")), out);
        Process p = new ProcessBuilder("bash", "-n", dir.resolve("data/preprocess.sh").toString()).start();
        assertEquals(0, p.waitFor());
    }
}
