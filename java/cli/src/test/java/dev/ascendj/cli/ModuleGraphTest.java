package dev.ascendj.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The parent pom lists the modules in dependency order, and every module depends (in any scope)
 * only on modules listed before it: modules reach only down, never sideways or up.
 */
class ModuleGraphTest {
    private static final Path ROOT = Path.of("../..").toAbsolutePath().normalize();
    private static final Pattern MODULE = Pattern.compile("<module>([^<]+)</module>");
    private static final Pattern DEPENDENCY = Pattern.compile(
            "<groupId>dev\\.ascendj</groupId>\\s*<artifactId>([^<]+)</artifactId>");

    @Test
    void everyModuleDependsOnlyOnModulesListedBeforeIt() throws Exception {
        Map<String, List<String>> graph = graph();
        List<String> order = new ArrayList<>(graph.keySet());
        List<String> upward = new ArrayList<>();
        for (Map.Entry<String, List<String>> e : graph.entrySet()) {
            for (String dep : e.getValue()) {
                assertTrue(graph.containsKey(dep), e.getKey() + " depends on " + dep + ", which is no module of the build");
                if (order.indexOf(dep) >= order.indexOf(e.getKey())) {
                    upward.add(e.getKey() + " -> " + dep);
                }
            }
        }
        assertEquals(List.of(), upward, "dependencies on modules listed later in pom.xml");
    }

    @Test
    void theDataLayerAndTheChartsSitBelowTraining() throws Exception {
        Map<String, List<String>> graph = graph();
        assertTrue(graph.get("ascendj-train").contains("ascendj-data"), "train reads instruction records from data");
        assertTrue(!graph.get("ascendj-data").contains("ascendj-train"), "data does not depend on train");
        assertTrue(!graph.get("ascendj-report").contains("ascendj-train")
                && !graph.get("ascendj-report").contains("ascendj-data"), "report depends on neither train nor data");
    }

    /** Artifact id to the dev.ascendj artifacts it depends on, in the parent's module order (examples left out). */
    private static Map<String, List<String>> graph() throws Exception {
        String parent = Files.readString(ROOT.resolve("pom.xml"));
        Map<String, List<String>> graph = new LinkedHashMap<>();
        Matcher m = MODULE.matcher(parent);
        while (m.find()) {
            // The examples show the API to applications; they are no part of the framework's layers.
            if (m.group(1).startsWith("examples/")) {
                continue;
            }
            String pom = Files.readString(ROOT.resolve(m.group(1)).resolve("pom.xml"))
                    .replaceAll("(?s)<parent>.*?</parent>", "");
            String artifact = first(pom, "<artifactId>([^<]+)</artifactId>");
            List<String> deps = new ArrayList<>();
            if (!artifact.equals("ascendj-bom")) {
                Matcher d = DEPENDENCY.matcher(pom.replaceAll("(?s)<dependencyManagement>.*?</dependencyManagement>", ""));
                while (d.find()) {
                    if (!deps.contains(d.group(1))) {
                        deps.add(d.group(1));
                    }
                }
            }
            graph.put(artifact, deps);
        }
        return graph;
    }

    private static String first(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        if (!m.find()) {
            throw new AssertionError("no match for " + regex);
        }
        return m.group(1);
    }
}
