/* Extending the atlas in the background while the search is idle: a pool of
 * one worker (util/pool.h) runs the atlas build (atlas/atlas_build.h) a
 * chunk of rows at a time, with one evaluation thread, into the same file
 * `micronas atlas` writes.  The event loop (tui_extend_poll, every tick)
 * starts a chunk when the engine is idle and asks the chunk to stop as
 * soon as a search runs, the session is to be set up again or the user
 * pauses (e): the build cuts the archs in flight short inside their
 * proxies (they are scored again by the next chunk) and keeps every row
 * written, so a key that needs the machine or the session waits a
 * fraction of one arch, not the rest of it.  After a chunk the task reads
 * the file again (with the board's costs) and hands the fresh atlas to the
 * event loop, which only swaps it in: no key ever waits for it. */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "atlas/atlas_build.h"
#include "util/pool.h"

/* Rows a chunk adds at most: a stop ends one earlier anyway, and the
 * picture is refreshed after each. */
#define EXTEND_CHUNK 64

struct tui_extend {
	struct mn_pool *pool; /* one worker: the build task */
	atomic_int stop;      /* polled by the build's writing thread */
	pthread_mutex_t lock; /* guards everything below */
	int running;          /* a chunk is queued or running */
	/* The task's inputs, set by the event loop while no chunk runs. */
	char path[4096];
	struct mn_atlas_settings settings;
	const struct mn_dataset *data;
	struct mn_atlas_costs costs;
	/* What the task hands back. */
	struct mn_atlas_progress prog;
	int have_prog;
	int have_fresh;
	struct mn_atlas fresh; /* costs set */
	int failed;
	char err[600];
	int added;            /* rows added since the TUI started */
	double busy_s;        /* time spent adding them */
};

struct tui_extend *tui_extend_new(char *err, size_t errn)
{
	struct tui_extend *x = calloc(1, sizeof *x);
	if (!x) {
		snprintf(err, errn, "out of memory");
		return NULL;
	}
	if (pthread_mutex_init(&x->lock, NULL) != 0) {
		free(x);
		snprintf(err, errn, "cannot create a lock");
		return NULL;
	}
	x->pool = mn_pool_new(1, err, errn);
	if (!x->pool) {
		pthread_mutex_destroy(&x->lock);
		free(x);
		return NULL;
	}
	atomic_init(&x->stop, 0);
	return x;
}

void tui_extend_free(struct tui_extend *x)
{
	if (!x)
		return;
	atomic_store(&x->stop, 1);
	mn_pool_cancel(x->pool);
	mn_pool_free(x->pool); /* waits for a chunk in progress to see the stop */
	if (x->have_fresh)
		mn_atlas_free(&x->fresh);
	pthread_mutex_destroy(&x->lock);
	free(x);
}

int tui_extend_busy(struct tui_extend *x)
{
	if (!x)
		return 0;
	pthread_mutex_lock(&x->lock);
	int r = x->running;
	pthread_mutex_unlock(&x->lock);
	if (r)
		atomic_store(&x->stop, 1);
	return r;
}

static int stop_requested(void *ctx)
{
	struct tui_extend *x = ctx;
	return atomic_load(&x->stop);
}

static void on_progress(void *ctx, const struct mn_atlas_progress *p)
{
	struct tui_extend *x = ctx;
	pthread_mutex_lock(&x->lock);
	x->prog = *p;
	x->have_prog = 1;
	pthread_mutex_unlock(&x->lock);
}

static void extend_task(void *ctx, int worker)
{
	struct tui_extend *x = ctx;
	struct mn_atlas_build_result res;
	struct mn_atlas fresh;
	char err[1024];
	int have = 0;
	(void)worker;
	/* One evaluation thread: the search, when it starts, gets the rest. */
	struct mn_atlas_build b = {x->path, x->settings, x->data, 1, EXTEND_CHUNK, on_progress,
				   stop_requested, x, NULL};
	int rc = mn_atlas_build_run(&b, &res, err, sizeof err);
	if (rc >= 0 && res.written > 0) {
		char lerr[1024];
		if (mn_atlas_load(&fresh, x->path, &x->settings, lerr, sizeof lerr) == 0) {
			if (mn_atlas_set_costs(&fresh, &x->costs) == 0)
				have = 1;
			else
				mn_atlas_free(&fresh);
		}
	}
	pthread_mutex_lock(&x->lock);
	if (rc < 0) {
		x->failed = 1;
		snprintf(x->err, sizeof x->err, "%.590s", err);
	}
	if (have) {
		if (x->have_fresh)
			mn_atlas_free(&x->fresh);
		x->fresh = fresh;
		x->have_fresh = 1;
	}
	if (rc >= 0) {
		x->added += res.written;
		if (x->have_prog)
			x->busy_s += x->prog.elapsed_s;
	}
	x->have_prog = 0;
	x->running = 0;
	pthread_mutex_unlock(&x->lock);
}

