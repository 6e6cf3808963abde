/* The generic backward: the head (classifier, GAP, final ReLU and BN),
 * cells (stacked BN cotangents, GEMM weight gradients, conv^T), reduction
 * blocks and the stem, each written to a sink (summed parameter gradient,
 * per-query or per-sample rows of G); and mn_net_backward. */
#include <stdlib.h>
#include <string.h>

#include "nn/net_internal.h"

/* Weight gradient of nblk stacked tensors (rows each, ckk columns) from the
 * cotangent dy [nblk*rows][nq][nb*hw] and col [ckk][nb*hw]. */
static void emit_wgrad(struct mn_net *net, struct ws *ws, const struct sink *sk, const int *tids,
		       int nblk, int rows, int ckk, const float *dy, const float *col, size_t ldcol,
		       int nq, int hw)
{
	const struct mn_net_plan *p = &net->plan;
	int nb = net->nb, m = nblk * rows, K = nb * hw;
	float *tmp = ws->tmp;
	switch (sk->kind) {
	case SINK_NONE:
		break;
	case SINK_SUM:
		for (int b = 0; b < nblk; b++)
			mn_wgrad_sum(sk->grad + p->t[tids[b]].off, dy + (size_t)b * rows * K,
				     (size_t)K, col, ldcol, rows, K, ckk, 1);
		break;
	case SINK_QUERY:
		/* few columns (a 1x1 conv, the classifier): OpenBLAS packs for nothing */
		if (mn_simd_avx2() && ckk <= 12)
			mn_simd_gemm_nt(
				tmp, (size_t)ckk, dy, (size_t)K, col, ldcol, m * nq, ckk, K, 0,
				net_ws_scratch(net, ws, mn_simd_gemm_nt_scratch(m * nq, K)));
		else
			mn_wgrad_per_query(tmp, dy, col, ldcol, m, nq, K, ckk);
		for (int q = 0; q < nq; q++)
			for (int b = 0; b < nblk; b++) {
				float *dst = sk->G + (size_t)(sk->row0 + q) * sk->ldG +
					     p->t[tids[b]].gcol;
				for (int r = 0; r < rows; r++)
					memcpy(dst + (size_t)r * ckk,
					       tmp + (((size_t)b * rows + r) * nq + q) * ckk,
					       sizeof(float) * ckk);
			}
		break;
	case SINK_SAMPLE:
		mn_wgrad_per_sample(tmp, dy, col, ldcol, m, nb, hw, ckk);
		for (int n = 0; n < nb; n++)
			for (int b = 0; b < nblk; b++)
				memcpy(sk->G + (size_t)(sk->row0 + n) * sk->ldG +
					       p->t[tids[b]].gcol,
				       tmp + ((size_t)n * m + (size_t)b * rows) * ckk,
				       sizeof(float) * rows * ckk);
		break;
	}
}

/* BN backward of nblk stacked blocks of C channels; block b reads its
 * cotangent at dys[b] scaled by scales[b] and writes dx rows b*C... */
static void bn_backward_blocks(struct mn_net *net, struct ws *ws, const struct sink *sk, float *dx,
			       const float *const *dys, const float *scales, const float *xhat,
			       const float *rstd, const float *gamma, const int *tbn, int nblk,
			       int C, int nq, int hw, int coupled)
{
	const struct mn_net_plan *p = &net->plan;
	int nb = net->nb, Cs = nblk * C;
	size_t M = (size_t)nb * hw;
	int per_sample = sk->kind == SINK_SAMPLE;
	for (int b = 0; b < nblk; b++)
		mn_bn_backward(dx + (size_t)b * C * nq * M, ws->dg + b * C,
			       sk->kind == SINK_SUM ? ws->db + b * C : NULL, (size_t)Cs, dys[b],
			       scales[b], xhat + (size_t)b * C * M, rstd + b * C, gamma + b * C, C,
			       nq, nb, hw, coupled, per_sample);
	if (sk->kind == SINK_NONE)
		return;
	if (sk->kind == SINK_SUM) {
		for (int b = 0; b < nblk; b++) {
			float *gg = sk->grad + p->t[tbn[b]].off,
			      *gb = sk->grad + p->t[tbn[b] + 1].off;
			for (int c = 0; c < C; c++) {
				gg[c] += ws->dg[b * C + c];
				gb[c] += ws->db[b * C + c];
			}
		}
		return;
	}
	int groups = per_sample ? nb : nq;
	for (int g = 0; g < groups; g++)
		for (int b = 0; b < nblk; b++)
			memcpy(sk->G + (size_t)(sk->row0 + g) * sk->ldG + p->t[tbn[b]].gcol,
			       ws->dg + (size_t)g * Cs + b * C, sizeof(float) * C);
}

