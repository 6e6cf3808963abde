/* The atlas: build throughput per setting, pick time on a complete atlas,
 * and pick quality against the NAS-Bench-201 oracle (which measures only).
 *   bench_atlas [--archs 24] [--quality-archs 400] [--threads 2] [--seed 0]
 *
 * 1. Throughput: a partial atlas of --archs archs per setting (batch 72 and
 *    32 exact, 32 fixed-stats; repeat 3), archs/s on --threads threads,
 *    and the complete atlas's time at that rate.
 * 2. Pick time: a complete atlas (15,625 rows) with generated proxy values
 *    (a real one takes too long to build here): load + costs once, then
 *    picks at many weights and limits.
 * 3. Quality: a real partial atlas (fixed-stats, batch 32, repeat 3, on the
 *    ../shared CIFAR-10 subset; kept in bench/bench_atlas-quality.csv and extended
 *    to --quality-archs on every run), picks at weights 0 and at latency
 *    budgets of 25/50/75/100% of the weights-0 pick's latency, each beside the
 *    oracle's best arch under the same budget (over the whole space, and
 *    over the atlas's archs): the regret in accuracy points.
 * 4. Stop latency: a build of the default settings stopped 1.5, 3 and 4.5 s
 *    in; the time from the stop being seen to the build's return (the TUI's
 *    q, preset switch and search start wait that long for its extender). */
#include <math.h>

#include "atlas/atlas_build.h"
#include "atlas/atlas_pick.h"
#include "bench_common.h"
#include "data/oracle.h"
#include "space/latency_model.h"
#include "util/rng.h"
#include "data/dataset_source.h"

static int build(const char *path, const struct mn_atlas_settings *s, const struct mn_dataset *d, int threads,
		 int max, struct mn_atlas_build_result *res)
{
	char err[600];
	struct mn_atlas_build b = {path, *s, d, threads, max, NULL, NULL, NULL, NULL};
	if (mn_atlas_build_run(&b, res, err, sizeof err) != 0) {
		fprintf(stderr, "bench_atlas: %s\n", err);
		return -1;
	}
	return 0;
}

static void settings(struct mn_atlas_settings *s, const struct mn_dataset *d, uint64_t seed, int batch,
		     enum mn_grad_mode grad)
{
	struct mn_tenas_config cfg;
	mn_tenas_config_default(&cfg);
	cfg.batch = batch;
	cfg.repeat = 3;
	cfg.grad = grad;
	mn_atlas_settings_make(s, d, seed, &cfg, MN_ATLAS_ORDER_SEEDED);
}

static int throughput(const struct mn_dataset *d, uint64_t seed, int archs, int threads)
{
	static const struct {
		int batch;
		enum mn_grad_mode grad;
		const char *name;
	} set[] = {{72, MN_GRAD_EXACT, "batch 72 exact"},
		   {32, MN_GRAD_EXACT, "batch 32 exact"},
		   {32, MN_GRAD_FIXED_STATS, "batch 32 fixed-stats"}};
	printf("throughput (%d archs each, %d threads, repeat 3; the machine is shared: figures vary "
	       "with its load):\n", archs, threads);
	for (size_t k = 0; k < sizeof set / sizeof set[0]; k++) {
		struct mn_atlas_settings s;
		struct mn_atlas_build_result res;
		char path[256];
		snprintf(path, sizeof path, "bench/bench_atlas-throughput-%zu.csv", k);
		remove(path);
		settings(&s, d, seed, set[k].batch, set[k].grad);
		double t0 = mn_now_s();
		if (build(path, &s, d, threads, archs, &res))
			return -1;
		double dt = mn_now_s() - t0, rate = res.written / dt;
		printf("  %-22s %6.2f archs/s  (%.3f s/arch; complete atlas %.0f min)\n", set[k].name, rate,
		       1 / rate, MN_ARCH_COUNT / rate / 60);
		remove(path);
	}
	return 0;
}

/* stop_requested: 1 from `after` seconds on; records when it first said so. */
struct stop_at {
	double t0, after, said;
};
static int stop_after(void *ctx)
{
	struct stop_at *s = ctx;
	double t = mn_now_s();
	if (t - s->t0 < s->after)
		return 0;
	if (s->said == 0)
		s->said = t;
	return 1;
}

static int stop_latency(const struct mn_dataset *d, uint64_t seed, int threads)
{
	struct mn_tenas_config cfg;
	struct mn_atlas_settings s;
	mn_tenas_config_default(&cfg);
	mn_atlas_settings_make(&s, d, seed, &cfg, MN_ATLAS_ORDER_SEEDED);
	printf("stop latency (default settings, %d threads; from the stop seen to the build's "
	       "return):", threads);
	for (int k = 1; k <= 3; k++) {
		const char *path = "bench/bench_atlas-stop.csv";
		struct stop_at st = {mn_now_s(), 1.5 * k, 0};
		struct mn_atlas_build b = {path, s, d, threads, 0, NULL, stop_after, &st, NULL};
		struct mn_atlas_build_result res;
		char err[600];
		remove(path);
		int rc = mn_atlas_build_run(&b, &res, err, sizeof err);
		double dt = mn_now_s() - st.said;
		remove(path);
		if (rc != 1) {
			fprintf(stderr, "bench_atlas: the stopped build returned %d: %s\n", rc,
				rc < 0 ? err : "(not stopped)");
			return -1;
		}
		printf("%s %.3f s after %.1f s", k > 1 ? "," : "", dt, st.after);
	}
	printf("\n");
	return 0;
}

