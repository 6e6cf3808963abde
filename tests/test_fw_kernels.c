/* Host checks of the board kernels (fw-profiler/kernels.c, plain C path)
 * and of the executor's memory rules (fw-profiler/exec.c): rounding rules
 * against slow exact versions, and measured peaks against values worked
 * out by hand from the rules in PROTOCOL.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec.h"
#include "kernels.h"
#include "protocol.h"
#include "tap.h"

#define ARENA (240u * 1024u)

struct host {
	uint8_t *blob;
	int32_t *bias;
	uint8_t *arena;
	int8_t scratch[MNX_SCRATCH_BYTES];
	struct mnx_ctx ctx;
};

static int host_init(struct host *h, uint32_t arena_len)
{
	h->blob = malloc(MNP_BLOB_BYTES);
	h->bias = malloc(4u * MNP_BIAS_COUNT);
	h->arena = malloc(arena_len ? arena_len : 1);
	if (!h->blob || !h->bias || !h->arena)
		return -1;
	mnp_blob_fill(h->blob);
	for (uint32_t i = 0; i < MNP_BIAS_COUNT; i++)
		h->bias[i] = mnp_bias_at(i);
	h->ctx.weights = (const int8_t *)h->blob;
	h->ctx.weights_len = MNP_WEIGHTS_BYTES;
	h->ctx.biases = h->bias;
	h->ctx.biases_len = MNP_BIAS_COUNT;
	h->ctx.arena = h->arena;
	h->ctx.arena_len = arena_len;
	h->ctx.scratch = h->scratch;
	h->ctx.scratch_len = MNX_SCRATCH_BYTES;
	h->ctx.now = NULL;
	return 0;
}

static void host_free(struct host *h)
{
	free(h->blob);
	free(h->bias);
	free(h->arena);
}

/* ---- Rounding ---- */

/* floor(a / 2^t) for any sign, without relying on >> of negatives */
static int64_t floor_shift(int64_t a, int t)
{
	int64_t d = (int64_t)1 << t;
	int64_t q = a / d;
	if (a % d != 0 && a < 0)
		q--;
	return q;
}

static void test_rounding(void)
{
	int ok = 1;
	struct mnp_prng r;

	for (int n = 1; n <= 9; n++)
		for (int s = -9 * 128; s <= 9 * 127; s++) {
			int a = s < 0 ? -s : s;
			int want = (a + n / 2) / n;
			if (s < 0)
				want = -want;
			ok &= mnk_div_round_small(s, n) == want && mnk_div_round(s, n) == want;
		}
	tap_ok(ok, "window average: reciprocal division equals (|s| + n/2) / n with sign, every s and n = 1..9");
	tap_ok(mnk_div_round_small(5, 2) == 3 && mnk_div_round_small(-5, 2) == -3 &&
		   mnk_div_round_small(-4, 9) == 0 && mnk_div_round_small(-5, 9) == -1,
	       "window average rounds half away from zero (5/2 -> 3, -5/2 -> -3)");

	mnp_prng_seed(&r, 3);
	for (int i = 0; i < 200000 && ok; i++) {
		int32_t acc = (int32_t)mnp_prng_next(&r) >> (mnp_prng_next(&r) % 24);
		int32_t mult = (int32_t)(0x40000000u | (mnp_prng_next(&r) & 0x3FFFFFFFu));
		int shift = 1 + (int)(mnp_prng_next(&r) % 30);
		int64_t want = floor_shift((int64_t)acc * mult + ((int64_t)1 << (30 + shift)), 31 + shift);
		if (want > 127)
			want = 127;
		if (want < -128)
			want = -128;
		ok &= mnk_requant(acc, mult, shift) == want;
	}
	tap_ok(ok, "requantisation equals saturate(floor((acc*mult + 2^(30+s)) / 2^(31+s))) on 200000 cases");
	/* scale 2^30 / 2^41 = 2^-11: acc 2^10 is 0.5, 3 * 2^10 is 1.5 */
	tap_ok(mnk_requant(1 << 10, 1 << 30, 10) == 1 && mnk_requant(3 << 10, 1 << 30, 10) == 2 &&
		   mnk_requant(-(1 << 10), 1 << 30, 10) == 0 && mnk_requant(-(3 << 10), 1 << 30, 10) == -1,
	       "requantisation rounds half up: 0.5 -> 1, 1.5 -> 2, -0.5 -> 0, -1.5 -> -1");
}

