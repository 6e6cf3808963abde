/* Layers (src/nn/nn_layers.h, float, [C][nb][h*w]) against the naive
 * double-precision layers of the reference (tests/ref_layers.c,
 * [nb][C][h][w]) on the same values, and the reference's backwards against
 * central finite differences of its forwards.
 *
 * Tolerances, relative to the largest entry of the reference's result:
 *  - TOL_F 1e-5, float against double for one layer: each output is a
 *    sum of at most a few hundred products (~1e-7 each, partly
 *    cancelling); BN divides by a batch std of O(1).
 *  - TOL_FD 1e-6, the reference against FD with h = 1e-6 in double
 *    (truncation ~h^2, rounding ~1e-16/h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/nn_layers.h"
#include "util/rng.h"
#include "ref_layers.h"
#include "tap.h"

#define TOL_F 1e-5
#define TOL_FD 1e-6
#define FD_H 1e-6

static struct mn_rng rng;

static double *vec(size_t n)
{
	double *v = malloc(sizeof(double) * (n ? n : 1));
	if (!v) {
		printf("Bail out! out of memory\n");
		exit(1);
	}
	for (size_t i = 0; i < n; i++)
		v[i] = mn_rng_normal(&rng);
	return v;
}

static double *zeros(size_t n)
{
	double *v = vec(n);
	memset(v, 0, sizeof(double) * (n ? n : 1));
	return v;
}

static float *fzeros(size_t n)
{
	float *v = calloc(n ? n : 1, sizeof(float));
	if (!v) {
		printf("Bail out! out of memory\n");
		exit(1);
	}
	return v;
}

static float *tof(const double *a, size_t n)
{
	float *v = fzeros(n);
	for (size_t i = 0; i < n; i++)
		v[i] = (float)a[i];
	return v;
}

/* NCHW double -> CNHW float, and back */
static float *to_cnhw(const double *a, int n, int c, int hw)
{
	float *v = fzeros((size_t)n * c * hw);
	for (int i = 0; i < n; i++)
		for (int j = 0; j < c; j++)
			for (int k = 0; k < hw; k++)
				v[((size_t)j * n + i) * hw + k] = (float)a[((size_t)i * c + j) * hw + k];
	return v;
}

static double *from_cnhw(const float *a, int n, int c, int hw)
{
	double *v = zeros((size_t)n * c * hw);
	for (int i = 0; i < n; i++)
		for (int j = 0; j < c; j++)
			for (int k = 0; k < hw; k++)
				v[((size_t)i * c + j) * hw + k] = a[((size_t)j * n + i) * hw + k];
	return v;
}

/* max |a - b| / max |b| */
static double rel(const double *a, const double *b, size_t n)
{
	double e = 0, m = 1e-300;
	for (size_t i = 0; i < n; i++) {
		e = fmax(e, fabs(a[i] - b[i]));
		m = fmax(m, fabs(b[i]));
	}
	return e / m;
}

static double relf(const float *a, const double *b, size_t n)
{
	double e = 0, m = 1e-300;
	for (size_t i = 0; i < n; i++) {
		e = fmax(e, fabs(a[i] - b[i]));
		m = fmax(m, fabs(b[i]));
	}
	return e / m;
}

static double dot(const double *a, const double *b, size_t n)
{
	double s = 0;
	for (size_t i = 0; i < n; i++)
		s += a[i] * b[i];
	return s;
}

/* Central differences of f(ctx) = <r, forward> with respect to p[0..n-1]. */
typedef double (*loss_fn)(void *ctx);
static void numgrad(loss_fn f, void *ctx, double *p, size_t n, double *g)
{
	for (size_t i = 0; i < n; i++) {
		double s = p[i];
		p[i] = s + FD_H;
		double lp = f(ctx);
		p[i] = s - FD_H;
		double lm = f(ctx);
		p[i] = s;
		g[i] = (lp - lm) / (2 * FD_H);
	}
}

/* ------------------------------------------------------------------ conv */

struct conv_ctx {
	int n, ci, co, h, w, k, s, p, oh, ow;
	double *x, *wt, *y, *r;
};

static double conv_loss(void *vc)
{
	struct conv_ctx *c = vc;
	ref_conv_forward(c->y, c->x, c->wt, c->n, c->ci, c->co, c->h, c->w, c->k, c->s, c->p);
	return dot(c->y, c->r, (size_t)c->n * c->co * c->oh * c->ow);
}

