/* The persistent evaluation cache: every proxy value the pruning search
 * measures, kept on disk so that a second search with the same settings
 * (any weights, any limits) measures nothing it has seen, and an
 * interrupted one (Ctrl-C, q, a crash) resumes where it stopped.
 *
 * One file per exact settings: <dir>/eval-<64-bit hash of the key>.bin,
 * where the key is a text naming everything a value depends on (proxy and
 * its settings, seed, a hash of the data; see session.c).  Records are
 * (supernet state, edge, op, dk, dr), appended with one write() each as
 * they are measured, so a crash loses at most the record being written.
 *
 * Trust: the header repeats the whole key (a file written for other
 * settings, or a hash collision, is "foreign"); every record carries a
 * checksum over its bytes and the key.  A corrupt or foreign file is
 * ignored with a one-line warning and replaced by a new one (searches
 * finding it at once replace it once and share the new file); a torn last
 * record (a crash mid-write) is dropped silently.
 *
 * Size: the directory's eval-*.bin files are kept under
 * MN_EVAL_CACHE_MAX_BYTES in all; when opening would leave more, the files
 * used least recently (modification time: a file is touched when opened)
 * are deleted first.  A file holds at most MN_EVAL_CACHE_MAX_RECORDS
 * records; beyond that, values are only kept in memory. */
#ifndef MN_EVAL_CACHE_H
#define MN_EVAL_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "util/hash.h"

#include "space/arch.h"

#define MN_EVAL_CACHE_MAX_BYTES (16L * 1024 * 1024)
#define MN_EVAL_CACHE_MAX_RECORDS 65536

struct mn_eval_cache;

/* Called for each record read at open. */
typedef void (*mn_eval_cache_fn)(void *ctx, const uint8_t super[MN_EDGES], int edge, int op,
				 double dk, double dr);


/* Opens (creating dir and file as needed) the cache of `key` in dir and
 * hands every valid record to fn.  warn gets one line ("" if none) when a
 * corrupt or foreign file was ignored.  NULL with err when the cache
 * cannot be used at all (the search then runs without it). */
struct mn_eval_cache *mn_eval_cache_open(const char *dir, const char *key, mn_eval_cache_fn fn,
					 void *ctx, char *warn, size_t warnn, char *err, size_t errn);
/* Appends one record (thread-safe); 0, or -1 when it could not be written
 * (the value stays in the search's memory). */
int mn_eval_cache_put(struct mn_eval_cache *c, const uint8_t super[MN_EDGES], int edge, int op,
		      double dk, double dr);
/* 1 when a write has failed (msg gets one line naming the file and the
 * system's reason; nothing is written after it), else 0 and msg "".
 * Thread-safe. */
int mn_eval_cache_error(struct mn_eval_cache *c, char *msg, size_t n);
/* Records read at open plus those written since. */
int mn_eval_cache_count(const struct mn_eval_cache *c);
const char *mn_eval_cache_path(const struct mn_eval_cache *c);
void mn_eval_cache_close(struct mn_eval_cache *c);


#endif
