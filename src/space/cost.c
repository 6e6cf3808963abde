#include "space/cost.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

static int side_ok(long v) { return v >= 4 && v <= 1024; }

int mn_sides_parse(const char *text, int *height, int *width)
{
	char *end;
	errno = 0;
	long h = strtol(text, &end, 10), w;
	if (errno || end == text || !side_ok(h) || (*text < '0' || *text > '9'))
		return -1;
	if (*end == '\0') {
		w = h;
	} else {
		if (*end != 'x' && *end != 'X')
			return -1;
		const char *p = end + 1;
		if (*p < '0' || *p > '9')
			return -1;
		w = strtol(p, &end, 10);
		if (errno || *end || !side_ok(w))
			return -1;
	}
	*height = (int)h;
	*width = (int)w;
	return 0;
}

void mn_sides_format(int height, int width, char *buf, size_t n)
{
	if (width == 0 || width == height)
		snprintf(buf, n, "%d", height);
	else
		snprintf(buf, n, "%dx%d", height, width);
}

int mn_stage_channels(const struct mn_net_shape *s, int stage) { return s->channels << stage; }
int mn_side_after(int n, int k)
{
	while (k-- > 0)
		n = mn_half_side(n);
	return n;
}
int mn_shape_height(const struct mn_net_shape *s) { return s->height; }
int mn_shape_width(const struct mn_net_shape *s) { return s->width ? s->width : s->height; }
int mn_shape_is_square(const struct mn_net_shape *s) { return mn_shape_width(s) == s->height; }
int mn_stage_height(const struct mn_net_shape *s, int stage) { return mn_side_after(s->height, stage); }
int mn_stage_width(const struct mn_net_shape *s, int stage)
{
	return mn_side_after(mn_shape_width(s), stage);
}
int mn_shape_input_channels(const struct mn_net_shape *s) { return s->input_channels ? s->input_channels : 3; }

size_t mn_shape_input_values(const struct mn_net_shape *s)
{
	return (size_t)mn_shape_input_channels(s) * (size_t)s->height * (size_t)mn_shape_width(s);
}

int mn_shape_check(const struct mn_net_shape *s, char *msg, size_t n)
{
	/* Upper bounds keep every count far inside 64 bits and every buffer
	 * size inside what a microcontroller could hold anyway. */
	if (s->channels < 1 || s->channels > 1024)
		return snprintf(msg, n, "channels must be 1..1024, got %d", s->channels), -1;
	if (s->cells < 1 || s->cells > 64)
		return snprintf(msg, n, "cells must be 1..64, got %d", s->cells), -1;
	/* Any side works with the ceil(n / 2) rule; 4 keeps the last stage at
	 * least 1 x 1 with room for the 3x3 windows to mean something. */
	if (s->height < 4 || s->height > 1024)
		return snprintf(msg, n, "input height must be 4..1024, got %d", s->height), -1;
	if (s->width != 0 && (s->width < 4 || s->width > 1024))
		return snprintf(msg, n, "input width must be 4..1024, got %d", s->width), -1;
	if (s->classes < 1 || s->classes > 100000)
		return snprintf(msg, n, "classes must be 1..100000, got %d", s->classes), -1;
	if (s->input_channels < 0 || s->input_channels > 4096)
		return snprintf(msg, n, "input channels must be 1..4096, got %d", s->input_channels), -1;
	return 0;
}


void mn_cost_mask(const uint8_t mask[MN_EDGES], const struct mn_net_shape *s,
		  struct mn_cost *out)
{
	uint64_t c = (uint64_t)s->channels;
	uint64_t flops = 0, params = 0, ic = (uint64_t)mn_shape_input_channels(s);
	uint64_t px0 = (uint64_t)mn_stage_height(s, 0) * (uint64_t)mn_stage_width(s, 0);

	/* Stem: conv 3x3, input channels -> C, then BN. */
	flops += c * px0 * ic * 9;
	params += ic * 9 * c + 2 * c;

	for (int st = 0; st < 3; st++) {
		uint64_t cs = (uint64_t)mn_stage_channels(s, st);
		uint64_t px = (uint64_t)mn_stage_height(s, st) * (uint64_t)mn_stage_width(s, st);
		uint64_t cell_flops = 0, cell_params = 0;
		for (int e = 0; e < MN_EDGES; e++) {
			if (mask[e] & (1u << MN_OP_CONV1)) {
				cell_flops += cs * cs * px;
				cell_params += cs * cs + 2 * cs;
			}
			if (mask[e] & (1u << MN_OP_CONV3)) {
				cell_flops += 9 * cs * cs * px;
				cell_params += 9 * cs * cs + 2 * cs;
			}
		}
		flops += cell_flops * (uint64_t)s->cells;
		params += cell_params * (uint64_t)s->cells;
		if (st < 2) {
			/* Reduction: ReLU-conv3x3 s2 (cs -> 2cs)-BN, ReLU-conv3x3-BN,
			 * shortcut avgpool 2x2 then conv 1x1 (no BN). */
			uint64_t co = 2 * cs;
			uint64_t po = (uint64_t)mn_stage_height(s, st + 1) * (uint64_t)mn_stage_width(s, st + 1);
			flops += co * po * cs * 9 + co * po * co * 9 + co * po * cs;
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