static void test_conv(int ci, int co, int k, int s, int p, int h, int w, int n)
{
	struct mn_conv_geom g;
	if (mn_conv_geom_init(&g, ci, co, k, s, p, h, w) != 0) {
		tap_ok(0, "conv geometry %d->%d k%d s%d p%d %dx%d", ci, co, k, s, p, h, w);
		return;
	}
	int ohw = g.oh * g.ow, ckk = mn_conv_ckk(&g);
	size_t nx = (size_t)n * ci * h * w, ny = (size_t)n * co * ohw, nw = (size_t)co * ckk;
	struct conv_ctx c = {n, ci, co, h, w, k, s, p, g.oh, g.ow, vec(nx), vec(nw), zeros(ny), vec(ny)};
	/* reference backward against FD */
	double *dx = zeros(nx), *dw = zeros(nw), *ndx = zeros(nx), *ndw = zeros(nw);
	ref_conv_backward(dx, dw, c.r, c.x, c.wt, n, ci, co, h, w, k, s, p);
	numgrad(conv_loss, &c, c.x, nx, ndx);
	numgrad(conv_loss, &c, c.wt, nw, ndw);
	double efd = fmax(rel(dx, ndx, nx), rel(dw, ndw, nw));
	conv_loss(&c);
	/* float forward, backward data, summed weight gradient */
	float *xf = to_cnhw(c.x, n, ci, h * w), *wf = tof(c.wt, nw), *yf = fzeros(ny);
	float *col = fzeros((size_t)ckk * n * ohw), *rf = to_cnhw(c.r, n, co, ohw);
	mn_conv_forward(yf, wf, xf, &g, n, col, 0);
	double *y2 = from_cnhw(yf, n, co, ohw);
	double ef = rel(y2, c.y, ny);
	float *dxf = fzeros(nx), *dcol = fzeros((size_t)ckk * ohw), *dwf = fzeros(nw);
	mn_conv_backward_data(dxf, wf, rf, &g, n, dcol, (size_t)ckk * ohw);
	double *dx2 = from_cnhw(dxf, n, ci, h * w);
	const float *colm = mn_conv_is_pointwise(&g) ? xf : col;
	mn_wgrad_sum(dwf, rf, (size_t)n * ohw, colm, (size_t)n * ohw, co, n * ohw, ckk, 0);
	double eb = fmax(rel(dx2, dx, nx), relf(dwf, dw, nw));
	/* per sample: dw_n from the reference on sample n alone */
	float *ps = fzeros((size_t)n * nw);
	mn_wgrad_per_sample(ps, rf, colm, (size_t)n * ohw, co, n, ohw, ckk);
	double eps = 0;
	for (int b = 0; b < n; b++) {
		double *dwn = zeros(nw);
		ref_conv_backward(NULL, dwn, c.r + (size_t)b * co * ohw, c.x + (size_t)b * ci * h * w,
				  c.wt, 1, ci, co, h, w, k, s, p);
		eps = fmax(eps, relf(ps + (size_t)b * nw, dwn, nw));
		free(dwn);
	}
	/* per query: two cotangents [co][nq][n*ohw], dw[co][nq][ckk] */
	int nq = 2;
	double *r2 = vec(ny);
	float *dyq = fzeros((size_t)nq * ny), *pq = fzeros((size_t)nq * nw);
	float *r2f = to_cnhw(r2, n, co, ohw);
	for (int o = 0; o < co; o++)
		for (size_t i = 0; i < (size_t)n * ohw; i++) {
			dyq[((size_t)o * nq + 0) * n * ohw + i] = rf[(size_t)o * n * ohw + i];
			dyq[((size_t)o * nq + 1) * n * ohw + i] = r2f[(size_t)o * n * ohw + i];
		}
	mn_wgrad_per_query(pq, dyq, colm, (size_t)n * ohw, co, nq, n * ohw, ckk);
	double *dw2 = zeros(nw);
	ref_conv_backward(NULL, dw2, r2, c.x, c.wt, n, ci, co, h, w, k, s, p);
	double epq = 0;
	for (int q = 0; q < nq; q++) {
		float *row = fzeros(nw);
		for (int o = 0; o < co; o++)
			memcpy(row + (size_t)o * ckk, pq + ((size_t)o * nq + q) * ckk,
			       sizeof(float) * ckk);
		epq = fmax(epq, relf(row, q ? dw2 : dw, nw));
		free(row);
	}
	tap_ok(efd < TOL_FD && ef < TOL_F && eb < TOL_F && eps < TOL_F && epq < TOL_F,
	       "conv %d->%d k%d s%d p%d %dx%d x%d: reference vs FD %.1e; float forward %.1e, "
	       "backward %.1e, per sample %.1e, per query %.1e",
	       ci, co, k, s, p, h, w, n, efd, ef, eb, eps, epq);
	free(c.x), free(c.wt), free(c.y), free(c.r), free(dx), free(dw), free(ndx), free(ndw);
	free(xf), free(wf), free(yf), free(col), free(rf), free(y2), free(dxf), free(dcol), free(dwf);
	free(dx2), free(ps), free(r2), free(dyq), free(pq), free(r2f), free(dw2);
}

