/* Type-generic layer implementations; included by nn_layers.c (float) and
 * nn_layers_d.c (double) after nn_real.h.  Declarations: nn_layers.h. */
#include <math.h>
#include <string.h>

#include "nn/nn_layers.h"
#if MN_REAL_IS_FLOAT
#include "nn/nn_fast.h"
#endif

void MN_R(mn_im2col)(REAL *col, size_t ldcol, const REAL *x, size_t ldx,
		     const struct mn_conv_geom *g, int nb)
{
	const int k = g->k, s = g->stride, p = g->pad, h = g->h, w = g->w, oh = g->oh, ow = g->ow;
	const size_t hw = (size_t)h * w, ohw = (size_t)oh * ow;
	for (int ci = 0; ci < g->cin; ci++)
		for (int ky = 0; ky < k; ky++)
			for (int kx = 0; kx < k; kx++) {
				REAL *dst = col + ((size_t)(ci * k + ky) * k + kx) * ldcol;
				/* output columns whose input column is inside the plane */
				int lo = 0, hi = ow;
				while (lo < ow && lo * s - p + kx < 0)
					lo++;
				while (hi > lo && (hi - 1) * s - p + kx >= w)
					hi--;
				for (int n = 0; n < nb; n++) {
					const REAL *plane = x + ci * ldx + n * hw;
					REAL *d = dst + n * ohw;
					for (int oy = 0; oy < oh; oy++, d += ow) {
						int iy = oy * s - p + ky;
						if (iy < 0 || iy >= h) {
							memset(d, 0, sizeof(REAL) * ow);
							continue;
						}
						const REAL *srow = plane + (size_t)iy * w;
						for (int ox = 0; ox < lo; ox++)
							d[ox] = 0;
						if (s == 1)
							memcpy(d + lo, srow + lo + kx - p,
							       sizeof(REAL) * (hi - lo));
						else
							for (int ox = lo; ox < hi; ox++)
								d[ox] = srow[ox * s + kx - p];
						for (int ox = hi; ox < ow; ox++)
							d[ox] = 0;
					}
				}
			}
}

void MN_R(mn_col2im)(REAL *dx, size_t ldx, const REAL *col, size_t ldcol,
		     const struct mn_conv_geom *g, int nb)
{
	const int k = g->k, s = g->stride, p = g->pad, h = g->h, w = g->w, oh = g->oh, ow = g->ow;
	const size_t hw = (size_t)h * w, ohw = (size_t)oh * ow;
	for (int ci = 0; ci < g->cin; ci++)
		for (int ky = 0; ky < k; ky++)
			for (int kx = 0; kx < k; kx++) {
				const REAL *src = col + ((size_t)(ci * k + ky) * k + kx) * ldcol;
				int lo = 0, hi = ow;
				while (lo < ow && lo * s - p + kx < 0)
					lo++;
				while (hi > lo && (hi - 1) * s - p + kx >= w)
					hi--;
				for (int n = 0; n < nb; n++) {
					REAL *plane = dx + ci * ldx + n * hw;
					const REAL *c = src + n * ohw;
					for (int oy = 0; oy < oh; oy++, c += ow) {
						int iy = oy * s - p + ky;
						if (iy < 0 || iy >= h)
							continue;
						REAL *drow = plane + (size_t)iy * w;
						for (int ox = lo; ox < hi; ox++)
							drow[ox * s + kx - p] += c[ox];
					}
				}
			}
}

void MN_R(mn_conv_forward)(REAL *y, const REAL *w, const REAL *x, const struct mn_conv_geom *g,
			   int nb, REAL *col, int accumulate)
{
	const int ckk = mn_conv_ckk(g);
	const int ncol = nb * g->oh * g->ow;
	const REAL *b = x;
#if MN_REAL_IS_FLOAT
	/* the direct kernel, unless the caller keeps the im2col matrix; small
	 * channel counts only (GEMMs win beyond) */
	int direct3 = g->k == 3 && g->stride == 1 && g->pad == 1 && !col;
	if ((direct3 || mn_conv_is_pointwise(g)) && g->cin <= 32 && g->cout <= 96 &&
	    mn_fast_avx2() &&
	    mn_fast_conv_forward(y, w, x, g->cin, g->cout, g->k, g->h, g->w, nb, accumulate) == 0)
		return;
#endif
	if (!mn_conv_is_pointwise(g)) {
		MN_R(mn_im2col)(col, (size_t)ncol, x, (size_t)nb * g->h * g->w, g, nb);
		b = col;
	}
	MN_GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, g->cout, ncol, ckk, 1, w, ckk, b, ncol,
		accumulate ? 1 : 0, y, ncol);
}

