/* Ranking quality of every proxy of proxy_set.h and of the accuracy
 * estimate (estimate.h): Kendall tau against the NAS-Bench-201 CIFAR-10
 * accuracy on a seeded random sample of archs, with the CIFAR-10 subset in
 * ../shared; TE-NAS's rank sum beside them for reference.  The table
 * measures; nothing here feeds back into a default.
 *
 * The pick the atlas would make from the sample (the best estimate, under
 * no limit and under latency budgets of 25/50/75/100% of that pick's
 * latency, built-in Cortex-M7 model at C=16, N=5) beside the oracle's best
 * arch of the sample under the same budget: the regret in accuracy points.
 *
 * Also the cost: CPU seconds per arch of TE-NAS's pair alone and of the
 * other proxies (one thread, on the first --cost-archs archs; CPU time, as
 * the machine may be shared).
 *
 * --seeds 0: the cost alone.
 * Repeats: --seeds K scores the sample K times with seeds S..S+K-1 (each
 * run --repeat repeats, default 1); a repeat is fresh weights and batches,
 * so the mean of the first R runs of one repeat is distributed as one run of
 * R repeats, and one set of K = 6 runs gives tau at 1, 3 and 6 repeats.
 * Stability is tau between disjoint runs: run 1 vs run 2, and the mean of
 * runs 1-3 vs the mean of runs 4-6.
 *   bench_quality [--archs 1000] [--seed 0] [--seeds 6] [--repeat 1]
 *                 [--mode exact|fixed-stats] [--batch 72] [--threads N]
 *                 [--az-channels 16] [--az-cells 5] [--az-batch 64]
 *                 [--cost-archs 10] [--supernet-seeds 3] [--estimate-only 0|1]
 *
 * --estimate-only 1 scores the estimate's proxies alone (AZ-NAS's four, no
 * TE-NAS pair, NWOT, SWAP or ZiCo): a third of the time per arch, for
 * measuring the estimate's tau and regret against the repeat count.
 * Measured so (--archs 1000 --seeds 6 --estimate-only 1 --supernet-seeds 0
 * --cost-archs 0, C=16 N=5, 2 threads, 312-326 s a run at load 2):
 * the estimate's tau 0.737 / 0.751 / 0.753 at 1 / 3 / 6 repeats (single
 * runs 0.737-0.742); the pick's regret at weights 0 1.03 / 1.17 / 1.66 and
 * at budgets of 25, 50, 75% 1.26 / 1.26 / 1.26, 0.87 / 0.87 / 0.87,
 * 1.43 / 1.81 / 1.39; run-to-run tau of the estimate 0.874 (1 vs 1) and
 * 0.916 (3 vs 3).  Repeats lift tau until 3 and no further, and do not
 * move the regret: the pick's shortfall is the proxies' bias at the top of
 * the ranking, not their noise.  So 3 repeats (TE-NAS's) stay the default.
 * The whole space (--archs 15625 --seeds 1 --estimate-only 1
 * --supernet-seeds 0 --cost-archs 0, 1 repeat; 4750 s on 2 threads of an
 * AMD Zen 4): the estimate's tau 0.735 over all 15,625 archs (AZ-NAS's
 * paper: 0.741), its components' 0.577 (expressivity), 0.516
 * (progressivity), 0.375 (trainability), 0.535 (complexity); the pick's
 * regret 1.16 at weights 0 (90.44 against the space's best 91.61) and
 * 0.77, 1.63, 1.90 at budgets of 25, 50, 75%: the sample's figures above
 * hold for the whole space, the bias at the top included.  Since AZ-NAS's
 * three measured proxies are taken once per function class (4,930 of
 * 15,625 archs; space/arch_class.h, shared by the threads as the atlas's
 * workers share them), the same run took 1490 s on the same machine
 * (3.2x less; mostly alone, where the 4750 s ran partly beside suite
 * runs), with tau 0.733 (components 0.580, 0.518, 0.375, 0.535), the same
 * pick at weights 0 (regret 1.16) and regrets 0.77, 1.63, 2.87 at 25, 50,
 * 75% (the 75% budget's pick moved from an arch of 89.52 to one of 88.55
 * among near-equal estimates).
 * The regret table's "among fits" column ranks the estimate among the
 * archs within the budget alone, as AZ-NAS ranks the candidates it
 * compares (then an arch that cannot be picked never changes the order of
 * those that can).  Over the whole space (the run above again, 1348 s):
 * the same picks at 50 and 75% (regret 1.63, 2.87), and at 25% one of
 * 86.71 instead of 87.88 (regret 1.95 against 0.77).  It does not lift
 * the pick, and the definition ranks against the atlas, so the
 * atlas pick keeps the whole atlas's estimate.
 * Nor does a shortlist get closer: the "top 5" and "top 10" columns, the
 * best accuracy among the estimate's 5 or 10 best archs within the budget
 * (what a user would train to choose from), on the 1,000-arch sample
 * (--archs 1000 --seeds 1 --estimate-only 1, 1 repeat, 248 s): 90.46 and
 * 90.47 at weights 0 against the pick's 90.32 and the sample's best 91.49;
 * 87.35 / 87.70 (pick 86.88, best 88.14), 89.79 / 89.79 (89.79, 90.66),
 * 89.95 / 89.95 (89.48, 91.29) at 25, 50, 75%.  The estimate's whole top
 * sits about a point below the best: the bias is the proxies', not the
 * luck of one pick.
 *
 * The estimate on the pruning search's supernets (--supernet-seeds K, 0 to
 * skip): TE-NAS's pruning (4 ops per edge, 3 rounds, each edge dropping
 * its most prunable op by the rank sum of dk and dr, search.h) beside the
 * same pruning ranked by the estimate (the candidates of a round ranked by
 * AZ-NAS's aggregation of the supernet after the removal: the highest
 * estimate is the most prunable); round 1's candidates are the same for
 * both, so the Kendall tau of the two prunability orders (and of each AZ
 * component's) is reported, and each method's final arch's CIFAR-10
 * accuracy per seed.  Measured (seeds 0-2, repeat 3, fixed-stats NTK batch
 * 72, two shared cores): round-1 tau TE-NAS vs estimate 0.40, 0.59, 0.21
 * (trainability's -0.20, -0.13, -0.02); the estimate's pruning ended on the
 * all-3x3-conv arch at every seed (90.20), TE-NAS's on 90.65, 90.00, 89.98:
 * on supernets the estimate reduces to keeping the costliest op, so the
 * pruning search does not offer it. */
