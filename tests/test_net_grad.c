/* Whole networks with mixed edges: the backward against central finite
 * differences over every parameter, in double precision; plus the
 * structural facts the search relies on (init independent of the mask,
 * inactive ops contribute nothing, mean over active ops). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/net.h"
#include "util/rng.h"
#include "tap.h"

#define FD_H 1e-6
#define TOL 1e-4

struct ctx {
	struct mn_net_d *net;
	double *x, *r, *logits;
	int B, classes;
};

static double loss(struct ctx *c)
{
	if (mn_net_forward_d(c->net, c->x, c->B, c->logits) != 0) {
		printf("Bail out! forward failed\n");
		exit(1);
	}
	double s = 0;
	for (int i = 0; i < c->B * c->classes; i++)
		s += c->logits[i] * c->r[i];
	return s;
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p) {
		printf("Bail out! out of memory\n");
		exit(1);
	}
	return p;
}

static double *randv(struct mn_rng *rng, size_t n)
{
	double *v = xmalloc(sizeof(double) * n);
	for (size_t i = 0; i < n; i++)
		v[i] = mn_rng_normal(rng);
	return v;
}

/* FD check of every parameter; returns the max-norm relative error. */
static double check_net(struct mn_net_d *net, int B, uint64_t seed, int freeze, size_t *nz)
{
	const struct mn_net_config *cfg = mn_net_get_config_d(net);
	struct mn_rng rng;
	mn_rng_seed(&rng, seed);
	size_t in = (size_t)cfg->in_channels * cfg->H * cfg->W;
	struct ctx c = {net, randv(&rng, in * B), randv(&rng, (size_t)B * cfg->classes),
			xmalloc(sizeof(double) * B * cfg->classes), B, cfg->classes};
	size_t P = mn_net_param_count_d(net);
	double *p = mn_net_params_d(net), *g = xmalloc(sizeof(double) * P);
	mn_net_freeze_bn_d(net, 0);
	loss(&c);
	if (freeze) {
		mn_net_freeze_bn_d(net, 1);
		loss(&c);
	}
	if (mn_net_backward_d(net, c.r, g) != 0) {
		printf("Bail out! backward failed\n");
		exit(1);
	}
	double err = 0, gmax = 1e-300;
	*nz = 0;
	for (size_t i = 0; i < P; i++) {
		double s = p[i];
		p[i] = s + FD_H;
		double lp = loss(&c);
		p[i] = s - FD_H;
		double lm = loss(&c);
		p[i] = s;
		double num = (lp - lm) / (2 * FD_H);
		err = fmax(err, fabs(num - g[i]));
		gmax = fmax(gmax, fabs(num));
		*nz += g[i] != 0;
	}
	mn_net_freeze_bn_d(net, 0);
	free(c.x);
	free(c.r);
	free(c.logits);
	free(g);
	return err / gmax;
}

static struct mn_net_d *make(const struct mn_net_config *cfg, const unsigned char *mask,
			     uint64_t seed, enum mn_init_mode mode)
{
	struct mn_net_d *net = mn_net_create_d(cfg);
	if (!net || mn_net_set_mask_d(net, mask) != 0) {
		printf("Bail out! cannot create network\n");
		exit(1);
	}
	struct mn_rng rng;
	mn_rng_seed(&rng, seed);
	mn_net_init_d(net, &rng, mode);
	return net;
}


/* ------------------------------------------------------------------------
 * A naive reference forward: NCHW, one op at a time, parameters read in the
 * canonical order documented in net.h. */

struct t4 {
	int n, c, h, w;
	double *v;
};

static struct t4 t4_new(int n, int c, int h, int w)
{
	struct t4 t = {n, c, h, w, xmalloc(sizeof(double) * n * c * h * w)};
	memset(t.v, 0, sizeof(double) * n * c * h * w);
	return t;
}

#define AT(t, i, j, y, x) ((t).v[(((size_t)(i) * (t).c + (j)) * (t).h + (y)) * (t).w + (x)])

