/* Internal to src/nn/simd*.c: the AVX2 target attribute, and scratch as
 * floats. */
#ifndef MN_NN_SIMD_TARGET_H
#define MN_NN_SIMD_TARGET_H

#include "nn/simd.h"

#if defined(__x86_64__) && defined(__GNUC__)
#define MN_X86 1
#include <immintrin.h>
#define AVX2 __attribute__((target("avx2,fma")))
#else
#define MN_X86 0
#endif

/* n floats at the start of s, or NULL when it holds fewer */
static inline float *mn_scratch_floats(const struct mn_simd_scratch *s, size_t n)
{
	return s && s->mem && n * sizeof(float) <= s->bytes ? (float *)s->mem : NULL;
}

#endif
