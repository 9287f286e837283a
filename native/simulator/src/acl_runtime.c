/*
 * libascendcl of AscendJ's simulated CANN: the ACL runtime on host memory.
 *
 * Semantics follow the ACL documentation (shared/reference/cann-api.md, docs/ascend.md):
 * - aclInit once per process ("一个进程内只能调用一次aclInit接口", aclInit, CANN 5.0.4 application
 *   development guide); every runtime call needs it, and calls after aclFinalize fail.
 * - Runtime calls act on the calling thread's current context; a thread has none until
 *   aclrtSetDevice, aclrtCreateContext or aclrtSetCurrentContext gives it one.
 * - Streams are ordered queues that run asynchronously (here on one thread per stream), so a host
 *   read without synchronisation sees stale data, as on an NPU. Errors of queued work are
 *   reported by the next synchronisation of the stream.
 * - Device memory is host memory accounted against a configurable capacity; fresh and freed blocks
 *   are filled with 0xFF bytes (NaN as floats) and freed blocks are quarantined for a while, so
 *   reads of uninitialised or freed memory and work that outlives its buffers show up.
 *
 * Configuration (environment, read by aclInit): ASCENDJ_SIM_SOC (default Ascend910A),
 * ASCENDJ_SIM_DEVICES (8), ASCENDJ_SIM_DEVICE_MEMORY (per SoC: 32g for 910A and 910B4, 64g for
 * 910B1-B3), ASCENDJ_SIM_LAUNCH_DELAY_US (0: extra latency before every queued task),
 * ASCENDJ_SIM_POISON (1).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sim.h"
#include "sim_numeric.h"
#include "sim_registry.h"

#define CONTEXT_MAGIC 0xC0E7E47u
#define STREAM_MAGIC 0x57AEA11u
#define EVENT_MAGIC 0xE7E47EEu
#define MAX_DEVICES 64
#define QUARANTINE_BYTES (64ll << 20)
#define QUARANTINE_BLOCKS 4096

/* ------------------------------------------------------------------ errors */

static __thread char tl_err[1024];
static __thread char tl_errOut[1024];
static __thread int tl_lastError;

void ascendjSimErrorV(const char *fmt, va_list ap) {
    vsnprintf(tl_err, sizeof tl_err, fmt, ap);
}

void ascendjSimError(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    ascendjSimErrorV(fmt, ap);
    va_end(ap);
}

/** Records code and message for the calling thread and returns code. */
static int fail(int code, const char *fmt, ...) SIM_PRINTF(2, 3);

static int fail(int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    ascendjSimErrorV(fmt, ap);
    va_end(ap);
    tl_lastError = code;
    return code;
}

const char *aclGetRecentErrMsg(void) {
    if (tl_err[0] == 0) {
        return NULL;
    }
    memcpy(tl_errOut, tl_err, sizeof tl_errOut);
    tl_err[0] = 0;
    return tl_errOut;
}

aclError aclrtGetLastError(aclrtLastErrLevel level) {
    (void) level;
    int e = tl_lastError;
    tl_lastError = 0;
    return e;
}

aclError aclrtPeekAtLastError(aclrtLastErrLevel level) {
    (void) level;
    return tl_lastError;
}

/* ------------------------------------------------------------------ configuration */

static char g_soc[64] = "Ascend910A";
static int g_deviceCount = 8;
static int64_t g_capacity;
static int64_t g_launchDelayUs;
static int g_poison = 1;

int64_t ascendjSimEnvSize(const char *name, int64_t def) {
    const char *v = getenv(name);
    if (v == NULL || *v == 0) {
        return def;
    }
    char *end;
    double x = strtod(v, &end);
    if (end == v || x < 0) {
        return def;
    }
    switch (*end) {
        case 'k': case 'K': x *= 1024; break;
        case 'm': case 'M': x *= 1024.0 * 1024; break;
        case 'g': case 'G': x *= 1024.0 * 1024 * 1024; break;
        case 0: break;
        default: return def;
    }
    return (int64_t) x;
}

int64_t ascendjSimEnvInt(const char *name, int64_t def) {
    const char *v = getenv(name);
    if (v == NULL || *v == 0) {
        return def;
    }
    char *end;
    long long x = strtoll(v, &end, 10);
    return end == v || *end != 0 ? def : (int64_t) x;
}

const char *ascendjSimSocName(void) {
    return g_soc;
}

int ascendjSimIsAtlasTraining(void) {
    /* The Atlas training series: Ascend910A, Ascend910ProA/ProB, Ascend910PremiumA (TP NpuVariables.cpp). */
    return strncmp(g_soc, "Ascend910", 9) == 0 && strncmp(g_soc, "Ascend910B", 10) != 0
           && strncmp(g_soc, "Ascend910_93", 12) != 0;
}

/** Default HBM per SoC: 32 GB on 910A and 910B4, 64 GB on 910B1-B3 ([HAMi], [AC] in cann-api.md section 6). */
static int64_t default_capacity(void) {
    if (strncmp(g_soc, "Ascend910B", 10) == 0 && strcmp(g_soc, "Ascend910B4") != 0) {
        return 64ll << 30;
    }
    if (strncmp(g_soc, "Ascend910_93", 12) == 0) {
        return 64ll << 30;
    }
    return 32ll << 30;
}

/** AI cores: 30 on 910A, 24 on 910B2, 20 on 910B3/B4 ([HAMi]); 910B1 and A3 as B2. */
static int64_t aicore_count(void) {
    if (ascendjSimIsAtlasTraining()) {
        return 30;
    }
    if (strcmp(g_soc, "Ascend910B3") == 0 || strcmp(g_soc, "Ascend910B4") == 0) {
        return 20;
    }
    return 24;
}

