/* The int8 model against the float one on the host (deploy's measure, the
 * one printed as "int8 vs float top-1 agreement"): every image quantized
 * and run by the host int8 reference (mn_qmodel_run) and by the float
 * network (mn_fnet_forward), each giving its top-1.  Images are
 * independent, so they are shared among threads; the counts do not depend
 * on how many. */
#ifndef MN_AGREEMENT_H
#define MN_AGREEMENT_H

#include <stddef.h>
#include <stdint.h>

#include "data/dataset.h"
#include "export/fnet.h"
#include "export/quantize.h"

struct mn_agreement {
	int images;        /* run */
	int agree;         /* int8 top-1 == float top-1 */
	int labelled;      /* images with a label (real data) */
	int correct_float; /* float top-1 == label */
	int correct_int8;  /* int8 top-1 == label */
};

/* Image idx of d through both models: x [input values] gets the float
 * input, fl [classes] the float logits, img [input values] the int8 input
 * (HWC, as the board takes it) and ql [classes] the host int8 reference's
 * logits.  0, or -1 when out of memory. */
int mn_agreement_image(const struct mn_qmodel *q, const struct mn_fnet *f, const struct mn_dataset *d,
		       size_t idx, float *x, float *fl, int8_t *img, int32_t *ql);

/* Runs images first .. first+n-1 of d (n clamped to d's count) on up to
 * `threads` threads (< 1: all cores).  The first `keep` of them (at most
 * n) leave their int8 input in imgs [keep][input values] (HWC, as the
 * board takes it) and their int8 logits in logits [keep][classes]: the
 * board's check file (deploy_c.h).  stop(ctx) (stop NULL: never) is
 * asked on the calling thread before each chunk of 16 images a thread.
 * 0, 1 when stopped, or -1 when out of memory (a holds nothing but after
 * 0). */
int mn_agreement_run(const struct mn_qmodel *q, const struct mn_fnet *f, const struct mn_dataset *d,
		     size_t first, int n, int threads, int keep, int8_t *imgs, int32_t *logits,
		     int (*stop)(void *), void *ctx, struct mn_agreement *a);

#endif
