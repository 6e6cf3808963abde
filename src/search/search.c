#include "search/search.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "space/memory.h"
#include "util/pool.h"

/* One cached proxy measurement: the supernet state and the op removed. */
struct cache_entry {
	uint8_t super[MN_EDGES];
	int edge, op;
	double dk, dr;
	unsigned run; /* the last run that used it (for the progress count) */
};

struct arch_costs {
	float latency_ms, sram_kb, flash_kb;
};

struct mn_search {
	struct mn_search_config cfg;
	struct mn_proxy_evaluator ev;
	struct mn_latency_model lat;
	struct cache_entry *cache;
	int n_cache, cap_cache;
	struct mn_pool *pool; /* cfg.threads evaluation workers */
	unsigned run;         /* runs started, for cache_entry.run */
	int touched;          /* values used by this run (cached or measured) */
	int fresh;            /* values measured by this run */
	/* Settings handed over while a run is under way (any thread), applied
	 * by the run itself between evaluations. */
	pthread_mutex_t pend_lock;
	atomic_int pend_flag;
	double pend_wf, pend_wl;
	struct mn_constraints pend_limits;
	/* Costs of every arch without a `none` edge (the searched space),
	 * indexed by mn_arch_to_index. */
	struct arch_costs *costs;
};

static int arch_in_space(const struct mn_arch *a)
{
	for (int e = 0; e < MN_EDGES; e++)
		if (a->op[e] == MN_OP_NONE)
			return 0;
	return 1;
}

static double arch_latency(const struct mn_search *s, const struct mn_arch *a)
{
	uint8_t m[MN_EDGES];
	for (int e = 0; e < MN_EDGES; e++)
		m[e] = (uint8_t)(1u << a->op[e]);
	return s->lat.mask_ms ? s->lat.mask_ms(s->lat.ctx, m) : 0.0;
}

