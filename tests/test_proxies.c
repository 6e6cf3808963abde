/* The proxies beyond TE-NAS's, on small cases whose values follow by hand
 * from each paper's definition (see the headers): NWOT's Hamming kernel and
 * log-determinant, SWAP's distinct sample-wise patterns, ZiCo's per-layer
 * log of summed mean/std, AZ-NAS's spectrum entropy, expressivity,
 * progressivity and trainability; then the whole table on a small network. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "data/dataset.h"
#include "data/dataset_source.h"
#include "proxy/az_expressivity.h"
#include "proxy/az_memo.h"
#include "proxy/az_trainability.h"
#include "proxy/nwot.h"
#include "proxy/proxy_set.h"
#include "proxy/swap.h"
#include "proxy/zico.h"
#include "space/arch_class.h"
#include "space/cost.h"

static int near(double a, double b, double tol) { return fabs(a - b) <= tol; }

static void test_nwot(void)
{
	/* Codes over 4 units: 1100, 1010, 0000 (unit 0 = bit 0).  Pairs agree on
	 * 2 units each: K = [[4,2,2],[2,4,2],[2,2,4]], det 32. */
	uint64_t bits[3] = {0x3, 0x5, 0x0};
	double K[9];
	tap_ok(mn_nwot_kernel(bits, 1, 4, 3, K) == 0 && K[0] == 4 && K[1] == 2 && K[2] == 2 &&
		       K[5] == 2 && K[8] == 4,
	       "nwot: K_H counts agreeing units (N_A - Hamming distance)");
	tap_ok(near(mn_nwot_score(bits, 1, 4, 3), log(32.0), 1e-12), "nwot: log|det K_H| = log 32");
	bits[0] |= 1ULL << 40; /* past nbits: ignored */
	tap_ok(near(mn_nwot_score(bits, 1, 4, 3), log(32.0), 1e-12), "nwot: bits past N_A are ignored");
	/* Two words per code: unit 70 set in sample 1 only adds one unit of
	 * disagreement (and one agreeing unit to every other pair). */
	uint64_t two[6] = {0x3, 0, 0x5, 1ULL << 6, 0, 0};
	double K2[9];
	mn_nwot_kernel(two, 2, 71, 3, K2);
	tap_ok(K2[0] == 71 && K2[1] == 71 - 3 && K2[2] == 71 - 2 && K2[5] == 71 - 3,
	       "nwot: codes of several words");
	uint64_t same[2] = {0x6, 0x6};
	tap_ok(isinf(mn_nwot_score(same, 1, 3, 2)) && mn_nwot_score(same, 1, 3, 2) < 0,
	       "nwot: two identical codes make K_H singular: -inf");
	/* Random codes of 3 words and a tail (the kernel counts with the CPU's
	 * POPCNT where it has one) against a bit-by-bit Hamming distance. */
	enum { RB = 5, RW = 4, RBITS = 3 * 64 + 37 };
	uint64_t rnd[RB * RW], st = 0x9e3779b97f4a7c15ULL;
	for (int i = 0; i < RB * RW; i++) {
		st ^= st << 13, st ^= st >> 7, st ^= st << 17;
		rnd[i] = st;
	}
	double KR[RB * RB];
	int agree = mn_nwot_kernel(rnd, RW, RBITS, RB, KR) == 0, wrong = 0;
	for (int i = 0; i < RB; i++)
		for (int j = 0; j < RB; j++) {
			int d = 0;
			for (int b = 0; b < RBITS; b++)
				d += (int)(((rnd[i * RW + b / 64] ^ rnd[j * RW + b / 64]) >> (b % 64)) & 1);
			wrong += KR[i * RB + j] != RBITS - d;
		}
	tap_ok(agree && !wrong, "nwot: random codes of 229 bits, K_H = bit-by-bit agreement (%d of 25 differ)",
	       wrong);
	double P[4] = {0, 1, 1, 0}, D[4] = {2, 0, 0, 3};
	tap_ok(near(mn_logabsdet(P, 2), 0, 1e-15) && near(mn_logabsdet(D, 2), log(6.0), 1e-15),
	       "logabsdet: a permutation (pivoting) and a diagonal");
}

