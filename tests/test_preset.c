/* Presets: the embedded default, the shipped NUCLEO-F746ZG file, file:line
 * errors, flag overrides, printing and the XDG / data-dir lookup. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "space/latency_table.h"
#include "config/preset.h"
#include "config/preset_find.h"
#include "tap.h"

static char tmpdir[256];

static const char *tpath(const char *name, char *buf, size_t n)
{
	snprintf(buf, n, "%s/%s", tmpdir, name);
	return buf;
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		tap_diag("cannot write %s", path);
}

static int bit(const struct mn_preset *p, enum mn_preset_field f) { return (p->set >> f) & 1u; }

static void test_defaults(void)
{
	struct mn_preset p;
	mn_preset_defaults(&p);
	tap_ok(strcmp(p.board_name, "NUCLEO-F746ZG") == 0 && p.clock_mhz == 216 && p.sram_kb == 320 &&
		       p.flash_kb == 1024 && p.runtime_flash_kb > 0 && p.latency_table == NULL,
	       "default board: NUCLEO-F746ZG, 216 MHz, 320 KB SRAM, 1024 KB flash, built-in latency model");
	tap_ok(p.channels == 16 && p.cells == 5 && p.height == 32 && p.width == 32 && p.classes == 10,
	       "default network: C=16 N=5 32x32 10 classes");
	tap_ok(p.seed == 0 && p.batch == 32 && p.repeat == 3 && p.w_flops == 0 && p.w_latency == 1 &&
		       p.max_latency_ms == 0 && p.max_sram_kb == 320 && p.max_flash_kb == 1024 &&
		       p.init == MN_INIT_CODE && p.ntk_grad == MN_GRAD_EXACT,
	       "default search: seed 0, batch 32 (MicroNAS), repeat 3, latency weight 1, no latency limit, "
	       "the board's 320 KB SRAM and 1024 KB flash as limits, code init, exact NTK");
	tap_ok(p.all_proxies == 1, "default: every proxy (proxies = all)");
	tap_ok(p.set == 0, "nothing marked set");
}

static void test_shipped(void)
{
	char path[1024], err[512];
	const char *top = getenv("MN_TOP_SRCDIR");
	snprintf(path, sizeof path, "%s/presets/nucleo-f746zg.ini", top ? top : ".");
	struct mn_preset p, d;
	struct mn_error e;
	mn_preset_defaults(&p);
	mn_preset_defaults(&d);
	int rc = mn_preset_load(&p, path, &e);
	tap_ok(rc == 0, "loads presets/nucleo-f746zg.ini (%s)", rc ? e.msg : "ok");
	const uint32_t limits = (1u << MN_PF_MAX_SRAM_KB) | (1u << MN_PF_MAX_FLASH_KB);
	tap_ok(p.set == (((1u << MN_PF_COUNT) - 1) & ~limits) && p.max_sram_kb == 320 && p.max_flash_kb == 1024,
	       "it sets every field but the SRAM and flash limits, which are the board's 320 and 1024 KB");
	char want[1100];
	snprintf(want, sizeof want, "%s/presets/nucleo-f746zg-latency.ini", top ? top : ".");
	tap_ok(p.latency_table && strcmp(p.latency_table, want) == 0, "latency_table resolved beside the preset: %s",
	       p.latency_table ? p.latency_table : "(none)");
	/* Same values as the embedded default, apart from the table path. */
	tap_ok(strcmp(p.board_name, d.board_name) == 0 && p.clock_mhz == d.clock_mhz && p.sram_kb == d.sram_kb &&
		       p.flash_kb == d.flash_kb && p.runtime_flash_kb == d.runtime_flash_kb &&
		       p.channels == d.channels && p.cells == d.cells && p.height == d.height && p.width == d.width &&
		       p.classes == d.classes && p.seed == d.seed && p.batch == d.batch && p.repeat == d.repeat &&
		       p.w_flops == d.w_flops && p.w_latency == d.w_latency && p.init == d.init &&
		       p.ntk_grad == d.ntk_grad && p.all_proxies == d.all_proxies,
	       "the shipped file and the embedded default agree");
	struct mn_latency_table t;
	rc = mn_latency_table_read(&t, p.latency_table, err, sizeof err);
	tap_ok(rc == 0 && mn_latency_table_check_network(&t, p.latency_table, p.channels, p.cells, p.height,
							 p.width, p.classes, err, sizeof err) == 0,
	       "its latency table loads and matches its network (%s)", rc ? err : "ok");
	tap_ok(strstr(p.origin[MN_PF_BATCH], "nucleo-f746zg.ini:") == p.origin[MN_PF_BATCH], "origin of batch: %s",
	       p.origin[MN_PF_BATCH]);
	/* A copy owns its own path: freeing the original leaves it whole. */
	struct mn_preset c;
	rc = mn_preset_copy(&c, &p, &e);
	mn_preset_free(&p);
	tap_ok(rc == 0 && p.latency_table == NULL && c.latency_table && strcmp(c.latency_table, want) == 0,
	       "a copy keeps its latency_table after the original is freed");
	mn_preset_free(&c);
}

