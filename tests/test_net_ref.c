/* The float network (src/nn) against the naive double-precision reference
 * (tests/ref_net.c) with the same weights and inputs: forward logits,
 * parameter gradients, block outputs and their gradients, per-sample
 * gradients in both modes, the G column map, the NTK Gram matrix and
 * condition number, and the activation patterns the linear-region count
 * hashes.  The reference itself is checked against central finite
 * differences, so the chain is: float == reference (to float rounding),
 * reference == d/dparams of its own forward (to FD truncation).
 *
 * Tolerances are relative to the largest entry of the reference's array
 * (max |float - ref| / max |ref|):
 *  - TOL_FWD 1e-5 for logits and block outputs: float keeps ~7 digits;
 *    sums over a few hundred products and up to ~10 BNs in series (each
 *    divides by a batch std of O(1)) lose at most one or two of them
 *    (seen: <= 1.0e-6 on these cases).
 *  - TOL_GRAD 1e-4 for gradients (parameters, blocks, G rows): the
 *    backward repeats the forward's rounding, and train-mode BN's backward
 *    subtracts means of products (cancellation of up to ~1 digit on small
 *    batches); seen <= 3.7e-6.
 *  - TOL_K 1e-4 for the Gram matrix (sums of products of G rows: the G
 *    error, not amplified; seen <= 1.5e-6).
 *  - condition numbers: eigenvalues move by at most ||dK||_2 (Weyl), so
 *    cond's relative error is at most about cond * (||dK|| / lambda_max)
 *    on each end; we allow 2 * cond * TOL_K + 1e-9 (seen <= 3.3e-6).
 *  - patterns: a float activation within rounding of zero may fall on
 *    either side, so a pattern bit may differ only where the reference's
 *    ReLU input is within PAT_MARGIN = 1e-4 (times the layer's largest
 *    activation) of zero; none may differ elsewhere.
 *  - FD of the reference: h = 1e-6 in double, truncation ~h^2 and
 *    rounding ~1e-16/h, so 1e-6 relative. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/blas.h"
#include "nn/net.h"
#include "util/rng.h"
#include "ref_net.h"
#include "tap.h"

#define TOL_FWD 1e-5
#define TOL_GRAD 1e-4
#define TOL_K 1e-4
#define PAT_MARGIN 1e-4
#define FD_H 1e-6
#define TOL_FD 1e-6

#define B(op) (1u << MN_OP_##op)

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p) {
		printf("Bail out! out of memory\n");
		exit(1);
	}
	return p;
}

static void bail(const char *what)
{
	printf("Bail out! %s\n", what);
	exit(1);
}

/* max |a - b| / max |b| over n, a float */
static double relf(const float *a, const double *b, size_t n)
{
	double e = 0, m = 1e-300;
	for (size_t i = 0; i < n; i++) {
		e = fmax(e, fabs(a[i] - b[i]));
		m = fmax(m, fabs(b[i]));
	}
	return e / m;
}

static double reld(const double *a, const double *b, size_t n)
{
	double e = 0, m = 1e-300;
	for (size_t i = 0; i < n; i++) {
		e = fmax(e, fabs(a[i] - b[i]));
		m = fmax(m, fabs(b[i]));
	}
	return e / m;
}

struct pair {
	struct mn_net_config cfg;
	struct mn_net *f;
	struct ref_net *r;
	int Bn;
	float *x;
	double *xd;
	size_t in;
	const char *name;
};

static struct pair make(const char *name, const struct mn_net_config *cfg,
			const unsigned char mask[MN_EDGES], int Bn, uint64_t seed,
			enum mn_init_mode mode)
{
	struct pair p = {*cfg, mn_net_create(cfg), ref_net_create(cfg, mask), Bn, NULL, NULL, 0, name};
	struct mn_rng rng;
	mn_rng_seed(&rng, seed);
	if (!p.f || !p.r || mn_net_set_mask(p.f, mask) != 0)
		bail("create failed");
	mn_net_init(p.f, &rng, mode);
	size_t P = mn_net_param_count(p.f);
	if (P != ref_net_param_count(p.r))
		bail("parameter counts differ");
	for (size_t i = 0; i < P; i++)
		ref_net_params(p.r)[i] = mn_net_params(p.f)[i];
	p.in = (size_t)Bn * cfg->in_channels * cfg->H * cfg->W;
	p.x = xmalloc(sizeof(float) * p.in);
	p.xd = xmalloc(sizeof(double) * p.in);
	for (size_t i = 0; i < p.in; i++)
		p.xd[i] = p.x[i] = (float)mn_rng_normal(&rng);
	return p;
}

