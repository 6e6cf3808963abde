/* Pieces shared by the board commands (ports, emulate, profile, validate). */
#ifndef MN_CLI_BOARD_H
#define MN_CLI_BOARD_H

#include <signal.h>

#include "board/board.h"
#include "cli_signal.h"
#include "cli_preset.h"

/* mn_board_connect() with the cancel callback; prints the error. */
int mn_cli_connect(const char *cmd, const char *port, struct mn_board **b);

#endif