static const double *rp; /* parameter cursor */

static const double *next(size_t n)
{
	const double *p = rp;
	rp += n;
	return p;
}

static struct t4 r_conv(struct t4 x, const double *w, int cout, int k, int s)
{
	int p = k / 2, oh = (x.h + 2 * p - k) / s + 1, ow = (x.w + 2 * p - k) / s + 1;
	struct t4 y = t4_new(x.n, cout, oh, ow);
	for (int i = 0; i < x.n; i++)
		for (int o = 0; o < cout; o++)
			for (int a = 0; a < oh; a++)
				for (int b = 0; b < ow; b++) {
					double acc = 0;
					for (int c = 0; c < x.c; c++)
						for (int u = 0; u < k; u++)
							for (int v = 0; v < k; v++) {
								int yy = a * s - p + u, xx = b * s - p + v;
								if (yy >= 0 && xx >= 0 && yy < x.h && xx < x.w)
									acc += w[((o * x.c + c) * k + u) * k + v] *
									       AT(x, i, c, yy, xx);
							}
					AT(y, i, o, a, b) = acc;
				}
	return y;
}

static void r_bn(struct t4 x, const double *g, const double *b)
{
	for (int c = 0; c < x.c; c++) {
		double m = 0, v = 0, M = (double)x.n * x.h * x.w;
		for (int i = 0; i < x.n; i++)
			for (int a = 0; a < x.h; a++)
				for (int bb = 0; bb < x.w; bb++)
					m += AT(x, i, c, a, bb);
		m /= M;
		for (int i = 0; i < x.n; i++)
			for (int a = 0; a < x.h; a++)
				for (int bb = 0; bb < x.w; bb++)
					v += (AT(x, i, c, a, bb) - m) * (AT(x, i, c, a, bb) - m);
		v /= M;
		for (int i = 0; i < x.n; i++)
			for (int a = 0; a < x.h; a++)
				for (int bb = 0; bb < x.w; bb++)
					AT(x, i, c, a, bb) =
						g[c] * (AT(x, i, c, a, bb) - m) / sqrt(v + 1e-5) + b[c];
	}
}

static struct t4 r_relu(struct t4 x)
{
	struct t4 y = t4_new(x.n, x.c, x.h, x.w);
	for (size_t i = 0; i < (size_t)x.n * x.c * x.h * x.w; i++)
		y.v[i] = x.v[i] > 0 ? x.v[i] : 0;
	return y;
}

static struct t4 r_relu_conv_bn(struct t4 x, int cout, int k, int s)
{
	const double *w = next((size_t)cout * x.c * k * k);
	const double *g = next(cout), *b = next(cout);
	struct t4 r = r_relu(x), y = r_conv(r, w, cout, k, s);
	r_bn(y, g, b);
	free(r.v);
	return y;
}

static void r_axpy(struct t4 y, double s, struct t4 x)
{
	for (size_t i = 0; i < (size_t)x.n * x.c * x.h * x.w; i++)
		y.v[i] += s * x.v[i];
}

static struct t4 r_pool3(struct t4 x)
{
	struct t4 y = t4_new(x.n, x.c, x.h, x.w);
	for (int i = 0; i < x.n; i++)
		for (int c = 0; c < x.c; c++)
			for (int a = 0; a < x.h; a++)
				for (int b = 0; b < x.w; b++) {
					double s = 0;
					int cnt = 0;
					for (int u = -1; u <= 1; u++)
						for (int v = -1; v <= 1; v++)
							if (a + u >= 0 && a + u < x.h && b + v >= 0 &&
							    b + v < x.w) {
								s += AT(x, i, c, a + u, b + v);
								cnt++;
							}
					AT(y, i, c, a, b) = s / cnt;
				}
	return y;
}

