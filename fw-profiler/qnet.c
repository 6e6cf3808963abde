/* The deployed int8 network; see qnet.h.  The buffer handling follows
 * exec.c's (same rules, same order), with the model's own weights and
 * scales instead of the synthetic ones. */
#include "qnet.h"

#include <stdint.h>
#include <string.h>

#include "kernels.h"
#include "protocol.h"

#if MNK_USE_DSP

/* The DSP path: mnk_conv's four-channel SMLAD dot products, requantized
 * per channel.  Integer sums are exact, so it equals the plain path bit
 * for bit (checked on the emulated board by tests/test_deploy.sh). */
void mnq_conv(const int8_t *in, int h, int w, int cin, const int8_t *wt, const int32_t *bias,
	      int cout, int k, int stride, int relu_in, const int32_t *mult, const int8_t *shift,
	      int8_t *out)
{
	int pad = k / 2;
	int ho = (h + 2 * pad - k) / stride + 1, wo = (w + 2 * pad - k) / stride + 1;
	int K = k * k * cin, K4 = (K + 3) & ~3;
	int8_t patch[9 * MNP_MAX_CHANNELS + 4] __attribute__((aligned(4)));
	memset(patch + K, 0, (size_t)(K4 - K)); /* the tail multiplies the next row's bytes */
	for (int oy = 0; oy < ho; oy++)
		for (int ox = 0; ox < wo; ox++) {
			int8_t *o = out + ((size_t)oy * wo + ox) * cout;
			int oc = 0;
			mnk_patch(in, h, w, cin, k, stride, relu_in, oy, ox, patch);
			for (; oc + 3 < cout; oc += 4) {
				int32_t acc[4];
				for (int j = 0; j < 4; j++)
					acc[j] = bias ? bias[oc + j] : 0;
				mnk_dot4(patch, K4, wt + (size_t)oc * K, K, acc);
				for (int j = 0; j < 4; j++)
					o[oc + j] = mnq_requant(acc[j], mult[oc + j], shift[oc + j]);
			}
			for (; oc < cout; oc++) {
				const int8_t *wr = wt + (size_t)oc * K;
				int32_t acc = bias ? bias[oc] : 0;
				for (int i = 0; i < K; i++)
					acc += patch[i] * wr[i];
				o[oc] = mnq_requant(acc, mult[oc], shift[oc]);
			}
		}
}

#else /* plain C: the reference */

void mnq_conv(const int8_t *in, int h, int w, int cin, const int8_t *wt, const int32_t *bias,
	      int cout, int k, int stride, int relu_in, const int32_t *mult, const int8_t *shift,
	      int8_t *out)
{
	int pad = k / 2;
	int ho = (h + 2 * pad - k) / stride + 1, wo = (w + 2 * pad - k) / stride + 1;
	int K = k * k * cin;
	int8_t patch[9 * MNP_MAX_CHANNELS];
	for (int oy = 0; oy < ho; oy++)
		for (int ox = 0; ox < wo; ox++) {
			/* gathered once for all the output channels */
			mnk_patch(in, h, w, cin, k, stride, relu_in, oy, ox, patch);
			int8_t *o = out + ((size_t)oy * wo + ox) * cout;
			int oc = 0;
			/* four channels a pass: each patch value read once for
			 * four rows (integer sums: the same in any order) */
			for (; oc + 3 < cout; oc += 4) {
				const int8_t *w0 = wt + (size_t)oc * K, *w1 = w0 + K, *w2 = w1 + K,
					     *w3 = w2 + K;
				int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
				for (int i = 0; i < K; i++) {
					int32_t p = patch[i];
					a0 += p * w0[i], a1 += p * w1[i], a2 += p * w2[i], a3 += p * w3[i];
				}
				int32_t acc[4] = {a0, a1, a2, a3};
				for (int j = 0; j < 4; j++)
					o[oc + j] = mnq_requant(acc[j] + (bias ? bias[oc + j] : 0),
								mult[oc + j], shift[oc + j]);
			}
			for (; oc < cout; oc++) {
				const int8_t *wr = wt + (size_t)oc * K;
				int32_t acc = bias ? bias[oc] : 0;
				for (int i = 0; i < K; i++)
					acc += patch[i] * wr[i];
				o[oc] = mnq_requant(acc, mult[oc], shift[oc]);
			}
		}
}

#endif

/* ---- Arena (exec.c's rules: first fit, compaction when fragmented) ---- */

#define MAX_BUFS 8

struct arena {
	uint8_t *base;
	uint32_t cap;
	int exec;
	uint32_t off[MAX_BUFS], size[MAX_BUFS];
	uint8_t used[MAX_BUFS];
	uint32_t live, peak;
};

static uint32_t align4(uint32_t n) { return (n + 3u) & ~3u; }

