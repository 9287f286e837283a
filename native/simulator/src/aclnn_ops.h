/*
 * What the operator files of libopapi share: building an executor in phase 1 (argument checks
 * with sticky failure, so each operator reads as a list of its documented constraints), launching
 * it in phase 2, and reading and writing strided tensors as dense arrays in the kernels.
 */
#ifndef ASCENDJ_SIM_ACLNN_OPS_H
#define ASCENDJ_SIM_ACLNN_OPS_H

#include "aclnn_internal.h"
#include "sim_numeric.h"

/** Phase 1 in progress: the executor being filled and the first failure (status, message set). */
typedef struct {
    const char *op;
    aclOpExecutor *e;
    int status;
} Op;

#define DT(x) (1u << (unsigned) (x))
#define DT_FLOATS (DT(SIM_DT_FLOAT) | DT(SIM_DT_FLOAT16) | DT(SIM_DT_BF16))
#define DT_INDEX (DT(SIM_DT_INT32) | DT(SIM_DT_INT64))
#define DT_NUMBERS (DT_FLOATS | DT(SIM_DT_DOUBLE) | DT(SIM_DT_INT8) | DT(SIM_DT_INT16) | DT(SIM_DT_INT32) \
                    | DT(SIM_DT_INT64) | DT(SIM_DT_UINT8) | DT(SIM_DT_BOOL))

/* ------------------------------------------------------------------ phase 1 */

/** Starts phase 1 of op: checks the out-parameters and initialisation, creates the executor. */
void op_begin(Op *b, const char *op, uint64_t *workspaceSize, aclOpExecutor **executor);
/** A required input tensor; returns its slot (a zeroed dummy after a failure, never NULL). */
SimTensor *op_in(Op *b, const aclTensor *t, const char *name);
/** A required output tensor. */
SimTensor *op_out(Op *b, const aclTensor *t, const char *name);
/** An optional tensor: its slot has present == 0 when t is NULL. */
SimTensor *op_opt(Op *b, const aclTensor *t, const char *name, int output);
double op_scalar(Op *b, const aclScalar *s, const char *name);
/** Fails with ACLNN_ERR_PARAM_INVALID and the message unless ok. */
void op_require(Op *b, int ok, const char *fmt, ...) SIM_PRINTF(3, 4);
/** Fails unless t's dtype is in mask. */
void op_dtype(Op *b, const SimTensor *t, unsigned mask);
void op_same_shape(Op *b, const SimTensor *a, const SimTensor *c);
void op_same_dtype(Op *b, const SimTensor *a, const SimTensor *c);
/** Fails unless t broadcasts (numpy rules) to dims. */
void op_broadcastable(Op *b, const SimTensor *t, int nd, const int64_t *dims);
/** Fused operators: unavailable on the Atlas training series (the operator pages' support tables). */
void op_needs_a2(Op *b);
/** Ends phase 1: common checks, then hands out the executor, or frees it and returns the failure. */
aclnnStatus op_end(Op *b, SimKernel kernel, uint64_t workspace, uint64_t *workspaceSize, aclOpExecutor **executor);

/** Phase 2 of op: checks the protocol and enqueues the executor's kernel on stream. */
aclnnStatus op_launch(const char *op, void *workspace, uint64_t workspaceSize, aclOpExecutor *executor,
                      aclrtStream stream);

/** Defines phase 2 of aclnn##name. */
#define SIM_PHASE2(name)                                                                                     \
    aclnnStatus aclnn##name(void *workspace, uint64_t workspaceSize, aclOpExecutor *executor, aclrtStream stream) { \
        return op_launch("aclnn" #name, workspace, workspaceSize, executor, stream);                        \
    }

/* ------------------------------------------------------------------ kernels */

int64_t numel(const SimTensor *t);
int64_t numel_dims(int nd, const int64_t *dims);
/** Index of axis (negative counts from the end) in a rank-nd tensor, or -1. */
int axis_of(int64_t axis, int nd);
/** t's elements broadcast to dims, row-major, as doubles (malloc; NULL when out of memory). */
double *gather(const SimTensor *t, int nd, const int64_t *dims);
/** t's elements in its own shape. */
double *gather_all(const SimTensor *t);
/** Writes v (row-major in t's shape) into t, rounding to its dtype. */
void scatter(const SimTensor *t, const double *v);
/** Like gather, as floats into dst (the operator's workspace). */
void gather_f32(const SimTensor *t, int nd, const int64_t *dims, float *dst);
/** Integer elements (ids, labels) in t's own shape (malloc). */
int64_t *gather_ints(const SimTensor *t);
/** Reports that a kernel ran out of host memory. */
int kernel_oom(aclOpExecutor *e, char *msg, size_t len);

#endif
