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
#include "search/session.h"

static void search_usage(FILE *f)
{
	fprintf(f,
		"Usage: micronas search [--preset NAME|FILE] [--data PATH] [--seed S]\n"
		"                       [--w-flops X] [--w-latency Y] [--max-latency-ms L]\n"
		"                       [--max-sram-kb S] [--max-flash-kb F] [--oracle CSV] [--json]\n"
		"                       [--batch B] [--repeat R] [--init code|paper]\n"
		"                       [--ntk-grad exact|fixed-stats] [--latency-table FILE] [--threads N]\n"
		"                       [--method prune|atlas] [--atlas FILE]\n"
		"Prunes the NAS-Bench-201 supernet to one arch (TE-NAS: NTK condition number and\n"
		"linear regions; MicroNAS: + w_flops x FLOPs rank + w_latency x latency rank),\n"
		"keeping only candidates after which an arch within the limits remains.\n"
		"Without --preset the embedded NUCLEO-F746ZG default is used; flags override\n"
		"preset values. Without --data a synthetic input batch is used (and said so).\n"
		"--method atlas picks at once from the atlas of these settings ('micronas atlas').\n");
}

static void print_progress(const struct mn_engine_snapshot *s)
{
	int width = 30, filled;
	double frac = s->total > 0 ? (double)s->done / s->total : 0;
	filled = (int)(frac * width + 0.5);
	fprintf(stderr, "\rround %d/3 [", s->round + 1);
	for (int i = 0; i < width; i++)
		fputc(i < filled ? '#' : '.', stderr);
	fprintf(stderr, "] %2d/%-2d  %6.1fs", s->done, s->total, s->elapsed_s);
	if (s->eta_s >= 0)
		fprintf(stderr, "  ETA %5.1fs ", s->eta_s);
	else
		fprintf(stderr, "  ETA   ?   ");
	fflush(stderr);
}

static const char *edge_name(int e)
{
	static const char *const names[MN_EDGES] = {"1<-0", "2<-0", "2<-1", "3<-0", "3<-1", "3<-2"};
	return names[e];
}

static void print_json(const struct mn_engine_snapshot *s, const struct mn_preset *p,
		       const struct mn_oracle *oracle)
{
	char arch[MN_ARCH_STRLEN];
	mn_arch_format(&s->result, arch, sizeof arch);
	printf("{\"arch\":");
	mn_json_string(stdout, arch);
	printf(",\"flops_m\":%.6f,\"params_m\":%.6f,\"latency_ms\":%.4f,\"sram_kb\":%.3f,"
	       "\"flash_kb\":%.3f,\"seconds\":%.3f,\"seed\":%llu,"
	       "\"weights\":{\"flops\":%g,\"latency\":%g},\"rounds\":[",
	       s->result_flops_m, s->result_params_m, s->result_latency_ms, s->result_sram_kb,
	       s->result_flash_kb, s->search_seconds, (unsigned long long)p->seed, s->w_flops,
	       s->w_latency);
	for (int r = 0; r < s->n_rounds; r++) {
		const struct mn_round *rd = &s->rounds[r];
		printf("%s{\"round\":%d,\"pruned\":[", r ? "," : "", r + 1);
		int first = 1;
		for (int e = 0; e < MN_EDGES; e++) {
			if (rd->pruned_op[e] < 0)
				continue;
			for (int i = 0; i < rd->n; i++) {
				const struct mn_candidate *c = &rd->cand[i];
				if (c->edge != e || c->op != rd->pruned_op[e])
					continue;
				printf("%s{\"edge\":\"%s\",\"op\":\"%s\",\"dk\":%.6g,\"dr\":%.6g,"
				       "\"rank_ntk\":%d,\"rank_lr\":%d,\"rank_flops\":%d,\"rank_latency\":%d,"
				       "\"score\":%g}",
				       first ? "" : ",", edge_name(e), mn_op_name(c->op), c->dk, c->dr,
				       c->rank_ntk, c->rank_lr, c->rank_flops, c->rank_latency, c->score);
				first = 0;
			}
		}
		printf("]}");
	}
	printf("]");
	if (oracle) {
		const struct mn_oracle_entry *o = mn_oracle_get(oracle, &s->result);
		if (o)
			printf(",\"oracle_acc\":%.4f", o->acc);
		else
			printf(",\"oracle_acc\":null");
	}
	printf("}\n");
}

