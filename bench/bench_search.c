/* Search wall time at TE-NAS's settings (batch 72, repeat 3) and the
 * quality of the picks over seeds, with the NAS-Bench-201 table as oracle:
 * accuracy at weights 0 (plain TE-NAS ranking), and at w_latency 1 and 3
 * the latency ratio and accuracy change against weights 0 (MicroNAS's
 * headline is 3.23x lower MCU latency at about equal accuracy).
 *   bench_search [--seeds 10] [--mode exact|fixed-stats] [--threads N] */
#include <math.h>

#include "bench_common.h"
#include "data/oracle.h"
#include "nn/blas.h"
#include "search/session.h"

#define N_WEIGHTS 3
static const double w_latency[N_WEIGHTS] = {0, 1, 3};

static void run_weights(struct mn_engine *e, double wl, struct mn_engine_snapshot *s, int first)
{
	if (first)
		mn_engine_start(e);
	else
		mn_engine_set_weights(e, 0, wl, 1);
	mn_engine_wait(e);
	mn_engine_snapshot(e, s);
}

int main(int argc, char **argv)
{
	char b1[4096], b2[4096], err[512];
	mn_blas_set_threads(1); /* the search's workers run the networks */
	int seeds = atoi(bench_arg(argc, argv, "--seeds", "10"));
	const char *mode = bench_arg(argc, argv, "--mode", "exact");
	int threads = atoi(bench_arg(argc, argv, "--threads", "0"));
	const char *csv = bench_shared("data/nb201/nb201_cifar10.csv", b1, sizeof b1);
	const char *bin = bench_shared("data/cifar10/data_batch_subset.bin", b2, sizeof b2);
	struct mn_oracle o;
	int have_oracle = 0;

	if (!csv || !bin)
		printf("bench_search: ../shared is not present: timing on the synthetic batch, no accuracy figures\n");
	if (csv) {
		if (mn_oracle_load(&o, csv, err, sizeof err)) {
			fprintf(stderr, "bench_search: %s\n", err);
			return 1;
		}
		have_oracle = 1;
	}
	printf("bench_search: %d cores, mode %s, batch 72, repeat 3, %d seeds, latency from the built-in "
	       "Cortex-M7 cycle model\n", bench_cores(), mode, seeds);
	double acc[64][N_WEIGHTS], lat[64][N_WEIGHTS], secs[64];
	for (int s = 0; s < seeds && s < 64; s++) {
		struct mn_preset p;
		static struct mn_session setup;
		struct mn_engine_snapshot snap;
		mn_preset_defaults(&p);
		p.seed = (uint64_t)s;
		p.batch = 72;
		p.repeat = 3;
		p.w_flops = 0;
		p.w_latency = 0;
		p.ntk_grad = !strcmp(mode, "fixed-stats") ? MN_GRAD_FIXED_STATS : MN_GRAD_EXACT;
		if (mn_session_init(&setup, &p, bin, threads, err, sizeof err)) {
			fprintf(stderr, "bench_search: %s\n", err);
			return 1;
		}
		for (int w = 0; w < N_WEIGHTS; w++) {
			double t0 = bench_now();
			run_weights(setup.engine, w_latency[w], &snap, w == 0);
			if (snap.state != MN_ENGINE_DONE) {
				fprintf(stderr, "bench_search: search failed: %s\n", snap.error);
				return 1;
			}
			char a[MN_ARCH_STRLEN];
			mn_arch_format(&snap.result, a, sizeof a);
			const struct mn_oracle_entry *oe = have_oracle ? mn_oracle_get(&o, &snap.result) : NULL;
			acc[s][w] = oe ? oe->acc : NAN;
			lat[s][w] = snap.result_latency_ms;
			if (w == 0)
				secs[s] = snap.search_seconds;
			printf("seed %2d w_latency %.0f: %6.1f s  %7.2f ms  acc %6.2f  %s\n", s, w_latency[w],
			       w == 0 ? snap.search_seconds : bench_now() - t0, lat[s][w], acc[s][w], a);
			fflush(stdout);
		}
		mn_session_free(&setup);
	}
	if (seeds > 64)
		seeds = 64;
	double ms = 0, mean0 = 0, sd0 = 0;
	for (int s = 0; s < seeds; s++) {
		ms += secs[s] / seeds;
		mean0 += acc[s][0] / seeds;
	}
	for (int s = 0; s < seeds; s++)
		sd0 += (acc[s][0] - mean0) * (acc[s][0] - mean0) / (seeds > 1 ? seeds - 1 : 1);
	printf("search wall time (weights 0, first run): mean %.1f s on %d cores\n", ms, bench_cores());
	if (have_oracle) {
		printf("weights 0: pick accuracy mean %.2f, sd %.2f (TE-NAS's own code here: 89.66, 90.32)\n",
		       mean0, sqrt(sd0));
		for (int w = 1; w < N_WEIGHTS; w++) {
			double ratio = 0, dacc = 0;
			for (int s = 0; s < seeds; s++) {
				ratio += lat[s][0] / lat[s][w] / seeds;
				dacc += (acc[s][w] - acc[s][0]) / seeds;
			}
			printf("w_latency %.0f: latency %.2fx lower than at weights 0 (mean ratio), accuracy change %+.2f points\n",
			       w_latency[w], ratio, dacc);
		}
		mn_oracle_free(&o);
	}
	return 0;
}
