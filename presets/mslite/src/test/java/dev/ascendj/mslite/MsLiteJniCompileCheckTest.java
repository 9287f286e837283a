package dev.ascendj.mslite;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.compilecheck.JniCompileCheck;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The JNI glue of the MindSpore Lite C++ binding compiles against the declared C++ API. */
class MsLiteJniCompileCheckTest {
    @Test
    void generatedJniSourceCompilesAgainstTheDeclaredCppApi() throws Exception {
        List<Path> sources = JniCompileCheck.run(JniCompileCheck.outputDir("mslite"), "c++17",
                "dev.ascendj.mslite.**");
        Path jni = sources.stream().filter(p -> p.getFileName().toString().equals("jnimslite.cpp")).findFirst()
                .orElseThrow(() -> new AssertionError("no jnimslite.cpp in " + sources));
        String src = Files.readString(jni);
        assertTrue(src.contains("std::make_shared<mindspore::AscendDeviceInfo>"), "shared_ptr allocation");
        assertTrue(src.contains("->Predict("), "Model::Predict bound");
        assertTrue(src.contains("ascendj::AppendDeviceInfo("), "helper bound");
    }
}
