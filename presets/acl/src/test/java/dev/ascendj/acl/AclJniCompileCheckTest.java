package dev.ascendj.acl;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.compilecheck.JniCompileCheck;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The JNI glue of the ACL runtime and aclnn bindings compiles against the documented declarations. */
class AclJniCompileCheckTest {
    @Test
    void generatedJniSourceCompilesAgainstTheDocumentedDeclarations() throws Exception {
        List<Path> sources = JniCompileCheck.run(JniCompileCheck.outputDir("acl"), "c++11",
                "dev.ascendj.acl.**");
        assertTrue(sources.stream().anyMatch(p -> p.getFileName().toString().equals("jniacl.cpp")), sources::toString);
        assertTrue(sources.stream().anyMatch(p -> p.getFileName().toString().equals("jniaclnn.cpp")), sources::toString);
        String aclnn = Files.readString(sources.stream()
                .filter(p -> p.getFileName().toString().equals("jniaclnn.cpp")).findFirst().orElseThrow());
        // Every operator of the preset really reached the C++ side, in both phases.
        for (String op : new String[] {"aclnnMatmul", "aclnnRmsNorm", "aclnnFlashAttentionScoreGrad", "aclnnApplyAdamWV2"}) {
            assertTrue(aclnn.contains(op + "GetWorkspaceSize("), op);
            assertTrue(aclnn.contains(op + "("), op);
        }
    }
}
