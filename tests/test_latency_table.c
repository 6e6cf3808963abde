/* The latency table: reading, atomic writing, estimates, the cycle model
 * and the shipped NUCLEO-F746ZG table.
 *
 * With --regenerate FILE it writes the cycle model's NUCLEO-F746ZG table
 * to FILE instead of testing (how presets/nucleo-f746zg-latency.ini is
 * made). */
#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "space/latency_model.h"
#include "space/latency_table.h"
#include "tap.h"

static char tmpdir[256];

#define A_TENAS "|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"
#define A_MICRONAS "|nor_conv_1x1~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|nor_conv_1x1~2|"

static const char *tpath(const char *name, char *buf, size_t n)
{
	snprintf(buf, n, "%s/%s", tmpdir, name);
	return buf;
}

static int same_table(const struct mn_latency_table *a, const struct mn_latency_table *b)
{
	if (strcmp(a->board, b->board) || strcmp(a->source, b->source) || a->clock_mhz != b->clock_mhz ||
	    a->channels != b->channels || a->cells != b->cells || a->height != b->height || a->width != b->width ||
	    a->classes != b->classes || a->input_channels != b->input_channels || a->stem_us != b->stem_us || a->head_us != b->head_us ||
	    a->overhead_us != b->overhead_us || a->reduction_us[0] != b->reduction_us[0] ||
	    a->reduction_us[1] != b->reduction_us[1])
		return 0;
	for (int s = 0; s < MN_STAGES; s++) {
		if (a->add_us[s] != b->add_us[s])
			return 0;
		for (int op = 0; op < MN_OP_COUNT; op++)
			if (a->op_us[s][op] != b->op_us[s][op])
				return 0;
	}
	return 1;
}

/* Round numbers that make the estimates easy to work out by hand. */
static void simple_table(struct mn_latency_table *t)
{
	memset(t, 0, sizeof *t);
	snprintf(t->board, sizeof t->board, "Test board");
	snprintf(t->source, sizeof t->source, "hand-made numbers for the test");
	t->clock_mhz = 100;
	t->channels = 16;
	t->cells = 5;
	t->height = t->width = 32;
	t->classes = 10;
	for (int s = 0; s < 3; s++) {
		t->op_us[s][MN_OP_SKIP] = 1;
		t->op_us[s][MN_OP_CONV1] = 10 + s;
		t->op_us[s][MN_OP_CONV3] = 30 + s;
		t->op_us[s][MN_OP_POOL3] = 5 + s;
		t->add_us[s] = 2 + s;
	}
	t->stem_us = 100;
	t->reduction_us[0] = 200;
	t->reduction_us[1] = 300;
	t->head_us = 50;
	t->overhead_us = 1000;
}

static struct mn_arch arch(const char *s)
{
	struct mn_arch a;
	struct mn_parse_error pe;
	if (mn_arch_parse(s, &a, &pe) != 0)
		tap_diag("bad arch in test: %s", pe.msg);
	return a;
}

