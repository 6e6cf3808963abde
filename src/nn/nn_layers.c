/* The layers (declarations and layouts: nn_layers.h), each a forward and a
 * backward over flat arrays the caller owns, plus the conv shape helpers. */
#include "nn/nn_layers.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

#include "nn/simd.h"

void mn_im2col(float *col, size_t ldcol, const float *x, size_t ldx, const struct mn_conv_geom *g,
	       int nb)
{
	const int k = g->k, s = g->stride, p = g->pad, h = g->h, w = g->w, oh = g->oh, ow = g->ow;
	const size_t hw = (size_t)h * w, ohw = (size_t)oh * ow;
	for (int ci = 0; ci < g->cin; ci++)
		for (int ky = 0; ky < k; ky++)
			for (int kx = 0; kx < k; kx++) {
				float *dst = col + ((size_t)(ci * k + ky) * k + kx) * ldcol;
				/* output columns whose input column is inside the plane */
				int lo = 0, hi = ow;
				while (lo < ow && lo * s - p + kx < 0)
					lo++;
				while (hi > lo && (hi - 1) * s - p + kx >= w)
					hi--;
				for (int n = 0; n < nb; n++) {
					const float *plane = x + ci * ldx + n * hw;
					float *d = dst + n * ohw;
					for (int oy = 0; oy < oh; oy++, d += ow) {
						int iy = oy * s - p + ky;
						if (iy < 0 || iy >= h) {
							memset(d, 0, sizeof(float) * ow);
							continue;
						}
						const float *srow = plane + (size_t)iy * w;
						for (int ox = 0; ox < lo; ox++)
							d[ox] = 0;
						if (s == 1)
							memcpy(d + lo, srow + lo + kx - p,
							       sizeof(float) * (hi - lo));
						else
							for (int ox = lo; ox < hi; ox++)
								d[ox] = srow[ox * s + kx - p];
						for (int ox = hi; ox < ow; ox++)
							d[ox] = 0;
					}
				}
			}
}

void mn_col2im(float *dx, size_t ldx, const float *col, size_t ldcol, const struct mn_conv_geom *g,
	       int nb)
{
	const int k = g->k, s = g->stride, p = g->pad, h = g->h, w = g->w, oh = g->oh, ow = g->ow;
	const size_t hw = (size_t)h * w, ohw = (size_t)oh * ow;
	for (int ci = 0; ci < g->cin; ci++)
		for (int ky = 0; ky < k; ky++)
			for (int kx = 0; kx < k; kx++) {
				const float *src = col + ((size_t)(ci * k + ky) * k + kx) * ldcol;
				int lo = 0, hi = ow;
				while (lo < ow && lo * s - p + kx < 0)
					lo++;
				while (hi > lo && (hi - 1) * s - p + kx >= w)
					hi--;
				for (int n = 0; n < nb; n++) {
					float *plane = dx + ci * ldx + n * hw;
					const float *c = src + n * ohw;
					for (int oy = 0; oy < oh; oy++, c += ow) {
						int iy = oy * s - p + ky;
						if (iy < 0 || iy >= h)
							continue;
						float *drow = plane + (size_t)iy * w;
						if (s == 2 && hi > lo)
							mn_simd_add_stride2(drow + 2 * lo + kx - p, c + lo,
									    hi - lo);
						else
							for (int ox = lo; ox < hi; ox++)
								drow[ox * s + kx - p] += c[ox];
					}
				}
			}
}

void mn_conv_forward(float *y, const float *w, const float *x, const struct mn_conv_geom *g, int nb,
		     float *col, int accumulate)
{
	const int ckk = mn_conv_ckk(g);
	const int ncol = nb * g->oh * g->ow;
	const float *b = x;
	if (!mn_conv_is_pointwise(g)) {
		mn_im2col(col, (size_t)ncol, x, (size_t)nb * g->h * g->w, g, nb);
		b = col;
	}
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, g->cout, ncol, ckk, 1, w, ckk, b,
		    ncol, accumulate ? 1 : 0, y, ncol);
}

void mn_conv_backward_data(float *dx, const float *w, const float *dy, const struct mn_conv_geom *g,
			   int nb, float *dcol, size_t dcol_cap)
{
	const int ckk = mn_conv_ckk(g);
	const size_t ohw = (size_t)g->oh * g->ow, hw = (size_t)g->h * g->w;
	const size_t ldy = (size_t)nb * ohw, ldx = (size_t)nb * hw;
	if (mn_conv_is_pointwise(g)) {
		cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, g->cin, (int)ldy, g->cout, 1,
			    w, ckk, dy, (int)ldy, 1, dx, (int)ldx);
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
		cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, ckk, ncol, g->cout, 1, w, ckk,
			    dy + n0 * ohw, (int)ldy, 0, dcol, ncol);
		mn_col2im(dx + n0 * hw, ldx, dcol, (size_t)ncol, g, m);
	}
}

