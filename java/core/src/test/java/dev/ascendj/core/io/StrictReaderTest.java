package dev.ascendj.core.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ascendj.core.InvalidInput;
import dev.ascendj.core.io.StrictReader.Syntax;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class StrictReaderTest {
    @TempDir
    Path dir;

    record Device(int id, String ip) {
        Device {
            if (id < 0) {
                throw new IllegalArgumentException(id + " is not a device number");
            }
        }
    }

    record Server(String host, List<Device> devices) {
    }

    record Cluster(String name, List<Server> servers, double bandwidth, boolean shared) {
    }

    private static final String CLUSTER = """
            name: lab
            bandwidth: 25.5
            shared: false
            servers:
              - host: a
                devices: [{id: 0, ip: 10.0.0.1}, {id: 1, ip: 10.0.0.2}]
              - host: b
                devices: [{id: 0, ip: 10.0.1.1}]
            """;

    private Path file(String name, String text) throws IOException {
        return Files.writeString(dir.resolve(name), text);
    }

    private static InputFormatException refused(Runnable r) {
        return assertThrows(InputFormatException.class, r::run);
    }

    @Test
    void readsAndBindsYamlAndJsonAlike() throws IOException {
        Cluster yaml = StrictReader.read(file("c.yaml", CLUSTER), Cluster.class, "inventory", 1 << 20);
        assertEquals("10.0.1.1", yaml.servers().get(1).devices().get(0).ip());
        String json = JsonYamlWriter.toJson(yaml);
        Cluster back = StrictReader.read(file("c.json", json), Cluster.class, "inventory", 1 << 20);
        assertEquals(yaml, back);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            unknown field      | 'ip: 10.0.1.1'       | 'ipp: 10.0.1.1'      | servers[1].devices[0].ipp | unknown field (known: id, ip)
            list for a string  | 'ip: 10.0.1.1'       | 'ip: [1, 2]'         | servers[1].devices[0].ip  | expected a string, got a list
            fraction for int   | '{id: 0, ip: 10.0.1.1}' | '{id: 0.5, ip: x}' | servers[1].devices[0].id  | expected an integer
            quoted number      | 'bandwidth: 25.5'    | 'bandwidth: \"25.5\"' | bandwidth                | expected a number
            null primitive     | 'shared: false'      | 'shared: null'       | shared                    | must not be null
            constructor check  | '{id: 0, ip: 10.0.1.1}' | '{id: -3, ip: x}' | servers[1].devices[0]     | -3 is not a device number
            """)
    void bindingRefusalsNameFileFieldAndProblem(String name, String from, String to, String field, String problem)
            throws IOException {
        assertTrue(CLUSTER.contains(from), from);
        Path f = file("cluster.yaml", CLUSTER.replace(from, to));
        InputFormatException e = refused(() -> StrictReader.read(f, Cluster.class, "inventory", 1 << 20));
        assertEquals(f.toString(), e.source());
        assertEquals(field, e.field(), e.getMessage());
        assertTrue(e.problem().startsWith(problem), e.problem());
        assertEquals(f + ": " + field + ": " + e.problem(), e.getMessage());
        assertTrue(e instanceof InvalidInput);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            duplicate key yaml    | YAML | 'servers:\\n  - host: a\\n    host: b'     |                  | key 'host' appears twice
            duplicate key json    | JSON | '{"a": {"b": 1, "b": 2}}'                 |                  | key 'b' appears twice
            trailing json         | JSON | '{"a": 1} {"b": 2}'                       |                  | unexpected content after the JSON value
            truncated json        | JSON | '{"a": [1, 2'                             |                  | not valid JSON
            truncated yaml        | YAML | 'servers: [ {host: a, devices: [0, 1'     |                  | not valid YAML
            overflowing number    | JSON | '{"a": {"lr": 1e999}}'                    | a.lr             | Infinity is not a finite number
            overflow in yaml list | YAML | 'a: [1, 1.5e+999]'                        | 'a[1]'           | Infinity is not a finite number
            overflow in yaml      | YAML | 'lr: -1.0e+999'                           | lr               | -Infinity is not a finite number
            nan in yaml           | YAML | 'lr: .nan'                                |                  | Malformed numeric value '.nan' (line 1
            infinity in yaml      | YAML | 'lr: -.inf'                               |                  | Malformed numeric value '-.inf' (line 1
            empty json            | JSON | ''                                        |                  | spec is empty
            comments only yaml    | YAML | '# nothing here'                          |                  | spec is empty
            """)
    void syntaxRefusalsNameSourceFieldAndProblem(String name, Syntax syntax, String text, String field, String problem) {
        String doc = text.replace("\\n", "\n");
        InputFormatException e = refused(() -> StrictReader.parse("job.in", "spec", doc, syntax));
        assertEquals("job.in", e.source());
        assertEquals(field, e.field());
        assertTrue(e.getMessage().startsWith("job.in: "), e.getMessage());
        assertTrue(e.problem().contains(problem), e.problem());
    }

    @Test
    void parseErrorsGiveLineAndColumnWithoutJacksonInternals() {
        InputFormatException e = refused(() -> StrictReader.parse("plan.json", "plan", "{\n  \"dp\": 2,\n  \"tp\": }", Syntax.JSON));
        assertTrue(e.problem().startsWith("plan is not valid JSON: "), e.problem());
        assertTrue(e.problem().contains("(line 3, column"), e.problem());
        assertTrue(!e.problem().contains("Source:") && !e.problem().contains("com.fasterxml"), e.problem());
    }

    @Test
    void nestingBeyondTheLimitIsRefusedInBothSyntaxes() {
        int depth = 5000;
        String deep = "[".repeat(depth) + "]".repeat(depth);
        assertTrue(refused(() -> StrictReader.parse("h", "header", deep, Syntax.JSON)).problem().contains("nesting depth"));
        assertTrue(refused(() -> StrictReader.parse("h", "header", deep, Syntax.YAML)).problem().contains("nesting depth"));
        String justInside = "[".repeat(StrictReader.MAX_NESTING) + "]".repeat(StrictReader.MAX_NESTING);
        assertEquals(1, StrictReader.parse("h", null, justInside, Syntax.JSON).size());
    }

    @Test
    void filesThatAreMissingTooLargeOrNotUtf8() throws IOException {
        Path missing = dir.resolve("none.yaml");
        InputFormatException e = refused(() -> StrictReader.readTree(missing, Syntax.YAML, "spec", 100));
        assertEquals(missing + ": no such file", e.getMessage());

        Path big = Files.write(dir.resolve("big.yaml"), new byte[101]);
        e = refused(() -> StrictReader.readTree(big, Syntax.YAML, "spec", 100));
        assertEquals(big + ": spec is 101 bytes, more than the limit of 100", e.getMessage());

        Path latin = Files.write(dir.resolve("latin.yaml"), "name: caf\u00e9".getBytes(StandardCharsets.ISO_8859_1));
        e = refused(() -> StrictReader.readTree(latin, Syntax.YAML, "spec", 100));
        assertEquals(latin + ": spec is not UTF-8 text", e.getMessage());

        e = refused(() -> StrictReader.readTree(dir, Syntax.YAML, "spec", 100));
        assertTrue(e.problem().contains("directory"), e.problem());
    }

    @Test
    void syntaxFollowsTheFileName() {
        assertEquals(Syntax.JSON, Syntax.of(Path.of("x/plan.JSON")));
        assertEquals(Syntax.YAML, Syntax.of(Path.of("cluster.yml")));
        assertEquals(Syntax.YAML, Syntax.of(Path.of("inventory")));
    }

    @Test
    void wholeInputProblemsHaveNoField() {
        InputFormatException e = refused(() -> StrictReader.bind(StrictReader.parse("x", null, "[1]", Syntax.JSON),
                Cluster.class, "x"));
        assertNull(e.field());
        assertTrue(e.problem().startsWith("expected an object (Cluster)"), e.problem());
    }

    @Test
    void typeNamesForMessages() {
        JsonNode n = StrictReader.parse(null, null, "{\"a\": [1], \"b\": \"s\", \"c\": null}", Syntax.JSON);
        assertEquals("object", StrictReader.typeOf(n));
        assertEquals("array", StrictReader.typeOf(n.get("a")));
        assertEquals("string", StrictReader.typeOf(n.get("b")));
        assertEquals("null", StrictReader.typeOf(n.get("c")));
        assertEquals("missing", StrictReader.typeOf(n.get("d")));
    }
}
