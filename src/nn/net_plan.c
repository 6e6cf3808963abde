/* Network skeleton shared by both precisions; see net_plan.h. */
#include "nn/net_plan.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "space/cost.h"
#include "util/rng.h"

void mn_net_config_ntk(struct mn_net_config *cfg)
{
	mn_net_config_eval(cfg, 3, 1, 32, 10);
}

void mn_net_config_thin(struct mn_net_config *cfg)
{
	cfg->C = 1;
	cfg->N = 1;
	cfg->H = cfg->W = 3;
	cfg->in_channels = 1;
	cfg->classes = 10;
	cfg->thin = 1;
}

void mn_net_config_eval(struct mn_net_config *cfg, int C, int N, int res, int classes)
{
	cfg->C = C;
	cfg->N = N;
	cfg->H = cfg->W = res;
	cfg->in_channels = 3;
	cfg->classes = classes;
	cfg->thin = 0;
}

int mn_net_config_check(const struct mn_net_config *c, char *msg, size_t n)
{
	const char *why = NULL;
	char buf[160];
	if (c->C < 1 || c->C > 4096)
		why = "channels must be 1..4096";
	else if (c->N < 1 || c->N > 64)
		why = "cells per stage must be 1..64";
	else if (c->classes < 1 || c->classes > 100000)
		why = "classes must be 1..100000";
	else if (c->in_channels < 1 || c->in_channels > 4096)
		why = "input channels must be 1..4096";
	else if (c->H < 1 || c->W < 1 || c->H > 4096 || c->W > 4096)
		why = "resolution must be 1..4096";
	else if (c->thin && c->in_channels != c->C) {
		snprintf(buf, sizeof buf,
			 "the thin network has no stem: input channels (%d) must equal channels (%d)",
			 c->in_channels, c->C);
		why = buf;
	}
	if (why) {
		if (msg && n)
			snprintf(msg, n, "%s", why);
		return -1;
	}
	if (msg && n)
		msg[0] = 0;
	return 0;
}

void mn_arch_to_mask(const struct mn_arch *a, unsigned char mask[MN_EDGES])
{
	for (int e = 0; e < MN_EDGES; e++)
		mask[e] = (unsigned char)(1u << a->op[e]);
}

static int add_tensor(struct mn_net_plan *p, int cap, int kind, size_t size, int fan_in,
		      int fan_out)
{
	if (p->nt >= cap)
		return -1;
	struct mn_tensor *t = &p->t[p->nt];
	t->off = p->nparams;
	t->size = size;
	t->kind = kind;
	t->fan_in = fan_in;
	t->fan_out = fan_out;
	t->live = 1;
	t->gcol = -1;
	t->soff = 0;
	if (kind == MN_T_BN_GAMMA) {
		t->soff = p->nstats;
		p->nstats += size;
	}
	p->nparams += size;
	return p->nt++;
}

static int add_conv(struct mn_net_plan *p, int cap, int cin, int cout, int k)
{
	return add_tensor(p, cap, MN_T_CONV, (size_t)cout * cin * k * k, cin * k * k,
			  cout * k * k);
}

static int add_bn(struct mn_net_plan *p, int cap, int c)
{
	int g = add_tensor(p, cap, MN_T_BN_GAMMA, (size_t)c, 0, 0);
	if (g < 0 || add_tensor(p, cap, MN_T_BN_BETA, (size_t)c, 0, 0) < 0)
		return -1;
	return g;
}