static void test_swap(void)
{
	/* Units 0..4 over samples s0 11001, s1 00101, s2 11001 (unit 0 first):
	 * per-unit vectors 101, 101, 010, 000, 111: four distinct. */
	uint64_t bits[3] = {0x13, 0x14, 0x13};
	tap_ok(mn_swap_score(bits, 1, 5, 3) == 4, "swap: distinct per-unit patterns over 3 samples = 4");
	tap_ok(mn_swap_score(bits, 1, 2, 3) == 1, "swap: units 0 and 1 alone share one pattern");
	/* 70 samples (two words per unit pattern): unit 0 on everywhere, units
	 * 1 and 2 only on sample 69, unit 3 never: 3 distinct. */
	uint64_t *b70 = calloc(70, sizeof *b70);
	for (int n = 0; n < 70; n++)
		b70[n] = 1;
	b70[69] |= 0x6;
	tap_ok(mn_swap_score(b70, 1, 4, 70) == 3, "swap: 70 samples (multi-word patterns) = 3");
	free(b70);
	/* 4000 units over 64 samples drawn from 700 patterns that share their
	 * low 50 bits in fives (so a sort that stopped before the last bits
	 * would leave equal patterns apart), the count against a quadratic
	 * one; then every unit alike (no pass needed). */
	enum { NU = 4000, NP = 700 };
	uint64_t *pats = malloc(NP * sizeof *pats);
	int *which = malloc(NU * sizeof *which), ok = pats && which;
	uint64_t st = 12345;
	uint64_t low[5];
	for (int i = 0; i < 5; i++) {
		st ^= st << 13, st ^= st >> 7, st ^= st << 17;
		low[i] = st & ((1ULL << 50) - 1);
	}
	for (int i = 0; ok && i < NP; i++) /* 5 low parts x 140 high parts (bits 50-57) */
		pats[i] = low[i % 5] | (uint64_t)(i / 5) << 50;
	uint64_t *rows = calloc((size_t)64 * 63, sizeof *rows); /* 63 words: 4032 >= NU units */
	ok = ok && rows;
	for (int u = 0; ok && u < NU; u++) {
		st ^= st << 13, st ^= st >> 7, st ^= st << 17;
		which[u] = (int)(st % NP);
		for (int n = 0; n < 64; n++)
			if ((pats[which[u]] >> n) & 1)
				rows[(size_t)n * 63 + u / 64] |= 1ULL << (u % 64);
	}
	long distinct = 0;
	for (int u = 0; ok && u < NU; u++) {
		int seen = 0;
		for (int v = 0; v < u && !seen; v++)
			seen = pats[which[v]] == pats[which[u]];
		distinct += !seen;
	}
	long got = ok ? mn_swap_score(rows, 63, NU, 64) : -2;
	tap_ok(ok && got == distinct, "swap: 4000 units over 64 samples = %ld distinct (got %ld)", distinct,
	       got);
	for (int n = 0; ok && n < 64; n++)
		memset(rows + (size_t)n * 63, n % 3 ? 0xff : 0, 63 * sizeof *rows);
	tap_ok(ok && mn_swap_score(rows, 63, NU, 64) == 1, "swap: every unit with the same pattern = 1");
	free(pats), free(which), free(rows);
}

