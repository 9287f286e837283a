/*
 * libhccl of AscendJ's simulated CANN: communicators and collectives between ranks that are
 * threads of one process or processes of one machine.
 *
 * A group lives in a POSIX shared-memory segment: a header (process-shared robust mutex and
 * condition variable, who joined, the collective in progress, failure state), one staging slot per
 * rank for collectives and one mailbox per ordered pair of ranks for send/recv. Root information
 * (HcclGetRootInfo) names the segment; it is plain bytes that any channel can carry between
 * processes, as HCCL's own is. Every communicator (one per group and rank) maps the segment;
 * groups are independent, so sub-communicators for tensor, data and pipeline parallelism are
 * simply more groups.
 *
 * Collectives run on the ACL stream they are enqueued on, in lockstep: each rank copies its chunk
 * into its slot, all meet at a barrier, each computes its result from the slots (reductions in
 * rank order, so every rank gets the same bits), and all meet again. The first barrier of each
 * collective checks that every rank called the same collective with the same count, dtype and
 * root. Send is a rendezvous: it completes when the receiver has taken the data.
 *
 * Timeouts follow HCCL's variables: initialisation waits HCCL_CONNECT_TIMEOUT seconds (range
 * [120, 7200], default 120) plus 20 s ("envref_07_0149", CANN 8.3.RC1 environment variables);
 * a collective waits HCCL_EXEC_TIMEOUT seconds (range [68, 17340], default 1800, rounded down to a
 * multiple of 68; "tfmigr1_000071", CANN 6.0.1). Tests shorten them with
 * ASCENDJ_SIM_HCCL_CONNECT_TIMEOUT_MS and ASCENDJ_SIM_HCCL_EXEC_TIMEOUT_MS. A timed-out or
 * mismatched collective fails the whole group, and the failure reaches every rank's stream.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hccl/hccl.h"
#include "sim.h"
#include "sim_numeric.h"
#include "sim_registry.h"

#define ROOT_MAGIC "AJSIMHCC"
#define GROUP_MAGIC 0x48434331u
#define COMM_MAGIC 0xC0335u
#define SLOT_BYTES (1u << 20)
#define MAIL_BYTES (256u << 10)
#define MAX_RANKS 4096

/* ------------------------------------------------------------------ shared layout */

typedef struct {
    int32_t present;
    int32_t pid;
    int32_t device;
    int32_t pad;
    uint64_t arrivedGen; /* the barrier generation this rank last arrived at + 1 */
    int32_t type, dtype, op, root; /* the collective this rank is in */
    uint64_t count;
    uint64_t seq;
} RankInfo;

typedef struct {
    uint64_t posted;  /* messages the sender started */
    uint64_t taken;   /* chunks consumed */
    uint64_t filled;  /* chunks written */
    uint64_t bytes;   /* bytes in the buffer */
    uint64_t count;   /* elements of the message being sent */
    int32_t dtype;
    int32_t pad;
} Mailbox;

typedef struct {
    uint32_t magic;
    uint32_t nranks;
    uint32_t ready;
    uint32_t joined;
    uint32_t mapped; /* ranks that finished initialisation (the last one unlinks the name) */
    int32_t failed;
    char failMsg[512];
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t gen;     /* barrier generation */
    uint32_t arrived; /* ranks at the current barrier */
    uint32_t pad;
    uint64_t slotBytes;
    uint64_t mailBytes;
    uint64_t ranksOff, mailOff, slotsOff, mailDataOff, total;
} Group;

static RankInfo *ranks_of(Group *g) {
    return (RankInfo *) ((char *) g + g->ranksOff);
}

static Mailbox *mailbox(Group *g, int src, int dst) {
    return (Mailbox *) ((char *) g + g->mailOff) + (size_t) src * g->nranks + (size_t) dst;
}

static char *slot(Group *g, int rank) {
    return (char *) g + g->slotsOff + (size_t) rank * g->slotBytes;
}

static char *mail_data(Group *g, int src, int dst) {
    return (char *) g + g->mailDataOff + ((size_t) src * g->nranks + (size_t) dst) * g->mailBytes;
}

static void layout(uint32_t n, uint64_t *ranksOff, uint64_t *mailOff, uint64_t *slotsOff, uint64_t *mailDataOff,
                   uint64_t *total) {
    uint64_t o = (sizeof(Group) + 63) & ~63ull;
    *ranksOff = o;
    o += ((uint64_t) n * sizeof(RankInfo) + 63) & ~63ull;
    *mailOff = o;
    o += ((uint64_t) n * n * sizeof(Mailbox) + 4095) & ~4095ull;
    *slotsOff = o;
    o += (uint64_t) n * SLOT_BYTES;
    *mailDataOff = o;
    o += (uint64_t) n * n * MAIL_BYTES;
    *total = o;
}

/* ------------------------------------------------------------------ root info */

typedef struct {
    char magic[8];
    uint32_t version;
    int32_t pid;
    char name[96];
} RootInfo;

/* ------------------------------------------------------------------ communicators */

typedef struct {
    uint32_t magic;
    Group *g;
    uint64_t mapBytes;
    int rank;
    int nranks;
    int device;
    atomic_uint_fast64_t seq; /* collectives enqueued so far */
    atomic_int refs;          /* the user's reference plus queued tasks */
    char name[96];
} Comm;

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static SimRegistry g_comms;
static atomic_uint_fast64_t g_nonce;

static int64_t connect_timeout_ms(void) {
    int64_t ms = ascendjSimEnvInt("ASCENDJ_SIM_HCCL_CONNECT_TIMEOUT_MS", -1);
    if (ms > 0) {
        return ms;
    }
    int64_t s = ascendjSimEnvInt("HCCL_CONNECT_TIMEOUT", 120);
    s = s < 120 ? 120 : s > 7200 ? 7200 : s;
    return (s + 20) * 1000;
}

static int64_t exec_timeout_ms(void) {
    int64_t ms = ascendjSimEnvInt("ASCENDJ_SIM_HCCL_EXEC_TIMEOUT_MS", -1);
    if (ms > 0) {
        return ms;
    }
    int64_t s = ascendjSimEnvInt("HCCL_EXEC_TIMEOUT", 1800);
    s = s < 68 ? 68 : s > 17340 ? 17340 : s;
    return s / 68 * 68 * 1000;
}

static struct timespec deadline_in(int64_t ms) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    t.tv_sec += ms / 1000;
    t.tv_nsec += (ms % 1000) * 1000000;
    if (t.tv_nsec >= 1000000000) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000;
    }
    return t;
}

