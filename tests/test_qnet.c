/* Host checks of the deployed model's per-channel convolution
 * (fw-profiler/qnet.c, plain C path) against the per-tensor kernel
 * (kernels.c): the profiler's convolutions run mnq_conv with the synthetic
 * layer's one multiplier and shift repeated per channel (exec.c), so that a
 * profiled op costs what a deployed model's does; its outputs, and so every
 * CRC the host compares with the board, must stay those of mnk_conv. */
#include <stdint.h>
#include <string.h>

#include "kernels.h"
#include "protocol.h"
#include "qnet.h"
#include "tap.h"

/* mnq_requant's fast path (shift 2..30, the high word of acc * mult) and
 * its general path equal mnk_requant's formula wherever both apply. */
static void test_requant(void)
{
	struct mnp_prng r;
	int ok = 1, n = 0;
	mnp_prng_seed(&r, 11);
	for (int i = 0; i < 300000 && ok; i++) {
		int32_t acc = (int32_t)mnp_prng_next(&r) >> (mnp_prng_next(&r) % 28);
		int32_t mult = (int32_t)(0x40000000u | (mnp_prng_next(&r) & 0x3FFFFFFFu));
		int shift = 1 + (int)(mnp_prng_next(&r) % 30);
		ok &= mnq_requant(acc, mult, shift) == mnk_requant(acc, mult, shift);
		n++;
	}
	tap_ok(ok, "per-channel requantization equals the per-tensor one for shifts 1..30 (%d cases)", n);
	/* Extremes: the largest accumulators and multiplier at the fast
	 * path's smallest shift saturate alike. */
	tap_ok(mnq_requant(INT32_MAX, INT32_MAX, 2) == mnk_requant(INT32_MAX, INT32_MAX, 2) &&
		   mnq_requant(INT32_MIN, INT32_MAX, 2) == mnk_requant(INT32_MIN, INT32_MAX, 2) &&
		   mnq_requant(-1, 1 << 30, 2) == mnk_requant(-1, 1 << 30, 2),
	       "per-channel and per-tensor requantization agree at the int32 extremes");
}

/* mnq_conv with one scale repeated per channel gives mnk_conv's outputs on
 * random inputs, weights and biases, for both kernel sizes, both strides,
 * with and without ReLU-first and bias, odd and even sides. */
static void test_conv(void)
{
	enum { H = 7, W = 5, CIN = 12, COUT = 10 };
	static int8_t in[H * W * CIN], w[COUT * 9 * CIN + MNK_WEIGHT_SLACK];
	static int8_t a[H * W * COUT], b[H * W * COUT], scratch[9 * MNP_MAX_CHANNELS];
	int32_t bias[COUT], mult[COUT];
	int8_t shift[COUT];
	struct mnp_prng r;
	int ok = 1, cases = 0;
	mnp_prng_seed(&r, 5);
	for (int t = 0; t < 64; t++) {
		int k = t & 1 ? 3 : 1, stride = t & 2 ? 2 : 1, relu = (t >> 2) & 1, has_b = (t >> 3) & 1;
		int cin = 1 + (int)(mnp_prng_next(&r) % CIN), cout = 1 + (int)(mnp_prng_next(&r) % COUT);
		int32_t m = (int32_t)(0x40000000u | (mnp_prng_next(&r) & 0x3FFFFFFFu));
		int s = 2 + (int)(mnp_prng_next(&r) % 10);
		mnp_prng_fill_i8(&r, in, sizeof in);
		mnp_prng_fill_i8(&r, w, sizeof w);
		for (int i = 0; i < COUT; i++) {
			bias[i] = (int32_t)(mnp_prng_next(&r) % 40001u) - 20000;
			mult[i] = m;
			shift[i] = (int8_t)s;
		}
		int ho = (H + 2 * (k / 2) - k) / stride + 1, wo = (W + 2 * (k / 2) - k) / stride + 1;
		size_t n = (size_t)ho * wo * cout;
		memset(a, 0x55, sizeof a);
		memset(b, 0x2a, sizeof b);
		mnk_conv(in, H, W, cin, w, has_b ? bias : NULL, cout, k, stride, relu, m, s, a, scratch);
		mnq_conv(in, H, W, cin, w, has_b ? bias : NULL, cout, k, stride, relu, mult, shift, b);
		ok &= memcmp(a, b, n) == 0;
		cases++;
	}
	tap_ok(ok, "per-channel conv with one repeated scale equals the per-tensor conv (%d shapes)",
	       cases);
}

int main(void)
{
	test_requant();
	test_conv();
	return tap_done();
}
