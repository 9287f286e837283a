package dev.ascendj.acl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class AclErrorsTest {
    @Test
    void namesTheDocumentedCodes() {
        assertEquals("ACL_SUCCESS", AclErrors.name(0));
        assertEquals("ACL_ERROR_INVALID_PARAM", AclErrors.name(100000));
        assertEquals("ACL_ERROR_RT_INVALID_DEVICEID", AclErrors.name(107001));
        assertEquals("ACL_ERROR_RT_DEVICE_OOM", AclErrors.name(207018));
        assertEquals("ACL_ERROR_RT_STREAM_SYNC_TIMEOUT", AclErrors.name(507046));
        assertEquals("ACLNN_ERR_PARAM_NULLPTR", AclErrors.name(161001));
        assertEquals("ACLNN_ERR_INNER_TILING_ERROR", AclErrors.name(561002));
    }

    @Test
    void unknownCodesGetAReadableName() {
        assertEquals("UNKNOWN_ERROR_42", AclErrors.name(42));
        assertFalse(AclErrors.isKnown(42));
        assertTrue(AclErrors.isKnown(500001));
    }

    /**
     * Every error constant declared in the bindings is in the map under its own name. The sources are
     * read as text because reading the fields reflectively would initialise the classes, which loads
     * the native library.
     */
    @Test
    void everyErrorConstantOfTheBindingsIsNamed() throws IOException {
        Map<String, Integer> declared = new HashMap<>();
        Pattern p = Pattern.compile("public static final int ((?:ACL_ERROR|ACLNN_ERR)\\w*) = (\\d+);");
        for (String f : new String[] {"acl.java", "aclnn.java"}) {
            Path src = Paths.get("src/main/java/dev/ascendj/acl/global", f);
            Matcher m = p.matcher(Files.readString(src));
            while (m.find()) {
                declared.put(m.group(1), Integer.parseInt(m.group(2)));
            }
        }
        assertTrue(declared.size() > 40, "found " + declared.size());
        declared.forEach((name, code) -> {
            if (!name.equals("ACL_ERROR_NONE")) { // an alias of ACL_SUCCESS
                assertEquals(name, AclErrors.name(code), "code " + code);
            }
        });
        // The map holds ACL_SUCCESS and every declared error code except the alias ACL_ERROR_NONE.
        assertEquals(declared.size(), AclErrors.all().size());
    }
}