/* ---- Kernels ---- */

static void test_kernels(void)
{
	int8_t in[5 * 7 * 6], out[5 * 7 * 8], scratch[MNX_SCRATCH_BYTES];
	int8_t w[8 * 9 * 6 + MNK_WEIGHT_SLACK];
	int32_t bias[8];
	int ok = 1;

	/* ReLU-first: all-negative input -> every output is requant(bias) */
	memset(in, -100, sizeof in);
	for (size_t i = 0; i < sizeof w; i++)
		w[i] = (int8_t)(i * 37 + 11);
	for (int i = 0; i < 8; i++)
		bias[i] = (i - 4) * 3000;
	mnk_conv(in, 5, 7, 6, w, bias, 8, 3, 1, 1, 1 << 30, 4, out, scratch);
	for (int i = 0; i < 5 * 7 * 8; i++)
		ok &= out[i] == mnk_requant(bias[i % 8], 1 << 30, 4);
	tap_ok(ok, "conv3x3 with ReLU-first on an all-negative input outputs requant(bias) only");
	tap_ok(in[0] == -100 && in[sizeof in - 1] == -100, "the conv input buffer is left untouched (read-only ReLU)");

	/* a 1x1 conv with identity-like weights and no ReLU reproduces x */
	{
		int8_t x[4 * 3] = {-128, 5, 127, -7, 0, 1, 2, 3, -1, -2, 99, -99};
		int8_t wi[9 + MNK_WEIGHT_SLACK] = {1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0};
		int8_t y[12];
		/* scale = mult / 2^(31 + shift) = 2^30 / 2^32 = 1/4 */
		mnk_conv(x, 2, 2, 3, wi, NULL, 3, 1, 1, 0, 1 << 30, 1, y, scratch);
		ok = 1;
		for (int i = 0; i < 12; i++)
			ok &= y[i] == (int8_t)floor_shift((int64_t)x[i] + 2, 2);
		tap_ok(ok, "conv1x1 with one-hot weights, no ReLU, no bias gives x/4 rounded half up");
	}

	/* avg pool of a constant is the constant; a corner averages 4 */
	{
		int8_t c[4 * 5 * 3], o[4 * 5 * 3];
		memset(c, -37, sizeof c);
		mnk_avgpool3x3(c, 4, 5, 3, o);
		ok = memcmp(c, o, sizeof c) == 0;
		for (int i = 0; i < 60; i++)
			c[i] = (int8_t)i;
		mnk_avgpool3x3(c, 4, 5, 3, o);
		/* corner (0,0) ch 0: (0 + 3 + 15 + 18) / 4 = 9 */
		tap_ok(ok && o[0] == 9, "avgpool3x3: constant stays constant; corner averages its 4 valid cells");
	}

	/* add: (a*ma + b*mb + 2^14) >> 15, saturating */
	{
		int8_t a[5] = {100, -100, 10, 127, -128};
		const int8_t b[5] = {100, -100, -10, 127, -128};
		mnk_add(a, b, 5, 1 << 15 >> 1, 1 << 15 >> 1);
		tap_ok(a[0] == 100 && a[1] == -100 && a[2] == 0 && a[3] == 127 && a[4] == -128,
		       "add with factors 0.5 and 0.5 averages and saturates");
		a[0] = 120;
		mnk_add(a, b, 1, 26000, 26000);
		tap_ok(a[0] == 127, "add saturates at 127");
	}

	/* head pieces */
	{
		int8_t x[2 * 2] = {-5, 10, 20, -30};
		int32_t g[2] = {16384, 8192}, bb[2] = {0, 0};
		int8_t pooled[2];
		const int8_t fw[4] = {1, 2, -3, 4};
		const int32_t fb[2] = {1000, -1000};
		uint8_t logits[8];
		mnk_bn_relu(x, 2, 2, g, bb);
		tap_ok(x[0] == 0 && x[1] == 5 && x[2] == 20 && x[3] == 0,
		       "BN+ReLU: per-channel scale (1.0, 0.5) then ReLU");
		mnk_gap(x, 2, 2, pooled);
		tap_ok(pooled[0] == 10 && pooled[1] == 3, "global average pool rounds half away from zero (5/2 -> 3)");
		mnk_linear(pooled, 2, fw, fb, 2, logits);
		tap_ok(mnp_get_u32(logits) == 1016 && (int32_t)mnp_get_u32(logits + 4) == -1018,
		       "linear: int32 logits with bias, little-endian");
	}
}

