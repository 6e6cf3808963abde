/* Float kernels with a run-time AVX2+FMA path; see nn_fast.h. */
#include "nn/simd.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#define MN_X86 1
#include <immintrin.h>
#define AVX2 __attribute__((target("avx2,fma")))
#else
#define MN_X86 0
#endif

int mn_simd_avx2(void)
{
#if MN_X86
	return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
	return 0;
#endif
}

/* Floats summed per block before the double accumulation. */
#define SUM_BLOCK 2048

/* ------------------------------------------------------------ reductions */

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
AVX2 static int gemm_nt_avx2(float *P, size_t ldp, const float *A, size_t lda, const float *B,
			     size_t ldb, int nc, int nk, int K, float beta)
{
	const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
	__m256i tail = _mm256_cmpgt_epi32(_mm256_set1_epi32(K & 7), lane);
	size_t ld = (size_t)((K + 7) & ~7) + 24;
	/* A is copied when it fits in L2 (it is then read once per block of B) */
	int copy_a = (size_t)nc * ld <= 65536;
	float *a = malloc(sizeof(float) * ld * (size_t)((copy_a ? nc : 0) + 3));
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
	free(a);
	return 0;
}
#endif

void mn_simd_gemm_nt(float *P, size_t ldp, const float *A, size_t lda, const float *B, size_t ldb,
		     int nc, int nk, int K, float beta)
{
#if MN_X86
	if (mn_simd_avx2() && gemm_nt_avx2(P, ldp, A, lda, B, ldb, nc, nk, K, beta) == 0)
		return;
#endif
	gemm_nt_c(P, ldp, A, lda, B, ldb, nc, nk, K, beta);
}

/* ----------------------------------------------------------------- pools */

/* 1/(number of valid taps) of a 3-window at i in [0, n) */
static float inv_win(int i, int n)
{
	return 1.0f / (float)(1 + (i > 0) + (i < n - 1));
}

/* Row helpers: t has w+2 entries with t[0] = t[w+1] = 0, the row in t[1..w]. */
static void hsum3_c(float *out, const float *t, const float *scale, int w)
{
	for (int x = 0; x < w; x++)
		out[x] += scale[x] * (t[x] + t[x + 1] + t[x + 2]);
}

#if MN_X86
AVX2 static void hsum3_avx2(float *out, const float *t, const float *scale, int w)
{
	int x = 0;
	for (; x + 8 <= w; x += 8) {
		__m256 s = _mm256_add_ps(_mm256_loadu_ps(t + x), _mm256_loadu_ps(t + x + 1));
		s = _mm256_add_ps(s, _mm256_loadu_ps(t + x + 2));
		_mm256_storeu_ps(out + x,
				 _mm256_fmadd_ps(_mm256_loadu_ps(scale + x), s, _mm256_loadu_ps(out + x)));
	}
	for (; x < w; x++)
		out[x] += scale[x] * (t[x] + t[x + 1] + t[x + 2]);
}

/* t[1+x] = f[x] * sum over rows r of c[r] * rows[r][x]  (up to 9 weighted
 * rows; f NULL: 1) */
AVX2 static void vsum_avx2(float *t, const float *const *rows, const float *c, int nr, int w,
			   const float *f)
{
	int x = 0;
	for (; x + 8 <= w; x += 8) {
		__m256 s = _mm256_setzero_ps();
		for (int r = 0; r < nr; r++)
			s = _mm256_fmadd_ps(_mm256_set1_ps(c[r]), _mm256_loadu_ps(rows[r] + x), s);
		if (f)
			s = _mm256_mul_ps(s, _mm256_loadu_ps(f + x));
		_mm256_storeu_ps(t + 1 + x, s);
	}
	for (; x < w; x++) {
		float s = 0;
		for (int r = 0; r < nr; r++)
			s += c[r] * rows[r][x];
		t[1 + x] = f ? s * f[x] : s;
	}
}
#endif

static void vsum_c(float *t, const float *const *rows, const float *c, int nr, int w,
		   const float *f)
{
	for (int x = 0; x < w; x++) {
		float s = 0;
		for (int r = 0; r < nr; r++)
			s += c[r] * rows[r][x];
		t[1 + x] = f ? s * f[x] : s;
	}
}

