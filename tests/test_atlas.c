/* The atlas: settings lines and their check, rows read back bit for bit,
 * torn and malformed rows, the seeded order, a small build (threads do not
 * change the file; resuming extends it; a changed first row is refused),
 * and the pick and Pareto front against brute force. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atlas/atlas_build.h"
#include "atlas/atlas_pick.h"
#include "space/latency_model.h"
#include "tap.h"
#include "data/dataset_source.h"

static char tmpdir[] = "/tmp/test_atlas.XXXXXX";

static void fast_settings(struct mn_atlas_settings *s, const struct mn_dataset *d, uint64_t seed)
{
	struct mn_tenas_config cfg;
	mn_tenas_config_default(&cfg);
	cfg.batch = 8;
	cfg.repeat = 1;
	cfg.grad = MN_GRAD_FIXED_STATS;
	/* A small estimate network: these tests check the file, not ranking. */
	cfg.az_channels = 4;
	cfg.az_cells = 1;
	mn_atlas_settings_make(s, d, seed, &cfg, MN_ATLAS_ORDER_SEEDED);
}

static long file_size(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fclose(f);
	return n;
}

static int same_file(const char *a, const char *b)
{
	FILE *f = fopen(a, "rb"), *g = fopen(b, "rb");
	int same = f && g;
	while (same) {
		int x = fgetc(f), y = fgetc(g);
		if (x != y)
			same = 0;
		if (x == EOF || y == EOF)
			break;
	}
	if (f)
		fclose(f);
	if (g)
		fclose(g);
	return same;
}

static void test_settings(const struct mn_dataset *d)
{
	struct mn_atlas_settings a, b;
	struct mn_atlas_kv kv[MN_ATLAS_MAX_SETTINGS];
	fast_settings(&a, d, 1);
	fast_settings(&b, d, 1);
	tap_ok(mn_atlas_settings_hash(&a) == mn_atlas_settings_hash(&b), "same settings, same hash");
	b.seed = 2;
	tap_ok(mn_atlas_settings_hash(&a) != mn_atlas_settings_hash(&b), "another seed, another hash");
	b = a;
	b.cfg.repeat = 2;
	tap_ok(mn_atlas_settings_hash(&a) != mn_atlas_settings_hash(&b), "another repeat, another hash");
	int n = mn_atlas_settings_kv(&a, kv), found = 0;
	for (int i = 0; i < n; i++)
		if (!strcmp(kv[i].key, "proxies")) {
			found = 1;
			for (int p = 0; p < MN_PROXY_COUNT; p++)
				if (!strstr(kv[i].value, mn_proxy_info((enum mn_proxy_id)p)->column))
					found = 0;
		}
	tap_ok(found, "the settings lines name every proxy column of the table");
	char path[256], err[256];
	setenv("XDG_CACHE_HOME", "/x/cache", 1);
	tap_ok(mn_atlas_default_path(&a, path, sizeof path, err, sizeof err) == 0 &&
		       !strncmp(path, "/x/cache/micronas/atlas-", 24),
	       "the default file is in $XDG_CACHE_HOME/micronas/ (%s)", path);
}

static void test_file(const struct mn_dataset *d)
{
	struct mn_atlas_settings s, other;
	struct mn_atlas_rows rows;
	char path[300], err[600], line[1024];
	long end;
	fast_settings(&s, d, 3);
	snprintf(path, sizeof path, "%s/rows.csv", tmpdir);
	FILE *f = fopen(path, "w");
	struct mn_proxy_values v[3];
	for (int i = 0; i < 3; i++)
		for (int p = 0; p < MN_PROXY_COUNT; p++)
			v[i].v[p] = (i + 1) / 3.0 * pow(10, p * 7 - 3) + p;
	mn_atlas_write_head(f, &s);
	for (int i = 0; i < 3; i++) {
		mn_atlas_format_row(line, sizeof line, 100 * i + 7, &v[i]);
		fputs(line, f);
	}
	long whole = ftell(f);
	fputs("|nor_conv_3x3~0|+|nor", f); /* torn */
	fclose(f);
	int rc = mn_atlas_read(path, &s, &rows, &end, err, sizeof err);
	int same = rc == 0 && rows.n == 3;
	for (int i = 0; same && i < 3; i++)
		same = rows.arch[i] == 100 * i + 7 && memcmp(&rows.v[i], &v[i], sizeof v[i]) == 0;
	tap_ok(same, "three rows read back bit for bit, in order");
	tap_ok(rc == 0 && end == whole, "the torn last line is dropped (good end %ld of %ld)", end, whole);
	mn_atlas_rows_free(&rows);

	other = s;
	other.seed = 4;
	rc = mn_atlas_read(path, &other, &rows, &end, err, sizeof err);
	tap_ok(rc == -1 && strstr(err, "seed 3, not 4"), "other settings are refused naming the difference: %s", err);

	snprintf(path, sizeof path, "%s/bad.csv", tmpdir);
	f = fopen(path, "w");
	mn_atlas_write_head(f, &s);
	mn_atlas_format_row(line, sizeof line, 5, &v[0]);
	fputs(line, f);
	fputs(line, f);
	fclose(f);
	rc = mn_atlas_read(path, &s, &rows, &end, err, sizeof err);
	tap_ok(rc == -1 && strstr(err, ":14: the arch appears twice"), "an arch twice is refused: %s", err);

	f = fopen(path, "w");
	mn_atlas_write_head(f, &s);
	fputs("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|,1\n", f);
	fclose(f);
	rc = mn_atlas_read(path, &s, &rows, &end, err, sizeof err);
	tap_ok(rc == -1 && strstr(err, ":13: malformed row"), "a row with too few values is refused: %s", err);

	snprintf(path, sizeof path, "%s/none.csv", tmpdir);
	tap_ok(mn_atlas_read(path, &s, &rows, &end, err, sizeof err) == 1, "a missing file is 'none yet'");
}

