/* micronas validate: run archs on the board and compare the measured
 * latency and peak SRAM with the estimates. */
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_board.h"
#include "space/latency_model.h"
#include "board/validate.h"

static void validate_usage(FILE *f)
{
	fprintf(f,
		"Usage: micronas validate --port PORT [--preset NAME|FILE]\n"
		"                         [--latency-table TABLE.ini] [--seed S] [--json] ARCH...\n"
		"Runs each NAS-Bench-201 arch on the board as the preset's network (C, N, R,\n"
		"classes) in the memory planner's edge order, and prints the measured and\n"
		"estimated latency (from the latency table) with the error in %%, and the\n"
		"measured and estimated peak SRAM (KB = 1024 bytes).\n"
		"  --latency-table T  default: the preset's latency_table, else the built-in\n"
		"                     NUCLEO-F746ZG cycle model (not a measurement)\n"
		"  --json             one object per line: arch, measured_ms, estimated_ms,\n"
		"                     error_pct, measured_sram_kb, estimated_sram_kb, board\n");
}

static int read_table(struct mn_latency_table *t, const char *path, const struct mn_net_shape *s,
		      struct mn_error *e)
{
	if (mn_latency_table_read(t, path, e->msg, sizeof e->msg) != 0)
		return -1;
	return mn_latency_table_check_network(t, path, s->channels, s->cells, s->height,
					      mn_shape_width(s), s->classes, e->msg, sizeof e->msg);
}

int mn_cmd_validate(int argc, char **argv)
{
	static const struct option opts[] = {
		{"port", required_argument, 0, 'P'}, {"preset", required_argument, 0, 'p'},
		{"latency-table", required_argument, 0, 't'}, {"seed", required_argument, 0, 's'},
		{"json", no_argument, 0, 'j'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
	};
	const char *port = NULL, *preset = NULL, *table_path = NULL;
	struct mn_latency_table t;
	struct mn_preset pr;
	struct mn_net_shape shape;
	struct mn_board *b;
	struct mn_error e;
	sigset_t set;
	int ch, json = 0, seed = MN_VALIDATE_SEED, rc = MN_EXIT_OK;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'P': port = optarg; break;
		case 'p': preset = optarg; break;
		case 't': table_path = optarg; break;
		case 's':
			if (mn_cli_int("validate", "--seed", optarg, 0, 2147483647L, &seed))
				return MN_EXIT_USAGE;
			break;
		case 'j': json = 1; break;
		case 'h': validate_usage(stdout); return MN_EXIT_OK;
		default:
			mn_cli_error("validate", "unknown or incomplete option '%s' (see 'micronas "
				     "validate --help')", argv[optind - 1]);
			return MN_EXIT_USAGE;
		}
	}
	if (!port) {
		mn_cli_error("validate", "no --port given (list ports with 'micronas ports', or "
			     "start 'micronas emulate')");
		return MN_EXIT_USAGE;
	}
	if (optind >= argc) {
		mn_cli_error("validate", "no arch given (see 'micronas validate --help')");
		return MN_EXIT_USAGE;
	}
	/* Everything is checked before the board is touched: a bad arch or
	 * table must not cost a run. */
	int n = argc - optind;
	struct mn_arch archs[n];
	for (int i = 0; i < n; i++)
		if (mn_cli_arch("validate", argv[optind + i], &archs[i]))
			return MN_EXIT_ERROR;
	if (mn_cli_load_preset("validate", preset, &pr) != 0) {
		mn_preset_free(&pr);
		return MN_EXIT_ERROR;
	}
	shape.channels = pr.channels;
	shape.cells = pr.cells;
	shape.height = pr.height;
	shape.width = pr.width;
	shape.classes = pr.classes;
	shape.input_channels = pr.input_channels;
	/* The table: --latency-table, else the preset's, else the built-in model. */
	if (!table_path)
		table_path = pr.latency_table;
	int have_table = table_path != NULL;
	int bad = mn_shape_check(&shape, e.msg, sizeof e.msg) != 0 ||
		  (have_table && read_table(&t, table_path, &shape, &e) != 0);
	mn_preset_free(&pr);
	table_path = NULL; /* it may have pointed into the preset */
	if (bad) {
		mn_cli_error("validate", "%s", e.msg);
		return MN_EXIT_ERROR;
	}
	/* What the board cannot run is said before anything else. */
	for (int i = 0; i < n; i++) {
		struct mnp_run_req rq;
		if (mn_validate_request(&archs[i], &shape, (uint32_t)seed, &rq, NULL, e.msg,
					sizeof e.msg) != 0) {
			mn_cli_error("validate", "%s", e.msg);
			return MN_EXIT_ERROR;
		}
	}
	if (have_table) {
		/* estimates from the measured table */
	} else if (mn_latency_model_nucleo(shape.channels, shape.cells, shape.height, shape.width,
					   shape.classes, &t) != 0) {
		mn_cli_error("validate", "the built-in cycle model cannot describe C=%d N=%d %dx%d "
			     "(pass --latency-table from 'micronas profile')", shape.channels,
			     shape.cells, shape.height, shape.width);
		return MN_EXIT_ERROR;
	} else {
		fprintf(stderr, "micronas validate: estimating with the built-in NUCLEO-F746ZG cycle "
			"model (not measured; pass --latency-table from 'micronas profile')\n");
	}

	if (mn_cli_block_signals("validate", 0, &set) != 0)
		return MN_EXIT_ERROR;
	if (mn_cli_connect("validate", port, &b) != 0)
		return MN_EXIT_ERROR;
	if (mn_board_is_emulated(b) && !json)
		fprintf(stderr, "micronas validate: %s is emulated: its times are instruction-based, "
			"not STM32 cycles\n", mn_board_info(b)->board);
	for (int i = 0; i < n; i++) {
		struct mn_validation v;
		int brc;
		if (mn_validate_arch(b, &archs[i], &shape, &t, (uint32_t)seed, &v, &brc, e.msg,
				     sizeof e.msg) != 0) {
			if (brc == MN_BOARD_ECANCEL)
				mn_cli_error("validate", "interrupted (%d of %d archs done)", i, n);
			else
				mn_cli_error("validate", "%s", e.msg);
			rc = MN_EXIT_ERROR;
			break;
		}
		if (json) {
			printf("{\"arch\":");
			mn_json_string(stdout, v.arch);
			printf(",\"measured_ms\":%.6f,\"estimated_ms\":%.6f,\"error_pct\":%.4f,"
			       "\"measured_sram_kb\":%.3f,\"estimated_sram_kb\":%.3f,\"board\":",
			       v.measured_us / 1000.0, v.estimated_us / 1000.0, v.error_pct,
			       v.measured_sram_bytes / 1024.0, v.estimated_sram_bytes / 1024.0);
			mn_json_string(stdout, v.board);
			printf("}\n");
		} else {
			printf("arch       %s\n", v.arch);
			printf("board      %s%s\n", v.board,
			       v.emulated ? " (emulated: instruction-based time)" : "");
			printf("latency    measured %.3f ms, estimated %.3f ms, error %+.2f%%\n",
			       v.measured_us / 1000.0, v.estimated_us / 1000.0, v.error_pct);
			printf("peak SRAM  measured %.2f KB, estimated %.2f KB%s\n",
			       v.measured_sram_bytes / 1024.0, v.estimated_sram_bytes / 1024.0,
			       v.measured_sram_bytes == v.estimated_sram_bytes ? "" : " (MISMATCH)");
		}
		if (fflush(stdout) != 0) {
			rc = MN_EXIT_ERROR;
			break;
		}
	}
	mn_board_close(b);
	return rc;
}
