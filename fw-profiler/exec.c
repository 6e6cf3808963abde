/* NB201 executor: arena allocator with peak accounting, synthetic model,
 * network sections and the single-op runner.  See exec.h and the "Memory
 * rules" of PROTOCOL.md, which this file implements step by step. */
#include "exec.h"

#include <string.h>

#include "kernels.h"
#include "qnet.h"

/* ---- Arena ----------------------------------------------------------- */

/* At most 5 buffers are live at once (a cell's nodes 0..3 plus an edge
 * output); 8 leaves room. */
#define MAX_BUFS 8

struct arena {
	uint8_t *base;
	uint32_t cap;
	int exec; /* 0: count bytes only (plan) */
	uint32_t off[MAX_BUFS], size[MAX_BUFS], asize[MAX_BUFS];
	uint8_t used[MAX_BUFS];
	uint32_t live, live_aligned;
	uint32_t peak, peak_aligned, sec_peak;
	uint32_t compactions;
};

static uint32_t align4(uint32_t n)
{
	return (n + 3u) & ~3u;
}

static void ar_init(struct arena *a, uint8_t *base, uint32_t cap, int exec)
{
	memset(a, 0, sizeof *a);
	a->base = base;
	a->cap = cap;
	a->exec = exec;
}

static int overlaps(const struct arena *a, uint32_t pos, uint32_t n)
{
	for (int j = 0; j < MAX_BUFS; j++)
		if (a->used[j] && pos < a->off[j] + a->asize[j] &&
		    a->off[j] < pos + n)
			return 1;
	return 0;
}

/* Lowest address where n bytes fit between live buffers, or -1. */
static int64_t find_gap(const struct arena *a, uint32_t n)
{
	int64_t best = -1;
	for (int j = -1; j < MAX_BUFS; j++) {
		uint32_t pos;
		if (j >= 0 && !a->used[j])
			continue;
		pos = j < 0 ? 0 : a->off[j] + a->asize[j];
		if ((uint64_t)pos + n > a->cap || overlaps(a, pos, n))
			continue;
		if (best < 0 || pos < best)
			best = pos;
	}
	return best;
}

/* Slide every live buffer down, in address order, so the free space is
 * one block at the top.  Only needed when no gap fits although the total
 * free space does. */
static void compact(struct arena *a)
{
	uint32_t pos = 0;
	uint8_t done[MAX_BUFS] = {0};
	for (;;) {
		int lo = -1;
		for (int j = 0; j < MAX_BUFS; j++)
			if (a->used[j] && !done[j] &&
			    (lo < 0 || a->off[j] < a->off[lo]))
				lo = j;
		if (lo < 0)
			break;
		if (a->off[lo] != pos)
			memmove(a->base + pos, a->base + a->off[lo], a->size[lo]);
		a->off[lo] = pos;
		pos += a->asize[lo];
		done[lo] = 1;
	}
	a->compactions++;
}

/* Allocate n bytes; returns a handle >= 0, or a negative MNP_ERR_*.
 * Pointers into the arena stay valid only until the next allocation
 * (compaction may move buffers), so callers fetch them after allocating. */
static int ar_alloc(struct arena *a, uint32_t n)
{
	int h = -1;
	uint32_t an = align4(n);
	for (int j = 0; j < MAX_BUFS; j++)
		if (!a->used[j]) {
			h = j;
			break;
		}
	if (h < 0)
		return -MNP_ERR_INTERNAL;
	if (a->exec) {
		int64_t pos;
		if (a->live_aligned + an > a->cap)
			return -MNP_ERR_OUT_OF_MEMORY;
		pos = find_gap(a, an);
		if (pos < 0) {
			compact(a);
			pos = find_gap(a, an);
			if (pos < 0)
				return -MNP_ERR_INTERNAL;
		}
		a->off[h] = (uint32_t)pos;
	}
	a->used[h] = 1;
	a->size[h] = n;
	a->asize[h] = an;
	a->live += n;
	a->live_aligned += an;
	if (a->live > a->peak)
		a->peak = a->live;
	if (a->live > a->sec_peak)
		a->sec_peak = a->live;
	if (a->live_aligned > a->peak_aligned)
		a->peak_aligned = a->live_aligned;
	return h;
}

