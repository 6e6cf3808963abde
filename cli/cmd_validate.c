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
#include "space/memory.h"
#include "util/proportion.h"
#include "board/profile.h"
#include "board/validate.h"
#include "export/calibrate.h"
#include "export/deploy_fw.h"
#include "export/model_job.h"
#include "export/validate_model.h"
#include "data/dataset_source.h"

static void validate_usage(FILE *f)
{
	fprintf(f,
		"Usage: micronas validate --port PORT [--preset NAME|FILE]\n"
		"                         [--latency-table TABLE.ini] [--seed S] [--json] ARCH...\n"
		"       micronas validate --port PORT --weights W.safetensors [--data PATH]\n"
		"                         [--calib N] [--images N] [--model FILE] [--threads N]\n"
		"                         [shape flags] [--json] ARCH\n"
		"Runs each NAS-Bench-201 arch on the board as the preset's network (C, N, R,\n"
		"classes) in the memory planner's edge order, and prints the measured and\n"
		"estimated latency (from the latency table) with the error in %%, and the\n"
		"measured and estimated peak SRAM (KB = 1024 bytes).\n"
		"  --latency-table T  default: the preset's latency_table, else the built-in\n"
		"                     NUCLEO-F746ZG cycle model (not a measurement)\n"
		"  --json             one object per line: arch, measured_ms, estimated_ms,\n"
		"                     error_pct, measured_sram_kb, estimated_sram_kb, board\n"
		"With --weights the board runs the deployed model (the image 'micronas deploy'\n"
		"wrote for these weights): the weights are quantized as deploy does (the same\n"
		"--data and --calib give the same model; the board must carry it), N images of\n"
		"--data after the calibration ones are sent and run, and the latency (median),\n"
		"peak SRAM, int8_exact (share of images whose logits equal the host's int8\n"
		"reference byte for byte), top1_agree_float and int8_accuracy are reported;\n"
		"interrupted, those of the images already run, marked partial.\n"
		"  --calib N          calibration images, as deploy (default 64)\n"
		"  --images N         images run on the board (default 32)\n"
		"  --model FILE       the int8 values from deploy's DIR/model.int8.safetensors\n"
		"                     (a model deployed on another computer, whose BLAS can\n"
		"                     round the calibration otherwise)\n"
		"  --threads N        calibration threads (default: all cores; the model does\n"
		"                     not depend on it)\n"
		"  --channels C --cells N --resolution R|HxW --classes K --input-channels I\n"
		"                     override the preset's network\n");
}

static int read_table(struct mn_latency_table *t, const char *path, const struct mn_net_shape *s,
		      struct mn_error *e)
{
	if (mn_latency_table_read(t, path, e->msg, sizeof e->msg) != 0)
		return -1;
	if (mn_latency_table_check_network(t, path, s->channels, s->cells, s->height,
					   mn_shape_width(s), s->classes, e->msg, sizeof e->msg) != 0)
		return -1;
	return mn_latency_table_check_input(t, path, mn_shape_input_channels(s), e->msg,
					    sizeof e->msg);
}

static void json_number(double v, const char *fmt)
{
	if (isfinite(v))
		printf(fmt, v);
	else
		printf("null");
}

/* Whose times the table holds, when not the board's: a profiled table
 * names the board it ran on; a cycle model is the preset's board, whose
 * own and emulated builds mn_firmware_pair gives.  0 when they are the
 * board's (or nothing says), else 1 with who in buf. */
static int other_board(const struct mn_latency_table *t, const char *preset_fw, const char *board,
		       char *buf, size_t n)
{
	char ver[MN_LAT_TEXT];
	const char *own, *emulated;
	if (mn_profile_table_firmware(t, ver, sizeof ver) == 0) {
		if (!strcmp(t->board, board))
			return 0;
		snprintf(buf, n, "profiled on %s", t->board);
		return 1;
	}
	if (mn_firmware_pair(preset_fw, &own, &emulated) != 0 || !strcmp(board, own) ||
	    !strcmp(board, emulated))
		return 0;
	snprintf(buf, n, "the preset's %s (emulated: %s)", own, emulated);
	return 1;
}