/* ---- The patch gather ---- */

/* The receptive field tap by tap, the obvious way: the reference
 * mnk_patch's row copies must equal. */
static void patch_ref(const int8_t *in, int h, int w, int cin, int k, int stride, int relu, int oy,
		      int ox, int8_t *patch)
{
	for (int ky = 0; ky < k; ky++)
		for (int kx = 0; kx < k; kx++)
			for (int ic = 0; ic < cin; ic++) {
				int iy = oy * stride - k / 2 + ky, ix = ox * stride - k / 2 + kx;
				int v = iy < 0 || iy >= h || ix < 0 || ix >= w
						? 0
						: in[((size_t)iy * w + ix) * cin + ic];
				patch[(ky * k + kx) * cin + ic] = (int8_t)(relu && v < 0 ? 0 : v);
			}
}

/* Every output pixel of k = 1 and 3, stride 1 and 2, with and without
 * ReLU, on odd and even sides and channel counts that are and are not
 * multiples of 4 (the ReLU copy's word loop and its tail). */
static void test_patch(void)
{
	static const int dims[][3] = {{5, 7, 6}, {4, 4, 3}, {1, 9, 5}, {7, 1, 8}, {3, 5, 1}};
	int8_t in[9 * 9 * 8], got[9 * 8 + 8], want[9 * 8];
	struct mnp_prng r;
	int cases = 0, bad = 0;
	mnp_prng_seed(&r, 7);
	for (size_t i = 0; i < sizeof in; i++)
		in[i] = (int8_t)(mnp_prng_next(&r) & 0xFF);
	for (size_t d = 0; d < sizeof dims / sizeof dims[0]; d++)
		for (int k = 1; k <= 3; k += 2)
			for (int stride = 1; stride <= 2; stride++)
				for (int relu = 0; relu <= 1; relu++) {
					int h = dims[d][0], w = dims[d][1], cin = dims[d][2], K = k * k * cin;
					int ho = (h + 2 * (k / 2) - k) / stride + 1;
					int wo = (w + 2 * (k / 2) - k) / stride + 1;
					for (int oy = 0; oy < ho; oy++)
						for (int ox = 0; ox < wo; ox++) {
							memset(got, 0x5A, sizeof got);
							mnk_patch(in, h, w, cin, k, stride, relu, oy, ox, got);
							patch_ref(in, h, w, cin, k, stride, relu, oy, ox, want);
							bad += memcmp(got, want, (size_t)K) != 0 ||
							       got[K] != 0x5A;
							cases++;
						}
				}
	tap_ok(bad == 0, "patch gather equals the tap-by-tap gather at every pixel, writes nothing past it "
			 "(k 1 and 3, stride 1 and 2, ReLU or not, 5 shapes: %d of %d differ)",
	       bad, cases);
}

/* ---- Executor memory rules ---- */

static struct mnp_run_req arch(const uint8_t ops[6], const uint8_t *order, int n_order)
{
	struct mnp_run_req q;
	memset(&q, 0, sizeof q);
	q.channels = 4;
	q.cells = 1;
	q.resolution = 16;
	q.classes = 10;
	q.seed = 11;
	memcpy(q.ops, ops, 6);
	q.n_order = (uint8_t)n_order;
	memcpy(q.order, order, (size_t)n_order);
	return q;
}

