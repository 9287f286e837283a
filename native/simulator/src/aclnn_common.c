/*
 * libopapi of AscendJ's simulated CANN: the two-phase protocol and the tensor access that every
 * operator file uses.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aclnn_ops.h"

static SimTensor g_dummy; /* returned after a failure, so that callers need no NULL checks */

static void op_fail(Op *b, int status, const char *fmt, va_list ap) {
    if (b->status == 0) {
        b->status = status;
        char msg[900];
        vsnprintf(msg, sizeof msg, fmt, ap);
        ascendjSimError("%s: %s", b->op, msg);
    }
}

static void op_failf(Op *b, int status, const char *fmt, ...) SIM_PRINTF(3, 4);

static void op_failf(Op *b, int status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    op_fail(b, status, fmt, ap);
    va_end(ap);
}

void op_require(Op *b, int ok, const char *fmt, ...) {
    if (ok || b->status) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    op_fail(b, SIM_ACLNN_ERR_PARAM_INVALID, fmt, ap);
    va_end(ap);
}

void op_begin(Op *b, const char *op, uint64_t *workspaceSize, aclOpExecutor **executor) {
    b->op = op;
    b->status = 0;
    b->e = NULL;
    if (!ascendjSimInitialized()) {
        op_failf(b, SIM_ACLNN_ERR_RUNTIME_ERROR, "call aclInit (or aclnnInit) first");
        return;
    }
    if (workspaceSize == NULL || executor == NULL) {
        op_failf(b, SIM_ACLNN_ERR_PARAM_NULLPTR, "workspaceSize and executor must not be NULL");
        return;
    }
    *executor = NULL;
    *workspaceSize = 0;
    int device = ascendjSimCurrentDevice();
    if (device < 0) {
        b->status = SIM_ACLNN_ERR_RUNTIME_ERROR; /* the runtime's message says why */
        return;
    }
    b->e = ascendjSimExecutorNew(op);
    if (b->e == NULL) {
        op_failf(b, SIM_ACLNN_ERR_INNER, "out of host memory");
        return;
    }
    b->e->device = device;
}

static SimTensor *slot(Op *b, const aclTensor *t, const char *name, int output, int optional) {
    if (b->status) {
        memset(&g_dummy, 0, sizeof g_dummy);
        return &g_dummy;
    }
    if (b->e->nt == SIM_MAX_TENSORS) {
        op_failf(b, SIM_ACLNN_ERR_INNER, "too many tensors");
        return &g_dummy;
    }
    SimTensor *s = &b->e->t[b->e->nt++];
    int r = ascendjSimTensor(t, b->op, name, output, optional, s);
    if (r) {
        b->status = r;
    }
    return s;
}

SimTensor *op_in(Op *b, const aclTensor *t, const char *name) {
    return slot(b, t, name, 0, 0);
}

SimTensor *op_out(Op *b, const aclTensor *t, const char *name) {
    return slot(b, t, name, 1, 0);
}

SimTensor *op_opt(Op *b, const aclTensor *t, const char *name, int output) {
    return slot(b, t, name, output, 1);
}

double op_scalar(Op *b, const aclScalar *s, const char *name) {
    if (b->status) {
        return 0;
    }
    double v = 0;
    int dtype;
    int r = ascendjSimScalar(s, b->op, name, &v, &dtype);
    if (r) {
        b->status = r;
    } else if (dtype == SIM_DT_BF16 && ascendjSimIsAtlasTraining()) {
        op_failf(b, SIM_ACLNN_ERR_PARAM_INVALID, "%s is a BFLOAT16 scalar; %s has no BFLOAT16", name,
                 ascendjSimSocName());
    }
    return v;
}

static void shape_str(const SimTensor *t, char *buf, size_t len) {
    size_t o = (size_t) snprintf(buf, len, "[");
    for (int i = 0; i < t->nd && o < len; i++) {
        o += (size_t) snprintf(buf + o, len - o, i ? ", %lld" : "%lld", (long long) t->dims[i]);
    }
    if (o < len) {
        snprintf(buf + o, len - o, "] %s", sim_dtype_name(t->dtype));
    }
}

void op_dtype(Op *b, const SimTensor *t, unsigned mask) {
    if (b->status || !t->present) {
        return;
    }
    if (t->dtype >= 32 || !(mask & DT(t->dtype))) {
        op_failf(b, SIM_ACLNN_ERR_PARAM_INVALID, "%s has dtype %s, which this operator does not take", t->name,
                 sim_dtype_name(t->dtype));
    }
}

