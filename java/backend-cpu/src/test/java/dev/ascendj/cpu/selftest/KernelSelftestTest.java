package dev.ascendj.cpu.selftest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.core.DType;
import dev.ascendj.core.Ops;
import dev.ascendj.cpu.CpuBackend;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class KernelSelftestTest {

    @Test
    void everyKernelOfTheContractIsCheckedAndPasses() {
        CpuBackend backend = new CpuBackend(1);
        List<KernelSelftest.Row> rows = new KernelSelftest(backend.ops()).run();
        for (KernelSelftest.Row r : rows) {
            assertTrue(r.passed(), () -> r.kernel() + " failed: max rel error " + r.maxRel());
        }
        Set<String> checked = rows.stream().map(r -> r.kernel().split(" ")[0]).collect(Collectors.toSet());
        Set<String> contract = java.util.Arrays.stream(Ops.class.getDeclaredMethods())
                .filter(m -> !m.isDefault() && !m.getName().equals("stream"))
                .map(java.lang.reflect.Method::getName).collect(Collectors.toSet());
        contract.removeAll(checked);
        assertEquals(Set.of(), contract, "kernels the self-test does not check");
    }

    @Test
    void fp16EmulationStaysWithinHalfPrecisionOfTheReference() {
        CpuBackend backend = new CpuBackend(1);
        Ops ops = backend.ops(backend.device(0).defaultStream(), DType.FP16);
        for (KernelSelftest.Row r : new KernelSelftest(ops).run()) {
            assertTrue(Double.isNaN(r.maxRel()) || r.maxRel() < 5e-3, () -> r.kernel() + ": " + r.maxRel());
        }
    }
}