/* What the connected board means for the figures: an emulated board's
 * instruction-based times (left out of JSON output), a table profiled on
 * another firmware release, a table of another board. */
static void board_notes(const struct mn_board *b, const struct mn_latency_table *t,
			const char *preset_fw, int json)
{
	char msg[512], who[MN_LAT_TEXT + 96];
	const char *board = mn_board_info(b)->board;
	if (mn_board_is_emulated(b) && !json)
		fprintf(stderr, "micronas validate: %s is emulated: its times are instruction-based, "
			"not STM32 cycles\n", board);
	if (mn_profile_table_stale(t, mn_board_info(b)->fw_version, msg, sizeof msg))
		fprintf(stderr, "micronas validate: note: %s\n", msg);
	if (other_board(t, preset_fw, board, who, sizeof who))
		fprintf(stderr, "micronas validate: note: the board is %s, but the latency table's "
			"times are of another board (%s): the estimates and their error compare two "
			"boards; give this board's --preset or --latency-table\n", board, who);
}

/* validate --weights' report of v; planned > 0 marks it partial: an
 * interrupt stopped the run after v->images of the planned images. */
static void model_report(const struct mn_model_validation *v, const struct mn_arch *a,
			 const struct mn_net_shape *shape, const struct mn_latency_table *t,
			 const struct mn_board *b, int json, int planned)
{
	struct mn_memory mem;
	char arch_str[MN_ARCH_STRLEN];

	mn_memory_arch(a, shape, 0, &mem);
	double est = mn_latency_arch_us(t, a);
	double err_pct = v->measured_us > 0 ? (est - v->measured_us) / v->measured_us * 100.0 : NAN;
	double exact = v->images ? (double)v->exact / v->images : NAN;
	double agree = v->images ? (double)v->agree_float / v->images : NAN;
	double acc = v->labelled ? (double)v->correct_int8 / v->labelled : NAN;
	double facc = v->labelled ? (double)v->correct_float / v->labelled : NAN;
	mn_arch_format(a, arch_str, sizeof arch_str);
	if (json) {
		printf("{\"arch\":");
		mn_json_string(stdout, arch_str);
		printf(",\"measured_ms\":%.6f,\"estimated_ms\":%.6f,\"error_pct\":", v->measured_us / 1000.0,
		       est / 1000.0);
		json_number(err_pct, "%.4f");
		printf(",\"measured_sram_kb\":%.3f,\"estimated_sram_kb\":%.3f,\"board\":",
		       v->peak_bytes / 1024.0, mem.sram_bytes / 1024.0);
		mn_json_string(stdout, mn_board_info(b)->board);
		printf(",\"images\":%d,\"int8_exact\":", v->images);
		json_number(exact, "%.6f");
		printf(",\"top1_agree_float\":");
		json_number(agree, "%.6f");
		printf(",\"int8_accuracy\":");
		json_number(acc, "%.6f");
		printf(",\"float_accuracy\":");
		json_number(facc, "%.6f");
		printf(",\"fingerprint\":\"%08x\"", (unsigned)v->fingerprint);
		if (planned)
			printf(",\"partial\":true");
		printf("}\n");
	} else {
		if (planned)
			printf("partial    interrupted after %d of %d images; the figures below are of "
			       "those %d\n", v->images, planned, v->images);
		printf("arch       %s\n", arch_str);
		printf("board      %s%s, model %08x\n", mn_board_info(b)->board,
		       mn_board_is_emulated(b) ? " (emulated: instruction-based time)" : "",
		       (unsigned)v->fingerprint);
		printf("latency    measured %.3f ms (median of %d images), estimated %.3f ms, error "
		       "%+.2f%%\n", v->measured_us / 1000.0, v->images, est / 1000.0, err_pct);
		printf("peak SRAM  measured %.2f KB, estimated %.2f KB%s\n", v->peak_bytes / 1024.0,
		       mem.sram_bytes / 1024.0, v->peak_bytes == mem.sram_bytes ? "" : " (MISMATCH)");
		printf("int8       %d/%d images bit-exact with the host reference, top-1 agrees with "
		       "float on %d/%d", v->exact, v->images, v->agree_float, v->images);
		char band[32];
		if (mn_wilson95_text(v->agree_float, v->images, band, sizeof band) == 0)
			printf(" (%s at 95%%)", band);
		if (v->labelled)
			printf("; accuracy int8 %.2f%%, float %.2f%%", 100.0 * acc, 100.0 * facc);
		printf("\n");
	}
}

