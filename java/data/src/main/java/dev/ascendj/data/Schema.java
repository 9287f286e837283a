package dev.ascendj.data;

import com.fasterxml.jackson.annotation.JsonAlias;
import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.ascendj.core.io.InputFormatException;
import dev.ascendj.core.io.StrictReader;
import dev.ascendj.data.DataFormatException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The declared entity types and relations of a domain. An empty list declares nothing and so
 * allows everything. Read from JSON or YAML:
 *
 * <pre>
 * {"entityTypes": ["person", "location", "organization"], "relations": ["born in", "works for"]}
 * </pre>
 */
public record Schema(List<String> entityTypes, List<String> relations) {
    /** A schema that declares nothing. */
    public static final Schema NONE = new Schema(List.of(), List.of());

    @JsonCreator
    public Schema(@JsonProperty("entityTypes") @JsonAlias({"entity_types", "entities", "types"}) List<String> entityTypes,
                  @JsonProperty("relations") @JsonAlias({"relation_types", "predicates"}) List<String> relations) {
        this.entityTypes = clean(entityTypes, "entity type");
        this.relations = clean(relations, "relation");
    }

    private static List<String> clean(List<String> in, String what) {
        if (in == null) {
            return List.of();
        }
        Set<String> out = new LinkedHashSet<>();
        for (String s : in) {
            if (s == null || s.isBlank()) {
                throw new IllegalArgumentException("schema: empty " + what);
            }
            out.add(TextNorm.space(s));
        }
        return Collections.unmodifiableList(new ArrayList<>(out));
    }

    /** Whether {@code type} is declared, or no entity types are. */
    public boolean allowsEntityType(String type) {
        return entityTypes.isEmpty() || entityTypes.contains(TextNorm.space(type));
    }

    /** Whether {@code relation} is declared, or no relations are. */
    public boolean allowsRelation(String relation) {
        return relations.isEmpty() || relations.contains(TextNorm.space(relation));
    }

    /** Larger files are not schemas. */
    static final long MAX_BYTES = 1L << 20;

    /**
     * Reads a schema file (JSON when the name ends in .json, YAML otherwise) strictly: unknown
     * fields, a key given twice and values of the wrong type are errors naming the field.
     */
    public static Schema read(Path file) {
        try {
            return StrictReader.read(file, Schema.class, "schema", MAX_BYTES);
        } catch (InputFormatException e) {
            throw new DataFormatException(file, 0, e.withoutSource());
        }
    }
}
