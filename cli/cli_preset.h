/* Preset handling shared by the commands: --preset NAME|FILE, then flags
 * that override single preset values. */
#ifndef MN_CLI_PRESET_H
#define MN_CLI_PRESET_H

#include "config/preset.h"

struct mn_cli_preset {
	const char *name;        /* --preset, or NULL for the embedded default */
	struct mn_preset flags;  /* values given as flags (flags.set marks them) */
	int error;               /* a flag was refused */
};

/* getopt values of the long-only preset flags (no letter left free in
 * every command's table). */
#define MN_OPT_AZ_CHANNELS 0x201
#define MN_OPT_AZ_CELLS 0x202
#define MN_OPT_PROXIES 0x203

void mn_cli_preset_begin(struct mn_cli_preset *cp);
/* Handles the getopt value ch of a preset flag: 'p' --preset, 's' --seed,
 * 'F' --w-flops, 'L' --w-latency, 'l' --max-latency-ms, 'S' --max-sram-kb,
 * 'f' --max-flash-kb, 'b' --batch, 'r' --repeat, 'i' --init, 'g'
 * --ntk-grad, 't' --latency-table, MN_OPT_AZ_CHANNELS --az-channels,
 * MN_OPT_AZ_CELLS --az-cells, MN_OPT_PROXIES --proxies.  Prints a usage error and returns -1
 * for a bad value or an unknown ch. */
int mn_cli_preset_option(struct mn_cli_preset *cp, const char *cmd, int ch, const char *value);
/* Frees what the flags hold (a --latency-table path). */
void mn_cli_preset_end(struct mn_cli_preset *cp);
/* The same, returning exit_code: for leaving a command early. */
int mn_cli_preset_quit(struct mn_cli_preset *cp, int exit_code);

/* The preset by name or path, or the embedded default when name is NULL
 * (mn_preset_open_or_default()); prints the error.  Returns 0 or -1; free
 * p with mn_preset_free() either way. */
int mn_cli_load_preset(const char *cmd, const char *name, struct mn_preset *p);

/* The preset the command runs with: --preset (or the embedded default)
 * with the flags laid over it.  Ends cp either way; prints the error.
 * Returns 0 (free out with mn_preset_free()) or -1. */
int mn_cli_preset_finish(struct mn_cli_preset *cp, const char *cmd, struct mn_preset *out);

#endif