static void test_peaks(struct host *h)
{
	struct mnx_run_result res;
	struct mnp_run_req q;
	int rc;
	static const uint8_t seq[6] = {0, 1, 2, 3, 4, 5};
	/* C=4, R=16: S = 4*16*16 = 1024.  Stem: image 3*256 = 768 plus stem
	 * output 1024 = 1792.  Reduction 1: x 1024 + a (8ch 8x8) 512 + p
	 * (4ch 8x8) 256 = 1792. */
	{
		const uint8_t none[6] = {0};
		q = arch(none, seq, 0);
		rc = mnx_run_arch(&h->ctx, &q, MNX_EXEC, &res);
		tap_ok(rc == MNP_OK && res.peak == 1792 &&
			   res.sec_peak[MNP_SEC_STAGE1] == 1024 && res.sec_peak[MNP_SEC_STEM] == 1792 &&
			   res.sec_peak[MNP_SEC_RED1] == 1792,
		       "peak, all-none cell: the stem and the reduction (1792) dominate (got %u)", res.peak);
	}
	{
		const uint8_t c3[6] = {3, 3, 3, 3, 3, 3};
		/* 1<-0: 2S; 2<-0: 3S; 2<-1: 4S then add; 3<-0: 4S then node 0
		 * freed; 3<-1: 4S; 3<-2: 3S.  Peak 4S = 4096. */
		q = arch(c3, seq, 6);
		rc = mnx_run_arch(&h->ctx, &q, MNX_EXEC, &res);
		tap_ok(rc == MNP_OK && res.peak == 4096 &&
			   res.sec_peak[MNP_SEC_STAGE1] == 4096,
		       "peak, all-conv3x3 in edge order: 4S = 4096 (got %u)", res.peak);
	}
	{
		const uint8_t sk[6] = {1, 1, 1, 1, 1, 1};
		/* 1<-0 copy (2S), 2<-0 copy (3S), 2<-1 add, 3<-0 takes node 0's
		 * buffer (3S), 3<-1 add + free, 3<-2 add + free.  Peak 3S. */
		q = arch(sk, seq, 6);
		rc = mnx_run_arch(&h->ctx, &q, MNX_EXEC, &res);
		tap_ok(rc == MNP_OK && res.peak == 3072,
		       "peak, all-skip: copies while a node has later readers, take-over on its last read: 3S (got %u)",
		       res.peak);
	}
	{
		const uint8_t ch[6] = {2, 0, 3, 0, 0, 4};
		const uint8_t o[3] = {0, 2, 5};
		/* a chain: each edge allocates its output while its source is
		 * live (2S), then frees the source.  Peak 2S = 2048. */
		q = arch(ch, o, 3);
		rc = mnx_run_arch(&h->ctx, &q, MNX_EXEC, &res);
		tap_ok(rc == MNP_OK && res.peak == 2048,
		       "peak, chain conv1x1 -> conv3x3 -> avgpool: 2S (got %u)", res.peak);
	}
	{
		const uint8_t dead[6] = {3, 0, 0, 1, 0, 0};
		const uint8_t o1[2] = {0, 3}, o2[2] = {3, 0};
		uint32_t p1, p2;
		/* node 1 has no readers: computed, then freed.  Order 0,3:
		 * 1<-0 conv (2S), node 1 dead -> freed, 3<-0 skip takes node 0
		 * over: 2S.  Order 3,0: 3<-0 skip must copy (node 0 still read
		 * by 1<-0): 2S, then 1<-0 allocates: 3S. */
		q = arch(dead, o1, 2);
		rc = mnx_run_arch(&h->ctx, &q, MNX_EXEC, &res);
		p1 = res.peak;
		q = arch(dead, o2, 2);
		rc |= mnx_run_arch(&h->ctx, &q, MNX_EXEC, &res);
		p2 = res.peak;
		tap_ok(rc == MNP_OK && p1 == 2048 && p2 == 3072, "peak depends on the edge order: 2S vs 3S (got %u, %u)", p1, p2);
	}
	{
		const uint8_t c3[6] = {3, 3, 3, 3, 3, 3};
		struct mnp_run_req big = arch(c3, seq, 6);
		big.channels = 48;
		big.resolution = 36;
		/* S = 48*36*36 = 62208; 4S = 248832 > 245760 */
		rc = mnx_run_arch(&h->ctx, &big, MNX_EXEC, &res);
		tap_ok(rc == MNP_ERR_OUT_OF_MEMORY && res.detail == 248832 && res.detail2 == ARENA,
		       "out of memory reports the bytes needed (248832) and the arena (%u): rc %d, %u",
		       ARENA, rc, res.detail);
	}
}

