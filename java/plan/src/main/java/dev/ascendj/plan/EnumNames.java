package dev.ascendj.plan;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** Parses the lower-case, dash-separated names enums use in files and options. */
final class EnumNames {
    private EnumNames() {
    }

    static <E extends Enum<E>> E parse(Class<E> type, String text, String field) {
        if (text != null) {
            String key = text.trim().toUpperCase(Locale.ROOT).replace('-', '_');
            for (E e : type.getEnumConstants()) {
                if (e.name().equals(key)) {
                    return e;
                }
            }
        }
        throw new PlanException(field, "'" + text + "' is not one of " + labels(type));
    }

    static <E extends Enum<E>> String label(E e) {
        return e.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    static <E extends Enum<E>> String labels(Class<E> type) {
        return Arrays.stream(type.getEnumConstants()).map(EnumNames::label).collect(Collectors.joining(", "));
    }
}
