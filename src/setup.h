/* Everything a search needs, built from a preset: the data (a CIFAR-10
 * path, or a synthetic batch), one TE-NAS evaluator per worker thread, the
 * latency table and the engine.  The CLI's search command and the TUI both
 * start here, so they run the same search. */
#ifndef MN_SETUP_H
#define MN_SETUP_H

#include <stddef.h>

#include "cifar.h"
#include "engine.h"
#include "latency_table.h"
#include "preset.h"
#include "tenas.h"

struct mn_setup {
	struct mn_preset preset;
	struct mn_cifar data;
	struct mn_latency_table table;
	char table_origin[MN_PRESET_PATH + 64]; /* file, or the built-in model */
	struct mn_tenas_config tenas;
	struct mn_search_config search;
	struct mn_engine *engine;
	char notice[200]; /* e.g. the synthetic-data line; "" if none */
};

/* data_path: a CIFAR-10 file or directory, or NULL for the synthetic
 * batch (s->notice then says so).  threads: worker threads (< 1: all
 * cores).  Returns 0, or -1 with a one-line err; s is then empty. */
int mn_setup_init(struct mn_setup *s, const struct mn_preset *p, const char *data_path,
		  int threads, char *err, size_t errn);
void mn_setup_free(struct mn_setup *s);

/* The latency model over the setup's table (ms). */
double mn_setup_mask_ms(void *setup, const uint8_t mask[MN_EDGES]);

#endif
