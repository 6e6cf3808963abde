/* Board work in a background thread (see board_job.h): a worker pool of
 * one thread, so every job and the emulator's stop run on the same thread. */
#include "board/board_job.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/pool.h"
#include "util/clock.h"

/* What a start hands to the worker: a copy of everything, so the caller's
 * buffers may go away as soon as the start returns. */
struct request {
	enum mn_board_job_kind kind;
	/* EMULATE */
	char qemu[MN_BOARD_JOB_PATH], firmware[MN_BOARD_JOB_PATH], socket[MN_BOARD_JOB_PATH];
	char machine[MN_BOARD_JOB_PATH], build[MN_BOARD_JOB_PATH];
	int has_qemu, has_firmware, has_socket, has_machine, has_build, boot_timeout_ms;
	/* CONNECT */
	char port[MN_BOARD_JOB_PORT];
	/* PROFILE */
	struct mn_profile_opts profile;
	char output[MN_BOARD_JOB_PATH], partial[MN_BOARD_JOB_PATH];
	int has_partial;
	/* VALIDATE */
	struct mn_arch arch;
	struct mn_net_shape shape;
	struct mn_latency_table table;
	int has_table;
	uint32_t seed;
	/* MODEL */
	struct mn_board_task task;
};

struct mn_board_job {
	struct mn_pool *worker; /* one thread: runs every job */
	pthread_mutex_t lock;  /* guards everything below but `cancel` */
	pthread_cond_t idle;   /* the worker finished a job */
	atomic_int cancel;     /* read by the board's cancel callback */
	int busy;              /* a job is queued or running */
	struct request req;
	double started;
	/* Owned by the worker thread only (never touched elsewhere). */
	struct request *work;  /* the job's copy of req */
	struct mn_emulator *emu;
	char emu_machine[MN_BOARD_JOB_PATH]; /* emu's -M and firmware build ("": the defaults) */
	char emu_build[MN_BOARD_JOB_PATH];
	struct mn_board_job_snapshot snap;
};

/* Copies src into dst; -1 when it does not fit. */
static int copy_text(char *dst, size_t n, const char *src)
{
	size_t len = strlen(src);
	if (len >= n)
		return -1;
	memcpy(dst, src, len + 1);
	return 0;
}

const char *mn_board_job_kind_name(enum mn_board_job_kind k)
{
	switch (k) {
	case MN_BOARD_JOB_NONE: return "none";
	case MN_BOARD_JOB_EMULATE: return "emulate";
	case MN_BOARD_JOB_CONNECT: return "connect";
	case MN_BOARD_JOB_PROFILE: return "profile";
	case MN_BOARD_JOB_VALIDATE: return "validate";
	case MN_BOARD_JOB_MODEL: return "model validation";
	}
	return "?";
}

const char *mn_board_job_state_name(enum mn_board_job_state s)
{
	switch (s) {
	case MN_BOARD_JOB_IDLE: return "idle";
	case MN_BOARD_JOB_RUNNING: return "running";
	case MN_BOARD_JOB_DONE: return "done";
	case MN_BOARD_JOB_FAILED: return "failed";
	case MN_BOARD_JOB_CANCELLED: return "cancelled";
	}
	return "?";
}

/* ---- helpers run by the worker (lock not held unless said) ---------- */

static void set_progress(struct mn_board_job *j, int done, int total, const char *msg)
{
	pthread_mutex_lock(&j->lock);
	j->snap.done = done;
	j->snap.total = total;
	if (msg)
		snprintf(j->snap.message, sizeof j->snap.message, "%s", msg);
	j->snap.version++;
	pthread_mutex_unlock(&j->lock);
}

static int cancel_cb(void *arg)
{
	struct mn_board_job *j = arg;
	return atomic_load(&j->cancel) != 0;
}

static void board_opts(struct mn_board_job *j, struct mn_board_opts *o)
{
	mn_board_opts_default(o);
	o->cancel = cancel_cb;
	o->cancel_arg = j;
}

/* The port in use, copied under the lock. */
static void current_port(struct mn_board_job *j, char *port, size_t n)
{
	pthread_mutex_lock(&j->lock);
	snprintf(port, n, "%s", j->snap.port);
	pthread_mutex_unlock(&j->lock);
}

