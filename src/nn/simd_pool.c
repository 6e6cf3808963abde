/* The 3x3 average pool of simd.h (stride 1, pad 1, padding excluded from
 * the count), forward and the backward of a sum of sources: a run-time
 * AVX2 path (a padded plane, then box sums), at 16 lanes on AVX-512 CPUs,
 * and a portable one. */
#include "nn/simd.h"

#include <string.h>

#include "nn/simd_target.h"

/* 1/(number of valid taps) of a 3-window at i in [0, n) */
static float inv_win(int i, int n)
{
	return 1.0f / (float)(1 + (i > 0) + (i < n - 1));
}

/* Row helpers: t has w+2 entries with t[0] = t[w+1] = 0, the row in t[1..w]. */
static void hsum3_c(float *out, const float *t, const float *scale, int w)
{
	for (int x = 0; x < w; x++)
		out[x] += scale[x] * (t[x] + t[x + 1] + t[x + 2]);
}

#if MN_X86
AVX2 static void hsum3_avx2(float *out, const float *t, const float *scale, int w)
{
	int x = 0;
	for (; x + 8 <= w; x += 8) {
		__m256 s = _mm256_add_ps(_mm256_loadu_ps(t + x), _mm256_loadu_ps(t + x + 1));
		s = _mm256_add_ps(s, _mm256_loadu_ps(t + x + 2));
		_mm256_storeu_ps(out + x,
				 _mm256_fmadd_ps(_mm256_loadu_ps(scale + x), s, _mm256_loadu_ps(out + x)));
	}
	for (; x < w; x++)
		out[x] += scale[x] * (t[x] + t[x + 1] + t[x + 2]);
}

/* t[1+x] = f[x] * sum over rows r of c[r] * rows[r][x]  (up to 9 weighted
 * rows; f NULL: 1) */
AVX2 static void vsum_avx2(float *t, const float *const *rows, const float *c, int nr, int w,
			   const float *f)
{
	int x = 0;
	for (; x + 8 <= w; x += 8) {
		__m256 s = _mm256_setzero_ps();
		for (int r = 0; r < nr; r++)
			s = _mm256_fmadd_ps(_mm256_set1_ps(c[r]), _mm256_loadu_ps(rows[r] + x), s);
		if (f)
			s = _mm256_mul_ps(s, _mm256_loadu_ps(f + x));
		_mm256_storeu_ps(t + 1 + x, s);
	}
	for (; x < w; x++) {
		float s = 0;
		for (int r = 0; r < nr; r++)
			s += c[r] * rows[r][x];
		t[1 + x] = f ? s * f[x] : s;
	}
}
#endif

static void vsum_c(float *t, const float *const *rows, const float *c, int nr, int w,
		   const float *f)
{
	for (int x = 0; x < w; x++) {
		float s = 0;
		for (int r = 0; r < nr; r++)
			s += c[r] * rows[r][x];
		t[1 + x] = f ? s * f[x] : s;
	}
}

#if MN_X86
/* v = the 3x3 window sums of the outputs at x.. of rows r0..r2 of a padded
 * plane, added column by column: one macro for both vector widths, so
 * that their sums are made in the same order (the same bits). */
#define BOX3_SUM(v, ADD, LOAD, r0, r1, r2, x)                                                      \
	do {                                                                                       \
		v = ADD(LOAD((r0) + (x)), LOAD((r1) + (x)));                                       \
		v = ADD(v, LOAD((r2) + (x)));                                                      \
		v = ADD(v, LOAD((r0) + (x) + 1));                                                  \
		v = ADD(v, LOAD((r1) + (x) + 1));                                                  \
		v = ADD(v, LOAD((r2) + (x) + 1));                                                  \
		v = ADD(v, LOAD((r0) + (x) + 2));                                                  \
		v = ADD(v, LOAD((r1) + (x) + 2));                                                  \
		v = ADD(v, LOAD((r2) + (x) + 2));                                                  \
	} while (0)

/* One plane of the 3x3 box: S (padded, row stride PW, interior at (1,1),
 * zero border) summed over each output's window, out[y][x] += f(y,x) * sum
 * with f = fy[y] * fx[x] (fy, fx NULL: 1). */