static void drop(struct pair *p)
{
	mn_net_free(p->f);
	ref_net_free(p->r);
	free(p->x);
	free(p->xd);
}

/* logits, parameter gradients, block outputs and gradients */
static void check_forward_backward(struct pair *p)
{
	int K = p->cfg.classes, Bn = p->Bn;
	size_t P = mn_net_param_count(p->f);
	float *lf = xmalloc(sizeof(float) * Bn * K), *gf = xmalloc(sizeof(float) * P);
	double *ld = xmalloc(sizeof(double) * Bn * K), *gd = xmalloc(sizeof(double) * P);
	float *dl = xmalloc(sizeof(float) * Bn * K);
	double *dld = xmalloc(sizeof(double) * Bn * K);
	struct mn_rng rng;
	mn_rng_seed(&rng, 99);
	for (int i = 0; i < Bn * K; i++)
		dld[i] = dl[i] = (float)mn_rng_normal(&rng);
	if (mn_net_forward(p->f, p->x, Bn, lf) != 0 || ref_net_forward(p->r, p->xd, Bn, ld) != 0)
		bail("forward failed");
	double ef = relf(lf, ld, (size_t)Bn * K);
	double eo = 0;
	for (int b = -1; b < mn_net_block_count(p->f); b++) {
		int c, h, w, rc, rh, rw;
		const float *o = mn_net_block_output(p->f, b, &c, &h, &w);
		const double *od = ref_net_block(p->r, b, &rc, &rh, &rw);
		if (!o || !od || c != rc || h != rh || w != rw)
			eo = INFINITY;
		else
			eo = fmax(eo, relf(o, od, (size_t)Bn * c * h * w));
	}
	tap_ok(ef < TOL_FWD && eo < TOL_FWD, "%s: logits (%.1e) and block outputs (%.1e) = reference",
	       p->name, ef, eo);
	if (mn_net_backward(p->f, dl, gf) != 0 || ref_net_backward(p->r, dld, 1, gd) != 0)
		bail("backward failed");
	double eg = 0, m = 1e-300;
	for (size_t i = 0; i < P; i++) {
		eg = fmax(eg, fabs(gf[i] - gd[i]));
		m = fmax(m, fabs(gd[i]));
	}
	eg /= m;
	double eb = 0;
	for (int b = -1; b < mn_net_block_count(p->f); b++) {
		int c, h, w;
		const float *g = mn_net_block_output_grad(p->f, b, &c, &h, &w);
		const double *g2 = ref_net_block_grad(p->r, b);
		eb = !g || !g2 ? INFINITY : fmax(eb, relf(g, g2, (size_t)Bn * c * h * w));
	}
	tap_ok(eg < TOL_GRAD && eb < TOL_GRAD,
	       "%s: parameter gradients (%.1e over %zu) and block output gradients (%.1e) = "
	       "reference",
	       p->name, eg, P, eb);
	free(lf);
	free(gf);
	free(ld);
	free(gd);
	free(dl);
	free(dld);
}

