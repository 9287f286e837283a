package dev.ascendj.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.cpu.CpuThreads;
import dev.ascendj.model.LlamaConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The executor benchmark's plumbing on a tiny model, one step per shape (no speed is asserted). */
@Timeout(180)
class ExecutorBenchTest {
    private static final Path ROOT = Path.of("../..").toAbsolutePath().normalize();

    /** Four layers for four stages; the shipped tokenizer's 32000 ids need the full vocabulary. */
    private static final LlamaConfig TINY = LlamaConfig.builder().hidden(16).intermediate(32).layers(4).kvHeads(2)
            .vocab(32000).build();

    private static ExecutorBench.Config tiny(String shapes, int globalBatch) {
        return tiny(shapes, globalBatch, 1);
    }

    private static ExecutorBench.Config tiny(String shapes, int globalBatch, int processes) {
        return new ExecutorBench.Config("tiny", TINY, ROOT.resolve("examples/tokenizer/tokenizer.json"),
                ROOT.resolve("examples/data/kg-train.jsonl"), 16, globalBatch, 2, ExecutorShape.parseList(shapes),
                List.of(1), List.of(1), 0, 1, 1e-3, 7, processes);
    }

    @Test
    void aShapeOverTwoProcessesTrainsTheSameAsInOne() {
        ExecutorBench.Result r = new ExecutorBench(tiny("dp2-pp2", 4, 2)).run();
        assertEquals(2, r.rows().size());
        ExecutorBench.Row one = r.rows().get(0);
        ExecutorBench.Row two = r.rows().get(1);
        assertEquals(1, one.processes());
        assertEquals(2, two.processes());
        assertEquals(one.losses(), two.losses(), "the process boundary changes no bit");
        assertTrue(ExecutorReport.table(r).contains(two.shape().label() + " over 2 processes vs in 1 process"),
                ExecutorReport.table(r));
    }

    @Test
    void everyShapeRunsThePlannedLayoutOnTheSameData() {
        int threadsBefore = CpuThreads.threads();
        ExecutorBench.Result r = new ExecutorBench(tiny("1,dp1,dp2,tp2,pp2,dp2-tp2-pp2", 4)).run();
        assertEquals(threadsBefore, CpuThreads.threads(), "the kernel thread count is restored");
        assertEquals(6, r.rows().size());
        assertEquals(64, r.tokensPerStep());
        double reference = r.rows().get(0).losses().get(0);
        for (ExecutorBench.Row row : r.rows()) {
            ExecutorShape s = row.shape();
            assertEquals(s.dp(), row.plan().dp(), row.toString());
            assertEquals(s.tp(), row.plan().tp(), row.toString());
            assertEquals(s.pp(), row.plan().pp(), row.toString());
            assertEquals(s.ranks(), row.plan().cluster().deviceCount(), "planned for the shape's virtual devices");
            assertEquals(4, s.dp() * row.plan().microBatchSize() * row.plan().microBatches(), "same global batch");
            assertEquals(s.pp() > 1 ? 2 : 1, row.plan().microBatches());
            assertEquals(4, ExecutorBench.stageLayers(row.plan()).stream().mapToInt(Integer::intValue).sum());
            assertTrue(row.stepSeconds() > 0 && row.plan().stepSeconds() > 0, row.toString());
            assertEquals(64 / row.stepSeconds(), row.tokensPerSecond(), 1e-9 * row.tokensPerSecond());
            assertEquals(1, row.losses().size());
            // Same initial weights and the same batch: the first loss agrees across partitions.
            assertEquals(reference, row.losses().get(0), 1e-5 * reference, s.label());
            if (s.singleDevice()) {
                assertEquals(row.threadsPerRank() == r.profile().threads(), row.predicted());
                assertTrue(Double.isNaN(row.busyShare()));
            } else {
                assertTrue(row.predicted());
                assertEquals(row.stepSeconds() / row.plan().stepSeconds(), row.measuredOverPredicted(), 1e-12);
                assertTrue(row.busyShare() > 0 && row.busyShare() <= 1.0 + 1e-9, "busy share " + row.busyShare());
            }
        }
        assertEquals(List.of(2, 2), ExecutorBench.stageLayers(r.rows().get(5).plan()));

        List<ExecutorReport.Comparison> cmp = ExecutorReport.comparisons(r);
        assertTrue(cmp.stream().anyMatch(c -> c.what().startsWith("dp2 (2 ranks x 1 kernel thread) vs 1 device (1")),
                cmp.toString());
        assertTrue(cmp.stream().anyMatch(c -> c.what().startsWith("executor on 1 rank")), cmp.toString());
        for (ExecutorReport.Comparison c : cmp) {
            assertEquals(c.first().tokensPerSecond() / c.second().tokensPerSecond(), c.ratio(), 1e-12);
        }

        String table = ExecutorReport.table(r);
        for (String label : List.of("1 device", "dp1", "dp2", "tp2", "pp2", "dp2 tp2 pp2", "overhead: dp2")) {
            assertTrue(table.contains(label), label + " missing from\n" + table);
        }
        Map<String, Object> m = ExecutorReport.figures(r).metrics();
        assertEquals(6, ((List<?>) m.get("runs")).size());
        assertEquals(64L, m.get("tokensPerStep"));
    }

    @Test
    void aGlobalBatchThatDoesNotSplitIsRefusedBeforeAnythingRuns() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new ExecutorBench(tiny("dp2-pp2", 6)).run());
        assertTrue(e.getMessage().contains("shape dp2 pp2") && e.getMessage().contains("6 sequences"), e.getMessage());
    }

    @Test
    void badConfigurationsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new ExecutorBench.Config("tiny", TINY, ROOT, ROOT, 16, 4, 2,
                List.of(), List.of(1), List.of(1), 0, 1, 1e-3, 7, 1));
        assertThrows(IllegalArgumentException.class, () -> new ExecutorBench.Config("tiny", TINY, ROOT, ROOT, 16, 4, 2,
                List.of(ExecutorShape.single()), List.of(0), List.of(1), 0, 1, 1e-3, 7, 1));
        assertThrows(IllegalArgumentException.class, () -> new ExecutorBench.Config("tiny", TINY, ROOT, ROOT, 16, 4, 2,
                List.of(ExecutorShape.single()), List.of(1), List.of(1), 0, 0, 1e-3, 7, 1));
    }

    @Test
    void shapesParse() {
        assertEquals(ExecutorShape.single(), ExecutorShape.parse("1"));
        assertEquals(new ExecutorShape(4, 2, 4, false), ExecutorShape.parse("dp4-tp2-pp4"));
        assertEquals(new ExecutorShape(2, 2, 2, false), ExecutorShape.parse("pp2xtp2_dp2"));
        assertEquals(new ExecutorShape(1, 2, 1, false), ExecutorShape.parse(" TP2 "));
        assertEquals("dp1", ExecutorShape.parse("dp1").label());
        assertFalse(ExecutorShape.parse("dp1").singleDevice());
        assertEquals(6, ExecutorShape.parseList(ExecutorShape.DEFAULT_SHAPES).size());
        for (String bad : List.of("", "dp", "dp2-dp2", "dp0", "dp2--tp2", "dp2-", "gpu2", "2")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ExecutorShape.parse(bad), bad);
            assertTrue(e.getMessage().contains("'" + bad + "'"), e.getMessage());
        }
    }
}
