/* Layers: forward against naive reference loops, backward against central
 * finite differences, all in double precision (the _d build). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/nn_layers.h"
#include "util/rng.h"
#include "tap.h"

#define FD_H 1e-6
#define TOL 1e-4

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

/* max |a - b| / max(max |b|, tiny) */
static double relerr(const double *a, const double *b, size_t n)
{
	double e = 0, m = 1e-300;
	for (size_t i = 0; i < n; i++) {
		if (fabs(a[i] - b[i]) > e)
			e = fabs(a[i] - b[i]);
		if (fabs(b[i]) > m)
			m = fabs(b[i]);
	}
	return e / m;
}

typedef double (*loss_fn)(void *ctx);

/* Central differences of loss() with respect to p[0..n-1]. */
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

static double dot(const double *a, const double *b, size_t n)
{
	double s = 0;
	for (size_t i = 0; i < n; i++)
		s += a[i] * b[i];
	return s;
}

/* ------------------------------------------------------------------ conv */

struct conv_ctx {
	struct mn_conv_geom g;
	int nb;
	double *x, *w, *r, *y, *col;
};

static double conv_loss(void *vc)
{
	struct conv_ctx *c = vc;
	mn_conv_forward_d(c->y, c->w, c->x, &c->g, c->nb, c->col, 0);
	return dot(c->y, c->r, (size_t)c->g.cout * c->nb * c->g.oh * c->g.ow);
}

static void naive_conv(double *y, const double *w, const double *x, const struct mn_conv_geom *g,
		       int nb)
{
	for (int co = 0; co < g->cout; co++)
		for (int n = 0; n < nb; n++)
			for (int oy = 0; oy < g->oh; oy++)
				for (int ox = 0; ox < g->ow; ox++) {
					double s = 0;
					for (int ci = 0; ci < g->cin; ci++)
						for (int ky = 0; ky < g->k; ky++)
							for (int kx = 0; kx < g->k; kx++) {
								int iy = oy * g->stride - g->pad + ky;
								int ix = ox * g->stride - g->pad + kx;
								if (iy < 0 || ix < 0 || iy >= g->h || ix >= g->w)
									continue;
								s += w[((co * g->cin + ci) * g->k + ky) * g->k + kx] *
								     x[((size_t)ci * nb + n) * g->h * g->w +
								       (size_t)iy * g->w + ix];
							}
					y[(((size_t)co * nb + n) * g->oh + oy) * g->ow + ox] = s;
				}
}

