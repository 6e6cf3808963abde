/* micronas search: TE-NAS pruning with MicroNAS's hardware indicators and
 * hard resource limits, run through the same engine the TUI drives. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cli_preset.h"
#include "cli_signal.h"
#include "data/oracle.h"
#include "search/result_json.h"
#include "search/session_prepare.h"
#include "util/clock.h"

static void search_usage(FILE *f)
{
	fprintf(f,
		"Usage: micronas search [--preset NAME|FILE] [--data PATH] [--seed S]\n"
		"                       [--w-flops X] [--w-latency Y] [--max-latency-ms L]\n"
		"                       [--max-sram-kb S] [--max-flash-kb F] [--oracle CSV] [--json]\n"
		"                       [--batch B] [--repeat R] [--init code|paper]\n"
		"                       [--ntk-grad exact|fixed-stats] [--latency-table FILE] [--threads N]\n"
		"                       [--method prune|atlas] [--atlas FILE] [--az-channels C] [--az-cells N]\n"
		"                       [--proxies all|estimate] [--measure-ahead]\n"
		"Prunes the NAS-Bench-201 supernet to one arch (TE-NAS: NTK condition number and\n"
		"linear regions; MicroNAS: + w_flops x FLOPs rank + w_latency x latency rank),\n"
		"keeping only candidates after which an arch within the limits remains.\n"
		"Without --preset the embedded NUCLEO-F746ZG default is used; flags override\n"
		"preset values. Without --data a synthetic input batch is used (and said so).\n"
		"--method atlas picks at once from the atlas of these settings ('micronas atlas';\n"
		"--proxies estimate: the one built with --proxies estimate).\n"
		"--measure-ahead: after the pick, measure into the cache the searches of every\n"
		"weight within 8 steps of 0.5 (as the TUI does), so that searches with those\n"
		"weights take no new measurement (Ctrl-C stops it; nothing measured is lost).\n");
}

/* The arch in six letters, one per edge (- none, s skip, 1 and 3 the
 * convs, p pool): short enough for the progress line. */
static void arch_letters(const struct mn_arch *a, char out[MN_EDGES + 1])
{
	static const char letter[MN_OP_COUNT] = {'-', 's', '1', '3', 'p'};
	for (int e = 0; e < MN_EDGES; e++)
		out[e] = a->op[e] < MN_OP_COUNT ? letter[a->op[e]] : '?';
	out[MN_EDGES] = '\0';
}

static void print_progress(const struct mn_engine_snapshot *s)
{
	int width = 24, filled;
	double frac = s->work_total > 0 ? (double)s->work_done / s->work_total : 0;
	filled = (int)(frac * width + 0.5);
	fprintf(stderr, "\rround %d/3 [", s->round + 1);
	for (int i = 0; i < width; i++)
		fputc(i < filled ? '#' : '.', stderr);
	fprintf(stderr, "] %2d/%-2d %6.1fs", s->work_done, s->work_total, s->elapsed_s);
	if (s->eta_s >= 0)
		fprintf(stderr, " ETA %5.1fs", s->eta_s);
	else
		fprintf(stderr, " ETA   ?   ");
	if (s->has_provisional) {
		char a[MN_EDGES + 1];
		arch_letters(&s->provisional, a);
		fprintf(stderr, " provisional %s ", a);
	}
	fflush(stderr);
}

/* Where the pick's values came from, for the search line: a second search
 * with other weights reaches supernets the first never measured, and its
 * time says so only with this beside it. */
static const char *measured_text(const struct mn_engine_snapshot *s, char *buf, size_t n)
{
	int cached = s->work_total - s->evaluations;
	if (cached <= 0)
		snprintf(buf, n, "%d measured", s->evaluations);
	else if (s->evaluations == 0)
		snprintf(buf, n, "all %d from the cache", s->work_total);
	else
		snprintf(buf, n, "%d measured, %d from the cache", s->evaluations, cached);
	return buf;
}

