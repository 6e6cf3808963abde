/* The pruning search with a synthetic proxy evaluator: TE-NAS's choice at
 * weights 0 (checked against an independent transcription of its ranking
 * code), the cache, re-weighting, constraints, cancel, thread-count
 * independence. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/rng.h"
#include "search/search.h"
#include "tap.h"

struct fake {
	atomic_int calls;
	int quantum; /* values are multiples of 1/quantum: creates ties */
	uint64_t salt;
};

static double fake_value(const struct fake *f, const uint8_t super[MN_EDGES], int edge, int op, int which)
{
	uint64_t h = f->salt * 0x9e3779b97f4a7c15ULL + (uint64_t)which;
	for (int e = 0; e < MN_EDGES; e++)
		h = (h ^ super[e]) * 0x100000001b3ULL;
	h = (h ^ (uint64_t)(edge * 8 + op)) * 0xff51afd7ed558ccdULL;
	h ^= h >> 29;
	return (double)(h % (uint64_t)f->quantum) / f->quantum - 0.5;
}

static int fake_measure(void *worker, uint64_t seed, const uint8_t super[MN_EDGES], int edge, int op,
			const atomic_int *cancel, double *dk, double *dr, char *err, size_t n)
{
	struct fake *f = worker;
	(void)seed; (void)err; (void)n;
	if (atomic_load(cancel))
		return 1;
	atomic_fetch_add(&f->calls, 1);
	*dk = fake_value(f, super, edge, op, 0);
	*dr = fake_value(f, super, edge, op, 1);
	return 0;
}

/* Latency: per op 0 / 0.1 / 1 / 4 / 0.3 ms per edge, plus 1 ms. */
static double fake_latency(void *ctx, const uint8_t m[MN_EDGES])
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

/* TE-NAS prune_func_rank's ranking, transcribed independently: sort by
 * round_to(delta, 3) (dk descending, dr ascending; Python's sort is
 * stable), rank = previous rank if the raw value equals the previous raw
 * value, else +1; sort by the rank sum (stable over the NTK order); each
 * edge takes its first entry. */
static double py_round_to(double x)
{
	if (x == 0) return 0;
	double sign = x / fabs(x), a = fabs(x) + 1e-8;
	double power = floor(log(a) / log(10)) + 1;
	return sign * nearbyint(a * pow(10, -power) * 1000) / 1000 * pow(10, power);
}

static void tenas_choice(const struct mn_round *r, int choice[MN_EDGES])
{
	int n = r->n, ntk[MN_MAX_CANDIDATES] = {0}, reg[MN_MAX_CANDIDATES] = {0}, sum_order[MN_MAX_CANDIDATES] = {0};
	int rank_k[MN_MAX_CANDIDATES], rank_r[MN_MAX_CANDIDATES];
	for (int i = 0; i < n; i++) ntk[i] = reg[i] = i;
	for (int i = 1; i < n; i++) /* insertion sorts are stable */
		for (int j = i; j > 0 && py_round_to(r->cand[ntk[j - 1]].dk) < py_round_to(r->cand[ntk[j]].dk); j--) {
			int t = ntk[j]; ntk[j] = ntk[j - 1]; ntk[j - 1] = t;
		}
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && py_round_to(r->cand[reg[j - 1]].dr) > py_round_to(r->cand[reg[j]].dr); j--) {
			int t = reg[j]; reg[j] = reg[j - 1]; reg[j - 1] = t;
		}
	for (int k = 0; k < n; k++) {
		rank_k[ntk[k]] = k == 0 ? 0 : r->cand[ntk[k]].dk == r->cand[ntk[k - 1]].dk ? rank_k[ntk[k - 1]] : rank_k[ntk[k - 1]] + 1;
		rank_r[reg[k]] = k == 0 ? 0 : r->cand[reg[k]].dr == r->cand[reg[k - 1]].dr ? rank_r[reg[k - 1]] : rank_r[reg[k - 1]] + 1;
	}
	memcpy(sum_order, ntk, sizeof ntk);
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && rank_k[sum_order[j - 1]] + rank_r[sum_order[j - 1]] >
					    rank_k[sum_order[j]] + rank_r[sum_order[j]]; j--) {
			int t = sum_order[j]; sum_order[j] = sum_order[j - 1]; sum_order[j - 1] = t;
		}
	for (int e = 0; e < MN_EDGES; e++) choice[e] = -1;
	for (int k = 0; k < n; k++) {
		const struct mn_candidate *c = &r->cand[sum_order[k]];
		if (choice[c->edge] < 0) choice[c->edge] = c->op;
	}
}

