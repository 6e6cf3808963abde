/* P = A B^T for long K at 16 lanes (simd.h, mn_simd_gemm_nt_long): the
 * weight gradients of the exact NTK, a few dozen rows of A (output
 * channels x queries) against a few dozen rows of B (im2col rows), both
 * as long as the batch's pixels (K = 32 x 1024 at 32x32).  OpenBLAS 0.3.21
 * runs these with its AVX2 kernels on CPUs it does not know (AMD Zen 5),
 * and packs both panels for a product this thin; here each 4 x 6 block of
 * P keeps 24 accumulators of 16 partial sums in registers over a chunk of
 * K (below), then adds their sums into P.
 *
 * Tried and dropped: vectors along P's rows instead (a 48-row panel of B
 * packed transposed, 8 x 48 blocks broadcasting A).  On the searches'
 * shapes with operands cold in cache (C=3 supernets: rows of A 24-96 at
 * batch 32, 54-216 at 72) it ran 0.82-0.94x this kernel's speed below 32
 * rows of A and 1.04-1.41x above (one core); taking it from 32 rows on
 * left both searches as they were (default 10.57-10.97 s against
 * 10.77-10.97, TE-NAS preset 45.50-46.76 against 45.62-45.92, alternated
 * runs): the two workers' other kernels share the caches and memory. */
#include "nn/simd.h"

#include "nn/simd_target.h"

#if MN_X86
#define AVX512 __attribute__((target("avx512f")))

/* The chunk of K: B's N rows of it are read again for every 4 rows of A,
 * so they must stay in the L2 cache (GEMM512_L2_FLOATS); a block's 4 + 6
 * rows of it are read again for each of the N / 6 blocks of a row of
 * blocks, so they should stay in L1 (GEMM512_KC_MAX: 10 rows of 1024
 * floats, 40 KB).  A's rows stream once.  The longer the chunk, the fewer
 * the 24 horizontal sums per block it ends with: bounding the chunk by
 * A's rows as well (96K floats over M + N) gave 256-800 floats and
 * 127-142 GFLOP/s on the search's shapes against 138-162 this way (one
 * core, aligned rows, AMD Zen 5; 222 with every row in L1). */
#define GEMM512_L2_FLOATS (96 * 1024)
#define GEMM512_KC_MAX 1024

/* P[MR x NR block] (+)= A[MR rows] . B[NR rows]^T over k0..k1 (k1 - k0 a
 * multiple of 16, or the tail with a mask). */
AVX512 static inline __attribute__((always_inline)) void
blk(int MR, int NR, float *P, size_t ldp, const float *A, size_t lda, const float *B, size_t ldb,
    int k0, int k1, int first)
{
	__m512 acc[4][6];
#pragma GCC unroll 4
	for (int r = 0; r < MR; r++)
#pragma GCC unroll 6
		for (int c = 0; c < NR; c++)
			acc[r][c] = _mm512_setzero_ps();
	int k = k0;
	for (; k + 16 <= k1; k += 16) {
		__m512 a[4];
#pragma GCC unroll 4
		for (int r = 0; r < MR; r++)
			a[r] = _mm512_loadu_ps(A + (size_t)r * lda + k);
#pragma GCC unroll 6
		for (int c = 0; c < NR; c++) {
			__m512 b = _mm512_loadu_ps(B + (size_t)c * ldb + k);
#pragma GCC unroll 4
			for (int r = 0; r < MR; r++)
				acc[r][c] = _mm512_fmadd_ps(a[r], b, acc[r][c]);
		}
	}
	if (k < k1) {
		__mmask16 m = (__mmask16)((1u << (k1 - k)) - 1);
		__m512 a[4];
#pragma GCC unroll 4
		for (int r = 0; r < MR; r++)
			a[r] = _mm512_maskz_loadu_ps(m, A + (size_t)r * lda + k);
#pragma GCC unroll 6
		for (int c = 0; c < NR; c++) {
			__m512 b = _mm512_maskz_loadu_ps(m, B + (size_t)c * ldb + k);
#pragma GCC unroll 4
			for (int r = 0; r < MR; r++)
				acc[r][c] = _mm512_fmadd_ps(a[r], b, acc[r][c]);
		}
	}
#pragma GCC unroll 4
	for (int r = 0; r < MR; r++)
#pragma GCC unroll 6
		for (int c = 0; c < NR; c++) {
			float s = _mm512_reduce_add_ps(acc[r][c]);
			float *p = P + (size_t)r * ldp + c;
			*p = first ? s : *p + s;
		}
}

typedef void (*blk_fn)(float *, size_t, const float *, size_t, const float *, size_t, int, int,
		       int);
#define BLK(MR, NR)                                                                            \
	AVX512 static void blk_##MR##_##NR(float *P, size_t ldp, const float *A, size_t lda,      \
					   const float *B, size_t ldb, int k0, int k1, int first) \
	{                                                                                      \
		blk(MR, NR, P, ldp, A, lda, B, ldb, k0, k1, first);                            \
	}
BLK(1, 1) BLK(1, 2) BLK(1, 3) BLK(1, 4) BLK(1, 5) BLK(1, 6)
BLK(2, 1) BLK(2, 2) BLK(2, 3) BLK(2, 4) BLK(2, 5) BLK(2, 6)
BLK(3, 1) BLK(3, 2) BLK(3, 3) BLK(3, 4) BLK(3, 5) BLK(3, 6)
BLK(4, 1) BLK(4, 2) BLK(4, 3) BLK(4, 4) BLK(4, 5) BLK(4, 6)
#undef BLK
static const blk_fn blks[4][6] = {
	{blk_1_1, blk_1_2, blk_1_3, blk_1_4, blk_1_5, blk_1_6},
	{blk_2_1, blk_2_2, blk_2_3, blk_2_4, blk_2_5, blk_2_6},
	{blk_3_1, blk_3_2, blk_3_3, blk_3_4, blk_3_5, blk_3_6},
	{blk_4_1, blk_4_2, blk_4_3, blk_4_4, blk_4_5, blk_4_6},
};

int mn_simd_gemm_nt_long(float *P, size_t ldp, const float *A, size_t lda, const float *B,
			 size_t ldb, int M, int N, int K)
{
	if (!mn_simd_avx512() || M < 1 || N < 1 || K < 1)
		return -1;
	int kc = (int)(GEMM512_L2_FLOATS / (size_t)N);
	kc = kc > GEMM512_KC_MAX ? GEMM512_KC_MAX : kc < 256 ? 256 : kc & ~15;
	for (int k0 = 0; k0 < K; k0 += kc) {
		int k1 = K - k0 < kc ? K : k0 + kc;
		for (int m = 0; m < M; m += 4) {
			int mr = M - m < 4 ? M - m : 4;
			for (int n = 0; n < N; n += 6) {
				int nr = N - n < 6 ? N - n : 6;
				blks[mr - 1][nr - 1](P + (size_t)m * ldp + n, ldp, A + (size_t)m * lda, lda,
						     B + (size_t)n * ldb, ldb, k0, k1, k0 == 0);
			}
		}
	}
	return 0;
}
#else
int mn_simd_gemm_nt_long(float *P, size_t ldp, const float *A, size_t lda, const float *B,
			 size_t ldb, int M, int N, int K)
{
	(void)P, (void)ldp, (void)A, (void)lda, (void)B, (void)ldb, (void)M, (void)N, (void)K;
	return -1;
}
#endif