/* dn += relu-masked conv^T of materialized cotangents: cs3 3x3 inputs dz3
 * [cs3][nq*nb][hw] with kernels w3 [cs3][C][9], cs1 1x1 inputs likewise. */
static int convT_dz(struct mn_net *net, struct ws *ws, int C, int h, int w, int nb, int nq, int cs3,
		    const float *w3, const float *dz3, int cs1, const float *w1, const float *dz1,
		    const float *relu, float *dn, int overwrite)
{
	size_t M = (size_t)nb * h * w;
	struct mn_convT_in *in = net_ws_convT_inputs(ws, (size_t)(cs3 + cs1 + 1));
	if (!in)
		return -1;
	for (int c = 0; c < cs3 + cs1; c++) {
		int three = c < cs3;
		in[c].src = three ? dz3 + (size_t)c * nq * M : dz1 + (size_t)(c - cs3) * nq * M;
		in[c].xhat = in[c].coef = NULL;
		in[c].w = three ? w3 + (size_t)c * C * 9 : w1 + (size_t)(c - cs3) * C;
		in[c].k = three ? 3 : 1;
	}
	struct mn_convT_job job = {C, h, w, nb, nq * nb, cs3 + cs1, in,
				   relu, dn, overwrite, 0, {0}, {0}};
	/* serial on this workspace's thread: its first scratch */
	struct mn_simd_scratch *scr = net_ws_scratch(net, ws, mn_simd_convT_scratch(&job));
	int rc = scr ? mn_simd_convT(&job, 0, nq * nb, scr) : -1;
	return rc;
}

static void bw_head(struct mn_net *net, struct ws *ws, const struct sink *sk, int nq, int coupled,
		    float *dout)
{
	const struct mn_net_plan *p = &net->plan;
	int L = p->nstages - 1, cf = p->cf, classes = p->cfg.classes, nb = net->nb;
	int hw = p->sh[L] * p->sw[L];
	size_t M = (size_t)nb * hw;
	if (sk->kind == SINK_SUM)
		mn_linear_backward_params(sk->grad + p->t[p->lin_w].off,
					  sk->grad + p->t[p->lin_b].off, ws->dlog, net->head_g,
					  classes, cf, nb, 1);
	else
		emit_wgrad(net, ws, sk, &p->lin_w, 1, classes, cf, ws->dlog, net->head_g,
			   (size_t)nb, nq, 1);
	mn_linear_backward_data(ws->dgap, tparam(net, p->lin_w), ws->dlog, classes, cf, nq * nb, 0);
	mn_gap_backward(ws->DR, ws->dgap, (size_t)cf * nq * nb, hw, 0);
	mn_relu_backward(ws->DR, ws->DR, net->head_h, cf, nq, M, 0);
	const float *dys[1] = {ws->DR};
	float one = 1;
	bn_backward_blocks(net, ws, sk, dout, dys, &one, net->head_xhat, net->head_rstd,
			   tparam(net, p->head_bn), &p->head_bn, 1, cf, nq, hw, coupled);
}

