/* An a-priori cycle model of int8 inference on a microcontroller, used to
 * fill a latency table before any board has been profiled.  The numbers are
 * estimates from instruction counts of CMSIS-NN-style kernels, not
 * measurements; `micronas profile` replaces them with measured ones.
 *
 * presets/nucleo-f746zg-latency.ini is this model's output for the
 * NUCLEO-F746ZG (Cortex-M7, 216 MHz) at C=16, N=5, 32x32, 10 classes;
 * tests/test_latency_table checks the file against the model and
 * regenerates it with --regenerate FILE. */
#ifndef MN_LATENCY_MODEL_H
#define MN_LATENCY_MODEL_H

#include "space/latency_table.h"

/* Costs in core clock cycles.  See latency_model.c for the reasoning
 * behind each constant of the Cortex-M7 model. */
struct mn_cycle_model {
	const char *name;
	double conv3x3_per_mac;   /* inner loop of a 3x3 convolution */
	double conv1x1_per_mac;   /* inner loop of a 1x1 convolution */
	double im2col_per_byte;   /* widening the 3x3 input patches to 16 bits */
	double requant_per_output;/* bias, rescale to int8, clamp, store */
	double relu_per_element;  /* a separate int8 ReLU pass */
	double pool_per_tap;      /* one input read and added in a pooling window */
	double pool_per_output;   /* the division and rescale of one pooled value */
	double add_per_element;   /* element-wise int8 addition with rescaling */
	double bn_per_element;    /* a stand-alone BN (+ ReLU) as a per-channel affine */
	double gap_per_element;   /* global average pool: one read and add */
	double fc_per_mac;        /* fully connected layer */
	double per_layer;         /* one kernel call: dispatch and set-up */
	double per_inference;     /* invoke, input copy, output read */
};

/* The Cortex-M7 (STM32F7) model. */
extern const struct mn_cycle_model mn_cycle_model_cortex_m7;
/* The Cortex-M4 (STM32F4, flash behind the ART accelerator) model. */
extern const struct mn_cycle_model mn_cycle_model_cortex_m4;

/* The header comment written into a generated table file (M7, M4). */
extern const char mn_latency_model_comment[];
extern const char mn_latency_model_comment_m4[];

/* Fills t with the model's latencies, in microseconds rounded to 0.001, for
 * a network of C channels, N cells per stage, an H x W input (each side
 * 4..1024, halved by mn_half_side at each reduction) and the given
 * classes, on a core running at clock_mhz.  board and source go into
 * [meta].  Returns 0, or -1 for out-of-range arguments. */
int mn_latency_model_table(const struct mn_cycle_model *m, const char *board, const char *source,
			   double clock_mhz, int channels, int cells, int height, int width,
			   int classes, struct mn_latency_table *t);

/* The same model with the NUCLEO-F746ZG's board name, source text and clock
 * (the embedded default when no preset names a table). */
int mn_latency_model_nucleo(int channels, int cells, int height, int width, int classes,
			    struct mn_latency_table *t);

/* The stem (3x3 conv, in_channels -> channels at H x W) in microseconds,
 * as the tables above compute it for in_channels = 3: for an input that is
 * not RGB (1 for grayscale). */
double mn_latency_model_stem_us(const struct mn_cycle_model *m, double clock_mhz, int in_channels,
				int channels, int height, int width);

/* The Cortex-M4 model for the NUCLEO-F446RE at 180 MHz:
 * presets/nucleo-f446re-latency.ini is its output at C=16, N=5, 32x32, 10
 * classes (tests/test_latency_m4 checks and regenerates it). */
int mn_latency_model_nucleo_f446re(int channels, int cells, int height, int width, int classes,
				   struct mn_latency_table *t);

#endif
