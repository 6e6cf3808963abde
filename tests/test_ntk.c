/* Per-sample gradients and the NTK condition number:
 * - both modes equal the reference's (tests/ref_net.c: B separate
 *   single-query backwards through the batched graph, BN statistics
 *   differentiated or held constant) on awkward shapes;
 * - the Gram matrix equals an explicit G G^T; NaN handling; determinism. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/blas.h"
#include "nn/net.h"
#include "nn/ntk.h"
#include "util/rng.h"
#include "ref_net.h"
#include "tap.h"

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p) {
		printf("Bail out! out of memory\n");
		exit(1);
	}
	return p;
}

#define B(op) (1u << MN_OP_##op)
static const unsigned char mixed[MN_EDGES] = {B(CONV3) | B(SKIP), B(CONV1) | B(POOL3) | B(NONE),
					      B(CONV3) | B(CONV1) | B(POOL3) | B(SKIP),
					      B(SKIP) | B(POOL3), B(CONV1), B(CONV3) | B(CONV1)};

static double maxabs(const double *a, size_t n)
{
	double m = 1e-300;
	for (size_t i = 0; i < n; i++)
		m = fmax(m, fabs(a[i]));
	return m;
}

static double diff(const double *a, const double *b, size_t n)
{
	double e = 0;
	for (size_t i = 0; i < n; i++)
		e = fmax(e, fabs(a[i] - b[i]));
	return e / maxabs(b, n);
}

/* The reference's G (tests/ref_net.c) for net's config, mask and weights
 * on x; 0 or -1. */
static int ref_rows(struct mn_net *net, const float *x, int Bn, int mode, double *Gd)
{
	const struct mn_net_config *cfg = mn_net_get_config(net);
	unsigned char mask[MN_EDGES];
	mn_net_get_mask(net, mask);
	struct ref_net *r = ref_net_create(cfg, mask);
	size_t in = (size_t)Bn * cfg->in_channels * cfg->H * cfg->W;
	double *xd = xmalloc(sizeof(double) * in);
	int rc = r ? 0 : -1;
	for (size_t i = 0; r && i < ref_net_param_count(r); i++)
		ref_net_params(r)[i] = mn_net_params(net)[i];
	for (size_t i = 0; i < in; i++)
		xd[i] = x[i];
	if (rc == 0)
		rc = ref_net_per_sample_grads(r, xd, Bn, mode == MN_GRAD_EXACT, Gd);
	free(xd);
	ref_net_free(r);
	return rc;
}

static void gram_d(const double *G, int Bn, size_t W, double *K)
{
	for (int i = 0; i < Bn; i++)
		for (int j = 0; j < Bn; j++) {
			double v = 0;
			for (size_t c = 0; c < W; c++)
				v += G[(size_t)i * W + c] * G[(size_t)j * W + c];
			K[i * Bn + j] = v;
		}
}

static struct mn_net *supernet(uint64_t seed)
{
	struct mn_net_config cfg;
	mn_net_config_ntk(&cfg);
	struct mn_net *net = mn_net_create(&cfg);
	struct mn_rng rng;
	mn_rng_seed(&rng, seed);
	mn_net_init(net, &rng, MN_INIT_CODE);
	return net;
}

static float *batch(int Bn, uint64_t seed)
{
	struct mn_rng rng;
	mn_rng_seed(&rng, seed);
	size_t n = (size_t)Bn * 3 * 32 * 32;
	float *x = xmalloc(sizeof(float) * n);
	for (size_t i = 0; i < n; i++)
		x[i] = (float)mn_rng_normal(&rng);
	return x;
}

