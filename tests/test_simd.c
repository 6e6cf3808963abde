/* The SIMD kernels (simd.h; AVX2+FMA when the machine has it) against
 * their portable versions and the naive double layers (ref_layers.c), over
 * awkward shapes: planes whose width is not a multiple of 8, channel counts
 * that do not fill a register block, partial image ranges. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/simd.h"
#include "nn/nn_layers.h"
#include "util/rng.h"
#include "ref_layers.h"
#include "tap.h"

static struct mn_rng rng;
/* the caller-owned scratch every kernel call below gets */
static struct mn_simd_scratch scr;

static const struct mn_simd_scratch *reserve(size_t bytes)
{
	if (mn_simd_scratch_reserve(&scr, bytes) != 0) {
		printf("Bail out! out of memory\n");
		exit(1);
	}
	return &scr;
}

static float *fvec(size_t n)
{
	float *v = malloc(sizeof(float) * (n ? n : 1));
	if (!v) {
		printf("Bail out! out of memory\n");
		exit(1);
	}
	for (size_t i = 0; i < n; i++)
		v[i] = (float)mn_rng_normal(&rng);
	return v;
}

static double relmax(const float *a, const float *b, size_t n)
{
	double e = 0, m = 1e-30;
	for (size_t i = 0; i < n; i++) {
		e = fmax(e, fabs((double)a[i] - b[i]));
		m = fmax(m, fabs((double)b[i]));
	}
	return e / m;
}

static void test_convT(int C, int h, int w, int cs3, int cs1, int nq, int nb, int relu, int coef)
{
	int hw = h * w, nimg = nq * nb, nin = cs3 + cs1;
	struct mn_convT_in *in = calloc((size_t)nin + 1, sizeof *in);
	float **keep = calloc((size_t)nin * 4 + 1, sizeof *keep);
	int nk = 0;
	for (int i = 0; i < nin; i++) {
		in[i].k = i < cs3 ? 3 : 1;
		in[i].src = keep[nk++] = fvec((size_t)nimg * hw);
		in[i].w = keep[nk++] = fvec((size_t)C * in[i].k * in[i].k);
		if (coef) {
			/* coef 2: the decoupled form, no xhat term */
			in[i].xhat = coef == 1 ? (keep[nk++] = fvec((size_t)nb * hw)) : NULL;
			in[i].coef = keep[nk++] = fvec((size_t)nq * 3);
		}
	}
	float *r = relu ? fvec((size_t)C * nb * hw) : NULL;
	float *a = fvec((size_t)C * nimg * hw), *b = malloc(sizeof(float) * C * nimg * hw);
	memcpy(b, a, sizeof(float) * C * nimg * hw);
	/* odd channel counts also test the overwrite mode, even ones skip terms */
	float *sk1 = fvec((size_t)C * nimg * hw), *sk2 = fvec((size_t)C * nimg * hw);
	struct mn_convT_job ja = {C, h, w, nb, nimg, nin, in, r, a, C % 2,
				  C % 2 ? 0 : 2, {sk1, sk2, NULL}, {0.5f, -0.25f, 0}},
			    jb = ja;
	jb.dn = b;
	int m0 = nimg > 2 ? 1 : 0, m1 = nimg;
	int rc = mn_simd_convT(&ja, m0, m1, reserve(mn_simd_convT_scratch(&ja))) |
		 mn_simd_convT_ref(&jb, m0, m1, &scr);
	double e = relmax(a, b, (size_t)C * nimg * hw);
	tap_ok(rc == 0 && e < 1e-5,
	       "conv^T C%d %dx%d, %d 3x3 + %d 1x1 inputs, %d queries x %d, relu %d, BN coef %d: %.1e",
	       C, h, w, cs3, cs1, nq, nb, relu, coef, e);
	/* The AVX-512 kernel, where it runs, gives the AVX2 kernel's bits. */
	if (mn_simd_avx512() && mn_simd_convT512_fits(&ja)) {
		float *c = malloc(sizeof(float) * C * nimg * hw), *d = malloc(sizeof(float) * C * nimg * hw);
		/* the same start: both kernels add to it (or overwrite it) */
		memcpy(c, b, sizeof(float) * C * nimg * hw);
		memcpy(d, b, sizeof(float) * C * nimg * hw);
		struct mn_convT_job jc = ja, jd = ja;
		jc.dn = c, jd.dn = d;
		int r2 = mn_simd_convT512(&jc, m0, m1, reserve(mn_simd_convT_scratch(&ja))) |
			 mn_simd_convT_avx2(&jd, m0, m1, reserve(mn_simd_convT_scratch(&ja)));
		tap_ok(r2 == 0 && !memcmp(c, d, sizeof(float) * C * nimg * hw),
		       "conv^T C%d %dx%d: the AVX-512 kernel's bits are the AVX2 kernel's", C, h, w);
		free(c);
		free(d);
	}
	for (int i = 0; i < nk; i++)
		free(keep[i]);
	free(keep);
	free(in);
	free(sk1);
	free(sk2);
	free(r);
	free(a);
	free(b);
}