static struct t4 r_cell(struct t4 x, const unsigned char *mask)
{
	struct t4 nd[4];
	nd[0] = x;
	for (int i = 1; i < 4; i++)
		nd[i] = t4_new(x.n, x.c, x.h, x.w);
	/* parameters are stored per edge in string order, but node i needs
	 * node j < i complete: read each edge's parameters first */
	const double *base[MN_EDGES];
	size_t c = (size_t)x.c;
	for (int e = 0; e < MN_EDGES; e++) {
		base[e] = rp;
		rp += c * c + 2 * c + 9 * c * c + 2 * c;
	}
	const double *end = rp;
	for (int i = 1; i < 4; i++)
		for (int j = 0; j < i; j++) {
			int e = mn_edge_index(i, j), k = __builtin_popcount(mask[e]);
			for (int op = 0; op < MN_OP_COUNT; op++) {
				if (!((mask[e] >> op) & 1))
					continue;
				struct t4 y;
				if (op == MN_OP_NONE)
					continue;
				if (op == MN_OP_SKIP) {
					r_axpy(nd[i], 1.0 / k, nd[j]);
					continue;
				}
				if (op == MN_OP_POOL3)
					y = r_pool3(nd[j]);
				else {
					rp = base[e] + (op == MN_OP_CONV3 ? c * c + 2 * c : 0);
					y = r_relu_conv_bn(nd[j], x.c, op == MN_OP_CONV3 ? 3 : 1, 1);
				}
				r_axpy(nd[i], 1.0 / k, y);
				free(y.v);
			}
		}
	rp = end;
	free(nd[1].v);
	free(nd[2].v);
	return nd[3];
}

static double ref_compare(struct mn_net_d *net, int B, uint64_t seed)
{
	const struct mn_net_config *cfg = mn_net_get_config_d(net);
	unsigned char mask[MN_EDGES];
	mn_net_get_mask_d(net, mask);
	struct mn_rng rng;
	mn_rng_seed(&rng, seed);
	size_t in = (size_t)cfg->in_channels * cfg->H * cfg->W;
	struct t4 x = t4_new(B, cfg->in_channels, cfg->H, cfg->W);
	for (size_t i = 0; i < in * B; i++)
		x.v[i] = mn_rng_normal(&rng);
	double *logits = xmalloc(sizeof(double) * B * cfg->classes);
	mn_net_forward_d(net, x.v, B, logits);

	rp = mn_net_params_d(net);
	struct t4 h = x, t;
	int C = cfg->C;
	if (!cfg->thin) {
		const double *w = next((size_t)C * cfg->in_channels * 9);
		const double *g = next(C), *b = next(C);
		h = r_conv(x, w, C, 3, 1);
		r_bn(h, g, b);
	} else {
		h = t4_new(B, x.c, x.h, x.w);
		memcpy(h.v, x.v, sizeof(double) * in * B);
	}
	int stages = cfg->thin ? 1 : 3;
	for (int s = 0; s < stages; s++) {
		for (int i = 0; i < cfg->N; i++) {
			t = r_cell(h, mask);
			free(h.v);
			h = t;
		}
		if (s + 1 < stages) {
			int c2 = 2 * h.c;
			struct t4 a = r_relu_conv_bn(h, c2, 3, 2);
			struct t4 b = r_relu_conv_bn(a, c2, 3, 1);
			struct t4 p = t4_new(B, h.c, h.h / 2, h.w / 2);
			for (int n = 0; n < B; n++)
				for (int c = 0; c < h.c; c++)
					for (int y = 0; y < p.h; y++)
						for (int z = 0; z < p.w; z++)
							AT(p, n, c, y, z) =
								0.25 * (AT(h, n, c, 2 * y, 2 * z) +
									AT(h, n, c, 2 * y, 2 * z + 1) +
									AT(h, n, c, 2 * y + 1, 2 * z) +
									AT(h, n, c, 2 * y + 1, 2 * z + 1));
			struct t4 sc = r_conv(p, next((size_t)c2 * h.c), c2, 1, 1);
			r_axpy(b, 1, sc);
			free(a.v);
			free(p.v);
			free(sc.v);
			free(h.v);
			h = b;
		}
	}
	const double *g = next(h.c), *bb = next(h.c);
	r_bn(h, g, bb);
	t = r_relu(h);
	const double *W = next((size_t)cfg->classes * h.c), *bias = next(cfg->classes);
	double d = 0;
	for (int n = 0; n < B; n++)
		for (int o = 0; o < cfg->classes; o++) {
			double acc = bias[o];
			for (int c = 0; c < t.c; c++) {
				double m = 0;
				for (int y = 0; y < t.h; y++)
					for (int z = 0; z < t.w; z++)
						m += AT(t, n, c, y, z);
				acc += W[o * t.c + c] * m / (t.h * t.w);
			}
			d = fmax(d, fabs(acc - logits[n * cfg->classes + o]));
		}
	int used_all = rp == mn_net_params_d(net) + mn_net_param_count_d(net);
	free(h.v);
	free(t.v);
	free(x.v);
	free(logits);
	return used_all ? d : INFINITY;
}

