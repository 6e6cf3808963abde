/* The memory model (src/space/memory.c) against the firmware's executor
 * (fw-profiler/exec.c, compiled for the host) at the shapes of the TinyML
 * workloads: 96x96x3 (Visual Wake Words), 49x10x1 (keyword spotting's MFCC
 * frames) and an odd, non-square 25x7x2.  The executor's planning pass
 * counts the live activation bytes of every buffer it allocates, so its
 * high-water mark must equal the model's peak SRAM for every arch (every
 * 7th of the 15625, and the first and last); one arch per shape is also
 * executed, which must reach the same peak. */
#include <stdlib.h>
#include <string.h>

#include "exec.h"
#include "space/arch.h"
#include "space/cost.h"
#include "space/memory.h"
#include "tap.h"

struct host {
	uint8_t *blob;
	int32_t *bias;
	uint8_t *arena;
	int8_t scratch[MNX_SCRATCH_BYTES];
	struct mnx_ctx ctx;
};

static int host_init(struct host *h, uint32_t arena_len)
{
	h->blob = malloc(MNP_BLOB_BYTES);
	h->bias = malloc(4u * MNP_BIAS_COUNT);
	h->arena = malloc(arena_len);
	if (!h->blob || !h->bias || !h->arena)
		return -1;
	mnp_blob_fill(h->blob);
	for (uint32_t i = 0; i < MNP_BIAS_COUNT; i++)
		h->bias[i] = mnp_bias_at(i);
	h->ctx = (struct mnx_ctx){(const int8_t *)h->blob, MNP_WEIGHTS_BYTES, h->bias, MNP_BIAS_COUNT,
				  h->arena, arena_len, h->scratch, MNX_SCRATCH_BYTES, NULL};
	return 0;
}

/* The RUN_ARCH request of arch a (validate.c's, without its square-RGB
 * check: the executor takes the input separately). */
static void request(const struct mn_arch *a, const struct mn_net_shape *s, struct mnp_run_req *rq,
		    uint64_t *sram)
{
	struct mn_memory m;
	mn_memory_arch(a, s, 0, &m);
	memset(rq, 0, sizeof *rq);
	rq->channels = (uint16_t)s->channels;
	rq->cells = (uint8_t)s->cells;
	rq->resolution = (uint16_t)s->height;
	rq->classes = (uint16_t)s->classes;
	for (int e = 0; e < MN_EDGES; e++)
		rq->ops[e] = a->op[e];
	rq->n_order = (uint8_t)m.order_len;
	for (int k = 0; k < m.order_len; k++)
		rq->order[k] = (uint8_t)m.order[k];
	rq->seed = 7;
	*sram = m.sram_bytes;
}

static void check_shape(struct host *h, const struct mn_net_shape *s, const char *name)
{
	struct mnx_input in = {(uint16_t)mn_shape_height(s), (uint16_t)mn_shape_width(s),
			       (uint16_t)mn_shape_input_channels(s)};
	int n = 0, same = 0, first_bad = -1;
	uint64_t bad_model = 0, bad_fw = 0;
	for (int i = 0; i < MN_ARCH_COUNT; i++) {
		if (i % 7 && i != 0 && i != MN_ARCH_COUNT - 1)
			continue;
		struct mn_arch a;
		struct mnp_run_req rq;
		struct mnx_run_result res;
		uint64_t sram;
		mn_arch_from_index(i, &a);
		request(&a, s, &rq, &sram);
		int rc = mnx_run_net(&h->ctx, &rq, &in, MNX_PLAN, &res);
		n++;
		if (rc == MNP_OK && res.peak == sram)
			same++;
		else if (first_bad < 0)
			first_bad = i, bad_model = sram, bad_fw = rc == MNP_OK ? res.peak : 0;
	}
	tap_ok(same == n, "%s: executor peak = model SRAM for %d of %d archs%s", name, same, n,
	       first_bad < 0 ? "" : " (first differing arch below)");
	if (first_bad >= 0)
		tap_diag("arch %d: model %llu, executor %llu bytes", first_bad,
			 (unsigned long long)bad_model, (unsigned long long)bad_fw);

	/* One arch run for real: the executed pass reaches the planned peak. */
	struct mn_arch a;
	struct mnp_run_req rq;
	struct mnx_run_result res;
	uint64_t sram;
	if (mn_arch_parse("|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|"
			  "nor_conv_3x3~1|nor_conv_3x3~2|",
			  &a, NULL) != 0)
		return;
	request(&a, s, &rq, &sram);
	int rc = mnx_run_net(&h->ctx, &rq, &in, MNX_EXEC, &res);
	tap_ok(rc == MNP_OK && res.peak == sram && res.logits_crc != 0,
	       "%s: an executed run peaks at the model's %llu bytes (executor %u, rc %d)", name,
	       (unsigned long long)sram, (unsigned)res.peak, rc);
}

int main(void)
{
	struct host h;
	if (host_init(&h, 8u << 20) != 0)
		return tap_ok(0, "memory for the host executor"), tap_done();
	struct mn_net_shape vww = {8, 1, 96, 2, 3, 96}, kws = {16, 2, 49, 12, 1, 10},
			    odd = {8, 1, 25, 5, 2, 7};
	check_shape(&h, &vww, "96x96x3 C=8 N=1");
	check_shape(&h, &kws, "49x10x1 C=16 N=2");
	check_shape(&h, &odd, "25x7x2 C=8 N=1");
	/* RUN_ARCH's own path is the R x R x 3 case of the same executor. */
	struct mn_net_shape sq = {8, 1, 32, 10, 3, 0};
	struct mn_arch a;
	struct mnp_run_req rq;
	struct mnx_run_result r1, r2;
	struct mnx_input in = {32, 32, 3};
	uint64_t sram;
	mn_arch_from_index(1234, &a);
	request(&a, &sq, &rq, &sram);
	int ok = mnx_run_arch(&h.ctx, &rq, MNX_EXEC, &r1) == MNP_OK &&
		 mnx_run_net(&h.ctx, &rq, &in, MNX_EXEC, &r2) == MNP_OK;
	tap_ok(ok && r1.logits_crc == r2.logits_crc && r1.peak == r2.peak && r1.peak == sram,
	       "RUN_ARCH at 32 = the executor at 32x32x3 (logits CRC %08x)", (unsigned)r1.logits_crc);
	free(h.blob), free(h.bias), free(h.arena);
	return tap_done();
}
