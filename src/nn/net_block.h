/* What AZ-NAS's proxies need from the network beyond net.h: the Jacobian of
 * one block alone, applied to a vector, and the init of AZ-NAS's code.
 *
 * AZ-NAS (Lee & Ham, CVPR 2024, arXiv 2403.19232; code cvlab-yonsei/AZ-NAS,
 * NB201/ZeroShotProxy/compute_az_nas_score.py) measures trainability block
 * by block: a random cotangent is put on block l's output and carried back
 * to block l's input through that block only (autograd from f_l to
 * f_{l-1}), not through the network above it.  mn_net_block_vjp is that
 * product.  Its init is Kaiming normal with fan_in (their
 * init_model(..., 'kaiming_norm_fanin')). */
#ifndef MN_NET_BLOCK_H
#define MN_NET_BLOCK_H

#include "nn/net.h"
#include "util/rng.h"

/* Block i's output shape (net.h's block numbering, -1 the stem's output or
 * the thin network's input); -1 if i is out of range. */
int mn_net_block_shape(const struct mn_net *net, int i, int *c, int *h, int *w);

/* After mn_net_forward: g_in = J_i^T g_out, J_i the Jacobian of block i's
 * output with respect to its input (block i-1's output), 0 <= i < block
 * count, at the forward's batch.  Train-mode BN couples the samples as
 * autograd does (unless frozen).  g_out [batch][c][h][w] in block i's output
 * shape, g_in in block i-1's.  No parameter gradient is computed.  0, or -1
 * (bad argument, no forward, out of memory). */
int mn_net_block_vjp(struct mn_net *net, int i, const float *g_out, float *g_in);

/* Every parameter as AZ-NAS's code initializes it: conv and linear weights
 * N(0, 2 / fan_in), biases 0, BN gamma 1 and beta 0; drawn in canonical
 * order from rng (the same draws as mn_net_init's "paper" mode, scaled by
 * fan_in instead of fan_out). */
void mn_net_init_fan_in(struct mn_net *net, struct mn_rng *rng);

#endif
