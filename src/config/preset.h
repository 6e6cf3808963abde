/* Presets: a board, the network to deploy on it and the search settings,
 * in an INI file read with inih.
 *
 *   [board]   name, clock_mhz, sram_kb, flash_kb, runtime_flash_kb (the
 *             inference runtime's own flash), latency_table (a path;
 *             relative paths resolve against the preset file's directory),
 *             emulator (the QEMU machine of the board's emulated
 *             counterpart, e.g. mps2-an500) and firmware (the name of the
 *             firmware build that machine runs, e.g. qemu-mps2-an500)
 *   [network] channels (C), cells (N), resolution, classes
 *   [search]  seed, batch, repeat, w_flops, w_latency, max_latency_ms,
 *             max_sram_kb, max_flash_kb (0 = no constraint),
 *             init (code|paper), ntk_grad (exact|fixed-stats)
 *
 * Layering: mn_preset_defaults() gives the embedded NUCLEO-F746ZG values
 * with nothing marked set; mn_preset_load() lays a file over it and marks
 * what the file gave; command-line flags go into a second struct through
 * mn_preset_set() and are laid over the first with mn_preset_override(). */
#ifndef MN_PRESET_H
#define MN_PRESET_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "nn/net.h"

#define MN_PRESET_PATH 4096
#define MN_PRESET_TEXT 128

/* The init and NTK-gradient modes are the network's (net.h):
 * MN_INIT_CODE / MN_INIT_PAPER, MN_GRAD_EXACT / MN_GRAD_FIXED_STATS. */

/* One bit per field in mn_preset.set: (1u << field). */
enum mn_preset_field {
	MN_PF_BOARD_NAME,
	MN_PF_CLOCK_MHZ,
	MN_PF_SRAM_KB,
	MN_PF_FLASH_KB,
	MN_PF_RUNTIME_FLASH_KB,
	MN_PF_LATENCY_TABLE,
	MN_PF_EMULATOR,
	MN_PF_FIRMWARE,
	MN_PF_CHANNELS,
	MN_PF_CELLS,
	MN_PF_RESOLUTION,
	MN_PF_CLASSES,
	MN_PF_SEED,
	MN_PF_BATCH,
	MN_PF_REPEAT,
	MN_PF_W_FLOPS,
	MN_PF_W_LATENCY,
	MN_PF_MAX_LATENCY_MS,
	MN_PF_MAX_SRAM_KB,
	MN_PF_MAX_FLASH_KB,
	MN_PF_INIT,
	MN_PF_NTK_GRAD,
	MN_PF_COUNT
};

struct mn_preset {
	/* [board] */
	char board_name[MN_PRESET_TEXT];
	double clock_mhz;
	double sram_kb, flash_kb;
	double runtime_flash_kb;
	/* Resolved path of the latency table; "" = none given: use the built-in
	 * cycle model (mn_latency_model_nucleo() for the default board). */
	char latency_table[MN_PRESET_PATH];
	/* The emulated counterpart (micronas emulate --preset): QEMU's -M
	 * machine and the firmware build's name (fw-profiler/build/NAME/). */
	char emulator[MN_PRESET_TEXT];
	char firmware[MN_PRESET_TEXT];
	/* [network] */
	int channels, cells, resolution, classes;
	/* [search] */
	uint64_t seed;
	int batch, repeat;
	double w_flops, w_latency;
	double max_latency_ms, max_sram_kb, max_flash_kb; /* 0 = no constraint */
	enum mn_init_mode init;
	enum mn_grad_mode ntk_grad;

	uint32_t set; /* fields given by a file or flag, (1u << enum mn_preset_field) */
	/* Where each set field came from ("FILE:LINE" or the flag), for
	 * messages such as "batch 72 (from nucleo.ini:14)". */
	char origin[MN_PF_COUNT][64];
};

/* The embedded default: NUCLEO-F746ZG, C=16 N=5 32x32 10 classes, the
 * published TE-NAS search settings; set = 0. */
void mn_preset_defaults(struct mn_preset *p);

/* Reads a preset file over p (fields absent from the file keep their
 * values).  Returns 0, or -1 with err holding "FILE:LINE: problem (fix)";
 * unknown sections and keys, repeated keys and bad values (not a number,
 * negative, out of range, empty, unknown word) are errors.  On error p is
 * unchanged. */
int mn_preset_load(struct mn_preset *p, const char *path, char *err, size_t errn);

/* Sets one field from text, validated as in a file.  what names the source
 * in errors (e.g. "--batch" or "FILE:LINE: [search] batch"); base_dir
 * (may be NULL: the working directory) resolves a relative latency_table. */
int mn_preset_set(struct mn_preset *p, enum mn_preset_field f, const char *value,
		  const char *what, const char *base_dir, char *err, size_t errn);

/* The field of section/key ("search", "batch"), or of "search.batch"; -1
 * when unknown. */
int mn_preset_field(const char *section, const char *key);
int mn_preset_field_dotted(const char *name);
const char *mn_preset_field_section(enum mn_preset_field f);
const char *mn_preset_field_key(enum mn_preset_field f);

/* Copies into dst every field marked set in src (with its origin), so
 * flags override the preset and the preset the defaults. */
void mn_preset_override(struct mn_preset *dst, const struct mn_preset *src);

/* Writes p as a preset file (all fields); mn_preset_load() reads it back to
 * the same values.  Returns 0 or -1. */
int mn_preset_print(const struct mn_preset *p, FILE *f);

/* Finds a preset by name or path.  A name holding '/' or ending in ".ini"
 * is a path, used as it is.  Otherwise NAME.ini is looked for in
 *   1. $XDG_CONFIG_HOME/micronas/ (default ~/.config/micronas/): the user's
 *   2. $MN_TOP_SRCDIR/presets/, when that variable is set (running from the
 *      build tree, as make check does: the tree's presets, not a possibly
 *      older installed copy)
 *   3. MN_DATADIR/presets/ (installed with the program)
 * and the first that exists wins.  Returns 0 with path filled, or -1 with
 * err listing the places looked in. */
int mn_preset_find(const char *name, char *path, size_t n, char *err, size_t errn);

/* The same with the environment given explicitly (any may be NULL). */
int mn_preset_find_in(const char *name, const char *xdg_config_home, const char *home,
		      const char *top_srcdir, const char *datadir, char *path, size_t n,
		      char *err, size_t errn);

/* Defaults, then the preset found by name_or_path. */
int mn_preset_open(struct mn_preset *p, const char *name_or_path, char *err, size_t errn);

#endif
