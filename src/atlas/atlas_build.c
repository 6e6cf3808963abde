#include "atlas/atlas_build.h"
#include "util/pool.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proxy/az_memo.h"
#include "util/rng.h"
#include "util/clock.h"

/* The order's stream: a tag of its own, so it shares nothing with the
 * proxies' streams of the same seed. */
#define ORDER_TAG 0x61746c61734f5244ULL /* "atlasORD" */

void mn_atlas_order(enum mn_atlas_order order, uint64_t seed, int out[MN_ARCH_COUNT])
{
	for (int i = 0; i < MN_ARCH_COUNT; i++)
		out[i] = i;
	if (order == MN_ATLAS_ORDER_INDEX)
		return;
	struct mn_rng r;
	mn_rng_derive(&r, seed, ORDER_TAG);
	for (int i = MN_ARCH_COUNT - 1; i > 0; i--) { /* Fisher-Yates */
		int j = (int)mn_rng_below(&r, (uint32_t)i + 1);
		int t = out[i];
		out[i] = out[j];
		out[j] = t;
	}
}

/* ---- the queue ---- */

int mn_atlas_queue_take(struct mn_atlas_queue *q, int *pos, int *arch)
{
	int ok = 0;
	pthread_mutex_lock(&q->lock);
	if (!q->stop && !q->failed && q->next < q->n) {
		*pos = q->next++;
		*arch = q->arch[*pos];
		ok = 1;
	}
	pthread_mutex_unlock(&q->lock);
	return ok;
}

void mn_atlas_queue_put(struct mn_atlas_queue *q, int pos, const struct mn_proxy_values *v)
{
	pthread_mutex_lock(&q->lock);
	if (pos >= 0 && pos < q->n && !q->ready[pos]) {
		q->vals[pos] = *v;
		q->ready[pos] = 1;
	}
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
}

void mn_atlas_queue_fail(struct mn_atlas_queue *q, const char *msg)
{
	pthread_mutex_lock(&q->lock);
	if (!q->failed) {
		q->failed = 1;
		snprintf(q->err, sizeof q->err, "%s", msg);
	}
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
}

static int q_take(void *ctx, int *pos, int *arch) { return mn_atlas_queue_take(ctx, pos, arch); }
static void q_put(void *ctx, int pos, const struct mn_proxy_values *v) { mn_atlas_queue_put(ctx, pos, v); }
static void q_fail(void *ctx, const char *msg) { mn_atlas_queue_fail(ctx, msg); }

void mn_atlas_queue_source(struct mn_atlas_queue *q, struct mn_atlas_source *src)
{
	src->take = q_take;
	src->put = q_put;
	src->fail = q_fail;
	src->ctx = q;
}

/* ---- worker threads ---- */

struct mn_atlas_workers {
	struct mn_atlas_source src;
	const struct mn_tenas_config *cfg;
	const struct mn_dataset *data;
	uint64_t seed;
	const atomic_int *cancel; /* or NULL */
	struct mn_az_memo *memo; /* AZ-NAS's values per function class, shared by the threads */
	struct mn_pool *pool; /* one task per worker thread */
};

/* One pool task per thread: its own evaluator, archs from src until take()
 * says no more. */
static void worker_task(void *p, int worker)
{
	struct mn_atlas_workers *w = p;
	char err[512], msg[700];
	(void)worker;
	struct mn_tenas *t = mn_tenas_new(w->cfg, w->data, err, sizeof err);
	if (!t) {
		w->src.fail(w->src.ctx, err);
		return;
	}
	int pos, idx;
	while (w->src.take(w->src.ctx, &pos, &idx)) {
		struct mn_arch a;
		struct mn_proxy_values v;
		mn_arch_from_index(idx, &a);
		int rc = mn_proxy_score_arch_shared(t, w->memo, w->seed, &a, w->cancel, &v, err, sizeof err);
		if (rc == 1)
			break; /* cancelled: the arch is dropped, the next run scores it */
		if (rc != 0) {
			char s[MN_ARCH_STRLEN];
			mn_arch_format(&a, s, sizeof s);
			snprintf(msg, sizeof msg, "%.150s: %.400s", s, err);
			w->src.fail(w->src.ctx, msg);
			break;
		}
		w->src.put(w->src.ctx, pos, &v);
	}
	mn_tenas_free(t);
}

