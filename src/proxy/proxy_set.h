/* The proxies one arch is scored with, as one table: every command that
 * scores archs (score, atlas) and every file that stores scores (the atlas
 * CSV) goes through this list, so a new proxy is one new row here and one
 * computation in proxy_set.c.
 *
 * A proxy value is a plain double measured on one arch; "higher is better"
 * says which way it points (the NTK condition number points down).  The
 * accuracy estimate (estimate.h) aggregates the proxies flagged
 * in_estimate by their ranks in a population. */
#ifndef MN_PROXY_SET_H
#define MN_PROXY_SET_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "proxy/tenas.h"
#include "space/arch.h"

enum mn_proxy_id {
	MN_PROXY_NTK_COND = 0,    /* TE-NAS: NTK condition number (lower is better) */
	MN_PROXY_LINEAR_REGIONS,  /* TE-NAS: linear regions of the thin network */
	MN_PROXY_AZ_EXPRESSIVITY, /* AZ-NAS s_E (az_expressivity.h) */
	MN_PROXY_AZ_PROGRESSIVITY, /* AZ-NAS s_P (az_expressivity.h) */
	MN_PROXY_AZ_TRAINABILITY, /* AZ-NAS s_T (az_trainability.h) */
	MN_PROXY_AZ_COMPLEXITY,   /* AZ-NAS s_C: FLOPs of the C=16, N=5 network (cost.h) */
	MN_PROXY_NWOT,            /* Mellor et al. log|det K_H| (nwot.h) */
	MN_PROXY_SWAP,            /* SWAP, distinct sample-wise patterns (swap.h) */
	MN_PROXY_ZICO,            /* ZiCo (zico.h) */
	MN_PROXY_COUNT
};

/* The default estimate is AZ-NAS's own assembly, its four proxies
 * (expressivity, progressivity, trainability, complexity), as the paper
 * defines it; a choice taken from the paper, not fitted to any accuracy
 * table.  The others are computed and reported beside it. */

struct mn_proxy_info {
	const char *column;    /* CSV column and JSON key, e.g. "ntk_cond" */
	const char *label;     /* short label for tables and the TUI */
	int higher_is_better;  /* 1: larger values predict higher accuracy */
	int in_estimate;       /* 1: part of the default accuracy estimate */
};

/* The table, indexed by enum mn_proxy_id. */
const struct mn_proxy_info *mn_proxy_info(enum mn_proxy_id id);

struct mn_proxy_values {
	double v[MN_PROXY_COUNT]; /* indexed by enum mn_proxy_id */
};

