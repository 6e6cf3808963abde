/* int8 quantization of the BN-folded network, the TFLite Micro / CMSIS-NN
 * way (fw-profiler/qnet.h has the arithmetic): symmetric per-channel conv
 * weights (scale = max |w| / 127 per output channel), per-tensor
 * activation scales from a calibration batch (scale = range / 127), int32
 * biases in the accumulator's scale, a Q31 multiplier and shift per output
 * channel.  A node that sums several edges gets the largest of its
 * calibrated scale and its inputs' scales, so the Q15 add factors stay
 * below 1 (mnk_add).  The global average pool is folded into the
 * classifier (its weights carry 1/(H*W) and it reads the int32 sums), so
 * the pooled features are not rounded to int8.
 *
 * Calibration (calibrate.h) changes only the scales, the biases and the
 * int8 weight values, never the kernels' format:
 *  - each tensor's range is the one minimising its expected squared
 *    quantization error on the calibration values (rounding noise inside,
 *    clipping outside; PyTorch's HistogramObserver and ACIQ, Banner et al.
 *    2019, choose ranges by the same criterion), not their largest
 *    magnitude: it lowers the range to 0.70-0.99 of that (3 epochs),
 *    clipping a few outliers;
 *  - conv weights are rounded by GPTQ (Frantar et al. 2022, the optimal
 *    brain quantization of Frantar and Alistarh 2022 done row by row):
 *    one weight at a time at the row's scale max |w| / 127, its rounding
 *    error carried into the row's weights not yet rounded through the
 *    inverse of E[x x^T] of the conv's input patches on the calibration
 *    batch, so the row's output error is least on those inputs;
 *  - empirical bias correction (Nagel et al. 2019, "Data-Free
 *    Quantization", sec. 4.2): each conv row's and classifier row's
 *    expected output shift from its weight rounding, E[(Wq - W) x] with
 *    E[x] of its inputs on the calibration batch, is taken out of its
 *    bias (the reduction shortcuts, which have none in float, get one).
 * Measured on bench/bench_export.sh's C=16 N=5 model trained 3, 6 and 10
 * epochs (int8 host reference against the float model on the 596 held-out
 * images, calibrated on 64 training images; top-1 flips / RMS logit error
 * over the float logits' standard deviation; 1 BLAS thread, load 2-10):
 *                          3 epochs     6 epochs     10 epochs
 *   max ranges (before)    9 / 1.67%   12 / 2.29%   14 / 2.63%
 *   MSE ranges             9 / 1.64%    7 / 1.89%    8 / 2.27%
 *   bias correction        8 / 1.53%    6 / 2.33%   10 / 2.38%
 *   MSE + bias             8 / 1.53%   10 / 1.91%    9 / 2.04%
 *   MSE + bias + GPTQ      9 / 1.45%    5 / 1.68%    7 / 1.88%  (adopted)
 *   the same, 256 images   8 / 1.24%    4 / 1.55%    8 / 1.83%
 * (MSE + GPTQ without the bias correction: 8 / 1.75% at 6 epochs.)  The
 * logit error decided: it falls by 13-29% from max ranges to the adopted
 * calibration; the flip counts move by several images between variants
 * whose logit errors differ by a few percent (near-ties; even the float
 * reference's OpenBLAS thread count moves one image).  Agreement is
 * 98.5-99.2% at 64 images, short of 99% on the 3- and 10-epoch models.
 * More calibration images help GPTQ (its E[x x^T] of the last stage's
 * 576-element patches has 64 pixels an image) but not max ranges (11,
 * 12 flips, 1.73%, 2.53% with 256 images at 3 and 6 epochs: the maximum
 * grows with the batch).  The node rule binds on 1 of the 15 summing
 * nodes, by 4% (MSE ranges, 6 epochs): relaxing it (TFLite's ADD with
 * factors >= 1) would buy nothing.  What is left is activation rounding:
 * bench_quant's group table (6 epochs, the adopted calibration, each group
 * rounded alone in the float forward, logit error) gives the cell nodes
 * 1.13%, the conv edges 0.82%, the reductions 0.53%, the weights 0.49%
 * (1.22% before GPTQ), the stem 0.37%, the input 0.33%, the head 0.09%,
 * all 1.60%; 5 of its 6 flips have float top-2 margins under 5% of the
 * logits' standard deviation.
 *
 * Per-channel equalization does not shrink the cell nodes' share: scaling
 * each channel of the residual streams (nodes joined by skip or pool edges,
 * a cell's output with the next cell's input) by SmoothQuant's
 * s_c = max|x_c|^alpha / max|w_c|^(1 - alpha) (Xiao et al. 2023), folded
 * into the convs that write and read the stream and the head's scale, gave
 * the cell nodes 1.12%, 1.18% and 1.18% at alpha 0.5, 0.75 and 1 against
 * 1.05% without (3 epochs; bench_quant, each group rounded alone), all
 * groups 1.44%, 1.58%, 1.57% against 1.50%: the nodes' channels already
 * share one range closely enough that the rounding noise, not a wasted
 * range, is the error.  It was not adopted.
 *
 * What the int8 activations cost, and what 16 would buy (bench_quant's
 * simulated rounding, the same three models, 64 calibration images,
 * weights as deployed; top-1 flips of 596 / logit error; 1 BLAS thread):
 *                                   3 epochs     6 epochs     10 epochs
 *   all tensors int8 (simulated)     6 / 1.51%    7 / 1.59%    6 / 1.72%
 *   cell nodes 16-bit                7 / 1.22%    6 / 1.29%    5 / 1.42%
 *   nodes and conv edges 16-bit      4 / 0.89%    5 / 0.95%    5 / 1.06%
 *   every activation 16-bit          3 / 0.49%    2 / 0.52%    3 / 0.53%
 * (16-bit tensors at max |x| / 32767, int8 ones at the MSE ranges.)  Only
 * int16 activations throughout (TFLite's 16x8 mode, CMSIS-NN's s16
 * kernels) put every model above 99% in simulation; nodes alone do not.
 * That is another model (s16 kernels with int64 accumulators, twice the
 * activation SRAM, a latency table profiled for them), not this int8 one,
 * so it was not built.
 *
 * Not the luck of one model: trained with seeds 0-3 (3 epochs, the same
 * recipe and images), the adopted calibration flips 9, 11, 13 and 7 of
 * 596 (98.49, 98.15, 97.82, 98.83%; logit error 1.45-2.18%); pooled,
 * 2344 of 2384 agree, 98.32% (95% Wilson interval 97.7-98.8%), short of
 * 99% beyond the images' noise.  Nor do more calibration images reach it:
 * four models trained again the same way (seeds 0-3, 3 epochs, 42-44 s
 * each on 2 cores; float accuracy 31.9-35.9%) and deployed with 64, 256
 * and 1024 training images agreed on 2332, 2346 and 2343 of 2384 (97.82,
 * 98.41, 98.28%; per model 97.0-98.5, 97.5-99.0, 98.0-98.7%).  Nor
 * does longer training: trained 6 and 10 epochs (seeds 0-3, 64 images;
 * float accuracy 43.6-48.3% and 51.5-54.9%, 93 and 198 s for seed 0 on 2
 * shared cores), the models agree on 2339 and 2340 of 2384 (98.11 and
 * 98.15%; bench_export.sh with MN_BENCH_EPOCHS and MN_BENCH_SEEDS): fewer
 * near-ties, but a larger logit error (the logits spread further).
 *
 * The integer model against its simulation (bench_quant's "deployed" and
 * "all" rows, flips / logit error): 10 / 1.58% against 5 / 1.35% (6
 * epochs, seed 0), 10 / 2.04% against 9 / 1.85%, 10 / 2.37% against
 * 10 / 2.08%, 13 / 2.01% against 15 / 1.79% (10 epochs, seeds 0-2): the
 * integer details add 10-17% to the logit error, not to the flips beyond
 * their noise.  Most of it is the reduction shortcut's 2x2 pool, which
 * the int8 model rounds at its input's scale (as TFLite's AVERAGE_POOL_2D
 * does) and the simulation does not: rounding it there too made the
 * simulation 6 / 1.44% (6 epochs, seed 0), about 0.5 of the 0.8 points
 * the integer model adds in quadrature.  The reductions' scale rule
 * (max of the sum's and its inputs' ranges) did not bind on that model.
 *
 * Two more int8 variants, measured on the deployed int8 model (host
 * reference against the float forward, the same models and images; flips
 * of 596 / logit error at 3, 6, 10 epochs), neither adopted:
 *  - every conv edge that feeds a summing node requantized straight into
 *    the node's scale, so the Q15 adds become exact (one rounding per
 *    edge instead of two): 11 / 1.53%, 5 / 1.76%, 6 / 2.27% against the
 *    adopted 9 / 1.45%, 5 / 1.68%, 7 / 1.88%: the node's coarser step
 *    costs more than the add's rounding it saves;
 *  - quantization-aware training (model.py with per-tensor fake int8
 *    rounding and a straight-through gradient at every stored tensor,
 *    3 epochs, deployed as above): in the last epoch only 10 / 1.55%,
 *    from the first step 20 / 2.51%, against 9 / 1.45% trained without:
 *    it trains the network to run well rounded, not its float forward
 *    to agree with the rounded one, which is what agreement counts.
 *
 * Activations stay symmetric (TFLite's asymmetric zero points would buy
 * nothing here): every stored tensor is a BN output or a sum of them,
 * whose calibrated minimum and maximum differ in magnitude by at most a
 * factor 1.6; the one one-sided tensor, the head's ReLU output, reaches
 * the logits only through the pool's int32 sums (asymmetric [min, max]
 * scales gave 10 and 17 flips where symmetric gave 10 and 15 at 3 and 6
 * epochs, in an earlier variant).
 *
 * The result owns an mnq_net that fw-profiler/qnet.c runs: on the host it
 * is the int8 reference the board must reproduce bit for bit. */
