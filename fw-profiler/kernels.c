/* int8 kernels: the plain C path (the reference, used on the host) and the
 * Cortex-M7 DSP path.  Conventions are documented in kernels.h. */
#include "kernels.h"

#include <string.h>

#if MNK_USE_DSP
#include <arm_acle.h>
#endif

static inline int32_t sat8(int32_t v)
{
	return v > 127 ? 127 : (v < -128 ? -128 : v);
}

int mnk_conv_scratch(int k, int cin)
{
	return (k * k * cin + 3) & ~3;
}

void mnk_noop(int8_t *p)
{
	/* An empty asm with a memory clobber keeps the call and its
	 * argument alive without doing any work. */
#if defined(__GNUC__)
	__asm__ volatile("" : : "r"(p) : "memory");
#else
	(void)p;
#endif
}

/* Unaligned-safe 32-bit access: memcpy compiles to a single LDR/STR on
 * the Cortex-M7 (unaligned word access is allowed there) and keeps the
 * host build free of alignment and aliasing assumptions. */
static inline uint32_t ld32(const void *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static inline void st32(void *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

/* Copy n int8 values, applying ReLU when asked.  Four at a time: a byte's
 * sign bit is spread over the byte to build a mask of negative bytes
 * (m | (m - (m >> 7)) turns each 0x80 into 0xFF without borrowing across
 * bytes). */
static void copy_relu(int8_t *dst, const int8_t *src, int n, int relu)
{
	int i = 0;
	if (!relu) {
		memcpy(dst, src, (size_t)n);
		return;
	}
	for (; i + 4 <= n; i += 4) {
		uint32_t x = ld32(src + i);
		uint32_t m = x & 0x80808080u;
		m |= m - (m >> 7);
		st32(dst + i, x & ~m);
	}
	for (; i < n; i++)
		dst[i] = src[i] < 0 ? 0 : src[i];
}

/* One contiguous copy per kernel row: HWC keeps a row's valid pixels
 * adjacent. */
void mnk_patch(const int8_t *in, int h, int w, int cin, int k, int stride, int relu, int oy,
	       int ox, int8_t *patch)
{
	int pad = k / 2, row = k * cin, ix0 = ox * stride - pad;
	int kx_lo = ix0 < 0 ? -ix0 : 0;
	int kx_hi = ix0 + k - 1 >= w ? w - 1 - ix0 : k - 1;
	for (int ky = 0; ky < k; ky++) {
		int iy = oy * stride - pad + ky;
		int8_t *d = patch + ky * row;
		if (iy < 0 || iy >= h) {
			memset(d, 0, (size_t)row);
			continue;
		}
		if (kx_lo > 0)
			memset(d, 0, (size_t)(kx_lo * cin));
		if (kx_hi >= kx_lo)
			copy_relu(d + kx_lo * cin, in + ((size_t)iy * w + ix0 + kx_lo) * cin,
				  (kx_hi - kx_lo + 1) * cin, relu);
		if (kx_hi < k - 1)
			memset(d + (kx_hi + 1) * cin, 0, (size_t)((k - 1 - kx_hi) * cin));
	}
}

#if MNK_USE_DSP

static inline int32_t sxtab16_ror8(int32_t acc, uint32_t x)
{
	int32_t r;
	__asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(acc), "r"(x));
	return r;
}

/* SXTB16 of bytes 1 and 3: one instruction with the rotate folded in
 * (GCC 12 emits a separate ROR for __sxtb16(ror8(x))). */
static inline int32_t sxtb16_ror8(uint32_t x)
{
	int32_t r;
	__asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
	return r;
}

void mnk_conv(const int8_t *in, int h, int w, int cin, const int8_t *wt,
	      const int32_t *bias, int cout, int k, int stride, int relu_in,
	      int32_t mult, int shift, int8_t *out, int8_t *scratch)
{
	int pad = k / 2;
	int ho = (h + 2 * pad - k) / stride + 1, wo = (w + 2 * pad - k) / stride + 1;
	int K = k * k * cin, K4 = mnk_conv_scratch(k, cin);

	/* The patch tail up to a word boundary stays zero, so whole-word
	 * weight reads past a row end contribute nothing. */
	memset(scratch + K, 0, (size_t)(K4 - K));
	for (int oy = 0; oy < ho; oy++) {
		for (int ox = 0; ox < wo; ox++) {
			int8_t *o = out + ((size_t)oy * wo + ox) * cout;
			int oc = 0;
			mnk_patch(in, h, w, cin, k, stride, relu_in, oy, ox, scratch);
			/* Four output channels per pass share each patch
			 * word: SXTB16 splits 4 int8 into the int16 pairs
			 * (b0,b2) and, with a rotate, (b1,b3); SMLAD
			 * multiplies both pairs and adds them to the
			 * accumulator. */
			for (; oc + 3 < cout; oc += 4) {
				const int8_t *w0 = wt + (size_t)oc * K;
				int32_t a[4];
				for (int j = 0; j < 4; j++)
					a[j] = bias ? bias[oc + j] : 0;
				mnk_dot4(scratch, K4, w0, K, a);
				for (int j = 0; j < 4; j++)
					o[oc + j] = mnk_requant(a[j], mult, shift);
			}
			for (; oc < cout; oc++) {
				const int8_t *w0 = wt + (size_t)oc * K;
				int32_t a0 = bias ? bias[oc] : 0;
				for (int i = 0; i < K4; i += 4) {
					uint32_t p = ld32(scratch + i);
					uint32_t x = ld32(w0 + i);
					a0 = __smlad(__sxtb16(x), __sxtb16(p), a0);
					a0 = __smlad(sxtb16_ror8(x), sxtb16_ror8(p), a0);
				}
				o[oc] = mnk_requant(a0, mult, shift);
			}
		}
	}
}

void mnk_avgpool3x3(const int8_t *in, int h, int w, int c, int8_t *out)
{
	for (int y = 0; y < h; y++) {
		int y0 = y > 0 ? y - 1 : 0, y1 = y + 1 < h ? y + 1 : h - 1;
		for (int x = 0; x < w; x++) {
			int x0 = x > 0 ? x - 1 : 0, x1 = x + 1 < w ? x + 1 : w - 1;
			int n = (y1 - y0 + 1) * (x1 - x0 + 1);
			int8_t *o = out + ((size_t)y * w + x) * c;
			int ch = 0;
			/* Four channels at a time: SXTAB16 sign-extends
			 * bytes 0,2 (and 1,3 after a rotate) and adds them
			 * to two int16 lanes; 9 * 128 fits a lane. */
			for (; ch + 4 <= c; ch += 4) {
				int32_t s02 = 0, s13 = 0;
				for (int iy = y0; iy <= y1; iy++)
					for (int ix = x0; ix <= x1; ix++) {
						uint32_t v = ld32(
						    in + ((size_t)iy * w + ix) * c + ch);
						s02 = __sxtab16(s02, v);
						s13 = sxtab16_ror8(s13, v);
					}
				o[ch] = (int8_t)mnk_div_round_small(
				    (int16_t)(uint16_t)s02, n);
				o[ch + 1] = (int8_t)mnk_div_round_small(
				    (int16_t)(uint16_t)s13, n);
				o[ch + 2] = (int8_t)mnk_div_round_small(
				    (int16_t)(uint16_t)((uint32_t)s02 >> 16), n);
				o[ch + 3] = (int8_t)mnk_div_round_small(
				    (int16_t)(uint16_t)((uint32_t)s13 >> 16), n);
			}
			for (; ch < c; ch++) {
				int32_t s = 0;
				for (int iy = y0; iy <= y1; iy++)
					for (int ix = x0; ix <= x1; ix++)
						s += in[((size_t)iy * w + ix) * c + ch];
				o[ch] = (int8_t)mnk_div_round_small(s, n);
			}
		}
	}
}

void mnk_add(int8_t *a, const int8_t *b, uint32_t n, int32_t ma, int32_t mb)
{
	uint32_t i = 0;
	/* (ma, mb) packed as two int16 lanes; each output is one SMLAD of
	 * the pair (a[i], b[i]) with them plus the rounding constant. */
	uint32_t mab = ((uint32_t)ma & 0xFFFFu) | ((uint32_t)mb << 16);
	for (; i + 4 <= n; i += 4) {
		uint32_t x = ld32(a + i), y = ld32(b + i);
		uint32_t x02 = (uint32_t)__sxtb16(x), x13 = (uint32_t)sxtb16_ror8(x);
		uint32_t y02 = (uint32_t)__sxtb16(y), y13 = (uint32_t)sxtb16_ror8(y);
		uint32_t p0 = (x02 & 0xFFFFu) | (y02 << 16);
		uint32_t p1 = (x13 & 0xFFFFu) | (y13 << 16);
		uint32_t p2 = (x02 >> 16) | (y02 & 0xFFFF0000u);
		uint32_t p3 = (x13 >> 16) | (y13 & 0xFFFF0000u);
		int32_t r0 = __ssat(__smlad(p0, mab, 1 << 14) >> 15, 8);
		int32_t r1 = __ssat(__smlad(p1, mab, 1 << 14) >> 15, 8);
		int32_t r2 = __ssat(__smlad(p2, mab, 1 << 14) >> 15, 8);
		int32_t r3 = __ssat(__smlad(p3, mab, 1 << 14) >> 15, 8);
		st32(a + i, ((uint32_t)r0 & 0xFFu) | (((uint32_t)r1 & 0xFFu) << 8) |
				    (((uint32_t)r2 & 0xFFu) << 16) |
				    ((uint32_t)r3 << 24));
	}
	for (; i < n; i++)
		a[i] = (int8_t)sat8((a[i] * ma + b[i] * mb + (1 << 14)) >> 15);
}

#else /* plain C: the reference */

void mnk_conv(const int8_t *in, int h, int w, int cin, const int8_t *wt,
	      const int32_t *bias, int cout, int k, int stride, int relu_in,
	      int32_t mult, int shift, int8_t *out, int8_t *scratch)
{
	int pad = k / 2;
	int ho = (h + 2 * pad - k) / stride + 1, wo = (w + 2 * pad - k) / stride + 1;
	int K = k * k * cin;

	(void)scratch;
	for (int oy = 0; oy < ho; oy++)
		for (int ox = 0; ox < wo; ox++)
			for (int oc = 0; oc < cout; oc++) {
				const int8_t *wr = wt + (size_t)oc * K;
				int32_t acc = bias ? bias[oc] : 0;
				for (int ky = 0; ky < k; ky++) {
					int iy = oy * stride - pad + ky;
					if (iy < 0 || iy >= h)
						continue;
					for (int kx = 0; kx < k; kx++) {
						int ix = ox * stride - pad + kx;
						if (ix < 0 || ix >= w)
							continue;
						const int8_t *px =
						    in + ((size_t)iy * w + ix) * cin;
						const int8_t *wk =
						    wr + (ky * k + kx) * cin;
						for (int ic = 0; ic < cin; ic++) {
							int32_t v = px[ic];
							if (relu_in && v < 0)
								v = 0;
							acc += v * wk[ic];
						}
					}
				}
				out[((size_t)oy * wo + ox) * cout + oc] =
				    mnk_requant(acc, mult, shift);
			}
}

void mnk_avgpool3x3(const int8_t *in, int h, int w, int c, int8_t *out)
{
	for (int y = 0; y < h; y++) {
		int y0 = y > 0 ? y - 1 : 0, y1 = y + 1 < h ? y + 1 : h - 1;
		for (int x = 0; x < w; x++) {
			int x0 = x > 0 ? x - 1 : 0, x1 = x + 1 < w ? x + 1 : w - 1;
			int n = (y1 - y0 + 1) * (x1 - x0 + 1);
			for (int ch = 0; ch < c; ch++) {
				int32_t s = 0;
				for (int iy = y0; iy <= y1; iy++)
					for (int ix = x0; ix <= x1; ix++)
						s += in[((size_t)iy * w + ix) * c + ch];
				out[((size_t)y * w + x) * c + ch] =
				    (int8_t)mnk_div_round_small(s, n);
			}
		}
	}
}

void mnk_add(int8_t *a, const int8_t *b, uint32_t n, int32_t ma, int32_t mb)
{
	for (uint32_t i = 0; i < n; i++)
		a[i] = (int8_t)sat8((a[i] * ma + b[i] * mb + (1 << 14)) >> 15);
}

#endif

/* The remaining kernels are cheap next to the convolutions and have one
 * path on every target. */

void mnk_avgpool2x2s2(const int8_t *in, int h, int w, int c, int8_t *out)
{
	int ho = (h + 1) / 2, wo = (w + 1) / 2;
	for (int y = 0; y < ho; y++)
		for (int x = 0; x < wo; x++) {
			const int8_t *p = in + ((size_t)(2 * y) * w + 2 * x) * c;
			int8_t *o = out + ((size_t)y * wo + x) * c;
			int dy = 2 * y + 1 < h, dx = 2 * x + 1 < w;
			if (dy && dx) {
				const int8_t *q = p + (size_t)w * c;
				for (int ch = 0; ch < c; ch++)
					o[ch] = (int8_t)mnk_div_round_small(
					    p[ch] + p[c + ch] + q[ch] + q[c + ch], 4);
				continue;
			}
			/* A window clipped by an odd side (ceil mode): the mean of
			 * the pixels it covers. */
			const int8_t *q = dy ? p + (size_t)w * c : NULL;
			for (int ch = 0; ch < c; ch++) {
				int32_t s = p[ch] + (dx ? p[c + ch] : 0) + (q ? q[ch] : 0);
				o[ch] = (int8_t)mnk_div_round_small(s, (1 + dx) * (1 + dy));
			}
		}
}

void mnk_bn_relu(int8_t *x, int hw, int c, const int32_t *g, const int32_t *b)
{
	for (int i = 0; i < hw; i++) {
		int8_t *p = x + (size_t)i * c;
		for (int ch = 0; ch < c; ch++) {
			int32_t v = sat8((p[ch] * g[ch] + b[ch] + (1 << 13)) >> 14);
			p[ch] = (int8_t)(v < 0 ? 0 : v);
		}
	}
}

void mnk_gap(const int8_t *in, int hw, int c, int8_t *out)
{
	for (int ch = 0; ch < c; ch++) {
		int32_t s = 0;
		for (int i = 0; i < hw; i++)
			s += in[(size_t)i * c + ch];
		out[ch] = (int8_t)mnk_div_round(s, hw);
	}
}

void mnk_linear(const int8_t *in, int cin, const int8_t *w,
		const int32_t *bias, int cout, uint8_t *out)
{
	for (int k = 0; k < cout; k++) {
		const int8_t *wr = w + (size_t)k * cin;
		int32_t acc = bias[k];
		for (int ch = 0; ch < cin; ch++)
			acc += wr[ch] * in[ch];
		uint32_t u = (uint32_t)acc;
		out[4 * k] = (uint8_t)u;
		out[4 * k + 1] = (uint8_t)(u >> 8);
		out[4 * k + 2] = (uint8_t)(u >> 16);
		out[4 * k + 3] = (uint8_t)(u >> 24);
	}
}