static void ar_free(struct arena *a, int h)
{
	if (h < 0 || h >= MAX_BUFS || !a->used[h])
		return;
	a->used[h] = 0;
	a->live -= a->size[h];
	a->live_aligned -= a->asize[h];
}

static int8_t *ar_ptr(const struct arena *a, int h)
{
	return (int8_t *)(a->base + a->off[h]);
}

/* ---- Executor state -------------------------------------------------- */

struct ex {
	const struct mnx_ctx *ctx;
	struct arena ar;
	uint32_t seed;
};

static int exec_mode(const struct ex *e)
{
	return e->ar.exec;
}

static uint64_t now(const struct ex *e)
{
	return (e->ar.exec && e->ctx->now) ? e->ctx->now() : 0;
}

#define TRY(x)                                                                 \
	do {                                                                   \
		int rc_ = (x);                                                 \
		if (rc_ != MNP_OK)                                             \
			return rc_;                                            \
	} while (0)

/* Allocate into *h (rc style). */
static int alloc(struct ex *e, uint32_t n, int *h)
{
	int r = ar_alloc(&e->ar, n);
	if (r < 0)
		return -r;
	*h = r;
	return MNP_OK;
}

static void fill(struct ex *e, int h, uint32_t n, uint32_t tag)
{
	struct mnp_prng r;
	if (!exec_mode(e))
		return;
	mnp_prng_seed(&r, e->seed ^ mnp_mix32(tag));
	mnp_prng_fill_i8(&r, ar_ptr(&e->ar, h), n);
}

/* ---- Synthetic model parameters -------------------------------------- */

struct layer {
	const int8_t *w;
	const int32_t *b;
	int32_t mult;
	int shift;
	int32_t ma, mb; /* add rescaling (Q15) */
};

static int bitlen(uint32_t v)
{
	int n = 0;
	while (v) {
		n++;
		v >>= 1;
	}
	return n;
}

/* Layer `id` takes wbytes weights and nbias biases at offsets hashed from
 * (seed, id); the requantisation scale ~ 2^-(6 + bitlen(K)/2) keeps the
 * outputs of a K-input dot product of uniform int8 values in range. */
static int layer_get(struct ex *e, uint32_t id, uint32_t wbytes, uint32_t nbias,
		     uint32_t K, struct layer *L)
{
	const struct mnx_ctx *c = e->ctx;
	uint32_t h = mnp_mix32(e->seed ^ mnp_mix32(id + 0x1000u));

	if ((uint64_t)wbytes + MNK_WEIGHT_SLACK > c->weights_len ||
	    nbias > c->biases_len)
		return MNP_ERR_UNSUPPORTED;
	L->w = c->weights +
	       ((h % (c->weights_len - wbytes - MNK_WEIGHT_SLACK + 1u)) & ~3u);
	L->b = c->biases + mnp_mix32(h ^ 0xB1u) % (c->biases_len - nbias + 1u);
	L->mult = (int32_t)(0x40000000u | (mnp_mix32(h ^ 0x3Du) & 0x3FFFFFFFu));
	L->shift = 6 + (bitlen(K) + 1) / 2;
	if (L->shift > 30)
		L->shift = 30;
	L->ma = 16384 + (int32_t)(mnp_mix32(h ^ 0xA1u) % 9830u);
	L->mb = 16384 + (int32_t)(mnp_mix32(h ^ 0xA2u) % 9830u);
	return MNP_OK;
}

/* Layer ids: fixed per position in the network, independent of the edge
 * execution order. */
#define ID_STEM 1u
#define ID_RED(r) (10u + 4u * (r)) /* +0 conv_a, +1 conv_b, +2 shortcut, +3 add */
#define ID_HEAD 20u                /* +0 BN, +1 linear */
#define ID_EDGE(s, c, e) (100u + ((s) * MNP_MAX_CELLS + (c)) * 8u + (e))
#define ID_ADD(s, c, e) (2000u + ((s) * MNP_MAX_CELLS + (c)) * 8u + (e))
#define ID_OP 900u

/* ---- Kernel calls (skipped when planning) ---------------------------- */