static void test_supernet_float(void)
{
	/* the float supernet against the reference with the same weights */
	int Bn = 6;
	struct mn_net *net = supernet(8);
	size_t W = mn_net_grad_width(net);
	float *x = batch(Bn, 9);
	float *G = xmalloc(sizeof(float) * Bn * W);
	double *Gd = xmalloc(sizeof(double) * Bn * W), *Gf = xmalloc(sizeof(double) * Bn * W);
	double K[36], Kd[36], cond;
	for (int mode = 0; mode < 2; mode++) {
		mn_net_ntk_cond(net, x, Bn, mode, &cond, G, K);
		if (ref_rows(net, x, Bn, mode, Gd) != 0) {
			printf("Bail out! reference failed\n");
			exit(1);
		}
		gram_d(Gd, Bn, W, Kd);
		double condd = mn_ntk_cond(Kd, Bn, NULL);
		for (size_t i = 0; i < Bn * W; i++)
			Gf[i] = G[i];
		double eg = diff(Gf, Gd, Bn * W), ek = diff(K, Kd, 36);
		/* float rounding (see test_net_ref.c for the tolerances) */
		tap_ok(eg < 1e-4 && ek < 1e-4,
		       "supernet %s: float G and K match the reference (G %.1e, K %.1e; cond %.6g vs "
		       "%.6g)",
		       mode ? "fixed-stats" : "exact", eg, ek, cond, condd);
	}
	free(x);
	free(G);
	free(Gd);
	free(Gf);
	mn_net_free(net);
}

/* float (fast fused paths) against the reference on awkward shapes: N=2,
 * edges with pool, skip and none, 16x16 input, batch not a multiple of
 * anything */
static void test_float_vs_ref(int C, int N, int res, const unsigned char *mask, int Bn)
{
	struct mn_net_config cfg;
	mn_net_config_eval(&cfg, C, N, res, 5);
	struct mn_net *net = mn_net_create(&cfg);
	struct mn_rng rng;
	mn_rng_seed(&rng, 77);
	mn_net_set_mask(net, mask);
	mn_net_init(net, &rng, MN_INIT_CODE);
	size_t W = mn_net_grad_width(net);
	size_t in = (size_t)Bn * 3 * res * res;
	float *x = xmalloc(sizeof(float) * in);
	for (size_t i = 0; i < in; i++)
		x[i] = (float)mn_rng_normal(&rng);
	float *G = xmalloc(sizeof(float) * Bn * W);
	double *Gd = xmalloc(sizeof(double) * Bn * W), *Gf = xmalloc(sizeof(double) * Bn * W);
	for (int mode = 0; mode < 2; mode++) {
		mn_net_per_sample_grads(net, x, Bn, mode, G, W);
		if (ref_rows(net, x, Bn, mode, Gd) != 0) {
			printf("Bail out! reference failed\n");
			exit(1);
		}
		for (size_t i = 0; i < Bn * W; i++)
			Gf[i] = G[i];
		double e = diff(Gf, Gd, Bn * W);
		tap_ok(e < 1e-4, "C%d N%d %dx%d batch %d %s: float G matches the reference (%.1e)", C,
		       N, res, res, Bn, mode ? "fixed-stats" : "exact", e);
	}
	free(x);
	free(G);
	free(Gd);
	free(Gf);
	mn_net_free(net);
}

/* exact mode in query chunks of 1, 2, 3 and the automatic size: every
 * chunking gives the reference's rows; with BN frozen (statistics of the
 * last forward as constants) exact mode equals fixed-stats */