static int hfail(int code, const char *fmt, ...) SIM_PRINTF(2, 3);

static int hfail(int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    ascendjSimErrorV(fmt, ap);
    va_end(ap);
    return code;
}

/** Locks the group; a rank that died holding the lock fails the group. */
static void group_lock(Group *g) {
    int r = pthread_mutex_lock(&g->mu);
    if (r == EOWNERDEAD) {
        pthread_mutex_consistent(&g->mu);
        if (!g->failed) {
            g->failed = 1;
            snprintf(g->failMsg, sizeof g->failMsg, "a rank's process died while holding the group's lock");
        }
        pthread_cond_broadcast(&g->cv);
    }
}

static void group_fail(Group *g, const char *fmt, ...) SIM_PRINTF(2, 3);

/** Marks the group failed (lock held); every waiting rank wakes up and reports it. */
static void group_fail(Group *g, const char *fmt, ...) {
    if (!g->failed) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(g->failMsg, sizeof g->failMsg, fmt, ap);
        va_end(ap);
        g->failed = 1;
    }
    pthread_cond_broadcast(&g->cv);
}

/** Lists the ranks whose flag is unset, e.g. "1, 3". */
static void missing(Group *g, int (*set)(Group *, int, uint64_t), uint64_t arg, char *buf, size_t len) {
    size_t o = 0;
    buf[0] = 0;
    for (uint32_t r = 0; r < g->nranks && o + 16 < len; r++) {
        if (!set(g, (int) r, arg)) {
            o += (size_t) snprintf(buf + o, len - o, o ? ", %u" : "%u", r);
        }
    }
}

static int joined_flag(Group *g, int r, uint64_t arg) {
    (void) arg;
    return ranks_of(g)[r].present;
}

static int arrived_flag(Group *g, int r, uint64_t gen) {
    return ranks_of(g)[r].arrivedGen == gen + 1;
}

/** Maps (creating or opening) the segment of a group of n ranks. */
static int map_group(const char *name, uint32_t n, Group **out, uint64_t *bytes, const char *api) {
    uint64_t ranksOff, mailOff, slotsOff, mailDataOff, total;
    layout(n, &ranksOff, &mailOff, &slotsOff, &mailDataOff, &total);
    int creator = 1;
    int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
    if (fd < 0 && errno == EEXIST) {
        creator = 0;
        fd = shm_open(name, O_RDWR, 0600);
    }
    if (fd < 0) {
        return hfail(HCCL_E_SYSCALL, "%s: cannot open the group's shared memory %s: %s", api, name, strerror(errno));
    }
    int64_t deadline = ascendjSimNanos() + connect_timeout_ms() * 1000000;
    if (creator) {
        if (ftruncate(fd, (off_t) total) != 0) {
            int err = errno;
            close(fd);
            shm_unlink(name);
            return hfail(HCCL_E_SYSCALL, "%s: cannot size the group's shared memory (%llu bytes): %s", api,
                         (unsigned long long) total, strerror(err));
        }
    } else {
        /* wait until the creator has sized it */
        struct stat st;
        while (fstat(fd, &st) == 0 && (uint64_t) st.st_size < sizeof(Group)) {
            if (ascendjSimNanos() > deadline) {
                close(fd);
                return hfail(HCCL_E_TIMEOUT, "%s: the group's shared memory %s was never initialised", api, name);
            }
            usleep(1000);
        }
        total = (uint64_t) st.st_size;
    }
    Group *g = (Group *) mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (g == MAP_FAILED) {
        return hfail(HCCL_E_SYSCALL, "%s: cannot map the group's shared memory: %s", api, strerror(errno));
    }
    if (creator) {
        g->nranks = n;
        g->slotBytes = SLOT_BYTES;
        g->mailBytes = MAIL_BYTES;
        g->ranksOff = ranksOff;
        g->mailOff = mailOff;
        g->slotsOff = slotsOff;
        g->mailDataOff = mailDataOff;
        g->total = total;
        pthread_mutexattr_t ma;
        pthread_mutexattr_init(&ma);
        pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
        pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
        pthread_mutex_init(&g->mu, &ma);
        pthread_mutexattr_destroy(&ma);
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&g->cv, &ca);
        pthread_condattr_destroy(&ca);
        g->magic = GROUP_MAGIC;
        __atomic_store_n(&g->ready, 1, __ATOMIC_RELEASE);
    } else {
        while (!__atomic_load_n(&g->ready, __ATOMIC_ACQUIRE)) {
            if (ascendjSimNanos() > deadline) {
                munmap(g, total);
                return hfail(HCCL_E_TIMEOUT, "%s: the group's shared memory %s was never initialised", api, name);
            }
            usleep(1000);
        }
        if (g->magic != GROUP_MAGIC || g->nranks != n) {
            uint32_t other = g->nranks;
            munmap(g, total);
            return hfail(HCCL_E_PARA, "%s: this rank asks for a group of %u ranks, the group was created for %u", api,
                         n, other);
        }
    }
    *out = g;
    *bytes = total;
    return HCCL_SUCCESS;
}

/** Records rank as present (lock taken inside). */
static int attach_rank(Group *g, int rank, int device, const char *api) {
    group_lock(g);
    RankInfo *ri = &ranks_of(g)[rank];
    if (ri->present) {
        pthread_mutex_unlock(&g->mu);
        return hfail(HCCL_E_PARA, "%s: rank %d joined the group twice", api, rank);
    }
    if (g->failed) {
        char m[512];
        snprintf(m, sizeof m, "%s", g->failMsg);
        pthread_mutex_unlock(&g->mu);
        return hfail(HCCL_E_INTERNAL, "%s: the group has failed: %s", api, m);
    }
    ri->present = 1;
    ri->pid = getpid();
    ri->device = device;
    g->joined++;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
    return HCCL_SUCCESS;
}

