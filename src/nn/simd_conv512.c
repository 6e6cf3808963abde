/* The conv^T of simd.h at 16 lanes, for CPUs with AVX-512F: planes whose
 * width is a multiple of 16 (NAS-Bench-201's 32 and 16; the AVX2 kernel of
 * simd_conv.c keeps the others).  Why a second kernel: a CPU whose FMA
 * units are 512 bits wide (AMD Zen 5, Intel's server cores) does twice the
 * work per instruction, and 32 vector registers hold more accumulators.
 *
 * Every output value sums its terms in the AVX2 kernel's order (input
 * channel, then tap, one FMA each, from zero; then the ReLU mask, the skip
 * terms, the add to dn), and the padded planes are filled with the same
 * FMAs, so the two kernels give the same bits: a value does not depend on
 * the machine that computed it (the evaluation cache and the atlas are
 * shared between machines).  tests/test_simd checks it. */
#include "nn/simd.h"

#include <string.h>

#include "nn/simd_target.h"

#if MN_X86
#define AVX512 __attribute__((target("avx512f")))

/* Planes 8 wide (NAS-Bench-201's last stage at 32x32 inputs) take two rows
 * a vector, from another layout (shifted8 below). */
static int rows2(const struct mn_convT_job *j)
{
	return j->w == 8 && j->h % 2 == 0;
}

int mn_simd_convT512_fits(const struct mn_convT_job *job)
{
	return job->w % 16 == 0 || rows2(job);
}

/* Padded planes: row stride PW (the rows' vectors plus a vector of halo),
 * h+2 rows, the input at (1, 1); tap t = (ky, kx) of output slot (y, xv)
 * reads y*PW + 16*xv + (2-ky)*PW + (2-kx), as in simd_conv.c.
 * Planes 8 wide: each input is three planes of h+2 rows of 8 (PP3 floats
 * each), the input shifted by kx-1 columns with zeros shifted in, so that
 * tap (ky, kx) of the output pixels p..p+15 (two rows) reads the kx-th at
 * p + (2-ky)*8, a vector that needs no halo column. */
static void geom512(const struct mn_convT_job *j, int *PW, int *PP, int *Cp)
{
	*PW = rows2(j) ? 8 : j->w + 16;
	*PP = rows2(j) ? 3 * (j->h + 2) * 8 : (j->h + 2) * *PW;
	*Cp = (j->C + 3) & ~3;
}

static void toff8(int h, int *toff)
{
	for (int t = 0; t < 9; t++)
		toff[t] = (t % 3) * (h + 2) * 8 + (2 - t / 3) * 8;
}

/* Image m's input planes in the 8-wide layout: the centre plane is the
 * padded fill's values (the same FMAs), the other two the centre shifted by
 * one column, the column shifted out of a row replaced by zero. */
AVX512 static void shifted8(const struct mn_convT_job *j, int m, float *pad, int PP)
{
	const int hw = j->h * 8, n = m % j->nb, P3 = PP / 3;
	const __mmask16 left = 0x7f7f, right = 0xfefe; /* lanes off column 7, off column 0 */
	/* lane k takes lane k+1 (left) or k-1 (right) of the same vector */
	const __m512i up = _mm512_setr_epi32(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 15),
		      down = _mm512_setr_epi32(0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14);
	for (int co = 0; co < j->nin; co++) {
		const struct mn_convT_in *in = &j->in[co];
		const float *src = in->src + (size_t)m * hw;
		float *c0 = pad + (size_t)co * PP, *c1 = c0 + P3 + 8, *c2 = c0 + 2 * P3 + 8;
		const float *cf = in->coef ? in->coef + (size_t)(m / j->nb) * 3 : NULL;
		const float *xh = cf && in->xhat && cf[2] != 0 ? in->xhat + (size_t)n * hw : NULL;
		__m512 va = _mm512_set1_ps(cf ? cf[0] : 0), vb = _mm512_set1_ps(cf ? cf[1] : 0),
		       vg = _mm512_set1_ps(xh ? cf[2] : 0);
		for (int p = 0; p < hw; p += 16) {
			__m512 z = _mm512_loadu_ps(src + p);
			if (cf)
				z = _mm512_fmadd_ps(va, z, vb);
			if (xh)
				z = _mm512_fmadd_ps(vg, _mm512_loadu_ps(xh + p), z);
			_mm512_storeu_ps(c1 + p, z);
			if (in->k == 1)
				continue;
			/* the two shifted copies from the register, not reloaded
			 * across the store just made (a load that spans two
			 * recent stores waits for them to reach the cache) */
			_mm512_storeu_ps(c0 + 8 + p, _mm512_maskz_permutexvar_ps(left, up, z));
			_mm512_storeu_ps(c2 + p, _mm512_maskz_permutexvar_ps(right, down, z));
		}
	}
}

