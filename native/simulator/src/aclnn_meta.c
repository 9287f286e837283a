/*
 * libnnopbase of AscendJ's simulated CANN: aclnn's descriptors (acl_meta.h) and executors.
 *
 * Descriptors are checked when created (a view must lie inside its storage) and kept in a
 * registry, so that destroying one twice, or using a destroyed one, is an error and not a crash.
 * Each descriptor gets a serial number; executors remember it, so that a descriptor destroyed
 * between the two phases of an operator (and perhaps replaced by a new one at the same address)
 * is caught.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aclnn_internal.h"
#include "sim_numeric.h"
#include "sim_registry.h"

#define TENSOR_MAGIC 0x7E4502u
#define SCALAR_MAGIC 0x5CA1A2u
#define ARRAY_MAGIC 0xA22A70u
#define EXECUTOR_MAGIC 0xE4EC07u

struct aclTensor {
    uint32_t magic;
    uint64_t id;
    int nd;
    int64_t dims[SIM_MAX_DIMS];
    int64_t strides[SIM_MAX_DIMS];
    int64_t offset;
    int dtype;
    int format;
    int64_t storageNumel;
    void *data;
};

struct aclScalar {
    uint32_t magic;
    uint64_t id;
    int dtype;
    double value;
};

/* One layout for every array kind: int64 values, floats and bools widened, handles as pointers. */
typedef struct {
    uint32_t magic;
    uint64_t id;
    int kind; /* 0 int, 1 float, 2 bool, 3 tensor list, 4 scalar list */
    uint64_t n;
    int64_t *ints;
    double *reals;
    const void **handles;
} SimArray;

struct aclIntArray { SimArray a; };
struct aclFloatArray { SimArray a; };
struct aclBoolArray { SimArray a; };
struct aclTensorList { SimArray a; };
struct aclScalarList { SimArray a; };

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static SimRegistry g_tensors;
static SimRegistry g_scalars;
static SimRegistry g_arrays;
static SimRegistry g_executors;
static uint64_t g_nextId = 1;
static int g_aclnnInit;

static int fail(int code, const char *fmt, ...) SIM_PRINTF(2, 3);

static int fail(int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    ascendjSimErrorV(fmt, ap);
    va_end(ap);
    return code;
}

aclnnStatus aclnnInit(const char *configPath) {
    (void) configPath;
    pthread_mutex_lock(&g_mu);
    int again = g_aclnnInit;
    g_aclnnInit = 1;
    pthread_mutex_unlock(&g_mu);
    if (again) {
        return fail(SIM_ACLNN_ERR_PARAM_INVALID, "aclnnInit: aclnnInit may be called once per process");
    }
    return 0;
}

aclnnStatus aclnnFinalize(void) {
    return 0;
}

/* ------------------------------------------------------------------ tensors */

aclTensor *aclCreateTensor(const int64_t *viewDims, uint64_t viewDimsNum, aclDataType dataType,
                           const int64_t *stride, int64_t offset, aclFormat format, const int64_t *storageDims,
                           uint64_t storageDimsNum, void *tensorData) {
    if (viewDimsNum > SIM_MAX_DIMS || storageDimsNum > SIM_MAX_DIMS) {
        fail(0, "aclCreateTensor: at most %d dimensions", SIM_MAX_DIMS);
        return NULL;
    }
    if ((viewDimsNum > 0 && (viewDims == NULL || stride == NULL)) || (storageDimsNum > 0 && storageDims == NULL)) {
        fail(0, "aclCreateTensor: viewDims, stride and storageDims must not be NULL");
        return NULL;
    }
    if (sim_dtype_size((int) dataType) == 0) {
        fail(0, "aclCreateTensor: aclDataType %d is not simulated", (int) dataType);
        return NULL;
    }
    if (offset < 0) {
        fail(0, "aclCreateTensor: offset %lld is negative", (long long) offset);
        return NULL;
    }
    int64_t storage = 1;
    for (uint64_t i = 0; i < storageDimsNum; i++) {
        if (storageDims[i] < 0) {
            fail(0, "aclCreateTensor: storageDims[%llu] = %lld is negative", (unsigned long long) i,
                 (long long) storageDims[i]);
            return NULL;
        }
        storage *= storageDims[i];
    }
    int64_t numel = 1, last = offset;
    for (uint64_t i = 0; i < viewDimsNum; i++) {
        if (viewDims[i] < 0) {
            fail(0, "aclCreateTensor: viewDims[%llu] = %lld is negative", (unsigned long long) i,
                 (long long) viewDims[i]);
            return NULL;
        }
        if (stride[i] < 0) {
            fail(0, "aclCreateTensor: stride[%llu] = %lld is negative", (unsigned long long) i, (long long) stride[i]);
            return NULL;
        }
        numel *= viewDims[i];
        if (viewDims[i] > 0) {
            last += (viewDims[i] - 1) * stride[i];
        }
    }
    if (numel > 0 && last >= storage) {
        fail(0, "aclCreateTensor: the view (offset %lld, last element %lld) does not fit in a storage of %lld "
             "elements", (long long) offset, (long long) last, (long long) storage);
        return NULL;
    }
    aclTensor *t = (aclTensor *) calloc(1, sizeof(aclTensor));
    if (t == NULL) {
        return NULL;
    }
    t->magic = TENSOR_MAGIC;
    t->nd = (int) viewDimsNum;
    for (int i = 0; i < t->nd; i++) {
        t->dims[i] = viewDims[i];
        t->strides[i] = stride[i];
    }
    t->offset = offset;
    t->dtype = (int) dataType;
    t->format = (int) format;
    t->storageNumel = storage;
    t->data = tensorData;
    pthread_mutex_lock(&g_mu);
    t->id = g_nextId++;
    int ok = sim_registry_add(&g_tensors, t);
    pthread_mutex_unlock(&g_mu);
    if (!ok) {
        free(t);
        return NULL;
    }
    return t;
}

