package dev.ascendj.launch;

import dev.ascendj.model.LlamaConfig;
import dev.ascendj.model.LlamaConfigs;
import dev.ascendj.plan.ClusterSpec;
import dev.ascendj.plan.FixedDegrees;
import dev.ascendj.plan.HardwareCatalog;
import dev.ascendj.plan.JobSpec;
import dev.ascendj.plan.Plan;
import dev.ascendj.plan.PlanRequest;
import dev.ascendj.plan.Planner;
import dev.ascendj.plan.Recompute;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Plans and files shared by the tests. */
final class TestPlans {
    private TestPlans() {
    }

    /** Set -Dascendj.golden.update=true to rewrite golden files instead of comparing. */
    static final boolean UPDATE = Boolean.getBoolean("ascendj.golden.update");

    static final Path GOLDEN = Path.of("src/test/resources/dev/ascendj/launch/golden");

    /** A LLaMA2-7B full fine-tuning plan with every degree fixed (so no search). */
    static Plan plan(ClusterSpec cluster, int dp, int tp, int pp, int mbs, int mb, Recompute rc) {
        LlamaConfig cfg = LlamaConfigs.preset("llama2-7b");
        JobSpec job = JobSpec.full(2048, (long) dp * mbs * mb);
        var r = new Planner(HardwareCatalog.builtIn()).plan(new PlanRequest("llama2-7b", cfg, cluster, job),
                new FixedDegrees(dp, tp, pp, mbs, mb, rc, true, false), 1);
        return r.best().orElseGet(r::leanest);
    }

    /** 2x8 910A, dp 4 tp 1 pp 4. */
    static Plan twoByEight() {
        return plan(ClusterSpec.parse("2x8-910a"), 4, 1, 4, 1, 16, Recompute.SELECTIVE);
    }

    static Path write(Path dir, String name, String text) {
        try {
            Path p = dir.resolve(name);
            Files.createDirectories(p.getParent());
            Files.writeString(p, text, StandardCharsets.UTF_8);
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Compares {@code actual} with the golden file {@code name}, or rewrites it with -Dascendj.golden.update=true. */
    static void assertGolden(String name, String actual) {
        Path p = GOLDEN.resolve(name);
        try {
            if (UPDATE || !Files.exists(p)) {
                Files.createDirectories(p.getParent());
                Files.writeString(p, actual, StandardCharsets.UTF_8);
                if (!UPDATE) {
                    throw new AssertionError("golden file " + p + " was missing and has been written; check it and rerun");
                }
                return;
            }
            org.junit.jupiter.api.Assertions.assertEquals(Files.readString(p, StandardCharsets.UTF_8), actual, "differs from " + p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