/** Waits until every rank has joined (HCCL_CONNECT_TIMEOUT); the last one unlinks the segment's name. */
static int await_all(Group *g, const char *name, int rank, const char *api) {
    struct timespec dl = deadline_in(connect_timeout_ms());
    group_lock(g);
    int rc = HCCL_SUCCESS;
    while (g->joined < g->nranks && !g->failed) {
        if (pthread_cond_timedwait(&g->cv, &g->mu, &dl) == ETIMEDOUT && g->joined < g->nranks) {
            char who[256];
            missing(g, joined_flag, 0, who, sizeof who);
            rc = hfail(HCCL_E_TIMEOUT, "%s: rank %d waited %lld ms for the other ranks to join; missing: %s "
                       "(HCCL_CONNECT_TIMEOUT)", api, rank, (long long) connect_timeout_ms(), who);
            ranks_of(g)[rank].present = 0;
            g->joined--;
            /* The group is dead, as HCCL's is after a connect timeout: late ranks fail too, and the
             * name goes now (the memory goes with the last mapping). */
            /* Worded as the timeout itself, so that every rank of the group reports the same
             * cause, whichever of them gave up first. */
            group_fail(g, "rank %d waited %lld ms for the other ranks to join; missing: %s (HCCL_CONNECT_TIMEOUT)",
                       rank, (long long) connect_timeout_ms(), who);
            shm_unlink(name);
            break;
        }
    }
    if (!rc && g->failed) {
        rc = hfail(HCCL_E_INTERNAL, "%s: the group has failed: %s", api, g->failMsg);
    }
    if (!rc && ++g->mapped == g->nranks) {
        shm_unlink(name); /* everyone has it mapped: no name to leak */
    }
    pthread_mutex_unlock(&g->mu);
    return rc;
}

static Comm *new_comm(Group *g, uint64_t bytes, int rank, int device, const char *name) {
    Comm *c = (Comm *) calloc(1, sizeof(Comm));
    if (c == NULL) {
        return NULL;
    }
    c->magic = COMM_MAGIC;
    c->g = g;
    c->mapBytes = bytes;
    c->rank = rank;
    c->nranks = (int) g->nranks;
    c->device = device;
    atomic_init(&c->seq, 0);
    atomic_init(&c->refs, 1);
    snprintf(c->name, sizeof c->name, "%s", name);
    pthread_mutex_lock(&g_mu);
    int ok = sim_registry_add(&g_comms, c);
    pthread_mutex_unlock(&g_mu);
    if (!ok) {
        free(c);
        return NULL;
    }
    return c;
}

static void comm_release(Comm *c) {
    if (atomic_fetch_sub(&c->refs, 1) == 1) {
        munmap(c->g, c->mapBytes);
        c->magic = 0;
        free(c);
    }
}

static int need_device(const char *api, int *device) {
    if (!ascendjSimInitialized()) {
        return hfail(HCCL_E_RUNTIME, "%s: call aclInit first", api);
    }
    *device = ascendjSimCurrentDevice();
    if (*device < 0) {
        return HCCL_E_RUNTIME; /* the runtime said why: no current context */
    }
    return HCCL_SUCCESS;
}

HcclResult HcclGetRootInfo(HcclRootInfo *rootInfo) {
    int device = -1;
    int r = need_device("HcclGetRootInfo", &device);
    if (r) {
        return (HcclResult) r;
    }
    if (rootInfo == NULL) {
        return (HcclResult) hfail(HCCL_E_PTR, "HcclGetRootInfo: rootInfo is NULL");
    }
    memset(rootInfo, 0, sizeof *rootInfo);
    RootInfo *ri = (RootInfo *) rootInfo->internal;
    memcpy(ri->magic, ROOT_MAGIC, 8);
    ri->version = 1;
    ri->pid = getpid();
    uint64_t nonce = atomic_fetch_add(&g_nonce, 1);
    snprintf(ri->name, sizeof ri->name, "/ajhccl-%d-%llx-%llx", (int) getpid(), (unsigned long long) ascendjSimNanos(),
             (unsigned long long) nonce);
    return HCCL_SUCCESS;
}

static HcclResult init_group(const char *name, uint32_t nRanks, uint32_t rank, int device, HcclComm *comm,
                             const char *api) {
    Group *g;
    uint64_t bytes;
    int r = map_group(name, nRanks, &g, &bytes, api);
    if (r) {
        return (HcclResult) r;
    }
    r = attach_rank(g, (int) rank, device, api);
    if (r == 0) {
        r = await_all(g, name, (int) rank, api);
    }
    if (r) {
        munmap(g, bytes);
        return (HcclResult) r;
    }
    Comm *c = new_comm(g, bytes, (int) rank, device, name);
    if (c == NULL) {
        munmap(g, bytes);
        return (HcclResult) hfail(HCCL_E_MEMORY, "%s: out of host memory", api);
    }
    *comm = c;
    return HCCL_SUCCESS;
}

HcclResult HcclCommInitRootInfo(uint32_t nRanks, const HcclRootInfo *rootInfo, uint32_t rank, HcclComm *comm) {
    const char *api = "HcclCommInitRootInfo";
    int device = -1;
    int r = need_device(api, &device);
    if (r) {
        return (HcclResult) r;
    }
    if (rootInfo == NULL || comm == NULL) {
        return (HcclResult) hfail(HCCL_E_PTR, "%s: rootInfo and comm must not be NULL", api);
    }
    if (nRanks == 0 || nRanks > MAX_RANKS || rank >= nRanks) {
        return (HcclResult) hfail(HCCL_E_PARA, "%s: rank %u is outside a group of %u ranks", api, rank, nRanks);
    }
    const RootInfo *ri = (const RootInfo *) rootInfo->internal;
    if (memcmp(ri->magic, ROOT_MAGIC, 8) != 0 || ri->version != 1 || memchr(ri->name, 0, sizeof ri->name) == NULL) {
        return (HcclResult) hfail(HCCL_E_PARA, "%s: rootInfo was not made by HcclGetRootInfo of this simulator", api);
    }
    *comm = NULL;
    return init_group(ri->name, nRanks, rank, device, comm, api);
}