#ifndef MN_QUANTIZE_H
#define MN_QUANTIZE_H

#include <stddef.h>
#include <stdint.h>

#include "export/weights_check.h"
#include "qnet.h"

struct mn_dataset; /* data/dataset.h */

/* The bounds of the model's numbers (quantize.c clamps to them; the int8
 * model file, qmodel_file.h, refuses what lies outside):
 *  - |conv bias|: qnet sums bias + cin k^2 products of at most 128 x 128
 *    in int32, so the bias leaves that room (cin k^2 <= 255 x 9 products
 *    need under 2^26);
 *  - the adds' Q15 factors, 1..32767 (mnk_add);
 *  - the head's Q14 scale and shift (mnk_bn_relu). */
#define MN_QBIAS_MAX 1073741824.0
#define MN_QADD_MIN 1
#define MN_QADD_MAX 32767
#define MN_QHEAD_SCALE_MAX 8388607.0
#define MN_QHEAD_SHIFT_MAX 536870912.0

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
 * protocol that feeds it, MODEL_INFO) can take the shape: any valid shape
 * (mn_shape_check) within the firmware's channel limits
 * (mn_board_channels_check); else -1 and one line saying so and what to
 * give instead. */
int mn_qmodel_shape_check(const struct mn_net_shape *s, char *err, size_t errn);