/* Opens the port and records what the board said in the snapshot. */
static int open_board(struct mn_board_job *j, struct mn_board **b, int *brc, char *err,
		      size_t errn)
{
	char port[MN_BOARD_JOB_PORT];
	struct mn_board_opts o;
	current_port(j, port, sizeof port);
	if (!port[0]) {
		snprintf(err, errn, "no board chosen (pick a serial port or the emulated board first)");
		*brc = 0;
		return -1;
	}
	board_opts(j, &o);
	*brc = mn_board_connect(b, port, &o, err, errn);
	pthread_mutex_lock(&j->lock);
	if (*brc == MN_BOARD_OK) {
		const struct mn_board_info *info = mn_board_info(*b);
		j->snap.board_known = 1;
		snprintf(j->snap.board, sizeof j->snap.board, "%s", info->board);
		snprintf(j->snap.fw_version, sizeof j->snap.fw_version, "%s", info->fw_version);
		j->snap.proto_version = info->hello.proto_version;
		j->snap.emulated = mn_board_is_emulated(*b);
	} else if (*brc != MN_BOARD_ECANCEL) {
		j->snap.board_known = 0;
	}
	j->snap.version++;
	pthread_mutex_unlock(&j->lock);
	return *brc == MN_BOARD_OK ? 0 : -1;
}

static void stop_emulator(struct mn_board_job *j)
{
	if (!j->emu)
		return;
	/* A QEMU that died on its own is reported by mn_emulator_stop; the
	 * caller learns of it through the next handshake anyway. */
	(void)mn_emulator_stop(j->emu);
	j->emu = NULL;
	pthread_mutex_lock(&j->lock);
	j->snap.emulator_running = 0;
	j->snap.emulator_pid = 0;
	j->snap.version++;
	pthread_mutex_unlock(&j->lock);
}

static int run_emulate(struct mn_board_job *j, const struct request *r, int *brc, char *err,
		       size_t errn)
{
	struct mn_board *b;
	*brc = 0;
	const char *machine = r->has_machine ? r->machine : "";
	const char *build = r->has_build ? r->build : "";
	if (j->emu && !mn_emulator_running(j->emu))
		stop_emulator(j); /* it died: start a new one */
	/* Another board's counterpart asked for (a preset switched): the one
	 * running would be profiled and validated in its place. */
	if (j->emu && (strcmp(j->emu_machine, machine) != 0 || strcmp(j->emu_build, build) != 0))
		stop_emulator(j);
	if (!j->emu) {
		struct mn_emulator_opts o;
		memset(&o, 0, sizeof o);
		o.qemu = r->has_qemu ? r->qemu : NULL;
		o.firmware = r->has_firmware ? r->firmware : NULL;
		o.socket_path = r->has_socket ? r->socket : NULL;
		o.machine = r->has_machine ? r->machine : NULL;
		o.firmware_build = r->has_build ? r->build : NULL;
		o.boot_timeout_ms = r->boot_timeout_ms;
		set_progress(j, 0, 2, "starting QEMU (emulated board)");
		if (mn_emulator_start(&j->emu, &o, err, errn) != 0) {
			j->emu = NULL;
			return -1;
		}
		(void)copy_text(j->emu_machine, sizeof j->emu_machine, machine);
		(void)copy_text(j->emu_build, sizeof j->emu_build, build);
		pthread_mutex_lock(&j->lock);
		snprintf(j->snap.port, sizeof j->snap.port, "%s", mn_emulator_port(j->emu));
		j->snap.emulator_running = 1;
		j->snap.emulator_exited = 0;
		j->snap.emulator_exit[0] = '\0';
		j->snap.emulator_pid = (long)mn_emulator_pid(j->emu);
		j->snap.version++;
		pthread_mutex_unlock(&j->lock);
		if (atomic_load(&j->cancel)) {
			stop_emulator(j);
			*brc = MN_BOARD_ECANCEL;
			snprintf(err, errn, "cancelled: QEMU stopped again");
			return -1;
		}
	} else {
		pthread_mutex_lock(&j->lock);
		snprintf(j->snap.port, sizeof j->snap.port, "%s", mn_emulator_port(j->emu));
		j->snap.version++;
		pthread_mutex_unlock(&j->lock);
	}
	set_progress(j, 1, 2, "handshake with the emulated board");
	if (open_board(j, &b, brc, err, errn) != 0)
		return -1;
	mn_board_close(b);
	set_progress(j, 2, 2, "emulated board ready");
	return 0;
}