#if MN_X86
/* One plane of the 3x3 box: S (padded, row stride PW, interior at (1,1),
 * zero border) summed over each output's window, out[y][x] += f(y,x) * sum
 * with f = fy[y] * fx[x] (fy, fx NULL: 1). */
AVX2 static void box3_plane(float *out, const float *S, int PW, int h, int w, const float *fy,
			    const float *fx)
{
	const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
	for (int y = 0; y < h; y++) {
		const float *r0 = S + (size_t)y * PW, *r1 = r0 + PW, *r2 = r1 + PW;
		__m256 vy = _mm256_set1_ps(fy ? fy[y] : 1.0f);
		for (int x = 0; x < w; x += 8) {
			__m256 v = _mm256_add_ps(_mm256_loadu_ps(r0 + x), _mm256_loadu_ps(r1 + x));
			v = _mm256_add_ps(v, _mm256_loadu_ps(r2 + x));
			v = _mm256_add_ps(v, _mm256_loadu_ps(r0 + x + 1));
			v = _mm256_add_ps(v, _mm256_loadu_ps(r1 + x + 1));
			v = _mm256_add_ps(v, _mm256_loadu_ps(r2 + x + 1));
			v = _mm256_add_ps(v, _mm256_loadu_ps(r0 + x + 2));
			v = _mm256_add_ps(v, _mm256_loadu_ps(r1 + x + 2));
			v = _mm256_add_ps(v, _mm256_loadu_ps(r2 + x + 2));
			if (fx)
				v = _mm256_mul_ps(v, _mm256_loadu_ps(fx + x));
			float *o = out + (size_t)y * w + x;
			if (x + 8 <= w)
				_mm256_storeu_ps(o, _mm256_fmadd_ps(vy, v, _mm256_loadu_ps(o)));
			else {
				__m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(w - x), lane);
				_mm256_maskstore_ps(o, m, _mm256_fmadd_ps(vy, v, _mm256_maskload_ps(o, m)));
			}
		}
	}
}

/* S interior = g(y,x) * sum_i s[i] * src[i] over one plane, g = gy[y]*gx[x]
 * (gy, gx NULL: 1); columns past w stay zero. */
AVX2 static void box3_fill(float *S, int PW, const float *const *src, const float *s, int nsrc,
			   int h, int w, const float *gy, const float *gx)
{
	const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
	for (int y = 0; y < h; y++) {
		float *d = S + (size_t)(y + 1) * PW + 1;
		__m256 vy = _mm256_set1_ps(gy ? gy[y] : 1.0f);
		for (int x = 0; x < w; x += 8) {
			size_t o = (size_t)y * w + x;
			int full = x + 8 <= w;
			__m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(w - x), lane);
			__m256 v = _mm256_setzero_ps();
			for (int i = 0; i < nsrc; i++) {
				__m256 a = full ? _mm256_loadu_ps(src[i] + o) : _mm256_maskload_ps(src[i] + o, m);
				v = _mm256_fmadd_ps(_mm256_set1_ps(s[i]), a, v);
			}
			v = _mm256_mul_ps(v, vy);
			if (gx)
				v = _mm256_mul_ps(v, full ? _mm256_loadu_ps(gx + x) : _mm256_maskload_ps(gx + x, m));
			if (full)
				_mm256_storeu_ps(d + x, v);
			else
				_mm256_maskstore_ps(d + x, m, v);
		}
	}
}

/* Planes of the pool: forward (nsrc 1, output factor scale/count) or the
 * backward of a sum of sources (input factor s_i/count). */
AVX2 static int pool3_avx2(float *dst, const float *const *src, const float *s, int nsrc,
			   size_t nplanes, int h, int w, float scale, int backward)
{
	int PW = ((w + 2 + 7) & ~7) + 8;
	float *S = calloc((size_t)(h + 2) * PW + (size_t)2 * w + h + 16, sizeof(float));
	if (!S)
		return -1;
	float *fx = S + (size_t)(h + 2) * PW, *fy = fx + w + 8;
	for (int x = 0; x < w; x++)
		fx[x] = inv_win(x, w);
	for (int y = 0; y < h; y++)
		fy[y] = inv_win(y, h) * (backward ? 1.0f : scale);
	const float *ps[3];
	for (size_t p = 0; p < nplanes; p++) {
		size_t off = p * (size_t)h * w;
		for (int i = 0; i < nsrc; i++)
			ps[i] = src[i] + off;
		if (backward) {
			box3_fill(S, PW, ps, s, nsrc, h, w, fy, fx);
			box3_plane(dst + off, S, PW, h, w, NULL, NULL);
		} else {
			box3_fill(S, PW, ps, s, nsrc, h, w, NULL, NULL);
			box3_plane(dst + off, S, PW, h, w, fy, fx);
		}
	}
	free(S);
	return 0;
}
#endif