static int conv(struct ex *e, int in, int out, int h, int w, int cin, int cout,
		int k, int stride, int relu, int bias, uint32_t id)
{
	struct layer L;
	uint32_t K = (uint32_t)(k * k * cin);
	TRY(layer_get(e, id, K * (uint32_t)cout, bias ? (uint32_t)cout : 0u, K, &L));
	if ((uint32_t)mnk_conv_scratch(k, cin) > e->ctx->scratch_len || cin > (int)MNP_MAX_CHANNELS ||
	    cout > (int)MNP_MAX_CHANNELS)
		return MNP_ERR_UNSUPPORTED;
	if (exec_mode(e)) {
		/* The deployed model's convolution (qnet.h: a multiplier and a
		 * shift per output channel, as CMSIS-NN's arm_convolve_s8), so
		 * that a profiled op costs what it costs in a deployed model;
		 * the synthetic layer's one scale repeated per channel gives
		 * the per-tensor kernel's outputs bit for bit. */
		int32_t mult[MNP_MAX_CHANNELS];
		int8_t shift[MNP_MAX_CHANNELS];
		for (int oc = 0; oc < cout; oc++) {
			mult[oc] = L.mult;
			shift[oc] = (int8_t)L.shift;
		}
		mnq_conv(ar_ptr(&e->ar, in), h, w, cin, L.w, bias ? L.b : NULL, cout, k, stride,
			 relu, mult, shift, ar_ptr(&e->ar, out));
	}
	return MNP_OK;
}

static int add(struct ex *e, int acc, int x, uint32_t n, uint32_t id)
{
	struct layer L;
	TRY(layer_get(e, id, 0, 0, 1, &L));
	if (exec_mode(e))
		mnk_add(ar_ptr(&e->ar, acc), ar_ptr(&e->ar, x), n, L.ma, L.mb);
	return MNP_OK;
}

static int zero_buffer(struct ex *e, uint32_t n, int *h)
{
	TRY(alloc(e, n, h));
	if (exec_mode(e))
		memset(ar_ptr(&e->ar, *h), 0, n);
	return MNP_OK;
}

/* ---- Network pieces -------------------------------------------------- */

static const uint8_t edge_src[6] = {0, 0, 1, 0, 1, 2};
static const uint8_t edge_dst[6] = {1, 2, 2, 3, 3, 3};

/* Check the cell's ops and edge order (same for every cell). */
static int check_cell(const struct mnp_run_req *rq)
{
	uint8_t seen[6] = {0}, inputs_left[4] = {0};
	int n_active = 0;
	for (int i = 0; i < 6; i++) {
		if (rq->ops[i] > MNP_NB_AVGPOOL)
			return MNP_ERR_UNSUPPORTED;
		if (rq->ops[i] != MNP_NB_NONE) {
			n_active++;
			inputs_left[edge_dst[i]]++;
		}
	}
	if (rq->n_order != n_active)
		return MNP_ERR_BAD_REQUEST;
	for (int k = 0; k < rq->n_order; k++) {
		uint8_t ed = rq->order[k];
		if (ed >= 6 || rq->ops[ed] == MNP_NB_NONE || seen[ed])
			return MNP_ERR_BAD_REQUEST;
		/* An edge may run only once its source node is complete. */
		if (inputs_left[edge_src[ed]] != 0)
			return MNP_ERR_BAD_REQUEST;
		seen[ed] = 1;
		inputs_left[edge_dst[ed]]--;
	}
	return MNP_OK;
}

