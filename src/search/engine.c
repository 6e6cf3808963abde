#include "search/engine.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "space/cost.h"
#include "util/pool.h"
#include "util/clock.h"

struct mn_engine {
	struct mn_search *search; /* used by the thread while running */
	struct mn_pool *bg;       /* one worker: the search runs there */
	pthread_mutex_t lock;     /* guards everything below */
	pthread_cond_t idle;
	atomic_int cancel;        /* read by the workers */
	int running;
	double pend_wf, pend_wl;  /* the settings last asked for */
	struct mn_constraints pend_limits;
	double run_start;
	double carried_s;         /* wall time of cancelled runs since the last pick */
	int evals_done;           /* evaluations of finished runs */
	struct mn_arch *ranked;   /* outside ranking for the provisional pick */
	int n_ranked;
	double look_step;         /* mn_engine_set_lookahead; 0: off */
	int look_rings;           /* and how many rings of that step */
	atomic_int shadow;        /* a look-ahead run: its progress is not shown */
	struct mn_engine_snapshot snap;
};

struct mn_engine *mn_engine_new(const struct mn_search_config *cfg,
				const struct mn_proxy_evaluator *ev,
				const struct mn_latency_model *lat, char *err, size_t errlen)
{
	struct mn_engine *e = calloc(1, sizeof *e);
	if (!e) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	e->search = mn_search_new(cfg, ev, lat, err, errlen);
	if (!e->search) {
		free(e);
		return NULL;
	}
	e->bg = mn_pool_new(1, err, errlen);
	if (!e->bg) {
		mn_search_free(e->search);
		free(e);
		return NULL;
	}
	pthread_mutex_init(&e->lock, NULL);
	pthread_cond_init(&e->idle, NULL);
	atomic_init(&e->cancel, 0);
	atomic_init(&e->shadow, 0);
	e->snap.state = MN_ENGINE_IDLE;
	e->snap.latest_round = e->snap.latest_index = -1;
	e->snap.eta_s = -1;
	e->snap.w_flops = cfg->w_flops;
	e->snap.w_latency = cfg->w_latency;
	e->snap.limits = cfg->limits;
	e->pend_wf = cfg->w_flops;
	e->pend_wl = cfg->w_latency;
	e->pend_limits = cfg->limits;
	return e;
}

/* Candidates the rounds after `round` will hold: 6 edges x the ops left. */
static int future_candidates(int round)
{
	int n = 0;
	for (int r = round + 1; r < 3; r++)
		n += MN_EDGES * (4 - r);
	return n;
}

/* Runs in the engine thread, inside mn_search_run, with the round locked
 * against the workers. */