void mn_simd_pool3_fw(float *y, const float *x, size_t nplanes, int h, int w, float scale)
{
#if MN_X86
	float one = 1;
	if (mn_simd_avx2() && pool3_avx2(y, &x, &one, 1, nplanes, h, w, scale, 0) == 0)
		return;
#endif
	float *t = calloc((size_t)2 * w + 16, sizeof(float));
	if (!t) {
		/* out of memory for a row: fall back to the direct sum */
		for (size_t p = 0; p < nplanes; p++)
			for (int oy = 0; oy < h; oy++)
				for (int ox = 0; ox < w; ox++) {
					float s = 0;
					for (int iy = oy - 1; iy <= oy + 1; iy++)
						for (int ix = ox - 1; ix <= ox + 1; ix++)
							if (iy >= 0 && iy < h && ix >= 0 && ix < w)
								s += x[p * h * w + (size_t)iy * w + ix];
					y[p * h * w + (size_t)oy * w + ox] +=
						scale * inv_win(oy, h) * inv_win(ox, w) * s;
				}
		return;
	}
	float *cx = t + w + 8;
	int avx = mn_simd_avx2();
	for (size_t p = 0; p < nplanes; p++) {
		const float *in = x + p * (size_t)h * w;
		float *out = y + p * (size_t)h * w;
		for (int oy = 0; oy < h; oy++) {
			const float *rows[3];
			float c[3];
			int nr = 0;
			for (int iy = oy - 1; iy <= oy + 1; iy++)
				if (iy >= 0 && iy < h) {
					rows[nr] = in + (size_t)iy * w;
					c[nr++] = 1;
				}
			float fy = scale * inv_win(oy, h);
			for (int ox = 0; ox < w; ox++)
				cx[ox] = fy * inv_win(ox, w);
#if MN_X86
			if (avx) {
				vsum_avx2(t, rows, c, nr, w, NULL);
				hsum3_avx2(out + (size_t)oy * w, t, cx, w);
				continue;
			}
#endif
			(void)avx;
			vsum_c(t, rows, c, nr, w, NULL);
			hsum3_c(out + (size_t)oy * w, t, cx, w);
		}
	}
	free(t);
}

static void pool3_bw_direct(float *dx, const float *src, float s, size_t nplanes, int h, int w)
{
	for (size_t p = 0; p < nplanes; p++)
		for (int iy = 0; iy < h; iy++)
			for (int ix = 0; ix < w; ix++) {
				float a = 0;
				for (int oy = iy - 1; oy <= iy + 1; oy++)
					for (int ox = ix - 1; ox <= ix + 1; ox++)
						if (oy >= 0 && oy < h && ox >= 0 && ox < w)
							a += src[p * h * w + (size_t)oy * w + ox] *
							     inv_win(oy, h) * inv_win(ox, w);
				dx[p * h * w + (size_t)iy * w + ix] += s * a;
			}
}