void mn_wgrad_sum(float *dw, const float *dy, size_t lddy, const float *col, size_t ldcol, int m,
		  int K, int ckk, int accumulate)
{
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, ckk, K, 1, dy, (int)lddy, col,
		    (int)ldcol, accumulate ? 1 : 0, dw, ckk);
}

void mn_wgrad_per_query(float *dw, const float *dy, const float *col, size_t ldcol, int m, int nq,
			int K, int ckk)
{
	/* rows of dy are (channel, query) pairs, each K long and contiguous */
	if (mn_simd_gemm_nt_long(dw, (size_t)ckk, dy, (size_t)K, col, ldcol, m * nq, ckk, K) != 0)
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m * nq, ckk, K, 1, dy, K, col,
			    (int)ldcol, 0, dw, ckk);
}

void mn_wgrad_per_sample(float *dw, const float *dy, const float *col, size_t ldcol, int m, int nb,
			 int hw, int ckk)
{
	for (int n = 0; n < nb; n++)
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, ckk, hw, 1,
			    dy + (size_t)n * hw, nb * hw, col + (size_t)n * hw, (int)ldcol, 0,
			    dw + (size_t)n * m * ckk, ckk);
}

void mn_bn_stats(float *mean, float *rstd, const float *x, int C, size_t M)
{
	for (int c = 0; c < C; c++) {
		const float *r = x + c * M;
		double mu = mn_simd_sum(r, M) / (double)M;
		double v = mn_simd_sqdev(r, M, (float)mu) / (double)M;
		mean[c] = (float)mu;
		rstd[c] = (float)(1.0 / sqrt(v + MN_BN_EPS));
	}
}

void mn_bn_normalize(float *xhat, const float *x, const float *mean, const float *rstd, int C,
		     size_t M)
{
	for (int c = 0; c < C; c++) {
		const float mu = mean[c], rs = rstd[c];
		const float *r = x + c * M;
		float *o = xhat + c * M;
		mn_simd_lin3(o, r, NULL, M, rs, -mu * rs, 0);
	}
}

void mn_bn_affine(float *y, const float *xhat, const float *gamma, const float *beta, int C,
		  size_t M, float scale, int accumulate)
{
	for (int c = 0; c < C; c++) {
		const float a = scale * gamma[c], b = scale * beta[c];
		const float *r = xhat + c * M;
		float *o = y + c * M;
		mn_simd_lin3(o, r, accumulate ? o : NULL, M, a, b, accumulate ? 1 : 0);
	}
}

/* sums of d and d*x over n */
static inline void bn_sums(const float *d, const float *x, size_t n, double *s1, double *s2)
{
	mn_simd_sum2(d, x, n, s1, s2);
}

void mn_bn_backward(float *dx, float *dgamma, float *dbeta, size_t ldg, const float *dy,
		    float scale, const float *xhat, const float *rstd, const float *gamma, int C,
		    int nq, int nb, int hw, int coupled, int per_sample)
{
	const size_t M = (size_t)nb * hw;
	for (int c = 0; c < C; c++) {
		const float *xh = xhat + c * M;
		const float k = gamma[c] * rstd[c];
		for (int q = 0; q < nq; q++) {
			const float *d = dy + ((size_t)c * nq + q) * M;
			float *o = dx + ((size_t)c * nq + q) * M;
			double m1 = 0, m2 = 0;
			if (per_sample && (dgamma || dbeta)) {
				for (int n = 0; n < nb; n++) {
					double s1, s2;
					bn_sums(d + (size_t)n * hw, xh + (size_t)n * hw, (size_t)hw,
						&s1, &s2);
					if (dgamma)
						dgamma[n * ldg + c] = (float)(scale * s2);
					if (dbeta)
						dbeta[n * ldg + c] = (float)(scale * s1);
					m1 += s1;
					m2 += s2;
				}
			} else if (coupled || dgamma || dbeta) {
				bn_sums(d, xh, M, &m1, &m2);
				if (dgamma)
					dgamma[q * ldg + c] = (float)(scale * m2);
				if (dbeta)
					dbeta[q * ldg + c] = (float)(scale * m1);
			}
			const float ks = k * scale;
			float a = 0, b = 0;
			if (coupled) {
				a = (float)(m1 / (double)M);
				b = (float)(m2 / (double)M);
			}
			mn_simd_lin3(o, d, xh, M, ks, -ks * a, -ks * b);
		}
	}
}

void mn_relu_forward(float *y, const float *x, size_t n)
{
	mn_simd_relu(y, x, n);
}

