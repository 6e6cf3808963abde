/* The background engine: snapshots while running, live re-weighting,
 * cancel and resume, the same result as a synchronous search. */
#include <math.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "search/engine.h"
#include "tap.h"

struct slow {
	atomic_int calls;
	atomic_int aborted; /* evaluations cut short by a cancel */
	/* Every (state, candidate) measured, to find one measured twice. */
	pthread_mutex_t lock;
	uint8_t seen[512][MN_EDGES + 2];
	int n_seen, repeats;
};

static void slow_init(struct slow *f)
{
	memset(f, 0, sizeof *f);
	atomic_init(&f->calls, 0);
	atomic_init(&f->aborted, 0);
	pthread_mutex_init(&f->lock, NULL);
}

static void sleep_ms(int ms)
{
	struct timespec ts = {0, ms * 1000000L};
	nanosleep(&ts, NULL);
}

static int slow_measure(void *worker, uint64_t seed, const uint8_t super[MN_EDGES], int edge, int op,
			const atomic_int *cancel, double *dk, double *dr, char *err, size_t n)
{
	struct slow *f = worker;
	(void)seed; (void)err; (void)n;
	sleep_ms(4);
	if (atomic_load(cancel)) {
		atomic_fetch_add(&f->aborted, 1);
		return 1;
	}
	atomic_fetch_add(&f->calls, 1);
	uint8_t key[MN_EDGES + 2];
	memcpy(key, super, MN_EDGES);
	key[MN_EDGES] = (uint8_t)edge;
	key[MN_EDGES + 1] = (uint8_t)op;
	pthread_mutex_lock(&f->lock);
	for (int i = 0; i < f->n_seen; i++)
		if (memcmp(f->seen[i], key, sizeof key) == 0)
			f->repeats++;
	if (f->n_seen < 512)
		memcpy(f->seen[f->n_seen++], key, sizeof key);
	pthread_mutex_unlock(&f->lock);
	unsigned h = 2166136261u;
	for (int e = 0; e < MN_EDGES; e++)
		h = (h ^ super[e]) * 16777619u;
	h = (h ^ (unsigned)(edge * 8 + op)) * 16777619u;
	*dk = (h % 1000) / 1000.0;
	*dr = ((h >> 10) % 1000) / 1000.0;
	return 0;
}

static double lat_model(void *ctx, const uint8_t m[MN_EDGES])
{
	static const double per_op[MN_OP_COUNT] = {0, 0.1, 1, 4, 0.3};
	double t = 1;
	(void)ctx;
	for (int e = 0; e < MN_EDGES; e++)
		for (int o = 0; o < MN_OP_COUNT; o++)
			if (m[e] & (1u << o))
				t += per_op[o];
	return t;
}

/* An engine over cfg whose proxy is slow_measure on f (reset here; the
 * engine keeps a copy of the evaluator, f itself must outlive it). */
static struct mn_engine *slow_engine(struct slow *f, const struct mn_search_config *cfg,
				     const struct mn_latency_model *lat)
{
	char err[256];
	slow_init(f);
	struct mn_proxy_evaluator ev = {NULL, NULL, slow_measure, f, NULL};
	struct mn_engine *e = mn_engine_new(cfg, &ev, lat, err, sizeof err);
	if (!e) {
		printf("Bail out! %s\n", err);
		exit(1);
	}
	return e;
}

static struct mn_search_config config(double wl)
{
	struct mn_search_config cfg;
	memset(&cfg, 0, sizeof cfg);
	cfg.shape = (struct mn_net_shape)MN_SHAPE_DEFAULT;
	cfg.seed = 3;
	cfg.w_latency = wl;
	cfg.threads = 2;
	return cfg;
}

