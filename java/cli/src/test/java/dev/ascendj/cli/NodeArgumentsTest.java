package dev.ascendj.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** What {@code finetune --processes N} passes to each node: its own arguments, without --processes. */
class NodeArgumentsTest {
    @Test
    void dropsTheRootsOptionsTheCommandsNameAndProcesses() {
        assertEquals(List.of("--plan", "p.json", "--out", "run"), FinetuneCommand.nodeArguments(
                List.of("finetune", "--plan", "p.json", "--processes", "4", "--out", "run"), "finetune", true));
        assertEquals(List.of("--plan", "p.json"), FinetuneCommand.nodeArguments(
                List.of("--defaults", "lab.properties", "finetune", "--processes=2", "--plan", "p.json"), "finetune", true));
    }

    @Test
    void aDefaultsFileNamedLikeTheCommandIsNotTakenForIt() {
        assertEquals(List.of("--out", "finetune"), FinetuneCommand.nodeArguments(
                List.of("--defaults", "finetune", "finetune", "--processes", "2", "--out", "finetune"), "finetune", true));
    }

    @Test
    void asTheRootCommandEveryArgumentIsItsOwn() {
        assertEquals(List.of("--plan", "p.json"), FinetuneCommand.nodeArguments(
                List.of("--plan", "p.json", "--processes", "3"), "finetune", false));
    }
}
