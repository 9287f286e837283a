package dev.ascendj.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.core.Nf4;
import dev.ascendj.model.LlamaConfig;
import dev.ascendj.model.LlamaConfigs;
import org.junit.jupiter.api.Test;

/** The planner's QLoRA figures against the implementation, and the notes a QLoRA or long-context plan carries. */
class PlanQloraTest {

    @Test
    void nf4BytesPerParameterIsWhatTheQuantizerStores() {
        long n = 4096L * 11008; // a LLaMA2-7B MLP matrix
        assertEquals(Nf4.doubleQuantizedBytes(n) / (double) n, CostModel.NF4_BYTES_PER_PARAM, 1e-4);
    }

    @Test
    void qloraAndInterpolatedPlansSayWhichEngineRunsThemAndHowFarPositionsStretch() {
        LlamaConfig pi = LlamaConfigs.preset("llama2-7b").withPositionInterpolation(4);
        SearchResult r = Fixtures.search(new PlanRequest("llama2-7b", pi, ClusterSpec.parse("4x8-910a"),
                new JobSpec(Method.QLORA, null, null, null, 16384, 64L, null, null, null), Engine.NATIVE), FixedDegrees.NONE, 1);
        Plan p = r.best().orElseThrow();
        assertTrue(p.estimate().fits());
        assertTrue(p.notes().stream().anyMatch(n -> n.startsWith("Engine: MindFormers cannot run QLoRA")), p.notes().toString());
        assertTrue(p.notes().stream().anyMatch(n -> n.contains("context 4096 -> 16384 positions")), p.notes().toString());
        MemoryBreakdown m = p.estimate().memoryByStage().get(0);
        assertTrue(m.adapters() > 0 && m.optimizerStates() > 0 && m.gradients() == 0, m.toString());
    }
}