aclnnStatus aclDestroyTensor(const aclTensor *tensor) {
    if (tensor == NULL) {
        return 0; /* as free(NULL): optional descriptors are destroyed unconditionally by callers */
    }
    pthread_mutex_lock(&g_mu);
    int ok = sim_registry_remove(&g_tensors, tensor);
    pthread_mutex_unlock(&g_mu);
    if (!ok) {
        return fail(SIM_ACLNN_ERR_PARAM_INVALID, "aclDestroyTensor: %p is not a live aclTensor (destroyed twice?)",
                    (const void *) tensor);
    }
    ((aclTensor *) tensor)->magic = 0;
    free((void *) tensor);
    return 0;
}

int ascendjSimDescriptorAlive(const void *handle, uint64_t id) {
    pthread_mutex_lock(&g_mu);
    int alive = 0;
    if (sim_registry_contains(&g_tensors, handle)) {
        alive = ((const aclTensor *) handle)->id == id;
    } else if (sim_registry_contains(&g_scalars, handle)) {
        alive = ((const aclScalar *) handle)->id == id;
    } else if (sim_registry_contains(&g_arrays, handle)) {
        alive = ((const SimArray *) handle)->id == id;
    }
    pthread_mutex_unlock(&g_mu);
    return alive;
}

int ascendjSimTensor(const aclTensor *t, const char *op, const char *name, int output, int optional, SimTensor *out) {
    memset(out, 0, sizeof *out);
    out->name = name;
    out->output = output;
    if (t == NULL) {
        return optional ? 0 : fail(SIM_ACLNN_ERR_PARAM_NULLPTR, "%s: %s must not be NULL", op, name);
    }
    pthread_mutex_lock(&g_mu);
    int ok = sim_registry_contains(&g_tensors, t);
    if (ok) {
        out->present = 1;
        out->nd = t->nd;
        memcpy(out->dims, t->dims, sizeof out->dims);
        memcpy(out->strides, t->strides, sizeof out->strides);
        out->offset = t->offset;
        out->dtype = t->dtype;
        out->data = (char *) t->data;
        out->handle = t;
        out->id = t->id;
    }
    pthread_mutex_unlock(&g_mu);
    if (!ok) {
        return fail(SIM_ACLNN_ERR_PARAM_INVALID, "%s: %s (%p) is not a live aclTensor (destroyed?)", op, name,
                    (const void *) t);
    }
    return 0;
}

aclnnStatus aclGetViewShape(const aclTensor *tensor, int64_t **viewDims, uint64_t *viewDimsNum) {
    SimTensor s;
    int r = ascendjSimTensor(tensor, "aclGetViewShape", "tensor", 0, 0, &s);
    if (r) {
        return r;
    }
    if (viewDims == NULL || viewDimsNum == NULL) {
        return fail(SIM_ACLNN_ERR_PARAM_NULLPTR, "aclGetViewShape: NULL out-parameter");
    }
    *viewDims = ((aclTensor *) tensor)->dims;
    *viewDimsNum = (uint64_t) tensor->nd;
    return 0;
}

