/* micronas profile: measure every op of the preset's network on the board
 * and write a latency table; resumable after an interruption. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_eta.h"
#include "cli_board.h"
#include "board/profile.h"
#include "util/atomic_file.h"
#include "util/clock.h"

static void profile_usage(FILE *f)
{
	fprintf(f,
		"Usage: micronas profile --port PORT [--preset NAME|FILE] [-o TABLE.ini]\n"
		"                        [--repeats N] [--seed S]\n"
		"Measures on the board every non-none op at every stage shape of the preset's\n"
		"network, the node addition, the stem, both reduction blocks, the head and the\n"
		"constant overhead, and writes a latency table (microseconds) for --latency-table\n"
		"or a preset's latency_table.\n"
		"  --port PORT      serial device, /dev/pts/N or unix:PATH (micronas ports,\n"
		"                   micronas emulate)\n"
		"  --preset NAME    the network (C, N, R, classes); default NUCLEO-F746ZG's\n"
		"  -o TABLE.ini     output (default BOARD-latency.ini, BOARD as the board names it)\n"
		"  --repeats N      timed runs per op, median kept (1..255, default 5)\n"
		"  --seed S         input data and synthetic weights (default 1)\n"
		"After every measurement the figures so far are kept in TABLE.ini.partial; an\n"
		"interrupted run (Ctrl-C, board gone) resumes from it when run again.\n");
}

struct progress {
	int tty;
	int shown;
	int started;       /* the first report of this run came */
	int done_at_start; /* measurements resumed from the .partial file */
	double t0;
};

static void on_progress(void *arg, int done, int total, const char *what)
{
	struct progress *p = arg;
	if (!p->tty)
		return;
	/* The first report gives what was resumed: the rate and ETA count
	 * only what this run measures. */
	if (!p->started) {
		p->started = 1;
		p->done_at_start = done;
		p->t0 = mn_now_s();
	}
	if (what) {
		char eta[32];
		mn_cli_fmt_duration(mn_cli_eta_s(p->done_at_start, done, total, mn_now_s() - p->t0), eta,
				    sizeof eta);
		fprintf(stderr, "\rmicronas profile: [%3d/%d] ETA %-7s %-24s", done + 1, total, eta, what);
	} else
		fprintf(stderr, "\rmicronas profile: [%2d/%d] done%-22s\n", total, total, "");
	p->shown = 1;
}

