/* Profiling a board into a latency table (latency_table.h): every non-none
 * op at every stage shape of the deployable network, the node addition per
 * stage, the stem, both reduction blocks, the head and the constant
 * overhead, each with PROFILE_OP or RUN_ARCH on the board.
 *
 * What is measured:
 *   stage s (0..2) at C*2^s channels, (R/2^s)^2 pixels:
 *     skip_connect  PROFILE_OP no-op call (the identity itself moves no data)
 *     nor_conv_1x1, nor_conv_3x3, avg_pool_3x3, add (one two-input addition)
 *   stem          PROFILE_OP stem: conv 3x3 Cin->C at H x W (the preset's input
 *                 channels: 1 for grayscale, 3 for RGB)
 *   reduction1/2  PROFILE_OP reduction: C->2C at R, 2C->4C at R/2
 *   head          PROFILE_OP head: 4C channels at (R/4)^2, the classes
 *   Each figure is the median of `repeats` timed runs after a warm-up run.
 *   overhead      what a whole inference costs beyond the sum of its parts:
 *                 for each of MN_PROFILE_CALIB_ARCHS fixed calibration archs,
 *                 RUN_ARCH's measured total minus the table's estimate of the
 *                 arch without overhead; overhead = the mean of these
 *                 residuals (0 if negative, since the table holds no negative
 *                 entry).  It covers buffer management between ops, nodes
 *                 copied or zero-filled, and timing differences between an op
 *                 alone and in the network.
 *   Timing units become microseconds with HELLO's count_hz.  On QEMU they are
 *   instructions (instruction-based time, not STM32 cycles); the table's
 *   source says so.
 *
 * Resuming: after every measurement the raw figures so far are written
 * atomically to a partial file (default TABLE.ini.partial).  A run that finds
 * one continues from it, provided it was made for the same board, firmware,
 * network, repeats and seed (otherwise it stops with an error rather than mix
 * measurements); the partial file is removed once the table is written,
 * and when the board fails the first measurement (it would keep nothing). */
#ifndef MN_PROFILE_H
#define MN_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include "board/board.h"
#include "space/cost.h"
#include "space/latency_table.h"

#define MN_PROFILE_CALIB_ARCHS 3
/* 15 stage ops + stem + 2 reductions + head + the calibration runs. */
#define MN_PROFILE_ITEMS (5 * MN_STAGES + 4 + MN_PROFILE_CALIB_ARCHS)

struct mn_profile_opts {
	struct mn_net_shape shape;
	int repeats;             /* timed runs per op, 1..255 (default 5) */
	uint32_t seed;           /* input data and synthetic weights */
	const char *output;      /* the table to write */
	const char *partial;     /* NULL: output + ".partial" */
	/* Called before each measurement (done so far, total, its name) and
	 * once at the end (done == total, what == NULL); may be NULL. */
	void (*progress)(void *arg, int done, int total, const char *what);
	void *progress_arg;
};

struct mn_profile_result {
	int total;              /* measurements in a full run */
	int resumed;            /* taken from the partial file */
	int measured;           /* made by this run */
	double calib_residual_us[MN_PROFILE_CALIB_ARCHS];
};

void mn_profile_opts_default(struct mn_profile_opts *o);

/* The partial file o's run keeps its figures in: o->partial, else
 * o->output + ".partial".  Heap (free it); NULL when out of memory. */
char *mn_profile_partial_path(const struct mn_profile_opts *o);

/* The table's default name for a board: "BOARD-latency.ini" with BOARD as
 * the board names itself (characters other than letters, digits, '-', '_'
 * and '.' become '_'; "board" when it gives no name).  `micronas profile`
 * and the TUI's p write there.  Heap (free it); NULL when out of memory. */
char *mn_profile_table_name(const char *board);

/* The calibration archs (NB201 strings). */
const char *mn_profile_calib_arch(int i);

/* Runs (or resumes) the profile and writes o->output.  t (may be NULL)
 * receives the table.  Returns 0; or -1 with err naming the problem and the
 * fix, *board_rc the MN_BOARD_* code when the board failed (0 otherwise),
 * and everything measured kept in the partial file (res says how much). */
int mn_profile_run(struct mn_board *b, const struct mn_profile_opts *o,
		   struct mn_latency_table *t, struct mn_profile_result *res, int *board_rc,
		   char *err, size_t errn);

/* The firmware version a table written by mn_profile_run names in its
 * source ("micronas profile on BOARD fw VERSION: ..."): 0 with ver filled,
 * or -1 when the source does not say (the built-in cycle model, a table
 * written by hand). */
int mn_profile_table_firmware(const struct mn_latency_table *t, char *ver, size_t n);

/* A table profiled on one firmware estimates another's kernels only as far
 * as they are the same: 0.1.x's convolutions, say, did not pay the
 * per-channel requantization 0.2.0's do (2.5% of a deployed model's time on
 * the emulated M7).  1 with one line in msg (what differs and the fix) when
 * t names another firmware release than fw (the board's, from HELLO): the
 * versions before any '-' suffix differ (a build variant of the same
 * release, such as the deployed model's image "0.2.0-model", runs the same
 * kernels); 0 when they agree or t does not say. */
int mn_profile_table_stale(const struct mn_latency_table *t, const char *fw, char *msg, size_t n);

#endif
