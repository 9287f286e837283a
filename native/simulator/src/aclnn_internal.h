/*
 * The aclnn descriptors and executors of AscendJ's simulated CANN, shared by libnnopbase (which
 * owns them: acl_meta.h) and libopapi (the operators).
 *
 * The two-phase protocol is checked the way the documentation states it: phase 1
 * (aclnnXxxGetWorkspaceSize) validates the arguments, copies what the operator needs into an
 * executor and sizes the workspace; phase 2 (aclnnXxx) needs that executor (once, unless made
 * repeatable), every descriptor it was built from still alive, and a device workspace of at least
 * the size asked for; it enqueues the operator on the stream, after which descriptors may be
 * destroyed.
 */
#ifndef ASCENDJ_SIM_ACLNN_INTERNAL_H
#define ASCENDJ_SIM_ACLNN_INTERNAL_H

#include "sim.h"
#include "aclnn/aclnn_base.h"

#define SIM_MAX_DIMS 8
#define SIM_MAX_TENSORS 24

/** A tensor as an operator sees it: a copy of the descriptor taken in phase 1. */
typedef struct {
    int present;
    int nd;
    int64_t dims[SIM_MAX_DIMS];
    int64_t strides[SIM_MAX_DIMS];
    int64_t offset;
    int dtype;
    char *data;
    const void *handle; /* the aclTensor it came from */
    uint64_t id;        /* that descriptor's serial number, to detect destruction and reuse */
    int output;
    const char *name;
} SimTensor;

typedef int (*SimKernel)(aclOpExecutor *e, char *workspace, char *msg, size_t len);

struct aclOpExecutor {
    uint32_t magic;
    uint64_t id;
    const char *op; /* e.g. "aclnnAdd"; phase 2 must be the same operator */
    SimKernel kernel;
    SimTensor t[SIM_MAX_TENSORS];
    int nt;
    double f[8];
    int64_t i[8];
    int64_t ints[SIM_MAX_DIMS * 2];
    int nints;
    char str[16];
    uint64_t workspaceSize;
    int repeatable;
    int device; /* the current device in phase 1 */
};

/* Exported by libnnopbase for libopapi. */

/**
 * Copies descriptor t into *out for operator op; name is the parameter's documented name. A NULL
 * t is an error (ACLNN_ERR_PARAM_NULLPTR) unless optional. Returns an aclnnStatus with a message.
 */
SIM_EXPORT int ascendjSimTensor(const aclTensor *t, const char *op, const char *name, int output, int optional,
                                SimTensor *out);
/** A scalar's value and dtype; NULL is an error naming op and name. */
SIM_EXPORT int ascendjSimScalar(const aclScalar *s, const char *op, const char *name, double *value, int *dtype);
/** An int array's values (at most max); NULL is an error unless optional (then *n = 0). */
SIM_EXPORT int ascendjSimIntArray(const aclIntArray *a, const char *op, const char *name, int optional,
                                  int64_t *values, int max, int *n);
/** Whether the descriptor that had serial number id is still alive. */
SIM_EXPORT int ascendjSimDescriptorAlive(const void *handle, uint64_t id);
/** A new, registered executor for op (zeroed), or NULL when out of memory. */
SIM_EXPORT aclOpExecutor *ascendjSimExecutorNew(const char *op);
/** Whether e is a live executor. */
SIM_EXPORT int ascendjSimExecutorAlive(const aclOpExecutor *e);
/** Unregisters and frees e. */
SIM_EXPORT void ascendjSimExecutorFree(aclOpExecutor *e);

#endif
