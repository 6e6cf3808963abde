/* The atlas file: every arch's proxy values for one set of settings, as a
 * CSV that a person can read and a program can resume.
 *
 *   # micronas atlas: 1                  the format
 *   # version: 0.1.0                     the program that wrote it
 *   # proxies: ntk_cond,linear_regions   the proxy table's columns
 *   # seed: S
 *   # data: fnv1a64=... images=N synthetic|files
 *   # batch: B
 *   # repeat: R
 *   # init: code|paper
 *   # ntk_grad: exact|fixed-stats
 *   # proxy_network: classes=10 regions_samples=1000 regions_batches=3
 *   # order: seeded|index                the order the rows are written in
 *   arch,ntk_cond,linear_regions         one column per proxy (proxy_set.h)
 *   |...|,1234.5678901234567,456        %.17g: values read back bit for bit
 *
 * A file never mixes settings: reading one whose settings lines differ from
 * the expected ones is refused with one line naming the first difference.
 * Rows are re-checked on reading (field count, arch string, numbers, no arch
 * twice); a torn last line (no newline: an interruption) is dropped. */
#ifndef MN_ATLAS_FILE_H
#define MN_ATLAS_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "data/dataset.h"
#include "proxy/proxy_set.h"
#include "proxy/tenas.h"

enum mn_atlas_order {
	MN_ATLAS_ORDER_SEEDED = 0, /* a random permutation from the seed: any prefix is a uniform sample */
	MN_ATLAS_ORDER_INDEX = 1   /* mn_arch_to_index() order (score --all) */
};

/* Everything the proxy values depend on. */
struct mn_atlas_settings {
	uint64_t data_hash;    /* mn_dataset_fingerprint() */
	size_t data_images;
	int data_synthetic;
	uint64_t seed;
	struct mn_tenas_config cfg;
	enum mn_atlas_order order;
};

#define MN_ATLAS_MAX_SETTINGS 16
#define MN_ATLAS_KEY 32
#define MN_ATLAS_VALUE 512

/* One "# key: value" line. */
struct mn_atlas_kv {
	char key[MN_ATLAS_KEY];
	char value[MN_ATLAS_VALUE];
};

/* Fills s from the data, seed and evaluator config. */
void mn_atlas_settings_make(struct mn_atlas_settings *s, const struct mn_dataset *d, uint64_t seed,
			    const struct mn_tenas_config *cfg, enum mn_atlas_order order);

/* The settings lines, in file order; returns their number. */
int mn_atlas_settings_kv(const struct mn_atlas_settings *s, struct mn_atlas_kv kv[MN_ATLAS_MAX_SETTINGS]);

/* A hash of the settings lines: the same settings give the same file name. */
uint64_t mn_atlas_settings_hash(const struct mn_atlas_settings *s);

/* The default file: $XDG_CACHE_HOME/micronas/atlas-HASH.csv (default
 * ~/.cache/micronas/).  0, or -1 with err when neither variable is set.
 * The directory is not created (mn_atlas_make_dir does that). */
int mn_atlas_default_path(const struct mn_atlas_settings *s, char *path, size_t n, char *err,
			  size_t errn);

/* The default file a pick reads for s: s's own, or, when that file does
 * not exist and the one built with the other proxy set (all, or the
 * estimate's: atlas --proxies) does, that one, with s->cfg.all_proxies
 * changed to match it.  Both hold every proxy a pick reads, with the same
 * values, so an atlas built with --proxies estimate (3 times faster) serves
 * a search or a TUI of the default settings.  *other says whether s was
 * changed.  0 (the path set, the file there or not), or -1 with err. */
int mn_atlas_pick_path(struct mn_atlas_settings *s, char *path, size_t n, int *other, char *err,
		       size_t errn);

/* Creates the directories of path's parent (mkdir -p); 0 or -1 with err. */
int mn_atlas_make_dir(const char *path, char *err, size_t errn);

/* The header row: "arch," and the proxy columns. */
void mn_atlas_header(char *buf, size_t n);

/* Writes the settings lines and the header.  0 or -1 (errno). */
int mn_atlas_write_head(FILE *f, const struct mn_atlas_settings *s);
/* One row, with its newline, into buf; returns its length. */
int mn_atlas_format_row(char *buf, size_t n, int arch_index, const struct mn_proxy_values *v);

/* The rows of a file, in file order. */
struct mn_atlas_rows {
	int n;
	int *arch;                   /* mn_arch_to_index() of each row */
	struct mn_proxy_values *v;
};

/* Reads path against the expected settings.  Returns 0 with rows filled and
 * *good_end the offset after the last complete row; 1 when the file does
 * not exist or is empty (rows empty, *good_end 0); -1 with err holding one
 * line (FILE:LINE, the problem, the fix) for settings that differ, a file
 * that is not an atlas, or a malformed row. */
int mn_atlas_read(const char *path, const struct mn_atlas_settings *expect, struct mn_atlas_rows *rows,
		  long *good_end, char *err, size_t errn);
void mn_atlas_rows_free(struct mn_atlas_rows *rows);

/* The command that builds p's atlas, as the front ends print it to be
 * pasted: "micronas atlas", " --preset NAME" and " --data PATH" when given
 * (NULL: left out), the flags that give p's atlas settings (" --seed S
 * --batch B --repeat R --init I --ntk-grad G --az-channels C --az-cells N",
 * then " --proxies estimate" when p leaves NWOT, SWAP and ZiCo out), and
 * " --out FILE" when given; names and paths quoted for the shell
 * (util/shell_word.h).  Writes and returns as snprintf does. */
struct mn_preset; /* config/preset.h */
int mn_atlas_command(const struct mn_preset *p, const char *preset, const char *data, const char *out,
		     char *buf, size_t n);

#endif