/* Starts a chunk; 0, or -1 when it could not be queued. */
static int start_chunk(struct tui_app *a)
{
	struct tui_extend *x = a->extend;
	struct mn_session *s = a->session;
	snprintf(x->path, sizeof x->path, "%s", a->atlas.path);
	x->settings = a->atlas.settings;
	x->data = &s->data;
	x->costs = (struct mn_atlas_costs){s->search.shape, s->search.runtime_flash_bytes, &s->table};
	atomic_store(&x->stop, 0);
	pthread_mutex_lock(&x->lock);
	x->running = 1;
	pthread_mutex_unlock(&x->lock);
	if (mn_pool_submit(x->pool, extend_task, x) != 0) {
		pthread_mutex_lock(&x->lock);
		x->running = 0;
		pthread_mutex_unlock(&x->lock);
		return -1;
	}
	return 0;
}

int tui_extend_poll(struct tui_app *a)
{
	struct tui_extend *x = a->extend;
	struct mn_atlas fresh;
	int have = 0, failed, running, changed = 0;
	char err[600];
	if (!x)
		return 0;
	pthread_mutex_lock(&x->lock);
	if (x->have_fresh) {
		fresh = x->fresh;
		x->have_fresh = 0;
		have = 1;
	}
	failed = x->failed;
	x->failed = 0;
	snprintf(err, sizeof err, "%s", x->err);
	running = x->running;
	a->extend_running = running;
	a->extend_in_file = running && x->have_prog ? x->prog.in_file : -1;
	a->extend_added = x->added + (running && x->have_prog ? x->prog.written : 0);
	double busy = x->busy_s + (running && x->have_prog ? x->prog.elapsed_s : 0);
	a->extend_rate = busy > 0 ? a->extend_added / busy : 0;
	pthread_mutex_unlock(&x->lock);

	if (have) {
		/* The first chunk made the file: the start-up "no atlas ...;
		 * build it with" would now contradict the status line. */
		int was_none = a->atlas.state == TUI_ATLAS_NONE;
		tui_atlas_adopt(a, &fresh);
		if (was_none && a->atlas.state == TUI_ATLAS_LOADED)
			tui_message(a, 0, "%s, extended in the background (e pauses)", a->atlas.status);
		changed = 1;
	}
	if (failed) {
		a->extend_paused = 1;
		tui_log_event(&a->log, "extending the atlas failed: %s", err);
		tui_message(a, 1, "extending the atlas failed (e tries again): %s", err);
		changed = 1;
	}
	/* the look-ahead too: it is short, and makes the weight keys fast */
	int engine_busy = a->have_session && (a->snap.state == MN_ENGINE_RUNNING || a->snap.lookahead);
	int complete = a->atlas.state == TUI_ATLAS_LOADED && a->atlas.atlas.n >= MN_ARCH_COUNT;
	int usable = a->have_session && a->atlas.have_path && a->atlas.state != TUI_ATLAS_ERROR;
	if (running) {
		/* The search first: the chunk stops, its archs in flight cut short. */
		if (engine_busy || a->rebuild || a->extend_paused || !usable)
			atomic_store(&x->stop, 1);
	} else if (!engine_busy && !a->rebuild && !a->extend_paused && usable && !complete) {
		if (start_chunk(a) != 0) {
			a->extend_paused = 1;
			tui_message(a, 1, "cannot extend the atlas: out of memory");
		} else {
			a->extend_running = 1;
		}
		changed = 1;
	}
	/* Between two chunks it is still extending: the label must not
	 * flicker. */
	int active = !engine_busy && !a->rebuild && !a->extend_paused && usable && !complete;
	/* Held back by the search: the status says why it does not grow. */
	int waiting = engine_busy && !a->extend_paused && usable && !complete;
	if (active != a->extend_active || waiting != a->extend_waiting)
		changed = 1;
	a->extend_active = active;
	a->extend_waiting = waiting;
	return changed;
}
