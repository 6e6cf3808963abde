/* The worker pool (see pool.h): one FIFO of entries served by the workers.
 * An entry is either a task or one part of a parallel loop; both wait on
 * the same two condition variables. */
#include "util/pool.h"

#include <pthread.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

/* One parallel loop in flight: its parts are queued entries. */
struct par_job {
	void (*fn)(void *, int, int);
	void *ctx;
	int T;
	int pending; /* parts not finished (under the pool's lock) */
};

struct entry {
	mn_task_fn fn;       /* a task, or NULL for a loop part */
	void *ctx;
	struct par_job *par; /* the loop, for a part */
	int t;               /* the part's index */
};

struct mn_pool {
	int workers;
	pthread_t *th;
	pthread_mutex_t mu;
	pthread_cond_t go;   /* an entry is queued, or quit */
	pthread_cond_t done; /* an entry finished */
	struct entry *q;     /* ring buffer */
	int cap, head, count;
	int running;         /* entries being run */
	int quit;
};

struct worker_arg {
	struct mn_pool *p;
	int w;
};

static void *worker(void *arg)
{
	struct worker_arg *wa = arg;
	struct mn_pool *p = wa->p;
	int w = wa->w;
	free(wa);
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (p->count == 0 && !p->quit)
			pthread_cond_wait(&p->go, &p->mu);
		if (p->count == 0)
			break; /* quit, and the queue is drained */
		struct entry e = p->q[p->head];
		p->head = (p->head + 1) % p->cap;
		p->count--;
		p->running++;
		pthread_mutex_unlock(&p->mu);
		if (e.par)
			e.par->fn(e.par->ctx, e.t, e.par->T);
		else
			e.fn(e.ctx, w);
		pthread_mutex_lock(&p->mu);
		p->running--;
		if (e.par)
			e.par->pending--;
		pthread_cond_broadcast(&p->done);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* Caller holds the lock.  0, or -1 when out of memory. */
static int push(struct mn_pool *p, const struct entry *e)
{
	if (p->count == p->cap) {
		int cap = p->cap ? 2 * p->cap : 16;
		struct entry *q = malloc((size_t)cap * sizeof *q);
		if (!q)
			return -1;
		for (int i = 0; i < p->count; i++)
			q[i] = p->q[(p->head + i) % p->cap];
		free(p->q);
		p->q = q;
		p->cap = cap;
		p->head = 0;
	}
	p->q[(p->head + p->count) % p->cap] = *e;
	p->count++;
	return 0;
}

struct mn_pool *mn_pool_new(int workers, char *err, size_t errn)
{
	if (workers < 1) {
		snprintf(err, errn, "a worker pool needs at least one thread (got %d)", workers);
		return NULL;
	}
	struct mn_pool *p = calloc(1, sizeof *p);
	if (!p || !(p->th = calloc((size_t)workers, sizeof *p->th))) {
		free(p);
		snprintf(err, errn, "out of memory creating a worker pool");
		return NULL;
	}
	if (pthread_mutex_init(&p->mu, NULL) != 0) {
		free(p->th);
		free(p);
		snprintf(err, errn, "cannot create a mutex");
		return NULL;
	}
	if (pthread_cond_init(&p->go, NULL) != 0) {
		pthread_mutex_destroy(&p->mu);
		free(p->th);
		free(p);
		snprintf(err, errn, "cannot create a condition variable");
		return NULL;
	}
	if (pthread_cond_init(&p->done, NULL) != 0) {
		pthread_cond_destroy(&p->go);
		pthread_mutex_destroy(&p->mu);
		free(p->th);
		free(p);
		snprintf(err, errn, "cannot create a condition variable");
		return NULL;
	}
	for (int w = 0; w < workers; w++) {
		struct worker_arg *wa = malloc(sizeof *wa);
		int rc = wa ? 0 : -1;
		if (wa) {
			wa->p = p;
			wa->w = w;
			rc = pthread_create(&p->th[w], NULL, worker, wa);
			if (rc != 0)
				free(wa);
		}
		if (rc != 0) {
			mn_pool_free(p); /* joins the p->workers started */
			snprintf(err, errn, "cannot start worker thread %d of %d", w + 1, workers);
			return NULL;
		}
		p->workers++;
	}
	return p;
}

int mn_threads_or_all(int n)
{
	if (n >= 1)
		return n;
	long c = sysconf(_SC_NPROCESSORS_ONLN);
	return c > 0 ? (int)c : 1;
}

struct mn_pool *mn_pool_create(int n)
{
	char err[128];
	if (n < 2)
		return NULL;
	return mn_pool_new(n - 1, err, sizeof err);
}

void mn_pool_free(struct mn_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->quit = 1;
	pthread_cond_broadcast(&p->go);
	pthread_mutex_unlock(&p->mu);
	for (int w = 0; w < p->workers; w++)
		pthread_join(p->th[w], NULL);
	pthread_cond_destroy(&p->go);
	pthread_cond_destroy(&p->done);
	pthread_mutex_destroy(&p->mu);
	free(p->q);
	free(p->th);
	free(p);
}

int mn_pool_size(const struct mn_pool *p) { return p ? p->workers + 1 : 1; }

int mn_pool_workers(const struct mn_pool *p) { return p ? p->workers : 0; }

int mn_pool_submit(struct mn_pool *p, mn_task_fn fn, void *ctx)
{
	if (!p) {
		fn(ctx, 0);
		return 0;
	}
	struct entry e = {fn, ctx, NULL, 0};
	pthread_mutex_lock(&p->mu);
	int rc = push(p, &e);
	if (rc == 0)
		pthread_cond_signal(&p->go);
	pthread_mutex_unlock(&p->mu);
	return rc;
}

void mn_pool_wait(struct mn_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	while (p->count > 0 || p->running > 0)
		pthread_cond_wait(&p->done, &p->mu);
	pthread_mutex_unlock(&p->mu);
}

int mn_pool_cancel(struct mn_pool *p)
{
	if (!p)
		return 0;
	int dropped = 0;
	pthread_mutex_lock(&p->mu);
	/* Loop parts are kept: their caller is waiting for them. */
	int n = p->count;
	struct entry keep;
	for (int i = 0; i < n; i++) {
		keep = p->q[p->head];
		p->head = (p->head + 1) % p->cap;
		p->count--;
		if (keep.par)
			(void)push(p, &keep); /* never grows: a slot was just freed */
		else
			dropped++;
	}
	if (dropped)
		pthread_cond_broadcast(&p->done);
	pthread_mutex_unlock(&p->mu);
	return dropped;
}

void mn_par_run(struct mn_pool *p, void (*fn)(void *ctx, int t, int T), void *ctx)
{
	if (!p) {
		fn(ctx, 0, 1);
		return;
	}
	struct par_job job = {fn, ctx, p->workers + 1, 0};
	pthread_mutex_lock(&p->mu);
	for (int t = 1; t < job.T; t++) {
		struct entry e = {NULL, NULL, &job, t};
		if (push(p, &e) != 0)
			break; /* out of memory: the caller runs the rest below */
		job.pending++;
	}
	int queued = job.pending;
	pthread_cond_broadcast(&p->go);
	pthread_mutex_unlock(&p->mu);
	fn(ctx, 0, job.T);
	for (int t = queued + 1; t < job.T; t++)
		fn(ctx, t, job.T);
	pthread_mutex_lock(&p->mu);
	while (job.pending > 0)
		pthread_cond_wait(&p->done, &p->mu);
	pthread_mutex_unlock(&p->mu);
}

struct for_ctx {
	size_t n;
	void (*fn)(void *, size_t, size_t);
	void *ctx;
};

static void for_body(void *arg, int t, int T)
{
	struct for_ctx *f = arg;
	size_t lo = f->n * (size_t)t / (size_t)T, hi = f->n * (size_t)(t + 1) / (size_t)T;
	if (hi > lo)
		f->fn(f->ctx, lo, hi);
}

void mn_par_for(struct mn_pool *p, size_t n, void (*fn)(void *ctx, size_t lo, size_t hi),
		void *ctx)
{
	if (!p || n < 2) {
		if (n)
			fn(ctx, 0, n);
		return;
	}
	struct for_ctx f = {n, fn, ctx};
	mn_par_run(p, for_body, &f);
}

void mn_par_for_work(struct mn_pool *p, size_t n, double work_per_item,
		     void (*fn)(void *ctx, size_t lo, size_t hi), void *ctx)
{
	if ((double)n * work_per_item < 2 * MN_PAR_GRAIN)
		p = NULL;
	mn_par_for(p, n, fn, ctx);
}

void mn_cond_wait_ns(pthread_cond_t *cond, pthread_mutex_t *lock, long ns)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += ns;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	/* a timeout is the point; a spurious wake only polls sooner */
	(void)pthread_cond_timedwait(cond, lock, &ts);
}