#include <math.h>
#include <pthread.h>

#include "bench_common.h"
#include "space/latency_model.h"
#include "space/latency_table.h"
#include "data/oracle.h"
#include "nn/blas.h"
#include "nn/net.h"
#include "proxy/az_memo.h"
#include "proxy/estimate.h"
#include "proxy/proxy_set.h"
#include "proxy/tenas.h"
#include "search/search.h"
#include "util/rankstat.h"
#include "data/dataset_source.h"

struct job {
	const struct mn_tenas_config *cfg;
	const struct mn_dataset *data;
	const int *idx;
	int n;
	uint64_t seed;
	int estimate_only; /* the estimate's proxies alone (mn_proxy_score_estimate) */
	struct mn_proxy_values *val;
	int next, failed;
	pthread_mutex_t lock;
	/* As the atlas measures them: AZ-NAS's three once per function class
	 * (proxy_set.h), shared by the threads. */
	struct mn_az_memo *memo;
};

static void *worker(void *p)
{
	struct job *j = p;
	char err[256];
	struct mn_tenas *t = mn_tenas_new(j->cfg, j->data, err, sizeof err);
	if (!t) {
		fprintf(stderr, "bench_quality: %s\n", err);
		j->failed = 1;
		return NULL;
	}
	for (;;) {
		pthread_mutex_lock(&j->lock);
		int i = j->next < j->n && !j->failed ? j->next++ : -1;
		pthread_mutex_unlock(&j->lock);
		if (i < 0)
			break;
		struct mn_arch a;
		mn_arch_from_index(j->idx[i], &a);
		if (j->estimate_only ? mn_proxy_score_estimate(t, j->memo, j->seed, &a, &j->val[i], err,
							       sizeof err)
				     : mn_proxy_score_arch_shared(t, j->memo, j->seed, &a, NULL, &j->val[i], err,
								  sizeof err)) {
			fprintf(stderr, "bench_quality: %s\n", err);
			j->failed = 1;
		}
	}
	mn_tenas_free(t);
	return NULL;
}

