/* micronas export: the picked network as a PyTorch file to train. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "cli_board.h"
#include "export/model_py.h"

static void export_usage(FILE *f)
{
	fprintf(f,
		"Usage: micronas export ARCH [--preset NAME|FILE] [--channels C] [--cells N]\n"
		"                       [--resolution R|HxW] [--classes K] [--input-channels I]\n"
		"                       -o DIR\n"
		"Writes DIR/model.py: one self-contained PyTorch file (torch only) defining the\n"
		"preset's network for ARCH, with build_model(), save_weights(model, path) (BN\n"
		"folded, safetensors) and a main that trains it on CIFAR-10 binaries with the\n"
		"NAS-Bench-201 recipe:\n"
		"  python3 DIR/model.py --data cifar-10-batches-bin --epochs 200 -o w.safetensors\n"
		"then 'micronas deploy w.safetensors ARCH -o OUT'. Flags override the preset.\n");
}

int mn_cmd_export(int argc, char **argv)
{
	static const struct option opts[] = {
		{"preset", required_argument, 0, 'p'}, MN_CLI_SHAPE_LONGOPTS,
		{"output", required_argument, 0, 'o'},
		{"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
	};
	const char *preset = NULL, *dir = NULL;
	struct mn_net_shape flags = {0};
	int ch;
	struct mn_preset pr;
	struct mn_net_shape shape;
	struct mn_arch arch;
	char msg[200], path[4200], tmp[4300];

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		int shaped = mn_cli_shape_option("export", ch, optarg, &flags);
		if (shaped < 0)
			return MN_EXIT_USAGE;
		if (shaped)
			continue;
		switch (ch) {
		case 'p': preset = optarg; break;
		case 'o': dir = optarg; break;
		case 'h': export_usage(stdout); return MN_EXIT_OK;
		default:
			mn_cli_error("export", "unknown or incomplete option '%s' (see 'micronas export --help')",
				     argv[optind - 1]);
			return MN_EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		mn_cli_error("export", "give exactly one arch (see 'micronas export --help')");
		return MN_EXIT_USAGE;
	}
	if (!dir) {
		mn_cli_error("export", "no output directory: add -o DIR");
		return MN_EXIT_USAGE;
	}
	if (mn_cli_arch("export", argv[optind], &arch))
		return MN_EXIT_ERROR;
	if (mn_cli_load_preset("export", preset, &pr) != 0)
		return MN_EXIT_ERROR;
	mn_cli_shape_from(&flags, &pr, &shape);
	if (mn_shape_check(&shape, msg, sizeof msg) != 0) {
		mn_cli_error("export", "%s", msg);
		return MN_EXIT_USAGE;
	}
	if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
		mn_cli_error("export", "cannot create %s: %s", dir, strerror(errno));
		return MN_EXIT_ERROR;
	}
	snprintf(path, sizeof path, "%s/model.py", dir);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (!f) {
		mn_cli_error("export", "cannot write %s: %s", tmp, strerror(errno));
		return MN_EXIT_ERROR;
	}
	int bad = mn_export_model_py(f, &arch, &shape);
	if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
		mn_cli_error("export", "writing %s failed: %s", path, strerror(errno));
		remove(tmp);
		return MN_EXIT_ERROR;
	}
	printf("%s: C=%d N=%d %dx%dx%d classes=%d\n", path, shape.channels, shape.cells,
	       shape.height, mn_shape_width(&shape), mn_shape_input_channels(&shape), shape.classes);
	return fflush(stdout) == 0 ? MN_EXIT_OK : MN_EXIT_ERROR;
}
