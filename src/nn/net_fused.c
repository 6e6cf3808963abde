/* The fused cell backward (AVX2, im2col kept): per-query (exact mode) or
 * per-sample (fixed-stats) rows of G without materializing the BN
 * cotangents; the algebra is below. */
#include <stdlib.h>
#include <string.h>

#include "nn/net_internal.h"

/* ---------------------------------------------------- fused cell backward
 *
 * The BN in front of each conv is never materialized: for edge (i <- j),
 * op with kernel k, channel c and query q, the conv's input cotangent is
 *   z = ks*(s*dn_i - a - b*xhat),  ks = gamma*rstd, s = 1/(active ops),
 *   a = s*sum(dn_i)/M, b = s*sum(dn_i*xhat)/M   (a = b = 0 decoupled),
 * so its weight gradient is ks*(s*dn_i col_j^T - a*colsum_j - b*xhat col_j^T)
 * where only dn_i col_j^T depends on the query; one GEMM per node i gives
 * it for every source j < i at once (the 1x1 ops read the centre-tap
 * columns of the 3x3 im2col), and the conv^T applies the affine map while
 * it pads its input planes. */

int net_fused_ok(const struct mn_net *net, const struct ws *ws, const struct sink *sk, int coupled)
{
	if (!ws->fused || !net_fused_possible(net))
		return 0;
	if (sk->kind == SINK_QUERY)
		return coupled && net->fused_ready;
	return sk->kind == SINK_SAMPLE && !coupled;
}

/* colsum and xhat col^T of every cell, once per forward. */
void net_prepare_fused(struct mn_net *net)
{
	const struct mn_net_plan *p = &net->plan;
	if (net->fused_ready || !net->store_cols)
		return;
	for (int ci = 0; ci < p->ncells; ci++) {
		struct cellst *cs = &net->cells[ci];
		int C = p->sc[cs->stage], ck = 9 * C;
		size_t M = (size_t)net->nb * p->sh[cs->stage] * p->sw[cs->stage];
		for (int j = 0; j < 3; j++) {
			if (!cs->relu[j])
				continue;
			for (int k = 0; k < ck; k++)
				cs->colsum[j * ck + k] =
					(float)mn_simd_sum(cs->col[j] + (size_t)k * M, M);
			for (int t = 0; t < 2; t++) {
				struct group *g = &cs->g[j][t];
				if (g->ne && mn_simd_gemm_nt_long(g->xc, (size_t)ck, g->xhat, M,
								  cs->col[j], M, g->Cs, ck, (int)M) != 0)
					cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, g->Cs,
						    ck, (int)M, 1, g->xhat, (int)M, cs->col[j],
						    (int)M, 0, g->xc, ck);
			}
		}
	}
	net->fused_ready = 1;
}

struct np_ctx {
	const float *dni, *col;
	float *P;
	int C, N, hw, M;
	int nt;                      /* the short-K kernel instead of OpenBLAS */
	struct mn_simd_scratch *scr; /* per thread, or NULL (out of memory) */
};

static void np_body(void *c, int t, size_t lo, size_t hi)
{
	struct np_ctx *e = c;
	for (size_t n = lo; n < hi; n++)
		if (e->nt)
			mn_simd_gemm_nt(e->P + n * e->C * e->N, (size_t)e->N, e->dni + n * e->hw,
					(size_t)e->M, e->col + n * e->hw, (size_t)e->M, e->C, e->N,
					e->hw, 0, e->scr ? &e->scr[t] : NULL);
		else
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, e->C, e->N, e->hw, 1,
				    e->dni + n * e->hw, e->M, e->col + n * e->hw, e->M, 0,
				    e->P + n * e->C * e->N, e->N);
}

/* Whether a conv op (3x3 or 1x1) of node i reads source j. */
static int source_read(const struct cellst *cs, int j, int i)
{
	for (int t = 0; t < 2; t++)
		for (int b = 0; b < cs->g[j][t].ne; b++)
			if (mn_edge_to(cs->g[j][t].edge[b]) == i)
				return 1;
	return 0;
}

/* P[i-1] = dn_i x [col_0 .. col_{i-1}]^T: per query [C][nq][9C*i], per
 * sample [nb][C][9C*i]. */
