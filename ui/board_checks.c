/* The checks every board key makes (p, v, and v with weights loaded):
 * whether the board is already busy, and whether the latency table was
 * profiled on another firmware than the board runs.  Shared by
 * ui/actions.c and ui/actions_model.c, so neither calls into the other
 * for them. */
#include "config.h"

#include <stdio.h>

#include "app.h"
#include "board/profile.h"

int tui_board_busy(struct tui_app *a, enum mn_board_job_kind kind)
{
	if (a->bsnap.state != MN_BOARD_JOB_RUNNING)
		return 0;
	if (a->bsnap.kind == kind) {
		/* The same key again stops it. */
		mn_board_job_cancel(a->board);
		tui_message(a, 0, "cancelling the board's %s...", mn_board_job_kind_name(kind));
	} else {
		tui_message(a, 1, "the board is busy (%s); x cancels it",
			    mn_board_job_kind_name(a->bsnap.kind));
	}
	return 1;
}

int tui_note_stale_table(struct tui_app *a)
{
	char msg[512];
	if (!mn_profile_table_stale(&a->session->table, a->bsnap.fw_version, msg, sizeof msg))
		return 0;
	tui_log_event(&a->log, "note: %s", msg);
	tui_message(a, 0, "validating; note: the latency table is from another firmware: p "
		    "profiles this one (the log says which)");
	return 1;
}

int tui_board_emulate(struct tui_app *a, struct mn_error *e)
{
	/* The preset a pending switch sets up, else the session's: another
	 * board's emulation would be profiled and validated in its place. */
	const struct mn_preset *p = a->rebuild ? &a->rebuild_preset
				    : a->have_session ? &a->session->preset : &a->flags;
	struct mn_emulator_opts o = {.boot_timeout_ms = 20000,
				     .machine = p->emulator,
				     .firmware_build = p->firmware};
	if (mn_board_job_emulate(a->board, &o, e->msg, sizeof e->msg) != 0)
		return -1;
	tui_log_event(&a->log, "board: starting the emulated board (QEMU %s, firmware %s)",
		      *p->emulator ? p->emulator : "mps2-an500",
		      *p->firmware ? p->firmware : "qemu-mps2-an500");
	return 0;
}
