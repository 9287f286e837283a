package dev.ascendj.data.extract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Cutting records into passages: sentences, windows that fit, offsets that point back into the text. */
class PassageSplitterTest {
    private static List<String> texts(String text, List<int[]> spans) {
        return spans.stream().map(s -> text.substring(s[0], s[1])).collect(Collectors.toList());
    }

    @Test
    void sentencesEndAtTerminalPunctuationFollowedBySpaceAtHanStopsAndAtLineBreaks() {
        PassageSplitter s = new PassageSplitter(PassageSplitter.Mode.SENTENCE, t -> true);
        String text = "  Ada Brook was born in Harlow. She moved (in 2001) to Norrvik!  Version 3.5 shipped?\n"
                + "Liam said \"Stop.\" Then left.王芳出生于广州。她在北京工作！“好”";
        List<int[]> spans = s.split(text);
        assertEquals(List.of("Ada Brook was born in Harlow.", "She moved (in 2001) to Norrvik!", "Version 3.5 shipped?",
                "Liam said \"Stop.\"", "Then left.王芳出生于广州。", "她在北京工作！", "“好”"), texts(text, spans));
        for (int[] sp : spans) {
            assertTrue(!Character.isWhitespace(text.charAt(sp[0])) && !Character.isWhitespace(text.charAt(sp[1] - 1)));
        }
        assertEquals(List.of(), s.split("   \n  "));
    }

    @Test
    void lineModeKeepsARecordWholeWhenItFits() {
        PassageSplitter s = new PassageSplitter(PassageSplitter.Mode.LINE, t -> true);
        String text = " Two sentences. In one record. ";
        assertEquals(List.of("Two sentences. In one record."), texts(text, s.split(text)));
    }

    @Test
    void piecesThatDoNotFitAreCutIntoTheLongestFittingWindowsAtSpacesOrBetweenHanCharacters() {
        PassageSplitter s = new PassageSplitter(PassageSplitter.Mode.LINE, t -> t.length() <= 12);
        String text = "alpha beta gamma delta epsilon";
        List<String> w = texts(text, s.split(text));
        assertEquals(List.of("alpha beta", "gamma delta", "epsilon"), w);
        String zh = "王芳出生于广州她在北京工作";
        PassageSplitter five = new PassageSplitter(PassageSplitter.Mode.LINE, t -> t.length() <= 5);
        assertEquals(List.of("王芳出生于", "广州她在北", "京工作"), texts(zh, five.split(zh)));
        // An unbroken run longer than any window is still cut, so every character lands in a passage.
        String run = "abcdefghij";
        assertEquals(List.of("abcd", "efgh", "ij"), texts(run, new PassageSplitter(PassageSplitter.Mode.LINE,
                t -> t.length() <= 4).split(run)));
        // A piece that fits in no window at all still comes out (the extractor reports it as too long).
        assertEquals(List.of("a", "b"), texts("a b", new PassageSplitter(PassageSplitter.Mode.LINE, t -> false).split("a b")));
    }

    @Test
    void unknownModesAreRefusedByName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PassageSplitter.Mode.parse("words"));
        assertTrue(e.getMessage().contains("'words'"), e.getMessage());
        assertEquals(PassageSplitter.Mode.SENTENCE, PassageSplitter.Mode.parse("Sentences"));
    }
}