static void node_products(struct mn_net *net, struct ws *ws, struct cellst *cs, int i,
			  const float *dni, int nq, int per_sample)
{
	const struct mn_net_plan *p = &net->plan;
	int C = p->sc[cs->stage], hw = p->sh[cs->stage] * p->sw[cs->stage], nb = net->nb;
	int M = nb * hw, N = 9 * C * i;
	float *P = ws->P + (size_t)(i - 1) * ws->psz;
	if (!per_sample) {
		/* only the sources a conv op of node i reads (femit reads P at
		 * those blocks alone): a pruned supernet or a candidate without
		 * an edge's convs skips that block's share of the GEMM */
		int ck = 9 * C;
		for (int j0 = 0; j0 < i;) {
			if (!source_read(cs, j0, i)) {
				j0++;
				continue;
			}
			int j1 = j0 + 1;
			while (j1 < i && source_read(cs, j1, i))
				j1++;
			const float *cj = cs->col[0] + (size_t)j0 * ck * M;
			float *Pj = P + (size_t)j0 * ck;
			if (mn_simd_gemm_nt_long(Pj, (size_t)N, dni, (size_t)M, cj, (size_t)M, C * nq,
						 (j1 - j0) * ck, M) != 0)
				cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, C * nq,
					    (j1 - j0) * ck, M, 1, dni, M, cj, M, 0, Pj, N);
			j0 = j1;
		}
		return;
	}
	struct np_ctx e = {dni,
			   cs->col[0],
			   P,
			   C,
			   N,
			   hw,
			   M,
			   mn_simd_avx2(),
			   net_ws_scratch(net, ws, mn_simd_gemm_nt_scratch(C, hw))};
	net_par_ranges(ws->pool, (size_t)nb, (double)C * N * hw, np_body, &e);
}

/* Incoming conv ops of node i, in a fixed order: (source j, op t, block b). */
struct inop {
	int j, t, b;
};

static int incoming_ops(const struct cellst *cs, int i, struct inop *ops)
{
	int n = 0;
	for (int j = 0; j < i; j++)
		for (int t = 1; t >= 0; t--) {
			const struct group *g = &cs->g[j][t];
			for (int b = 0; b < g->ne; b++)
				if (mn_edge_to(g->edge[b]) == i) {
					ops[n].j = j;
					ops[n].t = t;
					ops[n].b = b;
					n++;
				}
		}
	return n;
}

struct ns_ctx {
	const struct cellst *cs;
	const struct inop *ops;
	int nops;
	const float *dni;
	float *ms;
	int C, G, nq, hw, per_sample;
	size_t M;
};

/* sums over (channel, group) pairs lo..hi-1 */
static void ns_body(void *c, size_t lo, size_t hi)
{
	struct ns_ctx *e = c;
	for (size_t k = lo; k < hi; k++) {
		int ch = (int)(k / e->G), r = (int)(k % e->G);
		const float *d = e->per_sample ? e->dni + (size_t)ch * e->M + (size_t)r * e->hw
					       : e->dni + ((size_t)ch * e->nq + r) * e->M;
		size_t len = e->per_sample ? (size_t)e->hw : e->M;
		size_t off = e->per_sample ? (size_t)r * e->hw : 0;
		const float *xs[6];
		for (int o = 0; o < e->nops; o++) {
			const struct group *g = &e->cs->g[e->ops[o].j][e->ops[o].t];
			xs[o] = g->xhat + ((size_t)e->ops[o].b * e->C + ch) * e->M + off;
		}
		double dots[6], sum;
		mn_simd_dots(d, xs, e->nops, len, dots, &sum);
		e->ms[(size_t)ch * e->G + r] = (float)sum;
		for (int o = 0; o < e->nops; o++)
			e->ms[((size_t)(1 + o) * e->C + ch) * e->G + r] = (float)dots[o];
	}
}

/* When node i's cotangent is complete: its products with every source's
 * im2col (P) and, per channel and group, sum(dn_i) and sum(dn_i * xhat) for
 * each op reading into it (msum[i][0] and msum[i][1 + op]). */
static void node_complete(struct mn_net *net, struct ws *ws, struct cellst *cs, int i,
			  const float *dni, int nq, int per_sample)
{
	const struct mn_net_plan *p = &net->plan;
	int C = p->sc[cs->stage], hw = p->sh[cs->stage] * p->sw[cs->stage], nb = net->nb;
	int G = per_sample ? nb : nq;
	size_t M = (size_t)nb * hw;
	struct inop ops[6];
	int nops = incoming_ops(cs, i, ops);
	if (!nops)
		return;
	node_products(net, ws, cs, i, dni, nq, per_sample);
	struct ns_ctx e = {cs, ops, nops, dni, ws->msum + (size_t)i * 7 * C * G, C, G,
			   nq, hw, per_sample, M};
	mn_par_for_work(ws->pool, (size_t)C * G,
			(double)(nops + 1) * (per_sample ? (double)hw : (double)M), ns_body, &e);
}