/* An interrupted validate --weights: the images run before it, reported
 * as partial, then the one error line. */
static void interrupted(const struct mn_model_validation *v, const struct mn_arch *a,
			const struct mn_net_shape *shape, const struct mn_latency_table *t,
			const struct mn_board *b, int json, size_t count, size_t first, int images)
{
	size_t left = count > first ? count - first : 0;
	int planned = left < (size_t)images ? (int)left : images;
	if (v->images == 0) {
		mn_cli_error("validate", "interrupted before the first image was run");
		return;
	}
	model_report(v, a, shape, t, b, json, planned);
	mn_cli_error("validate", "interrupted after %d of %d images (their figures are printed, "
		     "marked partial)", v->images, planned);
}

/* validate --weights: the deployed model on the board. */
static int validate_weights(const char *weights, const char *data, const char *model,
			    const struct mn_arch *a,
			    const struct mn_net_shape *shape, const struct mn_latency_table *t,
			    const char *preset_fw, int calib, int images, int threads,
			    const char *port, int json)
{
	struct mn_fnet net;
	struct mn_dataset d;
	struct mn_qmodel q;
	struct mn_board *b = NULL;
	struct mn_model_validation v;
	struct mn_error e;
	sigset_t set;
	int rc = MN_EXIT_ERROR;

	/* Blocked from here, so that a Ctrl-C during the calibration ends
	 * with a line, as one later does, rather than killing the process. */
	if (mn_cli_block_signals("validate", 0, &set) != 0)
		goto out;
	/* The steps the TUI's job takes too (export/model_job.h). */
	int prc = mn_model_prepare(weights, data, model, a, shape, calib, threads,
				   mn_cli_stop_requested, NULL, &net, &d, &q, e.msg, sizeof e.msg);
	if (prc == 1) {
		mn_cli_error("validate", "interrupted while quantizing the weights (calibration); "
			     "nothing was sent to the board");
		goto out;
	}
	if (prc != 0) {
		mn_cli_error("validate", "%s", e.msg);
		goto out;
	}
	if (!data)
		fprintf(stderr, "micronas validate: %s (no accuracy; deploy must have used them "
			"too)\n", MN_DATASET_SYNTHETIC_NOTICE);
	/* The images after the calibration ones, as deploy evaluates; none
	 * left, the first ones, which the figures then flatter. */
	size_t first = d.count > (size_t)calib ? (size_t)calib : 0;
	if (data && first == 0)
		fprintf(stderr, "micronas validate: note: --calib %d takes all %zu images of %s, so "
			"the board runs calibration images (a lower --calib leaves unseen ones)\n",
			calib, d.count, data);
	if (mn_cli_connect("validate", port, &b) != 0)
		goto out;
	board_notes(b, t, preset_fw, json);
	int r = mn_model_validate(b, &q, &net, &d, first, images, &v, e.msg, sizeof e.msg);
	if (r != 0) {
		if (r == MN_BOARD_ECANCEL)
			interrupted(&v, a, shape, t, b, json, d.count, first, images);
		else
			mn_cli_error("validate", "%s", e.msg);
		goto out;
	}
	model_report(&v, a, shape, t, b, json, 0);
	rc = mn_cli_flush("validate", NULL);
out:
	mn_board_close(b);
	mn_qmodel_free(&q);
	mn_dataset_free(&d);
	mn_fnet_free(&net);
	return rc;
}