static void test_chunks(void)
{
	struct mn_net_config cfg;
	mn_net_config_eval(&cfg, 2, 1, 8, 3);
	struct mn_net *net = mn_net_create(&cfg);
	struct mn_rng rng;
	mn_rng_seed(&rng, 5);
	mn_net_set_mask(net, mixed);
	mn_net_init(net, &rng, MN_INIT_CODE);
	int Bn = 5;
	size_t W = mn_net_grad_width(net), in = (size_t)Bn * 3 * 64;
	float *x = xmalloc(sizeof(float) * in), *G = xmalloc(sizeof(float) * Bn * W);
	float *G2 = xmalloc(sizeof(float) * Bn * W);
	double *Gd = xmalloc(sizeof(double) * Bn * W), *Gf = xmalloc(sizeof(double) * Bn * W);
	for (size_t i = 0; i < in; i++)
		x[i] = (float)mn_rng_normal(&rng);
	if (ref_rows(net, x, Bn, MN_GRAD_EXACT, Gd) != 0) {
		printf("Bail out! reference failed\n");
		exit(1);
	}
	double e = 0;
	static const int chunks[4] = {1, 2, 3, 0};
	for (int t = 0; t < 4; t++) {
		mn_net_set_query_chunk(net, chunks[t]);
		mn_net_per_sample_grads(net, x, Bn, MN_GRAD_EXACT, G, W);
		for (size_t i = 0; i < Bn * W; i++)
			Gf[i] = G[i];
		e = fmax(e, diff(Gf, Gd, Bn * W));
	}
	tap_ok(e < 1e-4, "exact mode in query chunks of 1, 2, 3 and auto = reference (%.1e)", e);
	mn_net_per_sample_grads(net, x, Bn, MN_GRAD_FIXED_STATS, G2, W);
	mn_net_freeze_bn(net, 1);
	mn_net_per_sample_grads(net, x, Bn, MN_GRAD_EXACT, G, W);
	mn_net_freeze_bn(net, 0);
	double ef = 0, m = 1e-30;
	for (size_t i = 0; i < Bn * W; i++) {
		ef = fmax(ef, fabs((double)G[i] - G2[i]));
		m = fmax(m, fabs((double)G2[i]));
	}
	tap_ok(ef / m < 1e-6, "exact mode with BN frozen = fixed-stats mode (%.1e)", ef / m);
	free(x);
	free(G);
	free(G2);
	free(Gd);
	free(Gf);
	mn_net_free(net);
}

/* without kept im2col matrices (large networks) the float engine takes the
 * generic cell backward with recomputation: same G as the fused path */
static void test_recompute_path(void)
{
	int Bn = 6;
	struct mn_net *a = supernet(61), *b = supernet(61);
	mn_net_set_state_budget(b, 1); /* nothing fits: recompute */
	size_t W = mn_net_grad_width(a);
	float *x = batch(Bn, 62), *Ga = xmalloc(sizeof(float) * Bn * W),
	      *Gb = xmalloc(sizeof(float) * Bn * W);
	for (int mode = 0; mode < 2; mode++) {
		for (size_t i = 0; i < Bn * W; i++)
			Gb[i] = NAN;
		int rc = mn_net_per_sample_grads(a, x, Bn, mode, Ga, W) |
			 mn_net_per_sample_grads(b, x, Bn, mode, Gb, W);
		double e = 0, m = 1e-30;
		for (size_t i = 0; i < Bn * W; i++) {
			e = fmax(e, isnan(Gb[i]) ? INFINITY : fabs((double)Ga[i] - Gb[i]));
			m = fmax(m, fabs((double)Ga[i]));
		}
		tap_ok(rc == 0 && e / m < 1e-4,
		       "%s without kept im2col (recomputed, generic cell backward) = fused: %.1e",
		       mode ? "fixed-stats" : "exact", e / m);
	}
	free(x);
	free(Ga);
	free(Gb);
	mn_net_free(a);
	mn_net_free(b);
}