static void test_estimates(void)
{
	struct mn_latency_table t;
	simple_table(&t);
	struct mn_arch a = arch(A_MICRONAS);
	/* conv1 + conv3 + skip + conv1, and node 3 sums 2 inputs: 1 addition.
	 * Stage cells: 10+30+1+10+2 = 53, 11+31+1+11+3 = 57, 12+32+1+12+4 = 61;
	 * x 5 cells = 855; fixed 1000+100+200+300+50 = 1650. */
	tap_ok(mn_latency_cell_adds(&a) == 1, "MicroNAS pick: 1 node addition");
	tap_ok(mn_latency_arch_us(&t, &a) == 2505, "MicroNAS pick: 1650 + 5 x (53 + 57 + 61) = 2505 us (%g)",
	       mn_latency_arch_us(&t, &a));
	/* 5 conv3 + 1 conv1; nodes 2 and 3 have 2 and 3 inputs: 3 additions.
	 * 150+10+6 = 166, 155+11+9 = 175, 160+12+12 = 184; x 5 = 2625. */
	a = arch(A_TENAS);
	tap_ok(mn_latency_cell_adds(&a) == 3, "TE-NAS pick: 3 node additions");
	tap_ok(mn_latency_arch_us(&t, &a) == 4275, "TE-NAS pick: 1650 + 5 x (166 + 175 + 184) = 4275 us (%g)",
	       mn_latency_arch_us(&t, &a));
	mn_arch_from_index(0, &a);
	tap_ok(mn_latency_arch_us(&t, &a) == 1650, "all none: the fixed parts only");

	/* A mixed supernet with every non-none op on every edge: per edge
	 * 46/49/52; nodes hold 4, 8, 12 active ops: 3 + 7 + 11 = 21 additions.
	 * 276+42 = 318, 294+63 = 357, 312+84 = 396; x 5 = 5355. */
	unsigned char all[MN_EDGES], nonone[MN_EDGES];
	for (int e = 0; e < MN_EDGES; e++) {
		all[e] = 0x1f;
		nonone[e] = 0x1e;
	}
	tap_ok(mn_latency_mixed_us(&t, nonone) == 7005, "full mixed supernet: 1650 + 5 x (318 + 357 + 396) = 7005 us (%g)",
	       mn_latency_mixed_us(&t, nonone));
	unsigned char single[MN_EDGES];
	a = arch(A_TENAS);
	for (int e = 0; e < MN_EDGES; e++)
		single[e] = (unsigned char)(1u << a.op[e]);
	tap_ok(mn_latency_mixed_us(&t, single) == mn_latency_arch_us(&t, &a), "a one-op-per-edge mask = that arch");

	struct mn_arch best;
	/* Without none, all-skip is fastest: 6 skips + 3 additions per cell:
	 * 12, 15, 18; x 5 = 225. */
	double m = mn_latency_min_us(&t, nonone, &best);
	int allskip = 1;
	for (int e = 0; e < MN_EDGES; e++)
		allskip &= best.op[e] == MN_OP_SKIP;
	tap_ok(m == 1875 && allskip, "min over the no-none supernet: all skip, 1875 us (%g)", m);
	m = mn_latency_min_us(&t, all, &best);
	tap_ok(m == 1650 && mn_arch_to_index(&best) == 0, "min with none allowed: all none");
	all[0] = 1u << MN_OP_CONV3;
	m = mn_latency_min_us(&t, all, &best);
	tap_ok(m == 2115 && best.op[0] == MN_OP_CONV3 && mn_arch_to_index(&best) == 3 * 3125,
	       "edge 0 forced to conv3: 1650 + 5 x 93 = 2115 us");
	/* Exhaustive check of the minimum against every arch. */
	double brute = INFINITY;
	for (int i = 0; i < MN_ARCH_COUNT; i++) {
		mn_arch_from_index(i, &a);
		if (a.op[0] == MN_OP_CONV3 && mn_latency_arch_us(&t, &a) < brute)
			brute = mn_latency_arch_us(&t, &a);
	}
	tap_ok(brute == m, "the enumeration's minimum equals the brute-force one");
}

static int count_temp_files(const char *dir)
{
	DIR *d = opendir(dir);
	int n = 0;
	struct dirent *e;
	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += strstr(e->d_name, ".tmp") != NULL;
	closedir(d);
	return n;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = calloc(1, 1 << 16);
	size_t n = buf ? fread(buf, 1, (1 << 16) - 1, f) : 0;
	(void)n;
	fclose(f);
	return buf;
}