void MN_R(mn_conv_backward_data)(REAL *dx, const REAL *w, const REAL *dy,
				 const struct mn_conv_geom *g, int nb, REAL *dcol, size_t dcol_cap)
{
	const int ckk = mn_conv_ckk(g);
	const size_t ohw = (size_t)g->oh * g->ow, hw = (size_t)g->h * g->w;
	const size_t ldy = (size_t)nb * ohw, ldx = (size_t)nb * hw;
	if (mn_conv_is_pointwise(g)) {
		MN_GEMM(CblasRowMajor, CblasTrans, CblasNoTrans, g->cin, (int)ldy, g->cout, 1, w, ckk,
			dy, (int)ldy, 1, dx, (int)ldx);
		return;
	}
	int slab = (int)(dcol_cap / ((size_t)ckk * ohw));
	if (slab < 1)
		slab = 1;
	if (slab > nb)
		slab = nb;
	for (int n0 = 0; n0 < nb; n0 += slab) {
		int m = nb - n0 < slab ? nb - n0 : slab;
		int ncol = (int)(m * ohw);
		MN_GEMM(CblasRowMajor, CblasTrans, CblasNoTrans, ckk, ncol, g->cout, 1, w, ckk,
			dy + n0 * ohw, (int)ldy, 0, dcol, ncol);
		MN_R(mn_col2im)(dx + n0 * hw, ldx, dcol, (size_t)ncol, g, m);
	}
}

void MN_R(mn_wgrad_sum)(REAL *dw, const REAL *dy, size_t lddy, const REAL *col, size_t ldcol,
			int m, int K, int ckk, int accumulate)
{
	MN_GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, m, ckk, K, 1, dy, (int)lddy, col,
		(int)ldcol, accumulate ? 1 : 0, dw, ckk);
}

void MN_R(mn_wgrad_per_query)(REAL *dw, const REAL *dy, const REAL *col, size_t ldcol, int m,
			      int nq, int K, int ckk)
{
	/* rows of dy are (channel, query) pairs, each K long and contiguous */
	MN_GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, m * nq, ckk, K, 1, dy, K, col, (int)ldcol,
		0, dw, ckk);
}

void MN_R(mn_wgrad_per_sample)(REAL *dw, const REAL *dy, const REAL *col, size_t ldcol, int m,
			       int nb, int hw, int ckk)
{
	for (int n = 0; n < nb; n++)
		MN_GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, m, ckk, hw, 1, dy + (size_t)n * hw,
			nb * hw, col + (size_t)n * hw, (int)ldcol, 0, dw + (size_t)n * m * ckk, ckk);
}

void MN_R(mn_bn_stats)(REAL *mean, REAL *rstd, const REAL *x, int C, size_t M)
{
	for (int c = 0; c < C; c++) {
		const REAL *r = x + c * M;
#if MN_REAL_IS_FLOAT
		double mu = mn_fast_sum(r, M) / (double)M;
		double v = mn_fast_sqdev(r, M, (float)mu) / (double)M;
#else
		double s = 0;
		for (size_t i = 0; i < M; i++)
			s += r[i];
		double mu = s / (double)M, v = 0;
		for (size_t i = 0; i < M; i++) {
			double d = r[i] - mu;
			v += d * d;
		}
		v /= (double)M;
#endif
		mean[c] = (REAL)mu;
		rstd[c] = (REAL)(1.0 / sqrt(v + MN_BN_EPS));
	}
}

void MN_R(mn_bn_normalize)(REAL *xhat, const REAL *x, const REAL *mean, const REAL *rstd, int C,
			   size_t M)
{
	for (int c = 0; c < C; c++) {
		const REAL mu = mean[c], rs = rstd[c];
		const REAL *r = x + c * M;
		REAL *o = xhat + c * M;
#if MN_REAL_IS_FLOAT
		mn_fast_lin3(o, r, NULL, M, rs, -mu * rs, 0);
#else
		for (size_t i = 0; i < M; i++)
			o[i] = (r[i] - mu) * rs;
#endif
	}
}

