/* micronas score: TE-NAS's two proxies per arch, or for the whole space
 * into a resumable CSV. */
#include <errno.h>
#include <math.h>
#include <getopt.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cli_signal.h"
#include "config/preset.h"
#include "proxy/az_memo.h"
#include "proxy/estimate.h"
#include "proxy/proxy_set.h"
#include "proxy/tenas.h"
#include "data/dataset_source.h"
#include "util/clock.h"
#include "util/pool.h"

#define SCORE_HEADER "arch,ntk_cond,linear_regions"

/* The archs given, scored in order by a background job (a pool of one
 * worker), so that the main thread can watch for SIGINT/SIGTERM/SIGHUP and
 * cut the arch in flight short (the flag is polled inside its proxies). */
struct score_run {
	struct mn_tenas *t;
	struct mn_az_memo *memo; /* archs of one function class measured once */
	uint64_t seed;
	const struct mn_arch *archs;
	int n;
	struct mn_proxy_values *val;
	atomic_int cancel;
	atomic_int finished;
	int done;      /* archs scored; read after the pool is freed */
	int rc;        /* 0, 1 interrupted, -1 failed (err) */
	char err[512];
};

static void score_task(void *p, int worker)
{
	struct score_run *r = p;
	(void)worker;
	for (r->done = 0; r->done < r->n; r->done++) {
		r->rc = mn_proxy_score_arch_shared(r->t, r->memo, r->seed, &r->archs[r->done],
						   &r->cancel, &r->val[r->done], r->err, sizeof r->err);
		if (r->rc != 0)
			break;
	}
	atomic_store(&r->finished, 1);
}

/* Scores the archs; a signal ends the run early with the archs done so
 * far.  Returns r->rc (-1 also when the job cannot start). */
static int score_archs(struct score_run *r)
{
	sigset_t sigs;
	atomic_init(&r->cancel, 0);
	atomic_init(&r->finished, 0);
	r->done = 0;
	r->rc = -1;
	/* Before the pool's thread starts, so that it inherits the mask. */
	if (mn_cli_block_signals("score", 0, &sigs))
		return snprintf(r->err, sizeof r->err, "cannot set up signal handling"), -1;
	struct mn_pool *job = mn_pool_new(1, r->err, sizeof r->err);
	if (!job)
		return -1;
	if (mn_pool_submit(job, score_task, r) != 0) {
		mn_pool_free(job);
		return snprintf(r->err, sizeof r->err, "out of memory"), -1;
	}
	while (!atomic_load(&r->finished)) {
		if (mn_cli_stop_requested(NULL))
			atomic_store(&r->cancel, 1);
		mn_sleep_ms(20);
	}
	mn_pool_free(job); /* the task has ended: this joins the thread */
	return r->rc;
}

/* JSON has no NaN or infinities: those are null. */
static void json_number(double x)
{
	if (isfinite(x))
		printf("%.9g", x);
	else
		printf("null");
}

static void score_usage(FILE *f)
{
	fprintf(f,
		"Usage: micronas score ARCH... [--data PATH] [--seed S] [--repeat R] [--batch B] [--json]\n"
		"       micronas score --all --out FILE.csv [--data PATH] [--seed S] [--repeat R] [--batch B]\n"
		"Options also: [--init code|paper] [--ntk-grad exact|fixed-stats] [--threads N]\n"
		"              [--az-channels C] [--az-cells N] [--proxies all|estimate]\n"
		"For each arch: the NTK condition number of its C=3, N=1 network on a batch of B\n"
		"training images (default 32, MicroNAS's and search's; TE-NAS's is 72) and the\n"
		"number of linear regions of its thin network (3 batches of 1000 random 3x3 crops),\n"
		"averaged over R repeats (default 3); and the other proxies (AZ-NAS's four, NWOT,\n"
		"SWAP, ZiCo) on the C=16, N=5 network AZ-NAS scores (--az-channels, --az-cells),\n"
		"with the accuracy estimate: AZ-NAS's rank aggregation over the archs given\n"
		"(0 = best). --proxies estimate leaves NWOT, SWAP and ZiCo out (null; \"-\" in the\n"
		"table): about 3 times faster.\n"
		"--all scores all 15625 archs into FILE.csv (settings lines, then " SCORE_HEADER "),\n"
		"with a progress bar; rerun the same command after an interruption to resume from the\n"
		"rows written (a file made with other settings is refused).\n"
		"--max N stops after N more archs (to score the space in chunks).\n"
		"PATH: CIFAR-10/100 binaries, X.npy (labels in X_labels.npy) or an image folder\n"
		"(one subfolder per class); the proxies run at the data's size (man micronas, DATA).\n");
}

struct score_opts {
	const char *data, *out;
	uint64_t seed;
	int all, json, threads;
	int max;       /* --all: archs to score this run at most (0: all) */
	struct mn_tenas_config cfg;
};