/* The SRAM and flash limits follow the board's sizes until a file or a
 * flag gives them; a given 0 means none. */
static void test_limits_follow_board(void)
{
	char path[512], top_path[1024];
	struct mn_preset p, flags;
	struct mn_error e;
	write_text(tpath("small_board.ini", path, sizeof path), "[board]\nsram_kb = 128\nflash_kb = 512\n");
	mn_preset_defaults(&p);
	int rc = mn_preset_load(&p, path, &e);
	tap_ok(rc == 0 && p.max_sram_kb == 128 && p.max_flash_kb == 512 && !bit(&p, MN_PF_MAX_SRAM_KB) &&
		       !bit(&p, MN_PF_MAX_FLASH_KB),
	       "a board of 128 KB SRAM and 512 KB flash: limits 128 and 512, not marked set (%g, %g)",
	       p.max_sram_kb, p.max_flash_kb);
	mn_preset_defaults(&flags);
	rc = mn_preset_set(&flags, MN_PF_MAX_SRAM_KB, "0", "--max-sram-kb", NULL, &e) == 0 &&
	     mn_preset_override(&p, &flags, &e) == 0;
	tap_ok(rc && p.max_sram_kb == 0 && p.max_flash_kb == 512,
	       "--max-sram-kb 0 lifts the SRAM limit; flash keeps the board's (%g, %g)", p.max_sram_kb,
	       p.max_flash_kb);
	mn_preset_free(&flags);
	mn_preset_defaults(&flags);
	rc = mn_preset_set(&flags, MN_PF_FLASH_KB, "2048", "--set", NULL, &e) == 0 &&
	     mn_preset_override(&p, &flags, &e) == 0;
	tap_ok(rc && p.max_flash_kb == 2048 && p.max_sram_kb == 0,
	       "a bigger board's flash laid over it moves the flash limit with it (%g)", p.max_flash_kb);
	mn_preset_free(&flags);
	mn_preset_free(&p);

	write_text(path, "[board]\nflash_kb = 512\n[search]\nmax_flash_kb = 0\nmax_sram_kb = 100\n");
	mn_preset_defaults(&p);
	rc = mn_preset_load(&p, path, &e);
	tap_ok(rc == 0 && p.max_flash_kb == 0 && p.max_sram_kb == 100,
	       "a file's max_flash_kb = 0 and max_sram_kb = 100 are kept (%g, %g)", p.max_flash_kb,
	       p.max_sram_kb);
	mn_preset_free(&p);

	const char *top = getenv("MN_TOP_SRCDIR");
	snprintf(top_path, sizeof top_path, "%s/presets/nucleo-f746zg-tenas.ini", top ? top : ".");
	mn_preset_defaults(&p);
	rc = mn_preset_load(&p, top_path, &e);
	tap_ok(rc == 0 && p.max_sram_kb == 0 && p.max_flash_kb == 0 && p.max_latency_ms == 0,
	       "the TE-NAS preset searches unconstrained, as TE-NAS did (%s)", rc ? e.msg : "ok");
	mn_preset_free(&p);
	snprintf(top_path, sizeof top_path, "%s/presets/nucleo-f446re.ini", top ? top : ".");
	mn_preset_defaults(&p);
	rc = mn_preset_load(&p, top_path, &e);
	tap_ok(rc == 0 && p.max_sram_kb == 128 && p.max_flash_kb == 512,
	       "the NUCLEO-F446RE preset keeps what fits its 128 KB SRAM and 512 KB flash (%s)",
	       rc ? e.msg : "ok");
	/* printed and read back, an unset limit still follows the board */
	FILE *f = fopen(tpath("f446_printed.ini", path, sizeof path), "w");
	int printed = f && mn_preset_print(&p, f) == 0;
	if (f)
		fclose(f);
	mn_preset_free(&p);
	mn_preset_defaults(&p);
	rc = printed && mn_preset_load(&p, path, &e) == 0;
	tap_ok(rc && !bit(&p, MN_PF_MAX_FLASH_KB) && p.max_flash_kb == 512 &&
		       mn_preset_set(&p, MN_PF_FLASH_KB, "256", "--set", NULL, &e) == 0 &&
		       p.max_flash_kb == 256,
	       "printed and loaded again, the flash limit still follows the board's flash_kb (%g)",
	       p.max_flash_kb);
	mn_preset_free(&p);
}

