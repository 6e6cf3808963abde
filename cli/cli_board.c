/* Shared pieces of the board commands (see cli_board.h). */
#include "cli_board.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "util/error.h"

int mn_cli_connect(const char *cmd, const char *port, struct mn_board **b)
{
	struct mn_board_opts o;
	struct mn_error e;
	mn_board_opts_default(&o);
	o.cancel = mn_cli_stop_requested;
	if (mn_board_connect(b, port, &o, e.msg, sizeof e.msg) != MN_BOARD_OK) {
		mn_cli_error(cmd, "%s", e.msg);
		return -1;
	}
	return 0;
}