size_t mn_simd_convT512_scratch(const struct mn_convT_job *job)
{
	int PW, PP, Cp;
	geom512(job, &PW, &PP, &Cp);
	return sizeof(float) * mn_convT_setup_floats(job, PP, Cp, 16);
}

AVX512 static void store512(const struct mn_convT_job *j, const __m512 *acc, int CB, int ci0, int m,
			    int n, const int *obase, int nvalid)
{
	const int hw = j->h * j->w;
	const __m512 zero = _mm512_setzero_ps();
	for (int k = 0; k < nvalid; k++)
		for (int b = 0; b < CB; b++) {
			int ci = ci0 + b;
			float *out = j->dn + ((size_t)ci * j->nimg + m) * hw + obase[k];
			__m512 v = acc[k * CB + b];
			if (j->relu) {
				const float *r = j->relu + ((size_t)ci * j->nb + n) * hw + obase[k];
				v = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(_mm512_loadu_ps(r), zero, _CMP_GT_OQ),
							v);
			}
			for (int i = 0; i < j->nskip; i++) {
				const float *sp = j->skip[i] + ((size_t)ci * j->nimg + m) * hw + obase[k];
				v = _mm512_fmadd_ps(_mm512_set1_ps(j->skip_s[i]), _mm512_loadu_ps(sp), v);
			}
			_mm512_storeu_ps(out, j->overwrite ? v : _mm512_add_ps(v, _mm512_loadu_ps(out)));
		}
}

/* CB output channels x S output vectors of 16 in registers (CB*S <= 24,
 * CB and S constants at every use, as in simd_conv.c). */
AVX512 static inline __attribute__((always_inline)) void
block512(int CB, int S, const struct mn_convT_job *j, int cs3, const float *pad, const float *wt,
	 int Cp, int PP, int ci0, int m, int n, const int *base, const int *obase, int nvalid,
	 const int *toff)
{
	__m512 a[8][4], w[4], v;
#pragma GCC unroll 8
	for (int s = 0; s < S; s++)
#pragma GCC unroll 4
		for (int c = 0; c < CB; c++)
			a[s][c] = _mm512_setzero_ps();
	for (int co = 0; co < j->nin; co++) {
		const float *pc = pad + (size_t)co * PP;
		int t0 = co < cs3 ? 0 : 4, t1 = co < cs3 ? 9 : 5;
		const float *wc = co < cs3 ? wt + (size_t)co * 9 * Cp + ci0
					 : wt + (size_t)cs3 * 9 * Cp + (size_t)(co - cs3) * Cp + ci0 - 4 * Cp;
		for (int t = t0; t < t1; t++) {
			const float *pt = pc + toff[t];
#pragma GCC unroll 4
			for (int c = 0; c < CB; c++)
				w[c] = _mm512_set1_ps(wc[t * Cp + c]);
#pragma GCC unroll 8
			for (int s = 0; s < S; s++) {
				v = _mm512_loadu_ps(pt + base[s]);
#pragma GCC unroll 4
				for (int c = 0; c < CB; c++)
					a[s][c] = _mm512_fmadd_ps(w[c], v, a[s][c]);
			}
		}
	}
	__m512 acc[32];
#pragma GCC unroll 8
	for (int s = 0; s < S; s++)
#pragma GCC unroll 4
		for (int c = 0; c < CB; c++)
			acc[s * CB + c] = a[s][c];
	store512(j, acc, CB, ci0, m, n, obase, nvalid);
}

