/* The network's memory: the forward arena (input, activations, kept im2col
 * matrices) and the backward workspaces, laid out once per (batch, mask)
 * and reused.  Layout of the state: net_internal.h. */
#include <stdlib.h>
#include <string.h>

#include "nn/net_internal.h"
#include "util/huge_alloc.h"

/* --------------------------------------------------------------- layout */

static void group_setup(const struct mn_net_plan *p, struct group *g, int cell, int j, int op,
			int C, int h, int w)
{
	memset(g, 0, sizeof *g);
	g->ne = mn_plan_edges_from(p, j, op, g->edge);
	for (int b = 0; b < g->ne; b++) {
		const struct mn_edge_params *ep = &p->cell[cell][g->edge[b]];
		g->tw[b] = op == MN_OP_CONV1 ? ep->w1 : ep->w3;
		g->tbn[b] = op == MN_OP_CONV1 ? ep->bn1 : ep->bn3;
	}
	g->Cs = g->ne * C;
	if (g->ne) {
		int k = op == MN_OP_CONV1 ? 1 : 3;
		mn_conv_geom_init(&g->geom, C, g->Cs, k, 1, k / 2, h, w);
	}
}

/* Lays out (or, with a->base NULL, measures) the forward state for nb. */
static void layout_forward(struct mn_net *net, int nb, int store_cols, struct arena *a,
			   size_t *max_col)
{
	const struct mn_net_plan *p = &net->plan;
	const struct mn_net_config *cfg = &p->cfg;
	size_t mc = 0;
	size_t hw0 = (size_t)cfg->H * cfg->W;
	net->x = take(a, (size_t)cfg->in_channels * nb * hw0);
	float *prev = net->x;
	if (!cfg->thin) {
		int C = p->sc[0];
		mn_conv_geom_init(&net->gstem, cfg->in_channels, C, 3, 1, 1, cfg->H, cfg->W);
		size_t ncol = (size_t)mn_conv_ckk(&net->gstem) * nb * hw0;
		if (ncol > mc)
			mc = ncol;
		net->stem_col = store_cols ? take(a, ncol) : NULL;
		net->stem_xhat = take(a, (size_t)C * nb * hw0);
		net->stem_mean = take(a, C);
		net->stem_rstd = take(a, C);
		net->stem_out = take(a, (size_t)C * nb * hw0);
		prev = net->stem_out;
	}
	for (int s = 0; s < p->nstages; s++) {
		int C = p->sc[s], h = p->sh[s], w = p->sw[s];
		size_t M = (size_t)nb * h * w;
		for (int i = 0; i < cfg->N; i++) {
			int ci = s * cfg->N + i;
			struct cellst *cs = &net->cells[ci];
			cs->stage = s;
			cs->index = ci;
			cs->node[0] = prev;
			for (int n = 1; n < 4; n++)
				cs->node[n] = take(a, (size_t)C * M);
			/* im2col of every source node, contiguous (the fused backward
			 * multiplies a node cotangent by all of them at once) */
			float *colall = store_cols ? take(a, (size_t)27 * C * M) : NULL;
			cs->colsum = store_cols ? take(a, (size_t)27 * C) : NULL;
			if ((size_t)9 * C * M > mc)
				mc = (size_t)9 * C * M;
			for (int j = 0; j < 3; j++) {
				cs->relu[j] =
					mn_plan_node_has_conv(p, j) ? take(a, (size_t)C * M) : NULL;
				for (int t = 0; t < 2; t++) {
					struct group *g = &cs->g[j][t];
					group_setup(p, g, ci, j, t ? MN_OP_CONV3 : MN_OP_CONV1, C,
						    h, w);
					if (!g->ne)
						continue;
					g->w = take(a, (size_t)g->Cs * mn_conv_ckk(&g->geom));
					g->gamma = take(a, g->Cs);
					g->beta = take(a, g->Cs);
					g->mean = take(a, g->Cs);
					g->rstd = take(a, g->Cs);
					g->xhat = take(a, (size_t)g->Cs * M);
					g->xc = store_cols ? take(a, (size_t)g->Cs * 9 * C) : NULL;
				}
				cs->col[j] = colall ? colall + (size_t)j * 9 * C * M : NULL;
			}
			prev = cs->node[3];
		}
		if (s + 1 < p->nstages) {
			struct redst *r = &net->red[s];
			mn_conv_geom_init(&r->ga, C, 2 * C, 3, 2, 1, h, w);
			mn_conv_geom_init(&r->gb, 2 * C, 2 * C, 3, 1, 1, r->ga.oh, r->ga.ow);
			/* the pooled shortcut has the strided conv's size (mn_half_side) */
			mn_conv_geom_init(&r->gsc, C, 2 * C, 1, 1, 0, r->ga.oh, r->ga.ow);
			size_t Mo = (size_t)nb * r->ga.oh * r->ga.ow;
			size_t na = (size_t)mn_conv_ckk(&r->ga) * Mo,
			       nbc = (size_t)mn_conv_ckk(&r->gb) * Mo;
			if (na > mc)
				mc = na;
			if (nbc > mc)
				mc = nbc;
			r->in = prev;
			r->ra = take(a, (size_t)C * M);
			r->cola = store_cols ? take(a, na) : NULL;
			r->xa = take(a, 2 * C * Mo);
			r->ma = take(a, 2 * C);
			r->sa = take(a, 2 * C);
			r->rb = take(a, 2 * C * Mo);
			r->colb = store_cols ? take(a, nbc) : NULL;
			r->xb = take(a, 2 * C * Mo);
			r->mb = take(a, 2 * C);
			r->sb = take(a, 2 * C);
			r->pool = take(a, (size_t)C * Mo);
			r->out = take(a, 2 * C * Mo);
			prev = r->out;
		}
	}
	int L = p->nstages - 1;
	size_t Mf = (size_t)nb * p->sh[L] * p->sw[L];
	net->head_xhat = take(a, (size_t)p->cf * Mf);
	net->head_mean = take(a, p->cf);
	net->head_rstd = take(a, p->cf);
	net->head_h = take(a, (size_t)p->cf * Mf);
	net->head_g = take(a, (size_t)p->cf * nb);
	net->logits = take(a, (size_t)cfg->classes * nb);
	net->col_scratch = store_cols ? NULL : take(a, mc);
	if (max_col)
		*max_col = mc;
}