static int cell(struct ex *e, const struct mnp_run_req *rq, int in, int c,
		int h, int w, uint32_t stage, uint32_t idx, int *out)
{
	uint32_t S = (uint32_t)c * (uint32_t)h * (uint32_t)w;
	int node[4] = {in, -1, -1, -1};
	uint8_t readers[4] = {0}, readers0[4], inputs_left[4] = {0};

	for (int i = 0; i < 6; i++)
		if (rq->ops[i] != MNP_NB_NONE) {
			readers[edge_src[i]]++;
			inputs_left[edge_dst[i]]++;
		}
	memcpy(readers0, readers, sizeof readers);
	/* The cell input is freed at once when no edge reads it. */
	if (readers[0] == 0) {
		ar_free(&e->ar, node[0]);
		node[0] = -1;
	}
	for (int k = 0; k < rq->n_order; k++) {
		int ed = rq->order[k], j = edge_src[ed], i = edge_dst[ed];
		uint8_t op = rq->ops[ed];
		/* A node without non-none inputs reads as zeros. */
		if (node[j] < 0)
			TRY(zero_buffer(e, S, &node[j]));
		if (op == MNP_NB_SKIP) {
			readers[j]--;
			if (node[i] < 0) {
				if (readers[j] == 0) {
					/* last read: take the buffer over */
					node[i] = node[j];
					node[j] = -1;
				} else {
					TRY(alloc(e, S, &node[i]));
					if (exec_mode(e))
						memcpy(ar_ptr(&e->ar, node[i]),
						       ar_ptr(&e->ar, node[j]), S);
				}
			} else {
				TRY(add(e, node[i], node[j], S, ID_ADD(stage, idx, ed)));
				if (readers[j] == 0) {
					ar_free(&e->ar, node[j]);
					node[j] = -1;
				}
			}
		} else {
			int o;
			/* the output is allocated while node j is live */
			TRY(alloc(e, S, &o));
			if (op == MNP_NB_AVGPOOL) {
				if (exec_mode(e))
					mnk_avgpool3x3(ar_ptr(&e->ar, node[j]), h, w, c,
						       ar_ptr(&e->ar, o));
			} else {
				int ks = op == MNP_NB_CONV3X3 ? 3 : 1;
				TRY(conv(e, node[j], o, h, w, c, c, ks, 1, 1, 1,
					 ID_EDGE(stage, idx, ed)));
			}
			readers[j]--;
			if (readers[j] == 0) {
				ar_free(&e->ar, node[j]);
				node[j] = -1;
			}
			if (node[i] < 0) {
				node[i] = o;
			} else {
				TRY(add(e, node[i], o, S, ID_ADD(stage, idx, ed)));
				ar_free(&e->ar, o);
			}
		}
		/* A finished node that nothing reads (dead edge) is freed. */
		inputs_left[i]--;
		if (inputs_left[i] == 0 && i != 3 && readers0[i] == 0) {
			ar_free(&e->ar, node[i]);
			node[i] = -1;
		}
	}
	if (node[3] < 0)
		TRY(zero_buffer(e, S, &node[3]));
	for (int i = 0; i < 3; i++)
		if (node[i] >= 0)
			return MNP_ERR_INTERNAL; /* every node is dead by now */
	*out = node[3];
	return MNP_OK;
}

/* ResNet basic block C -> 2C at half resolution.  keep_x: the input stays
 * allocated (op profiling); in the network it is freed after the pool. */
static int reduction(struct ex *e, int x, int c, int h, int w, int keep_x,
		     uint32_t id, int *out)
{
	int c2 = 2 * c, ho = (h + 1) / 2, wo = (w + 1) / 2; /* ceil: the stride-2 conv's size */
	uint32_t n2 = (uint32_t)c2 * (uint32_t)ho * (uint32_t)wo;
	int a, p, b, s;

	TRY(alloc(e, n2, &a));
	TRY(conv(e, x, a, h, w, c, c2, 3, 2, 1, 1, id + 0));
	TRY(alloc(e, (uint32_t)c * (uint32_t)ho * (uint32_t)wo, &p));
	if (exec_mode(e))
		mnk_avgpool2x2s2(ar_ptr(&e->ar, x), h, w, c, ar_ptr(&e->ar, p));
	if (!keep_x)
		ar_free(&e->ar, x);
	TRY(alloc(e, n2, &b));
	TRY(conv(e, a, b, ho, wo, c2, c2, 3, 1, 1, 1, id + 1));
	ar_free(&e->ar, a);
	TRY(alloc(e, n2, &s));
	TRY(conv(e, p, s, ho, wo, c, c2, 1, 1, 0, 0, id + 2));
	ar_free(&e->ar, p);
	TRY(add(e, b, s, n2, id + 3));
	ar_free(&e->ar, s);
	*out = b;
	return MNP_OK;
}

