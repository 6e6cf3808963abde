/* The naive double-precision reference network (see ref_net.h). */
#include "ref_net.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ref_layers.h"

/* Parameter offsets of one BN: gamma at g, beta at g + channels. */
struct ref_edge {
	size_t w1, g1, w3, g3;
};

struct ref_red {
	size_t wa, ga, wb, gb, wsc;
};

/* Tape of one conv op (ReLU -> conv -> BN) on an edge. */
struct ref_convop {
	double *z, *y, *xhat, *rstd;
};

struct ref_cell {
	double *node[4];  /* node[0] is the input (not owned) */
	double *relu[3];  /* relu(node j) */
	struct ref_convop op[MN_EDGES][2]; /* [edge][0: 1x1, 1: 3x3] */
	double *dnode[4]; /* dnode[3], dnode[0] shared with the neighbours */
};

struct ref_redst {
	double *in, *ra, *za, *ya, *xa, *sa, *rb, *zb, *yb, *xb, *sb, *pool, *sc, *out;
};

struct ref_net {
	struct mn_net_config cfg;
	unsigned char mask[MN_EDGES];
	int k[MN_EDGES];
	int nstages, sc[3], sh[3], sw[3], cf, ncells;
	double *p;
	size_t np;
	size_t stem_w, stem_g, head_bn, lin_w, lin_b;
	struct ref_edge *edge; /* [ncells][MN_EDGES] */
	struct ref_red red[2];

	/* tape */
	int B;
	void **mem;
	size_t nmem, capmem;
	double *x, *stem_z, *stem_xhat, *stem_rstd, *stem_out;
	struct ref_cell *cells;
	struct ref_redst rs[2];
	double *head_xhat, *head_rstd, *head_y, *head_h, *head_gap;
	/* block gradients, [-1 .. count-1] */
	double **bgrad;
};

static size_t take(struct ref_net *r, size_t n)
{
	size_t o = r->np;
	r->np += n;
	return o;
}

struct ref_net *ref_net_create(const struct mn_net_config *cfg, const unsigned char mask[MN_EDGES])
{
	if (mn_net_config_check(cfg, NULL, 0) != 0)
		return NULL;
	struct ref_net *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->cfg = *cfg;
	for (int e = 0; e < MN_EDGES; e++) {
		r->mask[e] = mask[e];
		r->k[e] = 0;
		for (int o = 0; o < MN_OP_COUNT; o++)
			r->k[e] += (mask[e] >> o) & 1;
	}
	r->nstages = cfg->thin ? 1 : 3;
	for (int s = 0; s < r->nstages; s++) {
		r->sc[s] = cfg->C << s;
		/* ceil(n / 2) per reduction (micronas's rule, space/cost.h) */
		r->sh[s] = s ? (r->sh[s - 1] + 1) / 2 : cfg->H;
		r->sw[s] = s ? (r->sw[s - 1] + 1) / 2 : cfg->W;
	}
	r->ncells = r->nstages * cfg->N;
	r->cf = r->sc[r->nstages - 1];
	r->edge = calloc((size_t)r->ncells * MN_EDGES, sizeof *r->edge);
	r->cells = calloc((size_t)r->ncells, sizeof *r->cells);
	r->bgrad = calloc((size_t)r->ncells + 3, sizeof *r->bgrad);
	if (!r->edge || !r->cells || !r->bgrad) {
		ref_net_free(r);
		return NULL;
	}
	/* the canonical order of net.h */
	int C = cfg->C;
	if (!cfg->thin) {
		r->stem_w = take(r, (size_t)C * cfg->in_channels * 9);
		r->stem_g = take(r, 2 * (size_t)C);
	}
	for (int s = 0; s < r->nstages; s++) {
		size_t c = (size_t)r->sc[s];
		for (int i = 0; i < cfg->N; i++)
			for (int e = 0; e < MN_EDGES; e++) {
				struct ref_edge *ed = &r->edge[(s * cfg->N + i) * MN_EDGES + e];
				ed->w1 = take(r, c * c);
				ed->g1 = take(r, 2 * c);
				ed->w3 = take(r, c * c * 9);
				ed->g3 = take(r, 2 * c);
			}
		if (s + 1 < r->nstages) {
			struct ref_red *rd = &r->red[s];
			rd->wa = take(r, 2 * c * c * 9);
			rd->ga = take(r, 4 * c);
			rd->wb = take(r, 4 * c * c * 9);
			rd->gb = take(r, 4 * c);
			rd->wsc = take(r, 2 * c * c);
		}
	}
	r->head_bn = take(r, 2 * (size_t)r->cf);
	r->lin_w = take(r, (size_t)cfg->classes * r->cf);
	r->lin_b = take(r, (size_t)cfg->classes);
	r->p = calloc(r->np, sizeof(double));
	if (!r->p) {
		ref_net_free(r);
		return NULL;
	}
	return r;
}

