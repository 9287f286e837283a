package dev.ascendj.launch;

import java.util.Locale;

/**
 * MindFormers' test of whether a directory is on a shared disk, applied to a server's mount table
 * ({@code /proc/mounts}, which {@code psutil.disk_partitions(all=True)} reads through
 * {@code /etc/mtab}). MindFormers v1.0.0 {@code mindformers/tools/utils.py} {@code check_shared_disk}
 * (lines 403-411, unchanged through v1.1.0): the first mount entry, in table order, whose mount
 * point is not {@code /} and is a string prefix of the absolute path decides; the disk is shared
 * when that entry's filesystem type is {@code nfs} or {@code dpc}, or its mount options contain
 * {@code fuse.sshfs}. No such entry: not shared. Literal consequences, reproduced here on purpose
 * because MindFormers acts on them: an NFSv4 mount (type {@code nfs4}) does not count, nor does a
 * usual sshfs mount (type {@code fuse.sshfs}, the options do not name it), and a mount at
 * {@code /data} also decides for {@code /data2/...}.
 */
public final class SharedDisk {

    /**
     * The verdict.
     *
     * @param shared     what MindFormers concludes
     * @param mountPoint the deciding entry's mount point, or null when none matched
     * @param fsType     its filesystem type, or null
     */
    public record Verdict(boolean shared, String mountPoint, String fsType) {
        /** One line for a report. */
        public String describe() {
            return mountPoint == null ? "no mount below / holds it (local disk)" : "mount " + mountPoint + " (" + fsType + ")";
        }
    }

    private SharedDisk() {
    }

    /** Applies MindFormers' rule to {@code absolutePath} with the mount table {@code mounts}. */
    public static Verdict check(String mounts, String absolutePath) {
        for (String line : mounts.split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length < 4) {
                continue;
            }
            String mountPoint = unescape(f[1]);
            if (!mountPoint.equals("/") && absolutePath.startsWith(mountPoint)) {
                String type = f[2].toLowerCase(Locale.ROOT);
                boolean shared = type.equals("nfs") || type.equals("dpc") || f[3].toLowerCase(Locale.ROOT).contains("fuse.sshfs");
                return new Verdict(shared, mountPoint, f[2]);
            }
        }
        return new Verdict(false, null, null);
    }

    /** The kernel writes space, tab, newline and backslash in mount points as octal escapes. */
    static String unescape(String s) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length() + 0 && s.substring(i + 1, Math.min(s.length(), i + 4)).matches("[0-7]{3}")) {
                sb.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    /** os.path.abspath: {@code path} joined to {@code cwd} when relative, with '.', '..' and repeated '/' removed. */
    public static String absolute(String cwd, String path) {
        String joined = path.startsWith("/") ? path : cwd + "/" + path;
        java.util.Deque<String> parts = new java.util.ArrayDeque<>();
        for (String p : joined.split("/")) {
            if (p.isEmpty() || p.equals(".")) {
                continue;
            }
            if (p.equals("..")) {
                parts.pollLast();
            } else {
                parts.addLast(p);
            }
        }
        return "/" + String.join("/", parts);
    }
}
