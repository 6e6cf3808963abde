/* int8 quantization of the BN-folded network, the TFLite Micro / CMSIS-NN
 * way (fw-profiler/qnet.h has the arithmetic): symmetric per-channel conv
 * weights (scale = max |w| / 127 per output channel), per-tensor
 * activation scales from the largest magnitude each tensor reaches on a
 * calibration batch (scale = max / 127), int32 biases in the accumulator's
 * scale, a Q31 multiplier and shift per output channel.  A node that sums
 * several edges gets the largest of its calibrated scale and its inputs'
 * scales, so the Q15 add factors stay below 1 (mnk_add).  The global average
 * pool is folded into the classifier (its weights carry 1/(H*W) and it reads
 * the int32 sums), so the pooled features are not rounded to int8.
 *
 * Activations stay symmetric (TFLite's asymmetric zero points would buy
 * nothing here): every stored tensor is a BN output or a sum of them,
 * whose calibrated minimum and maximum differ in magnitude by at most a
 * factor 1.6 (the 3- and 6-epoch models below); the one one-sided
 * tensor, the head's ReLU output, reaches the logits only through the
 * pool's int32 sums.  Fake-quantizing one tensor group at a time in the
 * float forward (bench/bench_quant.c on bench/bench_export.sh's C=16 N=5
 * model after 3, 6 and 10 epochs, 596 held-out images; asymmetric
 * [min, max] scales in its place gave 10 and 17 flips where symmetric
 * gave 10 and 15 at 3 and 6 epochs, an earlier variant); the flips are spread
 * over the conv edges, the cell nodes and the reductions (the nodes lead
 * after 6 and 10 epochs); 32 of the 38 flips of the whole simulated model
 * are images whose float top-2 logits differ by under 5% of the logits'
 * standard deviation, while the logit error grows with training (1.8%,
 * 2.9%, 3.4% of it), so agreement stays near 98%.
 *
 * The result owns an mnq_net that fw-profiler/qnet.c runs: on the host it
 * is the int8 reference the board must reproduce bit for bit. */
#ifndef MN_QUANTIZE_H
#define MN_QUANTIZE_H

#include <stddef.h>
#include <stdint.h>

#include "export/weights_check.h"
#include "qnet.h"

struct mn_qmodel {
	struct mnq_net net;   /* points into the storage below */
	float in_scale;       /* input: q = round(x / in_scale) */
	float logit_scale;    /* logits: x = q * logit_scale */
	uint64_t weight_bytes;  /* int8 conv and linear weights */
	uint64_t bias_bytes;    /* int32 biases and the head's affine */
	uint64_t requant_bytes; /* multipliers, shifts, add factors */
	uint32_t arena_bytes;   /* peak activation bytes of mnq_run */
	/* storage */
	struct mnq_conv *convs; /* stem, 3N*6 edges, 6 reduction convs */
	struct mnq_add *adds;   /* 3N*6 cell adds, 2 reduction adds */
	int32_t *head;          /* g[4C], b[4C] */
	int8_t *fc_w;
	int32_t *fc_b;
	void **blocks;          /* every conv's arrays */
	int nblocks;
};

/* 0 when the int8 model (and the firmware that runs it, qnet.h, and the
 * protocol that feeds it, MODEL_INFO) can take the shape: any height and
 * width the network has, 1..255 input channels; else -1 and one line
 * saying so and what to give instead. */
int mn_qmodel_shape_check(const struct mn_net_shape *s, char *err, size_t errn);

/* Values of one input image, channels x height x width: the int8 bytes
 * the board takes, the floats of the float forward. */
size_t mn_shape_input_values(const struct mn_net_shape *s);

/* amax: largest |value| per slot (fnet.h), over the calibration batch.
 * 0, or -1 when out of memory or mn_qmodel_shape_check refuses the shape
 * (callers check first to say so). */
int mn_quantize(struct mn_qmodel *q, const struct mn_fnet *f, const float *amax);
void mn_qmodel_free(struct mn_qmodel *q);

/* x [C][H][W] (normalised float) -> img [H][W][C] int8 in the input scale. */
void mn_qmodel_quantize_input(const struct mn_qmodel *q, const float *x, int8_t *img);
/* The host int8 reference: logits[classes] of one quantized image.  0, or
 * -1 when out of memory. */
int mn_qmodel_run(const struct mn_qmodel *q, const int8_t *img, int32_t *logits);

/* The index of the largest of n logits (the first on a tie): the top-1
 * class, for the float and the int8 model alike. */
int mn_argmax_f(const float *v, int n);
int mn_argmax_i(const int32_t *v, int n);

#endif
