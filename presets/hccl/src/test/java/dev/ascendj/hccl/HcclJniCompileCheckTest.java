package dev.ascendj.hccl;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.compilecheck.JniCompileCheck;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The JNI glue of the HCCL binding compiles against the documented declarations. */
class HcclJniCompileCheckTest {
    @Test
    void generatedJniSourceCompilesAgainstTheDocumentedDeclarations() throws Exception {
        List<Path> sources = JniCompileCheck.run(JniCompileCheck.outputDir("hccl"), "c++11",
                "dev.ascendj.hccl.**");
        assertTrue(sources.stream().anyMatch(p -> p.getFileName().toString().equals("jnihccl.cpp")), sources::toString);
    }
}