#define B(op) (1u << MN_OP_##op)

int main(void)
{
	struct mn_net_config cfg;
	size_t nz;

	/* every op kind, none counted in the mean, an edge with nothing active */
	const unsigned char mixed[MN_EDGES] = {B(CONV3) | B(SKIP), B(CONV1) | B(POOL3) | B(NONE),
					       B(CONV3) | B(CONV1) | B(POOL3) | B(SKIP),
					       B(SKIP) | B(POOL3), B(CONV1), B(CONV3) | B(NONE)};
	mn_net_config_eval(&cfg, 2, 1, 8, 3);
	struct mn_net_d *net = make(&cfg, mixed, 1, MN_INIT_CODE);
	double e = check_net(net, 3, 11, 0, &nz);
	tap_ok(e < TOL, "full network C2 N1 8x8, mixed edges, batch 3: rel err %.1e over %zu params "
			"(%zu nonzero)",
	       e, mn_net_param_count_d(net), nz);
	e = check_net(net, 3, 12, 1, &nz);
	tap_ok(e < TOL, "same network with BN statistics frozen: rel err %.1e", e);
	mn_net_free_d(net);

	/* edges with no active op contribute nothing (node 1 is then zero) */
	const unsigned char sparse[MN_EDGES] = {0, B(CONV3), 0, B(SKIP) | B(CONV1), 0, B(POOL3)};
	mn_net_config_eval(&cfg, 2, 1, 8, 3);
	net = make(&cfg, sparse, 6, MN_INIT_CODE);
	e = check_net(net, 3, 16, 0, &nz);
	double d = ref_compare(net, 3, 17);
	tap_ok(e < TOL && d < 1e-10, "edges with no active op: rel err %.1e, forward vs reference %.1e",
	       e, d);
	mn_net_free_d(net);

	const unsigned char all[MN_EDGES] = {MN_MASK_ALL, MN_MASK_ALL, MN_MASK_ALL,
					     MN_MASK_ALL, MN_MASK_ALL, MN_MASK_ALL};
	mn_net_config_eval(&cfg, 1, 1, 4, 2);
	cfg.in_channels = 2;
	net = make(&cfg, all, 2, MN_INIT_PAPER);
	e = check_net(net, 4, 13, 0, &nz);
	tap_ok(e < TOL, "supernet C1 4x4 (1x1 planes in stage 3), all five ops, paper init: rel err %.1e",
	       e);
	mn_net_free_d(net);

	struct mn_arch a;
	mn_arch_parse("|nor_conv_3x3~0|+|skip_connect~0|avg_pool_3x3~1|+|nor_conv_1x1~0|nor_conv_3x3~1|"
		      "skip_connect~2|",
		      &a, NULL);
	unsigned char m[MN_EDGES];
	mn_arch_to_mask(&a, m);
	mn_net_config_eval(&cfg, 2, 2, 8, 4);
	net = make(&cfg, m, 3, MN_INIT_CODE);
	e = check_net(net, 2, 14, 0, &nz);
	tap_ok(e < TOL, "single arch C2 N2 8x8, batch 2: rel err %.1e (%zu params)", e,
	       mn_net_param_count_d(net));
	mn_net_free_d(net);

	mn_net_config_thin(&cfg);
	const unsigned char sup[MN_EDGES] = {MN_MASK_NO_NONE, MN_MASK_NO_NONE, MN_MASK_NO_NONE,
					     MN_MASK_NO_NONE, MN_MASK_NO_NONE, MN_MASK_NO_NONE};
	net = make(&cfg, sup, 4, MN_INIT_PAPER);
	e = check_net(net, 6, 15, 0, &nz);
	tap_ok(e < TOL, "thin network (no stem, C1, 3x3), batch 6: rel err %.1e (%zu params)", e,
	       mn_net_param_count_d(net));
	mn_net_free_d(net);

	/* init fills all parameters whatever the mask */
	mn_net_config_ntk(&cfg);
	struct mn_net *f1 = mn_net_create(&cfg), *f2 = mn_net_create(&cfg);
	struct mn_rng r1, r2;
	mn_rng_seed(&r1, 77);
	mn_rng_seed(&r2, 77);
	mn_net_set_mask(f2, m);
	mn_net_init(f1, &r1, MN_INIT_CODE);
	mn_net_init(f2, &r2, MN_INIT_CODE);
	size_t P = mn_net_param_count(f1);
	tap_ok(memcmp(mn_net_params(f1), mn_net_params(f2), sizeof(float) * P) == 0,
	       "same seed, different masks: identical parameters (%zu)", P);
	/* G columns: every parameter but BN betas and the linear bias; the
	 * supernet has 2*(3 + 6*2*(3+6+12) + 6+6+12+12 + 12) BN vectors */
	size_t betas = 3 + 6 * 2 * (3 + 6 + 12) + 6 + 6 + 12 + 12 + 12;
	size_t w1 = mn_net_grad_width(f1), w2 = mn_net_grad_width(f2);
	tap_ok(w1 == P - betas - 10 && w2 < w1,
	       "G width: supernet %zu = params - betas - bias, single arch %zu", w1, w2);
	{
		size_t *idx = malloc(sizeof(size_t) * w1);
		int mono = idx != NULL;
		if (idx) {
			mn_net_grad_param_index(f1, idx);
			for (size_t i = 1; i < w1; i++)
				mono &= idx[i] > idx[i - 1];
		}
		tap_ok(mono, "G columns follow canonical parameter order");
		free(idx);
	}

	/* forward semantics against the naive reference */
	{
		const unsigned char *masks[3] = {mixed, all, m};
		const char *what[3] = {"mixed edges", "all five ops", "single arch"};
		for (int t = 0; t < 3; t++) {
			mn_net_config_eval(&cfg, 2, t == 2 ? 2 : 1, 8, 3);
			struct mn_net_d *n = make(&cfg, masks[t], 20 + t, MN_INIT_CODE);
			double d = ref_compare(n, 3, 30 + t);
			tap_ok(d < 1e-10, "forward matches the naive NCHW reference (%s, N%d): %.1e",
			       what[t], cfg.N, d);
			mn_net_free_d(n);
		}
		mn_net_config_thin(&cfg);
		struct mn_net_d *n = make(&cfg, mixed, 40, MN_INIT_PAPER);
		double d = ref_compare(n, 7, 41);
		tap_ok(d < 1e-10, "thin network forward matches the reference: %.1e", d);
		mn_net_free_d(n);
	}
	mn_net_free(f1);
	mn_net_free(f2);

	char msg[160];
	cfg.thin = 0;
	cfg.H = 30;
	tap_ok(mn_net_config_check(&cfg, msg, sizeof msg) == -1 && strstr(msg, "multiple of 4") &&
		       mn_net_create(&cfg) == NULL,
	       "bad config refused with a reason: %s", msg);
	return tap_done();
}