static void tape_free(struct ref_net *r)
{
	for (size_t i = 0; i < r->nmem; i++)
		free(r->mem[i]);
	r->nmem = 0;
}

void ref_net_free(struct ref_net *r)
{
	if (!r)
		return;
	tape_free(r);
	free(r->mem);
	free(r->edge);
	free(r->cells);
	free(r->bgrad);
	free(r->p);
	free(r);
}

size_t ref_net_param_count(const struct ref_net *r)
{
	return r->np;
}

double *ref_net_params(struct ref_net *r)
{
	return r->p;
}

/* Zeroed tape memory, freed at the next forward; exits when out of memory
 * (a test helper). */
static double *alloc(struct ref_net *r, size_t n)
{
	if (r->nmem == r->capmem) {
		size_t c = r->capmem ? 2 * r->capmem : 256;
		void **m = realloc(r->mem, c * sizeof *m);
		if (!m)
			abort();
		r->mem = m;
		r->capmem = c;
	}
	double *v = calloc(n ? n : 1, sizeof(double));
	if (!v)
		abort();
	r->mem[r->nmem++] = v;
	return v;
}

/* y = BN(conv(x)) with the tape in op. */
static void conv_bn(struct ref_net *r, struct ref_convop *op, const double *x, size_t w, size_t g,
		    int ci, int co, int h, int wd, int k, int stride)
{
	int B = r->B, oh = (h + 2 * (k / 2) - k) / stride + 1, ow = (wd + 2 * (k / 2) - k) / stride + 1;
	size_t n = (size_t)B * co * oh * ow;
	op->z = alloc(r, n);
	op->y = alloc(r, n);
	op->xhat = alloc(r, n);
	op->rstd = alloc(r, (size_t)co);
	ref_conv_forward(op->z, x, r->p + w, B, ci, co, h, wd, k, stride, k / 2);
	ref_bn_forward(op->y, op->xhat, op->rstd, op->z, r->p + g, r->p + g + co, B, co, oh * ow);
}

/* dx += d/dx of y = BN(conv(x)) given dy; parameter gradients into grad. */
static void conv_bn_back(struct ref_net *r, const struct ref_convop *op, const double *x,
			 double *dx, const double *dy, double *grad, size_t w, size_t g, int ci,
			 int co, int h, int wd, int k, int stride, int coupled)
{
	int B = r->B, oh = (h + 2 * (k / 2) - k) / stride + 1, ow = (wd + 2 * (k / 2) - k) / stride + 1;
	double *dz = malloc(sizeof(double) * (size_t)B * co * oh * ow);
	if (!dz)
		abort();
	ref_bn_backward(dz, grad + g, grad + g + co, dy, op->xhat, op->rstd, r->p + g, B, co, oh * ow,
			coupled);
	ref_conv_backward(dx, grad + w, dz, x, r->p + w, B, ci, co, h, wd, k, stride, k / 2);
	free(dz);
}

/* Does an active conv op read node j? */
static int node_has_conv(const struct ref_net *r, int j)
{
	for (int e = 0; e < MN_EDGES; e++)
		if (mn_edge_from(e) == j &&
		    (((r->mask[e] >> MN_OP_CONV1) & 1) || ((r->mask[e] >> MN_OP_CONV3) & 1)))
			return 1;
	return 0;
}

