/* The reduction block's stride-2 3x3 conv^T (simd.h, mn_simd_convT_s2),
 * computed directly instead of as a GEMM into im2col columns and their
 * stride-2 scatter (mn_conv_backward_data): with pad 1, input pixel
 * iy = 2*oy - 1 + ky, so an even input row takes tap row ky = 1 of output
 * row iy/2 and an odd one ky = 0 of row (iy+1)/2 and ky = 2 of row
 * (iy-1)/2; columns alike (even ix: kx = 1 at ix/2; odd ix: kx = 0 at
 * (ix+1)/2, kx = 2 at (ix-1)/2).  A vector of L output-grid columns x
 * gives L even and L odd input columns, interleaved on the store.
 *
 * Why: the GEMM wrote 9 x cin columns per output pixel that the scatter
 * then read back, and its output had to be zeroed first; the shortcut's
 * 2x2 average-pool backward, the ReLU mask and the add into the block's
 * input cotangent took three more passes.  Here each value is made in
 * registers and stored once.
 *
 * Each tap's term sum_co w[co][ci][ky][kx] * dy[co] is one FMA chain in
 * co order from zero, and a pixel's terms are added from zero in col2im's
 * (ky, kx) order; then relu_bw's mask and add.  So the values are the GEMM
 * path's to rounding: OpenBLAS's Haswell kernel blocks its sums over the
 * output channels (K) its own way, and the bits agree only where K is 6,
 * the first reduction of the search's supernet (tests/test_simd).  The
 * AVX2 (8 lanes) and AVX-512 (16) kernels do the same operations and give
 * the same bits, whatever BLAS is installed. */
#include "nn/simd.h"

#include "nn/simd_target.h"

#if MN_X86
#define AVX512 __attribute__((target("avx512f")))

/* The tap rows of input row iy: ky[] and their output rows oy[]; count. */
static int tap_rows(int iy, int oh, int *ky, int *oy)
{
	if (iy % 2 == 0) {
		ky[0] = 1, oy[0] = iy / 2;
		return 1;
	}
	int n = 0;
	if ((iy + 1) / 2 < oh)
		ky[n] = 0, oy[n++] = (iy + 1) / 2;
	ky[n] = 2, oy[n++] = (iy - 1) / 2;
	return n;
}

/* One vector type's kernel: V the vector, L its lanes, CB input channels
 * at a time (AVX2 has 16 registers: 2; AVX-512 32: 4). */
#define CONVT_S2_KERNEL(NAME, ATTR, V, L, CB, SETZERO, SET1, LOAD, LOADM1, FMA, ADD, MUL,  \
			STORE2, RELUADD)                                                            \
	ATTR static void NAME(const struct mn_convT_s2_job *j, int m)                          \
	{                                                                                      \
		const int h = j->h, w = j->w, oh = h / 2, ow = w / 2, hw = h * w, ohw = oh * ow;  \
		const int n = j->nb > 0 ? m % j->nb : 0;                                       \
		for (int c0 = 0; c0 < j->cin; c0 += CB) {                                       \
			int cb = j->cin - c0 < CB ? j->cin - c0 : CB;                            \
			for (int iy = 0; iy < h; iy++) {                                       \
				int ky[2], oy[2], nk = tap_rows(iy, oh, ky, oy);                \
				for (int x0 = 0; x0 < ow; x0 += L) {                            \
					V E[CB], O[CB];                                         \
					for (int b = 0; b < CB; b++)                            \
						E[b] = SETZERO(), O[b] = SETZERO();             \
					for (int r = 0; r < nk; r++) {                          \
						V t0[CB], t1[CB], t2[CB];                       \
						for (int b = 0; b < CB; b++)                    \
							t0[b] = t1[b] = t2[b] = SETZERO();      \
						const float *d = j->dy + (size_t)m * ohw +     \
								 (size_t)oy[r] * ow + x0;      \
						const int last = x0 + L == ow;                  \
						for (int co = 0; co < j->cout; co++) {          \
							const float *dc = d + (size_t)co * j->ldy; \
							V y0 = LOAD(dc);                        \
							V y1 = last ? LOADM1(dc + 1) : LOAD(dc + 1); \
							const float *wc = j->wt + ((size_t)co * j->cin + c0) * 9 + \
									  ky[r] * 3;            \
							for (int b = 0; b < CB; b++) {          \
								if (b < cb) {                   \
									t0[b] = FMA(SET1(wc[9 * b]), y1, t0[b]); \
									t1[b] = FMA(SET1(wc[9 * b + 1]), y0, t1[b]); \
									t2[b] = FMA(SET1(wc[9 * b + 2]), y0, t2[b]); \
								}                               \
							}                                       \
						}                                               \
						for (int b = 0; b < CB; b++) {                  \
							E[b] = ADD(E[b], t1[b]);                \
							O[b] = ADD(ADD(O[b], t0[b]), t2[b]);    \
						}                                               \
					}                                                       \
					for (int b = 0; b < cb; b++) {                          \
						size_t off = (size_t)iy * w + 2 * x0;           \
						float *out = j->dx + (size_t)(c0 + b) * j->ldx + (size_t)m * hw + off; \
						const float *rl = j->relu ? j->relu + (size_t)(c0 + b) * j->ldrelu + \
										    (size_t)n * hw + off \
									  : NULL;               \
						V lo, hi, plo = SETZERO(), phi = SETZERO();     \
						STORE2(E[b], O[b], lo, hi);                     \
						if (j->pool2) {                                 \
							V pd = MUL(SET1(0.25f),                 \
								   LOAD(j->pool2 + (size_t)(c0 + b) * j->ldy + \
									(size_t)m * ohw + (size_t)(iy / 2) * ow + x0)); \
							STORE2(pd, pd, plo, phi);               \
						}                                               \
						RELUADD(out, rl, lo, j->accumulate, j->pool2 ? &plo : NULL); \
						RELUADD(out + L, rl ? rl + L : NULL, hi, j->accumulate, \
							j->pool2 ? &phi : NULL);                \
					}                                                       \
				}                                                               \
			}                                                                       \
		}                                                                               \
	}