/* -------------------------------------------------------------------- BN */

struct bn_ctx {
	int n, c, hw;
	double *x, *g, *b, *y, *xhat, *rstd, *r;
};

static double bn_loss(void *vc)
{
	struct bn_ctx *c = vc;
	ref_bn_forward(c->y, c->xhat, c->rstd, c->x, c->g, c->b, c->n, c->c, c->hw);
	return dot(c->y, c->r, (size_t)c->n * c->c * c->hw);
}

static void test_bn(int C, int n, int hw)
{
	size_t N = (size_t)n * C * hw, M = (size_t)n * hw;
	struct bn_ctx c = {n, C, hw, vec(N), vec(C), vec(C), zeros(N), zeros(N), zeros(C), vec(N)};
	bn_loss(&c);
	double *dx = zeros(N), *dg = zeros(C), *db = zeros(C);
	double *ndx = zeros(N), *ndg = zeros(C), *ndb = zeros(C);
	ref_bn_backward(dx, dg, db, c.r, c.xhat, c.rstd, c.g, n, C, hw, 1);
	numgrad(bn_loss, &c, c.x, N, ndx);
	numgrad(bn_loss, &c, c.g, C, ndg);
	numgrad(bn_loss, &c, c.b, C, ndb);
	double efd = fmax(rel(dx, ndx, N), fmax(rel(dg, ndg, C), rel(db, ndb, C)));
	bn_loss(&c);
	/* float: statistics, normalize, affine */
	float *xf = to_cnhw(c.x, n, C, hw), *mean = fzeros(C), *rstd = fzeros(C);
	float *xh = fzeros(N), *yf = fzeros(N), *gf = tof(c.g, C), *bf = tof(c.b, C);
	mn_bn_stats(mean, rstd, xf, C, M);
	mn_bn_normalize(xh, xf, mean, rstd, C, M);
	mn_bn_affine(yf, xh, gf, bf, C, M, 1, 0);
	double *y2 = from_cnhw(yf, n, C, hw);
	double ef = fmax(rel(y2, c.y, N), relf(rstd, c.rstd, C));
	/* backward, coupled and decoupled */
	float *rf = to_cnhw(c.r, n, C, hw), *dxf = fzeros(N), *dgf = fzeros(C), *dbf = fzeros(C);
	mn_bn_backward(dxf, dgf, dbf, 0, rf, 1, xh, rstd, gf, C, 1, n, hw, 1, 0);
	double *dx2 = from_cnhw(dxf, n, C, hw);
	double eb = fmax(rel(dx2, dx, N), fmax(relf(dgf, dg, C), relf(dbf, db, C)));
	double *dxu = zeros(N);
	ref_bn_backward(dxu, NULL, NULL, c.r, c.xhat, c.rstd, c.g, n, C, hw, 0);
	mn_bn_backward(dxf, NULL, NULL, 0, rf, 1, xh, rstd, gf, C, 1, n, hw, 0, 0);
	free(dx2);
	dx2 = from_cnhw(dxf, n, C, hw);
	double eu = rel(dx2, dxu, N);
	/* per sample (decoupled): dgamma of sample s alone */
	float *dgs = fzeros((size_t)n * C);
	mn_bn_backward(dxf, dgs, NULL, (size_t)C, rf, 1, xh, rstd, gf, C, 1, n, hw, 0, 1);
	double eps = 0;
	for (int s = 0; s < n; s++) {
		double *g1 = zeros(C), *tmp = zeros((size_t)C * hw);
		ref_bn_backward(tmp, g1, NULL, c.r + (size_t)s * C * hw, c.xhat + (size_t)s * C * hw,
				c.rstd, c.g, 1, C, hw, 0);
		eps = fmax(eps, relf(dgs + (size_t)s * C, g1, C));
		free(g1);
		free(tmp);
	}
	/* two queries with a scale: query q reads 0.5 * dy_q */
	int nq = 2;
	double *r2 = vec(N), *dx_1 = zeros(N), *dx_2 = zeros(N), *dg1 = zeros(C), *dg2 = zeros(C);
	double *h1 = zeros(N), *h2 = zeros(N);
	for (size_t i = 0; i < N; i++) {
		h1[i] = 0.5 * c.r[i];
		h2[i] = 0.5 * r2[i];
	}
	ref_bn_backward(dx_1, dg1, NULL, h1, c.xhat, c.rstd, c.g, n, C, hw, 1);
	ref_bn_backward(dx_2, dg2, NULL, h2, c.xhat, c.rstd, c.g, n, C, hw, 1);
	float *r2f = to_cnhw(r2, n, C, hw), *dyq = fzeros((size_t)nq * N), *dxq = fzeros((size_t)nq * N);
	float *dgq = fzeros((size_t)nq * C);
	for (int ch = 0; ch < C; ch++) {
		memcpy(dyq + ((size_t)ch * nq + 0) * M, rf + (size_t)ch * M, sizeof(float) * M);
		memcpy(dyq + ((size_t)ch * nq + 1) * M, r2f + (size_t)ch * M, sizeof(float) * M);
	}
	mn_bn_backward(dxq, dgq, NULL, (size_t)C, dyq, 0.5f, xh, rstd, gf, C, nq, n, hw, 1, 0);
	double eq = 0;
	for (int q = 0; q < nq; q++) {
		float *part = fzeros(N);
		for (int ch = 0; ch < C; ch++)
			memcpy(part + (size_t)ch * M, dxq + ((size_t)ch * nq + q) * M, sizeof(float) * M);
		double *p2 = from_cnhw(part, n, C, hw);
		eq = fmax(eq, rel(p2, q ? dx_2 : dx_1, N));
		eq = fmax(eq, relf(dgq + (size_t)q * C, q ? dg2 : dg1, C));
		free(part);
		free(p2);
	}
	tap_ok(efd < TOL_FD && ef < TOL_F && eb < TOL_F && eu < TOL_F && eps < TOL_F && eq < TOL_F,
	       "BN %dx%dx%d: reference vs FD %.1e; float forward %.1e, backward %.1e, decoupled "
	       "%.1e, per sample %.1e, 2 scaled queries %.1e",
	       C, n, hw, efd, ef, eb, eu, eps, eq);
	free(c.x), free(c.g), free(c.b), free(c.y), free(c.xhat), free(c.rstd), free(c.r);
	free(dx), free(dg), free(db), free(ndx), free(ndg), free(ndb), free(xf), free(mean);
	free(rstd), free(xh), free(yf), free(gf), free(bf), free(y2), free(rf), free(dxf), free(dgf);
	free(dbf), free(dx2), free(dxu), free(dgs), free(r2), free(dx_1), free(dx_2), free(dg1);
	free(dg2), free(h1), free(h2), free(r2f), free(dyq), free(dxq), free(dgq);
}