int net_ensure_forward_layout(struct mn_net *net, int nb)
{
	if (net->layout_ok && net->nb == nb)
		return 0;
	struct arena a = {NULL, 0};
	int store = 1;
	layout_forward(net, nb, 1, &a, NULL);
	if (a.used * sizeof(float) > (net->state_budget ? net->state_budget : MN_STATE_BUDGET)) {
		store = 0;
		a.used = 0;
		layout_forward(net, nb, 0, &a, NULL);
	}
	if (a.used > net->arena_cap) {
		free(net->arena);
		net->arena = mn_huge_alloc(a.used * sizeof(float));
		net->arena_cap = net->arena ? a.used : 0;
		if (!net->arena) {
			net->layout_ok = 0;
			return -1;
		}
	}
	a.base = net->arena;
	a.used = 0;
	layout_forward(net, nb, store, &a, &net->max_col);
	net->store_cols = store;
	net->nb = nb;
	net->layout_ok = 1;
	for (int i = 0; i < net->nws; i++)
		net->ws[i].nq = 0; /* backward workspaces must be laid out again */
	return 0;
}

/* Sizes (or lays out) the backward workspace for nq queries. */
static void layout_backward(struct mn_net *net, struct ws *ws, int nq, int fused, struct arena *a)
{
	const struct mn_net_plan *p = &net->plan;
	const struct mn_net_config *cfg = &p->cfg;
	size_t nb = (size_t)net->nb, E = 0, tmp = 0, dgn = 0, maxckk_ohw = 0, maxcol = 0;
	/* a weight gradient is split per query (nq groups) or per sample (nb) */
	size_t groups = (size_t)nq > nb ? (size_t)nq : nb;
	for (int s = 0; s < p->nstages; s++) {
		size_t hw = (size_t)p->sh[s] * p->sw[s], C = (size_t)p->sc[s];
		if (C * hw > E)
			E = C * hw;
		/* stacked 3x3 group: up to 3C rows of 9C; reduction b: 2C rows of 18C */
		size_t t3 = 3 * C * 9 * C, tr = 2 * C * 18 * C;
		if (t3 > tmp)
			tmp = t3;
		if (s + 1 < p->nstages && tr > tmp)
			tmp = tr;
		if (3 * C > dgn)
			dgn = 3 * C;
		if (s + 1 < p->nstages && 2 * C > dgn)
			dgn = 2 * C;
		if (9 * C * hw > maxckk_ohw)
			maxckk_ohw = 9 * C * hw;
		size_t ohw = s + 1 < p->nstages ? (size_t)p->sh[s + 1] * p->sw[s + 1] : 0;
		if (s + 1 < p->nstages && 18 * C * ohw > maxckk_ohw)
			maxckk_ohw = 18 * C * ohw;
		if (9 * C * hw * nb * nq > maxcol)
			maxcol = 9 * C * hw * nb * nq;
	}
	if (!cfg->thin) {
		size_t hw = (size_t)cfg->H * cfg->W, t0 = (size_t)p->sc[0] * 9 * cfg->in_channels;
		if (t0 > tmp)
			tmp = t0;
		if ((size_t)p->sc[0] > dgn)
			dgn = (size_t)p->sc[0];
		(void)hw;
	}
	if ((size_t)cfg->classes * p->cf > tmp)
		tmp = (size_t)cfg->classes * p->cf;
	if ((size_t)p->cf > dgn)
		dgn = (size_t)p->cf;
	E *= (size_t)nq * nb;
	ws->P0 = take(a, E);
	ws->P1 = take(a, E);
	ws->D1 = take(a, E);
	ws->D2 = take(a, E);
	ws->DR = take(a, E);
	/* the fused cell backward needs no stacked BN cotangents; reductions and
	 * the stem need at most E */
	ws->DZ = take(a, fused ? E : 3 * E);
	ws->DZ1 = fused ? NULL : take(a, 3 * E);
	size_t dc = maxcol < MN_DCOL_ELEMS ? maxcol : MN_DCOL_ELEMS;
	if (dc < maxckk_ohw)
		dc = maxckk_ohw;
	ws->dcol = take(a, dc);
	ws->dcol_cap = dc;
	ws->tmp = take(a, tmp * groups);
	ws->dg = take(a, dgn * groups);
	ws->db = take(a, dgn * groups);
	ws->dlog = take(a, (size_t)cfg->classes * nq * nb);
	ws->dgap = take(a, (size_t)p->cf * nq * nb);
	ws->col = net->store_cols ? NULL : take(a, net->max_col);
	/* fused backward: P[i-1] = dn[i] x [col_0..col_{i-1}]^T, [C][groups][<= 27C] */
	size_t pmax = 0, cmax = 0;
	for (int s = 0; s < p->nstages; s++) {
		size_t C = (size_t)p->sc[s];
		if (C * groups * 27 * C > pmax)
			pmax = C * groups * 27 * C;
		if (C > cmax)
			cmax = C;
	}
	ws->psz = pmax;
	ws->P = fused ? take(a, 3 * pmax) : NULL;
	ws->coef = fused ? take(a, 6 * cmax * (size_t)nq * 3) : NULL;
	ws->msum = fused ? take(a, 4 * 7 * cmax * groups) : NULL;
	ws->fused = fused;
}