static void on_progress(void *ctx, const struct mn_search_progress *p)
{
	struct mn_engine *e = ctx;
	if (atomic_load(&e->shadow))
		return; /* the snapshot keeps the pick the user asked for */
	struct mn_round view = *p->current;
	struct mn_arch prov;

	if (!p->decided) {
		/* Provisional ranks over the candidates measured so far. */
		struct mn_round part;
		int map[MN_MAX_CANDIDATES], k = 0;
		memset(&part, 0, sizeof part);
		memcpy(part.super, view.super, MN_EDGES);
		for (int i = 0; i < view.n; i++)
			if (view.cand[i].evaluated) {
				map[k] = i;
				part.cand[k++] = view.cand[i];
			}
		part.n = k;
		if (k > 0)
			mn_search_rank_round(e->search, &part);
		for (int i = 0; i < k; i++)
			view.cand[map[i]] = part.cand[i];
	}
	pthread_mutex_lock(&e->lock);
	/* The arch this is heading to, from the current round's ranks (under
	 * the lock: the outside ranking may be replaced at any time). */
	if (p->decided) {
		/* Heading on from the supernet this round leaves. */
		struct mn_round after = view;
		for (int ed = 0; ed < MN_EDGES; ed++)
			if (after.pruned_op[ed] >= 0)
				after.super[ed] &= (uint8_t)~(1u << after.pruned_op[ed]);
		mn_search_provisional(e->search, &after, e->ranked, e->n_ranked, &prov);
	} else {
		mn_search_provisional(e->search, &view, e->ranked, e->n_ranked, &prov);
	}
	struct mn_engine_snapshot *s = &e->snap;
	if (p->round < s->n_rounds && p->round == s->round) {
		const struct mn_round *old = &s->rounds[p->round];
		for (int i = 0; i < view.n && i < old->n; i++)
			if (view.cand[i].evaluated && !old->cand[i].evaluated) {
				s->latest_round = p->round;
				s->latest_index = i;
			}
	}
	/* Counted from the search's own figure: a candidate may finish before
	 * the round's first report. */
	s->evaluations = e->evals_done + p->run_fresh;
	/* Decided rounds as they now stand (a settings change re-ranks them). */
	for (int r = 0; r < p->n_decided && r < MN_MAX_ROUNDS; r++)
		s->rounds[r] = p->rounds[r];
	s->round = p->round;
	s->done = p->done;
	s->total = p->total;
	s->rounds[p->round] = view;
	s->n_rounds = p->decided ? p->n_decided : p->round + 1;
	s->decided = p->n_decided;
	s->has_provisional = 1;
	s->provisional = prov;
	s->elapsed_s = e->carried_s + mn_now_s() - e->run_start;
	/* Progress over the whole search: values known to this run (never
	 * decreases) of those the current plan needs. */
	int left = future_candidates(p->round) + (p->decided ? 0 : p->total - p->done);
	if (p->touched > s->work_done)
		s->work_done = p->touched;
	s->work_total = s->work_done + left;
	if (p->run_fresh > 0) {
		double per = s->elapsed_s / p->run_fresh;
		s->eta_s = per * left;
	}
	s->version++;
	pthread_mutex_unlock(&e->lock);
}

/* The k-th weight offset of the look-ahead, in steps (flops, latency):
 * ring r holds the offsets |df| + |dl| = r, the two axes first (latency,
 * the weight the presets tune, before flops), so nearer keys are ready
 * first.  4r offsets a ring. */
static void look_offset(int r, int k, int *df, int *dl)
{
	static const int axis[4][2] = {{0, 1}, {0, -1}, {1, 0}, {-1, 0}};
	if (k < 4) {
		*df = axis[k][0] * r, *dl = axis[k][1] * r;
		return;
	}
	int a = 1 + (k - 4) / 4, sf = (k % 4) < 2 ? 1 : -1, sl = k % 2 ? -1 : 1;
	*df = sf * a, *dl = sl * (r - a);
}

/* After a pick: the searches within `look_rings` weight steps (above),
 * none below 0, run with their progress hidden, so that every state they
 * reach is in the cache when the user takes those steps.  Stops at the
 * first cancel (mn_engine_start and the weight and limit changes cancel
 * it); then hands the user's settings back to the search. */
static void look_ahead(struct mn_engine *e)
{
	struct mn_round rounds[MN_MAX_ROUNDS];
	struct mn_arch final;
	char err[256];
	int nr, stop = 0;
	pthread_mutex_lock(&e->lock);
	double wf = e->pend_wf, wl = e->pend_wl, st = e->look_step;
	int rings = e->look_rings;
	struct mn_constraints lim = e->pend_limits;
	pthread_mutex_unlock(&e->lock);
	atomic_store(&e->shadow, 1);
	for (int r = 1; r <= rings && !stop; r++)
		for (int k = 0; k < 4 * r && !stop && !atomic_load(&e->cancel); k++) {
			int df, dl;
			look_offset(r, k, &df, &dl);
			double f = wf + df * st, l = wl + dl * st;
			if (f >= 0 && l >= 0) {
				mn_search_set_pending(e->search, f, l, &lim);
				/* cancelled, or failed: the values measured are kept */
				stop = mn_search_run(e->search, &e->cancel, on_progress, e, rounds, &nr,
						     &final, err, sizeof err) != 0;
			}
			if (stop)
				break; /* this point not done */
			pthread_mutex_lock(&e->lock);
			e->snap.lookahead_done++;
			e->snap.version++;
			pthread_mutex_unlock(&e->lock);
		}
	atomic_store(&e->shadow, 0);
	pthread_mutex_lock(&e->lock);
	mn_search_set_pending(e->search, e->pend_wf, e->pend_wl, &e->pend_limits);
	pthread_mutex_unlock(&e->lock);
}