static int run_connect(struct mn_board_job *j, const struct request *r, int *brc, char *err,
		       size_t errn)
{
	struct mn_board *b;
	*brc = 0;
	if (j->emu && strcmp(mn_emulator_port(j->emu), r->port) != 0)
		stop_emulator(j);
	pthread_mutex_lock(&j->lock);
	snprintf(j->snap.port, sizeof j->snap.port, "%s", r->port);
	j->snap.board_known = 0;
	j->snap.emulator_exited = 0;
	j->snap.board[0] = j->snap.fw_version[0] = '\0';
	j->snap.version++;
	pthread_mutex_unlock(&j->lock);
	set_progress(j, 0, 1, "handshake");
	if (open_board(j, &b, brc, err, errn) != 0)
		return -1;
	mn_board_close(b);
	set_progress(j, 1, 1, "board ready");
	return 0;
}

static void profile_progress(void *arg, int done, int total, const char *what)
{
	struct mn_board_job *j = arg;
	char msg[200];
	if (what)
		snprintf(msg, sizeof msg, "measuring %s", what);
	else
		snprintf(msg, sizeof msg, "writing the table");
	set_progress(j, done, total, msg);
}

static int run_profile(struct mn_board_job *j, struct request *r, int *brc, char *err,
		       size_t errn)
{
	struct mn_board *b;
	struct mn_profile_result res;
	struct mn_profile_opts o = r->profile;
	int rc;
	o.output = r->output;
	o.partial = r->has_partial ? r->partial : NULL;
	o.progress = profile_progress;
	o.progress_arg = j;
	set_progress(j, 0, MN_PROFILE_ITEMS, "handshake");
	if (open_board(j, &b, brc, err, errn) != 0)
		return -1;
	memset(&res, 0, sizeof res);
	rc = mn_profile_run(b, &o, NULL, &res, brc, err, errn);
	mn_board_close(b);
	pthread_mutex_lock(&j->lock);
	j->snap.profile = res; /* also on failure: it says what was kept */
	if (rc == 0) {
		j->snap.has_profile = 1;
		snprintf(j->snap.table_path, sizeof j->snap.table_path, "%s", r->output);
		snprintf(j->snap.message, sizeof j->snap.message, "wrote %.120s (%d measurements, %d resumed)",
			 r->output, res.total, res.resumed);
	}
	j->snap.version++;
	pthread_mutex_unlock(&j->lock);
	return rc == 0 ? 0 : -1;
}

static int run_validate(struct mn_board_job *j, struct request *r, int *brc, char *err,
			size_t errn)
{
	struct mn_board *b;
	struct mn_validation v;
	set_progress(j, 0, 1, "handshake");
	if (open_board(j, &b, brc, err, errn) != 0)
		return -1;
	set_progress(j, 0, 1, "running the arch on the board");
	int rc = mn_validate_arch(b, &r->arch, &r->shape, r->has_table ? &r->table : NULL, r->seed,
				  &v, brc, err, errn);
	mn_board_close(b);
	if (rc != 0)
		return -1;
	pthread_mutex_lock(&j->lock);
	j->snap.validation = v;
	j->snap.has_validation = 1;
	j->snap.version++;
	pthread_mutex_unlock(&j->lock);
	set_progress(j, 1, 1, "validated");
	return 0;
}

static int run_model(struct mn_board_job *j, struct request *r, int *brc, char *err,
		     size_t errn)
{
	struct mn_board_model_result res;
	memset(&res, 0, sizeof res);
	*brc = 0;
	int rc = r->task.run(r->task.arg, j, &res, brc, err, errn);
	if (r->task.free_arg)
		r->task.free_arg(r->task.arg);
	r->task.arg = NULL;
	if (rc != 0)
		return -1;
	pthread_mutex_lock(&j->lock);
	j->snap.model = res;
	j->snap.has_model = 1;
	j->snap.version++;
	pthread_mutex_unlock(&j->lock);
	return 0;
}

int mn_board_job_open(struct mn_board_job *j, struct mn_board **b, int *brc, char *err,
		      size_t errn)
{
	return open_board(j, b, brc, err, errn);
}

