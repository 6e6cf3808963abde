#include "space/memory.h"

#include <string.h>

const char *mn_mem_phase_name(enum mn_mem_phase p)
{
	switch (p) {
	case MN_PHASE_STEM: return "stem";
	case MN_PHASE_CELL: return "cell";
	case MN_PHASE_REDUCTION: return "reduction";
	case MN_PHASE_HEAD: return "head";
	}
	return "?";
}

/* Simulates the executor's buffer rules (see micronas(1), MEMORY MODEL):
 * every tensor in a cell has the same size, so sizes are counted in units. */
int mn_cell_peak_units(const struct mn_arch *a, const int *order, int len)
{
	int readers[MN_NODES] = {0}, inputs[MN_NODES] = {0}, done_inputs[MN_NODES] = {0};
	int has_buf[MN_NODES] = {0};
	int used[MN_EDGES] = {0};
	int live, peak, nonnone = 0;

	for (int e = 0; e < MN_EDGES; e++) {
		if (a->op[e] == MN_OP_NONE)
			continue;
		nonnone++;
		readers[mn_edge_from(e)]++;
		inputs[mn_edge_to(e)]++;
	}
	if (len != nonnone)
		return -1;
	/* The cell input arrives live; it dies at once if nothing reads it. */
	has_buf[0] = 1;
	live = peak = 1;
	if (readers[0] == 0) {
		has_buf[0] = 0;
		live = 0;
	}
	for (int k = 0; k < len; k++) {
		int e = order[k];
		if (e < 0 || e >= MN_EDGES || used[e] || a->op[e] == MN_OP_NONE)
			return -1;
		used[e] = 1;
		int j = mn_edge_from(e), i = mn_edge_to(e);
		if (done_inputs[j] != inputs[j])
			return -1; /* reads a node that is not complete yet */
		if (!has_buf[j]) {
			/* A node without inputs is zeros, materialised on first use. */
			has_buf[j] = 1;
			if (++live > peak)
				peak = live;
		}
		readers[j]--;
		int last_read = readers[j] == 0;
		if (a->op[e] == MN_OP_SKIP) {
			if (!has_buf[i]) {
				if (last_read) {
					has_buf[j] = 0; /* node i takes over j's buffer */
				} else if (++live > peak) {
					peak = live; /* a copy */
				}
				has_buf[i] = 1;
			} else if (last_read) {
				has_buf[j] = 0; /* added in place into node i */
				live--;
			}
		} else {
			if (++live > peak)
				peak = live; /* the op's output, with node j still live */
			if (last_read) {
				has_buf[j] = 0;
				live--;
			}
			if (!has_buf[i])
				has_buf[i] = 1; /* the output becomes node i */
			else
				live--; /* accumulated in place, output freed */
		}
		done_inputs[i]++;
		/* A finished node that nothing reads (not the output) is dead. */
		if (i != MN_NODES - 1 && done_inputs[i] == inputs[i] && readers[i] == 0) {
			has_buf[i] = 0;
			live--;
		}
	}
	if (!has_buf[MN_NODES - 1] && ++live > peak)
		peak = live; /* an output with no inputs is zeros */
	return peak;
}

/* Tries every permutation of the non-none edges (at most 6! = 720). */
static void plan_rec(const struct mn_arch *a, int *cur, int depth, int len, int *used,
		     int *best, int *best_order)
{
	if (depth == len) {
		int p = mn_cell_peak_units(a, cur, len);
		if (p >= 0 && (*best < 0 || p < *best)) {
			*best = p;
			memcpy(best_order, cur, sizeof(int) * (size_t)len);
		}
		return;
	}
	for (int e = 0; e < MN_EDGES; e++) {
		if (used[e] || a->op[e] == MN_OP_NONE)
			continue;
		/* Only topological prefixes: every input edge of the source node
		 * must already be placed. */
		int ready = 1;
		for (int f = 0; f < MN_EDGES; f++)
			if (a->op[f] != MN_OP_NONE && !used[f] && mn_edge_to(f) == mn_edge_from(e))
				ready = 0;
		if (!ready)
			continue;
		used[e] = 1;
		cur[depth] = e;
		plan_rec(a, cur, depth + 1, len, used, best, best_order);
		used[e] = 0;
	}
}

