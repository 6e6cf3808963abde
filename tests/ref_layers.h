/* Naive double-precision layers for the reference network (ref_net.c) and
 * the layer tests: direct loops over [n][c][h][w] arrays, each a forward
 * and a backward.  Backwards accumulate (+=) into dx and parameter
 * gradients unless stated otherwise. */
#ifndef MN_TEST_REF_LAYERS_H
#define MN_TEST_REF_LAYERS_H

#include <stddef.h>

#define REF_BN_EPS 1e-5

/* y[n][co][oh][ow] = conv(x[n][ci][h][w], w[co][ci][k][k]), zero padding;
 * oh = (h + 2 pad - k) / stride + 1. */
void ref_conv_forward(double *y, const double *x, const double *w, int n, int ci, int co, int h,
		      int wd, int k, int stride, int pad);
/* dx (may be NULL) += conv^T(dy); dw (may be NULL) += dy * x. */
void ref_conv_backward(double *dx, double *dw, const double *dy, const double *x, const double *w,
		       int n, int ci, int co, int h, int wd, int k, int stride, int pad);

/* Train-mode BN over [n][c][hw]: mean and rstd per channel over n*hw
 * (biased variance), xhat, y = gamma*xhat + beta. */
void ref_bn_forward(double *y, double *xhat, double *rstd, const double *x, const double *gamma,
		    const double *beta, int n, int c, int hw);
/* dx = (written) gamma*rstd*(dy - mean(dy) - xhat*mean(dy*xhat)) when coupled,
 * gamma*rstd*dy when not; dgamma += sum dy*xhat; dbeta += sum dy. */
void ref_bn_backward(double *dx, double *dgamma, double *dbeta, const double *dy,
		     const double *xhat, const double *rstd, const double *gamma, int n, int c,
		     int hw, int coupled);

void ref_relu_forward(double *y, const double *x, size_t len);
/* dx += dy where y > 0 */
void ref_relu_backward(double *dx, const double *dy, const double *y, size_t len);

/* 3x3 average, stride 1, pad 1, padding not counted; over planes. */
void ref_avgpool3_forward(double *y, const double *x, int planes, int h, int w);
void ref_avgpool3_backward(double *dx, const double *dy, int planes, int h, int w);
/* 2x2 average, stride 2. */
void ref_avgpool2_forward(double *y, const double *x, int planes, int h, int w);
void ref_avgpool2_backward(double *dx, const double *dy, int planes, int h, int w);
/* Global average over each plane. */
void ref_gap_forward(double *y, const double *x, int planes, int hw);
void ref_gap_backward(double *dx, const double *dy, int planes, int hw);

/* y[n][out] = W[out][in] x[n][in] + b. */
void ref_linear_forward(double *y, const double *x, const double *W, const double *b, int n,
			int in, int out);
void ref_linear_backward(double *dx, double *dW, double *db, const double *dy, const double *x,
			 const double *W, int n, int in, int out);

#endif
