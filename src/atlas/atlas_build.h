/* Building an atlas: every arch scored once with the proxy table, in a
 * seeded random order (so a partial atlas is a uniform sample), rows written
 * in that order whatever the thread or process that computed them, so the
 * file is the same row for row (and bit for bit) for any number of threads
 * or MPI ranks.  Resumable: a rerun reads the file, re-scores its first row
 * to check that this program still computes the same values, and goes on
 * with the archs not in it.
 *
 * Work flows through a queue of positions (the rows still to write, in
 * order): local worker threads take positions from it, and a remote
 * (atlas_mpi.c) may hand positions to other processes and put their
 * results back; only the calling thread writes the file. */
#ifndef MN_ATLAS_BUILD_H
#define MN_ATLAS_BUILD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "atlas/atlas_file.h"

/* The rows still to write: position p holds arch[p]; ready[p] once its
 * values are in vals[p]. */
struct mn_atlas_queue {
	pthread_mutex_t lock;
	pthread_cond_t cond;    /* signalled on every put and failure */
	int n;
	const int *arch;
	int next;               /* next position to hand out */
	unsigned char *ready;
	struct mn_proxy_values *vals;
	int failed;
	char err[512];
	int stop;               /* hand out nothing more */
};

/* 1 with the next position and its arch, 0 when there is nothing left to
 * hand out (all given, stopped or failed). */
int mn_atlas_queue_take(struct mn_atlas_queue *q, int *pos, int *arch);
/* Stores the values of position pos (ignored when out of range or when the
 * position already has values). */
void mn_atlas_queue_put(struct mn_atlas_queue *q, int pos, const struct mn_proxy_values *v);
/* Records the first failure and stops handing out work. */
void mn_atlas_queue_fail(struct mn_atlas_queue *q, const char *msg);

/* Where worker threads get positions and leave results. */
struct mn_atlas_source {
	int (*take)(void *ctx, int *pos, int *arch);  /* 1 with work, 0: no more (may block) */
	void (*put)(void *ctx, int pos, const struct mn_proxy_values *v);
	void (*fail)(void *ctx, const char *msg);
	void *ctx;
};

/* A queue as a source (non-blocking take). */
void mn_atlas_queue_source(struct mn_atlas_queue *q, struct mn_atlas_source *src);

/* Worker threads, one evaluator each: all the threading of the atlas is
 * here.  Each thread scores archs from src until take() says no more, or
 * until cancel (NULL: none) is set: the networks poll it inside each
 * arch's proxies, and an arch cut short is dropped (put nowhere). */
struct mn_atlas_workers;
struct mn_atlas_workers *mn_atlas_workers_start(const struct mn_tenas_config *cfg,
						const struct mn_dataset *data, uint64_t seed, int threads,
						const struct mn_atlas_source *src,
						const atomic_int *cancel, char *err, size_t errn);
/* Waits for the threads (they end when take() returns 0) and frees. */
void mn_atlas_workers_join(struct mn_atlas_workers *w);

/* The order of the whole space: a permutation of the arch indices from the
 * seed (seeded) or the identity (index). */
void mn_atlas_order(enum mn_atlas_order order, uint64_t seed, int out[MN_ARCH_COUNT]);

/* Progress, from the writing thread at most every 200 ms and at the end. */
struct mn_atlas_progress {
	int in_file;       /* rows in the file now */
	int target;        /* rows the file will hold when this run ends */
	int written;       /* rows written by this run */
	int to_write;      /* rows this run writes in all */
	double elapsed_s;  /* since the first arch was handed out */
};

/* Lets other processes take part (atlas_mpi.c): serve() is called by the
 * writing thread between writes (it must not block for long); finish() once
 * at the end, after the queue stopped, to release the other processes.
 * cut is 1 when the run ends early (a stop, a failure, a write error): the
 * other processes then end their archs in flight too, as the local ones
 * do; 0 after a whole run, which has nothing in flight. */
struct mn_atlas_remote {
	void (*serve)(void *ctx, struct mn_atlas_queue *q);
	void (*finish)(void *ctx, struct mn_atlas_queue *q, int cut);
	void *ctx;
};

struct mn_atlas_build {
	const char *path;
	struct mn_atlas_settings settings;
	const struct mn_dataset *data;  /* the data the settings were made from */
	int threads;                  /* local worker threads, >= 1 */
	int max;                      /* rows to add this run at most (0: all) */
	void (*progress)(void *ctx, const struct mn_atlas_progress *p);
	int (*stop_requested)(void *ctx); /* polled by the writing thread; may be NULL */
	void *ctx;
	const struct mn_atlas_remote *remote; /* NULL: this process alone */
};

struct mn_atlas_build_result {
	int had;       /* rows in the file before this run */
	int written;   /* rows added */
	int complete;  /* the file holds all 15625 archs */
};

/* Builds or extends the atlas file.  Returns 0 when the run did what was
 * asked (the whole space, or max rows), 1 when stopped early (rows written
 * are kept), -1 with err (one line; rows written are kept).  A stop
 * (stop_requested) or a failure also ends the local archs in flight
 * inside their proxy computations, so the run ends within a fraction of
 * one arch's time; those archs are scored again by the next run.  Other
 * processes (remote) are told to do the same (finish with cut 1). */
int mn_atlas_build_run(const struct mn_atlas_build *b, struct mn_atlas_build_result *res, char *err,
		       size_t errn);

#endif
