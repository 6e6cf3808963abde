/* The network's set-up (create, masks, init, parameters, threads), its
 * block outputs, MAC count and activation patterns.  Layout of the state:
 * net_internal.h. */
#include <stdlib.h>
#include <string.h>

#include "nn/net_internal.h"

/* ---------------------------------------------------------------- setup */

const char *mn_init_mode_name(enum mn_init_mode m)
{
	return m == MN_INIT_PAPER ? MN_INIT_PAPER_WORD : MN_INIT_CODE_WORD;
}

const char *mn_grad_mode_name(enum mn_grad_mode m)
{
	return m == MN_GRAD_FIXED_STATS ? MN_GRAD_FIXED_STATS_WORD : MN_GRAD_EXACT_WORD;
}

struct mn_net *mn_net_create(const struct mn_net_config *cfg)
{
	struct mn_net *net = calloc(1, sizeof *net);
	if (!net)
		return NULL;
	if (mn_plan_init(&net->plan, cfg) != 0) {
		free(net);
		return NULL;
	}
	net->params = calloc(net->plan.nparams, sizeof(float));
	net->bout_ok = calloc((size_t)mn_net_block_count(net) + 1, 1);
	net->stat_mean = calloc(net->plan.nstats, sizeof(float));
	net->stat_rstd = calloc(net->plan.nstats, sizeof(float));
	net->cells = calloc((size_t)net->plan.ncells, sizeof *net->cells);
	net->scr = calloc(1, sizeof *net->scr);
	net->nscr = net->scr ? 1 : 0;
	if (!net->scr || !net->params || !net->stat_mean || !net->stat_rstd || !net->cells ||
	    !net->bout_ok) {
		mn_net_free(net);
		return NULL;
	}
	return net;
}

void mn_net_free(struct mn_net *net)
{
	if (!net)
		return;
	mn_plan_free(&net->plan);
	free(net->params);
	free(net->stat_mean);
	free(net->stat_rstd);
	free(net->cells);
	free(net->arena);
	for (int i = 0; i < net->nws; i++) {
		free(net->ws[i].mem);
		mn_simd_scratch_free(&net->ws[i].scr);
		free(net->ws[i].cin);
	}
	for (int i = 0; i < net->nscr; i++)
		mn_simd_scratch_free(&net->scr[i]);
	free(net->scr);
	free(net->ws);
	free(net->G);
	free(net->bout);
	free(net->bgrad);
	free(net->bout_ok);
	mn_pool_free(net->pool);
	free(net);
}

int mn_net_set_threads(struct mn_net *net, int n)
{
	n = mn_threads_or_all(n);
	if (mn_pool_size(net->pool) == n)
		return 0;
	mn_pool_free(net->pool);
	net->pool = n > 1 ? mn_pool_create(n) : NULL;
	/* one SIMD scratch per pool thread */
	int T = mn_pool_size(net->pool);
	struct mn_simd_scratch *s = calloc((size_t)T, sizeof *s);
	if (!s) {
		mn_pool_free(net->pool);
		net->pool = NULL;
		return -1;
	}
	for (int i = 0; i < net->nscr; i++)
		mn_simd_scratch_free(&net->scr[i]);
	free(net->scr);
	net->scr = s;
	net->nscr = T;
	return n > 1 && !net->pool ? -1 : 0;
}

int mn_net_get_threads(const struct mn_net *net)
{
	return mn_pool_size(net->pool);
}

const struct mn_net_config *mn_net_get_config(const struct mn_net *net)
{
	return &net->plan.cfg;
}

int mn_net_set_mask(struct mn_net *net, const unsigned char mask[MN_EDGES])
{
	if (mn_plan_set_mask(&net->plan, mask) != 0)
		return -1;
	net->layout_ok = 0;
	net->nb = 0;
	return 0;
}

