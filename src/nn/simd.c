/* Float kernels with a run-time AVX2+FMA path (see simd.h): reductions,
 * element-wise maps and the short-K A B^T.  The conv kernels are in
 * simd_conv.c, the 3x3 average pool in simd_pool.c. */
#include "nn/simd.h"

#include <stdlib.h>
#include <string.h>

#include "nn/simd_target.h"

int mn_simd_avx2(void)
{
#if MN_X86
	return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
	return 0;
#endif
}

int mn_simd_avx512(void)
{
#if MN_X86
	return __builtin_cpu_supports("avx512f");
#else
	return 0;
#endif
}

/* Floats summed per block before the double accumulation. */
#define SUM_BLOCK 2048

/* ------------------------------------------------------------ reductions */

/* ---------------------------------------------------------------- scratch */

int mn_simd_scratch_reserve(struct mn_simd_scratch *s, size_t bytes)
{
	if (bytes <= s->bytes)
		return 0;
	void *m = malloc(bytes);
	if (!m)
		return -1;
	free(s->mem);
	s->mem = m;
	s->bytes = bytes;
	return 0;
}

void mn_simd_scratch_free(struct mn_simd_scratch *s)
{
	free(s->mem);
	s->mem = NULL;
	s->bytes = 0;
}

static void sum2_c(const float *d, const float *x, size_t n, double *s1, double *s2)
{
	double t1 = 0, t2 = 0;
	for (size_t i0 = 0; i0 < n; i0 += SUM_BLOCK) {
		size_t e = i0 + SUM_BLOCK < n ? i0 + SUM_BLOCK : n;
		float a = 0, b = 0;
		for (size_t i = i0; i < e; i++) {
			a += d[i];
			b += d[i] * x[i];
		}
		t1 += a;
		t2 += b;
	}
	*s1 = t1;
	*s2 = t2;
}

#if MN_X86
AVX2 static inline float hsum8(__m256 v)
{
	__m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
	s = _mm_add_ps(s, _mm_movehl_ps(s, s));
	s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
	return _mm_cvtss_f32(s);
}

AVX2 static void sum2_avx2(const float *d, const float *x, size_t n, double *s1, double *s2)
{
	double t1 = 0, t2 = 0;
	for (size_t i0 = 0; i0 < n; i0 += SUM_BLOCK) {
		size_t e = i0 + SUM_BLOCK < n ? i0 + SUM_BLOCK : n, i = i0;
		__m256 a0 = _mm256_setzero_ps(), a1 = a0, b0 = a0, b1 = a0;
		for (; i + 16 <= e; i += 16) {
			__m256 d0 = _mm256_loadu_ps(d + i), d1 = _mm256_loadu_ps(d + i + 8);
			a0 = _mm256_add_ps(a0, d0);
			a1 = _mm256_add_ps(a1, d1);
			b0 = _mm256_fmadd_ps(d0, _mm256_loadu_ps(x + i), b0);
			b1 = _mm256_fmadd_ps(d1, _mm256_loadu_ps(x + i + 8), b1);
		}
		float a = hsum8(_mm256_add_ps(a0, a1)), b = hsum8(_mm256_add_ps(b0, b1));
		for (; i < e; i++) {
			a += d[i];
			b += d[i] * x[i];
		}
		t1 += a;
		t2 += b;
	}
	*s1 = t1;
	*s2 = t2;
}

AVX2 static double sum_avx2(const float *d, size_t n)
{
	double t = 0;
	for (size_t i0 = 0; i0 < n; i0 += SUM_BLOCK) {
		size_t e = i0 + SUM_BLOCK < n ? i0 + SUM_BLOCK : n, i = i0;
		__m256 a0 = _mm256_setzero_ps(), a1 = a0;
		for (; i + 16 <= e; i += 16) {
			a0 = _mm256_add_ps(a0, _mm256_loadu_ps(d + i));
			a1 = _mm256_add_ps(a1, _mm256_loadu_ps(d + i + 8));
		}
		float a = hsum8(_mm256_add_ps(a0, a1));
		for (; i < e; i++)
			a += d[i];
		t += a;
	}
	return t;
}
#endif

