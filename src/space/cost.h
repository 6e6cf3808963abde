/* NAS-Bench-201's cost convention (reference.md section 1): FLOPs are the
 * multiply-accumulates of conv and linear layers plus the linear bias;
 * params are conv weights, BN gamma and beta, linear weights and bias.
 * Counts are exact integers; divide by 1e6 for the paper's units. */
#ifndef MN_COST_H
#define MN_COST_H

#include <stddef.h>
#include <stdint.h>

#include "space/arch.h"

/* The deployable network: stem (input_channels -> C), 3 stages of `cells` cells with C, 2C, 4C
 * channels at H x W, then each side halved by the rule below, reduction blocks between, head. */
struct mn_net_shape {
	int channels;
	int cells;
	int height;  /* input height; the side of a square input */
	int classes;
	/* Channels of the input image; 0 stands for 3 (RGB), so shapes written
	 * as {C, N, R, K} keep their meaning. */
	int input_channels;
	/* Input width; 0 stands for height (square), for the same reason. */
	int width;
};

/* The one rule for a stride-2 reduction of a side of n pixels, used by the
 * cost, memory and latency models, the float network, the exported
 * PyTorch model and the firmware: ceil(n / 2).  It is what PyTorch gives
 * for NB201's 3x3 stride-2 convolution with padding 1 (floor((n - 1) / 2)
 * + 1); the 2x2 average pool of the shortcut matches it with ceil_mode,
 * its last window clipped to the input and divided by the pixels it
 * covers.  For sides that are multiples of 4 this is n / 2 exactly. */
static inline int mn_half_side(int n) { return (n + 1) / 2; }

#define MN_SHAPE_DEFAULT {16, 5, 32, 10, 3, 0}

/* The input channels (input_channels, or 3 when 0). */
int mn_shape_input_channels(const struct mn_net_shape *s);
/* Values of one input image, channels x height x width: the int8 bytes
 * a deployed model takes, the floats of the float forward. */
size_t mn_shape_input_values(const struct mn_net_shape *s);

/* 0 if the shape is usable, else -1 with a one-line reason in msg. */
int mn_shape_check(const struct mn_net_shape *s, char *msg, size_t n);

struct mn_cost {
	uint64_t flops;  /* multiply-accumulates */
	uint64_t params;
};

/* Cost of a mixed network: each edge runs every op in its bitmask
 * (bit op set = op active), as a supernet does. */
void mn_cost_mask(const uint8_t mask[MN_EDGES], const struct mn_net_shape *s,
		  struct mn_cost *out);
void mn_cost_arch(const struct mn_arch *a, const struct mn_net_shape *s,
		  struct mn_cost *out);

/* Reads an input size written as "R" (square) or "HxW", each side in
 * 4..1024: 0, or -1 when text is neither. */
int mn_sides_parse(const char *text, int *height, int *width);
/* Writes "R" for a square, "HxW" otherwise (buf of 16 bytes is enough). */
void mn_sides_format(int height, int width, char *buf, size_t n);

/* Input height and width (width 0 read as the height, input_channels 0 as 3). */
int mn_shape_height(const struct mn_net_shape *s);
int mn_shape_width(const struct mn_net_shape *s);
int mn_shape_is_square(const struct mn_net_shape *s);
/* Channels, height and width of stage 0..2 (stage s: mn_half_side applied
 * s times). */
int mn_stage_channels(const struct mn_net_shape *s, int stage);
int mn_stage_height(const struct mn_net_shape *s, int stage);
int mn_stage_width(const struct mn_net_shape *s, int stage);
/* n after k reductions. */
int mn_side_after(int n, int k);

#endif