/* The long-K A B^T (AVX-512) against a double sum, strides wider than K,
 * blocks and K not multiples of the kernel's (4 x 6, 16 lanes, chunks). */
static void test_gemm_long(int M, int N, int K, int pad)
{
	size_t lda = (size_t)K + pad, ldb = (size_t)K + 2 * pad, ldp = (size_t)N + pad;
	float *A = fvec((size_t)M * lda), *B = fvec((size_t)N * ldb), *P = fvec((size_t)M * ldp);
	float *R = malloc(sizeof(float) * M * ldp);
	memcpy(R, P, sizeof(float) * M * ldp);
	for (int m = 0; m < M; m++)
		for (int n = 0; n < N; n++) {
			double d = 0;
			for (int k = 0; k < K; k++)
				d += (double)A[m * lda + k] * B[n * ldb + k];
			R[m * ldp + n] = (float)d;
		}
	int rc = mn_simd_gemm_nt_long(P, ldp, A, lda, B, ldb, M, N, K);
	double e = relmax(P, R, (size_t)M * ldp);
	/* float sums of K normal products: errors grow like sqrt(K) eps */
	tap_ok(rc == 0 && e < 2e-5, "long-K A B^T %dx%d over K=%d (strides +%d): %.1e", M, N, K, pad,
	       e);
	free(A);
	free(B);
	free(P);
	free(R);
}

/* d[2i] += c[i]: the same bits as the scalar loop, odd positions (a -0.0
 * among them) untouched, nothing written past d[2n-2]. */
static void test_add_stride2(int n)
{
	size_t len = 2 * (size_t)n + 8;
	float *d = fvec(len), *e = malloc(sizeof(float) * len), *c = fvec((size_t)n);
	d[1] = -0.0f;
	memcpy(e, d, sizeof(float) * len);
	for (int i = 0; i < n; i++)
		e[2 * i] += c[i];
	mn_simd_add_stride2(d, c, n);
	tap_ok(!memcmp(d, e, sizeof(float) * len), "d[2i] += c[i] over %d values: the scalar loop's bits", n);
	free(d);
	free(e);
	free(c);
}

/* The 16-lane pool (AVX-512, widths a multiple of 16) gives the 8-lane
 * kernel's bits, forward and backward of nsrc sources. */
static void test_pools_lanes(int planes, int h, int w, int nsrc)
{
	size_t n = (size_t)planes * h * w;
	float *x[5], *a = fvec(n), *b = malloc(sizeof(float) * n), sc[5];
	const float *src[5];
	for (int i = 0; i < nsrc; i++) {
		x[i] = fvec(n);
		src[i] = x[i];
		sc[i] = 0.3f + 0.2f * (float)i;
	}
	memcpy(b, a, sizeof(float) * n);
	const struct mn_simd_scratch *sp = reserve(mn_simd_pool3_scratch(h, w));
	mn_simd_pool3_fw(a, x[0], planes, h, w, 0.7f, sp);
	mn_simd_pool3_fw_avx2(b, x[0], planes, h, w, 0.7f, sp);
	int fw_same = !memcmp(a, b, sizeof(float) * n);
	mn_simd_pool3_bw(a, src, sc, nsrc, planes, h, w, sp);
	mn_simd_pool3_bw_avx2(b, src, sc, nsrc, planes, h, w, sp);
	tap_ok(fw_same && !memcmp(a, b, sizeof(float) * n),
	       "pool 3x3 %dx%dx%d, %d-source backward: the %s path gives the 8-lane kernel's bits",
	       planes, h, w, nsrc, mn_simd_avx512() && w % 16 == 0 ? "16-lane" : "default");
	for (int i = 0; i < nsrc; i++)
		free(x[i]);
	free(a);
	free(b);
}