/* The limits in force, as the 'no arch fits' errors name them. */
static void test_limits_text(void)
{
	struct mn_preset p, flags;
	struct mn_error e;
	char buf[256], small[12];
	mn_preset_defaults(&p);
	mn_preset_limits_text(&p, buf, sizeof buf);
	tap_ok(strcmp(buf, "SRAM 320 KB (the NUCLEO-F746ZG's), flash 1024 KB (the NUCLEO-F746ZG's)") == 0,
	       "limits text of the default: %s", buf);
	mn_preset_defaults(&flags);
	int rc = mn_preset_set(&flags, MN_PF_MAX_LATENCY_MS, "200", "--max-latency-ms", NULL, &e) == 0 &&
		 mn_preset_set(&flags, MN_PF_MAX_SRAM_KB, "0", "--max-sram-kb", NULL, &e) == 0 &&
		 mn_preset_set(&flags, MN_PF_MAX_FLASH_KB, "900", "--max-flash-kb", NULL, &e) == 0 &&
		 mn_preset_override(&p, &flags, &e) == 0;
	mn_preset_limits_text(&p, buf, sizeof buf);
	tap_ok(rc && strcmp(buf, "latency 200 ms, flash 900 KB") == 0,
	       "given limits are not called the board's, a 0 is left out: %s", buf);
	p.max_latency_ms = p.max_flash_kb = 0;
	mn_preset_limits_text(&p, buf, sizeof buf);
	tap_ok(strcmp(buf, "none") == 0, "no limit at all: %s", buf);
	mn_preset_free(&p);
	mn_preset_free(&flags);
	mn_preset_defaults(&p);
	mn_preset_limits_text(&p, small, sizeof small);
	tap_ok(strlen(small) == sizeof small - 1 && strncmp(small, "SRAM 320 KB", 11) == 0,
	       "a short buffer gets the text cut, terminated (%s)", small);
	mn_preset_free(&p);
}