void mn_simd_sum2(const float *d, const float *x, size_t n, double *s1, double *s2)
{
#if MN_X86
	if (mn_simd_avx2()) {
		sum2_avx2(d, x, n, s1, s2);
		return;
	}
#endif
	sum2_c(d, x, n, s1, s2);
}

double mn_simd_sum(const float *d, size_t n)
{
#if MN_X86
	if (mn_simd_avx2())
		return sum_avx2(d, n);
#endif
	double t = 0;
	for (size_t i0 = 0; i0 < n; i0 += SUM_BLOCK) {
		size_t e = i0 + SUM_BLOCK < n ? i0 + SUM_BLOCK : n;
		float a = 0;
		for (size_t i = i0; i < e; i++)
			a += d[i];
		t += a;
	}
	return t;
}

#if MN_X86
AVX2 static double sqdev_avx2(const float *x, size_t n, float mu)
{
	double t = 0;
	__m256 vm = _mm256_set1_ps(mu);
	for (size_t i0 = 0; i0 < n; i0 += SUM_BLOCK) {
		size_t e = i0 + SUM_BLOCK < n ? i0 + SUM_BLOCK : n, i = i0;
		__m256 a0 = _mm256_setzero_ps(), a1 = a0;
		for (; i + 16 <= e; i += 16) {
			__m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(x + i), vm);
			__m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(x + i + 8), vm);
			a0 = _mm256_fmadd_ps(d0, d0, a0);
			a1 = _mm256_fmadd_ps(d1, d1, a1);
		}
		float a = hsum8(_mm256_add_ps(a0, a1));
		for (; i < e; i++)
			a += (x[i] - mu) * (x[i] - mu);
		t += a;
	}
	return t;
}
#endif

double mn_simd_sqdev(const float *x, size_t n, float mu)
{
#if MN_X86
	if (mn_simd_avx2())
		return sqdev_avx2(x, n, mu);
#endif
	double t = 0;
	for (size_t i0 = 0; i0 < n; i0 += SUM_BLOCK) {
		size_t e = i0 + SUM_BLOCK < n ? i0 + SUM_BLOCK : n;
		float a = 0;
		for (size_t i = i0; i < e; i++)
			a += (x[i] - mu) * (x[i] - mu);
		t += a;
	}
	return t;
}

#if MN_X86
/* six dot products and the plain sum in one pass; unused streams point at d */
AVX2 static void dots_avx2(const float *d, const float *const *xin, int nx, size_t n,
			   double *dots, double *sum)
{
	const float *x[6];
	for (int k = 0; k < 6; k++)
		x[k] = k < nx ? xin[k] : d;
	double t[7] = {0};
	for (size_t i0 = 0; i0 < n; i0 += SUM_BLOCK) {
		size_t e = i0 + SUM_BLOCK < n ? i0 + SUM_BLOCK : n, i = i0;
		__m256 s0 = _mm256_setzero_ps(), a0 = s0, a1 = s0, a2 = s0, a3 = s0, a4 = s0, a5 = s0;
		for (; i + 8 <= e; i += 8) {
			__m256 v = _mm256_loadu_ps(d + i);
			s0 = _mm256_add_ps(s0, v);
			a0 = _mm256_fmadd_ps(v, _mm256_loadu_ps(x[0] + i), a0);
			a1 = _mm256_fmadd_ps(v, _mm256_loadu_ps(x[1] + i), a1);
			a2 = _mm256_fmadd_ps(v, _mm256_loadu_ps(x[2] + i), a2);
			a3 = _mm256_fmadd_ps(v, _mm256_loadu_ps(x[3] + i), a3);
			a4 = _mm256_fmadd_ps(v, _mm256_loadu_ps(x[4] + i), a4);
			a5 = _mm256_fmadd_ps(v, _mm256_loadu_ps(x[5] + i), a5);
		}
		float r[7] = {hsum8(a0), hsum8(a1), hsum8(a2), hsum8(a3), hsum8(a4), hsum8(a5), hsum8(s0)};
		for (; i < e; i++) {
			for (int k = 0; k < 6; k++)
				r[k] += d[i] * x[k][i];
			r[6] += d[i];
		}
		for (int k = 0; k < 7; k++)
			t[k] += r[k];
	}
	for (int k = 0; k < nx; k++)
		dots[k] = t[k];
	*sum = t[6];
}
#endif

