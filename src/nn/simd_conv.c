/* The conv kernels of simd.h: the fused conv^T of the backward (AVX2
 * register-blocked, and a portable version) and the direct forward conv
 * built on it. */
#include "nn/simd.h"

#include <string.h>

#include "nn/simd_target.h"

/* ------------------------------------------------------ fused conv^T */

/* input channel i's cotangent plane for image m into out[hw] */
static void convT_input(const struct mn_convT_job *j, int i, int m, float *out)
{
	const struct mn_convT_in *in = &j->in[i];
	const int hw = j->h * j->w, n = m % j->nb;
	const float *src = in->src + (size_t)m * hw;
	if (!in->coef) {
		memcpy(out, src, sizeof(float) * hw);
		return;
	}
	const float *c = in->coef + (size_t)(m / j->nb) * 3;
	const float *xh = in->xhat ? in->xhat + (size_t)n * hw : NULL;
	for (int p = 0; p < hw; p++)
		out[p] = c[0] * src[p] + c[1] + (xh ? c[2] * xh[p] : 0);
}

static int convT_c(const struct mn_convT_job *j, int m0, int m1, const struct mn_simd_scratch *scr)
{
	const int C = j->C, h = j->h, w = j->w, hw = h * w;
	float *acc = mn_scratch_floats(scr, (size_t)hw * (C + 1));
	if (!acc)
		return -1;
	float *z = acc + (size_t)hw * C;
	for (int m = m0; m < m1; m++) {
		int n = m % j->nb;
		memset(acc, 0, sizeof(float) * (size_t)hw * C);
		for (int i = 0; i < j->nin; i++) {
			const struct mn_convT_in *in = &j->in[i];
			convT_input(j, i, m, z);
			for (int ci = 0; ci < C; ci++) {
				float *a = acc + (size_t)ci * hw;
				if (in->k == 1) {
					float wk = in->w[ci];
					for (int p = 0; p < hw; p++)
						a[p] += wk * z[p];
					continue;
				}
				const float *wk = in->w + (size_t)ci * 9;
				for (int y = 0; y < h; y++)
					for (int x = 0; x < w; x++) {
						float v = 0;
						for (int ky = 0; ky < 3; ky++)
							for (int kx = 0; kx < 3; kx++) {
								int oy = y + 1 - ky, ox = x + 1 - kx;
								if (oy >= 0 && oy < h && ox >= 0 && ox < w)
									v += wk[ky * 3 + kx] * z[oy * w + ox];
							}
						a[y * w + x] += v;
					}
			}
		}
		for (int ci = 0; ci < C; ci++) {
			float *out = j->dn + ((size_t)ci * j->nimg + m) * hw;
			const float *r = j->relu ? j->relu + ((size_t)ci * j->nb + n) * hw : NULL;
			for (int p = 0; p < hw; p++) {
				float v = !r || r[p] > 0 ? acc[(size_t)ci * hw + p] : 0;
				for (int i = 0; i < j->nskip; i++)
					v += j->skip_s[i] * j->skip[i][((size_t)ci * j->nimg + m) * hw + p];
				out[p] = j->overwrite ? v : out[p] + v;
			}
		}
	}
	return 0;
}

/* The AVX2 conv^T's padded planes: row stride PW, PP floats a plane. */
static void convT_pad_geom(const struct mn_convT_job *j, int *PW, int *PP, int *Cp)
{
	int nxv = (j->w + 7) / 8;
	*PW = 8 * nxv + 8;
	*PP = (j->h + 2) * *PW;
	*Cp = (j->C + 3) & ~3;
}

size_t mn_simd_convT_scratch(const struct mn_convT_job *job)
{
	int PW, PP, Cp;
	convT_pad_geom(job, &PW, &PP, &Cp);
	size_t avx = mn_convT_setup_floats(job, PP, Cp, 8);
	size_t plain = (size_t)job->h * job->w * (job->C + 1);
	size_t b = sizeof(float) * (avx > plain ? avx : plain), b512 = mn_simd_convT512_scratch(job);
	return b > b512 ? b : b512;
}