static void cell_forward(struct ref_net *r, struct ref_cell *c, int ci, int s, double *in)
{
	int B = r->B, C = r->sc[s], h = r->sh[s], w = r->sw[s];
	size_t n = (size_t)B * C * h * w;
	c->node[0] = in;
	for (int i = 1; i < 4; i++)
		c->node[i] = alloc(r, n);
	for (int j = 0; j < 3; j++)
		c->relu[j] = alloc(r, n);
	ref_relu_forward(c->relu[0], c->node[0], n);
	double *t = alloc(r, n);
	/* node i is complete (and its ReLU taken) before any edge reads it */
	for (int i = 1; i < 4; i++) {
		if (i > 1)
			ref_relu_forward(c->relu[i - 1], c->node[i - 1], n);
		for (int e = 0; e < MN_EDGES; e++) {
			if (mn_edge_to(e) != i)
				continue;
			int j = mn_edge_from(e);
			double inv = 1.0 / r->k[e];
			const struct ref_edge *ed = &r->edge[ci * MN_EDGES + e];
			if ((r->mask[e] >> MN_OP_SKIP) & 1)
				for (size_t q = 0; q < n; q++)
					c->node[i][q] += inv * c->node[j][q];
			if ((r->mask[e] >> MN_OP_POOL3) & 1) {
				ref_avgpool3_forward(t, c->node[j], B * C, h, w);
				for (size_t q = 0; q < n; q++)
					c->node[i][q] += inv * t[q];
			}
			for (int o = 0; o < 2; o++) {
				if (!((r->mask[e] >> (o ? MN_OP_CONV3 : MN_OP_CONV1)) & 1))
					continue;
				struct ref_convop *op = &c->op[e][o];
				conv_bn(r, op, c->relu[j], o ? ed->w3 : ed->w1, o ? ed->g3 : ed->g1, C, C,
					h, w, o ? 3 : 1, 1);
				for (size_t q = 0; q < n; q++)
					c->node[i][q] += inv * op->y[q];
			}
		}
	}
}

/* dnode[3] given; writes dnode[0] (zeroed here). */
static void cell_backward(struct ref_net *r, struct ref_cell *c, int ci, int s, double *grad,
			  int coupled)
{
	int B = r->B, C = r->sc[s], h = r->sh[s], w = r->sw[s];
	size_t n = (size_t)B * C * h * w;
	for (int i = 0; i < 3; i++) {
		if (i > 0)
			c->dnode[i] = alloc(r, n);
		memset(c->dnode[i], 0, sizeof(double) * n);
	}
	double *d = alloc(r, n), *dr = alloc(r, n);
	for (int i = 3; i >= 1; i--)
		for (int e = 0; e < MN_EDGES; e++) {
			if (mn_edge_to(e) != i)
				continue;
			int j = mn_edge_from(e);
			double inv = 1.0 / r->k[e];
			const struct ref_edge *ed = &r->edge[ci * MN_EDGES + e];
			for (size_t q = 0; q < n; q++)
				d[q] = inv * c->dnode[i][q];
			if ((r->mask[e] >> MN_OP_SKIP) & 1)
				for (size_t q = 0; q < n; q++)
					c->dnode[j][q] += d[q];
			if ((r->mask[e] >> MN_OP_POOL3) & 1)
				ref_avgpool3_backward(c->dnode[j], d, B * C, h, w);
			for (int o = 0; o < 2; o++) {
				if (!((r->mask[e] >> (o ? MN_OP_CONV3 : MN_OP_CONV1)) & 1))
					continue;
				memset(dr, 0, sizeof(double) * n);
				conv_bn_back(r, &c->op[e][o], c->relu[j], dr, d, grad, o ? ed->w3 : ed->w1,
					     o ? ed->g3 : ed->g1, C, C, h, w, o ? 3 : 1, 1, coupled);
				ref_relu_backward(c->dnode[j], dr, c->relu[j], n);
			}
		}
}