void mn_simd_pool3_bw(float *dx, const float *const *src, const float *s, int nsrc,
		      size_t nplanes, int h, int w)
{
	/* dx[p] += sum over outputs o in window(p) of d[o] / count(o), with
	 * d = sum_i s_i src_i: rows weighted by s_i/cy(o), columns by 1/cx(o)
	 * before the 3-tap horizontal sum. */
	if (nsrc > 3) {
		mn_simd_pool3_bw(dx, src, s, 3, nplanes, h, w);
		mn_simd_pool3_bw(dx, src + 3, s + 3, nsrc - 3, nplanes, h, w);
		return;
	}
#if MN_X86
	if (mn_simd_avx2() && pool3_avx2(dx, src, s, nsrc, nplanes, h, w, 1, 1) == 0)
		return;
#endif
	float *t = calloc((size_t)3 * w + 16, sizeof(float));
	if (!t) {
		for (int i = 0; i < nsrc; i++)
			pool3_bw_direct(dx, src[i], s[i], nplanes, h, w);
		return;
	}
	float *one = t + w + 8, *icx = one + w;
	for (int ox = 0; ox < w; ox++) {
		one[ox] = 1;
		icx[ox] = inv_win(ox, w);
	}
	int avx = mn_simd_avx2();
	for (size_t p = 0; p < nplanes; p++) {
		float *out = dx + p * (size_t)h * w;
		for (int iy = 0; iy < h; iy++) {
			const float *rows[9];
			float c[9];
			int nr = 0;
			for (int oy = iy - 1; oy <= iy + 1; oy++)
				if (oy >= 0 && oy < h)
					for (int i = 0; i < nsrc; i++) {
						rows[nr] = src[i] + p * (size_t)h * w + (size_t)oy * w;
						c[nr++] = s[i] * inv_win(oy, h);
					}
#if MN_X86
			if (avx) {
				vsum_avx2(t, rows, c, nr, w, icx);
				hsum3_avx2(out + (size_t)iy * w, t, one, w);
				continue;
			}
#endif
			(void)avx;
			vsum_c(t, rows, c, nr, w, icx);
			hsum3_c(out + (size_t)iy * w, t, one, w);
		}
	}
	free(t);
}

/* ------------------------------------------------------ fused conv^T */

/* input channel i's cotangent plane for image m into out[hw] */
static void convT_input(const struct mn_convT_job *j, int i, int m, float *out)
{
	const struct mn_convT_in *in = &j->in[i];
	const int hw = j->h * j->w, n = m % j->nb;
	const float *src = in->src + (size_t)m * hw;
	if (!in->coef) {
		memcpy(out, src, sizeof(float) * hw);
		return;
	}
	const float *c = in->coef + (size_t)(m / j->nb) * 3;
	const float *xh = in->xhat ? in->xhat + (size_t)n * hw : NULL;
	for (int p = 0; p < hw; p++)
		out[p] = c[0] * src[p] + c[1] + (xh ? c[2] * xh[p] : 0);
}

static int convT_c(const struct mn_convT_job *j, int m0, int m1)
{
	const int C = j->C, h = j->h, w = j->w, hw = h * w;
	float *acc = malloc(sizeof(float) * (size_t)hw * (C + 1));
	if (!acc)
		return -1;
	float *z = acc + (size_t)hw * C;
	for (int m = m0; m < m1; m++) {
		int n = m % j->nb;
		memset(acc, 0, sizeof(float) * (size_t)hw * C);
		for (int i = 0; i < j->nin; i++) {
			const struct mn_convT_in *in = &j->in[i];
			convT_input(j, i, m, z);
			for (int ci = 0; ci < C; ci++) {
				float *a = acc + (size_t)ci * hw;
				if (in->k == 1) {
					float wk = in->w[ci];
					for (int p = 0; p < hw; p++)
						a[p] += wk * z[p];
					continue;
				}
				const float *wk = in->w + (size_t)ci * 9;
				for (int y = 0; y < h; y++)
					for (int x = 0; x < w; x++) {
						float v = 0;
						for (int ky = 0; ky < 3; ky++)
							for (int kx = 0; kx < 3; kx++) {
								int oy = y + 1 - ky, ox = x + 1 - kx;
								if (oy >= 0 && oy < h && ox >= 0 && ox < w)
									v += wk[ky * 3 + kx] * z[oy * w + ox];
							}
						a[y * w + x] += v;
					}
			}
		}
		for (int ci = 0; ci < C; ci++) {
			float *out = j->dn + ((size_t)ci * j->nimg + m) * hw;
			const float *r = j->relu ? j->relu + ((size_t)ci * j->nb + n) * hw : NULL;
			for (int p = 0; p < hw; p++) {
				float v = !r || r[p] > 0 ? acc[(size_t)ci * hw + p] : 0;
				for (int i = 0; i < j->nskip; i++)
					v += j->skip_s[i] * j->skip[i][((size_t)ci * j->nimg + m) * hw + p];
				out[p] = j->overwrite ? v : out[p] + v;
			}
		}
	}
	free(acc);
	return 0;
}

