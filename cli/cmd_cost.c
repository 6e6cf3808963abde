/* micronas cost: the NAS-Bench-201 cost convention and the int8 memory
 * model, per arch. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "util/error.h"
#include "space/memory.h"

static void cost_usage(FILE *f)
{
	fprintf(f,
		"Usage: micronas cost ARCH... [--channels C] [--cells N] [--resolution R|HxW]\n"
		"                     [--classes K] [--input-channels I] [--runtime-flash-kb F] [--json]\n"
		"FLOPs (M, multiply-accumulates), params (M), int8 flash (KB) and peak SRAM (KB)\n"
		"of each NAS-Bench-201 arch string. Defaults: C=16, N=5, R=32, K=10, I=3, F=0.\n"
		"KB = 1024 bytes. --json prints one object per line with keys arch, flops_m,\n"
		"params_m, flash_kb, sram_kb.\n");
}

int mn_cmd_cost(int argc, char **argv)
{
	static const struct option opts[] = {
		MN_CLI_SHAPE_LONGOPTS,
		{"runtime-flash-kb", required_argument, 0, 'f'}, {"json", no_argument, 0, 'j'},
		{"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
	};
	struct mn_net_shape shape = MN_SHAPE_DEFAULT;
	double runtime_kb = 0;
	int json = 0, ch;
	struct mn_error e;

	optind = 1;
	while ((ch = mn_cli_getopt("cost", argc, argv, "h", opts)) != -1) {
		int shaped = mn_cli_shape_option("cost", ch, optarg, &shape);
		if (shaped < 0)
			return MN_EXIT_USAGE;
		if (shaped)
			continue;
		switch (ch) {
		case 'f': if (mn_cli_double("cost", "--runtime-flash-kb", optarg, 0, 1e7, &runtime_kb)) return MN_EXIT_USAGE; break;
		case 'j': json = 1; break;
		case 'h': cost_usage(stdout); return MN_EXIT_OK;
		default:
			/* mn_cli_getopt said why. */
			return MN_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		mn_cli_error("cost", "no arch given (see 'micronas cost --help')");
		return MN_EXIT_USAGE;
	}
	if (mn_shape_check(&shape, e.msg, sizeof e.msg)) {
		mn_cli_error("cost", "%s", e.msg);
		return MN_EXIT_USAGE;
	}
	/* Parse everything first: one bad string must not leave half a table. */
	int n = argc - optind;
	struct mn_arch archs[n];
	for (int i = 0; i < n; i++)
		if (mn_cli_arch("cost", argv[optind + i], &archs[i]))
			return MN_EXIT_ERROR;
	if (!json)
		printf("%-92s %10s %9s %10s %9s\n", "arch", "FLOPs(M)", "params(M)", "flash(KB)", "SRAM(KB)");
	for (int i = 0; i < n; i++) {
		struct mn_cost c;
		struct mn_memory m;
		char s[MN_ARCH_STRLEN];
		mn_cost_arch(&archs[i], &shape, &c);
		mn_memory_arch(&archs[i], &shape, (uint64_t)(runtime_kb * 1024.0 + 0.5), &m);
		mn_arch_format(&archs[i], s, sizeof s);
		if (json) {
			printf("{\"arch\":");
			mn_json_string(stdout, s);
			printf(",\"flops_m\":%.6f,\"params_m\":%.6f,\"flash_kb\":%.3f,\"sram_kb\":%.3f}\n",
			       c.flops / 1e6, c.params / 1e6, m.flash_bytes / 1024.0, m.sram_bytes / 1024.0);
		} else {
			printf("%-92s %10.5f %9.6f %10.2f %9.2f\n", s, c.flops / 1e6, c.params / 1e6,
			       m.flash_bytes / 1024.0, m.sram_bytes / 1024.0);
		}
	}
	return mn_cli_flush("cost", NULL);
}
