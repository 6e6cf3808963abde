/* Float forward of the folded network; see fnet.h. */
#include "export/fnet.h"

#include <cblas.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int mn_slot_edge(const struct mn_net_shape *s, int cell, int e)
{
	(void)s;
	return 2 + cell * 9 + e;
}
int mn_slot_node(const struct mn_net_shape *s, int cell, int node)
{
	(void)s;
	return 2 + cell * 9 + 6 + node - 1;
}
int mn_slot_red(const struct mn_net_shape *s, int r, int part)
{
	return 2 + 3 * s->cells * 9 + 4 * r + part;
}
int mn_slot_head(const struct mn_net_shape *s) { return mn_slot_red(s, 2, 0); }
int mn_slot_logits(const struct mn_net_shape *s) { return mn_slot_red(s, 2, 1); }
int mn_slot_pooled(const struct mn_net_shape *s) { return mn_slot_red(s, 2, 2); }
int mn_slot_count(const struct mn_net_shape *s) { return mn_slot_red(s, 2, 3); }

int mn_fconv_count(const struct mn_net_shape *s) { return 1 + 18 * s->cells + 6; }

const struct mn_fconv *mn_fnet_conv(const struct mn_fnet *net, int index)
{
	int ne = 18 * net->shape.cells;
	const struct mn_fconv *c;
	if (index == 0)
		return &net->stem;
	if (index <= ne) {
		c = &net->edge[index - 1];
		return c->w ? c : NULL;
	}
	index -= 1 + ne;
	if (index >= 6)
		return NULL;
	int r = index / 3, part = index % 3;
	return part == 0 ? &net->red_a[r] : part == 1 ? &net->red_b[r] : &net->red_sc[r];
}

static void record(float *amax, int slot, const float *v, size_t n)
{
	if (!amax)
		return;
	float m = amax[slot];
	for (size_t i = 0; i < n; i++)
		if (fabsf(v[i]) > m)
			m = fabsf(v[i]);
	amax[slot] = m;
}

static void histogram(const struct mn_fnet_obs *o, int slot, const float *v, size_t n)
{
	if (!o->hist || !(o->hist_max[slot] > 0))
		return;
	double *h = o->hist + (size_t)slot * MN_HIST_BINS, per = MN_HIST_BINS / o->hist_max[slot];
	for (size_t i = 0; i < n; i++) {
		double b = fabs(v[i]) * per;
		h[b < MN_HIST_BINS - 1 ? (int)b : MN_HIST_BINS - 1] += 1;
	}
}

/* A slot's tensor: recorded, then (diagnosis) rounded as the int8 model
 * stores it. */
static void observe(const struct mn_fnet_obs *o, int slot, float *v, size_t n)
{
	record(o->amax, slot, v, n);
	histogram(o, slot, v, n);
	if (o->fq && o->fq[slot] > 0) {
		float s = o->fq[slot], hi = o->fq_max > 0 ? (float)o->fq_max : 127, lo = -hi - 1;
		for (size_t i = 0; i < n; i++) {
			float q = rintf(v[i] / s);
			v[i] = (q > hi ? hi : (q < lo ? lo : q)) * s;
		}
	}
}

struct ws {
	float *col, *tmp;
};

/* y [cout][ho][wo] = conv(relu?(x [cin][h][w])) + b; psum (NULL or
 * [cin * k * k]) gets the mean of each im2col row. */
