package dev.ascendj.acl;

import dev.ascendj.acl.global.acl;
import dev.ascendj.acl.global.aclnn;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Names of the codes that ACL ({@code aclError}, including the runtime's {@code ACL_ERROR_RT_*})
 * and aclnn ({@code aclnnStatus}) functions return. The two ranges do not overlap, so one map
 * serves both. Reading it does not load any native library.
 *
 * <pre>{@code
 * AclErrors.name(107001);   // "ACL_ERROR_RT_INVALID_DEVICEID"
 * AclErrors.name(42);       // "UNKNOWN_ERROR_42"
 * }</pre>
 */
public final class AclErrors {
    private static final Map<Integer, String> NAMES;

    static {
        // The constants are compile-time constants: using them here does not initialise acl or aclnn.
        Map<Integer, String> m = new LinkedHashMap<>();
        m.put(acl.ACL_SUCCESS, "ACL_SUCCESS");
        m.put(acl.ACL_ERROR_INVALID_PARAM, "ACL_ERROR_INVALID_PARAM");
        m.put(acl.ACL_ERROR_UNINITIALIZE, "ACL_ERROR_UNINITIALIZE");
        m.put(acl.ACL_ERROR_REPEAT_INITIALIZE, "ACL_ERROR_REPEAT_INITIALIZE");
        m.put(acl.ACL_ERROR_INVALID_FILE, "ACL_ERROR_INVALID_FILE");
        m.put(acl.ACL_ERROR_OP_NOT_FOUND, "ACL_ERROR_OP_NOT_FOUND");
        m.put(acl.ACL_ERROR_UNSUPPORTED_DATA_TYPE, "ACL_ERROR_UNSUPPORTED_DATA_TYPE");
        m.put(acl.ACL_ERROR_FORMAT_NOT_MATCH, "ACL_ERROR_FORMAT_NOT_MATCH");
        m.put(acl.ACL_ERROR_REPEAT_FINALIZE, "ACL_ERROR_REPEAT_FINALIZE");
        m.put(acl.ACL_ERROR_BAD_ALLOC, "ACL_ERROR_BAD_ALLOC");
        m.put(acl.ACL_ERROR_API_NOT_SUPPORT, "ACL_ERROR_API_NOT_SUPPORT");
        m.put(acl.ACL_ERROR_INVALID_DEVICE, "ACL_ERROR_INVALID_DEVICE");
        m.put(acl.ACL_ERROR_MEMORY_ADDRESS_UNALIGNED, "ACL_ERROR_MEMORY_ADDRESS_UNALIGNED");
        m.put(acl.ACL_ERROR_RESOURCE_NOT_MATCH, "ACL_ERROR_RESOURCE_NOT_MATCH");
        m.put(acl.ACL_ERROR_INVALID_RESOURCE_HANDLE, "ACL_ERROR_INVALID_RESOURCE_HANDLE");
        m.put(acl.ACL_ERROR_FEATURE_UNSUPPORTED, "ACL_ERROR_FEATURE_UNSUPPORTED");
        m.put(acl.ACL_ERROR_STORAGE_OVER_LIMIT, "ACL_ERROR_STORAGE_OVER_LIMIT");
        m.put(acl.ACL_ERROR_INTERNAL_ERROR, "ACL_ERROR_INTERNAL_ERROR");
        m.put(acl.ACL_ERROR_FAILURE, "ACL_ERROR_FAILURE");
        m.put(acl.ACL_ERROR_GE_FAILURE, "ACL_ERROR_GE_FAILURE");
        m.put(acl.ACL_ERROR_RT_FAILURE, "ACL_ERROR_RT_FAILURE");
        m.put(acl.ACL_ERROR_DRV_FAILURE, "ACL_ERROR_DRV_FAILURE");
        m.put(acl.ACL_ERROR_PROFILING_FAILURE, "ACL_ERROR_PROFILING_FAILURE");
        m.put(acl.ACL_ERROR_RT_PARAM_INVALID, "ACL_ERROR_RT_PARAM_INVALID");
        m.put(acl.ACL_ERROR_RT_INVALID_DEVICEID, "ACL_ERROR_RT_INVALID_DEVICEID");
        m.put(acl.ACL_ERROR_RT_CONTEXT_NULL, "ACL_ERROR_RT_CONTEXT_NULL");
        m.put(acl.ACL_ERROR_RT_STREAM_CONTEXT, "ACL_ERROR_RT_STREAM_CONTEXT");
        m.put(acl.ACL_ERROR_RT_WAIT_TIMEOUT, "ACL_ERROR_RT_WAIT_TIMEOUT");
        m.put(acl.ACL_ERROR_RT_FEATURE_NOT_SUPPORT, "ACL_ERROR_RT_FEATURE_NOT_SUPPORT");
        m.put(acl.ACL_ERROR_RT_MEMORY_ALLOCATION, "ACL_ERROR_RT_MEMORY_ALLOCATION");
        m.put(acl.ACL_ERROR_RT_MEMORY_FREE, "ACL_ERROR_RT_MEMORY_FREE");
        m.put(acl.ACL_ERROR_RT_AICORE_OVER_FLOW, "ACL_ERROR_RT_AICORE_OVER_FLOW");
        m.put(acl.ACL_ERROR_RT_NO_DEVICE, "ACL_ERROR_RT_NO_DEVICE");
        m.put(acl.ACL_ERROR_RT_DEVICE_OOM, "ACL_ERROR_RT_DEVICE_OOM");
        m.put(acl.ACL_ERROR_RT_INTERNAL_ERROR, "ACL_ERROR_RT_INTERNAL_ERROR");
        m.put(acl.ACL_ERROR_RT_AICORE_EXCEPTION, "ACL_ERROR_RT_AICORE_EXCEPTION");
        m.put(acl.ACL_ERROR_RT_STREAM_SYNC_TIMEOUT, "ACL_ERROR_RT_STREAM_SYNC_TIMEOUT");
        m.put(acl.ACL_ERROR_RT_HBM_MULTI_BIT_ECC_ERROR, "ACL_ERROR_RT_HBM_MULTI_BIT_ECC_ERROR");
        m.put(acl.ACL_ERROR_RT_LINK_ERROR, "ACL_ERROR_RT_LINK_ERROR");
        m.put(aclnn.ACLNN_ERR_PARAM_NULLPTR, "ACLNN_ERR_PARAM_NULLPTR");
        m.put(aclnn.ACLNN_ERR_PARAM_INVALID, "ACLNN_ERR_PARAM_INVALID");
        m.put(aclnn.ACLNN_ERR_RUNTIME_ERROR, "ACLNN_ERR_RUNTIME_ERROR");
        m.put(aclnn.ACLNN_ERR_INNER, "ACLNN_ERR_INNER");
        m.put(aclnn.ACLNN_ERR_INNER_INFERSHAPE_ERROR, "ACLNN_ERR_INNER_INFERSHAPE_ERROR");
        m.put(aclnn.ACLNN_ERR_INNER_TILING_ERROR, "ACLNN_ERR_INNER_TILING_ERROR");
        m.put(aclnn.ACLNN_ERR_INNER_FIND_KERNEL_ERROR, "ACLNN_ERR_INNER_FIND_KERNEL_ERROR");
        m.put(aclnn.ACLNN_ERR_INNER_CREATE_EXECUTOR, "ACLNN_ERR_INNER_CREATE_EXECUTOR");
        m.put(aclnn.ACLNN_ERR_INNER_NULLPTR, "ACLNN_ERR_INNER_NULLPTR");
        m.put(aclnn.ACLNN_ERR_INNER_OPP_PATH_NOT_FOUND, "ACLNN_ERR_INNER_OPP_PATH_NOT_FOUND");
        NAMES = Collections.unmodifiableMap(m);
    }

    private AclErrors() {
    }

    /** The constant's name for {@code code}, or {@code UNKNOWN_ERROR_<code>}. */
    public static String name(int code) {
        String n = NAMES.get(code);
        return n != null ? n : "UNKNOWN_ERROR_" + code;
    }

    /** Whether {@code code} is a documented ACL or aclnn code. */
    public static boolean isKnown(int code) {
        return NAMES.containsKey(code);
    }

    /** Every documented code and its name (0 is named {@code ACL_SUCCESS}). */
    public static Map<Integer, String> all() {
        return NAMES;
    }
}
