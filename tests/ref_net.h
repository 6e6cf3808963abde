/* A naive double-precision reference of the network in src/nn/net.h, for
 * the tests: the same NAS-Bench-201 network with mixed edges, written as
 * direct loops over [n][c][h][w] arrays (no BLAS, no im2col, no stacking,
 * no threads), one layer at a time with its forward and backward
 * (ref_layers.h).  It reads the parameters in the canonical order net.h
 * documents, which it lays out itself.
 *
 * Train-mode BN (batch statistics, biased variance, eps 1e-5).  The
 * backward takes `coupled`: 1 differentiates through the batch statistics
 * (TE-NAS's exact per-sample gradients), 0 holds them constant (the
 * fixed-stats mode). */
#ifndef MN_TEST_REF_NET_H
#define MN_TEST_REF_NET_H

#include <stddef.h>
#include <stdint.h>

#include "nn/net.h"

struct ref_net;

/* NULL on a config the reference does not handle or out of memory.
 * Parameters start at zero. */
struct ref_net *ref_net_create(const struct mn_net_config *cfg, const unsigned char mask[MN_EDGES]);
void ref_net_free(struct ref_net *r);
size_t ref_net_param_count(const struct ref_net *r);
double *ref_net_params(struct ref_net *r);

/* x [B][in][H][W]; logits [B][classes] (may be NULL).  Keeps the tape. */
int ref_net_forward(struct ref_net *r, const double *x, int B, double *logits);
/* After a forward: grad[P] = d sum(dlogits * logits) / d params. */
int ref_net_backward(struct ref_net *r, const double *dlogits, int coupled, double *grad);

/* The G columns: canonical indices of the active weight parameters (conv
 * kernels, BN gammas, the linear weight), in canonical order; returns how
 * many (idx may be NULL). */
size_t ref_net_grad_columns(const struct ref_net *r, size_t *idx);
/* Forward and G [B][width]: row i = d(sum of sample i's logits)/d weights. */
int ref_net_per_sample_grads(struct ref_net *r, const double *x, int B, int coupled, double *G);

/* Blocks as in net.h (i = -1 .. count-1), [B][c][h][w]: outputs after a
 * forward, gradients after a backward. */
int ref_net_block_count(const struct ref_net *r);
const double *ref_net_block(const struct ref_net *r, int i, int *c, int *h, int *w);
const double *ref_net_block_grad(const struct ref_net *r, int i);

/* After a forward: sample n's ReLU outputs in net.h's pattern order
 * (act [B][bits]); returns the number of bits. */
size_t ref_net_relu_outputs(const struct ref_net *r, double *act);

/* Eigenvalues of the symmetric K [n][n] by cyclic Jacobi rotations, in
 * ascending order. */
void ref_sym_eigenvalues(const double *K, int n, double *eig);

#endif
