/* The deployed model on the board (micronas validate --weights): the board
 * must carry the model the host quantized (MODEL_INFO's fingerprint); each
 * image is quantized, sent in chunks (INPUT_CHUNK) and run (RUN_MODEL), and
 * the board's int32 logits are compared byte for byte with the host's int8
 * reference (fw-profiler/qnet.c), and its top-1 with the float model's and
 * with the label. */
#ifndef MN_VALIDATE_MODEL_H
#define MN_VALIDATE_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "board/board.h"
#include "data/dataset.h"
#include "export/quantize.h"
#include "export/weights_check.h"

struct mn_model_validation {
	int images;            /* run on the board */
	int exact;             /* board logits == host int8 reference, every byte */
	int agree_float;       /* board top-1 == float top-1 */
	int labelled;          /* images with a label (real data) */
	int correct_int8;      /* board top-1 == label */
	int correct_float;     /* float top-1 == label */
	double measured_us;    /* median over the images (board timing units) */
	uint32_t fingerprint;  /* of the model run */
	uint32_t peak_bytes;   /* the board's arena high-water mark */
	uint32_t host_peak_bytes; /* the host run's (mnq_arena_bytes) */
};

/* Outcome codes besides MN_BOARD_* (negative): the board carries no model,
 * or another one (err names the fix). */
enum { MN_VALIDATE_NO_MODEL = -100, MN_VALIDATE_OTHER_MODEL = -101 };

/* Checks that b carries q's model.  info (may be NULL) gets MODEL_INFO.
 * 0, or an MN_BOARD_* / MN_VALIDATE_* code with one line in err. */
int mn_model_board_check(struct mn_board *b, const struct mn_qmodel *q,
			 struct mnp_model_info *info, char *err, size_t errn);

/* Runs images first .. first+n-1 of d (clamped to d's count) on the board
 * and on the host.  0, or a code as above with err; on MN_BOARD_ECANCEL
 * (the board's cancel callback, polled while waiting) v holds the images
 * run before it, with their median latency. */
int mn_model_validate(struct mn_board *b, const struct mn_qmodel *q, const struct mn_fnet *f,
		      const struct mn_dataset *d, size_t first, int n,
		      struct mn_model_validation *v, char *err, size_t errn);

#endif