static int pick_time(uint64_t seed)
{
	char path[] = "bench/bench_atlas-synthetic.csv", err[600];
	struct mn_dataset d;
	struct mn_atlas_settings s;
	struct mn_rng r;
	int order[MN_ARCH_COUNT];
	mn_dataset_synthetic(&d, 64, seed, err, sizeof err);
	settings(&s, &d, seed, 32, MN_GRAD_FIXED_STATS);
	FILE *f = fopen(path, "w");
	if (!f || mn_atlas_write_head(f, &s)) {
		fprintf(stderr, "bench_atlas: cannot write %s\n", path);
		return -1;
	}
	mn_atlas_order(MN_ATLAS_ORDER_SEEDED, seed, order);
	mn_rng_seed(&r, seed + 1);
	for (int i = 0; i < MN_ARCH_COUNT; i++) {
		struct mn_proxy_values v;
		char line[1024];
		for (int p = 0; p < MN_PROXY_COUNT; p++)
			v.v[p] = exp(mn_rng_normal(&r) * 2 + 5);
		mn_atlas_format_row(line, sizeof line, order[i], &v);
		fputs(line, f);
	}
	fclose(f);
	struct mn_atlas a;
	struct mn_latency_table t;
	double t0 = mn_now_s();
	if (mn_atlas_load(&a, path, &s, err, sizeof err)) {
		fprintf(stderr, "bench_atlas: %s\n", err);
		return -1;
	}
	double t1 = mn_now_s();
	mn_latency_model_nucleo(16, 5, 32, 32, 10, &t);
	struct mn_atlas_costs c = {MN_SHAPE_DEFAULT, 0, &t};
	mn_atlas_set_costs(&a, &c);
	double t2 = mn_now_s();
	int picks = 400, sink = 0;
	for (int k = 0; k < picks; k++) {
		struct mn_constraints lim = {k % 4 ? 100.0 + k : 0, k % 3 ? 256 : 0, 0};
		sink += mn_atlas_pick(&a, (k % 7) * 0.25, (k % 5) * 0.5, &lim);
	}
	double t3 = mn_now_s();
	int *rows = malloc(MN_ARCH_COUNT * sizeof *rows);
	int m = mn_atlas_pareto(&a, MN_ATLAS_BY_LATENCY, rows);
	double t4 = mn_now_s();
	printf("pick on a complete atlas (%d rows, generated values): load + estimate %.1f ms, costs %.1f ms "
	       "(once); pick %.3f ms (mean of %d weights/limits); latency front %.1f ms (%d archs)%s\n",
	       a.n, (t1 - t0) * 1e3, (t2 - t1) * 1e3, (t3 - t2) * 1e3 / picks, picks, (t4 - t3) * 1e3, m,
	       sink == -picks ? " (no pick?)" : "");
	free(rows);
	mn_atlas_free(&a);
	mn_dataset_free(&d);
	remove(path);
	return 0;
}

/* The oracle's best accuracy among archs with latency <= budget (0: none);
 * only the atlas's archs when a is given. */
static double oracle_best(const struct mn_oracle *o, const struct mn_latency_table *t,
			  const struct mn_atlas *a, double budget)
{
	double best = -1;
	int n = a ? a->n : MN_ARCH_COUNT;
	for (int k = 0; k < n; k++) {
		int idx = a ? a->arch[k] : k;
		struct mn_arch arch;
		unsigned char mask[MN_EDGES];
		mn_arch_from_index(idx, &arch);
		for (int e = 0; e < MN_EDGES; e++)
			mask[e] = (unsigned char)(1u << arch.op[e]);
		double ms = mn_latency_mixed_us(t, mask) / 1000.0;
		const struct mn_oracle_entry *en = mn_oracle_get_index(o, idx);
		if (en && (budget <= 0 || ms <= budget) && en->acc > best)
			best = en->acc;
	}
	return best;
}

