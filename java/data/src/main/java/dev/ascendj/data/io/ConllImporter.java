package dev.ascendj.data.io;

import dev.ascendj.data.DataFormatException;
import dev.ascendj.data.Entity;
import dev.ascendj.data.KgSample;
import dev.ascendj.data.Task;
import dev.ascendj.data.TextNorm;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * CoNLL-style token-per-line files: the token in the first column, its tag in the last
 * (whitespace-separated; other columns ignored), a blank line after each sentence,
 * {@code -DOCSTART-} lines skipped. Tags are {@code O} or a prefix B, I, E, S (BILOU's L and U
 * read as E and S) joined by {@code -} or {@code _} to a label. Transitions are checked
 * ({@code I-LOC} may only continue a LOC entity unless the scheme is IOB1); a sentence with a bad
 * tag is one bad record, reported at the tag's line.
 *
 * <p>The sentence text is the tokens joined by a space, or by nothing between two CJK tokens
 * (Chinese corpora tag one character per line); each entity's offsets and text follow from it.
 */
final class ConllImporter {
    private static final Pattern TAG = Pattern.compile("([BIESLU])[-_](.+)");

    private ConllImporter() {
    }

    private record Token(String text, String tag, long line) {
    }

    static List<KgSample> read(Path file, ImportOptions options, BadRecords bad) {
        if (!Files.isRegularFile(file)) {
            throw new DataFormatException(file, 0, "no such file");
        }
        List<KgSample> out = new ArrayList<>();
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            List<Token> sentence = new ArrayList<>();
            String line;
            long n = 0;
            boolean badSentence = false;
            while ((line = r.readLine()) != null) {
                n++;
                String s = line.replace("\uFEFF", "").strip();
                if (s.isEmpty() || s.startsWith("-DOCSTART-")) {
                    flush(file, sentence, options, bad, out, badSentence);
                    sentence.clear();
                    badSentence = false;
                    continue;
                }
                if (badSentence) {
                    continue;
                }
                String[] cols = s.split("\\s+");
                if (cols.length < 2) {
                    bad.report(file, n, "expected a token and a tag, got '" + s + "'");
                    badSentence = true;
                    continue;
                }
                sentence.add(new Token(cols[0], cols[cols.length - 1], n));
            }
            flush(file, sentence, options, bad, out, badSentence);
        } catch (CharacterCodingException e) {
            throw new DataFormatException(file, 0, "not UTF-8 text");
        } catch (IOException e) {
            throw new DataFormatException(file, 0, "cannot read: " + e.getMessage());
        }
        return out;
    }

    private static void flush(Path file, List<Token> tokens, ImportOptions options, BadRecords bad, List<KgSample> out,
                              boolean badSentence) {
        if (tokens.isEmpty() || badSentence) {
            return;
        }
        try {
            out.add(sentence(file, tokens, options));
        } catch (RecordException e) {
            bad.report(file, e.line, e.getMessage());
        }
    }

    private static KgSample sentence(Path file, List<Token> tokens, ImportOptions options) {
        StringBuilder text = new StringBuilder();
        int[] start = new int[tokens.size()];
        int[] end = new int[tokens.size()];
        for (int i = 0; i < tokens.size(); i++) {
            String t = tokens.get(i).text();
            if (i > 0 && needsSpace(tokens.get(i - 1).text(), t, options.language())) {
                text.append(' ');
            }
            start[i] = text.length();
            text.append(t);
            end[i] = text.length();
        }
        String sentence = text.toString();
        List<Entity> entities = new ArrayList<>();
        String openType = null;
        int openStart = -1;
        boolean openCanContinue = false;
        for (int i = 0; i < tokens.size(); i++) {
            Token tok = tokens.get(i);
            char prefix;
            String label;
            if (tok.tag().equals("O")) {
                prefix = 'O';
                label = null;
            } else {
                Matcher m = TAG.matcher(tok.tag());
                if (!m.matches()) {
                    throw new RecordException(tok.line(), "bad tag '" + tok.tag()
                            + "' (expected O or B-, I-, E-, S- followed by a type)");
                }
                prefix = m.group(1).charAt(0) == 'L' ? 'E' : m.group(1).charAt(0) == 'U' ? 'S' : m.group(1).charAt(0);
                label = m.group(2);
            }
            if (options.scheme().equals("bio") && (prefix == 'E' || prefix == 'S')) {
                throw new RecordException(tok.line(), "tag '" + tok.tag() + "' is not BIO (scheme bio)");
            }
            boolean continues = openType != null && openCanContinue && label != null && label.equals(openType);
            if (prefix == 'I' || prefix == 'E') {
                if (!continues) {
                    if (options.scheme().equals("iob1") && prefix == 'I') {
                        closeOpen(entities, sentence, openType, openStart, end, i - 1, options);
                        openType = label;
                        openStart = start[i];
                        openCanContinue = true;
                        continue;
                    }
                    throw new RecordException(tok.line(), "tag '" + tok.tag() + "' does not continue an entity of type "
                            + label + (openType == null ? " (it follows O or starts the sentence)"
                            : " (it follows a " + openType + " tag)"));
                }
                if (prefix == 'E') {
                    closeOpen(entities, sentence, openType, openStart, end, i, options);
                    openType = null;
                }
                continue;
            }
            if (options.scheme().equals("bioes") && openType != null && openCanContinue) {
                throw new RecordException(tok.line(), "entity of type " + openType + " begun with B- is not ended by E-"
                        + " before '" + tok.tag() + "' (scheme bioes)");
            }
            closeOpen(entities, sentence, openType, openStart, end, i - 1, options);
            openType = null;
            if (prefix == 'B') {
                openType = label;
                openStart = start[i];
                openCanContinue = true;
            } else if (prefix == 'S') {
                entities.add(new Entity(options.type(label), sentence.substring(start[i], end[i]), start[i], end[i]));
            }
        }
        if (openType != null && options.scheme().equals("bioes")) {
            throw new RecordException(tokens.get(tokens.size() - 1).line(), "entity of type " + openType
                    + " is not ended by E- at the end of the sentence (scheme bioes)");
        }
        closeOpen(entities, sentence, openType, openStart, end, tokens.size() - 1, options);
        String lang = options.language() != null ? options.language() : TextNorm.language(sentence);
        return new KgSample(file.getFileName() + ":" + tokens.get(0).line(), Task.NER, options.domain(), lang, sentence,
                entities, List.of(), null, null);
    }

    private static void closeOpen(List<Entity> entities, String sentence, String type, int from, int[] end, int last,
                                  ImportOptions options) {
        if (type == null || last < 0) {
            return;
        }
        entities.add(new Entity(options.type(type), sentence.substring(from, end[last]), from, end[last]));
    }

    private static boolean needsSpace(String prev, String next, String language) {
        if ("zh".equals(language)) {
            return false;
        }
        int a = prev.codePointBefore(prev.length());
        int b = next.codePointAt(0);
        return !(TextNorm.isCjk(a) && TextNorm.isCjk(b));
    }
}