static void engine_main(void *arg, int worker)
{
	struct mn_engine *e = arg;
	struct mn_round rounds[MN_MAX_ROUNDS];
	struct mn_arch final;
	char err[256] = "";
	int nr = 0, rc;

	(void)worker;
	for (;;) {
		rc = mn_search_run(e->search, &e->cancel, on_progress, e, rounds, &nr, &final, err,
				   sizeof err);
		pthread_mutex_lock(&e->lock);
		e->evals_done = e->snap.evaluations;
		pthread_mutex_unlock(&e->lock);
		/* Settings handed over after the last round: re-rank from the
		 * cache (only states never seen are measured). */
		if (rc != 0 || !mn_search_has_pending(e->search) || atomic_load(&e->cancel))
			break;
	}

	pthread_mutex_lock(&e->lock);
	struct mn_engine_snapshot *s = &e->snap;
	s->elapsed_s = e->carried_s + mn_now_s() - e->run_start;
	s->eta_s = rc == 0 ? 0 : -1;
	if (rc == 0) {
		struct mn_cost c;
		s->state = MN_ENGINE_DONE;
		s->has_result = 1;
		s->result = final;
		s->has_provisional = 0;
		memcpy(s->rounds, rounds, sizeof rounds);
		s->n_rounds = s->decided = nr;
		mn_search_arch_costs(e->search, &final, &s->result_flops_m, &s->result_latency_ms,
				     &s->result_sram_kb, &s->result_flash_kb);
		struct mn_search_config cfg;
		mn_search_get_config(e->search, &cfg);
		mn_cost_arch(&final, &cfg.shape, &c);
		s->result_params_m = c.params / 1e6;
		s->search_seconds = s->elapsed_s; /* resumed runs included */
		e->carried_s = 0;
		s->work_total = s->work_done;
		s->error[0] = '\0';
	} else if (rc == 1) {
		s->state = MN_ENGINE_CANCELLED;
		e->carried_s = s->elapsed_s; /* a resume goes on counting */
	} else {
		s->state = MN_ENGINE_FAILED;
		snprintf(s->error, sizeof s->error, "%s", err);
	}
	s->runs_ended++;
	s->version++;
	if (rc == 0 && e->look_step > 0 && e->look_rings > 0 && !atomic_load(&e->cancel)) {
		s->lookahead = 1;
		s->lookahead_done = 0;
		s->lookahead_total = mn_lookahead_points(e->look_rings);
		pthread_mutex_unlock(&e->lock);
		look_ahead(e);
		pthread_mutex_lock(&e->lock);
		s->lookahead = 0;
		s->version++;
	}
	e->running = 0;
	pthread_cond_broadcast(&e->idle);
	pthread_mutex_unlock(&e->lock);
}

int mn_engine_start(struct mn_engine *e)
{
	pthread_mutex_lock(&e->lock);
	while (e->running && e->snap.lookahead) { /* the user's search comes first */
		atomic_store(&e->cancel, 1);
		pthread_cond_wait(&e->idle, &e->lock);
	}
	if (e->running) {
		pthread_mutex_unlock(&e->lock);
		return 0;
	}
	e->running = 1;
	atomic_store(&e->cancel, 0);
	e->run_start = mn_now_s();
	e->snap.state = MN_ENGINE_RUNNING;
	e->snap.has_result = 0;
	e->snap.n_rounds = e->snap.decided = 0;
	e->snap.work_done = e->snap.work_total = 0;
	e->snap.eta_s = -1;
	e->snap.error[0] = '\0';
	e->snap.version++;
	int rc = mn_pool_submit(e->bg, engine_main, e);
	if (rc != 0) {
		e->running = 0;
		e->snap.state = MN_ENGINE_FAILED;
		snprintf(e->snap.error, sizeof e->snap.error, "cannot queue the search (out of memory)");
		e->snap.runs_ended++;
	}
	pthread_mutex_unlock(&e->lock);
	return rc == 0 ? 0 : -1;
}