static void test_pools(int planes, int h, int w)
{
	size_t n = (size_t)planes * h * w;
	float *x = fvec(n), *s2 = fvec(n), *y = fvec(n), *y0 = malloc(sizeof(float) * n);
	double *xd = malloc(sizeof(double) * n), *s2d = malloc(sizeof(double) * n),
	       *yd = malloc(sizeof(double) * n);
	memcpy(y0, y, sizeof(float) * n);
	for (size_t i = 0; i < n; i++) {
		xd[i] = x[i];
		s2d[i] = s2[i];
		yd[i] = y[i];
	}
	mn_simd_pool3_fw(y, x, planes, h, w, 0.7f, reserve(mn_simd_pool3_scratch(h, w)));
	double *t = malloc(sizeof(double) * n);
	ref_avgpool3_forward(t, xd, planes, h, w);
	for (size_t i = 0; i < n; i++)
		yd[i] += 0.7 * t[i];
	float *yf = malloc(sizeof(float) * n);
	for (size_t i = 0; i < n; i++)
		yf[i] = (float)yd[i];
	double e1 = relmax(y, yf, n);
	const float *src[2] = {x, s2};
	float sc[2] = {0.5f, 0.25f};
	memcpy(y, y0, sizeof(float) * n);
	mn_simd_pool3_bw(y, src, sc, 2, planes, h, w, &scr);
	for (size_t i = 0; i < n; i++)
		yd[i] = y0[i];
	for (size_t i = 0; i < n; i++)
		t[i] = 0.5 * xd[i] + 0.25 * s2d[i];
	ref_avgpool3_backward(yd, t, planes, h, w);
	free(t);
	for (size_t i = 0; i < n; i++)
		yf[i] = (float)yd[i];
	double e2 = relmax(y, yf, n);
	tap_ok(e1 < 1e-5 && e2 < 1e-5, "pool 3x3 %dx%dx%d: forward %.1e, two-source backward %.1e",
	       planes, h, w, e1, e2);
	free(x);
	free(s2);
	free(y);
	free(y0);
	free(xd);
	free(s2d);
	free(yd);
	free(yf);
}

static void test_elementwise(size_t n)
{
	float *d = fvec(n), *x = fvec(n), *o = fvec(n), *ref = malloc(sizeof(float) * n);
	double s1, s2, r1 = 0, r2 = 0, sq, rq = 0;
	mn_simd_sum2(d, x, n, &s1, &s2);
	sq = mn_simd_sqdev(x, n, 0.3f);
	for (size_t i = 0; i < n; i++) {
		r1 += d[i];
		r2 += (double)d[i] * x[i];
		rq += ((double)x[i] - 0.3f) * ((double)x[i] - 0.3f);
	}
	const float *xs[3] = {x, d, x};
	double dd[3], ds;
	mn_simd_dots(d, xs, 3, n, dd, &ds);
	double rdd = 0;
	for (size_t i = 0; i < n; i++)
		rdd += (double)d[i] * d[i];
	double es = fabs(s1 - r1) / (1 + fabs(r1)) + fabs(s2 - r2) / (1 + fabs(r2)) +
		    fabs(ds - r1) / (1 + fabs(r1)) + fabs(dd[0] - r2) / (1 + fabs(r2)) +
		    fabs(dd[1] - rdd) / rdd + fabs(dd[2] - r2) / (1 + fabs(r2)) +
		    fabs(sq - rq) / rq + fabs(mn_simd_sum(d, n) - r1) / (1 + fabs(r1));
	mn_simd_lin3(o, d, x, n, 0.5f, -0.25f, 2.0f);
	for (size_t i = 0; i < n; i++)
		ref[i] = 0.5f * d[i] - 0.25f + 2.0f * x[i];
	double el = relmax(o, ref, n);
	memcpy(ref, o, sizeof(float) * n);
	mn_simd_relu_bw(o, d, x, n, 1);
	int bad = 0;
	for (size_t i = 0; i < n; i++)
		bad += o[i] != ref[i] + (x[i] > 0 ? d[i] : 0);
	tap_ok(es < 1e-4 && el < 1e-6 && bad == 0, "sums and dots (%.1e), lin3 (%.1e), relu backward (%d bad) over %zu",
	       es, el, bad, n);
	free(d);
	free(x);
	free(o);
	free(ref);
}