int mn_plan_init(struct mn_net_plan *p, const struct mn_net_config *cfg)
{
	memset(p, 0, sizeof *p);
	if (mn_net_config_check(cfg, NULL, 0) != 0)
		return -1;
	p->cfg = *cfg;
	p->nstages = cfg->thin ? 1 : 3;
	for (int s = 0; s < p->nstages; s++) {
		p->sc[s] = cfg->C << s;
		p->sh[s] = cfg->thin ? cfg->H : mn_side_after(cfg->H, s);
		p->sw[s] = cfg->thin ? cfg->W : mn_side_after(cfg->W, s);
	}
	p->ncells = p->nstages * cfg->N;
	int cap = 3 + p->ncells * MN_EDGES * 6 + 2 * 7 + 4;
	p->t = calloc((size_t)cap, sizeof *p->t);
	p->cell = calloc((size_t)p->ncells, sizeof *p->cell);
	if (!p->t || !p->cell) {
		mn_plan_free(p);
		return -1;
	}
	int C = cfg->C, ok = 1;
	p->stem_w = p->stem_bn = -1;
	if (!cfg->thin) {
		p->stem_w = add_conv(p, cap, cfg->in_channels, C, 3);
		p->stem_bn = add_bn(p, cap, C);
		ok &= p->stem_w >= 0 && p->stem_bn >= 0;
	}
	for (int s = 0; s < p->nstages; s++) {
		int c = p->sc[s];
		for (int i = 0; i < cfg->N; i++) {
			struct mn_edge_params *ep = p->cell[s * cfg->N + i];
			for (int e = 0; e < MN_EDGES; e++) {
				ep[e].w1 = add_conv(p, cap, c, c, 1);
				ep[e].bn1 = add_bn(p, cap, c);
				ep[e].w3 = add_conv(p, cap, c, c, 3);
				ep[e].bn3 = add_bn(p, cap, c);
				ok &= ep[e].w1 >= 0 && ep[e].bn1 >= 0 && ep[e].w3 >= 0 &&
				      ep[e].bn3 >= 0;
			}
		}
		if (s + 1 < p->nstages) {
			struct mn_red_params *r = &p->red[s];
			r->wa = add_conv(p, cap, c, 2 * c, 3);
			r->bna = add_bn(p, cap, 2 * c);
			r->wb = add_conv(p, cap, 2 * c, 2 * c, 3);
			r->bnb = add_bn(p, cap, 2 * c);
			r->wsc = add_conv(p, cap, c, 2 * c, 1);
			ok &= r->wa >= 0 && r->bna >= 0 && r->wb >= 0 && r->bnb >= 0 && r->wsc >= 0;
		}
	}
	p->cf = p->sc[p->nstages - 1];
	p->head_bn = add_bn(p, cap, p->cf);
	p->lin_w = add_tensor(p, cap, MN_T_LIN_W, (size_t)cfg->classes * p->cf, p->cf,
			      cfg->classes);
	p->lin_b = add_tensor(p, cap, MN_T_LIN_B, (size_t)cfg->classes, p->cf, cfg->classes);
	ok &= p->head_bn >= 0 && p->lin_w >= 0 && p->lin_b >= 0;
	if (!ok) {
		mn_plan_free(p);
		return -1;
	}
	unsigned char m[MN_EDGES];
	for (int e = 0; e < MN_EDGES; e++)
		m[e] = MN_MASK_NO_NONE;
	return mn_plan_set_mask(p, m);
}

void mn_plan_free(struct mn_net_plan *p)
{
	free(p->t);
	free(p->cell);
	p->t = NULL;
	p->cell = NULL;
}

int mn_plan_set_mask(struct mn_net_plan *p, const unsigned char mask[MN_EDGES])
{
	for (int e = 0; e < MN_EDGES; e++)
		if (mask[e] > MN_MASK_ALL)
			return -1;
	for (int e = 0; e < MN_EDGES; e++) {
		p->mask[e] = mask[e];
		p->k[e] = __builtin_popcount(mask[e]);
	}
	for (int i = 0; i < p->nt; i++)
		p->t[i].live = 1;
	for (int c = 0; c < p->ncells; c++)
		for (int e = 0; e < MN_EDGES; e++) {
			const struct mn_edge_params *ep = &p->cell[c][e];
			int l1 = (mask[e] >> MN_OP_CONV1) & 1, l3 = (mask[e] >> MN_OP_CONV3) & 1;
			p->t[ep->w1].live = p->t[ep->bn1].live = p->t[ep->bn1 + 1].live = l1;
			p->t[ep->w3].live = p->t[ep->bn3].live = p->t[ep->bn3 + 1].live = l3;
		}
	size_t col = 0;
	for (int i = 0; i < p->nt; i++) {
		struct mn_tensor *t = &p->t[i];
		int weight = t->kind == MN_T_CONV || t->kind == MN_T_BN_GAMMA || t->kind == MN_T_LIN_W;
		t->gcol = -1;
		if (weight && t->live) {
			t->gcol = (long)col;
			col += t->size;
		}
	}
	p->gwidth = col;
	return 0;
}

int mn_plan_edges_from(const struct mn_net_plan *p, int j, int op, int *edges)
{
	int n = 0;
	for (int e = 0; e < MN_EDGES; e++)
		if (mn_edge_from(e) == j && ((p->mask[e] >> op) & 1))
			edges[n++] = e;
	return n;
}

int mn_plan_node_has_conv(const struct mn_net_plan *p, int j)
{
	int e[3];
	return mn_plan_edges_from(p, j, MN_OP_CONV1, e) + mn_plan_edges_from(p, j, MN_OP_CONV3, e) >
	       0;
}

double mn_plan_init_value(const struct mn_net_plan *p, const struct mn_tensor *t,
			  struct mn_rng *rng, enum mn_init_mode mode)
{
	switch (t->kind) {
	case MN_T_BN_GAMMA:
		return 1.0;
	case MN_T_BN_BETA:
		return 0.0;
	case MN_T_LIN_B:
		if (mode == MN_INIT_PAPER)
			return 0.0;
		/* fall through: PyTorch's bias bound is 1/sqrt(fan_in) too */
	default:
		break;
	}
	if (mode == MN_INIT_PAPER) {
		int fan = p->cfg.thin ? t->fan_in : t->fan_out;
		return sqrt(2.0 / fan) * mn_rng_normal(rng);
	}
	double bound = 1.0 / sqrt((double)t->fan_in);
	return (2.0 * mn_rng_uniform(rng) - 1.0) * bound;
}
