/*
 * AscendJ's simulated CANN: what the four libraries share.
 *
 * The simulator is written by the AscendJ authors from the documented behaviour of ACL, aclnn and
 * HCCL (docs/ascend.md lists the sources); it includes only AscendJ's own declaration headers
 * (native/compile-check/include). libascendcl exports the ascendjSim* functions below, which
 * libnnopbase, libopapi and libhccl use to reach the runtime: device memory, streams, errors.
 */
#ifndef ASCENDJ_SIM_H
#define ASCENDJ_SIM_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "acl/acl.h"

/* aclError values (shared/reference/cann-api.md section 1.5). */
#define SIM_ACL_SUCCESS 0
#define SIM_ACL_ERROR_INVALID_PARAM 100000
#define SIM_ACL_ERROR_UNINITIALIZE 100001
#define SIM_ACL_ERROR_REPEAT_INITIALIZE 100002
#define SIM_ACL_ERROR_REPEAT_FINALIZE 100037
#define SIM_ACL_ERROR_BAD_ALLOC 200000
#define SIM_ACL_ERROR_INVALID_DEVICE 200002
#define SIM_ACL_ERROR_INVALID_RESOURCE_HANDLE 200005
#define SIM_ACL_ERROR_FEATURE_UNSUPPORTED 200006
#define SIM_ACL_ERROR_RT_PARAM_INVALID 107000
#define SIM_ACL_ERROR_RT_INVALID_DEVICEID 107001
#define SIM_ACL_ERROR_RT_CONTEXT_NULL 107002
#define SIM_ACL_ERROR_RT_STREAM_CONTEXT 107003
#define SIM_ACL_ERROR_RT_MEMORY_ALLOCATION 207001
#define SIM_ACL_ERROR_RT_MEMORY_FREE 207002
#define SIM_ACL_ERROR_RT_INTERNAL_ERROR 507000
#define SIM_ACL_ERROR_RT_AICORE_EXCEPTION 507015
#define SIM_ACL_ERROR_RT_STREAM_SYNC_TIMEOUT 507046

/* aclnnStatus values (opdev/op_errno.h, cann-api.md section 2.1). */
#define SIM_ACLNN_SUCCESS 0
#define SIM_ACLNN_ERR_PARAM_NULLPTR 161001
#define SIM_ACLNN_ERR_PARAM_INVALID 161002
#define SIM_ACLNN_ERR_RUNTIME_ERROR 361001
#define SIM_ACLNN_ERR_INNER 561000
#define SIM_ACLNN_ERR_INNER_TILING_ERROR 561002
#define SIM_ACLNN_ERR_INNER_FIND_KERNEL_ERROR 561003

#define SIM_EXPORT __attribute__((visibility("default")))
#define SIM_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* ------------------------------------------------------------------ errors */

/** Sets the calling thread's recent error message (what aclGetRecentErrMsg returns). */
SIM_EXPORT void ascendjSimError(const char *fmt, ...) SIM_PRINTF(1, 2);
SIM_EXPORT void ascendjSimErrorV(const char *fmt, va_list ap);

/* ------------------------------------------------------------------ configuration */

/** The simulated SoC's name (ASCENDJ_SIM_SOC, default "Ascend910A"). */
SIM_EXPORT const char *ascendjSimSocName(void);
/** 1 for the Atlas training series (910A family): no BF16, no fused LLaMA operators. */
SIM_EXPORT int ascendjSimIsAtlasTraining(void);
/** Whether aclInit (or aclnnInit) has run and aclFinalize has not. */
SIM_EXPORT int ascendjSimInitialized(void);
/** Reads a size such as "64m" or "2g" (bytes when no suffix); returns def when unset or bad. */
SIM_EXPORT int64_t ascendjSimEnvSize(const char *name, int64_t def);
SIM_EXPORT int64_t ascendjSimEnvInt(const char *name, int64_t def);

/* ------------------------------------------------------------------ devices and memory */

/** The device of the calling thread's current context, or -1 (and an error message) when none. */
SIM_EXPORT int ascendjSimCurrentDevice(void);
/**
 * Whether [p, p + bytes) lies inside one live device block; returns the block's device or -1.
 * bytes 0 checks the single address.
 */
SIM_EXPORT int ascendjSimDeviceRange(const void *p, uint64_t bytes);
/** Bytes from p to the end of its live device block, or 0 when p is not device memory. */
SIM_EXPORT uint64_t ascendjSimDeviceBytesFrom(const void *p);

/* ------------------------------------------------------------------ streams */

typedef struct SimTask SimTask;
/** Runs on the stream's thread; returns an aclError and describes a failure in msg. */
typedef int (*SimTaskRun)(SimTask *task, char *msg, size_t msgLen);

/** A unit of work on a stream. Embed it first in a larger struct; release frees that struct. */
struct SimTask {
    SimTask *next;
    SimTaskRun run;
    void (*release)(SimTask *task);
    char name[64];
};

/**
 * Resolves a stream handle for enqueueing from the calling thread: NULL means the current
 * context's default stream. Fails (aclError, with a message) for a destroyed or unknown stream,
 * no current context, or a stream of another context. *device receives the stream's device.
 */
SIM_EXPORT int ascendjSimStreamFor(aclrtStream stream, const char *api, void **resolved, int *device);
/** Appends task to a stream resolved by ascendjSimStreamFor; the stream owns it from then on. */
SIM_EXPORT int ascendjSimEnqueue(void *resolvedStream, SimTask *task);

/** Monotonic nanoseconds. */
SIM_EXPORT int64_t ascendjSimNanos(void);

#endif
