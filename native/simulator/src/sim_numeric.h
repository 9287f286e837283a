/*
 * Element access for the simulator: IEEE binary16 and bfloat16 conversions (round to nearest
 * even, as the hardware stores them) and loads/stores of every aclDataType the simulator
 * supports, as doubles.
 */
#ifndef ASCENDJ_SIM_NUMERIC_H
#define ASCENDJ_SIM_NUMERIC_H

#include <math.h>
#include <stdint.h>
#include <string.h>

/* aclDataType values (cann-api.md section 1.4). */
enum {
    SIM_DT_FLOAT = 0, SIM_DT_FLOAT16 = 1, SIM_DT_INT8 = 2, SIM_DT_INT32 = 3, SIM_DT_UINT8 = 4,
    SIM_DT_INT16 = 6, SIM_DT_UINT16 = 7, SIM_DT_UINT32 = 8, SIM_DT_INT64 = 9, SIM_DT_UINT64 = 10,
    SIM_DT_DOUBLE = 11, SIM_DT_BOOL = 12, SIM_DT_BF16 = 27
};

static inline float sim_bits_to_float(uint32_t b) {
    float f;
    memcpy(&f, &b, 4);
    return f;
}

static inline uint32_t sim_float_to_bits(float f) {
    uint32_t b;
    memcpy(&b, &f, 4);
    return b;
}

static inline float sim_half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t) (h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f;
    uint32_t man = h & 0x3ff;
    if (exp == 0) {
        /* zero or subnormal: man * 2^-24 */
        float v = (float) man * 5.9604644775390625e-8f;
        return sign ? -v : v;
    }
    if (exp == 31) {
        return sim_bits_to_float(sign | 0x7f800000u | (man << 13));
    }
    return sim_bits_to_float(sign | ((exp + 112) << 23) | (man << 13));
}

static inline uint16_t sim_float_to_half(float f) {
    uint32_t x = sim_float_to_bits(f);
    uint16_t sign = (uint16_t) ((x >> 16) & 0x8000);
    uint32_t exp = (x >> 23) & 0xff;
    uint32_t man = x & 0x7fffff;
    if (exp == 255) {
        return sign | 0x7c00 | (man ? 0x200 | (uint16_t) (man >> 13) : 0);
    }
    int e = (int) exp - 127 + 15;
    if (e >= 31) {
        return sign | 0x7c00; /* overflow to infinity */
    }
    if (e <= 0) {
        if (e < -10) {
            return sign; /* underflow to zero */
        }
        /* subnormal: shift the implicit bit in, round to nearest even */
        man |= 0x800000;
        int shift = 14 - e;
        uint32_t half = man >> shift;
        uint32_t rem = man & ((1u << shift) - 1);
        uint32_t mid = 1u << (shift - 1);
        if (rem > mid || (rem == mid && (half & 1))) {
            half++;
        }
        return sign | (uint16_t) half;
    }
    uint32_t half = ((uint32_t) e << 10) | (man >> 13);
    uint32_t rem = man & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (half & 1))) {
        half++; /* may carry into the exponent, up to infinity: correct */
    }
    return sign | (uint16_t) half;
}

static inline float sim_bf16_to_float(uint16_t b) {
    return sim_bits_to_float((uint32_t) b << 16);
}

static inline uint16_t sim_float_to_bf16(float f) {
    uint32_t x = sim_float_to_bits(f);
    if ((x & 0x7f800000u) == 0x7f800000u && (x & 0x7fffff)) {
        return (uint16_t) ((x >> 16) | 0x40); /* quiet NaN */
    }
    uint32_t rounding = 0x7fff + ((x >> 16) & 1);
    return (uint16_t) ((x + rounding) >> 16);
}

/** FP32 rounded to FP16 and back: what an FP16 cube unit sees of an FP32 value. */
static inline float sim_round_half(float f) {
    return sim_half_to_float(sim_float_to_half(f));
}

/** FP32 rounded to HF32 (1 sign, 8 exponent, 10 mantissa bits; ops-nn conv2d_v2 test notes). */
static inline float sim_round_hf32(float f) {
    uint32_t x = sim_float_to_bits(f);
    if ((x & 0x7f800000u) == 0x7f800000u) {
        return f;
    }
    uint32_t lsb = (x >> 13) & 1;
    x += 0xfff + lsb;
    x &= ~0x1fffu;
    return sim_bits_to_float(x);
}

/** Bytes per element, 0 for dtypes the simulator does not support. */
static inline int sim_dtype_size(int dt) {
    switch (dt) {
        case SIM_DT_FLOAT: case SIM_DT_INT32: case SIM_DT_UINT32: return 4;
        case SIM_DT_FLOAT16: case SIM_DT_BF16: case SIM_DT_INT16: case SIM_DT_UINT16: return 2;
        case SIM_DT_INT8: case SIM_DT_UINT8: case SIM_DT_BOOL: return 1;
        case SIM_DT_INT64: case SIM_DT_UINT64: case SIM_DT_DOUBLE: return 8;
        default: return 0;
    }
}

