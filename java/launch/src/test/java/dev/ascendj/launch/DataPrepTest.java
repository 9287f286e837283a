package dev.ascendj.launch;

import dev.ascendj.testkit.CommandRun;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataPrepTest {

    @TempDir
    Path dir;

    @Test
    void convertsToAlpacaConversations() throws Exception {
        Path jsonl = TestPlans.write(dir, "d.jsonl", "{\"instruction\": \"Add the numbers.\", \"input\": \"2, 3\", \"output\": \"5\"}\n\n"
                + "{\"instruction\": \"Say hi \\\"nicely\\\".\", \"output\": \"Hi \\u00e9!\", \"task\": \"greet\"}\n");
        Path out = dir.resolve("o/conv.json");
        assertEquals(2, DataPrep.convert(jsonl, out));
        JsonNode a = new ObjectMapper().readTree(out.toFile());
        assertEquals(2, a.size());
        assertEquals("1", a.get(0).get("id").asText());
        assertEquals("human", a.get(0).at("/conversations/0/from").asText());
        assertEquals("gpt", a.get(0).at("/conversations/1/from").asText());
        assertEquals("Below is an instruction that describes a task, paired with an input that provides further context. Write a response "
                + "that appropriately completes the request.\n\n### Instruction:\nAdd the numbers.\n\n### Input:\n2, 3\n\n### Response:",
                a.get(0).at("/conversations/0/value").asText());
        assertEquals("5", a.get(0).at("/conversations/1/value").asText());
        assertEquals("Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n"
                + "### Instruction:\nSay hi \"nicely\".\n\n### Response:", a.get(1).at("/conversations/0/value").asText());
        assertEquals("Hi \u00e9!", a.get(1).at("/conversations/1/value").asText());
    }

    @Test
    void badLinesAreNamedAndNothingIsWritten() {
        Path jsonl = TestPlans.write(dir, "d.jsonl", "{\"instruction\": \"x\", \"output\": \"y\"}\n{\"instruction\": \"x\"}\n");
        LaunchException e = org.junit.jupiter.api.Assertions.assertThrows(LaunchException.class,
                () -> DataPrep.convert(jsonl, dir.resolve("conv.json")));
        assertTrue(e.getMessage().contains("2") && e.getMessage().contains("output"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("conv.json")));
    }

    @Test
    void commandWritesConversationsAndThePreprocessScript() throws Exception {
        Path jsonl = TestPlans.write(dir, "d.jsonl", "{\"instruction\": \"x\", \"output\": \"y\"}\n");
        Path plan = MindFormersConfigTest.CANONICAL.resolve("llama2_7b_pi8k_4x8_910a.plan.json");
        var r = CommandRun.of(new PrepareDataCommand(), "--jsonl", jsonl.toString(), "--plan", plan.toString(), "--tokenizer",
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
