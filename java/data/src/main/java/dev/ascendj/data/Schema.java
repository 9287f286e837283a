package dev.ascendj.data;

import com.fasterxml.jackson.annotation.JsonAlias;
import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
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

    /** Reads a schema file (JSON, or YAML when the name ends in .yaml or .yml). */
    public static Schema read(Path file) {
        try {
            return mapperFor(file).readValue(Files.readString(file), Schema.class);
        } catch (IOException | IllegalArgumentException e) {
            throw new DataFormatException(file, 0, "not a schema (entityTypes, relations): " + e.getMessage());
        }
    }

    /** A Jackson mapper for JSON, or YAML by file name; unknown fields are errors. */
    public static ObjectMapper mapperFor(Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        ObjectMapper m = name.endsWith(".yaml") || name.endsWith(".yml") ? new ObjectMapper(new YAMLFactory())
                : new ObjectMapper();
        return m.enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    }
}