struct mn_atlas_workers *mn_atlas_workers_start(const struct mn_tenas_config *cfg,
						const struct mn_dataset *data, uint64_t seed, int threads,
						const struct mn_atlas_source *src,
						const atomic_int *cancel, char *err, size_t errn)
{
	struct mn_atlas_workers *w = calloc(1, sizeof *w);
	if (!w) {
		snprintf(err, errn, "out of memory");
		return NULL;
	}
	w->src = *src;
	w->cfg = cfg;
	w->data = data;
	w->seed = seed;
	w->cancel = cancel;
	if (!(w->memo = mn_az_memo_new())) {
		snprintf(err, errn, "out of memory");
		free(w);
		return NULL;
	}
	if (threads < 1)
		threads = 1;
	/* One arch per thread, each network single-threaded: the values are
	 * then bit-identical whatever the number of threads or processes. */
	w->pool = mn_pool_new(threads, err, errn);
	if (!w->pool) {
		mn_az_memo_free(w->memo);
		free(w);
		return NULL;
	}
	for (int i = 0; i < threads; i++) {
		if (mn_pool_submit(w->pool, worker_task, w) != 0) {
			if (i == 0) {
				snprintf(err, errn, "out of memory");
				mn_pool_free(w->pool);
				mn_az_memo_free(w->memo);
				free(w);
				return NULL;
			}
			break;
		}
	}
	return w;
}

void mn_atlas_workers_join(struct mn_atlas_workers *w)
{
	if (!w)
		return;
	mn_pool_free(w->pool); /* runs what is queued, joins the threads */
	mn_az_memo_free(w->memo);
	free(w);
}

/* ---- the build ---- */

static int same_values(const struct mn_proxy_values *a, const struct mn_proxy_values *b)
{
	for (int p = 0; p < MN_PROXY_COUNT; p++) {
		if (isnan(a->v[p]) && isnan(b->v[p]))
			continue;
		if (a->v[p] != b->v[p])
			return 0;
	}
	return 1;
}

/* Re-scores the file's first row: a changed program or library that would
 * give other values is found before it mixes its rows into the file. */
static int recheck_row(const struct mn_atlas_build *b, int arch, const struct mn_proxy_values *in_file,
		       char *err, size_t errn)
{
	char e[512], s[MN_ARCH_STRLEN];
	struct mn_arch a;
	struct mn_proxy_values v;
	struct mn_tenas *t = mn_tenas_new(&b->settings.cfg, b->data, e, sizeof e);
	if (!t) {
		snprintf(err, errn, "%s", e);
		return -1;
	}
	mn_arch_from_index(arch, &a);
	mn_arch_format(&a, s, sizeof s);
	int rc = mn_proxy_score_arch(t, b->settings.seed, &a, NULL, &v, e, sizeof e);
	mn_tenas_free(t);
	if (rc != 0) {
		snprintf(err, errn, "%.150s: %.300s", s, e);
		return -1;
	}
	if (!same_values(&v, in_file)) {
		snprintf(err, errn, "%s: its first row scores %.9g,%.9g now but %.9g,%.9g in the file (this "
			 "program computes other values than the one that wrote it); remove the file or use "
			 "another --out", b->path, v.v[0], MN_PROXY_COUNT > 1 ? v.v[1] : 0.0, in_file->v[0],
			 MN_PROXY_COUNT > 1 ? in_file->v[1] : 0.0);
		return -1;
	}
	return 0;
}