/* ------------------------------------------------- relu, pools, linear */

enum { L_RELU, L_POOL3, L_POOL2, L_GAP };

struct pw_ctx {
	int kind, planes, h, w;
	double *x, *y, *r;
};

static size_t pw_out(const struct pw_ctx *c)
{
	size_t hw = (size_t)c->h * c->w;
	return c->kind == L_POOL2 ? (size_t)c->planes * (c->h / 2) * (c->w / 2)
	       : c->kind == L_GAP ? (size_t)c->planes
				  : (size_t)c->planes * hw;
}

static void pw_forward(struct pw_ctx *c)
{
	size_t n = (size_t)c->planes * c->h * c->w;
	if (c->kind == L_RELU)
		ref_relu_forward(c->y, c->x, n);
	else if (c->kind == L_POOL3)
		ref_avgpool3_forward(c->y, c->x, c->planes, c->h, c->w);
	else if (c->kind == L_POOL2)
		ref_avgpool2_forward(c->y, c->x, c->planes, c->h, c->w);
	else
		ref_gap_forward(c->y, c->x, c->planes, c->h * c->w);
}

static double pw_loss(void *vc)
{
	struct pw_ctx *c = vc;
	pw_forward(c);
	return dot(c->y, c->r, pw_out(c));
}

/* planes are [nb*C] stacks in both layouts, so no transposition here */
static void test_pointwise(int kind, const char *name, int planes, int h, int w)
{
	size_t nx = (size_t)planes * h * w;
	struct pw_ctx c = {kind, planes, h, w, vec(nx), NULL, NULL};
	size_t ny = pw_out(&c);
	c.y = zeros(ny);
	c.r = vec(ny);
	double *dx = zeros(nx), *ndx = zeros(nx);
	pw_forward(&c);
	if (kind == L_RELU)
		ref_relu_backward(dx, c.r, c.y, nx);
	else if (kind == L_POOL3)
		ref_avgpool3_backward(dx, c.r, planes, h, w);
	else if (kind == L_POOL2)
		ref_avgpool2_backward(dx, c.r, planes, h, w);
	else
		ref_gap_backward(dx, c.r, planes, h * w);
	numgrad(pw_loss, &c, c.x, nx, ndx);
	double efd = rel(dx, ndx, nx);
	pw_forward(&c);
	float *xf = tof(c.x, nx), *yf = fzeros(ny), *rf = tof(c.r, ny), *dxf = fzeros(nx);
	if (kind == L_RELU) {
		mn_relu_forward(yf, xf, nx);
		mn_relu_backward(dxf, rf, yf, 1, 1, nx, 0);
	} else if (kind == L_POOL3) {
		mn_avgpool3_forward(yf, xf, planes, h, w, 1, 0);
		mn_avgpool3_backward(dxf, rf, planes, h, w, 1, 0);
	} else if (kind == L_POOL2) {
		mn_avgpool2_forward(yf, xf, planes, h, w);
		mn_avgpool2_backward(dxf, rf, planes, h, w, 0);
	} else {
		mn_gap_forward(yf, xf, planes, h * w);
		mn_gap_backward(dxf, rf, planes, h * w, 0);
	}
	double ef = relf(yf, c.y, ny), eb = relf(dxf, dx, nx);
	tap_ok(efd < TOL_FD && ef < TOL_F && eb < TOL_F,
	       "%s %dx%dx%d: reference vs FD %.1e; float forward %.1e, backward %.1e", name, planes,
	       h, w, efd, ef, eb);
	free(c.x), free(c.y), free(c.r), free(dx), free(ndx), free(xf), free(yf), free(rf), free(dxf);
}

