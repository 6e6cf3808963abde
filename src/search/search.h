/* TE-NAS pruning with MicroNAS's hardware indicators and hard resource
 * constraints.  The search is a deterministic function of (weights,
 * constraints, proxy values); proxy values are cached per (supernet state,
 * candidate), so changing a weight re-ranks at once and re-runs later rounds
 * from the cache where the states were seen before. */
#ifndef MN_SEARCH_H
#define MN_SEARCH_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "space/arch.h"
#include "space/cost.h"

#define MN_MAX_ROUNDS 4
#define MN_SEARCH_MAX_THREADS 64
#define MN_MAX_CANDIDATES (MN_EDGES * MN_OP_COUNT)
#define MN_OPS_SEARCHED ((1u << MN_OP_SKIP) | (1u << MN_OP_CONV1) | (1u << MN_OP_CONV3) | (1u << MN_OP_POOL3))

/* Computes a candidate's proxy changes, averaged over the repeats as TE-NAS
 * does: dk = (K(super) - K(super without op)) / K(super), dr likewise for
 * linear regions.  `worker` is per thread; `cancel` becomes non-zero when
 * the search is being cancelled (the evaluator may return early: rc 1). */
struct mn_proxy_evaluator {
	void *(*worker_new)(void *ctx, int worker_index);
	void (*worker_free)(void *worker);
	int (*measure)(void *worker, uint64_t seed, const uint8_t super[MN_EDGES], int edge, int op,
		       const atomic_int *cancel, double *dk, double *dr, char *err, size_t errlen);
	void *ctx;
	/* Optional: told of every value as it is measured (from a worker
	 * thread; the persistent cache writes it). */
	void (*measured)(void *ctx, const uint8_t super[MN_EDGES], int edge, int op, double dk,
			 double dr);
};

/* Latency estimate of a mixed network (ms) and of a single arch. */
struct mn_latency_model {
	double (*mask_ms)(void *ctx, const uint8_t mask[MN_EDGES]);
	void *ctx;
};

struct mn_constraints {
	double max_latency_ms; /* 0 = none */
	double max_sram_kb;
	double max_flash_kb;
};

struct mn_search_config {
	struct mn_net_shape shape;
	uint64_t seed;
	double w_flops, w_latency;
	struct mn_constraints limits;
	uint64_t runtime_flash_bytes;
	int threads; /* evaluation workers, 1..MN_SEARCH_MAX_THREADS */
};

struct mn_candidate {
	int edge, op;
	double dk, dr;             /* proxy changes (cached) */
	double flops_m, latency_ms; /* of the network after removing the op */
	int rank_ntk, rank_lr, rank_flops, rank_latency; /* 1 = most prunable */
	double score;
	int evaluated;             /* dk and dr are known */
	int keeps_feasible;        /* a feasible final arch remains without it */
	int pruned;                /* chosen on its edge this round */
};

struct mn_round {
	uint8_t super[MN_EDGES]; /* active ops before the round */
	int n;
	struct mn_candidate cand[MN_MAX_CANDIDATES];
	int pruned_op[MN_EDGES]; /* op removed on each edge, -1 if none */
};

/* Feasibility of the searched space (archs with no `none` edge). */
struct mn_space_limits {
	int feasible_count;
	double min_latency_ms, min_sram_kb, min_flash_kb;
};

/* One search: evaluation cache plus the precomputed per-arch costs. */
struct mn_search;

struct mn_search *mn_search_new(const struct mn_search_config *cfg,
				const struct mn_proxy_evaluator *ev,
				const struct mn_latency_model *lat, char *err, size_t errlen);
void mn_search_free(struct mn_search *s);

/* Changing weights or limits keeps the cache.  Not while a run is under
 * way: use mn_search_set_pending then. */
void mn_search_set_weights(struct mn_search *s, double w_flops, double w_latency);
void mn_search_set_limits(struct mn_search *s, const struct mn_constraints *c);
void mn_search_get_config(const struct mn_search *s, struct mn_search_config *out);
/* New weights and limits from any thread, also during a run: the run
 * applies them between evaluations, re-ranks the rounds it decided and goes
 * back only if a decision changed; evaluations in flight finish and are
 * kept.  A run started later applies them first. */
void mn_search_set_pending(struct mn_search *s, double w_flops, double w_latency,
			   const struct mn_constraints *c);
/* Settings handed over and not applied yet (e.g. after the run's end). */
int mn_search_has_pending(const struct mn_search *s);

/* Adds a value measured earlier (the persistent cache), before a run. */
int mn_search_preload(struct mn_search *s, const uint8_t super[MN_EDGES], int edge, int op,
		      double dk, double dr);

void mn_search_space_limits(const struct mn_search *s, struct mn_space_limits *out);
/* The same for limits the search does not use (yet): would they leave a
 * feasible arch?  The smallest values do not depend on the limits. */
void mn_search_space_limits_for(const struct mn_search *s, const struct mn_constraints *c,
				struct mn_space_limits *out);

/* Progress callback: called from the calling thread after candidates are
 * evaluated and after every round is decided, while the round's data is
 * locked against the workers: copy what you need and return quickly. */
struct mn_search_progress {
	int round;         /* 0-based */
	int done, total;   /* candidates of this round evaluated */
	int fresh;         /* of those, measured in this run (not from the cache) */
	const struct mn_round *current; /* ranks filled only when decided */
	int decided;
	const struct mn_round *rounds;  /* rounds[0..n_decided-1] are decided */
	int n_decided;
	int touched;       /* values this run has used, cached or measured: never decreases */
	int run_fresh;     /* values this run has measured */
};
typedef void (*mn_search_progress_fn)(void *ctx, const struct mn_search_progress *p);

/* Runs the pruning to a single path: 0 with rounds[] and *final filled,
 * 1 if cancelled, -1 on error (err filled; the cache keeps every value
 * already computed, so a later run resumes). */
int mn_search_run(struct mn_search *s, const atomic_int *cancel, mn_search_progress_fn fn,
		  void *fn_ctx, struct mn_round rounds[MN_MAX_ROUNDS], int *n_rounds,
		  struct mn_arch *final, char *err, size_t errlen);

/* Ranks one round's candidates and chooses the op to prune on each edge
 * (exposed for tests): TE-NAS's ranking plus the weighted hardware ranks,
 * and the feasibility rule. */
void mn_search_rank_round(struct mn_search *s, struct mn_round *r);

/* The complete arch the search is heading to, from a round in progress
 * (cur with provisional ranks over its measured candidates): the first arch
 * of `ranked` (best first; NULL or n_ranked 0: none, e.g. no atlas yet)
 * still inside cur->super and within the limits; otherwise the feasible
 * arch of the supernet whose ops the current ranks keep (highest score
 * per edge; unmeasured ops count as the mean). */
void mn_search_provisional(const struct mn_search *s, const struct mn_round *cur,
			   const struct mn_arch *ranked, int n_ranked, struct mn_arch *out);

/* Costs of a single arch as the search sees them. */
void mn_search_arch_costs(const struct mn_search *s, const struct mn_arch *a, double *flops_m,
			  double *latency_ms, double *sram_kb, double *flash_kb);

/* Number of (supernet state, candidate) proxy values cached. */
int mn_search_cached(const struct mn_search *s);

#endif
