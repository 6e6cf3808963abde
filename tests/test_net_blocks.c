/* Block outputs and their gradients (mn_net_block_output, _grad) against
 * cases that can be checked by hand:
 * - counts, shapes and the NULL cases;
 * - the thin network's block -1 is its input, and the gradient there equals
 *   central finite differences of the objective (double build), whose block
 *   gradients the float ones match;
 * - a cell whose six edges are all skip computes node3 = x + x + 2x = 4x, so
 *   a cell block's output is exactly 4 times its input (the previous block's
 *   output) and its input's gradient 4 times its output's;
 * - the last block's gradient equals the head written out by hand
 *   (train-mode BN, ReLU, global average pool, linear). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/net.h"
#include "util/rng.h"
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

static float *randv(struct mn_rng *rng, size_t n)
{
	float *v = xmalloc(sizeof(float) * n);
	for (size_t i = 0; i < n; i++)
		v[i] = (float)mn_rng_normal(rng);
	return v;
}

static double objective(struct mn_net *net, const float *x, int B, const float *r, float *logits,
			int classes)
{
	if (mn_net_forward(net, x, B, logits) != 0) {
		printf("Bail out! forward failed\n");
		exit(1);
	}
	double s = 0;
	for (int i = 0; i < B * classes; i++)
		s += (double)r[i] * logits[i];
	return s;
}

static void check_counts(void)
{
	struct mn_net_config cfg;
	mn_net_config_thin(&cfg);
	cfg.N = 3;
	struct mn_net *thin = mn_net_create(&cfg);
	mn_net_config_eval(&cfg, 4, 2, 8, 5);
	struct mn_net *full = mn_net_create(&cfg);
	if (!thin || !full) {
		printf("Bail out! create failed\n");
		exit(1);
	}
	tap_ok(mn_net_block_count(thin) == 3, "thin network with N=3 has 3 blocks");
	tap_ok(mn_net_block_count(full) == 8, "full network with N=2 has 3*2+2 blocks");
	int c, h, w;
	tap_ok(!mn_net_block_output(full, 0, &c, &h, &w) &&
		       !mn_net_block_output_grad(full, 0, &c, &h, &w),
	       "NULL before any forward");
	mn_net_free(thin);
	mn_net_free(full);
}

/* Full network, C=4, N=2, 8x8, all-skip cells. */
static void check_full_skip(void)
{
	struct mn_net_config cfg;
	mn_net_config_eval(&cfg, 4, 2, 8, 5);
	struct mn_net *net = mn_net_create(&cfg);
	struct mn_arch a;
	for (int e = 0; e < MN_EDGES; e++)
		a.op[e] = MN_OP_SKIP;
	struct mn_rng rng;
	mn_rng_seed(&rng, 11);
	if (!net || mn_net_set_arch(net, &a) != 0) {
		printf("Bail out! create failed\n");
		exit(1);
	}
	mn_net_init(net, &rng, MN_INIT_CODE);
	const int B = 3;
	float *x = randv(&rng, (size_t)B * 3 * 64), *r = randv(&rng, (size_t)B * 5);
	float *logits = xmalloc(sizeof(float) * B * 5);
	float *grad = xmalloc(sizeof(float) * mn_net_param_count(net));
	objective(net, x, B, r, logits, 5);
	int c, h, w;
	tap_ok(!mn_net_block_output_grad(net, 0, &c, &h, &w), "no gradient before a backward");
	tap_ok(!mn_net_block_output(net, -2, &c, &h, &w) && !mn_net_block_output(net, 8, &c, &h, &w),
	       "NULL out of range");
	static const int want[9][3] = {{4, 8, 8}, {4, 8, 8}, {4, 8, 8}, {8, 4, 4}, {8, 4, 4},
				       {8, 4, 4}, {16, 2, 2}, {16, 2, 2}, {16, 2, 2}};
	int shapes_ok = 1;
	for (int i = -1; i < 8; i++)
		shapes_ok &= mn_net_block_output(net, i, &c, &h, &w) != NULL && c == want[i + 1][0] &&
			     h == want[i + 1][1] && w == want[i + 1][2];
	tap_ok(shapes_ok, "block shapes: stem 4x8x8, cells, reductions to 8x4x4 and 16x2x2");
	if (mn_net_backward(net, r, grad) != 0) {
		printf("Bail out! backward failed\n");
		exit(1);
	}
	/* every cell block (not the reductions 2 and 5) is 4 * its input; the
	 * sums are of powers of two times x, so exact in float */
	int cells[6] = {0, 1, 3, 4, 6, 7};
	double eo = 0, eg = 0;
	for (int k = 0; k < 6; k++) {
		int i = cells[k];
		const float *y = mn_net_block_output(net, i, &c, &h, &w);
		const float *xin = mn_net_block_output(net, i - 1, NULL, NULL, NULL);
		const float *dy = mn_net_block_output_grad(net, i, NULL, NULL, NULL);
		const float *dx = mn_net_block_output_grad(net, i - 1, NULL, NULL, NULL);
		if (!y || !xin || !dy || !dx) {
			tap_ok(0, "block %d: outputs and gradients present", i);
			continue;
		}
		double gmax = 1e-30;
		for (size_t j = 0; j < (size_t)B * c * h * w; j++)
			gmax = fmax(gmax, fabs(dx[j]));
		for (size_t j = 0; j < (size_t)B * c * h * w; j++) {
			eo = fmax(eo, fabs(y[j] - 4.0 * xin[j]));
			/* the input's cotangent is a sum of three copies: rounding only */
			eg = fmax(eg, fabs(dx[j] - 4.0 * dy[j]) / gmax);
		}
	}
	tap_ok(eo == 0, "all-skip cells: block output = 4 * block input exactly (max err %g)", eo);
	tap_ok(eg < 1e-6, "all-skip cells: input gradient = 4 * output gradient (rel err %g)", eg);
	free(x);
	free(r);
	free(logits);
	free(grad);
	mn_net_free(net);
}