static void bw_cell(struct mn_net *net, struct ws *ws, struct cellst *cs, const struct sink *sk,
		    int nq, int coupled, float *dn3, float *dn0)
{
	const struct mn_net_plan *p = &net->plan;
	int s = cs->stage, C = p->sc[s], h = p->sh[s], w = p->sw[s], nb = net->nb;
	size_t M = (size_t)nb * h * w, n = (size_t)C * nq * M;
	float *dn[4] = {dn0, ws->D1, ws->D2, dn3};
	int fast = mn_simd_avx2();
	for (int i = 0; i < 3; i++)
		memset(dn[i], 0, sizeof(float) * n);
	for (int j = 2; j >= 0; j--) {
		/* BN backward and weight gradients of the 3x3 (into DZ) and 1x1 (into
		 * DZ1) convs reading node j */
		for (int t = 1; t >= 0; t--) {
			struct group *g = &cs->g[j][t];
			if (!g->ne)
				continue;
			float *dz = t ? ws->DZ : ws->DZ1;
			const float *dys[3];
			float sc[3];
			for (int b = 0; b < g->ne; b++) {
				dys[b] = dn[mn_edge_to(g->edge[b])];
				sc[b] = (float)(1.0 / p->k[g->edge[b]]);
			}
			bn_backward_blocks(net, ws, sk, dz, dys, sc, g->xhat, g->rstd, g->gamma,
					   g->tbn, g->ne, C, nq, h * w, coupled);
			const float *col = cs->relu[j];
			int ckk = mn_conv_ckk(&g->geom);
			if (t) {
				if (cs->col[j])
					col = cs->col[j];
				else {
					mn_im2col(ws->col, M, cs->relu[j], M, &g->geom, nb);
					col = ws->col;
				}
			}
			emit_wgrad(net, ws, sk, g->tw, g->ne, C, ckk, dz, col, M, nq, h * w);
		}
		/* data gradient through the convs and node j's ReLU */
		struct group *g3 = &cs->g[j][1], *g1 = &cs->g[j][0];
		/* the SIMD conv^T when it runs, else GEMM + col2im and the ReLU mask */
		if ((g3->ne || g1->ne) &&
		    !(fast && convT_dz(net, ws, C, h, w, nb, nq, g3->Cs, g3->w, ws->DZ, g1->Cs,
				       g1->w, ws->DZ1, cs->relu[j], dn[j], 0) == 0)) {
			memset(ws->DR, 0, sizeof(float) * n);
			if (g3->ne)
				mn_conv_backward_data(ws->DR, g3->w, ws->DZ, &g3->geom, nq * nb,
						      ws->dcol, ws->dcol_cap);
			if (g1->ne)
				mn_conv_backward_data(ws->DR, g1->w, ws->DZ1, &g1->geom, nq * nb,
						      ws->dcol, ws->dcol_cap);
			mn_relu_backward(dn[j], ws->DR, cs->relu[j], C, nq, M, 1);
		}
		int ed[3], ne = mn_plan_edges_from(p, j, MN_OP_POOL3, ed);
		if (ne) {
			const float *src[3];
			float sc[3];
			for (int b = 0; b < ne; b++) {
				src[b] = dn[mn_edge_to(ed[b])];
				sc[b] = (float)(1.0 / p->k[ed[b]]);
			}
			mn_simd_pool3_bw(dn[j], src, sc, ne, (size_t)C * nq * nb, h, w,
					 net_ws_scratch(net, ws, mn_simd_pool3_scratch(h, w)));
		}
		ne = mn_plan_edges_from(p, j, MN_OP_SKIP, ed);
		for (int b = 0; b < ne; b++)
			mn_axpy(dn[j], (float)(1.0 / p->k[ed[b]]), dn[mn_edge_to(ed[b])], n);
	}
}