static void test_write_read(void)
{
	char p[512], q[512], err[512];
	struct mn_latency_table t, u;
	simple_table(&t);
	t.op_us[1][MN_OP_CONV3] = 0.1 + 0.2; /* not a short decimal */
	t.stem_us = 1e-7;
	t.overhead_us = 123456789.125;
	int rc = mn_latency_table_write(&t, tpath("t.ini", p, sizeof p), "a comment\n\nsecond line", err, sizeof err);
	tap_ok(rc == 0, "writes a table (%s)", rc ? err : "ok");
	rc = mn_latency_table_read(&u, p, err, sizeof err);
	tap_ok(rc == 0, "reads it back (%s)", rc ? err : "ok");
	tap_ok(same_table(&t, &u), "write -> read gives the same table, bit for bit");
	tap_ok(count_temp_files(tmpdir) == 0, "no temporary file left behind");
	char *text = slurp(p);
	tap_ok(text && strncmp(text, "; a comment\n;\n; second line\n\n[meta]\n", 35) == 0 && strstr(text, "[stage1]\n; 32 channels at 16x16\n"),
	       "the comment comes first, each stage is labelled with its shape");

	/* Overwriting keeps the file's mode. */
	tap_ok(chmod(p, 0640) == 0, "chmod 0640");
	t.head_us = 51;
	struct stat st;
	rc = mn_latency_table_write(&t, p, NULL, err, sizeof err);
	tap_ok(rc == 0 && stat(p, &st) == 0 && (st.st_mode & 0777) == 0640, "a rewrite keeps mode 0640");
	free(text);
	text = slurp(p);

	/* Refused writes change nothing. */
	t.add_us[2] = NAN;
	rc = mn_latency_table_write(&t, p, NULL, err, sizeof err);
	char *after = slurp(p);
	tap_ok(rc != 0 && strstr(err, "[stage2] add") && text && after && strcmp(text, after) == 0,
	       "a NaN entry is refused before the file is touched: %s", err);
	free(after);
	t.add_us[2] = 4;
	snprintf(t.source, sizeof t.source, "has ; a semicolon");
	rc = mn_latency_table_write(&t, p, NULL, err, sizeof err);
	tap_ok(rc != 0 && strstr(err, "source"), "text inih would cut (';') is refused: %s", err);
	simple_table(&t);
	tap_ok(mkdir(tpath("adir", q, sizeof q), 0755) == 0, "made a directory");
	rc = mn_latency_table_write(&t, q, NULL, err, sizeof err);
	tap_ok(rc != 0 && strstr(err, "is a directory") && count_temp_files(tmpdir) == 0,
	       "writing over a directory fails cleanly: %s", err);
	rc = mn_latency_table_write(&t, tpath("nodir/t.ini", q, sizeof q), NULL, err, sizeof err);
	tap_ok(rc != 0 && strstr(err, "nodir/t.ini") && strstr(err, "No such file"), "writing into a missing directory: %s", err);
	free(text);

	/* A reader racing 300 rewrites only ever sees a complete table, one of
	 * the two being written: rename() replaces the file in one step. */
	struct mn_latency_table t1, t2;
	simple_table(&t1);
	simple_table(&t2);
	t2.head_us = 77;
	tpath("race.ini", q, sizeof q);
	rc = mn_latency_table_write(&t1, q, NULL, err, sizeof err);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		struct mn_latency_table r;
		char e2[512];
		for (int i = 0; i < 100000; i++) {
			if (mn_latency_table_read(&r, q, e2, sizeof e2) != 0 ||
			    !(same_table(&r, &t1) || same_table(&r, &t2))) {
				fprintf(stderr, "reader saw: %s\n", e2);
				_exit(1);
			}
			if (access(tpath("race.done", e2, sizeof e2), F_OK) == 0)
				_exit(0);
		}
		_exit(0);
	}
	int wrote = 1;
	for (int i = 0; i < 300 && wrote; i++)
		wrote = mn_latency_table_write(i % 2 ? &t1 : &t2, q, NULL, err, sizeof err) == 0;
	FILE *done = fopen(tpath("race.done", p, sizeof p), "w");
	if (done)
		fclose(done);
	int status = 0;
	waitpid(pid, &status, 0);
	tap_ok(rc == 0 && wrote && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	       "a concurrent reader never sees a partial table during 300 rewrites");
	tap_ok(count_temp_files(tmpdir) == 0, "still no temporary file left");
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		tap_diag("cannot write %s", path);
}

/* Writes the simple table with the first occurrence of edit_from replaced
 * by edit_to, reads it, and expects an error at `where` holding needle. */
