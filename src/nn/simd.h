/* SIMD kernels: the float network's hot loops (reductions, element-wise
 * maps, a short-K GEMM, the 3x3 average pool, the direct conv and the fused
 * conv^T of the backward), with an AVX2+FMA path picked at run time
 * (x86-64) and a portable scalar path otherwise; tests compare the two
 * paths and the naive double layers.  simd.c, simd_pool.c, simd_conv*.c,
 * simd_convT_*.c, simd_gemm512.c.
 *
 * No kernel allocates.  Those that need scratch memory take a
 * struct mn_simd_scratch that the caller owns, sized by the kernel's
 * *_scratch function; a caller running kernels on several threads at once
 * gives each thread its own. */
#ifndef MN_NN_SIMD_H
#define MN_NN_SIMD_H

#include <stddef.h>

/* Caller-owned scratch memory for the kernels. */
struct mn_simd_scratch {
	void *mem;
	size_t bytes;
};
/* Grows s to at least bytes (contents lost); 0, or -1 when out of memory
 * (s unchanged). */
int mn_simd_scratch_reserve(struct mn_simd_scratch *s, size_t bytes);
void mn_simd_scratch_free(struct mn_simd_scratch *s);

/* 1 when the AVX2+FMA kernels run on this machine. */
int mn_simd_avx2(void);
/* 1 when the AVX-512F variants run too (simd_conv512.c, simd_gemm512.c,
 * mn_simd_add_stride2); valgrind reports no AVX-512. */
int mn_simd_avx512(void);

/* s1 = sum d, s2 = sum d*x (float blocks summed in double). */
void mn_simd_sum2(const float *d, const float *x, size_t n, double *s1, double *s2);
/* sum d. */
double mn_simd_sum(const float *d, size_t n);
/* sum (x - mu)^2. */
double mn_simd_sqdev(const float *x, size_t n, float mu);
/* *sum = sum d and dots[k] = sum d*x[k] for k < nx (nx <= 8), one pass over d. */
void mn_simd_dots(const float *d, const float *const *x, int nx, size_t n, double *dots,
		  double *sum);
/* o = alpha*d + beta + gamma*x  (x may be NULL when gamma is 0). */
void mn_simd_lin3(float *o, const float *d, const float *x, size_t n, float alpha, float beta,
		  float gamma);
/* y = max(x, 0). */
void mn_simd_relu(float *y, const float *x, size_t n);
/* o (+)= d where y > 0, else 0 (+ 0). */
void mn_simd_relu_bw(float *o, const float *d, const float *y, size_t n, int accumulate);

/* P[c][k] (+)= sum over p < K of A[c][p] * B[k][p] for c < nc, k < nk (rows of
 * A and B contiguous, row strides lda and ldb; P row stride ldp); beta 0
 * overwrites, 1 accumulates.  For short K (a plane) and few rows of A,
 * where a packed GEMM spends its time packing.  Scratch: gemm_nt_scratch
 * bytes (with less, or NULL, the portable path runs). */
size_t mn_simd_gemm_nt_scratch(int nc, int K);
void mn_simd_gemm_nt(float *P, size_t ldp, const float *A, size_t lda, const float *B, size_t ldb,
		     int nc, int nk, int K, float beta, const struct mn_simd_scratch *scr);

/* d[2i] += c[i] for i < n (the stride-2 scatter of col2im; the same adds
 * in the same order on every path). */
void mn_simd_add_stride2(float *d, const float *c, int n);

/* P[m][n] = sum over k < K of A[m][k] * B[n][k] (rows of A and B contiguous,
 * row strides lda and ldb; P row stride ldp; overwritten), for long K and
 * tens of rows: the AVX-512 kernel of simd_gemm512.c.  -1 (nothing
 * written) without AVX-512, so callers fall back on cblas_sgemm. */
int mn_simd_gemm_nt_long(float *P, size_t ldp, const float *A, size_t lda, const float *B,
			 size_t ldb, int M, int N, int K);

/* Box sums over h x w planes (3x3, stride 1, pad 1, padding excluded).
 * Forward: y += scale * pool(x).
 * Backward of a sum of sources: dx += pool^T(sum_i s[i] * src[i]), every
 * source a stack of nplanes planes like dx. */
/* Scratch: pool3_scratch bytes (with less, or NULL, a direct sum runs). */
size_t mn_simd_pool3_scratch(int h, int w);
void mn_simd_pool3_fw(float *y, const float *x, size_t nplanes, int h, int w, float scale,
		      const struct mn_simd_scratch *scr);
void mn_simd_pool3_bw(float *dx, const float *const *src, const float *s, int nsrc,
		      size_t nplanes, int h, int w, const struct mn_simd_scratch *scr);
/* The same without the 16-lane path that the two above take on AVX-512
 * CPUs for widths that are a multiple of 16 (the same bits: tests compare
 * the two). */
void mn_simd_pool3_fw_avx2(float *y, const float *x, size_t nplanes, int h, int w, float scale,
			   const struct mn_simd_scratch *scr);
void mn_simd_pool3_bw_avx2(float *dx, const float *const *src, const float *s, int nsrc,
			   size_t nplanes, int h, int w, const struct mn_simd_scratch *scr);

