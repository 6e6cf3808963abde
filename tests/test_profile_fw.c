/* The firmware version a profiled latency table names (board/profile.h):
 * read back from the source line mn_profile_run writes, and the note
 * validate gives when the board now runs another version. */
#include <stdio.h>
#include <string.h>

#include "board/profile.h"
#include "tap.h"

static void with_source(struct mn_latency_table *t, const char *src)
{
	memset(t, 0, sizeof *t);
	snprintf(t->source, sizeof t->source, "%s", src);
}

/* 1 when a table of this source names firmware want (want NULL: none). */
static int names(const char *src, const char *want)
{
	struct mn_latency_table t;
	char ver[32] = "";
	with_source(&t, src);
	int rc = mn_profile_table_firmware(&t, ver, sizeof ver);
	return want ? rc == 0 && !strcmp(ver, want) : rc == -1;
}

int main(void)
{
	struct mn_latency_table t;
	char ver[32], msg[512];

	static const char emu[] = "micronas profile on qemu-mps2-an500 fw 0.2.0: INSTRUCTION-BASED "
				  "(QEMU -icount shift=0, 1 unit = 1 instruction), not STM32 "
				  "cycles, median of 5 runs";
	tap_ok(names(emu, "0.2.0"), "the emulated board's table names fw 0.2.0");
	with_source(&t, emu);
	tap_ok(mn_profile_table_stale(&t, "0.2.0", msg, sizeof msg) == 0,
	       "the same firmware: no note");
	tap_ok(mn_profile_table_stale(&t, "0.1.3", msg, sizeof msg) == 1 &&
		       strstr(msg, "firmware 0.2.0 and the board runs 0.1.3") &&
		       strstr(msg, "micronas profile"),
	       "another firmware: a note naming both and the fix (%s)", msg);
	tap_ok(mn_profile_table_stale(&t, "0.2.0-model", msg, sizeof msg) == 0,
	       "the deployed model's image of the same release: no note");
	tap_ok(mn_profile_table_stale(&t, "0.2.1-model", msg, sizeof msg) == 1 &&
		       mn_profile_table_stale(&t, "0.2", msg, sizeof msg) == 1 &&
		       mn_profile_table_stale(&t, "0.2.00", msg, sizeof msg) == 1,
	       "another release, with or without a suffix: a note");
	tap_ok(mn_profile_table_stale(&t, "", msg, sizeof msg) == 0 &&
		       mn_profile_table_stale(&t, NULL, msg, sizeof msg) == 0,
	       "no board version known: no note");

	static const char board[] = "micronas profile on NUCLEO-F746ZG fw 0.1.4-dirty: measured "
				    "clock cycles at 216 MHz, median of 5 runs";
	tap_ok(names(board, "0.1.4-dirty"), "a board's table names its version up to the colon");
	with_source(&t, board);
	/* a version the table had to clean ('+' kept, a blank became '_') */
	tap_ok(mn_profile_table_stale(&t, "0.1.4-dirty", msg, sizeof msg) == 0,
	       "the board's version compared as the table wrote it");

	with_source(&t, "a-priori cycle model of int8 CMSIS-NN-style kernels on a Cortex-M7 at "
			"216 MHz, NOT measured (replace with micronas profile)");
	tap_ok(mn_profile_table_firmware(&t, ver, sizeof ver) == -1 &&
		       mn_profile_table_stale(&t, "0.2.0", msg, sizeof msg) == 0,
	       "the built-in model names no firmware: no note");
	tap_ok(names("micronas profile on X fw : nothing", NULL), "an empty version is none");
	tap_ok(names("micronas profile on X fw 0.2.0", NULL),
	       "a source cut before its colon names none");
	with_source(&t, "micronas profile on X fw 0123456789012345678901234567890123: y");
	tap_ok(mn_profile_table_firmware(&t, ver, 8) == -1, "a version longer than the buffer is none");
	return tap_done();
}
