/* Signal handling for the long-running commands: SIGINT, SIGTERM and
 * SIGHUP are blocked and polled between steps, so a command stops cleanly
 * and says what it kept instead of dying mid-write.  No global state. */
#ifndef MN_CLI_SIGNAL_H
#define MN_CLI_SIGNAL_H

#include <signal.h>

/* Blocks SIGINT, SIGTERM and SIGHUP (and SIGCHLD when with_chld) so that
 * they stay pending instead of killing the process mid-write: the commands
 * look for them between steps and while waiting for the board
 * (mn_cli_stop_requested), finish cleanly, and say what was kept.  Returns
 * 0, or -1 after printing an error. */
int mn_cli_block_signals(const char *cmd, int with_chld, sigset_t *set);

/* A board cancel callback: nonzero when SIGINT, SIGTERM or SIGHUP is
 * pending.  arg is unused. */
int mn_cli_stop_requested(void *arg);

#endif