static void test_partial_and_paths(void)
{
	char p1[512], want[600];
	struct mn_preset p;
	struct mn_error e;
	tap_ok(mkdir(tpath("sub", p1, sizeof p1), 0755) == 0, "made a directory");
	write_text(tpath("sub/p.ini", p1, sizeof p1),
		   "# only a few keys\n[search]\nbatch = 10 ; inline comment\nseed=18446744073709551615\n"
		   "init = paper\nntk_grad = fixed-stats\nproxies = estimate\n[board]\nlatency_table = lat.ini\n");
	mn_preset_defaults(&p);
	int rc = mn_preset_load(&p, p1, &e);
	tap_ok(rc == 0, "loads a partial preset (%s)", rc ? e.msg : "ok");
	tap_ok(p.batch == 10 && p.seed == UINT64_MAX && p.init == MN_INIT_PAPER && p.ntk_grad == MN_GRAD_FIXED_STATS &&
		       p.all_proxies == 0,
	       "its values: batch 10, seed 2^64-1, paper init, fixed-stats, the estimate's proxies");
	tap_ok(p.set == ((1u << MN_PF_BATCH) | (1u << MN_PF_SEED) | (1u << MN_PF_INIT) | (1u << MN_PF_NTK_GRAD) |
			 (1u << MN_PF_PROXIES) | (1u << MN_PF_LATENCY_TABLE)),
	       "only those fields are marked set");
	tap_ok(p.repeat == 3 && p.channels == 16, "the rest keeps the defaults");
	snprintf(want, sizeof want, "%s/sub/lat.ini", tmpdir);
	tap_ok(strcmp(p.latency_table, want) == 0, "relative latency_table resolves against the preset's directory");
	tap_ok(strcmp(p.origin[MN_PF_BATCH], "p.ini:3") == 0, "origin: p.ini:3 (%s)", p.origin[MN_PF_BATCH]);

	write_text(p1, "[board]\nlatency_table = /abs/lat.ini\n");
	rc = mn_preset_load(&p, p1, &e);
	tap_ok(rc == 0 && strcmp(p.latency_table, "/abs/lat.ini") == 0, "an absolute latency_table is kept");
	mn_preset_free(&p);
}

static void expect_error(const char *name, const char *text, const char *where, const char *needle)
{
	char p[512], at[600];
	struct mn_preset pr, before;
	struct mn_error e;
	const char *err = e.msg;
	write_text(tpath(name, p, sizeof p), text);
	snprintf(at, sizeof at, "%s%s", p, where);
	mn_preset_defaults(&pr);
	before = pr;
	int rc = mn_preset_load(&pr, p, &e);
	tap_ok(rc != 0 && strstr(err, at) == err && strstr(err, needle) && strchr(err, '(') && !strchr(err, '\n') &&
		       memcmp(&pr, &before, sizeof pr) == 0,
	       "%s: %s", name, err);
}

static void test_errors(void)
{
	expect_error("unknown_section.ini", "[board]\nname = x\n[boards]\n", ":3:", "unknown section [boards]");
	expect_error("unknown_key.ini", "[search]\nbatch = 4\nbatches = 4\n", ":3:", "unknown key 'batches' in [search]");
	expect_error("not_number.ini", "[network]\nchannels = sixteen\n", ":2:", "[network] channels = 'sixteen' is not a number");
	expect_error("negative.ini", "[board]\nsram_kb = -320\n", ":2:", "[board] sram_kb = '-320' is negative");
	expect_error("range.ini", "[search]\nrepeat = 0\n", ":2:", "repeat = '0' is out of range (give a whole number from 1 to 1000)");
	expect_error("empty.ini", "[board]\n\nclock_mhz =\n", ":3:", "[board] clock_mhz is empty");
	expect_error("fraction.ini", "[search]\nbatch = 72.5\n", ":2:", "is not a whole number");
	expect_error("init.ini", "[search]\ninit = kaiming\n", ":2:", "init = 'kaiming' is unknown (give code");
	expect_error("grad.ini", "[search]\nntk_grad =\n", ":2:", "ntk_grad = '' is empty (give exact or fixed-stats)");
	expect_error("proxies.ini", "[search]\nproxies = some\n", ":2:", "proxies = 'some' is unknown (give all: every proxy, or estimate");
	expect_error("seed_neg.ini", "[search]\nseed = -1\n", ":2:", "seed = '-1' is negative");
	expect_error("seed_big.ini", "[search]\nseed = 18446744073709551616\n", ":2:", "out of range");
	expect_error("twice.ini", "[search]\nseed = 1\n; again\nseed = 2\n", ":4:", "given twice, first on line 2");
	expect_error("resolution.ini", "[network]\nresolution = 49x\n", ":2:", "is not an input size (give R for R x R or HxW");
	expect_error("resolution3.ini", "[network]\nresolution = 3x10\n", ":2:", "each side 4..1024");
	{
		/* 49x10: keyword spotting's MFCC frames, kept through a print. */
		char p[512], out[512];
		struct mn_preset pr;
		struct mn_error e;
		write_text(tpath("kws.ini", p, sizeof p), "[network]\nresolution = 49x10\ninput_channels = 1\nclasses = 12\n");
		mn_preset_defaults(&pr);
		int rc = mn_preset_load(&pr, p, &e);
		tap_ok(rc == 0 && pr.height == 49 && pr.width == 10 && pr.input_channels == 1 &&
			       pr.classes == 12 && (pr.set >> MN_PF_RESOLUTION & 1u),
		       "resolution = 49x10 gives height 49, width 10 (%s)", rc ? e.msg : "ok");
		FILE *f = fopen(tpath("kws_print.ini", out, sizeof out), "w");
		int printed = f && mn_preset_print(&pr, f) == 0;
		if (f)
			fclose(f);
		struct mn_preset back;
		mn_preset_defaults(&back);
		tap_ok(printed && mn_preset_load(&back, out, &e) == 0 && back.height == 49 &&
			       back.width == 10,
		       "a printed 49x10 preset loads back as 49x10");
		struct mn_preset flags, base;
		mn_preset_defaults(&flags);
		mn_preset_defaults(&base);
		rc = mn_preset_set(&flags, MN_PF_RESOLUTION, "25x7", "--set", NULL, &e) == 0 &&
		     mn_preset_override(&base, &flags, &e) == 0;
		tap_ok(rc && base.height == 25 && base.width == 7, "an override carries both sides (%dx%d)",
		       base.height, base.width);
		mn_preset_free(&pr), mn_preset_free(&back), mn_preset_free(&flags), mn_preset_free(&base);
	}
	expect_error("nosection.ini", "batch = 4\n", ":1:", "before any section");
	expect_error("syntax.ini", "[search]\nbatch 4\n", ":2:", "expected 'key = value'");
	expect_error("inf.ini", "[search]\nw_latency = inf\n", ":2:", "is not a number");
	expect_error("name_empty.ini", "[board]\nname =\n", ":2:", "[board] name is empty");
	expect_error("table_empty.ini", "[board]\nlatency_table =\n", ":2:", "latency_table is empty");
	struct mn_error e;
	struct mn_preset p;
	mn_preset_defaults(&p);
	int rc = mn_preset_load(&p, "/nonexistent/p.ini", &e);
	tap_ok(rc != 0 && strstr(e.msg, "/nonexistent/p.ini: cannot open"), "missing file: %s", e.msg);
}