static int64_t find_gap(const struct arena *a, uint32_t n)
{
	int64_t best = -1;
	for (int j = -1; j < MAX_BUFS; j++) {
		if (j >= 0 && !a->used[j])
			continue;
		uint32_t pos = j < 0 ? 0 : a->off[j] + a->size[j];
		int clash = (uint64_t)pos + n > a->cap;
		for (int i = 0; i < MAX_BUFS && !clash; i++)
			clash = a->used[i] && pos < a->off[i] + a->size[i] && a->off[i] < pos + n;
		if (!clash && (best < 0 || pos < best))
			best = pos;
	}
	return best;
}

static void compact(struct arena *a)
{
	uint32_t pos = 0;
	uint8_t done[MAX_BUFS] = {0};
	for (;;) {
		int lo = -1;
		for (int j = 0; j < MAX_BUFS; j++)
			if (a->used[j] && !done[j] && (lo < 0 || a->off[j] < a->off[lo]))
				lo = j;
		if (lo < 0)
			break;
		if (a->off[lo] != pos)
			memmove(a->base + pos, a->base + a->off[lo], a->size[lo]);
		a->off[lo] = pos;
		pos += a->size[lo];
		done[lo] = 1;
	}
}

/* A handle >= 0, or -1 (no slot or no room). */
static int ar_alloc(struct arena *a, uint32_t n)
{
	int h = -1;
	n = align4(n);
	for (int j = 0; j < MAX_BUFS && h < 0; j++)
		if (!a->used[j])
			h = j;
	if (h < 0)
		return -1;
	if (a->exec) {
		if (a->live + n > a->cap)
			return -1;
		int64_t pos = find_gap(a, n);
		if (pos < 0) {
			compact(a);
			pos = find_gap(a, n);
			if (pos < 0)
				return -1;
		}
		a->off[h] = (uint32_t)pos;
	}
	a->used[h] = 1;
	a->size[h] = n;
	a->live += n;
	if (a->live > a->peak)
		a->peak = a->live;
	return h;
}

static void ar_free(struct arena *a, int h)
{
	if (h >= 0 && h < MAX_BUFS && a->used[h]) {
		a->used[h] = 0;
		a->live -= a->size[h];
	}
}

static int8_t *P(const struct arena *a, int h) { return (int8_t *)(a->base + a->off[h]); }

#define ALLOC(h, n)                                                                                \
	do {                                                                                       \
		if (((h) = ar_alloc(a, (n))) < 0)                                                  \
			return -1;                                                                 \
	} while (0)

static const uint8_t edge_src[6] = {0, 0, 1, 0, 1, 2};
static const uint8_t edge_dst[6] = {1, 2, 2, 3, 3, 3};

static void conv(const struct arena *a, const struct mnq_conv *c, int in, int out, int h, int w)
{
	if (a->exec)
		mnq_conv(P(a, in), h, w, c->cin, c->w, c->b, c->cout, c->k, c->stride, c->relu_in,
			 c->mult, c->shift, P(a, out));
}

static int cell(struct arena *a, const struct mnq_net *net, int idx, int in, int c, int h,
		int w, int *out)
{
	uint32_t S = (uint32_t)c * (uint32_t)h * (uint32_t)w;
	int node[4] = {in, -1, -1, -1};
	uint8_t readers[4] = {0}, readers0[4], inputs_left[4] = {0};
	const struct mnq_conv *ec = net->edge + idx * 6;
	const struct mnq_add *ea = net->cell_add + idx * 6;

	for (int i = 0; i < 6; i++)
		if (net->ops[i] != MNP_NB_NONE) {
			readers[edge_src[i]]++;
			inputs_left[edge_dst[i]]++;
		}
	memcpy(readers0, readers, sizeof readers);
	if (readers[0] == 0) {
		ar_free(a, node[0]);
		node[0] = -1;
	}
	for (int k = 0; k < net->n_order; k++) {
		int ed = net->order[k], j = edge_src[ed], i = edge_dst[ed];
		uint8_t op = net->ops[ed];
		if (node[j] < 0) {
			ALLOC(node[j], S);
			if (a->exec)
				memset(P(a, node[j]), 0, S);
		}
		if (op == MNP_NB_SKIP) {
			readers[j]--;
			if (node[i] < 0) {
				if (readers[j] == 0) {
					node[i] = node[j];
					node[j] = -1;
				} else {
					ALLOC(node[i], S);
					if (a->exec)
						memcpy(P(a, node[i]), P(a, node[j]), S);
				}
			} else {
				if (a->exec)
					mnk_add(P(a, node[i]), P(a, node[j]), S, ea[ed].ma, ea[ed].mb);
				if (readers[j] == 0) {
					ar_free(a, node[j]);
					node[j] = -1;
				}
			}
		} else {
			int o;
			ALLOC(o, S);
			if (op == MNP_NB_AVGPOOL) {
				if (a->exec)
					mnk_avgpool3x3(P(a, node[j]), h, w, c, P(a, o));
			} else {
				conv(a, &ec[ed], node[j], o, h, w);
			}
			readers[j]--;
			if (readers[j] == 0) {
				ar_free(a, node[j]);
				node[j] = -1;
			}
			if (node[i] < 0) {
				node[i] = o;
			} else {
				if (a->exec)
					mnk_add(P(a, node[i]), P(a, o), S, ea[ed].ma, ea[ed].mb);
				ar_free(a, o);
			}
		}
		inputs_left[i]--;
		if (inputs_left[i] == 0 && i != 3 && readers0[i] == 0) {
			ar_free(a, node[i]);
			node[i] = -1;
		}
	}
	if (node[3] < 0) {
		ALLOC(node[3], S);
		if (a->exec)
			memset(P(a, node[3]), 0, S);
	}
	*out = node[3];
	return 0;
}

