/* The background board job against the emulated board (QEMU): starting the
 * emulator from the worker thread (and QEMU outliving the job that started
 * it), the handshake, profiling a small network with progress, validating
 * an arch (measured peak SRAM equal to the model's), refusing a second job
 * while one runs, cancelling a profile mid-way (the partial file kept), bad
 * ports, snapshots that never wait for the board, and QEMU gone after free.
 *
 * Nothing is skipped: a missing qemu-system-arm or firmware fails the test
 * and names the Debian package. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "board/board_job.h"
#include "board/emulator.h"
#include "space/latency_model.h"
#include "qemu_prereq.h"
#include "util/clock.h"
#include "tap.h"

/* Fractions of a millisecond: the timings below are printed to 0.1 ms. */
static double now_ms(void)
{
	return mn_now_s() * 1e3;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}


/* Polls until the job is not running (or timeout); keeps the slowest
 * snapshot call and the distinct progress values seen. */
struct watch {
	double slowest_ms;
	int distinct_done;
	int last_done;
	int saw_measuring;
};

static enum mn_board_job_state wait_job(struct mn_board_job *j, struct mn_board_job_snapshot *s,
					double timeout_ms, struct watch *w)
{
	double t0 = now_ms();
	if (w) {
		w->slowest_ms = 0;
		w->distinct_done = 0;
		w->last_done = -1;
		w->saw_measuring = 0;
	}
	for (;;) {
		double a = now_ms();
		mn_board_job_snapshot(j, s);
		double took = now_ms() - a;
		if (w) {
			if (took > w->slowest_ms)
				w->slowest_ms = took;
			if (s->state == MN_BOARD_JOB_RUNNING && s->done != w->last_done) {
				w->distinct_done++;
				w->last_done = s->done;
			}
			if (strstr(s->message, "measuring"))
				w->saw_measuring = 1;
		}
		if (s->state != MN_BOARD_JOB_RUNNING || now_ms() - t0 > timeout_ms)
			return s->state;
		sleep_ms(20);
	}
}

static int pid_alive(long pid)
{
	return pid > 0 && kill((pid_t)pid, 0) == 0;
}