#if MN_X86
/* Padded planes: row stride PW (a multiple of 8 with room for a vector at
 * the last column plus the 2-column halo), h+2 rows; the input sits at
 * (1, 1).  Output vector slot (y, xv) reads tap t = (ky, kx) at
 * y*PW + 8*xv + toff[t], toff[t] = (2-ky)*PW + (2-kx); 1x1 inputs use the
 * centre tap only.  The kernels below keep CB output channels x NS output
 * vectors in registers. */
AVX2 static void convT_store(const struct mn_convT_job *j, const __m256 *acc, int CB, int ci0, int m,
			     int n, const int *obase, const int *valid, int nvalid)
{
	const int hw = j->h * j->w;
	const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
	const __m256 zero = _mm256_setzero_ps();
	for (int k = 0; k < nvalid; k++) {
		__m256i msk = _mm256_cmpgt_epi32(_mm256_set1_epi32(valid[k]), lane);
		for (int b = 0; b < CB; b++) {
			int ci = ci0 + b;
			float *out = j->dn + ((size_t)ci * j->nimg + m) * hw + obase[k];
			__m256 v = acc[k * CB + b];
			if (j->relu) {
				const float *r = j->relu + ((size_t)ci * j->nb + n) * hw + obase[k];
				__m256 rv = valid[k] == 8 ? _mm256_loadu_ps(r) : _mm256_maskload_ps(r, msk);
				v = _mm256_and_ps(v, _mm256_cmp_ps(rv, zero, _CMP_GT_OQ));
			}
			for (int i = 0; i < j->nskip; i++) {
				const float *sp = j->skip[i] + ((size_t)ci * j->nimg + m) * hw + obase[k];
				__m256 sv = valid[k] == 8 ? _mm256_loadu_ps(sp) : _mm256_maskload_ps(sp, msk);
				v = _mm256_fmadd_ps(_mm256_set1_ps(j->skip_s[i]), sv, v);
			}
			if (j->overwrite) {
				if (valid[k] == 8)
					_mm256_storeu_ps(out, v);
				else
					_mm256_maskstore_ps(out, msk, v);
			} else if (valid[k] == 8)
				_mm256_storeu_ps(out, _mm256_add_ps(v, _mm256_loadu_ps(out)));
			else
				_mm256_maskstore_ps(out, msk,
						    _mm256_add_ps(v, _mm256_maskload_ps(out, msk)));
		}
	}
}

/* CB output channels x S output vectors of 8: every input channel's taps
 * (9 for its 3x3 part, the centre only for its 1x1 part) broadcast against
 * the padded input.  CB and S are constants at every use (the wrappers
 * below), so the forced unrolling keeps the CB*S accumulators (at most 12)
 * in registers; each sums in the same order as a plain loop would. */
AVX2 static inline __attribute__((always_inline)) void
convT_block(int CB, int S, const struct mn_convT_job *j, int cs3, const float *pad,
	    const float *wt, int Cp, int PP, int ci0, int m, int n, const int *base,
	    const int *obase, const int *valid, int nvalid, const int *toff)
{
	const int ncs = j->nin;
	__m256 a[4][4], w[4], v;
#pragma GCC unroll 4
	for (int s = 0; s < S; s++)
#pragma GCC unroll 4
		for (int c = 0; c < CB; c++)
			a[s][c] = _mm256_setzero_ps();
	for (int co = 0; co < ncs; co++) {
		const float *pc = pad + (size_t)co * PP;
		int t0 = co < cs3 ? 0 : 4, t1 = co < cs3 ? 9 : 5;
		const float *wc = co < cs3 ? wt + (size_t)co * 9 * Cp + ci0
					 : wt + (size_t)cs3 * 9 * Cp + (size_t)(co - cs3) * Cp + ci0 - 4 * Cp;
		for (int t = t0; t < t1; t++) {
			const float *pt = pc + toff[t];
#pragma GCC unroll 4
			for (int c = 0; c < CB; c++)
				w[c] = _mm256_broadcast_ss(wc + t * Cp + c);
#pragma GCC unroll 4
			for (int s = 0; s < S; s++) {
				v = _mm256_loadu_ps(pt + base[s]);
#pragma GCC unroll 4
				for (int c = 0; c < CB; c++)
					a[s][c] = _mm256_fmadd_ps(w[c], v, a[s][c]);
			}
		}
	}
	__m256 acc[12];
#pragma GCC unroll 4
	for (int s = 0; s < S; s++)
#pragma GCC unroll 4
		for (int c = 0; c < CB; c++)
			acc[s * CB + c] = a[s][c];
	convT_store(j, acc, CB, ci0, m, n, obase, valid, nvalid);
}

