/* ZiCo, zero-shot NAS via the inverse coefficient of variation on gradients
 * (Li, Yang, Bhardwaj, Marculescu, ICLR 2023; the ZiCo definition of its
 * Sec. 3; arXiv 2301.11300):
 *
 *   ZiCo = sum over layers l of log( sum over theta in l of
 *                                     E[|g_theta|] / sqrt(Var[g_theta]) )
 *
 * where g_theta is the gradient of the training loss with respect to weight
 * theta, and the mean and variance are taken over mini-batches.  Layers are
 * the conv and linear weight tensors.  As the authors' code does: weights
 * whose gradient has zero variance are left out of the sum, a layer whose
 * sum is zero (no gradient, e.g. an op masked off) contributes nothing, and
 * the variance is the population one (divided by the number of batches).
 *
 * Per-batch gradients, not per-sample: the definition's statistics are over
 * the loss gradients of training batches; the per-sample rows of net.h's G
 * are gradients of the summed logits, not of the loss, and with train-mode
 * BN a sample's gradient is not defined apart from its batch. */
#ifndef MN_ZICO_H
#define MN_ZICO_H

#include <stddef.h>

#include "nn/net.h"

/* A tensor [off, off+size) of the canonical parameter array. */
struct mn_param_range {
	size_t off, size;
};

/* The conv and linear weight tensors of a network built from cfg, in net.h's
 * canonical order: at most cap into out.  Their number, or -1 if cap is too
 * small or the layout does not add up to nparams (the canonical order of
 * net.h changed: this must follow). */
int mn_zico_layers(const struct mn_net_config *cfg, size_t nparams, struct mn_param_range *out,
		   int cap);

/* ZiCo from the gradients of nbatches >= 2 batches: grads[k*stride + p] is
 * parameter p's gradient on batch k. */
double mn_zico_score(const float *grads, int nbatches, size_t stride,
		     const struct mn_param_range *layers, int nlayers);

#endif
