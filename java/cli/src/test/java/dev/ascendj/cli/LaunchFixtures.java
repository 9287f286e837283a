package dev.ascendj.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/** Files the operator commands' tests share; the recorded samples live with the launch module's tests. */
final class LaunchFixtures {
    private LaunchFixtures() {
    }

    private static final Path ROOT = Path.of("../..").toAbsolutePath().normalize();

    /** The launch module's test resources: golden rank tables, recorded monitor logs. */
    static final Path LAUNCH_RESOURCES = ROOT.resolve("java/launch/src/test/resources/dev/ascendj/launch");

    /** The golden files the launch module's tests keep. */
    static final Path GOLDEN = LAUNCH_RESOURCES.resolve("golden");

    /** The canonical MindFormers configs and their plans. */
    static final Path CANONICAL = ROOT.resolve("mindformer-configs");
}
