/* Naive double-precision layers (see ref_layers.h). */
#include "ref_layers.h"

#include <math.h>
#include <string.h>

void ref_conv_forward(double *y, const double *x, const double *w, int n, int ci, int co, int h,
		      int wd, int k, int stride, int pad)
{
	int oh = (h + 2 * pad - k) / stride + 1, ow = (wd + 2 * pad - k) / stride + 1;
	for (int b = 0; b < n; b++)
		for (int o = 0; o < co; o++)
			for (int py = 0; py < oh; py++)
				for (int px = 0; px < ow; px++) {
					double s = 0;
					for (int i = 0; i < ci; i++)
						for (int ky = 0; ky < k; ky++)
							for (int kx = 0; kx < k; kx++) {
								int iy = py * stride - pad + ky;
								int ix = px * stride - pad + kx;
								if (iy < 0 || iy >= h || ix < 0 || ix >= wd)
									continue;
								s += w[((o * ci + i) * k + ky) * k + kx] *
								     x[((size_t)(b * ci + i) * h + iy) * wd + ix];
							}
					y[((size_t)(b * co + o) * oh + py) * ow + px] = s;
				}
}

void ref_conv_backward(double *dx, double *dw, const double *dy, const double *x, const double *w,
		       int n, int ci, int co, int h, int wd, int k, int stride, int pad)
{
	int oh = (h + 2 * pad - k) / stride + 1, ow = (wd + 2 * pad - k) / stride + 1;
	for (int b = 0; b < n; b++)
		for (int o = 0; o < co; o++)
			for (int py = 0; py < oh; py++)
				for (int px = 0; px < ow; px++) {
					double d = dy[((size_t)(b * co + o) * oh + py) * ow + px];
					for (int i = 0; i < ci; i++)
						for (int ky = 0; ky < k; ky++)
							for (int kx = 0; kx < k; kx++) {
								int iy = py * stride - pad + ky;
								int ix = px * stride - pad + kx;
								if (iy < 0 || iy >= h || ix < 0 || ix >= wd)
									continue;
								size_t xi = ((size_t)(b * ci + i) * h + iy) * wd + ix;
								size_t wi = ((o * ci + i) * k + ky) * k + kx;
								if (dx)
									dx[xi] += w[wi] * d;
								if (dw)
									dw[wi] += x[xi] * d;
							}
				}
}

void ref_bn_forward(double *y, double *xhat, double *rstd, const double *x, const double *gamma,
		    const double *beta, int n, int c, int hw)
{
	double M = (double)n * hw;
	for (int ch = 0; ch < c; ch++) {
		double m = 0, v = 0;
		for (int b = 0; b < n; b++)
			for (int i = 0; i < hw; i++)
				m += x[((size_t)b * c + ch) * hw + i];
		m /= M;
		for (int b = 0; b < n; b++)
			for (int i = 0; i < hw; i++) {
				double d = x[((size_t)b * c + ch) * hw + i] - m;
				v += d * d;
			}
		rstd[ch] = 1.0 / sqrt(v / M + REF_BN_EPS);
		for (int b = 0; b < n; b++)
			for (int i = 0; i < hw; i++) {
				size_t j = ((size_t)b * c + ch) * hw + i;
				xhat[j] = (x[j] - m) * rstd[ch];
				y[j] = gamma[ch] * xhat[j] + beta[ch];
			}
	}
}

void ref_bn_backward(double *dx, double *dgamma, double *dbeta, const double *dy,
		     const double *xhat, const double *rstd, const double *gamma, int n, int c,
		     int hw, int coupled)
{
	double M = (double)n * hw;
	for (int ch = 0; ch < c; ch++) {
		double s1 = 0, s2 = 0;
		for (int b = 0; b < n; b++)
			for (int i = 0; i < hw; i++) {
				size_t j = ((size_t)b * c + ch) * hw + i;
				s1 += dy[j];
				s2 += dy[j] * xhat[j];
			}
		if (dgamma)
			dgamma[ch] += s2;
		if (dbeta)
			dbeta[ch] += s1;
		for (int b = 0; b < n; b++)
			for (int i = 0; i < hw; i++) {
				size_t j = ((size_t)b * c + ch) * hw + i;
				double d = coupled ? dy[j] - s1 / M - xhat[j] * s2 / M : dy[j];
				dx[j] = gamma[ch] * rstd[ch] * d;
			}
	}
}

void ref_relu_forward(double *y, const double *x, size_t len)
{
	for (size_t i = 0; i < len; i++)
		y[i] = x[i] > 0 ? x[i] : 0;
}

void ref_relu_backward(double *dx, const double *dy, const double *y, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (y[i] > 0)
			dx[i] += dy[i];
}

