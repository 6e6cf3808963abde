/* micronas deploy: trained weights -> int8 C sources for the board. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_signal.h"
#include "cli_board.h"
#include "data/cifar.h"
#include "data/dataset.h"
#include "data/dataset_source.h"
#include "export/agreement.h"
#include "export/calibrate.h"
#include "export/deploy_c.h"
#include "export/qmodel_file.h"
#include "export/deploy_fw.h"
#include "export/fnet.h"
#include "export/input_norm.h"
#include "export/model_job.h"
#include "export/quantize.h"
#include "export/safetensors.h"
#include "export/weights_check.h"
#include "nn/net.h"
#include "space/memory.h"
#include "util/proportion.h"
#include "util/clock.h"

#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>

static void deploy_usage(FILE *f)
{
	fprintf(f,
		"Usage: micronas deploy WEIGHTS.safetensors ARCH [--preset NAME|FILE]\n"
		"                       [--channels C] [--cells N] [--resolution R|HxW]\n"
		"                       [--classes K] [--input-channels I]\n"
		"                       [--data PATH] [--calib N] [--eval N] [--threads N]\n"
		"                       [--no-firmware] -o DIR | --check-only\n"
		"Checks that the BN-folded weights (model.py's save_weights) are ARCH's network\n"
		"(names, shapes), quantizes them to int8 the CMSIS-NN / TFLite Micro way\n"
		"(symmetric per-channel conv weights, per-tensor activation scales calibrated\n"
		"on N images of --data, int32 biases, fixed-point requantization), refuses a\n"
		"model that does not fit the preset board's flash or SRAM, and writes\n"
		"DIR/model.h and DIR/model.c (const arrays, mn_model_run()), the same model as\n"
		"DIR/model.int8.safetensors (validate --model reads it on any computer), then\n"
		"builds the firmware images carrying the model with arm-none-eabi-gcc:\n"
		"DIR/firmware/BOARD/fw.bin for the preset's board and DIR/firmware/EMULATED/\n"
		"fw.elf for its emulated counterpart (micronas emulate --firmware ...;\n"
		"validate --weights runs them); the firmware's objects that do not read the\n"
		"model are kept in the cache (~/.cache/micronas/firmware-objects) for the next\n"
		"deploy. Interrupted (Ctrl-C), it exits 1 saying what DIR\n"
		"holds: as it was before the sources are written, no firmware image after them.\n"
		"  --data PATH    the images (any --data of score; default: synthetic), scaled\n"
		"                 by the weights' input_mean/input_std when model.py kept them;\n"
		"                 8-bit images also give model.c mn_model_input_from_pixels()\n"
		"                 (raw HWC pixels to the model's input)\n"
		"  --calib N      calibration images (default 64); the next --eval N (default\n"
		"                 32) measure int8 against float top-1 (the first ones, and the\n"
		"                 report says so, when --calib takes every image)\n"
		"  --threads N    threads for the calibration and that measure (default: all\n"
		"                 cores; the model does not depend on it)\n"
		"  --check-only   only check the weights against ARCH\n"
		"  --no-firmware  write the C sources only\n");
}

struct deploy_opts {
	const char *preset, *dir, *data, *weights, *arch_text;
	struct mn_net_shape flags; /* the shape flags given */
	int calib, neval, threads, check_only, no_fw;
};

