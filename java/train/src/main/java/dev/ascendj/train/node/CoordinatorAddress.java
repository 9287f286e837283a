package dev.ascendj.train.node;

/**
 * Where node 0's coordinator listens, as {@code HOST:PORT} ({@code [v6-address]:PORT} for IPv6);
 * port 0 on node 0 asks for a free port, which it then prints.
 *
 * @param host a host name or address
 * @param port the TCP port, 0..65535
 */
public record CoordinatorAddress(String host, int port) {
    public CoordinatorAddress {
        if (host == null || host.isBlank() || !host.matches("[A-Za-z0-9.:_-]+")) {
            throw new IllegalArgumentException("coordinator host '" + host + "' is not a host name or address");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("coordinator port " + port + " is outside 0..65535");
        }
    }

    /** Parses {@code HOST:PORT}; {@code what} names the option or variable in errors. */
    public static CoordinatorAddress parse(String text, String what) {
        if (text == null) {
            throw new IllegalArgumentException(what + " is missing: give HOST:PORT");
        }
        String t = text.trim();
        int colon = t.lastIndexOf(':');
        if (colon <= 0 || colon == t.length() - 1) {
            throw new IllegalArgumentException(what + " '" + text + "' is not HOST:PORT");
        }
        String host = t.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(t.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(what + " '" + text + "': the port is not a number", e);
        }
        try {
            return new CoordinatorAddress(host, port);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(what + " '" + text + "': " + e.getMessage(), e);
        }
    }

    @Override
    public String toString() {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
}