int mn_cell_plan(const struct mn_arch *a, int order[MN_EDGES], int *len)
{
	int cur[MN_EDGES], used[MN_EDGES] = {0}, best = -1, n = 0;
	for (int e = 0; e < MN_EDGES; e++)
		n += a->op[e] != MN_OP_NONE;
	plan_rec(a, cur, 0, n, used, &best, order);
	*len = n;
	return best;
}

static uint64_t max64(uint64_t a, uint64_t b) { return a > b ? a : b; }

void mn_memory_arch(const struct mn_arch *a, const struct mn_net_shape *s,
		    uint64_t runtime_flash_bytes, struct mn_memory *out)
{
	uint64_t c = (uint64_t)s->channels, k = (uint64_t)s->classes;
	uint64_t px0 = (uint64_t)mn_stage_height(s, 0) * (uint64_t)mn_stage_width(s, 0);
	uint64_t w = 0, b = 0, peak, v, ic = (uint64_t)mn_shape_input_channels(s);

	memset(out, 0, sizeof *out);
	/* Flash: stem conv (BN folded into its bias). */
	w += 9 * ic * c;
	b += c;
	for (int st = 0; st < 3; st++) {
		uint64_t cs = (uint64_t)mn_stage_channels(s, st);
		for (int e = 0; e < MN_EDGES; e++) {
			if (a->op[e] == MN_OP_CONV1 || a->op[e] == MN_OP_CONV3) {
				w += (a->op[e] == MN_OP_CONV3 ? 9 : 1) * cs * cs * (uint64_t)s->cells;
				b += cs * (uint64_t)s->cells;
			}
		}
		if (st < 2) /* conv_a, conv_b with folded BN; shortcut conv without bias */
			w += 18 * cs * cs + 36 * cs * cs + 2 * cs * cs, b += 4 * cs;
	}
	/* Final BN as a per-channel int8 scale and int32 bias; linear layer. */
	w += 4 * c + 4 * c * k;
	b += 4 * c + k;
	out->weight_bytes = w;
	out->bias_bytes = 4 * b;
	out->flash_bytes = w + 4 * b + runtime_flash_bytes;

	/* SRAM: stem (image and stem output live together). */
	peak = ic * px0 + c * px0;
	out->peak_phase = MN_PHASE_STEM;
	out->cell_units = mn_cell_plan(a, out->order, &out->order_len);
	for (int st = 0; st < 3; st++) {
		uint64_t cs = (uint64_t)mn_stage_channels(s, st);
		uint64_t px = (uint64_t)mn_stage_height(s, st) * (uint64_t)mn_stage_width(s, st);
		v = (uint64_t)out->cell_units * cs * px;
		if (v > peak)
			peak = v, out->peak_phase = MN_PHASE_CELL, out->peak_stage = st;
		if (st < 2) {
			/* Order a, p, (x freed), b, (a freed), s, (p freed), b += s. */
			uint64_t po = (uint64_t)mn_stage_height(s, st + 1) * (uint64_t)mn_stage_width(s, st + 1);
			uint64_t x = cs * px, ya = 2 * cs * po, yp = cs * po;
			v = max64(x + ya + yp, max64(ya + yp + ya, yp + ya + ya));
			if (v > peak)
				peak = v, out->peak_phase = MN_PHASE_REDUCTION, out->peak_stage = st;
		}
	}
	/* Head: in-place BN+ReLU, pooled int8 vector, int32 logits. */
	uint64_t px3 = (uint64_t)mn_stage_height(s, 2) * (uint64_t)mn_stage_width(s, 2);
	v = max64(4 * c * px3 + 4 * c, 4 * c + 4 * k);
	if (v > peak)
		peak = v, out->peak_phase = MN_PHASE_HEAD, out->peak_stage = 2;
	out->sram_bytes = peak;
}
