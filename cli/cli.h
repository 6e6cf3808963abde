/* Shared pieces of the micronas command line. Exit codes: 0 success,
 * 1 bad input or runtime error, 2 usage error. */
#ifndef MN_CLI_H
#define MN_CLI_H

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>

#include "space/arch.h"
#include "space/cost.h"

enum { MN_EXIT_OK = 0, MN_EXIT_ERROR = 1, MN_EXIT_USAGE = 2 };

/* A command: name, one-line summary, entry point (argv[0] is its name). */
struct mn_command {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);
};

/* getopt_long for every command's loop (opterr off; optind set by the
 * caller). Returns '?' after printing one usage line for an unknown or
 * incomplete option, and for an option whose value, given as the next
 * argument, looks like an option itself ("--data --max-latency-ms 1" would
 * otherwise read a data path called "--max-latency-ms"): a value that starts
 * with '-' and is not a number (--w-latency -0.5 stays accepted) or a lone
 * "-". A value attached with '=' (--data=-odd) is taken as written. */
int mn_cli_getopt(const char *cmd, int argc, char **argv, const char *shortopts,
		  const struct option *longopts);

/* "micronas NAME: message" on stderr, one line. */
void mn_cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Flushes standard output: MN_EXIT_OK, or MN_EXIT_ERROR after one line
 * saying why (a full disk, a closed pipe), since a result that did not
 * reach its reader must not end the command with status 0 unsaid.  what
 * (NULL: nothing) names the result in that line, e.g. "the pick". */
int mn_cli_flush(const char *cmd, const char *what);

/* Parse a whole decimal integer / number within [lo, hi]; on failure print
 * a usage error naming the option and return -1. */
int mn_cli_int(const char *cmd, const char *opt, const char *text, long lo, long hi, int *out);
/* The network-shape flags of cost, export and deploy (getopt values 'c'
 * --channels, 'n' --cells, 'r' --resolution (R or HxW), 'k' --classes, 'i'
 * --input-channels): 1 when ch is one and its value went into shape, 0 when
 * ch is not a shape flag, -1 (usage error printed) for a bad value. */
int mn_cli_shape_option(const char *cmd, int ch, const char *text, struct mn_net_shape *shape);
/* Their getopt_long entries (the command's file includes <getopt.h>). */
#define MN_CLI_SHAPE_LONGOPTS                                                            \
	{"channels", required_argument, 0, 'c'}, {"cells", required_argument, 0, 'n'},   \
		{"resolution", required_argument, 0, 'r'}, {"classes", required_argument, 0, 'k'}, \
		{"input-channels", required_argument, 0, 'i'}
/* out = flags where a flag was given (non-zero), the preset's value
 * elsewhere. */
struct mn_preset;
void mn_cli_shape_from(const struct mn_net_shape *flags, const struct mn_preset *p,
		       struct mn_net_shape *out);
int mn_cli_double(const char *cmd, const char *opt, const char *text, double lo, double hi,
		  double *out);

/* 0 when a batch of `batch` images fits in the `count` given; else one
 * line saying so and how to fix it (more images, or the --batch that fits),
 * and -1. */
int mn_cli_batch_fits(const char *cmd, int batch, size_t count);

/* Parse an arch string; on failure print one line with the column and the
 * expectation, and return -1. */
int mn_cli_arch(const char *cmd, const char *text, struct mn_arch *out);

/* Write s as a JSON string literal (with quotes). */
void mn_json_string(FILE *f, const char *s);

/* "; limit N KB" when the limit (KB) is in force, else "; no limit": how
 * the pick's SRAM and flash lines end (search, and its atlas method). */
const char *mn_cli_limit_text(double limit_kb, char *buf, size_t n);

/* The SRAM and flash limits default to the board's (preset.h), but a
 * search run without them (given as 0, as the TE-NAS preset does) may pick
 * what does not fit the board it was searched for: says so on stderr (so
 * --json stays clean), with the flag that searches only what fits. */
void mn_cli_note_board_fit(const struct mn_preset *p, double sram_kb, double flash_kb);

/* The fix every "no arch fits the limits" error ends with (search, and its
 * atlas method). */
#define MN_CLI_LIMITS_FIX "raise --max-latency-ms, --max-sram-kb or --max-flash-kb, or give 0 for none"

int mn_cmd_cost(int argc, char **argv);
int mn_cmd_search(int argc, char **argv);
int mn_cmd_score(int argc, char **argv);
int mn_cmd_ports(int argc, char **argv);
int mn_cmd_emulate(int argc, char **argv);
int mn_cmd_profile(int argc, char **argv);
int mn_cmd_validate(int argc, char **argv);
int mn_cmd_tui(int argc, char **argv);
int mn_cmd_atlas(int argc, char **argv);

/* cmd_atlas.c: `search --method atlas` (the pick from the atlas of the
 * preset's settings; atlas_path NULL: the cache's) and `score --all --out`
 * (an atlas file in index order, with the settings check on resuming). */
struct mn_preset;
struct mn_tenas_config;
struct mn_dataset;
int mn_cli_search_atlas(const struct mn_preset *p, const char *data_path, const char *atlas_path,
			const char *oracle_path, int json);
int mn_cli_score_all(const struct mn_tenas_config *cfg, const struct mn_dataset *data, uint64_t seed,
		     const char *out, int max, int threads);
int mn_cmd_export(int argc, char **argv);
int mn_cmd_deploy(int argc, char **argv);

#endif