static void test_conv(int cin, int cout, int k, int s, int p, int h, int w, int nb)
{
	struct conv_ctx c;
	if (mn_conv_geom_init(&c.g, cin, cout, k, s, p, h, w) != 0) {
		tap_ok(0, "conv geometry %d->%d k%d s%d p%d %dx%d", cin, cout, k, s, p, h, w);
		return;
	}
	int ckk = mn_conv_ckk(&c.g);
	size_t nx = (size_t)cin * nb * h * w, ny = (size_t)cout * nb * c.g.oh * c.g.ow;
	size_t nw = (size_t)cout * ckk, ncol = (size_t)ckk * nb * c.g.oh * c.g.ow;
	c.nb = nb;
	c.x = vec(nx);
	c.w = vec(nw);
	c.r = vec(ny);
	c.y = zeros(ny);
	c.col = zeros(ncol);
	double *ref = zeros(ny), *dx = zeros(nx), *dw = zeros(nw), *nx_ = zeros(nx),
	       *nw_ = zeros(nw);

	conv_loss(&c);
	naive_conv(ref, c.w, c.x, &c.g, nb);
	double ef = relerr(c.y, ref, ny);

	/* small slabs to exercise the slab loop: one image's dcol at a time */
	double *dcol = zeros(ncol);
	mn_conv_backward_data_d(dx, c.w, c.r, &c.g, nb, dcol, (size_t)ckk * c.g.oh * c.g.ow);
	conv_loss(&c);
	const double *colm = mn_conv_is_pointwise(&c.g) ? c.x : c.col;
	mn_wgrad_sum_d(dw, c.r, (size_t)nb * c.g.oh * c.g.ow, colm, (size_t)nb * c.g.oh * c.g.ow,
		       cout, nb * c.g.oh * c.g.ow, ckk, 0);
	numgrad(conv_loss, &c, c.x, nx, nx_);
	numgrad(conv_loss, &c, c.w, nw, nw_);
	double ex = relerr(dx, nx_, nx), ew = relerr(dw, nw_, nw);
	tap_ok(ef < 1e-12 && ex < TOL && ew < TOL,
	       "conv %d->%d k%d s%d p%d %dx%d nb%d: forward vs naive %.1e, dx %.1e, dw %.1e", cin,
	       cout, k, s, p, h, w, nb, ef, ex, ew);

	/* per-sample and per-query weight gradients against the summed one */
	int ohw = c.g.oh * c.g.ow, nq = 3;
	double *ps = zeros((size_t)nb * nw), *one = zeros(nw);
	mn_wgrad_per_sample_d(ps, c.r, colm, (size_t)nb * ohw, cout, nb, ohw, ckk);
	double eps = 0;
	for (int n = 0; n < nb; n++) {
		/* sample n alone: cotangent zero elsewhere */
		double *rn = zeros(ny);
		for (int co = 0; co < cout; co++)
			memcpy(rn + ((size_t)co * nb + n) * ohw, c.r + ((size_t)co * nb + n) * ohw,
			       sizeof(double) * ohw);
		mn_wgrad_sum_d(one, rn, (size_t)nb * ohw, colm, (size_t)nb * ohw, cout, nb * ohw, ckk,
			       0);
		double e = relerr(ps + (size_t)n * nw, one, nw);
		if (e > eps)
			eps = e;
		free(rn);
	}
	double *dyq = vec((size_t)cout * nq * nb * ohw), *pq = zeros((size_t)nq * nw);
	mn_wgrad_per_query_d(pq, dyq, colm, (size_t)nb * ohw, cout, nq, nb * ohw, ckk);
	double eq = 0;
	for (int q = 0; q < nq; q++) {
		mn_wgrad_sum_d(one, dyq + (size_t)q * nb * ohw, (size_t)nq * nb * ohw, colm,
			       (size_t)nb * ohw, cout, nb * ohw, ckk, 0);
		for (int co = 0; co < cout; co++)
			for (int i = 0; i < ckk; i++) {
				double d = fabs(pq[((size_t)co * nq + q) * ckk + i] - one[co * ckk + i]);
				if (d > eq)
					eq = d;
			}
	}
	tap_ok(eps < 1e-12 && eq < 1e-12,
	       "conv %d->%d k%d s%d: per-sample (%.1e) and per-query (%.1e) weight gradients", cin,
	       cout, k, s, eps, eq);
	free(ps);
	free(one);
	free(dyq);
	free(pq);
	free(dcol);
	free(c.x);
	free(c.w);
	free(c.r);
	free(c.y);
	free(c.col);
	free(ref);
	free(dx);
	free(dw);
	free(nx_);
	free(nw_);
}

/* -------------------------------------------------------------------- BN */

struct bn_ctx {
	int C, nb, hw, frozen;
	double *x, *gamma, *beta, *r, *xhat, *mean, *rstd, *y;
};

static double bn_loss(void *vc)
{
	struct bn_ctx *c = vc;
	size_t M = (size_t)c->nb * c->hw;
	if (!c->frozen)
		mn_bn_stats_d(c->mean, c->rstd, c->x, c->C, M);
	mn_bn_normalize_d(c->xhat, c->x, c->mean, c->rstd, c->C, M);
	mn_bn_affine_d(c->y, c->xhat, c->gamma, c->beta, c->C, M, 1, 0);
	return dot(c->y, c->r, (size_t)c->C * M);
}