AVX2 static void box3_plane(float *out, const float *S, int PW, int h, int w, const float *fy,
			    const float *fx)
{
	const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
	for (int y = 0; y < h; y++) {
		const float *r0 = S + (size_t)y * PW, *r1 = r0 + PW, *r2 = r1 + PW;
		__m256 vy = _mm256_set1_ps(fy ? fy[y] : 1.0f);
		for (int x = 0; x < w; x += 8) {
			__m256 v;
			BOX3_SUM(v, _mm256_add_ps, _mm256_loadu_ps, r0, r1, r2, x);
			if (fx)
				v = _mm256_mul_ps(v, _mm256_loadu_ps(fx + x));
			float *o = out + (size_t)y * w + x;
			if (x + 8 <= w)
				_mm256_storeu_ps(o, _mm256_fmadd_ps(vy, v, _mm256_loadu_ps(o)));
			else {
				__m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(w - x), lane);
				_mm256_maskstore_ps(o, m, _mm256_fmadd_ps(vy, v, _mm256_maskload_ps(o, m)));
			}
		}
	}
}

/* S interior = g(y,x) * sum_i s[i] * src[i] over one plane, g = gy[y]*gx[x]
 * (gy, gx NULL: 1); columns past w stay zero. */
AVX2 static void box3_fill(float *S, int PW, const float *const *src, const float *s, int nsrc,
			   int h, int w, const float *gy, const float *gx)
{
	const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
	for (int y = 0; y < h; y++) {
		float *d = S + (size_t)(y + 1) * PW + 1;
		__m256 vy = _mm256_set1_ps(gy ? gy[y] : 1.0f);
		for (int x = 0; x < w; x += 8) {
			size_t o = (size_t)y * w + x;
			int full = x + 8 <= w;
			__m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(w - x), lane);
			__m256 v = _mm256_setzero_ps();
			for (int i = 0; i < nsrc; i++) {
				__m256 a = full ? _mm256_loadu_ps(src[i] + o) : _mm256_maskload_ps(src[i] + o, m);
				v = _mm256_fmadd_ps(_mm256_set1_ps(s[i]), a, v);
			}
			v = _mm256_mul_ps(v, vy);
			if (gx)
				v = _mm256_mul_ps(v, full ? _mm256_loadu_ps(gx + x) : _mm256_maskload_ps(gx + x, m));
			if (full)
				_mm256_storeu_ps(d + x, v);
			else
				_mm256_maskstore_ps(d + x, m, v);
		}
	}
}

/* box3_plane and box3_fill at 16 lanes, for widths that are a multiple of
 * 16 (NAS-Bench-201's 32 and 16).  Each lane does the AVX2 kernels' adds
 * and FMAs in their order, so the bits are theirs (tests/test_simd): a
 * value does not depend on the machine that computed it. */
#define AVX512 __attribute__((target("avx512f")))
AVX512 static void box3_plane512(float *out, const float *S, int PW, int h, int w, const float *fy,
				 const float *fx)
{
	for (int y = 0; y < h; y++) {
		const float *r0 = S + (size_t)y * PW, *r1 = r0 + PW, *r2 = r1 + PW;
		__m512 vy = _mm512_set1_ps(fy ? fy[y] : 1.0f);
		for (int x = 0; x < w; x += 16) {
			__m512 v;
			BOX3_SUM(v, _mm512_add_ps, _mm512_loadu_ps, r0, r1, r2, x);
			if (fx)
				v = _mm512_mul_ps(v, _mm512_loadu_ps(fx + x));
			float *o = out + (size_t)y * w + x;
			_mm512_storeu_ps(o, _mm512_fmadd_ps(vy, v, _mm512_loadu_ps(o)));
		}
	}
}

AVX512 static void box3_fill512(float *S, int PW, const float *const *src, const float *s,
				int nsrc, int h, int w, const float *gy, const float *gx)
{
	for (int y = 0; y < h; y++) {
		float *d = S + (size_t)(y + 1) * PW + 1;
		__m512 vy = _mm512_set1_ps(gy ? gy[y] : 1.0f);
		for (int x = 0; x < w; x += 16) {
			size_t o = (size_t)y * w + x;
			__m512 v = _mm512_setzero_ps();
			for (int i = 0; i < nsrc; i++)
				v = _mm512_fmadd_ps(_mm512_set1_ps(s[i]), _mm512_loadu_ps(src[i] + o), v);
			v = _mm512_mul_ps(v, vy);
			if (gx)
				v = _mm512_mul_ps(v, _mm512_loadu_ps(gx + x));
			_mm512_storeu_ps(d + x, v);
		}
	}
}