static void test_gram_and_cond(void)
{
	int Bn = 8;
	struct mn_net *net = supernet(21);
	size_t W = mn_net_grad_width(net);
	float *x = batch(Bn, 22), *G = xmalloc(sizeof(float) * Bn * W);
	double K[64], E[64], cond;
	mn_net_ntk_cond(net, x, Bn, MN_GRAD_EXACT, &cond, G, K);
	for (int i = 0; i < Bn; i++)
		for (int j = 0; j < Bn; j++) {
			double s = 0;
			for (size_t c = 0; c < W; c++)
				s += (double)G[i * W + c] * G[j * W + c];
			E[i * Bn + j] = s;
		}
	double e = diff(K, E, 64);
	tap_ok(e < 1e-5, "Gram matrix = explicit G G^T over %zu columns: %.1e", W, e);
	double eig[8];
	double c2 = mn_ntk_cond(K, Bn, eig);
	int asc = 1;
	for (int i = 1; i < Bn; i++)
		asc &= eig[i] >= eig[i - 1];
	/* (the engine solves with OpenBLAS single-threaded, this call may not:
	 * equal up to rounding) */
	tap_ok(fabs(c2 - cond) < 1e-12 * cond && asc && eig[0] > 0 &&
		       fabs(cond - eig[Bn - 1] / eig[0]) < 1e-9 * cond,
	       "cond = largest/smallest eigenvalue (%.6g, eigenvalues %.3g .. %.3g)", cond, eig[0],
	       eig[Bn - 1]);

	double D[9] = {1, 0, 0, 0, 4, 0, 0, 0, 2};
	tap_ok(fabs(mn_ntk_cond(D, 3, NULL) - 4) < 1e-12, "cond of diag(1, 4, 2) is 4");
	D[4] = NAN;
	tap_ok(mn_ntk_cond(D, 3, NULL) == MN_NTK_BAD_COND, "a NaN in K gives %g", MN_NTK_BAD_COND);
	D[4] = INFINITY;
	tap_ok(mn_ntk_cond(D, 3, NULL) == MN_NTK_BAD_COND, "an infinity in K gives %g",
	       MN_NTK_BAD_COND);
	double Z[4] = {0, 0, 0, 0};
	tap_ok(mn_ntk_cond(Z, 2, NULL) == MN_NTK_BAD_COND, "0/0 (all-zero K) gives %g",
	       MN_NTK_BAD_COND);
	double clean;
	mn_net_ntk_cond(net, x, Bn, MN_GRAD_FIXED_STATS, &clean, NULL, NULL);
	x[5] = NAN;
	mn_net_ntk_cond(net, x, Bn, MN_GRAD_EXACT, &cond, NULL, NULL);
	tap_ok(cond == MN_NTK_BAD_COND, "a NaN in the batch gives cond %g", cond);
	/* the NaNs that evaluation left in the network's buffers must not leak
	 * into the next one */
	/* an infinity passes the ReLUs and turns the BN outputs into NaNs */
	x[5] = INFINITY;
	mn_net_ntk_cond(net, x, Bn, MN_GRAD_EXACT, &cond, NULL, NULL);
	x[5] = 0.5f;
	double after;
	mn_net_ntk_cond(net, x, Bn, MN_GRAD_FIXED_STATS, &after, NULL, NULL);
	x[5] = INFINITY;
	mn_net_ntk_cond(net, x, Bn, MN_GRAD_EXACT, &cond, NULL, NULL);
	x[5] = 0.5f;
	double ex1, ex2;
	mn_net_ntk_cond(net, x, Bn, MN_GRAD_EXACT, &ex1, NULL, NULL);
	struct mn_net *fresh = supernet(21);
	mn_net_ntk_cond(fresh, x, Bn, MN_GRAD_EXACT, &ex2, NULL, NULL);
	double fr;
	mn_net_ntk_cond(fresh, x, Bn, MN_GRAD_FIXED_STATS, &fr, NULL, NULL);
	tap_ok(isfinite(after) && after == fr && ex1 == ex2 && isfinite(clean),
	       "after NaN and infinite batches the same network gives a fresh one's results (fixed %.6g, exact "
	       "%.6g)",
	       after, ex1);
	mn_net_free(fresh);
	free(x);
	free(G);
	mn_net_free(net);
}