static void test_overrides(void)
{
	char path[1024];
	struct mn_error e;
	const char *err = e.msg;
	const char *top = getenv("MN_TOP_SRCDIR");
	snprintf(path, sizeof path, "%s/presets/nucleo-f746zg.ini", top ? top : ".");
	struct mn_preset p, flags;
	mn_preset_defaults(&p);
	tap_ok(mn_preset_load(&p, path, &e) == 0, "preset loaded");
	/* The CLI parses flags into a struct of their own... */
	mn_preset_defaults(&flags);
	tap_ok(mn_preset_set(&flags, MN_PF_BATCH, "16", "--batch", NULL, &e) == 0 &&
		       mn_preset_set(&flags, MN_PF_W_FLOPS, "0.5", "--w-flops", NULL, &e) == 0 &&
		       mn_preset_set(&flags, MN_PF_LATENCY_TABLE, "my/lat.ini", "--latency-table", NULL, &e) == 0 &&
		       mn_preset_set(&flags, MN_PF_PROXIES, "estimate", "--proxies", NULL, &e) == 0,
	       "flags parsed: --batch 16 --w-flops 0.5 --latency-table my/lat.ini --proxies estimate");
	/* ...and lays them over the preset. */
	tap_ok(mn_preset_override(&p, &flags, &e) == 0, "flags laid over the preset");
	tap_ok(p.batch == 16 && p.w_flops == 0.5 && strcmp(p.latency_table, "my/lat.ini") == 0 && p.all_proxies == 0,
	       "flags override the preset (a flag's relative path stays relative to the working directory)");
	tap_ok(p.repeat == 3 && p.w_latency == 1 && p.channels == 16, "fields without a flag keep the preset's values");
	tap_ok(strcmp(p.origin[MN_PF_BATCH], "--batch") == 0 && strstr(p.origin[MN_PF_REPEAT], "nucleo-f746zg.ini:"),
	       "origins: batch from --batch, repeat from the file");
	int rc = mn_preset_set(&flags, MN_PF_BATCH, "lots", "--batch", NULL, &e);
	tap_ok(rc != 0 && strcmp(err, "--batch 'lots' is not a number (give a whole number from 2 to 100000)") == 0,
	       "a bad flag value: %s", err);
	/* A flag's bad word is said in flags; a file's keeps its key (above). */
	rc = mn_preset_set(&flags, MN_PF_PROXIES, "most", "--proxies", NULL, &e);
	tap_ok(rc != 0 && strcmp(err, "--proxies 'most' is not one of: all (every proxy), estimate (the accuracy "
				      "estimate's alone, about 3 times faster)") == 0,
	       "a bad flag word: %s", err);
	tap_ok(mn_preset_field_dotted("search.batch") == MN_PF_BATCH && mn_preset_field_dotted("board.latency_table") == MN_PF_LATENCY_TABLE &&
		       mn_preset_field_dotted("board.nope") == -1 && mn_preset_field_dotted("batch") == -1 &&
		       mn_preset_field("network", "cells") == MN_PF_CELLS,
	       "fields by section.key");
	tap_ok(strcmp(mn_preset_field_section(MN_PF_MAX_FLASH_KB), "search") == 0 &&
		       strcmp(mn_preset_field_key(MN_PF_MAX_FLASH_KB), "max_flash_kb") == 0,
	       "section and key of a field");
	mn_preset_free(&p);
	mn_preset_free(&flags);
}