void mn_relu_backward(float *dx, const float *dy, const float *y, int C, int nq, size_t M,
		      int accumulate)
{
	for (int c = 0; c < C; c++) {
		const float *yr = y + c * M;
		for (int q = 0; q < nq; q++) {
			const float *d = dy + ((size_t)c * nq + q) * M;
			float *o = dx + ((size_t)c * nq + q) * M;
			mn_simd_relu_bw(o, d, yr, M, accumulate);
		}
	}
}

/* valid rows of a 3-window centred at i in [0, n) */
static inline int mn_win3(int i, int n)
{
	return 1 + (i > 0) + (i < n - 1);
}

void mn_avgpool3_forward(float *y, const float *x, size_t nplanes, int h, int w, float scale,
			 int accumulate)
{
	const size_t hw = (size_t)h * w;
	for (size_t p = 0; p < nplanes; p++) {
		const float *in = x + p * hw;
		float *out = y + p * hw;
		for (int oy = 0; oy < h; oy++) {
			int y0 = oy > 0 ? oy - 1 : 0, y1 = oy < h - 1 ? oy + 1 : h - 1;
			int cy = mn_win3(oy, h);
			for (int ox = 0; ox < w; ox++) {
				int x0 = ox > 0 ? ox - 1 : 0, x1 = ox < w - 1 ? ox + 1 : w - 1;
				float s = 0;
				for (int iy = y0; iy <= y1; iy++)
					for (int ix = x0; ix <= x1; ix++)
						s += in[(size_t)iy * w + ix];
				float v = s * (scale / (float)(cy * mn_win3(ox, w)));
				if (accumulate)
					out[(size_t)oy * w + ox] += v;
				else
					out[(size_t)oy * w + ox] = v;
			}
		}
	}
}

void mn_avgpool3_backward(float *dx, const float *dy, size_t nplanes, int h, int w, float scale,
			  int accumulate)
{
	/* p is in the window of o exactly when o is in the window of p, so the
	 * transpose is a box sum of dy / count(o). */
	const size_t hw = (size_t)h * w;
	for (size_t p = 0; p < nplanes; p++) {
		const float *in = dy + p * hw;
		float *out = dx + p * hw;
		for (int iy = 0; iy < h; iy++) {
			int y0 = iy > 0 ? iy - 1 : 0, y1 = iy < h - 1 ? iy + 1 : h - 1;
			for (int ix = 0; ix < w; ix++) {
				int x0 = ix > 0 ? ix - 1 : 0, x1 = ix < w - 1 ? ix + 1 : w - 1;
				float s = 0;
				for (int oy = y0; oy <= y1; oy++)
					for (int ox = x0; ox <= x1; ox++)
						s += in[(size_t)oy * w + ox] /
						     (float)(mn_win3(oy, h) * mn_win3(ox, w));
				if (accumulate)
					out[(size_t)iy * w + ix] += scale * s;
				else
					out[(size_t)iy * w + ix] = scale * s;
			}
		}
	}
}

/* 2x2 stride-2 average pool in ceil mode (space/cost.h, mn_half_side): on an
 * odd side the last window is clipped to the input and averages the pixels
 * it covers, so the windows tile the input exactly. */
void mn_avgpool2_forward(float *y, const float *x, size_t nplanes, int h, int w)
{
	const int oh = (h + 1) / 2, ow = (w + 1) / 2;
	for (size_t p = 0; p < nplanes; p++) {
		const float *in = x + p * (size_t)h * w;
		float *out = y + p * (size_t)oh * ow;
		for (int oy = 0; oy < oh; oy++) {
			const float *r0 = in + (size_t)(2 * oy) * w;
			const float *r1 = 2 * oy + 1 < h ? r0 + w : NULL;
			for (int ox = 0; ox < ow; ox++) {
				int x1 = 2 * ox + 1 < w;
				if (r1 && x1) {
					out[(size_t)oy * ow + ox] =
						(float)0.25 * (r0[2 * ox] + r0[2 * ox + 1] + r1[2 * ox] +
							       r1[2 * ox + 1]);
					continue;
				}
				float s = r0[2 * ox] + (x1 ? r0[2 * ox + 1] : 0);
				if (r1)
					s += r1[2 * ox] + (x1 ? r1[2 * ox + 1] : 0);
				out[(size_t)oy * ow + ox] = s / (float)((1 + x1) * (r1 ? 2 : 1));
			}
		}
	}
}