#define CONVT512(CB, S)                                                                            \
	AVX512 static void k512_c##CB##_s##S(const struct mn_convT_job *j, int cs3, const float *pad, \
					     const float *wt, int Cp, int PP, int ci0, int m, int n,    \
					     const int *base, const int *obase, int nvalid,            \
					     const int *toff)                                          \
	{                                                                                          \
		block512(CB, S, j, cs3, pad, wt, Cp, PP, ci0, m, n, base, obase, nvalid, toff);    \
	}
CONVT512(4, 6) CONVT512(3, 8) CONVT512(2, 8) CONVT512(1, 8)
#undef CONVT512

/* dst rows (stride PW) = alpha*src + beta + gamma*xh, the AVX2 fill's FMAs */
AVX512 static void fill512(float *dst, int PW, const float *src, const float *xh, int h, int w,
			   float alpha, float beta, float gamma)
{
	__m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta), vg = _mm512_set1_ps(gamma);
	int use_x = xh && gamma != 0;
	for (int y = 0; y < h; y++, dst += PW, src += w) {
		const float *xr = use_x ? xh + (size_t)y * w : NULL;
		for (int x = 0; x < w; x += 16) {
			__m512 z = _mm512_fmadd_ps(va, _mm512_loadu_ps(src + x), vb);
			if (use_x)
				z = _mm512_fmadd_ps(vg, _mm512_loadu_ps(xr + x), z);
			_mm512_storeu_ps(dst + x, z);
		}
	}
}

AVX512 int mn_simd_convT512(const struct mn_convT_job *j, int m0, int m1,
			    const struct mn_simd_scratch *scr)
{
	const int C = j->C, h = j->h, w = j->w, nxv = w / 16;
	int PW, PP, Cp;
	if (m1 <= m0)
		return 0;
	if (!mn_simd_convT512_fits(j))
		return -1;
	geom512(j, &PW, &PP, &Cp);
	const int cs3 = mn_convT_cs3(j);
	float *wt, *pad = mn_convT_setup(j, cs3, PP, Cp, 16, rows2(j) ? 8 : PW + 1, scr, &wt);
	if (!pad)
		return -1;
	int toff[9], r2 = rows2(j);
	if (r2)
		toff8(h, toff);
	else
		mn_convT_toff(PW, toff);
	int nslot = r2 ? h / 2 : h * nxv;
	for (int mm = m0; mm < m1; mm++) {
		int m = mn_convT_image(j, m0, m1, mm), n = m % j->nb;
		if (r2)
			shifted8(j, m, pad, PP);
		else
			mn_convT_planes(j, m, pad, PW, PP, fill512);
		for (int ci0 = 0; ci0 < C; ci0 += 4) {
			int cb = C - ci0 < 4 ? C - ci0 : 4, ns = cb == 4 ? 6 : 8;
			for (int s0 = 0; s0 < nslot; s0 += ns) {
				int base[8], obase[8], nvalid = 0;
				for (int k = 0; k < ns; k++) {
					int sl = s0 + k < nslot ? s0 + k : nslot - 1;
					base[k] = r2 ? 16 * sl : sl / nxv * PW + 16 * (sl % nxv);
					obase[k] = r2 ? 16 * sl : sl / nxv * w + 16 * (sl % nxv);
					nvalid += s0 + k < nslot;
				}
				switch (cb) {
				case 4:
					k512_c4_s6(j, cs3, pad, wt, Cp, PP, ci0, m, n, base, obase, nvalid, toff);
					break;
				case 3:
					k512_c3_s8(j, cs3, pad, wt, Cp, PP, ci0, m, n, base, obase, nvalid, toff);
					break;
				case 2:
					k512_c2_s8(j, cs3, pad, wt, Cp, PP, ci0, m, n, base, obase, nvalid, toff);
					break;
				default:
					k512_c1_s8(j, cs3, pad, wt, Cp, PP, ci0, m, n, base, obase, nvalid, toff);
					break;
				}
			}
		}
	}
	return 0;
}
#else
int mn_simd_convT512_fits(const struct mn_convT_job *job) { (void)job; return 0; }
size_t mn_simd_convT512_scratch(const struct mn_convT_job *job) { (void)job; return 0; }
int mn_simd_convT512(const struct mn_convT_job *j, int m0, int m1,
		     const struct mn_simd_scratch *scr)
{
	(void)j, (void)m0, (void)m1, (void)scr;
	return -1;
}
#endif