static void test_order(void)
{
	static int a[MN_ARCH_COUNT], b[MN_ARCH_COUNT], c[MN_ARCH_COUNT];
	static unsigned char seen[MN_ARCH_COUNT];
	mn_atlas_order(MN_ATLAS_ORDER_SEEDED, 1, a);
	mn_atlas_order(MN_ATLAS_ORDER_SEEDED, 1, b);
	mn_atlas_order(MN_ATLAS_ORDER_SEEDED, 2, c);
	int perm = 1;
	for (int i = 0; i < MN_ARCH_COUNT; i++) {
		if (a[i] < 0 || a[i] >= MN_ARCH_COUNT || seen[a[i]])
			perm = 0;
		else
			seen[a[i]] = 1;
	}
	tap_ok(perm, "the seeded order is a permutation of the space");
	tap_ok(!memcmp(a, b, sizeof a), "same seed, same order");
	tap_ok(memcmp(a, c, sizeof a) != 0, "another seed, another order");
	/* A uniform sample: the first 1000 hold about 1000 x 3125/15625 = 200
	 * archs with `none` on edge 0 (sd ~ 13). */
	int none0 = 0;
	for (int i = 0; i < 1000; i++) {
		struct mn_arch x;
		mn_arch_from_index(a[i], &x);
		none0 += x.op[0] == MN_OP_NONE;
	}
	tap_ok(none0 > 140 && none0 < 260, "a prefix is a spread sample (%d of 1000 with none on edge 0)", none0);
}

static int build(const char *path, const struct mn_atlas_settings *s, const struct mn_dataset *d, int threads,
		 int max, struct mn_atlas_build_result *res, char *err, size_t errn)
{
	struct mn_atlas_build b = {path, *s, d, threads, max, NULL, NULL, NULL, NULL};
	return mn_atlas_build_run(&b, res, err, errn);
}

static void test_build(const struct mn_dataset *d)
{
	struct mn_atlas_settings s;
	struct mn_atlas_build_result res;
	struct mn_atlas_rows rows;
	char one[300], two[300], err[600];
	long end;
	fast_settings(&s, d, 5);
	snprintf(one, sizeof one, "%s/one.csv", tmpdir);
	snprintf(two, sizeof two, "%s/sub/two.csv", tmpdir);
	int rc = build(one, &s, d, 1, 4, &res, err, sizeof err);
	tap_ok(rc == 0 && res.had == 0 && res.written == 4 && !res.complete, "a build of 4 archs, one thread");
	rc = build(two, &s, d, 3, 4, &res, err, sizeof err);
	tap_ok(rc == 0 && same_file(one, two), "three threads write the same file byte for byte (dir created)");
	rc = build(one, &s, d, 2, 2, &res, err, sizeof err);
	tap_ok(rc == 0 && res.had == 4 && res.written == 2, "resuming adds 2 to the 4");
	rc = mn_atlas_read(one, &s, &rows, &end, err, sizeof err);
	int order[MN_ARCH_COUNT], prefix = rc == 0 && rows.n == 6;
	mn_atlas_order(MN_ATLAS_ORDER_SEEDED, 5, order);
	for (int i = 0; prefix && i < 6; i++)
		prefix = rows.arch[i] == order[i];
	tap_ok(prefix, "the 6 rows are the first 6 of the seed's order");
	mn_atlas_rows_free(&rows);

	/* Tamper with the first value: the re-check finds it. */
	FILE *f = fopen(two, "r+");
	char line[1024];
	long pos = 0;
	for (int i = 0; i < 13 && fgets(line, sizeof line, f); i++)
		if (i < 12)
			pos = ftell(f);
	char *comma = strchr(line, ',');
	fseek(f, pos + (comma - line) + 1, SEEK_SET);
	fputc(comma[1] == '9' ? '8' : '9', f);
	fclose(f);
	long before = file_size(two);
	rc = build(two, &s, d, 1, 1, &res, err, sizeof err);
	tap_ok(rc == -1 && strstr(err, "first row scores") && file_size(two) == before,
	       "a first row this program scores otherwise is refused, the file untouched: %.120s", err);
}

