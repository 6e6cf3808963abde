/* The NAS-Bench-201 network with mixed edges, and the per-sample gradients
 * TE-NAS's proxies need.
 *
 * One network type serves the NTK supernet (C=3, N=1, every edge a mixed
 * op), the thin linear-region network (no stem, C=1, one cell) and any
 * single arch at any size.  The network holds parameters for every conv op
 * on every edge (the whole supernet); a per-edge bitmask over the five ops
 * selects which are active, and an edge's output is the mean of its active
 * ops.  So "candidates copy the round's weights" is: same parameters,
 * different mask.
 *
 * Parameters live in one flat array in a fixed canonical order (stem conv,
 * stem BN gamma, beta; per stage, per cell, per edge in string order: 1x1
 * conv, its BN, 3x3 conv, its BN; reduction blocks after stages 1 and 2:
 * conv a, BN a, conv b, BN b, shortcut 1x1 conv; final BN; linear weight,
 * bias).  Conv weights are [cout][cin][k][k], the linear weight
 * [classes][features].
 *
 * "Weight" parameters are the ones TE-NAS's NTK differentiates (PyTorch
 * parameters named "weight"): conv kernels, BN gamma and the linear weight;
 * not BN beta or the linear bias.  Rows of G (per-sample gradients) have one
 * column per ACTIVE weight parameter, in canonical order
 * (mn_net_grad_param_index maps a column back).
 *
 * All calls return 0 on success and -1 on failure (bad argument or out of
 * memory), unless stated otherwise.  A network is not safe to use from two
 * threads at once; two networks are independent.
 *
 * Single precision throughout; tests/ref_net.c is a naive double-precision
 * reference of the same network that the tests check this one against.
 * The implementation is split by concern: net.c (set-up), net_forward.c,
 * net_backward.c, net_fused.c, net_grads.c (see net_internal.h). */
#ifndef MN_NET_H
#define MN_NET_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "space/arch.h"
#include "nn/ntk.h"
#include "util/rng.h"

enum mn_init_mode {
	/* TE-NAS's published code (PyTorch defaults): conv and linear weights
	 * uniform in +-1/sqrt(fan_in), linear bias uniform in +-1/sqrt(fan_in),
	 * BN gamma 1, beta 0.  The default. */
	MN_INIT_CODE = 0,
	/* TE-NAS's paper: Kaiming normal (std sqrt(2/fan)) for conv and linear
	 * weights with fan_out for a full network and fan_in for the thin one;
	 * gamma 1, beta 0, biases 0. */
	MN_INIT_PAPER = 1
};

enum mn_grad_mode {
	/* TE-NAS-faithful (default): g_i = d(sum of sample i's logits)/d(weights)
	 * through the batched graph, so train-mode BN couples the samples.  All B
	 * gradients come from batched backward passes over (query x sample). */
	MN_GRAD_EXACT = 0,
	/* Fast approximation (not TE-NAS): BN statistics are treated as
	 * constants in the backward, so one ordinary batched backward gives
	 * every sample's own gradient. */
	MN_GRAD_FIXED_STATS = 1
};

/* The word for a mode in presets, flags, atlas files and the TUI (the
 * macros for tables that cannot call a function: preset.c's choices). */
#define MN_INIT_CODE_WORD "code"
#define MN_INIT_PAPER_WORD "paper"
#define MN_GRAD_EXACT_WORD "exact"
#define MN_GRAD_FIXED_STATS_WORD "fixed-stats"
const char *mn_init_mode_name(enum mn_init_mode m);
const char *mn_grad_mode_name(enum mn_grad_mode m);

/* Op bitmasks for mn_net_set_mask: bit (1 << MN_OP_x) = op x active. */
#define MN_MASK_ALL 0x1fu
#define MN_MASK_NO_NONE 0x1eu