int64_t ascendjSimNanos(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

/* ------------------------------------------------------------------ global state */

typedef struct SimStream SimStream;

typedef struct SimContext {
    uint32_t magic;
    int device;
    int primary; /* the device's own context (aclrtSetDevice) */
    SimStream *defaultStream;
} SimContext;

struct SimStream {
    uint32_t magic;
    SimContext *ctx;
    int device;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    SimTask *head;
    SimTask *tail;
    int busy;
    int stop;
    pthread_t thread;
    int error;
    char errorMsg[768];
};

typedef struct SimEvent {
    uint32_t magic;
    SimContext *ctx;
    int device;
    uint64_t recorded;
    uint64_t completed;
    int64_t stamp;
    int refs;
    int destroyed;
} SimEvent;

typedef struct {
    int refs;            /* aclrtSetDevice calls not yet reset */
    SimContext *primary; /* created by the first aclrtSetDevice */
    int64_t used;        /* bytes allocated */
    uint64_t peers;      /* devices whose memory this one may access */
} SimDevice;

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t g_eventMu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_eventCv = PTHREAD_COND_INITIALIZER;
static int g_initialized;
static int g_finalized;
static SimDevice g_devices[MAX_DEVICES];
static SimRegistry g_contexts;
static SimRegistry g_streams;
static SimRegistry g_events;
static __thread SimContext *tl_ctx;

int ascendjSimInitialized(void) {
    return g_initialized && !g_finalized;
}

static int check_init(const char *api) {
    if (g_finalized) {
        return fail(SIM_ACL_ERROR_UNINITIALIZE, "%s: ACL was finalized in this process (aclFinalize)", api);
    }
    if (!g_initialized) {
        return fail(SIM_ACL_ERROR_UNINITIALIZE, "%s: call aclInit first", api);
    }
    return 0;
}

/** The calling thread's current context if it is still alive; g_mu held. */
static SimContext *current_locked(void) {
    if (tl_ctx != NULL && !sim_registry_contains(&g_contexts, tl_ctx)) {
        tl_ctx = NULL;
    }
    return tl_ctx;
}

static int need_context(const char *api, SimContext **ctx) {
    int r = check_init(api);
    if (r) {
        return r;
    }
    pthread_mutex_lock(&g_mu);
    *ctx = current_locked();
    pthread_mutex_unlock(&g_mu);
    if (*ctx == NULL) {
        return fail(SIM_ACL_ERROR_RT_CONTEXT_NULL, "%s: the calling thread has no current context "
                    "(call aclrtSetDevice or aclrtSetCurrentContext on this thread first)", api);
    }
    return 0;
}

int ascendjSimCurrentDevice(void) {
    SimContext *c;
    return need_context("aclnn", &c) ? -1 : c->device;
}

/* ------------------------------------------------------------------ device memory */

typedef struct {
    uintptr_t base;
    uint64_t size;
    int device; /* -1 for pinned host memory */
} SimBlock;

static pthread_mutex_t g_memMu = PTHREAD_MUTEX_INITIALIZER;
static SimBlock *g_blocks;
static size_t g_nblocks;
static size_t g_capBlocks;
static void *g_quarantine[QUARANTINE_BLOCKS];
static int64_t g_quarantineSize[QUARANTINE_BLOCKS];
static size_t g_qhead;
static size_t g_qcount;
static int64_t g_qbytes;

/** Index of the block with the largest base <= p, or -1; g_memMu held. */
static long find_block(uintptr_t p) {
    long lo = 0, hi = (long) g_nblocks - 1, best = -1;
    while (lo <= hi) {
        long mid = (lo + hi) / 2;
        if (g_blocks[mid].base <= p) {
            best = mid;
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    return best;
}

static int add_block(uintptr_t base, uint64_t size, int device) {
    if (g_nblocks == g_capBlocks) {
        size_t cap = g_capBlocks ? g_capBlocks * 2 : 256;
        SimBlock *b = (SimBlock *) realloc(g_blocks, cap * sizeof(SimBlock));
        if (b == NULL) {
            return 0;
        }
        g_blocks = b;
        g_capBlocks = cap;
    }
    long at = find_block(base) + 1;
    memmove(&g_blocks[at + 1], &g_blocks[at], (g_nblocks - (size_t) at) * sizeof(SimBlock));
    g_blocks[at].base = base;
    g_blocks[at].size = size;
    g_blocks[at].device = device;
    g_nblocks++;
    return 1;
}

/** The block that starts exactly at p, removed; returns 0 when there is none. */
static int remove_block(uintptr_t p, SimBlock *out) {
    long i = find_block(p);
    if (i < 0 || g_blocks[i].base != p) {
        return 0;
    }
    *out = g_blocks[i];
    memmove(&g_blocks[i], &g_blocks[i + 1], (g_nblocks - (size_t) i - 1) * sizeof(SimBlock));
    g_nblocks--;
    return 1;
}

int ascendjSimDeviceRange(const void *p, uint64_t bytes) {
    uintptr_t a = (uintptr_t) p;
    int device = -1;
    pthread_mutex_lock(&g_memMu);
    long i = find_block(a);
    if (i >= 0 && g_blocks[i].device >= 0 && a < g_blocks[i].base + g_blocks[i].size
        && a + bytes <= g_blocks[i].base + g_blocks[i].size) {
        device = g_blocks[i].device;
    }
    pthread_mutex_unlock(&g_memMu);
    return device;
}

uint64_t ascendjSimDeviceBytesFrom(const void *p) {
    uintptr_t a = (uintptr_t) p;
    uint64_t n = 0;
    pthread_mutex_lock(&g_memMu);
    long i = find_block(a);
    if (i >= 0 && g_blocks[i].device >= 0 && a < g_blocks[i].base + g_blocks[i].size) {
        n = g_blocks[i].base + g_blocks[i].size - a;
    }
    pthread_mutex_unlock(&g_memMu);
    return n;
}

/** Whether p lies in any live block (device or pinned host); *device gets the block's device. */
static int block_of(const void *p, int *device, uint64_t *avail) {
    uintptr_t a = (uintptr_t) p;
    int found = 0;
    pthread_mutex_lock(&g_memMu);
    long i = find_block(a);
    if (i >= 0 && a < g_blocks[i].base + g_blocks[i].size) {
        found = 1;
        *device = g_blocks[i].device;
        *avail = g_blocks[i].base + g_blocks[i].size - a;
    }
    pthread_mutex_unlock(&g_memMu);
    return found;
}

/** Keeps freed memory poisoned and unused for a while, so that late readers see NaN, not new data. */
static void quarantine(void *p, int64_t size) {
    if (g_poison) {
        memset(p, 0xff, (size_t) size);
    }
    pthread_mutex_lock(&g_memMu);
    while (g_qcount > 0 && (g_qcount == QUARANTINE_BLOCKS || g_qbytes + size > QUARANTINE_BYTES)) {
        free(g_quarantine[g_qhead]);
        g_qbytes -= g_quarantineSize[g_qhead];
        g_qhead = (g_qhead + 1) % QUARANTINE_BLOCKS;
        g_qcount--;
    }
    size_t slot = (g_qhead + g_qcount) % QUARANTINE_BLOCKS;
    g_quarantine[slot] = p;
    g_quarantineSize[slot] = size;
    g_qcount++;
    g_qbytes += size;
    pthread_mutex_unlock(&g_memMu);
}

static uint64_t accounted(uint64_t size) {
    return (size + 31) & ~(uint64_t) 31;
}

static aclError device_malloc(void **devPtr, size_t size, aclrtMemMallocPolicy policy, const char *api) {
    SimContext *ctx = NULL;
    int r = need_context(api, &ctx);
    if (r) {
        return r;
    }
    if (devPtr == NULL) {
        return fail(SIM_ACL_ERROR_INVALID_PARAM, "%s: devPtr is NULL", api);
    }
    *devPtr = NULL;
    if (size == 0) {
        return fail(SIM_ACL_ERROR_INVALID_PARAM, "%s: size must be greater than 0", api);
    }
    int base = (int) policy & 0xff;
    if (base > 7) {
        return fail(SIM_ACL_ERROR_INVALID_PARAM, "%s: unknown aclrtMemMallocPolicy %d", api, (int) policy);
    }
    int dev = ctx->device;
    uint64_t need = accounted(size);
    pthread_mutex_lock(&g_mu);
    int64_t free_ = g_capacity - g_devices[dev].used;
    if ((int64_t) need > free_) {
        pthread_mutex_unlock(&g_mu);
        return fail(SIM_ACL_ERROR_RT_MEMORY_ALLOCATION, "%s: out of device memory on device %d: %zu bytes asked, "
                    "%lld of %lld free (ASCENDJ_SIM_DEVICE_MEMORY sets the size)", api, dev, size,
                    (long long) (free_ < 0 ? 0 : free_), (long long) g_capacity);
    }
    g_devices[dev].used += (int64_t) need;
    pthread_mutex_unlock(&g_mu);
    void *p = NULL;
    if (posix_memalign(&p, 64, need) != 0) {
        pthread_mutex_lock(&g_mu);
        g_devices[dev].used -= (int64_t) need;
        pthread_mutex_unlock(&g_mu);
        return fail(SIM_ACL_ERROR_RT_MEMORY_ALLOCATION, "%s: the host cannot back %zu bytes of simulated device "
                    "memory", api, size);
    }
    if (g_poison) {
        memset(p, 0xff, need);
    }
    pthread_mutex_lock(&g_memMu);
    int ok = add_block((uintptr_t) p, size, dev);
    pthread_mutex_unlock(&g_memMu);
    if (!ok) {
        free(p);
        pthread_mutex_lock(&g_mu);
        g_devices[dev].used -= (int64_t) need;
        pthread_mutex_unlock(&g_mu);
        return fail(SIM_ACL_ERROR_BAD_ALLOC, "%s: out of host memory", api);
    }
    *devPtr = p;
    return 0;
}

aclError aclrtMalloc(void **devPtr, size_t size, aclrtMemMallocPolicy policy) {
    return device_malloc(devPtr, size, policy, "aclrtMalloc");
}

aclError aclrtMallocAlign32(void **devPtr, size_t size, aclrtMemMallocPolicy policy) {
    return device_malloc(devPtr, size, policy, "aclrtMallocAlign32");
}

aclError aclrtFree(void *devPtr) {
    int r = check_init("aclrtFree");
    if (r) {
        return r;
    }
    if (devPtr == NULL) {
        return fail(SIM_ACL_ERROR_INVALID_PARAM, "aclrtFree: devPtr is NULL");
    }
    SimBlock b;
    pthread_mutex_lock(&g_memMu);
    int found = remove_block((uintptr_t) devPtr, &b);
    if (found && b.device < 0) {
        add_block(b.base, b.size, b.device); /* pinned host memory: put it back */
        found = -1;
    }
    pthread_mutex_unlock(&g_memMu);
    if (found == -1) {
        return fail(SIM_ACL_ERROR_RT_MEMORY_FREE, "aclrtFree: %p is host memory from aclrtMallocHost; free it "
                    "with aclrtFreeHost", devPtr);
    }
    if (!found) {
        return fail(SIM_ACL_ERROR_RT_MEMORY_FREE, "aclrtFree: %p is not the start of a live block from aclrtMalloc "
                    "(freed twice, or not device memory)", devPtr);
    }
    pthread_mutex_lock(&g_mu);
    g_devices[b.device].used -= (int64_t) accounted(b.size);
    pthread_mutex_unlock(&g_mu);
    quarantine(devPtr, (int64_t) accounted(b.size));
    return 0;
}

aclError aclrtMallocHost(void **hostPtr, size_t size) {
    SimContext *ctx = NULL;
    int r = need_context("aclrtMallocHost", &ctx);
    if (r) {
        return r;
    }
    if (hostPtr == NULL || size == 0) {
        return fail(SIM_ACL_ERROR_INVALID_PARAM, "aclrtMallocHost: %s", hostPtr == NULL ? "hostPtr is NULL"
                    : "size must be greater than 0");
    }
    void *p = NULL;
    if (posix_memalign(&p, 64, size) != 0) {
        return fail(SIM_ACL_ERROR_BAD_ALLOC, "aclrtMallocHost: out of host memory (%zu bytes)", size);
    }
    pthread_mutex_lock(&g_memMu);
    int ok = add_block((uintptr_t) p, size, -1);
    pthread_mutex_unlock(&g_memMu);
    if (!ok) {
        free(p);
        return fail(SIM_ACL_ERROR_BAD_ALLOC, "aclrtMallocHost: out of host memory");
    }
    *hostPtr = p;
    return 0;
}

aclError aclrtFreeHost(void *hostPtr) {
    int r = check_init("aclrtFreeHost");
    if (r) {
        return r;
    }
    SimBlock b;
    pthread_mutex_lock(&g_memMu);
    int found = hostPtr != NULL && remove_block((uintptr_t) hostPtr, &b);
    if (found && b.device >= 0) {
        add_block(b.base, b.size, b.device);
        found = -1;
    }
    pthread_mutex_unlock(&g_memMu);
    if (found == -1) {
        return fail(SIM_ACL_ERROR_RT_MEMORY_FREE, "aclrtFreeHost: %p is device memory; free it with aclrtFree",
                    hostPtr);
    }
    if (!found) {
        return fail(SIM_ACL_ERROR_RT_MEMORY_FREE, "aclrtFreeHost: %p is not the start of a live block from "
                    "aclrtMallocHost (freed twice?)", hostPtr);
    }
    free(hostPtr);
    return 0;
}

aclError aclrtGetMemInfo(aclrtMemAttr attr, size_t *free_, size_t *total) {
    SimContext *ctx = NULL;
    int r = need_context("aclrtGetMemInfo", &ctx);
    if (r) {
        return r;
    }
    if (free_ == NULL || total == NULL) {
        return fail(SIM_ACL_ERROR_INVALID_PARAM, "aclrtGetMemInfo: free and total must not be NULL");
    }
    if ((int) attr < 0 || (int) attr > 17) {
        return fail(SIM_ACL_ERROR_INVALID_PARAM, "aclrtGetMemInfo: unknown aclrtMemAttr %d", (int) attr);
    }
    pthread_mutex_lock(&g_mu);
    int64_t used = g_devices[ctx->device].used;
    pthread_mutex_unlock(&g_mu);
    /* The simulated device has only HBM; DDR attributes report none. */
    int ddr = attr == ACL_DDR_MEM || (int) attr == 2 || (int) attr == 3 || (int) attr == 6 || (int) attr == 7;
    *total = ddr ? 0 : (size_t) g_capacity;
    *free_ = ddr ? 0 : (size_t) (g_capacity - used);
    return 0;
}

/* ------------------------------------------------------------------ initialisation and devices */

aclError aclInit(const char *configPath) {
    pthread_mutex_lock(&g_mu);
    if (g_initialized) {
        pthread_mutex_unlock(&g_mu);
        return fail(SIM_ACL_ERROR_REPEAT_INITIALIZE, "aclInit: ACL is initialised once per process%s",
                    g_finalized ? " (it was finalized and cannot be initialised again)" : "");
    }
    if (configPath != NULL && *configPath) {
        FILE *f = fopen(configPath, "r");
        if (f == NULL) {
            pthread_mutex_unlock(&g_mu);
            return fail(100003 /* ACL_ERROR_INVALID_FILE */, "aclInit: cannot read the configuration file %s",
                        configPath);
        }
        fclose(f);
    }
    const char *soc = getenv("ASCENDJ_SIM_SOC");
    if (soc != NULL && *soc) {
        snprintf(g_soc, sizeof g_soc, "%s", soc);
    }
    g_deviceCount = (int) ascendjSimEnvInt("ASCENDJ_SIM_DEVICES", 8);
    if (g_deviceCount < 0 || g_deviceCount > MAX_DEVICES) {
        pthread_mutex_unlock(&g_mu);
        return fail(SIM_ACL_ERROR_INVALID_PARAM, "aclInit: ASCENDJ_SIM_DEVICES must be 0..%d", MAX_DEVICES);
    }
    g_capacity = ascendjSimEnvSize("ASCENDJ_SIM_DEVICE_MEMORY", default_capacity());
    g_launchDelayUs = ascendjSimEnvInt("ASCENDJ_SIM_LAUNCH_DELAY_US", 0);
    g_poison = (int) ascendjSimEnvInt("ASCENDJ_SIM_POISON", 1);
    g_initialized = 1;
    pthread_mutex_unlock(&g_mu);
    return 0;
}

static void destroy_stream(SimStream *s);

aclError aclFinalize(void) {
    pthread_mutex_lock(&g_mu);
    if (!g_initialized || g_finalized) {
        pthread_mutex_unlock(&g_mu);
        return fail(SIM_ACL_ERROR_REPEAT_FINALIZE, "aclFinalize: ACL is not initialised");
    }
    g_finalized = 1;
    pthread_mutex_unlock(&g_mu);
    return 0;
}

const char *aclrtGetSocName(void) {
    return ascendjSimInitialized() ? g_soc : NULL;
}

aclError aclrtGetDeviceCount(uint32_t *count) {
    int r = check_init("aclrtGetDeviceCount");
    if (r) {
        return r;
    }
    if (count == NULL) {
        return fail(SIM_ACL_ERROR_INVALID_PARAM, "aclrtGetDeviceCount: count is NULL");
    }
    *count = (uint32_t) g_deviceCount;
    return 0;
}

static int check_device(const char *api, int32_t deviceId) {
    if (deviceId < 0 || deviceId >= g_deviceCount) {
        return fail(SIM_ACL_ERROR_RT_INVALID_DEVICEID, "%s: no device %d (%d simulated, ASCENDJ_SIM_DEVICES)", api,
                    deviceId, g_deviceCount);
    }
    return 0;
}

static SimContext *new_context(int device, int primary) {
    SimContext *c = (SimContext *) calloc(1, sizeof(SimContext));
    if (c == NULL) {
        return NULL;
    }
    c->magic = CONTEXT_MAGIC;
    c->device = device;
    c->primary = primary;
    if (!sim_registry_add(&g_contexts, c)) {
        free(c);
        return NULL;
    }
    return c;
}

aclError aclrtSetDevice(int32_t deviceId) {
    int r = check_init("aclrtSetDevice");
    if (r || (r = check_device("aclrtSetDevice", deviceId))) {
        return r;
    }
    pthread_mutex_lock(&g_mu);
    SimDevice *d = &g_devices[deviceId];
    if (d->primary == NULL) {
        d->primary = new_context(deviceId, 1);
        if (d->primary == NULL) {
            pthread_mutex_unlock(&g_mu);
            return fail(SIM_ACL_ERROR_BAD_ALLOC, "aclrtSetDevice: out of host memory");
        }
    }
    d->refs++;
    tl_ctx = d->primary;
    pthread_mutex_unlock(&g_mu);
    return 0;
}

/** Destroys every stream of c, then c; g_mu NOT held. */
static void destroy_context(SimContext *c) {
    for (;;) {
        SimStream *victim = NULL;
        pthread_mutex_lock(&g_mu);
        for (size_t i = 0; i < g_streams.capacity && victim == NULL; i++) {
            SimStream *s = (SimStream *) g_streams.slots[i];
            if ((uintptr_t) s > 1 && s->ctx == c) {
                victim = s;
                sim_registry_remove(&g_streams, s);
            }
        }
        pthread_mutex_unlock(&g_mu);
        if (victim == NULL) {
            break;
        }
        destroy_stream(victim);
    }
    pthread_mutex_lock(&g_mu);
    sim_registry_remove(&g_contexts, c);
    if (tl_ctx == c) {
        tl_ctx = NULL;
    }
    pthread_mutex_unlock(&g_mu);
    c->magic = 0;
    free(c);
}

aclError aclrtResetDevice(int32_t deviceId) {
    int r = check_init("aclrtResetDevice");
    if (r || (r = check_device("aclrtResetDevice", deviceId))) {
        return r;
    }
    pthread_mutex_lock(&g_mu);
    SimDevice *d = &g_devices[deviceId];
    if (d->refs == 0) {
        pthread_mutex_unlock(&g_mu);
        return fail(SIM_ACL_ERROR_INVALID_PARAM, "aclrtResetDevice: device %d was not set by aclrtSetDevice",
                    deviceId);
    }
    SimContext *primary = NULL;
    if (--d->refs == 0) {
        primary = d->primary;
        d->primary = NULL;
    }
    pthread_mutex_unlock(&g_mu);
    if (primary != NULL) {
        destroy_context(primary);
    }
    return 0;
}

aclError aclrtGetDevice(int32_t *deviceId) {
    SimContext *ctx = NULL;
    int r = need_context("aclrtGetDevice", &ctx);
    if (r) {
        return r;
    }
    if (deviceId == NULL) {
        return fail(SIM_ACL_ERROR_INVALID_PARAM, "aclrtGetDevice: deviceId is NULL");
    }
    *deviceId = ctx->device;
    return 0;
}

aclError aclrtGetRunMode(aclrtRunMode *runMode) {
    int r = check_init("aclrtGetRunMode");
    if (r) {
        return r;
    }
    if (runMode == NULL) {
        return fail(SIM_ACL_ERROR_INVALID_PARAM, "aclrtGetRunMode: runMode is NULL");
    }
    *runMode = ACL_HOST;
    return 0;
}

aclError aclrtGetVersion(int32_t *majorVersion, int32_t *minorVersion, int32_t *patchVersion) {
    if (majorVersion == NULL || minorVersion == NULL || patchVersion == NULL) {
        return fail(SIM_ACL_ERROR_INVALID_PARAM, "aclrtGetVersion: NULL argument");
    }
    /* The simulator's own version, not a CANN release. */
    *majorVersion = 0;
    *minorVersion = 1;
    *patchVersion = 0;
    return 0;
}

aclError aclrtGetDeviceInfo(uint32_t deviceId, aclrtDevAttr attr, int64_t *value) {
    int r = check_init("aclrtGetDeviceInfo");
    if (r || (r = check_device("aclrtGetDeviceInfo", (int32_t) deviceId))) {
        return r;
    }
    if (value == NULL) {
        return fail(SIM_ACL_ERROR_INVALID_PARAM, "aclrtGetDeviceInfo: value is NULL");
    }
    switch ((int) attr) {
        case ACL_DEV_ATTR_AICORE_CORE_NUM:
        case ACL_DEV_ATTR_CUBE_CORE_NUM:
            *value = aicore_count();
            return 0;
        case ACL_DEV_ATTR_VECTOR_CORE_NUM:
            *value = ascendjSimIsAtlasTraining() ? 0 : 2 * aicore_count();
            return 0;
        case ACL_DEV_ATTR_TOTAL_GLOBAL_MEM_SIZE:
            *value = g_capacity;
            return 0;
        default:
            return fail(SIM_ACL_ERROR_FEATURE_UNSUPPORTED, "aclrtGetDeviceInfo: attribute %d is not simulated",
                        (int) attr);
    }
}

/** 910A: cards 0-3 and 4-7 are separate HCCS groups (hicann/hccl constraints.md); A2: full mesh. */
static int same_hccs_group(int a, int b) {
    return !ascendjSimIsAtlasTraining() || a / 4 == b / 4;
}

aclError aclrtDeviceCanAccessPeer(int32_t *canAccessPeer, int32_t deviceId, int32_t peerDeviceId) {
    int r = check_init("aclrtDeviceCanAccessPeer");
    if (r || (r = check_device("aclrtDeviceCanAccessPeer", deviceId))
        || (r = check_device("aclrtDeviceCanAccessPeer", peerDeviceId))) {
        return r;
    }
    if (canAccessPeer == NULL) {
        return fail(SIM_ACL_ERROR_INVALID_PARAM, "aclrtDeviceCanAccessPeer: canAccessPeer is NULL");
    }
    *canAccessPeer = deviceId != peerDeviceId && same_hccs_group(deviceId, peerDeviceId);
    return 0;
}

aclError aclrtDeviceEnablePeerAccess(int32_t peerDeviceId, uint32_t flags) {
    SimContext *ctx = NULL;
    int r = need_context("aclrtDeviceEnablePeerAccess", &ctx);
    if (r || (r = check_device("aclrtDeviceEnablePeerAccess", peerDeviceId))) {
        return r;
    }
    if (flags != 0) {
        return fail(SIM_ACL_ERROR_INVALID_PARAM, "aclrtDeviceEnablePeerAccess: flags must be 0");
    }
    if (peerDeviceId == ctx->device || !same_hccs_group(ctx->device, peerDeviceId)) {
        return fail(SIM_ACL_ERROR_FEATURE_UNSUPPORTED, "aclrtDeviceEnablePeerAccess: device %d cannot access "
                    "device %d", ctx->device, peerDeviceId);
    }
    pthread_mutex_lock(&g_mu);
    g_devices[ctx->device].peers |= 1ull << peerDeviceId;
    pthread_mutex_unlock(&g_mu);
    return 0;
}

/* ------------------------------------------------------------------ contexts */

aclError aclrtCreateContext(aclrtContext *context, int32_t deviceId) {
    int r = check_init("aclrtCreateContext");
    if (r || (r = check_device("aclrtCreateContext", deviceId))) {
        return r;
    }
    if (context == NULL) {
        return fail(SIM_ACL_ERROR_INVALID_PARAM, "aclrtCreateContext: context is NULL");
    }
    pthread_mutex_lock(&g_mu);
    SimContext *c = new_context(deviceId, 0);
    if (c != NULL) {
        tl_ctx = c; /* a new context becomes the calling thread's current one */
    }
    pthread_mutex_unlock(&g_mu);
    if (c == NULL) {
        return fail(SIM_ACL_ERROR_BAD_ALLOC, "aclrtCreateContext: out of host memory");
    }
    *context = c;
    return 0;
}

aclError aclrtDestroyContext(aclrtContext context) {
    int r = check_init("aclrtDestroyContext");
    if (r) {
        return r;
    }
    pthread_mutex_lock(&g_mu);
    int ok = sim_registry_contains(&g_contexts, context) && !((SimContext *) context)->primary;
    pthread_mutex_unlock(&g_mu);
    if (!ok) {
        return fail(SIM_ACL_ERROR_INVALID_RESOURCE_HANDLE, "aclrtDestroyContext: %p is not a live context made by "
                    "aclrtCreateContext (destroyed twice?)", context);
    }
    destroy_context((SimContext *) context);
    return 0;
}

aclError aclrtSetCurrentContext(aclrtContext context) {
    int r = check_init("aclrtSetCurrentContext");
    if (r) {
        return r;
    }
    pthread_mutex_lock(&g_mu);
    int ok = sim_registry_contains(&g_contexts, context);
    if (ok) {
        tl_ctx = (SimContext *) context;
    }
    pthread_mutex_unlock(&g_mu);
    if (!ok) {
        return fail(SIM_ACL_ERROR_INVALID_RESOURCE_HANDLE, "aclrtSetCurrentContext: %p is not a live context",
                    context);
    }
    return 0;
}

aclError aclrtGetCurrentContext(aclrtContext *context) {
    SimContext *ctx = NULL;
    int r = need_context("aclrtGetCurrentContext", &ctx);
    if (r) {
        return r;
    }
    if (context == NULL) {
        return fail(SIM_ACL_ERROR_INVALID_PARAM, "aclrtGetCurrentContext: context is NULL");
    }
    *context = ctx;
    return 0;
}

/* ------------------------------------------------------------------ streams */

static void *stream_main(void *arg) {
    SimStream *s = (SimStream *) arg;
    char msg[768];
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (s->head == NULL && !s->stop) {
            pthread_cond_wait(&s->cv, &s->mu);
        }
        if (s->head == NULL) {
            break;
        }
        SimTask *t = s->head;
        s->head = t->next;
        if (s->head == NULL) {
            s->tail = NULL;
        }
        s->busy = 1;
        pthread_mutex_unlock(&s->mu);
        if (g_launchDelayUs > 0) {
            usleep((useconds_t) g_launchDelayUs);
        }
        msg[0] = 0;
        int rc = t->run(t, msg, sizeof msg);
        if (t->release != NULL) {
            t->release(t);
        } else {
            free(t);
        }
        pthread_mutex_lock(&s->mu);
        if (rc != 0 && s->error == 0) {
            s->error = rc;
            snprintf(s->errorMsg, sizeof s->errorMsg, "%s", msg[0] ? msg : "a task on the stream failed");
        }
        s->busy = 0;
        pthread_cond_broadcast(&s->cv);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

static int create_stream(SimContext *ctx, SimStream **out) {
    SimStream *s = (SimStream *) calloc(1, sizeof(SimStream));
    if (s == NULL) {
        return 0;
    }
    s->magic = STREAM_MAGIC;
    s->ctx = ctx;
    s->device = ctx->device;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    if (pthread_create(&s->thread, NULL, stream_main, s) != 0) {
        free(s);
        return 0;
    }
    char name[16];
    snprintf(name, sizeof name, "sim-npu%d-strm", ctx->device);
    pthread_setname_np(s->thread, name);
    *out = s;
    return 1;
}

/** Waits for the queued work; returns its first error (and clears it), message in msg. */
static int drain(SimStream *s, int64_t timeoutMs, char *msg, size_t len) {
    int rc = 0;
    pthread_mutex_lock(&s->mu);
    if (timeoutMs < 0) {
        while (s->head != NULL || s->busy) {
            pthread_cond_wait(&s->cv, &s->mu);
        }
    } else {
        struct timespec deadline;
        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_sec += timeoutMs / 1000;
        deadline.tv_nsec += (timeoutMs % 1000) * 1000000;
        if (deadline.tv_nsec >= 1000000000) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000;
        }
        while ((s->head != NULL || s->busy) && rc == 0) {
            if (pthread_cond_timedwait(&s->cv, &s->mu, &deadline) == ETIMEDOUT && (s->head != NULL || s->busy)) {
                rc = -1;
            }
        }
    }
    if (rc == -1) {
        pthread_mutex_unlock(&s->mu);
        snprintf(msg, len, "the stream did not finish within %lld ms", (long long) timeoutMs);
        return SIM_ACL_ERROR_RT_STREAM_SYNC_TIMEOUT;
    }
    rc = s->error;
    if (rc) {
        snprintf(msg, len, "%s", s->errorMsg);
        s->error = 0;
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static void destroy_stream(SimStream *s) {
    char msg[768];
    drain(s, -1, msg, sizeof msg);
    pthread_mutex_lock(&s->mu);
    s->stop = 1;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    s->magic = 0;
    free(s);
}

static aclError create_stream_api(aclrtStream *stream, const char *api) {
    SimContext *ctx = NULL;
    int r = need_context(api, &ctx);
    if (r) {
        return r;
    }
    if (stream == NULL) {
        return fail(SIM_ACL_ERROR_INVALID_PARAM, "%s: stream is NULL", api);
    }
    SimStream *s = NULL;
    if (!create_stream(ctx, &s)) {
        return fail(SIM_ACL_ERROR_BAD_ALLOC, "%s: cannot start the stream's thread", api);
    }
    pthread_mutex_lock(&g_mu);
    int ok = sim_registry_add(&g_streams, s);
    pthread_mutex_unlock(&g_mu);
    if (!ok) {
        destroy_stream(s);
        return fail(SIM_ACL_ERROR_BAD_ALLOC, "%s: out of host memory", api);
    }
    *stream = s;
    return 0;
}

aclError aclrtCreateStream(aclrtStream *stream) {
    return create_stream_api(stream, "aclrtCreateStream");
}

aclError aclrtCreateStreamWithConfig(aclrtStream *stream, uint32_t priority, uint32_t flag) {
    (void) priority;
    if ((flag & ~0x1fu) != 0) {
        return fail(SIM_ACL_ERROR_INVALID_PARAM, "aclrtCreateStreamWithConfig: unknown flags 0x%x", flag);
    }
    return create_stream_api(stream, "aclrtCreateStreamWithConfig");
}

/**
 * The stream for work enqueued by the calling thread: NULL is the current context's default
 * stream. Returns 0 or an aclError (with message).
 */
static int resolve_stream(aclrtStream stream, const char *api, SimStream **out) {
    SimContext *ctx = NULL;
    int r = need_context(api, &ctx);
    if (r) {
        return r;
    }
    pthread_mutex_lock(&g_mu);
    if (stream == NULL) {
        if (ctx->defaultStream == NULL) {
            SimStream *s;
            if (!create_stream(ctx, &s)) {
                pthread_mutex_unlock(&g_mu);
                return fail(SIM_ACL_ERROR_BAD_ALLOC, "%s: cannot start the default stream", api);
            }
            ctx->defaultStream = s;
            sim_registry_add(&g_streams, s);
        }
        *out = ctx->defaultStream;
        pthread_mutex_unlock(&g_mu);
        return 0;
    }
    if (!sim_registry_contains(&g_streams, stream)) {
        pthread_mutex_unlock(&g_mu);
        return fail(SIM_ACL_ERROR_INVALID_RESOURCE_HANDLE, "%s: %p is not a live stream (destroyed?)", api, stream);
    }
    SimStream *s = (SimStream *) stream;
    pthread_mutex_unlock(&g_mu);
    if (s->ctx != ctx) {
        return fail(SIM_ACL_ERROR_RT_STREAM_CONTEXT, "%s: the stream belongs to a context of device %d, but the "
                    "calling thread's current context is %s of device %d", api, s->device,
                    s->ctx->device == ctx->device ? "another context" : "a context", ctx->device);
    }
    *out = s;
    return 0;
}

int ascendjSimStreamFor(aclrtStream stream, const char *api, void **resolved, int *device) {
    SimStream *s = NULL;
    int r = resolve_stream(stream, api, &s);
    if (r) {
        return r;
    }
    *resolved = s;
    *device = s->device;
    return 0;
}

int ascendjSimEnqueue(void *resolved, SimTask *task) {
    SimStream *s = (SimStream *) resolved;
    pthread_mutex_lock(&g_mu);
    int ok = sim_registry_contains(&g_streams, s);
    pthread_mutex_unlock(&g_mu);
    if (!ok) {
        return fail(SIM_ACL_ERROR_INVALID_RESOURCE_HANDLE, "the stream was destroyed");
    }
    task->next = NULL;
    pthread_mutex_lock(&s->mu);
    if (s->tail == NULL) {
        s->head = task;
    } else {
        s->tail->next = task;
    }
    s->tail = task;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return 0;
}

/** A live stream handle (not NULL), for calls that do not enqueue. */
static int lookup_stream(aclrtStream stream, const char *api, SimStream **out) {
    if (stream == NULL) {
        return resolve_stream(NULL, api, out);
    }
    int r = check_init(api);
    if (r) {
        return r;
    }
    pthread_mutex_lock(&g_mu);
    int ok = sim_registry_contains(&g_streams, stream);
    pthread_mutex_unlock(&g_mu);
    if (!ok) {
        return fail(SIM_ACL_ERROR_INVALID_RESOURCE_HANDLE, "%s: %p is not a live stream (destroyed?)", api, stream);
    }
    *out = (SimStream *) stream;
    return 0;
}

aclError aclrtDestroyStream(aclrtStream stream) {
    int r = check_init("aclrtDestroyStream");
    if (r) {
        return r;
    }
    pthread_mutex_lock(&g_mu);
    SimStream *s = (SimStream *) stream;
    int ok = stream != NULL && sim_registry_contains(&g_streams, stream) && s->ctx->defaultStream != s;
    if (ok) {
        sim_registry_remove(&g_streams, s);
    }
    pthread_mutex_unlock(&g_mu);
    if (!ok) {
        return fail(SIM_ACL_ERROR_INVALID_RESOURCE_HANDLE, "aclrtDestroyStream: %p is not a live stream made by "
                    "aclrtCreateStream (destroyed twice?)", stream);
    }
    destroy_stream(s);
    return 0;
}

static aclError sync_stream(aclrtStream stream, int64_t timeoutMs, const char *api) {
    SimStream *s = NULL;
    int r = lookup_stream(stream, api, &s);
    if (r) {
        return r;
    }
    char msg[768];
    r = drain(s, timeoutMs, msg, sizeof msg);
    return r ? fail(r, "%s: %s", api, msg) : 0;
}

aclError aclrtSynchronizeStream(aclrtStream stream) {
    return sync_stream(stream, -1, "aclrtSynchronizeStream");
}

aclError aclrtSynchronizeStreamWithTimeout(aclrtStream stream, int32_t timeout) {
    if (timeout < -1) {
        return fail(SIM_ACL_ERROR_INVALID_PARAM, "aclrtSynchronizeStreamWithTimeout: timeout must be -1 or >= 0");
    }
    return sync_stream(stream, timeout, "aclrtSynchronizeStreamWithTimeout");
}

aclError aclrtSynchronizeDevice(void) {
    SimContext *ctx = NULL;
    int r = need_context("aclrtSynchronizeDevice", &ctx);
    if (r) {
        return r;
    }
    /* Snapshot the device's streams, then drain each (streams are only freed by their owner). */
    SimStream *list[1024];
    size_t n = 0;
    pthread_mutex_lock(&g_mu);
    for (size_t i = 0; i < g_streams.capacity && n < 1024; i++) {
        SimStream *s = (SimStream *) g_streams.slots[i];
        if ((uintptr_t) s > 1 && s->device == ctx->device) {
            list[n++] = s;
        }
    }
    pthread_mutex_unlock(&g_mu);
    int first = 0;
    char msg[768];
    for (size_t i = 0; i < n; i++) {
        int rc = drain(list[i], -1, msg, sizeof msg);
        if (rc && !first) {
            first = fail(rc, "aclrtSynchronizeDevice: %s", msg);
        }
    }
    return first;
}

/* ------------------------------------------------------------------ copies */

typedef struct {
    SimTask task;
    void *dst;
    const void *src;
    size_t count;
    int value; /* -1 for a copy */
    int dstDevice;
    int srcDevice;
} CopyTask;

static int run_copy(SimTask *t, char *msg, size_t len) {
    CopyTask *c = (CopyTask *) t;
    if (c->dstDevice >= 0 && ascendjSimDeviceRange(c->dst, c->count) != c->dstDevice) {
        snprintf(msg, len, "%s: the destination device memory %p (+%zu bytes) was freed before the copy ran",
                 t->name, c->dst, c->count);
        return SIM_ACL_ERROR_RT_AICORE_EXCEPTION;
    }
    if (c->value < 0 && c->srcDevice >= 0 && ascendjSimDeviceRange(c->src, c->count) != c->srcDevice) {
        snprintf(msg, len, "%s: the source device memory %p (+%zu bytes) was freed before the copy ran",
                 t->name, c->src, c->count);
        return SIM_ACL_ERROR_RT_AICORE_EXCEPTION;
    }
    if (c->value >= 0) {
        memset(c->dst, c->value, c->count);
    } else {
        memmove(c->dst, c->src, c->count);
    }
    return 0;
}

static const char *kind_name(int kind) {
    switch (kind) {
        case 0: return "ACL_MEMCPY_HOST_TO_HOST";
        case 1: return "ACL_MEMCPY_HOST_TO_DEVICE";
        case 2: return "ACL_MEMCPY_DEVICE_TO_HOST";
        case 3: return "ACL_MEMCPY_DEVICE_TO_DEVICE";
        case 4: return "ACL_MEMCPY_DEFAULT";
        default: return "an unknown aclrtMemcpyKind";
    }
}

/**
 * Checks a copy's addresses against its kind: device addresses must lie in live device memory
 * (of device `device`, or a peer), host addresses must not. Fills the devices of both sides.
 */
static int check_copy(const char *api, void *dst, size_t destMax, const void *src, size_t count, int kind,
                      int device, int *dstDev, int *srcDev) {
    if (dst == NULL || src == NULL) {
        return fail(SIM_ACL_ERROR_INVALID_PARAM, "%s: %s is NULL", api, dst == NULL ? "dst" : "src");
    }
    if (count > destMax) {
        return fail(SIM_ACL_ERROR_INVALID_PARAM, "%s: count %zu exceeds destMax %zu", api, count, destMax);
    }
    uint64_t dAvail = 0, sAvail = 0;
    int dDev = -2, sDev = -2;
    int dIsBlock = block_of(dst, &dDev, &dAvail);
    int sIsBlock = block_of(src, &sDev, &sAvail);
    int dstIsDevice = dIsBlock && dDev >= 0;
    int srcIsDevice = sIsBlock && sDev >= 0;
    if (kind == ACL_MEMCPY_DEFAULT) {
        kind = dstIsDevice ? (srcIsDevice ? 3 : 1) : (srcIsDevice ? 2 : 0);
    }
    if (kind < 0 || kind > 3) {
        return fail(SIM_ACL_ERROR_INVALID_PARAM, "%s: %s (%d) is not simulated", api, kind_name(kind), kind);
    }
    int wantDst = kind == 1 || kind == 3;
    int wantSrc = kind == 2 || kind == 3;
    if (wantDst != dstIsDevice || wantSrc != srcIsDevice) {
        return fail(SIM_ACL_ERROR_INVALID_PARAM, "%s: %s, but dst %p is %s and src %p is %s", api, kind_name(kind),
                    dst, dstIsDevice ? "device memory" : "not device memory", src,
                    srcIsDevice ? "device memory" : "not device memory");
    }
    if (dstIsDevice && dAvail < count) {
        return fail(SIM_ACL_ERROR_INVALID_PARAM, "%s: %zu bytes do not fit in the device block at dst %p (%llu bytes "
                    "left)", api, count, dst, (unsigned long long) dAvail);
    }
    if (srcIsDevice && sAvail < count) {
        return fail(SIM_ACL_ERROR_INVALID_PARAM, "%s: %zu bytes read past the device block at src %p (%llu bytes "
                    "left)", api, count, src, (unsigned long long) sAvail);
    }
    for (int side = 0; side < 2; side++) {
        int dev = side == 0 ? dDev : sDev;
        int isDev = side == 0 ? dstIsDevice : srcIsDevice;
        if (isDev && dev != device && !(g_devices[device].peers & (1ull << dev))) {
            return fail(SIM_ACL_ERROR_INVALID_PARAM, "%s: %s %p is memory of device %d, but the copy runs on device %d "
                        "(no peer access)", api, side == 0 ? "dst" : "src", side == 0 ? dst : src, dev, device);
        }
    }
    *dstDev = dstIsDevice ? dDev : -1;
    *srcDev = srcIsDevice ? sDev : -1;
    return 0;
}

aclError aclrtMemcpy(void *dst, size_t destMax, const void *src, size_t count, aclrtMemcpyKind kind) {
    SimContext *ctx = NULL;
    int r = need_context("aclrtMemcpy", &ctx);
    if (r) {
        return r;
    }
    int dDev, sDev;
    r = check_copy("aclrtMemcpy", dst, destMax, src, count, (int) kind, ctx->device, &dDev, &sDev);
    if (r) {
        return r;
    }
    /* Synchronous with the host; not ordered after work queued on any stream. */
    memmove(dst, src, count);
    return 0;
}

aclError aclrtMemcpyAsync(void *dst, size_t destMax, const void *src, size_t count, aclrtMemcpyKind kind,
                          aclrtStream stream) {
    SimStream *s = NULL;
    int r = resolve_stream(stream, "aclrtMemcpyAsync", &s);
    if (r) {
        return r;
    }
    CopyTask *c = (CopyTask *) calloc(1, sizeof(CopyTask));
    if (c == NULL) {
        return fail(SIM_ACL_ERROR_BAD_ALLOC, "aclrtMemcpyAsync: out of host memory");
    }
    r = check_copy("aclrtMemcpyAsync", dst, destMax, src, count, (int) kind, s->device, &c->dstDevice,
                   &c->srcDevice);
    if (r) {
        free(c);
        return r;
    }
    c->dst = dst;
    c->src = src;
    c->count = count;
    c->value = -1;
    c->task.run = run_copy;
    snprintf(c->task.name, sizeof c->task.name, "aclrtMemcpyAsync");
    return ascendjSimEnqueue(s, &c->task);
}

static int check_memset(const char *api, void *devPtr, size_t maxCount, int32_t value, size_t count, int device) {
    if (devPtr == NULL) {
        return fail(SIM_ACL_ERROR_INVALID_PARAM, "%s: devPtr is NULL", api);
    }
    if (count > maxCount) {
        return fail(SIM_ACL_ERROR_INVALID_PARAM, "%s: count %zu exceeds maxCount %zu", api, count, maxCount);
    }
    if (value < 0 || value > 255) {
        return fail(SIM_ACL_ERROR_INVALID_PARAM, "%s: value %d is not a byte", api, value);
    }
    int dev = ascendjSimDeviceRange(devPtr, count);
    if (dev < 0) {
        return fail(SIM_ACL_ERROR_INVALID_PARAM, "%s: %p (+%zu bytes) is not inside one live device block", api,
                    devPtr, count);
    }
    if (dev != device) {
        return fail(SIM_ACL_ERROR_INVALID_PARAM, "%s: %p is memory of device %d, not of device %d", api, devPtr, dev,
                    device);
    }
    return 0;
}

aclError aclrtMemset(void *devPtr, size_t maxCount, int32_t value, size_t count) {
    SimContext *ctx = NULL;
    int r = need_context("aclrtMemset", &ctx);
    if (r || (r = check_memset("aclrtMemset", devPtr, maxCount, value, count, ctx->device))) {
        return r;
    }
    memset(devPtr, value, count);
    return 0;
}

aclError aclrtMemsetAsync(void *devPtr, size_t maxCount, int32_t value, size_t count, aclrtStream stream) {
    SimStream *s = NULL;
    int r = resolve_stream(stream, "aclrtMemsetAsync", &s);
    if (r || (r = check_memset("aclrtMemsetAsync", devPtr, maxCount, value, count, s->device))) {
        return r;
    }
    CopyTask *c = (CopyTask *) calloc(1, sizeof(CopyTask));
    if (c == NULL) {
        return fail(SIM_ACL_ERROR_BAD_ALLOC, "aclrtMemsetAsync: out of host memory");
    }
    c->dst = devPtr;
    c->count = count;
    c->value = value;
    c->dstDevice = s->device;
    c->srcDevice = -1;
    c->task.run = run_copy;
    snprintf(c->task.name, sizeof c->task.name, "aclrtMemsetAsync");
    return ascendjSimEnqueue(s, &c->task);
}

/* ------------------------------------------------------------------ callbacks */

typedef struct {
    SimTask task;
    aclrtCallback fn;
    void *userData;
} CallbackTask;

static int run_callback(SimTask *t, char *msg, size_t len) {
    (void) msg;
    (void) len;
    CallbackTask *c = (CallbackTask *) t;
    c->fn(c->userData);
    return 0;
}

/*
 * The callback runs on the stream's own thread when the work before it has completed, and the
 * stream waits for it. (Real ACL delivers callbacks to a thread registered with
 * aclrtSubscribeReport; the simulator needs no subscription.)
 */
aclError aclrtLaunchCallback(aclrtCallback fn, void *userData, aclrtCallbackBlockType blockType, aclrtStream stream) {
    (void) blockType;
    if (fn == NULL) {
        return fail(SIM_ACL_ERROR_INVALID_PARAM, "aclrtLaunchCallback: fn is NULL");
    }
    SimStream *s = NULL;
    int r = resolve_stream(stream, "aclrtLaunchCallback", &s);
    if (r) {
        return r;
    }
    CallbackTask *c = (CallbackTask *) calloc(1, sizeof(CallbackTask));
    if (c == NULL) {
        return fail(SIM_ACL_ERROR_BAD_ALLOC, "aclrtLaunchCallback: out of host memory");
    }
    c->fn = fn;
    c->userData = userData;
    c->task.run = run_callback;
    snprintf(c->task.name, sizeof c->task.name, "aclrtLaunchCallback");
    return ascendjSimEnqueue(s, &c->task);
}

/* ------------------------------------------------------------------ events */

static int lookup_event(aclrtEvent event, const char *api, SimEvent **out) {
    int r = check_init(api);
    if (r) {
        return r;
    }
    pthread_mutex_lock(&g_mu);
    int ok = sim_registry_contains(&g_events, event);
    pthread_mutex_unlock(&g_mu);
    if (!ok) {
        return fail(SIM_ACL_ERROR_INVALID_RESOURCE_HANDLE, "%s: %p is not a live event (destroyed?)", api, event);
    }
    *out = (SimEvent *) event;
    return 0;
}

static void release_event(SimEvent *e) {
    pthread_mutex_lock(&g_eventMu);
    int last = --e->refs == 0;
    pthread_mutex_unlock(&g_eventMu);
    if (last) {
        e->magic = 0;
        free(e);
    }
}

static aclError create_event(aclrtEvent *event, uint32_t flag, const char *api) {
    SimContext *ctx = NULL;
    int r = need_context(api, &ctx);
    if (r) {
        return r;
    }
    if (event == NULL) {
        return fail(SIM_ACL_ERROR_INVALID_PARAM, "%s: event is NULL", api);
    }
    if ((flag & ~0x6bu) != 0) {
        return fail(SIM_ACL_ERROR_INVALID_PARAM, "%s: unknown flags 0x%x", api, flag);
    }
    SimEvent *e = (SimEvent *) calloc(1, sizeof(SimEvent));
    if (e == NULL) {
        return fail(SIM_ACL_ERROR_BAD_ALLOC, "%s: out of host memory", api);
    }
    e->magic = EVENT_MAGIC;
    e->ctx = ctx;
    e->device = ctx->device;
    e->refs = 1;
    pthread_mutex_lock(&g_mu);
    int ok = sim_registry_add(&g_events, e);
    pthread_mutex_unlock(&g_mu);
    if (!ok) {
        free(e);
        return fail(SIM_ACL_ERROR_BAD_ALLOC, "%s: out of host memory", api);
    }
    *event = e;
    return 0;
}

aclError aclrtCreateEvent(aclrtEvent *event) {
    return create_event(event, 0, "aclrtCreateEvent");
}

aclError aclrtCreateEventWithFlag(aclrtEvent *event, uint32_t flag) {
    return create_event(event, flag, "aclrtCreateEventWithFlag");
}

aclError aclrtCreateEventExWithFlag(aclrtEvent *event, uint32_t flag) {
    return create_event(event, flag, "aclrtCreateEventExWithFlag");
}

aclError aclrtDestroyEvent(aclrtEvent event) {
    SimEvent *e = NULL;
    int r = lookup_event(event, "aclrtDestroyEvent", &e);
    if (r) {
        return r;
    }
    pthread_mutex_lock(&g_mu);
    sim_registry_remove(&g_events, e);
    pthread_mutex_unlock(&g_mu);
    release_event(e); /* queued records and waits hold their own references */
    return 0;
}

typedef struct {
    SimTask task;
    SimEvent *event;
    uint64_t target;
    int wait;
} EventTask;

static int run_event(SimTask *t, char *msg, size_t len) {
    (void) msg;
    (void) len;
    EventTask *et = (EventTask *) t;
    SimEvent *e = et->event;
    pthread_mutex_lock(&g_eventMu);
    if (et->wait) {
        while (e->completed < et->target) {
            pthread_cond_wait(&g_eventCv, &g_eventMu);
        }
    } else {
        if (e->completed < et->target) {
            e->completed = et->target;
            e->stamp = ascendjSimNanos();
        }
        pthread_cond_broadcast(&g_eventCv);
    }
    pthread_mutex_unlock(&g_eventMu);
    return 0;
}

static void release_event_task(SimTask *t) {
    EventTask *et = (EventTask *) t;
    release_event(et->event);
    free(et);
}

static aclError enqueue_event(SimEvent *e, SimStream *s, int wait, const char *api) {
    EventTask *et = (EventTask *) calloc(1, sizeof(EventTask));
    if (et == NULL) {
        return fail(SIM_ACL_ERROR_BAD_ALLOC, "%s: out of host memory", api);
    }
    pthread_mutex_lock(&g_eventMu);
    if (!wait) {
        e->recorded++;
    }
    et->target = e->recorded;
    e->refs++;
    pthread_mutex_unlock(&g_eventMu);
    et->event = e;
    et->wait = wait;
    et->task.run = run_event;
    et->task.release = release_event_task;
    snprintf(et->task.name, sizeof et->task.name, "%s", api);
    return ascendjSimEnqueue(s, &et->task);
}

aclError aclrtRecordEvent(aclrtEvent event, aclrtStream stream) {
    SimEvent *e = NULL;
    SimStream *s = NULL;
    int r = lookup_event(event, "aclrtRecordEvent", &e);
    if (r || (r = resolve_stream(stream, "aclrtRecordEvent", &s))) {
        return r;
    }
    if (e->device != s->device) {
        return fail(SIM_ACL_ERROR_RT_STREAM_CONTEXT, "aclrtRecordEvent: the event belongs to device %d, the stream "
                    "to device %d", e->device, s->device);
    }
    return enqueue_event(e, s, 0, "aclrtRecordEvent");
}

aclError aclrtStreamWaitEvent(aclrtStream stream, aclrtEvent event) {
    SimEvent *e = NULL;
    SimStream *s = NULL;
    int r = lookup_event(event, "aclrtStreamWaitEvent", &e);
    if (r || (r = resolve_stream(stream, "aclrtStreamWaitEvent", &s))) {
        return r;
    }
    /* Waits for the record most recently enqueued when this call is made; none recorded: no wait. */
    return enqueue_event(e, s, 1, "aclrtStreamWaitEvent");
}

aclError aclrtSynchronizeEvent(aclrtEvent event) {
    SimEvent *e = NULL;
    int r = lookup_event(event, "aclrtSynchronizeEvent", &e);
    if (r) {
        return r;
    }
    pthread_mutex_lock(&g_eventMu);
    uint64_t target = e->recorded;
    while (e->completed < target) {
        pthread_cond_wait(&g_eventCv, &g_eventMu);
    }
    pthread_mutex_unlock(&g_eventMu);
    return 0;
}

aclError aclrtQueryEventStatus(aclrtEvent event, aclrtEventRecordedStatus *status) {
    SimEvent *e = NULL;
    int r = lookup_event(event, "aclrtQueryEventStatus", &e);
    if (r) {
        return r;
    }
    if (status == NULL) {
        return fail(SIM_ACL_ERROR_INVALID_PARAM, "aclrtQueryEventStatus: status is NULL");
    }
    pthread_mutex_lock(&g_eventMu);
    int done = e->recorded > 0 && e->completed >= e->recorded;
    pthread_mutex_unlock(&g_eventMu);
    *status = done ? ACL_EVENT_RECORDED_STATUS_COMPLETE : ACL_EVENT_RECORDED_STATUS_NOT_READY;
    return 0;
}

aclError aclrtEventElapsedTime(float *ms, aclrtEvent startEvent, aclrtEvent endEvent) {
    SimEvent *a = NULL, *b = NULL;
    int r = lookup_event(startEvent, "aclrtEventElapsedTime", &a);
    if (r || (r = lookup_event(endEvent, "aclrtEventElapsedTime", &b))) {
        return r;
    }
    if (ms == NULL) {
        return fail(SIM_ACL_ERROR_INVALID_PARAM, "aclrtEventElapsedTime: ms is NULL");
    }
    pthread_mutex_lock(&g_eventMu);
    int ready = a->recorded > 0 && b->recorded > 0 && a->completed >= a->recorded && b->completed >= b->recorded;
    int64_t d = b->stamp - a->stamp;
    pthread_mutex_unlock(&g_eventMu);
    if (!ready) {
        return fail(SIM_ACL_ERROR_INVALID_PARAM, "aclrtEventElapsedTime: both events must be recorded and complete "
                    "(synchronize the end event first)");
    }
    *ms = (float) ((double) d / 1e6);
    return 0;
}

/* ------------------------------------------------------------------ utilities */

float aclFloat16ToFloat(aclFloat16 value) {
    return sim_half_to_float(value);
}

aclFloat16 aclFloatToFloat16(float value) {
    return sim_float_to_half(value);
}

size_t aclDataTypeSize(aclDataType dataType) {
    return (size_t) sim_dtype_size((int) dataType);
}

struct aclDataBuffer {
    void *data;
    size_t size;
};

aclDataBuffer *aclCreateDataBuffer(void *data, size_t size) {
    aclDataBuffer *b = (aclDataBuffer *) calloc(1, sizeof(aclDataBuffer));
    if (b != NULL) {
        b->data = data;
        b->size = size;
    }
    return b;
}

aclError aclDestroyDataBuffer(const aclDataBuffer *dataBuffer) {
    if (dataBuffer == NULL) {
        return fail(SIM_ACL_ERROR_INVALID_PARAM, "aclDestroyDataBuffer: dataBuffer is NULL");
    }
    free((void *) dataBuffer);
    return 0;
}