/* the window of output (py, px) and its count */
static int win3(int py, int px, int h, int w, int *y0, int *y1, int *x0, int *x1)
{
	*y0 = py > 0 ? py - 1 : 0;
	*y1 = py + 1 < h ? py + 1 : h - 1;
	*x0 = px > 0 ? px - 1 : 0;
	*x1 = px + 1 < w ? px + 1 : w - 1;
	return (*y1 - *y0 + 1) * (*x1 - *x0 + 1);
}

void ref_avgpool3_forward(double *y, const double *x, int planes, int h, int w)
{
	for (int p = 0; p < planes; p++)
		for (int py = 0; py < h; py++)
			for (int px = 0; px < w; px++) {
				int y0, y1, x0, x1, cnt = win3(py, px, h, w, &y0, &y1, &x0, &x1);
				double s = 0;
				for (int iy = y0; iy <= y1; iy++)
					for (int ix = x0; ix <= x1; ix++)
						s += x[((size_t)p * h + iy) * w + ix];
				y[((size_t)p * h + py) * w + px] = s / cnt;
			}
}

void ref_avgpool3_backward(double *dx, const double *dy, int planes, int h, int w)
{
	for (int p = 0; p < planes; p++)
		for (int py = 0; py < h; py++)
			for (int px = 0; px < w; px++) {
				int y0, y1, x0, x1, cnt = win3(py, px, h, w, &y0, &y1, &x0, &x1);
				double d = dy[((size_t)p * h + py) * w + px] / cnt;
				for (int iy = y0; iy <= y1; iy++)
					for (int ix = x0; ix <= x1; ix++)
						dx[((size_t)p * h + iy) * w + ix] += d;
			}
}

/* Ceil mode: output ceil(h/2) x ceil(w/2); a window cut by the edge
 * averages the pixels inside it (PyTorch's avg_pool2d(2, 2, ceil_mode=True)). */
void ref_avgpool2_forward(double *y, const double *x, int planes, int h, int w)
{
	int oh = (h + 1) / 2, ow = (w + 1) / 2;
	for (int p = 0; p < planes; p++)
		for (int py = 0; py < oh; py++)
			for (int px = 0; px < ow; px++) {
				double s = 0;
				int cnt = 0;
				for (int iy = 2 * py; iy < 2 * py + 2 && iy < h; iy++)
					for (int ix = 2 * px; ix < 2 * px + 2 && ix < w; ix++)
						s += x[((size_t)p * h + iy) * w + ix], cnt++;
				y[((size_t)p * oh + py) * ow + px] = s / cnt;
			}
}

void ref_avgpool2_backward(double *dx, const double *dy, int planes, int h, int w)
{
	int oh = (h + 1) / 2, ow = (w + 1) / 2;
	for (int p = 0; p < planes; p++)
		for (int py = 0; py < oh; py++)
			for (int px = 0; px < ow; px++) {
				int cnt = (2 * py + 1 < h ? 2 : 1) * (2 * px + 1 < w ? 2 : 1);
				double d = dy[((size_t)p * oh + py) * ow + px] / cnt;
				for (int iy = 2 * py; iy < 2 * py + 2 && iy < h; iy++)
					for (int ix = 2 * px; ix < 2 * px + 2 && ix < w; ix++)
						dx[((size_t)p * h + iy) * w + ix] += d;
			}
}

void ref_gap_forward(double *y, const double *x, int planes, int hw)
{
	for (int p = 0; p < planes; p++) {
		double s = 0;
		for (int i = 0; i < hw; i++)
			s += x[(size_t)p * hw + i];
		y[p] = s / hw;
	}
}

void ref_gap_backward(double *dx, const double *dy, int planes, int hw)
{
	for (int p = 0; p < planes; p++)
		for (int i = 0; i < hw; i++)
			dx[(size_t)p * hw + i] += dy[p] / hw;
}

void ref_linear_forward(double *y, const double *x, const double *W, const double *b, int n,
			int in, int out)
{
	for (int s = 0; s < n; s++)
		for (int o = 0; o < out; o++) {
			double v = b ? b[o] : 0;
			for (int i = 0; i < in; i++)
				v += W[(size_t)o * in + i] * x[(size_t)s * in + i];
			y[(size_t)s * out + o] = v;
		}
}

void ref_linear_backward(double *dx, double *dW, double *db, const double *dy, const double *x,
			 const double *W, int n, int in, int out)
{
	for (int s = 0; s < n; s++)
		for (int o = 0; o < out; o++) {
			double d = dy[(size_t)s * out + o];
			if (db)
				db[o] += d;
			for (int i = 0; i < in; i++) {
				if (dx)
					dx[(size_t)s * in + i] += W[(size_t)o * in + i] * d;
				if (dW)
					dW[(size_t)o * in + i] += x[(size_t)s * in + i] * d;
			}
		}
}