static void test_print(void)
{
	char p[512];
	struct mn_error e;
	const char *err = e.msg;
	struct mn_preset a, b;
	mn_preset_defaults(&a);
	a.seed = 12345678901234ULL;
	a.w_flops = 0.1 + 0.2;
	a.init = MN_INIT_PAPER;
	a.latency_table = strdup("/abs/t.ini");
	FILE *f = fopen(tpath("printed.ini", p, sizeof p), "w");
	tap_ok(f && mn_preset_print(&a, f) == 0 && fclose(f) == 0, "printed a preset");
	mn_preset_defaults(&b);
	int rc = mn_preset_load(&b, p, &e);
	tap_ok(rc == 0 && b.seed == a.seed && b.w_flops == a.w_flops && b.init == MN_INIT_PAPER &&
		       strcmp(b.latency_table, "/abs/t.ini") == 0 &&
		       b.set == (((1u << MN_PF_COUNT) - 1) &
				 ~((1u << MN_PF_MAX_SRAM_KB) | (1u << MN_PF_MAX_FLASH_KB))) &&
		       b.max_sram_kb == 320 && b.max_flash_kb == 1024,
	       "print -> load gives the same values (%s)", rc ? err : "ok");
	mn_preset_free(&a);
	mn_preset_free(&b);
	mn_preset_defaults(&a);
	f = fopen(p, "w");
	tap_ok(f && mn_preset_print(&a, f) == 0 && fclose(f) == 0, "printed the default (no latency table)");
	mn_preset_defaults(&b);
	rc = mn_preset_load(&b, p, &e);
	tap_ok(rc == 0 && !bit(&b, MN_PF_LATENCY_TABLE), "the default prints without a latency_table line and loads (%s)",
	       rc ? err : "ok");
}

/* mn_preset_find() with an explicit environment: path (heap) or NULL. */
static char *find_in(const char *name, const char *xdg, const char *home, const char *top,
		     const char *exe_src, const char *data, struct mn_error *e)
{
	struct mn_preset_env env = {xdg, home, top, exe_src, data};
	char *path;
	return mn_preset_find(name, &env, &path, e) == 0 ? path : NULL;
}

static int same(char *got, const char *want)
{
	int ok = got && strcmp(got, want) == 0;
	free(got);
	return ok;
}

