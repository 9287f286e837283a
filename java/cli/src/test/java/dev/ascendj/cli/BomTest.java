package dev.ascendj.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The BOM pins every module of the build (but the parent, itself and the examples) at the build's version. */
class BomTest {
    private static final Path ROOT = Path.of("../..").toAbsolutePath().normalize();
    private static final Pattern MODULE = Pattern.compile("<module>([^<]+)</module>");
    private static final Pattern MANAGED = Pattern.compile(
            "<groupId>dev\\.ascendj</groupId>\\s*<artifactId>([^<]+)</artifactId>\\s*<version>([^<]+)</version>");

    @Test
    void theBomListsEveryModuleAtTheBuildsVersion() throws Exception {
        String parent = Files.readString(ROOT.resolve("pom.xml"));
        String bom = Files.readString(ROOT.resolve("bom/pom.xml"));
        assertEquals(version(parent), version(bom), "bom/pom.xml has the parent's version");
        TreeSet<String> modules = new TreeSet<>();
        Matcher m = MODULE.matcher(parent);
        while (m.find()) {
            // The test kit is the build's own test support, not a library for applications.
            if (m.group(1).equals("bom") || m.group(1).equals("java/test-kit") || m.group(1).startsWith("examples/")) {
                continue;
            }
            String pom = Files.readString(ROOT.resolve(m.group(1)).resolve("pom.xml"));
            modules.add(artifactId(pom));
        }
        TreeSet<String> managed = new TreeSet<>();
        List<String> versions = new ArrayList<>();
        Matcher d = MANAGED.matcher(bom.substring(bom.indexOf("<dependencyManagement>")));
        while (d.find()) {
            managed.add(d.group(1));
            versions.add(d.group(2));
        }
        assertEquals(modules, managed);
        versions.forEach(v -> assertEquals("${project.version}", v));
    }

    /** The project's own version: the first version after the artifactId, outside any parent element. */
    private static String version(String pom) {
        String own = pom.replaceAll("(?s)<parent>.*?</parent>", "");
        Matcher m = Pattern.compile("<version>([^<]+)</version>").matcher(own);
        if (!m.find()) {
            throw new AssertionError("no version");
        }
        return m.group(1);
    }

    private static String artifactId(String pom) {
        String own = pom.replaceAll("(?s)<parent>.*?</parent>", "");
        Matcher m = Pattern.compile("<artifactId>([^<]+)</artifactId>").matcher(own);
        if (!m.find()) {
            throw new AssertionError("no artifactId");
        }
        return m.group(1);
    }
}