static inline const char *sim_dtype_name(int dt) {
    switch (dt) {
        case SIM_DT_FLOAT: return "FLOAT";
        case SIM_DT_FLOAT16: return "FLOAT16";
        case SIM_DT_BF16: return "BFLOAT16";
        case SIM_DT_INT8: return "INT8";
        case SIM_DT_INT16: return "INT16";
        case SIM_DT_INT32: return "INT32";
        case SIM_DT_INT64: return "INT64";
        case SIM_DT_UINT8: return "UINT8";
        case SIM_DT_UINT16: return "UINT16";
        case SIM_DT_UINT32: return "UINT32";
        case SIM_DT_UINT64: return "UINT64";
        case SIM_DT_DOUBLE: return "DOUBLE";
        case SIM_DT_BOOL: return "BOOL";
        default: return "unsupported dtype";
    }
}

static inline int sim_dtype_is_float(int dt) {
    return dt == SIM_DT_FLOAT || dt == SIM_DT_FLOAT16 || dt == SIM_DT_BF16 || dt == SIM_DT_DOUBLE;
}

static inline int sim_dtype_is_int(int dt) {
    return dt == SIM_DT_INT8 || dt == SIM_DT_INT16 || dt == SIM_DT_INT32 || dt == SIM_DT_INT64 || dt == SIM_DT_UINT8
           || dt == SIM_DT_UINT16 || dt == SIM_DT_UINT32 || dt == SIM_DT_UINT64 || dt == SIM_DT_BOOL;
}

/** Element i (in elements from base) of dtype dt, as a double. */
static inline double sim_load(const void *base, int dt, int64_t i) {
    switch (dt) {
        case SIM_DT_FLOAT: return ((const float *) base)[i];
        case SIM_DT_FLOAT16: return sim_half_to_float(((const uint16_t *) base)[i]);
        case SIM_DT_BF16: return sim_bf16_to_float(((const uint16_t *) base)[i]);
        case SIM_DT_DOUBLE: return ((const double *) base)[i];
        case SIM_DT_INT8: return ((const int8_t *) base)[i];
        case SIM_DT_INT16: return ((const int16_t *) base)[i];
        case SIM_DT_INT32: return ((const int32_t *) base)[i];
        case SIM_DT_INT64: return (double) ((const int64_t *) base)[i];
        case SIM_DT_UINT8: return ((const uint8_t *) base)[i];
        case SIM_DT_UINT16: return ((const uint16_t *) base)[i];
        case SIM_DT_UINT32: return ((const uint32_t *) base)[i];
        case SIM_DT_UINT64: return (double) ((const uint64_t *) base)[i];
        case SIM_DT_BOOL: return ((const uint8_t *) base)[i] != 0;
        default: return NAN;
    }
}

/** Integers as integers (labels and ids must not go through a double when they are large). */
static inline int64_t sim_load_int(const void *base, int dt, int64_t i) {
    switch (dt) {
        case SIM_DT_INT64: return ((const int64_t *) base)[i];
        case SIM_DT_UINT64: return (int64_t) ((const uint64_t *) base)[i];
        case SIM_DT_INT32: return ((const int32_t *) base)[i];
        default: return (int64_t) sim_load(base, dt, i);
    }
}

static inline int64_t sim_saturate(double v, double lo, double hi) {
    if (isnan(v)) {
        return 0;
    }
    return (int64_t) (v < lo ? lo : v > hi ? hi : v);
}

/** Stores v as element i of dtype dt: floats round to nearest even, integers truncate toward zero. */
static inline void sim_store(void *base, int dt, int64_t i, double v) {
    switch (dt) {
        case SIM_DT_FLOAT: ((float *) base)[i] = (float) v; break;
        case SIM_DT_FLOAT16: ((uint16_t *) base)[i] = sim_float_to_half((float) v); break;
        case SIM_DT_BF16: ((uint16_t *) base)[i] = sim_float_to_bf16((float) v); break;
        case SIM_DT_DOUBLE: ((double *) base)[i] = v; break;
        case SIM_DT_INT8: ((int8_t *) base)[i] = (int8_t) sim_saturate(v, -128, 127); break;
        case SIM_DT_INT16: ((int16_t *) base)[i] = (int16_t) sim_saturate(v, -32768, 32767); break;
        case SIM_DT_INT32: ((int32_t *) base)[i] = (int32_t) sim_saturate(v, -2147483648.0, 2147483647.0); break;
        case SIM_DT_INT64: ((int64_t *) base)[i] = sim_saturate(v, -9.2e18, 9.2e18); break;
        case SIM_DT_UINT8: ((uint8_t *) base)[i] = (uint8_t) sim_saturate(v, 0, 255); break;
        case SIM_DT_UINT16: ((uint16_t *) base)[i] = (uint16_t) sim_saturate(v, 0, 65535); break;
        case SIM_DT_UINT32: ((uint32_t *) base)[i] = (uint32_t) sim_saturate(v, 0, 4294967295.0); break;
        case SIM_DT_UINT64: ((uint64_t *) base)[i] = (uint64_t) sim_saturate(v, 0, 1.8e19); break;
        case SIM_DT_BOOL: ((uint8_t *) base)[i] = v != 0; break;
        default: break;
    }
}

#endif