void MN_R(mn_bn_affine)(REAL *y, const REAL *xhat, const REAL *gamma, const REAL *beta, int C,
			size_t M, REAL scale, int accumulate)
{
	for (int c = 0; c < C; c++) {
		const REAL a = scale * gamma[c], b = scale * beta[c];
		const REAL *r = xhat + c * M;
		REAL *o = y + c * M;
#if MN_REAL_IS_FLOAT
		mn_fast_lin3(o, r, accumulate ? o : NULL, M, a, b, accumulate ? 1 : 0);
#else
		if (accumulate)
			for (size_t i = 0; i < M; i++)
				o[i] += a * r[i] + b;
		else
			for (size_t i = 0; i < M; i++)
				o[i] = a * r[i] + b;
#endif
	}
}

/* sums of d and d*x over n */
static inline void bn_sums(const REAL *d, const REAL *x, size_t n, double *s1, double *s2)
{
#if MN_REAL_IS_FLOAT
	mn_fast_sum2(d, x, n, s1, s2);
#else
	double a = 0, b = 0;
	for (size_t i = 0; i < n; i++) {
		a += d[i];
		b += (double)d[i] * x[i];
	}
	*s1 = a;
	*s2 = b;
#endif
}

void MN_R(mn_bn_backward)(REAL *dx, REAL *dgamma, REAL *dbeta, size_t ldg, const REAL *dy,
			  REAL scale, const REAL *xhat, const REAL *rstd, const REAL *gamma, int C,
			  int nq, int nb, int hw, int coupled, int per_sample)
{
	const size_t M = (size_t)nb * hw;
	for (int c = 0; c < C; c++) {
		const REAL *xh = xhat + c * M;
		const REAL k = gamma[c] * rstd[c];
		for (int q = 0; q < nq; q++) {
			const REAL *d = dy + ((size_t)c * nq + q) * M;
			REAL *o = dx + ((size_t)c * nq + q) * M;
			double m1 = 0, m2 = 0;
			if (per_sample && (dgamma || dbeta)) {
				for (int n = 0; n < nb; n++) {
					double s1, s2;
					bn_sums(d + (size_t)n * hw, xh + (size_t)n * hw, (size_t)hw, &s1, &s2);
					if (dgamma)
						dgamma[n * ldg + c] = (REAL)(scale * s2);
					if (dbeta)
						dbeta[n * ldg + c] = (REAL)(scale * s1);
					m1 += s1;
					m2 += s2;
				}
			} else if (coupled || dgamma || dbeta) {
				bn_sums(d, xh, M, &m1, &m2);
				if (dgamma)
					dgamma[q * ldg + c] = (REAL)(scale * m2);
				if (dbeta)
					dbeta[q * ldg + c] = (REAL)(scale * m1);
			}
			const REAL ks = k * scale;
			REAL a = 0, b = 0;
			if (coupled) {
				a = (REAL)(m1 / (double)M);
				b = (REAL)(m2 / (double)M);
			}
#if MN_REAL_IS_FLOAT
			mn_fast_lin3(o, d, xh, M, ks, -ks * a, -ks * b);
#else
			for (size_t i = 0; i < M; i++)
				o[i] = ks * (d[i] - a - xh[i] * b);
#endif
		}
	}
}

void MN_R(mn_relu_forward)(REAL *y, const REAL *x, size_t n)
{
#if MN_REAL_IS_FLOAT
	mn_fast_relu(y, x, n);
#else
	for (size_t i = 0; i < n; i++)
		y[i] = x[i] > 0 ? x[i] : 0;
#endif
}

void MN_R(mn_relu_backward)(REAL *dx, const REAL *dy, const REAL *y, int C, int nq, size_t M,
			    int accumulate)
{
	for (int c = 0; c < C; c++) {
		const REAL *yr = y + c * M;
		for (int q = 0; q < nq; q++) {
			const REAL *d = dy + ((size_t)c * nq + q) * M;
			REAL *o = dx + ((size_t)c * nq + q) * M;
#if MN_REAL_IS_FLOAT
			mn_fast_relu_bw(o, d, yr, M, accumulate);
#else
			if (accumulate)
				for (size_t i = 0; i < M; i++)
					o[i] += yr[i] > 0 ? d[i] : 0;
			else
				for (size_t i = 0; i < M; i++)
					o[i] = yr[i] > 0 ? d[i] : 0;
#endif
		}
	}
}

