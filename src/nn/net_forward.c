/* The forward in train mode: stem, cells (grouped by source node),
 * reduction blocks, head; BN statistics are kept for freezing. */
#include <string.h>

#include "nn/net_internal.h"

/* ------------------------------------------------------------- forward */

/* xhat = normalize(z) (in place allowed) with batch statistics (stored for
 * freezing) or the frozen ones. */
static int bn_forward(struct mn_net *net, float *xhat, const float *z, float *mean, float *rstd,
		      const int *tbn, int nblk, int C, size_t M)
{
	const struct mn_net_plan *p = &net->plan;
	if (net->frozen)
		for (int b = 0; b < nblk; b++) {
			size_t so = p->t[tbn[b]].soff;
			memcpy(mean + b * C, net->stat_mean + so, sizeof(float) * C);
			memcpy(rstd + b * C, net->stat_rstd + so, sizeof(float) * C);
		}
	if (net_par_bn(net->pool, xhat, z, mean, rstd, nblk * C, M, !net->frozen) != 0)
		return -1;
	if (!net->frozen)
		for (int b = 0; b < nblk; b++) {
			size_t so = p->t[tbn[b]].soff;
			memcpy(net->stat_mean + so, mean + b * C, sizeof(float) * C);
			memcpy(net->stat_rstd + so, rstd + b * C, sizeof(float) * C);
		}
	return 0;
}

static int fw_cell(struct mn_net *net, struct cellst *cs)
{
	const struct mn_net_plan *p = &net->plan;
	int s = cs->stage, C = p->sc[s], h = p->sh[s], w = p->sw[s], nb = net->nb;
	size_t M = (size_t)nb * h * w, n = (size_t)C * M;
	for (int i = 1; i < 4; i++)
		memset(cs->node[i], 0, sizeof(float) * n);
	for (int j = 0; j < 3; j++) {
		const float *in = cs->node[j];
		/* a network's first forward touches its whole arena (slow on
		 * some virtual machines): a cancel is polled per source node */
		if (mn_net_cancelled(net))
			return MN_NET_CANCELLED;
		if (cs->relu[j])
			net_par_relu(net->pool, cs->relu[j], in, n);
		if (cs->col[j] && !cs->g[j][1].ne) {
			/* kept cols exist for every node: the 3x3 group's conv fills its
			 * own, the others are filled here (or zeroed) */
			if (cs->relu[j]) {
				struct mn_conv_geom g3;
				mn_conv_geom_init(&g3, C, C, 3, 1, 1, h, w);
				mn_im2col(cs->col[j], M, cs->relu[j], M, &g3, nb);
			} else
				memset(cs->col[j], 0, sizeof(float) * 9 * n);
		}
		for (int t = 0; t < 2; t++) {
			struct group *g = &cs->g[j][t];
			if (!g->ne)
				continue;
			int ckk = mn_conv_ckk(&g->geom);
			for (int b = 0; b < g->ne; b++) {
				memcpy(g->w + (size_t)b * C * ckk, tparam(net, g->tw[b]),
				       sizeof(float) * C * ckk);
				memcpy(g->gamma + b * C, tparam(net, g->tbn[b]), sizeof(float) * C);
				memcpy(g->beta + b * C, tparam(net, g->tbn[b] + 1),
				       sizeof(float) * C);
			}
			net_par_conv(net, g->xhat, g->w, cs->relu[j], &g->geom, nb,
				     t ? cs->col[j] : NULL, net->col_scratch, 0);
			if (bn_forward(net, g->xhat, g->xhat, g->mean, g->rstd, g->tbn, g->ne, C,
				       M) != 0)
				return -1;
			for (int b = 0; b < g->ne; b++) {
				int e = g->edge[b];
				net_par_affine(net->pool, cs->node[mn_edge_to(e)],
					       g->xhat + b * C * M, g->gamma + b * C,
					       g->beta + b * C, C, M, (float)(1.0 / p->k[e]), 1);
			}
		}
		int ed[3], ne = mn_plan_edges_from(p, j, MN_OP_POOL3, ed);
		for (int b = 0; b < ne; b++)
			net_par_pool3_fw(net, cs->node[mn_edge_to(ed[b])], in, (size_t)C * nb, h, w,
					 (float)(1.0 / p->k[ed[b]]));
		ne = mn_plan_edges_from(p, j, MN_OP_SKIP, ed);
		for (int b = 0; b < ne; b++)
			net_par_axpy(net->pool, cs->node[mn_edge_to(ed[b])],
				     (float)(1.0 / p->k[ed[b]]), in, n);
	}
	return 0;
}

