/* NAS-Bench-201's cost convention (reference.md section 1): FLOPs are the
 * multiply-accumulates of conv and linear layers plus the linear bias;
 * params are conv weights, BN gamma and beta, linear weights and bias.
 * Counts are exact integers; divide by 1e6 for the paper's units. */
#ifndef MN_COST_H
#define MN_COST_H

#include <stdint.h>

#include "space/arch.h"

/* The deployable network: stem (input_channels -> C), 3 stages of `cells` cells with C, 2C, 4C
 * channels at R, R/2, R/4, reduction blocks between, head. */
struct mn_net_shape {
	int channels;
	int cells;
	int resolution;
	int classes;
	/* Channels of the input image; 0 stands for 3 (RGB), so shapes written
	 * as {C, N, R, K} keep their meaning. */
	int input_channels;
};

#define MN_SHAPE_DEFAULT {16, 5, 32, 10, 3}

/* The input channels (input_channels, or 3 when 0). */
int mn_shape_input_channels(const struct mn_net_shape *s);

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

/* Channels and side of stage 0..2. */
int mn_stage_channels(const struct mn_net_shape *s, int stage);
int mn_stage_side(const struct mn_net_shape *s, int stage);

#endif