int net_ensure_backward_layout(struct mn_net *net, struct ws *ws, int nq, int fused)
{
	if (ws->nq == nq && ws->fused == fused)
		return 0;
	struct arena a = {NULL, 0};
	layout_backward(net, ws, nq, fused, &a);
	if (a.used > ws->cap) {
		free(ws->mem);
		ws->mem = mn_huge_alloc(a.used * sizeof(float));
		ws->cap = ws->mem ? a.used : 0;
		if (!ws->mem) {
			ws->nq = 0;
			return -1;
		}
	}
	a.base = ws->mem;
	a.used = 0;
	layout_backward(net, ws, nq, fused, &a);
	ws->nq = nq;
	return 0;
}

/* Can the fused cell backward run (float, AVX2, im2col kept)?  The sink and
 * mode decide the rest (fused_ok). */
int net_fused_possible(const struct mn_net *net)
{
	return mn_simd_avx2() && net->store_cols;
}

/* At least n workspaces. */
int net_ensure_workspaces(struct mn_net *net, int n)
{
	if (n <= net->nws)
		return 0;
	struct ws *w = realloc(net->ws, sizeof *w * (size_t)n);
	if (!w)
		return -1;
	memset(w + net->nws, 0, sizeof *w * (size_t)(n - net->nws));
	net->ws = w;
	net->nws = n;
	return 0;
}

struct mn_convT_in *net_ws_convT_inputs(struct ws *ws, size_t n)
{
	if (n > ws->cin_cap) {
		struct mn_convT_in *c = realloc(ws->cin, sizeof *c * n);
		if (!c)
			return NULL;
		ws->cin = c;
		ws->cin_cap = n;
	}
	return ws->cin;
}
