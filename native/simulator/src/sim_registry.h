/*
 * A set of live handles (opaque pointers handed out to callers), so that a destroyed, foreign or
 * garbage handle is answered with an error code instead of being dereferenced. Callers hold
 * their own lock around every call.
 */
#ifndef ASCENDJ_SIM_REGISTRY_H
#define ASCENDJ_SIM_REGISTRY_H

#include <stdint.h>
#include <stdlib.h>

typedef struct {
    uintptr_t *slots; /* 0 empty, 1 deleted, else a handle */
    size_t capacity;
    size_t used;  /* live + deleted */
    size_t live;
} SimRegistry;

static inline size_t sim_registry_hash(uintptr_t p, size_t capacity) {
    uint64_t h = (uint64_t) p * 0x9E3779B97F4A7C15ull;
    return (size_t) (h >> 17) & (capacity - 1);
}

static inline int sim_registry_contains(const SimRegistry *r, const void *handle) {
    uintptr_t p = (uintptr_t) handle;
    if (p <= 1 || r->capacity == 0) {
        return 0;
    }
    for (size_t i = sim_registry_hash(p, r->capacity), n = 0; n < r->capacity; i = (i + 1) & (r->capacity - 1), n++) {
        if (r->slots[i] == p) {
            return 1;
        }
        if (r->slots[i] == 0) {
            return 0;
        }
    }
    return 0;
}

static inline int sim_registry_grow(SimRegistry *r) {
    size_t cap = r->capacity ? r->capacity * 2 : 64;
    while (r->live * 2 >= cap) {
        cap *= 2;
    }
    uintptr_t *slots = (uintptr_t *) calloc(cap, sizeof(uintptr_t));
    if (slots == NULL) {
        return 0;
    }
    for (size_t i = 0; i < r->capacity; i++) {
        uintptr_t p = r->slots[i];
        if (p > 1) {
            size_t j = sim_registry_hash(p, cap);
            while (slots[j] != 0) {
                j = (j + 1) & (cap - 1);
            }
            slots[j] = p;
        }
    }
    free(r->slots);
    r->slots = slots;
    r->capacity = cap;
    r->used = r->live;
    return 1;
}

/** Adds a handle; returns 0 when out of memory. */
static inline int sim_registry_add(SimRegistry *r, const void *handle) {
    if ((r->used + 1) * 2 > r->capacity && !sim_registry_grow(r)) {
        return 0;
    }
    uintptr_t p = (uintptr_t) handle;
    size_t i = sim_registry_hash(p, r->capacity);
    while (r->slots[i] > 1) {
        i = (i + 1) & (r->capacity - 1);
    }
    if (r->slots[i] == 0) {
        r->used++;
    }
    r->slots[i] = p;
    r->live++;
    return 1;
}

/** Removes a handle; returns 0 when it was not there. */
static inline int sim_registry_remove(SimRegistry *r, const void *handle) {
    uintptr_t p = (uintptr_t) handle;
    if (p <= 1 || r->capacity == 0) {
        return 0;
    }
    for (size_t i = sim_registry_hash(p, r->capacity), n = 0; n < r->capacity; i = (i + 1) & (r->capacity - 1), n++) {
        if (r->slots[i] == p) {
            r->slots[i] = 1;
            r->live--;
            return 1;
        }
        if (r->slots[i] == 0) {
            return 0;
        }
    }
    return 0;
}

#endif