#if MN_X86
/* Padded planes: row stride PW (a multiple of 8 with room for a vector at
 * the last column plus the 2-column halo), h+2 rows; the input sits at
 * (1, 1).  Output vector slot (y, xv) reads tap t = (ky, kx) at
 * y*PW + 8*xv + toff[t], toff[t] = (2-ky)*PW + (2-kx); 1x1 inputs use the
 * centre tap only.  The kernels below keep CB output channels x NS output
 * vectors in registers. */
AVX2 static void convT_store(const struct mn_convT_job *j, const __m256 *acc, int CB, int ci0, int m,
			     int n, const int *obase, const int *valid, int nvalid)
{
	const int hw = j->h * j->w;
	const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
	const __m256 zero = _mm256_setzero_ps();
	for (int k = 0; k < nvalid; k++) {
		__m256i msk = _mm256_cmpgt_epi32(_mm256_set1_epi32(valid[k]), lane);
		for (int b = 0; b < CB; b++) {
			int ci = ci0 + b;
			float *out = j->dn + ((size_t)ci * j->nimg + m) * hw + obase[k];
			__m256 v = acc[k * CB + b];
			if (j->relu) {
				const float *r = j->relu + ((size_t)ci * j->nb + n) * hw + obase[k];
				__m256 rv = valid[k] == 8 ? _mm256_loadu_ps(r) : _mm256_maskload_ps(r, msk);
				v = _mm256_and_ps(v, _mm256_cmp_ps(rv, zero, _CMP_GT_OQ));
			}
			for (int i = 0; i < j->nskip; i++) {
				const float *sp = j->skip[i] + ((size_t)ci * j->nimg + m) * hw + obase[k];
				__m256 sv = valid[k] == 8 ? _mm256_loadu_ps(sp) : _mm256_maskload_ps(sp, msk);
				v = _mm256_fmadd_ps(_mm256_set1_ps(j->skip_s[i]), sv, v);
			}
			if (j->overwrite) {
				if (valid[k] == 8)
					_mm256_storeu_ps(out, v);
				else
					_mm256_maskstore_ps(out, msk, v);
			} else if (valid[k] == 8)
				_mm256_storeu_ps(out, _mm256_add_ps(v, _mm256_loadu_ps(out)));
			else
				_mm256_maskstore_ps(out, msk,
						    _mm256_add_ps(v, _mm256_maskload_ps(out, msk)));
		}
	}
}

/* CB output channels x S output vectors of 8: every input channel's taps
 * (9 for its 3x3 part, the centre only for its 1x1 part) broadcast against
 * the padded input.  CB and S are constants at every use (the wrappers
 * below), so the forced unrolling keeps the CB*S accumulators (at most 12)
 * in registers; each sums in the same order as a plain loop would. */
AVX2 static inline __attribute__((always_inline)) void
convT_block(int CB, int S, const struct mn_convT_job *j, int cs3, const float *pad,
	    const float *wt, int Cp, int PP, int ci0, int m, int n, const int *base,
	    const int *obase, const int *valid, int nvalid, const int *toff)
{
	const int ncs = j->nin;
	__m256 a[4][4], w[4], v;
#pragma GCC unroll 4
	for (int s = 0; s < S; s++)
#pragma GCC unroll 4
		for (int c = 0; c < CB; c++)
			a[s][c] = _mm256_setzero_ps();
	for (int co = 0; co < ncs; co++) {
		const float *pc = pad + (size_t)co * PP;
		int t0 = co < cs3 ? 0 : 4, t1 = co < cs3 ? 9 : 5;
		const float *wc = co < cs3 ? wt + (size_t)co * 9 * Cp + ci0
					 : wt + (size_t)cs3 * 9 * Cp + (size_t)(co - cs3) * Cp + ci0 - 4 * Cp;
		for (int t = t0; t < t1; t++) {
			const float *pt = pc + toff[t];
#pragma GCC unroll 4
			for (int c = 0; c < CB; c++)
				w[c] = _mm256_broadcast_ss(wc + t * Cp + c);
#pragma GCC unroll 4
			for (int s = 0; s < S; s++) {
				v = _mm256_loadu_ps(pt + base[s]);
#pragma GCC unroll 4
				for (int c = 0; c < CB; c++)
					a[s][c] = _mm256_fmadd_ps(w[c], v, a[s][c]);
			}
		}
	}
	__m256 acc[12];
#pragma GCC unroll 4
	for (int s = 0; s < S; s++)
#pragma GCC unroll 4
		for (int c = 0; c < CB; c++)
			acc[s * CB + c] = a[s][c];
	convT_store(j, acc, CB, ci0, m, n, obase, valid, nvalid);
}