static struct mn_search *make(struct fake *f, double wf, double wl, struct mn_constraints lim, int threads)
{
	struct mn_search_config cfg;
	memset(&cfg, 0, sizeof cfg);
	cfg.shape = (struct mn_net_shape)MN_SHAPE_DEFAULT;
	cfg.seed = 1;
	cfg.w_flops = wf;
	cfg.w_latency = wl;
	cfg.limits = lim;
	cfg.threads = threads;
	struct mn_proxy_evaluator ev = {NULL, NULL, fake_measure, f, NULL};
	struct mn_latency_model lat = {fake_latency, NULL};
	char err[200];
	return mn_search_new(&cfg, &ev, &lat, err, sizeof err);
}

int main(void)
{
	struct mn_round rounds[MN_MAX_ROUNDS];
	struct mn_arch final, final2;
	int nr;
	char err[256];
	struct mn_constraints none = {0, 0, 0};

	/* 1. TE-NAS's choice exactly, over many synthetic proxy sets with ties. */
	int mismatches = 0, trials = 0, ties_seen = 0;
	for (uint64_t salt = 1; salt <= 60; salt++) {
		struct fake f = {0, salt % 3 == 0 ? 7 : 1000, salt};
		struct mn_search *s = make(&f, 0, 0, none, 1);
		if (mn_search_run(s, NULL, NULL, NULL, rounds, &nr, &final, err, sizeof err) != 0) {
			mismatches++;
			mn_search_free(s);
			continue;
		}
		for (int r = 0; r < nr; r++) {
			int choice[MN_EDGES];
			tenas_choice(&rounds[r], choice);
			trials++;
			for (int e = 0; e < MN_EDGES; e++)
				if (choice[e] != rounds[r].pruned_op[e])
					mismatches++;
			for (int i = 1; i < rounds[r].n; i++)
				ties_seen += rounds[r].cand[i].dk == rounds[r].cand[i - 1].dk;
		}
		mn_search_free(s);
	}
	tap_ok(mismatches == 0 && trials == 180, "weights 0: TE-NAS's choice in all %d rounds (%d mismatches, %d ties)",
	       trials, mismatches, ties_seen);

	/* 2. Rounds and final arch. */
	struct fake f = {0, 1000, 77};
	struct mn_search *s = make(&f, 0, 0, none, 2);
	int rc = mn_search_run(s, NULL, NULL, NULL, rounds, &nr, &final, err, sizeof err);
	tap_ok(rc == 0 && nr == 3, "3 rounds from 4 ops per edge (rc %d, %d rounds)", rc, nr);
	tap_ok(rounds[0].n == 24 && rounds[1].n == 18 && rounds[2].n == 12, "24, 18, 12 candidates");
	int calls1 = atomic_load(&f.calls);
	tap_ok(calls1 == 54 && mn_search_cached(s) == 54, "54 evaluations, all cached (%d)", calls1);
	int no_none = 1;
	for (int e = 0; e < MN_EDGES; e++)
		no_none &= final.op[e] != MN_OP_NONE;
	tap_ok(no_none, "none is never chosen");

	/* 3. Same weights again: everything from the cache. */
	rc = mn_search_run(s, NULL, NULL, NULL, rounds, &nr, &final2, err, sizeof err);
	tap_ok(rc == 0 && atomic_load(&f.calls) == calls1 && memcmp(&final, &final2, sizeof final) == 0,
	       "a rerun evaluates nothing and picks the same arch");

	/* 4. Re-weighting: round 1 re-ranks from the cache; later rounds only
	 * evaluate states not seen before; latency goes down. */
	double fl, lat0, lat1, sr, fk;
	mn_search_arch_costs(s, &final, &fl, &lat0, &sr, &fk);
	mn_search_set_weights(s, 0, 5);
	rc = mn_search_run(s, NULL, NULL, NULL, rounds, &nr, &final2, err, sizeof err);
	mn_search_arch_costs(s, &final2, &fl, &lat1, &sr, &fk);
	int calls2 = atomic_load(&f.calls) - calls1;
	tap_ok(rc == 0 && calls2 <= 30, "re-weighting re-evaluates only new states (%d new of at most 30)", calls2);
	tap_ok(lat1 <= lat0, "w_latency 5 gives latency %.2f <= %.2f ms", lat1, lat0);
	mn_search_set_weights(s, 0, 0);
	int before = atomic_load(&f.calls);
	rc = mn_search_run(s, NULL, NULL, NULL, rounds, &nr, &final2, err, sizeof err);
	tap_ok(rc == 0 && atomic_load(&f.calls) == before && memcmp(&final, &final2, sizeof final) == 0,
	       "back to weights 0: the original pick, all from the cache");
	mn_search_free(s);

	/* 5. Thread count does not change the result. */
	struct fake f1 = {0, 7, 5}, f2 = {0, 7, 5};
	struct mn_search *s1 = make(&f1, 1, 1, none, 1), *s2 = make(&f2, 1, 1, none, 2);
	struct mn_round r2[MN_MAX_ROUNDS];
	int nr2;
	mn_search_run(s1, NULL, NULL, NULL, rounds, &nr, &final, err, sizeof err);
	mn_search_run(s2, NULL, NULL, NULL, r2, &nr2, &final2, err, sizeof err);
	int same = nr == nr2 && memcmp(&final, &final2, sizeof final) == 0;
	for (int r = 0; same && r < nr; r++)
		for (int i = 0; i < rounds[r].n; i++)
			same &= rounds[r].cand[i].score == r2[r].cand[i].score;
	tap_ok(same, "1 and 2 worker threads give identical rounds and pick");
	mn_search_free(s1);
	mn_search_free(s2);

	/* 6. Latency constraint: the all-cheap arch has latency 1 + 6*0.1 =
	 * 1.6 ms; a 4 ms limit allows at most 2 conv1x1 (1 ms) edges with the
	 * rest skip... the pick must fit, and every round keeps a feasible
	 * arch. */
	for (uint64_t salt = 1; salt <= 20; salt++) {
		struct fake fc = {0, 1000, salt};
		struct mn_constraints lim = {4.0, 0, 0};
		struct mn_search *sc = make(&fc, 0, 0, lim, 1);
		rc = mn_search_run(sc, NULL, NULL, NULL, rounds, &nr, &final, err, sizeof err);
		mn_search_arch_costs(sc, &final, &fl, &lat1, &sr, &fk);
		if (rc != 0 || lat1 > 4.0 + 1e-9) {
			tap_ok(0, "salt %llu: pick %.2f ms fits 4 ms", (unsigned long long)salt, lat1);
			break;
		}
		mn_search_free(sc);
		if (salt == 20)
			tap_ok(1, "20 searches under a 4 ms limit all pick a fitting arch");
	}
	struct mn_constraints tight = {4.0, 0, 0};
	struct fake ft = {0, 1000, 3};
	struct mn_search *st = make(&ft, 0, 0, tight, 1);
	mn_search_run(st, NULL, NULL, NULL, rounds, &nr, &final, err, sizeof err);
	int refused = 0;
	for (int r = 0; r < nr; r++)
		for (int i = 0; i < rounds[r].n; i++)
			refused += !rounds[r].cand[i].keeps_feasible;
	tap_ok(refused > 0, "a tight limit makes the search pass over %d prunable candidates", refused);
	mn_search_free(st);

	/* 7. Nothing fits: the smallest achievable values are known before
	 * searching. */
	struct mn_constraints impossible = {1.0, 10, 0};
	struct fake fi = {0, 1000, 1};
	struct mn_search *si = make(&fi, 0, 0, impossible, 1);
	struct mn_space_limits sl;
	mn_search_space_limits(si, &sl);
	tap_ok(sl.feasible_count == 0 && fabs(sl.min_latency_ms - 1.6) < 1e-6 && sl.min_sram_kb > 10,
	       "an impossible limit: 0 feasible, smallest latency %.2f ms, SRAM %.1f KB", sl.min_latency_ms,
	       sl.min_sram_kb);
	/* Hypothetical limits: latency <= 2.0 ms leaves the archs whose six
	 * edges add at most 1.0 ms to the 1 ms base: skip (0.1) and pool (0.3)
	 * only, with at most two pools: 1 + 6 + 15 = 22 archs. */
	struct mn_constraints two_ms = {2.0, 0, 0};
	mn_search_space_limits_for(si, &two_ms, &sl);
	tap_ok(sl.feasible_count == 22, "limits not in use can be checked: 22 archs within 2 ms (%d)",
	       sl.feasible_count);
	mn_search_free(si);

	/* 8. Cancel before anything runs. */
	atomic_int cancel;
	atomic_init(&cancel, 1);
	struct fake fx = {0, 1000, 9};
	struct mn_search *sx = make(&fx, 0, 0, none, 2);
	rc = mn_search_run(sx, &cancel, NULL, NULL, rounds, &nr, &final, err, sizeof err);
	tap_ok(rc == 1 && atomic_load(&fx.calls) == 0, "a cancelled search returns 1 without evaluating");
	mn_search_free(sx);
	return tap_done();
}