static void red_forward(struct ref_net *r, struct ref_redst *t, int s, double *in)
{
	int B = r->B, C = r->sc[s], h = r->sh[s], w = r->sw[s], oh = r->sh[s + 1], ow = r->sw[s + 1];
	const struct ref_red *rd = &r->red[s];
	size_t n = (size_t)B * C * h * w, no = (size_t)B * 2 * C * oh * ow;
	struct ref_convop a, b;
	t->in = in;
	t->ra = alloc(r, n);
	ref_relu_forward(t->ra, in, n);
	conv_bn(r, &a, t->ra, rd->wa, rd->ga, C, 2 * C, h, w, 3, 2);
	t->za = a.z, t->ya = a.y, t->xa = a.xhat, t->sa = a.rstd;
	t->rb = alloc(r, no);
	ref_relu_forward(t->rb, t->ya, no);
	conv_bn(r, &b, t->rb, rd->wb, rd->gb, 2 * C, 2 * C, oh, ow, 3, 1);
	t->zb = b.z, t->yb = b.y, t->xb = b.xhat, t->sb = b.rstd;
	t->pool = alloc(r, (size_t)B * C * oh * ow);
	ref_avgpool2_forward(t->pool, in, B * C, h, w);
	t->sc = alloc(r, no);
	ref_conv_forward(t->sc, t->pool, r->p + rd->wsc, B, C, 2 * C, oh, ow, 1, 1, 0);
	t->out = alloc(r, no);
	for (size_t q = 0; q < no; q++)
		t->out[q] = t->yb[q] + t->sc[q];
}

/* din (zeroed here) from dout */
static void red_backward(struct ref_net *r, struct ref_redst *t, int s, const double *dout,
			 double *din, double *grad, int coupled)
{
	int B = r->B, C = r->sc[s], h = r->sh[s], w = r->sw[s], oh = r->sh[s + 1], ow = r->sw[s + 1];
	const struct ref_red *rd = &r->red[s];
	size_t n = (size_t)B * C * h * w, no = (size_t)B * 2 * C * oh * ow;
	memset(din, 0, sizeof(double) * n);
	double *dp = alloc(r, (size_t)B * C * oh * ow), *drb = alloc(r, no), *dya = alloc(r, no);
	double *dra = alloc(r, n);
	ref_conv_backward(dp, grad + rd->wsc, dout, t->pool, r->p + rd->wsc, B, C, 2 * C, oh, ow, 1, 1,
			  0);
	ref_avgpool2_backward(din, dp, B * C, h, w);
	struct ref_convop b = {t->zb, t->yb, t->xb, t->sb}, a = {t->za, t->ya, t->xa, t->sa};
	conv_bn_back(r, &b, t->rb, drb, dout, grad, rd->wb, rd->gb, 2 * C, 2 * C, oh, ow, 3, 1,
		     coupled);
	ref_relu_backward(dya, drb, t->rb, no);
	conv_bn_back(r, &a, t->ra, dra, dya, grad, rd->wa, rd->ga, C, 2 * C, h, w, 3, 2, coupled);
	ref_relu_backward(din, dra, t->ra, n);
}