void mn_engine_cancel(struct mn_engine *e)
{
	pthread_mutex_lock(&e->lock);
	if (e->running)
		atomic_store(&e->cancel, 1);
	pthread_mutex_unlock(&e->lock);
}

void mn_engine_wait(struct mn_engine *e)
{
	pthread_mutex_lock(&e->lock);
	while (e->running)
		pthread_cond_wait(&e->idle, &e->lock);
	pthread_mutex_unlock(&e->lock);
}

/* Hands the settings to the search (applied at once when idle, between
 * evaluations when running).  Caller holds the lock. */
static void changed(struct mn_engine *e)
{
	mn_search_set_pending(e->search, e->pend_wf, e->pend_wl, &e->pend_limits);
	e->snap.w_flops = e->pend_wf;
	e->snap.w_latency = e->pend_wl;
	e->snap.limits = e->pend_limits;
	e->snap.version++;
}

void mn_engine_set_weights(struct mn_engine *e, double w_flops, double w_latency, int rerun)
{
	pthread_mutex_lock(&e->lock);
	e->pend_wf = w_flops;
	e->pend_wl = w_latency;
	changed(e);
	int start = rerun && (!e->running || e->snap.lookahead);
	pthread_mutex_unlock(&e->lock);
	if (start)
		mn_engine_start(e);
}

void mn_engine_set_limits(struct mn_engine *e, const struct mn_constraints *c, int rerun)
{
	pthread_mutex_lock(&e->lock);
	e->pend_limits = *c;
	changed(e);
	int start = rerun && (!e->running || e->snap.lookahead);
	pthread_mutex_unlock(&e->lock);
	if (start)
		mn_engine_start(e);
}

void mn_engine_set_lookahead(struct mn_engine *e, double step, int rings)
{
	pthread_mutex_lock(&e->lock);
	e->look_step = step > 0 && rings > 0 ? step : 0;
	e->look_rings = step > 0 && rings > 0 ? rings : 0;
	pthread_mutex_unlock(&e->lock);
}

int mn_engine_set_ranked_archs(struct mn_engine *e, const struct mn_arch *archs, int n)
{
	struct mn_arch *copy = NULL;
	if (archs && n > 0) {
		copy = malloc((size_t)n * sizeof *copy);
		if (!copy)
			return -1;
		memcpy(copy, archs, (size_t)n * sizeof *copy);
	}
	pthread_mutex_lock(&e->lock); /* on_progress reads the list under it */
	free(e->ranked);
	e->ranked = copy;
	e->n_ranked = copy ? n : 0;
	pthread_mutex_unlock(&e->lock);
	return 0;
}

int mn_engine_preload(struct mn_engine *e, const uint8_t super[MN_EDGES], int edge, int op,
		      double dk, double dr)
{
	pthread_mutex_lock(&e->lock);
	int rc = e->running ? -1 : mn_search_preload(e->search, super, edge, op, dk, dr);
	pthread_mutex_unlock(&e->lock);
	return rc;
}

void mn_engine_snapshot(struct mn_engine *e, struct mn_engine_snapshot *out)
{
	pthread_mutex_lock(&e->lock);
	*out = e->snap;
	if (e->running)
		out->elapsed_s = e->carried_s + mn_now_s() - e->run_start;
	pthread_mutex_unlock(&e->lock);
}

void mn_engine_space_limits(struct mn_engine *e, struct mn_space_limits *out)
{
	struct mn_constraints c;
	pthread_mutex_lock(&e->lock);
	c = e->pend_limits;
	pthread_mutex_unlock(&e->lock);
	mn_search_space_limits_for(e->search, &c, out);
}

void mn_engine_space_limits_for(struct mn_engine *e, const struct mn_constraints *c,
				struct mn_space_limits *out)
{
	/* Only the per-arch costs are read, which never change. */
	mn_search_space_limits_for(e->search, c, out);
}

void mn_engine_free(struct mn_engine *e)
{
	if (!e)
		return;
	mn_engine_cancel(e);
	mn_engine_wait(e);
	mn_pool_free(e->bg);
	free(e->ranked);
	pthread_mutex_destroy(&e->lock);
	pthread_cond_destroy(&e->idle);
	mn_search_free(e->search);
	free(e);
}