static void test_requests(struct host *h)
{
	struct mnx_run_result res;
	struct mnp_run_req q;
	static const uint8_t seq[6] = {0, 1, 2, 3, 4, 5};
	const uint8_t c3[6] = {3, 3, 3, 3, 3, 3};
	const uint8_t bad_order[6] = {2, 0, 1, 3, 4, 5}; /* 2<-1 before 1<-0 */
	const uint8_t dup[6] = {0, 0, 1, 2, 3, 4};

	q = arch(c3, bad_order, 6);
	tap_ok(mnx_run_arch(&h->ctx, &q, MNX_PLAN, &res) == MNP_ERR_BAD_REQUEST,
	       "an edge before its source node is complete is BAD_REQUEST");
	q = arch(c3, dup, 6);
	tap_ok(mnx_run_arch(&h->ctx, &q, MNX_PLAN, &res) == MNP_ERR_BAD_REQUEST,
	       "a repeated edge in the order is BAD_REQUEST");
	q = arch(c3, seq, 5);
	tap_ok(mnx_run_arch(&h->ctx, &q, MNX_PLAN, &res) == MNP_ERR_BAD_REQUEST,
	       "an order shorter than the non-none edges is BAD_REQUEST");
	{
		const uint8_t two[6] = {3, 0, 0, 0, 0, 0};
		q = arch(two, seq, 2);
		tap_ok(mnx_run_arch(&h->ctx, &q, MNX_PLAN, &res) == MNP_ERR_BAD_REQUEST,
		       "a none edge in the order is BAD_REQUEST");
	}
	q = arch(c3, seq, 6);
	q.resolution = 18;
	tap_ok(mnx_run_arch(&h->ctx, &q, MNX_PLAN, &res) == MNP_ERR_UNSUPPORTED,
	       "a resolution not divisible by 4 is UNSUPPORTED");
	q.resolution = 16;
	q.ops[2] = 5;
	tap_ok(mnx_run_arch(&h->ctx, &q, MNX_PLAN, &res) == MNP_ERR_UNSUPPORTED,
	       "an op index above 4 is UNSUPPORTED");
	q.ops[2] = 3;
	q.channels = 64; /* 4C = 256 channels: head conv slices fit? conv3x3 at 256 is too big */
	q.resolution = 4;
	tap_ok(mnx_run_arch(&h->ctx, &q, MNX_PLAN, &res) == MNP_ERR_UNSUPPORTED,
	       "a layer whose weights exceed the flash table is UNSUPPORTED");
	{
		struct mnp_kcheck_req k = {MNP_OP_REDUCTION, 8, 7, 8, 0, 1, 0};
		struct mnx_op_result o;
		/* Odd sides halve to ceil(n/2), as a 49x10 network's stages do. */
		tap_ok(mnx_op_run(&h->ctx, &k, 1, NULL, &o) == MNP_OK && o.out_bytes == 2u * 8u * 4u * 4u,
		       "a reduction on an odd height runs to 2C x ceil(H/2) x W/2 (%u bytes)", o.out_bytes);
		k.in_channels = 1;
		tap_ok(mnx_op_run(&h->ctx, &k, 1, NULL, &o) == MNP_ERR_BAD_REQUEST,
		       "input channels on an op other than the stem are BAD_REQUEST");
		k.op = MNP_OP_STEM;
		tap_ok(mnx_op_run(&h->ctx, &k, 1, NULL, &o) == MNP_OK && o.arena_bytes == 1u * 7u * 8u + 8u * 7u * 8u &&
			       o.out_bytes == 8u * 7u * 8u,
		       "a grayscale stem's buffers are the 1-channel image and the output (%u bytes)", o.arena_bytes);
		k.in_channels = 0;
		tap_ok(mnx_op_run(&h->ctx, &k, 1, NULL, &o) == MNP_OK && o.arena_bytes == 3u * 7u * 8u + 8u * 7u * 8u,
		       "a stem asking for 0 input channels runs RGB, as before the field (%u bytes)", o.arena_bytes);
		k.op = 0;
		tap_ok(mnx_op_run(&h->ctx, &k, 1, NULL, &o) == MNP_ERR_UNSUPPORTED, "op kind 0 is UNSUPPORTED");
	}
}