int main(void)
{
	static struct mn_board_job_snapshot s; /* large: keep it off the stack */
	char fw[4096], tmp[64] = "/tmp/mn-test-board-job-XXXXXX", err[1024], out[256], full[256];
	struct mn_emulator_opts eo;
	struct mn_board_job *j;
	struct watch w;
	long pid;
	int rc;

	if (!qemu_prerequisites(fw, sizeof fw) || !mkdtemp(tmp))
		return tap_done();
	j = mn_board_job_new(err, sizeof err);
	if (!tap_ok(j != NULL, "job object with its worker thread%s%s", j ? "" : ": ", j ? "" : err))
		return tap_done();
	mn_board_job_snapshot(j, &s);
	tap_ok(s.state == MN_BOARD_JOB_IDLE && s.kind == MN_BOARD_JOB_NONE && !s.port[0],
	       "starts idle with no board");

	/* Jobs that must fail cleanly. */
	{
		struct mn_arch a;
		struct mn_net_shape shape = MN_SHAPE_DEFAULT;
		memset(&a, MN_OP_CONV1, sizeof a.op);
		rc = mn_board_job_validate(j, &a, &shape, NULL, 7, err, sizeof err);
		tap_ok(rc == 0, "validate queued without a board");
		wait_job(j, &s, 5000, NULL);
		tap_ok(s.state == MN_BOARD_JOB_FAILED && strstr(s.error, "no board chosen"),
		       "... fails: %s", s.error);
		rc = mn_board_job_connect(j, "/dev/ttyNOSUCH9", err, sizeof err);
		wait_job(j, &s, 10000, NULL);
		tap_ok(rc == 0 && s.state == MN_BOARD_JOB_FAILED && strstr(s.error, "/dev/ttyNOSUCH9") &&
			       !s.board_known,
		       "a missing port fails naming it: %s", s.error);
		tap_ok(mn_board_job_connect(j, "", err, sizeof err) == -1, "an empty port is refused");
	}

	/* The emulated board, started by the worker. */
	memset(&eo, 0, sizeof eo);
	eo.firmware = fw;
	eo.boot_timeout_ms = 20000;
	/* "At once" is said by the job's state, not by a duration (a loaded
	 * machine may preempt any call for tens of milliseconds): a call that
	 * waited for the board would return with the job already over. */
	double t0 = now_ms();
	rc = mn_board_job_emulate(j, &eo, err, sizeof err);
	double call_ms = now_ms() - t0;
	mn_board_job_snapshot(j, &s);
	tap_ok(rc == 0 && s.state == MN_BOARD_JOB_RUNNING,
	       "emulate returns at once, the board still starting (%.1f ms, %s)", call_ms,
	       mn_board_job_state_name(s.state));
	wait_job(j, &s, 40000, &w);
	if (!tap_ok(s.state == MN_BOARD_JOB_DONE, "emulated board up in %.1f s%s%s", s.elapsed_s,
		    s.error[0] ? ": " : "", s.error)) {
		mn_board_job_free(j);
		return tap_done();
	}
	/* A snapshot that waited for QEMU (the job's lock held while it
	 * starts) would take most of the start; a preempted one takes a
	 * scheduler's slice. */
	tap_ok(w.slowest_ms < 500.0 * s.elapsed_s,
	       "snapshots never waited for QEMU (slowest %.2f ms, the start %.1f s)", w.slowest_ms,
	       s.elapsed_s);
	tap_ok(s.board_known && !strcmp(s.board, "qemu-mps2-an500") && s.emulated && s.fw_version[0],
	       "handshake: board %s, firmware %s, emulated", s.board, s.fw_version);
	tap_ok(!strncmp(s.port, "/dev/pts/", 9) && s.emulator_running, "port %s", s.port);
	pid = s.emulator_pid;
	sleep_ms(500);
	tap_ok(pid_alive(pid), "QEMU (pid %ld) outlives the job that started it", pid);

	/* Profile a small network: progress i of n. */
	{
		struct mn_profile_opts po;
		mn_profile_opts_default(&po);
		po.shape.channels = 8;
		po.shape.cells = 1;
		po.shape.height = 16;
		po.shape.classes = 10;
		po.repeats = 1;
		snprintf(out, sizeof out, "%s/small.ini", tmp);
		po.output = out;
		rc = mn_board_job_profile(j, &po, err, sizeof err);
		tap_ok(rc == 0, "profile queued");
		{
			struct mn_arch a;
			struct mn_net_shape shape = MN_SHAPE_DEFAULT;
			memset(&a, MN_OP_SKIP, sizeof a.op);
			rc = mn_board_job_validate(j, &a, &shape, NULL, 7, err, sizeof err);
			tap_ok(rc == -1 && strstr(err, "busy"), "a second job is refused while one runs: %s",
			       err);
		}
		wait_job(j, &s, 60000, &w);
		tap_ok(s.state == MN_BOARD_JOB_DONE && s.has_profile, "profile done in %.1f s%s%s",
		       s.elapsed_s, s.error[0] ? ": " : "", s.error);
		tap_ok(w.distinct_done >= 5 && w.saw_measuring,
		       "progress seen at %d distinct steps, with 'measuring ...' messages",
		       w.distinct_done);
		tap_ok(s.done == s.total && s.total == MN_PROFILE_ITEMS, "progress ends at %d of %d",
		       s.done, s.total);
		tap_ok(!strcmp(s.table_path, out) && s.profile.measured == MN_PROFILE_ITEMS,
		       "table %s, %d measurements", s.table_path, s.profile.measured);
		struct mn_latency_table t;
		rc = mn_latency_table_read(&t, out, err, sizeof err);
		tap_ok(rc == 0 && t.channels == 8 && t.cells == 1, "the table reads back%s%s",
		       rc ? ": " : "", rc ? err : "");

		/* Validate on that network with that table. */
		struct mn_arch a;
		struct mn_parse_error pe;
		struct mn_net_shape shape = po.shape;
		const char *arch = "|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|skip_connect~0|"
				   "avg_pool_3x3~1|nor_conv_1x1~2|";
		if (mn_arch_parse(arch, &a, &pe) != 0)
			tap_ok(0, "test arch parses: %s", pe.msg);
		rc = mn_board_job_validate(j, &a, &shape, rc == 0 ? &t : NULL, 7, err, sizeof err);
		wait_job(j, &s, 30000, NULL);
		tap_ok(rc == 0 && s.state == MN_BOARD_JOB_DONE && s.has_validation,
		       "validate done%s%s", s.error[0] ? ": " : "", s.error);
		tap_ok(!strcmp(s.validation.arch, arch), "validated %s", s.validation.arch);
		tap_ok(s.validation.measured_us > 0 && isfinite(s.validation.estimated_us) &&
			       isfinite(s.validation.error_pct),
		       "measured %.3f ms, estimated %.3f ms, error %+.2f%%",
		       s.validation.measured_us / 1000, s.validation.estimated_us / 1000,
		       s.validation.error_pct);
		tap_ok(s.validation.measured_sram_bytes == s.validation.estimated_sram_bytes &&
			       s.validation.measured_sram_bytes > 0,
		       "peak SRAM measured %llu = estimated %llu bytes",
		       (unsigned long long)s.validation.measured_sram_bytes,
		       (unsigned long long)s.validation.estimated_sram_bytes);
		tap_ok(s.validation.emulated, "the validation says the timing is emulated");
	}

	/* Cancel a long profile part way: the partial file keeps what was done. */
	{
		struct mn_profile_opts po;
		mn_profile_opts_default(&po);
		po.repeats = 5;
		snprintf(full, sizeof full, "%s/full.ini", tmp);
		po.output = full;
		rc = mn_board_job_profile(j, &po, err, sizeof err);
		double deadline = now_ms() + 60000;
		do {
			sleep_ms(20);
			mn_board_job_snapshot(j, &s);
		} while (rc == 0 && s.state == MN_BOARD_JOB_RUNNING && s.done < 2 && now_ms() < deadline);
		tap_ok(rc == 0 && s.state == MN_BOARD_JOB_RUNNING && s.done >= 2,
		       "full profile running (%d of %d: %s)", s.done, s.total, s.message);
		t0 = now_ms();
		mn_board_job_cancel(j);
		double cancel_ms = now_ms() - t0;
		/* As for emulate: a cancel that waited for the job would find
		 * it over; one preempted on a loaded machine may take longer
		 * than 5 ms and still find it running. */
		mn_board_job_snapshot(j, &s);
		enum mn_board_job_state after = s.state;
		wait_job(j, &s, 10000, NULL);
		double stop_ms = now_ms() - t0;
		tap_ok(after == MN_BOARD_JOB_RUNNING || cancel_ms < 5,
		       "cancel returns at once (%.2f ms, the job then %s)", cancel_ms,
		       mn_board_job_state_name(after));
		tap_ok(s.state == MN_BOARD_JOB_CANCELLED && s.board_rc == MN_BOARD_ECANCEL,
		       "cancelled in %.0f ms (state %s)", stop_ms, mn_board_job_state_name(s.state));
		tap_ok(stop_ms < 3000, "stops within 3 s of the cancel");
		char partial[300];
		snprintf(partial, sizeof partial, "%s.partial", full);
		tap_ok(access(partial, F_OK) == 0 && access(full, F_OK) != 0 && s.profile.measured >= 1,
		       "the partial file keeps %d measurements; no table written", s.profile.measured);
		tap_ok(s.has_profile && !strcmp(s.table_path, out),
		       "the last good profile is still reported (%s)", s.table_path);
		unlink(partial);
	}

	/* Emulate again: the running QEMU is kept; the same port by name too. */
	rc = mn_board_job_emulate(j, &eo, err, sizeof err);
	wait_job(j, &s, 20000, NULL);
	tap_ok(rc == 0 && s.state == MN_BOARD_JOB_DONE && s.emulator_pid == pid,
	       "emulate again reuses QEMU pid %ld", s.emulator_pid);
	{
		char port[MN_BOARD_JOB_PORT];
		snprintf(port, sizeof port, "%s", s.port);
		rc = mn_board_job_connect(j, port, err, sizeof err);
		wait_job(j, &s, 20000, NULL);
		tap_ok(rc == 0 && s.state == MN_BOARD_JOB_DONE && s.emulator_running && s.board_known,
		       "connecting to the emulator's own port keeps it");
	}

	/* Free stops QEMU. */
	t0 = now_ms();
	mn_board_job_free(j);
	tap_ok(!pid_alive(pid), "free stopped and reaped QEMU (pid %ld) in %.0f ms", pid,
	       now_ms() - t0);
	unlink(out);
	rmdir(tmp);
	return tap_done();
}
