#include "search/engine.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "space/cost.h"

struct mn_engine {
	struct mn_search *search; /* used by the thread while running */
	pthread_t thread;
	int thread_joinable;
	pthread_mutex_t lock;     /* guards everything below */
	pthread_cond_t idle;
	atomic_int cancel;        /* read by the workers */
	int running;
	int user_cancel;
	int restart;              /* weights or limits changed mid-run */
	int pending;              /* pend_* must be applied to the search */
	double pend_wf, pend_wl;
	struct mn_constraints pend_limits;
	double run_start;
	int evals_done;           /* evaluations of finished rounds and runs */
	int round_fresh;          /* evaluations of the round under way */
	int evals_at_start;       /* evals_done when this run started */
	struct mn_engine_snapshot snap;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

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
	pthread_mutex_init(&e->lock, NULL);
	pthread_cond_init(&e->idle, NULL);
	atomic_init(&e->cancel, 0);
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

/* Candidates a later round will hold: 6 edges x (ops left - 0). */
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
	struct mn_round view = *p->current;

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
	if (p->decided) {
		e->evals_done += p->fresh;
		e->round_fresh = 0;
	} else {
		e->round_fresh = p->fresh;
	}
	s->evaluations = e->evals_done + e->round_fresh;
	int run_evals = s->evaluations - e->evals_at_start;
	s->round = p->round;
	s->done = p->done;
	s->total = p->total;
	s->rounds[p->round] = view;
	s->n_rounds = p->round + 1;
	s->decided = p->decided ? p->round + 1 : p->round;
	s->elapsed_s = now_s() - e->run_start;
	if (run_evals > 0) {
		double per = s->elapsed_s / run_evals;
		s->eta_s = per * ((p->total - p->done) + future_candidates(p->round));
	}
	s->version++;
	pthread_mutex_unlock(&e->lock);
}

/* Hands the pending weights and limits to the search; the caller holds the
 * lock and the search is not running. */
static void apply_pending(struct mn_engine *e)
{
	mn_search_set_weights(e->search, e->pend_wf, e->pend_wl);
	mn_search_set_limits(e->search, &e->pend_limits);
	e->snap.w_flops = e->pend_wf;
	e->snap.w_latency = e->pend_wl;
	e->snap.limits = e->pend_limits;
	e->pending = 0;
}

static void *engine_main(void *arg)
{
	struct mn_engine *e = arg;
	struct mn_round rounds[MN_MAX_ROUNDS];
	struct mn_arch final;
	char err[256] = "";
	int nr = 0, rc;

	pthread_mutex_lock(&e->lock);
	for (;;) {
		if (e->pending)
			apply_pending(e);
		e->restart = 0;
		atomic_store(&e->cancel, 0);
		e->snap.n_rounds = 0;
		e->snap.decided = 0;
		e->snap.version++;
		pthread_mutex_unlock(&e->lock);

		rc = mn_search_run(e->search, &e->cancel, on_progress, e, rounds, &nr, &final, err,
				   sizeof err);

		pthread_mutex_lock(&e->lock);
		/* A round cut short keeps the evaluations it made (cached). */
		e->evals_done += e->round_fresh;
		e->round_fresh = 0;
		if (rc == 1 && e->restart && !e->user_cancel)
			continue; /* re-rank from the cache with the new settings */
		break;
	}
	struct mn_engine_snapshot *s = &e->snap;
	s->elapsed_s = now_s() - e->run_start;
	s->eta_s = rc == 0 ? 0 : -1;
	if (rc == 0) {
		struct mn_cost c;
		s->state = MN_ENGINE_DONE;
		s->has_result = 1;
		s->result = final;
		memcpy(s->rounds, rounds, sizeof rounds);
		s->n_rounds = s->decided = nr;
		mn_search_arch_costs(e->search, &final, &s->result_flops_m, &s->result_latency_ms,
				     &s->result_sram_kb, &s->result_flash_kb);
		struct mn_search_config cfg;
		mn_search_get_config(e->search, &cfg);
		mn_cost_arch(&final, &cfg.shape, &c);
		s->result_params_m = c.params / 1e6;
		s->search_seconds = s->elapsed_s;
		s->error[0] = '\0';
	} else if (rc == 1) {
		s->state = MN_ENGINE_CANCELLED;
	} else {
		s->state = MN_ENGINE_FAILED;
		snprintf(s->error, sizeof s->error, "%s", err);
	}
	s->runs_ended++;
	s->version++;
	e->running = 0;
	pthread_cond_broadcast(&e->idle);
	pthread_mutex_unlock(&e->lock);
	return NULL;
}