static int score_sample(const struct mn_tenas_config *cfg, const struct mn_dataset *data,
			const int *idx, int n, uint64_t seed, int estimate_only, int threads,
			struct mn_proxy_values *val, double *secs)
{
	struct job j = {cfg, data, idx, n, seed, estimate_only, val, 0, 0, PTHREAD_MUTEX_INITIALIZER,
			mn_az_memo_new()};
	if (!j.memo) {
		fprintf(stderr, "bench_quality: out of memory\n");
		return -1;
	}
	pthread_t th[64];
	if (threads > 64)
		threads = 64;
	double t0 = mn_now_s();
	for (int i = 0; i < threads; i++)
		pthread_create(&th[i], NULL, worker, &j);
	for (int i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	*secs = mn_now_s() - t0;
	mn_az_memo_free(j.memo);
	return j.failed ? -1 : 0;
}

/* Seconds per arch, one thread: TE-NAS's pair alone, then every proxy. */
static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cost(const struct mn_tenas_config *cfg, const struct mn_dataset *data, const int *idx,
		int n, uint64_t seed)
{
	char err[256];
	struct mn_tenas *t = mn_tenas_new(cfg, data, err, sizeof err);
	if (!t) {
		fprintf(stderr, "bench_quality: %s\n", err);
		return -1;
	}
	struct mn_proxy_values v;
	struct mn_arch a;
	double k, r, t_pair = 0, t_all = 0;
	/* Warm-up on the largest arch: the networks' buffers grow to their
	 * final size (first-touch page faults are not the proxies' cost). */
	if (mn_arch_parse("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+"
			  "|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|", &a, NULL) ||
	    mn_proxy_score_arch(t, seed, &a, NULL, &v, err, sizeof err))
		goto fail;
	for (int i = 0; i < n; i++) {
		mn_arch_from_index(idx[i], &a);
		double t0 = cpu_now();
		if (mn_tenas_score_arch(t, seed, &a, NULL, &k, &r, err, sizeof err))
			goto fail;
		double t1 = cpu_now();
		if (mn_proxy_score_arch(t, seed, &a, NULL, &v, err, sizeof err))
			goto fail;
		double t2 = cpu_now();
		t_pair += t1 - t0;
		t_all += t2 - t1;
	}
	printf("cost (1 thread, CPU time, %d archs, repeat %d): TE-NAS pair %.3f s/arch; with %s "
	       "%.3f s/arch; those alone %.3f s/arch (%.2fx the pair)\n",
	       n, cfg->repeat, t_pair / n, cfg->all_proxies ? "every proxy" : "the estimate's proxies",
	       t_all / n, (t_all - t_pair) / n, (t_all - t_pair) / t_pair);
	mn_tenas_free(t);
	return 0;
fail:
	fprintf(stderr, "bench_quality: %s\n", err);
	mn_tenas_free(t);
	return -1;
}

/* v[i] oriented so that larger predicts better. */
static void column(const struct mn_proxy_values *val, int n, int p, double *v)
{
	int up = mn_proxy_info((enum mn_proxy_id)p)->higher_is_better;
	for (int i = 0; i < n; i++) {
		double x = val[i].v[p];
		v[i] = isnan(x) ? -INFINITY : up ? x : -x;
	}
}

static void report(const struct mn_proxy_values *val, const double *acc, int n)
{
	double *v = malloc((size_t)n * sizeof *v), *est = malloc((size_t)n * sizeof *est);
	double *rk = malloc((size_t)n * sizeof *rk), *rl = malloc((size_t)n * sizeof *rl);
	double tau;
	if (!v || !est || !rk || !rl)
		exit(1);
	printf("  Kendall tau vs CIFAR-10 accuracy (n=%d):\n", n);
	for (int p = 0; p < MN_PROXY_COUNT; p++) {
		const struct mn_proxy_info *info = mn_proxy_info((enum mn_proxy_id)p);
		if (isnan(val[0].v[p])) /* not measured (--estimate-only) */
			continue;
		column(val, n, p, v);
		mn_kendall_tau_b(v, acc, (size_t)n, &tau);
		printf("    %-18s %6.3f%s\n", info->column, tau, info->in_estimate ? "  (in the estimate)" : "");
	}
	/* TE-NAS's combination: rank by -NTK plus rank by regions. */
	if (isnan(val[0].v[MN_PROXY_NTK_COND]))
		goto estimate;
	column(val, n, MN_PROXY_NTK_COND, v);
	mn_rank_average(v, (size_t)n, rk);
	column(val, n, MN_PROXY_LINEAR_REGIONS, v);
	mn_rank_average(v, (size_t)n, rl);
	for (int i = 0; i < n; i++)
		v[i] = rk[i] + rl[i];
	mn_kendall_tau_b(v, acc, (size_t)n, &tau);
	printf("    %-18s %6.3f\n", "TE-NAS rank sum", tau);
estimate:
	if (mn_estimate(val, (size_t)n, est) == 0) {
		mn_kendall_tau_b(est, acc, (size_t)n, &tau);
		printf("    %-18s %6.3f\n", "estimate", tau);
	}
	free(v); free(est); free(rk); free(rl);
}

/* The atlas's pick at weights 0 from these archs (the best estimate) under
 * latency budgets, beside the oracle's best of the same archs. */
static void regret(const struct mn_proxy_values *val, const double *acc, const int *idx, int n)
{
	struct mn_latency_table t;
	double *est = malloc((size_t)n * sizeof *est), *ms = malloc((size_t)n * sizeof *ms);
	if (!est || !ms || mn_latency_model_nucleo(16, 5, 32, 32, 10, &t) || mn_estimate(val, (size_t)n, est))
		exit(1);
	for (int i = 0; i < n; i++) {
		struct mn_arch a;
		unsigned char mask[MN_EDGES];
		mn_arch_from_index(idx[i], &a);
		mn_arch_to_mask(&a, mask);
		ms[i] = mn_latency_mixed_us(&t, mask) / 1000.0;
	}
	static const double frac[] = {0, 0.25, 0.5, 0.75, 1.0};
	double lat0 = 0;
	/* The fitting archs alone, and the estimate ranked among them. */
	struct mn_proxy_values *fv = malloc((size_t)n * sizeof *fv);
	double *fest = malloc((size_t)n * sizeof *fest);
	int *fi = malloc((size_t)n * sizeof *fi);
	if (!fv || !fest || !fi)
		exit(1);
	printf("  pick by the estimate (built-in Cortex-M7 latency model, C=16 N=5); 'among fits':\n"
	       "  the estimate ranked among the archs within the budget alone; 'top 5', 'top 10': the\n"
	       "  best accuracy among the estimate's 5 or 10 best within the budget (a shortlist to train):\n");
	printf("    %-18s %8s %8s %9s %11s %8s %12s %8s %7s %8s\n", "budget", "ms", "pick ms", "pick acc",
	       "best acc", "regret", "among fits", "regret", "top 5", "top 10");
	for (int k = 0; k < 5; k++) {
		double budget = frac[k] * lat0;
		int pick = -1, best = -1, m = 0;
		for (int i = 0; i < n; i++) {
			if (k && ms[i] > budget)
				continue;
			fv[m] = val[i];
			fi[m++] = i;
			if (pick < 0 || est[i] > est[pick])
				pick = i;
			if (best < 0 || acc[i] > acc[best])
				best = i;
		}
		int fpick = -1;
		if (m && mn_estimate(fv, (size_t)m, fest) == 0)
			for (int j = 0; j < m; j++)
				if (fpick < 0 || fest[j] > fest[fpick])
					fpick = j;
		fpick = fpick < 0 ? -1 : fi[fpick];
		char label[32];
		snprintf(label, sizeof label, k ? "%.0f%% of w=0 pick" : "weights 0", frac[k] * 100);
		if (pick < 0) {
			printf("    %-18s %8.2f (no arch fits)\n", label, budget);
			continue;
		}
		if (!k)
			lat0 = ms[pick];
		/* The shortlists: the 10 best estimates within the budget, best first. */
		int top[10], nt = 0;
		for (int j = 0; j < m; j++) {
			int i = fi[j], at = nt < 10 ? nt++ : 10;
			while (at > 0 && est[i] > est[top[at - 1]]) {
				if (at < 10)
					top[at] = top[at - 1];
				at--;
			}
			if (at < 10)
				top[at] = i;
		}
		double best5 = -INFINITY, best10 = -INFINITY;
		for (int t = 0; t < nt; t++) {
			if (t < 5)
				best5 = fmax(best5, acc[top[t]]);
			best10 = fmax(best10, acc[top[t]]);
		}
		printf("    %-18s %8.2f %8.2f %9.2f %11.2f %8.2f %12.2f %8.2f %7.2f %8.2f\n", label, k ? budget : 0,
		       ms[pick], acc[pick], acc[best], acc[best] - acc[pick], acc[fpick], acc[best] - acc[fpick],
		       best5, best10);
	}
	free(fv);
	free(fest);
	free(fi);
	free(est);
	free(ms);
}


/* The pruning search's supernets: TE-NAS's objective vs the estimate. */
static int supernet(const struct mn_tenas_config *cfg, const struct mn_dataset *data,
		    const struct mn_oracle *o, int seeds, uint64_t seed0)
{
	char err[256];
	struct mn_tenas *t = mn_tenas_new(cfg, data, err, sizeof err);
	struct mn_search_config sc = {MN_SHAPE_DEFAULT, 0, 0, 0, {0, 0, 0}, 0, 1};
	struct mn_proxy_evaluator ev = {0};
	struct mn_search *srch = t ? mn_search_new(&sc, &ev, NULL, err, sizeof err) : NULL;
	if (!srch) {
		fprintf(stderr, "bench_quality: %s\n", err);
		mn_tenas_free(t);
		return -1;
	}
	printf("supernets (C=%d N=%d AZ network, repeat %d, NTK %s batch %d): TE-NAS pruning vs the "
	       "same pruning ranked by the estimate\n", cfg->az_channels, cfg->az_cells, cfg->repeat,
	       mn_grad_mode_name(cfg->grad), cfg->batch);
	double sum_acc[2] = {0, 0};
	for (int k = 0; k < seeds; k++) {
		uint64_t seed = seed0 + (uint64_t)k;
		double acc[2];
		for (int m = 0; m < 2; m++) { /* 0: TE-NAS, 1: the estimate */
			uint8_t super[MN_EDGES];
			for (int e = 0; e < MN_EDGES; e++)
				super[e] = MN_OPS_SEARCHED;
			for (int round = 0; round < 3; round++) {
				static struct mn_round r;
				struct mn_proxy_values val[MN_MAX_CANDIDATES];
				double est[MN_MAX_CANDIDATES];
				memset(&r, 0, sizeof r);
				memcpy(r.super, super, MN_EDGES);
				for (int e = 0; e < MN_EDGES; e++)
					for (int op = 0; op < MN_OP_COUNT; op++) {
						if (!((super[e] >> op) & 1) || __builtin_popcount(super[e]) < 2)
							continue;
						struct mn_candidate *c = &r.cand[r.n];
						uint8_t mask[MN_EDGES];
						memcpy(mask, super, MN_EDGES);
						mask[e] &= (uint8_t)~(1u << op);
						c->edge = e, c->op = op, c->evaluated = 1;
						int both = round == 0 && m == 0;
						if (((m == 0 || both) &&
						     mn_tenas_candidate(t, seed, super, e, op, NULL, &c->dk, &c->dr,
									err, sizeof err)) ||
						    ((m == 1 || both) &&
						     mn_proxy_score_mask_az(t, seed, mask, &val[r.n], err, sizeof err))) {
							fprintf(stderr, "bench_quality: %s\n", err);
							goto fail;
						}
						r.n++;
					}
				mn_search_rank_round(srch, &r);
				if (m == 1 || round == 0) {
					if (mn_estimate(val, (size_t)r.n, est))
						goto fail;
				}
				if (round == 0 && m == 0) {
					/* prunability, higher = prune first: -(TE-NAS rank sum), the
					 * estimate after removal, each AZ component */
					double x[MN_MAX_CANDIDATES], y[MN_MAX_CANDIDATES], tau;
					for (int i = 0; i < r.n; i++)
						x[i] = -r.cand[i].score;
					mn_kendall_tau_b(x, est, (size_t)r.n, &tau);
					printf("  seed %llu round 1 (%d candidates): Kendall tau of prunability, "
					       "TE-NAS rank sum vs estimate %.3f;", (unsigned long long)seed, r.n, tau);
					for (int p = MN_PROXY_AZ_EXPRESSIVITY; p <= MN_PROXY_AZ_COMPLEXITY; p++) {
						for (int i = 0; i < r.n; i++)
							y[i] = val[i].v[p];
						mn_kendall_tau_b(x, y, (size_t)r.n, &tau);
						printf(" %s %.3f", mn_proxy_info((enum mn_proxy_id)p)->column, tau);
					}
					printf("\n");
				}
				if (m == 1) {
					/* each edge drops the op whose removal leaves the best estimate */
					for (int e = 0; e < MN_EDGES; e++) {
						int best = -1;
						for (int i = 0; i < r.n; i++)
							if (r.cand[i].edge == e && (best < 0 || est[i] > est[best]))
								best = i;
						r.pruned_op[e] = best < 0 ? -1 : r.cand[best].op;
					}
				}
				for (int e = 0; e < MN_EDGES; e++)
					if (r.pruned_op[e] >= 0)
						super[e] &= (uint8_t)~(1u << r.pruned_op[e]);
			}
			struct mn_arch a;
			for (int e = 0; e < MN_EDGES; e++)
				a.op[e] = (uint8_t)__builtin_ctz(super[e]);
			acc[m] = mn_oracle_get(o, &a)->acc;
			char s_arch[128];
			mn_arch_format(&a, s_arch, sizeof s_arch);
			printf("  seed %llu %-8s pick %s  CIFAR-10 %.2f\n", (unsigned long long)seed,
			       m ? "estimate" : "TE-NAS", s_arch, acc[m]);
			sum_acc[m] += acc[m];
			fflush(stdout);
		}
	}
	if (seeds > 0)
		printf("  mean over %d seeds: TE-NAS %.2f, estimate %.2f\n", seeds, sum_acc[0] / seeds,
		       sum_acc[1] / seeds);
	mn_search_free(srch);
	mn_tenas_free(t);
	return 0;
fail:
	mn_search_free(srch);
	mn_tenas_free(t);
	return -1;
}

#define MAX_SEEDS 8

/* out = the mean of runs first..first+k-1, proxy by proxy. */
static void mean_of(struct mn_proxy_values *const *val, int first, int k, int n,
		    struct mn_proxy_values *out)
{
	for (int i = 0; i < n; i++)
		for (int p = 0; p < MN_PROXY_COUNT; p++) {
			double sum = 0;
			for (int r = first; r < first + k; r++)
				sum += val[r][i].v[p];
			out[i].v[p] = sum / k;
		}
}

/* Run-to-run agreement of two scorings of the same archs. */
static void stability(const struct mn_proxy_values *a, const struct mn_proxy_values *b, int n)
{
	double *x = malloc((size_t)n * sizeof *x), *y = malloc((size_t)n * sizeof *y), tau;
	if (!x || !y)
		exit(1);
	printf("  Kendall tau between the two:");
	for (int p = 0; p < MN_PROXY_COUNT; p++) {
		column(a, n, p, x);
		column(b, n, p, y);
		mn_kendall_tau_b(x, y, (size_t)n, &tau);
		printf(" %s %.3f", mn_proxy_info((enum mn_proxy_id)p)->column, tau);
	}
	mn_estimate(a, (size_t)n, x);
	mn_estimate(b, (size_t)n, y);
	mn_kendall_tau_b(x, y, (size_t)n, &tau);
	printf(" estimate %.3f\n", tau);
	free(x);
	free(y);
}

int main(int argc, char **argv)
{
	char b1[4096], b2[4096], err[512];
	static const char *const names[] = {"--archs", "--seed", "--seeds", "--repeat", "--mode", "--batch",
					    "--threads", "--az-channels", "--az-cells", "--az-batch",
					    "--cost-archs", "--supernet-seeds", "--estimate-only", NULL};
	static const char *const modes[] = {"exact", "fixed-stats", NULL};
	const char *pg = "bench_quality";
	bench_check_args(argc, argv, pg,
			 "bench_quality [--archs 1000] [--seed 0] [--seeds 6] [--repeat 1] [--mode exact|fixed-stats] "
			 "[--batch 72] [--threads N] [--az-channels 16] [--az-cells 5] [--az-batch 64] "
			 "[--cost-archs 10] [--supernet-seeds 3] [--estimate-only 0|1]",
			 names);
	/* Out of range was silently replaced by the default before. */
	int n = (int)bench_int(argc, argv, pg, "--archs", 1000, 3, MN_ARCH_COUNT);
	uint64_t seed = (uint64_t)bench_int(argc, argv, pg, "--seed", 0, 0, 2147483647);
	int seeds = (int)bench_int(argc, argv, pg, "--seeds", 6, 0, MAX_SEEDS);
	const char *mode = bench_word(argc, argv, pg, "--mode", "fixed-stats", modes, "exact or fixed-stats");
	int threads = (int)bench_int(argc, argv, pg, "--threads", 0, 0, 1024);
	int cost_n = (int)bench_int(argc, argv, pg, "--cost-archs", 10, 0, MN_ARCH_COUNT);
	int sup_seeds = (int)bench_int(argc, argv, pg, "--supernet-seeds", 3, 0, 1000);
	int estimate_only = (int)bench_int(argc, argv, pg, "--estimate-only", 0, 0, 1);
	struct mn_tenas_config cfg;
	mn_tenas_config_default(&cfg);
	cfg.repeat = (int)bench_int(argc, argv, pg, "--repeat", 1, 1, 1000);
	cfg.batch = (int)bench_int(argc, argv, pg, "--batch", 72, 1, 4096);
	cfg.az_channels = (int)bench_int(argc, argv, pg, "--az-channels", 16, 1, 1024);
	cfg.az_cells = (int)bench_int(argc, argv, pg, "--az-cells", 5, 1, 64);
	cfg.az_batch = (int)bench_int(argc, argv, pg, "--az-batch", 64, 1, 4096);
	cfg.grad = !strcmp(mode, "exact") ? MN_GRAD_EXACT : MN_GRAD_FIXED_STATS;
	if (threads < 1)
		threads = bench_cores();
	const char *csv = bench_shared("data/nb201/nb201_cifar10.csv", b1, sizeof b1);
	const char *bin = bench_shared("data/cifar10/data_batch_subset.bin", b2, sizeof b2);
	if (!csv || !bin) {
		printf("bench_quality: ../shared (NAS-Bench-201 table and CIFAR-10 subset) is not present: "
		       "the ranking-quality benchmark needs it and did not run\n");
		return 0;
	}
	struct mn_oracle o;
	struct mn_dataset data;
	if (mn_oracle_load(&o, csv, err, sizeof err) || mn_dataset_load(&data, bin, err, sizeof err)) {
		fprintf(stderr, "bench_quality: %s\n", err);
		return 1;
	}
	if (cost_n > n)
		cost_n = n;
	/* A seeded sample without replacement (partial Fisher-Yates). */
	int *all = malloc(sizeof(int) * MN_ARCH_COUNT);
	struct mn_proxy_values *val[MAX_SEEDS] = {0}, *mean[2];
	for (int k = 0; k < seeds; k++)
		if (!(val[k] = calloc((size_t)n, sizeof **val)))
			return 1;
	mean[0] = calloc((size_t)n, sizeof **mean);
	mean[1] = calloc((size_t)n, sizeof **mean);
	double *acc = malloc((size_t)n * sizeof *acc);
	if (!all || !mean[0] || !mean[1] || !acc)
		return 1;
	struct mn_rng r;
	mn_rng_seed(&r, seed + 12345);
	for (int i = 0; i < MN_ARCH_COUNT; i++)
		all[i] = i;
	for (int i = 0; i < n; i++) {
		int k = i + (int)mn_rng_below(&r, (uint32_t)(MN_ARCH_COUNT - i));
		int t = all[i]; all[i] = all[k]; all[k] = t;
	}
	for (int i = 0; i < n; i++) {
		struct mn_arch a;
		mn_arch_from_index(all[i], &a);
		acc[i] = mn_oracle_get(&o, &a)->acc;
	}
	mn_blas_set_threads(1);
	printf("bench_quality: %d cores; %d archs sampled with seed %llu; CIFAR-10 subset of %zu images;\n"
	       "  NTK %s batch %d; other proxies on C=%d N=%d, batch %d; %d repeats\n",
	       bench_cores(), n, (unsigned long long)seed, data.count, mode, cfg.batch, cfg.az_channels,
	       cfg.az_cells, cfg.az_batch, cfg.repeat);
	fflush(stdout);
	int rc = 0;
	if (cost_n > 0) {
		struct mn_tenas_config c0 = cfg;
		c0.all_proxies = 0;
		rc |= cost(&c0, &data, all, cost_n, seed);
		rc |= cost(&cfg, &data, all, cost_n, seed);
		fflush(stdout);
	}
	for (int s = 0; s < seeds && rc == 0; s++) {
		double secs;
		rc |= score_sample(&cfg, &data, all, n, seed + (uint64_t)s, estimate_only, threads,
				   val[s], &secs);
		if (rc)
			break;
		printf("run %d (seed %llu): %.1f s for %d archs on %d threads (%.3f s/arch/thread)\n", s + 1,
		       (unsigned long long)(seed + s), secs, n, threads, secs * threads / n);
		report(val[s], acc, n);
		if (s == 0)
			regret(val[s], acc, all, n);
		if (s == 2 || s == 5) {
			mean_of(val, 0, s + 1, n, mean[0]);
			printf("mean of runs 1-%d (%d repeats):\n", s + 1, (s + 1) * cfg.repeat);
			report(mean[0], acc, n);
			regret(mean[0], acc, all, n);
		}
		fflush(stdout);
	}
	if (rc == 0 && sup_seeds > 0) {
		struct mn_tenas_config c3 = cfg;
		c3.repeat = 3;
		rc |= supernet(&c3, &data, &o, sup_seeds, seed);
	}
	if (rc == 0 && seeds >= 2) {
		printf("stability, 1 run vs 1 run:\n");
		stability(val[0], val[1], n);
	}
	if (rc == 0 && seeds >= 6) {
		mean_of(val, 0, 3, n, mean[0]);
		mean_of(val, 3, 3, n, mean[1]);
		printf("stability, mean of runs 1-3 vs mean of runs 4-6:\n");
		stability(mean[0], mean[1], n);
	}
	for (int k = 0; k < seeds; k++)
		free(val[k]);
	free(mean[0]);
	free(mean[1]);
	free(all);
	free(acc);
	mn_dataset_free(&data);
	mn_oracle_free(&o);
	return rc ? 1 : 0;
}