void mn_board_job_progress(struct mn_board_job *j, int done, int total, const char *msg)
{
	set_progress(j, done, total, msg);
}

int mn_board_job_cancelled(struct mn_board_job *j)
{
	return atomic_load(&j->cancel) != 0;
}

/* The task run for every job on the worker thread. */
static void run_job(void *arg, int worker)
{
	struct mn_board_job *j = arg;
	struct request *r = j->work;
	char err[1024];
	(void)worker;

	/* The request is copied out of the shared slot so that the slot is
	 * only ever touched under the lock. */
	pthread_mutex_lock(&j->lock);
	*r = j->req;
	j->req.task.arg = NULL; /* the worker owns it now (run_model frees it) */
	pthread_mutex_unlock(&j->lock);

	int brc = 0, rc = -1;
	err[0] = '\0';
	switch (r->kind) {
	case MN_BOARD_JOB_EMULATE: rc = run_emulate(j, r, &brc, err, sizeof err); break;
	case MN_BOARD_JOB_CONNECT: rc = run_connect(j, r, &brc, err, sizeof err); break;
	case MN_BOARD_JOB_PROFILE: rc = run_profile(j, r, &brc, err, sizeof err); break;
	case MN_BOARD_JOB_VALIDATE: rc = run_validate(j, r, &brc, err, sizeof err); break;
	case MN_BOARD_JOB_MODEL: rc = run_model(j, r, &brc, err, sizeof err); break;
	case MN_BOARD_JOB_NONE: rc = 0; break;
	}

	pthread_mutex_lock(&j->lock);
	if (rc == 0) {
		j->snap.state = MN_BOARD_JOB_DONE;
		j->snap.board_rc = 0;
		j->snap.error[0] = '\0';
	} else if (brc == MN_BOARD_ECANCEL || atomic_load(&j->cancel)) {
		j->snap.state = MN_BOARD_JOB_CANCELLED;
		j->snap.board_rc = brc;
		snprintf(j->snap.message, sizeof j->snap.message, "%s cancelled",
			 mn_board_job_kind_name(r->kind));
		j->snap.error[0] = '\0';
	} else {
		j->snap.state = MN_BOARD_JOB_FAILED;
		j->snap.board_rc = brc;
		snprintf(j->snap.error, sizeof j->snap.error, "%s", err[0] ? err : "failed");
	}
	j->snap.elapsed_s = mn_now_s() - j->started;
	j->busy = 0;
	j->snap.version++;
	pthread_cond_broadcast(&j->idle);
	pthread_mutex_unlock(&j->lock);
}

/* QEMU is stopped by the thread that started it (see board_job.h). */
static void stop_emulator_task(void *arg, int worker)
{
	(void)worker;
	stop_emulator(arg);
}

struct mn_board_job *mn_board_job_new(char *err, size_t errn)
{
	struct mn_board_job *j = calloc(1, sizeof *j);
	if (!j || !(j->work = malloc(sizeof *j->work))) {
		free(j);
		snprintf(err, errn, "out of memory");
		return NULL;
	}
	if (pthread_mutex_init(&j->lock, NULL) != 0) {
		free(j->work);
		free(j);
		snprintf(err, errn, "cannot create a mutex");
		return NULL;
	}
	if (pthread_cond_init(&j->idle, NULL) != 0) {
		pthread_mutex_destroy(&j->lock);
		free(j->work);
		free(j);
		snprintf(err, errn, "cannot create a condition variable");
		return NULL;
	}
	atomic_init(&j->cancel, 0);
	j->snap.kind = MN_BOARD_JOB_NONE;
	j->snap.state = MN_BOARD_JOB_IDLE;
	char perr[200];
	j->worker = mn_pool_new(1, perr, sizeof perr);
	if (!j->worker) {
		pthread_cond_destroy(&j->idle);
		pthread_mutex_destroy(&j->lock);
		free(j->work);
		free(j);
		snprintf(err, errn, "cannot start the board thread: %s", perr);
		return NULL;
	}
	return j;
}