/* A source of 6 positions that counts what the workers do. */
struct count_src {
	pthread_mutex_t lock;
	int next, takes, puts, fails;
};
static int cs_take(void *ctx, int *pos, int *arch)
{
	struct count_src *c = ctx;
	pthread_mutex_lock(&c->lock);
	int ok = c->next < 6;
	if (ok) {
		*pos = c->next;
		*arch = 100 + c->next++;
		c->takes++;
	}
	pthread_mutex_unlock(&c->lock);
	return ok;
}
static void cs_put(void *ctx, int pos, const struct mn_proxy_values *v)
{
	struct count_src *c = ctx;
	(void)pos, (void)v;
	pthread_mutex_lock(&c->lock);
	c->puts++;
	pthread_mutex_unlock(&c->lock);
}
static void cs_fail(void *ctx, const char *msg)
{
	struct count_src *c = ctx;
	(void)msg;
	pthread_mutex_lock(&c->lock);
	c->fails++;
	pthread_mutex_unlock(&c->lock);
}

/* Workers whose cancel flag is set drop the arch they took, inside its
 * proxies: nothing is put, nothing fails, and each stops after one take. */
static void test_workers_cancel(const struct mn_dataset *d)
{
	struct mn_atlas_settings s;
	struct count_src c = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, 0};
	struct mn_atlas_source src = {cs_take, cs_put, cs_fail, &c};
	char err[600];
	atomic_int flag;
	fast_settings(&s, d, 5);
	atomic_init(&flag, 1);
	struct mn_atlas_workers *w = mn_atlas_workers_start(&s.cfg, d, 5, 2, &src, &flag, err, sizeof err);
	mn_atlas_workers_join(w);
	tap_ok(w && c.puts == 0 && c.fails == 0 && c.takes >= 1 && c.takes <= 2,
	       "cancelled workers drop their archs: %d taken, %d put, %d failed", c.takes, c.puts,
	       c.fails);
	atomic_store(&flag, 0);
	c.next = c.takes = 0;
	w = mn_atlas_workers_start(&s.cfg, d, 5, 2, &src, &flag, err, sizeof err);
	mn_atlas_workers_join(w);
	tap_ok(w && c.puts == 6 && c.fails == 0, "with the flag clear they score all 6 (%d put)", c.puts);
}

static int stop_now(void *ctx)
{
	(void)ctx;
	return 1;
}

/* A stop cuts the archs in flight short (inside their proxies): the build
 * ends early, and a rerun completes the same file as a build never
 * stopped. */
static void test_stop(const struct mn_dataset *d)
{
	struct mn_atlas_settings s;
	struct mn_atlas_build_result res;
	char whole[300], cut[300], err[600];
	fast_settings(&s, d, 5);
	snprintf(whole, sizeof whole, "%s/whole.csv", tmpdir);
	snprintf(cut, sizeof cut, "%s/cut.csv", tmpdir);
	int rc = build(whole, &s, d, 2, 6, &res, err, sizeof err);
	struct mn_atlas_build b = {cut, s, d, 2, 6, NULL, stop_now, NULL, NULL};
	int rc1 = mn_atlas_build_run(&b, &res, err, sizeof err);
	tap_ok(rc == 0 && rc1 == 1 && res.written < 6,
	       "a stop at the first poll ends the build early (rc %d, %d of 6 rows)", rc1, res.written);
	rc = build(cut, &s, d, 2, 6 - res.written, &res, err, sizeof err);
	tap_ok(rc == 0 && same_file(whole, cut),
	       "the rerun completes the same file as a build never stopped");
}

