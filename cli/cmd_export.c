/* micronas export: the picked network as a PyTorch file to train. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "cli_board.h"
#include "data/dataset.h"
#include "data/dataset_source.h"
#include "data/npy.h"
#include "export/model_py.h"
#include "search/session.h"
#include "util/atomic_file.h"

static void export_usage(FILE *f)
{
	fprintf(f,
		"Usage: micronas export ARCH [--preset NAME|FILE] [--channels C] [--cells N]\n"
		"                       [--resolution R|HxW] [--classes K] [--input-channels I]\n"
		"                       [--data PATH] -o DIR\n"
		"Writes DIR/model.py: one self-contained PyTorch file (torch only) defining the\n"
		"preset's network for ARCH, with build_model(), save_weights(model, path) (BN\n"
		"folded, safetensors) and a main that trains it with the NAS-Bench-201 recipe\n"
		"on CIFAR-10/100 binaries, or on a NumPy set (X.npy with X_labels.npy), which it\n"
		"normalises with the set's own statistics and keeps them in the weights:\n"
		"  python3 DIR/model.py --data cifar-10-batches-bin --epochs 200 -o w.safetensors\n"
		"then 'micronas deploy w.safetensors ARCH -o OUT'. Flags override the preset.\n"
		"--data PATH: the network takes the data's input and classes (as search does;\n"
		"flags still override), and an image folder is written beside model.py as\n"
		"DIR/data.npy and DIR/data_labels.npy, the pixels micronas decoded, to train on.\n");
}

struct model_args {
	const struct mn_arch *arch;
	const struct mn_net_shape *shape;
};

static int write_model(FILE *f, void *user)
{
	const struct model_args *m = user;
	return mn_export_model_py(f, m->arch, m->shape) ? -1 : 0;
}

int mn_cmd_export(int argc, char **argv)
{
	static const struct option opts[] = {
		{"preset", required_argument, 0, 'p'}, MN_CLI_SHAPE_LONGOPTS,
		{"output", required_argument, 0, 'o'}, {"data", required_argument, 0, 'd'},
		{"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
	};
	const char *preset = NULL, *dir = NULL, *data = NULL;
	struct mn_net_shape flags = {0};
	int ch;
	struct mn_preset pr;
	struct mn_net_shape shape;
	struct mn_arch arch;
	char msg[4400], path[4200];

	optind = 1;
	while ((ch = mn_cli_getopt("export", argc, argv, "ho:", opts)) != -1) {
		int shaped = mn_cli_shape_option("export", ch, optarg, &flags);
		if (shaped < 0)
			return MN_EXIT_USAGE;
		if (shaped)
			continue;
		switch (ch) {
		case 'p': preset = optarg; break;
		case 'o': dir = optarg; break;
		case 'd': data = optarg; break;
		case 'h': export_usage(stdout); return MN_EXIT_OK;
		default:
			/* mn_cli_getopt said why. */
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
	struct mn_dataset d;
	memset(&d, 0, sizeof d);
	int rc = MN_EXIT_ERROR;
	if (data) {
		/* the network takes the data's input and classes, as search's does */
		char notice[600];
		if (mn_dataset_load(&d, data, msg, sizeof msg) != 0 ||
		    mn_session_fit_to_data(&pr, &d, data, notice, sizeof notice, msg, sizeof msg) != 0) {
			mn_cli_error("export", "%s", msg);
			goto out;
		}
		if (notice[0])
			fprintf(stderr, "micronas export: %s\n", notice);
	}
	mn_cli_shape_from(&flags, &pr, &shape);
	if (mn_shape_check(&shape, msg, sizeof msg) != 0) {
		mn_cli_error("export", "%s", msg);
		rc = MN_EXIT_USAGE;
		goto out;
	}
	if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
		mn_cli_error("export", "cannot create %s: %s", dir, strerror(errno));
		goto out;
	}
	snprintf(path, sizeof path, "%s/model.py", dir);
	/* The shared writer: a full disk leaves an older model.py as it was. */
	struct model_args args = {&arch, &shape};
	if (mn_atomic_write(path, write_model, &args, msg, sizeof msg) != 0) {
		mn_cli_error("export", "%s", msg);
		goto out;
	}
	printf("%s: C=%d N=%d %dx%dx%d classes=%d\n", path, shape.channels, shape.cells,
	       shape.height, mn_shape_width(&shape), mn_shape_input_channels(&shape), shape.classes);
	/* model.py reads CIFAR binaries and NumPy sets itself; an image folder's
	 * PNGs and JPEGs it cannot decode with torch alone, so they go to it as
	 * the pixels micronas decoded */
	const char *train = data;
	char images[4200], labels[4200];
	if (data && !strcmp(d.format, "image folder")) {
		snprintf(images, sizeof images, "%s/data.npy", dir);
		snprintf(labels, sizeof labels, "%s/data_labels.npy", dir);
		if (mn_npy_write_set(&d, images, labels, msg, sizeof msg) != 0) {
			mn_cli_error("export", "%s", msg);
			goto out;
		}
		printf("%s, data_labels.npy: the %zu images of %s as a NumPy set\n", images, d.count,
		       data);
		train = images;
	}
	if (train)
		printf("train: python3 %s --data %s --epochs 200 -o weights.safetensors\n", path, train);
	rc = mn_cli_flush("export", NULL);
out:
	mn_dataset_free(&d);
	return rc;
}
