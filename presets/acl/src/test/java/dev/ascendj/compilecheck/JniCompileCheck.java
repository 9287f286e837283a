package dev.ascendj.compilecheck;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.tools.Builder;
import org.junit.jupiter.api.Assumptions;

/**
 * The compile check of the CANN and MindSpore Lite presets: JavaCPP's {@link Builder} generates the
 * JNI C++ source for the preset classes exactly as it would on an Ascend server, and {@code g++}
 * compiles it (without linking) against the declarations-only headers in
 * {@code native/compile-check/include} and the JDK's JNI headers. A binding whose Java annotations do
 * not fit the documented C signatures (wrong arity, a pointer level too many, a const missing, an
 * unknown enum type) fails here, on a machine without a CANN toolkit.
 *
 * <p>Used by the {@code *JniCompileCheckTest} classes of presets/acl, presets/hccl and
 * presets/mslite; skipped (JUnit assumption) only when {@code g++} or the JNI headers are missing.
 */
public final class JniCompileCheck {
    /** Seconds one g++ run may take before the check fails. */
    private static final long COMPILE_TIMEOUT_SECONDS = 240;

    private JniCompileCheck() {
    }

    /**
     * Generates the JNI source of {@code classNames} into {@code outDir} and compiles every generated
     * file with {@code g++ -c} using {@code cppStandard} (e.g. {@code "c++11"}).
     *
     * @return the generated source files, all of which compiled
     * @throws AssertionError with the compiler's output when a file does not compile
     */
    public static List<Path> run(Path outDir, String cppStandard, String... classNames) throws Exception {
        Assumptions.assumeTrue(gxxAvailable(), "g++ not found on PATH: JNI compile check skipped");
        Path jniInclude = Paths.get(System.getProperty("java.home"), "include");
        Assumptions.assumeTrue(Files.isRegularFile(jniInclude.resolve("jni.h")),
                "no jni.h under " + jniInclude + " (a JRE without headers): JNI compile check skipped");
        List<Path> declarations = declarationsDirs();

        Files.createDirectories(outDir);
        File[] generated = new Builder()
                .classPaths(System.getProperty("java.class.path"))
                .outputDirectory(outDir.toFile())
                .generate(true)
                .compile(false)
                .deleteJniFiles(false)
                .classesOrPackages(classNames)
                .build();
        if (generated == null || generated.length == 0) {
            throw new AssertionError("JavaCPP generated no JNI source for " + Arrays.toString(classNames));
        }
        List<Path> sources = new ArrayList<>();
        for (File f : generated) {
            if (f.getName().endsWith(".cpp")) {
                sources.add(f.toPath());
            }
        }
        for (Path src : sources) {
            compile(src, outDir, cppStandard, jniInclude, declarations);
        }
        return sources;
    }

    /**
     * The include directories (declarations-only headers, AscendJ's own helper headers), a
     * comma-separated list in {@code -Dascendj.compilecheck.include} (set by the poms).
     */
    public static List<Path> declarationsDirs() {
        String dirs = System.getProperty("ascendj.compilecheck.include");
        if (dirs == null) {
            throw new IllegalStateException("system property ascendj.compilecheck.include is not set "
                    + "(run through Maven, whose surefire configuration sets it)");
        }
        List<Path> list = new ArrayList<>();
        for (String d : dirs.split(",")) {
            Path p = Paths.get(d.trim()).toAbsolutePath().normalize();
            if (!Files.isDirectory(p)) {
                throw new IllegalStateException("compile-check include directory not found: " + p);
            }
            list.add(p);
        }
        return list;
    }

    /** The output directory for generated sources, from {@code -Dascendj.compilecheck.out}. */
    public static Path outputDir(String name) {
        String dir = System.getProperty("ascendj.compilecheck.out", "target/compile-check");
        return Paths.get(dir, name);
    }

    private static void compile(Path src, Path outDir, String std, Path jniInclude, List<Path> declarations)
            throws IOException, InterruptedException {
        String os = System.getProperty("os.name").toLowerCase(java.util.Locale.ROOT);
        Path jniMd = jniInclude.resolve(os.contains("mac") ? "darwin" : "linux");
        Path object = outDir.resolve(src.getFileName().toString().replace(".cpp", ".o"));
        List<String> cmd = new ArrayList<>(List.of("g++", "-c", "-O0", "-std=" + std, "-fPIC", "-Wall",
                "-Wno-unused-variable", "-I" + jniInclude, "-I" + jniMd));
        for (Path d : declarations) {
            cmd.add("-I" + d);
        }
        cmd.addAll(List.of(src.toString(), "-o", object.toString()));
        Path log = outDir.resolve(src.getFileName() + ".log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!p.waitFor(COMPILE_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("g++ did not finish compiling " + src + " within " + COMPILE_TIMEOUT_SECONDS + " s");
        }
        String output = Files.readString(log, StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
            throw new AssertionError("the JNI source JavaCPP generated does not compile against the documented "
                    + "declarations:\n" + String.join(" ", cmd) + "\n" + output);
        }
    }

    private static boolean gxxAvailable() {
        try {
            Process p = new ProcessBuilder("g++", "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
