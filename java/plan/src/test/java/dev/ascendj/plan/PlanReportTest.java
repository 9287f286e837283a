package dev.ascendj.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The text and HTML renderings. */
class PlanReportTest {

    private static int count(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }

    @Test
    void htmlReportIsSelfContainedWithMemoryBarsAndTheOneFOneBTimeline(@TempDir Path dir) throws IOException {
        Plan p = Fixtures.anchorPlan();
        Path f = dir.resolve("plan.html");
        HtmlReport.write(f, p, List.of(p, p));
        String html = Files.readString(f);
        assertTrue(html.startsWith("<!DOCTYPE html>"));
        assertFalse(html.contains("<script") || html.contains("src=\"http") || html.contains("href=\"http"), "loads nothing");
        assertEquals(2, count(html, "<svg "));
        // 2 x 16 micro-batches x 4 stages passes; nonzero memory parts per stage.
        assertEquals(16 * 4, count(html, "class=\"fwd\""));
        assertEquals(16 * 4, count(html, "class=\"bwd\""));
        assertTrue(count(html, "class=\"mem\"") >= 4 * 5);
        assertTrue(html.contains("cap 31.0 GiB"));
        assertTrue(html.contains("Other plans"));
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count());
        }
    }

    @Test
    void longSchedulesAreTruncatedInThePicture() {
        Plan p = Fixtures.search(Fixtures.request("llama2-70b", "4x8-910a", Fixtures.lora(2048, 512, 16)),
                Fixtures.fix(1, 4, 8, 1, 512, null, null), 1).best().orElseThrow();
        String svg = HtmlReport.timeline(p);
        assertTrue(svg.contains("Showing the first"));
        assertTrue(count(svg, "<rect") <= HtmlReport.MAX_PASSES);
    }

    @Test
    void htmlEscapesNames() {
        assertEquals("&lt;b&gt; &amp; &quot;x&quot;", HtmlReport.esc("<b> & \"x\""));
    }

    @Test
    void textTableAndExplanation() {
        SearchResult r = Fixtures.search(Fixtures.request("llama2-7b", "4x8-910a", Fixtures.full(2048, 512)), FixedDegrees.NONE, 3);
        String table = PlanText.table(r.plans());
        assertEquals(4, table.split("\n").length);
        assertTrue(table.startsWith("#  dp  tp  pp  mbs"));
        String explain = PlanText.explain(r.plans().get(0));
        assertTrue(explain.contains("engine: mindformers, param_init_type float16, gradient_accumulation_shard false"), explain);
        assertTrue(explain.contains("memory per device (cap 31.0 GiB, of which a margin of 1.5 GiB is kept free)"), explain);
        assertTrue(explain.contains("expected throughput error: ±"), explain);
        assertTrue(explain.contains("pipeline bubble"));
        assertTrue(explain.contains("model FLOPs per token 42.86 GFLOP"));
    }
}