static void test_gemm_nt(int nc, int nk, int K, float beta)
{
	size_t lda = (size_t)K + 5, ldb = (size_t)K + 11, ldp = (size_t)nk + 2;
	float *A = fvec(lda * nc), *B = fvec(ldb * nk), *P = fvec(ldp * nc),
	      *R = malloc(sizeof(float) * ldp * nc);
	for (int c = 0; c < nc; c++)
		for (int k = 0; k < nk; k++) {
			double s = 0;
			for (int p = 0; p < K; p++)
				s += (double)A[c * lda + p] * B[k * ldb + p];
			R[c * ldp + k] = (float)(s + beta * P[c * ldp + k]);
		}
	mn_simd_gemm_nt(P, ldp, A, lda, B, ldb, nc, nk, K, beta,
			reserve(mn_simd_gemm_nt_scratch(nc, K)));
	/* error relative to the sum of |terms| (float accumulation) */
	double e = 0;
	for (int c = 0; c < nc; c++)
		for (int k = 0; k < nk; k++) {
			double mag = fabs(beta * P[c * ldp + k]);
			for (int p = 0; p < K; p++)
				mag += fabs((double)A[c * lda + p] * B[k * ldb + p]);
			e = fmax(e, fabs(P[c * ldp + k] - R[c * ldp + k]) / (1e-30 + mag));
		}
	tap_ok(e < 1e-5, "A B^T %d x %d over K %d, beta %g: %.1e of the sum of |terms|", nc, nk, K,
	       beta, e);
	free(A);
	free(B);
	free(P);
	free(R);
}

/* The direct forward conv against the naive double conv, images m0.. only;
 * and with too little scratch it refuses (-1) without writing. */
static void test_conv_forward(int cin, int cout, int k, int h, int w, int nimg)
{
	size_t hw = (size_t)h * w, nx = (size_t)cin * nimg * hw, ny = (size_t)cout * nimg * hw;
	size_t nw = (size_t)cout * cin * k * k;
	float *x = fvec(nx), *wt = fvec(nw), *y = fvec(ny);
	double *xd = malloc(sizeof(double) * nx), *wd = malloc(sizeof(double) * nw);
	double *yd = malloc(sizeof(double) * ny);
	if (!xd || !wd || !yd) {
		printf("Bail out! out of memory\n");
		exit(1);
	}
	/* x is [cin][nimg][hw]; the reference wants [nimg][cin][hw] */
	for (int c = 0; c < cin; c++)
		for (int m = 0; m < nimg; m++)
			for (size_t i = 0; i < hw; i++)
				xd[((size_t)m * cin + c) * hw + i] = x[((size_t)c * nimg + m) * hw + i];
	for (size_t i = 0; i < nw; i++)
		wd[i] = wt[i];
	ref_conv_forward(yd, xd, wd, nimg, cin, cout, h, w, k, 1, k / 2);
	float *y0 = malloc(sizeof(float) * ny);
	memcpy(y0, y, sizeof(float) * ny);
	size_t need = mn_simd_conv_forward_scratch(cin, cout, k, h, w);
	struct mn_simd_scratch small = {NULL, 0};
	int refused = mn_simd_scratch_reserve(&small, need - 1) == 0 &&
		      mn_simd_conv_forward_range(y, wt, x, cin, cout, k, h, w, nimg, 0, 1, nimg,
						 &small) == -1 &&
		      memcmp(y, y0, sizeof(float) * ny) == 0;
	mn_simd_scratch_free(&small);
	int rc = mn_simd_conv_forward_range(y, wt, x, cin, cout, k, h, w, nimg, 0, 1, nimg,
					    reserve(need));
	double e = 0, m = 1e-30;
	int untouched = 1;
	for (int co = 0; co < cout; co++)
		for (int im = 0; im < nimg; im++)
			for (size_t i = 0; i < hw; i++) {
				size_t j = ((size_t)co * nimg + im) * hw + i;
				if (im == 0) {
					untouched &= y[j] == y0[j];
					continue;
				}
				double want = yd[((size_t)im * cout + co) * hw + i];
				e = fmax(e, fabs(y[j] - want));
				m = fmax(m, fabs(want));
			}
	tap_ok(rc == 0 && refused && untouched && e / m < 1e-5,
	       "direct conv %d->%d k%d %dx%d, images 1..%d: %.1e; refuses short scratch", cin, cout,
	       k, h, w, nimg - 1, e / m);
	free(x), free(wt), free(y), free(y0), free(xd), free(wd), free(yd);
}