struct mn_net_config {
	int C;           /* channels of stage 1 (stages have C, 2C, 4C) */
	int N;           /* cells per stage */
	int H, W;        /* input height and width (reductions: mn_half_side, space/cost.h) */
	int in_channels; /* input channels; the thin network needs in_channels == C */
	int classes;     /* outputs of the final linear layer */
	int thin;        /* no stem, one stage of N cells, no reduction blocks */
};

/* TE-NAS's NTK supernet skeleton: C=3, N=1, 3x32x32 input, 10 classes. */
void mn_net_config_ntk(struct mn_net_config *cfg);
/* TE-NAS's linear-region network: thin, C=1, N=1, 1x3x3 input, 10 classes. */
void mn_net_config_thin(struct mn_net_config *cfg);
/* The evaluation network: C channels, N cells per stage, 3 x res x res. */
void mn_net_config_eval(struct mn_net_config *cfg, int C, int N, int res, int classes);
/* 0 if the config is usable; otherwise -1 and a one-line reason in msg. */
int mn_net_config_check(const struct mn_net_config *cfg, char *msg, size_t n);

/* Per-edge masks from an arch: one op per edge. */
void mn_arch_to_mask(const struct mn_arch *a, unsigned char mask[MN_EDGES]);

/* Distinct-pattern counting is in linear_regions.h; the NTK condition number from a
 * Gram matrix in ntk.h. */

struct mn_net;

/* NULL on a bad config (see mn_net_config_check) or out of memory.  The mask
 * starts as all ops but none on every edge, parameters zero until
 * mn_net_init, one thread. */
struct mn_net *mn_net_create(const struct mn_net_config *cfg);
void mn_net_free(struct mn_net *net);
const struct mn_net_config *mn_net_get_config(const struct mn_net *net);

/* Threads of this network's engine calls (forward, per-sample gradients,
 * NTK): n < 1 means all cores.  The network keeps a pool of n threads
 * (the caller counts as one): query chunks in exact mode, images /
 * channels / samples elsewhere.  Results are bit-identical run to run for a
 * given count; different counts agree up to rounding.  OpenBLAS's own
 * thread count is a separate, process-wide setting (nn/blas.h) that
 * entry points keep at 1 while networks run pools of their own.  -1 when
 * the pool could not be created (the network then runs on one thread). */
int mn_net_set_threads(struct mn_net *net, int n);
int mn_net_get_threads(const struct mn_net *net);

/* What mn_net_forward, mn_net_per_sample_grads and mn_net_ntk_cond return
 * when the cancel flag was set while they ran (their outputs are then not
 * valid). */
#define MN_NET_CANCELLED 1

/* A flag (or NULL: none) the network polls inside its long calls -- in the
 * forward before each cell's source node, between the query chunks and the
 * blocks of the per-sample backwards (linear_regions.h polls it between
 * batches too) -- so that a cancel is honoured within a fraction of one NTK
 * rather than after it.  mn_net_backward ignores it.  A cancelled forward
 * may leave the BN statistics kept for freezing partly of its batch.  The
 * flag must outlive the calls; it is only read. */
void mn_net_set_cancel(struct mn_net *net, const atomic_int *flag);
/* Is the flag set (0 without one)? */
int mn_net_cancelled(const struct mn_net *net);

/* mask[e]: bitmask of active ops on edge e (values above MN_MASK_ALL are
 * refused).  An edge with no active op contributes nothing. */
int mn_net_set_mask(struct mn_net *net, const unsigned char mask[MN_EDGES]);
int mn_net_set_arch(struct mn_net *net, const struct mn_arch *a);
void mn_net_get_mask(const struct mn_net *net, unsigned char mask[MN_EDGES]);

/* Fills every parameter (active or not) in canonical order from rng, so the
 * same seed gives the same weights whatever the mask. */
void mn_net_init(struct mn_net *net, struct mn_rng *rng, enum mn_init_mode mode);
size_t mn_net_param_count(const struct mn_net *net);
float *mn_net_params(struct mn_net *net);
/* Columns of G: active weight parameters. */
size_t mn_net_grad_width(const struct mn_net *net);
/* Canonical parameter index of each G column: idx[0..grad_width-1]. */
void mn_net_grad_param_index(const struct mn_net *net, size_t *idx);