void op_same_shape(Op *b, const SimTensor *a, const SimTensor *c) {
    if (b->status || !a->present || !c->present) {
        return;
    }
    int same = a->nd == c->nd;
    for (int i = 0; same && i < a->nd; i++) {
        same = a->dims[i] == c->dims[i];
    }
    if (!same) {
        char sa[128], sc[128];
        shape_str(a, sa, sizeof sa);
        shape_str(c, sc, sizeof sc);
        op_failf(b, SIM_ACLNN_ERR_PARAM_INVALID, "%s %s and %s %s must have the same shape", a->name, sa, c->name, sc);
    }
}

void op_same_dtype(Op *b, const SimTensor *a, const SimTensor *c) {
    if (b->status || !a->present || !c->present) {
        return;
    }
    if (a->dtype != c->dtype) {
        op_failf(b, SIM_ACLNN_ERR_PARAM_INVALID, "%s (%s) and %s (%s) must have the same dtype", a->name,
                 sim_dtype_name(a->dtype), c->name, sim_dtype_name(c->dtype));
    }
}

void op_broadcastable(Op *b, const SimTensor *t, int nd, const int64_t *dims) {
    if (b->status || !t->present) {
        return;
    }
    int ok = t->nd <= nd;
    for (int i = 0; ok && i < t->nd; i++) {
        int64_t d = t->dims[t->nd - 1 - i];
        ok = d == 1 || d == dims[nd - 1 - i];
    }
    if (!ok) {
        char st[128];
        shape_str(t, st, sizeof st);
        char so[128];
        size_t o = (size_t) snprintf(so, sizeof so, "[");
        for (int i = 0; i < nd && o < sizeof so; i++) {
            o += (size_t) snprintf(so + o, sizeof so - o, i ? ", %lld" : "%lld", (long long) dims[i]);
        }
        if (o < sizeof so) {
            snprintf(so + o, sizeof so - o, "]");
        }
        op_failf(b, SIM_ACLNN_ERR_PARAM_INVALID, "%s %s does not broadcast to %s", t->name, st, so);
    }
}

void op_needs_a2(Op *b) {
    if (!b->status && ascendjSimIsAtlasTraining()) {
        op_failf(b, SIM_ACLNN_ERR_INNER_FIND_KERNEL_ERROR, "not supported on %s (Atlas training series); the "
                 "operator page lists only Atlas A2/A3 products", ascendjSimSocName());
    }
}

aclnnStatus op_end(Op *b, SimKernel kernel, uint64_t workspace, uint64_t *workspaceSize, aclOpExecutor **executor) {
    for (int i = 0; b->e != NULL && i < b->e->nt && !b->status; i++) {
        SimTensor *t = &b->e->t[i];
        if (!t->present) {
            continue;
        }
        if (sim_dtype_size(t->dtype) == 0) {
            op_failf(b, SIM_ACLNN_ERR_PARAM_INVALID, "%s has an unsupported dtype", t->name);
        } else if (t->dtype == SIM_DT_BF16 && ascendjSimIsAtlasTraining()) {
            op_failf(b, SIM_ACLNN_ERR_PARAM_INVALID, "%s is BFLOAT16; %s (Atlas training series) has no BFLOAT16",
                     t->name, ascendjSimSocName());
        } else if (numel(t) > 0 && t->data == NULL) {
            op_failf(b, SIM_ACLNN_ERR_PARAM_NULLPTR, "%s has no device address", t->name);
        }
    }
    if (b->status) {
        if (b->e != NULL) {
            ascendjSimExecutorFree(b->e);
        }
        return b->status;
    }
    b->e->kernel = kernel;
    b->e->workspaceSize = workspace;
    *workspaceSize = workspace;
    *executor = b->e;
    return 0;
}

/* ------------------------------------------------------------------ phase 2 */

/** First and one-past-last byte a tensor view touches. */
static void span(const SimTensor *t, char **lo, char **hi) {
    int64_t last = t->offset;
    for (int i = 0; i < t->nd; i++) {
        last += (t->dims[i] - 1) * t->strides[i];
    }
    int es = sim_dtype_size(t->dtype);
    *lo = t->data + t->offset * es;
    *hi = t->data + (last + 1) * es;
}

