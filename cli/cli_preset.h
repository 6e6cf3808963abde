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

void mn_cli_preset_begin(struct mn_cli_preset *cp);
/* Handles the getopt value ch of a preset flag: 'p' --preset, 's' --seed,
 * 'F' --w-flops, 'L' --w-latency, 'l' --max-latency-ms, 'S' --max-sram-kb,
 * 'f' --max-flash-kb, 'b' --batch, 'r' --repeat, 'i' --init, 'g'
 * --ntk-grad, 't' --latency-table.  Prints a usage error and returns -1
 * for a bad value or an unknown ch. */
int mn_cli_preset_option(struct mn_cli_preset *cp, const char *cmd, int ch, const char *value);
/* The preset (or the default) with the flags laid over it; -1 after
 * printing the error. */
int mn_cli_preset_finish(struct mn_cli_preset *cp, const char *cmd, struct mn_preset *out);

#endif