int mn_net_set_arch(struct mn_net *net, const struct mn_arch *a)
{
	unsigned char m[MN_EDGES];
	for (int e = 0; e < MN_EDGES; e++)
		if (a->op[e] >= MN_OP_COUNT)
			return -1;
	mn_arch_to_mask(a, m);
	return mn_net_set_mask(net, m);
}

void mn_net_get_mask(const struct mn_net *net, unsigned char mask[MN_EDGES])
{
	memcpy(mask, net->plan.mask, MN_EDGES);
}

void mn_net_init(struct mn_net *net, struct mn_rng *rng, enum mn_init_mode mode)
{
	const struct mn_net_plan *p = &net->plan;
	for (int i = 0; i < p->nt; i++) {
		const struct mn_tensor *t = &p->t[i];
		for (size_t j = 0; j < t->size; j++)
			net->params[t->off + j] = (float)mn_plan_init_value(p, t, rng, mode);
	}
}

size_t mn_net_param_count(const struct mn_net *net)
{
	return net->plan.nparams;
}

float *mn_net_params(struct mn_net *net)
{
	return net->params;
}

size_t mn_net_grad_width(const struct mn_net *net)
{
	return net->plan.gwidth;
}

void mn_net_grad_param_index(const struct mn_net *net, size_t *idx)
{
	const struct mn_net_plan *p = &net->plan;
	for (int i = 0; i < p->nt; i++)
		if (p->t[i].gcol >= 0)
			for (size_t j = 0; j < p->t[i].size; j++)
				idx[(size_t)p->t[i].gcol + j] = p->t[i].off + j;
}

size_t mn_net_memory_bytes(const struct mn_net *net)
{
	size_t n = net->plan.nparams + 2 * net->plan.nstats + net->arena_cap + net->G_cap +
		   net->bout_cap + net->bgrad_cap;
	for (int i = 0; i < net->nws; i++)
		n += net->ws[i].cap;
	return n * sizeof(float);
}

void mn_net_freeze_bn(struct mn_net *net, int frozen)
{
	net->frozen = frozen;
}

void mn_net_set_cancel(struct mn_net *net, const atomic_int *flag) { net->cancel = flag; }

int mn_net_cancelled(const struct mn_net *net)
{
	return net->cancel && atomic_load(net->cancel) != 0;
}

void mn_net_set_query_chunk(struct mn_net *net, int nq)
{
	net->qchunk = nq > 0 ? nq : 0;
}

void mn_net_set_state_budget(struct mn_net *net, size_t bytes)
{
	net->state_budget = bytes;
	net->layout_ok = 0;
	net->nb = 0;
}

/* --------------------------------------------------------------- blocks */

int mn_net_block_count(const struct mn_net *net)
{
	const struct mn_net_plan *p = &net->plan;
	return p->nstages * p->cfg.N + p->nstages - 1;
}

/* Block i's state ([c][nb][h*w], or NULL before a forward lays it out),
 * shape, and offset (elements per sample) in the block stores. */
static const float *block_at(const struct mn_net *net, int i, int *c, int *h, int *w, size_t *off)
{
	const struct mn_net_plan *p = &net->plan;
	const struct mn_net_config *cfg = &p->cfg;
	size_t o = 0;
	if (!cfg->thin)
		o = (size_t)p->sc[0] * p->sh[0] * p->sw[0];
	else
		o = (size_t)cfg->in_channels * cfg->H * cfg->W;
	if (i == -1) {
		*c = cfg->thin ? cfg->in_channels : p->sc[0];
		*h = cfg->thin ? cfg->H : p->sh[0];
		*w = cfg->thin ? cfg->W : p->sw[0];
		*off = 0;
		return cfg->thin ? net->x : net->stem_out;
	}
	int k = 0;
	for (int s = 0; s < p->nstages; s++) {
		size_t e = (size_t)p->sc[s] * p->sh[s] * p->sw[s];
		for (int n = 0; n < cfg->N; n++, k++) {
			if (k == i) {
				*c = p->sc[s], *h = p->sh[s], *w = p->sw[s], *off = o;
				return net->cells[s * cfg->N + n].node[3];
			}
			o += e;
		}
		if (s + 1 < p->nstages) {
			if (k == i) {
				*c = 2 * p->sc[s], *h = p->sh[s + 1], *w = p->sw[s + 1], *off = o;
				return net->red[s].out;
			}
			o += (size_t)p->sc[s + 1] * p->sh[s + 1] * p->sw[s + 1]; /* 2C on the halved plane */
			k++;
		}
	}
	*off = o; /* i == block count: the stores' size */
	return NULL;
}

