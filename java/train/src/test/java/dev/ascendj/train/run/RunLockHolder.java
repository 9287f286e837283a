package dev.ascendj.train.run;

import java.nio.file.Path;

/** A process that holds a run directory's lock until its standard input closes (for {@link RunDirectoryTest}). */
public final class RunLockHolder {
    private RunLockHolder() {
    }

    public static void main(String[] args) throws Exception {
        try (RunLock lock = RunLock.acquire(Path.of(args[0]), "holder")) {
            System.out.println("locked");
            System.out.flush();
            while (System.in.read() >= 0) {
                // wait for the parent to close our input (or die)
            }
        }
    }
}
