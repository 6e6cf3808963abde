#include <math.h>
#include <stdlib.h>

#include "nn/net_internal.h"

/* The parallel loops under the forward and the backward: each splits its
 * work over images, channels or elements on the network's pool (NULL: the
 * caller's thread only), through the SIMD kernels (simd.h). */

struct pe_ctx {
	float *y;
	const float *x, *a, *b;
	float s, t;
	int acc;
	size_t M;
};

static void pe_relu(void *c, size_t lo, size_t hi)
{
	struct pe_ctx *e = c;
	mn_simd_relu(e->y + lo, e->x + lo, hi - lo);
}

static void pe_axpy(void *c, size_t lo, size_t hi)
{
	struct pe_ctx *e = c;
	mn_simd_lin3(e->y + lo, e->y + lo, e->x + lo, hi - lo, 1, 0, e->s);
}

/* y (+)= s*(a[c]*x + b[c]) over flattened [C][M] (a, b: per channel) */
static void pe_affine(void *c, size_t lo, size_t hi)
{
	struct pe_ctx *e = c;
	while (lo < hi) {
		size_t ch = lo / e->M, end = (ch + 1) * e->M < hi ? (ch + 1) * e->M : hi;
		float al = e->s * e->a[ch], be = e->s * e->b[ch];
		mn_simd_lin3(e->y + lo, e->x + lo, e->acc ? e->y + lo : NULL, end - lo, al, be,
			     e->acc ? 1 : 0);
		lo = end;
	}
}

void net_par_relu(struct mn_pool *pool, float *y, const float *x, size_t n)
{
	struct pe_ctx e = {y, x, NULL, NULL, 0, 0, 0, 0};
	mn_par_for_work(pool, n, 1, pe_relu, &e);
}

void net_par_axpy(struct mn_pool *pool, float *y, float s, const float *x, size_t n)
{
	struct pe_ctx e = {y, x, NULL, NULL, s, 0, 0, 0};
	mn_par_for_work(pool, n, 1, pe_axpy, &e);
}

void net_par_affine(struct mn_pool *pool, float *y, const float *xhat, const float *gamma,
		    const float *beta, int C, size_t M, float scale, int acc)
{
	struct pe_ctx e = {y, xhat, gamma, beta, scale, 0, acc, M};
	mn_par_for_work(pool, (size_t)C * M, 1, pe_affine, &e);
}

struct ps_ctx {
	const float *x;
	float *xhat;
	const float *mu;
	const float *rs;
	size_t M;
	int C, T, phase;
	double *part; /* [T][C] */
};

static void ps_body(void *c, int t, int T)
{
	struct ps_ctx *e = c;
	size_t n = (size_t)e->C * e->M, lo = n * t / T, hi = n * (t + 1) / T;
	double *part = e->part + (size_t)t * e->C;
	for (int ch = 0; ch < e->C; ch++)
		part[ch] = 0;
	while (lo < hi) {
		size_t ch = lo / e->M, end = (ch + 1) * e->M < hi ? (ch + 1) * e->M : hi;
		if (e->phase == 0)
			part[ch] += mn_simd_sum(e->x + lo, end - lo);
		else if (e->phase == 1)
			part[ch] += mn_simd_sqdev(e->x + lo, end - lo, e->mu[ch]);
		else
			mn_simd_lin3(e->xhat + lo, e->x + lo, NULL, end - lo, e->rs[ch],
				     -e->mu[ch] * e->rs[ch], 0);
		lo = end;
	}
}

