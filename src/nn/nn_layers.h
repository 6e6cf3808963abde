/* Layers of the numeric core, llm.c style: each layer is a forward/backward
 * pair over flat arrays that the caller owns; nothing here allocates.
 *
 * Layout: activations are [C][NB][H][W] ("CNHW"), so a convolution over the
 * whole batch is one GEMM.  NB counts images; in the per-query backward a
 * cotangent is [C][NQ][N][H][W], which is the same thing with NB = NQ*N,
 * while the forward state it is paired with ([C][N][H][W]) is broadcast over
 * the NQ queries.
 *
 * Single precision; tests/ref_layers.c has naive double-precision versions
 * that the tests check these against. */
#ifndef MN_NN_LAYERS_H
#define MN_NN_LAYERS_H

#include <stddef.h>

#define MN_BN_EPS 1e-5

/* A 2-D convolution without bias: cin -> cout, k x k kernel. */
struct mn_conv_geom {
	int cin, cout, k, stride, pad;
	int h, w;   /* input plane */
	int oh, ow; /* output plane */
};

/* 0, or -1 when the geometry is impossible. */
int mn_conv_geom_init(struct mn_conv_geom *g, int cin, int cout, int k, int stride, int pad, int h,
		      int w);
/* Rows of the im2col matrix (cin*k*k). */
int mn_conv_ckk(const struct mn_conv_geom *g);
/* A 1x1, stride 1, pad 0 convolution needs no im2col: the input is its col. */
int mn_conv_is_pointwise(const struct mn_conv_geom *g);

/* x: [cin][*][h*w] with channel stride ldx, images 0..nb-1 taken from its start;
 * col: [cin*k*k][nb*oh*ow] with row stride ldcol.  col2im accumulates into x. */
void mn_im2col(float *col, size_t ldcol, const float *x, size_t ldx, const struct mn_conv_geom *g,
	       int nb);
void mn_col2im(float *dx, size_t ldx, const float *col, size_t ldcol, const struct mn_conv_geom *g,
	       int nb);
/* y[cout][nb*oh*ow] (=, or += when accumulate) conv(x[cin][nb*h*w]).  col (cin*k*k x
 * nb*oh*ow) receives the im2col matrix and may be kept for the weight gradient; it is
 * unused (may be NULL) for pointwise convs. */
void mn_conv_forward(float *y, const float *w, const float *x, const struct mn_conv_geom *g, int nb,
		     float *col, int accumulate);
/* dx[cin][nb*h*w] += conv^T(dy[cout][nb*oh*ow]).  dcol is scratch of dcol_cap elements;
 * images are processed in slabs that fit it (at least one image: dcol_cap >= ckk*oh*ow). */
void mn_conv_backward_data(float *dx, const float *w, const float *dy, const struct mn_conv_geom *g,
			   int nb, float *dcol, size_t dcol_cap);
/* Weight gradients as GEMMs against a col matrix (for a linear layer, col is x and
 * hw is 1).  Summed: dw[m][ckk] (+)= dy[m][K] col[ckk][K]^T. */
void mn_wgrad_sum(float *dw, const float *dy, size_t lddy, const float *col, size_t ldcol, int m,
		  int K, int ckk, int accumulate);
/* Per query: dy is [m][nq][K]; dw[m][nq][ckk] = one GEMM over all (row, query) pairs. */
void mn_wgrad_per_query(float *dw, const float *dy, const float *col, size_t ldcol, int m, int nq,
			int K, int ckk);
/* Per sample: dy is [m][nb][hw], col [ckk][nb][hw] (row stride ldcol);
 * dw[n][m][ckk] = dy_n col_n^T. */
void mn_wgrad_per_sample(float *dw, const float *dy, const float *col, size_t ldcol, int m, int nb,
			 int hw, int ckk);

/* BatchNorm over rows of M = N*H*W elements (train mode: batch statistics, biased
 * variance, eps MN_BN_EPS). */
void mn_bn_stats(float *mean, float *rstd, const float *x, int C, size_t M);
void mn_bn_normalize(float *xhat, const float *x, const float *mean, const float *rstd, int C,
		     size_t M);
/* y (+)= scale * (gamma * xhat + beta), y and xhat [C][M]. */
void mn_bn_affine(float *y, const float *xhat, const float *gamma, const float *beta, int C,
		  size_t M, float scale, int accumulate);
/* dy [C][nq][nb*hw] is read as scale*dy; xhat [C][nb*hw] and rstd, gamma [C].
 * coupled: the statistics are functions of the batch (train-mode BN), per query:
 *   dx = gamma*rstd*(dy - mean(dy) - xhat*mean(dy*xhat));
 * otherwise they are constants: dx = gamma*rstd*dy.  dx [C][nq][nb*hw] is written.
 * dgamma/dbeta (optional) get per-group sums at [g*ldg + c]: groups are the queries, or
 * with per_sample (needs nq == 1) the nb samples. */
void mn_bn_backward(float *dx, float *dgamma, float *dbeta, size_t ldg, const float *dy,
		    float scale, const float *xhat, const float *rstd, const float *gamma, int C,
		    int nq, int nb, int hw, int coupled, int per_sample);

void mn_relu_forward(float *y, const float *x, size_t n);
/* dx[C][nq][M] (+)= dy * (y > 0), y [C][M] broadcast over the queries. */
void mn_relu_backward(float *dx, const float *dy, const float *y, int C, int nq, size_t M,
		      int accumulate);

/* 3x3 average, stride 1, pad 1, padding excluded from the count; over nplanes planes.
 * y (+)= scale * pool(x); the backward dx (+)= scale * pool^T(dy). */
void mn_avgpool3_forward(float *y, const float *x, size_t nplanes, int h, int w, float scale,
			 int accumulate);
void mn_avgpool3_backward(float *dx, const float *dy, size_t nplanes, int h, int w, float scale,
			  int accumulate);
/* 2x2 average, stride 2, ceil mode (output ceil(h/2) x ceil(w/2); a clipped
 * window on an odd side averages the pixels it covers). */
void mn_avgpool2_forward(float *y, const float *x, size_t nplanes, int h, int w);
void mn_avgpool2_backward(float *dx, const float *dy, size_t nplanes, int h, int w, int accumulate);
/* Global average pool: y[plane] = mean of the plane's hw values. */
void mn_gap_forward(float *y, const float *x, size_t nplanes, int hw);
void mn_gap_backward(float *dx, const float *dy, size_t nplanes, int hw, int accumulate);

/* Linear with bias: y[out][nb] = w[out][in] x[in][nb] + b. */
void mn_linear_forward(float *y, const float *w, const float *b, const float *x, int out, int in,
		       int nb);
void mn_linear_backward_data(float *dx, const float *w, const float *dy, int out, int in, int nb,
			     int accumulate);
void mn_linear_backward_params(float *dw, float *db, const float *dy, const float *x, int out,
			       int in, int nb, int accumulate);

/* Element-wise: y = a + b; y += s*x. */
void mn_add(float *y, const float *a, const float *b, size_t n);
void mn_axpy(float *y, float s, const float *x, size_t n);
/* [n][c][hw] -> [c][n][hw] (dst must not alias src). */
void mn_nchw_to_cnhw(float *dst, const float *src, int n, int c, int hw);

#endif