static void test_lookup(void)
{
	char xdg[512], q[512];
	char *path;
	struct mn_error e;
	const char *err = e.msg;
	const char *top = getenv("MN_TOP_SRCDIR");
	tap_ok(mkdir(tpath("xdg", xdg, sizeof xdg), 0755) == 0 && mkdir(tpath("xdg/micronas", q, sizeof q), 0755) == 0,
	       "made a temporary XDG_CONFIG_HOME");
	write_text(tpath("xdg/micronas/mine.ini", q, sizeof q), "[search]\nbatch = 8\n");
	write_text(tpath("xdg/micronas/nucleo-f746zg.ini", q, sizeof q), "[search]\nbatch = 9\n");
	tap_ok(setenv("XDG_CONFIG_HOME", xdg, 1) == 0, "XDG_CONFIG_HOME=%s", xdg);

	int rc = mn_preset_find("mine", NULL, &path, &e);
	char want[1024];
	snprintf(want, sizeof want, "%s/micronas/mine.ini", xdg);
	tap_ok(rc == 0 && strcmp(path, want) == 0, "finds NAME in $XDG_CONFIG_HOME/micronas/ (%s)", rc ? err : path);
	free(path);
	struct mn_preset p;
	rc = mn_preset_open(&p, "nucleo-f746zg", &e);
	tap_ok(rc == 0 && p.batch == 9 && p.set == 1u << MN_PF_BATCH, "the user's file comes before the shipped one");
	mn_preset_free(&p);
	/* A preset copied into the user's directory: its relative table is
	 * looked for beside it, whatever the working directory. */
	write_text(tpath("xdg/micronas/copied.ini", q, sizeof q), "[board]\nlatency_table = copied-latency.ini\n");
	rc = mn_preset_open(&p, "copied", &e);
	char copied_table[1024];
	snprintf(copied_table, sizeof copied_table, "%s/micronas/copied-latency.ini", xdg);
	tap_ok(rc == 0 && p.latency_table && strcmp(p.latency_table, copied_table) == 0,
	       "a preset found by name in the XDG directory resolves its relative latency_table there (%s)",
	       rc ? err : p.latency_table);
	mn_preset_free(&p);

	rc = mn_preset_find("nope", NULL, &path, &e);
	tap_ok(rc != 0 && path == NULL && strstr(err, "preset 'nope' not found") && strstr(err, want) == NULL &&
		       strstr(err, "micronas/nope.ini") && strstr(err, "/presets/nope.ini") && !strchr(err, '\n'),
	       "an unknown name lists the places looked in: %s", err);
	rc = mn_preset_find("bad name", NULL, &path, &e);
	tap_ok(rc != 0 && strstr(err, "not valid"), "a name with a space is refused: %s", err);

	/* The explicit-environment form: home fallback, relative XDG ignored,
	 * source tree before the data dir. */
	char home[512];
	tpath("home", home, sizeof home);
	tap_ok(mkdir(home, 0755) == 0 && mkdir(tpath("home/.config", q, sizeof q), 0755) == 0 &&
		       mkdir(tpath("home/.config/micronas", q, sizeof q), 0755) == 0,
	       "made a HOME with .config/micronas");
	write_text(tpath("home/.config/micronas/h.ini", q, sizeof q), "[search]\nbatch = 7\n");
	tap_ok(same(find_in("h", NULL, home, NULL, NULL, NULL, &e), q), "without XDG_CONFIG_HOME: ~/.config/micronas/");
	tap_ok(same(find_in("h", "relative/dir", home, NULL, NULL, NULL, &e), q),
	       "a relative XDG_CONFIG_HOME is ignored, as the XDG spec says");
	path = find_in("nucleo-f746zg", NULL, NULL, top ? top : ".", NULL, "/nonexistent/share", &e);
	tap_ok(path && strstr(path, "/presets/nucleo-f746zg.ini"), "found in $MN_TOP_SRCDIR/presets/ (%s)",
	       path ? path : err);
	free(path);
	char data[512];
	tap_ok(mkdir(tpath("share", data, sizeof data), 0755) == 0 && mkdir(tpath("share/presets", q, sizeof q), 0755) == 0,
	       "made an installed data dir");
	write_text(tpath("share/presets/inst.ini", q, sizeof q), "[search]\nbatch = 6\n");
	tap_ok(same(find_in("inst", NULL, NULL, top ? top : ".", NULL, data, &e), q),
	       "found in the installed data dir (MN_DATADIR/presets/)");

	/* The program's own source tree (a build-tree binary run from another
	 * directory without MN_TOP_SRCDIR) comes after $MN_TOP_SRCDIR and
	 * before the installed data dir. */
	char exe_src[512], r[512];
	tap_ok(mkdir(tpath("tree", exe_src, sizeof exe_src), 0755) == 0 &&
		       mkdir(tpath("tree/presets", r, sizeof r), 0755) == 0,
	       "made a source tree with presets/");
	write_text(tpath("tree/presets/inst.ini", r, sizeof r), "[search]\nbatch = 5\n");
	tap_ok(same(find_in("inst", NULL, NULL, NULL, exe_src, data, &e), r),
	       "the program's source tree comes before the installed data dir");
	path = find_in("absent", NULL, NULL, "/no/top", exe_src, data, &e);
	tap_ok(!path && strstr(err, "/no/top/presets/absent.ini") && strstr(err, "tree/presets/absent.ini") &&
		       strstr(err, "share/presets/absent.ini"),
	       "not found: the message names the program's tree too: %s", err);
	/* $MN_TOP_SRCDIR and the program's tree one directory (here spelled
	 * TREE/presets/.. against TREE, as a VPATH build's configure spells
	 * it): looked in once, named once. */
	char alias[600];
	snprintf(alias, sizeof alias, "%s/presets/..", exe_src);
	path = find_in("absent", NULL, NULL, alias, exe_src, data, &e);
	const char *first = strstr(err, "presets/absent.ini");
	int places = 0;
	for (const char *c = err; (c = strstr(c, "/absent.ini")) != NULL; c++)
		places++;
	tap_ok(!path && first && places == 2,
	       "one directory under two spellings is looked in and named once (%d places): %s", places, err);

	/* The list the TUI offers: one entry per name, first place wins, no
	 * latency tables; a preset that does not load is listed with why. */
	write_text(tpath("tree/presets/inst-latency.ini", r, sizeof r),
		   "; a latency table\n[meta]\nsource = measured\n[stage0]\nconv3x3 = 1\n");
	write_text(tpath("tree/presets/broken.ini", r, sizeof r), "[search]\nbatch = -3\n");
	struct mn_preset_env env = {xdg, NULL, NULL, exe_src, data};
	struct mn_preset_entry *v;
	size_t n;
	rc = mn_preset_list(&env, 64, &v, &n, &e);
	int inst = 0, mine = 0, table = 0, broken = 0, errors = 0;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		inst += !strcmp(v[i].name, "inst") && strstr(v[i].path, "tree/presets/inst.ini") != NULL;
		mine += !strcmp(v[i].name, "mine");
		table += !strcmp(v[i].name, "inst-latency");
		broken += !strcmp(v[i].name, "broken") && v[i].error && strstr(v[i].error, "batch") &&
			  strstr(v[i].error, "broken.ini:2");
		errors += v[i].error != NULL;
	}
	tap_ok(rc == 0 && inst == 1 && mine == 1 && table == 0,
	       "the preset list: the user's and the tree's presets, each name once, no latency tables (%zu)", n);
	tap_ok(rc == 0 && broken == 1 && errors == 1,
	       "...and a preset that does not load is listed with its error (file:line), the others without");
	mn_preset_list_free(v, rc == 0 ? n : 0);

	/* Paths are paths. */
	tap_ok(same(find_in(q, NULL, NULL, NULL, NULL, NULL, &e), q), "a path with '/' is used as given");
	rc = mn_preset_find("nothere.ini", NULL, &path, &e);
	tap_ok(rc != 0 && strstr(err, "nothere.ini: cannot open the preset") && strstr(err, "No such file"),
	       "a name ending in .ini is a path: %s", err);
	tap_ok(strcmp(MN_DATADIR, "") != 0, "MN_DATADIR is %s", MN_DATADIR);
}

int main(void)
{
	snprintf(tmpdir, sizeof tmpdir, "%s", "/tmp/mn_test_preset_XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	test_defaults();
	test_shipped();
	test_partial_and_paths();
	test_limits_follow_board();
	test_limits_text();
	test_errors();
	test_overrides();
	test_print();
	test_lookup();
	char cmd[512];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", tmpdir);
	return tap_done();
}