/* Backward data of the convs that read one node, fused with that node's
 * ReLU and optionally with the BN backward in front of each conv:
 *   dn[ci][m] += [relu[ci][n] > 0] * sum over inputs of conv_k^T(z)[ci][m]
 * for every image m = q*nb + n, where input channel i's cotangent is
 *   z = alpha*src[m] + beta + gamma*xhat[n]   (coef[q] = {alpha, beta, gamma})
 * or z = src[m] when coef is NULL.  3x3 convs are stride 1, pad 1.
 * Inputs with k = 3 must come before inputs with k = 1.  relu NULL: no
 * mask.  Images m0..m1-1 only, so callers can split the work.  Scratch:
 * convT_scratch bytes; -1 (nothing written) when scr holds less, else 0. */
struct mn_convT_in {
	const float *src;  /* [nimg][h*w] */
	const float *xhat; /* [nb][h*w], or NULL */
	const float *coef; /* [nq][3], or NULL */
	const float *w;    /* this input channel's kernel to every output: [C][k*k] */
	int k;             /* 3 or 1 */
};
struct mn_convT_job {
	int C, h, w, nb, nimg;
	int nin;
	const struct mn_convT_in *in;
	const float *relu; /* [C][nb][h*w] */
	float *dn;         /* [C][nimg][h*w] */
	int overwrite;     /* dn = result instead of dn += result */
	/* identity terms added outside the ReLU mask: dn += skip_s[i] * skip[i]
	 * (each [C][nimg][h*w]), at most 3 */
	int nskip;
	const float *skip[3];
	float skip_s[3];
};
size_t mn_simd_convT_scratch(const struct mn_convT_job *job);
int mn_simd_convT(const struct mn_convT_job *job, int m0, int m1, const struct mn_simd_scratch *scr);
/* Forward convolution through the same kernel: y[co][m] (+)= conv(x)[co][m]
 * for images m0..m1-1 of x [cin][nimg][h*w], w [cout][cin][k][k] (k = 3:
 * stride 1, pad 1; k = 1), y [cout][nimg][h*w]; accumulate 0 overwrites y.
 * Scratch: conv_forward_scratch bytes; -1 when scr holds less. */
size_t mn_simd_conv_forward_scratch(int cin, int cout, int k, int h, int w);
int mn_simd_conv_forward_range(float *y, const float *w, const float *x, int cin, int cout, int k,
			       int h, int wd, int nimg, int accumulate, int m0, int m1,
			       const struct mn_simd_scratch *scr);
/* mn_simd_convT through the portable path only (tests compare the two). */
int mn_simd_convT_ref(const struct mn_convT_job *job, int m0, int m1,
		      const struct mn_simd_scratch *scr);
/* The AVX-512 conv^T (simd_conv512.c), which mn_simd_convT takes when
 * mn_simd_avx512() and the job fits (plane width a multiple of 16, or 8
 * with an even height); the same bits as the AVX2 kernel.  -1 when the job
 * does not fit or scratch (convT512_scratch bytes, within convT_scratch's)
 * is short. */
int mn_simd_convT512_fits(const struct mn_convT_job *job);
size_t mn_simd_convT512_scratch(const struct mn_convT_job *job);
int mn_simd_convT512(const struct mn_convT_job *job, int m0, int m1,
		     const struct mn_simd_scratch *scr);
/* mn_simd_convT without the AVX-512 kernel (tests compare the two). */
int mn_simd_convT_avx2(const struct mn_convT_job *job, int m0, int m1,
		       const struct mn_simd_scratch *scr);

/* The stride-2, pad-1 3x3 conv^T of the reduction block (simd_convT_s2.c):
 * for every image m < nimg, input channel ci and input pixel p,
 *   v = sum over (co, ky, kx) of wt[co][ci][ky][kx] * dy[co][m][tap pixel]
 * (mn_conv_backward_data's values, to rounding), then
 *   dx[ci][m][p] = (relu[ci][m % nb][p] > 0 ? v : 0) + base
 * where base is 0.25 * pool2[ci][m][p's 2x2 window] when pool2 is given
 * (the backward of a 2x2 average pool, as mn_avgpool2_backward writes
 * it), else dx[ci][m][p] when accumulate, else nothing (relu NULL: no
 * mask).  dx is [cin][.][h*w] with row stride ldx per channel, dy
 * [cout][.][(h/2)*(w/2)] and pool2 [cin][.][(h/2)*(w/2)] with ldy,
 * relu [cin][nb][h*w] with ldrelu (nb > 0 when relu is given).  h and w
 * even.  _fits returns the lanes the kernel would use
 * (16 with AVX-512 when allow_avx512, or 8 with AVX2; w/2 a multiple of
 * them), or 0: then mn_simd_convT_s2 returns -1 and writes nothing.  The
 * two kernels give the same bits (tests/test_simd). */
struct mn_convT_s2_job {
	float *dx;
	size_t ldx;
	const float *wt, *dy, *pool2;
	size_t ldy;
	const float *relu;
	size_t ldrelu;
	int cin, cout, h, w, nimg, nb, accumulate;
};
int mn_simd_convT_s2_fits(const struct mn_convT_s2_job *job, int allow_avx512);
int mn_simd_convT_s2(const struct mn_convT_s2_job *job, int allow_avx512);

#endif
