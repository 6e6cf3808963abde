/* Everything a search needs, built from a preset: the data (a CIFAR-10
 * path, or a synthetic batch), one TE-NAS evaluator per worker thread, the
 * latency table and the engine.  The CLI's search command and the TUI both
 * start here, so they run the same search. */
#ifndef MN_SESSION_H
#define MN_SESSION_H

#include <stddef.h>

#include "data/cifar.h"
#include "search/engine.h"
#include "space/latency_table.h"
#include "config/preset.h"
#include "proxy/tenas.h"

struct mn_session {
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
int mn_session_init(struct mn_session *s, const struct mn_preset *p, const char *data_path,
		  int threads, char *err, size_t errn);
void mn_session_free(struct mn_session *s);

/* The latency model over the setup's table (ms). */
double mn_session_mask_ms(void *setup, const uint8_t mask[MN_EDGES]);

#endif
