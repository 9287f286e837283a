package dev.ascendj.plan;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/**
 * The software that runs a plan's training step. Memory and time differ between engines because
 * they keep different things on each device (see {@link MindFormersEngineModel} and
 * {@link NativeEngineModel}).
 */
public enum Engine {
    /** MindFormers on MindSpore's semi-auto parallel (graph mode): the generated YAML, rank table and launch scripts. */
    MINDFORMERS,
    /** AscendJ's own parallel executor ({@code ascendj finetune}): on the CPU backend, or one JVM per server on Ascend. */
    NATIVE;

    /**
     * The engine a cluster's software stack runs when the user does not choose: MindFormers on
     * Ascend servers (the operator path the toolkit generates), the native executor on virtual
     * CPU devices (the only engine that runs there).
     */
    public static Engine defaultFor(HardwareProfile hw) {
        return hw.memory().sharedByHost() ? NATIVE : MINDFORMERS;
    }

    @JsonValue
    public String label() {
        return EnumNames.label(this);
    }

    @JsonCreator
    public static Engine parse(String text) {
        return EnumNames.parse(Engine.class, text, "engine");
    }
}
