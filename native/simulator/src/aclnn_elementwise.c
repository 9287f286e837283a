/*
 * Elementwise operators of the simulated libopapi: Add, Adds, InplaceAdd, Mul, Muls, InplaceMul,
 * Div, Cast, InplaceCopy, InplaceFillScalar, Rsqrt, Sqrt, Exp, Log, Cos, Sin, Silu, SiluBackward.
 * Inputs broadcast with numpy's rules (aclnnAdd, aclnnMul pages, hicann/ops-math); values are
 * computed in double and rounded once to the output's dtype.
 */
#include <math.h>
#include <stdlib.h>

#include "aclnn_ops.h"

enum { BIN_ADD, BIN_MUL, BIN_DIV };
enum { UN_RSQRT, UN_SQRT, UN_EXP, UN_LOG, UN_COS, UN_SIN, UN_SILU, UN_COPY };

/* e->i: [0] kind, [1] a, [2] b (-1: the scalar f[1]), [3] out; f[0] alpha. */
static int k_binary(aclOpExecutor *e, char *ws, char *msg, size_t len) {
    (void) ws;
    const SimTensor *out = &e->t[e->i[3]];
    double *a = gather(&e->t[e->i[1]], out->nd, out->dims);
    double *b = e->i[2] >= 0 ? gather(&e->t[e->i[2]], out->nd, out->dims) : NULL;
    if (a == NULL || (e->i[2] >= 0 && b == NULL)) {
        free(a);
        free(b);
        return kernel_oom(e, msg, len);
    }
    int64_t n = numel(out);
    double alpha = e->f[0];
    for (int64_t i = 0; i < n; i++) {
        double y = b != NULL ? b[i] : e->f[1];
        switch (e->i[0]) {
            case BIN_ADD: a[i] = a[i] + alpha * y; break;
            case BIN_MUL: a[i] = a[i] * y; break;
            default: a[i] = a[i] / y; break;
        }
    }
    scatter(out, a);
    free(a);
    free(b);
    return 0;
}

static double silu(double x) {
    return x / (1 + exp(-x));
}

/* e->i[0] function; t[0] in, t[1] out. */
static int k_unary(aclOpExecutor *e, char *ws, char *msg, size_t len) {
    (void) ws;
    const SimTensor *out = &e->t[1];
    double *v = gather(&e->t[0], out->nd, out->dims);
    if (v == NULL) {
        return kernel_oom(e, msg, len);
    }
    int64_t n = numel(out);
    for (int64_t i = 0; i < n; i++) {
        double x = v[i];
        switch (e->i[0]) {
            case UN_RSQRT: v[i] = 1 / sqrt(x); break;
            case UN_SQRT: v[i] = sqrt(x); break;
            case UN_EXP: v[i] = exp(x); break;
            case UN_LOG: v[i] = log(x); break;
            case UN_COS: v[i] = cos(x); break;
            case UN_SIN: v[i] = sin(x); break;
            case UN_SILU: v[i] = silu(x); break;
            default: break; /* copy and cast: the store rounds */
        }
    }
    scatter(out, v);
    free(v);
    return 0;
}

static int k_fill(aclOpExecutor *e, char *ws, char *msg, size_t len) {
    (void) ws;
    int64_t n = numel(&e->t[0]);
    double *v = (double *) malloc((size_t) (n ? n : 1) * sizeof(double));
    if (v == NULL) {
        return kernel_oom(e, msg, len);
    }
    for (int64_t i = 0; i < n; i++) {
        v[i] = e->f[0];
    }
    scatter(&e->t[0], v);
    free(v);
    return 0;
}

/* gradInput = gradOutput * sigmoid(x) * (1 + x * (1 - sigmoid(x))); t[0] gradOutput, t[1] x, t[2] gradInput. */
static int k_silu_backward(aclOpExecutor *e, char *ws, char *msg, size_t len) {
    (void) ws;
    const SimTensor *out = &e->t[2];
    double *g = gather(&e->t[0], out->nd, out->dims);
    double *x = gather(&e->t[1], out->nd, out->dims);
    if (g == NULL || x == NULL) {
        free(g);
        free(x);
        return kernel_oom(e, msg, len);
    }
    int64_t n = numel(out);
    for (int64_t i = 0; i < n; i++) {
        double s = 1 / (1 + exp(-x[i]));
        g[i] = g[i] * s * (1 + x[i] * (1 - s));
    }
    scatter(out, g);
    free(g);
    free(x);
    return 0;
}

/** The broadcast shape of a and c must be out's shape. */
static void broadcast_into(Op *b, const SimTensor *a, const SimTensor *c, const SimTensor *out) {
    op_broadcastable(b, a, out->nd, out->dims);
    op_broadcastable(b, c, out->nd, out->dims);
    if (b->status) {
        return;
    }
    for (int i = 0; i < out->nd; i++) {
        int ia = i - (out->nd - a->nd);
        int ic = i - (out->nd - c->nd);
        int64_t da = ia >= 0 ? a->dims[ia] : 1;
        int64_t dc = ic >= 0 ? c->dims[ic] : 1;
        int64_t want = da > dc ? da : dc;
        op_require(b, out->dims[i] == want, "out dimension %d is %lld; broadcasting %s and %s gives %lld", i,
                   (long long) out->dims[i], a->name, c->name, (long long) want);
    }
    op_require(b, out->nd >= a->nd && out->nd >= c->nd, "out has fewer dimensions than its inputs");
}