/* valid rows of a 3-window centred at i in [0, n) */
static inline int mn_win3(int i, int n)
{
	return 1 + (i > 0) + (i < n - 1);
}

void MN_R(mn_avgpool3_forward)(REAL *y, const REAL *x, size_t nplanes, int h, int w, REAL scale,
			       int accumulate)
{
	const size_t hw = (size_t)h * w;
#if MN_REAL_IS_FLOAT
	if (!accumulate)
		memset(y, 0, sizeof(REAL) * nplanes * hw);
	mn_fast_pool3_fw(y, x, nplanes, h, w, scale);
	return;
#endif
	for (size_t p = 0; p < nplanes; p++) {
		const REAL *in = x + p * hw;
		REAL *out = y + p * hw;
		for (int oy = 0; oy < h; oy++) {
			int y0 = oy > 0 ? oy - 1 : 0, y1 = oy < h - 1 ? oy + 1 : h - 1;
			int cy = mn_win3(oy, h);
			for (int ox = 0; ox < w; ox++) {
				int x0 = ox > 0 ? ox - 1 : 0, x1 = ox < w - 1 ? ox + 1 : w - 1;
				REAL s = 0;
				for (int iy = y0; iy <= y1; iy++)
					for (int ix = x0; ix <= x1; ix++)
						s += in[(size_t)iy * w + ix];
				REAL v = s * (scale / (REAL)(cy * mn_win3(ox, w)));
				if (accumulate)
					out[(size_t)oy * w + ox] += v;
				else
					out[(size_t)oy * w + ox] = v;
			}
		}
	}
}

void MN_R(mn_avgpool3_backward)(REAL *dx, const REAL *dy, size_t nplanes, int h, int w,
				REAL scale, int accumulate)
{
	/* p is in the window of o exactly when o is in the window of p, so the
	 * transpose is a box sum of dy / count(o). */
	const size_t hw = (size_t)h * w;
#if MN_REAL_IS_FLOAT
	if (!accumulate)
		memset(dx, 0, sizeof(REAL) * nplanes * hw);
	const float *src[1] = {dy};
	mn_fast_pool3_bw(dx, src, &scale, 1, nplanes, h, w);
	return;
#endif
	for (size_t p = 0; p < nplanes; p++) {
		const REAL *in = dy + p * hw;
		REAL *out = dx + p * hw;
		for (int iy = 0; iy < h; iy++) {
			int y0 = iy > 0 ? iy - 1 : 0, y1 = iy < h - 1 ? iy + 1 : h - 1;
			for (int ix = 0; ix < w; ix++) {
				int x0 = ix > 0 ? ix - 1 : 0, x1 = ix < w - 1 ? ix + 1 : w - 1;
				REAL s = 0;
				for (int oy = y0; oy <= y1; oy++)
					for (int ox = x0; ox <= x1; ox++)
						s += in[(size_t)oy * w + ox] /
						     (REAL)(mn_win3(oy, h) * mn_win3(ox, w));
				if (accumulate)
					out[(size_t)iy * w + ix] += scale * s;
				else
					out[(size_t)iy * w + ix] = scale * s;
			}
		}
	}
}

void MN_R(mn_avgpool2_forward)(REAL *y, const REAL *x, size_t nplanes, int h, int w)
{
	const int oh = h / 2, ow = w / 2;
	for (size_t p = 0; p < nplanes; p++) {
		const REAL *in = x + p * (size_t)h * w;
		REAL *out = y + p * (size_t)oh * ow;
		for (int oy = 0; oy < oh; oy++) {
			const REAL *r0 = in + (size_t)(2 * oy) * w, *r1 = r0 + w;
			for (int ox = 0; ox < ow; ox++)
				out[(size_t)oy * ow + ox] = (REAL)0.25 * (r0[2 * ox] + r0[2 * ox + 1] +
									 r1[2 * ox] + r1[2 * ox + 1]);
		}
	}
}