HcclResult HcclCommInitAll(uint32_t ndev, int32_t *devices, HcclComm *comms) {
    const char *api = "HcclCommInitAll";
    int current;
    int r = need_device(api, &current);
    if (r) {
        return (HcclResult) r;
    }
    if (devices == NULL || comms == NULL || ndev == 0 || ndev > MAX_RANKS) {
        return (HcclResult) hfail(HCCL_E_PARA, "%s: devices and comms must hold 1..%d entries", api, MAX_RANKS);
    }
    HcclRootInfo info;
    HcclGetRootInfo(&info);
    const char *name = ((const RootInfo *) info.internal)->name;
    Group *g[MAX_RANKS > 64 ? 64 : MAX_RANKS];
    if (ndev > 64) {
        return (HcclResult) hfail(HCCL_E_PARA, "%s: at most 64 devices per process", api);
    }
    uint64_t bytes = 0;
    uint32_t done = 0;
    for (; done < ndev; done++) {
        r = map_group(name, ndev, &g[done], &bytes, api);
        if (r == 0) {
            r = attach_rank(g[done], (int) done, devices[done], api);
            if (r) {
                munmap(g[done], bytes);
            }
        }
        if (r) {
            break;
        }
    }
    for (uint32_t i = 0; r == 0 && i < ndev; i++) {
        r = await_all(g[i], name, (int) i, api);
    }
    for (uint32_t i = 0; r == 0 && i < ndev; i++) {
        comms[i] = new_comm(g[i], bytes, (int) i, devices[i], name);
        if (comms[i] == NULL) {
            r = hfail(HCCL_E_MEMORY, "%s: out of host memory", api);
        }
    }
    if (r) {
        for (uint32_t i = 0; i < done; i++) {
            munmap(g[i], bytes);
        }
        shm_unlink(name);
        return (HcclResult) r;
    }
    return HCCL_SUCCESS;
}

/* ------------------------------------------------------------------ rank tables */

typedef struct {
    const char *p;
    const char *end;
    const char *error;
} Json;

static void json_ws(Json *j) {
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' || *j->p == '\t')) {
        j->p++;
    }
}

/** Reads a JSON string or number as text into out; NULL on error. */
static int json_scalar(Json *j, char *out, size_t len) {
    json_ws(j);
    size_t o = 0;
    if (j->p < j->end && *j->p == '"') {
        j->p++;
        while (j->p < j->end && *j->p != '"') {
            if (*j->p == '\\') {
                j->p++;
            }
            if (o + 1 < len && j->p < j->end) {
                out[o++] = *j->p;
            }
            j->p++;
        }
        if (j->p >= j->end) {
            j->error = "an unterminated string";
            return 0;
        }
        j->p++;
    } else {
        while (j->p < j->end && strchr(",}] \n\r\t", *j->p) == NULL) {
            if (o + 1 < len) {
                out[o++] = *j->p;
            }
            j->p++;
        }
        if (o == 0) {
            j->error = "a missing value";
            return 0;
        }
    }
    out[o] = 0;
    return 1;
}

static int json_skip(Json *j);

static int json_expect(Json *j, char c) {
    json_ws(j);
    if (j->p >= j->end || *j->p != c) {
        j->error = c == ':' ? "a missing ':'" : c == '}' ? "a missing '}'" : c == ']' ? "a missing ']'" : "bad syntax";
        return 0;
    }
    j->p++;
    return 1;
}

static int json_skip(Json *j) {
    json_ws(j);
    if (j->p >= j->end) {
        j->error = "unexpected end of file";
        return 0;
    }
    char c = *j->p;
    if (c == '{' || c == '[') {
        char close = c == '{' ? '}' : ']';
        j->p++;
        json_ws(j);
        if (j->p < j->end && *j->p == close) {
            j->p++;
            return 1;
        }
        for (;;) {
            if (c == '{') {
                char key[64];
                if (!json_scalar(j, key, sizeof key) || !json_expect(j, ':')) {
                    return 0;
                }
            }
            if (!json_skip(j)) {
                return 0;
            }
            json_ws(j);
            if (j->p < j->end && *j->p == ',') {
                j->p++;
                continue;
            }
            return json_expect(j, close);
        }
    }
    char buf[256];
    return json_scalar(j, buf, sizeof buf);
}

/** Walks a rank table: counts ranks and finds rank's device_id. Returns 0 and sets j->error on failure. */
static int rank_table(Json *j, uint32_t rank, uint32_t *nranks, int *deviceId) {
    *nranks = 0;
    *deviceId = -1;
    if (!json_expect(j, '{')) {
        return 0;
    }
    int sawServers = 0;
    for (;;) {
        char key[64];
        json_ws(j);
        if (j->p < j->end && *j->p == '}') {
            j->p++;
            break;
        }
        if (!json_scalar(j, key, sizeof key) || !json_expect(j, ':')) {
            return 0;
        }
        if (strcmp(key, "server_list") != 0) {
            if (!json_skip(j)) {
                return 0;
            }
        } else {
            sawServers = 1;
            if (!json_expect(j, '[')) {
                return 0;
            }
            json_ws(j);
            while (j->p < j->end && *j->p != ']') {
                if (!json_expect(j, '{')) {
                    return 0;
                }
                for (;;) {
                    char skey[64];
                    json_ws(j);
                    if (j->p < j->end && *j->p == '}') {
                        j->p++;
                        break;
                    }
                    if (!json_scalar(j, skey, sizeof skey) || !json_expect(j, ':')) {
                        return 0;
                    }
                    if (strcmp(skey, "device") != 0) {
                        if (!json_skip(j)) {
                            return 0;
                        }
                    } else {
                        if (!json_expect(j, '[')) {
                            return 0;
                        }
                        json_ws(j);
                        while (j->p < j->end && *j->p != ']') {
                            char dev[64] = "", rk[64] = "";
                            if (!json_expect(j, '{')) {
                                return 0;
                            }
                            for (;;) {
                                char dkey[64], val[64];
                                json_ws(j);
                                if (j->p < j->end && *j->p == '}') {
                                    j->p++;
                                    break;
                                }
                                if (!json_scalar(j, dkey, sizeof dkey) || !json_expect(j, ':')
                                    || !json_scalar(j, val, sizeof val)) {
                                    return 0;
                                }
                                if (strcmp(dkey, "device_id") == 0) {
                                    snprintf(dev, sizeof dev, "%s", val);
                                } else if (strcmp(dkey, "rank_id") == 0) {
                                    snprintf(rk, sizeof rk, "%s", val);
                                }
                                json_ws(j);
                                if (j->p < j->end && *j->p == ',') {
                                    j->p++;
                                }
                            }
                            if (!dev[0] || !rk[0]) {
                                j->error = "a device without device_id or rank_id";
                                return 0;
                            }
                            (*nranks)++;
                            if ((uint32_t) atoi(rk) == rank) {
                                *deviceId = atoi(dev);
                            }
                            json_ws(j);
                            if (j->p < j->end && *j->p == ',') {
                                j->p++;
                                json_ws(j);
                            }
                        }
                        if (!json_expect(j, ']')) {
                            return 0;
                        }
                    }
                    json_ws(j);
                    if (j->p < j->end && *j->p == ',') {
                        j->p++;
                    }
                }
                json_ws(j);
                if (j->p < j->end && *j->p == ',') {
                    j->p++;
                    json_ws(j);
                }
            }
            if (!json_expect(j, ']')) {
                return 0;
            }
        }
        json_ws(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
        }
    }
    if (!sawServers) {
        j->error = "no server_list";
        return 0;
    }
    return 1;
}

