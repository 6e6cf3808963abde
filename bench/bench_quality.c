/* Ranking quality of the proxies: Kendall tau of -NTK condition number,
 * of the linear-region count and of TE-NAS's rank sum against the
 * NAS-Bench-201 accuracy, on a seeded random sample of archs, with the
 * CIFAR-10 subset in ../shared.  Also the seconds per arch.
 *   bench_quality [--archs 500] [--seed 0] [--mode exact|fixed-stats|both]
 *                 [--repeat 3] [--threads N] */
#include <math.h>
#include <pthread.h>

#include "bench_common.h"
#include "nn/blas.h"
#include "nn/net.h"
#include "data/oracle.h"
#include "util/rankstat.h"
#include "proxy/tenas.h"

struct job {
	const struct mn_tenas_config *cfg;
	const struct mn_dataset *data;
	const int *idx;
	int n;
	uint64_t seed;
	double *ntk, *lr;
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
		if (mn_tenas_score_arch(t, j->seed, &a, &j->ntk[i], &j->lr[i], err, sizeof err)) {
			fprintf(stderr, "bench_quality: %s\n", err);
			j->failed = 1;
		}
	}
	mn_tenas_free(t);
	return NULL;
}

static int run_mode(enum mn_grad_mode mode, const struct mn_dataset *data, const struct mn_oracle *o,
		    const int *idx, int n, uint64_t seed, int repeat, int threads)
{
	struct mn_tenas_config cfg;
	mn_tenas_config_default(&cfg);
	cfg.grad = mode;
	cfg.repeat = repeat;
	double *ntk = calloc((size_t)n, sizeof *ntk), *lr = calloc((size_t)n, sizeof *lr);
	double *acc = calloc((size_t)n, sizeof *acc), *neg = calloc((size_t)n, sizeof *neg);
	double *rsum = calloc((size_t)n, sizeof *rsum), *rk = calloc((size_t)n, sizeof *rk);
	double *rl = calloc((size_t)n, sizeof *rl);
	if (!ntk || !lr || !acc || !neg || !rsum || !rk || !rl)
		return -1;
	struct job j = {&cfg, data, idx, n, seed, ntk, lr, 0, 0, PTHREAD_MUTEX_INITIALIZER};
	pthread_t th[64];
	double t0 = bench_now();
	for (int i = 0; i < threads; i++)
		pthread_create(&th[i], NULL, worker, &j);
	for (int i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	double secs = bench_now() - t0;
	if (j.failed)
		return -1;
	for (int i = 0; i < n; i++) {
		struct mn_arch a;
		mn_arch_from_index(idx[i], &a);
		acc[i] = mn_oracle_get(o, &a)->acc;
		neg[i] = -ntk[i];
	}
	/* TE-NAS's combination: rank by NTK (ascending = better) plus rank by
	 * regions (descending = better); a smaller sum is better. */
	mn_rank_average(ntk, (size_t)n, rk);
	mn_rank_average(lr, (size_t)n, rl);
	for (int i = 0; i < n; i++)
		rsum[i] = -(rk[i] + ((double)n + 1 - rl[i]));
	double t_ntk, t_lr, t_sum, s_ntk, s_lr;
	mn_kendall_tau_b(neg, acc, (size_t)n, &t_ntk);
	mn_kendall_tau_b(lr, acc, (size_t)n, &t_lr);
	mn_kendall_tau_b(rsum, acc, (size_t)n, &t_sum);
	mn_spearman_rho(neg, acc, (size_t)n, &s_ntk);
	mn_spearman_rho(lr, acc, (size_t)n, &s_lr);
	printf("%-11s n=%d repeat=%d: Kendall tau  -ntk_cond %.3f  linear_regions %.3f  rank sum %.3f"
	       "   (Spearman %.3f, %.3f)   %.2f s/arch on %d threads\n",
	       mode == MN_GRAD_EXACT ? "exact" : "fixed-stats", n, repeat, t_ntk, t_lr, t_sum, s_ntk,
	       s_lr, secs * threads / n, threads);
	fflush(stdout);
	free(ntk); free(lr); free(acc); free(neg); free(rsum); free(rk); free(rl);
	return 0;
}

int main(int argc, char **argv)
{
	char b1[4096], b2[4096], err[512];
	int n = atoi(bench_arg(argc, argv, "--archs", "500"));
	uint64_t seed = strtoull(bench_arg(argc, argv, "--seed", "0"), NULL, 10);
	const char *mode = bench_arg(argc, argv, "--mode", "both");
	int repeat = atoi(bench_arg(argc, argv, "--repeat", "3"));
	int threads = atoi(bench_arg(argc, argv, "--threads", "0"));
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
	if (n < 3 || n > MN_ARCH_COUNT)
		n = 500;
	/* A seeded sample without replacement (partial Fisher-Yates). */
	int *all = malloc(sizeof(int) * MN_ARCH_COUNT);
	struct mn_rng r;
	mn_rng_seed(&r, seed + 12345);
	for (int i = 0; i < MN_ARCH_COUNT; i++)
		all[i] = i;
	for (int i = 0; i < n; i++) {
		int k = i + (int)mn_rng_below(&r, (uint32_t)(MN_ARCH_COUNT - i));
		int t = all[i]; all[i] = all[k]; all[k] = t;
	}
	mn_blas_set_threads(1);
	printf("bench_quality: %d cores; %d archs sampled with seed %llu; CIFAR-10 subset of %zu images\n",
	       bench_cores(), n, (unsigned long long)seed, data.count);
	printf("reference (TE-NAS's own code, 120 archs): tau -ntk 0.51, regions 0.53, rank sum 0.60\n");
	int rc = 0;
	if (!strcmp(mode, "fixed-stats") || !strcmp(mode, "both"))
		rc |= run_mode(MN_GRAD_FIXED_STATS, &data, &o, all, n, seed, repeat, threads);
	if (!strcmp(mode, "exact") || !strcmp(mode, "both"))
		rc |= run_mode(MN_GRAD_EXACT, &data, &o, all, n, seed, repeat, threads);
	free(all);
	mn_dataset_free(&data);
	mn_oracle_free(&o);
	return rc ? 1 : 0;
}