/* One conv op reading the node being processed. */
struct fop {
	const struct group *g;
	int b, t, kk, ldp, nin0;
	const float *Pi, *m1s, *m2s;
	float sc;
	long gw, gg;
};

struct femit_ctx {
	const struct fop *ops;
	int nops, C, ck, G, nq, j, per_sample;
	size_t M;
	const float *colsum;
	const struct sink *sk;
	float *coef;
};

/* groups (samples or queries) lo..hi-1: dgamma, dW rows and coefficients */
static void femit_body(void *ctx, size_t lo, size_t hi)
{
	const struct femit_ctx *e = ctx;
	const int C = e->C, ck = e->ck, G = e->G;
	for (size_t rr = lo; rr < hi; rr++) {
		int r = (int)rr;
		float *grow = e->sk->G + (size_t)(e->sk->row0 + r) * e->sk->ldG;
		for (int o = 0; o < e->nops; o++) {
			const struct fop *f = &e->ops[o];
			const struct group *g = f->g;
			for (int c = 0; c < C; c++) {
				int bc = f->b * C + c;
				float ks = g->gamma[bc] * g->rstd[bc], sc = f->sc;
				double m1 = f->m1s[(size_t)c * G + r],
				       m2 = f->m2s[(size_t)c * G + r];
				float *cf = e->coef + (size_t)(f->nin0 + c) * e->nq * 3;
				grow[f->gg + c] = (float)(sc * m2);
				const float *prow =
					f->Pi +
					(e->per_sample ? ((size_t)r * C + c) * f->ldp
						       : ((size_t)c * e->nq + r) * f->ldp) +
					(size_t)e->j * ck;
				float *wrow = grow + f->gw + (size_t)c * C * f->kk;
				if (e->per_sample) {
					/* decoupled: no statistics terms (colsum and xc are not
					 * computed in that mode) */
					if (r == 0) {
						cf[0] = ks * sc;
						cf[1] = cf[2] = 0;
					}
					if (f->t)
						for (int k = 0; k < ck; k++)
							wrow[k] = ks * sc * prow[k];
					else
						for (int ci = 0; ci < C; ci++)
							wrow[ci] = ks * sc * prow[ci * 9 + 4];
					continue;
				}
				float a = (float)(sc * m1 / (double)e->M),
				      bb = (float)(sc * m2 / (double)e->M);
				const float *xc = g->xc + (size_t)bc * ck;
				cf[r * 3] = ks * sc;
				cf[r * 3 + 1] = -ks * a;
				cf[r * 3 + 2] = -ks * bb;
				if (f->t)
					for (int k = 0; k < ck; k++)
						wrow[k] = ks * (sc * prow[k] - a * e->colsum[k] -
								bb * xc[k]);
				else
					for (int ci = 0; ci < C; ci++) {
						int k = ci * 9 + 4;
						wrow[ci] = ks * (sc * prow[k] - a * e->colsum[k] -
								 bb * xc[k]);
					}
			}
		}
	}
}

