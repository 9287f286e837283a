package dev.ascendj.data.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.ascendj.model.io.StrictJson;

/** Short JSON error messages for reports that already name the file and line. */
public final class JsonErrors {
    private JsonErrors() {
    }

    /** Jackson's message without its "[Source: ...]" location boilerplate. */
    public static String message(JsonProcessingException e) {
        return StrictJson.describe(e, false);
    }
}