void mn_simd_dots(const float *d, const float *const *x, int nx, size_t n, double *dots,
		  double *sum)
{
#if MN_X86
	if (nx <= 6 && mn_simd_avx2()) {
		dots_avx2(d, x, nx, n, dots, sum);
		return;
	}
#endif
	double t[9] = {0};
	for (size_t i0 = 0; i0 < n; i0 += SUM_BLOCK) {
		size_t e = i0 + SUM_BLOCK < n ? i0 + SUM_BLOCK : n;
		float r[9] = {0};
		for (size_t i = i0; i < e; i++) {
			r[8] += d[i];
			for (int k = 0; k < nx; k++)
				r[k] += d[i] * x[k][i];
		}
		t[8] += r[8];
		for (int k = 0; k < nx; k++)
			t[k] += r[k];
	}
	for (int k = 0; k < nx; k++)
		dots[k] = t[k];
	*sum = t[8];
}

/* ----------------------------------------------------------- elementwise */

#if MN_X86
AVX2 static void lin3_avx2(float *o, const float *d, const float *x, size_t n, float alpha,
			   float beta, float gamma)
{
	__m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta), vg = _mm256_set1_ps(gamma);
	size_t i = 0;
	if (x && gamma != 0)
		for (; i + 8 <= n; i += 8) {
			__m256 r = _mm256_fmadd_ps(va, _mm256_loadu_ps(d + i), vb);
			_mm256_storeu_ps(o + i, _mm256_fmadd_ps(vg, _mm256_loadu_ps(x + i), r));
		}
	else
		for (; i + 8 <= n; i += 8)
			_mm256_storeu_ps(o + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(d + i), vb));
	for (; i < n; i++)
		o[i] = alpha * d[i] + beta + (x && gamma != 0 ? gamma * x[i] : 0);
}

AVX2 static void relu_bw_avx2(float *o, const float *d, const float *y, size_t n, int acc)
{
	__m256 z = _mm256_setzero_ps();
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		__m256 m = _mm256_cmp_ps(_mm256_loadu_ps(y + i), z, _CMP_GT_OQ);
		__m256 v = _mm256_and_ps(m, _mm256_loadu_ps(d + i));
		if (acc)
			v = _mm256_add_ps(v, _mm256_loadu_ps(o + i));
		_mm256_storeu_ps(o + i, v);
	}
	for (; i < n; i++) {
		float v = y[i] > 0 ? d[i] : 0;
		o[i] = acc ? o[i] + v : v;
	}
}
#endif

#if MN_X86
AVX2 static void relu_avx2(float *y, const float *x, size_t n)
{
	__m256 z = _mm256_setzero_ps();
	size_t i = 0;
	for (; i + 8 <= n; i += 8)
		_mm256_storeu_ps(y + i, _mm256_max_ps(_mm256_loadu_ps(x + i), z));
	for (; i < n; i++)
		y[i] = x[i] > 0 ? x[i] : 0;
}
#endif

void mn_simd_relu(float *y, const float *x, size_t n)
{
#if MN_X86
	if (mn_simd_avx2()) {
		relu_avx2(y, x, n);
		return;
	}
#endif
	for (size_t i = 0; i < n; i++)
		y[i] = x[i] > 0 ? x[i] : 0;
}

void mn_simd_lin3(float *o, const float *d, const float *x, size_t n, float alpha, float beta,
		  float gamma)
{
#if MN_X86
	if (mn_simd_avx2()) {
		lin3_avx2(o, d, x, n, alpha, beta, gamma);
		return;
	}
#endif
	for (size_t i = 0; i < n; i++)
		o[i] = alpha * d[i] + beta + (x && gamma != 0 ? gamma * x[i] : 0);
}

void mn_simd_relu_bw(float *o, const float *d, const float *y, size_t n, int accumulate)
{
#if MN_X86
	if (mn_simd_avx2()) {
		relu_bw_avx2(o, d, y, n, accumulate);
		return;
	}
#endif
	for (size_t i = 0; i < n; i++) {
		float v = y[i] > 0 ? d[i] : 0;
		o[i] = accumulate ? o[i] + v : v;
	}
}