#define CONVT_KERNEL(CB, S)                                                                       \
	AVX2 static void convT_c##CB##_s##S(const struct mn_convT_job *j, int cs3, const float *pad, \
					   const float *wt, int Cp, int PP, int ci0, int m, int n,     \
					   const int *base, const int *obase, const int *valid,       \
					   int nvalid, const int *toff)                               \
	{                                                                                         \
		convT_block(CB, S, j, cs3, pad, wt, Cp, PP, ci0, m, n, base, obase, valid, nvalid,  \
			    toff);                                                                \
	}
CONVT_KERNEL(4, 2) CONVT_KERNEL(3, 4) CONVT_KERNEL(2, 4) CONVT_KERNEL(1, 4)
#undef CONVT_KERNEL

/* dst rows (stride PW) = alpha*src + beta + gamma*xh over an h x w plane */
AVX2 static void fill_pad(float *dst, int PW, const float *src, const float *xh, int h, int w,
			  float alpha, float beta, float gamma)
{
	__m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta), vg = _mm256_set1_ps(gamma);
	int use_x = xh && gamma != 0, wv = w & ~7;
	for (int y = 0; y < h; y++, dst += PW, src += w) {
		const float *xr = use_x ? xh + (size_t)y * w : NULL;
		int x = 0;
		if (use_x)
			for (; x < wv; x += 8)
				_mm256_storeu_ps(dst + x,
						 _mm256_fmadd_ps(vg, _mm256_loadu_ps(xr + x),
								 _mm256_fmadd_ps(va, _mm256_loadu_ps(src + x), vb)));
		else
			for (; x < wv; x += 8)
				_mm256_storeu_ps(dst + x, _mm256_fmadd_ps(va, _mm256_loadu_ps(src + x), vb));
		for (; x < w; x++)
			dst[x] = alpha * src[x] + beta + (use_x ? gamma * xr[x] : 0);
	}
}

AVX2 static int convT_avx2(const struct mn_convT_job *j, int m0, int m1)
{
	const int C = j->C, h = j->h, w = j->w, hw = h * w;
	const int nxv = (w + 7) / 8, PW = 8 * nxv + 8, PH = h + 2, PP = PH * PW;
	const int ncs = j->nin, Cp = (C + 3) & ~3;
	int cs3 = 0;
	while (cs3 < ncs && j->in[cs3].k == 3)
		cs3++;
	float *pad = malloc(sizeof(float) * ((size_t)ncs * PP + 8));
	float *wt = malloc(sizeof(float) * ((size_t)cs3 * 9 + (ncs - cs3)) * Cp + 32);
	if (!pad || !wt) {
		free(pad);
		free(wt);
		return -1;
	}
	memset(pad, 0, sizeof(float) * ((size_t)ncs * PP + 8));
	/* weights as [co][tap][ci] (ci padded to Cp with zeros); 1x1 as [co][ci] */
	for (int co = 0; co < cs3; co++)
		for (int t = 0; t < 9; t++)
			for (int ci = 0; ci < Cp; ci++)
				wt[((size_t)co * 9 + t) * Cp + ci] = ci < C ? j->in[co].w[(size_t)ci * 9 + t] : 0;
	for (int co = cs3; co < ncs; co++)
		for (int ci = 0; ci < Cp; ci++)
			wt[(size_t)cs3 * 9 * Cp + (size_t)(co - cs3) * Cp + ci] =
				ci < C ? j->in[co].w[ci] : 0;
	int toff[9];
	for (int t = 0; t < 9; t++)
		toff[t] = (2 - t / 3) * PW + (2 - t % 3);
	int nslot = h * nxv;
	/* sample-major over the whole range, so the planes shared by the queries
	 * of a sample (xhat) stay in cache */
	int nq = j->nimg / j->nb, smajor = m0 == 0 && m1 == j->nimg && nq > 1;
	for (int mm = m0; mm < m1; mm++) {
		int m = smajor ? (mm % nq) * j->nb + mm / nq : mm;
		int n = m % j->nb;
		for (int co = 0; co < ncs; co++) {
			const struct mn_convT_in *in = &j->in[co];
			const float *src = in->src + (size_t)m * hw;
			float *dst = pad + (size_t)co * PP + PW + 1;
			if (!in->coef) {
				for (int y = 0; y < h; y++)
					memcpy(dst + (size_t)y * PW, src + (size_t)y * w, sizeof(float) * w);
				continue;
			}
			const float *c = in->coef + (size_t)(m / j->nb) * 3;
			const float *xh = in->xhat ? in->xhat + (size_t)n * hw : NULL;
			fill_pad(dst, PW, src, xh, h, w, c[0], c[1], xh ? c[2] : 0);
		}
		for (int ci0 = 0; ci0 < C; ci0 += 4) {
			int cb = C - ci0 < 4 ? C - ci0 : 4, ns = cb == 4 ? 2 : 4;
			for (int s0 = 0; s0 < nslot; s0 += ns) {
				int base[4], obase[4], valid[4], nvalid = 0;
				for (int k = 0; k < ns; k++) {
					int sl = s0 + k < nslot ? s0 + k : nslot - 1;
					int y = sl / nxv, xv = sl % nxv;
					base[k] = y * PW + 8 * xv;
					obase[k] = y * w + 8 * xv;
					valid[k] = w - 8 * xv < 8 ? w - 8 * xv : 8;
					nvalid += s0 + k < nslot;
				}
				switch (cb) {
				case 4:
					convT_c4_s2(j, cs3, pad, wt, Cp, PP, ci0, m, n, base, obase, valid, nvalid,
						    toff);
					break;
				case 3:
					convT_c3_s4(j, cs3, pad, wt, Cp, PP, ci0, m, n, base, obase, valid, nvalid,
						    toff);
					break;
				case 2:
					convT_c2_s4(j, cs3, pad, wt, Cp, PP, ci0, m, n, base, obase, valid, nvalid,
						    toff);
					break;
				default:
					convT_c1_s4(j, cs3, pad, wt, Cp, PP, ci0, m, n, base, obase, valid, nvalid,
						    toff);
					break;
				}
			}
		}
	}
	free(pad);
	free(wt);
	return 0;
}
#endif