#define CONVT_KERNEL(CB, S)                                                                       \
	AVX2 static void convT_c##CB##_s##S(const struct mn_convT_job *j, int cs3, const float *pad, \
					   const float *wt, int Cp, int PP, int ci0, int m, int n,     \
					   const int *base, const int *obase, const int *valid,       \
					   int nvalid, const int *toff)                               \
	{                                                                                         \
		convT_block(CB, S, j, cs3, pad, wt, Cp, PP, ci0, m, n, base, obase, valid, nvalid,  \
			    toff);                                                                \
	}
CONVT_KERNEL(4, 2) CONVT_KERNEL(3, 4) CONVT_KERNEL(2, 4) CONVT_KERNEL(1, 4)
#undef CONVT_KERNEL

/* dst rows (stride PW) = alpha*src + beta + gamma*xh over an h x w plane */
AVX2 static void fill_pad(float *dst, int PW, const float *src, const float *xh, int h, int w,
			  float alpha, float beta, float gamma)
{
	__m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta), vg = _mm256_set1_ps(gamma);
	int use_x = xh && gamma != 0, wv = w & ~7;
	for (int y = 0; y < h; y++, dst += PW, src += w) {
		const float *xr = use_x ? xh + (size_t)y * w : NULL;
		int x = 0;
		if (use_x)
			for (; x < wv; x += 8)
				_mm256_storeu_ps(dst + x,
						 _mm256_fmadd_ps(vg, _mm256_loadu_ps(xr + x),
								 _mm256_fmadd_ps(va, _mm256_loadu_ps(src + x), vb)));
		else
			for (; x < wv; x += 8)
				_mm256_storeu_ps(dst + x, _mm256_fmadd_ps(va, _mm256_loadu_ps(src + x), vb));
		for (; x < w; x++)
			dst[x] = alpha * src[x] + beta + (use_x ? gamma * xr[x] : 0);
	}
}

AVX2 static int convT_avx2(const struct mn_convT_job *j, int m0, int m1,
			   const struct mn_simd_scratch *scr)
{
	const int C = j->C, h = j->h, w = j->w;
	const int nxv = (w + 7) / 8;
	int PW, PP, Cp;
	convT_pad_geom(j, &PW, &PP, &Cp);
	const int cs3 = mn_convT_cs3(j);
	float *wt, *pad = mn_convT_setup(j, cs3, PP, Cp, 8, PW + 1, scr, &wt);
	if (!pad)
		return -1;
	int toff[9];
	mn_convT_toff(PW, toff);
	int nslot = h * nxv;
	for (int mm = m0; mm < m1; mm++) {
		int m = mn_convT_image(j, m0, m1, mm), n = m % j->nb;
		mn_convT_planes(j, m, pad, PW, PP, fill_pad);
		for (int ci0 = 0; ci0 < C; ci0 += 4) {
			int cb = C - ci0 < 4 ? C - ci0 : 4, ns = cb == 4 ? 2 : 4;
			for (int s0 = 0; s0 < nslot; s0 += ns) {
				int base[4], obase[4], valid[4], nvalid = 0;
				for (int k = 0; k < ns; k++) {
					int sl = s0 + k < nslot ? s0 + k : nslot - 1;
					int y = sl / nxv, xv = sl % nxv;
					base[k] = y * PW + 8 * xv;
					obase[k] = y * w + 8 * xv;
					valid[k] = w - 8 * xv < 8 ? w - 8 * xv : 8;
					nvalid += s0 + k < nslot;
				}
				switch (cb) {
				case 4:
					convT_c4_s2(j, cs3, pad, wt, Cp, PP, ci0, m, n, base, obase, valid, nvalid,
						    toff);
					break;
				case 3:
					convT_c3_s4(j, cs3, pad, wt, Cp, PP, ci0, m, n, base, obase, valid, nvalid,
						    toff);
					break;
				case 2:
					convT_c2_s4(j, cs3, pad, wt, Cp, PP, ci0, m, n, base, obase, valid, nvalid,
						    toff);
					break;
				default:
					convT_c1_s4(j, cs3, pad, wt, Cp, PP, ci0, m, n, base, obase, valid, nvalid,
						    toff);
					break;
				}
			}
		}
	}
	return 0;
}
#endif

