/* The interactive ncurses front end: `micronas tui` (and `micronas` alone
 * on a terminal).  It drives the same engine as `micronas search` and the
 * board through board_job.h, and only ever reads their snapshots, so the
 * screen stays live while the search or the board works. */
#ifndef MN_TUI_H
#define MN_TUI_H

#include <stddef.h>

#include "config/preset.h"
#include "util/error.h"

struct mn_tui_config {
	const char *preset_name; /* --preset NAME|FILE; NULL: the embedded default */
	/* Command-line values laid over the preset (flags->set); the TUI keeps
	 * its own copy.  May be NULL. */
	const struct mn_preset *flags;
	const char *data_path;   /* CIFAR-10 file or directory; NULL: synthetic batch */
	const char *oracle_path; /* NAS-Bench-201 CSV; NULL: none */
	const char *port;        /* serial port, /dev/pts/N or unix:PATH; NULL: none */
	int emulate;             /* start the emulated board (QEMU) */
	int threads;             /* evaluation workers; < 1: all cores */
	int profile_repeats;     /* timed runs per op when profiling (1..255) */
	const char *weights_path; /* trained weights for v (.safetensors); NULL: none */
	const char *model_path;   /* deploy's int8 model file for them; NULL: quantized here */
	int model_calib;         /* their calibration images (0: TUI_MODEL_CALIB, deploy's default) */
	int model_images;        /* images v runs on the board (0: TUI_MODEL_IMAGES, validate's) */
	const char *log_path;    /* session log written as it happens; NULL: only on save */
	const char *save_base;   /* default base name for saving (BASE.json/.arch/.log) */
	int start;               /* start the search at once */
	int no_color;            /* monochrome even when the terminal has colours */
	int no_extend;           /* start with the background atlas build paused (e resumes) */
};

/* Runs the TUI until the user quits or a signal (SIGINT, SIGTERM, SIGHUP)
 * arrives.  Everything that can fail before the screen is taken (preset,
 * data, oracle, not a terminal) fails first, with e set.  The terminal is
 * restored on every path, the search is stopped and QEMU too.  Returns 0
 * after q, 1 with e set on an error or a signal (e then says which). */
int mn_tui_run(const struct mn_tui_config *c, struct mn_error *e);

#endif