static void bw_red(struct mn_net *net, struct ws *ws, struct redst *r, int s, const struct sink *sk,
		   int nq, int coupled, float *dout, float *dx)
{
	const struct mn_net_plan *p = &net->plan;
	const struct mn_red_params *rp = &p->red[s];
	int C = p->sc[s], nb = net->nb;
	int hw = r->ga.h * r->ga.w, ohw = r->ga.oh * r->ga.ow;
	size_t M = (size_t)nb * hw, Mo = (size_t)nb * ohw;
	float one = 1;
	/* shortcut: avgpool 2x2 then 1x1 conv */
	emit_wgrad(net, ws, sk, &rp->wsc, 1, 2 * C, C, dout, r->pool, Mo, nq, ohw);
	/* D1 = Wsc^T dout (written, not accumulated) */
	cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, C, (int)(nq * Mo), 2 * C, 1,
		    tparam(net, rp->wsc), C, dout, (int)(nq * Mo), 0, ws->D1, (int)(nq * Mo));
	/* (its 2x2 pool's backward into dx comes last, with conv a's) */
	/* conv b */
	const float *dys[1] = {dout};
	bn_backward_blocks(net, ws, sk, ws->DZ, dys, &one, r->xb, r->sb, tparam(net, rp->bnb),
			   &rp->bnb, 1, 2 * C, nq, ohw, coupled);
	const float *col = r->colb;
	if (!col) {
		mn_im2col(ws->col, Mo, r->rb, Mo, &r->gb, nb);
		col = ws->col;
	}
	emit_wgrad(net, ws, sk, &rp->wb, 1, 2 * C, mn_conv_ckk(&r->gb), ws->DZ, col, Mo, nq, ohw);
	int done = 0;
	if (mn_simd_avx2())
		done = convT_dz(net, ws, 2 * C, r->gb.h, r->gb.w, nb, nq, 2 * C,
				tparam(net, rp->wb), ws->DZ, 0, NULL, NULL, r->rb, ws->D2, 1) == 0;
	if (!done) {
		memset(ws->D2, 0, sizeof(float) * 2 * C * nq * Mo);
		mn_conv_backward_data(ws->D2, tparam(net, rp->wb), ws->DZ, &r->gb, nq * nb,
				      ws->dcol, ws->dcol_cap);
		mn_relu_backward(ws->D2, ws->D2, r->rb, 2 * C, nq, Mo, 0);
	}
	/* conv a */
	dys[0] = ws->D2;
	bn_backward_blocks(net, ws, sk, ws->DZ, dys, &one, r->xa, r->sa, tparam(net, rp->bna),
			   &rp->bna, 1, 2 * C, nq, ohw, coupled);
	col = r->cola;
	if (!col) {
		mn_im2col(ws->col, Mo, r->ra, M, &r->ga, nb);
		col = ws->col;
	}
	emit_wgrad(net, ws, sk, &rp->wa, 1, 2 * C, mn_conv_ckk(&r->ga), ws->DZ, col, Mo, nq, ohw);
	/* dx = relu'(ra) * Wa^T DZ + the shortcut's pool backward of D1,
	 * straight from DZ and D1 where a kernel fits (simd_convT_s2.c), else
	 * through zeroed columns, their scatter and two more passes */
	struct mn_convT_s2_job cj = {.dx = dx,
				     .ldx = (size_t)nq * M,
				     .wt = tparam(net, rp->wa),
				     .dy = ws->DZ,
				     .pool2 = ws->D1,
				     .ldy = (size_t)nq * Mo,
				     .relu = r->ra,
				     .ldrelu = M,
				     .cin = C,
				     .cout = 2 * C,
				     .h = r->ga.h,
				     .w = r->ga.w,
				     .nimg = nq * nb,
				     .nb = nb,
				     .accumulate = 0};
	if (r->ga.k == 3 && r->ga.stride == 2 && r->ga.pad == 1 && mn_simd_convT_s2(&cj, 1) == 0)
		return;
	mn_avgpool2_backward(dx, ws->D1, (size_t)C * nq * nb, r->ga.h, r->ga.w, 0);
	memset(ws->DR, 0, sizeof(float) * C * nq * M);
	mn_conv_backward_data(ws->DR, tparam(net, rp->wa), ws->DZ, &r->ga, nq * nb, ws->dcol,
			      ws->dcol_cap);
	mn_relu_backward(dx, ws->DR, r->ra, C, nq, M, 1);
}

static void bw_stem(struct mn_net *net, struct ws *ws, const struct sink *sk, int nq, int coupled,
		    float *dout)
{
	const struct mn_net_plan *p = &net->plan;
	const struct mn_net_config *cfg = &p->cfg;
	int C = p->sc[0], nb = net->nb, hw = cfg->H * cfg->W;
	size_t M = (size_t)nb * hw;
	float one = 1;
	const float *dys[1] = {dout};
	bn_backward_blocks(net, ws, sk, ws->DZ, dys, &one, net->stem_xhat, net->stem_rstd,
			   tparam(net, p->stem_bn), &p->stem_bn, 1, C, nq, hw, coupled);
	const float *col = net->stem_col;
	if (!col) {
		mn_im2col(ws->col, M, net->x, M, &net->gstem, nb);
		col = ws->col;
	}
	emit_wgrad(net, ws, sk, &p->stem_w, 1, C, mn_conv_ckk(&net->gstem), ws->DZ, col, M, nq, hw);
}

