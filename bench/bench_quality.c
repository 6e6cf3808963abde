/* Ranking quality of every proxy of proxy_set.h and of the accuracy
 * estimate (estimate.h): Kendall tau against the NAS-Bench-201 CIFAR-10
 * accuracy on a seeded random sample of archs, with the CIFAR-10 subset in
 * ../shared; TE-NAS's rank sum beside them for reference.  The table
 * measures; nothing here feeds back into a default.
 *
 * Also the cost: seconds per arch of TE-NAS's pair alone and of the whole
 * proxy set (one thread, on the first --cost-archs archs).
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
 *                 [--az-channels 8] [--az-cells 1] [--az-batch 64]
 *                 [--cost-archs 20] */
#include <math.h>
#include <pthread.h>

#include "bench_common.h"
#include "data/oracle.h"
#include "nn/blas.h"
#include "nn/net.h"
#include "proxy/estimate.h"
#include "proxy/proxy_set.h"
#include "proxy/tenas.h"
#include "util/rankstat.h"

struct job {
	const struct mn_tenas_config *cfg;
	const struct mn_dataset *data;
	const int *idx;
	int n;
	uint64_t seed;
	struct mn_proxy_values *val;
	int next, failed;
	pthread_mutex_t lock;
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
		if (mn_proxy_score_arch(t, j->seed, &a, &j->val[i], err, sizeof err)) {
			fprintf(stderr, "bench_quality: %s\n", err);
			j->failed = 1;
		}
	}
	mn_tenas_free(t);
	return NULL;
}

static int score_sample(const struct mn_tenas_config *cfg, const struct mn_dataset *data,
			const int *idx, int n, uint64_t seed, int threads, struct mn_proxy_values *val,
			double *secs)
{
	struct job j = {cfg, data, idx, n, seed, val, 0, 0, PTHREAD_MUTEX_INITIALIZER};
	pthread_t th[64];
	if (threads > 64)
		threads = 64;
	double t0 = bench_now();
	for (int i = 0; i < threads; i++)
		pthread_create(&th[i], NULL, worker, &j);
	for (int i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	*secs = bench_now() - t0;
	return j.failed ? -1 : 0;
}

/* Seconds per arch, one thread: TE-NAS's pair alone, then every proxy. */
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
	    mn_proxy_score_arch(t, seed, &a, &v, err, sizeof err))
		goto fail;
	for (int i = 0; i < n; i++) {
		mn_arch_from_index(idx[i], &a);
		double t0 = bench_now();
		if (mn_tenas_score_arch(t, seed, &a, &k, &r, err, sizeof err))
			goto fail;
		double t1 = bench_now();
		if (mn_proxy_score_arch(t, seed, &a, &v, err, sizeof err))
			goto fail;
		double t2 = bench_now();
		t_pair += t1 - t0;
		t_all += t2 - t1;
	}
	printf("cost (1 thread, %d archs, repeat %d): TE-NAS pair %.3f s/arch; with %s %.3f s/arch; "
	       "those alone %.3f s/arch (%.2fx the pair)\n",
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
		column(val, n, p, v);
		mn_kendall_tau_b(v, acc, (size_t)n, &tau);
		printf("    %-18s %6.3f%s\n", info->column, tau, info->in_estimate ? "  (in the estimate)" : "");
	}
	/* TE-NAS's combination: rank by -NTK plus rank by regions. */
	column(val, n, MN_PROXY_NTK_COND, v);
	mn_rank_average(v, (size_t)n, rk);
	column(val, n, MN_PROXY_LINEAR_REGIONS, v);
	mn_rank_average(v, (size_t)n, rl);
	for (int i = 0; i < n; i++)
		v[i] = rk[i] + rl[i];
	mn_kendall_tau_b(v, acc, (size_t)n, &tau);
	printf("    %-18s %6.3f\n", "TE-NAS rank sum", tau);
	if (mn_estimate(val, (size_t)n, est) == 0) {
		mn_kendall_tau_b(est, acc, (size_t)n, &tau);
		printf("    %-18s %6.3f\n", "estimate", tau);
	}
	free(v); free(est); free(rk); free(rl);
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
	int n = atoi(bench_arg(argc, argv, "--archs", "1000"));
	uint64_t seed = strtoull(bench_arg(argc, argv, "--seed", "0"), NULL, 10);
	int seeds = atoi(bench_arg(argc, argv, "--seeds", "6"));
	const char *mode = bench_arg(argc, argv, "--mode", "fixed-stats");
	int threads = atoi(bench_arg(argc, argv, "--threads", "0"));
	int cost_n = atoi(bench_arg(argc, argv, "--cost-archs", "10"));
	struct mn_tenas_config cfg;
	mn_tenas_config_default(&cfg);
	cfg.repeat = atoi(bench_arg(argc, argv, "--repeat", "1"));
	cfg.batch = atoi(bench_arg(argc, argv, "--batch", "72"));
	cfg.az_channels = atoi(bench_arg(argc, argv, "--az-channels", "8"));
	cfg.az_cells = atoi(bench_arg(argc, argv, "--az-cells", "1"));
	cfg.az_batch = atoi(bench_arg(argc, argv, "--az-batch", "64"));
	cfg.grad = !strcmp(mode, "exact") ? MN_GRAD_EXACT : MN_GRAD_FIXED_STATS;
	if (threads < 1)
		threads = bench_cores();
	if (seeds < 0 || seeds > MAX_SEEDS)
		seeds = 6;
	if (cfg.repeat < 1)
		cfg.repeat = 1;
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
	if (n < 3 || n > MN_ARCH_COUNT)
		n = 1000;
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
		rc |= score_sample(&cfg, &data, all, n, seed + (uint64_t)s, threads, val[s], &secs);
		if (rc)
			break;
		printf("run %d (seed %llu): %.1f s for %d archs on %d threads (%.3f s/arch/thread)\n", s + 1,
		       (unsigned long long)(seed + s), secs, n, threads, secs * threads / n);
		report(val[s], acc, n);
		if (s == 2 || s == 5) {
			mean_of(val, 0, s + 1, n, mean[0]);
			printf("mean of runs 1-%d (%d repeats):\n", s + 1, (s + 1) * cfg.repeat);
			report(mean[0], acc, n);
		}
		fflush(stdout);
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