/* The reference's backward against central differences of its forward. */
static void check_reference_fd(struct pair *p)
{
	int K = p->cfg.classes, Bn = p->Bn;
	size_t P = ref_net_param_count(p->r);
	double *dl = xmalloc(sizeof(double) * Bn * K), *ld = xmalloc(sizeof(double) * Bn * K);
	double *g = xmalloc(sizeof(double) * P), *w = ref_net_params(p->r);
	struct mn_rng rng;
	mn_rng_seed(&rng, 7);
	for (int i = 0; i < Bn * K; i++)
		dl[i] = mn_rng_normal(&rng);
	if (ref_net_forward(p->r, p->xd, Bn, ld) != 0 || ref_net_backward(p->r, dl, 1, g) != 0)
		bail("reference failed");
	double e = 0, m = 1e-300;
	for (size_t i = 0; i < P; i++) {
		double s = w[i], lp = 0, lm = 0;
		w[i] = s + FD_H;
		ref_net_forward(p->r, p->xd, Bn, ld);
		for (int q = 0; q < Bn * K; q++)
			lp += dl[q] * ld[q];
		w[i] = s - FD_H;
		ref_net_forward(p->r, p->xd, Bn, ld);
		for (int q = 0; q < Bn * K; q++)
			lm += dl[q] * ld[q];
		w[i] = s;
		double fd = (lp - lm) / (2 * FD_H);
		e = fmax(e, fabs(fd - g[i]));
		m = fmax(m, fabs(fd));
	}
	tap_ok(e / m < TOL_FD, "%s: reference backward = central differences (%.1e over %zu params)",
	       p->name, e / m, P);
	free(dl);
	free(ld);
	free(g);
}

/* G in both modes, the column map, the Gram matrix and cond. */
static void check_ntk(struct pair *p)
{
	int Bn = p->Bn;
	size_t W = mn_net_grad_width(p->f), WR = ref_net_grad_columns(p->r, NULL);
	size_t *idx = xmalloc(sizeof(size_t) * W), *ridx = xmalloc(sizeof(size_t) * WR);
	mn_net_grad_param_index(p->f, idx);
	ref_net_grad_columns(p->r, ridx);
	tap_ok(W == WR && memcmp(idx, ridx, sizeof(size_t) * W) == 0,
	       "%s: G has the reference's %zu columns (active weights, canonical order)", p->name, WR);
	if (W != WR)
		return;
	float *G = xmalloc(sizeof(float) * Bn * W);
	double *Gd = xmalloc(sizeof(double) * Bn * W), *K = xmalloc(sizeof(double) * Bn * Bn);
	double *Kd = xmalloc(sizeof(double) * Bn * Bn), *eig = xmalloc(sizeof(double) * Bn);
	for (int mode = 0; mode < 2; mode++) {
		double cond;
		if (mn_net_ntk_cond(p->f, p->x, Bn, mode, &cond, G, K) != 0 ||
		    ref_net_per_sample_grads(p->r, p->xd, Bn, mode == MN_GRAD_EXACT, Gd) != 0)
			bail("NTK failed");
		for (int i = 0; i < Bn; i++)
			for (int j = 0; j < Bn; j++) {
				double s = 0;
				for (size_t c = 0; c < W; c++)
					s += Gd[(size_t)i * W + c] * Gd[(size_t)j * W + c];
				Kd[i * Bn + j] = s;
			}
		ref_sym_eigenvalues(Kd, Bn, eig);
		double condd = eig[Bn - 1] / eig[0];
		double eg = relf(G, Gd, (size_t)Bn * W), ek = reld(K, Kd, (size_t)Bn * Bn);
		/* a K singular to double precision has no condition number to
		 * compare; the float one must then be flagged or huge too */
		int singular = !(eig[0] > 1e-9 * eig[Bn - 1]);
		double ec = singular ? 0 : fabs(cond - condd) / condd;
		int cond_ok = singular ? cond == MN_NTK_BAD_COND || fabs(cond) > 1e6
				       : ec < 2 * condd * TOL_K + 1e-9;
		tap_ok(eg < TOL_GRAD && ek < TOL_K && cond_ok,
		       "%s, %s: G (%.1e), K (%.1e), cond %.6g vs reference %.6g (%.1e)%s", p->name,
		       mode ? "fixed-stats" : "exact", eg, ek, cond, condd, ec,
		       singular ? " (K singular: float cond flagged or huge)" : "");
	}
	free(idx);
	free(ridx);
	free(G);
	free(Gd);
	free(K);
	free(Kd);
	free(eig);
}

