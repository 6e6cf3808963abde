/* The search as a user meets it, then the quality of its picks.
 *
 * Responsiveness, on the default settings (MicroNAS's batch 32, repeat 3):
 * the cold search's wall time (empty evaluation cache), the time to the
 * first ranking row (first candidate measured), the warm search's time (the
 * same settings, other weights: everything from the persistent cache), and
 * the cancel latency (cancel mid-round until the engine is idle).  With
 * --tenas 1 also the TE-NAS preset's search (batch 72).
 *
 * Quality over seeds, with the NAS-Bench-201 table as oracle (no cache, so
 * every search is timed cold): accuracy at weights 0 (plain TE-NAS ranking),
 * and at w_latency 1 and 3 the latency ratio and accuracy change against
 * weights 0 (MicroNAS's headline is 3.23x lower MCU latency at about equal
 * accuracy).
 *   bench_search [--seeds 10] [--batch 32] [--mode exact|fixed-stats]
 *                [--threads N] [--tenas 0|1] */
#include <math.h>
#include <stdlib.h>

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

/* Runs one default search in cache_dir; *first_row: seconds from the start
 * to the first candidate measured (-1 if none). */
static int timed_search(const struct mn_preset *p, const char *bin, int threads,
			const char *cache_dir, double cancel_after, double *wall, double *first_row,
			double *cancel_latency, int *measured)
{
	static struct mn_session setup;
	struct mn_engine_snapshot snap;
	char err[512];
	if (mn_session_init_cache(&setup, p, bin, threads, cache_dir, err, sizeof err)) {
		fprintf(stderr, "bench_search: %s\n", err);
		return -1;
	}
	if (setup.cache_notice[0])
		fprintf(stderr, "bench_search: %s\n", setup.cache_notice);
	double t0 = bench_now(), t_cancel = 0;
	*first_row = -1;
	mn_engine_start(setup.engine);
	for (;;) {
		mn_engine_snapshot(setup.engine, &snap);
		if (*first_row < 0 && snap.latest_index >= 0)
			*first_row = bench_now() - t0;
		if (snap.state != MN_ENGINE_RUNNING)
			break;
		if (cancel_after > 0 && !t_cancel && bench_now() - t0 >= cancel_after) {
			t_cancel = bench_now();
			mn_engine_cancel(setup.engine);
			mn_engine_wait(setup.engine);
			*cancel_latency = bench_now() - t_cancel;
			continue;
		}
		struct timespec ts = {0, 2 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	*wall = bench_now() - t0;
	*measured = snap.evaluations;
	int ok = snap.state == MN_ENGINE_DONE || (cancel_after > 0 && snap.state == MN_ENGINE_CANCELLED);
	if (!ok)
		fprintf(stderr, "bench_search: search failed: %s\n", snap.error);
	mn_session_free(&setup);
	return ok ? 0 : -1;
}

static int responsiveness(const char *bin, int threads, int tenas)
{
	char dir[] = "/tmp/mn-bench-cache-XXXXXX";
	if (!mkdtemp(dir)) {
		perror("bench_search: mkdtemp");
		return -1;
	}
	struct mn_preset p;
	mn_preset_defaults(&p);
	double cold, warm, first, first_warm, lat = -1, t, f;
	int m_cold, m_warm, m;
	if (timed_search(&p, bin, threads, dir, 0, &cold, &first, &lat, &m_cold))
		return -1;
	double again;
	int m_again;
	if (timed_search(&p, bin, threads, dir, 0, &again, &first_warm, &lat, &m_again))
		return -1;
	p.w_latency = 3; /* other weights: cached values, new states measured */
	if (timed_search(&p, bin, threads, dir, 0, &warm, &first_warm, &lat, &m_warm))
		return -1;
	printf("default search (batch %d, repeat %d): cold %.2f s (%d measured), first ranking row "
	       "after %.2f s; the same search again %.3f s (%d measured); w_latency 3 after it %.2f s "
	       "(%d measured: the states only that weight reaches)\n",
	       p.batch, p.repeat, cold, m_cold, first, again, m_again, warm, m_warm);
	/* Cancel mid-round: in an empty cache, 1.5 s in. */
	char dir2[] = "/tmp/mn-bench-cache-XXXXXX";
	if (mkdtemp(dir2) && timed_search(&p, bin, threads, dir2, 1.5, &t, &f, &lat, &m) == 0)
		printf("cancel latency: %.3f s (cancel 1.5 s into a cold search, until the engine is idle)\n", lat);
	if (tenas) {
		char dir3[] = "/tmp/mn-bench-cache-XXXXXX";
		p.batch = 72;
		p.w_latency = 1;
		if (mkdtemp(dir3) && timed_search(&p, bin, threads, dir3, 0, &t, &f, &lat, &m) == 0)
			printf("TE-NAS preset search (batch 72): cold %.2f s (%d measured), first row %.2f s\n", t,
			       m, f);
		char cmd[200];
		snprintf(cmd, sizeof cmd, "rm -rf %s", dir3);
		if (system(cmd) != 0)
			fprintf(stderr, "bench_search: could not remove %s\n", dir3);
	}
	char cmd[200];
	snprintf(cmd, sizeof cmd, "rm -rf %s %s", dir, dir2);
	if (system(cmd) != 0)
		fprintf(stderr, "bench_search: could not remove the temporary caches\n");
	return 0;
}

int main(int argc, char **argv)
{
	char b1[4096], b2[4096], err[512];
	mn_blas_set_threads(1); /* the search's workers run the networks */
	int seeds = atoi(bench_arg(argc, argv, "--seeds", "10"));
	const char *mode = bench_arg(argc, argv, "--mode", "exact");
	int threads = atoi(bench_arg(argc, argv, "--threads", "0"));
	int batch = atoi(bench_arg(argc, argv, "--batch", "32"));
	int tenas = atoi(bench_arg(argc, argv, "--tenas", "0"));
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
	printf("bench_search: %d cores (shared with other work unless the machine was idle), latency from "
	       "the built-in Cortex-M7 cycle model\n", bench_cores());
	if (responsiveness(bin, threads, tenas))
		return 1;
	printf("quality: mode %s, batch %d, repeat 3, %d seeds, no cache\n", mode, batch, seeds);
	double acc[64][N_WEIGHTS], lat[64][N_WEIGHTS], secs[64];
	for (int s = 0; s < seeds && s < 64; s++) {
		struct mn_preset p;
		static struct mn_session setup;
		struct mn_engine_snapshot snap;
		mn_preset_defaults(&p);
		p.seed = (uint64_t)s;
		p.batch = batch;
		p.repeat = 3;
		p.w_flops = 0;
		p.w_latency = 0;
		p.ntk_grad = !strcmp(mode, "fixed-stats") ? MN_GRAD_FIXED_STATS : MN_GRAD_EXACT;
		if (mn_session_init_cache(&setup, &p, bin, threads, "", err, sizeof err)) {
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
	if (seeds > 0)
		printf("search wall time (weights 0, first run, batch %d): mean %.1f s on %d cores\n", batch, ms,
		       bench_cores());
	if (have_oracle && seeds > 0) {
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
