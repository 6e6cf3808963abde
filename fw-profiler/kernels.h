/* int8 kernels for the NB201 network, shared by the firmware and the host.
 *
 * Layout: HWC (NHWC with batch 1): element (y, x, c) of an H x W x C
 * tensor is at index (y * W + x) * C + c.  Conv weights are OHWI:
 * weight (oc, ky, kx, ic) is at ((oc * k + ky) * k + kx) * Cin + ic.
 *
 * Quantisation: per-tensor symmetric, zero point 0.  Conv accumulators are
 * int32 (bias = folded BN); requantisation multiplies by an int32 Q31
 * multiplier `mult` and shifts right by 31 + `shift` (1 <= shift <= 30)
 * with round-half-up (add 2^(30+shift), then arithmetic shift), then
 * saturates to [-128, 127] -- see mnk_requant().
 *
 * The plain C path is the reference.  When compiled for a core with the
 * DSP/SIMD extension (__ARM_FEATURE_DSP, e.g. Cortex-M7) the hot kernels
 * use SMLAD/SXTB16/SXTAB16; integer sums are exact either way, so both
 * paths give bit-identical outputs (tested through KERNEL_CHECK). */
#ifndef MN_FW_KERNELS_H
#define MN_FW_KERNELS_H

#include <stdint.h>

#if defined(__ARM_FEATURE_DSP) && defined(__ARM_FEATURE_SIMD32) && \
	!defined(MNK_FORCE_PLAIN)
#define MNK_USE_DSP 1
#else
#define MNK_USE_DSP 0
#endif

/* Requantise an accumulator: saturate8(floor((acc * mult + 2^(30+shift))
 * / 2^(31+shift))). */
static inline int8_t mnk_requant(int32_t acc, int32_t mult, int shift)
{
	int64_t p = (int64_t)acc * mult + ((int64_t)1 << (30 + shift));
	/* >= 32 bits of shift: take the high word, then shift the rest.
	 * Arithmetic right shift of negative values (GCC and Clang define
	 * it so) gives floor division. */
	int32_t hi = (int32_t)(p >> 32);
	int32_t r = hi >> (shift - 1);
	if (r > 127)
		r = 127;
	if (r < -128)
		r = -128;
	return (int8_t)r;
}

/* Integer division of a window sum by the number of valid elements n
 * (1..9) with rounding half away from zero, via an exact reciprocal:
 * for |s| <= 9 * 128 and n <= 9, (|s| + n/2) * ceil(2^16 / n) >> 16 equals
 * (|s| + n/2) / n (checked exhaustively by the host tests). */
static inline int32_t mnk_div_round_small(int32_t s, int32_t n)
{
	static const uint32_t recip[10] = {0,     65536, 32768, 21846, 16384,
					   13108, 10923, 9363,  8192,  7282};
	uint32_t a = (uint32_t)(s < 0 ? -s : s) + (uint32_t)(n >> 1);
	int32_t q = (int32_t)((a * recip[n]) >> 16);
	return s < 0 ? -q : q;
}

/* General division with rounding half away from zero (n > 0). */
static inline int32_t mnk_div_round(int32_t s, int32_t n)
{
	int32_t a = s < 0 ? -s : s;
	int32_t q = (a + n / 2) / n;
	return s < 0 ? -q : q;
}

/* Convolution k x k (k = 1 or 3), padding k/2, stride 1 or 2, HWC.
 * relu_in: apply ReLU to the input on the fly (the input is read-only;
 * other edges read the same node).  bias may be NULL (no bias).
 * Output is Ho x Wo x cout with Ho = (h + 2*(k/2) - k) / stride + 1.
 * scratch: at least mnk_conv_scratch(k, cin) bytes (used by the DSP
 * path only). */
void mnk_conv(const int8_t *in, int h, int w, int cin, const int8_t *wt,
	      const int32_t *bias, int cout, int k, int stride, int relu_in,
	      int32_t mult, int shift, int8_t *out, int8_t *scratch);
int mnk_conv_scratch(int k, int cin);
/* The receptive field of output (oy, ox) of such a conv, gathered into
 * patch[0 .. k*k*cin) in weight order (ky, kx, ic): ReLU applied when
 * relu is set, zeros where the window leaves the image.  mnk_conv's DSP
 * path and the deployed model (qnet.c) both read their inputs through it. */
void mnk_patch(const int8_t *in, int h, int w, int cin, int k, int stride, int relu, int oy,
	       int ox, int8_t *patch);
#if MNK_USE_DSP
/* acc[j] += the dot product of patch[0..K4) with weight row j, rows K bytes
 * apart, for j < 4; K4 = K rounded up to a word, the patch's tail zero
 * (kernels_m7.S). */
void mnk_dot4(const int8_t *patch, int K4, const int8_t *w, int K, int32_t acc[4]);
#endif
/* Bytes the conv reads past the end of the last weight row (the DSP path
 * reads whole words; the extra bytes are multiplied by zero). */
#define MNK_WEIGHT_SLACK 4

/* avg pool 3x3, stride 1, pad 1, padding excluded from the count; each
 * output = mnk_div_round_small(window sum, valid count). */
void mnk_avgpool3x3(const int8_t *in, int h, int w, int c, int8_t *out);
/* avg pool 2x2 stride 2, no padding, ceil mode: output ceil(h/2) x
 * ceil(w/2) (the host's mn_half_side); (sum of 4) / 4 rounded half away
 * from zero, and on an odd side the last window's mean of the 1 or 2
 * pixels it covers. */
void mnk_avgpool2x2s2(const int8_t *in, int h, int w, int c, int8_t *out);

/* Element-wise a[i] = saturate8((a[i] * ma + b[i] * mb + 2^14) >> 15),
 * in place; 0 < ma, mb < 2^15 (Q15 rescaling factors). */
void mnk_add(int8_t *a, const int8_t *b, uint32_t n, int32_t ma, int32_t mb);

/* Head: per-channel affine (folded final BN) then ReLU, in place:
 * x = max(0, saturate8((x * g[c] + b[c] + 2^13) >> 14)). */
void mnk_bn_relu(int8_t *x, int hw, int c, const int32_t *g, const int32_t *b);
/* Global average pool: out[c] = mnk_div_round(sum over hw, hw). */
void mnk_gap(const int8_t *in, int hw, int c, int8_t *out);
/* Linear: logits[k] = bias[k] + sum_c w[k * cin + c] * in[c] (int32),
 * stored little-endian into out (4 bytes each, any alignment). */
void mnk_linear(const int8_t *in, int cin, const int8_t *w,
		const int32_t *bias, int cout, uint8_t *out);

/* The no-op used to profile call overhead (never inlined). */
void mnk_noop(int8_t *p);

#endif