static void test_pick(void)
{
	struct mn_atlas_rows rows;
	struct mn_atlas a;
	struct mn_latency_table t;
	struct mn_rng r;
	char err[200];
	int n = 2000;
	rows.n = n;
	rows.arch = malloc((size_t)n * sizeof *rows.arch);
	rows.v = malloc((size_t)n * sizeof *rows.v);
	int order[MN_ARCH_COUNT];
	mn_atlas_order(MN_ATLAS_ORDER_SEEDED, 9, order);
	mn_rng_seed(&r, 42);
	for (int i = 0; i < n; i++) {
		rows.arch[i] = order[i];
		for (int p = 0; p < MN_PROXY_COUNT; p++)
			rows.v[i].v[p] = mn_rng_uniform(&r) * 1000;
	}
	int rc = mn_atlas_from_rows(&a, &rows, err, sizeof err);
	mn_latency_model_nucleo(16, 5, 32, 32, 10, &t);
	struct mn_atlas_costs c = {MN_SHAPE_DEFAULT, 0, &t};
	rc = rc || mn_atlas_set_costs(&a, &c);
	tap_ok(rc == 0, "an atlas of 2000 rows with costs");
	struct mn_constraints none = {0, 0, 0};
	int i0 = mn_atlas_pick(&a, 0, 0, &none), best = 0;
	for (int i = 1; i < n; i++)
		if (a.est[i] > a.est[best])
			best = i;
	tap_ok(i0 >= 0 && a.est[i0] == a.est[best], "weights 0 pick the best estimate");
	int i5 = mn_atlas_pick(&a, 0, 5, &none);
	tap_ok(i5 >= 0 && a.latency_ms[i5] <= a.latency_ms[i0], "latency weight 5: latency %.1f <= %.1f ms",
	       a.latency_ms[i5], a.latency_ms[i0]);
	double med = a.latency_ms[i0] / 2;
	struct mn_constraints lim = {med, 0, 0};
	int il = mn_atlas_pick(&a, 0, 0, &lim), bl = -1;
	for (int i = 0; i < n; i++)
		if (a.latency_ms[i] <= med && (bl < 0 || a.est[i] > a.est[bl]))
			bl = i;
	tap_ok(il >= 0 && a.latency_ms[il] <= med && a.est[il] == a.est[bl],
	       "a latency limit: the best estimate within it (brute force)");
	struct mn_constraints tiny = {0.001, 0, 0};
	tap_ok(mn_atlas_pick(&a, 0, 0, &tiny) == -1, "nothing fits: -1");

	int *front = malloc((size_t)n * sizeof *front), ok = 1;
	unsigned char *on = calloc((size_t)n, 1);
	int m = mn_atlas_pareto(&a, MN_ATLAS_BY_LATENCY, front);
	for (int k = 0; k < m; k++)
		on[front[k]] = 1;
	for (int i = 0; i < n && ok; i++) {
		int dominated = 0;
		for (int j = 0; j < n && !dominated; j++)
			dominated = a.latency_ms[j] <= a.latency_ms[i] && a.est[j] >= a.est[i] &&
				    (a.latency_ms[j] < a.latency_ms[i] || a.est[j] > a.est[i]);
		/* Equal points: only one of them is listed. */
		if (on[i] == dominated)
			ok = 0;
		if (!on[i] && !dominated) {
			ok = 0;
			for (int k = 0; k < m; k++)
				if (a.latency_ms[front[k]] == a.latency_ms[i] && a.est[front[k]] == a.est[i])
					ok = 1;
		}
	}
	for (int k = 1; k < m; k++)
		if (!(a.latency_ms[front[k]] >= a.latency_ms[front[k - 1]] && a.est[front[k]] > a.est[front[k - 1]]))
			ok = 0;
	tap_ok(m > 0 && ok, "the latency front (%d rows) is exactly the non-dominated rows, by latency", m);
	free(front);
	free(on);
	mn_atlas_free(&a);
	mn_atlas_rows_free(&rows);
}

int main(void)
{
	struct mn_dataset d;
	char err[200];
	if (!mkdtemp(tmpdir) || mn_dataset_synthetic(&d, 256, 1, err, sizeof err)) {
		printf("Bail out! no temporary directory or data\n");
		return 1;
	}
	test_settings(&d);
	test_file(&d);
	test_order();
	test_build(&d);
	test_stop(&d);
	test_workers_cancel(&d);
	test_pick();
	mn_dataset_free(&d);
	char cmd[400];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", tmpdir);
	return tap_done();
}
