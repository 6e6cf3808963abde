/* The one worker-pool type of micronas: persistent threads that sleep on a
 * condition variable between jobs (no spinning: the machine is shared).
 * It serves two uses, both with the thread count given by the caller:
 *
 *  - tasks: mn_pool_submit() queues fn(ctx, worker) for the pool's own
 *    threads (first in, first out); mn_pool_wait() blocks until the queue is
 *    empty and no task runs; mn_pool_cancel() drops the tasks not yet
 *    started (a running task stops through its own cancel flag: the pool
 *    does not know what a task does).  A background job (the engine, the
 *    board job) is a pool of one worker: every task runs on that same thread.
 *  - data-parallel loops: mn_par_for()/mn_par_run() split a loop between the
 *    caller (thread 0) and the workers, and return when all parts are done.
 *
 * A NULL pool runs everything on the caller (a task at once, in
 * mn_pool_submit).  Nothing here is global: each pool is its own. */
#ifndef MN_POOL_H
#define MN_POOL_H

#include <pthread.h>
#include <stddef.h>

struct mn_pool;

/* A task.  worker: 0..workers-1, the pool thread running it (index
 * per-thread state with it); 0 when a NULL pool runs it on the caller. */
typedef void (*mn_task_fn)(void *ctx, int worker);

/* n when n >= 1, else the number of online cores (at least 1): what a
 * thread count below 1 means wherever one is passed. */
int mn_threads_or_all(int n);

/* A pool of `workers` threads (>= 1).  NULL with err on failure. */
struct mn_pool *mn_pool_new(int workers, char *err, size_t errn);
/* A pool for parallel loops: n threads in all, the caller counting as one
 * (n - 1 workers); NULL when n < 2 or on failure, which callers treat as
 * "run serially". */
struct mn_pool *mn_pool_create(int n);
/* Runs the tasks still queued (mn_pool_cancel first to drop them), then
 * joins the threads.  p may be NULL. */
void mn_pool_free(struct mn_pool *p);
/* Threads a parallel loop uses, the caller included (workers + 1; 1 for
 * NULL). */
int mn_pool_size(const struct mn_pool *p);
/* Worker threads (0 for NULL). */
int mn_pool_workers(const struct mn_pool *p);

/* Queues a task; 0, or -1 when out of memory (nothing queued). */
int mn_pool_submit(struct mn_pool *p, mn_task_fn fn, void *ctx);
/* Blocks until no task is queued or running.  Not from a task of p. */
void mn_pool_wait(struct mn_pool *p);
/* Drops the queued tasks not yet started; returns how many. */
int mn_pool_cancel(struct mn_pool *p);

/* Splits [0, n) into one contiguous range per thread and runs
 * fn(ctx, lo, hi) on each (the caller takes the first); returns when all
 * are done.  Not from a task of the same pool (it would wait for itself). */
void mn_par_for(struct mn_pool *p, size_t n, void (*fn)(void *ctx, size_t lo, size_t hi),
		void *ctx);

/* The same, but serially when the loop is too small to be worth waking the
 * workers: work = n * work_per_item below MN_PAR_GRAIN. */
#define MN_PAR_GRAIN 262144.0
void mn_par_for_work(struct mn_pool *p, size_t n, double work_per_item,
		     void (*fn)(void *ctx, size_t lo, size_t hi), void *ctx);

/* Runs fn(ctx, t, T) once for every t = 0..T-1, T = mn_pool_size(p); the
 * caller runs t = 0. */
void mn_par_run(struct mn_pool *p, void (*fn)(void *ctx, int t, int T), void *ctx);

/* pthread_cond_timedwait on cond (lock held) for at most ns nanoseconds
 * (below one second) from now: the waits that also poll what no one
 * signals, such as a cancel flag. */
void mn_cond_wait_ns(pthread_cond_t *cond, pthread_mutex_t *lock, long ns);

#endif