HcclResult HcclCommInitClusterInfo(const char *clusterInfo, uint32_t rank, HcclComm *comm) {
    const char *api = "HcclCommInitClusterInfo";
    int device = -1;
    int r = need_device(api, &device);
    if (r) {
        return (HcclResult) r;
    }
    if (clusterInfo == NULL || comm == NULL) {
        return (HcclResult) hfail(HCCL_E_PTR, "%s: clusterInfo and comm must not be NULL", api);
    }
    FILE *f = fopen(clusterInfo, "rb");
    if (f == NULL) {
        return (HcclResult) hfail(HCCL_E_OPEN_FILE_FAILURE, "%s: cannot read the rank table %s: %s", api, clusterInfo,
                                  strerror(errno));
    }
    char *text = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 4096 > cap) {
            cap = cap ? cap * 2 : 8192;
            char *t = (char *) realloc(text, cap);
            if (t == NULL) {
                free(text);
                fclose(f);
                return (HcclResult) hfail(HCCL_E_MEMORY, "%s: out of host memory", api);
            }
            text = t;
        }
        size_t n = fread(text + len, 1, 4096, f);
        len += n;
        if (n < 4096) {
            break;
        }
    }
    fclose(f);
    Json j = {text, text + len, NULL};
    uint32_t nranks;
    int deviceId;
    int ok = rank_table(&j, rank, &nranks, &deviceId);
    /* the group's name: a hash of the table, the same for every rank that reads it */
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++) {
        h = (h ^ (unsigned char) text[i]) * 1099511628211ull;
    }
    free(text);
    if (!ok) {
        return (HcclResult) hfail(HCCL_E_PARA, "%s: the rank table %s is not valid: %s", api, clusterInfo, j.error);
    }
    if (rank >= nranks || deviceId < 0) {
        return (HcclResult) hfail(HCCL_E_PARA, "%s: rank %u is not in the rank table %s (%u ranks)", api, rank,
                                  clusterInfo, nranks);
    }
    if (deviceId != device) {
        return (HcclResult) hfail(HCCL_E_PARA, "%s: the rank table %s puts rank %u on device %d, but device %d is "
                                  "current", api, clusterInfo, rank, deviceId, device);
    }
    char name[96];
    snprintf(name, sizeof name, "/ajhccl-rt-%016llx", (unsigned long long) h);
    *comm = NULL;
    return init_group(name, nranks, rank, device, comm, api);
}

static int lookup_comm(HcclComm comm, const char *api, Comm **out) {
    pthread_mutex_lock(&g_mu);
    int ok = sim_registry_contains(&g_comms, comm);
    pthread_mutex_unlock(&g_mu);
    if (!ok) {
        return hfail(HCCL_E_PARA, "%s: %p is not a live communicator (destroyed?)", api, comm);
    }
    *out = (Comm *) comm;
    return HCCL_SUCCESS;
}

HcclResult HcclCommDestroy(HcclComm comm) {
    Comm *c = NULL;
    int r = lookup_comm(comm, "HcclCommDestroy", &c);
    if (r) {
        return (HcclResult) r;
    }
    pthread_mutex_lock(&g_mu);
    sim_registry_remove(&g_comms, c);
    pthread_mutex_unlock(&g_mu);
    comm_release(c); /* queued collectives keep their own reference */
    return HCCL_SUCCESS;
}

HcclResult HcclGetRankSize(HcclComm comm, uint32_t *rankSize) {
    Comm *c = NULL;
    int r = lookup_comm(comm, "HcclGetRankSize", &c);
    if (r || rankSize == NULL) {
        return (HcclResult) (r ? r : hfail(HCCL_E_PTR, "HcclGetRankSize: rankSize is NULL"));
    }
    *rankSize = (uint32_t) c->nranks;
    return HCCL_SUCCESS;
}

HcclResult HcclGetRankId(HcclComm comm, uint32_t *rank) {
    Comm *c = NULL;
    int r = lookup_comm(comm, "HcclGetRankId", &c);
    if (r || rank == NULL) {
        return (HcclResult) (r ? r : hfail(HCCL_E_PTR, "HcclGetRankId: rank is NULL"));
    }
    *rank = (uint32_t) c->rank;
    return HCCL_SUCCESS;
}

const char *HcclGetErrorString(HcclResult code) {
    static const char *names[] = {
        "success", "parameter error", "empty pointer", "memory error", "internal error", "not supported",
        "resource not found", "resource unavailable", "system call error", "timeout", "open file failure",
        "tcp connect failure", "roce connect failure", "tcp transfer failure", "roce transfer failure",
        "runtime error", "driver error", "profiling error", "cce error", "network error", "try again",
        "error cqe", "suspending", "op retry failed", "out of memory"};
    int c = (int) code;
    return c >= 0 && c < (int) (sizeof names / sizeof names[0]) ? names[c] : "unknown HcclResult";
}

/* ------------------------------------------------------------------ collectives */

enum { C_ALLREDUCE, C_ALLGATHER, C_REDUCESCATTER, C_BROADCAST, C_BARRIER, C_SEND, C_RECV };

static const char *coll_name(int type) {
    static const char *n[] = {"HcclAllReduce", "HcclAllGather", "HcclReduceScatter", "HcclBroadcast", "HcclBarrier",
                              "HcclSend", "HcclRecv"};
    return n[type];
}

/** Bytes per element of an HcclDataType, 0 when not simulated. */
static int hccl_size(int dt) {
    switch (dt) {
        case HCCL_DATA_TYPE_INT8: case HCCL_DATA_TYPE_UINT8: return 1;
        case HCCL_DATA_TYPE_INT16: case HCCL_DATA_TYPE_UINT16: case HCCL_DATA_TYPE_FP16: case HCCL_DATA_TYPE_BFP16:
            return 2;
        case HCCL_DATA_TYPE_INT32: case HCCL_DATA_TYPE_UINT32: case HCCL_DATA_TYPE_FP32: return 4;
        case HCCL_DATA_TYPE_INT64: case HCCL_DATA_TYPE_UINT64: case HCCL_DATA_TYPE_FP64: return 8;
        default: return 0;
    }
}