aclnnStatus aclGetViewStrides(const aclTensor *tensor, int64_t **stridesValue, uint64_t *stridesNum) {
    SimTensor s;
    int r = ascendjSimTensor(tensor, "aclGetViewStrides", "tensor", 0, 0, &s);
    if (r) {
        return r;
    }
    if (stridesValue == NULL || stridesNum == NULL) {
        return fail(SIM_ACLNN_ERR_PARAM_NULLPTR, "aclGetViewStrides: NULL out-parameter");
    }
    *stridesValue = ((aclTensor *) tensor)->strides;
    *stridesNum = (uint64_t) tensor->nd;
    return 0;
}

aclnnStatus aclGetDataType(const aclTensor *tensor, aclDataType *dataType) {
    SimTensor s;
    int r = ascendjSimTensor(tensor, "aclGetDataType", "tensor", 0, 0, &s);
    if (r) {
        return r;
    }
    if (dataType == NULL) {
        return fail(SIM_ACLNN_ERR_PARAM_NULLPTR, "aclGetDataType: dataType is NULL");
    }
    *dataType = (aclDataType) s.dtype;
    return 0;
}

/* ------------------------------------------------------------------ scalars */

aclScalar *aclCreateScalar(void *value, aclDataType dataType) {
    if (value == NULL) {
        fail(0, "aclCreateScalar: value is NULL");
        return NULL;
    }
    if (sim_dtype_size((int) dataType) == 0) {
        fail(0, "aclCreateScalar: aclDataType %d is not simulated", (int) dataType);
        return NULL;
    }
    aclScalar *s = (aclScalar *) calloc(1, sizeof(aclScalar));
    if (s == NULL) {
        return NULL;
    }
    s->magic = SCALAR_MAGIC;
    s->dtype = (int) dataType;
    /* The value is read now: the documentation lets the caller reuse its host memory afterwards. */
    s->value = sim_load(value, (int) dataType, 0);
    pthread_mutex_lock(&g_mu);
    s->id = g_nextId++;
    int ok = sim_registry_add(&g_scalars, s);
    pthread_mutex_unlock(&g_mu);
    if (!ok) {
        free(s);
        return NULL;
    }
    return s;
}

aclnnStatus aclDestroyScalar(const aclScalar *scalar) {
    if (scalar == NULL) {
        return 0;
    }
    pthread_mutex_lock(&g_mu);
    int ok = sim_registry_remove(&g_scalars, scalar);
    pthread_mutex_unlock(&g_mu);
    if (!ok) {
        return fail(SIM_ACLNN_ERR_PARAM_INVALID, "aclDestroyScalar: %p is not a live aclScalar (destroyed twice?)",
                    (const void *) scalar);
    }
    free((void *) scalar);
    return 0;
}

int ascendjSimScalar(const aclScalar *s, const char *op, const char *name, double *value, int *dtype) {
    if (s == NULL) {
        return fail(SIM_ACLNN_ERR_PARAM_NULLPTR, "%s: %s must not be NULL", op, name);
    }
    pthread_mutex_lock(&g_mu);
    int ok = sim_registry_contains(&g_scalars, s);
    if (ok) {
        *value = s->value;
        *dtype = s->dtype;
    }
    pthread_mutex_unlock(&g_mu);
    if (!ok) {
        return fail(SIM_ACLNN_ERR_PARAM_INVALID, "%s: %s (%p) is not a live aclScalar (destroyed?)", op, name,
                    (const void *) s);
    }
    return 0;
}

/* ------------------------------------------------------------------ arrays */

static SimArray *new_array(int kind, uint64_t n) {
    SimArray *a = (SimArray *) calloc(1, sizeof(SimArray) > sizeof(struct aclIntArray) ? sizeof(SimArray)
                                                                                      : sizeof(struct aclIntArray));
    if (a == NULL) {
        return NULL;
    }
    a->magic = ARRAY_MAGIC;
    a->kind = kind;
    a->n = n;
    size_t m = n ? n : 1;
    if (kind == 0) {
        a->ints = (int64_t *) calloc(m, sizeof(int64_t));
    } else if (kind <= 2) {
        a->reals = (double *) calloc(m, sizeof(double));
    } else {
        a->handles = (const void **) calloc(m, sizeof(void *));
    }
    if (a->ints == NULL && a->reals == NULL && a->handles == NULL) {
        free(a);
        return NULL;
    }
    pthread_mutex_lock(&g_mu);
    a->id = g_nextId++;
    int ok = sim_registry_add(&g_arrays, a);
    pthread_mutex_unlock(&g_mu);
    if (!ok) {
        free(a->ints);
        free(a->reals);
        free(a->handles);
        free(a);
        return NULL;
    }
    return a;
}

