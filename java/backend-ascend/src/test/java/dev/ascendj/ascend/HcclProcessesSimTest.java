package dev.ascendj.ascend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * HCCL over the simulated CANN between processes of this machine: each rank a JVM of its own
 * ({@link HcclRankProcess}), joined through root information carried between them as bytes, and
 * HCCL's timeouts when a rank never arrives (HCCL_EXEC_TIMEOUT) or never joins
 * (HCCL_CONNECT_TIMEOUT), shortened here by the simulator's millisecond settings. Children are
 * bounded by a timeout and destroyed when a test ends.
 */
class HcclProcessesSimTest {
    private static final long PROCESS_TIMEOUT_SECONDS = 120;

    @BeforeEach
    void simulator() {
        SimulatedCann.assume();
        // HCCL does not depend on the SoC: the child processes run once, in the 910A run.
        org.junit.jupiter.api.Assumptions.assumeTrue(SimulatedCann.atlasTraining(), "runs in the simulator-910a run");
    }

    private record Exit(int code, String out) {
    }

    /** Starts one JVM per rank and waits for all of them; output of each is stdout and stderr merged. */
    private static List<Exit> run(Path dir, String scenario, int n, Map<String, String> env) throws Exception {
        Path root = dir.resolve("root-info.hex");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<Process> procs = new ArrayList<>();
        List<Path> logs = new ArrayList<>();
        try {
            for (int r = 0; r < n; r++) {
                Path log = dir.resolve("rank" + r + ".log");
                ProcessBuilder pb = new ProcessBuilder(java, "-Xmx256m", "-cp", System.getProperty("java.class.path"),
                        HcclRankProcess.class.getName(), scenario, Integer.toString(r), Integer.toString(n),
                        root.toString());
                pb.environment().putAll(env);
                pb.redirectErrorStream(true).redirectOutput(log.toFile());
                procs.add(pb.start());
                logs.add(log);
            }
            List<Exit> exits = new ArrayList<>();
            for (int r = 0; r < n; r++) {
                Process p = procs.get(r);
                boolean done = p.waitFor(PROCESS_TIMEOUT_SECONDS, TimeUnit.SECONDS);
                String out = read(logs.get(r));
                if (!done) {
                    throw new AssertionError("rank " + r + " did not finish in " + PROCESS_TIMEOUT_SECONDS + " s:\n" + out);
                }
                exits.add(new Exit(p.exitValue(), out));
            }
            return exits;
        } finally {
            for (Process p : procs) {
                p.destroyForcibly();
                p.waitFor(30, TimeUnit.SECONDS);
            }
        }
    }

    private static String read(Path log) throws IOException {
        return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
    }

    @Test
    void twoProcessesFormAGroupFromRootInformationCarriedAsBytes(@TempDir Path dir) throws Exception {
        List<Exit> exits = run(dir, "collectives", 2, Map.of());
        for (int r = 0; r < 2; r++) {
            Exit e = exits.get(r);
            assertEquals(0, e.code(), e.out());
            assertTrue(e.out().contains("result [3.0, 30.0] [1.0, 10.0, 2.0, 20.0] [0.0]"), e.out());
        }
    }

    @Test
    void aRankThatNeverArrivesFailsTheOthersAfterTheExecTimeout(@TempDir Path dir) throws Exception {
        List<Exit> exits = run(dir, "absent", 2, Map.of("ASCENDJ_SIM_HCCL_EXEC_TIMEOUT_MS", "1500"));
        Exit waiting = exits.get(0);
        assertEquals(1, waiting.code(), waiting.out());
        assertTrue(waiting.out().contains("AclException: aclrtSynchronizeStream failed"), waiting.out());
        assertTrue(waiting.out().contains("HcclAllReduce (collective #0) of rank 0 waited 1500 ms for ranks 1 "
                + "(HCCL_EXEC_TIMEOUT)"), waiting.out());
    }

    @Test
    void aRankThatNeverJoinsFailsInitialisationAfterTheConnectTimeout(@TempDir Path dir) throws Exception {
        Exit alone = runAlone(dir);
        assertEquals(1, alone.code(), alone.out());
        assertTrue(alone.out().contains("HcclCommInitRootInfo failed: HCCL_E_TIMEOUT (9)"), alone.out());
        assertTrue(alone.out().contains("missing: 1 (HCCL_CONNECT_TIMEOUT)"), alone.out());
    }

    /** Rank 0 of a group of two whose rank 1 is never started. */
    private static Exit runAlone(Path dir) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path log = dir.resolve("rank0.log");
        ProcessBuilder pb = new ProcessBuilder(java, "-Xmx256m", "-cp", System.getProperty("java.class.path"),
                HcclRankProcess.class.getName(), "collectives", "0", "2", dir.resolve("root-info.hex").toString());
        pb.environment().put("ASCENDJ_SIM_HCCL_CONNECT_TIMEOUT_MS", "1000");
        pb.redirectErrorStream(true).redirectOutput(log.toFile());
        Process p = pb.start();
        try {
            if (!p.waitFor(PROCESS_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                throw new AssertionError("rank 0 did not finish:\n" + read(log));
            }
            return new Exit(p.exitValue(), read(log));
        } finally {
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
        }
    }
}