void mn_board_job_free(struct mn_board_job *j)
{
	if (!j)
		return;
	mn_board_job_cancel(j);
	(void)mn_pool_cancel(j->worker); /* a job queued but not taken is dropped */
	/* Last task on the same thread; if it cannot be queued (out of memory)
	 * QEMU still dies with that thread (PR_SET_PDEATHSIG). */
	(void)mn_pool_submit(j->worker, stop_emulator_task, j);
	mn_pool_free(j->worker);
	/* A model task queued but dropped above still owns its argument. */
	if (j->req.task.arg && j->req.task.free_arg)
		j->req.task.free_arg(j->req.task.arg);
	pthread_cond_destroy(&j->idle);
	pthread_mutex_destroy(&j->lock);
	free(j->work);
	free(j);
}

/* Queues r (the caller filled it in *j->req under the lock via fill). */
static int submit(struct mn_board_job *j, enum mn_board_job_kind kind,
		  void (*fill)(struct request *, const void *), const void *arg, char *err,
		  size_t errn)
{
	pthread_mutex_lock(&j->lock);
	if (j->busy) {
		snprintf(err, errn, "the board is busy with a %s job (cancel it first)",
			 mn_board_job_kind_name(j->snap.kind));
		pthread_mutex_unlock(&j->lock);
		return -1;
	}
	memset(&j->req, 0, sizeof j->req);
	j->req.kind = kind;
	fill(&j->req, arg);
	atomic_store(&j->cancel, 0);
	if (mn_pool_submit(j->worker, run_job, j) != 0) {
		snprintf(err, errn, "out of memory queueing the %s job", mn_board_job_kind_name(kind));
		memset(&j->req, 0, sizeof j->req); /* the caller still owns what fill took */
		pthread_mutex_unlock(&j->lock);
		return -1;
	}
	j->busy = 1;
	j->started = mn_now_s();
	j->snap.kind = kind;
	j->snap.state = MN_BOARD_JOB_RUNNING;
	j->snap.done = 0;
	j->snap.total = 0;
	j->snap.elapsed_s = 0;
	j->snap.error[0] = '\0';
	j->snap.board_rc = 0;
	snprintf(j->snap.message, sizeof j->snap.message, "%s queued", mn_board_job_kind_name(kind));
	j->snap.version++;
	pthread_mutex_unlock(&j->lock);
	return 0;
}

static void fill_emulate(struct request *r, const void *arg)
{
	const struct mn_emulator_opts *o = arg;
	if (!o)
		return;
	/* Lengths were checked by the caller. */
	if (o->qemu) {
		r->has_qemu = 1;
		(void)copy_text(r->qemu, sizeof r->qemu, o->qemu);
	}
	if (o->firmware) {
		r->has_firmware = 1;
		(void)copy_text(r->firmware, sizeof r->firmware, o->firmware);
	}
	if (o->socket_path) {
		r->has_socket = 1;
		(void)copy_text(r->socket, sizeof r->socket, o->socket_path);
	}
	if (o->machine && *o->machine) {
		r->has_machine = 1;
		(void)copy_text(r->machine, sizeof r->machine, o->machine);
	}
	if (o->firmware_build && *o->firmware_build) {
		r->has_build = 1;
		(void)copy_text(r->build, sizeof r->build, o->firmware_build);
	}
	r->boot_timeout_ms = o->boot_timeout_ms;
}

int mn_board_job_emulate(struct mn_board_job *j, const struct mn_emulator_opts *o, char *err,
			 size_t errn)
{
	if (o && ((o->qemu && strlen(o->qemu) >= MN_BOARD_JOB_PATH) ||
		  (o->firmware && strlen(o->firmware) >= MN_BOARD_JOB_PATH) ||
		  (o->socket_path && strlen(o->socket_path) >= MN_BOARD_JOB_PATH) ||
		  (o->machine && strlen(o->machine) >= MN_BOARD_JOB_PATH) ||
		  (o->firmware_build && strlen(o->firmware_build) >= MN_BOARD_JOB_PATH))) {
		snprintf(err, errn, "emulator path too long (at most %d bytes)", MN_BOARD_JOB_PATH - 1);
		return -1;
	}
	return submit(j, MN_BOARD_JOB_EMULATE, fill_emulate, o, err, errn);
}

static void fill_connect(struct request *r, const void *arg)
{
	(void)copy_text(r->port, sizeof r->port, arg);
}