/* One backward over nq queries from ws->dlog ([classes][nq][nb]). */
int net_backward_run(struct mn_net *net, struct ws *ws, const struct sink *sk, int nq, int coupled)
{
	const struct mn_net_plan *p = &net->plan;
	const struct mn_net_config *cfg = &p->cfg;
	ws->err = 0;
	float *a = ws->P0, *b = ws->P1, *t;
	/* mn_net_backward keeps each block output's cotangent */
	int rec = sk->kind == SINK_SUM && net->bgrad, blk = mn_net_block_count(net);
	bw_head(net, ws, sk, nq, coupled, a);
	/* the cancel flag is polled before each block: a cell of the exact
	 * mode is a small fraction of one NTK */
	for (int s = p->nstages - 1; s >= 0; s--) {
		for (int i = cfg->N - 1; i >= 0; i--) {
			if (mn_net_cancelled(net))
				return MN_NET_CANCELLED;
			if (rec)
				net_record_bgrad(net, --blk, a);
			if (ws->fused) {
				/* a fused layout has no room for the stacked cotangents */
				int rc = net_fused_ok(net, ws, sk, coupled)
						 ? net_bw_cell_fused(net, ws, &net->cells[s * cfg->N + i],
								     sk, nq, a, b)
						 : -1;
				if (rc == MN_NET_CANCELLED)
					return rc;
				if (rc != 0)
					ws->err = 1;
				t = a, a = b, b = t;
				continue;
			}
			bw_cell(net, ws, &net->cells[s * cfg->N + i], sk, nq, coupled, a, b);
			t = a, a = b, b = t;
		}
		if (s > 0) {
			if (mn_net_cancelled(net))
				return MN_NET_CANCELLED;
			if (rec)
				net_record_bgrad(net, --blk, a);
			bw_red(net, ws, &net->red[s - 1], s - 1, sk, nq, coupled, a, b);
			t = a, a = b, b = t;
		}
	}
	if (rec)
		net_record_bgrad(net, --blk, a);
	if (!cfg->thin)
		bw_stem(net, ws, sk, nq, coupled, a);
	return ws->err ? -1 : 0;
}

struct ws *net_backward_ws(struct mn_net *net)
{
	if (net_ensure_workspaces(net, 1) != 0 ||
	    net_ensure_backward_layout(net, &net->ws[0], 1, 0) != 0)
		return NULL;
	/* serial: the caller's thread does the whole pass */
	net->ws[0].pool = NULL;
	return &net->ws[0];
}

int mn_net_backward(struct mn_net *net, const float *dlogits, float *grad)
{
	const struct mn_net_config *cfg = &net->plan.cfg;
	if (!net->layout_ok || !net->nb || !dlogits || !grad)
		return -1;
	struct ws *ws = net_backward_ws(net);
	if (!ws)
		return -1;
	int nb = net->nb;
	for (int n = 0; n < nb; n++)
		for (int c = 0; c < cfg->classes; c++)
			ws->dlog[(size_t)c * nb + n] = dlogits[(size_t)n * cfg->classes + c];
	memset(grad, 0, sizeof(float) * net->plan.nparams);
	struct sink sk = {SINK_SUM, grad, NULL, 0, 0};
	net->has_bgrad = 0;
	if (net_grow(&net->bgrad, &net->bgrad_cap, net_block_store_size(net) * nb) != 0)
		return -1;
	/* a cancel does not apply here: callers want the gradient whole */
	const atomic_int *cancel = net->cancel;
	net->cancel = NULL;
	int rc = net_backward_run(net, ws, &sk, 1, !net->frozen);
	net->cancel = cancel;
	if (rc != 0)
		return -1;
	net->has_bgrad = 1;
	return 0;
}

/* Hook for the per-block backward (net_block.c): one cell or reduction
 * block, no parameter gradient. */
int net_backward_block(struct mn_net *net, struct ws *ws, int i, float *dout, float *din)
{
	const struct mn_net_plan *p = &net->plan;
	int N = p->cfg.N, per = N + 1; /* blocks per stage, its reduction included */
	int s = i / per, k = i % per;
	struct sink sk = {SINK_NONE, NULL, NULL, 0, 0};
	if (i < 0 || i >= mn_net_block_count(net))
		return -1;
	ws->err = 0;
	if (k < N)
		bw_cell(net, ws, &net->cells[s * N + k], &sk, 1, !net->frozen, dout, din);
	else
		bw_red(net, ws, &net->red[s], s, &sk, 1, !net->frozen, dout, din);
	return ws->err ? -1 : 0;
}
