/* Board work in the background: starting the emulated board, checking a
 * port, profiling a board into a latency table and validating an arch on
 * it, each run by one worker thread so that a front end (the TUI) never
 * blocks on the serial port.  The front end starts a job, reads a locked
 * copy of the state with mn_board_job_snapshot() (never waits for the
 * board) and may cancel the job at any time.
 *
 * One job runs at a time; a start while one runs is refused.  Every job
 * opens the port, does the HELLO handshake, works and closes the port again,
 * as the board commands do, so a board unplugged between jobs is reported by
 * the next one and nothing stays open while idle.
 *
 * The worker thread (a worker pool of one, util/pool.h) lives as long as the
 * job object, and the emulator (QEMU)
 * is started and stopped by that thread: QEMU is started with
 * PR_SET_PDEATHSIG (emulator.h), which Linux ties to the *thread* that
 * forked it, so a thread per job would kill QEMU as soon as the job that
 * started it ended. */
#ifndef MN_BOARD_JOB_H
#define MN_BOARD_JOB_H

#include <stddef.h>
#include <stdint.h>

#include "space/arch.h"
#include "board/board.h"
#include "space/cost.h"
#include "board/emulator.h"
#include "space/latency_table.h"
#include "board/profile.h"
#include "board/validate.h"

enum mn_board_job_kind {
	MN_BOARD_JOB_NONE,     /* nothing started yet */
	MN_BOARD_JOB_EMULATE,  /* start QEMU with the firmware and use its port */
	MN_BOARD_JOB_CONNECT,  /* use a port: handshake, board and firmware names */
	MN_BOARD_JOB_PROFILE,  /* mn_profile_run into a latency table */
	MN_BOARD_JOB_VALIDATE, /* mn_validate_arch on one arch */
	MN_BOARD_JOB_MODEL     /* a deployed model on the board (export/model_job.h) */
};

enum mn_board_job_state {
	MN_BOARD_JOB_IDLE,      /* nothing started yet */
	MN_BOARD_JOB_RUNNING,
	MN_BOARD_JOB_DONE,
	MN_BOARD_JOB_FAILED,    /* error[] says why */
	MN_BOARD_JOB_CANCELLED
};

#define MN_BOARD_JOB_PORT 4160 /* as struct mn_transport's name */
#define MN_BOARD_JOB_PATH 4096

/* What a model validation found (the board's side of `micronas validate
 * --weights`); filled by the task of export/model_job.h, which board/ may
 * not include (src/local.am), so the numbers live here. */
struct mn_board_model_result {
	char arch[MN_ARCH_STRLEN];
	char weights[MN_BOARD_JOB_PATH]; /* the .safetensors file */
	char board[17];
	int emulated;
	uint32_t fingerprint;            /* of the model run */
	int images, exact, agree_float;  /* run; bit-exact with the host; top-1 as float */
	int labelled, correct_int8, correct_float;
	double measured_us, estimated_us; /* median on the board; the latency table's */
	uint32_t peak_bytes, estimated_sram_bytes;
};

struct mn_board_job_snapshot {
	uint64_t version;             /* grows with every change */
	enum mn_board_job_kind kind;  /* the job running or run last */
	enum mn_board_job_state state;
	int done, total;              /* progress of the job; total 0 = unknown */
	char message[200];            /* what the job does now, or did */
	double elapsed_s;             /* since the job started */

	/* The board in use. */
	char port[MN_BOARD_JOB_PORT]; /* "" = none chosen */
	int emulator_running;         /* QEMU started by this object runs */
	long emulator_pid;            /* its pid, 0 when none */
	/* QEMU started by this object ended on its own (killed, crashed):
	 * the port is gone until an emulate job starts it again. */
	int emulator_exited;
	char emulator_exit[64];       /* how it ended ("killed by signal 9") */
	int board_known;              /* the last handshake on port succeeded */
	char board[17], fw_version[17];
	unsigned proto_version;
	int emulated;                 /* instruction-based timing (QEMU) */