/** The simulator's aclDataType for an HcclDataType (for loads and stores). */
static int acl_type(int dt) {
    switch (dt) {
        case HCCL_DATA_TYPE_INT8: return SIM_DT_INT8;
        case HCCL_DATA_TYPE_UINT8: return SIM_DT_UINT8;
        case HCCL_DATA_TYPE_INT16: return SIM_DT_INT16;
        case HCCL_DATA_TYPE_UINT16: return SIM_DT_UINT16;
        case HCCL_DATA_TYPE_FP16: return SIM_DT_FLOAT16;
        case HCCL_DATA_TYPE_BFP16: return SIM_DT_BF16;
        case HCCL_DATA_TYPE_INT32: return SIM_DT_INT32;
        case HCCL_DATA_TYPE_UINT32: return SIM_DT_UINT32;
        case HCCL_DATA_TYPE_FP32: return SIM_DT_FLOAT;
        case HCCL_DATA_TYPE_INT64: return SIM_DT_INT64;
        case HCCL_DATA_TYPE_UINT64: return SIM_DT_UINT64;
        default: return SIM_DT_DOUBLE;
    }
}

/** acc[i] = op(acc[i], x[i]) in the dtype (floats rounded at every step, integers exact). */
static void reduce_into(char *acc, const char *x, uint64_t n, int dt, int op) {
    int t = acl_type(dt);
    int integer = sim_dtype_is_int(t);
    for (uint64_t i = 0; i < n; i++) {
        if (integer && (t == SIM_DT_INT64 || t == SIM_DT_UINT64)) {
            int64_t a = ((int64_t *) acc)[i], b = ((const int64_t *) x)[i];
            ((int64_t *) acc)[i] = op == HCCL_REDUCE_SUM ? a + b : op == HCCL_REDUCE_PROD ? a * b
                                   : op == HCCL_REDUCE_MAX ? (a > b ? a : b) : (a < b ? a : b);
            continue;
        }
        double a = sim_load(acc, t, (int64_t) i), b = sim_load(x, t, (int64_t) i);
        double r = op == HCCL_REDUCE_SUM ? a + b : op == HCCL_REDUCE_PROD ? a * b
                   : op == HCCL_REDUCE_MAX ? (a > b || a != a ? a : b) : (a < b || a != a ? a : b);
        sim_store(acc, t, (int64_t) i, r);
    }
}

typedef struct {
    SimTask task;
    Comm *comm;
    int type;
    void *send;
    void *recv;
    uint64_t count; /* elements per rank as the API defines it */
    int dtype;
    int op;
    int root; /* or the peer of send/recv */
    uint64_t seq;
} CollTask;

static int group_error(Group *g, char *msg, size_t len, const char *what) {
    snprintf(msg, len, "%s: the group has failed: %s", what, g->failMsg);
    return SIM_ACL_ERROR_RT_INTERNAL_ERROR;
}

/**
 * The group barrier (lock held on entry and exit). check != NULL (the first barrier of a
 * collective): every rank's description is compared with rank 0's once all have arrived.
 */
static int barrier(Comm *c, CollTask *t, int check, char *msg, size_t len) {
    Group *g = c->g;
    if (g->failed) {
        return group_error(g, msg, len, coll_name(t->type));
    }
    RankInfo *me = &ranks_of(g)[c->rank];
    uint64_t gen = g->gen;
    me->arrivedGen = gen + 1;
    if (check) {
        me->type = t->type;
        me->count = t->count;
        me->dtype = t->dtype;
        me->op = t->op;
        me->root = t->root;
        me->seq = t->seq;
    }
    if (++g->arrived == g->nranks) {
        g->arrived = 0;
        g->gen++;
        pthread_cond_broadcast(&g->cv);
    } else {
        int64_t timeout = exec_timeout_ms();
        struct timespec dl = deadline_in(timeout);
        while (g->gen == gen && !g->failed) {
            if (pthread_cond_timedwait(&g->cv, &g->mu, &dl) == ETIMEDOUT && g->gen == gen && !g->failed) {
                char who[256];
                missing(g, arrived_flag, gen, who, sizeof who);
                group_fail(g, "%s (collective #%llu) of rank %d waited %lld ms for ranks %s (HCCL_EXEC_TIMEOUT)",
                           coll_name(t->type), (unsigned long long) t->seq, c->rank, (long long) timeout, who);
            }
        }
        if (g->failed) {
            return group_error(g, msg, len, coll_name(t->type));
        }
    }
    if (check) {
        RankInfo *r0 = &ranks_of(g)[0];
        RankInfo *ri = ranks_of(g);
        for (uint32_t r = 1; r < g->nranks; r++) {
            if (ri[r].type != r0->type || ri[r].count != r0->count || ri[r].dtype != r0->dtype
                || (r0->type != C_ALLGATHER && r0->type != C_BARRIER && ri[r].op != r0->op && r0->type != C_BROADCAST)
                || (r0->type == C_BROADCAST && ri[r].root != r0->root)) {
                group_fail(g, "collective #%llu does not match: rank 0 called %s(count %llu, dtype %d, op %d, root %d), "
                           "rank %u called %s(count %llu, dtype %d, op %d, root %d)", (unsigned long long) t->seq,
                           coll_name(r0->type), (unsigned long long) r0->count, r0->dtype, r0->op, r0->root, r,
                           coll_name(ri[r].type), (unsigned long long) ri[r].count, ri[r].dtype, ri[r].op, ri[r].root);
                return group_error(g, msg, len, coll_name(t->type));
            }
        }
    }
    return 0;
}

static int check_buffers(CollTask *t, char *msg, size_t len) {
    uint64_t es = (uint64_t) hccl_size(t->dtype), n = (uint64_t) t->comm->nranks;
    uint64_t sendBytes = 0, recvBytes = 0;
    switch (t->type) {
        case C_ALLREDUCE: sendBytes = recvBytes = t->count * es; break;
        case C_ALLGATHER: sendBytes = t->count * es; recvBytes = n * t->count * es; break;
        case C_REDUCESCATTER: sendBytes = n * t->count * es; recvBytes = t->count * es; break;
        case C_BROADCAST: case C_SEND: sendBytes = t->count * es; break;
        case C_RECV: recvBytes = t->count * es; break;
        default: break;
    }
    if (sendBytes && ascendjSimDeviceRange(t->send, sendBytes) != t->comm->device) {
        snprintf(msg, len, "%s: the send buffer %p (%llu bytes) is not live device memory of device %d", coll_name(t->type),
                 t->send, (unsigned long long) sendBytes, t->comm->device);
        return 1;
    }
    if (recvBytes && ascendjSimDeviceRange(t->recv, recvBytes) != t->comm->device) {
        snprintf(msg, len, "%s: the receive buffer %p (%llu bytes) is not live device memory of device %d",
                 coll_name(t->type), t->recv, (unsigned long long) recvBytes, t->comm->device);
        return 1;
    }
    return 0;
}

