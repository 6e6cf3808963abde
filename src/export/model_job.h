/* The deployed model validated on the board in the background: the TUI's
 * `v` with weights loaded.  It runs on the board job's thread
 * (board/board_job.h, a MN_BOARD_JOB_MODEL job) and makes the calls
 * `micronas validate --weights` makes: the weights read and bound to the
 * arch, calibrated on the data as deploy does (the same data and count give
 * the same model), then mn_model_validate on the board, one image at a time
 * so that progress shows and a cancel stops between images. */
#ifndef MN_MODEL_JOB_H
#define MN_MODEL_JOB_H

#include <stddef.h>

#include "board/board_job.h"
#include "space/arch.h"
#include "space/cost.h"
#include "space/latency_table.h"

struct mn_model_job_opts {
	const char *weights;   /* .safetensors (copied) */
	const char *data;      /* images as deploy's --data; NULL: deploy's synthetic set */
	const char *model;     /* deploy's model.int8.safetensors (copied), or NULL: the
				* weights quantized here */
	struct mn_arch arch;
	struct mn_net_shape shape;
	const struct mn_latency_table *table; /* the estimate (copied) */
	int calib, images;     /* as validate's --calib and --images */
	int threads;           /* calibration threads (< 1: all cores) */
};

/* Queues the job; 0, or -1 with one line in err (a job already running, a
 * path too long, out of memory). */
int mn_model_job_start(struct mn_board_job *j, const struct mn_model_job_opts *o, char *err,
		       size_t errn);

/* The steps before the board, shared by `micronas validate --weights` and
 * the job: the shape checked for int8, the weights read and bound to a
 * (errors name the file), the data loaded and checked against the shape
 * (data NULL: deploy's synthetic set of calib + 32 images), and the model
 * calibrated on its first calib images (on `threads` threads, < 1: all
 * cores; mn_calibrate); with model (NULL: none), the int8
 * values taken from that file instead (qmodel_file.h: a model deployed on
 * another computer; mn_quantize_layout, no calibration).  net, d and q
 * are set (free them with mn_fnet_free, mn_dataset_free, mn_qmodel_free,
 * also on failure); 0, or -1 with one line in err. */
struct mn_fnet;
struct mn_dataset;
struct mn_qmodel;
struct mn_input_norm;

/* The weights file read and bound to a's network s (fnet.h; errors name
 * the file) and the input normalisation it was trained with.  net and
 * norm are set only on success (free them with mn_fnet_free and
 * mn_input_norm_free); 0, or -1 with one line in err. */
int mn_model_weights(const char *weights, const struct mn_arch *a, const struct mn_net_shape *s,
		     struct mn_fnet *net, struct mn_input_norm *norm, char *err, size_t errn);

/* The images deploy and validate --weights calibrate and evaluate on:
 * data's (NULL: `synthetic` synthetic images), checked against the network
 * s (size; labels within its classes) and scaled by norm, the weights'
 * training statistics, when it has them (input_norm.h).  *scaled: -1 when
 * nothing was scaled, else mn_input_norm_apply's `same`.  d is set (free
 * it with mn_dataset_free, also on failure); 0, or -1 with one line in
 * err. */
int mn_model_images(const char *data, const struct mn_net_shape *s,
		    const struct mn_input_norm *norm, size_t synthetic, struct mn_dataset *d,
		    int *scaled, char *err, size_t errn);

/* stop(ctx) (stop NULL: never) is asked between the calibration's steps
 * (mn_calibrate_stoppable): 1 when it stopped, err then "". */
int mn_model_prepare(const char *weights, const char *data, const char *model,
		     const struct mn_arch *a, const struct mn_net_shape *s, int calib, int threads,
		     int (*stop)(void *), void *ctx, struct mn_fnet *net, struct mn_dataset *d,
		     struct mn_qmodel *q, char *err, size_t errn);

/* What a weights file says of itself, for loading it in a front end: its
 * tensor count, the arch its metadata names and the network it was
 * exported for (model.py writes both; a file without them binds by its
 * tensors only, and a front end can then say no more than the binding's
 * first mismatch).  0, or -1 with one line in err. */
struct mn_weights_info {
	int tensors;
	int has_arch;
	struct mn_arch arch;
	int has_shape;              /* channels, cells, resolution, classes all given */
	struct mn_net_shape shape;  /* input channels from the metadata, else the stem's */
};
int mn_model_weights_probe(const char *path, struct mn_weights_info *out, char *err, size_t errn);

#endif