/* Options into o: 0, 1 for --help (printed), -1 for a usage error (said). */
static int parse_options(int argc, char **argv, struct deploy_opts *o)
{
	static const struct option opts[] = {
		{"preset", required_argument, 0, 'p'}, MN_CLI_SHAPE_LONGOPTS,
		{"output", required_argument, 0, 'o'},
		{"data", required_argument, 0, 'd'}, {"calib", required_argument, 0, 'b'},
		{"eval", required_argument, 0, 'e'}, {"check-only", no_argument, 0, 'C'},
		{"no-firmware", no_argument, 0, 'F'}, {"threads", required_argument, 0, 'T'},
		{"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
	};
	int ch;
	memset(o, 0, sizeof *o);
	o->calib = 64;
	o->neval = 32;
	optind = 1;
	while ((ch = mn_cli_getopt("deploy", argc, argv, "ho:", opts)) != -1) {
		int shaped = mn_cli_shape_option("deploy", ch, optarg, &o->flags);
		if (shaped < 0)
			return -1;
		if (shaped)
			continue;
		switch (ch) {
		case 'p': o->preset = optarg; break;
		case 'o': o->dir = optarg; break;
		case 'd': o->data = optarg; break;
		case 'C': o->check_only = 1; break;
		case 'F': o->no_fw = 1; break;
		case 'b': if (mn_cli_int("deploy", "--calib", optarg, 1, 100000, &o->calib)) return -1; break;
		case 'e': if (mn_cli_int("deploy", "--eval", optarg, 0, 100000, &o->neval)) return -1; break;
		case 'T': if (mn_cli_int("deploy", "--threads", optarg, 1, 256, &o->threads)) return -1; break;
		case 'h': deploy_usage(stdout); return 1;
		default:
			/* mn_cli_getopt said why. */
			return -1;
		}
	}
	if (optind + 2 != argc)
		return mn_cli_error("deploy", "give WEIGHTS.safetensors and one arch (see 'micronas "
				    "deploy --help')"), -1;
	if (!o->dir && !o->check_only)
		return mn_cli_error("deploy", "no output directory: add -o DIR (or --check-only)"), -1;
	if (o->dir && strlen(o->dir) > MN_DEPLOY_DIR_MAX)
		return mn_cli_error("deploy", "-o DIR is longer than %d bytes; give a shorter path",
				    MN_DEPLOY_DIR_MAX), -1;
	o->weights = argv[optind];
	o->arch_text = argv[optind + 1];
	return 0;
}

/* The board first: nothing is worth computing for a model that cannot be
 * flashed or run.  0 when the memory model fits the preset's board, else
 * -1 with the numbers said. */
static int check_fits(const struct mn_preset *pr, const struct mn_arch *arch,
		      const struct mn_net_shape *shape, struct mn_memory *mem)
{
	uint64_t flash_cap = (uint64_t)(pr->flash_kb * 1024.0), sram_cap = (uint64_t)(pr->sram_kb * 1024.0);
	mn_memory_arch(arch, shape, (uint64_t)(pr->runtime_flash_kb * 1024.0 + 0.5), mem);
	if (mem->flash_bytes <= flash_cap && mem->sram_bytes <= sram_cap)
		return 0;
	mn_cli_error("deploy",
		     "the model does not fit %s: flash %.1f KB needed (weights %.1f + biases %.1f + runtime %.1f) of %.1f KB, SRAM %.1f KB of activations (peak in the %s) of %.1f KB; pick a smaller arch or preset",
		     pr->board_name, mem->flash_bytes / 1024.0, mem->weight_bytes / 1024.0,
		     mem->bias_bytes / 1024.0, pr->runtime_flash_kb, pr->flash_kb,
		     mem->sram_bytes / 1024.0, mn_mem_phase_name(mem->peak_phase), pr->sram_kb);
	return -1;
}

/* The flash the written model takes on the board: its weights, biases,
 * requantization parameters, the raw-pixel input table (table_bytes, 0
 * when none is written) and the runtime.  Bytes. */
static double model_flash_bytes(const struct mn_qmodel *q, const struct mn_preset *pr, size_t table_bytes)
{
	return (double)(q->weight_bytes + q->bias_bytes + q->requant_bytes + table_bytes) +
	       pr->runtime_flash_kb * 1024.0;
}

/* The quantized model against the board.  check_fits went by the memory
 * model, which counts weights and biases (reference convention); the model
 * written also holds its requantization parameters and, for 8-bit data,
 * the input table, which can carry a model the memory model fits past the
 * board's flash.  0, or -1 with the numbers said. */
static int check_model_fits(const struct mn_qmodel *q, const struct mn_preset *pr,
			    const struct mn_memory *mem, size_t table_bytes)
{
	double total = model_flash_bytes(q, pr, table_bytes);
	double cap = pr->flash_kb * 1024.0, sram_cap = pr->sram_kb * 1024.0;
	if (total <= cap && q->arena_bytes <= sram_cap)
		return 0;
	if (q->arena_bytes > sram_cap) {
		mn_cli_error("deploy", "the int8 model does not fit %s: SRAM %.1f KB of activations of %.1f KB; "
			     "pick a smaller arch or preset", pr->board_name, q->arena_bytes / 1024.0, pr->sram_kb);
		return -1;
	}
	/* The limit a search would need for its memory model to leave room
	 * for this model's extra tables. */
	double extra = total - (double)mem->flash_bytes;
	mn_cli_error("deploy",
		     "the int8 model does not fit %s: flash %.1f KB (weights %.1f + biases %.1f + requantization "
		     "%.1f + input table %.1f + runtime %.1f) of %.1f KB, though the memory model's %.1f KB fits; "
		     "pick a smaller arch (search with --max-flash-kb %.0f leaves room for the tables) or preset",
		     pr->board_name, total / 1024.0, q->weight_bytes / 1024.0, q->bias_bytes / 1024.0,
		     q->requant_bytes / 1024.0, table_bytes / 1024.0, pr->runtime_flash_kb, pr->flash_kb,
		     mem->flash_bytes / 1024.0, floor((cap - extra) / 1024.0));
	return -1;
}

/* The calibration and evaluation images (mn_model_images, as validate
 * --weights takes them), saying on stderr when they are synthetic and on
 * stdout how they were scaled.  0, or -1 (said). */
static int load_images(const struct deploy_opts *o, const struct mn_net_shape *shape,
		       const struct mn_input_norm *norm, struct mn_dataset *d)
{
	char err[1024];
	int scaled;
	if (!o->data)
		fprintf(stderr, "micronas deploy: %s (activation scales are then not those of real images)\n",
			MN_DATASET_SYNTHETIC_NOTICE);
	if (mn_model_images(o->data, shape, norm, (size_t)(o->calib + o->neval), d, &scaled, err,
			    sizeof err) != 0)
		return mn_cli_error("deploy", "%s", err), -1;
	if (scaled >= 0)
		printf("inputs normalised with the weights' training statistics (model.py's mean and std; %s)\n",
		       scaled ? "the data's own agree"
			      : "the data's own differ, so its images are scaled as in training");
	return 0;
}

/* DIR/model.c and model.h (with the raw-pixel table for 8-bit data), the
 * board's check file of nchk images and their int8 logits, and
 * DIR/model.int8.safetensors.  *pixels says whether the table was
 * written.  0, or -1 (said). */
static int write_outputs(const struct mn_qmodel *q, const struct mn_arch *arch,
			 const struct mn_dataset *d, const char *dir, const int8_t *img,
			 const int32_t *ql, int nchk, int ib, int K, int *pixels)
{
	char err[1024], arch_str[MN_ARCH_STRLEN], qpath[MN_DEPLOY_PATH_BYTES];
	int Cin = d->channels;
	if (mkdir(dir, 0777) != 0 && errno != EEXIST)
		return mn_cli_error("deploy", "cannot create %s: %s", dir, strerror(errno)), -1;
	mn_arch_format(arch, arch_str, sizeof arch_str);
	snprintf(qpath, sizeof qpath, "%s/model.int8.safetensors", dir);
	/* 8-bit data: the board can feed raw pixels through deploy's own
	 * normalisation and rounding (model.h, mn_model_input_from_pixels). */
	int8_t *table = malloc((size_t)Cin * 256);
	*pixels = table && mn_qmodel_input_table(q, d, table) == 0;
	int wrc = mn_deploy_write_c(q, arch_str, *pixels ? table : NULL, dir, err, sizeof err);
	free(table);
	if (wrc != 0 || mn_deploy_write_check(dir, img, ql, nchk, ib, K, err, sizeof err) != 0 ||
	    mn_qmodel_save(q, arch, qpath, err, sizeof err) != 0)
		return mn_cli_error("deploy", "%s", err), -1;
	return 0;
}

/* The lines on what was written: memory against the board and the memory
 * model, and int8 against float on the evaluation images. */
static void report(const struct mn_qmodel *q, const struct mn_preset *pr,
		   const struct mn_memory *mem, const struct mn_dataset *d,
		   const struct mn_agreement *ag, int calib, int calib_asked, size_t ev0, int Cin,
		   int pixels, double t0)
{
	size_t table_bytes = pixels ? mn_deploy_input_table_bytes(Cin) : 0;
	double table_kb = table_bytes / 1024.0;
	char table_txt[48] = "";
	if (pixels)
		snprintf(table_txt, sizeof table_txt, " + input table %.1f", table_kb);
	/* The total first, against the board, then its parts: the runtime is
	 * one of them (it read as added to the total before). */
	printf("flash: %.1f of %.1f KB (weights %.1f + biases %.1f + requantization %.1f%s + runtime "
	       "%.1f); memory model %.1f KB\n",
	       model_flash_bytes(q, pr, table_bytes) / 1024.0, pr->flash_kb, q->weight_bytes / 1024.0, q->bias_bytes / 1024.0,
	       q->requant_bytes / 1024.0, table_txt, pr->runtime_flash_kb, mem->flash_bytes / 1024.0);
	printf("SRAM: %.1f of %.1f KB (activations, the arena); memory model %.1f KB\n",
	       q->arena_bytes / 1024.0, pr->sram_kb, mem->sram_bytes / 1024.0);
	printf("calibrated on %d %s images; ", calib, d->synthetic ? "synthetic" : "real");
	if (ag->images) {
		char band[32];
		mn_wilson95_text(ag->agree, ag->images, band, sizeof band);
		printf("int8 vs float top-1 agreement %d/%d = %.2f%% (95%% interval %s)", ag->agree,
		       ag->images, 100.0 * ag->agree / ag->images, band);
	} else {
		printf("no image left to compare int8 with float");
	}
	if (ag->labelled)
		printf("; accuracy float %.2f%%, int8 %.2f%%", 100.0 * ag->correct_float / ag->labelled,
		       100.0 * ag->correct_int8 / ag->labelled);
	if (ag->images && ev0 == 0)
		printf("; measured on calibration images (--calib %d took all %zu: a lower --calib "
		       "leaves unseen ones)", calib_asked, d->count);
	printf(" (%.2f s)\n", mn_now_s() - t0);
}

/* DIR/firmware/BOARD/fw.bin and DIR/firmware/EMULATED/fw.elf, built with
 * the firmware's sources and arm-none-eabi-gcc.  An exit status. */
static int build_firmware(const struct mn_preset *pr, const char *dir)
{
	const char *tg[2];
	char src[MN_DEPLOY_PATH_BYTES], err[1024];
	if (mn_firmware_pair(pr->firmware, &tg[0], &tg[1]) != 0) {
		mn_cli_error("deploy", "the preset's firmware '%s' is not a firmware build "
			     "micronas knows (nucleo-f746zg, qemu-mps2-an500, nucleo-f446re, "
			     "qemu-mps2-an386); fix [board] firmware or add --no-firmware",
			     pr->firmware);
		return MN_EXIT_ERROR;
	}
	if (!mn_firmware_have_cc()) {
		mn_cli_error("deploy", "firmware images not built: no arm-none-eabi-gcc (apt-get "
			     "install gcc-arm-none-eabi libnewlib-arm-none-eabi, or add "
			     "--no-firmware); %s/model.c and model.h are written", dir);
		return MN_EXIT_ERROR;
	}
	if (mn_firmware_find_sources(src, sizeof src, err, sizeof err) != 0) {
		mn_cli_error("deploy", "%s", err);
		return MN_EXIT_ERROR;
	}
	double t1 = mn_now_s();
	int brc = mn_deploy_build_firmware(src, dir, tg, 2, mn_cli_stop_requested, NULL, err, sizeof err);
	if (brc == 1) {
		mn_cli_error("deploy", "interrupted while building the firmware: %s/model.c, model.h, check.bin "
			     "and model.int8.safetensors are written, no firmware image is left in %s/firmware "
			     "(run the same command again to build them, or add --no-firmware)", dir, dir);
		return MN_EXIT_ERROR;
	}
	if (brc != 0) {
		mn_cli_error("deploy", "%s", err);
		return MN_EXIT_ERROR;
	}
	printf("%s/firmware/%s/fw.bin (flash it), %s/firmware/%s/fw.elf (micronas "
	       "emulate --firmware ...): built in %.1f s\n", dir, tg[0], dir, tg[1], mn_now_s() - t1);
	return mn_cli_flush("deploy", NULL);
}

/* Calibrates, measures int8 against float, writes the sources and the
 * model file, reports, and builds the firmware.  An exit status. */
static int deploy(const struct deploy_opts *o, const struct mn_preset *pr,
		  const struct mn_arch *arch, const struct mn_net_shape *shape,
		  const struct mn_fnet *net, const struct mn_input_norm *norm)
{
	double t0 = mn_now_s();
	char err[1024];
	int rc = MN_EXIT_ERROR;
	/* Images are shared among threads (calibrate.h, agreement.h); each
	 * image's BLAS calls stay on the one thread main() set for OpenBLAS. */
	struct mn_dataset d;
	struct mn_qmodel q;
	struct mn_memory mem;
	int8_t *img = NULL;
	int32_t *ql = NULL;
	memset(&d, 0, sizeof d);
	memset(&q, 0, sizeof q);
	if (check_fits(pr, arch, shape, &mem) != 0)
		goto out;
	if (mn_qmodel_shape_check(shape, err, sizeof err) != 0) {
		mn_cli_error("deploy", "%s", err);
		goto out;
	}
	if (load_images(o, shape, norm, &d) != 0)
		goto out;
	int calib = o->calib, neval = o->neval, K = shape->classes;
	size_t total = d.count;
	if ((size_t)calib > total)
		calib = (int)total;
	/* Evaluate on images not used for calibration when there are any;
	 * else on the calibration images, which the report line then says. */
	size_t ev0 = total > (size_t)calib ? (size_t)calib : 0;
	if ((size_t)neval > total - ev0)
		neval = (int)(total - ev0);
	size_t ib = mn_shape_input_values(shape);
	/* The board's check file holds the first (up to) 8 evaluation images. */
	int nchk = neval > 8 ? 8 : neval;
	img = malloc(ib * (size_t)(nchk > 0 ? nchk : 1));
	ql = malloc(sizeof(int32_t) * (size_t)K * (size_t)(nchk > 0 ? nchk : 1));
	if (!img || !ql) {
		mn_cli_error("deploy", "out of memory");
		goto out;
	}
	/* A stop (Ctrl-C, SIGTERM, SIGHUP: blocked by the caller and asked
	 * for between steps) before the outputs are written leaves DIR as it
	 * was; the outputs themselves are written whole. */
	int st = mn_calibrate_stoppable(&q, net, &d, calib, o->threads, mn_cli_stop_requested, NULL, err,
					sizeof err);
	if (st < 0) {
		mn_cli_error("deploy", "%s", err);
		goto out;
	}
	/* (a stopped calibration, st 1, left no model to look at) */
	if (st == 0 && check_model_fits(&q, pr, &mem,
					mn_qmodel_has_input_table(&q, &d) ? mn_deploy_input_table_bytes(d.channels)
									  : 0) != 0)
		goto out;
	/* int8 against float on the evaluation images. */
	struct mn_agreement ag;
	if (st == 0)
		st = mn_agreement_run(&q, net, &d, ev0, neval, o->threads, nchk, img, ql, mn_cli_stop_requested,
				      NULL, &ag);
	if (st < 0) {
		mn_cli_error("deploy", "out of memory");
		goto out;
	}
	if (st == 1 || mn_cli_stop_requested(NULL)) {
		mn_cli_error("deploy", "interrupted before anything was written (%s is as it was); run the "
			     "same command again", o->dir);
		goto out;
	}
	int pixels;
	if (write_outputs(&q, arch, &d, o->dir, img, ql, nchk, (int)ib, K, &pixels) != 0)
		goto out;
	printf("%s/model.c, model.h: int8 model of C=%d N=%d %dx%dx%d classes=%d for %s%s\n", o->dir,
	       shape->channels, shape->cells, shape->height, mn_shape_width(shape),
	       mn_shape_input_channels(shape), K, pr->board_name,
	       pixels ? " (mn_model_input_from_pixels takes raw 8-bit HWC pixels)" : "");
	printf("%s/model.int8.safetensors: the same model for validate --model (fingerprint %08x)\n",
	       o->dir, (unsigned)mnq_fingerprint(&q.net, NULL));
	report(&q, pr, &mem, &d, &ag, calib, o->calib, ev0, mn_shape_input_channels(shape), pixels, t0);
	rc = mn_cli_flush("deploy", NULL);
	if (rc == MN_EXIT_OK && !o->no_fw)
		rc = build_firmware(pr, o->dir);
out:
	mn_qmodel_free(&q);
	mn_dataset_free(&d);
	free(img), free(ql);
	return rc;
}

int mn_cmd_deploy(int argc, char **argv)
{
	struct deploy_opts o;
	struct mn_preset pr;
	struct mn_net_shape shape;
	struct mn_arch arch;
	struct mn_fnet net;
	struct mn_input_norm norm;
	char msg[200];
	int parsed = parse_options(argc, argv, &o);
	if (parsed != 0)
		return parsed > 0 ? MN_EXIT_OK : MN_EXIT_USAGE;
	if (mn_cli_arch("deploy", o.arch_text, &arch))
		return MN_EXIT_ERROR;
	if (mn_cli_load_preset("deploy", o.preset, &pr) != 0)
		return MN_EXIT_ERROR;
	mn_cli_shape_from(&o.flags, &pr, &shape);
	if (mn_shape_check(&shape, msg, sizeof msg) != 0) {
		mn_cli_error("deploy", "%s", msg);
		mn_preset_free(&pr);
		return MN_EXIT_USAGE;
	}
	char err[1024];
	if (mn_model_weights(o.weights, &arch, &shape, &net, &norm, err, sizeof err) != 0) {
		mn_cli_error("deploy", "%s", err);
		mn_preset_free(&pr);
		return MN_EXIT_ERROR;
	}
	int rc;
	if (o.check_only) {
		printf("%s: the %zu tensors match the arch (C=%d N=%d %dx%dx%d classes=%d)\n",
		       o.weights, (size_t)mn_weights_spec(&arch, &shape, NULL, 0), shape.channels,
		       shape.cells, shape.height, mn_shape_width(&shape),
		       mn_shape_input_channels(&shape), shape.classes);
		rc = mn_cli_flush("deploy", NULL);
	} else {
		/* Like the other long commands: stopped between steps, it says
		 * what DIR holds and exits 1, never leaving a file half written. */
		sigset_t set;
		rc = mn_cli_block_signals("deploy", 0, &set) != 0 ? MN_EXIT_ERROR
								   : deploy(&o, &pr, &arch, &shape, &net, &norm);
	}
	mn_fnet_free(&net);
	mn_input_norm_free(&norm);
	mn_preset_free(&pr);
	return rc;
}