static void broken(const char *name, const char *edit_from, const char *edit_to, const char *where,
		   const char *needle)
{
	char p[512], err[600], at[600], buf[8192];
	struct mn_latency_table t, u;
	simple_table(&t);
	FILE *mem = fmemopen(buf, sizeof buf, "w");
	if (!mem || mn_latency_table_print(&t, NULL, mem) != 0 || fclose(mem) != 0) {
		tap_ok(0, "print table");
		return;
	}
	char *hit = strstr(buf, edit_from);
	if (!hit) {
		tap_ok(0, "%s: '%s' not in the table", name, edit_from);
		return;
	}
	char text[8192];
	snprintf(text, sizeof text, "%.*s%s%s", (int)(hit - buf), buf, edit_to, hit + strlen(edit_from));
	write_text(tpath(name, p, sizeof p), text);
	snprintf(at, sizeof at, "%s%s", p, where);
	int rc = mn_latency_table_read(&u, p, err, sizeof err);
	tap_ok(rc != 0 && strstr(err, at) && strstr(err, needle) && strchr(err, '(') && !strchr(err, '\n'),
	       "%s: %s", name, err);
}

static void test_broken(void)
{
	/* The printed table: [meta] on line 1, board 2, source 3, ..., classes
	 * 8, blank, [stage0] 10, its shape comment 11, skip_connect 12 ... add
	 * 16, blank, [stage1] 18 ... [stage2] 26 ... add 32, blank 33, [fixed]
	 * 34, stem 35, reduction1 36, reduction2 37, head 38, overhead 39. */
	broken("missing_key.ini", "nor_conv_3x3 = 31\n", "", ":18:", "[stage1] has no nor_conv_3x3");
	broken("missing_section.ini", "[fixed]\nstem = 100\nreduction1 = 200\nreduction2 = 300\nhead = 50\noverhead = 1000\n",
	       "", ":33:", "section [fixed] is missing");
	broken("unknown_key.ini", "add = 2\n", "add = 2\nmul = 3\n", ":17:", "unknown key 'mul' in [stage0]");
	broken("unknown_section.ini", "[fixed]", "[fixd]", ":34:", "unknown section [fixd]");
	broken("negative.ini", "head = 50", "head = -50", ":38:", "head = '-50' is negative");
	broken("nan.ini", "head = 50", "head = fast", ":38:", "'fast' is not a number");
	broken("empty_value.ini", "head = 50", "head =", ":38:", "head is empty");
	broken("twice.ini", "overhead = 1000\n", "overhead = 1000\noverhead = 2\n", ":40:", "given twice, first on line 39");
	broken("indented.ini", "head = 50", "  head = 50", ":38:", "indented");
	broken("noequals.ini", "head = 50", "head 50", ":38:", "expected 'key = value'");
	broken("noclose.ini", "[fixed]", "[fixed", ":34:", "without ']'");
	broken("bad_int.ini", "cells = 5", "cells = 5.5", ":6:", "not a whole number");
	broken("resolution.ini", "resolution = 32", "resolution = 32x", ":7:", "is not a size (give R or HxW");
	broken("board_empty.ini", "board = Test board", "board =", ":2:", "board is empty");
	char longline[400];
	memset(longline, 'x', sizeof longline);
	memcpy(longline, "source = ", 9);
	longline[sizeof longline - 1] = '\0';
	broken("long.ini", "source = hand-made numbers for the test", longline, ":3:", "longer than");
	broken("before_section.ini", "[meta]\n", "clock = 1\n[meta]\n", ":1:", "before any section");

	char err[512];
	struct mn_latency_table u;
	int rc = mn_latency_table_read(&u, "/nonexistent/lat.ini", err, sizeof err);
	tap_ok(rc != 0 && strstr(err, "/nonexistent/lat.ini: cannot open: No such file"), "missing file: %s", err);
	rc = mn_latency_table_read(&u, tmpdir, err, sizeof err);
	tap_ok(rc != 0 && strstr(err, "is a directory"), "a directory: %s", err);
	simple_table(&u);
	rc = mn_latency_table_check_network(&u, "t.ini", 16, 5, 32, 32, 10, err, sizeof err);
	tap_ok(rc == 0, "network check: the table's own network passes");
	rc = mn_latency_table_check_network(&u, "t.ini", 16, 5, 32, 8, 10, err, sizeof err);
	tap_ok(rc != 0 && strstr(err, "32x32") && strstr(err, "32x8"), "network check: 32x8 vs 32x32: %s", err);
	rc = mn_latency_table_check_network(&u, "t.ini", 8, 5, 32, 32, 10, err, sizeof err);
	tap_ok(rc != 0 && strstr(err, "C=16") && strstr(err, "C=8"), "network check: C=8 vs C=16: %s", err);
}