static int run_collective(CollTask *t, char *msg, size_t len) {
    Comm *c = t->comm;
    Group *g = c->g;
    uint64_t es = (uint64_t) hccl_size(t->dtype), n = (uint64_t) c->nranks;
    int rank = c->rank;
    group_lock(g);
    int rc = barrier(c, t, 1, msg, len);
    pthread_mutex_unlock(&g->mu);
    if (rc || t->type == C_BARRIER) {
        return rc;
    }
    /* elements moved per round: one slot per rank; reduce-scatter splits its slot into n parts */
    uint64_t per = g->slotBytes / es / (t->type == C_REDUCESCATTER ? n : 1);
    uint64_t total = t->count;
    for (uint64_t o = 0; o < total || (o == 0 && total == 0); o += per) {
        uint64_t k = total - o < per ? total - o : per;
        char *mine = slot(g, rank);
        switch (t->type) {
            case C_ALLREDUCE: case C_ALLGATHER:
                memcpy(mine, (char *) t->send + o * es, k * es);
                break;
            case C_REDUCESCATTER:
                for (uint64_t d = 0; d < n; d++) {
                    memcpy(mine + d * k * es, (char *) t->send + (d * total + o) * es, k * es);
                }
                break;
            case C_BROADCAST:
                if (rank == t->root) {
                    memcpy(mine, (char *) t->send + o * es, k * es);
                }
                break;
            default: break;
        }
        group_lock(g);
        rc = barrier(c, t, 0, msg, len);
        pthread_mutex_unlock(&g->mu);
        if (rc) {
            return rc;
        }
        switch (t->type) {
            case C_ALLREDUCE: {
                char *out = (char *) t->recv + o * es;
                memmove(out, slot(g, 0), k * es);
                for (uint64_t r = 1; r < n; r++) {
                    reduce_into(out, slot(g, (int) r), k, t->dtype, t->op);
                }
                break;
            }
            case C_ALLGATHER:
                for (uint64_t r = 0; r < n; r++) {
                    memcpy((char *) t->recv + (r * total + o) * es, slot(g, (int) r), k * es);
                }
                break;
            case C_REDUCESCATTER: {
                char *out = (char *) t->recv + o * es;
                memcpy(out, slot(g, 0) + (uint64_t) rank * k * es, k * es);
                for (uint64_t r = 1; r < n; r++) {
                    reduce_into(out, slot(g, (int) r) + (uint64_t) rank * k * es, k, t->dtype, t->op);
                }
                break;
            }
            case C_BROADCAST:
                if (rank != t->root) {
                    memcpy((char *) t->send + o * es, slot(g, t->root), k * es);
                }
                break;
            default: break;
        }
        group_lock(g);
        rc = barrier(c, t, 0, msg, len);
        pthread_mutex_unlock(&g->mu);
        if (rc || total == 0) {
            return rc;
        }
    }
    return 0;
}

/** Waits on the group's condition until done() or the exec timeout; lock held. */
static int wait_mail(Comm *c, CollTask *t, int (*done)(Mailbox *, uint64_t), Mailbox *m, uint64_t arg, char *msg,
                     size_t len, const char *what) {
    Group *g = c->g;
    int64_t timeout = exec_timeout_ms();
    struct timespec dl = deadline_in(timeout);
    while (!done(m, arg) && !g->failed) {
        if (pthread_cond_timedwait(&g->cv, &g->mu, &dl) == ETIMEDOUT && !done(m, arg) && !g->failed) {
            group_fail(g, "%s between ranks %d and %d waited %lld ms for %s (HCCL_EXEC_TIMEOUT)", coll_name(t->type),
                       t->type == C_SEND ? c->rank : t->root, t->type == C_SEND ? t->root : c->rank,
                       (long long) timeout, what);
        }
    }
    return g->failed ? group_error(g, msg, len, coll_name(t->type)) : 0;
}

static int mail_empty(Mailbox *m, uint64_t arg) {
    (void) arg;
    return m->taken == m->filled;
}

static int mail_full(Mailbox *m, uint64_t arg) {
    return m->filled > arg;
}

static int run_send(CollTask *t, char *msg, size_t len) {
    Comm *c = t->comm;
    Group *g = c->g;
    int dst = t->root;
    Mailbox *m = mailbox(g, c->rank, dst);
    uint64_t es = (uint64_t) hccl_size(t->dtype), bytes = t->count * es, per = g->mailBytes / es * es;
    group_lock(g);
    int rc = wait_mail(c, t, mail_empty, m, 0, msg, len, "the receiver to take the previous message");
    if (!rc) {
        m->posted++;
        m->count = t->count;
        m->dtype = t->dtype;
    }
    pthread_mutex_unlock(&g->mu);
    for (uint64_t o = 0; !rc && (o < bytes || (o == 0 && bytes == 0)); o += per) {
        uint64_t k = bytes - o < per ? bytes - o : per;
        memcpy(mail_data(g, c->rank, dst), (char *) t->send + o, k); /* the buffer is ours while the box is empty */
        group_lock(g);
        m->bytes = k;
        m->filled++;
        pthread_cond_broadcast(&g->cv);
        rc = wait_mail(c, t, mail_empty, m, 0, msg, len, "the receiver");
        pthread_mutex_unlock(&g->mu);
        if (bytes == 0) {
            break;
        }
    }
    return rc;
}

