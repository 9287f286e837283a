package dev.ascendj.model.tokenizer;

import java.util.Arrays;
import java.util.Objects;

/**
 * The LLaMA2 chat/instruction prompt, the one place where training examples and generation
 * prompts are made, so that both see exactly the same tokens:
 *
 * <pre>
 * &lt;s&gt;[INST] &lt;&lt;SYS&gt;&gt;
 * {system}
 * &lt;&lt;/SYS&gt;&gt;
 *
 * {instruction}
 * {input} [/INST] {output} &lt;/s&gt;
 * </pre>
 *
 * The system block is left out when there is no system prompt ({@code [INST] {instruction} [/INST]}),
 * and the input line when the input is empty. Fields are stripped of surrounding whitespace.
 *
 * <p>Tokens: BOS, then the prompt's tokens, then the response's tokens, then EOS. The prompt and
 * the response are tokenized separately, so the boundary is exact: the prompt part of a
 * training example is token for token the prompt given to the model at generation time, and the
 * prompt length is exactly where the loss mask ends. The space between {@code [/INST]} and the
 * response is the word-boundary marker that a SentencePiece-style tokenizer (LLaMA's, and the
 * one AscendJ ships) puts before the first word of any text it encodes; for such tokenizers
 * this equals tokenizing the whole text at once.
 *
 * <pre>{@code
 * PromptTemplate template = PromptTemplate.llama2("You extract relation triples.");
 * PromptTemplate.Example ex = template.encode(tok, instruction, input, output);
 * int[] labels = ex.labels();                      // -100 over the prompt, token ids over the response
 * int[] prompt = template.encodePrompt(tok, instruction, input);   // what generation starts from
 * }</pre>
 */
public final class PromptTemplate {
    /** The label value that cross-entropy ignores (PyTorch's and Hugging Face's convention). */
    public static final int IGNORE_INDEX = -100;

    private static final String B_INST = "[INST]";
    private static final String E_INST = "[/INST]";
    private static final String B_SYS = "<<SYS>>\n";
    private static final String E_SYS = "\n<</SYS>>\n\n";

    private final String systemPrompt;

    private PromptTemplate(String systemPrompt) {
        this.systemPrompt = systemPrompt == null || systemPrompt.isBlank() ? null : systemPrompt.strip();
    }

    /** The LLaMA2 template without a system prompt. */
    public static PromptTemplate llama2() {
        return new PromptTemplate(null);
    }

    /** The LLaMA2 template with {@code systemPrompt} (null or blank: none). */
    public static PromptTemplate llama2(String systemPrompt) {
        return new PromptTemplate(systemPrompt);
    }

    /** The system prompt, or null. */
    public String systemPrompt() {
        return systemPrompt;
    }

    /** The prompt text, up to and including {@code [/INST]}; BOS is not part of the text. */
    public String renderPrompt(String instruction, String input) {
        String user = user(instruction, input);
        StringBuilder sb = new StringBuilder(B_INST).append(' ');
        if (systemPrompt != null) {
            sb.append(B_SYS).append(systemPrompt).append(E_SYS);
        }
        return sb.append(user).append(' ').append(E_INST).toString();
    }

    /** Prompt and response as one text: {@code renderPrompt(...) + " " + output}. */
    public String render(String instruction, String input, String output) {
        return renderPrompt(instruction, input) + " " + response(output);
    }

    /** The ids a generation starts from: BOS and the prompt's tokens. */
    public int[] encodePrompt(LlamaTokenizer tokenizer, String instruction, String input) {
        int[] prompt = tokenizer.encode(renderPrompt(instruction, input), false);
        int[] ids = new int[prompt.length + 1];
        ids[0] = tokenizer.bosId();
        System.arraycopy(prompt, 0, ids, 1, prompt.length);
        return ids;
    }

    /** A training example: BOS, prompt, response, EOS, and where the response begins. */
    public Example encode(LlamaTokenizer tokenizer, String instruction, String input, String output) {
        int[] prompt = encodePrompt(tokenizer, instruction, input);
        int[] response = tokenizer.encode(response(output), false);
        int[] ids = Arrays.copyOf(prompt, prompt.length + response.length + 1);
        System.arraycopy(response, 0, ids, prompt.length, response.length);
        ids[ids.length - 1] = tokenizer.eosId();
        return new Example(ids, prompt.length);
    }

    private static String user(String instruction, String input) {
        Objects.requireNonNull(instruction, "instruction");
        String ins = instruction.strip();
        if (ins.isEmpty()) {
            throw new IllegalArgumentException("the instruction is empty");
        }
        String in = input == null ? "" : input.strip();
        return in.isEmpty() ? ins : ins + "\n" + in;
    }

    private static String response(String output) {
        Objects.requireNonNull(output, "output");
        return output.strip();
    }

    @Override
    public String toString() {
        return "PromptTemplate(llama2" + (systemPrompt == null ? "" : ", system prompt") + ")";
    }

    /**
     * Token ids of one example and the number of leading prompt tokens (BOS included), whose
     * labels are {@link #IGNORE_INDEX}.
     */
    public record Example(int[] ids, int promptLength) {
        public Example {
            if (promptLength < 0 || promptLength > ids.length) {
                throw new IllegalArgumentException("prompt length " + promptLength + " for " + ids.length + " tokens");
            }
            ids = ids.clone();
        }

        @Override
        public int[] ids() {
            return ids.clone();
        }

        /** Number of tokens. */
        public int length() {
            return ids.length;
        }

        /**
         * Labels aligned with {@link #ids()} (the Hugging Face convention: the model shifts them
         * by one to predict each next token): {@link #IGNORE_INDEX} for the prompt, the token
         * ids for the response and the closing EOS.
         */
        public int[] labels() {
            int[] labels = ids.clone();
            Arrays.fill(labels, 0, promptLength, IGNORE_INDEX);
            return labels;
        }

        /** The response's ids, EOS included. */
        public int[] responseIds() {
            return Arrays.copyOfRange(ids, promptLength, ids.length);
        }

        /** The first {@code maxLength} tokens (the response, or part of it, may be cut off). */
        public Example truncated(int maxLength) {
            if (maxLength < 0) {
                throw new IllegalArgumentException("negative length " + maxLength);
            }
            if (maxLength >= ids.length) {
                return this;
            }
            return new Example(Arrays.copyOf(ids, maxLength), Math.min(promptLength, maxLength));
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Example e && e.promptLength == promptLength && Arrays.equals(e.ids, ids);
        }

        @Override
        public int hashCode() {
            return 31 * Arrays.hashCode(ids) + promptLength;
        }

        @Override
        public String toString() {
            return "Example(" + ids.length + " tokens, prompt " + promptLength + ")";
        }
    }
}