static void test_bn(int C, int nb, int hw)
{
	struct bn_ctx c = {C, nb, hw, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL};
	size_t M = (size_t)nb * hw, n = (size_t)C * M;
	c.x = vec(n);
	for (size_t i = 0; i < n; i++)
		c.x[i] = 3 * c.x[i] + 1;
	c.gamma = vec(C);
	c.beta = vec(C);
	c.r = vec(n);
	c.xhat = zeros(n);
	c.mean = zeros(C);
	c.rstd = zeros(C);
	c.y = zeros(n);
	bn_loss(&c);

	/* statistics: mean and biased variance */
	double es = 0;
	for (int ch = 0; ch < C; ch++) {
		double m = 0, v = 0;
		for (size_t i = 0; i < M; i++)
			m += c.x[ch * M + i];
		m /= M;
		for (size_t i = 0; i < M; i++)
			v += (c.x[ch * M + i] - m) * (c.x[ch * M + i] - m);
		v /= M;
		double e = fabs(c.mean[ch] - m) + fabs(c.rstd[ch] - 1 / sqrt(v + MN_BN_EPS));
		if (e > es)
			es = e;
	}
	tap_ok(es < 1e-12, "BN %dx%d: batch mean and biased variance (%.1e)", C, (int)M, es);

	double *dx = zeros(n), *dg = zeros(C), *db = zeros(C), *ndx = zeros(n), *ndg = zeros(C),
	       *ndb = zeros(C);
	mn_bn_backward_d(dx, dg, db, 0, c.r, 1, c.xhat, c.rstd, c.gamma, C, 1, nb, hw, 1, 0);
	numgrad(bn_loss, &c, c.x, n, ndx);
	numgrad(bn_loss, &c, c.gamma, C, ndg);
	numgrad(bn_loss, &c, c.beta, C, ndb);
	double ex = relerr(dx, ndx, n), eg = relerr(dg, ndg, C), eb = relerr(db, ndb, C);
	tap_ok(ex < TOL && eg < TOL && eb < TOL,
	       "BN train mode C%d nb%d hw%d: dx %.1e, dgamma %.1e, dbeta %.1e", C, nb, hw, ex, eg,
	       eb);

	/* queries: dy [C][2][M], each query's dx and dgamma is its own loss's */
	int nq = 2;
	double *rq = vec((size_t)C * nq * M), *dxq = zeros((size_t)C * nq * M),
	       *dgq = zeros((size_t)nq * C);
	double scale = 0.37;
	mn_bn_backward_d(dxq, dgq, NULL, (size_t)C, rq, scale, c.xhat, c.rstd, c.gamma, C, nq, nb, hw,
			 1, 0);
	double eqx = 0, eqg = 0;
	double *save = c.r;
	for (int q = 0; q < nq; q++) {
		double *rr = zeros(n);
		for (int ch = 0; ch < C; ch++)
			for (size_t i = 0; i < M; i++)
				rr[ch * M + i] = scale * rq[((size_t)ch * nq + q) * M + i];
		c.r = rr;
		numgrad(bn_loss, &c, c.x, n, ndx);
		numgrad(bn_loss, &c, c.gamma, C, ndg);
		double *got = zeros(n);
		for (int ch = 0; ch < C; ch++)
			memcpy(got + ch * M, dxq + ((size_t)ch * nq + q) * M, sizeof(double) * M);
		double e1 = relerr(got, ndx, n), e2 = relerr(dgq + (size_t)q * C, ndg, C);
		if (e1 > eqx)
			eqx = e1;
		if (e2 > eqg)
			eqg = e2;
		free(rr);
		free(got);
	}
	c.r = save;
	tap_ok(eqx < TOL && eqg < TOL, "BN with 2 queries and scale: dx %.1e, dgamma %.1e", eqx, eqg);

	/* statistics as constants: the decoupled backward */
	c.frozen = 1;
	bn_loss(&c);
	mn_bn_backward_d(dx, dg, db, 0, c.r, 1, c.xhat, c.rstd, c.gamma, C, 1, nb, hw, 0, 0);
	numgrad(bn_loss, &c, c.x, n, ndx);
	numgrad(bn_loss, &c, c.gamma, C, ndg);
	ex = relerr(dx, ndx, n);
	eg = relerr(dg, ndg, C);
	/* per-sample dgamma sums to the total */
	double *dgs = zeros((size_t)nb * C), *dbs = zeros((size_t)nb * C), es2 = 0;
	mn_bn_backward_d(dx, dgs, dbs, (size_t)C, c.r, 1, c.xhat, c.rstd, c.gamma, C, 1, nb, hw, 0, 1);
	for (int ch = 0; ch < C; ch++) {
		double s = 0, sb = 0;
		for (int i = 0; i < nb; i++) {
			s += dgs[i * C + ch];
			sb += dbs[i * C + ch];
		}
		es2 = fmax(es2, fabs(s - dg[ch]) + fabs(sb - db[ch]));
	}
	tap_ok(ex < TOL && eg < TOL && es2 < 1e-10,
	       "BN with constant statistics: dx %.1e, dgamma %.1e, per-sample sums %.1e", ex, eg, es2);
	c.frozen = 0;

	free(rq);
	free(dxq);
	free(dgq);
	free(dgs);
	free(dbs);
	free(dx);
	free(dg);
	free(db);
	free(ndx);
	free(ndg);
	free(ndb);
	free(c.x);
	free(c.gamma);
	free(c.beta);
	free(c.r);
	free(c.xhat);
	free(c.mean);
	free(c.rstd);
	free(c.y);
}