void MN_R(mn_avgpool2_backward)(REAL *dx, const REAL *dy, size_t nplanes, int h, int w,
				int accumulate)
{
	const int oh = h / 2, ow = w / 2;
	for (size_t p = 0; p < nplanes; p++) {
		REAL *out = dx + p * (size_t)h * w;
		const REAL *in = dy + p * (size_t)oh * ow;
		if (!accumulate && ((h & 1) || (w & 1)))
			memset(out, 0, sizeof(REAL) * (size_t)h * w); /* rows/columns no window covers */
		for (int oy = 0; oy < oh; oy++) {
			REAL *r0 = out + (size_t)(2 * oy) * w, *r1 = r0 + w;
			const REAL *d = in + (size_t)oy * ow;
			if (accumulate)
				for (int ox = 0; ox < ow; ox++) {
					REAL v = (REAL)0.25 * d[ox];
					r0[2 * ox] += v;
					r0[2 * ox + 1] += v;
					r1[2 * ox] += v;
					r1[2 * ox + 1] += v;
				}
			else
				for (int ox = 0; ox < ow; ox++) {
					REAL v = (REAL)0.25 * d[ox];
					r0[2 * ox] = r0[2 * ox + 1] = r1[2 * ox] = r1[2 * ox + 1] = v;
				}
		}
	}
}

void MN_R(mn_gap_forward)(REAL *y, const REAL *x, size_t nplanes, int hw)
{
	for (size_t p = 0; p < nplanes; p++) {
		const REAL *r = x + p * hw;
		double s = 0;
		for (int i = 0; i < hw; i++)
			s += r[i];
		y[p] = (REAL)(s / hw);
	}
}

void MN_R(mn_gap_backward)(REAL *dx, const REAL *dy, size_t nplanes, int hw, int accumulate)
{
	for (size_t p = 0; p < nplanes; p++) {
		REAL v = dy[p] / (REAL)hw;
		REAL *r = dx + p * hw;
		if (accumulate)
			for (int i = 0; i < hw; i++)
				r[i] += v;
		else
			for (int i = 0; i < hw; i++)
				r[i] = v;
	}
}

void MN_R(mn_linear_forward)(REAL *y, const REAL *w, const REAL *b, const REAL *x, int out, int in,
			     int nb)
{
	for (int o = 0; o < out; o++)
		for (int n = 0; n < nb; n++)
			y[(size_t)o * nb + n] = b ? b[o] : 0;
	MN_GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, out, nb, in, 1, w, in, x, nb, 1, y, nb);
}

void MN_R(mn_linear_backward_data)(REAL *dx, const REAL *w, const REAL *dy, int out, int in,
				   int nb, int accumulate)
{
	MN_GEMM(CblasRowMajor, CblasTrans, CblasNoTrans, in, nb, out, 1, w, in, dy, nb,
		accumulate ? 1 : 0, dx, nb);
}

void MN_R(mn_linear_backward_params)(REAL *dw, REAL *db, const REAL *dy, const REAL *x, int out,
				     int in, int nb, int accumulate)
{
	MN_GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, out, in, nb, 1, dy, nb, x, nb,
		accumulate ? 1 : 0, dw, in);
	if (db)
		for (int o = 0; o < out; o++) {
			double s = 0;
			for (int n = 0; n < nb; n++)
				s += dy[(size_t)o * nb + n];
			db[o] = (REAL)(accumulate ? db[o] + s : s);
		}
}

void MN_R(mn_add)(REAL *y, const REAL *a, const REAL *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		y[i] = a[i] + b[i];
}

void MN_R(mn_axpy)(REAL *y, REAL s, const REAL *x, size_t n)
{
#if MN_REAL_IS_FLOAT
	mn_fast_lin3(y, y, x, n, 1, 0, s);
#else
	for (size_t i = 0; i < n; i++)
		y[i] += s * x[i];
#endif
}

void MN_R(mn_nchw_to_cnhw)(REAL *dst, const REAL *src, int n, int c, int hw)
{
	for (int i = 0; i < n; i++)
		for (int j = 0; j < c; j++)
			memcpy(dst + ((size_t)j * n + i) * hw, src + ((size_t)i * c + j) * hw,
			       sizeof(REAL) * hw);
}