static int reduction(struct arena *a, const struct mnq_net *net, int r_idx, int x, int c, int h,
		     int w, int *out)
{
	const struct mnq_conv *rc = net->red + 3 * r_idx;
	int c2 = 2 * c, ho = (h + 1) / 2, wo = (w + 1) / 2; /* ceil: the stride-2 conv's size */
	uint32_t n2 = (uint32_t)c2 * (uint32_t)ho * (uint32_t)wo;
	int ya, p, yb, s;
	ALLOC(ya, n2);
	conv(a, &rc[0], x, ya, h, w);
	ALLOC(p, (uint32_t)c * (uint32_t)ho * (uint32_t)wo);
	if (a->exec)
		mnk_avgpool2x2s2(P(a, x), h, w, c, P(a, p));
	ar_free(a, x);
	ALLOC(yb, n2);
	conv(a, &rc[1], ya, yb, ho, wo);
	ar_free(a, ya);
	ALLOC(s, n2);
	conv(a, &rc[2], p, s, ho, wo);
	ar_free(a, p);
	if (a->exec)
		mnk_add(P(a, yb), P(a, s), n2, net->red_add[r_idx].ma, net->red_add[r_idx].mb);
	ar_free(a, s);
	*out = yb;
	return 0;
}

static int run(struct arena *a, const struct mnq_net *net, const int8_t *image, int32_t *logits)
{
	int C = net->channels, H = net->height, W = net->width, img, x;
	uint32_t n_img = (uint32_t)net->stem->cin * (uint32_t)H * (uint32_t)W;
	ALLOC(img, n_img);
	if (a->exec)
		memcpy(P(a, img), image, n_img);
	ALLOC(x, (uint32_t)C * (uint32_t)H * (uint32_t)W);
	conv(a, net->stem, img, x, H, W);
	ar_free(a, img);
	int hs = H, ws = W;
	for (int s = 0; s < 3; s++) {
		int cs = C << s;
		if (s > 0) {
			if (reduction(a, net, s - 1, x, cs / 2, hs, ws, &x))
				return -1;
			hs = (hs + 1) / 2, ws = (ws + 1) / 2;
		}
		for (int n = 0; n < net->cells; n++)
			if (cell(a, net, s * net->cells + n, x, cs, hs, ws, &x))
				return -1;
	}
	int cf = 4 * C, hw = hs * ws, pooled, lg;
	if (a->exec)
		mnk_bn_relu(P(a, x), hw, cf, net->head_g, net->head_b);
	/* The pooled buffer of the executor's rules is kept (so the model's
	 * peak stays the memory model's); it holds nothing: the classifier
	 * reads the int32 sums (at most 4 * MNP_MAX_CHANNELS bytes of stack). */
	ALLOC(pooled, (uint32_t)cf);
	if (a->exec) {
		const int8_t *src = P(a, x);
		int32_t sum[MNP_MAX_CHANNELS];
		for (int c = 0; c < cf; c++) {
			int32_t t = 0;
			for (int i = 0; i < hw; i++)
				t += src[(size_t)i * cf + c];
			sum[c] = t;
		}
		ar_free(a, x);
		ALLOC(lg, 4u * net->classes);
		for (int k = 0; k < net->classes; k++) {
			/* |w| <= 127 and |sum| <= 128 hw: 64-bit, then saturated. */
			int64_t acc = net->fc_b[k];
			const int8_t *wk = net->fc_w + (size_t)k * cf;
			for (int c = 0; c < cf; c++)
				acc += (int64_t)wk[c] * sum[c];
			logits[k] = acc > INT32_MAX ? INT32_MAX : (acc < INT32_MIN ? INT32_MIN : (int32_t)acc);
		}
	} else {
		ar_free(a, x);
		ALLOC(lg, 4u * net->classes);
	}
	ar_free(a, pooled);
	ar_free(a, lg);
	return 0;
}

uint32_t mnq_arena_bytes(const struct mnq_net *net)
{
	struct arena a;
	memset(&a, 0, sizeof a);
	if (run(&a, net, NULL, NULL) != 0)
		return 0;
	return a.peak;
}

int mnq_run(const struct mnq_net *net, const int8_t *image, int32_t *logits, uint8_t *arena,
	    uint32_t arena_len)
{
	struct arena a;
	memset(&a, 0, sizeof a);
	a.base = arena;
	a.cap = arena_len;
	a.exec = 1;
	return run(&a, net, image, logits);
}
