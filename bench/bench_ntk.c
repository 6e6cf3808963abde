/* NTK speed: ms per condition-number evaluation of TE-NAS's supernet
 * (C=3, N=1, every non-none op active) at batch 72 in both gradient modes,
 * and of the full C=16, N=5 network at batch 32; achieved GFLOP/s against
 * the machine's own sgemm peak measured in the same run.  Synthetic batches
 * (mn_rng normal), so no data files are needed.
 *
 * Usage: bench_ntk [--threads N] [--quick]
 * FLOPs counted: 2 x (conv + linear multiply-accumulates) for the forward,
 * and twice that for every backward pass (data and weight gradients); the
 * exact mode makes B passes, fixed-stats one. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cblas.h>

#include "space/arch.h"
#include "nn/blas.h"
#include "nn/net.h"
#include "core_speed.h"
#include "util/rng.h"
#include "bench_common.h"

static void *xmalloc(size_t n)
{
	void *p = malloc(n);
	if (!p) {
		fprintf(stderr, "bench_ntk: out of memory\n");
		exit(1);
	}
	return p;
}

static double sgemm_peak(int n, int reps)
{
	float *a = xmalloc(sizeof(float) * n * n), *b = xmalloc(sizeof(float) * n * n),
	      *c = xmalloc(sizeof(float) * n * n);
	struct mn_rng r;
	mn_rng_seed(&r, 1);
	for (int i = 0; i < n * n; i++) {
		a[i] = (float)mn_rng_uniform(&r);
		b[i] = (float)mn_rng_uniform(&r);
	}
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
	double best = 1e30;
	for (int k = 0; k < reps; k++) {
		double t = mn_now_s();
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
		t = mn_now_s() - t;
		if (t < best)
			best = t;
	}
	free(a);
	free(b);
	free(c);
	return 2.0 * n * n * (double)n / best * 1e-9;
}

struct result {
	double ms, gflops;
};

static struct result run(struct mn_net *net, int B, enum mn_grad_mode mode, int reps,
			 double *cond_out)
{
	const struct mn_net_config *cfg = mn_net_get_config(net);
	size_t n = (size_t)B * cfg->in_channels * cfg->H * cfg->W;
	float *x = xmalloc(sizeof(float) * n);
	struct mn_rng r;
	mn_rng_seed(&r, 7);
	for (size_t i = 0; i < n; i++)
		x[i] = (float)mn_rng_normal(&r);
	double cond = 0;
	if (mn_net_ntk_cond(net, x, B, mode, &cond, NULL, NULL) != 0) { /* warm-up */
		fprintf(stderr, "bench_ntk: NTK evaluation failed (out of memory?)\n");
		exit(1);
	}
	double best = 1e30;
	for (int k = 0; k < reps; k++) {
		double t = mn_now_s();
		mn_net_ntk_cond(net, x, B, mode, &cond, NULL, NULL);
		t = mn_now_s() - t;
		if (t < best)
			best = t;
	}
	free(x);
	double macs = mn_net_forward_macs(net, B);
	double passes = mode == MN_GRAD_EXACT ? B : 1;
	double flops = 2 * macs * (1 + 2 * passes);
	*cond_out = cond;
	struct result res = {best * 1e3, flops / best * 1e-9};
	return res;
}

int main(int argc, char **argv)
{
	int threads = 0, quick = 0;
	for (int i = 1; i < argc; i++) {
		char *end = NULL;
		long v = 0;
		if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
			v = strtol(argv[++i], &end, 10);
			if (end == argv[i] || *end || v < 0 || v > 1024) {
				fprintf(stderr, "bench_ntk: --threads needs a whole number in 0..1024, got '%s'\n",
					argv[i]);
				return 2;
			}
			threads = (int)v;
		} else if (!strcmp(argv[i], "--quick")) {
			quick = 1;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("usage: bench_ntk [--threads N] [--quick]\n");
			return 0;
		} else {
			/* a usage error: 2, as the other benchmarks and micronas */
			fprintf(stderr, "bench_ntk: unknown option '%s' (usage: bench_ntk [--threads N] [--quick])\n",
				argv[i]);
			return 2;
		}
	}
	/* the sgemm peak on all the threads; then OpenBLAS on one while the
	 * networks run their own pools of `threads` */
	mn_blas_set_threads(threads);
	long nproc = sysconf(_SC_NPROCESSORS_ONLN);
	char speeds[512];
	bench_core_speeds(speeds, sizeof speeds);
	printf("nproc %ld, threads %d, OpenBLAS kernels %s; %s\n", nproc, mn_blas_get_threads(),
	       mn_blas_core(), speeds);
	double peak = sgemm_peak(2048, quick ? 2 : 5);
	printf("sgemm peak (2048^3, this run): %.1f GFLOP/s\n", peak);
	mn_blas_set_threads(1);

	struct mn_net_config cfg;
	struct mn_rng r;
	double cond;
	mn_net_config_ntk(&cfg);
	struct mn_net *net = mn_net_create(&cfg);
	if (!net || mn_net_set_threads(net, threads) != 0)
		return 1;
	mn_rng_seed(&r, 1);
	mn_net_init(net, &r, MN_INIT_CODE);
	for (int mode = 0; mode < 2; mode++) {
		struct result res = run(net, 72, mode, quick ? 1 : (mode ? 20 : 3), &cond);
		printf("supernet C=3 N=1 batch 72, %-11s: %9.2f ms/NTK  %6.1f GFLOP/s (%4.1f%% of "
		       "peak)  cond %.4g\n",
		       mode ? "fixed-stats" : "exact", res.ms, res.gflops, 100 * res.gflops / peak,
		       cond);
	}
	mn_net_free(net);

	mn_net_config_eval(&cfg, 16, 5, 32, 10);
	net = mn_net_create(&cfg);
	struct mn_arch a;
	mn_arch_parse("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|"
		      "nor_conv_3x3~1|nor_conv_3x3~2|",
		      &a, NULL);
	if (!net || mn_net_set_arch(net, &a) != 0 || mn_net_set_threads(net, threads) != 0)
		return 1;
	mn_rng_seed(&r, 2);
	mn_net_init(net, &r, MN_INIT_CODE);
	printf("full network: %.2f MMACs per sample\n", mn_net_forward_macs(net, 1) * 1e-6);
	for (int mode = 1; mode >= 0; mode--) {
		if (quick && mode == 0)
			break;
		struct result res = run(net, 32, mode, mode ? 3 : 1, &cond);
		printf("C=16 N=5 all-3x3 batch 32, %-11s: %9.2f ms/NTK  %6.1f GFLOP/s (%4.1f%% of "
		       "peak)  cond %.4g\n",
		       mode ? "fixed-stats" : "exact", res.ms, res.gflops, 100 * res.gflops / peak,
		       cond);
	}
	mn_net_free(net);
	return 0;
}