static void conv(struct ws *ws, const struct mn_fconv *c, const float *x, int h, int w, float *y,
		 double *psum, float *pcov)
{
	int k = c->k, pad = k / 2, s = c->stride;
	int ho = (h + 2 * pad - k) / s + 1, wo = (w + 2 * pad - k) / s + 1, hw = ho * wo;
	const float *in = x;
	if (c->relu_in) {
		size_t n = (size_t)c->cin * h * w;
		for (size_t i = 0; i < n; i++)
			ws->tmp[i] = x[i] > 0 ? x[i] : 0;
		in = ws->tmp;
	}
	const float *B = in;
	if (k != 1 || s != 1) {
		for (int ci = 0; ci < c->cin; ci++)
			for (int ky = 0; ky < k; ky++)
				for (int kx = 0; kx < k; kx++) {
					float *row = ws->col + ((size_t)(ci * k + ky) * k + kx) * hw;
					/* the output columns whose input column
					 * ox s - pad + kx lies inside: [lo, hi) */
					int lo = pad > kx ? (pad - kx + s - 1) / s : 0;
					int hi = w - 1 + pad - kx < 0 ? 0 : (w - 1 + pad - kx) / s + 1;
					hi = hi > wo ? wo : hi;
					lo = lo > hi ? hi : lo;
					for (int oy = 0; oy < ho; oy++) {
						int iy = oy * s - pad + ky;
						float *r = row + (size_t)oy * wo;
						if (iy < 0 || iy >= h) {
							memset(r, 0, sizeof(float) * wo);
							continue;
						}
						const float *src = in + ((size_t)ci * h + iy) * w;
						for (int ox = 0; ox < lo; ox++)
							r[ox] = 0.0f;
						if (s == 1)
							memcpy(r + lo, src + lo - pad + kx,
							       sizeof(float) * (hi - lo));
						else
							for (int ox = lo; ox < hi; ox++)
								r[ox] = src[ox * s - pad + kx];
						for (int ox = hi; ox < wo; ox++)
							r[ox] = 0.0f;
					}
				}
		B = ws->col;
	}
	if (psum) /* four running sums: a single one waits on each add */
		for (int j = 0; j < c->cin * k * k; j++) {
			const float *b = B + (size_t)j * hw;
			double t[4] = {0, 0, 0, 0};
			int i = 0;
			for (; i + 4 <= hw; i += 4)
				for (int u = 0; u < 4; u++)
					t[u] += b[i + u];
			for (; i < hw; i++)
				t[0] += b[i];
			psum[j] += ((t[0] + t[1]) + (t[2] + t[3])) / hw;
		}
	if (pcov) /* upper triangle; the lower one is never read */
		cblas_ssyrk(CblasRowMajor, CblasUpper, CblasNoTrans, c->cin * k * k, hw, 1.0f / hw, B,
			    hw, 1.0f, pcov, c->cin * k * k);
	for (int co = 0; co < c->cout; co++)
		for (int i = 0; i < hw; i++)
			y[(size_t)co * hw + i] = c->b ? c->b[co] : 0.0f;
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, c->cout, hw, c->cin * k * k, 1.0f,
		    c->w, c->cin * k * k, B, hw, 1.0f, y, hw);
}

/* avg pool 3x3 stride 1 pad 1, padding excluded. */
static void pool3(const float *x, int c, int h, int w, float *y)
{
	for (int ch = 0; ch < c; ch++)
		for (int oy = 0; oy < h; oy++)
			for (int ox = 0; ox < w; ox++) {
				float sum = 0;
				int n = 0;
				for (int iy = oy - 1; iy <= oy + 1; iy++)
					for (int ix = ox - 1; ix <= ox + 1; ix++)
						if (iy >= 0 && iy < h && ix >= 0 && ix < w) {
							sum += x[((size_t)ch * h + iy) * w + ix];
							n++;
						}
				y[((size_t)ch * h + oy) * w + ox] = sum / (float)n;
			}
}

int mn_fnet_forward(const struct mn_fnet *net, const float *x, float *logits, float *amax)
{
	const struct mn_fnet_obs o = {.amax = amax};
	return mn_fnet_run(net, x, logits, &o);
}

int mn_fnet_forward_fq(const struct mn_fnet *net, const float *x, float *logits, float *amax,
		       const float *fq, int fq_max)
{
	const struct mn_fnet_obs o = {.amax = amax, .fq = fq, .fq_max = fq_max};
	return mn_fnet_run(net, x, logits, &o);
}

/* The patch sums of conv index i, or NULL. */
static double *psum_of(const struct mn_fnet_obs *o, int i)
{
	return o->patch_sum ? o->patch_sum[i] : NULL;
}
static float *pcov_of(const struct mn_fnet_obs *o, int i)
{
	return o->patch_cov ? o->patch_cov[i] : NULL;
}

/* 2x2 average, ceil mode: a window clipped by an odd side averages the
 * pixels it covers (space/cost.h).  x [c][hi][wi] -> p [c][h][w]. */
