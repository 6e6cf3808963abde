#include "util/pool.h"

#include <pthread.h>
#include <stdlib.h>

struct mn_pool {
	int n; /* threads including the caller */
	pthread_t *th;
	pthread_mutex_t mu;
	pthread_cond_t go, done;
	unsigned long gen; /* job generation */
	int pending;       /* workers still running the current job */
	int quit;
	void (*fn)(void *, int, int);
	void *ctx;
};

struct worker_arg {
	struct mn_pool *p;
	int t;
};

static void *worker(void *arg)
{
	struct worker_arg *w = arg;
	struct mn_pool *p = w->p;
	int t = w->t;
	free(w);
	unsigned long seen = 0;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (p->gen == seen && !p->quit)
			pthread_cond_wait(&p->go, &p->mu);
		if (p->quit)
			break;
		seen = p->gen;
		void (*fn)(void *, int, int) = p->fn;
		void *ctx = p->ctx;
		pthread_mutex_unlock(&p->mu);
		fn(ctx, t, p->n);
		pthread_mutex_lock(&p->mu);
		if (--p->pending == 0)
			pthread_cond_signal(&p->done);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

struct mn_pool *mn_pool_create(int n)
{
	if (n < 2)
		return NULL;
	struct mn_pool *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->th = calloc((size_t)n, sizeof *p->th);
	if (!p->th || pthread_mutex_init(&p->mu, NULL) != 0) {
		free(p->th);
		free(p);
		return NULL;
	}
	if (pthread_cond_init(&p->go, NULL) != 0) {
		pthread_mutex_destroy(&p->mu);
		free(p->th);
		free(p);
		return NULL;
	}
	if (pthread_cond_init(&p->done, NULL) != 0) {
		pthread_cond_destroy(&p->go);
		pthread_mutex_destroy(&p->mu);
		free(p->th);
		free(p);
		return NULL;
	}
	p->n = 1;
	for (int t = 1; t < n; t++) {
		struct worker_arg *w = malloc(sizeof *w);
		if (!w)
			break;
		w->p = p;
		w->t = t;
		if (pthread_create(&p->th[t], NULL, worker, w) != 0) {
			free(w);
			break;
		}
		p->n++;
	}
	if (p->n < 2) {
		mn_pool_free(p);
		return NULL;
	}
	return p;
}

void mn_pool_free(struct mn_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->quit = 1;
	pthread_cond_broadcast(&p->go);
	pthread_mutex_unlock(&p->mu);
	for (int t = 1; t < p->n; t++)
		pthread_join(p->th[t], NULL);
	pthread_cond_destroy(&p->go);
	pthread_cond_destroy(&p->done);
	pthread_mutex_destroy(&p->mu);
	free(p->th);
	free(p);
}

int mn_pool_size(const struct mn_pool *p)
{
	return p ? p->n : 1;
}

void mn_par_run(struct mn_pool *p, void (*fn)(void *ctx, int t, int T), void *ctx)
{
	if (!p) {
		fn(ctx, 0, 1);
		return;
	}
	pthread_mutex_lock(&p->mu);
	p->fn = fn;
	p->ctx = ctx;
	p->pending = p->n - 1;
	p->gen++;
	pthread_cond_broadcast(&p->go);
	pthread_mutex_unlock(&p->mu);
	fn(ctx, 0, p->n);
	pthread_mutex_lock(&p->mu);
	while (p->pending > 0)
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
