/* Shared pieces of the board commands (see cli_board.h). */
#include "cli_board.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"

int mn_cli_block_signals(const char *cmd, int with_chld, sigset_t *set)
{
	/* sigprocmask() rather than handlers: nothing global is needed, and
	 * a blocked signal is simply pending until we look at it. */
	if (sigemptyset(set) != 0 || sigaddset(set, SIGINT) != 0 || sigaddset(set, SIGTERM) != 0 ||
	    sigaddset(set, SIGHUP) != 0 || (with_chld && sigaddset(set, SIGCHLD) != 0) ||
	    sigprocmask(SIG_BLOCK, set, NULL) != 0) {
		mn_cli_error(cmd, "cannot block signals (system error)");
		return -1;
	}
	return 0;
}

int mn_cli_stop_requested(void *arg)
{
	sigset_t p;
	(void)arg;
	if (sigpending(&p) != 0)
		return 0;
	return sigismember(&p, SIGINT) == 1 || sigismember(&p, SIGTERM) == 1 ||
	       sigismember(&p, SIGHUP) == 1;
}

int mn_cli_connect(const char *cmd, const char *port, struct mn_board **b)
{
	struct mn_board_opts o;
	char err[1024];
	mn_board_opts_default(&o);
	o.cancel = mn_cli_stop_requested;
	if (mn_board_connect(b, port, &o, err, sizeof err) != MN_BOARD_OK) {
		mn_cli_error(cmd, "%s", err);
		return -1;
	}
	return 0;
}

int mn_cli_load_preset(const char *cmd, const char *name, struct mn_preset *p)
{
	char err[1024];
	if (!name) {
		mn_preset_defaults(p);
		return 0;
	}
	if (mn_preset_open(p, name, err, sizeof err) != 0) {
		mn_cli_error(cmd, "%s", err);
		return -1;
	}
	return 0;
}
