package dev.ascendj.ascend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Failing ranks on the HCCL fabric, over the simulated CANN in a JVM of their own
 * ({@link FabricFailureProcess}): HCCL cannot cancel a collective, so work that waits for a failed
 * rank stays queued until HCCL's exec timeout (shortened here to 4 s) ends it, and it must not
 * hold up the other tests' NPUs. Checked: a rank that throws makes every other rank of the job
 * fail at once with the reason (not after a timeout), also on another node through the
 * rendezvous; a rank that stops answering makes its peer give up after the fabric's timeout,
 * naming the group, the collective and the rank; a node that never joins makes the others' group
 * creation fail after HCCL's connect timeout (shortened to 3 s), naming the group; and every
 * communicator, stream, event, aclnn descriptor and block of device memory the jobs made is given
 * back, the stuck work's and the half-made group's included.
 */
class HcclFabricFailureSimTest {
    @Test
    void failingRanksStopTheJobAtOnceAndEverythingIsGivenBack(@TempDir Path dir) throws Exception {
        SimulatedCann.assume();
        Assumptions.assumeTrue(SimulatedCann.atlasTraining(), "runs in the simulator-910a run");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path log = dir.resolve("out.log");
        ProcessBuilder pb = new ProcessBuilder(java, "-Xmx256m", "-cp", System.getProperty("java.class.path"),
                FabricFailureProcess.class.getName());
        pb.environment().put("ASCENDJ_SIM_DEVICES", "12");
        pb.environment().put("ASCENDJ_SIM_HCCL_EXEC_TIMEOUT_MS", "4000");
        pb.environment().put("ASCENDJ_SIM_HCCL_CONNECT_TIMEOUT_MS", "3000");
        pb.redirectErrorStream(true).redirectOutput(log.toFile());
        Process p = pb.start();
        String out;
        try {
            boolean done = p.waitFor(180, TimeUnit.SECONDS);
            out = Files.readString(log, StandardCharsets.UTF_8);
            assertTrue(done, "the failure jobs did not finish:\n" + out);
        } finally {
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
        }
        assertEquals(0, p.exitValue(), out);

        // One process: rank 2 fails first; every other rank stops with its reason, none timed out.
        assertTrue(out.contains("abort node 0 first: 2"), out);
        assertTrue(out.contains("abort rank 2: IllegalStateException: rank 2 fails on purpose"), out);
        for (int r : new int[] {0, 1, 3}) {
            assertTrue(out.contains("abort rank " + r + ": CommunicatorException: ")
                    && line(out, "abort rank " + r + ":").contains(
                            "the job has failed: rank 2 on node 0 failed: IllegalStateException: rank 2 fails on purpose"),
                    out);
        }
        assertTrue(out.contains("abort node 0 still running: []"), out);

        // Two nodes: node 0 hears of rank 3's failure on node 1 through the rendezvous.
        for (int r : new int[] {0, 1, 2}) {
            assertTrue(line(out, "relay rank " + r + ":").contains("the job has failed: rank 3 on node 1 failed:"
                    + " IllegalStateException: rank 3 fails on purpose"), out);
        }
        assertTrue(out.contains("relay node 1 first: 3"), out);

        // A rank that stops answering: its peer gives up after the fabric's timeout, naming what it waited in.
        assertTrue(out.contains("timeout node 0 first: 0"), out);
        assertTrue(line(out, "timeout rank 0:").contains("allReduce #2 of group 'world' (ranks [0, 1]) on rank 0"
                + " waited 1 s for the other ranks of the group and gave up"), out);

        // A node that never joins: the group's creation gives up after the connect timeout, naming it and
        // the missing ranks (node 1's 2 and 3; rank 1 too when its own wait ended a moment earlier), in
        // the same words whether rank 0's wait ended first or it hears of rank 1's.
        String join = line(out, "join failed:");
        assertTrue(join.startsWith("join failed: CommunicatorException: group 'world' (ranks [0, 1, 2, 3]) could not be"
                + " created: ") && join.contains("missing: ") && join.contains("2, 3 (HCCL_CONNECT_TIMEOUT)"), out);

        for (String job : List.of("abort node 0", "relay node 0", "relay node 1", "timeout node 0", "join node 0")) {
            assertTrue(out.contains(job + " released: true"), out);
        }
        // Once released, no communicator, event, send stream, descriptor or device block is left.
        String released = line(out, "live after the release:");
        assertTrue(!released.contains("hccl-comm") && !released.contains("event") && !released.contains("aclnn")
                && released.contains("12 stream") && released.endsWith("device bytes 0"), out);
        assertEquals("live after the backend closed: nothing live; device bytes 0",
                line(out, "live after the backend closed:"), out);
    }

    private static String line(String out, String prefix) {
        return out.lines().filter(l -> l.startsWith(prefix)).findFirst().orElse("(no line '" + prefix + "')");
    }
}
