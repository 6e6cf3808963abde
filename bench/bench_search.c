/* The search as a user meets it, then the quality of its picks.
 *
 * Responsiveness, on the default settings (MicroNAS's batch 32, repeat 3):
 * the cold search's wall and CPU time (user+sys of the whole process, the
 * workers included; empty evaluation cache), the time to the first ranking
 * row (first candidate measured), the warm search's time (the same
 * settings again, then other weights: everything it can from the persistent
 * cache), and the cancel latency (cancel mid-round until the engine is
 * idle), and the look-ahead of the TUI and `search --measure-ahead` from
 * weights 0 (each ring's time, then w_latency 3 from the cache; --what
 * lookahead: from the default weights alone).  With --tenas 1 also the
 * TE-NAS preset's search (presets/nucleo-f746zg-tenas.ini, batch 72).
 * Each figure is printed with the load average at the time: the machine
 * may be shared.
 *
 * Quality over seeds, with the NAS-Bench-201 table as oracle (no cache, so
 * every search is timed cold): for each batch of --batches, the mean
 * accuracy of the pick at weights 0 (plain TE-NAS ranking); for the first
 * batch also, at w_latency 1 and 3, the latency ratio and accuracy change
 * against weights 0 (MicroNAS's headline is 3.23x lower MCU latency at
 * about equal accuracy).  The oracle column only measures here.
 *   bench_search [--seeds 10] [--batches 32,72] [--mode exact|fixed-stats]
 *                [--threads N] [--tenas 0|1] [--what all|speed|quality|lookahead] [--sweep 0|1]
 * (--sweep 0: no w_latency runs, only each batch's plain ranking;
 * --seed0 S: seeds S, S+1, ... to split a long run). */
#include <math.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "bench_common.h"
#include "core_speed.h"
#include "data/oracle.h"
#include "nn/blas.h"
#include "search/session.h"

/* CPU seconds (user+sys) of the process so far, every thread included. */
static double cpu_now(void)
{
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return NAN;
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec * 1e-6;
}