/* ---- AVX2, 8 lanes */
#define A2_LOADM1(p) _mm256_maskload_ps((p), _mm256_setr_epi32(-1, -1, -1, -1, -1, -1, -1, 0))
#define A2_STORE2(E, O, lo, hi)                                                               \
	do {                                                                                  \
		__m256 ul = _mm256_unpacklo_ps((E), (O)), uh = _mm256_unpackhi_ps((E), (O));  \
		lo = _mm256_permute2f128_ps(ul, uh, 0x20);                                    \
		hi = _mm256_permute2f128_ps(ul, uh, 0x31);                                    \
	} while (0)
/* o = [mask r > 0] v + (base, or o when acc, or nothing) */
AVX2 static inline void relu_add8(float *o, const float *r, __m256 v, int acc, const __m256 *base)
{
	if (r)
		v = _mm256_and_ps(_mm256_cmp_ps(_mm256_loadu_ps(r), _mm256_setzero_ps(), _CMP_GT_OQ), v);
	if (base)
		v = _mm256_add_ps(v, *base);
	else if (acc)
		v = _mm256_add_ps(v, _mm256_loadu_ps(o));
	_mm256_storeu_ps(o, v);
}
CONVT_S2_KERNEL(convT_s2_avx2, AVX2, __m256, 8, 2, _mm256_setzero_ps, _mm256_set1_ps, _mm256_loadu_ps,
		A2_LOADM1, _mm256_fmadd_ps, _mm256_add_ps, _mm256_mul_ps, A2_STORE2, relu_add8)

/* ---- AVX-512, 16 lanes */
#define A5_LOADM1(p) _mm512_maskz_loadu_ps((__mmask16)0x7fff, (p))
#define A5_STORE2(E, O, lo, hi)                                                                    \
	do {                                                                                       \
		lo = _mm512_permutex2var_ps((E),                                                   \
					    _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, \
							      6, 22, 7, 23),                        \
					    (O));                                                  \
		hi = _mm512_permutex2var_ps((E),                                                   \
					    _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, \
							      29, 14, 30, 15, 31),                  \
					    (O));                                                  \
	} while (0)
AVX512 static inline void relu_add16(float *o, const float *r, __m512 v, int acc, const __m512 *base)
{
	if (r)
		v = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(_mm512_loadu_ps(r), _mm512_setzero_ps(), _CMP_GT_OQ),
					v);
	if (base)
		v = _mm512_add_ps(v, *base);
	else if (acc)
		v = _mm512_add_ps(v, _mm512_loadu_ps(o));
	_mm512_storeu_ps(o, v);
}
CONVT_S2_KERNEL(convT_s2_avx512, AVX512, __m512, 16, 4, _mm512_setzero_ps, _mm512_set1_ps,
		_mm512_loadu_ps, A5_LOADM1, _mm512_fmadd_ps, _mm512_add_ps, _mm512_mul_ps, A5_STORE2,
		relu_add16)

static int shape_ok(const struct mn_convT_s2_job *j, int lanes)
{
	return j->h > 0 && j->w > 0 && j->h % 2 == 0 && j->w % 2 == 0 && (j->w / 2) % lanes == 0 &&
	       j->cin > 0 && j->cout > 0 && (!j->relu || j->nb > 0);
}

int mn_simd_convT_s2_fits(const struct mn_convT_s2_job *job, int allow_avx512)
{
	if (allow_avx512 && mn_simd_avx512() && shape_ok(job, 16))
		return 16;
	return mn_simd_avx2() && shape_ok(job, 8) ? 8 : 0;
}

int mn_simd_convT_s2(const struct mn_convT_s2_job *job, int allow_avx512)
{
	int lanes = mn_simd_convT_s2_fits(job, allow_avx512);
	if (!lanes)
		return -1;
	for (int m = 0; m < job->nimg; m++)
		if (lanes == 16)
			convT_s2_avx512(job, m);
		else
			convT_s2_avx2(job, m);
	return 0;
}
#else
int mn_simd_convT_s2_fits(const struct mn_convT_s2_job *job, int allow_avx512)
{
	(void)job, (void)allow_avx512;
	return 0;
}
int mn_simd_convT_s2(const struct mn_convT_s2_job *job, int allow_avx512)
{
	(void)job, (void)allow_avx512;
	return -1;
}
#endif
