/* Everything a search needs, built from a preset: the data (a path, or
 * a synthetic batch), one TE-NAS evaluator per worker thread, the
 * latency table and the engine.  The CLI's search command and the TUI both
 * start here, so they run the same search. */
#ifndef MN_SESSION_H
#define MN_SESSION_H

#include <stddef.h>

#include "data/dataset.h"
#include "search/engine.h"
#include "space/latency_table.h"
#include "config/preset.h"
#include "proxy/tenas.h"
#include "search/eval_cache.h"

/* Part of every persistent cache key: raise it when the proxy numerics
 * change (e.g. a rewrite of the network code), so older values are not
 * reused. */
#define MN_EVAL_CACHE_VERSION 1

struct mn_session {
	struct mn_preset preset;
	struct mn_dataset data;
	struct mn_latency_table table;
	char table_origin[MN_PRESET_PATH + 64]; /* file, or the built-in model */
	struct mn_tenas_config tenas;
	struct mn_search_config search;
	struct mn_engine *engine;
	struct mn_k0_share *k0;      /* K(supernet) shared by the workers (NULL: each its own) */
	struct mn_eval_cache *cache; /* NULL: no persistent cache (cache_notice says why) */
	int cache_loaded;            /* values read from it */
	char notice[400]; /* e.g. the synthetic-data line; "" if none */
	char cache_notice[600]; /* a corrupt/foreign cache ignored, or none usable; "" if none */
};

/* data_path: a data set (dataset.h: CIFAR-10/100, .npy, image folder), or
 * NULL for a synthetic batch at the preset's resolution, input channels
 * and classes (s->notice then says so).  With data, the network's input is
 * the data's: s->preset's height, width, input channels and classes are
 * set from it (any size of 4..1024 a side, square or not: the reductions
 * follow mn_half_side), and a latency table made for another shape
 * gives way to the built-in model (s->notice says so).  threads: worker
 * threads (< 1: all cores).  cache_dir: the persistent evaluation cache's
 * directory, NULL for the XDG default ($XDG_CACHE_HOME/micronas), "" for
 * none.  Returns 0, or -1 with a one-line err; s is then empty. */
int mn_session_init(struct mn_session *s, const struct mn_preset *p, const char *data_path,
		  int threads, char *err, size_t errn);
int mn_session_init_cache(struct mn_session *s, const struct mn_preset *p, const char *data_path,
			  int threads, const char *cache_dir, char *err, size_t errn);
/* The key of the session's settings in the persistent cache. */
void mn_session_cache_key(const struct mn_session *s, char *key, size_t n);
void mn_session_free(struct mn_session *s);

/* 1 when writing the persistent cache failed during the search (a full
 * disk, say): msg gets one line naming the file, the reason and the fix.
 * The search's result is unaffected (values stay in memory); only a rerun
 * or a resume would measure them again.  0 and msg "" otherwise. */
int mn_session_cache_write_error(struct mn_session *s, char *msg, size_t n);

/* The deployed network's input made the data's: p's height, width, classes
 * and input channels are set from d (the images' own size), and a latency
 * table made for another shape gives way to the built-in model.  notice
 * gets one line saying what changed ("" if nothing).  The search session
 * and the atlas pick both call it, so their costs are of one network.
 * 0, or -1 with err (out-of-range data). */
int mn_session_fit_to_data(struct mn_preset *p, const struct mn_dataset *d, const char *path,
			   char *notice, size_t nn, char *err, size_t errn);

/* The latency model over the setup's table (ms). */
double mn_session_mask_ms(void *setup, const uint8_t mask[MN_EDGES]);

#endif