int main(void)
{
	struct slow f;
	slow_init(&f);
	struct mn_proxy_evaluator ev = {NULL, NULL, slow_measure, &f, NULL};
	struct mn_latency_model lat = {lat_model, NULL};
	char err[256];
	struct mn_search_config cfg = config(0);
	struct mn_engine *e = mn_engine_new(&cfg, &ev, &lat, err, sizeof err);
	struct mn_engine_snapshot s;

	tap_ok(e != NULL, "engine created");
	mn_engine_snapshot(e, &s);
	tap_ok(s.state == MN_ENGINE_IDLE && !s.has_result, "idle before start");
	mn_engine_start(e);
	int saw_running = 0, saw_partial = 0, max_version = 0, monotonic = 1;
	for (int i = 0; i < 2000; i++) {
		mn_engine_snapshot(e, &s);
		if ((int)s.version < max_version)
			monotonic = 0;
		max_version = (int)s.version;
		if (s.state == MN_ENGINE_RUNNING)
			saw_running = 1;
		if (s.state == MN_ENGINE_RUNNING && s.done > 0 && s.done < s.total && s.n_rounds > 0) {
			const struct mn_round *r = &s.rounds[s.round];
			int ranked = 0;
			for (int k = 0; k < r->n; k++)
				ranked += r->cand[k].evaluated && r->cand[k].rank_ntk > 0;
			if (ranked > 0)
				saw_partial = 1;
		}
		if (s.state != MN_ENGINE_RUNNING)
			break;
		sleep_ms(2);
	}
	mn_engine_wait(e);
	mn_engine_snapshot(e, &s);
	tap_ok(saw_running && monotonic, "snapshots show a running search, versions only grow");
	tap_ok(saw_partial, "a partial round carries provisional ranks");
	tap_ok(s.state == MN_ENGINE_DONE && s.has_result && s.n_rounds == 3 && s.decided == 3,
	       "done with a result after 3 rounds");
	tap_ok(s.evaluations == 54 && atomic_load(&f.calls) == 54, "54 evaluations counted (%d, %d measured)", s.evaluations, atomic_load(&f.calls));

	/* The same result as a synchronous search. */
	struct slow f2;
	slow_init(&f2);
	struct mn_proxy_evaluator ev2 = {NULL, NULL, slow_measure, &f2, NULL};
	struct mn_search *sync = mn_search_new(&cfg, &ev2, &lat, err, sizeof err);
	struct mn_round rounds[MN_MAX_ROUNDS];
	struct mn_arch final;
	int nr;
	mn_search_run(sync, NULL, NULL, NULL, rounds, &nr, &final, err, sizeof err);
	tap_ok(memcmp(&final, &s.result, sizeof final) == 0, "engine and synchronous search agree");

	/* Re-weighting after the end: re-run, from the cache where it can. */
	mn_engine_set_weights(e, 0, 5, 1);
	mn_engine_wait(e);
	mn_engine_snapshot(e, &s);
	struct mn_search_config cfg5 = config(5);
	struct mn_search *sync5 = mn_search_new(&cfg5, &ev2, &lat, err, sizeof err);
	mn_search_run(sync5, NULL, NULL, NULL, rounds, &nr, &final, err, sizeof err);
	tap_ok(s.state == MN_ENGINE_DONE && memcmp(&final, &s.result, sizeof final) == 0 && s.w_latency == 5,
	       "re-weighted pick equals a fresh search at w_latency 5");

	/* Change the weight mid-run: the result is the new weight's pick. */
	struct slow f3;
	struct mn_engine *e3 = slow_engine(&f3, &cfg, &lat);
	mn_engine_start(e3);
	for (int i = 0; i < 500; i++) {
		mn_engine_snapshot(e3, &s);
		if (s.round >= 1 || s.state != MN_ENGINE_RUNNING)
			break;
		sleep_ms(2);
	}
	mn_engine_set_weights(e3, 0, 5, 0);
	mn_engine_wait(e3);
	mn_engine_snapshot(e3, &s);
	tap_ok(s.state == MN_ENGINE_DONE && memcmp(&final, &s.result, sizeof final) == 0,
	       "a weight changed mid-run takes effect (same pick as w_latency 5)");

	/* Cancel, then resume without repeating evaluations. */
	struct slow f4;
	struct mn_engine *e4 = slow_engine(&f4, &cfg, &lat);
	mn_engine_start(e4);
	for (int i = 0; i < 500; i++) {
		mn_engine_snapshot(e4, &s);
		if (s.done >= 6)
			break;
		sleep_ms(2);
	}
	mn_engine_cancel(e4);
	mn_engine_wait(e4);
	mn_engine_snapshot(e4, &s);
	int at_cancel = atomic_load(&f4.calls);
	double first_run = s.elapsed_s;
	tap_ok(s.state == MN_ENGINE_CANCELLED && !s.has_result && at_cancel < 54,
	       "cancel stops early (%d evaluations)", at_cancel);
	struct timespec t1, t2;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	mn_engine_start(e4);
	mn_engine_wait(e4);
	clock_gettime(CLOCK_MONOTONIC, &t2);
	mn_engine_snapshot(e4, &s);
	double resumed = (t2.tv_sec - t1.tv_sec) + (t2.tv_nsec - t1.tv_nsec) * 1e-9;
	tap_ok(first_run > 0 && s.search_seconds >= first_run + 0.9 * resumed,
	       "the search's time counts the cancelled run too (%.3f s = %.3f + about %.3f)",
	       s.search_seconds, first_run, resumed);
	tap_ok(s.state == MN_ENGINE_DONE && atomic_load(&f4.calls) == 54,
	       "resume completes with 54 evaluations in all (%d)", atomic_load(&f4.calls));

	/* A weight change mid-round keeps the work: nothing in flight is
	 * cut short, nothing is measured twice, the progress count never goes
	 * back, and the pick is the new weight's. */
	/* A weight whose pick of round 1 differs from weights 0's, so that
	 * the change sends the search back (found with synchronous runs). */
	struct mn_round r0[MN_MAX_ROUNDS], rw[MN_MAX_ROUNDS];
	struct mn_arch pick_w;
	double wl = 0;
	mn_search_run(sync, NULL, NULL, NULL, r0, &nr, &final, err, sizeof err);
	for (double t = 1; t <= 64 && wl == 0; t *= 2) {
		struct mn_search_config cw = config(t);
		struct mn_search *sw = mn_search_new(&cw, &ev2, &lat, err, sizeof err);
		mn_search_run(sw, NULL, NULL, NULL, rw, &nr, &pick_w, err, sizeof err);
		if (memcmp(r0[0].pruned_op, rw[0].pruned_op, sizeof rw[0].pruned_op) != 0)
			wl = t;
		mn_search_free(sw);
	}
	tap_ok(wl > 0, "a latency weight that changes round 1's pruning: %g", wl);
	static struct slow f5;
	struct mn_engine *e5 = slow_engine(&f5, &cfg, &lat);
	mn_engine_start(e5);
	int last_work = 0, last_evals = 0, work_monotone = 1, changed = 0, prov_ok = 1, saw_prov = 0;
	for (int i = 0; i < 5000; i++) {
		mn_engine_snapshot(e5, &s);
		if (s.work_done < last_work || s.evaluations < last_evals)
			work_monotone = 0;
		last_work = s.work_done;
		last_evals = s.evaluations;
		if (s.state == MN_ENGINE_RUNNING && s.has_provisional && s.n_rounds > 0) {
			/* The provisional arch lies inside the current supernet. */
			saw_prov = 1;
			for (int ed = 0; ed < MN_EDGES; ed++)
				if (!((s.rounds[s.round].super[ed] >> s.provisional.op[ed]) & 1))
					prov_ok = 0;
		}
		if (!changed && s.round == 1 && s.done >= 4) {
			mn_engine_set_weights(e5, 0, wl, 0);
			changed = 1;
		}
		if (s.state != MN_ENGINE_RUNNING)
			break;
		sleep_ms(1);
	}
	mn_engine_wait(e5);
	mn_engine_snapshot(e5, &s);
	tap_ok(changed && s.state == MN_ENGINE_DONE && memcmp(&pick_w, &s.result, sizeof pick_w) == 0,
	       "weights changed in round 2: the pick is the new weight's");
	tap_ok(atomic_load(&f5.calls) > 54, "the search went back to round 1's new state (%d values measured)",
	       atomic_load(&f5.calls));
	tap_ok(atomic_load(&f5.aborted) == 0 && f5.repeats == 0,
	       "no evaluation cut short (%d) or measured twice (%d)", atomic_load(&f5.aborted), f5.repeats);
	tap_ok(work_monotone && s.work_done >= s.evaluations,
	       "the progress count never went back (work %d, evaluations %d)", s.work_done, s.evaluations);
	tap_ok(saw_prov && prov_ok, "a provisional arch inside the current supernet while running");
	tap_ok(!s.has_provisional && s.has_result, "the final pick replaces the provisional one");

	/* The outside-ranking hook: its best reachable arch is the provisional pick. */
	struct mn_arch want;
	for (int ed = 0; ed < MN_EDGES; ed++)
		want.op[ed] = MN_OP_POOL3;
	struct mn_arch list[2];
	for (int ed = 0; ed < MN_EDGES; ed++)
		list[0].op[ed] = MN_OP_NONE; /* outside the searched space: skipped */
	list[1] = want;
	static struct slow f6;
	struct mn_engine *e6 = slow_engine(&f6, &cfg, &lat);
	tap_ok(mn_engine_set_ranked_archs(e6, list, 2) == 0, "an outside ranking is accepted");
	mn_engine_start(e6);
	int prov_is_want = 0;
	for (int i = 0; i < 2000; i++) {
		mn_engine_snapshot(e6, &s);
		if (s.state == MN_ENGINE_RUNNING && s.has_provisional && s.round == 0) {
			prov_is_want = memcmp(&s.provisional, &want, sizeof want) == 0;
			break;
		}
		if (s.state != MN_ENGINE_RUNNING)
			break;
		sleep_ms(1);
	}
	mn_engine_cancel(e6);
	mn_engine_wait(e6);
	tap_ok(prov_is_want, "the provisional pick is the ranking's best reachable arch");
	mn_engine_free(e5);
	mn_engine_free(e6);

	/* Look-ahead: after the pick, the searches one step away are measured
	 * hidden; the snapshot keeps the pick; the step then needs no new
	 * measurement and gives the synchronous search's pick. */
	static struct slow f7;
	struct mn_engine *e7 = slow_engine(&f7, &cfg, &lat);
	mn_engine_set_lookahead(e7, wl, 1);
	mn_engine_start(e7);
	int saw_look = 0, look_kept = 1, calls_at_pick = -1;
	for (int i = 0; i < 20000; i++) {
		mn_engine_snapshot(e7, &s);
		if (s.state == MN_ENGINE_DONE && calls_at_pick < 0)
			calls_at_pick = s.evaluations;
		if (s.lookahead) {
			saw_look = 1;
			if (s.state != MN_ENGINE_DONE || !s.has_result ||
			    memcmp(&s.result, &final, sizeof final) != 0 || s.evaluations != 54)
				look_kept = 0;
		}
		if (s.state == MN_ENGINE_DONE && !s.lookahead && saw_look)
			break;
		sleep_ms(1);
	}
	mn_engine_wait(e7);
	mn_engine_snapshot(e7, &s);
	int ahead = atomic_load(&f7.calls);
	tap_ok(saw_look && look_kept && !s.lookahead && s.evaluations == 54,
	       "look-ahead: shown as such, the pick and its 54 evaluations kept (%d)", s.evaluations);
	tap_ok(ahead > 54 && f7.repeats == 0,
	       "look-ahead measured the neighbours' states (%d values, none twice: %d)", ahead,
	       f7.repeats);
	mn_engine_set_weights(e7, 0, wl, 1);
	mn_engine_wait(e7);
	mn_engine_snapshot(e7, &s);
	tap_ok(s.state == MN_ENGINE_DONE && memcmp(&pick_w, &s.result, sizeof pick_w) == 0,
	       "the step's pick is the synchronous search's at w_latency %g", wl);
	tap_ok(s.evaluations == 54 && !s.lookahead, "...with no value measured after the look-ahead "
	       "(engine evaluations %d)", s.evaluations);
	mn_engine_wait(e7); /* the next look-ahead (from w_latency wl) */
	tap_ok(atomic_load(&f7.calls) >= ahead && f7.repeats == 0,
	       "nothing measured twice after the step either (%d repeats)", f7.repeats);

	/* A weight change or a start during the look-ahead stops it at once
	 * and runs the user's search. */
	static struct slow f8;
	struct mn_engine *e8 = slow_engine(&f8, &cfg, &lat);
	mn_engine_set_lookahead(e8, wl, 1);
	mn_engine_start(e8);
	int in_look = 0;
	for (int i = 0; i < 20000 && !in_look; i++) {
		mn_engine_snapshot(e8, &s);
		in_look = s.lookahead && atomic_load(&f8.calls) > 56;
		sleep_ms(1);
	}
	uint64_t ended = s.runs_ended;
	mn_engine_set_weights(e8, 0, wl, 1);
	mn_engine_set_lookahead(e8, 0, 0);
	mn_engine_wait(e8);
	mn_engine_snapshot(e8, &s);
	tap_ok(in_look && s.state == MN_ENGINE_DONE && s.runs_ended == ended + 1 &&
		       memcmp(&pick_w, &s.result, sizeof pick_w) == 0 && s.w_latency == wl,
	       "a weight change during the look-ahead runs the user's search: its pick");
	tap_ok(f8.repeats == 0, "nothing measured twice across the stop (%d)", f8.repeats);
	mn_engine_free(e7);
	mn_engine_free(e8);

	/* Two rings of steps wl/2: every weight point within two steps (5
	 * here: none below 0) is measured ahead, so two steps on the latency
	 * axis (wl, whose round 1 differs from weights 0's) and one on each
	 * axis both pick from the cache, the synchronous search's picks. */
	static struct slow f9;
	struct mn_engine *e9 = slow_engine(&f9, &cfg, &lat);
	const double st9 = wl / 2;
	mn_engine_set_lookahead(e9, st9, 2);
	mn_engine_start(e9);
	mn_engine_wait(e9);
	mn_engine_snapshot(e9, &s);
	int ahead9 = atomic_load(&f9.calls);
	tap_ok(!s.lookahead && s.lookahead_done == 12 && s.lookahead_total == 12 && ahead9 > 54 &&
		       f9.repeats == 0,
	       "two rings: 12 weight points gone through (%d of %d), %d values, none twice",
	       s.lookahead_done, s.lookahead_total, ahead9);
	const double far[2][2] = {{0, 2}, {1, 1}}; /* in steps: (flops, latency) */
	for (int k = 0; k < 2; k++) {
		struct mn_search_config cf = config(far[k][1] * st9);
		cf.w_flops = far[k][0] * st9;
		struct mn_search *sf = mn_search_new(&cf, &ev2, &lat, err, sizeof err);
		struct mn_arch pick_far;
		mn_search_run(sf, NULL, NULL, NULL, rw, &nr, &pick_far, err, sizeof err);
		mn_search_free(sf);
		int calls = atomic_load(&f9.calls);
		mn_engine_set_lookahead(e9, 0, 0); /* the points' own look-ahead would measure more */
		mn_engine_set_weights(e9, far[k][0] * st9, far[k][1] * st9, 1);
		mn_engine_wait(e9);
		mn_engine_snapshot(e9, &s);
		tap_ok(s.state == MN_ENGINE_DONE && memcmp(&pick_far, &s.result, sizeof pick_far) == 0 &&
			       atomic_load(&f9.calls) == calls,
		       "w_flops %g, w_latency %g after two rings: the synchronous pick, %d new values",
		       far[k][0] * st9, far[k][1] * st9, atomic_load(&f9.calls) - calls);
	}
	mn_engine_free(e9);

	struct mn_space_limits sl;
	struct mn_constraints lim = {1.0, 0, 0};
	mn_engine_set_limits(e4, &lim, 0);
	mn_engine_space_limits(e4, &sl);
	tap_ok(sl.feasible_count == 0 && fabs(sl.min_latency_ms - 1.6) < 1e-6,
	       "limits reach the space check (min %.2f ms)", sl.min_latency_ms);

	mn_engine_free(e);
	mn_engine_free(e3);
	mn_engine_free(e4);
	mn_search_free(sync);
	mn_search_free(sync5);
	return tap_done();
}
