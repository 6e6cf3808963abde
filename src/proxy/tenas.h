/* TE-NAS's two proxies as its published procedure computes them, on top of
 * the network (net.h) and the data (dataset.h): the candidate deltas the
 * pruning search ranks, and the plain per-arch scores of `micronas score`.
 *
 * Randomness (reference.md section 2), all derived from one seed:
 *  - init "code" (default, what TE-NAS's published code runs): the NTK
 *    supernet gets weights once per supernet state (round) and every
 *    candidate of that round uses them; the repeats differ only in the data
 *    batch.  Each repeat's batch is shared by all candidates of the round
 *    (TE-NAS draws a new one per candidate): common random numbers make
 *    the candidates' deltas directly comparable, and K(supernet) is then
 *    computed once per repeat instead of once per candidate, which halves
 *    the NTK work.  The thin network gets fresh weights per candidate; its
 *    repeats differ in the crops.
 *  - init "paper": fresh Kaiming weights for every repeat (fan_out for the
 *    NTK network, fan_in for the thin one), shared by the round's
 *    candidates in the same way.
 * Every stream is a function of (seed, what it is for, supernet state,
 * candidate, repeat), never of evaluation order, so results do not depend
 * on thread count or on which values came from a cache. */
#ifndef MN_TENAS_H
#define MN_TENAS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "space/arch.h"
#include "data/dataset.h"
#include "nn/net.h"
#include "proxy/k0_share.h"

struct mn_tenas_config {
	int batch;         /* NTK batch (72) */
	int repeat;        /* repeats averaged (3) */
	int regions_samples;    /* crops per linear-region batch (1000) */
	int regions_batches;    /* batches counted together (3) */
	enum mn_init_mode init;
	enum mn_grad_mode grad;
	int classes;       /* 10 */
	int threads;       /* threads of each network's engine calls (1; < 1: all cores) */
	/* The network the other proxies of proxy_set.h (AZ-NAS, NWOT, SWAP,
	 * ZiCo) run on: an NB201 network of C channels and N cells per stage
	 * at 32x32, fed batches of az_batch images. */
	int az_channels;   /* C */
	int az_cells;      /* N */
	int az_batch;
	/* 1 (default): every proxy of the table; 0: only what the default
	 * estimate needs (AZ-NAS's four) beside the TE-NAS pair, the others
	 * NaN: one forward and backward per repeat instead of two, and no
	 * ReLU codes. */
	int all_proxies;
};

void mn_tenas_config_default(struct mn_tenas_config *c);

/* One evaluator: its own networks and buffers (one per thread). */
struct mn_tenas;

/* data must outlive the evaluator. */
struct mn_tenas *mn_tenas_new(const struct mn_tenas_config *cfg, const struct mn_dataset *data,
			      char *err, size_t errn);
void mn_tenas_free(struct mn_tenas *t);

/* Candidate deltas for the search: dk = mean over repeats of
 * round3((K(super) - K(super - op)) / K(super)), dr likewise for linear
 * regions.  0, 1 if cancelled, -1 with err.  The cancel flag is polled
 * inside the NTK and linear-region computations too (mn_net_set_cancel),
 * so a cancel returns within a fraction of one NTK. */
int mn_tenas_candidate(struct mn_tenas *t, uint64_t seed, const uint8_t super[MN_EDGES],
		       int edge, int op, const atomic_int *cancel, double *dk, double *dr,
		       char *err, size_t errn);

/* Proxies of one mixed or single-path network, averaged over the repeats:
 * the NTK condition number of the C=3, N=1 network and the number of
 * linear regions of the thin network (repeats of regions_batches x regions_samples
 * crops).  cancel (or NULL) is polled inside the NTK and linear-region
 * computations, as for mn_tenas_candidate.  0, 1 if cancelled (the values
 * are then not valid), -1 with err. */
int mn_tenas_score_mask(struct mn_tenas *t, uint64_t seed, const uint8_t mask[MN_EDGES],
			const atomic_int *cancel, double *ntk_cond, double *regions, char *err,
			size_t errn);
int mn_tenas_score_arch(struct mn_tenas *t, uint64_t seed, const struct mn_arch *a,
			const atomic_int *cancel, double *ntk_cond, double *regions, char *err,
			size_t errn);

/* Shares K(supernet) with the other evaluators of a search (k0_share.h;
 * NULL: each evaluator keeps its own, as before).  The board must outlive
 * the evaluator and be made for at least cfg.repeat repeats. */
void mn_tenas_set_k0_share(struct mn_tenas *t, struct mn_k0_share *share);

/* The evaluator's data and configuration. */
const struct mn_dataset *mn_tenas_data(const struct mn_tenas *t);
const struct mn_tenas_config *mn_tenas_get_config(const struct mn_tenas *t);
/* A slot for the networks and buffers of the other proxies (proxy_set.c),
 * owned by the evaluator so that one evaluator per thread is all a caller
 * keeps: NULL until set; mn_tenas_free (or the next set) calls free_fn on
 * it. */
void *mn_tenas_extra(struct mn_tenas *t);
void mn_tenas_set_extra(struct mn_tenas *t, void *extra, void (*free_fn)(void *));

#endif