int mn_cmd_validate(int argc, char **argv)
{
	static const struct option opts[] = {
		MN_CLI_SHAPE_LONGOPTS, {"weights", required_argument, 0, 'W'},
		{"data", required_argument, 0, 'd'}, {"calib", required_argument, 0, 'b'},
		{"images", required_argument, 0, 'I'}, {"model", required_argument, 0, 'M'},
		{"port", required_argument, 0, 'P'}, {"preset", required_argument, 0, 'p'},
		{"latency-table", required_argument, 0, 't'}, {"seed", required_argument, 0, 's'},
		{"json", no_argument, 0, 'j'}, {"threads", required_argument, 0, 'T'},
		{"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
	};
	const char *port = NULL, *preset = NULL, *table_path = NULL, *weights = NULL, *data = NULL;
	const char *model = NULL;
	struct mn_net_shape flags = {0};
	int calib = 64, images = 32, threads = 0;
	struct mn_latency_table t;
	struct mn_preset pr;
	struct mn_net_shape shape;
	struct mn_board *b;
	struct mn_error e;
	sigset_t set;
	int ch, json = 0, seed = MN_VALIDATE_SEED, rc = MN_EXIT_OK;

	optind = 1;
	while ((ch = mn_cli_getopt("validate", argc, argv, "h", opts)) != -1) {
		int shaped = mn_cli_shape_option("validate", ch, optarg, &flags);
		if (shaped < 0)
			return MN_EXIT_USAGE;
		if (shaped)
			continue;
		switch (ch) {
		case 'W': weights = optarg; break;
		case 'd': data = optarg; break;
		case 'M': model = optarg; break;
		case 'b':
			if (mn_cli_int("validate", "--calib", optarg, 1, 100000, &calib))
				return MN_EXIT_USAGE;
			break;
		case 'I':
			if (mn_cli_int("validate", "--images", optarg, 1, 1000000, &images))
				return MN_EXIT_USAGE;
			break;
		case 'T':
			if (mn_cli_int("validate", "--threads", optarg, 1, 256, &threads))
				return MN_EXIT_USAGE;
			break;
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
			/* mn_cli_getopt said why. */
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
	if (weights && optind + 1 != argc) {
		mn_cli_error("validate", "--weights validates one arch, the weights' (got %d)",
			     argc - optind);
		return MN_EXIT_USAGE;
	}
	/* Without --weights the board runs the preset's network, the one its
	 * latency table was profiled on; --input-channels is a shape flag like
	 * the others. */
	if (!weights && (data || model || threads || flags.channels || flags.cells ||
			 flags.height || flags.classes || flags.input_channels)) {
		mn_cli_error("validate", "--data, --model, --threads and the shape flags go with "
			     "--weights (see "
			     "'micronas validate --help')");
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
	mn_cli_shape_from(&flags, &pr, &shape);
	/* The table: --latency-table, else the preset's, else the built-in model. */
	if (!table_path)
		table_path = pr.latency_table;
	int have_table = table_path != NULL;
	int bad = mn_shape_check(&shape, e.msg, sizeof e.msg) != 0 ||
		  (have_table && read_table(&t, table_path, &shape, &e) != 0);
	/* the preset's board, for board_notes, outlives the preset */
	char preset_fw[MN_PRESET_TEXT];
	snprintf(preset_fw, sizeof preset_fw, "%s", pr.firmware);
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

	if (weights)
		return validate_weights(weights, data, model, &archs[0], &shape, &t, preset_fw, calib,
					images, threads, port, json);
	if (mn_cli_block_signals("validate", 0, &set) != 0)
		return MN_EXIT_ERROR;
	if (mn_cli_connect("validate", port, &b) != 0)
		return MN_EXIT_ERROR;
	board_notes(b, &t, preset_fw, json);
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
		if (mn_cli_flush("validate", NULL) != MN_EXIT_OK) {
			rc = MN_EXIT_ERROR;
			break;
		}
	}
	mn_board_close(b);
	return rc;
}