static void print_text(const struct mn_engine_snapshot *s, const struct mn_preset *p,
		       const struct mn_oracle *oracle)
{
	char ls[48], lf[48], ms[64];
	char arch[MN_ARCH_STRLEN];
	for (int r = 0; r < s->n_rounds; r++) {
		const struct mn_round *rd = &s->rounds[r];
		printf("round %d: pruned", r + 1);
		for (int e = 0; e < MN_EDGES; e++)
			if (rd->pruned_op[e] >= 0)
				printf("  %s:%s", mn_edge_name(e), mn_op_name(rd->pruned_op[e]));
		printf("\n");
	}
	mn_arch_format(&s->result, arch, sizeof arch);
	printf("arch       %s\n", arch);
	printf("FLOPs      %.2f M\nparams     %.3f M\nlatency    %.2f ms (estimated)\n"
	       "SRAM       %.1f KB (peak%s)\nflash      %.1f KB (runtime included%s)\n"
	       "search     %.1f s (%s)\n",
	       s->result_flops_m, s->result_params_m, s->result_latency_ms, s->result_sram_kb,
	       mn_cli_limit_text(p->max_sram_kb, ls, sizeof ls), s->result_flash_kb,
	       mn_cli_limit_text(p->max_flash_kb, lf, sizeof lf), s->search_seconds,
	       measured_text(s, ms, sizeof ms));
	if (oracle) {
		const struct mn_oracle_entry *o = mn_oracle_get(oracle, &s->result);
		if (o)
			printf("oracle     %.2f %% (NAS-Bench-201 CIFAR-10 validation accuracy, 200 epochs)\n", o->acc);
	}
}

/* The pick's note against the board (mn_cli_note_board_fit), after the
 * result it is about.  Its failure is said and returned: the flush empties
 * the buffer, so the command's last one would succeed and a pick lost to a
 * full disk would exit 0. */
static int note_board_fit(const struct mn_preset *p, const struct mn_engine_snapshot *s)
{
	int rc = mn_cli_flush("search", "the pick");
	mn_cli_note_board_fit(p, s->result_sram_kb, s->result_flash_kb);
	return rc;
}

/* --measure-ahead, after the pick is printed: the engine's look-ahead
 * (engine.h) runs on; Ctrl-C stops it, keeping what it measured. */
static int measure_ahead(struct mn_session *session, struct mn_engine_snapshot *snap, int tty,
			 int cached_at_start)
{
	if (mn_cli_flush("search", NULL) != MN_EXIT_OK)
		return -1;
	int searched = snap->evaluations; /* the pick's own new values */
	for (;;) {
		mn_engine_snapshot(session->engine, snap);
		if (!snap->lookahead)
			break;
		if (mn_cli_stop_requested(NULL))
			mn_engine_cancel(session->engine);
		if (tty) {
			fprintf(stderr, "\rmeasuring ahead %d/%d weight points (Ctrl-C stops; nothing "
				"measured is lost)", snap->lookahead_done, snap->lookahead_total);
			fflush(stderr);
		}
		mn_sleep_ms(100);
	}
	mn_engine_wait(session->engine);
	mn_engine_snapshot(session->engine, snap);
	if (tty)
		fprintf(stderr, "\r%-79s\r", "");
	int n = session->cache ? mn_eval_cache_count(session->cache) - cached_at_start - searched : 0;
	fprintf(stderr, "micronas search: measured ahead %d of %d weight points (w_flops and "
		"w_latency within %d steps of %g from %g, %g; none below 0): %d new value%s",
		snap->lookahead_done, snap->lookahead_total, MN_LOOKAHEAD_RINGS, MN_LOOKAHEAD_STEP,
		snap->w_flops, snap->w_latency, n, n == 1 ? "" : "s");
	if (session->cache)
		fprintf(stderr, " in %s\n", mn_eval_cache_path(session->cache));
	else
		fprintf(stderr, ", kept only by this run (no persistent cache)\n");
	return 0;
}