/* The stride-2 conv^T (mn_simd_convT_s2) against the GEMM path it
 * replaces in the reduction block: zeroed columns' scatter
 * (mn_conv_backward_data), then the ReLU mask and add (mn_relu_backward)
 * onto dx or, with pool, onto the shortcut's 2x2 pool backward
 * (mn_avgpool2_backward).
 * The values agree to rounding (OpenBLAS blocks its sums over the output
 * channels its own way), and the two kernels give the same bits. */
static void test_convT_s2(int cin, int h, int w, int nq, int nb, int relu, int acc, int pool)
{
	int cout = 2 * cin, hw = h * w, ohw = (h / 2) * (w / 2), nimg = nq * nb;
	size_t nx = (size_t)cin * nimg * hw;
	struct mn_conv_geom g;
	mn_conv_geom_init(&g, cin, cout, 3, 2, 1, h, w);
	float *wt = fvec((size_t)cout * cin * 9), *dy = fvec((size_t)cout * nimg * ohw);
	float *rl = relu ? fvec((size_t)cin * nb * hw) : NULL, *dx0 = fvec(nx);
	float *dr = calloc(nx, sizeof(float)), *ref = malloc(sizeof(float) * nx);
	float *got8 = malloc(sizeof(float) * nx), *got16 = malloc(sizeof(float) * nx);
	size_t cap = (size_t)9 * cin * ohw * 2;
	float *dcol = malloc(sizeof(float) * cap);
	if (!dr || !ref || !got8 || !got16 || !dcol) {
		printf("Bail out! out of memory\n");
		exit(1);
	}
	dx0[0] = -0.0f;
	mn_conv_backward_data(dr, wt, dy, &g, nimg, dcol, cap);
	memcpy(ref, dx0, sizeof(float) * nx);
	/* with pool, the reference adds onto the 2x2 pool's backward of p2 */
	float *p2 = pool ? fvec((size_t)cin * nimg * ohw) : NULL;
	if (pool)
		mn_avgpool2_backward(ref, p2, (size_t)cin * nimg, h, w, 0);
	int onto = acc || pool;
	if (relu)
		mn_relu_backward(ref, dr, rl, cin, nq, (size_t)nb * hw, onto);
	else
		for (size_t i = 0; i < nx; i++)
			ref[i] = onto ? dr[i] + ref[i] : dr[i];
	struct mn_convT_s2_job j = {.dx = got8,
				    .ldx = (size_t)nimg * hw,
				    .wt = wt,
				    .dy = dy,
				    .pool2 = pool ? p2 : NULL,
				    .ldy = (size_t)nimg * ohw,
				    .relu = rl,
				    .ldrelu = (size_t)nb * hw,
				    .cin = cin,
				    .cout = cout,
				    .h = h,
				    .w = w,
				    .nimg = nimg,
				    .nb = nb,
				    .accumulate = acc};
	if (!mn_simd_convT_s2_fits(&j, 0)) {
		tap_ok(mn_simd_convT_s2(&j, 1) == -1 && mn_simd_convT_s2(&j, 0) == -1,
		       "stride-2 conv^T, cin %d %dx%d: no kernel fits (-1)", cin, h, w);
	} else {
		memcpy(got8, dx0, sizeof(float) * nx);
		int rc = mn_simd_convT_s2(&j, 0);
		double e = relmax(got8, ref, nx);
		tap_ok(rc == 0 && e < 1e-6,
		       "stride-2 conv^T at 8 lanes, cin %d %dx%d, %d queries x %d images, relu %d, "
		       "accumulate %d, pool %d: the GEMM path's values (max rel diff %.2g)",
		       cin, h, w, nq, nb, relu, acc, pool, e);
		if (mn_simd_convT_s2_fits(&j, 1) == 16) {
			memcpy(got16, dx0, sizeof(float) * nx);
			j.dx = got16;
			rc = mn_simd_convT_s2(&j, 1);
			tap_ok(rc == 0 && !memcmp(got16, got8, sizeof(float) * nx),
			       "stride-2 conv^T at 16 lanes, cin %d %dx%d: the 8-lane kernel's bits", cin,
			       h, w);
		}
	}
	free(wt), free(dy), free(rl), free(dx0), free(dr), free(ref), free(got8), free(got16),
		free(dcol), free(p2);
}