#if MN_X86
/* 16 values of c a step: spread over the even lanes of the two vectors
 * covering d[2i .. 2i+31], each added with a masked add (the odd lanes, and
 * with them a -0.0 there, stay as they are) */
__attribute__((target("avx512f"))) static void add_stride2_avx512(float *d, const float *c, int n)
{
	const __m512i lo = _mm512_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
	const __m512i hi = _mm512_setr_epi32(8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15);
	int i = 0;
	for (; i + 16 <= n; i += 16) {
		__m512 v = _mm512_loadu_ps(c + i);
		float *p = d + 2 * i;
		_mm512_storeu_ps(p, _mm512_mask_add_ps(_mm512_loadu_ps(p), 0x5555, _mm512_loadu_ps(p),
						       _mm512_permutexvar_ps(lo, v)));
		/* the last even lane is d[2i+30]; d[2i+31] need not exist */
		__m512 q = _mm512_maskz_loadu_ps(0x7fff, p + 16);
		_mm512_mask_storeu_ps(p + 16, 0x5555,
				      _mm512_mask_add_ps(q, 0x5555, q, _mm512_permutexvar_ps(hi, v)));
	}
	for (; i < n; i++)
		d[2 * i] += c[i];
}
#endif

void mn_simd_add_stride2(float *d, const float *c, int n)
{
#if MN_X86
	if (mn_simd_avx512()) {
		add_stride2_avx512(d, c, n);
		return;
	}
#endif
	for (int i = 0; i < n; i++)
		d[2 * i] += c[i];
}

/* ------------------------------------------------------ A B^T, short K */

static void gemm_nt_c(float *P, size_t ldp, const float *A, size_t lda, const float *B, size_t ldb,
		      int nc, int nk, int K, float beta)
{
	for (int c = 0; c < nc; c++)
		for (int k = 0; k < nk; k++) {
			float s = 0;
			for (int p = 0; p < K; p++)
				s += A[(size_t)c * lda + p] * B[(size_t)k * ldb + p];
			P[(size_t)c * ldp + k] = s + (beta != 0 ? beta * P[(size_t)c * ldp + k] : 0);
		}
}

#if MN_X86
/* P[r][c] (+)= A_r . B_c for R rows of A and C rows of B, each of K floats.
 * R and C are constants at every use (the wrappers below), so the forced
 * unrolling leaves R*C accumulators in registers (at most 12 of the 16 ymm)
 * and each accumulator sums in the same order as a plain loop would. */
AVX2 static inline __attribute__((always_inline)) void
nt_block(int R, int C, float *P, size_t ldp, const float *A, size_t lda, const float *B,
	 size_t ldb, int K, __m256i tail, float beta)
{
	__m256 s[4][3], b[3], a;
#pragma GCC unroll 4
	for (int r = 0; r < R; r++)
#pragma GCC unroll 3
		for (int c = 0; c < C; c++)
			s[r][c] = _mm256_setzero_ps();
	int p = 0;
	for (; p + 8 <= K; p += 8) {
#pragma GCC unroll 3
		for (int c = 0; c < C; c++)
			b[c] = _mm256_loadu_ps(B + (size_t)c * ldb + p);
#pragma GCC unroll 4
		for (int r = 0; r < R; r++) {
			a = _mm256_loadu_ps(A + (size_t)r * lda + p);
#pragma GCC unroll 3
			for (int c = 0; c < C; c++)
				s[r][c] = _mm256_fmadd_ps(a, b[c], s[r][c]);
		}
	}
	if (p < K) {
#pragma GCC unroll 3
		for (int c = 0; c < C; c++)
			b[c] = _mm256_maskload_ps(B + (size_t)c * ldb + p, tail);
#pragma GCC unroll 4
		for (int r = 0; r < R; r++) {
			a = _mm256_maskload_ps(A + (size_t)r * lda + p, tail);
#pragma GCC unroll 3
			for (int c = 0; c < C; c++)
				s[r][c] = _mm256_fmadd_ps(a, b[c], s[r][c]);
		}
	}
#pragma GCC unroll 4
	for (int r = 0; r < R; r++)
#pragma GCC unroll 3
		for (int c = 0; c < C; c++) {
			float *o = P + (size_t)r * ldp + c;
			*o = hsum8(s[r][c]) + (beta != 0 ? beta * *o : 0);
		}
}