/* Elements per sample of all blocks -1..count-1. */
size_t net_block_store_size(const struct mn_net *net)
{
	int c, h, w;
	size_t o;
	block_at(net, mn_net_block_count(net), &c, &h, &w, &o);
	return o;
}

int net_grow(float **buf, size_t *cap, size_t n)
{
	if (n <= *cap)
		return 0;
	float *b = malloc(n * sizeof(float));
	if (!b)
		return -1;
	free(*buf);
	*buf = b;
	*cap = n;
	return 0;
}

const float *mn_net_block_output(const struct mn_net *net_c, int i, int *c, int *h, int *w)
{
	/* the copy is a cache: filling it does not change what the network computes */
	struct mn_net *net = (struct mn_net *)net_c;
	int bc, bh, bw;
	size_t off;
	if (i < -1 || i >= mn_net_block_count(net) || !net->fw_ok || !net->layout_ok)
		return NULL;
	const float *src = block_at(net, i, &bc, &bh, &bw, &off);
	size_t per = (size_t)bc * bh * bw, hw = (size_t)bh * bw;
	int nb = net->nb;
	if (net_grow(&net->bout, &net->bout_cap, net_block_store_size(net) * nb) != 0)
		return NULL;
	float *dst = net->bout + off * nb;
	if (!net->bout_ok[i + 1]) {
		for (int ch = 0; ch < bc; ch++)
			for (int n = 0; n < nb; n++)
				memcpy(dst + (size_t)n * per + (size_t)ch * hw,
				       src + ((size_t)ch * nb + n) * hw, sizeof(float) * hw);
		net->bout_ok[i + 1] = 1;
	}
	if (c)
		*c = bc;
	if (h)
		*h = bh;
	if (w)
		*w = bw;
	return dst;
}

const float *mn_net_block_output_grad(const struct mn_net *net, int i, int *c, int *h, int *w)
{
	int bc, bh, bw;
	size_t off;
	if (i < -1 || i >= mn_net_block_count(net) || !net->fw_ok || !net->layout_ok ||
	    !net->has_bgrad)
		return NULL;
	block_at(net, i, &bc, &bh, &bw, &off);
	if (c)
		*c = bc;
	if (h)
		*h = bh;
	if (w)
		*w = bw;
	return net->bgrad + off * net->nb;
}

/* mn_net_backward: keeps the cotangent d ([c][nb][h*w]) of block i's output. */
void net_record_bgrad(struct mn_net *net, int i, const float *d)
{
	int bc, bh, bw;
	size_t off;
	block_at(net, i, &bc, &bh, &bw, &off);
	size_t per = (size_t)bc * bh * bw, hw = (size_t)bh * bw;
	int nb = net->nb;
	float *dst = net->bgrad + off * nb;
	for (int ch = 0; ch < bc; ch++)
		for (int n = 0; n < nb; n++)
			memcpy(dst + (size_t)n * per + (size_t)ch * hw,
			       d + ((size_t)ch * nb + n) * hw, sizeof(float) * hw);
}