static void test_threads(void)
{
	int Bn = 10;
	struct mn_net *net = supernet(51);
	size_t W = mn_net_grad_width(net);
	float *x = batch(Bn, 52), *G1 = xmalloc(sizeof(float) * Bn * W),
	      *G2 = xmalloc(sizeof(float) * Bn * W);
	for (int mode = 0; mode < 2; mode++) {
		mn_net_set_threads(net, 1);
		mn_net_per_sample_grads(net, x, Bn, mode, G1, W);
		mn_net_set_threads(net, 2);
		mn_net_per_sample_grads(net, x, Bn, mode, G2, W);
		double e = 0, m = 1e-30;
		for (size_t i = 0; i < Bn * W; i++) {
			e = fmax(e, fabs((double)G1[i] - G2[i]));
			m = fmax(m, fabs((double)G1[i]));
		}
		tap_ok(e / m < 1e-4 && mn_net_get_threads(net) == 2,
		       "%s: 1 and 2 threads on the network agree (%.1e)",
		       mode ? "fixed-stats" : "exact", e / m);
	}
	free(x);
	free(G1);
	free(G2);
	mn_net_free(net);
}

static void test_determinism(void)
{
	int Bn = 12;
	for (int mode = 0; mode < 2; mode++) {
		double c[2], K[2][144];
		size_t W = 0;
		float *G[2];
		for (int r = 0; r < 2; r++) {
			struct mn_net *net = supernet(31);
			W = mn_net_grad_width(net);
			float *x = batch(Bn, 32);
			G[r] = xmalloc(sizeof(float) * Bn * W);
			mn_net_ntk_cond(net, x, Bn, mode, &c[r], G[r], K[r]);
			free(x);
			mn_net_free(net);
		}
		tap_ok(c[0] == c[1] && memcmp(K[0], K[1], sizeof K[0]) == 0 &&
			       memcmp(G[0], G[1], sizeof(float) * Bn * W) == 0,
		       "%s: fixed seed gives bit-identical G, K and cond (%.9g)",
		       mode ? "fixed-stats" : "exact", c[0]);
		free(G[0]);
		free(G[1]);
	}
	/* and the same network object evaluated twice, with another mask between */
	struct mn_net *net = supernet(41);
	float *x = batch(Bn, 42);
	double c1, c2, c3;
	mn_net_ntk_cond(net, x, Bn, MN_GRAD_EXACT, &c1, NULL, NULL);
	unsigned char m[MN_EDGES];
	mn_net_get_mask(net, m);
	unsigned char m2[MN_EDGES];
	memcpy(m2, m, sizeof m2);
	m2[2] &= (unsigned char)~(1u << MN_OP_CONV3);
	mn_net_set_mask(net, m2);
	mn_net_ntk_cond(net, x, Bn, MN_GRAD_EXACT, &c3, NULL, NULL);
	mn_net_set_mask(net, m);
	mn_net_ntk_cond(net, x, Bn, MN_GRAD_EXACT, &c2, NULL, NULL);
	tap_ok(c1 == c2 && c1 != c3, "re-evaluation after a mask change is bit-identical (%.9g; "
				     "without one op %.9g)",
	       c1, c3);
	free(x);
	mn_net_free(net);
}

int main(void)
{
	mn_blas_set_threads(1);
	test_supernet_float();
	test_float_vs_ref(4, 2, 16, mixed, 7);
	{
		unsigned char m2[MN_EDGES] = {B(POOL3) | B(SKIP), B(CONV3), B(NONE), B(CONV1) | B(CONV3),
					      B(SKIP), B(POOL3) | B(CONV3) | B(NONE)};
		test_float_vs_ref(3, 1, 8, m2, 5);
		unsigned char m3[MN_EDGES] = {0, B(CONV3), 0, B(SKIP) | B(CONV1), 0, B(POOL3)};
		test_float_vs_ref(3, 1, 8, m3, 4);
	}
	test_chunks();
	test_gram_and_cond();
	test_recompute_path();
	test_determinism();
	test_threads();
	return tap_done();
}