static void test_model(void)
{
	struct mn_latency_table t, u;
	char p[512], err[512];
	int rc = mn_latency_model_nucleo(16, 5, 32, 32, 10, &t);
	tap_ok(rc == 0 && t.clock_mhz == 216 && strcmp(t.board, "NUCLEO-F746ZG") == 0 && strstr(t.source, "NOT measured"),
	       "model table for the NUCLEO-F746ZG, labelled as not measured");
	double gray = mn_latency_model_stem_us(&mn_cycle_model_cortex_m7, 216, 1, 16, 32, 32);
	tap_ok(mn_latency_model_stem_us(&mn_cycle_model_cortex_m7, 216, 3, 16, 32, 32) == t.stem_us && gray > 0 &&
		       gray < t.stem_us,
	       "the stem for 3 input channels is the table's (%.3f us), for 1 less (%.3f us)", t.stem_us, gray);
	int ordered = 1;
	for (int s = 0; s < 3; s++)
		ordered &= t.op_us[s][MN_OP_SKIP] == 0 && t.op_us[s][MN_OP_POOL3] > 0 &&
			   t.op_us[s][MN_OP_CONV1] > 0 && t.op_us[s][MN_OP_CONV3] > 3 * t.op_us[s][MN_OP_CONV1] &&
			   t.op_us[s][MN_OP_CONV3] > t.op_us[s][MN_OP_POOL3] && t.add_us[s] > 0;
	tap_ok(ordered, "per stage: skip 0; pool, conv1x1, additions > 0; conv3x3 > 3 x conv1x1 and > pool");
	/* 3x3 conv at stage 0 (16 ch, 32x32): 2359296 MACs x 0.75 + 147456
	 * im2col bytes + 16384 outputs x 6 + 16384 ReLU x 0.5 + 2 calls x 1000
	 * = 2025424 cycles = 9377 us at 216 MHz (rounded to 0.001). */
	tap_ok(t.op_us[0][MN_OP_CONV3] == round(2025424.0 / 216 * 1000) / 1000,
	       "stage-0 conv3x3 = 2025424 cycles / 216 MHz = %.3f us", t.op_us[0][MN_OP_CONV3]);
	struct mn_arch a = arch(A_TENAS), b = arch(A_MICRONAS);
	double ta = mn_latency_arch_us(&t, &a), tb = mn_latency_arch_us(&t, &b);
	tap_diag("model: TE-NAS pick %.1f ms, MicroNAS pick %.1f ms, ratio %.2f (MicroNAS measured 3.23x)", ta / 1000,
		 tb / 1000, ta / tb);
	tap_ok(ta / tb > 2 && ta / tb < 5, "model speed-up of the MicroNAS pick over TE-NAS's is plausible (%.2fx)", ta / tb);

	rc = mn_latency_table_write(&t, tpath("model.ini", p, sizeof p), mn_latency_model_comment, err, sizeof err);
	tap_ok(rc == 0 && mn_latency_table_read(&u, p, err, sizeof err) == 0 && same_table(&t, &u),
	       "the model's table round-trips through a file");

	char buf[1024];
	const char *top = getenv("MN_TOP_SRCDIR");
	snprintf(buf, sizeof buf, "%s/presets/nucleo-f746zg-latency.ini", top ? top : ".");
	rc = mn_latency_table_read(&u, buf, err, sizeof err);
	tap_ok(rc == 0, "reads the shipped presets/nucleo-f746zg-latency.ini (%s)", rc ? err : "ok");
	tap_ok(rc == 0 && same_table(&t, &u),
	       "the shipped table equals the cycle model's (regenerate: tests/test_latency_table --regenerate FILE)");
	tap_ok(mn_latency_model_table(&mn_cycle_model_cortex_m7, "b", "s", 216, 16, 5, 3, 10, 10, &u) != 0,
	       "the model refuses a side below 4");
	/* 49x10 (keyword spotting's MFCC frames): stage 0's 3x3 conv has the
	 * 32x32 one's per-pixel cost on 490 pixels (one call's 1000 cycles
	 * and the ReLU pass aside), and the file says 49x10. */
	rc = mn_latency_model_nucleo(16, 5, 49, 10, 12, &u);
	double per_px32 = (2025424.0 - 2000) / 1024, want = (per_px32 * 490 + 2000) / 216;
	tap_ok(rc == 0 && u.height == 49 && u.width == 10 &&
		       fabs(u.op_us[0][MN_OP_CONV3] - want) < 0.002,
	       "49x10 stage-0 conv3x3 %.3f us, by hand %.3f us", u.op_us[0][MN_OP_CONV3], want);
	struct mn_latency_table v;
	rc = mn_latency_table_write(&u, tpath("model49x10.ini", p, sizeof p), NULL, err, sizeof err);
	FILE *mf = rc == 0 ? fopen(p, "r") : NULL;
	char line[256];
	int says = 0;
	while (mf && fgets(line, sizeof line, mf))
		says |= strcmp(line, "resolution = 49x10\n") == 0;
	if (mf)
		fclose(mf);
	tap_ok(rc == 0 && says && mn_latency_table_read(&v, p, err, sizeof err) == 0 && same_table(&u, &v),
	       "a 49x10 table is written as resolution = 49x10 and round-trips");
}

