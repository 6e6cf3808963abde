/* micronas atlas: every arch of the space scored once into a resumable CSV
 * (src/atlas/), split among MPI ranks under mpirun or srun; its Pareto
 * fronts; and the two other commands' entry points into it: `search
 * --method atlas` (a pick from the atlas) and `score --all --out` (the same
 * file format and settings check, in index order). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atlas/atlas_build.h"
#include "atlas/atlas_pick.h"
#include "search/result_json.h"
#include "search/session.h"
#include "cli.h"
#include "cli_eta.h"
#include "cli_preset.h"
#include "cli_signal.h"
#include "data/oracle.h"
#include "space/latency_model.h"
#if HAVE_MPI
#include "atlas/atlas_mpi.h"
#include "data/dataset_source.h"
#include "util/pool.h"
#include "util/clock.h"
#endif

/* As session.c: enough synthetic images for any batch. */
#define SYNTHETIC_IMAGES 1024

static void atlas_usage(FILE *f)
{
	fprintf(f,
		"Usage: micronas atlas [--preset NAME|FILE] [--data PATH] [--seed S] [--batch B]\n"
		"                      [--repeat R] [--init code|paper] [--ntk-grad exact|fixed-stats]\n"
		"                      [--az-channels C] [--az-cells N] [--proxies all|estimate]\n"
		"                      [--threads N] [--max N] [--out FILE] [--json]\n"
		"       micronas atlas --pareto latency|flops [--json] [same settings] [--latency-table FILE]\n"
		"Scores the archs of the space with every proxy into an atlas file for exactly these\n"
		"settings, in a random order from the seed (a partial atlas is a uniform sample);\n"
		"rerun to resume or extend it (--max N: add at most N archs). The file is\n"
		"$XDG_CACHE_HOME/micronas/atlas-HASH.csv (HASH of the settings) unless --out is given;\n"
		"the last line printed is its path. 'micronas search --method atlas' picks from it.\n"
		"--pareto prints the atlas's Pareto front of the accuracy estimate against latency\n"
		"(or FLOPs) as CSV (or JSON lines).\n"
		"--proxies estimate leaves out NWOT, SWAP and ZiCo, which the pick does not use\n"
		"(the TE-NAS pair and the estimate's four are kept): about 3 times faster.\n"
		"Under mpirun or srun the archs are split among the ranks (%s).\n",
#if HAVE_MPI
		"this micronas is built with MPI"
#else
		"this micronas is built without MPI"
#endif
	);
}

/* The settings an atlas is made for: the preset's proxy settings and the
 * data (a path, or the synthetic batch from the seed). */
static int load_data(const char *cmd, const char *path, uint64_t seed, int quiet, struct mn_dataset *d)
{
	char err[512];
	if (path) {
		if (mn_dataset_load(d, path, err, sizeof err)) {
			mn_cli_error(cmd, "%s", err);
			return -1;
		}
		return 0;
	}
	if (mn_dataset_synthetic(d, SYNTHETIC_IMAGES, seed, err, sizeof err)) {
		mn_cli_error(cmd, "%s", err);
		return -1;
	}
	if (!quiet)
		fprintf(stderr, "micronas %s: %s\n", cmd, MN_DATASET_SYNTHETIC_NOTICE);
	return 0;
}

static void preset_tenas(const struct mn_preset *p, struct mn_tenas_config *cfg)
{
	mn_tenas_config_default(cfg);
	cfg->batch = p->batch;
	cfg->repeat = p->repeat;
	cfg->init = p->init;
	cfg->grad = p->ntk_grad;
	cfg->az_channels = p->az_channels;
	cfg->az_cells = p->az_cells;
	cfg->all_proxies = p->all_proxies;
	cfg->classes = 10; /* until the data is read: then the data's classes */
}

/* The exact command that builds the atlas for these settings, its paths
 * quoted for the shell so that it can be pasted as it is. */
static void print_build_command(FILE *f, const struct mn_preset *p, const char *data, const char *out)
{
	/* Two paths of 4096 bytes, every one a quote, and the flags. */
	char cmd[2 * (4 * 4096 + 16) + 512];
	mn_atlas_command(p, NULL, data, out, cmd, sizeof cmd);
	fputs(cmd, f);
}

/* ---- progress on a terminal ---- */