int mn_engine_start(struct mn_engine *e)
{
	pthread_mutex_lock(&e->lock);
	if (e->running) {
		pthread_mutex_unlock(&e->lock);
		return 0;
	}
	if (e->thread_joinable) {
		pthread_join(e->thread, NULL); /* finished: reap it */
		e->thread_joinable = 0;
	}
	e->running = 1;
	e->user_cancel = 0;
	e->run_start = now_s();
	e->evals_at_start = e->evals_done;
	e->snap.state = MN_ENGINE_RUNNING;
	e->snap.has_result = 0;
	e->snap.eta_s = -1;
	e->snap.error[0] = '\0';
	e->snap.version++;
	int rc = pthread_create(&e->thread, NULL, engine_main, e);
	if (rc != 0) {
		e->running = 0;
		e->snap.state = MN_ENGINE_FAILED;
		snprintf(e->snap.error, sizeof e->snap.error, "cannot start the search thread");
		e->snap.runs_ended++;
	} else {
		e->thread_joinable = 1;
	}
	pthread_mutex_unlock(&e->lock);
	return rc == 0 ? 0 : -1;
}

void mn_engine_cancel(struct mn_engine *e)
{
	pthread_mutex_lock(&e->lock);
	if (e->running) {
		e->user_cancel = 1;
		atomic_store(&e->cancel, 1);
	}
	pthread_mutex_unlock(&e->lock);
}

void mn_engine_wait(struct mn_engine *e)
{
	pthread_mutex_lock(&e->lock);
	while (e->running)
		pthread_cond_wait(&e->idle, &e->lock);
	pthread_mutex_unlock(&e->lock);
}

static void changed(struct mn_engine *e)
{
	/* Caller holds the lock. */
	e->pending = 1;
	if (e->running) {
		e->restart = 1;
		atomic_store(&e->cancel, 1);
	} else {
		apply_pending(e);
		e->snap.version++;
	}
}

void mn_engine_set_weights(struct mn_engine *e, double w_flops, double w_latency, int rerun)
{
	pthread_mutex_lock(&e->lock);
	e->pend_wf = w_flops;
	e->pend_wl = w_latency;
	changed(e);
	int start = rerun && !e->running;
	pthread_mutex_unlock(&e->lock);
	if (start)
		mn_engine_start(e);
}

void mn_engine_set_limits(struct mn_engine *e, const struct mn_constraints *c, int rerun)
{
	pthread_mutex_lock(&e->lock);
	e->pend_limits = *c;
	changed(e);
	int start = rerun && !e->running;
	pthread_mutex_unlock(&e->lock);
	if (start)
		mn_engine_start(e);
}

void mn_engine_snapshot(struct mn_engine *e, struct mn_engine_snapshot *out)
{
	pthread_mutex_lock(&e->lock);
	*out = e->snap;
	if (e->running)
		out->elapsed_s = now_s() - e->run_start;
	pthread_mutex_unlock(&e->lock);
}

void mn_engine_space_limits(struct mn_engine *e, struct mn_space_limits *out)
{
	/* The thread changes the search's limits only under the lock. */
	pthread_mutex_lock(&e->lock);
	mn_search_space_limits(e->search, out);
	pthread_mutex_unlock(&e->lock);
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
	if (e->thread_joinable)
		pthread_join(e->thread, NULL);
	pthread_mutex_destroy(&e->lock);
	pthread_cond_destroy(&e->idle);
	mn_search_free(e->search);
	free(e);
}