/* BN + ReLU in place, global average pool, linear -> int32 logits. */
static int head(struct ex *e, int x, int c, int hw, int classes, int keep_x,
		uint32_t id, int *out)
{
	struct layer bn, fc;
	int pooled, logits;

	TRY(layer_get(e, id + 0, (uint32_t)c, (uint32_t)c, 1, &bn));
	TRY(layer_get(e, id + 1, (uint32_t)c * (uint32_t)classes,
		      (uint32_t)classes, 1, &fc));
	if (exec_mode(e)) {
		int32_t g[MNP_MAX_CHANNELS], b[MNP_MAX_CHANNELS];
		for (int ch = 0; ch < c; ch++) {
			g[ch] = 8192 + (int32_t)(uint8_t)bn.w[ch] * 64;
			b[ch] = bn.b[ch] * 16;
		}
		mnk_bn_relu(ar_ptr(&e->ar, x), hw, c, g, b);
	}
	TRY(alloc(e, (uint32_t)c, &pooled));
	if (exec_mode(e))
		mnk_gap(ar_ptr(&e->ar, x), hw, c, ar_ptr(&e->ar, pooled));
	if (!keep_x)
		ar_free(&e->ar, x);
	TRY(alloc(e, 4u * (uint32_t)classes, &logits));
	if (exec_mode(e))
		mnk_linear(ar_ptr(&e->ar, pooled), c, fc.w, fc.b, classes,
			   (uint8_t *)ar_ptr(&e->ar, logits));
	ar_free(&e->ar, pooled);
	*out = logits;
	return MNP_OK;
}

/* ---- Whole network --------------------------------------------------- */

static void sec_begin(struct ex *e, uint64_t *t0)
{
	e->ar.sec_peak = e->ar.live;
	*t0 = now(e);
}

static void sec_end(struct ex *e, struct mnx_run_result *res, int sec, uint64_t t0)
{
	res->sec_cycles[sec] = now(e) - t0;
	res->sec_peak[sec] = e->ar.sec_peak;
}

static int check_arch(const struct mnp_run_req *rq, const struct mnx_input *in)
{
	if (rq->channels < 1 || 4u * rq->channels > MNP_MAX_CHANNELS ||
	    rq->cells > MNP_MAX_CELLS || in->h < 4 || in->h > MNP_MAX_HW || in->w < 4 ||
	    in->w > MNP_MAX_HW || in->channels < 1 || in->channels > MNP_MAX_CHANNELS ||
	    rq->classes < 1 || rq->classes > MNP_MAX_CLASSES)
		return MNP_ERR_UNSUPPORTED;
	return check_cell(rq);
}

static int run_net(struct ex *e, const struct mnp_run_req *rq, const struct mnx_input *in,
		   struct mnx_run_result *res)
{
	int C = rq->channels, H = in->h, W = in->w, IC = in->channels, x, img, logits;
	uint32_t px = (uint32_t)H * (uint32_t)W;
	uint64_t t_start, t0;

	/* stem: the image and the stem output live together */
	TRY(alloc(e, (uint32_t)IC * px, &img));
	fill(e, img, (uint32_t)IC * px, 0x494D47u /* "IMG" */);
	sec_begin(e, &t0);
	t_start = t0;
	TRY(alloc(e, (uint32_t)C * px, &x));
	TRY(conv(e, img, x, H, W, IC, C, 3, 1, 0, 1, ID_STEM));
	ar_free(&e->ar, img);
	sec_end(e, res, MNP_SEC_STEM, t0);

	int hs = H, ws = W;
	for (int s = 0; s < 3; s++) {
		int cs = C << s;
		if (s > 0) {
			sec_begin(e, &t0);
			TRY(reduction(e, x, cs / 2, hs, ws, 0, ID_RED((uint32_t)s - 1u), &x));
			sec_end(e, res, s == 1 ? MNP_SEC_RED1 : MNP_SEC_RED2, t0);
			hs = (hs + 1) / 2, ws = (ws + 1) / 2; /* the host's mn_half_side */
		}
		sec_begin(e, &t0);
		for (int n = 0; n < rq->cells; n++)
			TRY(cell(e, rq, x, cs, hs, ws, (uint32_t)s, (uint32_t)n, &x));
		sec_end(e, res, MNP_SEC_STAGE1 + 2 * s, t0);
	}

	sec_begin(e, &t0);
	TRY(head(e, x, 4 * C, hs * ws, rq->classes, 0, ID_HEAD, &logits));
	sec_end(e, res, MNP_SEC_HEAD, t0);
	res->cycles = now(e) - t_start;
	if (exec_mode(e))
		res->logits_crc =
		    mnp_crc32(0, ar_ptr(&e->ar, logits), 4u * rq->classes);
	ar_free(&e->ar, logits);
	return e->ar.live == 0 ? MNP_OK : MNP_ERR_INTERNAL;
}