static aclnnStatus binary(const char *name, int kind, const aclTensor *self, const aclTensor *other, double alpha,
                          int hasAlpha, const aclScalar *alphaScalar, aclTensor *out, int inplace,
                          uint64_t *workspaceSize, aclOpExecutor **executor) {
    Op b;
    op_begin(&b, name, workspaceSize, executor);
    SimTensor *a = inplace ? op_out(&b, self, "selfRef") : op_in(&b, self, "self");
    SimTensor *c = op_in(&b, other, "other");
    SimTensor *o = inplace ? a : op_out(&b, out, "out");
    if (hasAlpha) {
        alpha = op_scalar(&b, alphaScalar, "alpha");
    }
    op_dtype(&b, a, DT_NUMBERS);
    op_dtype(&b, c, DT_NUMBERS);
    op_dtype(&b, o, DT_NUMBERS);
    broadcast_into(&b, a, c, o);
    if (b.e != NULL && !b.status) {
        b.e->i[0] = kind;
        b.e->i[1] = 0;
        b.e->i[2] = 1;
        b.e->i[3] = inplace ? 0 : 2;
        b.e->f[0] = alpha;
    }
    return op_end(&b, k_binary, 0, workspaceSize, executor);
}

static aclnnStatus binary_scalar(const char *name, int kind, const aclTensor *self, const aclScalar *other,
                                 const aclScalar *alphaScalar, aclTensor *out, uint64_t *workspaceSize,
                                 aclOpExecutor **executor) {
    Op b;
    op_begin(&b, name, workspaceSize, executor);
    SimTensor *a = op_in(&b, self, "self");
    SimTensor *o = op_out(&b, out, "out");
    double y = op_scalar(&b, other, "other");
    double alpha = alphaScalar != NULL || kind == BIN_ADD ? op_scalar(&b, alphaScalar, "alpha") : 1;
    op_dtype(&b, a, DT_NUMBERS);
    op_dtype(&b, o, DT_NUMBERS);
    op_same_shape(&b, a, o);
    if (b.e != NULL && !b.status) {
        b.e->i[0] = kind;
        b.e->i[1] = 0;
        b.e->i[2] = -1;
        b.e->i[3] = 1;
        b.e->f[0] = alpha;
        b.e->f[1] = y;
    }
    return op_end(&b, k_binary, 0, workspaceSize, executor);
}

aclnnStatus aclnnAddGetWorkspaceSize(const aclTensor *self, const aclTensor *other, const aclScalar *alpha,
                                     aclTensor *out, uint64_t *workspaceSize, aclOpExecutor **executor) {
    return binary("aclnnAdd", BIN_ADD, self, other, 0, 1, alpha, out, 0, workspaceSize, executor);
}
SIM_PHASE2(Add)

aclnnStatus aclnnAddsGetWorkspaceSize(const aclTensor *self, const aclScalar *other, const aclScalar *alpha,
                                      aclTensor *out, uint64_t *workspaceSize, aclOpExecutor **executor) {
    return binary_scalar("aclnnAdds", BIN_ADD, self, other, alpha, out, workspaceSize, executor);
}
SIM_PHASE2(Adds)

aclnnStatus aclnnInplaceAddGetWorkspaceSize(aclTensor *selfRef, const aclTensor *other, const aclScalar *alpha,
                                            uint64_t *workspaceSize, aclOpExecutor **executor) {
    return binary("aclnnInplaceAdd", BIN_ADD, selfRef, other, 0, 1, alpha, NULL, 1, workspaceSize, executor);
}
SIM_PHASE2(InplaceAdd)

aclnnStatus aclnnMulGetWorkspaceSize(const aclTensor *self, const aclTensor *other, aclTensor *out,
                                     uint64_t *workspaceSize, aclOpExecutor **executor) {
    return binary("aclnnMul", BIN_MUL, self, other, 1, 0, NULL, out, 0, workspaceSize, executor);
}
SIM_PHASE2(Mul)

aclnnStatus aclnnMulsGetWorkspaceSize(const aclTensor *self, const aclScalar *other, aclTensor *out,
                                      uint64_t *workspaceSize, aclOpExecutor **executor) {
    return binary_scalar("aclnnMuls", BIN_MUL, self, other, NULL, out, workspaceSize, executor);
}
SIM_PHASE2(Muls)

aclnnStatus aclnnInplaceMulGetWorkspaceSize(aclTensor *selfRef, const aclTensor *other, uint64_t *workspaceSize,
                                            aclOpExecutor **executor) {
    return binary("aclnnInplaceMul", BIN_MUL, selfRef, other, 1, 0, NULL, NULL, 1, workspaceSize, executor);
}
SIM_PHASE2(InplaceMul)