/* amax: largest |value| per slot (fnet.h), over the calibration batch.
 * 0, or -1 when out of memory or mn_qmodel_shape_check refuses the shape
 * (callers check first to say so). */
int mn_quantize(struct mn_qmodel *q, const struct mn_fnet *f, const float *amax);

/* What calibration found (calibrate.h): */
struct mn_qcalib {
	const float *range;              /* [slots]: the clipping range, scale = range / 127 */
	const double *const *patch_mean; /* NULL, or [convs] (fnet.h): each NULL or E[x] of
					  * the conv's input patch elements: bias correction */
	const double *pooled_mean;       /* NULL, or [4C]: E of the pooled features: the
					  * classifier's bias correction */
	const float *const *patch_cov;   /* NULL, or [convs]: each NULL or E[x x^T] of the
					  * conv's input patch (upper triangle): GPTQ */
	const int8_t *const *gptq;       /* NULL, or [convs]: each NULL or the conv's int8
					  * weights as mn_gptq_conv rounded them from its
					  * patch_cov (taken instead of rounding them here) */
};
/* Bias correction (Nagel et al. 2019, "Data-Free Quantization", sec. 4.2,
 * the empirical form): a weight row w[n] rounded to multiples of sw moves
 * its output's expectation by E[(Wq - W) x] = sum (wq_i - w_i) mean_i,
 * mean = E[x] of its inputs on the calibration batch; mn_quantize_calib
 * takes that out of the row's bias.  Returns the shift. */