static int fw_red(struct mn_net *net, struct redst *r, int s)
{
	const struct mn_net_plan *p = &net->plan;
	const struct mn_red_params *rp = &p->red[s];
	int C = p->sc[s], nb = net->nb;
	size_t M = (size_t)nb * r->ga.h * r->ga.w, Mo = (size_t)nb * r->ga.oh * r->ga.ow;
	net_par_relu(net->pool, r->ra, r->in, (size_t)C * M);
	net_par_conv(net, r->xa, tparam(net, rp->wa), r->ra, &r->ga, nb, r->cola, net->col_scratch,
		     0);
	if (bn_forward(net, r->xa, r->xa, r->ma, r->sa, &rp->bna, 1, 2 * C, Mo) != 0)
		return -1;
	net_par_affine(net->pool, r->rb, r->xa, tparam(net, rp->bna), tparam(net, rp->bna + 1),
		       2 * C, Mo, 1, 0);
	net_par_relu(net->pool, r->rb, r->rb, 2 * C * Mo);
	net_par_conv(net, r->xb, tparam(net, rp->wb), r->rb, &r->gb, nb, r->colb, net->col_scratch,
		     0);
	if (bn_forward(net, r->xb, r->xb, r->mb, r->sb, &rp->bnb, 1, 2 * C, Mo) != 0)
		return -1;
	net_par_affine(net->pool, r->out, r->xb, tparam(net, rp->bnb), tparam(net, rp->bnb + 1),
		       2 * C, Mo, 1, 0);
	mn_avgpool2_forward(r->pool, r->in, (size_t)C * nb, r->ga.h, r->ga.w);
	net_par_conv(net, r->out, tparam(net, rp->wsc), r->pool, &r->gsc, nb, NULL, NULL, 1);
	return 0;
}

int net_forward_run(struct mn_net *net, const float *x, int batch, float *logits)
{
	const struct mn_net_plan *p = &net->plan;
	const struct mn_net_config *cfg = &p->cfg;
	if (!x || batch < 1 || (net->frozen && !net->has_stats))
		return -1;
	net->fw_ok = 0;
	net->has_bgrad = 0;
	memset(net->bout_ok, 0, (size_t)mn_net_block_count(net) + 1);
	if (net_ensure_forward_layout(net, batch) != 0)
		return -1;
	int nb = batch;
	size_t hw0 = (size_t)cfg->H * cfg->W;
	mn_nchw_to_cnhw(net->x, x, nb, cfg->in_channels, (int)hw0);
	if (!cfg->thin) {
		int C = p->sc[0];
		net_par_conv(net, net->stem_xhat, tparam(net, p->stem_w), net->x, &net->gstem, nb,
			     net->stem_col, net->col_scratch, 0);
		if (bn_forward(net, net->stem_xhat, net->stem_xhat, net->stem_mean, net->stem_rstd,
			       &p->stem_bn, 1, C, nb * hw0) != 0)
			return -1;
		net_par_affine(net->pool, net->stem_out, net->stem_xhat, tparam(net, p->stem_bn),
			       tparam(net, p->stem_bn + 1), C, nb * hw0, 1, 0);
	}
	for (int s = 0; s < p->nstages; s++) {
		for (int i = 0; i < cfg->N; i++) {
			int rc = fw_cell(net, &net->cells[s * cfg->N + i]);
			if (rc != 0)
				return rc == MN_NET_CANCELLED ? rc : -1;
		}
		if (s + 1 < p->nstages && fw_red(net, &net->red[s], s) != 0)
			return -1;
	}
	int L = p->nstages - 1, cf = p->cf;
	size_t hwf = (size_t)p->sh[L] * p->sw[L], Mf = (size_t)nb * hwf;
	const float *last = net->cells[p->ncells - 1].node[3];
	if (bn_forward(net, net->head_xhat, last, net->head_mean, net->head_rstd, &p->head_bn, 1,
		       cf, Mf) != 0)
		return -1;
	net_par_affine(net->pool, net->head_h, net->head_xhat, tparam(net, p->head_bn),
		       tparam(net, p->head_bn + 1), cf, Mf, 1, 0);
	net_par_relu(net->pool, net->head_h, net->head_h, (size_t)cf * Mf);
	mn_gap_forward(net->head_g, net->head_h, (size_t)cf * nb, (int)hwf);
	mn_linear_forward(net->logits, tparam(net, p->lin_w), tparam(net, p->lin_b), net->head_g,
			  cfg->classes, cf, nb);
	if (!net->frozen)
		net->has_stats = 1;
	net->fused_ready = 0;
	net->fw_ok = 1;
	if (logits)
		for (int n = 0; n < nb; n++)
			for (int c = 0; c < cfg->classes; c++)
				logits[(size_t)n * cfg->classes + c] =
					net->logits[(size_t)c * nb + n];
	return 0;
}

int mn_net_forward(struct mn_net *net, const float *x, int batch, float *logits)
{
	return net_forward_run(net, x, batch, logits);
}