int ref_net_forward(struct ref_net *r, const double *x, int B, double *logits)
{
	const struct mn_net_config *cfg = &r->cfg;
	if (B < 1)
		return -1;
	tape_free(r);
	r->B = B;
	size_t hw0 = (size_t)cfg->H * cfg->W, nin = (size_t)B * cfg->in_channels * hw0;
	r->x = alloc(r, nin);
	memcpy(r->x, x, sizeof(double) * nin);
	double *prev = r->x;
	if (!cfg->thin) {
		struct ref_convop st;
		conv_bn(r, &st, r->x, r->stem_w, r->stem_g, cfg->in_channels, cfg->C, cfg->H, cfg->W,
			3, 1);
		r->stem_z = st.z, r->stem_out = st.y, r->stem_xhat = st.xhat, r->stem_rstd = st.rstd;
		prev = r->stem_out;
	}
	for (int s = 0; s < r->nstages; s++) {
		for (int i = 0; i < cfg->N; i++) {
			int ci = s * cfg->N + i;
			cell_forward(r, &r->cells[ci], ci, s, prev);
			prev = r->cells[ci].node[3];
		}
		if (s + 1 < r->nstages) {
			red_forward(r, &r->rs[s], s, prev);
			prev = r->rs[s].out;
		}
	}
	int L = r->nstages - 1, hw = r->sh[L] * r->sw[L];
	size_t nf = (size_t)B * r->cf * hw;
	r->head_xhat = alloc(r, nf);
	r->head_y = alloc(r, nf);
	r->head_h = alloc(r, nf);
	r->head_rstd = alloc(r, (size_t)r->cf);
	r->head_gap = alloc(r, (size_t)B * r->cf);
	ref_bn_forward(r->head_y, r->head_xhat, r->head_rstd, prev, r->p + r->head_bn,
		       r->p + r->head_bn + r->cf, B, r->cf, hw);
	ref_relu_forward(r->head_h, r->head_y, nf);
	ref_gap_forward(r->head_gap, r->head_h, B * r->cf, hw);
	if (logits)
		ref_linear_forward(logits, r->head_gap, r->p + r->lin_w, r->p + r->lin_b, B, r->cf,
				   cfg->classes);
	return 0;
}

int ref_net_block_count(const struct ref_net *r)
{
	return r->nstages * r->cfg.N + r->nstages - 1;
}

const double *ref_net_block(const struct ref_net *r, int i, int *c, int *h, int *w)
{
	const struct mn_net_config *cfg = &r->cfg;
	if (i == -1) {
		*c = cfg->thin ? cfg->in_channels : r->sc[0];
		*h = r->sh[0], *w = r->sw[0];
		return cfg->thin ? r->x : r->stem_out;
	}
	int k = 0;
	for (int s = 0; s < r->nstages; s++) {
		for (int n = 0; n < cfg->N; n++, k++)
			if (k == i) {
				*c = r->sc[s], *h = r->sh[s], *w = r->sw[s];
				return r->cells[s * cfg->N + n].node[3];
			}
		if (s + 1 < r->nstages && k++ == i) {
			*c = 2 * r->sc[s], *h = r->sh[s + 1], *w = r->sw[s + 1];
			return r->rs[s].out;
		}
	}
	return NULL;
}

const double *ref_net_block_grad(const struct ref_net *r, int i)
{
	return i >= -1 && i < ref_net_block_count(r) ? r->bgrad[i + 1] : NULL;
}

int ref_net_backward(struct ref_net *r, const double *dlogits, int coupled, double *grad)
{
	const struct mn_net_config *cfg = &r->cfg;
	int B = r->B, L = r->nstages - 1, hw = r->sh[L] * r->sw[L], cf = r->cf;
	if (!B)
		return -1;
	memset(grad, 0, sizeof(double) * r->np);
	size_t nf = (size_t)B * cf * hw;
	double *dg = alloc(r, (size_t)B * cf), *dh = alloc(r, nf), *dy = alloc(r, nf);
	ref_linear_backward(dg, grad + r->lin_w, grad + r->lin_b, dlogits, r->head_gap, r->p + r->lin_w,
			    B, cf, cfg->classes);
	ref_gap_backward(dh, dg, B * cf, hw);
	ref_relu_backward(dy, dh, r->head_h, nf);
	double *d = alloc(r, nf);
	ref_bn_backward(d, grad + r->head_bn, grad + r->head_bn + cf, dy, r->head_xhat, r->head_rstd,
			r->p + r->head_bn, B, cf, hw, coupled);
	int blk = ref_net_block_count(r);
	for (int s = L; s >= 0; s--) {
		size_t n = (size_t)B * r->sc[s] * r->sh[s] * r->sw[s];
		for (int i = cfg->N - 1; i >= 0; i--) {
			int ci = s * cfg->N + i;
			struct ref_cell *c = &r->cells[ci];
			r->bgrad[blk--] = d;
			c->dnode[3] = d;
			c->dnode[0] = alloc(r, n);
			cell_backward(r, c, ci, s, grad, coupled);
			d = c->dnode[0];
		}
		if (s > 0) {
			r->bgrad[blk--] = d;
			double *din = alloc(r, (size_t)B * r->sc[s - 1] * r->sh[s - 1] * r->sw[s - 1]);
			red_backward(r, &r->rs[s - 1], s - 1, d, din, grad, coupled);
			d = din;
		}
	}
	r->bgrad[blk] = d;
	if (!cfg->thin) {
		struct ref_convop st = {r->stem_z, r->stem_out, r->stem_xhat, r->stem_rstd};
		conv_bn_back(r, &st, r->x, NULL, d, grad, r->stem_w, r->stem_g, cfg->in_channels, cfg->C,
			     cfg->H, cfg->W, 3, 1, coupled);
	}
	return 0;
}