#define NT_KERNEL(R, C)                                                                          \
	AVX2 static void nt_##R##_##C(float *P, size_t ldp, const float *A, size_t lda,           \
				      const float *B, size_t ldb, int K, __m256i tail, float beta) \
	{                                                                                        \
		nt_block(R, C, P, ldp, A, lda, B, ldb, K, tail, beta);                           \
	}
NT_KERNEL(1, 1) NT_KERNEL(1, 2) NT_KERNEL(1, 3)
NT_KERNEL(2, 1) NT_KERNEL(2, 2) NT_KERNEL(2, 3)
NT_KERNEL(3, 1) NT_KERNEL(3, 2) NT_KERNEL(3, 3)
NT_KERNEL(4, 1) NT_KERNEL(4, 2) NT_KERNEL(4, 3)
#undef NT_KERNEL

typedef void (*nt_fn)(float *, size_t, const float *, size_t, const float *, size_t, int,
		      __m256i, float);
static const nt_fn nt_table[4][3] = {
	{nt_1_1, nt_1_2, nt_1_3},
	{nt_2_1, nt_2_2, nt_2_3},
	{nt_3_1, nt_3_2, nt_3_3},
	{nt_4_1, nt_4_2, nt_4_3},
};

/* B is walked in blocks of 3 rows against every block of A.  Both are
 * first copied into buffers whose row stride is not a multiple of 4 KB: the
 * callers' rows sit a large power of two apart, which maps them all to the
 * same cache sets. */
static size_t gemm_nt_ld(int K)
{
	return (size_t)((K + 7) & ~7) + 24;
}

size_t mn_simd_gemm_nt_scratch(int nc, int K)
{
	return sizeof(float) * gemm_nt_ld(K) * (size_t)(nc + 3);
}

AVX2 static int gemm_nt_avx2(float *P, size_t ldp, const float *A, size_t lda, const float *B,
			     size_t ldb, int nc, int nk, int K, float beta,
			     const struct mn_simd_scratch *scr)
{
	const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
	__m256i tail = _mm256_cmpgt_epi32(_mm256_set1_epi32(K & 7), lane);
	size_t ld = gemm_nt_ld(K);
	/* A is copied when it fits in L2 (it is then read once per block of B) */
	int copy_a = (size_t)nc * ld <= 65536;
	float *a = mn_scratch_floats(scr, ld * (size_t)((copy_a ? nc : 0) + 3));
	if (!a)
		return -1;
	float *b = a + (copy_a ? ld * (size_t)nc : 0);
	const float *ap = A;
	size_t lap = lda;
	if (copy_a) {
		for (int c = 0; c < nc; c++)
			memcpy(a + (size_t)c * ld, A + (size_t)c * lda, sizeof(float) * (size_t)K);
		ap = a;
		lap = ld;
	}
	/* copying B pays only when several blocks of A reuse each row */
	int copy_b = nc > 4;
	for (int k = 0; k < nk; k += 3) {
		int rk = nk - k < 3 ? nk - k : 3;
		const float *bk = B + (size_t)k * ldb;
		size_t ldk = ldb;
		if (copy_b) {
			for (int r = 0; r < rk; r++)
				memcpy(b + (size_t)r * ld, bk + (size_t)r * ldb, sizeof(float) * (size_t)K);
			bk = b;
			ldk = ld;
		}
		for (int c = 0; c < nc; c += 4) {
			int rc = nc - c < 4 ? nc - c : 4;
			nt_table[rc - 1][rk - 1](P + (size_t)c * ldp + k, ldp, ap + (size_t)c * lap, lap,
						 bk, ldk, K, tail, beta);
		}
	}
	return 0;
}
#endif

void mn_simd_gemm_nt(float *P, size_t ldp, const float *A, size_t lda, const float *B, size_t ldb,
		     int nc, int nk, int K, float beta, const struct mn_simd_scratch *scr)
{
#if MN_X86
	if (mn_simd_avx2() && gemm_nt_avx2(P, ldp, A, lda, B, ldb, nc, nk, K, beta, scr) == 0)
		return;
#else
	(void)scr;
#endif
	gemm_nt_c(P, ldp, A, lda, B, ldb, nc, nk, K, beta);
}