	/* The last result of each kind (kept when later jobs fail). */
	int has_validation;
	struct mn_validation validation;
	int has_profile;
	struct mn_profile_result profile;
	char table_path[MN_BOARD_JOB_PATH]; /* the table the profile wrote */
	int has_model;
	struct mn_board_model_result model;

	int board_rc;                 /* MN_BOARD_* code of the last failure, 0 if none */
	char error[1024];             /* one line, when state is FAILED */
};

struct mn_board_job;

/* Starts the worker thread.  Returns NULL with err on failure. */
struct mn_board_job *mn_board_job_new(char *err, size_t errn);
/* Cancels the job in flight, waits for it, stops the emulator (if this
 * object started one) and joins the thread.  j may be NULL. */
void mn_board_job_free(struct mn_board_job *j);

/* Job starters: 0 when the job was queued, -1 with err when one is already
 * running (or for a bad argument).  They return at once. */

/* Starts QEMU (o may be NULL; the strings it points to are copied) and makes
 * its port the one in use.  An emulator already running is kept and only
 * checked again with a handshake. */
int mn_board_job_emulate(struct mn_board_job *j, const struct mn_emulator_opts *o, char *err,
			 size_t errn);
/* Makes port the one in use and does the handshake.  Stops the emulator
 * first when this object runs one and port is not its port. */
int mn_board_job_connect(struct mn_board_job *j, const char *port, char *err, size_t errn);
/* Profiles the board on the port in use (o->progress is replaced by the
 * job's; o->output and o->partial are copied). */
int mn_board_job_profile(struct mn_board_job *j, const struct mn_profile_opts *o, char *err,
			 size_t errn);
/* Runs a on the board in use as network s.  t (may be NULL: no estimate) is
 * copied. */
int mn_board_job_validate(struct mn_board_job *j, const struct mn_arch *a,
			  const struct mn_net_shape *s, const struct mn_latency_table *t,
			  uint32_t seed, char *err, size_t errn);

/* A task of a higher layer run as a MN_BOARD_JOB_MODEL job on the job's
 * thread (export/model_job.h: the deployed model).  run fills out (kept in
 * the snapshot when it returns 0) and returns 0, or -1 with *brc (an
 * MN_BOARD_* code, or 0) and one line in err.  The job owns arg from the
 * call on: free_arg(arg) runs once on every path, also when the start is
 * refused or the job is dropped unstarted. */
struct mn_board_task {
	int (*run)(void *arg, struct mn_board_job *j, struct mn_board_model_result *out, int *brc,
		   char *err, size_t errn);
	void (*free_arg)(void *arg);
	void *arg;
};
int mn_board_job_model(struct mn_board_job *j, const struct mn_board_task *t, char *err,
		       size_t errn);
/* For a task's run: opens the port in use (the handshake recorded in the
 * snapshot, cancel wired to mn_board_job_cancel), reports progress, and
 * says whether a cancel was asked. */
int mn_board_job_open(struct mn_board_job *j, struct mn_board **b, int *brc, char *err,
		      size_t errn);
void mn_board_job_progress(struct mn_board_job *j, int done, int total, const char *msg);
int mn_board_job_cancelled(struct mn_board_job *j);

/* Asks the job in flight to stop; returns at once.  The board requests poll
 * it at least every 100 ms; an emulator boot is not interruptible (it ends
 * within its boot timeout) and QEMU is stopped again when cancelled. */
void mn_board_job_cancel(struct mn_board_job *j);
/* Blocks until no job runs (for tests and shutdown, not for a UI thread). */
void mn_board_job_wait(struct mn_board_job *j);
/* A copy of the state, taken under the lock; never waits for the board.
 * It notices a QEMU that has died since (emulator_exited, board_known 0)
 * without waiting for the next job to find the port gone. */
void mn_board_job_snapshot(struct mn_board_job *j, struct mn_board_job_snapshot *out);

const char *mn_board_job_kind_name(enum mn_board_job_kind k);
const char *mn_board_job_state_name(enum mn_board_job_state s);

#endif