/* The rows to write this run: the order without the archs in the file,
 * at most max of them. */
static int plan(const struct mn_atlas_build *b, const struct mn_atlas_rows *rows, int *todo)
{
	int *order = malloc(MN_ARCH_COUNT * sizeof *order);
	unsigned char *have = calloc(MN_ARCH_COUNT, 1);
	int n = -1;
	if (order && have) {
		mn_atlas_order(b->settings.order, b->settings.seed, order);
		for (int i = 0; i < rows->n; i++)
			have[rows->arch[i]] = 1;
		n = 0;
		for (int i = 0; i < MN_ARCH_COUNT && (b->max <= 0 || n < b->max); i++)
			if (!have[order[i]])
				todo[n++] = order[i];
	}
	free(order);
	free(have);
	return n;
}

/* What to do when the file cannot be written, by the reason e; resuming:
 * for rows already written, which only this file can take up again. */
static const char *write_fix(int e, int resuming)
{
	if (e == ENOSPC || e == EDQUOT)
		return resuming ? "free some space there" : "free some space there or choose another --out";
	if (e == EROFS || e == EACCES || e == EPERM)
		return resuming ? "make it writable" : "make it writable or choose another --out";
	return resuming ? "check the disk" : "choose another --out";
}

static FILE *open_output(const struct mn_atlas_build *b, int fresh, long good_end, char *err, size_t errn)
{
	FILE *out;
	if (mn_atlas_make_dir(b->path, err, errn))
		return NULL;
	if (fresh) {
		out = fopen(b->path, "w");
		if (out && (mn_atlas_write_head(out, &b->settings) || fflush(out))) {
			/* A head cut short (a full disk) would make every later run
			 * refuse the file: it goes back to empty, and the build
			 * removes it if it made it (see mn_atlas_build_run). */
			int e = errno;
			snprintf(err, errn, "cannot write %s: %s; nothing was kept: %s, then rerun", b->path,
				 strerror(e), write_fix(e, 0));
			fclose(out);
			(void)truncate(b->path, 0); /* a failure leaves the torn head, which later runs name */
			return NULL;
		}
	} else {
		/* Drop a torn last line left by an interruption, then append. */
		if (truncate(b->path, good_end) != 0) {
			int e = errno;
			snprintf(err, errn, "cannot truncate %s to resume it: %s (%s; the rows in it are kept)",
				 b->path, strerror(e), write_fix(e, 0));
			return NULL;
		}
		out = fopen(b->path, "a");
	}
	if (!out) {
		int e = errno;
		snprintf(err, errn, "cannot write %s: %s (%s)", b->path, strerror(e), write_fix(e, 0));
	}
	return out;
}

/* Makes this process the file's only writer until the returned descriptor
 * is closed: two builds of one file (two `micronas atlas`, or one and a
 * TUI extending it) would each append the same archs, or both write a new
 * file's head over each other, leaving a file every later run refuses.
 * flock() rather than fcntl(): a fcntl lock would go as soon as this
 * process closed any other descriptor of the file (the TUI reads the
 * atlas while a chunk runs).  A read lock of fcntl's on top, taken once
 * the file has been read, only lets a refused process name the holder's
 * pid.  A file system without flock() builds unlocked, as before.
 * Returns the descriptor (or -2: no locking here), or -1 with err. */