static int regenerate(const char *path)
{
	struct mn_latency_table t;
	char err[512];
	if (mn_latency_model_nucleo(16, 5, 32, 32, 10, &t) != 0 ||
	    mn_latency_table_write(&t, path, mn_latency_model_comment, err, sizeof err) != 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	printf("wrote %s\n", path);
	return 0;
}

/* input_channels: optional, absent = RGB; a grayscale table says so and
 * is refused for an RGB network. */
static void test_input_channels(void)
{
	char p[512], err[512];
	struct mn_latency_table t, u;
	simple_table(&t);
	int rc = mn_latency_table_write(&t, tpath("rgb.ini", p, sizeof p), NULL, err, sizeof err);
	char *text = slurp(p);
	tap_ok(rc == 0 && text && !strstr(text, "input_channels") && mn_latency_table_read(&u, p, err, sizeof err) == 0 &&
		       u.input_channels == 0 && mn_latency_table_check_input(&u, p, 3, err, sizeof err) == 0,
	       "an RGB table is written without input_channels and reads back as RGB");
	free(text);
	t.input_channels = 1;
	rc = mn_latency_table_write(&t, tpath("gray.ini", p, sizeof p), NULL, err, sizeof err);
	text = slurp(p);
	tap_ok(rc == 0 && text && strstr(text, "\ninput_channels = 1\n") &&
		       mn_latency_table_read(&u, p, err, sizeof err) == 0 && same_table(&t, &u),
	       "a grayscale table records input_channels = 1 and round-trips");
	free(text);
	rc = mn_latency_table_check_input(&u, p, 3, err, sizeof err);
	tap_ok(rc != 0 && strstr(err, "1 input channel, the network has 3"),
	       "a grayscale table is refused for an RGB network: %s", err);
	tap_ok(mn_latency_table_check_input(&u, p, 1, err, sizeof err) == 0, "and accepted for a grayscale one");
	t.input_channels = 256;
	rc = mn_latency_table_write(&t, tpath("bad.ini", p, sizeof p), NULL, err, sizeof err);
	tap_ok(rc != 0 && strstr(err, "input_channels"), "input_channels = 256 is refused: %s", err);
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--regenerate") == 0)
		return regenerate(argv[2]);
	snprintf(tmpdir, sizeof tmpdir, "%s", "/tmp/mn_test_latency_XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	test_estimates();
	test_write_read();
	test_broken();
	test_model();
	test_input_channels();
	char cmd[512];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", tmpdir);
	return tap_done();
}