/* ------------------------------------------------ simple element-wise layers */

enum { L_RELU, L_POOL3, L_POOL2, L_GAP };

struct pw_ctx {
	int kind, planes, h, w;
	double scale;
	double *x, *y, *r;
	size_t ny;
};

static double pw_loss(void *vc)
{
	struct pw_ctx *c = vc;
	size_t n = (size_t)c->planes * c->h * c->w;
	switch (c->kind) {
	case L_RELU:
		mn_relu_forward_d(c->y, c->x, n);
		break;
	case L_POOL3:
		mn_avgpool3_forward_d(c->y, c->x, c->planes, c->h, c->w, c->scale, 0);
		break;
	case L_POOL2:
		mn_avgpool2_forward_d(c->y, c->x, c->planes, c->h, c->w);
		break;
	case L_GAP:
		mn_gap_forward_d(c->y, c->x, c->planes, c->h * c->w);
		break;
	}
	return dot(c->y, c->r, c->ny);
}

static void naive_pool3(double *y, const double *x, int planes, int h, int w)
{
	for (int p = 0; p < planes; p++)
		for (int i = 0; i < h; i++)
			for (int j = 0; j < w; j++) {
				double s = 0;
				int cnt = 0;
				for (int a = -1; a <= 1; a++)
					for (int b = -1; b <= 1; b++)
						if (i + a >= 0 && i + a < h && j + b >= 0 && j + b < w) {
							s += x[(size_t)p * h * w + (i + a) * w + j + b];
							cnt++;
						}
				y[(size_t)p * h * w + i * w + j] = s / cnt;
			}
}

