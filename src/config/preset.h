/* Presets: a board, the network to deploy on it and the search settings,
 * in an INI file read with inih.
 *
 *   [board]   name, clock_mhz, sram_kb, flash_kb, runtime_flash_kb (the
 *             inference runtime's own flash), latency_table (a path;
 *             relative paths resolve against the preset file's directory),
 *             emulator (the QEMU machine of the board's emulated
 *             counterpart, e.g. mps2-an500) and firmware (the name of the
 *             firmware build that machine runs, e.g. qemu-mps2-an500)
 *   [network] channels (C), cells (N), resolution (R for R x R, or HxW for
 *             a non-square input such as 49x10 MFCC frames), classes,
 *             input_channels (of the image: 1 grayscale, 3 RGB)
 *   [search]  seed, batch, repeat, w_flops, w_latency, max_latency_ms
 *             (0 = no constraint), max_sram_kb, max_flash_kb (absent: the
 *             board's sram_kb and flash_kb, so the search keeps what fits
 *             the board; 0 = no constraint),
 *             init (code|paper), ntk_grad (exact|fixed-stats),
 *             az_channels, az_cells (C and N of the network the accuracy
 *             estimate's AZ-NAS proxies are measured on), proxies (all:
 *             every proxy of proxy_set.h; estimate: the TE-NAS pair and
 *             the estimate's four alone, NWOT, SWAP and ZiCo left out)
 *
 * Layering: mn_preset_defaults() gives the embedded NUCLEO-F746ZG values
 * with nothing marked set; mn_preset_load() lays a file over it and marks
 * what the file gave; command-line flags go into a second struct through
 * mn_preset_set() and are laid over the first with mn_preset_override().
 *
 * Ownership: a preset owns its path (latency_table, on the heap).  Every
 * struct filled by mn_preset_defaults(), mn_preset_copy() or
 * preset_find.h's mn_preset_open() and _open_or_default() is released
 * with mn_preset_free(); copy one with mn_preset_copy(), never with `=`. */
#ifndef MN_PRESET_H
#define MN_PRESET_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "nn/net.h"
#include "util/error.h"

/* The longest path the front ends quote in their fixed message buffers;
 * presets themselves hold paths on the heap. */
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
	MN_PF_INPUT_CHANNELS,
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
	MN_PF_AZ_CHANNELS,
	MN_PF_AZ_CELLS,
	MN_PF_PROXIES,
	MN_PF_COUNT
};

struct mn_preset {
	/* [board] */
	char board_name[MN_PRESET_TEXT];
	double clock_mhz;
	double sram_kb, flash_kb;
	double runtime_flash_kb;
	/* Resolved path of the latency table (heap, owned); NULL = none given:
	 * use the built-in cycle model (mn_latency_model_nucleo()). */
	char *latency_table;
	/* The emulated counterpart (micronas emulate --preset): QEMU's -M
	 * machine and the firmware build's name (fw-profiler/build/NAME/). */
	char emulator[MN_PRESET_TEXT];
	char firmware[MN_PRESET_TEXT];
	/* [network] */
	int channels, cells;
	/* The input size ([network] resolution = R or HxW); adjacent. */
	int height, width;
	int classes;
	int input_channels; /* of the input image (3: RGB) */
	/* [search] */
	uint64_t seed;
	int batch, repeat;
	double w_flops, w_latency;
	/* 0 = no constraint; unless set, max_sram_kb and max_flash_kb are the
	 * board's sram_kb and flash_kb (every function here keeps them so) */
	double max_latency_ms, max_sram_kb, max_flash_kb;
	enum mn_init_mode init;
	enum mn_grad_mode ntk_grad;
	int az_channels, az_cells; /* the estimate's proxy network, C and N */
	/* 1: every proxy (score, atlas); 0: NWOT, SWAP and ZiCo left out
	 * (NaN), which the estimate does not use: an atlas row in about a
	 * third of the time (tenas.h, all_proxies). */
	int all_proxies;

	uint32_t set; /* fields given by a file or flag, (1u << enum mn_preset_field) */
	/* Where each set field came from ("FILE:LINE" or the flag), for
	 * messages such as "batch 72 (from nucleo.ini:14)". */
	char origin[MN_PF_COUNT][64];
};

/* The embedded default: NUCLEO-F746ZG, C=16 N=5 32x32 10 classes,
 * MicroNAS's search settings (batch 32, TE-NAS's 3 repeats, latency
 * weighted) within the board's SRAM and flash; set = 0.  p is taken as holding
 * nothing (free a used preset first). */
void mn_preset_defaults(struct mn_preset *p);
/* Frees what p owns; p then holds no table (as after the defaults). */
void mn_preset_free(struct mn_preset *p);
/* dst (holding nothing) becomes a copy of src.  -1 when out of memory
 * (dst then holds nothing). */
int mn_preset_copy(struct mn_preset *dst, const struct mn_preset *src, struct mn_error *e);

/* Reads a preset file over p (fields absent from the file keep their
 * values).  Returns 0, or -1 with e holding "FILE:LINE: problem (fix)";
 * unknown sections and keys, repeated keys and bad values (not a number,
 * negative, out of range, empty, unknown word) are errors.  On error p is
 * unchanged. */
int mn_preset_load(struct mn_preset *p, const char *path, struct mn_error *e);

/* An enumerated field's word (init: code|paper, ntk_grad:
 * exact|fixed-stats, proxies: all|estimate) into *out (its enum, or
 * all_proxies' 1|0), as mn_preset_set reads it, with the same error; for a
 * command taking such a flag without a preset (score). */
int mn_preset_choice(enum mn_preset_field f, const char *value, const char *what, int *out,
		     struct mn_error *e);

/* Sets one field from text, validated as in a file.  what names the source
 * in errors (e.g. "--batch" or "FILE:LINE: [search] batch"); base_dir
 * (may be NULL: the working directory) resolves a relative latency_table. */
int mn_preset_set(struct mn_preset *p, enum mn_preset_field f, const char *value,
		  const char *what, const char *base_dir, struct mn_error *e);

/* The field of section/key ("search", "batch"), or of "search.batch"; -1
 * when unknown. */
int mn_preset_field(const char *section, const char *key);
int mn_preset_field_dotted(const char *name);
const char *mn_preset_field_section(enum mn_preset_field f);
const char *mn_preset_field_key(enum mn_preset_field f);

/* Copies into dst every field marked set in src (with its origin), so
 * flags override the preset and the preset the defaults.  -1 when out of
 * memory (dst then keeps its own values). */
int mn_preset_override(struct mn_preset *dst, const struct mn_preset *src, struct mn_error *e);

/* Writes p as a preset file (all fields; an SRAM or flash limit that
 * follows the board as a comment, so that it still does when read back);
 * mn_preset_load() reads it back to the same values.  Returns 0 or -1. */
int mn_preset_print(const struct mn_preset *p, FILE *f);

/* The limits in force, for messages: e.g. "latency 200 ms, SRAM 320 KB
 * (the NUCLEO-F746ZG's), flash 1024 KB (the NUCLEO-F746ZG's)", a limit
 * that follows the board saying so; "none" when there is none.  Returns
 * buf. */
char *mn_preset_limits_text(const struct mn_preset *p, char *buf, size_t n);

/* A name usable as a preset's, an emulator's or a firmware build's: a word
 * of [A-Za-z0-9._+-] not starting with '.' (it becomes a file or directory
 * name, or a QEMU argument).  1 or 0. */
int mn_preset_valid_name(const char *name);

/* 1 when name is one of a preset's sections (board, network, search). */
int mn_preset_section(const char *name);

#endif