static void test_zico(void)
{
	/* Two batches; layer 0 = params 0,1: param 0 has g (1,3): mean|g| 2,
	 * std 1; param 1 (2,2) has no variance and drops out: log 2.  Layer 1 =
	 * params 2..4: (-1,1) -> 1/1, (2,-2) -> 2/2, (4,0) -> 2/2: log 3.  Layer
	 * 2 = param 5, always 0: no contribution.  ZiCo = log 6. */
	float g[2][6] = {{1, 2, -1, 2, 4, 0}, {3, 2, 1, -2, 0, 0}};
	struct mn_param_range L[3] = {{0, 2}, {2, 3}, {5, 1}};
	tap_ok(near(mn_zico_score(&g[0][0], 2, 6, L, 3), log(6.0), 1e-12), "zico: log 2 + log 3");
	tap_ok(near(mn_zico_score(&g[0][0], 2, 6, L, 1), log(2.0), 1e-12), "zico: one layer");

	struct mn_net_config cfg;
	mn_net_config_eval(&cfg, 4, 1, 32, 10);
	struct mn_net *net = mn_net_create(&cfg);
	struct mn_param_range r[64];
	int n = mn_zico_layers(&cfg, mn_net_param_count(net), r, 64);
	/* stem + 3 stages x 1 cell x 6 edges x (1x1, 3x3) + 2 x 3 reduction convs + linear */
	tap_ok(n == 1 + 36 + 6 + 1, "zico: the C=4 N=1 network has 44 conv/linear tensors (got %d)", n);
	tap_ok(n > 0 && r[0].off == 0 && r[0].size == 3 * 4 * 9 && r[1].off == 3 * 4 * 9 + 8 &&
		       r[1].size == 16 && r[n - 1].size == 10 * 16,
	       "zico: stem conv, first 1x1 conv after the stem BN, linear weight last");
	tap_ok(mn_zico_layers(&cfg, mn_net_param_count(net) + 1, r, 64) == -1,
	       "zico: a layout that does not add up is refused");
	mn_net_free(net);
	mn_net_config_thin(&cfg);
	net = mn_net_create(&cfg);
	tap_ok(mn_zico_layers(&cfg, mn_net_param_count(net), r, 64) == 13, "zico: thin network: 12 + linear");
	mn_net_free(net);
}

static void test_expressivity(void)
{
	/* 4 rows of 2 channels (b=1, 2x2): ch0 (1,-1,1,-1), ch1 (1,1,-1,-1):
	 * Sigma = I, p = (1/2, 1/2), entropy log 2. */
	float f[8] = {1, -1, 1, -1, 1, 1, -1, -1};
	tap_ok(near(mn_az_feature_entropy(f, 1, 2, 2, 2), log(2.0), 1e-7), "az: isotropic 2-d feature: log 2");
	/* The same rows split over 2 samples of 1x2 pixels ([b][c][h][w]). */
	float g[8] = {1, -1, 1, 1, 1, -1, -1, -1};
	tap_ok(near(mn_az_feature_entropy(g, 2, 2, 1, 2), log(2.0), 1e-7), "az: rows from several samples");
	/* ch0 scaled by sqrt 3: eigenvalues 3, 1: p = (3/4, 1/4). */
	float s3 = sqrtf(3.0f);
	float h[8] = {s3, -s3, s3, -s3, 1, 1, -1, -1};
	double want = -(0.75 * log(0.75) + 0.25 * log(0.25));
	tap_ok(near(mn_az_feature_entropy(h, 1, 2, 2, 2), want, 1e-6), "az: eigenvalues 3 and 1: %.4f", want);
	/* Collinear channels: one eigenvalue: entropy 0.  Mean is removed. */
	float k[8] = {2, 0, 2, 0, 2, 0, 2, 0};
	tap_ok(near(mn_az_feature_entropy(k, 1, 2, 2, 2), 0, 1e-7), "az: rank-one feature (mean removed): 0");
	float z[4] = {5, 5, 5, 5};
	tap_ok(isnan(mn_az_feature_entropy(z, 1, 1, 2, 2)), "az: no variance: NaN (0/0)");
	double s[4] = {1, 3, 2.5, 4}, e, p;
	mn_az_expressivity(s, 4, &e, &p);
	tap_ok(e == 10.5 && p == -0.5, "az: expressivity = sum, progressivity = min step (-0.5)");
	s[2] = NAN;
	mn_az_expressivity(s, 4, &e, &p);
	tap_ok(isinf(e) && e < 0 && isinf(p) && p < 0, "az: a NaN entropy makes both -inf");
}