static int run_recv(CollTask *t, char *msg, size_t len) {
    Comm *c = t->comm;
    Group *g = c->g;
    int src = t->root;
    Mailbox *m = mailbox(g, src, c->rank);
    uint64_t es = (uint64_t) hccl_size(t->dtype), bytes = t->count * es;
    uint64_t got = 0;
    int rc = 0;
    int first = 1;
    while (!rc && (got < bytes || first)) {
        group_lock(g);
        rc = wait_mail(c, t, mail_full, m, m->taken, msg, len, "the sender");
        if (!rc && first && (m->count != t->count || m->dtype != t->dtype)) {
            group_fail(g, "HcclRecv of rank %d expects %llu elements of dtype %d from rank %d, which sends %llu of "
                       "dtype %d", c->rank, (unsigned long long) t->count, t->dtype, src,
                       (unsigned long long) m->count, m->dtype);
            rc = group_error(g, msg, len, "HcclRecv");
        }
        if (!rc) {
            memcpy((char *) t->recv + got, mail_data(g, src, c->rank), m->bytes);
            got += m->bytes;
            m->taken++;
            pthread_cond_broadcast(&g->cv);
        }
        pthread_mutex_unlock(&g->mu);
        first = 0;
        if (bytes == 0) {
            break;
        }
    }
    return rc;
}

static int run_task(SimTask *task, char *msg, size_t len) {
    CollTask *t = (CollTask *) task;
    if (check_buffers(t, msg, len)) {
        return SIM_ACL_ERROR_RT_AICORE_EXCEPTION;
    }
    switch (t->type) {
        case C_SEND: return run_send(t, msg, len);
        case C_RECV: return run_recv(t, msg, len);
        default: return run_collective(t, msg, len);
    }
}

static void release_task(SimTask *task) {
    CollTask *t = (CollTask *) task;
    comm_release(t->comm);
    free(t);
}

static HcclResult enqueue(int type, void *send, void *recv, uint64_t count, HcclDataType dataType, HcclReduceOp op,
                          int root, HcclComm comm, aclrtStream stream) {
    const char *api = coll_name(type);
    Comm *c = NULL;
    int r = lookup_comm(comm, api, &c);
    if (r) {
        return (HcclResult) r;
    }
    int reduce = type == C_ALLREDUCE || type == C_REDUCESCATTER;
    if (type != C_BARRIER && hccl_size((int) dataType) == 0) {
        return (HcclResult) hfail(HCCL_E_PARA, "%s: HcclDataType %d is not simulated", api, (int) dataType);
    }
    if (reduce && (int) op > HCCL_REDUCE_MIN) {
        return (HcclResult) hfail(HCCL_E_PARA, "%s: HcclReduceOp %d is not SUM, PROD, MAX or MIN", api, (int) op);
    }
    if ((type == C_BROADCAST || type == C_SEND || type == C_RECV) && (root < 0 || root >= c->nranks)) {
        return (HcclResult) hfail(HCCL_E_PARA, "%s: rank %d is outside the group of %d", api, root, c->nranks);
    }
    if ((type == C_SEND || type == C_RECV) && root == c->rank) {
        return (HcclResult) hfail(HCCL_E_PARA, "%s: rank %d cannot %s itself", api, root,
                                  type == C_SEND ? "send to" : "receive from");
    }
    void *resolved = NULL;
    int device = -1;
    r = ascendjSimStreamFor(stream, api, &resolved, &device);
    if (r) {
        return HCCL_E_RUNTIME;
    }
    if (device != c->device) {
        return (HcclResult) hfail(HCCL_E_PARA, "%s: the stream belongs to device %d, the communicator (rank %d) to "
                                  "device %d", api, device, c->rank, c->device);
    }
    CollTask *t = (CollTask *) calloc(1, sizeof(CollTask));
    if (t == NULL) {
        return (HcclResult) hfail(HCCL_E_MEMORY, "%s: out of host memory", api);
    }
    t->comm = c;
    t->type = type;
    t->send = send;
    t->recv = recv;
    t->count = count;
    t->dtype = (int) dataType;
    t->op = reduce ? (int) op : 0;
    t->root = root;
    char msg[512];
    if (type != C_BARRIER && count > 0 && check_buffers(t, msg, sizeof msg)) {
        free(t);
        return (HcclResult) hfail(HCCL_E_PARA, "%s", msg);
    }
    if (type != C_SEND && type != C_RECV) {
        t->seq = atomic_fetch_add(&c->seq, 1);
    }
    t->task.run = run_task;
    t->task.release = release_task;
    snprintf(t->task.name, sizeof t->task.name, "%s", api);
    atomic_fetch_add(&c->refs, 1);
    r = ascendjSimEnqueue(resolved, &t->task);
    if (r) {
        comm_release(c);
        free(t);
        return HCCL_E_RUNTIME;
    }
    return HCCL_SUCCESS;
}

HcclResult HcclAllReduce(void *sendBuf, void *recvBuf, uint64_t count, HcclDataType dataType, HcclReduceOp op,
                         HcclComm comm, aclrtStream stream) {
    return enqueue(C_ALLREDUCE, sendBuf, recvBuf, count, dataType, op, 0, comm, stream);
}

HcclResult HcclBroadcast(void *buf, uint64_t count, HcclDataType dataType, uint32_t root, HcclComm comm,
                         aclrtStream stream) {
    return enqueue(C_BROADCAST, buf, buf, count, dataType, HCCL_REDUCE_SUM, (int) root, comm, stream);
}

HcclResult HcclReduceScatter(void *sendBuf, void *recvBuf, uint64_t recvCount, HcclDataType dataType, HcclReduceOp op,
                             HcclComm comm, aclrtStream stream) {
    return enqueue(C_REDUCESCATTER, sendBuf, recvBuf, recvCount, dataType, op, 0, comm, stream);
}

HcclResult HcclAllGather(void *sendBuf, void *recvBuf, uint64_t sendCount, HcclDataType dataType, HcclComm comm,
                         aclrtStream stream) {
    return enqueue(C_ALLGATHER, sendBuf, recvBuf, sendCount, dataType, HCCL_REDUCE_SUM, 0, comm, stream);
}

HcclResult HcclSend(void *sendBuf, uint64_t count, HcclDataType dataType, uint32_t destRank, HcclComm comm,
                    aclrtStream stream) {
    return enqueue(C_SEND, sendBuf, NULL, count, dataType, HCCL_REDUCE_SUM, (int) destRank, comm, stream);
}

HcclResult HcclRecv(void *recvBuf, uint64_t count, HcclDataType dataType, uint32_t srcRank, HcclComm comm,
                    aclrtStream stream) {
    return enqueue(C_RECV, NULL, recvBuf, count, dataType, HCCL_REDUCE_SUM, (int) srcRank, comm, stream);
}

HcclResult HcclBarrier(HcclComm comm, aclrtStream stream) {
    return enqueue(C_BARRIER, NULL, NULL, 0, HCCL_DATA_TYPE_INT8, HCCL_REDUCE_SUM, 0, comm, stream);
}