/* Scores one arch with every proxy, averaged over the evaluator's repeats:
 * the TE-NAS pair from the same seed streams as mn_tenas_score_arch; the
 * others on one NB201 network of the config's az_channels, az_cells at the
 * data's input size, with batches of az_batch, from streams of (seed,
 * repeat) only, so every arch scored with one seed sees the same weights
 * and inputs.
 *
 * AZ-NAS's three measured proxies follow the authors' code
 * (cvlab-yonsei/AZ-NAS, NB201/tss_general.ipynb and
 * ZeroShotProxy/compute_az_nas_score.py): fresh Kaiming-normal weights with
 * fan_in (nn/net_block.h), BN gamma 1, beta 0, BN in train mode (batch
 * statistics, no running ones); a batch of 64 N(0, 1) inputs (AZ-NAS is not
 * among the proxies their notebook feeds real images; 64 is the batch of
 * their NB201 configuration); one forward gives the block features of
 * expressivity and progressivity, and trainability carries a +-1 cotangent
 * back through each block alone (az_trainability.h).  Complexity is the
 * FLOPs of the C=16, N=5 network (cost.h; the benchmark's own FLOPs, which
 * the authors read from its API) and does not repeat.  NWOT, SWAP and ZiCo
 * (all_proxies) run on real images with net.h's "paper" init: one forward
 * and backward (cross-entropy) of batch A gives NWOT's and SWAP's ReLU codes
 * and ZiCo's first gradient, batch B ZiCo's second.
 *
 * Where this differs from AZ-NAS, and why: the values are averaged over
 * the evaluator's repeats (TE-NAS's 3), where the authors draw once: on 250
 * seeded archs (C=8, N=1) the estimate's run-to-run Kendall tau was 0.85 at
 * 1 repeat and 0.90 at 3.
 *
 * The network is the config's az_channels, az_cells: by default C=16, N=5,
 * the network AZ-NAS scores (presets: az_channels, az_cells; flags
 * --az-channels, --az-cells).  Measured with bench_quality (reported, not
 * used to choose; one thread's CPU time on two shared cores, 6 archs,
 * repeat 1, load 7-8): the estimate's three measured proxies cost 0.588
 * s/arch on C=16, N=5, 0.89x the TE-NAS pair's (exact NTK, batch 72: 0.659
 * s/arch); NWOT, SWAP and ZiCo on the same network add 0.92 s/arch.  On
 * C=8, N=1 the three cost 0.067 s/arch.  Kendall tau of the estimate
 * against the CIFAR-10 accuracy on the same 200 seeded archs (repeat 1):
 * 0.730 on C=16, N=5 and 0.692 on C=8, N=1 (expressivity 0.57 / 0.47,
 * progressivity 0.53 / 0.50, trainability 0.40 / 0.34).  On the seeded
 * 1,000-arch sample at C=16, N=5 (fixed-stats NTK, repeat 1, load 4-8):
 * estimate 0.737, expressivity 0.585, progressivity 0.523, trainability
 * 0.380, complexity 0.525 (0.672 on C=8, N=1 last measured).
 * Expressivity, progressivity and trainability read only the network's
 * function (its blocks' output features and Jacobians), so they are
 * measured on the representative of the arch's function class
 * (space/arch_class.h: the smallest arch index that computes the same cell
 * at initialisation), with its weights: every arch of a class gets the
 * same three values, whichever is scored, and a run that shares an
 * mn_az_memo measures each of the 4,930 classes once.  The TE-NAS pair,
 * complexity, NWOT, SWAP and ZiCo see every unit or weight of the arch
 * itself (a branch that reaches no output counts there), so they are
 * measured on the arch.
 *
 * cancel (or NULL) is polled inside the computations (the networks'
 * forwards, the NTK, between linear-region batches and between
 * trainability's blocks), so a cancel ends the call within a fraction of
 * one proxy rather than after the arch.
 * 0, 1 if cancelled (out not valid), or -1 with err. */
int mn_proxy_score_arch(struct mn_tenas *t, uint64_t seed, const struct mn_arch *a,
			const atomic_int *cancel, struct mn_proxy_values *out, char *err,
			size_t errn);

/* The same, taking AZ-NAS's three from memo when its class is there and
 * putting them there when measured (memo NULL: none): the evaluators of
 * one run's threads share one. */
struct mn_az_memo;
int mn_proxy_score_arch_shared(struct mn_tenas *t, struct mn_az_memo *memo, uint64_t seed,
			       const struct mn_arch *a, const atomic_int *cancel,
			       struct mn_proxy_values *out, char *err, size_t errn);

/* The estimate's four alone, as the two above give them (AZ-NAS's three of
 * the arch's class, from memo when there; complexity), the rest NaN: no
 * TE-NAS pair, for measuring the estimate (bench_quality).  0, or -1 with
 * err. */
int mn_proxy_score_estimate(struct mn_tenas *t, struct mn_az_memo *memo, uint64_t seed,
			    const struct mn_arch *a, struct mn_proxy_values *out, char *err,
			    size_t errn);

/* AZ-NAS's four proxies of a mixed network (a supernet state: each edge the
 * mean of its active ops), measured as above; the other values NaN.  For
 * measuring the estimate on the pruning search's supernets. */
int mn_proxy_score_mask_az(struct mn_tenas *t, uint64_t seed, const uint8_t mask[MN_EDGES],
			   struct mn_proxy_values *out, char *err, size_t errn);

#endif
