package dev.ascendj.acl.presets;

import org.bytedeco.javacpp.annotation.Platform;
import org.bytedeco.javacpp.annotation.Properties;

/**
 * JavaCPP configuration of the ACL runtime binding: which header the JNI glue includes and which
 * library it links, in the layout of an installed CANN toolkit
 * ({@code ${ASCEND_TOOLKIT_HOME}/include/acl/acl.h}, {@code ${ASCEND_TOOLKIT_HOME}/lib64/libascendcl.so}).
 *
 * <p>The bindings in {@link dev.ascendj.acl.global.acl} are written by hand from the documented
 * signatures; no CANN header is copied or parsed. The paths below are defaults: the Maven profile
 * {@code cann} (activated by {@code ASCEND_TOOLKIT_HOME}) overrides them, as does
 * {@code -Dplatform.includepath=...} on the JavaCPP command line.
 */
@Properties(value = @Platform(
        value = {"linux-x86_64", "linux-arm64"},
        include = "acl/acl.h",
        link = "ascendcl",
        includepath = acl.DEFAULT_TOOLKIT_HOME + "/include/",
        linkpath = acl.DEFAULT_TOOLKIT_HOME + "/lib64/",
        preloadpath = acl.DEFAULT_TOOLKIT_HOME + "/lib64/"))
public class acl {
    /** Where CANN's installer puts the toolkit by default (the target of {@code set_env.sh}). */
    public static final String DEFAULT_TOOLKIT_HOME = "/usr/local/Ascend/ascend-toolkit/latest";
}