static void test_trainability(void)
{
	float go[2] = {1, -1}, gi[2] = {2, -2};
	double want = -2 - 1 / (2 + 1e-6) + 2;
	tap_ok(near(mn_az_trainability_block(gi, 1, 1, 2, go, 1, 1, 2, 1), want, 1e-12),
	       "az: a block doubling the gradient: sigma 2, -0.5");
	/* M = g_in^T g_out / (b h w), no normalisation by g_out: a cotangent of
	 * 3 (not +-1) gives sigma 2 * 9 = 18. */
	float go3[2] = {3, -3}, gi3[2] = {6, -6};
	tap_ok(near(mn_az_trainability_block(gi3, 1, 1, 2, go3, 1, 1, 2, 1),
		    -18 - 1 / (18 + 1e-6) + 2, 1e-9),
	       "az: M is not normalised by g_out's scale (sigma 18)");
	tap_ok(isinf(mn_az_trainability_block(go, 1, 1, 2, go, 1, 1, 2, 1)),
	       "az: an identity block scores -inf");
	/* Halving block: g_in 1 channel 2x2 unshuffled to 4 channels at 1x1; one
	 * output channel of 1: M = (1.2, 1.6, 0, 0), sigma 2. */
	float gi2[4] = {1.2f, 1.6f, 0, 0}, go1[1] = {1};
	tap_ok(near(mn_az_trainability_block(gi2, 1, 2, 2, go1, 1, 1, 1, 1), want, 1e-6),
	       "az: a halving block (pixel unshuffle): sigma 2");
	/* Two output channels (1, 1) at 1x1: M = gin' (1, 1)^T, sigma =
	 * |gin'| |gout| = 1 * sqrt 2. */
	float gi4[4] = {0.6f, 0.8f, 0, 0}, go2[2] = {1, 1};
	double s2 = sqrt(2.0);
	tap_ok(near(mn_az_trainability_block(gi4, 1, 2, 2, go2, 2, 1, 1, 1), -s2 - 1 / (s2 + 1e-6) + 2, 1e-6),
	       "az: rank-one M with two output channels: sigma sqrt 2");
	double t[3] = {-1, -0.5, 0};
	tap_ok(mn_az_trainability(t, 3) == -0.5, "az: trainability is the mean over blocks");
	t[1] = NAN;
	tap_ok(isinf(mn_az_trainability(t, 3)) && mn_az_trainability(t, 3) < 0,
	       "az: a NaN block term makes trainability -inf");
	tap_ok(isnan(mn_az_trainability_block(gi, 1, 3, 2, go, 1, 2, 2, 1)), "az: mismatched shapes: NaN");
}