static void test_relu_queries(void)
{
	/* the forward mask is broadcast over the queries */
	int C = 3, nq = 4;
	size_t M = 10;
	double *xd = vec(C * M), *dyd = vec(C * nq * M);
	float *x = tof(xd, C * M), *y = fzeros(C * M), *dy = tof(dyd, C * nq * M);
	float *dx = fzeros(C * nq * M);
	mn_relu_forward(y, x, C * M);
	mn_relu_backward(dx, dy, y, C, nq, M, 0);
	int bad = 0;
	for (int c = 0; c < C; c++)
		for (int q = 0; q < nq; q++)
			for (size_t i = 0; i < M; i++) {
				float want = x[c * M + i] > 0 ? dy[(c * nq + q) * M + i] : 0;
				bad += dx[(c * nq + q) * M + i] != want;
			}
	tap_ok(bad == 0, "ReLU backward broadcasts the mask over queries (%d bad)", bad);
	free(xd), free(dyd), free(x), free(y), free(dy), free(dx);
}

struct lin_ctx {
	int out, in, n;
	double *w, *b, *x, *y, *r;
};

static double lin_loss(void *vc)
{
	struct lin_ctx *c = vc;
	ref_linear_forward(c->y, c->x, c->w, c->b, c->n, c->in, c->out);
	return dot(c->y, c->r, (size_t)c->n * c->out);
}