/* Batch statistics (or nothing) and xhat = normalize(x) over [C][M]. */
int net_par_bn(struct mn_pool *pool, float *xhat, const float *x, float *mean, float *rstd, int C,
	       size_t M, int stats)
{
	if ((double)C * M < 2 * MN_PAR_GRAIN)
		pool = NULL;
	int T = mn_pool_size(pool);
	double *part = malloc(sizeof(double) * (size_t)T * C);
	if (!part)
		return -1;
	struct ps_ctx e = {x, xhat, mean, rstd, M, C, T, 0, part};
	if (stats) {
		mn_par_run(pool, ps_body, &e);
		for (int c = 0; c < C; c++) {
			double s = 0;
			for (int t = 0; t < T; t++)
				s += part[(size_t)t * C + c];
			mean[c] = (float)(s / (double)M);
		}
		e.phase = 1;
		mn_par_run(pool, ps_body, &e);
		for (int c = 0; c < C; c++) {
			double s = 0;
			for (int t = 0; t < T; t++)
				s += part[(size_t)t * C + c];
			rstd[c] = (float)(1.0 / sqrt(s / (double)M + MN_BN_EPS));
		}
	}
	e.phase = 2;
	mn_par_run(pool, ps_body, &e);
	free(part);
	return 0;
}

struct ranges_ctx {
	size_t n;
	void (*fn)(void *ctx, int t, size_t lo, size_t hi);
	void *ctx;
};

static void ranges_body(void *arg, int t, int T)
{
	struct ranges_ctx *r = arg;
	size_t lo = r->n * (size_t)t / (size_t)T, hi = r->n * (size_t)(t + 1) / (size_t)T;
	if (hi > lo)
		r->fn(r->ctx, t, lo, hi);
}

void net_par_ranges(struct mn_pool *pool, size_t n, double work_per_item,
		    void (*fn)(void *ctx, int t, size_t lo, size_t hi), void *ctx)
{
	if ((double)n * work_per_item < 2 * MN_PAR_GRAIN || n < 2)
		pool = NULL;
	if (!pool) {
		if (n)
			fn(ctx, 0, 0, n);
		return;
	}
	struct ranges_ctx r = {n, fn, ctx};
	mn_par_run(pool, ranges_body, &r);
}

static struct mn_simd_scratch *reserve_all(struct mn_simd_scratch *scr, int n, size_t bytes)
{
	for (int t = 0; t < n; t++)
		if (mn_simd_scratch_reserve(&scr[t], bytes) != 0)
			return NULL;
	return scr;
}

struct mn_simd_scratch *net_ws_scratch(struct mn_net *net, struct ws *ws, size_t bytes)
{
	if (ws->pool)
		return reserve_all(net->scr, net->nscr, bytes);
	return reserve_all(&ws->scr, 1, bytes);
}

struct mn_simd_scratch *net_fw_scratch(struct mn_net *net, size_t bytes)
{
	return reserve_all(net->scr, net->nscr, bytes);
}

static void pc_direct(void *c, int t, size_t lo, size_t hi)
{
	struct pc_ctx *e = c;
	if (mn_simd_conv_forward_range(e->y, e->w, e->x, e->cin, e->cout, e->k, e->h, e->wd,
				       e->nimg, e->acc, (int)lo, (int)hi, &e->scr[t]) != 0)
		e->rc = -1;
}

static void pc_im2col(void *c, size_t lo, size_t hi)
{
	struct pc_ctx *e = c;
	const struct mn_conv_geom *g = e->g;
	size_t ohw = (size_t)g->oh * g->ow, hw = (size_t)g->h * g->w;
	mn_im2col(e->col + lo * ohw, (size_t)e->nimg * ohw, e->x + lo * hw, (size_t)e->nimg * hw, g,
		  (int)(hi - lo));
}

/* y[:, cols] = w x col[:, cols] over column (image) ranges */
static void pc_gemm(void *c, size_t lo, size_t hi)
{
	struct pc_ctx *e = c;
	const struct mn_conv_geom *g = e->g;
	int ohw = g->oh * g->ow, ncol = e->nimg * ohw, ckk = mn_conv_ckk(g);
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, g->cout, (int)(hi - lo) * ohw, ckk,
		    1, e->w, ckk, e->col + lo * ohw, ncol, e->acc ? 1 : 0, e->y + lo * ohw, ncol);
}