static void pool2_ceil(const float *x, int c, int hi, int wi, int h, int w, float *p)
{
	for (int ch = 0; ch < c; ch++)
		for (int oy = 0; oy < h; oy++)
			for (int ox = 0; ox < w; ox++) {
				const float *q = x + ((size_t)ch * hi + 2 * oy) * wi + 2 * ox;
				int dy = 2 * oy + 1 < hi, dx = 2 * ox + 1 < wi;
				float v;
				if (dy && dx)
					v = (q[0] + q[1] + q[wi] + q[wi + 1]) * 0.25f;
				else
					v = (q[0] + (dx ? q[1] : 0) + (dy ? q[wi] : 0)) /
					    (float)((1 + dx) * (1 + dy));
				p[((size_t)ch * h + oy) * w + ox] = v;
			}
}

/* Reduction block r (into stage r + 1): cur [c/2][hi][wi] becomes
 * conv_b(conv_a(cur)) + conv_sc(pool(cur)), [c][h][w]; tmp is 4 buffers
 * of the stage's size. */
static void fnet_reduction(const struct mn_fnet *net, struct ws *ws, const struct mn_fnet_obs *o,
			   int r, float *cur, float *const tmp[4])
{
	const struct mn_net_shape *s = &net->shape;
	int st = r + 1, c = mn_stage_channels(s, st), h = mn_stage_height(s, st);
	int w = mn_stage_width(s, st), hi = mn_stage_height(s, r), wi = mn_stage_width(s, r);
	size_t n = (size_t)c * h * w;
	float *a = tmp[1], *b = tmp[2], *sc = tmp[3], *p = tmp[0];
	int ri = 1 + 18 * s->cells + 3 * r;
	conv(ws, &net->red_a[r], cur, hi, wi, a, psum_of(o, ri), pcov_of(o, ri));
	observe(o, mn_slot_red(s, r, 0), a, n);
	conv(ws, &net->red_b[r], a, h, w, b, psum_of(o, ri + 1), pcov_of(o, ri + 1));
	observe(o, mn_slot_red(s, r, 1), b, n);
	pool2_ceil(cur, c / 2, hi, wi, h, w, p);
	conv(ws, &net->red_sc[r], p, h, w, sc, psum_of(o, ri + 2), pcov_of(o, ri + 2));
	observe(o, mn_slot_red(s, r, 2), sc, n);
	for (size_t i = 0; i < n; i++)
		cur[i] = b[i] + sc[i];
	observe(o, mn_slot_red(s, r, 3), cur, n);
}

/* Cell `cell` of stage st on cur [c][h][w], in place: node 0 is cur, node
 * i the sum of its edges' ops on earlier nodes, the output node 3.  y holds
 * one op's output. */
static void fnet_cell(const struct mn_fnet *net, struct ws *ws, const struct mn_fnet_obs *o,
		      int st, int cell, float *cur, float *const node[4], float *y)
{
	const struct mn_net_shape *s = &net->shape;
	int c = mn_stage_channels(s, st), h = mn_stage_height(s, st), w = mn_stage_width(s, st);
	size_t n = (size_t)c * h * w;
	memcpy(node[0], cur, n * sizeof(float));
	for (int i = 1; i < 4; i++) {
		memset(node[i], 0, n * sizeof(float));
		for (int e = 0; e < MN_EDGES; e++) {
			int op = net->arch.op[e];
			if (mn_edge_to(e) != i || op == MN_OP_NONE)
				continue;
			const float *src = node[mn_edge_from(e)];
			if (op == MN_OP_SKIP) {
				for (size_t k = 0; k < n; k++)
					node[i][k] += src[k];
				continue;
			}
			if (op == MN_OP_POOL3)
				pool3(src, c, h, w, y);
			else {
				conv(ws, &net->edge[cell * MN_EDGES + e], src, h, w, y,
				     psum_of(o, 1 + cell * MN_EDGES + e),
				     pcov_of(o, 1 + cell * MN_EDGES + e));
				observe(o, mn_slot_edge(s, cell, e), y, n);
			}
			for (size_t k = 0; k < n; k++)
				node[i][k] += y[k];
		}
		observe(o, mn_slot_node(s, cell, i), node[i], n);
	}
	memcpy(cur, node[3], n * sizeof(float));
}