int mnx_run_arch(const struct mnx_ctx *ctx, const struct mnp_run_req *rq,
		 int mode, struct mnx_run_result *res)
{
	/* RUN_ARCH's short form: R x R (a multiple of 4, as version 1 first
	 * defined it), RGB.  The long form names H x W x Cin. */
	struct mnx_input in = {rq->resolution, rq->resolution, 3};
	if (rq->width != 0 || rq->input_channels != 0) {
		in.w = rq->width;
		in.channels = rq->input_channels;
	} else if (rq->resolution % 4 != 0) {
		memset(res, 0, sizeof *res);
		return MNP_ERR_UNSUPPORTED;
	}
	return mnx_run_net(ctx, rq, &in, mode, res);
}

int mnx_run_net(const struct mnx_ctx *ctx, const struct mnp_run_req *rq,
		const struct mnx_input *in, int mode, struct mnx_run_result *res)
{
	struct ex e;
	int rc;

	memset(res, 0, sizeof *res);
	rc = check_arch(rq, in);
	if (rc != MNP_OK)
		return rc;
	/* Plan first: the peak (and so the fit) is known before any
	 * arena byte is touched. */
	e.ctx = ctx;
	e.seed = rq->seed;
	ar_init(&e.ar, ctx->arena, ctx->arena_len, 0);
	rc = run_net(&e, rq, in, res);
	if (rc != MNP_OK)
		return rc;
	res->peak = e.ar.peak;
	if (e.ar.peak_aligned > ctx->arena_len) {
		res->detail = e.ar.peak;
		res->detail2 = ctx->arena_len;
		return MNP_ERR_OUT_OF_MEMORY;
	}
	if (mode == MNX_PLAN)
		return MNP_OK;
	ar_init(&e.ar, ctx->arena, ctx->arena_len, 1);
	rc = run_net(&e, rq, in, res);
	res->peak = e.ar.peak;
	res->compactions = e.ar.compactions;
	return rc;
}

/* ---- Single ops ------------------------------------------------------ */

static int check_op(const struct mnp_kcheck_req *rq)
{
	uint32_t c = rq->channels;
	if (c < 1 || c > MNP_MAX_CHANNELS || rq->h < 1 || rq->w < 1 ||
	    rq->h > MNP_MAX_HW || rq->w > MNP_MAX_HW)
		return MNP_ERR_UNSUPPORTED;
	/* Input channels belong to the stem alone: elsewhere the byte was
	 * reserved, and a value there means a confused host. */
	if (rq->in_channels != 0 && rq->op != MNP_OP_STEM)
		return MNP_ERR_BAD_REQUEST;
	switch (rq->op) {
	case MNP_OP_SKIP:
	case MNP_OP_CONV1X1:
	case MNP_OP_CONV3X3:
	case MNP_OP_AVGPOOL3X3:
	case MNP_OP_ADD:
	case MNP_OP_STEM:
		return MNP_OK;
	case MNP_OP_REDUCTION: /* odd sides halve to ceil(n/2), as in a network */
		if (2 * c > MNP_MAX_CHANNELS)
			return MNP_ERR_UNSUPPORTED;
		return MNP_OK;
	case MNP_OP_HEAD:
		if (rq->classes < 1 || rq->classes > MNP_MAX_CLASSES ||
		    (uint32_t)rq->h * rq->w > 65536u)
			return MNP_ERR_UNSUPPORTED;
		return MNP_OK;
	default:
		return MNP_ERR_UNSUPPORTED;
	}
}