/* The last block's gradient from the head by hand, in double:
 * z = block output [B][cf][hw], xhat = (z - mean) * rstd (batch statistics),
 * y = gamma*xhat + beta, h = relu(y), g = mean over hw, logits = W g + b;
 * objective sum(r * logits).  dh = (W^T r)/hw where y > 0,
 * dz = gamma*rstd*(dh - mean(dh) - xhat*mean(dh*xhat)) per channel. */
static void check_head_grad(void)
{
	struct mn_net_config cfg;
	mn_net_config_eval(&cfg, 4, 1, 8, 5);
	struct mn_net *net = mn_net_create(&cfg);
	unsigned char mask[MN_EDGES];
	memset(mask, MN_MASK_ALL, sizeof mask);
	struct mn_rng rng;
	mn_rng_seed(&rng, 5);
	if (!net || mn_net_set_mask(net, mask) != 0) {
		printf("Bail out! create failed\n");
		exit(1);
	}
	mn_net_init(net, &rng, MN_INIT_CODE);
	const int B = 4, K = 5;
	float *x = randv(&rng, (size_t)B * 3 * 64), *r = randv(&rng, (size_t)B * K);
	float *logits = xmalloc(sizeof(float) * B * K);
	size_t P = mn_net_param_count(net);
	float *grad = xmalloc(sizeof(float) * P);
	objective(net, x, B, r, logits, K);
	if (mn_net_backward(net, r, grad) != 0) {
		printf("Bail out! backward failed\n");
		exit(1);
	}
	int L = mn_net_block_count(net) - 1, cf, h, w;
	const float *z = mn_net_block_output(net, L, &cf, &h, &w);
	const float *dz = mn_net_block_output_grad(net, L, NULL, NULL, NULL);
	if (!z || !dz) {
		tap_ok(0, "last block's output and gradient present");
		return;
	}
	int hw = h * w;
	/* canonical order ends with: final BN gamma [cf], beta [cf], W [K][cf], b [K] */
	const float *p = mn_net_params(net);
	const float *W = p + P - K - (size_t)K * cf, *gamma = W - 2 * cf, *beta = W - cf;
	double err = 0, gmax = 1e-30;
	double *dh = xmalloc(sizeof(double) * B * hw), *xh = xmalloc(sizeof(double) * B * hw);
	for (int c = 0; c < cf; c++) {
		double m = 0, v = 0, M = (double)B * hw;
		for (int n = 0; n < B; n++)
			for (int i = 0; i < hw; i++)
				m += z[((size_t)n * cf + c) * hw + i];
		m /= M;
		for (int n = 0; n < B; n++)
			for (int i = 0; i < hw; i++) {
				double d = z[((size_t)n * cf + c) * hw + i] - m;
				v += d * d;
			}
		double rstd = 1.0 / sqrt(v / M + 1e-5);
		double s1 = 0, s2 = 0;
		for (int n = 0; n < B; n++) {
			double wr = 0;
			for (int k = 0; k < K; k++)
				wr += (double)W[(size_t)k * cf + c] * r[n * K + k];
			for (int i = 0; i < hw; i++) {
				double xv = (z[((size_t)n * cf + c) * hw + i] - m) * rstd;
				double y = gamma[c] * xv + beta[c];
				xh[n * hw + i] = xv;
				dh[n * hw + i] = y > 0 ? wr / hw : 0;
				s1 += dh[n * hw + i];
				s2 += dh[n * hw + i] * xv;
			}
		}
		for (int n = 0; n < B; n++)
			for (int i = 0; i < hw; i++) {
				double want = gamma[c] * rstd *
					      (dh[n * hw + i] - s1 / M - xh[n * hw + i] * s2 / M);
				double got = dz[((size_t)n * cf + c) * hw + i];
				err = fmax(err, fabs(got - want));
				gmax = fmax(gmax, fabs(want));
			}
	}
	/* float forward and backward against double arithmetic on the same
	 * float activations: a few ulps of the largest entry, amplified by the
	 * BN's 1/std (std of O(1) activations) */
	tap_ok(err / gmax < 1e-4, "last block's gradient = the head's backward by hand (rel err %g)",
	       err / gmax);
	free(dh);
	free(xh);
	free(x);
	free(r);
	free(logits);
	free(grad);
	mn_net_free(net);
}