static void test_pointwise(int kind, const char *name, int planes, int h, int w)
{
	struct pw_ctx c = {kind, planes, h, w, kind == L_POOL3 ? 0.7 : 1, NULL, NULL, NULL, 0};
	size_t nx = (size_t)planes * h * w;
	c.ny = kind == L_POOL2 ? (size_t)planes * (h / 2) * (w / 2) : kind == L_GAP ? (size_t)planes
										      : nx;
	c.x = vec(nx);
	c.y = zeros(nx);
	c.r = vec(c.ny);
	double *dx = vec(nx), *ndx = zeros(nx), *ref = zeros(nx);
	double ef = 0;
	pw_loss(&c);
	if (kind == L_POOL3) {
		naive_pool3(ref, c.x, planes, h, w);
		for (size_t i = 0; i < nx; i++)
			ref[i] *= c.scale;
		ef = relerr(c.y, ref, nx);
	}
	/* accumulate onto a known base to check the accumulate path too */
	double *base = vec(nx);
	memcpy(dx, base, sizeof(double) * nx);
	switch (kind) {
	case L_RELU:
		mn_relu_backward_d(dx, c.r, c.y, 1, 1, nx, 1);
		break;
	case L_POOL3:
		mn_avgpool3_backward_d(dx, c.r, planes, h, w, c.scale, 1);
		break;
	case L_POOL2:
		mn_avgpool2_backward_d(dx, c.r, planes, h, w, 1);
		break;
	case L_GAP:
		mn_gap_backward_d(dx, c.r, planes, h * w, 1);
		break;
	}
	for (size_t i = 0; i < nx; i++)
		dx[i] -= base[i];
	numgrad(pw_loss, &c, c.x, nx, ndx);
	double e = relerr(dx, ndx, nx);
	tap_ok(e < TOL && ef < 1e-12, "%s %dx%dx%d: dx %.1e, forward vs naive %.1e", name, planes, h, w,
	       e, ef);
	free(base);
	free(c.x);
	free(c.y);
	free(c.r);
	free(dx);
	free(ndx);
	free(ref);
}

static void test_relu_queries(void)
{
	/* the forward mask is broadcast over the queries */
	int C = 3, nq = 4;
	size_t M = 10;
	double *x = vec(C * M), *y = zeros(C * M), *dy = vec(C * nq * M), *dx = zeros(C * nq * M);
	mn_relu_forward_d(y, x, C * M);
	mn_relu_backward_d(dx, dy, y, C, nq, M, 0);
	int bad = 0;
	for (int c = 0; c < C; c++)
		for (int q = 0; q < nq; q++)
			for (size_t i = 0; i < M; i++) {
				double want = x[c * M + i] > 0 ? dy[(c * nq + q) * M + i] : 0;
				bad += dx[(c * nq + q) * M + i] != want;
			}
	tap_ok(bad == 0, "ReLU backward broadcasts the mask over queries (%d bad)", bad);
	free(x);
	free(y);
	free(dy);
	free(dx);
}

/* ---------------------------------------------------------------- linear */

struct lin_ctx {
	int out, in, nb;
	double *w, *b, *x, *y, *r;
};

static double lin_loss(void *vc)
{
	struct lin_ctx *c = vc;
	mn_linear_forward_d(c->y, c->w, c->b, c->x, c->out, c->in, c->nb);
	return dot(c->y, c->r, (size_t)c->out * c->nb);
}

static void test_linear(int out, int in, int nb)
{
	struct lin_ctx c = {out, in, nb, vec((size_t)out * in), vec(out), vec((size_t)in * nb),
			    zeros((size_t)out * nb), vec((size_t)out * nb)};
	double *dx = zeros((size_t)in * nb), *dw = zeros((size_t)out * in), *db = zeros(out);
	double *ndx = zeros((size_t)in * nb), *ndw = zeros((size_t)out * in), *ndb = zeros(out);
	lin_loss(&c);
	double ef = 0;
	for (int o = 0; o < out; o++)
		for (int n = 0; n < nb; n++) {
			double s = c.b[o];
			for (int i = 0; i < in; i++)
				s += c.w[o * in + i] * c.x[i * nb + n];
			ef = fmax(ef, fabs(s - c.y[o * nb + n]));
		}
	mn_linear_backward_data_d(dx, c.w, c.r, out, in, nb, 0);
	mn_linear_backward_params_d(dw, db, c.r, c.x, out, in, nb, 0);
	numgrad(lin_loss, &c, c.x, (size_t)in * nb, ndx);
	numgrad(lin_loss, &c, c.w, (size_t)out * in, ndw);
	numgrad(lin_loss, &c, c.b, out, ndb);
	double ex = relerr(dx, ndx, (size_t)in * nb), ew = relerr(dw, ndw, (size_t)out * in),
	       eb = relerr(db, ndb, out);
	tap_ok(ef < 1e-12 && ex < TOL && ew < TOL && eb < TOL,
	       "linear %d->%d nb%d: forward %.1e, dx %.1e, dw %.1e, db %.1e", in, out, nb, ef, ex, ew,
	       eb);
	free(c.w);
	free(c.b);
	free(c.x);
	free(c.y);
	free(c.r);
	free(dx);
	free(dw);
	free(db);
	free(ndx);
	free(ndw);
	free(ndb);
}