/* mn_net_patterns against the reference's ReLU outputs > 0. */
static void check_patterns(struct pair *p)
{
	int Bn = p->Bn;
	size_t bits = mn_net_pattern_bits(p->f), words = (bits + 63) / 64;
	uint64_t *pat = xmalloc(sizeof(uint64_t) * words * Bn);
	if (mn_net_forward(p->f, p->x, Bn, NULL) != 0 || mn_net_patterns(p->f, pat, words) != 0 ||
	    ref_net_forward(p->r, p->xd, Bn, NULL) != 0)
		bail("patterns failed");
	size_t rbits = ref_net_relu_outputs(p->r, NULL);
	if (rbits != bits) {
		tap_ok(0, "%s: pattern bits %zu = reference %zu", p->name, bits, rbits);
		free(pat);
		return;
	}
	double *act = xmalloc(sizeof(double) * bits * Bn), amax = 1e-300;
	ref_net_relu_outputs(p->r, act);
	for (size_t i = 0; i < bits * Bn; i++)
		amax = fmax(amax, act[i]);
	size_t bad = 0, near = 0;
	for (int n = 0; n < Bn; n++)
		for (size_t b = 0; b < bits; b++) {
			int fb = (int)((pat[(size_t)n * words + b / 64] >> (b % 64)) & 1);
			double a = act[(size_t)n * bits + b];
			if (fb != (a > 0)) {
				if (fabs(a) < PAT_MARGIN * amax)
					near++;
				else
					bad++;
			}
		}
	tap_ok(bad == 0, "%s: %zu pattern bits x %d samples = reference (%zu differ within the "
			 "margin of zero)",
	       p->name, bits, Bn, near);
	free(act);
	free(pat);
}

static void run_case(const char *name, const struct mn_net_config *cfg,
		     const unsigned char mask[MN_EDGES], int Bn, uint64_t seed, enum mn_init_mode mode,
		     int fd)
{
	struct pair p = make(name, cfg, mask, Bn, seed, mode);
	check_forward_backward(&p);
	if (fd)
		check_reference_fd(&p);
	check_ntk(&p);
	check_patterns(&p);
	drop(&p);
}

/* Facts of the float network the reference does not model. */
static void check_structure(void)
{
	struct mn_net_config cfg;
	mn_net_config_eval(&cfg, 2, 1, 8, 10);
	struct mn_net *f1 = mn_net_create(&cfg), *f2 = mn_net_create(&cfg);
	unsigned char m1[MN_EDGES], m2[MN_EDGES] = {B(SKIP), B(CONV3), B(NONE), B(POOL3), B(CONV1), B(SKIP)};
	memset(m1, MN_MASK_ALL, sizeof m1);
	struct mn_rng r1, r2;
	mn_rng_seed(&r1, 3);
	mn_rng_seed(&r2, 3);
	if (!f1 || !f2 || mn_net_set_mask(f1, m1) != 0 || mn_net_set_mask(f2, m2) != 0)
		bail("create failed");
	mn_net_init(f1, &r1, MN_INIT_CODE);
	mn_net_init(f2, &r2, MN_INIT_CODE);
	size_t P = mn_net_param_count(f1);
	tap_ok(memcmp(mn_net_params(f1), mn_net_params(f2), sizeof(float) * P) == 0,
	       "the same seed gives the same weights whatever the mask");
	unsigned char bad[MN_EDGES] = {0, 0, 0, 0, 0, 0x20};
	tap_ok(mn_net_set_mask(f1, bad) == -1, "a mask above MN_MASK_ALL is refused");
	mn_net_free(f1);
	mn_net_free(f2);
	char msg[128];
	mn_net_config_eval(&cfg, 2, 1, 49, 10);
	cfg.W = 10;
	struct mn_net *f3 = mn_net_create(&cfg);
	int c = 0, h = 0, w = 0, c2 = 0, h2 = 0, w2 = 0;
	float x[2 * 3 * 49 * 10] = {0}, out[2 * 10];
	struct mn_rng r3;
	mn_rng_seed(&r3, 5);
	if (f3) {
		mn_net_init(f3, &r3, MN_INIT_CODE);
		if (mn_net_forward(f3, x, 2, out) == 0) {
			(void)mn_net_block_output(f3, 1, &c, &h, &w);
			(void)mn_net_block_output(f3, 3, &c2, &h2, &w2);
		}
	}
	tap_ok(mn_net_config_check(&cfg, msg, sizeof msg) == 0 && f3 && c == 4 && h == 25 && w == 5 &&
		       c2 == 8 && h2 == 13 && w2 == 3,
	       "a full network at 49x10: the reductions give 4 x 25x5 and 8 x 13x3 (ceil(n/2)): %dx%dx%d, %dx%dx%d",
	       c, h, w, c2, h2, w2);
	mn_net_free(f3);
}