double mn_net_forward_macs(const struct mn_net *net, int batch)
{
	const struct mn_net_plan *p = &net->plan;
	const struct mn_net_config *cfg = &p->cfg;
	double m = 0;
	if (!cfg->thin)
		m += 9.0 * cfg->in_channels * p->sc[0] * cfg->H * cfg->W;
	for (int s = 0; s < p->nstages; s++) {
		double C = p->sc[s], hw = (double)p->sh[s] * p->sw[s];
		for (int e = 0; e < MN_EDGES; e++) {
			if ((p->mask[e] >> MN_OP_CONV1) & 1)
				m += cfg->N * C * C * hw;
			if ((p->mask[e] >> MN_OP_CONV3) & 1)
				m += cfg->N * 9 * C * C * hw;
		}
		if (s + 1 < p->nstages)
			m += (18 * C * C + 36 * C * C + 2 * C * C) * ((double)p->sh[s + 1] * p->sw[s + 1]);
	}
	m += (double)cfg->classes * p->cf;
	return m * batch;
}

/* ------------------------------------------------------------- patterns */

size_t mn_net_pattern_bits(const struct mn_net *net)
{
	const struct mn_net_plan *p = &net->plan;
	size_t bits = 0;
	for (int s = 0; s < p->nstages; s++) {
		size_t hw = (size_t)p->sh[s] * p->sw[s];
		for (int j = 0; j < 3; j++)
			if (mn_plan_node_has_conv(p, j))
				bits += (size_t)p->cfg.N * p->sc[s] * hw;
		if (s + 1 < p->nstages)
			bits += (size_t)p->sc[s] * hw +
				(size_t)2 * p->sc[s] * ((size_t)p->sh[s + 1] * p->sw[s + 1]);
	}
	int L = p->nstages - 1;
	return bits + (size_t)p->cf * p->sh[L] * p->sw[L];
}

/* Sets bit b+i of row for every r[i] > 0, i < n (the row's bits from b on
 * are zero); returns b + n.  A word at a time, without a branch on the
 * values: about half the units are active, so a branch per bit was
 * mispredicted about as often as not (put_bits was 5% of an atlas row). */
static size_t put_run(uint64_t *row, size_t b, const float *r, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned sh = (unsigned)(b & 63);
		size_t take = 64 - sh < n - i ? 64 - sh : n - i;
		uint64_t w = 0;
		for (size_t k = 0; k < take; k++)
			w |= (uint64_t)(r[i + k] > 0) << k;
		row[b >> 6] |= w << sh;
		b += take;
		i += take;
	}
	return b;
}

static size_t put_bits(uint64_t *row, size_t b, const float *act, int C, int nb, int n, size_t hw)
{
	for (int c = 0; c < C; c++)
		b = put_run(row, b, act + ((size_t)c * nb + n) * hw, hw);
	return b;
}

int mn_net_patterns(const struct mn_net *net, uint64_t *bits, size_t words)
{
	const struct mn_net_plan *p = &net->plan;
	size_t nbits = mn_net_pattern_bits(net);
	if (!net->layout_ok || !net->nb || words * 64 < nbits)
		return -1;
	int nb = net->nb;
	memset(bits, 0, sizeof(uint64_t) * words * nb);
	for (int n = 0; n < nb; n++) {
		uint64_t *row = bits + (size_t)n * words;
		size_t b = 0;
		for (int s = 0; s < p->nstages; s++) {
			size_t hw = (size_t)p->sh[s] * p->sw[s];
			for (int i = 0; i < p->cfg.N; i++) {
				const struct cellst *cs = &net->cells[s * p->cfg.N + i];
				for (int j = 0; j < 3; j++)
					if (cs->relu[j])
						b = put_bits(row, b, cs->relu[j], p->sc[s], nb, n,
							     hw);
			}
			if (s + 1 < p->nstages) {
				b = put_bits(row, b, net->red[s].ra, p->sc[s], nb, n, hw);
				b = put_bits(row, b, net->red[s].rb, 2 * p->sc[s], nb, n,
					     (size_t)p->sh[s + 1] * p->sw[s + 1]);
			}
		}
		int L = p->nstages - 1;
		put_bits(row, b, net->head_h, p->cf, nb, n, (size_t)p->sh[L] * p->sw[L]);
	}
	return 0;
}