int mn_board_job_connect(struct mn_board_job *j, const char *port, char *err, size_t errn)
{
	if (!port || !*port || strlen(port) >= MN_BOARD_JOB_PORT) {
		snprintf(err, errn, "bad port name (empty or longer than %d bytes)",
			 MN_BOARD_JOB_PORT - 1);
		return -1;
	}
	return submit(j, MN_BOARD_JOB_CONNECT, fill_connect, port, err, errn);
}

static void fill_profile(struct request *r, const void *arg)
{
	const struct mn_profile_opts *o = arg;
	r->profile = *o;
	r->profile.output = NULL;
	r->profile.partial = NULL;
	r->profile.progress = NULL;
	r->profile.progress_arg = NULL;
	(void)copy_text(r->output, sizeof r->output, o->output);
	if (o->partial) {
		r->has_partial = 1;
		(void)copy_text(r->partial, sizeof r->partial, o->partial);
	}
}

int mn_board_job_profile(struct mn_board_job *j, const struct mn_profile_opts *o, char *err,
			 size_t errn)
{
	if (!o->output || !*o->output || strlen(o->output) >= MN_BOARD_JOB_PATH ||
	    (o->partial && strlen(o->partial) >= MN_BOARD_JOB_PATH)) {
		snprintf(err, errn, "profile: bad output path (empty or longer than %d bytes)",
			 MN_BOARD_JOB_PATH - 1);
		return -1;
	}
	return submit(j, MN_BOARD_JOB_PROFILE, fill_profile, o, err, errn);
}

struct validate_arg {
	const struct mn_arch *a;
	const struct mn_net_shape *s;
	const struct mn_latency_table *t;
	uint32_t seed;
};

static void fill_validate(struct request *r, const void *arg)
{
	const struct validate_arg *v = arg;
	r->arch = *v->a;
	r->shape = *v->s;
	if (v->t) {
		r->table = *v->t;
		r->has_table = 1;
	}
	r->seed = v->seed;
}

int mn_board_job_validate(struct mn_board_job *j, const struct mn_arch *a,
			  const struct mn_net_shape *s, const struct mn_latency_table *t,
			  uint32_t seed, char *err, size_t errn)
{
	struct validate_arg v = {a, s, t, seed};
	char msg[200];
	if (mn_shape_check(s, msg, sizeof msg) != 0) {
		snprintf(err, errn, "validate: %s", msg);
		return -1;
	}
	return submit(j, MN_BOARD_JOB_VALIDATE, fill_validate, &v, err, errn);
}

static void fill_model(struct request *r, const void *arg)
{
	r->task = *(const struct mn_board_task *)arg;
}

int mn_board_job_model(struct mn_board_job *j, const struct mn_board_task *t, char *err,
		       size_t errn)
{
	if (!t || !t->run) {
		snprintf(err, errn, "model validation: no task given");
		if (t && t->free_arg)
			t->free_arg(t->arg);
		return -1;
	}
	if (submit(j, MN_BOARD_JOB_MODEL, fill_model, t, err, errn) != 0) {
		if (t->free_arg)
			t->free_arg(t->arg);
		return -1;
	}
	return 0;
}

void mn_board_job_cancel(struct mn_board_job *j)
{
	atomic_store(&j->cancel, 1);
}

void mn_board_job_wait(struct mn_board_job *j)
{
	pthread_mutex_lock(&j->lock);
	while (j->busy)
		pthread_cond_wait(&j->idle, &j->lock);
	pthread_mutex_unlock(&j->lock);
}

void mn_board_job_snapshot(struct mn_board_job *j, struct mn_board_job_snapshot *out)
{
	pthread_mutex_lock(&j->lock);
	/* The worker reaps QEMU only when a job next needs it; until then a
	 * QEMU killed from outside would still read as ready. */
	if (j->snap.emulator_running &&
	    mn_emulator_pid_exited(j->snap.emulator_pid, j->snap.emulator_exit,
				   sizeof j->snap.emulator_exit)) {
		j->snap.emulator_running = 0;
		j->snap.emulator_exited = 1;
		j->snap.board_known = 0;
		j->snap.version++;
	}
	*out = j->snap;
	if (j->busy)
		out->elapsed_s = mn_now_s() - j->started;
	pthread_mutex_unlock(&j->lock);
}