struct progress {
	const char *cmd;
	int tty;
	int said_resume;
	const char *path;
};

static void on_progress(void *ctx, const struct mn_atlas_progress *p)
{
	struct progress *pr = ctx;
	if (!pr->said_resume) {
		pr->said_resume = 1;
		int had = p->in_file - p->written;
		if (had > 0)
			fprintf(stderr, "micronas %s: resuming: %d of %d archs already in %s\n", pr->cmd, had,
				MN_ARCH_COUNT, pr->path);
	}
	if (!pr->tty)
		return;
	int width = 30;
	int filled = p->to_write ? (int)((double)p->written * width / p->to_write) : width;
	/* Rows already in the file count as done, not as work of this run. */
	int had = p->in_file - p->written;
	double rate = mn_cli_rate(had, p->in_file, p->elapsed_s);
	char eta[32];
	mn_cli_fmt_duration(mn_cli_eta_s(had, p->in_file, p->target, p->elapsed_s), eta, sizeof eta);
	fprintf(stderr, "\r[");
	for (int i = 0; i < width; i++)
		fputc(i < filled ? '#' : '.', stderr);
	fprintf(stderr, "] %d/%d archs  %.2f archs/s  ETA %-8s", p->in_file, MN_ARCH_COUNT, rate, eta);
	fflush(stderr);
}

static int stop_requested(void *ctx)
{
	(void)ctx;
	return mn_cli_stop_requested(NULL);
}

/* Runs one build in this process (or as MPI rank 0 with remote); prints
 * the outcome line on failure.  Returns the build's code. */
static int run_build(const char *cmd, const char *path, const struct mn_atlas_settings *s,
		     const struct mn_dataset *data, int threads, int max, const struct mn_atlas_remote *remote,
		     struct mn_atlas_build_result *res)
{
	struct progress pr = {cmd, isatty(STDERR_FILENO), 0, path};
	struct mn_atlas_build b = {path, *s, data, threads, max, on_progress, stop_requested, &pr, remote};
	char err[1024];
	int rc = mn_atlas_build_run(&b, res, err, sizeof err);
	if (pr.tty && pr.said_resume)
		fputc('\n', stderr);
	if (rc < 0)
		mn_cli_error(cmd, "%s", err);
	else if (rc == 1)
		mn_cli_error(cmd, "interrupted: %d of %d archs in %s; rerun the same command to resume",
			     res->had + res->written, MN_ARCH_COUNT, path);
	return rc;
}

int mn_cli_score_all(const struct mn_tenas_config *cfg, const struct mn_dataset *data, uint64_t seed,
		     const char *out, int max, int threads)
{
	struct mn_atlas_settings s;
	struct mn_atlas_build_result res;
	sigset_t sigs;
	if (mn_cli_block_signals("score", 0, &sigs))
		return MN_EXIT_ERROR;
	mn_atlas_settings_make(&s, data, seed, cfg, MN_ATLAS_ORDER_INDEX);
	int rc = run_build("score", out, &s, data, threads, max, NULL, &res);
	return rc == 0 ? MN_EXIT_OK : MN_EXIT_ERROR;
}

/* ---- the atlas command ---- */

static int print_pareto(const struct mn_preset *p, const struct mn_dataset *d, const char *data_path,
			const char *out, const struct mn_atlas_settings *s, const char *path,
			const char *axis, int json);

struct atlas_opts {
	struct mn_cli_preset cp;
	const char *data, *out, *pareto;
	int json, threads, max;
};

/* The options into o (o->cp begun by the caller): 0, 1 for --help
 * (printed), -1 for a usage error (said). */
