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

/* The conv^T kernels' shared set-up (simd_convT_setup.c; the AVX2 kernel
 * is in simd_conv.c, the AVX-512 one in simd_conv512.c):
 *  - mn_convT_cs3: the count of 3x3 inputs (they come first);
 *  - mn_convT_setup: in scr, the padded planes (nin planes of PP floats and
 *    one vector of `lanes` more, zeroed, placed so that the plane's float
 *    `aligned` starts a vector of `lanes`) and after them the inputs' kernels
 *    as wt[co][tap][ci], ci padded to Cp with zeros, then the 1x1 inputs'
 *    as wt[co][ci]; NULL when scr holds less than mn_convT_setup_floats;
 *  - mn_convT_toff: tap t = (ky, kx) of a padded plane of row stride PW
 *    (the input at (1, 1)) sits at (2-ky)*PW + (2-kx) from its output;
 *  - mn_convT_image: the mm-th image a kernel runs of m0..m1-1: sample-major
 *    over a whole job, so the planes the queries of a sample share (xhat)
 *    stay in cache;
 *  - mn_convT_planes: image m's input planes into the padded planes (PP
 *    floats apart), fill doing those with BN coefficients
 *    (alpha*src + beta + gamma*xh, the kernel's own FMAs). */
int mn_convT_cs3(const struct mn_convT_job *j);
size_t mn_convT_setup_floats(const struct mn_convT_job *j, int PP, int Cp, int lanes);
float *mn_convT_setup(const struct mn_convT_job *j, int cs3, int PP, int Cp, int lanes,
		      int aligned, const struct mn_simd_scratch *scr, float **wt);
void mn_convT_toff(int PW, int *toff);
int mn_convT_image(const struct mn_convT_job *j, int m0, int m1, int mm);
typedef void (*mn_convT_fill_fn)(float *dst, int PW, const float *src, const float *xh, int h,
				 int w, float alpha, float beta, float gamma);
void mn_convT_planes(const struct mn_convT_job *j, int m, float *pad, int PW, int PP,
		     mn_convT_fill_fn fill);

/* n floats at the start of s, or NULL when it holds fewer */
static inline float *mn_scratch_floats(const struct mn_simd_scratch *s, size_t n)
{
	return s && s->mem && n * sizeof(float) <= s->bytes ? (float *)s->mem : NULL;
}

#endif