/** Checks that every tensor of e lies in device memory of device; describes the first that does not. */
static int check_memory(const aclOpExecutor *e, int device, char *msg, size_t len, const char *when) {
    for (int i = 0; i < e->nt; i++) {
        const SimTensor *t = &e->t[i];
        if (!t->present || numel(t) == 0) {
            continue;
        }
        char *lo, *hi;
        span(t, &lo, &hi);
        int dev = ascendjSimDeviceRange(lo, (uint64_t) (hi - lo));
        if (dev != device) {
            snprintf(msg, len, "%s: %s %s (%p, %lld bytes) is %s", e->op, t->output ? "output" : "input", t->name,
                     (void *) lo, (long long) (hi - lo),
                     dev >= 0 ? "memory of another device"
                              : when[0] ? when : "not inside one live block of device memory");
            return 1;
        }
    }
    return 0;
}

typedef struct {
    SimTask task;
    aclOpExecutor e;
    char *workspace;
    int device;
} KernelTask;

static int run_kernel(SimTask *t, char *msg, size_t len) {
    KernelTask *k = (KernelTask *) t;
    if (check_memory(&k->e, k->device, msg, len, "device memory freed before the operator ran")) {
        return SIM_ACL_ERROR_RT_AICORE_EXCEPTION;
    }
    if (k->e.workspaceSize > 0 && ascendjSimDeviceRange(k->workspace, k->e.workspaceSize) != k->device) {
        snprintf(msg, len, "%s: the workspace was freed before the operator ran", k->e.op);
        return SIM_ACL_ERROR_RT_AICORE_EXCEPTION;
    }
    return k->e.kernel(&k->e, k->workspace, msg, len);
}

aclnnStatus op_launch(const char *op, void *workspace, uint64_t workspaceSize, aclOpExecutor *e, aclrtStream stream) {
    if (!ascendjSimInitialized()) {
        ascendjSimError("%s: call aclInit first", op);
        return SIM_ACLNN_ERR_RUNTIME_ERROR;
    }
    if (!ascendjSimExecutorAlive(e)) {
        ascendjSimError("%s: executor %p is not live: it has already run (phase 2 consumes an executor unless "
                        "aclSetAclOpExecutorRepeatable made it repeatable), was destroyed, or never existed", op,
                        (void *) e);
        return SIM_ACLNN_ERR_PARAM_INVALID;
    }
    if (strcmp(e->op, op) != 0) {
        ascendjSimError("%s: the executor was made by %sGetWorkspaceSize", op, e->op);
        return SIM_ACLNN_ERR_PARAM_INVALID;
    }
    for (int i = 0; i < e->nt; i++) {
        const SimTensor *t = &e->t[i];
        if (t->present && !ascendjSimDescriptorAlive(t->handle, t->id)) {
            ascendjSimError("%s: the aclTensor of %s was destroyed between %sGetWorkspaceSize and %s; destroy "
                            "descriptors only after phase 2", op, t->name, op, op);
            return SIM_ACLNN_ERR_PARAM_INVALID;
        }
    }
    if (workspaceSize < e->workspaceSize) {
        ascendjSimError("%s: a workspace of %llu bytes was given, %sGetWorkspaceSize asked for %llu", op,
                        (unsigned long long) workspaceSize, op, (unsigned long long) e->workspaceSize);
        return SIM_ACLNN_ERR_PARAM_INVALID;
    }
    void *resolved = NULL;
    int device;
    int r = ascendjSimStreamFor(stream, op, &resolved, &device);
    if (r) {
        return SIM_ACLNN_ERR_RUNTIME_ERROR;
    }
    if (device != e->device) {
        ascendjSimError("%s: phase 1 ran with device %d current, the stream belongs to device %d", op, e->device,
                        device);
        return SIM_ACLNN_ERR_PARAM_INVALID;
    }
    if (e->workspaceSize > 0) {
        if (workspace == NULL) {
            ascendjSimError("%s: workspace is NULL but %llu bytes are needed", op, (unsigned long long) e->workspaceSize);
            return SIM_ACLNN_ERR_PARAM_NULLPTR;
        }
        int dev = ascendjSimDeviceRange(workspace, e->workspaceSize);
        if (dev != device) {
            ascendjSimError("%s: the workspace %p (%llu bytes needed) is not inside one live block of device %d "
                            "memory", op, workspace, (unsigned long long) e->workspaceSize, device);
            return SIM_ACLNN_ERR_PARAM_INVALID;
        }
    }
    char msg[900];
    if (check_memory(e, device, msg, sizeof msg, "")) {
        ascendjSimError("%s", msg);
        return SIM_ACLNN_ERR_PARAM_INVALID;
    }
    KernelTask *k = (KernelTask *) calloc(1, sizeof(KernelTask));
    if (k == NULL) {
        ascendjSimError("%s: out of host memory", op);
        return SIM_ACLNN_ERR_INNER;
    }
    k->e = *e;
    k->workspace = (char *) workspace;
    k->device = device;
    k->task.run = run_kernel;
    snprintf(k->task.name, sizeof k->task.name, "%s", op);
    r = ascendjSimEnqueue(resolved, &k->task);
    if (r) {
        free(k);
        return SIM_ACLNN_ERR_RUNTIME_ERROR;
    }
    if (!e->repeatable) {
        ascendjSimExecutorFree(e);
    }
    return 0;
}