/* Planes of the pool: forward (nsrc 1, output factor scale/count) or the
 * backward of a sum of sources (input factor s_i/count); at 16 lanes when
 * allow_avx512, the CPU has AVX-512 and w is a multiple of 16. */
AVX2 static int pool3_avx2(float *dst, const float *const *src, const float *s, int nsrc,
			   size_t nplanes, int h, int w, float scale, int backward,
			   const struct mn_simd_scratch *scr, int allow_avx512)
{
	const int z = allow_avx512 && w % 16 == 0 && mn_simd_avx512();
	void (*fill)(float *, int, const float *const *, const float *, int, int, int,
		     const float *, const float *) = z ? box3_fill512 : box3_fill;
	void (*plane)(float *, const float *, int, int, int, const float *, const float *) =
		z ? box3_plane512 : box3_plane;
	int PW = ((w + 2 + 7) & ~7) + 8;
	size_t nS = (size_t)(h + 2) * PW + (size_t)2 * w + h + 16;
	float *S = mn_scratch_floats(scr, nS);
	if (!S)
		return -1;
	memset(S, 0, sizeof(float) * nS); /* the halo stays zero */
	float *fx = S + (size_t)(h + 2) * PW, *fy = fx + w + 8;
	for (int x = 0; x < w; x++)
		fx[x] = inv_win(x, w);
	for (int y = 0; y < h; y++)
		fy[y] = inv_win(y, h) * (backward ? 1.0f : scale);
	const float *ps[3];
	for (size_t p = 0; p < nplanes; p++) {
		size_t off = p * (size_t)h * w;
		for (int i = 0; i < nsrc; i++)
			ps[i] = src[i] + off;
		if (backward) {
			fill(S, PW, ps, s, nsrc, h, w, fy, fx);
			plane(dst + off, S, PW, h, w, NULL, NULL);
		} else {
			fill(S, PW, ps, s, nsrc, h, w, NULL, NULL);
			plane(dst + off, S, PW, h, w, fy, fx);
		}
	}
	return 0;
}
#endif

size_t mn_simd_pool3_scratch(int h, int w)
{
	size_t PW = (size_t)(((w + 2 + 7) & ~7) + 8);
	size_t avx = (size_t)(h + 2) * PW + (size_t)2 * w + h + 16, plain = (size_t)3 * w + 16;
	return sizeof(float) * (avx > plain ? avx : plain);
}

static void pool3_fw(float *y, const float *x, size_t nplanes, int h, int w, float scale,
		     const struct mn_simd_scratch *scr, int allow_avx512)
{
#if MN_X86
	float one = 1;
	if (mn_simd_avx2() &&
	    pool3_avx2(y, &x, &one, 1, nplanes, h, w, scale, 0, scr, allow_avx512) == 0)
		return;
#else
	(void)allow_avx512;
#endif
	float *t = mn_scratch_floats(scr, (size_t)2 * w + 16);
	if (!t) {
		/* no scratch for a row: the direct sum */
		for (size_t p = 0; p < nplanes; p++)
			for (int oy = 0; oy < h; oy++)
				for (int ox = 0; ox < w; ox++) {
					float s = 0;
					for (int iy = oy - 1; iy <= oy + 1; iy++)
						for (int ix = ox - 1; ix <= ox + 1; ix++)
							if (iy >= 0 && iy < h && ix >= 0 && ix < w)
								s += x[p * h * w + (size_t)iy * w + ix];
					y[p * h * w + (size_t)oy * w + ox] +=
						scale * inv_win(oy, h) * inv_win(ox, w) * s;
				}
		return;
	}
	float *cx = t + w + 8;
	int avx = mn_simd_avx2();
	for (size_t p = 0; p < nplanes; p++) {
		const float *in = x + p * (size_t)h * w;
		float *out = y + p * (size_t)h * w;
		for (int oy = 0; oy < h; oy++) {
			const float *rows[3];
			float c[3];
			int nr = 0;
			for (int iy = oy - 1; iy <= oy + 1; iy++)
				if (iy >= 0 && iy < h) {
					rows[nr] = in + (size_t)iy * w;
					c[nr++] = 1;
				}
			float fy = scale * inv_win(oy, h);
			for (int ox = 0; ox < w; ox++)
				cx[ox] = fy * inv_win(ox, w);
#if MN_X86
			if (avx) {
				vsum_avx2(t, rows, c, nr, w, NULL);
				hsum3_avx2(out + (size_t)oy * w, t, cx, w);
				continue;
			}
#endif
			(void)avx;
			vsum_c(t, rows, c, nr, w, NULL);
			hsum3_c(out + (size_t)oy * w, t, cx, w);
		}
	}
}