/* ------------------------------------------------------------------- add */

struct add_ctx {
	size_t n;
	double *a, *b, *y, *r;
};

static double add_loss(void *vc)
{
	struct add_ctx *c = vc;
	mn_add_d(c->y, c->a, c->b, c->n);
	mn_axpy_d(c->y, 0.5, c->a, c->n);
	return dot(c->y, c->r, c->n);
}

static void test_add(void)
{
	struct add_ctx c = {50, vec(50), vec(50), zeros(50), vec(50)};
	double *na = zeros(50), *nb = zeros(50), *ga = zeros(50), *gb = zeros(50);
	/* y = a + b + 0.5 a: backward is the cotangent to b and 1.5 times it to a */
	mn_axpy_d(ga, 1.5, c.r, 50);
	mn_axpy_d(gb, 1, c.r, 50);
	numgrad(add_loss, &c, c.a, 50, na);
	numgrad(add_loss, &c, c.b, 50, nb);
	double ea = relerr(ga, na, 50), eb = relerr(gb, nb, 50);
	tap_ok(ea < TOL && eb < TOL, "add and axpy: da %.1e, db %.1e", ea, eb);
	free(c.a);
	free(c.b);
	free(c.y);
	free(c.r);
	free(na);
	free(nb);
	free(ga);
	free(gb);
}

static void test_layout(void)
{
	int n = 3, c = 4, hw = 5;
	double *src = vec((size_t)n * c * hw), *dst = zeros((size_t)n * c * hw);
	mn_nchw_to_cnhw_d(dst, src, n, c, hw);
	int bad = 0;
	for (int i = 0; i < n; i++)
		for (int j = 0; j < c; j++)
			for (int k = 0; k < hw; k++)
				bad += dst[(j * n + i) * hw + k] != src[(i * c + j) * hw + k];
	tap_ok(bad == 0, "NCHW -> CNHW layout conversion (%d bad)", bad);
	free(src);
	free(dst);
}

/* the float build agrees with the double one */
static void test_float_build(void)
{
	struct mn_conv_geom g;
	mn_conv_geom_init(&g, 3, 5, 3, 1, 1, 7, 6);
	int nb = 2, ckk = mn_conv_ckk(&g);
	size_t nx = (size_t)3 * nb * 42, nw = (size_t)5 * ckk, ny = (size_t)5 * nb * 42;
	double *x = vec(nx), *w = vec(nw), *y = zeros(ny), *col = zeros((size_t)ckk * nb * 42);
	float *xf = malloc(sizeof(float) * nx), *wf = malloc(sizeof(float) * nw),
	      *yf = malloc(sizeof(float) * ny), *colf = malloc(sizeof(float) * ckk * nb * 42);
	if (!xf || !wf || !yf || !colf)
		exit(1);
	for (size_t i = 0; i < nx; i++)
		xf[i] = (float)x[i];
	for (size_t i = 0; i < nw; i++)
		wf[i] = (float)w[i];
	mn_conv_forward_d(y, w, x, &g, nb, col, 0);
	mn_conv_forward(yf, wf, xf, &g, nb, colf, 0);
	double e = 0;
	for (size_t i = 0; i < ny; i++)
		e = fmax(e, fabs(y[i] - yf[i]));
	tap_ok(e < 1e-4, "float conv matches double (%.1e)", e);
	free(x);
	free(w);
	free(y);
	free(col);
	free(xf);
	free(wf);
	free(yf);
	free(colf);
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
	test_add();
	test_layout();
	test_float_build();
	return tap_done();
}