int net_bw_cell_fused(struct mn_net *net, struct ws *ws, struct cellst *cs, const struct sink *sk,
		      int nq, float *dn3, float *dn0)
{
	const struct mn_net_plan *p = &net->plan;
	int s = cs->stage, C = p->sc[s], h = p->sh[s], w = p->sw[s], nb = net->nb;
	int ck = 9 * C, per_sample = sk->kind == SINK_SAMPLE, G = per_sample ? nb : nq;
	size_t M = (size_t)nb * h * w, n = (size_t)C * nq * M;
	float *dn[4] = {dn0, ws->D1, ws->D2, dn3};
	struct mn_convT_in *in = net_ws_convT_inputs(ws, (size_t)6 * C);
	if (!in)
		return -1;
	node_complete(net, ws, cs, 3, dn3, nq, per_sample);
	for (int j = 2; j >= 0; j--) {
		/* a stage-1 cell is the largest block of the exact backward */
		if (mn_net_cancelled(net))
			return MN_NET_CANCELLED;
		/* the conv ops reading node j (3x3 first: the conv^T wants them first) */
		struct fop ops[6];
		int nops = 0, nin = 0;
		for (int t = 1; t >= 0; t--) {
			struct group *g = &cs->g[j][t];
			for (int b = 0; b < g->ne; b++, nin += C) {
				struct fop *f = &ops[nops++];
				int e = g->edge[b], i = mn_edge_to(e);
				f->g = g;
				f->b = b;
				f->t = t;
				f->kk = t ? 9 : 1;
				f->ldp = ck * i;
				f->Pi = ws->P + (size_t)(i - 1) * ws->psz;
				/* this op's slot among node i's incoming ops */
				struct inop io[6];
				int nio = incoming_ops(cs, i, io), o = 0;
				while (o < nio && !(io[o].j == j && io[o].t == t && io[o].b == b))
					o++;
				const float *ms = ws->msum + (size_t)i * 7 * C * G;
				f->m1s = ms;
				f->m2s = ms + (size_t)(1 + o) * C * G;
				f->sc = (float)(1.0 / p->k[e]);
				f->gw = p->t[g->tw[b]].gcol;
				f->gg = p->t[g->tbn[b]].gcol;
				f->nin0 = nin;
				const float *xh = g->xhat + (size_t)b * C * M;
				for (int c = 0; c < C; c++) {
					int bc = b * C + c;
					in[nin + c].src = dn[i] + (size_t)c * nq * M;
					in[nin + c].xhat = per_sample ? NULL : xh + (size_t)c * M;
					in[nin + c].coef = ws->coef + (size_t)(nin + c) * nq * 3;
					in[nin + c].w = g->w + (size_t)bc * C * f->kk;
					in[nin + c].k = t ? 3 : 1;
				}
			}
		}
		/* weight and gamma gradients and the conv^T coefficients, split over
		 * the groups (samples or queries) */
		struct femit_ctx fe = {ops, nops, C, ck, G, nq, j, per_sample, M,
				       cs->colsum + (size_t)j * ck, sk, ws->coef};
		mn_par_for_work(ws->pool, (size_t)G, (double)nops * C * ck, femit_body, &fe);
		/* the conv^T writes node j's cotangent; without convs it starts at 0 */
		int ed[3], ne = mn_plan_edges_from(p, j, MN_OP_SKIP, ed);
		if (nin) {
			/* skip edges ride along with the conv^T's store */
			struct mn_convT_job job = {C, h, w, nb, nq * nb, nin, in,
						   cs->relu[j], dn[j], 1, ne, {0}, {0}};
			for (int b = 0; b < ne; b++) {
				job.skip[b] = dn[mn_edge_to(ed[b])];
				job.skip_s[b] = (float)(1.0 / p->k[ed[b]]);
			}
			struct pc_ctx e = {0};
			e.job = &job;
			e.scr = net_ws_scratch(net, ws, mn_simd_convT_scratch(&job));
			if (e.scr)
				net_par_ranges(ws->pool, (size_t)nq * nb,
					       (double)nin * C * 9 * h * w, net_pc_convT, &e);
			if (!e.scr || e.rc != 0)
				return -1;
		} else {
			memset(dn[j], 0, sizeof(float) * n);
			for (int b = 0; b < ne; b++)
				net_par_axpy(ws->pool, dn[j], (float)(1.0 / p->k[ed[b]]),
					     dn[mn_edge_to(ed[b])], n);
		}
		ne = mn_plan_edges_from(p, j, MN_OP_POOL3, ed);
		if (ne) {
			const float *src[3];
			float sp[3];
			for (int b = 0; b < ne; b++) {
				src[b] = dn[mn_edge_to(ed[b])];
				sp[b] = (float)(1.0 / p->k[ed[b]]);
			}
			struct pc_ctx e = {0};
			e.y = dn[j];
			e.src = src;
			e.s = sp;
			e.nsrc = ne;
			e.h = h;
			e.wd = w;
			e.scr = net_ws_scratch(net, ws, mn_simd_pool3_scratch(h, w));
			if (!e.scr)
				return -1;
			net_par_ranges(ws->pool, (size_t)C * nq * nb, 9.0 * h * w * ne,
				       net_pc_pool_bw, &e);
		}
		if (j > 0)
			node_complete(net, ws, cs, j, dn[j], nq, per_sample);
	}
	return 0;
}
