package dev.ascendj.cli;

import picocli.CommandLine.IVersionProvider;

/** The version from the jar manifest (set by the build), with the JVM it runs on. */
final class VersionProvider implements IVersionProvider {
    @Override
    public String[] getVersion() {
        String v = AscendjCommand.class.getPackage().getImplementationVersion();
        return new String[] {"ascendj " + (v == null ? "(development build)" : v),
            "Java " + System.getProperty("java.version") + " on " + System.getProperty("os.name") + " "
                + System.getProperty("os.arch")};
    }
}