static int lock_file(const char *path, int *created, char *err, size_t errn)
{
	if (mn_atlas_make_dir(path, err, errn))
		return -1;
	int fd = -1, saved = 0;
	/* The file that is locked must be the one at path: a build that made
	 * it and wrote nothing removes it (after this open, before this
	 * lock), so a lock on a file no longer there is taken again. */
	for (int tries = 0; fd < 0 && tries < 8; tries++) {
		*created = 0;
		fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd >= 0)
			*created = 1;
		else if (errno == EEXIST)
			fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			if (errno == ENOENT)
				continue; /* removed between the two opens */
			int e = errno;
			snprintf(err, errn, "cannot write %s: %s (%s)", path, strerror(e), write_fix(e, 0));
			return -1;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
			saved = errno;
			break;
		}
		struct stat a, b;
		if (fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
			return fd;
		close(fd);
		fd = -1;
	}
	if (fd < 0) {
		snprintf(err, errn, "cannot lock %s: it keeps being replaced; rerun", path);
		return -1;
	}
	if (saved != EWOULDBLOCK) {
		close(fd);
		return -2;
	}
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
	char pid[32] = "";
	if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK && fl.l_pid > 0)
		snprintf(pid, sizeof pid, " (pid %ld)", (long)fl.l_pid);
	close(fd);
	snprintf(err, errn, "%s: another micronas%s is writing this file (micronas atlas, score --all, or a "
		 "tui extending its atlas); let it finish or stop it (in the tui, e pauses), or use another --out",
		 path, pid);
	return -1;
}

/* The holder's pid for lock_file's refusals: a whole-file fcntl read lock
 * (never refused: no process takes a write lock). */
static void show_pid(int fd)
{
	struct flock fl = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
	if (fd >= 0)
		(void)fcntl(fd, F_SETLK, &fl); /* only informative: a failure changes nothing */
}

/* Writes the ready rows in order from *written on; -1 on a write error. */
static int write_ready(struct mn_atlas_queue *q, FILE *out, int *written)
{
	char line[1024];
	for (;;) {
		pthread_mutex_lock(&q->lock);
		int ok = *written < q->n && q->ready[*written];
		struct mn_proxy_values v;
		if (ok)
			v = q->vals[*written];
		pthread_mutex_unlock(&q->lock);
		if (!ok)
			return 0;
		mn_atlas_format_row(line, sizeof line, q->arch[*written], &v);
		if (fputs(line, out) == EOF || fflush(out) != 0)
			return -1;
		(*written)++;
	}
}

static void report(const struct mn_atlas_build *b, int had, int written, int n, double t0)
{
	if (!b->progress)
		return;
	struct mn_atlas_progress p = {had + written, had + n, written, n, mn_now_s() - t0};
	b->progress(b->ctx, &p);
}