int mn_cmd_search(int argc, char **argv)
{
	static const struct option opts[] = {
		{"preset", required_argument, 0, 'p'}, {"data", required_argument, 0, 'd'},
		{"seed", required_argument, 0, 's'}, {"w-flops", required_argument, 0, 'F'},
		{"w-latency", required_argument, 0, 'L'}, {"max-latency-ms", required_argument, 0, 'l'},
		{"max-sram-kb", required_argument, 0, 'S'}, {"max-flash-kb", required_argument, 0, 'f'},
		{"oracle", required_argument, 0, 'o'}, {"json", no_argument, 0, 'j'},
		{"batch", required_argument, 0, 'b'}, {"repeat", required_argument, 0, 'r'},
		{"init", required_argument, 0, 'i'}, {"ntk-grad", required_argument, 0, 'g'},
		{"latency-table", required_argument, 0, 't'}, {"threads", required_argument, 0, 'T'},
		{"az-channels", required_argument, 0, MN_OPT_AZ_CHANNELS},
		{"az-cells", required_argument, 0, MN_OPT_AZ_CELLS},
		{"proxies", required_argument, 0, MN_OPT_PROXIES},
		{"method", required_argument, 0, 'M'}, {"atlas", required_argument, 0, 'A'},
		{"measure-ahead", no_argument, 0, 'm'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
	};
	struct mn_cli_preset cp;
	const char *data = NULL, *oracle_path = NULL, *atlas_path = NULL;
	int json = 0, threads = 0, ch, method_atlas = 0, method_prune = 0, ahead = 0;

	mn_cli_preset_begin(&cp);
	optind = 1;
	while ((ch = mn_cli_getopt("search", argc, argv, "h", opts)) != -1) {
		switch (ch) {
		case 'd': data = optarg; break;
		case 'o': oracle_path = optarg; break;
		case 'j': json = 1; break;
		case 'M':
			if (strcmp(optarg, "atlas") && strcmp(optarg, "prune"))
				return mn_cli_error("search", "--method '%s' is not one of: prune (the pruning search), atlas (a pick from the atlas)", optarg), mn_cli_preset_quit(&cp, MN_EXIT_USAGE);
			method_atlas = !strcmp(optarg, "atlas");
			method_prune = !method_atlas;
			break;
		case 'A': atlas_path = optarg; break;
		case 'm': ahead = 1; break;
		case 'T': if (mn_cli_int("search", "--threads", optarg, 1, 256, &threads)) return mn_cli_preset_quit(&cp, MN_EXIT_USAGE); break;
		case 'h': search_usage(stdout); return mn_cli_preset_quit(&cp, MN_EXIT_OK);
		case '?':
			/* mn_cli_getopt said why. */
			return mn_cli_preset_quit(&cp, MN_EXIT_USAGE);
		default:
			if (mn_cli_preset_option(&cp, "search", ch, optarg))
				return mn_cli_preset_quit(&cp, MN_EXIT_USAGE);
		}
	}
	if (optind < argc) {
		mn_cli_error("search", "unexpected argument '%s' (see 'micronas search --help')", argv[optind]);
		return mn_cli_preset_quit(&cp, MN_EXIT_USAGE);
	}
	/* --atlas implies --method atlas; with --method prune one of the two
	 * would be ignored, in whichever order they came. */
	if (atlas_path && method_prune) {
		mn_cli_error("search", "--atlas FILE picks from an atlas, not with --method prune (drop "
			     "one of them)");
		return mn_cli_preset_quit(&cp, MN_EXIT_USAGE);
	}
	if (atlas_path)
		method_atlas = 1;
	if (method_atlas && ahead) {
		mn_cli_error("search", "--measure-ahead goes with the pruning search, not --method atlas "
			     "(an atlas pick measures nothing)");
		return mn_cli_preset_quit(&cp, MN_EXIT_USAGE);
	}
	if (method_atlas) {
		struct mn_preset preset;
		if (mn_cli_preset_finish(&cp, "search", &preset))
			return MN_EXIT_ERROR;
		int rc = mn_cli_search_atlas(&preset, data, atlas_path, oracle_path, json);
		mn_preset_free(&preset);
		return rc;
	}
	/* Before any thread starts, so that the workers inherit the mask. */
	sigset_t sigs;
	if (mn_cli_block_signals("search", 0, &sigs)) {
		mn_cli_preset_end(&cp);
		return MN_EXIT_ERROR;
	}
	struct mn_prepared prep;
	struct mn_session_request req = {cp.name, &cp.flags, data, oracle_path, threads};
	struct mn_error e;
	int prepared = mn_session_prepare(&prep, &req, &e) == 0;
	mn_cli_preset_end(&cp);
	if (!prepared) {
		mn_cli_error("search", "%s", e.msg);
		return MN_EXIT_ERROR;
	}
	struct mn_session *session = prep.session;
	const struct mn_oracle *oracle = prep.have_oracle ? &prep.oracle : NULL;
	if (session->notice[0])
		fprintf(stderr, "micronas search: %s\n", session->notice);
	if (session->cache_notice[0])
		fprintf(stderr, "micronas search: warning: %s\n", session->cache_notice);

	struct mn_space_limits sl;
	mn_engine_space_limits(session->engine, &sl);
	if (sl.feasible_count == 0) {
		char lt[256];
		mn_cli_error("search",
			     "no arch of the space fits the limits, %s; the smallest achievable are latency "
			     "%.2f ms, SRAM %.1f KB, flash %.1f KB (" MN_CLI_LIMITS_FIX ")",
			     mn_preset_limits_text(&session->preset, lt, sizeof lt), sl.min_latency_ms,
			     sl.min_sram_kb, sl.min_flash_kb);
		mn_session_release(&prep);
		return MN_EXIT_ERROR;
	}

	int tty = isatty(STDERR_FILENO);
	struct mn_engine_snapshot snap;
	int cached_at_start = session->cache ? mn_eval_cache_count(session->cache) : 0;
	/* The look-ahead only fills the cache for later searches: without a
	 * persistent one its minutes of work would be dropped at exit. */
	if (ahead && !session->cache) {
		fprintf(stderr, "micronas search: --measure-ahead skipped: with no persistent cache, "
			"nothing it measures would outlive this run\n");
		ahead = 0;
	}
	if (ahead)
		mn_engine_set_lookahead(session->engine, MN_LOOKAHEAD_STEP, MN_LOOKAHEAD_RINGS);
	mn_engine_start(session->engine);
	for (;;) {
		mn_engine_snapshot(session->engine, &snap);
		if (snap.state != MN_ENGINE_RUNNING)
			break;
		if (mn_cli_stop_requested(NULL))
			mn_engine_cancel(session->engine);
		if (tty)
			print_progress(&snap);
		mn_sleep_ms(100);
	}
	if (tty)
		fprintf(stderr, "\r%-79s\r", "");
	int rc = MN_EXIT_OK;
	char cache_err[700];
	int cache_warned = mn_session_cache_write_error(session, cache_err, sizeof cache_err);
	if (cache_warned)
		fprintf(stderr, "micronas search: warning: %s\n", cache_err);
	if (snap.state == MN_ENGINE_DONE) {
		if (json) {
			if (mn_result_json_write(stdout, &snap, session->preset.seed, oracle) != 0)
				rc = MN_EXIT_ERROR;
		} else
			print_text(&snap, &session->preset, oracle);
		if (note_board_fit(&session->preset, &snap) != MN_EXIT_OK)
			rc = MN_EXIT_ERROR;
		if (ahead && measure_ahead(session, &snap, tty, cached_at_start) != 0)
			rc = MN_EXIT_ERROR;
		if (ahead && !cache_warned &&
		    mn_session_cache_write_error(session, cache_err, sizeof cache_err))
			fprintf(stderr, "micronas search: warning: %s\n", cache_err);
	} else if (snap.state == MN_ENGINE_CANCELLED) {
		if (session->cache)
			mn_cli_error("search",
				     "interrupted after %d proxy evaluations; nothing printed. The %d decided "
				     "round(s) and every value measured are kept in %s: run the same command "
				     "to resume",
				     snap.evaluations, snap.decided, mn_eval_cache_path(session->cache));
		else
			mn_cli_error("search", "interrupted after %d proxy evaluations; nothing printed "
				     "(no persistent cache: a new run starts over)", snap.evaluations);
		rc = MN_EXIT_ERROR;
	} else {
		mn_cli_error("search", "%s", snap.error);
		rc = MN_EXIT_ERROR;
	}
	mn_session_release(&prep);
	if (mn_cli_flush("search", NULL) != MN_EXIT_OK)
		rc = MN_EXIT_ERROR;
	return rc;
}
