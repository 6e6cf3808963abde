/* Shared pieces of the board commands (see cli_board.h). */
#include "cli_board.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

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
