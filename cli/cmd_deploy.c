/* micronas deploy: trained weights -> int8 C sources for the board. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_board.h"
#include "export/safetensors.h"
#include "export/weights_check.h"

static void deploy_usage(FILE *f)
{
	fprintf(f,
		"Usage: micronas deploy WEIGHTS.safetensors ARCH [--preset NAME|FILE]\n"
		"                       [--channels C] [--cells N] [--resolution R] [--classes K]\n"
		"                       [--data CIFAR10] [--calib N] -o DIR | --check-only\n"
		"Checks that the BN-folded weights (model.py's save_weights) are ARCH's network\n"
		"(names, shapes), quantizes them to int8 the CMSIS-NN / TFLite Micro way\n"
		"(symmetric per-channel conv weights, per-tensor activation scales calibrated\n"
		"on N images of --data, int32 biases, fixed-point requantization), refuses a\n"
		"model that does not fit the preset board's flash or SRAM, and writes\n"
		"DIR/model.h and DIR/model.c (const arrays, mn_model_run()).\n"
		"  --check-only   only check the weights against ARCH\n");
}

int mn_cmd_deploy(int argc, char **argv)
{
	static const struct option opts[] = {
		{"preset", required_argument, 0, 'p'}, {"channels", required_argument, 0, 'c'},
		{"cells", required_argument, 0, 'n'}, {"resolution", required_argument, 0, 'r'},
		{"classes", required_argument, 0, 'k'}, {"output", required_argument, 0, 'o'},
		{"data", required_argument, 0, 'd'}, {"calib", required_argument, 0, 'b'},
		{"check-only", no_argument, 0, 'C'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
	};
	const char *preset = NULL, *dir = NULL, *data = NULL;
	int c = 0, n = 0, r = 0, k = 0, calib = 64, check_only = 0, ch;
	struct mn_preset pr;
	struct mn_net_shape shape;
	struct mn_arch arch;
	struct mn_safetensors st;
	struct mn_fnet net;
	char msg[200], err[1024];

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		switch (ch) {
		case 'p': preset = optarg; break;
		case 'o': dir = optarg; break;
		case 'd': data = optarg; break;
		case 'C': check_only = 1; break;
		case 'c': if (mn_cli_int("deploy", "--channels", optarg, 1, 1024, &c)) return MN_EXIT_USAGE; break;
		case 'n': if (mn_cli_int("deploy", "--cells", optarg, 1, 64, &n)) return MN_EXIT_USAGE; break;
		case 'r': if (mn_cli_int("deploy", "--resolution", optarg, 4, 1024, &r)) return MN_EXIT_USAGE; break;
		case 'k': if (mn_cli_int("deploy", "--classes", optarg, 1, 100000, &k)) return MN_EXIT_USAGE; break;
		case 'b': if (mn_cli_int("deploy", "--calib", optarg, 1, 100000, &calib)) return MN_EXIT_USAGE; break;
		case 'h': deploy_usage(stdout); return MN_EXIT_OK;
		default:
			mn_cli_error("deploy", "unknown or incomplete option '%s' (see 'micronas deploy --help')",
				     argv[optind - 1]);
			return MN_EXIT_USAGE;
		}
	}
	if (optind + 2 != argc) {
		mn_cli_error("deploy", "give WEIGHTS.safetensors and one arch (see 'micronas deploy --help')");
		return MN_EXIT_USAGE;
	}
	if (!dir && !check_only) {
		mn_cli_error("deploy", "no output directory: add -o DIR (or --check-only)");
		return MN_EXIT_USAGE;
	}
	if (mn_cli_arch("deploy", argv[optind + 1], &arch))
		return MN_EXIT_ERROR;
	if (mn_cli_load_preset("deploy", preset, &pr) != 0)
		return MN_EXIT_ERROR;
	shape.channels = c ? c : pr.channels;
	shape.cells = n ? n : pr.cells;
	shape.resolution = r ? r : pr.resolution;
	shape.classes = k ? k : pr.classes;
	if (mn_shape_check(&shape, msg, sizeof msg) != 0) {
		mn_cli_error("deploy", "%s", msg);
		return MN_EXIT_USAGE;
	}
	if (mn_st_read(&st, argv[optind], err, sizeof err) != 0) {
		mn_cli_error("deploy", "%s", err);
		return MN_EXIT_ERROR;
	}
	if (mn_fnet_bind(&net, &st, &arch, &shape, err, sizeof err) != 0) {
		mn_cli_error("deploy", "%s: %s", argv[optind], err);
		mn_st_free(&st);
		return MN_EXIT_ERROR;
	}
	mn_st_free(&st);
	if (check_only) {
		printf("%s: the %zu tensors match the arch (C=%d N=%d R=%d classes=%d)\n", argv[optind],
		       (size_t)mn_weights_spec(&arch, &shape, NULL, 0), shape.channels, shape.cells,
		       shape.resolution, shape.classes);
		mn_fnet_free(&net);
		return fflush(stdout) == 0 ? MN_EXIT_OK : MN_EXIT_ERROR;
	}
	(void)data;
	(void)calib;
	mn_fnet_free(&net);
	mn_cli_error("deploy", "int8 deployment is not built yet");
	return MN_EXIT_ERROR;
}