/* Forward in train mode (BN uses the batch's statistics) on x
 * [batch][in][H][W]; logits [batch][classes] if not NULL.  Keeps what the
 * backward needs.  MN_NET_CANCELLED (nothing kept) when the cancel flag was
 * seen. */
int mn_net_forward(struct mn_net *net, const float *x, int batch, float *logits);
/* After a forward: grad[P] (every parameter, canonical order) = gradient of
 * sum(dlogits * logits) through the batched graph (dlogits
 * [batch][classes]). */
int mn_net_backward(struct mn_net *net, const float *dlogits, float *grad);

/* Blocks are the network's modules after the stem, in order: stage-1 cells,
 * reduction block 1, stage-2 cells, reduction block 2, stage-3 cells (the thin
 * network: its N cells).  Block i's input is block i-1's output; i = -1 names
 * the stem's output (the thin network: its input). */
int mn_net_block_count(const struct mn_net *net);
/* After mn_net_forward: block i's output [batch][c][h][w] (shape in *c,*h,*w);
 * NULL if i is out of range or no forward has run.  Valid until the next
 * forward, set_mask or free. */
const float *mn_net_block_output(const struct mn_net *net, int i, int *c, int *h, int *w);
/* After mn_net_backward: the gradient of the backward's objective with respect to
 * that output, same shape; NULL as above or if no backward has run. */
const float *mn_net_block_output_grad(const struct mn_net *net, int i, int *c, int *h, int *w);

/* Forward + per-sample gradients: G [batch][grad_width] (row stride ldg);
 * MN_NET_CANCELLED when cancelled. */
int mn_net_per_sample_grads(struct mn_net *net, const float *x, int batch, enum mn_grad_mode mode,
			    float *G, size_t ldg);
/* The NTK condition number of a batch: forward, per-sample gradients, Gram
 * K = G G^T (accumulated in double), eigenvalues in double, cond =
 * largest/smallest; non-finite counts as MN_NTK_BAD_COND.  G
 * [batch][grad_width] and gram [batch][batch] are filled when not NULL.
 * MN_NET_CANCELLED (cond MN_NTK_BAD_COND) when the cancel flag was seen. */
int mn_net_ntk_cond(struct mn_net *net, const float *x, int batch, enum mn_grad_mode mode,
		    double *cond, float *G, double *gram);

/* Bits in one sample's activation pattern: every ReLU output of the network
 * (each source node's ReLU once, however many conv ops share it; the final
 * ReLU). */
size_t mn_net_pattern_bits(const struct mn_net *net);
/* After a forward: bit b of sample n's pattern, (output > 0), at
 * bits[n*words + b/64] >> (b%64) (words >= ceil(pattern_bits/64)). */
int mn_net_patterns(const struct mn_net *net, uint64_t *bits, size_t words);

/* Multiply-accumulates of the conv and linear layers in one forward of
 * batch samples under the current mask. */
double mn_net_forward_macs(const struct mn_net *net, int batch);
/* Bytes the network holds now (parameters, forward state, backward
 * workspaces, G, block copies); grows with the batch and shrinks only on
 * free. */
size_t mn_net_memory_bytes(const struct mn_net *net);
/* Tests: with frozen set, BN uses the statistics of the last unfrozen
 * forward as constants (forward and backward). */
void mn_net_freeze_bn(struct mn_net *net, int frozen);
/* Samples of the query chunk in the exact backward (0: automatic). */
void mn_net_set_query_chunk(struct mn_net *net, int nq);
/* Bytes of forward state up to which im2col matrices are kept for the
 * backward (0: the default, 768 MB); above it they are recomputed (slower,
 * less memory). */
void mn_net_set_state_budget(struct mn_net *net, size_t bytes);

#endif