static int load_data(const struct score_opts *o, struct mn_dataset *d)
{
	char err[512];
	if (o->data) {
		if (mn_dataset_load(d, o->data, err, sizeof err)) {
			mn_cli_error("score", "%s", err);
			return -1;
		}
		return 0;
	}
	if (mn_dataset_synthetic(d, 1024, o->seed, err, sizeof err)) {
		mn_cli_error("score", "%s", err);
		return -1;
	}
	fprintf(stderr, "micronas score: %s\n", MN_DATASET_SYNTHETIC_NOTICE);
	return 0;
}

/* An enumerated flag read as a preset's field is, with its error (the
 * flags and their words are the other commands'). */
static int score_choice(enum mn_preset_field f, const char *flag, const char *value, int *out)
{
	struct mn_error e;
	if (mn_preset_choice(f, value, flag, out, &e) == 0)
		return 0;
	mn_cli_error("score", "%s", e.msg);
	return -1;
}

/* Options into o: 0, 1 for --help (printed), -1 for a usage error (said). */
static int parse_options(int argc, char **argv, struct score_opts *o)
{
	static const struct option opts[] = {
		{"data", required_argument, 0, 'd'}, {"seed", required_argument, 0, 's'},
		{"repeat", required_argument, 0, 'r'}, {"batch", required_argument, 0, 'b'},
		{"json", no_argument, 0, 'j'}, {"all", no_argument, 0, 'a'},
		{"out", required_argument, 0, 'o'}, {"init", required_argument, 0, 'i'},
		{"ntk-grad", required_argument, 0, 'g'}, {"threads", required_argument, 0, 'T'},
		{"max", required_argument, 0, 'm'},
		{"az-channels", required_argument, 0, 'C'}, {"az-cells", required_argument, 0, 'N'},
		{"proxies", required_argument, 0, 'P'},
		{"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
	};
	int ch, v;
	memset(o, 0, sizeof *o);
	mn_tenas_config_default(&o->cfg);
	/* The NTK batch of search and atlas (the embedded preset's: MicroNAS's
	 * 32), so score's values are theirs; --batch 72 is TE-NAS's. */
	struct mn_preset dp;
	mn_preset_defaults(&dp);
	o->cfg.batch = dp.batch;
	mn_preset_free(&dp);
	optind = 1;
	while ((ch = mn_cli_getopt("score", argc, argv, "h", opts)) != -1) {
		switch (ch) {
		case 'd': o->data = optarg; break;
		case 's': {
			char *end;
			errno = 0;
			unsigned long long s = strtoull(optarg, &end, 10);
			if (errno || end == optarg || *end || optarg[0] == '-') {
				mn_cli_error("score", "--seed needs a whole number >= 0, got '%s'", optarg);
				return -1;
			}
			o->seed = s;
			break;
		}
		case 'r': if (mn_cli_int("score", "--repeat", optarg, 1, 100, &o->cfg.repeat)) return -1; break;
		case 'b': if (mn_cli_int("score", "--batch", optarg, 2, 1024, &o->cfg.batch)) return -1; break;
		case 'j': o->json = 1; break;
		case 'a': o->all = 1; break;
		case 'o': o->out = optarg; break;
		case 'i':
			if (score_choice(MN_PF_INIT, "--init", optarg, &v)) return -1;
			o->cfg.init = (enum mn_init_mode)v;
			break;
		case 'g':
			if (score_choice(MN_PF_NTK_GRAD, "--ntk-grad", optarg, &v)) return -1;
			o->cfg.grad = (enum mn_grad_mode)v;
			break;
		case 'C': if (mn_cli_int("score", "--az-channels", optarg, 1, 256, &o->cfg.az_channels)) return -1; break;
		case 'N': if (mn_cli_int("score", "--az-cells", optarg, 1, 20, &o->cfg.az_cells)) return -1; break;
		case 'P':
			if (score_choice(MN_PF_PROXIES, "--proxies", optarg, &v)) return -1;
			o->cfg.all_proxies = v;
			break;
		case 'm': if (mn_cli_int("score", "--max", optarg, 1, MN_ARCH_COUNT, &o->max)) return -1; break;
		case 'T': if (mn_cli_int("score", "--threads", optarg, 1, 64, &o->threads)) return -1; break;
		case 'h': score_usage(stdout); return 1;
		default:
			/* mn_cli_getopt said why. */
			return -1;
		}
	}
	if (o->all != (o->out != NULL))
		return mn_cli_error("score", "--all and --out go together (see 'micronas score --help')"), -1;
	if (!o->all && optind >= argc)
		return mn_cli_error("score", "no arch given (see 'micronas score --help')"), -1;
	if (o->all && optind < argc)
		return mn_cli_error("score", "--all takes no arch strings"), -1;
	/* Scoring the archs given has no chunks: --max there would be ignored
	 * while the user believes it limits the run. */
	if (o->max && !o->all)
		return mn_cli_error("score", "--max goes with --all --out FILE.csv (it scores the archs "
				    "given in full; see 'micronas score --help')"), -1;
	return 0;
}

/* The archs' values (a table, or a JSON line each) with their estimate. */
static void print_scores(const struct mn_arch *archs, const struct mn_proxy_values *val,
			 const double *est, int n, int json)
{
	if (n > 0 && !json) {
		printf("%-92s", "arch");
		for (int p = 0; p < MN_PROXY_COUNT; p++)
			printf(" %12s", mn_proxy_info((enum mn_proxy_id)p)->label);
		printf(" %12s\n", "estimate");
	}
	for (int i = 0; i < n; i++) {
		char s[MN_ARCH_STRLEN];
		mn_arch_format(&archs[i], s, sizeof s);
		if (json) {
			printf("{\"arch\":");
			mn_json_string(stdout, s);
			for (int p = 0; p < MN_PROXY_COUNT; p++) {
				printf(",\"%s\":", mn_proxy_info((enum mn_proxy_id)p)->column);
				json_number(val[i].v[p]);
			}
			printf(",\"estimate\":");
			json_number(est[i]);
			printf("}\n");
			continue;
		}
		printf("%-92s", s);
		/* "-" for a proxy not measured (--proxies estimate), as JSON's null */
		for (int p = 0; p < MN_PROXY_COUNT; p++)
			if (isnan(val[i].v[p]))
				printf(" %12s", "-");
			else
				printf(" %12.5g", val[i].v[p]);
		printf(" %12.4f\n", est[i]);
	}
}

/* Scores the n archs given: every proxy of proxy_set.h, then the estimate
 * over them (it ranks them against each other, so it needs them all
 * first); on a failure or an interrupt the archs already scored are still
 * printed.  An exit status. */
static int score_given(const struct score_opts *o, const struct mn_arch *archs, int n,
		       const struct mn_dataset *data)
{
	char err[512];
	struct mn_tenas_config cfg = o->cfg;
	cfg.threads = o->threads;
	struct mn_tenas *t = mn_tenas_new(&cfg, data, err, sizeof err);
	if (!t)
		return mn_cli_error("score", "%s", err), MN_EXIT_ERROR;
	struct mn_proxy_values *val = calloc((size_t)n, sizeof *val);
	double *est = calloc((size_t)n, sizeof *est);
	struct mn_az_memo *memo = mn_az_memo_new();
	int done = 0, rc = MN_EXIT_OK;
	if (!val || !est || !memo) {
		mn_cli_error("score", "out of memory");
		rc = MN_EXIT_ERROR;
	} else {
		struct score_run run = {.t = t, .memo = memo, .seed = o->seed, .archs = archs, .n = n,
					.val = val};
		int r = score_archs(&run);
		done = run.done;
		if (r == 1) {
			mn_cli_error("score", "interrupted: %d of %d archs scored%s", done, n,
				     done ? " (printed; the estimate ranks them among themselves)" : "");
			rc = MN_EXIT_ERROR;
		} else if (r != 0) {
			char s[MN_ARCH_STRLEN] = "";
			if (done < n)
				mn_arch_format(&archs[done], s, sizeof s);
			mn_cli_error("score", "%s%s%s", s, *s ? ": " : "", run.err);
			rc = MN_EXIT_ERROR;
		}
		if (done > 0 && mn_estimate(val, (size_t)done, est) != 0)
			for (int i = 0; i < done; i++)
				est[i] = NAN;
		print_scores(archs, val, est, done, o->json);
		if (mn_cli_flush("score", "the scores") != MN_EXIT_OK)
			rc = MN_EXIT_ERROR;
	}
	free(val);
	free(est);
	mn_az_memo_free(memo);
	mn_tenas_free(t);
	return rc;
}

int mn_cmd_score(int argc, char **argv)
{
	struct score_opts o;
	int parsed = parse_options(argc, argv, &o);
	if (parsed != 0)
		return parsed > 0 ? MN_EXIT_OK : MN_EXIT_USAGE;
	int n = argc - optind;
	struct mn_arch *archs = NULL;
	if (n > 0) {
		archs = calloc((size_t)n, sizeof *archs);
		if (!archs)
			return mn_cli_error("score", "out of memory"), MN_EXIT_ERROR;
		for (int i = 0; i < n; i++)
			if (mn_cli_arch("score", argv[optind + i], &archs[i])) {
				free(archs);
				return MN_EXIT_ERROR;
			}
	}
	o.threads = mn_threads_or_all(o.threads);
	struct mn_dataset data;
	if (load_data(&o, &data)) {
		free(archs);
		return MN_EXIT_ERROR;
	}
	int rc = MN_EXIT_ERROR;
	if (mn_cli_batch_fits("score", o.cfg.batch, data.count) == 0) {
		/* The proxy networks end in the data's classes, as TE-NAS's do. */
		o.cfg.classes = data.classes;
		if (o.all) {
			o.cfg.threads = 1; /* one arch per worker thread */
			/* The atlas's file format, settings check and worker threads. */
			rc = mn_cli_score_all(&o.cfg, &data, o.seed, o.out, o.max, o.threads);
		} else {
			rc = score_given(&o, archs, n, &data);
		}
	}
	mn_dataset_free(&data);
	free(archs);
	return rc;
}