static aclnnStatus destroy_array(const void *p, int kind, const char *api) {
    if (p == NULL) {
        return 0;
    }
    pthread_mutex_lock(&g_mu);
    int ok = sim_registry_contains(&g_arrays, p) && ((const SimArray *) p)->kind == kind;
    if (ok) {
        sim_registry_remove(&g_arrays, p);
    }
    pthread_mutex_unlock(&g_mu);
    if (!ok) {
        return fail(SIM_ACLNN_ERR_PARAM_INVALID, "%s: %p is not a live array of this kind (destroyed twice?)", api, p);
    }
    SimArray *a = (SimArray *) p;
    free(a->ints);
    free(a->reals);
    free(a->handles);
    free(a);
    return 0;
}

aclIntArray *aclCreateIntArray(const int64_t *value, uint64_t size) {
    if (value == NULL && size > 0) {
        fail(0, "aclCreateIntArray: value is NULL");
        return NULL;
    }
    SimArray *a = new_array(0, size);
    if (a != NULL && size > 0) {
        memcpy(a->ints, value, size * sizeof(int64_t));
    }
    return (aclIntArray *) a;
}

aclFloatArray *aclCreateFloatArray(const float *value, uint64_t size) {
    if (value == NULL && size > 0) {
        fail(0, "aclCreateFloatArray: value is NULL");
        return NULL;
    }
    SimArray *a = new_array(1, size);
    for (uint64_t i = 0; a != NULL && i < size; i++) {
        a->reals[i] = value[i];
    }
    return (aclFloatArray *) a;
}

aclBoolArray *aclCreateBoolArray(const bool *value, uint64_t size) {
    if (value == NULL && size > 0) {
        fail(0, "aclCreateBoolArray: value is NULL");
        return NULL;
    }
    SimArray *a = new_array(2, size);
    for (uint64_t i = 0; a != NULL && i < size; i++) {
        a->reals[i] = value[i] ? 1 : 0;
    }
    return (aclBoolArray *) a;
}

aclTensorList *aclCreateTensorList(const aclTensor *const *value, uint64_t size) {
    if (value == NULL && size > 0) {
        fail(0, "aclCreateTensorList: value is NULL");
        return NULL;
    }
    SimArray *a = new_array(3, size);
    for (uint64_t i = 0; a != NULL && i < size; i++) {
        a->handles[i] = value[i];
    }
    return (aclTensorList *) a;
}

aclScalarList *aclCreateScalarList(const aclScalar *const *value, uint64_t size) {
    if (value == NULL && size > 0) {
        fail(0, "aclCreateScalarList: value is NULL");
        return NULL;
    }
    SimArray *a = new_array(4, size);
    for (uint64_t i = 0; a != NULL && i < size; i++) {
        a->handles[i] = value[i];
    }
    return (aclScalarList *) a;
}

aclnnStatus aclDestroyIntArray(const aclIntArray *array) {
    return destroy_array(array, 0, "aclDestroyIntArray");
}

aclnnStatus aclDestroyFloatArray(const aclFloatArray *array) {
    return destroy_array(array, 1, "aclDestroyFloatArray");
}

aclnnStatus aclDestroyBoolArray(const aclBoolArray *array) {
    return destroy_array(array, 2, "aclDestroyBoolArray");
}

aclnnStatus aclDestroyTensorList(const aclTensorList *array) {
    return destroy_array(array, 3, "aclDestroyTensorList");
}

aclnnStatus aclDestroyScalarList(const aclScalarList *array) {
    return destroy_array(array, 4, "aclDestroyScalarList");
}