/* ------------------------------------------------------------------ tensor access */

int64_t numel_dims(int nd, const int64_t *dims) {
    int64_t n = 1;
    for (int i = 0; i < nd; i++) {
        n *= dims[i];
    }
    return n;
}

int64_t numel(const SimTensor *t) {
    return t->present ? numel_dims(t->nd, t->dims) : 0;
}

int axis_of(int64_t axis, int nd) {
    int64_t a = axis < 0 ? axis + nd : axis;
    return a < 0 || a >= (nd ? nd : 1) ? -1 : (int) a;
}

double *gather(const SimTensor *t, int nd, const int64_t *dims) {
    int64_t n = numel_dims(nd, dims);
    double *v = (double *) malloc((size_t) (n > 0 ? n : 1) * sizeof(double));
    if (v == NULL || n == 0) {
        return v;
    }
    int64_t es[SIM_MAX_DIMS];
    int64_t idx[SIM_MAX_DIMS];
    int shift = nd - t->nd;
    for (int a = 0; a < nd; a++) {
        int ta = a - shift;
        es[a] = ta < 0 || t->dims[ta] == 1 ? 0 : t->strides[ta];
        idx[a] = 0;
    }
    int64_t off = t->offset;
    for (int64_t i = 0; i < n; i++) {
        v[i] = sim_load(t->data, t->dtype, off);
        for (int a = nd - 1; a >= 0; a--) {
            off += es[a];
            if (++idx[a] < dims[a]) {
                break;
            }
            off -= es[a] * dims[a];
            idx[a] = 0;
        }
    }
    return v;
}

void gather_f32(const SimTensor *t, int nd, const int64_t *dims, float *dst) {
    int64_t n = numel_dims(nd, dims);
    int64_t es[SIM_MAX_DIMS];
    int64_t idx[SIM_MAX_DIMS];
    int shift = nd - t->nd;
    for (int a = 0; a < nd; a++) {
        int ta = a - shift;
        es[a] = ta < 0 || t->dims[ta] == 1 ? 0 : t->strides[ta];
        idx[a] = 0;
    }
    int64_t off = t->offset;
    for (int64_t i = 0; i < n; i++) {
        dst[i] = (float) sim_load(t->data, t->dtype, off);
        for (int a = nd - 1; a >= 0; a--) {
            off += es[a];
            if (++idx[a] < dims[a]) {
                break;
            }
            off -= es[a] * dims[a];
            idx[a] = 0;
        }
    }
}

double *gather_all(const SimTensor *t) {
    return gather(t, t->nd, t->dims);
}

int64_t *gather_ints(const SimTensor *t) {
    int64_t n = numel(t);
    int64_t *v = (int64_t *) malloc((size_t) (n > 0 ? n : 1) * sizeof(int64_t));
    if (v == NULL) {
        return NULL;
    }
    int64_t idx[SIM_MAX_DIMS] = {0};
    int64_t off = t->offset;
    for (int64_t i = 0; i < n; i++) {
        v[i] = sim_load_int(t->data, t->dtype, off);
        for (int a = t->nd - 1; a >= 0; a--) {
            off += t->strides[a];
            if (++idx[a] < t->dims[a]) {
                break;
            }
            off -= t->strides[a] * t->dims[a];
            idx[a] = 0;
        }
    }
    return v;
}

void scatter(const SimTensor *t, const double *v) {
    int64_t n = numel(t);
    int64_t idx[SIM_MAX_DIMS] = {0};
    int64_t off = t->offset;
    for (int64_t i = 0; i < n; i++) {
        sim_store(t->data, t->dtype, off, v[i]);
        for (int a = t->nd - 1; a >= 0; a--) {
            off += t->strides[a];
            if (++idx[a] < t->dims[a]) {
                break;
            }
            off -= t->strides[a] * t->dims[a];
            idx[a] = 0;
        }
    }
}

int kernel_oom(aclOpExecutor *e, char *msg, size_t len) {
    snprintf(msg, len, "%s: the host ran out of memory while simulating the operator", e->op);
    return SIM_ACL_ERROR_RT_INTERNAL_ERROR;
}