static void pool3_bw_direct(float *dx, const float *src, float s, size_t nplanes, int h, int w)
{
	for (size_t p = 0; p < nplanes; p++)
		for (int iy = 0; iy < h; iy++)
			for (int ix = 0; ix < w; ix++) {
				float a = 0;
				for (int oy = iy - 1; oy <= iy + 1; oy++)
					for (int ox = ix - 1; ox <= ix + 1; ox++)
						if (oy >= 0 && oy < h && ox >= 0 && ox < w)
							a += src[p * h * w + (size_t)oy * w + ox] *
							     inv_win(oy, h) * inv_win(ox, w);
				dx[p * h * w + (size_t)iy * w + ix] += s * a;
			}
}

static void pool3_bw(float *dx, const float *const *src, const float *s, int nsrc,
		     size_t nplanes, int h, int w, const struct mn_simd_scratch *scr,
		     int allow_avx512)
{
	/* dx[p] += sum over outputs o in window(p) of d[o] / count(o), with
	 * d = sum_i s_i src_i: rows weighted by s_i/cy(o), columns by 1/cx(o)
	 * before the 3-tap horizontal sum. */
	if (nsrc > 3) {
		pool3_bw(dx, src, s, 3, nplanes, h, w, scr, allow_avx512);
		pool3_bw(dx, src + 3, s + 3, nsrc - 3, nplanes, h, w, scr, allow_avx512);
		return;
	}
#if MN_X86
	if (mn_simd_avx2() &&
	    pool3_avx2(dx, src, s, nsrc, nplanes, h, w, 1, 1, scr, allow_avx512) == 0)
		return;
#else
	(void)allow_avx512;
#endif
	float *t = mn_scratch_floats(scr, (size_t)3 * w + 16);
	if (!t) {
		for (int i = 0; i < nsrc; i++)
			pool3_bw_direct(dx, src[i], s[i], nplanes, h, w);
		return;
	}
	float *one = t + w + 8, *icx = one + w;
	for (int ox = 0; ox < w; ox++) {
		one[ox] = 1;
		icx[ox] = inv_win(ox, w);
	}
	int avx = mn_simd_avx2();
	for (size_t p = 0; p < nplanes; p++) {
		float *out = dx + p * (size_t)h * w;
		for (int iy = 0; iy < h; iy++) {
			const float *rows[9];
			float c[9];
			int nr = 0;
			for (int oy = iy - 1; oy <= iy + 1; oy++)
				if (oy >= 0 && oy < h)
					for (int i = 0; i < nsrc; i++) {
						rows[nr] = src[i] + p * (size_t)h * w + (size_t)oy * w;
						c[nr++] = s[i] * inv_win(oy, h);
					}
#if MN_X86
			if (avx) {
				vsum_avx2(t, rows, c, nr, w, icx);
				hsum3_avx2(out + (size_t)iy * w, t, one, w);
				continue;
			}
#endif
			(void)avx;
			vsum_c(t, rows, c, nr, w, icx);
			hsum3_c(out + (size_t)iy * w, t, one, w);
		}
	}
}

void mn_simd_pool3_fw(float *y, const float *x, size_t nplanes, int h, int w, float scale,
		      const struct mn_simd_scratch *scr)
{
	pool3_fw(y, x, nplanes, h, w, scale, scr, 1);
}

void mn_simd_pool3_bw(float *dx, const float *const *src, const float *s, int nsrc,
		      size_t nplanes, int h, int w, const struct mn_simd_scratch *scr)
{
	pool3_bw(dx, src, s, nsrc, nplanes, h, w, scr, 1);
}

void mn_simd_pool3_fw_avx2(float *y, const float *x, size_t nplanes, int h, int w, float scale,
			   const struct mn_simd_scratch *scr)
{
	pool3_fw(y, x, nplanes, h, w, scale, scr, 0);
}

void mn_simd_pool3_bw_avx2(float *dx, const float *const *src, const float *s, int nsrc,
			   size_t nplanes, int h, int w, const struct mn_simd_scratch *scr)
{
	pool3_bw(dx, src, s, nsrc, nplanes, h, w, scr, 0);
}