static void print_text(const struct mn_engine_snapshot *s, const struct mn_oracle *oracle)
{
	char arch[MN_ARCH_STRLEN];
	for (int r = 0; r < s->n_rounds; r++) {
		const struct mn_round *rd = &s->rounds[r];
		printf("round %d: pruned", r + 1);
		for (int e = 0; e < MN_EDGES; e++)
			if (rd->pruned_op[e] >= 0)
				printf("  %s:%s", edge_name(e), mn_op_name(rd->pruned_op[e]));
		printf("\n");
	}
	mn_arch_format(&s->result, arch, sizeof arch);
	printf("arch       %s\n", arch);
	printf("FLOPs      %.2f M\nparams     %.3f M\nlatency    %.2f ms (estimated)\n"
	       "SRAM       %.1f KB (peak)\nflash      %.1f KB\nsearch     %.1f s\n",
	       s->result_flops_m, s->result_params_m, s->result_latency_ms, s->result_sram_kb,
	       s->result_flash_kb, s->search_seconds);
	if (oracle) {
		const struct mn_oracle_entry *o = mn_oracle_get(oracle, &s->result);
		if (o)
			printf("oracle     %.2f %% (NAS-Bench-201 CIFAR-10 validation accuracy, 200 epochs)\n", o->acc);
	}
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
		{"method", required_argument, 0, 'M'}, {"atlas", required_argument, 0, 'A'},
		{"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
	};
	struct mn_cli_preset cp;
	const char *data = NULL, *oracle_path = NULL, *atlas_path = NULL;
	int json = 0, threads = 0, ch, method_atlas = 0;
	char err[512];

	mn_cli_preset_begin(&cp);
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'd': data = optarg; break;
		case 'o': oracle_path = optarg; break;
		case 'j': json = 1; break;
		case 'M':
			if (strcmp(optarg, "atlas") && strcmp(optarg, "prune"))
				return mn_cli_error("search", "--method is prune or atlas, got '%s'", optarg), MN_EXIT_USAGE;
			method_atlas = !strcmp(optarg, "atlas");
			break;
		case 'A': atlas_path = optarg; method_atlas = 1; break;
		case 'T': if (mn_cli_int("search", "--threads", optarg, 1, 256, &threads)) return MN_EXIT_USAGE; break;
		case 'h': search_usage(stdout); return MN_EXIT_OK;
		case '?':
			mn_cli_error("search", "unknown or incomplete option '%s' (see 'micronas search --help')",
				     argv[optind - 1]);
			return MN_EXIT_USAGE;
		default:
			if (mn_cli_preset_option(&cp, "search", ch, optarg))
				return MN_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		mn_cli_error("search", "unexpected argument '%s' (see 'micronas search --help')", argv[optind]);
		return MN_EXIT_USAGE;
	}
	struct mn_preset preset;
	if (mn_cli_preset_finish(&cp, "search", &preset))
		return MN_EXIT_ERROR;
	if (method_atlas)
		return mn_cli_search_atlas(&preset, data, atlas_path, oracle_path, json);

	struct mn_oracle oracle;
	int have_oracle = 0;
	if (oracle_path) {
		if (mn_oracle_load(&oracle, oracle_path, err, sizeof err)) {
			mn_cli_error("search", "%s", err);
			return MN_EXIT_ERROR;
		}
		have_oracle = 1;
	}

	/* Before any thread starts, so that the workers inherit the mask. */
	sigset_t sigs;
	if (mn_cli_block_signals("search", 0, &sigs)) {
		if (have_oracle)
			mn_oracle_free(&oracle);
		return MN_EXIT_ERROR;
	}
	static struct mn_session setup; /* the engine keeps its address */
	if (mn_session_init(&setup, &preset, data, threads, err, sizeof err)) {
		mn_cli_error("search", "%s", err);
		if (have_oracle)
			mn_oracle_free(&oracle);
		return MN_EXIT_ERROR;
	}
	if (setup.notice[0])
		fprintf(stderr, "micronas search: %s\n", setup.notice);

	struct mn_space_limits sl;
	mn_engine_space_limits(setup.engine, &sl);
	if (sl.feasible_count == 0) {
		mn_cli_error("search",
			     "no arch of the space fits the limits; the smallest achievable are latency %.2f ms, "
			     "SRAM %.1f KB, flash %.1f KB (raise --max-latency-ms, --max-sram-kb or --max-flash-kb)",
			     sl.min_latency_ms, sl.min_sram_kb, sl.min_flash_kb);
		mn_session_free(&setup);
		if (have_oracle)
			mn_oracle_free(&oracle);
		return MN_EXIT_ERROR;
	}

	int tty = isatty(STDERR_FILENO);
	struct mn_engine_snapshot snap;
	mn_engine_start(setup.engine);
	for (;;) {
		mn_engine_snapshot(setup.engine, &snap);
		if (snap.state != MN_ENGINE_RUNNING)
			break;
		if (mn_cli_stop_requested(NULL))
			mn_engine_cancel(setup.engine);
		if (tty)
			print_progress(&snap);
		struct timespec ts = {0, 100 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	if (tty)
		fprintf(stderr, "\r%-79s\r", "");
	int rc = MN_EXIT_OK;
	if (snap.state == MN_ENGINE_DONE) {
		if (json)
			print_json(&snap, &setup.preset, have_oracle ? &oracle : NULL);
		else
			print_text(&snap, have_oracle ? &oracle : NULL);
	} else if (snap.state == MN_ENGINE_CANCELLED) {
		mn_cli_error("search", "interrupted after %d proxy evaluations; nothing printed", snap.evaluations);
		rc = MN_EXIT_ERROR;
	} else {
		mn_cli_error("search", "%s", snap.error);
		rc = MN_EXIT_ERROR;
	}
	mn_session_free(&setup);
	if (have_oracle)
		mn_oracle_free(&oracle);
	if (fflush(stdout) != 0)
		rc = MN_EXIT_ERROR;
	return rc;
}
