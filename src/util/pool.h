/* A small persistent thread pool for the float engine's parallel loops.
 * Workers sleep on a condition variable between jobs (no spinning: the
 * machine is shared).  A NULL pool runs everything on the caller. */
#ifndef MN_NN_PAR_H
#define MN_NN_PAR_H

#include <stddef.h>

struct mn_pool;

/* n threads in all (the caller counts as one); NULL when n < 2 or on
 * failure, which callers treat as "run serially". */
struct mn_pool *mn_pool_create(int n);
void mn_pool_free(struct mn_pool *p);
int mn_pool_size(const struct mn_pool *p);

/* Splits [0, n) into one contiguous range per thread and runs
 * fn(ctx, lo, hi) on each (the caller takes the first); returns when all
 * are done.  Not reentrant: fn must not use the same pool. */
void mn_par_for(struct mn_pool *p, size_t n, void (*fn)(void *ctx, size_t lo, size_t hi),
		void *ctx);

/* The same, but serially when the loop is too small to be worth waking the
 * workers: work = n * work_per_item below MN_PAR_GRAIN. */
#define MN_PAR_GRAIN 262144.0
void mn_par_for_work(struct mn_pool *p, size_t n, double work_per_item,
		     void (*fn)(void *ctx, size_t lo, size_t hi), void *ctx);

/* Runs fn(ctx, t, T) once on every thread t = 0..T-1. */
void mn_par_run(struct mn_pool *p, void (*fn)(void *ctx, int t, int T), void *ctx);

#endif