struct mn_search *mn_search_new(const struct mn_search_config *cfg,
				const struct mn_proxy_evaluator *ev,
				const struct mn_latency_model *lat, char *err, size_t errlen)
{
	char msg[200];
	if (mn_shape_check(&cfg->shape, msg, sizeof msg)) {
		snprintf(err, errlen, "%s", msg);
		return NULL;
	}
	struct mn_search *s = calloc(1, sizeof *s);
	if (!s || !(s->costs = calloc(MN_ARCH_COUNT, sizeof *s->costs))) {
		free(s);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->cfg = *cfg;
	if (s->cfg.threads < 1)
		s->cfg.threads = 1;
	if (s->cfg.threads > MN_SEARCH_MAX_THREADS)
		s->cfg.threads = MN_SEARCH_MAX_THREADS;
	s->pool = mn_pool_new(s->cfg.threads, err, errlen);
	if (!s->pool || pthread_mutex_init(&s->pend_lock, NULL) != 0) {
		mn_pool_free(s->pool);
		free(s->costs);
		free(s);
		return NULL;
	}
	atomic_init(&s->pend_flag, 0);
	s->ev = *ev;
	if (lat)
		s->lat = *lat;
	for (int i = 0; i < MN_ARCH_COUNT; i++) {
		struct mn_arch a;
		struct mn_memory m;
		mn_arch_from_index(i, &a);
		if (!arch_in_space(&a))
			continue;
		mn_memory_arch(&a, &cfg->shape, cfg->runtime_flash_bytes, &m);
		s->costs[i].latency_ms = (float)arch_latency(s, &a);
		s->costs[i].sram_kb = (float)(m.sram_bytes / 1024.0);
		s->costs[i].flash_kb = (float)(m.flash_bytes / 1024.0);
	}
	return s;
}

void mn_search_free(struct mn_search *s)
{
	if (!s)
		return;
	mn_pool_free(s->pool);
	pthread_mutex_destroy(&s->pend_lock);
	free(s->cache);
	free(s->costs);
	free(s);
}

void mn_search_set_weights(struct mn_search *s, double w_flops, double w_latency)
{
	s->cfg.w_flops = w_flops;
	s->cfg.w_latency = w_latency;
}

void mn_search_set_limits(struct mn_search *s, const struct mn_constraints *c) { s->cfg.limits = *c; }

void mn_search_get_config(const struct mn_search *s, struct mn_search_config *out) { *out = s->cfg; }

void mn_search_set_pending(struct mn_search *s, double w_flops, double w_latency,
			   const struct mn_constraints *c)
{
	pthread_mutex_lock(&s->pend_lock);
	s->pend_wf = w_flops;
	s->pend_wl = w_latency;
	s->pend_limits = *c;
	atomic_store(&s->pend_flag, 1);
	pthread_mutex_unlock(&s->pend_lock);
}

int mn_search_has_pending(const struct mn_search *s) { return atomic_load(&s->pend_flag) != 0; }

/* Applies pending settings; 1 if there were any.  The run's thread only. */
static int take_pending(struct mn_search *s)
{
	if (!atomic_load(&s->pend_flag))
		return 0;
	pthread_mutex_lock(&s->pend_lock);
	s->cfg.w_flops = s->pend_wf;
	s->cfg.w_latency = s->pend_wl;
	s->cfg.limits = s->pend_limits;
	atomic_store(&s->pend_flag, 0);
	pthread_mutex_unlock(&s->pend_lock);
	return 1;
}

int mn_search_cached(const struct mn_search *s) { return s->n_cache; }

void mn_search_arch_costs(const struct mn_search *s, const struct mn_arch *a, double *flops_m,
			  double *latency_ms, double *sram_kb, double *flash_kb)
{
	struct mn_cost c;
	struct mn_memory m;
	mn_cost_arch(a, &s->cfg.shape, &c);
	mn_memory_arch(a, &s->cfg.shape, s->cfg.runtime_flash_bytes, &m);
	*flops_m = c.flops / 1e6;
	*latency_ms = arch_latency(s, a);
	*sram_kb = m.sram_bytes / 1024.0;
	*flash_kb = m.flash_bytes / 1024.0;
}

static int costs_fit(const struct mn_constraints *l, const struct arch_costs *c)
{
	/* A small tolerance: the costs are stored as float. */
	return (l->max_latency_ms <= 0 || c->latency_ms <= l->max_latency_ms * (1 + 1e-6)) &&
	       (l->max_sram_kb <= 0 || c->sram_kb <= l->max_sram_kb * (1 + 1e-6)) &&
	       (l->max_flash_kb <= 0 || c->flash_kb <= l->max_flash_kb * (1 + 1e-6));
}

/* Is there a feasible single arch inside the mixed mask? */
static int mask_has_feasible(const struct mn_search *s, const uint8_t mask[MN_EDGES])
{
	struct mn_mask_iter it;
	struct mn_arch a;
	for (mn_mask_iter_init(&it, mask); mn_mask_iter_next(&it, &a);)
		if (arch_in_space(&a) && costs_fit(&s->cfg.limits, &s->costs[mn_arch_to_index(&a)]))
			return 1;
	return 0;
}

void mn_search_space_limits(const struct mn_search *s, struct mn_space_limits *out)
{
	mn_search_space_limits_for(s, &s->cfg.limits, out);
}

void mn_search_space_limits_for(const struct mn_search *s, const struct mn_constraints *lim,
				struct mn_space_limits *out)
{
	out->feasible_count = 0;
	out->min_latency_ms = out->min_sram_kb = out->min_flash_kb = INFINITY;
	for (int i = 0; i < MN_ARCH_COUNT; i++) {
		struct mn_arch a;
		mn_arch_from_index(i, &a);
		if (!arch_in_space(&a))
			continue;
		const struct arch_costs *c = &s->costs[i];
		out->feasible_count += costs_fit(lim, c);
		if (c->latency_ms < out->min_latency_ms) out->min_latency_ms = c->latency_ms;
		if (c->sram_kb < out->min_sram_kb) out->min_sram_kb = c->sram_kb;
		if (c->flash_kb < out->min_flash_kb) out->min_flash_kb = c->flash_kb;
	}
}

static struct cache_entry *cache_find(const struct mn_search *s, const uint8_t super[MN_EDGES],
				      int edge, int op)
{
	for (int i = 0; i < s->n_cache; i++) {
		struct cache_entry *c = &s->cache[i];
		if (c->edge == edge && c->op == op && memcmp(c->super, super, MN_EDGES) == 0)
			return c;
	}
	return NULL;
}

static int cache_add(struct mn_search *s, const uint8_t super[MN_EDGES], int edge, int op,
		     double dk, double dr, unsigned run)
{
	if (s->n_cache == s->cap_cache) {
		int cap = s->cap_cache ? 2 * s->cap_cache : 64;
		struct cache_entry *n = realloc(s->cache, (size_t)cap * sizeof *n);
		if (!n)
			return -1;
		s->cache = n;
		s->cap_cache = cap;
	}
	struct cache_entry *c = &s->cache[s->n_cache++];
	memcpy(c->super, super, MN_EDGES);
	c->edge = edge;
	c->op = op;
	c->dk = dk;
	c->dr = dr;
	c->run = run;
	return 0;
}

int mn_search_preload(struct mn_search *s, const uint8_t super[MN_EDGES], int edge, int op,
		      double dk, double dr)
{
	if (cache_find(s, super, edge, op))
		return 0;
	return cache_add(s, super, edge, op, dk, dr, 0);
}

/* TE-NAS's round_to: round to `digits` significant figures (its sort key;
 * equal raw values, not equal keys, share a rank). */
static double round_sig(double x, int digits)
{
	if (x == 0 || !isfinite(x))
		return x;
	double sign = x < 0 ? -1 : 1, a = fabs(x) + 1e-8;
	double power = floor(log(a) / log(10.0)) + 1;
	double scale = pow(10.0, digits);
	return sign * nearbyint(a * pow(10.0, -power) * scale) / scale * pow(10.0, power);
}

/* Stable sort of candidate indices by key (ascending or descending). */
static void stable_sort(int *idx, int n, const double *key, int descending)
{
	for (int i = 1; i < n; i++) {
		int v = idx[i], j = i - 1;
		while (j >= 0 && (descending ? key[idx[j]] < key[v] : key[idx[j]] > key[v])) {
			idx[j + 1] = idx[j];
			j--;
		}
		idx[j + 1] = v;
	}
}

/* TE-NAS's ranks: walk the sorted order; a value equal to the previous one
 * shares its rank, otherwise the rank grows by one.  1-based. */
static void ranks_in_order(const int *order, int n, const double *value, int *rank)
{
	for (int k = 0; k < n; k++) {
		int i = order[k];
		if (k == 0)
			rank[i] = 1;
		else
			rank[i] = value[i] == value[order[k - 1]] ? rank[order[k - 1]] : rank[order[k - 1]] + 1;
	}
}

void mn_search_rank_round(struct mn_search *s, struct mn_round *r)
{
	int n = r->n, ntk_order[MN_MAX_CANDIDATES], tmp[MN_MAX_CANDIDATES];
	double dk[MN_MAX_CANDIDATES] = {0}, dr[MN_MAX_CANDIDATES] = {0}, key[MN_MAX_CANDIDATES] = {0};
	double fl[MN_MAX_CANDIDATES] = {0}, la[MN_MAX_CANDIDATES] = {0};
	int rk[MN_MAX_CANDIDATES], rr[MN_MAX_CANDIDATES], rf[MN_MAX_CANDIDATES], rl[MN_MAX_CANDIDATES];

	for (int i = 0; i < n; i++) {
		struct mn_candidate *c = &r->cand[i];
		uint8_t m[MN_EDGES];
		struct mn_cost cost;
		memcpy(m, r->super, MN_EDGES);
		m[c->edge] &= (uint8_t)~(1u << c->op);
		mn_cost_mask(m, &s->cfg.shape, &cost);
		c->flops_m = cost.flops / 1e6;
		c->latency_ms = s->lat.mask_ms ? s->lat.mask_ms(s->lat.ctx, m) : 0.0;
		dk[i] = c->dk;
		dr[i] = c->dr;
		fl[i] = c->flops_m;
		la[i] = c->latency_ms;
		ntk_order[i] = tmp[i] = i;
	}
	/* NTK: descending by rounded key, enumeration order among equal keys. */
	for (int i = 0; i < n; i++)
		key[i] = round_sig(dk[i], 3);
	stable_sort(ntk_order, n, key, 1);
	ranks_in_order(ntk_order, n, dk, rk);
	for (int i = 0; i < n; i++)
		key[i] = round_sig(dr[i], 3);
	stable_sort(tmp, n, key, 0);
	ranks_in_order(tmp, n, dr, rr);
	/* Hardware: ascending cost after removal (the cheapest result is the
	 * most prunable), equal costs share a rank. */
	for (int i = 0; i < n; i++)
		tmp[i] = i;
	stable_sort(tmp, n, fl, 0);
	ranks_in_order(tmp, n, fl, rf);
	for (int i = 0; i < n; i++)
		tmp[i] = i;
	stable_sort(tmp, n, la, 0);
	ranks_in_order(tmp, n, la, rl);

	double score[MN_MAX_CANDIDATES] = {0};
	int order[MN_MAX_CANDIDATES];
	for (int i = 0; i < n; i++) {
		struct mn_candidate *c = &r->cand[i];
		c->rank_ntk = rk[i];
		c->rank_lr = rr[i];
		c->rank_flops = rf[i];
		c->rank_latency = rl[i];
		c->score = score[i] = rk[i] + rr[i] + s->cfg.w_flops * rf[i] + s->cfg.w_latency * rl[i];
		c->pruned = 0;
		c->keeps_feasible = 1;
	}
	/* TE-NAS sorts its NTK-ordered list by the rank sum (stably). */
	memcpy(order, ntk_order, sizeof(int) * (size_t)n);
	stable_sort(order, n, score, 0);

	/* Each edge prunes its best-ranked op whose removal, together with the
	 * choices already made this round, leaves a feasible final arch.  One
	 * always exists: keep any feasible arch's op on every edge. */
	uint8_t after[MN_EDGES];
	memcpy(after, r->super, MN_EDGES);
	for (int e = 0; e < MN_EDGES; e++)
		r->pruned_op[e] = -1;
	for (int k = 0; k < n; k++) {
		struct mn_candidate *c = &r->cand[order[k]];
		if (r->pruned_op[c->edge] >= 0)
			continue;
		uint8_t trial[MN_EDGES];
		memcpy(trial, after, MN_EDGES);
		trial[c->edge] &= (uint8_t)~(1u << c->op);
		if (!mask_has_feasible(s, trial)) {
			c->keeps_feasible = 0;
			continue;
		}
		memcpy(after, trial, MN_EDGES);
		r->pruned_op[c->edge] = c->op;
		c->pruned = 1;
	}
}

void mn_search_provisional(const struct mn_search *s, const struct mn_round *cur,
			   const struct mn_arch *ranked, int n_ranked, struct mn_arch *out)
{
	const uint8_t *super = cur->super;
	struct mn_mask_iter it;
	struct mn_arch a;
	/* An outside ranking (best first): its best arch still reachable. */
	for (int i = 0; ranked && i < n_ranked; i++) {
		int inside = arch_in_space(&ranked[i]);
		for (int e = 0; inside && e < MN_EDGES; e++)
			inside = (super[e] >> ranked[i].op[e]) & 1;
		if (inside && costs_fit(&s->cfg.limits, &s->costs[mn_arch_to_index(&ranked[i])])) {
			*out = ranked[i];
			return;
		}
	}
	/* Otherwise the ops the ranks keep: a candidate's score is how
	 * prunable it is (low: pruned first), so the op to keep on an edge has
	 * the highest; an op not measured yet counts as the mean.  The best
	 * feasible arch of the supernet by the sum over its edges. */
	double keep[MN_EDGES][MN_OP_COUNT], mean = 0;
	int known = 0;
	for (int i = 0; i < cur->n; i++)
		if (cur->cand[i].evaluated && cur->cand[i].rank_ntk > 0) {
			mean += cur->cand[i].score;
			known++;
		}
	mean = known ? mean / known : 0;
	for (int e = 0; e < MN_EDGES; e++)
		for (int o = 0; o < MN_OP_COUNT; o++)
			keep[e][o] = mean;
	for (int i = 0; i < cur->n; i++)
		if (cur->cand[i].evaluated && cur->cand[i].rank_ntk > 0)
			keep[cur->cand[i].edge][cur->cand[i].op] = cur->cand[i].score;
	double best = -INFINITY;
	int found = 0;
	for (mn_mask_iter_init(&it, super); mn_mask_iter_next(&it, &a);) {
		if (!arch_in_space(&a) || !costs_fit(&s->cfg.limits, &s->costs[mn_arch_to_index(&a)]))
			continue;
		double v = 0;
		for (int e = 0; e < MN_EDGES; e++)
			v += keep[e][a.op[e]];
		if (!found || v > best) {
			best = v;
			*out = a;
			found = 1;
		}
	}
	if (!found) /* no feasible arch left: the first of the supernet */
		for (int e = 0; e < MN_EDGES; e++) {
			int o = 0;
			while (o < MN_OP_COUNT - 1 && !((super[e] >> o) & 1))
				o++;
			out->op[e] = (unsigned char)o;
		}
}

static int single_path(const uint8_t mask[MN_EDGES])
{
	for (int e = 0; e < MN_EDGES; e++)
		if (mask[e] & (mask[e] - 1))
			return 0;
	return 1;
}

/* The tasks of one round share this; everything but the atomics is read
 * or written under `lock`. */
struct round_work {
	struct mn_search *s;
	struct mn_round *r;
	void **workers;  /* evaluator per pool worker */
	int n_todo, finished; /* tasks queued, tasks returned */
	int measured;         /* of those, with a value */
	int failed;
	char err[256];
	atomic_int stop;
	pthread_mutex_t lock;
	pthread_cond_t done_cond;
};

/* One candidate's evaluation, queued on the search's pool. */
struct cand_task {
	struct round_work *w;
	int ci;
};

static void measure_task(void *arg, int worker)
{
	struct cand_task *t = arg;
	struct round_work *w = t->w;
	struct mn_candidate *c = &w->r->cand[t->ci];
	double dk = 0, dr = 0;
	char err[256] = "";
	int rc = 1;
	/* Evaluators are made on first use, by the thread that owns them: a
	 * run served from the cache makes none. */
	if (!w->workers[worker] && !atomic_load(&w->stop)) {
		w->workers[worker] = w->s->ev.worker_new ? w->s->ev.worker_new(w->s->ev.ctx, worker)
							 : w->s->ev.ctx;
		if (!w->workers[worker]) {
			rc = -1;
			snprintf(err, sizeof err, "cannot create proxy evaluator %d (out of memory?)", worker);
		}
	}
	if (rc == 1 && !atomic_load(&w->stop))
		rc = w->s->ev.measure(w->workers[worker], w->s->cfg.seed, w->r->super, c->edge, c->op,
				      &w->stop, &dk, &dr, err, sizeof err);
	pthread_mutex_lock(&w->lock);
	if (rc == 0) {
		c->dk = dk;
		c->dr = dr;
		c->evaluated = 1;
		w->measured++;
		w->s->fresh++;
		w->s->touched++;
		if (w->s->ev.measured)
			w->s->ev.measured(w->s->ev.ctx, w->r->super, c->edge, c->op, dk, dr);
		if (cache_add(w->s, w->r->super, c->edge, c->op, dk, dr, w->s->run) != 0 && !w->failed) {
			w->failed = 1;
			snprintf(w->err, sizeof w->err, "out of memory caching proxy values");
		}
	} else if (rc < 0 && !w->failed) {
		w->failed = 1;
		snprintf(w->err, sizeof w->err, "%s", err[0] ? err : "proxy evaluation failed");
	}
	if (w->failed)
		atomic_store(&w->stop, 1);
	w->finished++;
	pthread_cond_signal(&w->done_cond);
	pthread_mutex_unlock(&w->lock);
}

/* Re-ranks the decided rounds 0..n-1 with the current settings (their
 * values do not change): returns the first round whose pruning changed, or
 * -1; super gets the supernet after the rounds as they now stand (up to and
 * including the changed one). */
static int replay(struct mn_search *s, struct mn_round *rounds, int n, uint8_t super[MN_EDGES])
{
	for (int e = 0; e < MN_EDGES; e++)
		super[e] = (uint8_t)MN_OPS_SEARCHED;
	for (int k = 0; k < n; k++) {
		int old[MN_EDGES], changed = 0;
		memcpy(old, rounds[k].pruned_op, sizeof old);
		mn_search_rank_round(s, &rounds[k]);
		for (int e = 0; e < MN_EDGES; e++) {
			changed |= old[e] != rounds[k].pruned_op[e];
			if (rounds[k].pruned_op[e] >= 0)
				super[e] &= (uint8_t)~(1u << rounds[k].pruned_op[e]);
		}
		if (changed)
			return k;
	}
	return -1;
}

/* Fills round r's candidates for the supernet `super`, values from the
 * cache where known; queues the others in tasks[]; returns how many. */
static int build_round(struct mn_search *s, struct mn_round *r, const uint8_t super[MN_EDGES],
		       struct round_work *w, struct cand_task *tasks)
{
	int n_todo = 0;
	memset(r, 0, sizeof *r);
	memcpy(r->super, super, MN_EDGES);
	for (int e = 0; e < MN_EDGES; e++) {
		if (!(super[e] & (super[e] - 1)))
			continue; /* one op left on this edge */
		for (int o = 0; o < MN_OP_COUNT; o++) {
			if (!(super[e] & (1u << o)))
				continue;
			struct mn_candidate *c = &r->cand[r->n];
			c->edge = e;
			c->op = o;
			struct cache_entry *hit = cache_find(s, super, e, o);
			if (hit) {
				c->dk = hit->dk;
				c->dr = hit->dr;
				c->evaluated = 1;
				if (hit->run != s->run) {
					hit->run = s->run;
					s->touched++;
				}
			} else {
				tasks[n_todo].w = w;
				tasks[n_todo++].ci = r->n;
			}
			r->n++;
		}
	}
	return n_todo;
}

/* Longest first (the largest network left after the removal, by the
 * deployed shape's FLOPs, has the slowest NTK): the round's last tasks are
 * then its shortest, so no worker idles long while another finishes a
 * slow one.  (Putting the shortest first instead did not bring the first
 * ranking row sooner: 1.17 s against 1.15 s idle, bench_search --what
 * speed; the supernet's own NTK, which every row waits for, dominates.)
 * Only the order changes, never a value. */
static void order_tasks(const struct mn_search *s, const struct mn_round *r,
			struct cand_task *tasks, int n)
{
	double cost[MN_MAX_CANDIDATES];
	for (int i = 0; i < n; i++) {
		const struct mn_candidate *c = &r->cand[tasks[i].ci];
		uint8_t m[MN_EDGES];
		struct mn_cost k;
		memcpy(m, r->super, MN_EDGES);
		m[c->edge] &= (uint8_t)~(1u << c->op);
		mn_cost_mask(m, &s->cfg.shape, &k);
		cost[tasks[i].ci] = k.flops;
	}
	for (int i = 1; i < n; i++) { /* stable insertion sort, descending */
		struct cand_task v = tasks[i];
		int j = i - 1;
		while (j >= 0 && cost[tasks[j].ci] < cost[v.ci]) {
			tasks[j + 1] = tasks[j];
			j--;
		}
		tasks[j + 1] = v;
	}
}

/* Runs round `round`'s queued tasks on the pool and waits for them,
 * reporting each finished one through fn.  A cancel stops what has not
 * started; new weights or limits (take_pending) that change a decided
 * round set *replan to it (replay) and drop the tasks not started, while
 * the values in flight are kept (cached).  0 when the round's tasks are
 * done or *replan is set, 1 when cancelled, -1 with w->err on a failure. */
static int measure_round(struct round_work *w, struct cand_task *tasks, const atomic_int *cancel,
			 mn_search_progress_fn fn, void *fn_ctx, struct mn_search_progress *p,
			 struct mn_round *rounds, int round, int *replan)
{
	struct mn_search *s = w->s;
	struct mn_round *r = w->r;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->done_cond, NULL);
	atomic_init(&w->stop, 0);
	int queued = 0;
	while (queued < w->n_todo && mn_pool_submit(s->pool, measure_task, &tasks[queued]) == 0)
		queued++;
	if (queued < w->n_todo) {
		pthread_mutex_lock(&w->lock);
		w->failed = 1;
		atomic_store(&w->stop, 1);
		snprintf(w->err, sizeof w->err, "out of memory queueing evaluations");
		w->finished += w->n_todo - queued; /* never run */
		pthread_mutex_unlock(&w->lock);
	}
	pthread_mutex_lock(&w->lock);
	int reported = -1;
	for (;;) {
		if (fn && w->finished != reported) {
			reported = w->finished;
			p->done = r->n - w->n_todo + w->measured;
			p->fresh = w->measured;
			p->touched = s->touched;
			p->run_fresh = s->fresh;
			fn(fn_ctx, p);
		}
		if (w->finished == w->n_todo)
			break;
		/* a cancel reaches the workers through w->stop: poll often */
		mn_cond_wait_ns(&w->done_cond, &w->lock, 10 * 1000 * 1000);
		if (cancel && atomic_load(cancel))
			atomic_store(&w->stop, 1);
		if (atomic_load(&w->stop)) /* drop what has not started */
			w->finished += mn_pool_cancel(s->pool);
		if (*replan < 0 && take_pending(s)) {
			/* New weights or limits: only decided rounds can
			 * change; the values in flight are kept (cached). */
			uint8_t after[MN_EDGES];
			*replan = replay(s, rounds, round, after);
			if (*replan >= 0)
				w->finished += mn_pool_cancel(s->pool);
		}
	}
	pthread_mutex_unlock(&w->lock);
	/* Every task of the round has finished (or was skipped). */
	mn_pool_wait(s->pool);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->done_cond);
	if (w->failed)
		return -1;
	if (*replan < 0 && w->measured < w->n_todo) /* cancelled */
		return 1;
	return 0;
}