int mn_atlas_build_run(const struct mn_atlas_build *b, struct mn_atlas_build_result *res, char *err,
		       size_t errn)
{
	struct mn_atlas_rows rows;
	struct mn_atlas_queue q;
	struct mn_atlas_workers *w = NULL;
	FILE *out = NULL;
	int *todo = NULL;
	long good_end = 0;
	int rc = -1, written = 0, stopped = 0, werr = 0, st, lock = -2, created = 0;
	/* Raised on a stop or a failure: the workers' archs in flight end
	 * inside their proxies instead of running to the end. */
	atomic_int cancel;
	atomic_init(&cancel, 0);
	double t0 = mn_now_s(), last = 0;
	memset(res, 0, sizeof *res);
	memset(&q, 0, sizeof q);
	memset(&rows, 0, sizeof rows);
	pthread_mutex_init(&q.lock, NULL);
	pthread_cond_init(&q.cond, NULL);
	/* Every way out goes through `done`, which releases the other
	 * processes (they wait for work until told there is none). */
	lock = lock_file(b->path, &created, err, errn);
	if (lock == -1)
		goto done;
	/* Read under the lock: what is read is all there is until the end. */
	st = mn_atlas_read(b->path, &b->settings, &rows, &good_end, err, errn);
	show_pid(lock);
	if (st < 0)
		goto done;
	res->had = rows.n;
	todo = malloc(MN_ARCH_COUNT * sizeof *todo);
	q.ready = calloc(MN_ARCH_COUNT, 1);
	q.vals = malloc(MN_ARCH_COUNT * sizeof *q.vals);
	if (!todo || !q.ready || !q.vals || (q.n = plan(b, &rows, todo)) < 0) {
		q.n = 0;
		snprintf(err, errn, "out of memory");
		goto done;
	}
	q.arch = todo;
	if (rows.n > 0 && q.n > 0 && recheck_row(b, rows.arch[0], &rows.v[0], err, errn))
		goto done;
	if (q.n > 0 || st == 1) {
		out = open_output(b, st == 1, good_end, err, errn);
		if (!out)
			goto done;
	}
	struct mn_atlas_source src;
	mn_atlas_queue_source(&q, &src);
	if (q.n > 0 && !(w = mn_atlas_workers_start(&b->settings.cfg, b->data, b->settings.seed, b->threads,
						    &src, &cancel, err, errn)))
		goto done;
	t0 = mn_now_s();
	while (written < q.n) {
		if (b->remote)
			b->remote->serve(b->remote->ctx, &q);
		if (write_ready(&q, out, &written)) {
			werr = errno ? errno : EIO;
			break;
		}
		if (mn_now_s() - last >= 0.2) {
			report(b, rows.n, written, q.n, t0);
			last = mn_now_s();
		}
		if (b->stop_requested && b->stop_requested(b->ctx)) {
			stopped = 1;
			break;
		}
		pthread_mutex_lock(&q.lock);
		int failed = q.failed;
		if (!failed && written < q.n && !q.ready[written]) {
			/* Short waits when other processes need serving. */
			mn_cond_wait_ns(&q.cond, &q.lock, b->remote ? 2000000L : 100000000L);
		}
		pthread_mutex_unlock(&q.lock);
		if (failed)
			break;
	}
	rc = 0;
done:
	pthread_mutex_lock(&q.lock);
	q.stop = 1;
	/* A whole run (written == q.n) has nothing in flight; otherwise a
	 * stop, a failure or a write error: cut the archs in flight short,
	 * here and in the other processes. */
	int cut = written < q.n;
	if (cut)
		atomic_store(&cancel, 1);
	pthread_mutex_unlock(&q.lock);
	if (b->remote)
		b->remote->finish(b->remote->ctx, &q, cut);
	mn_atlas_workers_join(w);
	if (rc == 0) {
		/* Rows that finished while stopping are written too: nothing
		 * computed is lost. */
		if (!werr && write_ready(&q, out, &written))
			werr = errno ? errno : EIO;
		report(b, rows.n, written, q.n, t0);
		res->written = written;
		res->complete = rows.n + written == MN_ARCH_COUNT;
		if (out && fclose(out) != 0 && !werr)
			werr = errno ? errno : EIO;
		out = NULL;
		if (werr) {
			snprintf(err, errn, "writing %s failed: %s (the rows written are kept; %s, then "
				 "rerun to resume)", b->path, strerror(werr), write_fix(werr, 1));
			rc = -1;
		} else if (q.failed) {
			snprintf(err, errn, "%s (the rows written are kept; rerun to resume)", q.err);
			rc = -1;
		} else {
			rc = written < q.n || stopped ? 1 : 0;
		}
	}
	if (out)
		fclose(out);
	/* A file this build made and left empty (its head could not be
	 * written: a full disk) is removed rather than left looking like an
	 * output; while locked, so no other build has begun it. */
	struct stat fs, ps;
	if (created && lock >= 0 && fstat(lock, &fs) == 0 && fs.st_size == 0 && stat(b->path, &ps) == 0 &&
	    ps.st_dev == fs.st_dev && ps.st_ino == fs.st_ino)
		(void)unlink(b->path); /* a failure leaves an empty file, which later runs start over */
	if (lock >= 0)
		close(lock); /* after the last write: releases the file */
	pthread_mutex_destroy(&q.lock);
	pthread_cond_destroy(&q.cond);
	free(todo);
	free(q.ready);
	free(q.vals);
	mn_atlas_rows_free(&rows);
	return rc;
}
