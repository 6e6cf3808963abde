/* The deployed model on the board as a board job; see model_job.h. */
#include "export/model_job.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/dataset.h"
#include "data/dataset_source.h"
#include "export/calibrate.h"
#include "export/input_norm.h"
#include "export/qmodel_file.h"
#include "export/safetensors.h"
#include "export/validate_model.h"
#include "export/weights_check.h"
#include "space/memory.h"

struct model_task {
	char weights[MN_BOARD_JOB_PATH], data[MN_BOARD_JOB_PATH], model[MN_BOARD_JOB_PATH];
	int has_data, has_model;
	struct mn_arch arch;
	struct mn_net_shape shape;
	struct mn_latency_table table;
	int calib, images, threads;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int mn_model_weights(const char *weights, const struct mn_arch *a, const struct mn_net_shape *s,
		     struct mn_fnet *net, struct mn_input_norm *norm, char *err, size_t errn)
{
	struct mn_safetensors st;
	char msg[1024];
	memset(net, 0, sizeof *net);
	memset(norm, 0, sizeof *norm);
	if (mn_st_read(&st, weights, err, errn) != 0)
		return -1;
	int rc = mn_fnet_bind(net, &st, a, s, msg, sizeof msg);
	if (rc != 0)
		snprintf(err, errn, "%.200s: %.800s", weights, msg);
	else if (mn_input_norm_read(norm, &st, mn_shape_input_channels(s), weights, err, errn) != 0)
		rc = -1;
	mn_st_free(&st);
	if (rc != 0)
		mn_fnet_free(net);
	return rc;
}

int mn_model_images(const char *data, const struct mn_net_shape *s,
		    const struct mn_input_norm *norm, size_t synthetic, struct mn_dataset *d,
		    int *scaled, char *err, size_t errn)
{
	int H = s->height, W = mn_shape_width(s), C = mn_shape_input_channels(s);
	*scaled = -1;
	memset(d, 0, sizeof *d);
	if (!data)
		return mn_dataset_synthetic(d, synthetic, 7, err, errn);
	if (mn_dataset_load(d, data, err, errn) != 0)
		return -1;
	if (d->height != H || d->width != W || d->channels != C) {
		snprintf(err, errn, "%.300s holds %dx%dx%d images but the network takes %dx%dx%d; give "
			 "data of that size (or --resolution HxW and --input-channels for it), or leave "
			 "--data out (synthetic images)", data, d->height, d->width, d->channels, H, W, C);
		return -1;
	}
	if (mn_dataset_labels_check(d, data, s->classes, err, errn) != 0)
		return -1;
	/* scaled as in training (input_norm.h) */
	return norm->channels ? mn_input_norm_apply(norm, d, scaled, err, errn) : 0;
}

int mn_model_prepare(const char *weights, const char *data, const char *model,
		     const struct mn_arch *a, const struct mn_net_shape *s, int calib, int threads,
		     int (*stop)(void *), void *ctx, struct mn_fnet *net, struct mn_dataset *d,
		     struct mn_qmodel *q, char *err, size_t errn)
{
	struct mn_input_norm norm = {0};
	memset(net, 0, sizeof *net);
	memset(d, 0, sizeof *d);
	memset(q, 0, sizeof *q);
	if (mn_qmodel_shape_check(s, err, errn) != 0 ||
	    mn_model_weights(weights, a, s, net, &norm, err, errn) != 0)
		return -1;
	/* deploy's synthetic set: calib + its default 32 evaluation images */
	int scaled, rc = mn_model_images(data, s, &norm, (size_t)calib + 32, d, &scaled, err, errn);
	mn_input_norm_free(&norm);
	if (rc != 0)
		return -1;
	if (!model)
		return mn_calibrate_stoppable(q, net, d, calib, threads, stop, ctx, err, errn);
	/* the deployed model's own values, not this computer's quantization
	 * (qmodel_file.h says why they can differ): only the layout here */
	if (mn_quantize_layout(q, net) != 0) {
		snprintf(err, errn, "quantize: out of memory");
		return -1;
	}
	return mn_qmodel_load(q, a, model, err, errn);
}

/* A cancel of the job (the TUI's key) stops its calibration too. */
static int job_cancelled(void *j) { return mn_board_job_cancelled(j); }

static int run(void *arg, struct mn_board_job *j, struct mn_board_model_result *out, int *brc,
	       char *err, size_t errn)
{
	const struct model_task *t = arg;
	struct mn_fnet net;
	struct mn_dataset d;
	struct mn_qmodel q;
	struct mn_board *b = NULL;
	struct mn_memory mem;
	double *us = NULL;
	char msg[200];
	int rc = -1;

	*brc = 0;
	mn_board_job_progress(j, 0, t->images,
			      t->has_model ? "reading the int8 model file"
					   : "quantizing the weights (calibration)");
	int prc = mn_model_prepare(t->weights, t->has_data ? t->data : NULL,
				   t->has_model ? t->model : NULL, &t->arch, &t->shape, t->calib,
				   t->threads, job_cancelled, j, &net, &d, &q, err, errn);
	if (prc < 0)
		goto out;
	if (prc == 1 || mn_board_job_cancelled(j)) {
		*brc = MN_BOARD_ECANCEL;
		goto out;
	}
	/* The images after the calibration ones, as deploy evaluates. */
	size_t first = d.count > (size_t)t->calib ? (size_t)t->calib : 0;
	int n = t->images;
	if (first >= d.count)
		n = 0;
	else if ((size_t)n > d.count - first)
		n = (int)(d.count - first);
	us = malloc(sizeof *us * (size_t)(n > 0 ? n : 1));
	if (!us) {
		snprintf(err, errn, "out of memory");
		goto out;
	}
	mn_board_job_progress(j, 0, n, "handshake");
	if (mn_board_job_open(j, &b, brc, err, errn) != 0)
		goto out;
	mn_arch_format(&t->arch, out->arch, sizeof out->arch);
	snprintf(out->weights, sizeof out->weights, "%s", t->weights);
	snprintf(out->board, sizeof out->board, "%s", mn_board_info(b)->board);
	out->emulated = mn_board_is_emulated(b);
	/* One image per call: the same checks and numbers as one call for all
	 * of them (each call checks the board's model first), with progress
	 * and a cancel between images.  The median is taken here. */
	if (n == 0) {
		int r = mn_model_board_check(b, &q, NULL, err, errn);
		if (r != 0) {
			*brc = r >= MN_BOARD_EIO && r < 0 ? r : 0;
			goto out;
		}
		out->fingerprint = mnq_fingerprint(&q.net, NULL);
	}
	for (int i = 0; i < n; i++) {
		struct mn_model_validation v;
		snprintf(msg, sizeof msg, "running image %d of %d on the board", i + 1, n);
		mn_board_job_progress(j, i, n, msg);
		int r = mn_model_validate(b, &q, &net, &d, first + (size_t)i, 1, &v, err, errn);
		if (r != 0) {
			*brc = r >= MN_BOARD_EIO && r < 0 ? r : 0;
			goto out;
		}
		out->fingerprint = v.fingerprint;
		out->images += v.images;
		out->exact += v.exact;
		out->agree_float += v.agree_float;
		out->labelled += v.labelled;
		out->correct_int8 += v.correct_int8;
		out->correct_float += v.correct_float;
		out->peak_bytes = v.peak_bytes;
		us[i] = v.measured_us;
	}
	if (n > 0) {
		qsort(us, (size_t)n, sizeof *us, cmp_double);
		out->measured_us = us[(n - 1) / 2];
	}
	mn_memory_arch(&t->arch, &t->shape, 0, &mem);
	out->estimated_us = mn_latency_arch_us(&t->table, &t->arch);
	out->estimated_sram_bytes = (uint32_t)mem.sram_bytes;
	mn_board_job_progress(j, n, n, "model validated");
	rc = 0;
out:
	mn_board_close(b);
	free(us);
	mn_qmodel_free(&q);
	mn_dataset_free(&d);
	mn_fnet_free(&net);
	return rc;
}

int mn_model_job_start(struct mn_board_job *j, const struct mn_model_job_opts *o, char *err,
		       size_t errn)
{
	if (!o->weights || !*o->weights || strlen(o->weights) >= MN_BOARD_JOB_PATH ||
	    (o->data && strlen(o->data) >= MN_BOARD_JOB_PATH) ||
	    (o->model && strlen(o->model) >= MN_BOARD_JOB_PATH)) {
		snprintf(err, errn, "model validation: bad weights, data or model path (empty or longer "
			 "than %d bytes)", MN_BOARD_JOB_PATH - 1);
		return -1;
	}
	if (o->calib < 1 || o->images < 1) {
		snprintf(err, errn, "model validation: calibration and image counts must be >= 1");
		return -1;
	}
	struct model_task *t = calloc(1, sizeof *t);
	if (!t) {
		snprintf(err, errn, "out of memory");
		return -1;
	}
	memcpy(t->weights, o->weights, strlen(o->weights) + 1);
	if (o->data) {
		t->has_data = 1;
		memcpy(t->data, o->data, strlen(o->data) + 1);
	}
	if (o->model) {
		t->has_model = 1;
		memcpy(t->model, o->model, strlen(o->model) + 1);
	}
	t->arch = o->arch;
	t->shape = o->shape;
	t->table = *o->table;
	t->calib = o->calib;
	t->threads = o->threads;
	t->images = o->images;
	struct mn_board_task task = {run, free, t};
	return mn_board_job_model(j, &task, err, errn); /* it frees t on refusal */
}

int mn_model_weights_probe(const char *path, struct mn_weights_info *out, char *err, size_t errn)
{
	struct mn_safetensors st;
	struct mn_parse_error pe;
	memset(out, 0, sizeof *out);
	if (mn_st_read(&st, path, err, errn) != 0)
		return -1;
	out->tensors = (int)st.n;
	const char *arch = mn_st_meta_get(&st, "arch");
	if (arch && mn_arch_parse(arch, &out->arch, &pe) == 0)
		out->has_arch = 1;
	out->has_shape = mn_weights_file_shape(&st, &out->shape) == 0;
	mn_st_free(&st);
	return 0;
}