/* Adds the weight tensor [off, off+n) to the column list when live. */
static size_t col_add(size_t *idx, size_t m, size_t off, size_t n, int live)
{
	if (!live)
		return m;
	for (size_t j = 0; j < n; j++) {
		if (idx)
			idx[m] = off + j;
		m++;
	}
	return m;
}

size_t ref_net_grad_columns(const struct ref_net *r, size_t *idx)
{
	const struct mn_net_config *cfg = &r->cfg;
	size_t m = 0;
	if (!cfg->thin) {
		m = col_add(idx, m, r->stem_w, (size_t)cfg->C * cfg->in_channels * 9, 1);
		m = col_add(idx, m, r->stem_g, (size_t)cfg->C, 1);
	}
	for (int s = 0; s < r->nstages; s++) {
		size_t c = (size_t)r->sc[s];
		for (int i = 0; i < cfg->N; i++)
			for (int e = 0; e < MN_EDGES; e++) {
				const struct ref_edge *ed = &r->edge[(s * cfg->N + i) * MN_EDGES + e];
				int l1 = (r->mask[e] >> MN_OP_CONV1) & 1, l3 = (r->mask[e] >> MN_OP_CONV3) & 1;
				m = col_add(idx, m, ed->w1, c * c, l1);
				m = col_add(idx, m, ed->g1, c, l1);
				m = col_add(idx, m, ed->w3, c * c * 9, l3);
				m = col_add(idx, m, ed->g3, c, l3);
			}
		if (s + 1 < r->nstages) {
			const struct ref_red *rd = &r->red[s];
			m = col_add(idx, m, rd->wa, 2 * c * c * 9, 1);
			m = col_add(idx, m, rd->ga, 2 * c, 1);
			m = col_add(idx, m, rd->wb, 4 * c * c * 9, 1);
			m = col_add(idx, m, rd->gb, 2 * c, 1);
			m = col_add(idx, m, rd->wsc, 2 * c * c, 1);
		}
	}
	m = col_add(idx, m, r->head_bn, (size_t)r->cf, 1);
	m = col_add(idx, m, r->lin_w, (size_t)cfg->classes * r->cf, 1);
	return m;
}

int ref_net_per_sample_grads(struct ref_net *r, const double *x, int B, int coupled, double *G)
{
	int K = r->cfg.classes;
	size_t W = ref_net_grad_columns(r, NULL);
	size_t *idx = malloc(sizeof(size_t) * (W ? W : 1));
	double *dl = malloc(sizeof(double) * (size_t)B * K), *g = malloc(sizeof(double) * r->np);
	int rc = idx && dl && g ? 0 : -1;
	if (rc == 0)
		ref_net_grad_columns(r, idx);
	for (int i = 0; rc == 0 && i < B; i++) {
		/* the tape of the backward is freed by the next forward only:
		 * one forward per row keeps memory bounded */
		rc = ref_net_forward(r, x, B, NULL);
		for (int q = 0; q < B * K; q++)
			dl[q] = q / K == i ? 1 : 0;
		if (rc == 0)
			rc = ref_net_backward(r, dl, coupled, g);
		for (size_t j = 0; rc == 0 && j < W; j++)
			G[(size_t)i * W + j] = g[idx[j]];
	}
	free(idx);
	free(dl);
	free(g);
	return rc;
}