static int parse_options(int argc, char **argv, struct atlas_opts *o)
{
	static const struct option opts[] = {
		{"preset", required_argument, 0, 'p'}, {"data", required_argument, 0, 'd'},
		{"seed", required_argument, 0, 's'}, {"batch", required_argument, 0, 'b'},
		{"repeat", required_argument, 0, 'r'}, {"init", required_argument, 0, 'i'},
		{"ntk-grad", required_argument, 0, 'g'}, {"latency-table", required_argument, 0, 't'},
		{"az-channels", required_argument, 0, MN_OPT_AZ_CHANNELS},
		{"az-cells", required_argument, 0, MN_OPT_AZ_CELLS},
		{"proxies", required_argument, 0, MN_OPT_PROXIES},
		{"threads", required_argument, 0, 'T'}, {"max", required_argument, 0, 'm'},
		{"out", required_argument, 0, 'o'}, {"json", no_argument, 0, 'j'},
		{"pareto", required_argument, 0, 'P'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
	};
	int ch;
	optind = 1;
	while ((ch = mn_cli_getopt("atlas", argc, argv, "h", opts)) != -1) {
		switch (ch) {
		case 'd': o->data = optarg; break;
		case 'o': o->out = optarg; break;
		case 'j': o->json = 1; break;
		case 'P':
			if (strcmp(optarg, "latency") && strcmp(optarg, "flops"))
				return mn_cli_error("atlas", "--pareto '%s' is not one of: latency, flops", optarg), -1;
			o->pareto = optarg;
			break;
		case 'T': if (mn_cli_int("atlas", "--threads", optarg, 1, 256, &o->threads)) return -1; break;
		case 'm': if (mn_cli_int("atlas", "--max", optarg, 1, MN_ARCH_COUNT, &o->max)) return -1; break;
		case 'h': atlas_usage(stdout); return 1;
		case '?':
			/* mn_cli_getopt said why. */
			return -1;
		default:
			if (mn_cli_preset_option(&o->cp, "atlas", ch, optarg))
				return -1;
		}
	}
	if (optind < argc)
		return mn_cli_error("atlas", "unexpected argument '%s' (see 'micronas atlas --help')",
				    argv[optind]), -1;
	return 0;
}

/* Under mpirun every rank parses the same command line: the ranks other
 * than 0 do it with stdout and stderr on /dev/null, so that a usage error
 * (or --help) is said once, by rank 0.  (Errors after parsing, such as
 * data a node lacks, can differ between ranks and are said by each.)
 * Whether this is such a rank: then fds[] keeps the saved descriptors for
 * restore_output (-1 where nothing was changed). */
static int quiet_output(int fds[2])
{
	fds[0] = fds[1] = -1;
#if !HAVE_MPI
	return 0;
#else
	if (!mn_atlas_mpi_launched() || mn_atlas_mpi_env_rank() == 0)
		return 0;
	int null = open("/dev/null", O_WRONLY);
	for (int i = 0; i < 2 && null >= 0; i++) {
		int fd = i == 0 ? STDOUT_FILENO : STDERR_FILENO;
		fds[i] = dup(fd);
		if (fds[i] >= 0 && dup2(null, fd) < 0) {
			close(fds[i]);
			fds[i] = -1;
		}
	}
	if (null >= 0)
		close(null);
	return 1;
#endif
}

static void restore_output(const int fds[2])
{
	for (int i = 0; i < 2; i++) {
		if (fds[i] < 0)
			continue;
		/* Both descriptors are open: dup2 cannot fail on them. */
		(void)dup2(fds[i], i == 0 ? STDOUT_FILENO : STDERR_FILENO);
		close(fds[i]);
	}
}

int mn_cmd_atlas(int argc, char **argv)
{
	struct atlas_opts o;
	char err[512], path[4096];
	memset(&o, 0, sizeof o);
	mn_cli_preset_begin(&o.cp);
	int saved[2];
	int other_rank = quiet_output(saved);
	int parsed = parse_options(argc, argv, &o);
	fflush(stdout);
	restore_output(saved);
	if (parsed != 0) {
		mn_cli_preset_end(&o.cp);
		/* A rank other than 0 leaves the usage error and its status to
		 * rank 0, which parses the same words: had it exited 2 first,
		 * mpirun would kill rank 0 about a second later, before a rank 0
		 * slow to start (a loaded machine) had said what is wrong. */
		if (other_rank)
			return MN_EXIT_OK;
		return parsed > 0 ? MN_EXIT_OK : MN_EXIT_USAGE;
	}
	const char *data = o.data, *out = o.out, *pareto = o.pareto;
	int json = o.json, threads = o.threads, max = o.max;
	struct mn_preset preset;
	if (mn_cli_preset_finish(&o.cp, "atlas", &preset))
		return MN_EXIT_ERROR;

	int rank = 0, size = 1, mpi = 0;
#if HAVE_MPI
	if (!pareto && mn_atlas_mpi_launched()) {
		/* Before MPI starts its own threads, so that they inherit the mask. */
		sigset_t sigs;
		if (mn_cli_block_signals("atlas", 0, &sigs))
			return MN_EXIT_ERROR;
		if (mn_atlas_mpi_init(&rank, &size, err, sizeof err)) {
			mn_cli_error("atlas", "%s", err);
			return MN_EXIT_ERROR;
		}
		mpi = 1;
		if (threads < 1)
			threads = 1; /* one rank per core is MPI's way */
	}
#endif
	threads = mn_threads_or_all(threads);
	struct mn_dataset d;
	struct mn_tenas_config cfg;
	struct mn_atlas_settings s;
	preset_tenas(&preset, &cfg);
	int ok = load_data("atlas", data, preset.seed, rank != 0, &d) == 0;
	if (ok)
		cfg.classes = d.classes; /* the proxy networks end in the data's classes */
	if (ok && mn_cli_batch_fits("atlas", cfg.batch, d.count)) {
		mn_dataset_free(&d);
		ok = 0;
	}
	if (ok) {
		mn_atlas_settings_make(&s, &d, preset.seed, &cfg, MN_ATLAS_ORDER_SEEDED);
		int other = 0;
		if (out)
			snprintf(path, sizeof path, "%s", out);
		else if (pareto ? mn_atlas_pick_path(&s, path, sizeof path, &other, err, sizeof err)
				: mn_atlas_default_path(&s, path, sizeof path, err, sizeof err)) {
			if (rank == 0)
				mn_cli_error("atlas", "%s", err);
			mn_dataset_free(&d);
			ok = 0;
		}
		if (ok && other) {
			preset.all_proxies = s.cfg.all_proxies;
			if (rank == 0)
				fprintf(stderr, "micronas atlas: the front of the atlas built with --proxies %s (%s): "
					"it holds every proxy the estimate reads\n",
					s.cfg.all_proxies ? "all" : "estimate", path);
		}
	}
	void *master = NULL;
#if HAVE_MPI
	/* Rank 0's serving state, before the ranks agree to start: were it
	 * missing later, the other ranks would wait for work forever. */
	if (ok && mpi && rank == 0 && size > 1 && !(master = malloc(mn_atlas_mpi_master_size(size)))) {
		mn_cli_error("atlas", "out of memory");
		mn_dataset_free(&d);
		ok = 0;
	}
	if (mpi && !mn_atlas_mpi_all_ok(ok)) {
		if (ok)
			mn_dataset_free(&d);
		free(master);
		mn_atlas_mpi_finalize();
		return MN_EXIT_ERROR;
	}
#endif
	if (!ok)
		return MN_EXIT_ERROR;
	if (pareto) {
		int rc = print_pareto(&preset, &d, data, out, &s, path, pareto, json);
		mn_dataset_free(&d);
		return rc;
	}

	int rc = 0;
	struct mn_atlas_build_result res;
	memset(&res, 0, sizeof res);
#if HAVE_MPI
	if (mpi && rank != 0) {
		rc = mn_atlas_mpi_worker(&cfg, &d, preset.seed, threads, stop_requested, NULL, err, sizeof err);
		if (rc)
			mn_cli_error("atlas", "rank %d: %s", rank, err);
		mn_dataset_free(&d);
		mn_atlas_mpi_finalize();
		return rc ? MN_EXIT_ERROR : MN_EXIT_OK;
	}
#endif
	if (!mpi) {
		sigset_t sigs;
		if (mn_cli_block_signals("atlas", 0, &sigs)) {
			mn_dataset_free(&d);
			return MN_EXIT_ERROR;
		}
	}
	struct mn_atlas_remote remote, *rp = NULL;
#if HAVE_MPI
	if (master) {
		mn_atlas_mpi_master(master, size, &remote);
		rp = &remote;
	}
#else
	(void)remote;
#endif
	double t0 = mn_now_s();
	if (rc == 0)
		rc = run_build("atlas", path, &s, &d, threads, max, rp, &res);
	double dt = mn_now_s() - t0;
	free(master);
#if HAVE_MPI
	if (mpi)
		mn_atlas_mpi_finalize();
#endif
	mn_dataset_free(&d);
	if (rc != 0)
		return MN_EXIT_ERROR;
	int archs = res.had + res.written;
	fprintf(stderr, "micronas atlas: %d of %d archs in the atlas (%d added in %.1f s", archs, MN_ARCH_COUNT,
		res.written, dt);
	if (size > 1)
		fprintf(stderr, " by %d MPI ranks", size);
	fprintf(stderr, ")\n");
	if (json) {
		printf("{\"path\":");
		mn_json_string(stdout, path);
		printf(",\"archs\":%d,\"complete\":%s}\n", archs, res.complete ? "true" : "false");
	} else {
		printf("%s\n", path);
	}
	return mn_cli_flush("atlas", NULL);
}

/* ---- picks ---- */

/* The board's latency table, as session.c builds it. */
static int load_table(const struct mn_preset *p, struct mn_latency_table *t, char *err, size_t errn)
{
	if (p->latency_table && p->latency_table[0])
		return mn_latency_table_read(t, p->latency_table, err, errn) ||
				       mn_latency_table_check_network(t, p->latency_table, p->channels, p->cells,
								      p->height, p->width, p->classes, err,
								      errn) ||
				       mn_latency_table_check_input(t, p->latency_table,
								    p->input_channels ? p->input_channels : 3,
								    err, errn)
			       ? -1
			       : 0;
	if (mn_latency_model_nucleo(p->channels, p->cells, p->height, p->width, p->classes, t)) {
		snprintf(err, errn, "no latency model for C=%d N=%d %dx%d", p->channels, p->cells,
			 p->height, p->width);
		return -1;
	}
	/* The model's stem takes RGB; another input changes its cost (as in
	 * session.c). */
	if (p->input_channels != 3)
		t->stem_us = mn_latency_model_stem_us(&mn_cycle_model_cortex_m7, t->clock_mhz,
						      p->input_channels, p->channels, p->height,
						      p->width);
	return 0;
}

/* The atlas at path with its costs on the preset's board, for the network
 * the data gives (its size, channels and classes, as the search session
 * takes them; d NULL: the preset's own). */
static int open_atlas(const char *cmd, const struct mn_preset *p, const struct mn_dataset *d,
		      const char *data_path, const char *out, const struct mn_atlas_settings *s,
		      const char *path, struct mn_atlas *a, struct mn_latency_table *table)
{
	char err[1024];
	int st = mn_atlas_load(a, path, s, err, sizeof err);
	if (st == 1) {
		fprintf(stderr, "micronas %s: no atlas for these settings yet (%s); build it with: ", cmd, path);
		print_build_command(stderr, p, data_path, out);
		fprintf(stderr, "\n");
		return -1;
	}
	if (st < 0) {
		mn_cli_error(cmd, "%s", err);
		return -1;
	}
	struct mn_preset fp;
	char notice[600];
	if (mn_preset_copy(&fp, p, NULL) != 0) {
		mn_cli_error(cmd, "out of memory");
		mn_atlas_free(a);
		return -1;
	}
	if (d && data_path) {
		if (mn_session_fit_to_data(&fp, d, data_path, notice, sizeof notice, err, sizeof err)) {
			mn_cli_error(cmd, "%s", err);
			goto fail;
		}
		if (notice[0])
			fprintf(stderr, "micronas %s: %s\n", cmd, notice);
	}
	if (load_table(&fp, table, err, sizeof err)) {
		mn_cli_error(cmd, "%s", err);
		goto fail;
	}
	struct mn_atlas_costs c = {{fp.channels, fp.cells, fp.height, fp.classes, fp.input_channels,
				    fp.width},
				   (uint64_t)(fp.runtime_flash_kb * 1024.0 + 0.5), table};
	if (mn_atlas_set_costs(a, &c)) {
		mn_cli_error(cmd, "out of memory");
		goto fail;
	}
	mn_preset_free(&fp);
	return 0;
fail:
	mn_preset_free(&fp);
	mn_atlas_free(a);
	return -1;
}

static int print_pareto(const struct mn_preset *p, const struct mn_dataset *d, const char *data_path,
			const char *out, const struct mn_atlas_settings *s, const char *path,
			const char *axis, int json)
{
	struct mn_atlas a;
	struct mn_latency_table table;
	if (open_atlas("atlas", p, d, data_path, out, s, path, &a, &table))
		return MN_EXIT_ERROR;
	int *rows = malloc((size_t)a.n * sizeof *rows);
	int m = rows ? mn_atlas_pareto(&a, strcmp(axis, "flops") ? MN_ATLAS_BY_LATENCY : MN_ATLAS_BY_FLOPS, rows)
		     : -1;
	if (m < 0) {
		mn_cli_error("atlas", "out of memory");
		free(rows);
		mn_atlas_free(&a);
		return MN_EXIT_ERROR;
	}
	if (!json)
		printf("arch,estimate,latency_ms,flops_m,params_m,sram_kb,flash_kb\n");
	for (int k = 0; k < m; k++) {
		int i = rows[k];
		struct mn_arch arch;
		char str[MN_ARCH_STRLEN];
		mn_arch_from_index(a.arch[i], &arch);
		mn_arch_format(&arch, str, sizeof str);
		if (json) {
			printf("{\"arch\":");
			mn_json_string(stdout, str);
			printf(",\"estimate\":%.6f,\"latency_ms\":%.4f,\"flops_m\":%.6f,\"params_m\":%.6f,"
			       "\"sram_kb\":%.3f,\"flash_kb\":%.3f}\n",
			       a.est[i], a.latency_ms[i], a.flops_m[i], a.params_m[i], a.sram_kb[i], a.flash_kb[i]);
		} else {
			printf("%s,%.6f,%.4f,%.6f,%.6f,%.3f,%.3f\n", str, a.est[i], a.latency_ms[i], a.flops_m[i],
			       a.params_m[i], a.sram_kb[i], a.flash_kb[i]);
		}
	}
	fprintf(stderr, "micronas atlas: %d archs on the front of %d in %s\n", m, a.n, path);
	free(rows);
	mn_atlas_free(&a);
	return mn_cli_flush("atlas", NULL);
}

int mn_cli_search_atlas(const struct mn_preset *p, const char *data_path, const char *atlas_path,
			const char *oracle_path, int json)
{
	double t0 = mn_now_s();
	char err[1024], path[4096];
	struct mn_dataset d;
	struct mn_tenas_config cfg;
	struct mn_atlas_settings s;
	preset_tenas(p, &cfg);
	if (load_data("search", data_path, p->seed, 0, &d))
		return MN_EXIT_ERROR;
	/* As micronas atlas checks it: no atlas of such a batch can exist, and
	 * the command printed for a missing one would be refused. */
	if (mn_cli_batch_fits("search", p->batch, d.count)) {
		mn_dataset_free(&d);
		return MN_EXIT_ERROR;
	}
	cfg.classes = d.classes; /* the proxy networks end in the data's classes */
	mn_atlas_settings_make(&s, &d, p->seed, &cfg, MN_ATLAS_ORDER_SEEDED);
	int other = 0;
	if (atlas_path)
		snprintf(path, sizeof path, "%s", atlas_path);
	else if (mn_atlas_pick_path(&s, path, sizeof path, &other, err, sizeof err)) {
		mn_cli_error("search", "%s", err);
		mn_dataset_free(&d);
		return MN_EXIT_ERROR;
	}
	/* The settings line names the atlas read: the other proxy set's when
	 * that is the one there. */
	struct mn_preset used;
	if (mn_preset_copy(&used, p, NULL) != 0) {
		mn_cli_error("search", "out of memory");
		mn_dataset_free(&d);
		return MN_EXIT_ERROR;
	}
	used.all_proxies = s.cfg.all_proxies;
	if (other)
		fprintf(stderr, "micronas search: picking from the atlas built with --proxies %s (%s): it holds "
			"every proxy the pick reads\n", s.cfg.all_proxies ? "all" : "estimate", path);
	struct mn_oracle oracle;
	int have_oracle = 0;
	if (oracle_path) {
		if (mn_oracle_load(&oracle, oracle_path, err, sizeof err)) {
			mn_cli_error("search", "%s", err);
			mn_dataset_free(&d);
			mn_preset_free(&used);
			return MN_EXIT_ERROR;
		}
		have_oracle = 1;
	}
	struct mn_atlas a;
	struct mn_latency_table table;
	int opened = open_atlas("search", p, &d, data_path, atlas_path, &s, path, &a, &table) == 0;
	mn_dataset_free(&d);
	if (!opened) {
		if (have_oracle)
			mn_oracle_free(&oracle);
		mn_preset_free(&used);
		return MN_EXIT_ERROR;
	}
	struct mn_constraints lim = {p->max_latency_ms, p->max_sram_kb, p->max_flash_kb};
	int i = mn_atlas_pick(&a, p->w_flops, p->w_latency, &lim);
	double dt = mn_now_s() - t0;
	int rc = MN_EXIT_OK;
	if (i < 0) {
		double ml = INFINITY, ms = INFINITY, mf = INFINITY;
		for (int k = 0; k < a.n; k++) {
			ml = fmin(ml, a.latency_ms[k]);
			ms = fmin(ms, a.sram_kb[k]);
			mf = fmin(mf, a.flash_kb[k]);
		}
		char lt[256];
		mn_cli_error("search",
			     "no arch of the atlas (%d of %d) fits the limits, %s; the smallest in it are "
			     "latency %.2f ms, SRAM %.1f KB, flash %.1f KB (" MN_CLI_LIMITS_FIX ")",
			     a.n, MN_ARCH_COUNT, mn_preset_limits_text(p, lt, sizeof lt), ml, ms, mf);
		rc = MN_EXIT_ERROR;
	} else {
		struct mn_arch arch;
		char str[MN_ARCH_STRLEN];
		mn_arch_from_index(a.arch[i], &arch);
		mn_arch_format(&arch, str, sizeof str);
		const struct mn_oracle_entry *o = have_oracle ? mn_oracle_get(&oracle, &arch) : NULL;
		if (json) {
			printf("{\"arch\":");
			mn_json_string(stdout, str);
			printf(",\"flops_m\":%.6f,\"params_m\":%.6f,\"latency_ms\":%.4f,\"sram_kb\":%.3f,"
			       "\"flash_kb\":%.3f,\"seconds\":%.3f,\"seed\":%llu",
			       a.flops_m[i], a.params_m[i], a.latency_ms[i], a.sram_kb[i], a.flash_kb[i], dt,
			       (unsigned long long)p->seed);
			/* a failed write shows in the final fflush(stdout), as mn_json_string's */
			(void)mn_json_write_weights_limits(stdout, p->w_flops, p->w_latency, &lim);
			printf(",\"rounds\":[],\"method\":\"atlas\",\"atlas_archs\":%d,\"atlas\":", a.n);
			mn_json_string(stdout, path);
			printf(",\"estimate\":%.6f", a.est[i]);
			if (have_oracle) {
				if (o)
					printf(",\"oracle_acc\":%.4f", o->acc);
				else
					printf(",\"oracle_acc\":null");
			}
			printf("}\n");
		} else {
			char ls[48], lf[48];
			printf("method     atlas: %d of %d archs (%s)\n", a.n, MN_ARCH_COUNT, path);
			printf("settings   ");
			print_build_command(stdout, &used, data_path, atlas_path);
			printf("\n");
			printf("arch       %s\n", str);
			printf("FLOPs      %.2f M\nparams     %.3f M\nlatency    %.2f ms (estimated)\n"
			       "SRAM       %.1f KB (peak%s)\nflash      %.1f KB (runtime included%s)\n"
			       "estimate   %.3f (0 = best of the atlas by every proxy)\nsearch     %.3f s\n",
			       a.flops_m[i], a.params_m[i], a.latency_ms[i], a.sram_kb[i],
			       mn_cli_limit_text(p->max_sram_kb, ls, sizeof ls), a.flash_kb[i],
			       mn_cli_limit_text(p->max_flash_kb, lf, sizeof lf), a.est[i], dt);
			if (o)
				printf("oracle     %.2f %% (NAS-Bench-201 CIFAR-10 validation accuracy, 200 epochs)\n",
				       o->acc);
		}
	}
	/* After the pick it is about (the flush keeps the order on a shared
	 * terminal; its failure is the command's). */
	if (mn_cli_flush("search", NULL) != MN_EXIT_OK)
		rc = MN_EXIT_ERROR;
	else if (i >= 0)
		mn_cli_note_board_fit(p, a.sram_kb[i], a.flash_kb[i]);
	mn_atlas_free(&a);
	mn_preset_free(&used);
	if (have_oracle)
		mn_oracle_free(&oracle);
	return rc;
}