int main(void)
{
	mn_blas_set_threads(1);
	struct mn_net_config cfg;
	/* every op kind, none counted in the mean */
	const unsigned char mixed[MN_EDGES] = {B(CONV3) | B(SKIP), B(CONV1) | B(POOL3) | B(NONE),
					       B(CONV3) | B(CONV1) | B(POOL3) | B(SKIP),
					       B(SKIP) | B(POOL3), B(CONV1), B(CONV3) | B(NONE)};
	mn_net_config_eval(&cfg, 2, 1, 8, 3);
	run_case("full C2 N1 8x8 mixed edges, batch 3", &cfg, mixed, 3, 11, MN_INIT_CODE, 1);
	/* edges with no active op contribute nothing (node 1 is then zero) */
	const unsigned char sparse[MN_EDGES] = {0, B(CONV3), 0, B(SKIP) | B(CONV1), 0, B(POOL3)};
	run_case("full C2 N1 8x8 edges with no op, batch 3", &cfg, sparse, 3, 16, MN_INIT_CODE, 1);
	/* 1x1 planes in stage 3, all five ops, paper init */
	unsigned char all[MN_EDGES];
	memset(all, MN_MASK_ALL, sizeof all);
	mn_net_config_eval(&cfg, 1, 1, 4, 4);
	run_case("supernet C1 4x4 all five ops, paper init, batch 4", &cfg, all, 4, 21, MN_INIT_PAPER,
		 1);
	/* one op per edge, two cells per stage */
	struct mn_arch a;
	unsigned char single[MN_EDGES];
	if (mn_arch_parse("|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|"
			  "none~1|nor_conv_3x3~2|",
			  &a, NULL) != 0)
		bail("arch parse failed");
	mn_arch_to_mask(&a, single);
	mn_net_config_eval(&cfg, 2, 2, 8, 5);
	run_case("single arch C2 N2 8x8, batch 5", &cfg, single, 5, 31, MN_INIT_CODE, 0);
	/* TE-NAS's linear-region network */
	mn_net_config_thin(&cfg);
	unsigned char nonone[MN_EDGES];
	memset(nonone, MN_MASK_NO_NONE, sizeof nonone);
	run_case("thin C1 3x3, batch 6", &cfg, nonone, 6, 41, MN_INIT_CODE, 1);
	/* TE-NAS's NTK supernet, both init modes */
	mn_net_config_ntk(&cfg);
	run_case("NTK supernet C3 N1 32x32, batch 5", &cfg, nonone, 5, 51, MN_INIT_CODE, 0);
	mn_net_config_eval(&cfg, 4, 2, 16, 5);
	run_case("full C4 N2 16x16 mixed edges, batch 7", &cfg, mixed, 7, 61, MN_INIT_CODE, 0);
	/* Odd, non-square sides: 7x5 -> 4x3 -> 2x2, clipped pooling windows
	 * on both axes, one input channel; the reference checked by finite
	 * differences. */
	mn_net_config_eval(&cfg, 2, 1, 7, 4);
	cfg.W = 5;
	cfg.in_channels = 1;
	run_case("full C2 N1 7x5x1 mixed edges, batch 3", &cfg, mixed, 3, 71, MN_INIT_CODE, 1);
	check_structure();
	return tap_done();
}