int mn_search_run(struct mn_search *s, const atomic_int *cancel, mn_search_progress_fn fn,
		  void *fn_ctx, struct mn_round rounds[MN_MAX_ROUNDS], int *n_rounds,
		  struct mn_arch *final, char *err, size_t errlen)
{
	uint8_t super[MN_EDGES];
	int nthreads = mn_pool_workers(s->pool), rc = 0;
	void *workers[MN_SEARCH_MAX_THREADS];
	if (nthreads < 1)
		nthreads = 1; /* no pool: the caller evaluates */
	for (int i = 0; i < nthreads; i++)
		workers[i] = NULL; /* made on first use (measure_task) */
	s->run++;
	s->touched = s->fresh = 0;
	(void)take_pending(s);
	/* TE-NAS removes `none` from every edge before the first round. */
	for (int e = 0; e < MN_EDGES; e++)
		super[e] = (uint8_t)MN_OPS_SEARCHED;
	*n_rounds = 0;
	for (int round = 0; !single_path(super) && round < MN_MAX_ROUNDS;) {
		struct mn_round *r = &rounds[round];
		struct round_work w;
		struct cand_task tasks[MN_MAX_CANDIDATES];
		int replan = -1; /* a decided round whose pruning the new settings change */
		memset(&w, 0, sizeof w);
		w.s = s;
		w.r = r;
		w.workers = workers;
		w.n_todo = build_round(s, r, super, &w, tasks);
		order_tasks(s, r, tasks, w.n_todo);
		struct mn_search_progress p = {round, r->n - w.n_todo, r->n, 0, r, 0, rounds, round,
					       s->touched, s->fresh};
		if (cancel && atomic_load(cancel)) {
			rc = 1;
			break;
		}
		if (w.n_todo == 0 && fn)
			fn(fn_ctx, &p);
		if (w.n_todo > 0) {
			int m = measure_round(&w, tasks, cancel, fn, fn_ctx, &p, rounds, round, &replan);
			if (m < 0) {
				snprintf(err, errlen, "%s", w.err);
				rc = -1;
				break;
			}
			if (m > 0) {
				rc = 1;
				break;
			}
		}
		if (replan < 0 && take_pending(s)) /* settings changed at the round's end */
			replan = replay(s, rounds, round, super);
		if (replan >= 0) {
			/* Go on after the changed round; its successors are
			 * rebuilt, from the cache where the states were seen. */
			(void)replay(s, rounds, replan + 1, super);
			round = replan + 1;
			*n_rounds = round;
			struct mn_search_progress q = {replan, rounds[replan].n, rounds[replan].n, 0,
						       &rounds[replan], 1, rounds, round, s->touched,
						       s->fresh};
			if (fn)
				fn(fn_ctx, &q);
			continue;
		}
		mn_search_rank_round(s, r);
		for (int e = 0; e < MN_EDGES; e++)
			if (r->pruned_op[e] >= 0)
				super[e] &= (uint8_t)~(1u << r->pruned_op[e]);
		*n_rounds = round + 1;
		p.done = r->n;
		p.decided = 1;
		p.n_decided = round + 1;
		p.touched = s->touched;
		p.run_fresh = s->fresh;
		if (fn)
			fn(fn_ctx, &p);
		round++;
	}
	for (int i = 0; i < nthreads; i++)
		if (workers[i] && s->ev.worker_new && s->ev.worker_free)
			s->ev.worker_free(workers[i]);
	if (rc == 0) {
		for (int e = 0; e < MN_EDGES; e++) {
			int o = 0;
			while (!(super[e] & (1u << o)))
				o++;
			final->op[e] = (unsigned char)o;
		}
	}
	return rc;
}
