/* The search engine in a background thread (a worker pool of one).  The CLI and the TUI drive the
 * same calls; a front end only reads state through mn_engine_snapshot(),
 * which copies it under a lock and never waits for an evaluation. */
#ifndef MN_ENGINE_H
#define MN_ENGINE_H

#include <stdint.h>

#include "search/search.h"

enum mn_engine_state {
	MN_ENGINE_IDLE,
	MN_ENGINE_RUNNING,
	MN_ENGINE_DONE,
	MN_ENGINE_CANCELLED,
	MN_ENGINE_FAILED
};

struct mn_engine_snapshot {
	enum mn_engine_state state;
	uint64_t version;        /* grows with every change */
	/* Runs that have ended (done, cancelled or failed): a front end sees
	 * every end by this count, even of a run that was over before any
	 * snapshot saw it running. */
	uint64_t runs_ended;
	int round;               /* current round, 0-based */
	int done, total;         /* candidates of the current round evaluated */
	int n_rounds;            /* rounds[] entries filled (the last may be partial) */
	int decided;             /* rounds fully ranked and pruned */
	struct mn_round rounds[MN_MAX_ROUNDS]; /* a partial round holds provisional ranks */
	int latest_round, latest_index;        /* the candidate evaluated last, -1 if none */
	int evaluations;         /* proxy evaluations run (not from the cache) */
	int work_done, work_total; /* values this run has (cached or measured; never
				    * decreases) of those its current plan needs */
	int has_provisional;     /* while running: the arch the search heads to */
	struct mn_arch provisional;
	double elapsed_s, eta_s; /* wall time of this search, cancelled-and-resumed runs
				  * included; eta < 0: unknown */
	int has_result;
	struct mn_arch result;
	double result_flops_m, result_params_m, result_latency_ms, result_sram_kb, result_flash_kb;
	double search_seconds;   /* wall time of the last pick: from the start to the pick,
				  * runs cancelled and resumed on the way included */
	double w_flops, w_latency;
	struct mn_constraints limits;
	int lookahead;           /* done, and measuring the searches a few weight
				  * steps away (mn_engine_set_lookahead) */
	int lookahead_done, lookahead_total; /* of those weight points (the ones
				  * below 0 are skipped but counted) */
	char error[256];
};

struct mn_engine;

struct mn_engine *mn_engine_new(const struct mn_search_config *cfg,
				const struct mn_proxy_evaluator *ev,
				const struct mn_latency_model *lat, char *err, size_t errlen);
/* Cancels and joins the thread. */
void mn_engine_free(struct mn_engine *e);

/* Starts the search thread (no-op if running); values already measured
 * are reused, so a start after a cancel resumes. */
int mn_engine_start(struct mn_engine *e);
/* Asks the thread to stop after the evaluations in flight; returns at once. */
void mn_engine_cancel(struct mn_engine *e);
/* Blocks until the thread is not running. */
void mn_engine_wait(struct mn_engine *e);

/* Live changes: the running search applies them between evaluations; it
 * re-ranks the rounds it decided and goes back only to the first whose
 * pruning changed (every evaluation in flight or done is kept, only states
 * never seen are measured).  A finished search is re-run (from the cache)
 * when the engine is started again or, if `rerun` is set, at once. */
void mn_engine_set_weights(struct mn_engine *e, double w_flops, double w_latency, int rerun);
void mn_engine_set_limits(struct mn_engine *e, const struct mn_constraints *c, int rerun);

void mn_engine_snapshot(struct mn_engine *e, struct mn_engine_snapshot *out);

/* Look-ahead (off, step or rings 0, by default): after each pick the
 * engine runs, hidden, the searches at the weights within `rings` steps of
 * the pick's (w_flops + i * step, w_latency + j * step with |i| + |j| <=
 * rings, none below 0; nearer first, then the latency axis, then the
 * flops axis, then the rest), so that the weight keys answer from the
 * cache.  Why: other weights prune other ops and reach supernets no search
 * measured (a step of 0.5 from the default measures 12-30 new states,
 * 2-6 s on 2 cores; bench_search).  The snapshot stays DONE with the
 * user's pick and says lookahead, with the points done of the
 * 2 rings (rings + 1) in all; mn_engine_start, a weight or limit change
 * with rerun, and mn_engine_cancel stop it between two evaluations (inside
 * a proxy, as any cancel).  mn_engine_wait waits for it too. */
void mn_engine_set_lookahead(struct mn_engine *e, double step, int rings);
/* The look-ahead the TUI runs (its weight keys' step) and `search
 * --measure-ahead`: 8 rings of 0.5.  From the default weights its 144
 * points were in the cache 26 s after the cold pick on 2 cores (180 values;
 * the first 4 rings 18 s and 120 values: the pruning's outcomes stop
 * changing as a weight grows; bench_search --what lookahead). */
#define MN_LOOKAHEAD_STEP 0.5
#define MN_LOOKAHEAD_RINGS 8

/* The weight points within `rings` steps: ring r holds 4 r of them. */
static inline int mn_lookahead_points(int rings)
{
	return 2 * rings * (rings + 1);
}

/* The hook for an outside ranking of whole archs (e.g. an atlas), best
 * first: the provisional pick is then its best arch still reachable in
 * the current supernet.  NULL or n 0 clears it.  The list is copied. */
int mn_engine_set_ranked_archs(struct mn_engine *e, const struct mn_arch *archs, int n);

/* A value measured earlier (the persistent cache); only while idle. */
int mn_engine_preload(struct mn_engine *e, const uint8_t super[MN_EDGES], int edge, int op,
		      double dk, double dr);

/* Feasibility of the whole space under the current limits. */
void mn_engine_space_limits(struct mn_engine *e, struct mn_space_limits *out);
/* The same for other limits (e.g. ones a user is typing in). */
void mn_engine_space_limits_for(struct mn_engine *e, const struct mn_constraints *c,
				struct mn_space_limits *out);

#endif
