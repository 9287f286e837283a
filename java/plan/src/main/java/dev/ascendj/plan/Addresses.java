package dev.ascendj.plan;

import java.util.regex.Pattern;

/**
 * What an inventory may name: server and NPU addresses and SSH users. Strict enough that every
 * accepted value can go into an HCCL rank table or a shell command without interpretation.
 */
public final class Addresses {

    /** Dotted-quad IPv4, each part 0-255 without leading zeros. */
    private static final Pattern IPV4 = Pattern.compile("(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}");

    /** RFC 1123 host names: letters, digits and inner '-' per label, labels joined by '.'. */
    private static final Pattern HOSTNAME = Pattern.compile("(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
            + "(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*");

    /** POSIX-style user names. */
    private static final Pattern USER = Pattern.compile("[a-z_][a-z0-9_-]{0,31}");

    private Addresses() {
    }

    /** True for a dotted-quad IPv4 address. */
    public static boolean isIpv4(String s) {
        return s != null && IPV4.matcher(s).matches();
    }

    /** True for an IPv4 address or an RFC 1123 host name (all-digit names are taken for malformed addresses). */
    public static boolean isHost(String s) {
        return isIpv4(s) || s != null && !s.matches("[0-9.]+") && HOSTNAME.matcher(s).matches();
    }

    /** True for a POSIX-style user name. */
    public static boolean isUser(String s) {
        return s != null && USER.matcher(s).matches();
    }
}
