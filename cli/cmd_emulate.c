/* micronas emulate: the emulated board (QEMU mps2-an500 with the micronas
 * firmware, or the emulated counterpart a preset names) until
 * SIGINT/SIGTERM; prints the --port value first. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "util/error.h"
#include "cli_board.h"
#include "board/emulator.h"

static void emulate_usage(FILE *f)
{
	fprintf(f,
		"Usage: micronas emulate [--preset NAME|FILE] [--socket PATH] [--firmware FW.elf]\n"
		"                        [--qemu PROGRAM]\n"
		"Starts QEMU's mps2-an500 (Cortex-M7) with the micronas firmware, waits until it\n"
		"answers, prints the value to pass as --port (first line of stdout), and runs\n"
		"until interrupted (Ctrl-C, SIGTERM), then stops QEMU.\n"
		"  --preset NAME   start the emulated counterpart of the preset's board instead\n"
		"                  ([board] emulator and firmware): nucleo-f746zg is mps2-an500\n"
		"                  with qemu-mps2-an500, nucleo-f446re is mps2-an386 (Cortex-M4)\n"
		"                  with qemu-mps2-an386\n"
		"  --socket PATH   serve the board on a unix socket (port unix:PATH) instead of a\n"
		"                  pseudo-terminal\n"
		"  --firmware ELF  the firmware image (default: $MN_FIRMWARE, the build tree's\n"
		"                  fw-profiler/build/BUILD/fw.elf for the preset's firmware BUILD\n"
		"                  (qemu-mps2-an500 without one), the installed copy)\n"
		"  --qemu PROGRAM  QEMU (default: $QEMU_SYSTEM_ARM, else qemu-system-arm)\n"
		"Timing on the emulator is instruction-based (-icount shift=0), not STM32 cycles.\n");
}

int mn_cmd_emulate(int argc, char **argv)
{
	static const struct option opts[] = {
		{"socket", required_argument, 0, 's'}, {"firmware", required_argument, 0, 'f'},
		{"qemu", required_argument, 0, 'q'}, {"preset", required_argument, 0, 'p'},
		{"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
	};
	const char *preset = NULL;
	struct mn_preset pr;
	struct mn_emulator_opts eo = {.boot_timeout_ms = 20000, .cancel = mn_cli_stop_requested};
	struct mn_emulator *e;
	sigset_t set;
	struct mn_error err = {""};
	int ch, rc = MN_EXIT_OK;

	optind = 1;
	while ((ch = mn_cli_getopt("emulate", argc, argv, "h", opts)) != -1) {
		switch (ch) {
		case 's': eo.socket_path = optarg; break;
		case 'f': eo.firmware = optarg; break;
		case 'q': eo.qemu = optarg; break;
		case 'p': preset = optarg; break;
		case 'h': emulate_usage(stdout); return MN_EXIT_OK;
		default:
			/* mn_cli_getopt said why. */
			return MN_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		mn_cli_error("emulate", "unexpected argument '%s' (see 'micronas emulate --help')",
			     argv[optind]);
		return MN_EXIT_USAGE;
	}
	if (preset) {
		if (mn_cli_load_preset("emulate", preset, &pr) != 0)
			return MN_EXIT_ERROR;
		eo.machine = pr.emulator;
		eo.firmware_build = pr.firmware;
	}
	/* Blocked before QEMU starts, so that a signal arriving at any point
	 * is seen by the loop below and QEMU is always stopped; SIGCHLD too,
	 * to notice QEMU dying on its own. */
	int started = mn_cli_block_signals("emulate", 1, &set) == 0 &&
		      mn_emulator_start(&e, &eo, err.msg, sizeof err.msg) == 0;
	if (!started && err.msg[0])
		mn_cli_error("emulate", "%s", err.msg);
	/* QEMU has its machine and firmware: the preset is not needed after. */
	if (preset)
		mn_preset_free(&pr);
	if (!started)
		return MN_EXIT_ERROR;
	if (mn_emulator_warning(e)[0])
		fprintf(stderr, "micronas emulate: warning: %s\n", mn_emulator_warning(e));
	printf("%s\n", mn_emulator_port(e));
	if (mn_cli_flush("emulate", "the port name") != MN_EXIT_OK) {
		mn_emulator_stop(e);
		return MN_EXIT_ERROR;
	}
	fprintf(stderr,
		"micronas emulate: QEMU (pid %d) runs the emulated board; use --port %s; Ctrl-C "
		"stops it (timing is instruction-based, not STM32 cycles)\n",
		(int)mn_emulator_pid(e), mn_emulator_port(e));

	for (;;) {
		struct timespec tick = {1, 0};
		siginfo_t info;
		int sig = sigtimedwait(&set, &info, &tick);
		if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP)
			break;
		/* SIGCHLD, a timeout or EINTR: is QEMU still there? */
		if (!mn_emulator_running(e)) {
			char last[300], how[64];
			mn_emulator_last_output(e, last, sizeof last);
			mn_emulator_exit_text(e, how, sizeof how);
			mn_cli_error("emulate", "QEMU stopped on its own (%s)%s%s (restart micronas "
				     "emulate)", how, *last ? ": " : "", last);
			rc = MN_EXIT_ERROR;
			break;
		}
	}
	if (mn_emulator_stop(e) != 0 && rc == MN_EXIT_OK)
		rc = MN_EXIT_ERROR;
	return rc;
}