void mn_avgpool2_backward(float *dx, const float *dy, size_t nplanes, int h, int w, int accumulate)
{
	const int oh = (h + 1) / 2, ow = (w + 1) / 2;
	for (size_t p = 0; p < nplanes; p++) {
		float *out = dx + p * (size_t)h * w;
		const float *in = dy + p * (size_t)oh * ow;
		/* the windows tile the input: every dx element is written once */
		for (int oy = 0; oy < oh; oy++) {
			float *r0 = out + (size_t)(2 * oy) * w;
			float *r1 = 2 * oy + 1 < h ? r0 + w : NULL;
			const float *d = in + (size_t)oy * ow;
			for (int ox = 0; ox < ow; ox++) {
				int x1 = 2 * ox + 1 < w, n = (1 + x1) * (r1 ? 2 : 1);
				if (n == 4) {
					float v = (float)0.25 * d[ox];
					if (accumulate) {
						r0[2 * ox] += v, r0[2 * ox + 1] += v;
						r1[2 * ox] += v, r1[2 * ox + 1] += v;
					} else {
						r0[2 * ox] = r0[2 * ox + 1] = r1[2 * ox] = r1[2 * ox + 1] = v;
					}
					continue;
				}
				float v = d[ox] / (float)n;
				float *q[4] = {r0 + 2 * ox, x1 ? r0 + 2 * ox + 1 : NULL,
					       r1 ? r1 + 2 * ox : NULL, r1 && x1 ? r1 + 2 * ox + 1 : NULL};
				for (int k = 0; k < 4; k++)
					if (q[k])
						*q[k] = accumulate ? *q[k] + v : v;
			}
		}
	}
}

void mn_gap_forward(float *y, const float *x, size_t nplanes, int hw)
{
	for (size_t p = 0; p < nplanes; p++) {
		const float *r = x + p * hw;
		double s = 0;
		for (int i = 0; i < hw; i++)
			s += r[i];
		y[p] = (float)(s / hw);
	}
}

void mn_gap_backward(float *dx, const float *dy, size_t nplanes, int hw, int accumulate)
{
	for (size_t p = 0; p < nplanes; p++) {
		float v = dy[p] / (float)hw;
		float *r = dx + p * hw;
		if (accumulate)
			for (int i = 0; i < hw; i++)
				r[i] += v;
		else
			for (int i = 0; i < hw; i++)
				r[i] = v;
	}
}

void mn_linear_forward(float *y, const float *w, const float *b, const float *x, int out, int in,
		       int nb)
{
	for (int o = 0; o < out; o++)
		for (int n = 0; n < nb; n++)
			y[(size_t)o * nb + n] = b ? b[o] : 0;
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, out, nb, in, 1, w, in, x, nb, 1, y,
		    nb);
}

void mn_linear_backward_data(float *dx, const float *w, const float *dy, int out, int in, int nb,
			     int accumulate)
{
	cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, in, nb, out, 1, w, in, dy, nb,
		    accumulate ? 1 : 0, dx, nb);
}

void mn_linear_backward_params(float *dw, float *db, const float *dy, const float *x, int out,
			       int in, int nb, int accumulate)
{
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, out, in, nb, 1, dy, nb, x, nb,
		    accumulate ? 1 : 0, dw, in);
	if (db)
		for (int o = 0; o < out; o++) {
			double s = 0;
			for (int n = 0; n < nb; n++)
				s += dy[(size_t)o * nb + n];
			db[o] = (float)(accumulate ? db[o] + s : s);
		}
}

void mn_add(float *y, const float *a, const float *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		y[i] = a[i] + b[i];
}

void mn_axpy(float *y, float s, const float *x, size_t n)
{
	mn_simd_lin3(y, y, x, n, 1, 0, s);
}

void mn_nchw_to_cnhw(float *dst, const float *src, int n, int c, int hw)
{
	for (int i = 0; i < n; i++)
		for (int j = 0; j < c; j++)
			memcpy(dst + ((size_t)j * n + i) * hw, src + ((size_t)i * c + j) * hw,
			       sizeof(float) * hw);
}

int mn_conv_geom_init(struct mn_conv_geom *g, int cin, int cout, int k, int stride, int pad, int h,
		      int w)
{
	if (cin < 1 || cout < 1 || k < 1 || stride < 1 || pad < 0 || h < 1 || w < 1)
		return -1;
	g->cin = cin;
	g->cout = cout;
	g->k = k;
	g->stride = stride;
	g->pad = pad;
	g->h = h;
	g->w = w;
	g->oh = (h + 2 * pad - k) / stride + 1;
	g->ow = (w + 2 * pad - k) / stride + 1;
	if (h + 2 * pad < k || w + 2 * pad < k || g->oh < 1 || g->ow < 1)
		return -1;
	return 0;
}

int mn_conv_ckk(const struct mn_conv_geom *g)
{
	return g->cin * g->k * g->k;
}

int mn_conv_is_pointwise(const struct mn_conv_geom *g)
{
	return g->k == 1 && g->stride == 1 && g->pad == 0;
}
