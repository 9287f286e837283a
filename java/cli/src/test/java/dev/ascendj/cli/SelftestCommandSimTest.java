package dev.ascendj.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.acl.Cann;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code ascendj selftest --backend ascend} over the simulated CANN (the surefire executions
 * simulator-910a and simulator-910b of this module): every aclnn kernel of the Ascend backend,
 * through the real JNI glue, against the double-precision reference.
 */
class SelftestCommandSimTest {
    @Test
    void everyAscendKernelMatchesTheReference() {
        Assumptions.assumeTrue(Cann.isSimulator() && Cann.isAvailable(), "run by the simulator executions");
        CommandLine cl = AscendjCommand.commandLine(java.util.Map.of(), null);
        StringWriter out = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(new StringWriter()));
        int code = cl.execute("selftest", "--backend", "ascend");
        String text = out.toString();
        assertEquals(0, code, text);
        String soc = System.getenv("ASCENDJ_SIM_SOC");
        assertTrue(text.startsWith("Ascend backend: " + soc + " (simulated CANN), 8 NPU(s), "
                + (soc.startsWith("Ascend910B") ? "fused" : "composed") + " operators"), text);
        assertTrue(text.contains("25 kernels checked against double precision: all passed"), text);
        assertTrue(text.contains("flashAttentionScoreGrad"), text);
    }
}
