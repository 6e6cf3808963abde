/* micronas: training-free, hardware-aware neural architecture search for
 * microcontrollers. This file only dispatches to the commands. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "nn/blas.h"

static const struct mn_command commands[] = {
	{"cost", "FLOPs, params, int8 flash and peak SRAM of archs", mn_cmd_cost},
	{"score", "every zero-cost proxy and the accuracy estimate of archs", mn_cmd_score},
	{"search", "hardware-aware pruning search (TE-NAS + MicroNAS)", mn_cmd_search},
	{"atlas", "score the whole space once into an atlas file (picks in milliseconds)", mn_cmd_atlas},
	{"ports", "list serial ports (find the board's --port)", mn_cmd_ports},
	{"emulate", "run the emulated board (QEMU) and print its --port", mn_cmd_emulate},
	{"profile", "measure op latencies on the board into a latency table", mn_cmd_profile},
	{"validate", "run archs on the board: measured vs estimated latency and SRAM", mn_cmd_validate},
	{"export", "write model.py (PyTorch) to train an arch; weights come back as safetensors", mn_cmd_export},
	{"deploy", "int8-quantize trained weights into C sources for the board", mn_cmd_deploy},
	{"tui", "interactive search, board profiling and validation (ncurses)", mn_cmd_tui},
};
static const int n_commands = (int)(sizeof commands / sizeof commands[0]);

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: micronas [--help] [--version] COMMAND [ARGS]\n"
		"Training-free, hardware-aware NAS on the NAS-Bench-201 space for MCUs.\n\n"
		"Commands:\n");
	for (int i = 0; i < n_commands; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n'micronas COMMAND --help' describes a command; man micronas has the details.\n");
}

int main(int argc, char **argv)
{
	/* The process-wide BLAS setting: networks run their own thread pools
	 * (--threads), so OpenBLAS stays on one thread. */
	mn_blas_set_threads(1);
	if (argc < 2) {
		/* At a terminal, no command opens the TUI; in scripts and pipes
		 * it stays a usage error. */
		if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {
			char tui[] = "tui";
			char *tui_argv[] = {tui, NULL};
			return mn_cmd_tui(1, tui_argv);
		}
		usage(stderr);
		return MN_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return MN_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("micronas %s\n", PACKAGE_VERSION);
		return MN_EXIT_OK;
	}
	for (int i = 0; i < n_commands; i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	mn_cli_error(NULL, "unknown command '%s' (see 'micronas --help')", argv[1]);
	return MN_EXIT_USAGE;
}
