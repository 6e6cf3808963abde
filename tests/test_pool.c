/* The worker pool: tasks run once each on a worker (index in range), wait
 * sees them all finished, cancel drops only the queued ones, a pool of one
 * runs everything on one thread in order, parallel loops cover every part,
 * a NULL pool runs on the caller. */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include "util/pool.h"
#include "tap.h"

struct counter {
	atomic_int runs;
	atomic_int bad_worker;
	int workers;
};

static void count_task(void *arg, int worker)
{
	struct counter *c = arg;
	if (worker < 0 || worker >= (c->workers ? c->workers : 1))
		atomic_fetch_add(&c->bad_worker, 1);
	atomic_fetch_add(&c->runs, 1);
}

/* Blocks its worker until `open` is set. */
struct gate {
	atomic_int open, entered;
};

static void gate_task(void *arg, int worker)
{
	struct gate *g = arg;
	(void)worker;
	atomic_store(&g->entered, 1);
	while (!atomic_load(&g->open)) {
		struct timespec ts = {0, 1000000};
		nanosleep(&ts, NULL);
	}
}

/* Records the order and the thread of each task. */
struct order {
	int seq[8], n;
	pthread_t th[8];
};

struct order_item {
	struct order *o;
	int id;
};

static void order_task(void *arg, int worker)
{
	struct order_item *it = arg;
	(void)worker;
	it->o->th[it->o->n] = pthread_self();
	it->o->seq[it->o->n++] = it->id;
}

static void par_body(void *ctx, int t, int T)
{
	atomic_int *hits = ctx;
	if (t >= 0 && t < T)
		atomic_fetch_add(&hits[t], 1);
}

static void for_body(void *ctx, size_t lo, size_t hi)
{
	unsigned char *seen = ctx;
	for (size_t i = lo; i < hi; i++)
		seen[i]++;
}

int main(void)
{
	char err[200];
	struct counter c;
	memset(&c, 0, sizeof c);
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	tap_ok(mn_threads_or_all(3) == 3 && mn_threads_or_all(1) == 1,
	       "a thread count >= 1 is kept (3 -> %d)", mn_threads_or_all(3));
	tap_ok(mn_threads_or_all(0) == (cores > 0 ? cores : 1) && mn_threads_or_all(-2) == mn_threads_or_all(0),
	       "below 1: every online core (%d of %ld)", mn_threads_or_all(0), cores);
	struct mn_pool *p = mn_pool_new(3, err, sizeof err);
	tap_ok(p != NULL && mn_pool_workers(p) == 3 && mn_pool_size(p) == 4,
	       "a pool of 3 workers (loops use 4 threads with the caller)");
	c.workers = 3;
	int queued = 0;
	for (int i = 0; i < 200; i++)
		queued += mn_pool_submit(p, count_task, &c) == 0;
	mn_pool_wait(p);
	tap_ok(queued == 200 && atomic_load(&c.runs) == 200, "200 tasks ran once each after wait (%d)",
	       atomic_load(&c.runs));
	tap_ok(atomic_load(&c.bad_worker) == 0, "worker indices within 0..2");

	/* Cancel: block every worker, queue more, drop them. */
	struct gate g[3];
	for (int i = 0; i < 3; i++) {
		atomic_init(&g[i].open, 0);
		atomic_init(&g[i].entered, 0);
		mn_pool_submit(p, gate_task, &g[i]);
	}
	for (int spins = 0; spins < 5000; spins++) {
		if (atomic_load(&g[0].entered) && atomic_load(&g[1].entered) && atomic_load(&g[2].entered))
			break;
		struct timespec ts = {0, 1000000};
		nanosleep(&ts, NULL);
	}
	atomic_store(&c.runs, 0);
	for (int i = 0; i < 10; i++)
		mn_pool_submit(p, count_task, &c);
	int dropped = mn_pool_cancel(p);
	for (int i = 0; i < 3; i++)
		atomic_store(&g[i].open, 1);
	mn_pool_wait(p);
	tap_ok(dropped == 10 && atomic_load(&c.runs) == 0, "cancel drops the 10 queued tasks (%d), none runs",
	       dropped);

	/* Parallel loops on the same pool. */
	atomic_int hits[4];
	for (int t = 0; t < 4; t++)
		atomic_init(&hits[t], 0);
	mn_par_run(p, par_body, hits);
	tap_ok(atomic_load(&hits[0]) == 1 && atomic_load(&hits[1]) == 1 && atomic_load(&hits[2]) == 1 &&
		       atomic_load(&hits[3]) == 1,
	       "mn_par_run runs each of the 4 parts once");
	static unsigned char seen[100003];
	mn_par_for(p, sizeof seen, for_body, seen);
	int once = 1;
	for (size_t i = 0; i < sizeof seen; i++)
		once &= seen[i] == 1;
	tap_ok(once, "mn_par_for covers [0, n) exactly once");
	mn_pool_free(p);

	/* A pool of one: a background job, in order, on one thread. */
	struct mn_pool *one = mn_pool_new(1, err, sizeof err);
	struct order o;
	struct order_item items[8];
	memset(&o, 0, sizeof o);
	for (int i = 0; i < 8; i++) {
		items[i].o = &o;
		items[i].id = i;
		mn_pool_submit(one, order_task, &items[i]);
	}
	mn_pool_free(one); /* runs what is queued, then joins */
	int in_order = o.n == 8, same = 1;
	for (int i = 0; i < o.n; i++) {
		in_order &= o.seq[i] == i;
		same &= pthread_equal(o.th[i], o.th[0]) && !pthread_equal(o.th[i], pthread_self());
	}
	tap_ok(in_order && same, "a pool of one runs its tasks in order on its own thread; free drains the queue");

	/* NULL: everything on the caller. */
	memset(&c, 0, sizeof c);
	mn_pool_submit(NULL, count_task, &c);
	mn_pool_wait(NULL);
	tap_ok(atomic_load(&c.runs) == 1 && mn_pool_size(NULL) == 1 && mn_pool_workers(NULL) == 0,
	       "a NULL pool runs a task at once on the caller");
	tap_ok(mn_pool_new(0, err, sizeof err) == NULL && err[0], "0 workers is refused with a message (%s)", err);
	tap_ok(mn_pool_create(1) == NULL, "a loop pool of 1 thread is NULL (serial)");
	return tap_done();
}
