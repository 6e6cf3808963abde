/* Pieces shared by the board commands (ports, emulate, profile, validate). */
#ifndef MN_CLI_BOARD_H
#define MN_CLI_BOARD_H

#include <signal.h>

#include "board.h"
#include "preset.h"

/* Blocks SIGINT, SIGTERM and SIGHUP (and SIGCHLD when with_chld) so that
 * they stay pending instead of killing the process mid-write: the commands
 * look for them between steps and while waiting for the board
 * (mn_cli_stop_requested), finish cleanly, and say what was kept.  Returns
 * 0, or -1 after printing an error. */
int mn_cli_block_signals(const char *cmd, int with_chld, sigset_t *set);

/* A board cancel callback: nonzero when SIGINT, SIGTERM or SIGHUP is
 * pending.  arg is unused. */
int mn_cli_stop_requested(void *arg);

/* mn_board_connect() with the cancel callback; prints the error. */
int mn_cli_connect(const char *cmd, const char *port, struct mn_board **b);

/* The preset: by name or path, or the embedded default when name is NULL;
 * prints the error.  Returns 0 or -1. */
int mn_cli_load_preset(const char *cmd, const char *name, struct mn_preset *p);

#endif