/* Fits iff the peak fits: with an arena of exactly the peak the run
 * succeeds (compacting when fragmented) and gives the same logits. */
static void test_exact_fit(struct host *big)
{
	static const uint8_t archs[4][6] = {
	    {3, 2, 3, 1, 4, 3}, {1, 1, 1, 1, 1, 1}, {4, 3, 1, 2, 0, 3}, {2, 4, 1, 3, 3, 1}};
	static const uint8_t orders[4][6] = {
	    {0, 1, 2, 3, 4, 5}, {3, 1, 0, 2, 4, 5}, {1, 0, 3, 2, 5, 0}, {0, 3, 1, 2, 4, 5}};
	static const uint8_t norder[4] = {6, 6, 5, 6};
	int ok = 1, compacted = 0;

	for (int a = 0; a < 4; a++) {
		struct mnx_run_result r1, r2, r3;
		struct mnp_run_req q = arch(archs[a], orders[a], norder[a]);
		struct host tight;
		q.channels = 6;
		q.cells = 2;
		q.resolution = 12;
		ok &= mnx_run_arch(&big->ctx, &q, MNX_EXEC, &r1) == MNP_OK;
		if (host_init(&tight, r1.peak) != 0) {
			ok = 0;
			break;
		}
		ok &= mnx_run_arch(&tight.ctx, &q, MNX_EXEC, &r2) == MNP_OK &&
		      r2.peak == r1.peak && r2.logits_crc == r1.logits_crc;
		compacted += r2.compactions > 0;
		host_free(&tight);
		if (host_init(&tight, r1.peak - 4) != 0) {
			ok = 0;
			break;
		}
		ok &= mnx_run_arch(&tight.ctx, &q, MNX_EXEC, &r3) == MNP_ERR_OUT_OF_MEMORY &&
		      r3.detail == r1.peak;
		host_free(&tight);
	}
	tap_ok(ok, "an arena of exactly the peak runs with identical logits; 4 bytes less is OUT_OF_MEMORY");
	tap_diag("%d of 4 exact-fit runs needed compaction", compacted);
}

static void test_determinism(struct host *h)
{
	struct mnx_run_result a, b;
	static const uint8_t seq[6] = {0, 1, 2, 3, 4, 5};
	const uint8_t ops[6] = {3, 2, 3, 1, 4, 3};
	struct mnp_run_req q = arch(ops, seq, 6);
	struct mnx_op_result o1, o2;
	struct mnp_kcheck_req k = {MNP_OP_CONV3X3, 8, 6, 6, 0, 5, 0};

	int rc = mnx_run_arch(&h->ctx, &q, MNX_EXEC, &a);
	rc |= mnx_run_arch(&h->ctx, &q, MNX_EXEC, &b);
	tap_ok(rc == MNP_OK && a.logits_crc == b.logits_crc && a.peak == b.peak,
	       "a network run is deterministic");
	q.seed = 12;
	rc = mnx_run_arch(&h->ctx, &q, MNX_EXEC, &b);
	tap_ok(rc == MNP_OK && a.logits_crc != b.logits_crc, "another seed gives other logits");
	rc = mnx_op_run(&h->ctx, &k, 1, NULL, &o1);
	rc |= mnx_op_run(&h->ctx, &k, 3, NULL, &o2);
	tap_ok(rc == MNP_OK && o1.out_crc == o2.out_crc && o1.arena_bytes == 2u * 8 * 36 && o1.out_bytes == 8 * 36,
	       "a conv op's output does not depend on the number of runs; its buffers are in + out");
}

int main(void)
{
	struct host h;

	test_rounding();
	test_kernels();
	test_patch();
	if (host_init(&h, ARENA) != 0) {
		tap_ok(0, "allocating the host model (out of memory)");
		return tap_done();
	}
	test_peaks(&h);
	test_requests(&h);
	test_exact_fit(&h);
	test_determinism(&h);
	host_free(&h);
	return tap_done();
}