static void test_linear(int out, int in, int n)
{
	struct lin_ctx c = {out, in, n, vec((size_t)out * in), vec(out), vec((size_t)n * in),
			    zeros((size_t)n * out), vec((size_t)n * out)};
	double *dx = zeros((size_t)n * in), *dw = zeros((size_t)out * in), *db = zeros(out);
	double *ndx = zeros((size_t)n * in), *ndw = zeros((size_t)out * in), *ndb = zeros(out);
	lin_loss(&c);
	ref_linear_backward(dx, dw, db, c.r, c.x, c.w, n, in, out);
	numgrad(lin_loss, &c, c.x, (size_t)n * in, ndx);
	numgrad(lin_loss, &c, c.w, (size_t)out * in, ndw);
	numgrad(lin_loss, &c, c.b, out, ndb);
	double efd = fmax(rel(dx, ndx, (size_t)n * in), fmax(rel(dw, ndw, (size_t)out * in), rel(db, ndb, out)));
	lin_loss(&c);
	/* float layout: x [in][n], y [out][n] (features by samples) */
	float *xf = to_cnhw(c.x, n, in, 1), *wf = tof(c.w, (size_t)out * in), *bf = tof(c.b, out);
	float *yf = fzeros((size_t)n * out), *rf = to_cnhw(c.r, n, out, 1);
	float *dxf = fzeros((size_t)n * in), *dwf = fzeros((size_t)out * in), *dbf = fzeros(out);
	mn_linear_forward(yf, wf, bf, xf, out, in, n);
	mn_linear_backward_data(dxf, wf, rf, out, in, n, 0);
	mn_linear_backward_params(dwf, dbf, rf, xf, out, in, n, 0);
	double *y2 = from_cnhw(yf, n, out, 1), *dx2 = from_cnhw(dxf, n, in, 1);
	double ef = rel(y2, c.y, (size_t)n * out);
	double eb = fmax(rel(dx2, dx, (size_t)n * in), fmax(relf(dwf, dw, (size_t)out * in), relf(dbf, db, out)));
	tap_ok(efd < TOL_FD && ef < TOL_F && eb < TOL_F,
	       "linear %d->%d x%d: reference vs FD %.1e; float forward %.1e, backward %.1e", in, out,
	       n, efd, ef, eb);
	free(c.w), free(c.b), free(c.x), free(c.y), free(c.r), free(dx), free(dw), free(db);
	free(ndx), free(ndw), free(ndb), free(xf), free(wf), free(bf), free(yf), free(rf), free(dxf);
	free(dwf), free(dbf), free(y2), free(dx2);
}

static void test_add_layout(void)
{
	size_t n = 50;
	double *ad = vec(n), *bd = vec(n);
	float *a = tof(ad, n), *b = tof(bd, n), *y = fzeros(n);
	mn_add(y, a, b, n);
	int bad = 0;
	for (size_t i = 0; i < n; i++)
		bad += y[i] != a[i] + b[i];
	mn_axpy(y, 0.5f, a, n);
	for (size_t i = 0; i < n; i++)
		bad += y[i] != (a[i] + b[i]) + 0.5f * a[i];
	tap_ok(bad == 0, "add and axpy (%d bad)", bad);
	int nn = 3, c = 4, hw = 5;
	double *src = vec((size_t)nn * c * hw);
	float *sf = tof(src, (size_t)nn * c * hw), *dst = fzeros((size_t)nn * c * hw);
	mn_nchw_to_cnhw(dst, sf, nn, c, hw);
	bad = 0;
	for (int i = 0; i < nn; i++)
		for (int j = 0; j < c; j++)
			for (int k = 0; k < hw; k++)
				bad += dst[(j * nn + i) * hw + k] != sf[(i * c + j) * hw + k];
	tap_ok(bad == 0, "NCHW -> CNHW layout conversion (%d bad)", bad);
	free(ad), free(bd), free(a), free(b), free(y), free(src), free(sf), free(dst);
}

int main(void)
{
	mn_rng_seed(&rng, 12345);
	test_conv(2, 3, 3, 1, 1, 5, 4, 2);
	test_conv(3, 4, 3, 2, 1, 6, 6, 2);
	test_conv(3, 2, 3, 2, 1, 5, 7, 1);
	test_conv(4, 3, 1, 1, 0, 4, 3, 3);
	test_conv(2, 5, 1, 2, 0, 6, 5, 2);
	test_conv(2, 2, 5, 1, 2, 5, 5, 2);
	test_conv(3, 2, 3, 1, 0, 6, 5, 2);
	test_bn(3, 4, 5);
	test_bn(2, 3, 1);
	test_pointwise(L_RELU, "ReLU", 3, 4, 5);
	test_pointwise(L_POOL3, "avg pool 3x3 s1 p1 (pad excluded)", 3, 5, 4);
	test_pointwise(L_POOL3, "avg pool 3x3 on 1-wide planes", 2, 1, 3);
	test_pointwise(L_POOL2, "avg pool 2x2 s2", 3, 6, 4);
	test_pointwise(L_GAP, "global average pool", 4, 3, 5);
	test_relu_queries();
	test_linear(4, 6, 3);
	test_add_layout();
	return tap_done();
}
