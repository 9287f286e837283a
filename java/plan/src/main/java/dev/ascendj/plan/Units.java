package dev.ascendj.plan;

import java.util.Locale;

/** Formatting of sizes and times for reports. */
public final class Units {
    private Units() {
    }

    /** Bytes in binary units: {@code 31.0 GiB}. */
    public static String bytes(long b) {
        double v = b;
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
        int u = 0;
        while (Math.abs(v) >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return u == 0 ? b + " B" : String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }

    /** Seconds with a unit that fits: {@code 850 ms}, {@code 6.67 s}. */
    public static String seconds(double s) {
        if (s < 1e-3) {
            return String.format(Locale.ROOT, "%.0f us", s * 1e6);
        }
        if (s < 1) {
            return String.format(Locale.ROOT, "%.0f ms", s * 1e3);
        }
        return String.format(Locale.ROOT, "%.2f s", s);
    }
}