/* Head: folded BN and ReLU on cur [4C][h][w] (in place), global average
 * pool, linear -> logits [classes]. */
static void fnet_head(const struct mn_fnet *net, const struct mn_fnet_obs *o, float *cur,
		      float *logits)
{
	const struct mn_net_shape *s = &net->shape;
	int cf = 4 * s->channels, hw = mn_stage_height(s, 2) * mn_stage_width(s, 2);
	float pooled[cf];
	for (int ch = 0; ch < cf; ch++)
		for (int i = 0; i < hw; i++) {
			float v = cur[(size_t)ch * hw + i] * net->head_scale[ch] + net->head_shift[ch];
			cur[(size_t)ch * hw + i] = v > 0 ? v : 0;
		}
	observe(o, mn_slot_head(s), cur, (size_t)cf * hw); /* the pool reads it rounded */
	for (int ch = 0; ch < cf; ch++) {
		double sum = 0;
		for (int i = 0; i < hw; i++)
			sum += cur[(size_t)ch * hw + i];
		pooled[ch] = (float)(sum / hw);
	}
	record(o->amax, mn_slot_pooled(s), pooled, (size_t)cf); /* int32 sums in the int8 model */
	if (o->pooled_sum)
		for (int ch = 0; ch < cf; ch++)
			o->pooled_sum[ch] += pooled[ch];
	for (int k = 0; k < s->classes; k++) {
		double acc = net->fc_b[k];
		for (int ch = 0; ch < cf; ch++)
			acc += (double)net->fc_w[(size_t)k * cf + ch] * pooled[ch];
		logits[k] = (float)acc;
	}
	record(o->amax, mn_slot_logits(s), logits, (size_t)s->classes);
}

int mn_fnet_run(const struct mn_fnet *net, const float *x, float *logits,
		const struct mn_fnet_obs *obs)
{
	static const struct mn_fnet_obs none = {0};
	const struct mn_fnet_obs *o = obs ? obs : &none;
	const struct mn_net_shape *s = &net->shape;
	int C = s->channels, N = s->cells, ic = mn_shape_input_channels(s);
	int H = mn_stage_height(s, 0), W = mn_stage_width(s, 0);
	size_t big = 0, in = (size_t)ic * H * W; /* the largest activation; the image */
	for (int st = 0; st < 3; st++) {
		size_t e = (size_t)mn_stage_channels(s, st) * mn_stage_height(s, st) *
			   mn_stage_width(s, st);
		big = e > big ? e : big;
	}
	struct ws ws;
	float *node[4];
	ws.col = malloc(sizeof(float) * 9 * (big + in));
	ws.tmp = malloc(sizeof(float) * (big + in));
	float *mem = malloc(sizeof(float) * 6 * big);
	if (!ws.col || !ws.tmp || !mem) {
		free(ws.col), free(ws.tmp), free(mem);
		return -1;
	}
	for (int i = 0; i < 4; i++)
		node[i] = mem + (size_t)i * big;
	float *y = mem + 4 * big;
	float *cur = mem + 5 * big; /* the running block output */

	/* The image is the caller's: rounded in a copy when asked (ws.tmp
	 * holds big + in floats; the stem reads it before anything else
	 * writes there). */
	const float *img = x;
	if (o->fq && o->fq[MN_SLOT_INPUT] > 0) {
		memcpy(ws.tmp, x, in * sizeof(float));
		observe(o, MN_SLOT_INPUT, ws.tmp, in);
		img = ws.tmp;
	} else {
		record(o->amax, MN_SLOT_INPUT, x, in);
		histogram(o, MN_SLOT_INPUT, x, in);
	}
	conv(&ws, &net->stem, img, H, W, cur, psum_of(o, 0), pcov_of(o, 0));
	observe(o, MN_SLOT_STEM, cur, (size_t)C * H * W);
	for (int st = 0; st < 3; st++) {
		if (st > 0)
			fnet_reduction(net, &ws, o, st - 1, cur, node);
		for (int cell = st * N; cell < (st + 1) * N; cell++)
			fnet_cell(net, &ws, o, st, cell, cur, node, y);
	}
	fnet_head(net, o, cur, logits);
	free(ws.col), free(ws.tmp), free(mem);
	return 0;
}