/* Sample n's ReLU outputs in net.h's pattern order into row (NULL: count
 * only); returns the number of values. */
static size_t relu_row(const struct ref_net *r, int n, double *row)
{
	size_t b = 0;
	for (int s = 0; s < r->nstages; s++) {
		size_t hw = (size_t)r->sh[s] * r->sw[s];
		const double *acts[5];
		int chans[5], na = 0;
		size_t planes[5];
		for (int i = 0; i < r->cfg.N; i++) {
			na = 0;
			for (int j = 0; j < 3; j++)
				if (node_has_conv(r, j)) {
					acts[na] = r->cells[s * r->cfg.N + i].relu[j];
					chans[na] = r->sc[s];
					planes[na++] = hw;
				}
			for (int a = 0; a < na; a++) {
				size_t len = (size_t)chans[a] * planes[a];
				if (row)
					memcpy(row + b, acts[a] + (size_t)n * len, sizeof(double) * len);
				b += len;
			}
		}
		if (s + 1 < r->nstages) {
			size_t la = (size_t)r->sc[s] * hw, lb = (size_t)2 * r->sc[s] * r->sh[s + 1] * r->sw[s + 1];
			if (row) {
				memcpy(row + b, r->rs[s].ra + (size_t)n * la, sizeof(double) * la);
				memcpy(row + b + la, r->rs[s].rb + (size_t)n * lb, sizeof(double) * lb);
			}
			b += la + lb;
		}
	}
	int L = r->nstages - 1;
	size_t lf = (size_t)r->cf * r->sh[L] * r->sw[L];
	if (row)
		memcpy(row + b, r->head_h + (size_t)n * lf, sizeof(double) * lf);
	return b + lf;
}

size_t ref_net_relu_outputs(const struct ref_net *r, double *act)
{
	size_t bits = relu_row(r, 0, NULL);
	for (int n = 0; act && n < r->B; n++)
		relu_row(r, n, act + (size_t)n * bits);
	return bits;
}

void ref_sym_eigenvalues(const double *K, int n, double *eig)
{
	double *a = malloc(sizeof(double) * (size_t)n * n);
	if (!a)
		abort();
	memcpy(a, K, sizeof(double) * (size_t)n * n);
	for (int sweep = 0; sweep < 100; sweep++) {
		double off = 0, tot = 0;
		for (int i = 0; i < n; i++)
			for (int j = 0; j < n; j++) {
				tot += a[i * n + j] * a[i * n + j];
				if (i != j)
					off += a[i * n + j] * a[i * n + j];
			}
		if (off <= 1e-30 * tot)
			break;
		for (int p = 0; p < n; p++)
			for (int q = p + 1; q < n; q++) {
				double apq = a[p * n + q];
				if (apq == 0)
					continue;
				double th = (a[q * n + q] - a[p * n + p]) / (2 * apq);
				double t = (th >= 0 ? 1 : -1) / (fabs(th) + sqrt(th * th + 1));
				double c = 1 / sqrt(t * t + 1), s = t * c;
				for (int k = 0; k < n; k++) {
					double akp = a[k * n + p], akq = a[k * n + q];
					a[k * n + p] = c * akp - s * akq;
					a[k * n + q] = s * akp + c * akq;
				}
				for (int k = 0; k < n; k++) {
					double apk = a[p * n + k], aqk = a[q * n + k];
					a[p * n + k] = c * apk - s * aqk;
					a[q * n + k] = s * apk + c * aqk;
				}
			}
	}
	for (int i = 0; i < n; i++)
		eig[i] = a[i * n + i];
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && eig[j - 1] > eig[j]; j--) {
			double t = eig[j];
			eig[j] = eig[j - 1];
			eig[j - 1] = t;
		}
	free(a);
}
