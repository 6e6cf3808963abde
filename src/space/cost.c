#include "space/cost.h"

#include <stdio.h>

int mn_stage_channels(const struct mn_net_shape *s, int stage) { return s->channels << stage; }
int mn_stage_side(const struct mn_net_shape *s, int stage) { return s->resolution >> stage; }
int mn_shape_input_channels(const struct mn_net_shape *s) { return s->input_channels ? s->input_channels : 3; }

int mn_shape_check(const struct mn_net_shape *s, char *msg, size_t n)
{
	/* Upper bounds keep every count far inside 64 bits and every buffer
	 * size inside what a microcontroller could hold anyway. */
	if (s->channels < 1 || s->channels > 1024)
		return snprintf(msg, n, "channels must be 1..1024, got %d", s->channels), -1;
	if (s->cells < 1 || s->cells > 64)
		return snprintf(msg, n, "cells must be 1..64, got %d", s->cells), -1;
	if (s->resolution < 4 || s->resolution > 1024 || s->resolution % 4)
		return snprintf(msg, n,
				"resolution must be a multiple of 4 in 4..1024 (two stride-2 reductions), got %d",
				s->resolution), -1;
	if (s->classes < 1 || s->classes > 100000)
		return snprintf(msg, n, "classes must be 1..100000, got %d", s->classes), -1;
	if (s->input_channels < 0 || s->input_channels > 4096)
		return snprintf(msg, n, "input channels must be 1..4096, got %d", s->input_channels), -1;
	return 0;
}

static uint64_t sq(uint64_t x) { return x * x; }

void mn_cost_mask(const uint8_t mask[MN_EDGES], const struct mn_net_shape *s,
		  struct mn_cost *out)
{
	uint64_t c = (uint64_t)s->channels, r = (uint64_t)s->resolution;
	uint64_t flops = 0, params = 0, ic = (uint64_t)mn_shape_input_channels(s);

	/* Stem: conv 3x3, input channels -> C, then BN. */
	flops += c * sq(r) * ic * 9;
	params += ic * 9 * c + 2 * c;

	for (int st = 0; st < 3; st++) {
		uint64_t cs = (uint64_t)mn_stage_channels(s, st), hs = (uint64_t)mn_stage_side(s, st);
		uint64_t cell_flops = 0, cell_params = 0;
		for (int e = 0; e < MN_EDGES; e++) {
			if (mask[e] & (1u << MN_OP_CONV1)) {
				cell_flops += sq(cs) * sq(hs);
				cell_params += sq(cs) + 2 * cs;
			}
			if (mask[e] & (1u << MN_OP_CONV3)) {
				cell_flops += 9 * sq(cs) * sq(hs);
				cell_params += 9 * sq(cs) + 2 * cs;
			}
		}
		flops += cell_flops * (uint64_t)s->cells;
		params += cell_params * (uint64_t)s->cells;
		if (st < 2) {
			/* Reduction: ReLU-conv3x3 s2 (cs -> 2cs)-BN, ReLU-conv3x3-BN,
			 * shortcut avgpool 2x2 then conv 1x1 (no BN). */
			uint64_t co = 2 * cs, ho = hs / 2;
			flops += co * sq(ho) * cs * 9 + co * sq(ho) * co * 9 + co * sq(ho) * cs;
			params += 9 * cs * co + 2 * co + 9 * co * co + 2 * co + cs * co;
		}
	}
	/* Head: BN + ReLU, global pool, linear 4C -> classes with bias. */
	uint64_t cl = 4 * c, k = (uint64_t)s->classes;
	params += 2 * cl;
	flops += cl * k + k;
	params += cl * k + k;
	out->flops = flops;
	out->params = params;
}

void mn_cost_arch(const struct mn_arch *a, const struct mn_net_shape *s, struct mn_cost *out)
{
	uint8_t mask[MN_EDGES];
	for (int e = 0; e < MN_EDGES; e++)
		mask[e] = (uint8_t)(1u << a->op[e]);
	mn_cost_mask(mask, s, out);
}