int mn_simd_conv_forward(float *y, const float *w, const float *x, int cin, int cout, int k, int h,
			 int wd, int nimg, int accumulate)
{
	return mn_simd_conv_forward_range(y, w, x, cin, cout, k, h, wd, nimg, accumulate, 0, nimg);
}

int mn_simd_conv_forward_range(float *y, const float *w, const float *x, int cin, int cout, int k,
			       int h, int wd, int nimg, int accumulate, int m0, int m1)
{
	/* forward = conv^T with the kernel's taps flipped and its in/out
	 * channels swapped: input channel ci of the forward is a "source" whose
	 * kernel to output co is w[co][ci] rotated by 180 degrees */
	size_t hw = (size_t)h * wd, kk = (size_t)k * k;
	struct mn_convT_in *in = malloc(sizeof *in * (size_t)cin);
	float *wf = malloc(sizeof(float) * (size_t)cin * cout * kk);
	if (!in || !wf) {
		free(in);
		free(wf);
		return -1;
	}
	for (int ci = 0; ci < cin; ci++) {
		for (int co = 0; co < cout; co++)
			for (size_t t = 0; t < kk; t++)
				wf[((size_t)ci * cout + co) * kk + t] =
					w[((size_t)co * cin + ci) * kk + (kk - 1 - t)];
		in[ci].src = x + (size_t)ci * nimg * hw;
		in[ci].xhat = in[ci].coef = NULL;
		in[ci].w = wf + (size_t)ci * cout * kk;
		in[ci].k = k;
	}
	struct mn_convT_job job = {cout, h, wd, nimg, nimg, cin, in,
				   NULL, y, !accumulate, 0, {0}, {0}};
	int rc = mn_simd_convT(&job, m0, m1);
	free(in);
	free(wf);
	return rc;
}

int mn_simd_convT_ref(const struct mn_convT_job *job, int m0, int m1)
{
	return m1 <= m0 ? 0 : convT_c(job, m0, m1);
}

int mn_simd_convT(const struct mn_convT_job *job, int m0, int m1)
{
	if (m1 <= m0)
		return 0;
#if MN_X86
	if (mn_simd_avx2())
		return convT_avx2(job, m0, m1);
#endif
	return convT_c(job, m0, m1);
}