double mn_qrow_shift(const float *w, int n, double sw, const double *mean);
/* GPTQ (Frantar et al. 2022): a row's weights rounded one at a time, each
 * rounding error carried into the weights not yet rounded so as to keep
 * the row's output on the calibration inputs, E[((Wq - W) x)^2], least.
 * mn_gptq_factor: U [K][K], the upper Cholesky factor of the inverse of
 * cov (E[x x^T], upper triangle) damped by 1% of its mean diagonal; 0, or
 * -1 when it is not positive definite.  mn_gptq_row: the int8 row q[K] at
 * the scale sw (plain rounding when U is NULL); tmp holds K doubles. */
int mn_gptq_factor(const float *cov, int K, double *U);
void mn_gptq_row(const float *w, int K, double sw, const double *U, double *tmp, int8_t *q);
/* A conv weight row's scale: max |w| / 127 (1 for a row of zeros). */
double mn_qrow_scale(const float *w, int K);
/* Every row of conv c by GPTQ on cov (E[x x^T] of its input patch, upper
 * triangle; plain rounding where it is not positive definite), each at its
 * scale max |w| / 127: q [cout][cin k k] in c's weight order.  A conv's
 * rows depend on nothing else, so callers may round convs in parallel.
 * 0, or -1 when out of memory. */
struct mn_fconv;
int mn_gptq_conv(const struct mn_fconv *c, const float *cov, int8_t *q);
/* mn_quantize with the ranges (and corrections) of c.  0 or -1, as it. */
int mn_quantize_calib(struct mn_qmodel *q, const struct mn_fnet *f, const struct mn_qcalib *c);
/* A model laid out as a calibrated one (every conv with a bias, as the
 * bias correction gives the reduction shortcuts one) but with placeholder
 * values, for mn_qmodel_load (qmodel_file.h) to fill: the int8 model file
 * gives every value, so calibrating first would be work thrown away
 * (about 1.3 s at C=16 N=5).  0 or -1, as mn_quantize. */
int mn_quantize_layout(struct mn_qmodel *q, const struct mn_fnet *f);
void mn_qmodel_free(struct mn_qmodel *q);
/* The lengths of a model's convs array (the stem, 3N x 6 edges, 6
 * reduction convs, fnet.h's numbering) and adds array (3N x 6 cell adds,
 * 2 reduction adds), for N cells. */
int mn_qmodel_conv_count(int cells);
int mn_qmodel_add_count(int cells);

/* x [C][H][W] (normalised float) -> img [H][W][C] int8 in the input scale. */
void mn_qmodel_quantize_input(const struct mn_qmodel *q, const float *x, int8_t *img);
/* The model's int8 input of every byte value of every channel of d's
 * images: table [C][256], entry (c, p) what mn_qmodel_quantize_input makes
 * of a pixel p of channel c once d has normalised it.  So a board reading
 * raw 8-bit pixels feeds the model exactly as deploy and validate do.  0,
 * or -1 when d holds no 8-bit pixels (float data) or has another channel
 * count than the model. */
int mn_qmodel_input_table(const struct mn_qmodel *q, const struct mn_dataset *d, int8_t *table);
/* 1 when mn_qmodel_input_table makes a table of d for q, else 0. */
int mn_qmodel_has_input_table(const struct mn_qmodel *q, const struct mn_dataset *d);
/* The host int8 reference: logits[classes] of one quantized image.  0, or
 * -1 when out of memory. */
int mn_qmodel_run(const struct mn_qmodel *q, const int8_t *img, int32_t *logits);

/* The index of the largest of n logits (the first on a tie): the top-1
 * class, for the float and the int8 model alike. */
int mn_argmax_f(const float *v, int n);
int mn_argmax_i(const int32_t *v, int n);

#endif