int main(void)
{
	mn_rng_seed(&rng, 99);
	tap_diag("AVX2+FMA path %s", mn_simd_avx2() ? "in use" : "not available (portable path)");
	tap_diag("AVX-512 conv^T %s", mn_simd_avx512() ? "in use: its bits are checked against AVX2's"
						      : "not available on this CPU: not checked here");
	test_convT(3, 32, 32, 9, 9, 2, 3, 1, 1);
	test_convT(3, 8, 8, 3, 0, 3, 2, 0, 0);
	test_convT(6, 16, 16, 12, 6, 2, 2, 1, 1);
	test_convT(12, 8, 8, 12, 12, 1, 3, 1, 0);
	test_convT(5, 7, 13, 4, 2, 2, 2, 1, 1);
	test_convT(1, 3, 3, 3, 3, 1, 5, 1, 1);
	test_convT(2, 5, 9, 0, 3, 2, 2, 1, 1);
	test_convT(7, 9, 17, 5, 0, 1, 2, 0, 1);
	test_convT(16, 32, 32, 16, 0, 1, 2, 1, 0);
	test_convT(3, 32, 32, 3, 3, 1, 4, 1, 2);
	test_convT(12, 8, 8, 12, 12, 1, 4, 1, 2);
	test_convT(6, 16, 16, 12, 6, 3, 2, 1, 2);
	test_convT(4, 5, 48, 4, 4, 2, 2, 0, 1);
	test_convT(9, 16, 32, 9, 9, 2, 2, 1, 1);
	test_convT(12, 8, 8, 12, 12, 2, 3, 1, 1);
	test_convT(6, 6, 8, 6, 6, 2, 2, 1, 1);
	test_convT(4, 7, 8, 4, 4, 2, 2, 1, 1);
	test_convT_s2(3, 32, 32, 2, 3, 1, 1, 0);
	test_convT_s2(3, 32, 32, 2, 3, 1, 0, 1);
	test_convT_s2(6, 16, 16, 3, 2, 1, 1, 0);
	test_convT_s2(6, 16, 16, 3, 2, 1, 0, 1);
	test_convT_s2(12, 16, 16, 1, 2, 0, 0, 0);
	test_convT_s2(5, 32, 16, 2, 2, 1, 0, 0);
	test_convT_s2(3, 32, 64, 1, 2, 0, 1, 0);
	test_convT_s2(4, 8, 8, 1, 2, 1, 1, 0);
	test_add_stride2(1);
	test_add_stride2(15);
	test_add_stride2(16);
	test_add_stride2(17);
	test_add_stride2(40);
	if (mn_simd_avx512()) {
		test_gemm_long(48, 81, 4096, 0);
		test_gemm_long(7, 13, 1000, 3);
		test_gemm_long(1, 1, 5, 1);
		test_gemm_long(30, 50, 5000, 16); /* several chunks of K */
	} else {
		float z = 0;
		tap_ok(mn_simd_gemm_nt_long(&z, 1, &z, 1, &z, 1, 1, 1, 1) == -1,
		       "long-K A B^T without AVX-512: -1, so callers use cblas_sgemm");
	}
	test_pools(5, 32, 32);
	test_pools(3, 7, 13);
	test_pools(4, 1, 3);
	test_pools(2, 3, 1);
	test_pools_lanes(6, 32, 32, 1);
	test_pools_lanes(3, 16, 16, 3);
	test_pools_lanes(2, 8, 48, 5);
	test_pools_lanes(2, 7, 13, 2);
	test_gemm_nt(16, 432, 1024, 0);
	test_gemm_nt(5, 7, 37, 1);
	test_gemm_nt(3, 2, 8, 0);
	test_gemm_nt(1, 1, 3, 1);
	test_gemm_nt(6, 11, 64, 0);
	test_elementwise(5);
	test_elementwise(70001);
	test_conv_forward(3, 5, 3, 7, 9, 3);
	test_conv_forward(4, 6, 1, 5, 5, 2);
	test_conv_forward(16, 16, 3, 8, 8, 2);
	mn_simd_scratch_free(&scr);
	return tap_done();
}
