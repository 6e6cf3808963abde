/* The deployed int8 network (micronas deploy): the NB201 network with real
 * weights, run by the firmware and by the host (the reference the board
 * must match bit for bit).  The model is constant data (model.c, written
 * by `micronas deploy`); mnq_run executes it with the kernels of
 * kernels.h plus the per-channel convolution below, following the
 * executor's buffer rules (PROTOCOL.md, "Memory rules") in the cell edge
 * order the memory planner chose.
 *
 * Quantization (TFLite Micro / CMSIS-NN int8): symmetric, zero point 0;
 * conv weights per output channel, activations per tensor; int32 biases
 * in the accumulator's scale (input scale x weight scale); requantization
 * by a Q31 multiplier and a shift per output channel (mnq_requant); adds
 * rescale both operands to the output scale with Q15 factors (mnk_add);
 * the final BN is a Q14 per-channel affine (mnk_bn_relu); the global
 * average pool is folded into the classifier: it takes the int32 sums over
 * the pixels (its weights carry the 1/(H*W)), so the pooled features are
 * never rounded to int8 (that rounding was the largest single source of
 * int8/float top-1 disagreement, bench/bench_export.sh); the classifier
 * has one weight scale, so its int32 logits share one scale and their
 * argmax is the prediction. */
#ifndef MN_FW_QNET_H
#define MN_FW_QNET_H

#include <stdint.h>

#include "kernels.h"

/* saturate8(round(acc * mult / 2^(31 + shift))), round half up, for
 * -30 <= shift <= 31 (64-bit arithmetic; the multiplier may be > 0.5,
 * unlike mnk_requant's). */
static inline int8_t mnq_requant(int32_t acc, int32_t mult, int shift)
{
	if (shift >= 2 && shift <= 31) {
		/* The usual case, per output channel: the rounding constant
		 * 2^(30 + shift) is a multiple of 2^32, so the high word of
		 * acc * mult plus 2^(shift - 2), shifted, is the exact result
		 * (|hi| <= 2^30: no overflow).  Unlike mnk_requant's form it
		 * needs no 64-bit constant per channel: a per-tensor
		 * requantization's cost (bench/bench_export.sh). */
		int32_t hi = (int32_t)(((int64_t)acc * mult) >> 32);
		int32_t r = (hi + (1 << (shift - 2))) >> (shift - 1);
		return (int8_t)(r > 127 ? 127 : (r < -128 ? -128 : r));
	}
	int64_t p = (int64_t)acc * mult + ((int64_t)1 << (30 + shift));
	int64_t r = p >> (31 + shift);
	return (int8_t)(r > 127 ? 127 : (r < -128 ? -128 : r));
}

/* Convolution as mnk_conv (HWC, OHWI weights, padding k/2, cin <=
 * MNP_MAX_CHANNELS), with a multiplier and shift per output channel.  On
 * a core with the DSP extension it uses mnk_conv's SMLAD dot products
 * (bit-identical); weights need MNK_WEIGHT_SLACK readable bytes after the
 * last row. */
void mnq_conv(const int8_t *in, int h, int w, int cin, const int8_t *wt, const int32_t *bias,
	      int cout, int k, int stride, int relu_in, const int32_t *mult, const int8_t *shift,
	      int8_t *out);

struct mnq_conv {
	const int8_t *w;      /* [cout][k][k][cin] */
	const int32_t *b;     /* [cout], or NULL */
	const int32_t *mult;  /* [cout] */
	const int8_t *shift;  /* [cout] */
	uint16_t cin, cout;
	uint8_t k, stride, relu_in;
};

struct mnq_add {
	int32_t ma, mb; /* Q15, 0 < m < 2^15 */
};

struct mnq_net {
	/* the input is height x width x stem->cin (HWC); each reduction halves
	 * both sides rounding up, as the executor and the host's mn_half_side */
	uint16_t channels, cells, height, width, classes;
	uint8_t ops[6];                 /* MNP_NB_* of each edge */
	uint8_t n_order, order[6];      /* the cell's edge order */
	const struct mnq_conv *stem;
	const struct mnq_conv *edge;    /* [3 * cells][6]: conv edges */
	const struct mnq_add *cell_add; /* [3 * cells][6]: add joining edge e's output */
	const struct mnq_conv *red;     /* [2][3]: conv_a, conv_b, shortcut */
	const struct mnq_add *red_add;  /* [2] */
	const int32_t *head_g, *head_b; /* [4C], Q14 (mnk_bn_relu) */
	const int8_t *fc_w;             /* [classes][4C], applied to the pool's sums */
	const int32_t *fc_b;            /* [classes] */
};

/* Peak arena bytes mnq_run needs (4-byte aligned buffers). */
uint32_t mnq_arena_bytes(const struct mnq_net *net);

/* image: height x width x stem->cin int8 (HWC, quantized with the model's
 * input scale);
 * logits: classes int32.  0, or -1 when the arena is too small. */
int mnq_run(const struct mnq_net *net, const int8_t *image, int32_t *logits, uint8_t *arena,
	    uint32_t arena_len);

/* The model's fingerprint (model_id.c): CRC-32 of every number that
 * decides its outputs (shape, ops, order, weights, biases, multipliers,
 * shifts, add factors, head), in a fixed order with integers little-endian,
 * so the firmware and the host compute it alike.  *bytes (may be NULL) is
 * the count of bytes covered. */
uint32_t mnq_fingerprint(const struct mnq_net *net, uint32_t *bytes);

#endif
