package dev.ascendj.examples;

import dev.ascendj.core.Backend;
import dev.ascendj.core.Backends;
import dev.ascendj.model.Generator;
import dev.ascendj.model.LlamaModel;
import dev.ascendj.model.ModelFiles;
import dev.ascendj.model.tokenizer.LlamaTokenizer;
import dev.ascendj.model.tokenizer.PromptTemplate;
import java.nio.file.Path;

public final class GenerateExample {
    public static void main(String[] args) {
        Path dir = Path.of(args[0]);                      // a Hugging Face model directory, e.g. runs/demo/model
        Backend backend = Backends.get();                 // the CPU, or Ascend NPUs when CANN is there
        try (LlamaTokenizer tok = LlamaTokenizer.load(dir);
             LlamaModel model = ModelFiles.load(dir, backend.device(0), null, 0)) {
            int[] prompt = PromptTemplate.llama2().encodePrompt(tok,
                    "Extract all (head, relation, tail) triples from the text.", "Ada Brook was born in Harlow.");
            Generator generator = new Generator(model, backend.ops(model.device()), tok.vocabSize());
            int[] answer = generator.generate(prompt, tok.eosId(), Generator.Options.greedy(40));
            System.out.println(tok.decode(answer, true));
        }
    }
}