/* Thin network (no stem), N=2: block -1 is the input.  Finite differences
 * need the double build (with float, a step large enough to beat rounding
 * moves some of the many BN-centred pre-activations across their ReLU
 * kink); the float gradients of every block must then match the double
 * build's. */
static void check_thin_fd(void)
{
	struct mn_net_config cfg;
	mn_net_config_thin(&cfg);
	cfg.C = cfg.in_channels = 2;
	cfg.N = 2;
	cfg.H = cfg.W = 4;
	struct mn_net *net = mn_net_create(&cfg);
	struct mn_net_d *nd = mn_net_create_d(&cfg);
	unsigned char mask[MN_EDGES];
	memset(mask, MN_MASK_NO_NONE, sizeof mask);
	struct mn_rng rng;
	mn_rng_seed(&rng, 9);
	if (!net || !nd || mn_net_set_mask(net, mask) != 0 || mn_net_set_mask_d(nd, mask) != 0) {
		printf("Bail out! create failed\n");
		exit(1);
	}
	mn_net_init_d(nd, &rng, MN_INIT_CODE);
	size_t P = mn_net_param_count(net);
	for (size_t i = 0; i < P; i++)
		mn_net_params(net)[i] = (float)mn_net_params_d(nd)[i];
	const int B = 3, K = cfg.classes;
	size_t n = (size_t)B * 2 * 16;
	float *x = randv(&rng, n), *r = randv(&rng, (size_t)B * K);
	double *xd = xmalloc(sizeof(double) * n), *rd = xmalloc(sizeof(double) * B * K);
	double *ld = xmalloc(sizeof(double) * B * K), *gd = xmalloc(sizeof(double) * P);
	for (size_t i = 0; i < n; i++)
		xd[i] = x[i];
	for (int i = 0; i < B * K; i++)
		rd[i] = r[i];
	float *logits = xmalloc(sizeof(float) * B * K);
	float *grad = xmalloc(sizeof(float) * P);
	objective(net, x, B, r, logits, K);
	int c, h, w;
	const float *x0 = mn_net_block_output(net, -1, &c, &h, &w);
	int same = x0 && c == 2 && h == 4 && w == 4 && memcmp(x0, x, sizeof(float) * n) == 0;
	tap_ok(same, "thin network: block -1 is the input");
	if (mn_net_backward(net, r, grad) != 0 || mn_net_forward_d(nd, xd, B, ld) != 0 ||
	    mn_net_backward_d(nd, rd, gd) != 0) {
		printf("Bail out! backward failed\n");
		exit(1);
	}
	/* float against double, every block: rounding of float arithmetic
	 * through two cells and the head (errors seen ~3e-7 of the largest) */
	double ef = 0;
	int present = 1;
	for (int b = -1; b < mn_net_block_count(net); b++) {
		const float *gf = mn_net_block_output_grad(net, b, &c, &h, &w);
		const double *g = mn_net_block_output_grad_d(nd, b, NULL, NULL, NULL);
		if (!gf || !g) {
			present = 0;
			continue;
		}
		double e = 0, m = 1e-30;
		for (int i = 0; i < B * c * h * w; i++) {
			e = fmax(e, fabs(gf[i] - g[i]));
			m = fmax(m, fabs(g[i]));
		}
		ef = fmax(ef, e / m);
	}
	tap_ok(present && ef < 1e-5, "thin network: float block gradients = double's (rel err %g)",
	       ef);
	const double *g0 = mn_net_block_output_grad_d(nd, -1, NULL, NULL, NULL);
	double *g = xmalloc(sizeof(double) * n);
	if (g0)
		memcpy(g, g0, sizeof(double) * n);
	/* double: h = 1e-6 puts rounding (~1e-16/h) and truncation (~h^2)
	 * far below the tolerance */
	const double H = 1e-6;
	double err = 0, gmax = 1e-30;
	for (size_t i = 0; i < n; i++) {
		double s = xd[i], lp = 0, lm = 0;
		xd[i] = s + H;
		int rc = mn_net_forward_d(nd, xd, B, ld);
		for (int k = 0; k < B * K; k++)
			lp += rd[k] * ld[k];
		xd[i] = s - H;
		rc |= mn_net_forward_d(nd, xd, B, ld);
		for (int k = 0; k < B * K; k++)
			lm += rd[k] * ld[k];
		xd[i] = s;
		if (rc != 0) {
			printf("Bail out! forward failed\n");
			exit(1);
		}
		double fd = (lp - lm) / (2 * H);
		err = fmax(err, fabs(fd - g[i]));
		gmax = fmax(gmax, fabs(fd));
	}
	tap_ok(g0 && err / gmax < 1e-6,
	       "thin network: input gradient = central differences (rel err %g)", err / gmax);
	free(g);
	free(x);
	free(r);
	free(xd);
	free(rd);
	free(ld);
	free(gd);
	free(logits);
	free(grad);
	mn_net_free(net);
	mn_net_free_d(nd);
}

int main(void)
{
	check_counts();
	check_full_skip();
	check_head_grad();
	check_thin_fd();
	return tap_done();
}