static int quality(const struct mn_dataset *d, int real_data, uint64_t seed, int archs, int threads)
{
	char obuf[4096], err[600];
	const char *opath = bench_shared("data/nb201/nb201_cifar10.csv", obuf, sizeof obuf);
	if (!opath) {
		printf("# SKIP-NOTE pick quality: ../shared/data/nb201/nb201_cifar10.csv absent\n");
		return 0;
	}
	struct mn_oracle o;
	if (mn_oracle_load(&o, opath, err, sizeof err)) {
		fprintf(stderr, "bench_atlas: %s\n", err);
		return -1;
	}
	struct mn_atlas_settings s;
	struct mn_atlas_build_result res;
	const char *path = "bench/bench_atlas-quality.csv";
	settings(&s, d, seed, 32, MN_GRAD_FIXED_STATS);
	double t0 = mn_now_s();
	struct mn_atlas_rows rows;
	long end;
	int have = mn_atlas_read(path, &s, &rows, &end, err, sizeof err) == 0 ? rows.n : 0;
	if (have)
		mn_atlas_rows_free(&rows);
	if (have < archs && build(path, &s, d, threads, archs - have, &res)) {
		mn_oracle_free(&o);
		return -1;
	}
	double dt = mn_now_s() - t0;
	struct mn_atlas a;
	struct mn_latency_table t;
	if (mn_atlas_load(&a, path, &s, err, sizeof err)) {
		fprintf(stderr, "bench_atlas: %s\n", err);
		mn_oracle_free(&o);
		return -1;
	}
	mn_latency_model_nucleo(16, 5, 32, 32, 10, &t);
	struct mn_atlas_costs c = {MN_SHAPE_DEFAULT, 0, &t};
	mn_atlas_set_costs(&a, &c);
	printf("pick quality: real partial atlas of %d archs (fixed-stats, batch 32, repeat 3, %s; %s %.0f s), "
	       "built-in Cortex-M7 latency model, no SRAM/flash limits\n",
	       a.n, real_data ? "../shared CIFAR-10 subset" : "synthetic data",
	       have >= archs ? "read from the kept file in" : "built or extended in", dt);
	struct mn_constraints none = {0, 0, 0};
	int i0 = mn_atlas_pick(&a, 0, 0, &none);
	double lat0 = a.latency_ms[i0];
	printf("  %-16s %8s %9s %9s %14s %8s %14s %8s\n", "budget", "ms", "pick ms", "pick acc", "best (space)",
	       "regret", "best (atlas)", "regret");
	static const double frac[] = {0, 0.25, 0.5, 0.75, 1.0};
	for (int k = 0; k < 5; k++) {
		double budget = frac[k] * lat0;
		struct mn_constraints lim = {budget, 0, 0};
		int i = mn_atlas_pick(&a, 0, 0, &lim);
		char label[32];
		snprintf(label, sizeof label, k ? "%.0f%% of w=0 pick" : "weights 0", frac[k] * 100);
		double bs = oracle_best(&o, &t, NULL, budget), ba = oracle_best(&o, &t, &a, budget);
		if (i < 0) {
			printf("  %-16s %8.1f %9s (no atlas arch fits)\n", label, budget, "-");
			continue;
		}
		struct mn_arch arch;
		mn_arch_from_index(a.arch[i], &arch);
		const struct mn_oracle_entry *en = mn_oracle_get(&o, &arch);
		double acc = en ? en->acc : NAN;
		printf("  %-16s %8.1f %9.1f %9.2f %14.2f %8.2f %14.2f %8.2f\n", label, budget, a.latency_ms[i], acc,
		       bs, bs - acc, ba, ba - acc);
	}
	mn_atlas_free(&a);
	mn_oracle_free(&o);
	return 0;
}

int main(int argc, char **argv)
{
	static const char *const names[] = {"--archs", "--quality-archs", "--threads", "--seed", NULL};
	const char *p = "bench_atlas";
	bench_check_args(argc, argv, p, "bench_atlas [--archs 24] [--quality-archs 400] [--threads 2] [--seed 0]",
			 names);
	int archs = (int)bench_int(argc, argv, p, "--archs", 24, 1, 15625);
	int qarchs = (int)bench_int(argc, argv, p, "--quality-archs", 400, 1, 15625);
	int threads = (int)bench_int(argc, argv, p, "--threads", 2, 1, 1024);
	uint64_t seed = (uint64_t)bench_int(argc, argv, p, "--seed", 0, 0, 2147483647);
	char dbuf[4096], err[600];
	const char *dpath = bench_shared("data/cifar10/data_batch_subset.bin", dbuf, sizeof dbuf);
	struct mn_dataset d;
	if (dpath ? mn_dataset_load(&d, dpath, err, sizeof err) : mn_dataset_synthetic(&d, 1024, seed, err, sizeof err)) {
		fprintf(stderr, "bench_atlas: %s\n", err);
		return 1;
	}
	if (!dpath)
		printf("# SKIP-NOTE ../shared CIFAR-10 subset absent: synthetic data\n");
	int rc = throughput(&d, seed, archs, threads) || stop_latency(&d, seed, threads) || pick_time(seed) ||
		 quality(&d, dpath != NULL, seed, qarchs, threads);
	mn_dataset_free(&d);
	return rc ? 1 : 0;
}