/* The 1-minute load average, NAN if unknown. */
static double load1(void)
{
	double l = NAN;
	FILE *f = fopen("/proc/loadavg", "r");
	if (f) {
		if (fscanf(f, "%lf", &l) != 1)
			l = NAN;
		fclose(f);
	}
	return l;
}

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
			const char *cache_dir, double cancel_after, double *wall, double *cpu,
			double *first_row, double *cancel_latency, int *measured)
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
	double t0 = mn_now_s(), c0 = cpu_now(), t_cancel = 0;
	*first_row = -1;
	mn_engine_start(setup.engine);
	for (;;) {
		mn_engine_snapshot(setup.engine, &snap);
		if (*first_row < 0 && snap.latest_index >= 0)
			*first_row = mn_now_s() - t0;
		if (snap.state != MN_ENGINE_RUNNING)
			break;
		if (cancel_after > 0 && !t_cancel && mn_now_s() - t0 >= cancel_after) {
			t_cancel = mn_now_s();
			mn_engine_cancel(setup.engine);
			mn_engine_wait(setup.engine);
			*cancel_latency = mn_now_s() - t_cancel;
			continue;
		}
		struct timespec ts = {0, 2 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	*wall = mn_now_s() - t0;
	*cpu = cpu_now() - c0;
	*measured = snap.evaluations;
	int ok = snap.state == MN_ENGINE_DONE || (cancel_after > 0 && snap.state == MN_ENGINE_CANCELLED);
	if (!ok)
		fprintf(stderr, "bench_search: search failed: %s\n", snap.error);
	mn_session_free(&setup);
	return ok ? 0 : -1;
}

/* Removes a temporary cache directory (mkdtemp's), saying so if it cannot. */
static void remove_dir(const char *dir)
{
	char cmd[200];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench_search: could not remove %s\n", dir);
}

/* The look-ahead the TUI and `search --measure-ahead` run (engine.h) from
 * p's weights: the cold pick, then the time at which each ring of weight
 * points is in the cache, the values measured ahead, and then the search
 * at w_latency `to` (within the rings) from the cache. */
static int lookahead_rings(const struct mn_preset *p, const char *bin, int threads, double to)
{
	char dir[] = "/tmp/mn-bench-cache-XXXXXX", err[512];
	static struct mn_session setup;
	struct mn_engine_snapshot snap;
	if (!mkdtemp(dir)) {
		perror("bench_search: mkdtemp");
		return -1;
	}
	if (mn_session_init_cache(&setup, p, bin, threads, dir, err, sizeof err)) {
		fprintf(stderr, "bench_search: %s\n", err);
		remove_dir(dir);
		return -1;
	}
	mn_engine_set_lookahead(setup.engine, MN_LOOKAHEAD_STEP, MN_LOOKAHEAD_RINGS);
	double t0 = mn_now_s(), ring_t[MN_LOOKAHEAD_RINGS + 1] = {0}, cold = -1;
	int cold_evals = 0, ring = 1;
	mn_engine_start(setup.engine);
	for (;;) {
		mn_engine_snapshot(setup.engine, &snap);
		double t = mn_now_s() - t0;
		if (cold < 0 && snap.state != MN_ENGINE_RUNNING) {
			cold = t;
			cold_evals = snap.evaluations;
		}
		while (ring <= MN_LOOKAHEAD_RINGS && snap.lookahead_done >= mn_lookahead_points(ring))
			ring_t[ring++] = t;
		if (cold >= 0 && !snap.lookahead && snap.state != MN_ENGINE_RUNNING)
			break;
		struct timespec ts = {0, 2 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	mn_engine_wait(setup.engine);
	int ahead = setup.cache ? mn_eval_cache_count(setup.cache) - cold_evals : -1;
	printf("the look-ahead (step %g, %d rings: %d weight points) from w_latency %g: "
	       "cold pick %.2f s (%d measured); in the cache after", MN_LOOKAHEAD_STEP,
	       MN_LOOKAHEAD_RINGS, mn_lookahead_points(MN_LOOKAHEAD_RINGS), p->w_latency, cold,
	       cold_evals);
	for (int r = 1; r <= MN_LOOKAHEAD_RINGS; r++)
		printf("%s %.1f s (ring %d)", r > 1 ? "," : "", ring_t[r] - cold, r);
	printf("; %d values measured ahead; load %.2f\n", ahead, load1());
	mn_engine_snapshot(setup.engine, &snap);
	uint64_t ended = snap.runs_ended;
	int before = snap.evaluations;
	double t1 = mn_now_s();
	mn_engine_set_weights(setup.engine, p->w_flops, to, 1);
	for (;;) {
		mn_engine_snapshot(setup.engine, &snap);
		if (snap.runs_ended > ended)
			break;
		struct timespec ts = {0, 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	double warm = mn_now_s() - t1;
	int ok = snap.state == MN_ENGINE_DONE;
	printf("...then w_latency %g: %.3f s, %d new measured; target warm (other weights) <= 0.5 s "
	       "after the look-ahead: %s\n", to, warm, snap.evaluations - before,
	       ok && warm <= 0.5 ? "met" : "NOT met");
	mn_session_free(&setup);
	remove_dir(dir);
	return ok ? 0 : -1;
}

/* tenas: the TE-NAS preset's path, or NULL to leave that search out. */
static int responsiveness(const char *bin, int threads, const char *tenas)
{
	char dir[] = "/tmp/mn-bench-cache-XXXXXX";
	if (!mkdtemp(dir)) {
		perror("bench_search: mkdtemp");
		return -1;
	}
	struct mn_preset p;
	mn_preset_defaults(&p);
	double cold, warm, first, first_warm, lat = -1, t, f, c_cold, c_again, c_warm, c;
	int m_cold, m_warm, m;
	double l_cold = load1();
	if (timed_search(&p, bin, threads, dir, 0, &cold, &c_cold, &first, &lat, &m_cold))
		return -1;
	double again;
	int m_again;
	if (timed_search(&p, bin, threads, dir, 0, &again, &c_again, &first_warm, &lat, &m_again))
		return -1;
	p.w_latency = 3; /* other weights: cached values, new states measured */
	if (timed_search(&p, bin, threads, dir, 0, &warm, &c_warm, &first_warm, &lat, &m_warm))
		return -1;
	printf("default search (batch %d, repeat %d), load %.2f before it: cold %.2f s wall, %.2f s CPU "
	       "(%d measured), first ranking row after %.2f s; the same search again %.3f s wall, "
	       "%.3f s CPU (%d measured); w_latency 3 after it %.2f s wall, %.2f s CPU (%d measured: "
	       "the states only that weight reaches); load now %.2f\n",
	       p.batch, p.repeat, l_cold, cold, c_cold, m_cold, first, again, c_again, m_again, warm,
	       c_warm, m_warm, load1());
	/* Issue 13's targets, on an idle 2-core machine.  Its warm search is
	 * one with other weights: the states those weights reach and the
	 * cold search never did are measured anew, so it is the w_latency 3
	 * search above, not the same search again. */
	printf("targets: cold <= 10 s %s; warm (other weights) <= 0.5 s %s (the same weights: %s); "
	       "first row <= 1 s %s\n",
	       cold <= 10 ? "met" : "NOT met", warm <= 0.5 ? "met" : "NOT met",
	       again <= 0.5 ? "met" : "NOT met", first <= 1 ? "met" : "NOT met");
	p.w_latency = 0; /* the look-ahead starts from weights 0 */
	if (lookahead_rings(&p, bin, threads, 3) != 0)
		fprintf(stderr, "bench_search: the look-ahead search failed\n");
	p.w_latency = 3;
	/* Cancel mid-round: in an empty cache, 1.5 s in. */
	char dir2[] = "/tmp/mn-bench-cache-XXXXXX";
	if (mkdtemp(dir2) && timed_search(&p, bin, threads, dir2, 1.5, &t, &c, &f, &lat, &m) == 0)
		printf("cancel latency: %.3f s (cancel 1.5 s into a cold search, until the engine is idle; load %.2f); "
		       "target <= 0.2 s %s\n",
		       lat, load1(), lat <= 0.2 ? "met" : "NOT met");
	if (tenas) {
		char dir3[] = "/tmp/mn-bench-cache-XXXXXX";
		struct mn_error e;
		struct mn_preset q;
		mn_preset_defaults(&q);
		if (mn_preset_load(&q, tenas, &e) != 0)
			fprintf(stderr, "bench_search: %s\n", e.msg);
		else if (mkdtemp(dir3)) {
			double l = load1();
			if (timed_search(&q, bin, threads, dir3, 0, &t, &c, &f, &lat, &m) == 0)
				printf("TE-NAS preset search (batch %d): cold %.2f s wall, %.2f s CPU (%d measured), "
				       "first row %.2f s; load %.2f before, %.2f after; target <= 45 s %s\n",
				       q.batch, t, c, m, f, l, load1(), t <= 45 ? "met" : "NOT met");
			remove_dir(dir3);
		}
		mn_preset_free(&q);
	}
	remove_dir(dir);
	remove_dir(dir2);
	mn_preset_free(&p);
	return 0;
}

/* The quality runs of one batch: seeds searches, weights 0 (and with
 * all_weights the w_latency 1 and 3 re-runs from each search's cache). */
static int quality(const char *bin, const struct mn_oracle *o, const char *mode, int threads,
		   int batch, int seed0, int seeds, int all_weights)
{
	char err[512];
	int nw = all_weights ? N_WEIGHTS : 1;
	double acc[64][N_WEIGHTS], lat[64][N_WEIGHTS], secs[64], cpus[64];
	printf("quality: mode %s, batch %d, repeat 3, %d seeds, no cache, load %.2f\n", mode, batch,
	       seeds, load1());
	if (seeds > 64)
		seeds = 64;
	for (int s = 0; s < seeds; s++) {
		struct mn_preset p;
		static struct mn_session setup;
		struct mn_engine_snapshot snap;
		mn_preset_defaults(&p);
		p.seed = (uint64_t)(seed0 + s);
		p.batch = batch;
		p.repeat = 3;
		p.w_flops = 0;
		p.w_latency = 0;
		/* the method's quality, unconstrained as TE-NAS and MicroNAS
		 * published it (the preset's default limits are the board's) */
		p.max_sram_kb = p.max_flash_kb = 0;
		p.ntk_grad = !strcmp(mode, "fixed-stats") ? MN_GRAD_FIXED_STATS : MN_GRAD_EXACT;
		if (mn_session_init_cache(&setup, &p, bin, threads, "", err, sizeof err)) {
			fprintf(stderr, "bench_search: %s\n", err);
			return -1;
		}
		for (int w = 0; w < nw; w++) {
			double t0 = mn_now_s(), c0 = cpu_now();
			run_weights(setup.engine, w_latency[w], &snap, w == 0);
			if (snap.state != MN_ENGINE_DONE) {
				fprintf(stderr, "bench_search: search failed: %s\n", snap.error);
				return -1;
			}
			char a[MN_ARCH_STRLEN];
			mn_arch_format(&snap.result, a, sizeof a);
			const struct mn_oracle_entry *oe = o ? mn_oracle_get(o, &snap.result) : NULL;
			acc[s][w] = oe ? oe->acc : NAN;
			lat[s][w] = snap.result_latency_ms;
			if (w == 0) {
				secs[s] = snap.search_seconds;
				cpus[s] = cpu_now() - c0;
			}
			printf("batch %d seed %2d w_latency %.0f: %6.1f s  %7.2f ms  acc %6.2f  %s\n", batch, seed0 + s,
			       w_latency[w], w == 0 ? snap.search_seconds : mn_now_s() - t0, lat[s][w],
			       acc[s][w], a);
			fflush(stdout);
		}
		mn_session_free(&setup);
		mn_preset_free(&p);
	}
	double ms = 0, mc = 0, mean0 = 0, sd0 = 0;
	for (int s = 0; s < seeds; s++) {
		ms += secs[s] / seeds;
		mc += cpus[s] / seeds;
		mean0 += acc[s][0] / seeds;
	}
	for (int s = 0; s < seeds; s++)
		sd0 += (acc[s][0] - mean0) * (acc[s][0] - mean0) / (seeds > 1 ? seeds - 1 : 1);
	if (seeds > 0)
		printf("batch %d: search time (weights 0, first run) mean %.1f s wall, %.1f s CPU on %d cores, load now %.2f\n",
		       batch, ms, mc, bench_cores(), load1());
	if (o && seeds > 0) {
		printf("batch %d, weights 0: pick accuracy mean %.2f, sd %.2f over %d seeds (TE-NAS's own code here: 89.66, 90.32)\n",
		       batch, mean0, sqrt(sd0), seeds);
		for (int w = 1; w < nw; w++) {
			double ratio = 0, dacc = 0;
			for (int s = 0; s < seeds; s++) {
				ratio += lat[s][0] / lat[s][w] / seeds;
				dacc += (acc[s][w] - acc[s][0]) / seeds;
			}
			printf("batch %d, w_latency %.0f: latency %.2fx lower than at weights 0 (mean ratio), accuracy change %+.2f points\n",
			       batch, w_latency[w], ratio, dacc);
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	char b1[4096], b2[4096], err[512];
	mn_blas_set_threads(1); /* the search's workers run the networks */
	static const char *const names[] = {"--seeds", "--batches", "--batch", "--mode", "--threads", "--tenas",
					    "--what", "--sweep", "--seed0", NULL};
	static const char *const modes[] = {"exact", "fixed-stats", NULL};
	static const char *const whats[] = {"all", "speed", "quality", "lookahead", NULL};
	const char *pg = "bench_search";
	bench_check_args(argc, argv, pg,
			 "bench_search [--seeds 10] [--batches 32,72] [--mode exact|fixed-stats] [--threads N] "
			 "[--tenas 0|1] [--what all|speed|quality|lookahead] [--sweep 0|1] [--seed0 S]",
			 names);
	int seeds = (int)bench_int(argc, argv, pg, "--seeds", 10, 1, 100000);
	const char *mode = bench_word(argc, argv, pg, "--mode", "exact", modes, "exact or fixed-stats");
	int threads = (int)bench_int(argc, argv, pg, "--threads", 0, 0, 1024);
	const char *batches = bench_arg(argc, argv, "--batches", bench_arg(argc, argv, "--batch", "32,72"));
	int tenas = (int)bench_int(argc, argv, pg, "--tenas", 1, 0, 1);
	const char *what = bench_word(argc, argv, pg, "--what", "all", whats, "all, speed, quality or lookahead");
	int sweep = (int)bench_int(argc, argv, pg, "--sweep", 1, 0, 1);
	int seed0 = (int)bench_int(argc, argv, pg, "--seed0", 0, 0, 1000000);
	/* Each entry of the list a batch size: a bad one was skipped unseen. */
	for (const char *b = batches;;) {
		char *end;
		long v = strtol(b, &end, 10);
		if (end == b || v < 1 || v > 4096 || (*end && *end != ',')) {
			fprintf(stderr, "%s: --batches needs batch sizes 1..4096 separated by commas, got '%s'\n", pg,
				batches);
			return 2;
		}
		if (!*end)
			break;
		b = end + 1;
	}
	/* The preset is found before the minutes of the other searches, not
	 * after them. */
	char b3[4096];
	const char *tenas_preset = tenas && strcmp(what, "quality") && strcmp(what, "lookahead")
					   ? bench_preset(pg, "nucleo-f746zg-tenas", b3, sizeof b3)
					   : NULL;
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
	char speeds[512];
	bench_core_speeds(speeds, sizeof speeds);
	printf("bench_search: %d cores (shared with other work unless the machine was idle), OpenBLAS "
	       "kernels %s, latency from the built-in Cortex-M7 cycle model, load %.2f; %s\n",
	       bench_cores(), mn_blas_core(), load1(), speeds);
	if (!strcmp(what, "lookahead")) {
		struct mn_preset p;
		mn_preset_defaults(&p);
		int rc = lookahead_rings(&p, bin, threads, p.w_latency + 2 * MN_LOOKAHEAD_STEP);
		mn_preset_free(&p);
		return rc ? 1 : 0;
	}
	if (strcmp(what, "quality") && responsiveness(bin, threads, tenas_preset))
		return 1;
	if (strcmp(what, "speed")) {
		/* each batch of the list; the weights sweep on the first only */
		const char *b = batches;
		for (int first = 1; *b; first = 0) {
			int batch = atoi(b);
			if (batch > 0 && quality(bin, have_oracle ? &o : NULL, mode, threads, batch, seed0, seeds,
						 first && sweep) != 0)
				return 1;
			while (*b && *b != ',')
				b++;
			if (*b == ',')
				b++;
		}
	}
	if (have_oracle)
		mn_oracle_free(&o);
	return 0;
}