int ascendjSimIntArray(const aclIntArray *a, const char *op, const char *name, int optional, int64_t *values, int max,
                       int *n) {
    *n = 0;
    if (a == NULL) {
        return optional ? 0 : fail(SIM_ACLNN_ERR_PARAM_NULLPTR, "%s: %s must not be NULL", op, name);
    }
    pthread_mutex_lock(&g_mu);
    const SimArray *s = (const SimArray *) a;
    int ok = sim_registry_contains(&g_arrays, a) && s->kind == 0;
    int fits = ok && s->n <= (uint64_t) max;
    if (fits) {
        *n = (int) s->n;
        memcpy(values, s->ints, s->n * sizeof(int64_t));
    }
    pthread_mutex_unlock(&g_mu);
    if (!ok) {
        return fail(SIM_ACLNN_ERR_PARAM_INVALID, "%s: %s (%p) is not a live aclIntArray (destroyed?)", op, name,
                    (const void *) a);
    }
    if (!fits) {
        return fail(SIM_ACLNN_ERR_PARAM_INVALID, "%s: %s has more than %d values", op, name, max);
    }
    return 0;
}

/* ------------------------------------------------------------------ executors */

aclOpExecutor *ascendjSimExecutorNew(const char *op) {
    aclOpExecutor *e = (aclOpExecutor *) calloc(1, sizeof(aclOpExecutor));
    if (e == NULL) {
        return NULL;
    }
    e->magic = EXECUTOR_MAGIC;
    e->op = op;
    pthread_mutex_lock(&g_mu);
    e->id = g_nextId++;
    int ok = sim_registry_add(&g_executors, e);
    pthread_mutex_unlock(&g_mu);
    if (!ok) {
        free(e);
        return NULL;
    }
    return e;
}

int ascendjSimExecutorAlive(const aclOpExecutor *e) {
    pthread_mutex_lock(&g_mu);
    int ok = sim_registry_contains(&g_executors, e);
    pthread_mutex_unlock(&g_mu);
    return ok;
}

void ascendjSimExecutorFree(aclOpExecutor *e) {
    pthread_mutex_lock(&g_mu);
    int ok = sim_registry_remove(&g_executors, e);
    pthread_mutex_unlock(&g_mu);
    if (ok) {
        e->magic = 0;
        free(e);
    }
}

aclnnStatus aclSetAclOpExecutorRepeatable(aclOpExecutor *executor) {
    if (!ascendjSimExecutorAlive(executor)) {
        return fail(SIM_ACLNN_ERR_PARAM_INVALID, "aclSetAclOpExecutorRepeatable: %p is not a live executor "
                    "(already run or destroyed?)", (void *) executor);
    }
    executor->repeatable = 1;
    return 0;
}

aclnnStatus aclDestroyAclOpExecutor(aclOpExecutor *executor) {
    if (!ascendjSimExecutorAlive(executor)) {
        return fail(SIM_ACLNN_ERR_PARAM_INVALID, "aclDestroyAclOpExecutor: %p is not a live executor "
                    "(already run or destroyed?)", (void *) executor);
    }
    ascendjSimExecutorFree(executor);
    return 0;
}

/** Points the index-th input (or output) tensor of a repeatable executor at addr. */
static aclnnStatus set_addr(aclOpExecutor *e, size_t index, aclTensor *tensor, void *addr, int output,
                            const char *api) {
    if (!ascendjSimExecutorAlive(e)) {
        return fail(SIM_ACLNN_ERR_PARAM_INVALID, "%s: %p is not a live executor", api, (void *) e);
    }
    size_t k = 0;
    for (int i = 0; i < e->nt; i++) {
        SimTensor *t = &e->t[i];
        if (!t->present || t->output != output) {
            continue;
        }
        if (k++ == index) {
            t->data = (char *) addr;
            if (tensor != NULL) {
                pthread_mutex_lock(&g_mu);
                if (sim_registry_contains(&g_tensors, tensor)) {
                    tensor->data = addr;
                }
                pthread_mutex_unlock(&g_mu);
            }
            return 0;
        }
    }
    return fail(SIM_ACLNN_ERR_PARAM_INVALID, "%s: %s has no %s %zu", api, e->op, output ? "output" : "input", index);
}

aclnnStatus aclSetInputTensorAddr(aclOpExecutor *executor, const size_t index, aclTensor *tensor, void *addr) {
    return set_addr(executor, index, tensor, addr, 0, "aclSetInputTensorAddr");
}

aclnnStatus aclSetOutputTensorAddr(aclOpExecutor *executor, const size_t index, aclTensor *tensor, void *addr) {
    return set_addr(executor, index, tensor, addr, 1, "aclSetOutputTensorAddr");
}