/* The forward's scratch: the inputs' descriptors, the flipped kernels, then
 * the conv^T's own. */
static size_t conv_forward_layout(int cin, int cout, int k, size_t *off_w, size_t *off_t)
{
	*off_w = ((sizeof(struct mn_convT_in) * (size_t)cin + 63) / 64) * 64;
	*off_t = *off_w + ((sizeof(float) * (size_t)cin * cout * k * k + 63) / 64) * 64;
	return *off_t;
}

size_t mn_simd_conv_forward_scratch(int cin, int cout, int k, int h, int w)
{
	size_t ow, ot;
	conv_forward_layout(cin, cout, k, &ow, &ot);
	struct mn_convT_job job = {cout, h, w, 1, 1, cin, NULL, NULL, NULL, 0, 0, {0}, {0}};
	return ot + mn_simd_convT_scratch(&job);
}

int mn_simd_conv_forward_range(float *y, const float *w, const float *x, int cin, int cout, int k,
			       int h, int wd, int nimg, int accumulate, int m0, int m1,
			       const struct mn_simd_scratch *scr)
{
	/* forward = conv^T with the kernel's taps flipped and its in/out
	 * channels swapped: input channel ci of the forward is a "source" whose
	 * kernel to output co is w[co][ci] rotated by 180 degrees */
	size_t hw = (size_t)h * wd, kk = (size_t)k * k, ow, ot;
	conv_forward_layout(cin, cout, k, &ow, &ot);
	if (!scr || !scr->mem || scr->bytes < mn_simd_conv_forward_scratch(cin, cout, k, h, wd))
		return -1;
	struct mn_convT_in *in = scr->mem;
	float *wf = (float *)((char *)scr->mem + ow);
	struct mn_simd_scratch rest = {(char *)scr->mem + ot, scr->bytes - ot};
	for (int ci = 0; ci < cin; ci++) {
		for (int co = 0; co < cout; co++)
			for (size_t t = 0; t < kk; t++)
				wf[((size_t)ci * cout + co) * kk + t] =
					w[((size_t)co * cin + ci) * kk + (kk - 1 - t)];
		in[ci].src = x + (size_t)ci * nimg * hw;
		in[ci].xhat = in[ci].coef = NULL;
		in[ci].w = wf + (size_t)ci * cout * kk;
		in[ci].k = k;
	}
	struct mn_convT_job job = {cout, h, wd, nimg, nimg, cin, in,
				   NULL, y, !accumulate, 0, {0}, {0}};
	return mn_simd_convT(&job, m0, m1, &rest);
}

int mn_simd_convT_ref(const struct mn_convT_job *job, int m0, int m1,
		      const struct mn_simd_scratch *scr)
{
	return m1 <= m0 ? 0 : convT_c(job, m0, m1, scr);
}

int mn_simd_convT(const struct mn_convT_job *job, int m0, int m1, const struct mn_simd_scratch *scr)
{
	if (m1 <= m0)
		return 0;
	if (mn_simd_avx512() && mn_simd_convT512_fits(job))
		return mn_simd_convT512(job, m0, m1, scr);
	return mn_simd_convT_avx2(job, m0, m1, scr);
}

int mn_simd_convT_avx2(const struct mn_convT_job *job, int m0, int m1,
		       const struct mn_simd_scratch *scr)
{
	if (m1 <= m0)
		return 0;
#if MN_X86
	if (mn_simd_avx2())
		return convT_avx2(job, m0, m1, scr);
#endif
	return convT_c(job, m0, m1, scr);
}
