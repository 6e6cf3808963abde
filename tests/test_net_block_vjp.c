/* The per-block backward and AZ-NAS's init (nn/net_block.h):
 * - shapes of the blocks and the refused arguments;
 * - an all-skip cell computes 4x its input, so its vector-Jacobian product
 *   is exactly 4 * g_out;
 * - NB201's blocks form a chain, so the full backward's cotangent at block
 *   i-1's output is block i's product applied to the cotangent at block
 *   i's output: checked for every cell and both reduction blocks of a
 *   network with every op active (train-mode BN coupling included);
 * - the fan_in init: gamma 1, beta and biases 0, and a conv tensor's
 *   sample variance near 2 / fan_in. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/blas.h"
#include "nn/net.h"
#include "nn/net_block.h"
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

static struct mn_net *make(const struct mn_arch *a, unsigned mask)
{
	struct mn_net_config cfg;
	mn_net_config_eval(&cfg, 4, 2, 8, 5);
	struct mn_net *net = mn_net_create(&cfg);
	unsigned char m[MN_EDGES];
	memset(m, (int)mask, sizeof m);
	if (!net || (a ? mn_net_set_arch(net, a) : mn_net_set_mask(net, m)) != 0) {
		printf("Bail out! create failed\n");
		exit(1);
	}
	return net;
}

static void check_skip(void)
{
	struct mn_arch a;
	for (int e = 0; e < MN_EDGES; e++)
		a.op[e] = MN_OP_SKIP;
	struct mn_net *net = make(&a, 0);
	struct mn_rng rng;
	mn_rng_seed(&rng, 3);
	mn_net_init_fan_in(net, &rng);
	const int B = 3;
	float *x = randv(&rng, (size_t)B * 3 * 64), *g = randv(&rng, (size_t)B * 4 * 64);
	float *gi = xmalloc(sizeof(float) * B * 4 * 64);
	int c, h, w;
	tap_ok(mn_net_block_vjp(net, 0, g, gi) == -1, "vjp before any forward: refused");
	tap_ok(mn_net_block_shape(net, -1, &c, &h, &w) == 0 && c == 4 && h == 8 &&
		       mn_net_block_shape(net, 2, &c, &h, &w) == 0 && c == 8 && h == 4 && w == 4 &&
		       mn_net_block_shape(net, 7, &c, &h, &w) == 0 && c == 16 && h == 2 &&
		       mn_net_block_shape(net, 8, &c, &h, &w) == -1,
	       "block shapes: stem 4x8x8, reduction 8x4x4, last 16x2x2, 8 out of range");
	if (mn_net_forward(net, x, B, NULL) != 0) {
		printf("Bail out! forward failed\n");
		exit(1);
	}
	tap_ok(mn_net_block_vjp(net, -1, g, gi) == -1 && mn_net_block_vjp(net, 8, g, gi) == -1,
	       "vjp of block -1 or 8: refused");
	double err = 0;
	if (mn_net_block_vjp(net, 1, g, gi) == 0)
		for (int j = 0; j < B * 4 * 64; j++)
			err = fmax(err, fabs(gi[j] - 4.0 * g[j]));
	else
		err = INFINITY;
	tap_ok(err == 0, "all-skip cell: J^T g = 4 g exactly (max err %g)", err);
	free(x);
	free(g);
	free(gi);
	mn_net_free(net);
}

static void check_chain(void)
{
	struct mn_net *net = make(NULL, MN_MASK_ALL);
	struct mn_rng rng;
	mn_rng_seed(&rng, 9);
	mn_net_init_fan_in(net, &rng);
	const int B = 4, K = 5;
	float *x = randv(&rng, (size_t)B * 3 * 64), *r = randv(&rng, (size_t)B * K);
	float *grad = xmalloc(sizeof(float) * mn_net_param_count(net));
	float *gi = xmalloc(sizeof(float) * B * 4 * 64);
	if (mn_net_forward(net, x, B, NULL) != 0 || mn_net_backward(net, r, grad) != 0) {
		printf("Bail out! forward/backward failed\n");
		exit(1);
	}
	int nblk = mn_net_block_count(net), bad = -1;
	double worst = 0;
	for (int i = nblk - 1; i >= 0; i--) {
		int c, h, w;
		const float *go = mn_net_block_output_grad(net, i, NULL, NULL, NULL);
		const float *want = mn_net_block_output_grad(net, i - 1, &c, &h, &w);
		/* go is the network's own buffer: the product must not need a copy */
		if (!go || !want || mn_net_block_vjp(net, i, go, gi) != 0) {
			bad = i;
			break;
		}
		double num = 0, den = 1e-30;
		for (size_t j = 0; j < (size_t)B * c * h * w; j++) {
			num = fmax(num, fabs(gi[j] - want[j]));
			den = fmax(den, fabs(want[j]));
		}
		worst = fmax(worst, num / den);
	}
	tap_ok(bad < 0 && worst < 1e-4,
	       "every block, every op, train-mode BN: J_i^T (full backward's g_i) = g_{i-1} "
	       "(worst rel err %g)", worst);
	free(x);
	free(r);
	free(grad);
	free(gi);
	mn_net_free(net);
}

static void check_init(void)
{
	struct mn_net *net = make(NULL, MN_MASK_ALL);
	struct mn_rng rng;
	mn_rng_seed(&rng, 1);
	mn_net_init_fan_in(net, &rng);
	const float *p = mn_net_params(net);
	/* canonical order: stem conv [4][3][3][3] (fan_in 27), gamma [4], beta
	 * [4]; ... the final BN, linear W [5][16], b [5] at the end */
	double ss = 0;
	for (int i = 0; i < 108; i++)
		ss += (double)p[i] * p[i];
	size_t P = mn_net_param_count(net);
	int ok = 1;
	for (int i = 0; i < 4; i++)
		ok &= p[108 + i] == 1 && p[112 + i] == 0;
	for (size_t i = P - 5; i < P; i++)
		ok &= p[i] == 0;
	tap_ok(ok, "init: BN gamma 1, beta 0, linear bias 0");
	double var = ss / 108, want = 2.0 / 27;
	tap_ok(fabs(var / want - 1) < 0.4, "init: stem conv variance %.4f near 2/fan_in = %.4f", var,
	       want);
	mn_net_free(net);
}

int main(void)
{
	mn_blas_set_threads(1);
	check_skip();
	check_chain();
	check_init();
	return tap_done();
}