static int op_seq(struct ex *e, const struct mnp_kcheck_req *rq, uint32_t runs,
		  uint64_t *samples, struct mnx_op_result *res)
{
	int C = rq->channels, H = rq->h, W = rq->w;
	int IC = rq->in_channels ? rq->in_channels : 3; /* the stem's input */
	uint32_t S = (uint32_t)C * (uint32_t)H * (uint32_t)W;
	int in = -1, in2 = -1, out = -1, res_h = -1;
	uint32_t out_n = S;
	int timed = samples && exec_mode(e) && e->ctx->now;

	switch (rq->op) {
	case MNP_OP_STEM:
		TRY(alloc(e, (uint32_t)IC * (uint32_t)H * (uint32_t)W, &in));
		fill(e, in, (uint32_t)IC * (uint32_t)H * (uint32_t)W, 1);
		TRY(alloc(e, S, &out));
		break;
	case MNP_OP_SKIP:
	case MNP_OP_REDUCTION:
	case MNP_OP_HEAD:
		TRY(alloc(e, S, &in));
		fill(e, in, S, 1);
		break;
	case MNP_OP_ADD:
		TRY(alloc(e, S, &in));
		fill(e, in, S, 1);
		TRY(alloc(e, S, &in2));
		fill(e, in2, S, 2);
		break;
	default: /* conv1x1, conv3x3, avgpool */
		TRY(alloc(e, S, &in));
		fill(e, in, S, 1);
		TRY(alloc(e, S, &out));
		break;
	}

	for (uint32_t run = 0; run < runs; run++) {
		uint64_t t0 = timed ? e->ctx->now() : 0;
		switch (rq->op) {
		case MNP_OP_SKIP:
			if (exec_mode(e))
				mnk_noop(ar_ptr(&e->ar, in));
			break;
		case MNP_OP_CONV1X1:
		case MNP_OP_CONV3X3:
			TRY(conv(e, in, out, H, W, C, C,
				 rq->op == MNP_OP_CONV3X3 ? 3 : 1, 1, 1, 1, ID_OP));
			break;
		case MNP_OP_AVGPOOL3X3:
			if (exec_mode(e))
				mnk_avgpool3x3(ar_ptr(&e->ar, in), H, W, C,
					       ar_ptr(&e->ar, out));
			break;
		case MNP_OP_ADD:
			TRY(add(e, in, in2, S, ID_OP));
			break;
		case MNP_OP_STEM:
			TRY(conv(e, in, out, H, W, IC, C, 3, 1, 0, 1, ID_OP));
			break;
		case MNP_OP_REDUCTION:
			TRY(reduction(e, in, C, H, W, 1, ID_OP, &res_h));
			break;
		default: /* head */
			TRY(head(e, in, C, H * W, rq->classes, 1, ID_OP, &res_h));
			break;
		}
		if (timed)
			samples[run] = e->ctx->now() - t0;
		/* Blocks that allocate their own output free it between
		 * runs; the last one is kept for the CRC. */
		if (res_h >= 0 && run + 1 < runs) {
			ar_free(&e->ar, res_h);
			res_h = -1;
		}
	}

	if (rq->op == MNP_OP_SKIP || rq->op == MNP_OP_ADD)
		out = in;
	if (rq->op == MNP_OP_REDUCTION) {
		out = res_h;
		out_n = 2u * (uint32_t)C * (uint32_t)((H + 1) / 2) * (uint32_t)((W + 1) / 2); /* ceil */
	} else if (rq->op == MNP_OP_HEAD) {
		out = res_h;
		out_n = 4u * rq->classes;
	}
	res->out_bytes = out_n;
	if (exec_mode(e) && out >= 0)
		res->out_crc = mnp_crc32(0, ar_ptr(&e->ar, out), out_n);
	ar_free(&e->ar, in);
	ar_free(&e->ar, in2);
	ar_free(&e->ar, out);
	return MNP_OK;
}

int mnx_op_run(const struct mnx_ctx *ctx, const struct mnp_kcheck_req *rq,
	       uint32_t runs, uint64_t *samples, struct mnx_op_result *res)
{
	struct ex e;
	int rc;

	memset(res, 0, sizeof *res);
	rc = check_op(rq);
	if (rc != MNP_OK)
		return rc;
	if (runs < 1)
		return MNP_ERR_BAD_REQUEST;
	e.ctx = ctx;
	e.seed = rq->seed;
	ar_init(&e.ar, ctx->arena, ctx->arena_len, 0);
	rc = op_seq(&e, rq, 1, NULL, res);
	if (rc != MNP_OK)
		return rc;
	res->arena_bytes = e.ar.peak;
	if (e.ar.peak_aligned > ctx->arena_len) {
		res->detail = e.ar.peak;
		res->detail2 = ctx->arena_len;
		return MNP_ERR_OUT_OF_MEMORY;
	}
	ar_init(&e.ar, ctx->arena, ctx->arena_len, 1);
	rc = op_seq(&e, rq, runs, samples, res);
	res->arena_bytes = e.ar.peak;
	return rc;
}
