/* One arch on the board against the estimates (see validate.h). */
#include "board/validate.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "space/memory.h"

int mn_board_channels_check(const struct mn_net_shape *s, char *err, size_t errn)
{
	int ic = mn_shape_input_channels(s);
	if (s->channels < 1 || 4u * (unsigned)s->channels > MNP_MAX_CHANNELS) {
		snprintf(err, errn, "channels %d: the firmware runs 1..%u (4C <= %u; choose fewer "
			 "channels)", s->channels, MNP_MAX_CHANNELS / 4, MNP_MAX_CHANNELS);
		return -1;
	}
	if (ic < 1 || ic > 255) {
		snprintf(err, errn, "input channels %d: the board protocol carries 1..255 (choose "
			 "fewer)", ic);
		return -1;
	}
	return 0;
}

int mn_validate_request(const struct mn_arch *a, const struct mn_net_shape *s, uint32_t seed,
			struct mnp_run_req *rq, uint64_t *est_sram_bytes, char *err, size_t errn)
{
	struct mn_memory m;

	/* The protocol's field widths and the firmware's limits (protocol.h). */
	if (mn_board_channels_check(s, err, errn) != 0)
		return -1;
	if (s->cells < 0 || (unsigned)s->cells > MNP_MAX_CELLS) {
		snprintf(err, errn, "cells %d: the firmware runs 0..%u per stage (choose fewer)",
			 s->cells, MNP_MAX_CELLS);
		return -1;
	}
	/* RUN_ARCH's short form carries R x R x 3 (R a multiple of 4) and
	 * every firmware of protocol 1 takes it; anything else travels in the
	 * long form (H, W, Cin), which older firmware refuses with a message
	 * saying to rebuild it (mn_board_run_arch). */
	int ic = mn_shape_input_channels(s), w = mn_shape_width(s);
	if (s->height < 4 || (unsigned)s->height > MNP_MAX_HW || w < 4 ||
	    (unsigned)w > MNP_MAX_HW) {
		snprintf(err, errn, "input %dx%d: the firmware runs sides of 4..%u pixels (choose "
			 "another resolution)", s->height, w, MNP_MAX_HW);
		return -1;
	}
	if (s->classes < 1 || (unsigned)s->classes > MNP_MAX_CLASSES) {
		snprintf(err, errn, "classes %d: the firmware runs 1..%u (choose fewer)", s->classes,
			 MNP_MAX_CLASSES);
		return -1;
	}
	mn_memory_arch(a, s, 0, &m);
	memset(rq, 0, sizeof *rq);
	rq->channels = (uint16_t)s->channels;
	rq->cells = (uint8_t)s->cells;
	rq->resolution = (uint16_t)s->height;
	rq->classes = (uint16_t)s->classes;
	for (int e = 0; e < MN_EDGES; e++)
		rq->ops[e] = a->op[e]; /* NB201 op indices on both sides */
	rq->n_order = (uint8_t)m.order_len;
	for (int k = 0; k < m.order_len; k++)
		rq->order[k] = (uint8_t)m.order[k];
	rq->seed = seed;
	if (!mn_shape_is_square(s) || ic != 3 || s->height % 4) {
		rq->width = (uint16_t)w;
		rq->input_channels = (uint8_t)ic;
	}
	if (est_sram_bytes)
		*est_sram_bytes = m.sram_bytes;
	return 0;
}

int mn_validate_arch(struct mn_board *b, const struct mn_arch *a, const struct mn_net_shape *s,
		     const struct mn_latency_table *t, uint32_t seed, struct mn_validation *v,
		     int *board_rc, char *err, size_t errn)
{
	struct mnp_run_req rq;
	const struct mn_board_info *info = mn_board_info(b);
	int r;

	*board_rc = 0;
	memset(v, 0, sizeof *v);
	if (mn_validate_request(a, s, seed, &rq, &v->estimated_sram_bytes, err, errn) != 0)
		return -1;
	mn_arch_format(a, v->arch, sizeof v->arch);
	snprintf(v->board, sizeof v->board, "%s", info->board);
	v->emulated = mn_board_is_emulated(b);
	r = mn_board_run_arch(b, &rq, &v->reply, err, errn);
	if (r != MN_BOARD_OK) {
		*board_rc = r;
		return -1;
	}
	v->measured_us = mn_board_units_to_us(b, v->reply.cycles);
	v->measured_sram_bytes = v->reply.peak_bytes;
	if (t) {
		v->estimated_us = mn_latency_arch_us(t, a);
		v->error_pct = v->measured_us > 0
				       ? (v->estimated_us - v->measured_us) / v->measured_us * 100.0
				       : NAN;
	} else {
		v->estimated_us = NAN;
		v->error_pct = NAN;
	}
	return 0;
}
