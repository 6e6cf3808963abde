/* The board job's task of a higher layer (MN_BOARD_JOB_MODEL) without a
 * board: progress and the result reach the snapshot, a cancel reaches the
 * task, the argument is freed exactly once on every path (run, refused
 * start, cancelled by free), a task that fails is reported in one line; and
 * the model job's own checks (bad paths and counts) and the weights probe
 * (metadata arch read, a missing file refused). */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "board/board_job.h"
#include "export/model_job.h"
#include "export/safetensors.h"
#include "tap.h"

static atomic_int freed;

static void free_arg(void *arg)
{
	free(arg);
	atomic_fetch_add(&freed, 1);
}

/* Reports progress, then waits for a cancel when *arg says so. */
static int task_run(void *arg, struct mn_board_job *j, struct mn_board_model_result *out,
		    int *brc, char *err, size_t errn)
{
	int mode = *(int *)arg;
	mn_board_job_progress(j, 1, 3, "step one");
	if (mode == 1) {
		for (int i = 0; i < 500 && !mn_board_job_cancelled(j); i++) {
			struct timespec ts = {0, 10000000L};
			nanosleep(&ts, NULL);
		}
		*brc = mn_board_job_cancelled(j) ? MN_BOARD_ECANCEL : 0;
		snprintf(err, errn, "not cancelled");
		return -1;
	}
	if (mode == 2) {
		snprintf(err, errn, "the task failed on purpose");
		return -1;
	}
	snprintf(out->arch, sizeof out->arch, "the arch");
	out->images = 3;
	out->exact = 3;
	mn_board_job_progress(j, 3, 3, "done");
	return 0;
}

static struct mn_board_task task(int mode)
{
	int *m = malloc(sizeof *m);
	*m = mode;
	struct mn_board_task t = {task_run, free_arg, m};
	return t;
}

int main(void)
{
	char err[1024];
	struct mn_board_job_snapshot s;
	struct mn_board_job *j = mn_board_job_new(err, sizeof err);
	tap_ok(j != NULL, "job object (%s)", j ? "" : err);
	if (!j)
		return tap_done();

	struct mn_board_task t = task(0);
	tap_ok(mn_board_job_model(j, &t, err, sizeof err) == 0, "a task starts");
	mn_board_job_wait(j);
	mn_board_job_snapshot(j, &s);
	tap_ok(s.kind == MN_BOARD_JOB_MODEL && s.state == MN_BOARD_JOB_DONE && s.has_model &&
		       s.model.exact == 3 && !strcmp(s.model.arch, "the arch") && s.done == 3 &&
		       s.total == 3,
	       "its result and progress are in the snapshot (%s)", mn_board_job_state_name(s.state));
	tap_ok(atomic_load(&freed) == 1, "its argument freed once after the run");

	t = task(1);
	tap_ok(mn_board_job_model(j, &t, err, sizeof err) == 0, "a long task starts");
	struct mn_board_task t2 = task(0);
	tap_ok(mn_board_job_model(j, &t2, err, sizeof err) == -1 && strstr(err, "busy"),
	       "a second start is refused while it runs (%s)", err);
	tap_ok(atomic_load(&freed) == 2, "the refused task's argument is freed");
	mn_board_job_cancel(j);
	mn_board_job_wait(j);
	mn_board_job_snapshot(j, &s);
	tap_ok(s.state == MN_BOARD_JOB_CANCELLED && atomic_load(&freed) == 3,
	       "a cancel reaches the task; the job reads cancelled (%s)",
	       mn_board_job_state_name(s.state));
	tap_ok(s.has_model && s.model.exact == 3, "the last result is kept after a cancel");

	t = task(2);
	tap_ok(mn_board_job_model(j, &t, err, sizeof err) == 0, "a failing task starts");
	mn_board_job_wait(j);
	mn_board_job_snapshot(j, &s);
	tap_ok(s.state == MN_BOARD_JOB_FAILED && !strcmp(s.error, "the task failed on purpose") &&
		       atomic_load(&freed) == 4,
	       "its error is the snapshot's one line (%s)", s.error);

	/* The model job: checked before it is queued, then fails without a board. */
	struct mn_model_job_opts o;
	struct mn_latency_table table;
	memset(&o, 0, sizeof o);
	memset(&table, 0, sizeof table);
	o.table = &table;
	o.calib = 4, o.images = 2;
	tap_ok(mn_model_job_start(j, &o, err, sizeof err) == -1 && strstr(err, "path"),
	       "no weights path is refused (%s)", err);
	o.weights = "w.safetensors";
	o.images = 0;
	tap_ok(mn_model_job_start(j, &o, err, sizeof err) == -1 && strstr(err, ">= 1"),
	       "zero images are refused (%s)", err);

	/* The probe: a file naming its arch, and a missing one. */
	char path[] = "/tmp/mn-task-XXXXXX";
	int fd = mkstemp(path);
	if (fd >= 0)
		close(fd);
	float v[2] = {1, 2};
	struct mn_st_out to = {"x", 1, {2}, v, NULL};
	char k1[] = "arch", v1[] = "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|avg_pool_3x3~2|";
	struct mn_st_meta meta = {k1, v1};
	struct mn_weights_info info;
	int wrote = fd >= 0 && mn_st_write(path, &to, 1, &meta, 1, err, sizeof err) == 0;
	char fmt[MN_ARCH_STRLEN] = "";
	int probed = wrote && mn_model_weights_probe(path, &info, err, sizeof err) == 0;
	if (probed)
		mn_arch_format(&info.arch, fmt, sizeof fmt);
	tap_ok(probed && info.tensors == 1 && info.has_arch && !strcmp(fmt, v1),
	       "the probe reads the tensor count and the arch the metadata names (%s)", fmt);
	remove(path);
	tap_ok(mn_model_weights_probe(path, &info, err, sizeof err) == -1 && strstr(err, path),
	       "a missing file: one line naming it (%s)", err);

	/* Running (or still queued) at free: cancelled, and freed either way. */
	t = task(1);
	tap_ok(mn_board_job_model(j, &t, err, sizeof err) == 0, "a last long task starts");
	mn_board_job_free(j);
	tap_ok(atomic_load(&freed) == 5, "free cancels it and its argument is freed");
	return tap_done();
}