static void test_table(void)
{
	char err[256];
	int az = 0;
	for (int p = 0; p < MN_PROXY_COUNT; p++) {
		const struct mn_proxy_info *i = mn_proxy_info((enum mn_proxy_id)p);
		az += i->in_estimate && !strncmp(i->column, "az_", 3);
		if (i->in_estimate && strncmp(i->column, "az_", 3))
			az = -100;
	}
	tap_ok(az == 4, "table: the default estimate is AZ-NAS's four proxies");
	tap_ok(!strcmp(mn_proxy_info(MN_PROXY_NTK_COND)->column, "ntk_cond") &&
		       !strcmp(mn_proxy_info(MN_PROXY_LINEAR_REGIONS)->column, "linear_regions") &&
		       mn_proxy_info(MN_PROXY_COUNT) == NULL,
	       "table: the TE-NAS pair keeps the first two rows");

	struct mn_dataset data;
	if (mn_dataset_synthetic(&data, 64, 7, err, sizeof err)) {
		tap_ok(0, "synthetic data: %s", err);
		return;
	}
	struct mn_tenas_config cfg;
	mn_tenas_config_default(&cfg);
	cfg.batch = 8;
	cfg.repeat = 2;
	cfg.regions_samples = 50;
	cfg.regions_batches = 1;
	cfg.grad = MN_GRAD_FIXED_STATS;
	cfg.az_channels = 4;
	cfg.az_batch = 8;
	struct mn_tenas *t = mn_tenas_new(&cfg, &data, err, sizeof err);
	struct mn_arch a;
	mn_arch_parse("|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|",
		      &a, NULL);
	struct mn_proxy_values v1, v2;
	int ok = t && mn_proxy_score_arch(t, 5, &a, NULL, &v1, err, sizeof err) == 0 &&
		 mn_proxy_score_arch(t, 5, &a, NULL, &v2, err, sizeof err) == 0;
	tap_ok(ok, "score: every proxy of one arch%s%s", ok ? "" : ": ", ok ? "" : err);
	int finite = 1;
	for (int p = 0; ok && p < MN_PROXY_COUNT; p++)
		finite &= isfinite(v1.v[p]) != 0;
	tap_ok(ok && finite, "score: all values finite");
	tap_ok(ok && !memcmp(&v1, &v2, sizeof v1), "score: same seed, same values");
	/* A cancel flag: clear, it changes nothing; set, the call ends as
	 * cancelled (1, not an error), and the evaluator scores as before. */
	atomic_int flag;
	atomic_init(&flag, 0);
	int rc = t ? mn_proxy_score_arch(t, 5, &a, &flag, &v2, err, sizeof err) : -1;
	tap_ok(ok && rc == 0 && !memcmp(&v1, &v2, sizeof v1), "score: a clear cancel flag: same values");
	atomic_store(&flag, 1);
	rc = t ? mn_proxy_score_arch(t, 5, &a, &flag, &v2, err, sizeof err) : -1;
	tap_ok(rc == 1, "score: a set cancel flag: cancelled (1), rc %d", rc);
	rc = t ? mn_proxy_score_arch(t, 5, &a, NULL, &v2, err, sizeof err) : -1;
	tap_ok(ok && rc == 0 && !memcmp(&v1, &v2, sizeof v1),
	       "score: after a cancelled call the evaluator gives the same values");
	struct mn_net_shape shape = MN_SHAPE_DEFAULT;
	struct mn_cost c;
	mn_cost_arch(&a, &shape, &c);
	tap_ok(ok && v1.v[MN_PROXY_AZ_COMPLEXITY] == (double)c.flops, "score: complexity = FLOPs at C=16, N=5");
	tap_ok(ok && v1.v[MN_PROXY_AZ_TRAINABILITY] <= 0 && v1.v[MN_PROXY_SWAP] >= 1 &&
		       v1.v[MN_PROXY_AZ_EXPRESSIVITY] > 0,
	       "score: trainability <= 0, SWAP >= 1, expressivity > 0");
	/* Estimate-only: the same AZ-NAS values (same streams), the others NaN. */
	struct mn_tenas_config c0 = cfg;
	c0.all_proxies = 0;
	struct mn_tenas *t0 = mn_tenas_new(&c0, &data, err, sizeof err);
	struct mn_proxy_values v0;
	ok = t0 && mn_proxy_score_arch(t0, 5, &a, NULL, &v0, err, sizeof err) == 0;
	int same = 1;
	for (int p = 0; ok && p < MN_PROXY_COUNT; p++)
		if (mn_proxy_info((enum mn_proxy_id)p)->in_estimate || p < 2)
			same &= v0.v[p] == v1.v[p];
	tap_ok(ok && same && isnan(v0.v[MN_PROXY_NWOT]) && isnan(v0.v[MN_PROXY_SWAP]) &&
		       isnan(v0.v[MN_PROXY_ZICO]),
	       "score: all_proxies 0: the estimate's proxies unchanged, NWOT, SWAP, ZiCo NaN");
	mn_tenas_free(t0);
	/* An arch whose cells are the identity (skip 0->3, nothing else): its
	 * identity cells score -inf in trainability. */
	mn_arch_parse("|none~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|", &a, NULL);
	ok = t && mn_proxy_score_arch(t, 5, &a, NULL, &v1, err, sizeof err) == 0;
	tap_ok(ok && isinf(v1.v[MN_PROXY_AZ_TRAINABILITY]) && v1.v[MN_PROXY_AZ_TRAINABILITY] < 0,
	       "score: identity cells: trainability -inf");
	/* A cell whose output no op reaches (every edge into node 3 none)
	 * outputs exact zeros, and so does every block after it: no spectrum,
	 * expressivity and progressivity -inf (the authors' NaN -> -inf). */
	mn_arch_parse("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|none~0|none~1|none~2|", &a, NULL);
	ok = t && mn_proxy_score_arch(t, 5, &a, NULL, &v1, err, sizeof err) == 0;
	tap_ok(ok && v1.v[MN_PROXY_AZ_EXPRESSIVITY] == -INFINITY &&
		       v1.v[MN_PROXY_AZ_PROGRESSIVITY] == -INFINITY,
	       "score: a disconnected cell: expressivity and progressivity -inf");
	/* Function classes (space/arch_class.h): node 2 of the first arch
	 * reaches no output, so its two convs change nothing the three
	 * function-reading proxies see; they come from the class's
	 * representative, the second arch, while complexity counts the convs. */
	struct mn_arch b;
	mn_arch_parse("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|nor_conv_1x1~0|nor_conv_3x3~1|none~2|",
		      &a, NULL);
	mn_arch_parse("|nor_conv_3x3~0|+|none~0|none~1|+|nor_conv_1x1~0|nor_conv_3x3~1|none~2|", &b, NULL);
	struct mn_proxy_values va, vb, vm;
	ok = t && mn_proxy_score_arch(t, 5, &a, NULL, &va, err, sizeof err) == 0 &&
	     mn_proxy_score_arch(t, 5, &b, NULL, &vb, err, sizeof err) == 0;
	tap_ok(ok && va.v[MN_PROXY_AZ_EXPRESSIVITY] == vb.v[MN_PROXY_AZ_EXPRESSIVITY] &&
		       va.v[MN_PROXY_AZ_PROGRESSIVITY] == vb.v[MN_PROXY_AZ_PROGRESSIVITY] &&
		       va.v[MN_PROXY_AZ_TRAINABILITY] == vb.v[MN_PROXY_AZ_TRAINABILITY] &&
		       isfinite(va.v[MN_PROXY_AZ_EXPRESSIVITY]),
	       "score: a branch that reaches no output: the same expressivity, progressivity, trainability");
	tap_ok(ok && va.v[MN_PROXY_AZ_COMPLEXITY] > vb.v[MN_PROXY_AZ_COMPLEXITY],
	       "score: ...and more FLOPs (complexity counts the arch's own convs)");
	/* A memo shared by a run: the class measured for the first arch gives
	 * the second its values, the same bits as measuring them. */
	struct mn_az_memo *memo = mn_az_memo_new();
	uint16_t *rep = malloc(MN_ARCH_COUNT * sizeof *rep);
	double got[3];
	int cls = rep && mn_arch_classes(rep) == 0 ? rep[mn_arch_to_index(&b)] : -1;
	ok = t && memo && cls >= 0 && rep[mn_arch_to_index(&a)] == cls &&
	     mn_proxy_score_arch_shared(t, memo, 5, &a, NULL, &vm, err, sizeof err) == 0 &&
	     mn_az_memo_get(memo, 5, cls, got) == 1 && mn_az_memo_get(memo, 6, cls, got) == 0 &&
	     mn_proxy_score_arch_shared(t, memo, 5, &b, NULL, &vm, err, sizeof err) == 0;
	tap_ok(ok && !memcmp(&vm, &vb, sizeof vm),
	       "score: a memo holds the class under its representative and seed, and gives the same values");
	struct mn_proxy_values ve;
	ok = t && mn_proxy_score_estimate(t, NULL, 5, &a, &ve, err, sizeof err) == 0;
	tap_ok(ok && ve.v[MN_PROXY_AZ_EXPRESSIVITY] == va.v[MN_PROXY_AZ_EXPRESSIVITY] &&
		       ve.v[MN_PROXY_AZ_PROGRESSIVITY] == va.v[MN_PROXY_AZ_PROGRESSIVITY] &&
		       ve.v[MN_PROXY_AZ_TRAINABILITY] == va.v[MN_PROXY_AZ_TRAINABILITY] &&
		       ve.v[MN_PROXY_AZ_COMPLEXITY] == va.v[MN_PROXY_AZ_COMPLEXITY] &&
		       isnan(ve.v[MN_PROXY_NTK_COND]) && isnan(ve.v[MN_PROXY_ZICO]),
	       "score: the estimate's four alone: the same values, the rest NaN");
	mn_az_memo_free(memo);
	free(rep);
	mn_tenas_free(t);
	mn_dataset_free(&data);
}

int main(void)
{
	test_nwot();
	test_swap();
	test_zico();
	test_expressivity();
	test_trainability();
	test_table();
	return tap_done();
}