void net_pc_convT(void *c, int t, size_t lo, size_t hi)
{
	struct pc_ctx *e = c;
	if (mn_simd_convT(e->job, (int)lo, (int)hi, &e->scr[t]) != 0)
		e->rc = -1;
}

void net_pc_pool_bw(void *c, int t, size_t lo, size_t hi)
{
	struct pc_ctx *e = c;
	size_t hw = (size_t)e->h * e->wd;
	const float *src[3];
	for (int i = 0; i < e->nsrc; i++)
		src[i] = e->src[i] + lo * hw;
	mn_simd_pool3_bw(e->y + lo * hw, src, e->s, e->nsrc, hi - lo, e->h, e->wd, &e->scr[t]);
}

static void pc_pool_fw(void *c, int t, size_t lo, size_t hi)
{
	struct pc_ctx *e = c;
	size_t hw = (size_t)e->h * e->wd;
	mn_simd_pool3_fw(e->y + lo * hw, e->x + lo * hw, hi - lo, e->h, e->wd, e->s[0], &e->scr[t]);
}

/* A conv forward over nb images: the direct kernel for 3x3 stride 1 and
 * pointwise convs with few channels, else im2col (kept in col when given,
 * else into scratch) and a GEMM; both split over images. */
void net_par_conv(struct mn_net *net, float *y, const float *w, const float *x,
		  const struct mn_conv_geom *g, int nb, float *keep_col, float *scratch, int acc)
{
	struct pc_ctx e = {y, w, x, g->cin, g->cout, g->k, g->h, g->w, nb,
			   acc, g, NULL, 0, NULL, NULL, NULL, 0, NULL};
	double wimg = (double)g->cin * g->cout * g->k * g->k * g->oh * g->ow; /* MACs per image */
	/* with the im2col made anyway and enough channels, a GEMM on it wins */
	int direct = mn_simd_avx2() && g->cin <= 32 && g->cout <= 96 &&
		     !(keep_col && g->cin >= 16) &&
		     ((g->k == 3 && g->stride == 1 && g->pad == 1) || mn_conv_is_pointwise(g));
	if (keep_col && !mn_conv_is_pointwise(g)) {
		e.col = keep_col;
		mn_par_for_work(net->pool, (size_t)nb, wimg / g->cout, pc_im2col, &e);
	}
	if (direct) {
		e.scr = net_fw_scratch(
			net, mn_simd_conv_forward_scratch(g->cin, g->cout, g->k, g->h, g->w));
		if (e.scr) {
			net_par_ranges(net->pool, (size_t)nb, wimg, pc_direct, &e);
			if (e.rc == 0)
				return;
			e.rc = 0;
		}
	}
	if (mn_conv_is_pointwise(g))
		e.col = (float *)x;
	else if (!keep_col) {
		e.col = scratch;
		mn_par_for_work(net->pool, (size_t)nb, wimg / g->cout, pc_im2col, &e);
	}
	mn_par_for_work(net->pool, (size_t)nb, wimg, pc_gemm, &e);
}

void net_par_pool3_fw(struct mn_net *net, float *y, const float *x, size_t nplanes, int h, int w,
		      float scale)
{
	float s[1] = {scale};
	/* without scratch (out of memory) the kernel takes its direct sum */
	struct pc_ctx e = {y, NULL, x, 0, 0, 0, h, w, 0, 0, NULL, NULL, 0, NULL, NULL, s, 1,
			   net_fw_scratch(net, mn_simd_pool3_scratch(h, w))};
	struct mn_simd_scratch none[1] = {{NULL, 0}};
	if (!e.scr)
		e.scr = none;
	net_par_ranges(e.scr == none ? NULL : net->pool, nplanes, 9.0 * h * w, pc_pool_fw, &e);
}