int mn_cmd_profile(int argc, char **argv)
{
	static const struct option opts[] = {
		{"port", required_argument, 0, 'P'}, {"preset", required_argument, 0, 'p'},
		{"output", required_argument, 0, 'o'}, {"repeats", required_argument, 0, 'r'},
		{"seed", required_argument, 0, 's'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
	};
	const char *port = NULL, *preset = NULL, *output = NULL;
	struct mn_profile_opts po;
	struct mn_profile_result res;
	struct mn_preset pr;
	struct mn_board *b;
	struct progress prog = {0, 0, 0, 0, 0};
	struct mn_error e;
	char *out_default = NULL, *partial = NULL;
	sigset_t set;
	int ch, seed = 1, brc, rc;

	mn_profile_opts_default(&po);
	optind = 1;
	while ((ch = mn_cli_getopt("profile", argc, argv, "+ho:", opts)) != -1) {
		switch (ch) {
		case 'P': port = optarg; break;
		case 'p': preset = optarg; break;
		case 'o': output = optarg; break;
		case 'r':
			if (mn_cli_int("profile", "--repeats", optarg, 1, MNP_MAX_REPEATS, &po.repeats))
				return MN_EXIT_USAGE;
			break;
		case 's':
			if (mn_cli_int("profile", "--seed", optarg, 0, 2147483647L, &seed))
				return MN_EXIT_USAGE;
			break;
		case 'h': profile_usage(stdout); return MN_EXIT_OK;
		default:
			/* mn_cli_getopt said why. */
			return MN_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		mn_cli_error("profile", "unexpected argument '%s' (see 'micronas profile --help')",
			     argv[optind]);
		return MN_EXIT_USAGE;
	}
	if (!port) {
		mn_cli_error("profile", "no --port given (list ports with 'micronas ports', or start "
			     "'micronas emulate')");
		return MN_EXIT_USAGE;
	}
	int loaded = mn_cli_load_preset("profile", preset, &pr) == 0;
	po.shape.channels = pr.channels;
	po.shape.cells = pr.cells;
	po.shape.height = pr.height;
	po.shape.width = pr.width;
	po.shape.input_channels = pr.input_channels;
	po.shape.classes = pr.classes;
	mn_preset_free(&pr); /* only the network's shape is used */
	if (!loaded)
		return MN_EXIT_ERROR;
	po.seed = (uint32_t)seed;
	if (mn_shape_check(&po.shape, e.msg, sizeof e.msg) != 0) {
		mn_cli_error("profile", "%s", e.msg);
		return MN_EXIT_ERROR;
	}

	/* The destination is checked before the board is touched: a table
	 * that cannot be written would waste the whole measurement. */
	if (output && mn_atomic_check(output, e.msg, sizeof e.msg) != 0) {
		mn_cli_error("profile", "-o %s", e.msg);
		return MN_EXIT_ERROR;
	}
	if (mn_cli_block_signals("profile", 0, &set) != 0)
		return MN_EXIT_ERROR;
	if (mn_cli_connect("profile", port, &b) != 0)
		return MN_EXIT_ERROR;
	if (!output) {
		out_default = mn_profile_table_name(mn_board_info(b)->board);
		if (!out_default) {
			mn_cli_error("profile", "out of memory");
			mn_board_close(b);
			return MN_EXIT_ERROR;
		}
		output = out_default;
		if (mn_atomic_check(output, e.msg, sizeof e.msg) != 0) {
			mn_cli_error("profile", "%s", e.msg);
			free(out_default);
			mn_board_close(b);
			return MN_EXIT_ERROR;
		}
	}
	po.output = output;
	prog.tty = isatty(2);
	po.progress = on_progress;
	po.progress_arg = &prog;
	partial = mn_profile_partial_path(&po);
	if (!partial) {
		mn_cli_error("profile", "out of memory");
		free(out_default);
		mn_board_close(b);
		return MN_EXIT_ERROR;
	}
	/* Say up front that this run resumes. */
	if (access(partial, F_OK) == 0)
		fprintf(stderr, "micronas profile: resuming from %s (delete it to start over)\n", partial);
	rc = mn_profile_run(b, &po, NULL, &res, &brc, e.msg, sizeof e.msg);
	if (prog.shown && rc != 0)
		fputc('\n', stderr);
	if (rc != 0) {
		int kept = res.resumed + res.measured;
		if (brc == MN_BOARD_ECANCEL && kept > 0)
			mn_cli_error("profile", "interrupted: %d of %d measurements kept in %s (run the "
				     "same command again to resume)", kept, res.total, partial);
		else if (brc == MN_BOARD_ECANCEL)
			mn_cli_error("profile", "interrupted before the first measurement");
		else if (brc != 0 && kept > 0)
			mn_cli_error("profile", "%s; %d of %d measurements kept in %s (run the same "
				     "command again to resume)", e.msg, kept, res.total, partial);
		else
			mn_cli_error("profile", "%s", e.msg);
		free(partial);
		free(out_default);
		mn_board_close(b);
		return MN_EXIT_ERROR;
	}
	free(partial);
	printf("wrote %s: %d measurements (%d resumed) on %s, %s\n", output, res.total,
	       res.resumed, mn_board_info(b)->board,
	       mn_board_is_emulated(b) ? "instruction-based timing (QEMU), not STM32 cycles"
				       : "clock cycles");
	free(out_default);
	mn_board_close(b);
	return mn_cli_flush("profile", NULL);
}