aclnnStatus aclnnDivGetWorkspaceSize(const aclTensor *self, const aclTensor *other, aclTensor *out,
                                     uint64_t *workspaceSize, aclOpExecutor **executor) {
    return binary("aclnnDiv", BIN_DIV, self, other, 1, 0, NULL, out, 0, workspaceSize, executor);
}
SIM_PHASE2(Div)

static aclnnStatus unary(const char *name, int fn, const aclTensor *self, aclTensor *out, unsigned outDtypes,
                         uint64_t *workspaceSize, aclOpExecutor **executor) {
    Op b;
    op_begin(&b, name, workspaceSize, executor);
    SimTensor *a = op_in(&b, self, "self");
    SimTensor *o = op_out(&b, out, "out");
    op_dtype(&b, a, DT_NUMBERS);
    op_dtype(&b, o, outDtypes);
    op_same_shape(&b, a, o);
    if (b.e != NULL) {
        b.e->i[0] = fn;
    }
    return op_end(&b, k_unary, 0, workspaceSize, executor);
}

#define UNARY(Name, fn)                                                                                   \
    aclnnStatus aclnn##Name##GetWorkspaceSize(const aclTensor *self, aclTensor *out, uint64_t *workspaceSize, \
                                              aclOpExecutor **executor) {                                \
        return unary("aclnn" #Name, fn, self, out, DT_FLOATS | DT(SIM_DT_DOUBLE), workspaceSize, executor); \
    }                                                                                                     \
    SIM_PHASE2(Name)

UNARY(Rsqrt, UN_RSQRT)
UNARY(Sqrt, UN_SQRT)
UNARY(Exp, UN_EXP)
UNARY(Log, UN_LOG)
UNARY(Cos, UN_COS)
UNARY(Sin, UN_SIN)
UNARY(Silu, UN_SILU)

aclnnStatus aclnnCastGetWorkspaceSize(const aclTensor *self, const aclDataType dtype, aclTensor *out,
                                      uint64_t *workspaceSize, aclOpExecutor **executor) {
    Op b;
    op_begin(&b, "aclnnCast", workspaceSize, executor);
    SimTensor *a = op_in(&b, self, "self");
    SimTensor *o = op_out(&b, out, "out");
    op_dtype(&b, a, DT_NUMBERS);
    op_dtype(&b, o, DT_NUMBERS);
    op_same_shape(&b, a, o);
    op_require(&b, !o->present || o->dtype == (int) dtype, "dtype is %s but out is %s", sim_dtype_name((int) dtype),
               sim_dtype_name(o->dtype));
    if (b.e != NULL) {
        b.e->i[0] = UN_COPY;
    }
    return op_end(&b, k_unary, 0, workspaceSize, executor);
}
SIM_PHASE2(Cast)

aclnnStatus aclnnInplaceCopyGetWorkspaceSize(aclTensor *selfRef, const aclTensor *src, uint64_t *workspaceSize,
                                             aclOpExecutor **executor) {
    Op b;
    op_begin(&b, "aclnnInplaceCopy", workspaceSize, executor);
    /* slot 0 is read (src), slot 1 written (selfRef): the layout k_unary expects */
    SimTensor *s = op_in(&b, src, "src");
    SimTensor *d = op_out(&b, selfRef, "selfRef");
    op_dtype(&b, s, DT_NUMBERS);
    op_dtype(&b, d, DT_NUMBERS);
    op_broadcastable(&b, s, d->nd, d->dims);
    if (b.e != NULL) {
        b.e->i[0] = UN_COPY;
    }
    return op_end(&b, k_unary, 0, workspaceSize, executor);
}
SIM_PHASE2(InplaceCopy)

aclnnStatus aclnnInplaceFillScalarGetWorkspaceSize(aclTensor *selfRef, const aclScalar *value, uint64_t *workspaceSize,
                                                   aclOpExecutor **executor) {
    Op b;
    op_begin(&b, "aclnnInplaceFillScalar", workspaceSize, executor);
    SimTensor *d = op_out(&b, selfRef, "selfRef");
    double v = op_scalar(&b, value, "value");
    op_dtype(&b, d, DT_NUMBERS);
    if (b.e != NULL) {
        b.e->f[0] = v;
    }
    return op_end(&b, k_fill, 0, workspaceSize, executor);
}
SIM_PHASE2(InplaceFillScalar)

aclnnStatus aclnnSiluBackwardGetWorkspaceSize(const aclTensor *gradOutput, const aclTensor *self,
                                              aclTensor *gradInput, uint64_t *workspaceSize,
                                              aclOpExecutor **executor) {
    Op b;
    op_begin(&b, "aclnnSiluBackward", workspaceSize, executor);
    SimTensor *g = op_in(&b, gradOutput, "gradOutput");
    SimTensor *x = op_in(&b, self, "self");
    SimTensor *o = op_out(&b, gradInput, "gradInput");
    op_dtype(&b, g, DT_FLOATS);
    op_dtype(&b, x, DT_FLOATS);
    op_dtype(&b, o, DT_FLOATS);
    op_same_shape(&b, g, x);
    op_same_shape(&b, x, o);
    return op_end(&b, k_silu_backward, 0, workspaceSize, executor);
}
SIM_PHASE2(SiluBackward)
