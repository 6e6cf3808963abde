/* Type-generic network: forward in train mode, ordinary backward, and the
 * per-sample gradients of TE-NAS's NTK in both modes.  Included once by
 * net.c (float) and once by net_d.c (double) after nn_real.h; the public
 * declarations are in net.h.
 *
 * Memory: a forward lays out one arena holding the input, every activation
 * the backward needs and (when they fit a budget) the im2col matrices; each
 * backward workspace (one per worker) is a second arena sized for its query
 * chunk.  Both are kept and reused while the batch and mask stay the same.
 *
 * Cell evaluation is grouped by source node: all active 3x3 convs reading
 * node j share one ReLU and one im2col and run as one conv with their
 * kernels stacked (likewise the 1x1 convs); their BNs are one BN over the
 * stacked channels.  The backward visits the groups in reverse (j = 2, 1, 0),
 * so node j's cotangent is complete when its group is processed.
 *
 * Two cell backwards: the generic one (both precisions) materializes the
 * stacked BN cotangents and runs GEMM + col2im; the fused one (float with
 * AVX2, im2col kept, per-query or per-sample sinks) folds each BN into the
 * conv^T input and into the weight-gradient algebra (see bw_cell_fused).
 * Tests check the two against each other.
 *
 * Threads (float): the exact mode shares its query chunks among the pool's
 * threads, one workspace each; the forward and the fixed-stats backward
 * split their heavy loops over images, channels or samples. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/net.h"
#include "nn/net_plan.h"
#include "nn/nn_layers.h"
#include "proxy/ntk.h"
#include "util/pool.h"
#if MN_REAL_IS_FLOAT
#include "nn/nn_fast.h"
#define MN_FAST() mn_fast_avx2()
#else
#define MN_FAST() 0
#endif

#define NET MN_R(mn_net)

/* Bytes of forward state above which im2col matrices are recomputed in the
 * backward rather than kept. */
#define MN_STATE_BUDGET ((size_t)768 << 20)
/* Bytes of backward workspace per query chunk (exact mode). */
#define MN_CHUNK_BUDGET ((size_t)96 << 20)
/* Elements of the col scratch used by the backward-data slabs. */
#define MN_DCOL_ELEMS ((size_t)1 << 20)

/* Stacked convs of one source node and one op (1x1 or 3x3). */
struct group {
	int ne;
	int edge[3];
	int tw[3], tbn[3]; /* tensors per edge */
	int Cs;            /* ne * C */
	struct mn_conv_geom geom;
	REAL *w, *gamma, *beta, *mean, *rstd;
	REAL *xhat; /* [Cs][nb*hw]: conv output, normalized in place */
	REAL *xc;   /* [Cs][9C]: xhat col^T (fused backward), or NULL */
};

struct cellst {
	int stage, index;
	REAL *node[4];
	REAL *relu[3];
	REAL *col[3]; /* kept im2col of relu[j] (contiguous, j = 0..2), or NULL */
	REAL *colsum; /* [3][9C]: row sums of col[j] (fused backward), or NULL */
	struct group g[3][2]; /* [source][0: 1x1, 1: 3x3] */
};

struct redst {
	struct mn_conv_geom ga, gb, gsc;
	REAL *in, *ra, *cola, *xa, *ma, *sa, *rb, *colb, *xb, *mb, *sb, *pool, *out;
};

struct arena {
	REAL *base;
	size_t used;
};

static REAL *take(struct arena *a, size_t n)
{
	size_t off = a->used;
	a->used += (n + 15) & ~(size_t)15;
	return a->base ? a->base + off : NULL;
}

/* Backward workspace for one query chunk (one per worker thread). */
struct ws {
	REAL *mem;
	size_t cap;
	int nq; /* laid out for this many queries, 0 = not laid out */
	REAL *P0, *P1, *D1, *D2, *DR, *DZ, *DZ1, *dcol, *tmp, *dg, *db, *dlog, *dgap;
	REAL *col; /* im2col recomputation when the forward keeps none */
	struct mn_pool *pool; /* parallel loops inside this backward, or NULL */
	REAL *P, *coef; /* fused backward: node cotangent x cols, BN coefficients */
	REAL *msum;     /* fused backward: BN sums per node, [4][7][C][groups] */
	size_t psz;
	int fused;      /* laid out for the fused cell backward */
	int err;        /* a step of the last backward failed */
	size_t dcol_cap;
};

struct NET {
	struct mn_net_plan plan;
	REAL *params;
	REAL *stat_mean, *stat_rstd; /* [nstats]: statistics of the last train forward */
	int frozen, has_stats;
	int qchunk;
	size_t state_budget; /* 0: MN_STATE_BUDGET */

	/* forward state */
	int nb;
	int store_cols;
	size_t max_col; /* largest im2col matrix */
	int layout_ok; /* arena laid out for (nb, mask) */
	int fused_ready; /* colsum and xc computed for the current forward */
	REAL *arena;
	size_t arena_cap;
	REAL *x;
	struct mn_conv_geom gstem;
	REAL *stem_col, *stem_xhat, *stem_mean, *stem_rstd, *stem_out;
	struct cellst *cells;
	struct redst red[2];
	REAL *head_xhat, *head_mean, *head_rstd, *head_h, *head_g, *logits;
	REAL *col_scratch;

	/* backward workspaces, one per worker thread */
	struct ws *ws;
	int nws;

	REAL *G; /* internal G for mn_net_ntk_cond */
	size_t G_cap;

	/* block outputs [batch][c][h][w] (filled on request) and their
	 * gradients (recorded by mn_net_backward), blocks -1..nblocks-1 one
	 * after the other */
	REAL *bout, *bgrad;
	size_t bout_cap, bgrad_cap;
	unsigned char *bout_ok; /* [nblocks + 1]: block i's copy is current */
	int has_bgrad;
	int fw_ok; /* the last forward completed */

	/* threads (float build): a pool of OpenBLAS's thread count, which is
	 * held at 1 while an engine call runs its own parallel loops */
	struct mn_pool *pool;
	int par_depth, par_blas;
};

enum { SINK_SUM, SINK_QUERY, SINK_SAMPLE };

struct sink {
	int kind;
	REAL *grad; /* SUM: canonical [P], accumulated */
	REAL *G;    /* QUERY/SAMPLE: rows row0.. */
	size_t ldG;
	int row0;
};

/* ---------------------------------------------------------------- setup */

struct NET *MN_R(mn_net_create)(const struct mn_net_config *cfg)
{
	struct NET *net = calloc(1, sizeof *net);
	if (!net)
		return NULL;
	if (mn_plan_init(&net->plan, cfg) != 0) {
		free(net);
		return NULL;
	}
	net->params = calloc(net->plan.nparams, sizeof(REAL));
	net->bout_ok = calloc((size_t)MN_R(mn_net_block_count)(net) + 1, 1);
	net->stat_mean = calloc(net->plan.nstats, sizeof(REAL));
	net->stat_rstd = calloc(net->plan.nstats, sizeof(REAL));
	net->cells = calloc((size_t)net->plan.ncells, sizeof *net->cells);
	if (!net->params || !net->stat_mean || !net->stat_rstd || !net->cells || !net->bout_ok) {
		MN_R(mn_net_free)(net);
		return NULL;
	}
	return net;
}

void MN_R(mn_net_free)(struct NET *net)
{
	if (!net)
		return;
	mn_plan_free(&net->plan);
	free(net->params);
	free(net->stat_mean);
	free(net->stat_rstd);
	free(net->cells);
	free(net->arena);
	for (int i = 0; i < net->nws; i++)
		free(net->ws[i].mem);
	free(net->ws);
	free(net->G);
	free(net->bout);
	free(net->bgrad);
	free(net->bout_ok);
#if MN_REAL_IS_FLOAT
	mn_pool_free(net->pool);
#endif
	free(net);
}

const struct mn_net_config *MN_R(mn_net_get_config)(const struct NET *net)
{
	return &net->plan.cfg;
}

int MN_R(mn_net_set_mask)(struct NET *net, const unsigned char mask[MN_EDGES])
{
	if (mn_plan_set_mask(&net->plan, mask) != 0)
		return -1;
	net->layout_ok = 0;
	net->nb = 0;
	return 0;
}

int MN_R(mn_net_set_arch)(struct NET *net, const struct mn_arch *a)
{
	unsigned char m[MN_EDGES];
	for (int e = 0; e < MN_EDGES; e++)
		if (a->op[e] >= MN_OP_COUNT)
			return -1;
	mn_arch_to_mask(a, m);
	return MN_R(mn_net_set_mask)(net, m);
}

void MN_R(mn_net_get_mask)(const struct NET *net, unsigned char mask[MN_EDGES])
{
	memcpy(mask, net->plan.mask, MN_EDGES);
}

void MN_R(mn_net_init)(struct NET *net, struct mn_rng *rng, enum mn_init_mode mode)
{
	const struct mn_net_plan *p = &net->plan;
	for (int i = 0; i < p->nt; i++) {
		const struct mn_tensor *t = &p->t[i];
		for (size_t j = 0; j < t->size; j++)
			net->params[t->off + j] = (REAL)mn_plan_init_value(p, t, rng, mode);
	}
}

size_t MN_R(mn_net_param_count)(const struct NET *net)
{
	return net->plan.nparams;
}

REAL *MN_R(mn_net_params)(struct NET *net)
{
	return net->params;
}

size_t MN_R(mn_net_grad_width)(const struct NET *net)
{
	return net->plan.gwidth;
}

void MN_R(mn_net_grad_param_index)(const struct NET *net, size_t *idx)
{
	const struct mn_net_plan *p = &net->plan;
	for (int i = 0; i < p->nt; i++)
		if (p->t[i].gcol >= 0)
			for (size_t j = 0; j < p->t[i].size; j++)
				idx[(size_t)p->t[i].gcol + j] = p->t[i].off + j;
}

size_t MN_R(mn_net_memory_bytes)(const struct NET *net)
{
	size_t n = net->plan.nparams + 2 * net->plan.nstats + net->arena_cap + net->G_cap +
		   net->bout_cap + net->bgrad_cap;
	for (int i = 0; i < net->nws; i++)
		n += net->ws[i].cap;
	return n * sizeof(REAL);
}

void MN_R(mn_net_freeze_bn)(struct NET *net, int frozen)
{
	net->frozen = frozen;
}

void MN_R(mn_net_set_query_chunk)(struct NET *net, int nq)
{
	net->qchunk = nq > 0 ? nq : 0;
}

void MN_R(mn_net_set_state_budget)(struct NET *net, size_t bytes)
{
	net->state_budget = bytes;
	net->layout_ok = 0;
	net->nb = 0;
}

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
static void layout_forward(struct NET *net, int nb, int store_cols, struct arena *a,
			   size_t *max_col)
{
	const struct mn_net_plan *p = &net->plan;
	const struct mn_net_config *cfg = &p->cfg;
	size_t mc = 0;
	size_t hw0 = (size_t)cfg->H * cfg->W;
	net->x = take(a, (size_t)cfg->in_channels * nb * hw0);
	REAL *prev = net->x;
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
			REAL *colall = store_cols ? take(a, (size_t)27 * C * M) : NULL;
			cs->colsum = store_cols ? take(a, (size_t)27 * C) : NULL;
			if ((size_t)9 * C * M > mc)
				mc = (size_t)9 * C * M;
			for (int j = 0; j < 3; j++) {
				cs->relu[j] = mn_plan_node_has_conv(p, j) ? take(a, (size_t)C * M) : NULL;
				for (int t = 0; t < 2; t++) {
					struct group *g = &cs->g[j][t];
					group_setup(p, g, ci, j, t ? MN_OP_CONV3 : MN_OP_CONV1, C, h, w);
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
			mn_conv_geom_init(&r->gsc, C, 2 * C, 1, 1, 0, h / 2, w / 2);
			size_t Mo = (size_t)nb * r->ga.oh * r->ga.ow;
			size_t na = (size_t)mn_conv_ckk(&r->ga) * Mo, nbc = (size_t)mn_conv_ckk(&r->gb) * Mo;
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

static int ensure_forward_layout(struct NET *net, int nb)
{
	if (net->layout_ok && net->nb == nb)
		return 0;
	struct arena a = {NULL, 0};
	int store = 1;
	layout_forward(net, nb, 1, &a, NULL);
	if (a.used * sizeof(REAL) > (net->state_budget ? net->state_budget : MN_STATE_BUDGET)) {
		store = 0;
		a.used = 0;
		layout_forward(net, nb, 0, &a, NULL);
	}
	if (a.used > net->arena_cap) {
		free(net->arena);
		net->arena = malloc(a.used * sizeof(REAL));
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

/* ------------------------------------------------------- parallel loops
 * Float build: the heavy loops split over images, channels or elements on
 * net->pool; the double build runs them serially. */

/* Engine calls bracket their work with these: the pool gets OpenBLAS's
 * thread count and OpenBLAS runs single-threaded inside. */
static void par_begin(struct NET *net)
{
#if MN_REAL_IS_FLOAT
	if (net->par_depth++)
		return;
	int T = mn_nn_get_threads();
	net->par_blas = T;
	if (mn_pool_size(net->pool) != T) {
		mn_pool_free(net->pool);
		net->pool = T > 1 ? mn_pool_create(T) : NULL;
	}
	if (net->pool)
		openblas_set_num_threads(1);
#else
	(void)net;
#endif
}

static void par_end(struct NET *net)
{
#if MN_REAL_IS_FLOAT
	if (--net->par_depth)
		return;
	if (net->pool)
		openblas_set_num_threads(net->par_blas);
#else
	(void)net;
#endif
}

#if MN_REAL_IS_FLOAT
struct pe_ctx {
	float *y;
	const float *x, *a, *b;
	float s, t;
	int acc;
	size_t M;
};

static void pe_relu(void *c, size_t lo, size_t hi)
{
	struct pe_ctx *e = c;
	mn_fast_relu(e->y + lo, e->x + lo, hi - lo);
}

static void pe_axpy(void *c, size_t lo, size_t hi)
{
	struct pe_ctx *e = c;
	mn_fast_lin3(e->y + lo, e->y + lo, e->x + lo, hi - lo, 1, 0, e->s);
}

/* y (+)= s*(a[c]*x + b[c]) over flattened [C][M] (a, b: per channel) */
static void pe_affine(void *c, size_t lo, size_t hi)
{
	struct pe_ctx *e = c;
	while (lo < hi) {
		size_t ch = lo / e->M, end = (ch + 1) * e->M < hi ? (ch + 1) * e->M : hi;
		float al = e->s * e->a[ch], be = e->s * e->b[ch];
		mn_fast_lin3(e->y + lo, e->x + lo, e->acc ? e->y + lo : NULL, end - lo, al, be,
			     e->acc ? 1 : 0);
		lo = end;
	}
}
#endif

static void p_relu(struct mn_pool *pool, REAL *y, const REAL *x, size_t n)
{
#if MN_REAL_IS_FLOAT
	struct pe_ctx e = {y, x, NULL, NULL, 0, 0, 0, 0};
	mn_par_for_work(pool, n, 1, pe_relu, &e);
#else
	(void)pool;
	MN_R(mn_relu_forward)(y, x, n);
#endif
}

static void p_axpy(struct mn_pool *pool, REAL *y, REAL s, const REAL *x, size_t n)
{
#if MN_REAL_IS_FLOAT
	struct pe_ctx e = {y, x, NULL, NULL, s, 0, 0, 0};
	mn_par_for_work(pool, n, 1, pe_axpy, &e);
#else
	(void)pool;
	MN_R(mn_axpy)(y, s, x, n);
#endif
}

static void p_affine(struct mn_pool *pool, REAL *y, const REAL *xhat, const REAL *gamma,
		     const REAL *beta, int C, size_t M, REAL scale, int acc)
{
#if MN_REAL_IS_FLOAT
	struct pe_ctx e = {y, xhat, gamma, beta, scale, 0, acc, M};
	mn_par_for_work(pool, (size_t)C * M, 1, pe_affine, &e);
#else
	(void)pool;
	MN_R(mn_bn_affine)(y, xhat, gamma, beta, C, M, scale, acc);
#endif
}

#if MN_REAL_IS_FLOAT
struct ps_ctx {
	const float *x;
	float *xhat;
	const float *mu;
	const float *rs;
	size_t M;
	int C, T, phase;
	double *part; /* [T][C] */
};

static void ps_body(void *c, int t, int T)
{
	struct ps_ctx *e = c;
	size_t n = (size_t)e->C * e->M, lo = n * t / T, hi = n * (t + 1) / T;
	double *part = e->part + (size_t)t * e->C;
	for (int ch = 0; ch < e->C; ch++)
		part[ch] = 0;
	while (lo < hi) {
		size_t ch = lo / e->M, end = (ch + 1) * e->M < hi ? (ch + 1) * e->M : hi;
		if (e->phase == 0)
			part[ch] += mn_fast_sum(e->x + lo, end - lo);
		else if (e->phase == 1)
			part[ch] += mn_fast_sqdev(e->x + lo, end - lo, e->mu[ch]);
		else
			mn_fast_lin3(e->xhat + lo, e->x + lo, NULL, end - lo, e->rs[ch],
				     -e->mu[ch] * e->rs[ch], 0);
		lo = end;
	}
}
#endif

/* Batch statistics (or nothing) and xhat = normalize(x) over [C][M]. */
static int p_bn(struct mn_pool *pool, REAL *xhat, const REAL *x, REAL *mean, REAL *rstd, int C,
		size_t M, int stats)
{
#if MN_REAL_IS_FLOAT
	if ((double)C * M < 2 * MN_PAR_GRAIN)
		pool = NULL;
	int T = mn_pool_size(pool);
	double *part = malloc(sizeof(double) * (size_t)T * C);
	if (!part)
		return -1;
	struct ps_ctx e = {x, xhat, mean, rstd, M, C, T, 0, part};
	if (stats) {
		mn_par_run(pool, ps_body, &e);
		for (int c = 0; c < C; c++) {
			double s = 0;
			for (int t = 0; t < T; t++)
				s += part[(size_t)t * C + c];
			mean[c] = (float)(s / (double)M);
		}
		e.phase = 1;
		mn_par_run(pool, ps_body, &e);
		for (int c = 0; c < C; c++) {
			double s = 0;
			for (int t = 0; t < T; t++)
				s += part[(size_t)t * C + c];
			rstd[c] = (float)(1.0 / sqrt(s / (double)M + MN_BN_EPS));
		}
	}
	e.phase = 2;
	mn_par_run(pool, ps_body, &e);
	free(part);
	return 0;
#else
	(void)pool;
	if (stats)
		MN_R(mn_bn_stats)(mean, rstd, x, C, M);
	MN_R(mn_bn_normalize)(xhat, x, mean, rstd, C, M);
	return 0;
#endif
}

#if MN_REAL_IS_FLOAT
struct pc_ctx {
	float *y;
	const float *w, *x;
	int cin, cout, k, h, wd, nimg, acc;
	const struct mn_conv_geom *g;
	float *col;
	int rc;
	const struct mn_convT_job *job;
	const float *const *src;
	const float *s;
	int nsrc;
};

static void pc_direct(void *c, size_t lo, size_t hi)
{
	struct pc_ctx *e = c;
	if (mn_fast_conv_forward_range(e->y, e->w, e->x, e->cin, e->cout, e->k, e->h, e->wd,
				       e->nimg, e->acc, (int)lo, (int)hi) != 0)
		e->rc = -1;
}

static void pc_im2col(void *c, size_t lo, size_t hi)
{
	struct pc_ctx *e = c;
	const struct mn_conv_geom *g = e->g;
	size_t ohw = (size_t)g->oh * g->ow, hw = (size_t)g->h * g->w;
	mn_im2col(e->col + lo * ohw, (size_t)e->nimg * ohw, e->x + lo * hw, (size_t)e->nimg * hw, g,
		  (int)(hi - lo));
}

/* y[:, cols] = w x col[:, cols] over column (image) ranges */
static void pc_gemm(void *c, size_t lo, size_t hi)
{
	struct pc_ctx *e = c;
	const struct mn_conv_geom *g = e->g;
	int ohw = g->oh * g->ow, ncol = e->nimg * ohw, ckk = mn_conv_ckk(g);
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, g->cout, (int)(hi - lo) * ohw, ckk, 1,
		    e->w, ckk, e->col + lo * ohw, ncol, e->acc ? 1 : 0, e->y + lo * ohw, ncol);
}

static void pc_convT(void *c, size_t lo, size_t hi)
{
	struct pc_ctx *e = c;
	if (mn_fast_convT(e->job, (int)lo, (int)hi) != 0)
		e->rc = -1;
}

static void pc_pool_bw(void *c, size_t lo, size_t hi)
{
	struct pc_ctx *e = c;
	size_t hw = (size_t)e->h * e->wd;
	const float *src[3];
	for (int i = 0; i < e->nsrc; i++)
		src[i] = e->src[i] + lo * hw;
	mn_fast_pool3_bw(e->y + lo * hw, src, e->s, e->nsrc, hi - lo, e->h, e->wd);
}

static void pc_pool_fw(void *c, size_t lo, size_t hi)
{
	struct pc_ctx *e = c;
	size_t hw = (size_t)e->h * e->wd;
	mn_fast_pool3_fw(e->y + lo * hw, e->x + lo * hw, hi - lo, e->h, e->wd, e->s[0]);
}
#endif

/* A conv forward over nb images: the direct kernel for 3x3 stride 1 and
 * pointwise convs with few channels, else im2col (kept in col when given,
 * else into scratch) and a GEMM; both split over images. */
static void p_conv(struct NET *net, REAL *y, const REAL *w, const REAL *x,
		   const struct mn_conv_geom *g, int nb, REAL *keep_col, REAL *scratch, int acc)
{
#if MN_REAL_IS_FLOAT
	struct pc_ctx e = {y, w, x, g->cin, g->cout, g->k, g->h, g->w, nb, acc, g, NULL, 0,
			   NULL, NULL, NULL, 0};
	double wimg = (double)g->cin * g->cout * g->k * g->k * g->oh * g->ow; /* MACs per image */
	/* with the im2col made anyway and enough channels, a GEMM on it wins */
	int direct = MN_FAST() && g->cin <= 32 && g->cout <= 96 && !(keep_col && g->cin >= 16) &&
		     ((g->k == 3 && g->stride == 1 && g->pad == 1) || mn_conv_is_pointwise(g));
	if (keep_col && !mn_conv_is_pointwise(g)) {
		e.col = keep_col;
		mn_par_for_work(net->pool, (size_t)nb, wimg / g->cout, pc_im2col, &e);
	}
	if (direct) {
		mn_par_for_work(net->pool, (size_t)nb, wimg, pc_direct, &e);
		if (e.rc == 0)
			return;
		e.rc = 0;
	}
	if (mn_conv_is_pointwise(g))
		e.col = (float *)x;
	else if (!keep_col) {
		e.col = scratch;
		mn_par_for_work(net->pool, (size_t)nb, wimg / g->cout, pc_im2col, &e);
	}
	mn_par_for_work(net->pool, (size_t)nb, wimg, pc_gemm, &e);
#else
	(void)net;
	MN_R(mn_conv_forward)(y, w, x, g, nb, keep_col ? keep_col : scratch, acc);
#endif
}

static void p_pool3_fw(struct mn_pool *pool, REAL *y, const REAL *x, size_t nplanes, int h, int w,
		       REAL scale)
{
#if MN_REAL_IS_FLOAT
	float s[1] = {scale};
	struct pc_ctx e = {y, NULL, x, 0, 0, 0, h, w, 0, 0, NULL, NULL, 0, NULL, NULL, s, 1};
	mn_par_for_work(pool, nplanes, 9.0 * h * w, pc_pool_fw, &e);
#else
	(void)pool;
	MN_R(mn_avgpool3_forward)(y, x, nplanes, h, w, scale, 1);
#endif
}

/* --------------------------------------------------------------- blocks */

int MN_R(mn_net_block_count)(const struct NET *net)
{
	const struct mn_net_plan *p = &net->plan;
	return p->nstages * p->cfg.N + p->nstages - 1;
}

/* Block i's state ([c][nb][h*w], or NULL before a forward lays it out),
 * shape, and offset (elements per sample) in the block stores. */
static const REAL *block_at(const struct NET *net, int i, int *c, int *h, int *w, size_t *off)
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
				*c = 2 * p->sc[s], *h = p->sh[s] / 2, *w = p->sw[s] / 2, *off = o;
				return net->red[s].out;
			}
			o += e / 2; /* 2C channels on a quarter of the plane */
			k++;
		}
	}
	*off = o; /* i == block count: the stores' size */
	return NULL;
}

/* Elements per sample of all blocks -1..count-1. */
static size_t block_store_size(const struct NET *net)
{
	int c, h, w;
	size_t o;
	block_at(net, MN_R(mn_net_block_count)(net), &c, &h, &w, &o);
	return o;
}

static int grow(REAL **buf, size_t *cap, size_t n)
{
	if (n <= *cap)
		return 0;
	REAL *b = malloc(n * sizeof(REAL));
	if (!b)
		return -1;
	free(*buf);
	*buf = b;
	*cap = n;
	return 0;
}

const REAL *MN_R(mn_net_block_output)(const struct NET *net_c, int i, int *c, int *h, int *w)
{
	/* the copy is a cache: filling it does not change what the network computes */
	struct NET *net = (struct NET *)net_c;
	int bc, bh, bw;
	size_t off;
	if (i < -1 || i >= MN_R(mn_net_block_count)(net) || !net->fw_ok || !net->layout_ok)
		return NULL;
	const REAL *src = block_at(net, i, &bc, &bh, &bw, &off);
	size_t per = (size_t)bc * bh * bw, hw = (size_t)bh * bw;
	int nb = net->nb;
	if (grow(&net->bout, &net->bout_cap, block_store_size(net) * nb) != 0)
		return NULL;
	REAL *dst = net->bout + off * nb;
	if (!net->bout_ok[i + 1]) {
		for (int ch = 0; ch < bc; ch++)
			for (int n = 0; n < nb; n++)
				memcpy(dst + (size_t)n * per + (size_t)ch * hw,
				       src + ((size_t)ch * nb + n) * hw, sizeof(REAL) * hw);
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

const REAL *MN_R(mn_net_block_output_grad)(const struct NET *net, int i, int *c, int *h, int *w)
{
	int bc, bh, bw;
	size_t off;
	if (i < -1 || i >= MN_R(mn_net_block_count)(net) || !net->fw_ok || !net->layout_ok ||
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
static void record_bgrad(struct NET *net, int i, const REAL *d)
{
	int bc, bh, bw;
	size_t off;
	block_at(net, i, &bc, &bh, &bw, &off);
	size_t per = (size_t)bc * bh * bw, hw = (size_t)bh * bw;
	int nb = net->nb;
	REAL *dst = net->bgrad + off * nb;
	for (int ch = 0; ch < bc; ch++)
		for (int n = 0; n < nb; n++)
			memcpy(dst + (size_t)n * per + (size_t)ch * hw, d + ((size_t)ch * nb + n) * hw,
			       sizeof(REAL) * hw);
}

/* ------------------------------------------------------------- forward */

/* xhat = normalize(z) (in place allowed) with batch statistics (stored for
 * freezing) or the frozen ones. */
static int bn_forward(struct NET *net, REAL *xhat, const REAL *z, REAL *mean, REAL *rstd,
		      const int *tbn, int nblk, int C, size_t M)
{
	const struct mn_net_plan *p = &net->plan;
	if (net->frozen)
		for (int b = 0; b < nblk; b++) {
			size_t so = p->t[tbn[b]].soff;
			memcpy(mean + b * C, net->stat_mean + so, sizeof(REAL) * C);
			memcpy(rstd + b * C, net->stat_rstd + so, sizeof(REAL) * C);
		}
	if (p_bn(net->pool, xhat, z, mean, rstd, nblk * C, M, !net->frozen) != 0)
		return -1;
	if (!net->frozen)
		for (int b = 0; b < nblk; b++) {
			size_t so = p->t[tbn[b]].soff;
			memcpy(net->stat_mean + so, mean + b * C, sizeof(REAL) * C);
			memcpy(net->stat_rstd + so, rstd + b * C, sizeof(REAL) * C);
		}
	return 0;
}

static const REAL *tparam(const struct NET *net, int t)
{
	return net->params + net->plan.t[t].off;
}

static int fw_cell(struct NET *net, struct cellst *cs)
{
	const struct mn_net_plan *p = &net->plan;
	int s = cs->stage, C = p->sc[s], h = p->sh[s], w = p->sw[s], nb = net->nb;
	size_t M = (size_t)nb * h * w, n = (size_t)C * M;
	for (int i = 1; i < 4; i++)
		memset(cs->node[i], 0, sizeof(REAL) * n);
	for (int j = 0; j < 3; j++) {
		const REAL *in = cs->node[j];
		if (cs->relu[j])
			p_relu(net->pool, cs->relu[j], in, n);
		if (cs->col[j] && !cs->g[j][1].ne) {
			/* kept cols exist for every node: the 3x3 group's conv fills its
			 * own, the others are filled here (or zeroed) */
			if (cs->relu[j]) {
				struct mn_conv_geom g3;
				mn_conv_geom_init(&g3, C, C, 3, 1, 1, h, w);
				MN_R(mn_im2col)(cs->col[j], M, cs->relu[j], M, &g3, nb);
			} else
				memset(cs->col[j], 0, sizeof(REAL) * 9 * n);
		}
		for (int t = 0; t < 2; t++) {
			struct group *g = &cs->g[j][t];
			if (!g->ne)
				continue;
			int ckk = mn_conv_ckk(&g->geom);
			for (int b = 0; b < g->ne; b++) {
				memcpy(g->w + (size_t)b * C * ckk, tparam(net, g->tw[b]),
				       sizeof(REAL) * C * ckk);
				memcpy(g->gamma + b * C, tparam(net, g->tbn[b]), sizeof(REAL) * C);
				memcpy(g->beta + b * C, tparam(net, g->tbn[b] + 1), sizeof(REAL) * C);
			}
			p_conv(net, g->xhat, g->w, cs->relu[j], &g->geom, nb, t ? cs->col[j] : NULL,
			       net->col_scratch, 0);
			if (bn_forward(net, g->xhat, g->xhat, g->mean, g->rstd, g->tbn, g->ne, C, M) != 0)
				return -1;
			for (int b = 0; b < g->ne; b++) {
				int e = g->edge[b];
				p_affine(net->pool, cs->node[mn_edge_to(e)], g->xhat + b * C * M,
					 g->gamma + b * C, g->beta + b * C, C, M, (REAL)(1.0 / p->k[e]),
					 1);
			}
		}
		int ed[3], ne = mn_plan_edges_from(p, j, MN_OP_POOL3, ed);
		for (int b = 0; b < ne; b++)
			p_pool3_fw(net->pool, cs->node[mn_edge_to(ed[b])], in, (size_t)C * nb, h, w,
				   (REAL)(1.0 / p->k[ed[b]]));
		ne = mn_plan_edges_from(p, j, MN_OP_SKIP, ed);
		for (int b = 0; b < ne; b++)
			p_axpy(net->pool, cs->node[mn_edge_to(ed[b])], (REAL)(1.0 / p->k[ed[b]]), in, n);
	}
	return 0;
}

static int fw_red(struct NET *net, struct redst *r, int s)
{
	const struct mn_net_plan *p = &net->plan;
	const struct mn_red_params *rp = &p->red[s];
	int C = p->sc[s], nb = net->nb;
	size_t M = (size_t)nb * r->ga.h * r->ga.w, Mo = (size_t)nb * r->ga.oh * r->ga.ow;
	p_relu(net->pool, r->ra, r->in, (size_t)C * M);
	p_conv(net, r->xa, tparam(net, rp->wa), r->ra, &r->ga, nb, r->cola, net->col_scratch, 0);
	if (bn_forward(net, r->xa, r->xa, r->ma, r->sa, &rp->bna, 1, 2 * C, Mo) != 0)
		return -1;
	p_affine(net->pool, r->rb, r->xa, tparam(net, rp->bna), tparam(net, rp->bna + 1), 2 * C, Mo,
		 1, 0);
	p_relu(net->pool, r->rb, r->rb, 2 * C * Mo);
	p_conv(net, r->xb, tparam(net, rp->wb), r->rb, &r->gb, nb, r->colb, net->col_scratch, 0);
	if (bn_forward(net, r->xb, r->xb, r->mb, r->sb, &rp->bnb, 1, 2 * C, Mo) != 0)
		return -1;
	p_affine(net->pool, r->out, r->xb, tparam(net, rp->bnb), tparam(net, rp->bnb + 1), 2 * C, Mo,
		 1, 0);
	MN_R(mn_avgpool2_forward)(r->pool, r->in, (size_t)C * nb, r->ga.h, r->ga.w);
	p_conv(net, r->out, tparam(net, rp->wsc), r->pool, &r->gsc, nb, NULL, NULL, 1);
	return 0;
}

static int forward(struct NET *net, const REAL *x, int batch, REAL *logits)
{
	const struct mn_net_plan *p = &net->plan;
	const struct mn_net_config *cfg = &p->cfg;
	if (!x || batch < 1 || (net->frozen && !net->has_stats))
		return -1;
	net->fw_ok = 0;
	net->has_bgrad = 0;
	memset(net->bout_ok, 0, (size_t)MN_R(mn_net_block_count)(net) + 1);
	if (ensure_forward_layout(net, batch) != 0)
		return -1;
	int nb = batch;
	size_t hw0 = (size_t)cfg->H * cfg->W;
	MN_R(mn_nchw_to_cnhw)(net->x, x, nb, cfg->in_channels, (int)hw0);
	if (!cfg->thin) {
		int C = p->sc[0];
		p_conv(net, net->stem_xhat, tparam(net, p->stem_w), net->x, &net->gstem, nb,
		       net->stem_col, net->col_scratch, 0);
		if (bn_forward(net, net->stem_xhat, net->stem_xhat, net->stem_mean, net->stem_rstd,
			       &p->stem_bn, 1, C, nb * hw0) != 0)
			return -1;
		p_affine(net->pool, net->stem_out, net->stem_xhat, tparam(net, p->stem_bn),
			 tparam(net, p->stem_bn + 1), C, nb * hw0, 1, 0);
	}
	for (int s = 0; s < p->nstages; s++) {
		for (int i = 0; i < cfg->N; i++)
			if (fw_cell(net, &net->cells[s * cfg->N + i]) != 0)
				return -1;
		if (s + 1 < p->nstages && fw_red(net, &net->red[s], s) != 0)
			return -1;
	}
	int L = p->nstages - 1, cf = p->cf;
	size_t hwf = (size_t)p->sh[L] * p->sw[L], Mf = (size_t)nb * hwf;
	const REAL *last = net->cells[p->ncells - 1].node[3];
	if (bn_forward(net, net->head_xhat, last, net->head_mean, net->head_rstd, &p->head_bn, 1, cf,
		       Mf) != 0)
		return -1;
	p_affine(net->pool, net->head_h, net->head_xhat, tparam(net, p->head_bn),
		 tparam(net, p->head_bn + 1), cf, Mf, 1, 0);
	p_relu(net->pool, net->head_h, net->head_h, (size_t)cf * Mf);
	MN_R(mn_gap_forward)(net->head_g, net->head_h, (size_t)cf * nb, (int)hwf);
	MN_R(mn_linear_forward)(net->logits, tparam(net, p->lin_w), tparam(net, p->lin_b),
				net->head_g, cfg->classes, cf, nb);
	if (!net->frozen)
		net->has_stats = 1;
	net->fused_ready = 0;
	net->fw_ok = 1;
	if (logits)
		for (int n = 0; n < nb; n++)
			for (int c = 0; c < cfg->classes; c++)
				logits[(size_t)n * cfg->classes + c] = net->logits[(size_t)c * nb + n];
	return 0;
}

int MN_R(mn_net_forward)(struct NET *net, const REAL *x, int batch, REAL *logits)
{
	par_begin(net);
	int rc = forward(net, x, batch, logits);
	par_end(net);
	return rc;
}

/* ------------------------------------------------------------- backward */

/* Sizes (or lays out) the backward workspace for nq queries. */
static void layout_backward(struct NET *net, struct ws *ws, int nq, int fused, struct arena *a)
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
		if (s + 1 < p->nstages && 18 * C * hw / 4 > maxckk_ohw)
			maxckk_ohw = 18 * C * hw / 4;
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

static int ensure_backward_layout(struct NET *net, struct ws *ws, int nq, int fused)
{
	if (ws->nq == nq && ws->fused == fused)
		return 0;
	struct arena a = {NULL, 0};
	layout_backward(net, ws, nq, fused, &a);
	if (a.used > ws->cap) {
		free(ws->mem);
		ws->mem = malloc(a.used * sizeof(REAL));
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
static int fused_possible(const struct NET *net)
{
	return MN_FAST() && net->store_cols;
}

/* At least n workspaces. */
static int ensure_workspaces(struct NET *net, int n)
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

/* Weight gradient of nblk stacked tensors (rows each, ckk columns) from the
 * cotangent dy [nblk*rows][nq][nb*hw] and col [ckk][nb*hw]. */
static void emit_wgrad(struct NET *net, struct ws *ws, const struct sink *sk, const int *tids, int nblk, int rows,
		       int ckk, const REAL *dy, const REAL *col, size_t ldcol, int nq, int hw)
{
	const struct mn_net_plan *p = &net->plan;
	int nb = net->nb, m = nblk * rows, K = nb * hw;
	REAL *tmp = ws->tmp;
	switch (sk->kind) {
	case SINK_SUM:
		for (int b = 0; b < nblk; b++)
			MN_R(mn_wgrad_sum)(sk->grad + p->t[tids[b]].off, dy + (size_t)b * rows * K,
					   (size_t)K, col, ldcol, rows, K, ckk, 1);
		break;
	case SINK_QUERY:
#if MN_REAL_IS_FLOAT
		/* few columns (a 1x1 conv, the classifier): OpenBLAS packs for nothing */
		if (MN_FAST() && ckk <= 12)
			mn_fast_gemm_nt(tmp, (size_t)ckk, dy, (size_t)K, col, ldcol, m * nq, ckk, K, 0);
		else
#endif
			MN_R(mn_wgrad_per_query)(tmp, dy, col, ldcol, m, nq, K, ckk);
		for (int q = 0; q < nq; q++)
			for (int b = 0; b < nblk; b++) {
				REAL *dst = sk->G + (size_t)(sk->row0 + q) * sk->ldG + p->t[tids[b]].gcol;
				for (int r = 0; r < rows; r++)
					memcpy(dst + (size_t)r * ckk,
					       tmp + (((size_t)b * rows + r) * nq + q) * ckk,
					       sizeof(REAL) * ckk);
			}
		break;
	case SINK_SAMPLE:
		MN_R(mn_wgrad_per_sample)(tmp, dy, col, ldcol, m, nb, hw, ckk);
		for (int n = 0; n < nb; n++)
			for (int b = 0; b < nblk; b++)
				memcpy(sk->G + (size_t)(sk->row0 + n) * sk->ldG + p->t[tids[b]].gcol,
				       tmp + ((size_t)n * m + (size_t)b * rows) * ckk,
				       sizeof(REAL) * rows * ckk);
		break;
	}
}

/* BN backward of nblk stacked blocks of C channels; block b reads its
 * cotangent at dys[b] scaled by scales[b] and writes dx rows b*C... */
static void bn_backward_blocks(struct NET *net, struct ws *ws, const struct sink *sk, REAL *dx,
			       const REAL *const *dys, const REAL *scales, const REAL *xhat,
			       const REAL *rstd, const REAL *gamma, const int *tbn, int nblk, int C,
			       int nq, int hw, int coupled)
{
	const struct mn_net_plan *p = &net->plan;
	int nb = net->nb, Cs = nblk * C;
	size_t M = (size_t)nb * hw;
	int per_sample = sk->kind == SINK_SAMPLE;
	for (int b = 0; b < nblk; b++)
		MN_R(mn_bn_backward)(dx + (size_t)b * C * nq * M, ws->dg + b * C,
				     sk->kind == SINK_SUM ? ws->db + b * C : NULL, (size_t)Cs,
				     dys[b], scales[b], xhat + (size_t)b * C * M, rstd + b * C,
				     gamma + b * C, C, nq, nb, hw, coupled, per_sample);
	if (sk->kind == SINK_SUM) {
		for (int b = 0; b < nblk; b++) {
			REAL *gg = sk->grad + p->t[tbn[b]].off, *gb = sk->grad + p->t[tbn[b] + 1].off;
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
			       ws->dg + (size_t)g * Cs + b * C, sizeof(REAL) * C);
}

#if MN_REAL_IS_FLOAT
/* dn += relu-masked conv^T of materialized cotangents: cs3 3x3 inputs dz3
 * [cs3][nq*nb][hw] with kernels w3 [cs3][C][9], cs1 1x1 inputs likewise. */
static int convT_dz(int C, int h, int w, int nb, int nq, int cs3, const float *w3, const float *dz3,
		    int cs1, const float *w1, const float *dz1, const float *relu, float *dn,
		    int overwrite)
{
	size_t M = (size_t)nb * h * w;
	struct mn_convT_in *in = malloc(sizeof *in * (size_t)(cs3 + cs1 + 1));
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
	int rc = mn_fast_convT(&job, 0, nq * nb);
	free(in);
	return rc;
}
#endif

static void bw_head(struct NET *net, struct ws *ws, const struct sink *sk, int nq, int coupled, REAL *dout)
{
	const struct mn_net_plan *p = &net->plan;
	int L = p->nstages - 1, cf = p->cf, classes = p->cfg.classes, nb = net->nb;
	int hw = p->sh[L] * p->sw[L];
	size_t M = (size_t)nb * hw;
	if (sk->kind == SINK_SUM)
		MN_R(mn_linear_backward_params)(sk->grad + p->t[p->lin_w].off,
						sk->grad + p->t[p->lin_b].off, ws->dlog, net->head_g,
						classes, cf, nb, 1);
	else
		emit_wgrad(net, ws, sk, &p->lin_w, 1, classes, cf, ws->dlog, net->head_g, (size_t)nb, nq,
			   1);
	MN_R(mn_linear_backward_data)(ws->dgap, tparam(net, p->lin_w), ws->dlog, classes, cf,
				      nq * nb, 0);
	MN_R(mn_gap_backward)(ws->DR, ws->dgap, (size_t)cf * nq * nb, hw, 0);
	MN_R(mn_relu_backward)(ws->DR, ws->DR, net->head_h, cf, nq, M, 0);
	const REAL *dys[1] = {ws->DR};
	REAL one = 1;
	bn_backward_blocks(net, ws, sk, dout, dys, &one, net->head_xhat, net->head_rstd,
			   tparam(net, p->head_bn), &p->head_bn, 1, cf, nq, hw, coupled);
}

static void bw_cell(struct NET *net, struct ws *ws, struct cellst *cs, const struct sink *sk, int nq, int coupled,
		    REAL *dn3, REAL *dn0)
{
	const struct mn_net_plan *p = &net->plan;
	int s = cs->stage, C = p->sc[s], h = p->sh[s], w = p->sw[s], nb = net->nb;
	size_t M = (size_t)nb * h * w, n = (size_t)C * nq * M;
	REAL *dn[4] = {dn0, ws->D1, ws->D2, dn3};
	int fast = MN_FAST();
	for (int i = 0; i < 3; i++)
		memset(dn[i], 0, sizeof(REAL) * n);
	for (int j = 2; j >= 0; j--) {
		/* BN backward and weight gradients of the 3x3 (into DZ) and 1x1 (into
		 * DZ1) convs reading node j */
		for (int t = 1; t >= 0; t--) {
			struct group *g = &cs->g[j][t];
			if (!g->ne)
				continue;
			REAL *dz = t ? ws->DZ : ws->DZ1;
			const REAL *dys[3];
			REAL sc[3];
			for (int b = 0; b < g->ne; b++) {
				dys[b] = dn[mn_edge_to(g->edge[b])];
				sc[b] = (REAL)(1.0 / p->k[g->edge[b]]);
			}
			bn_backward_blocks(net, ws, sk, dz, dys, sc, g->xhat, g->rstd, g->gamma, g->tbn,
					   g->ne, C, nq, h * w, coupled);
			const REAL *col = cs->relu[j];
			int ckk = mn_conv_ckk(&g->geom);
			if (t) {
				if (cs->col[j])
					col = cs->col[j];
				else {
					MN_R(mn_im2col)(ws->col, M, cs->relu[j], M, &g->geom, nb);
					col = ws->col;
				}
			}
			emit_wgrad(net, ws, sk, g->tw, g->ne, C, ckk, dz, col, M, nq, h * w);
		}
		/* data gradient through the convs and node j's ReLU */
		struct group *g3 = &cs->g[j][1], *g1 = &cs->g[j][0];
		if (g3->ne || g1->ne) {
#if MN_REAL_IS_FLOAT
			if (fast && convT_dz(C, h, w, nb, nq, g3->Cs, g3->w, ws->DZ, g1->Cs, g1->w,
					     ws->DZ1, cs->relu[j], dn[j], 0) == 0)
				goto convs_done;
#endif
			memset(ws->DR, 0, sizeof(REAL) * n);
			if (g3->ne)
				MN_R(mn_conv_backward_data)(ws->DR, g3->w, ws->DZ, &g3->geom, nq * nb,
							    ws->dcol, ws->dcol_cap);
			if (g1->ne)
				MN_R(mn_conv_backward_data)(ws->DR, g1->w, ws->DZ1, &g1->geom, nq * nb,
							    ws->dcol, ws->dcol_cap);
			MN_R(mn_relu_backward)(dn[j], ws->DR, cs->relu[j], C, nq, M, 1);
		}
#if MN_REAL_IS_FLOAT
	convs_done:
#endif
		(void)fast;
		int ed[3], ne = mn_plan_edges_from(p, j, MN_OP_POOL3, ed);
#if MN_REAL_IS_FLOAT
		if (ne) {
			const float *src[3];
			float sc[3];
			for (int b = 0; b < ne; b++) {
				src[b] = dn[mn_edge_to(ed[b])];
				sc[b] = (float)(1.0 / p->k[ed[b]]);
			}
			mn_fast_pool3_bw(dn[j], src, sc, ne, (size_t)C * nq * nb, h, w);
		}
#else
		for (int b = 0; b < ne; b++)
			MN_R(mn_avgpool3_backward)(dn[j], dn[mn_edge_to(ed[b])], (size_t)C * nq * nb, h,
						   w, (REAL)(1.0 / p->k[ed[b]]), 1);
#endif
		ne = mn_plan_edges_from(p, j, MN_OP_SKIP, ed);
		for (int b = 0; b < ne; b++)
			MN_R(mn_axpy)(dn[j], (REAL)(1.0 / p->k[ed[b]]), dn[mn_edge_to(ed[b])], n);
	}
}

#if MN_REAL_IS_FLOAT
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

static int fused_ok(const struct NET *net, const struct ws *ws, const struct sink *sk, int coupled)
{
	if (!ws->fused || !fused_possible(net))
		return 0;
	if (sk->kind == SINK_QUERY)
		return coupled && net->fused_ready;
	return sk->kind == SINK_SAMPLE && !coupled;
}

/* colsum and xhat col^T of every cell, once per forward. */
static void prepare_fused(struct NET *net)
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
				cs->colsum[j * ck + k] = (float)mn_fast_sum(cs->col[j] + (size_t)k * M, M);
			for (int t = 0; t < 2; t++) {
				struct group *g = &cs->g[j][t];
				if (g->ne)
					cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, g->Cs, ck, (int)M,
						    1, g->xhat, (int)M, cs->col[j], (int)M, 0, g->xc, ck);
			}
		}
	}
	net->fused_ready = 1;
}

struct np_ctx {
	const float *dni, *col;
	float *P;
	int C, N, hw, M;
	int nt; /* the short-K kernel instead of OpenBLAS */
};

static void np_body(void *c, size_t lo, size_t hi)
{
	struct np_ctx *e = c;
	for (size_t n = lo; n < hi; n++)
		if (e->nt)
			mn_fast_gemm_nt(e->P + n * e->C * e->N, (size_t)e->N, e->dni + n * e->hw,
					(size_t)e->M, e->col + n * e->hw, (size_t)e->M, e->C, e->N, e->hw,
					0);
		else
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, e->C, e->N, e->hw, 1,
				    e->dni + n * e->hw, e->M, e->col + n * e->hw, e->M, 0,
				    e->P + n * e->C * e->N, e->N);
}

/* P[i-1] = dn_i x [col_0 .. col_{i-1}]^T: per query [C][nq][9C*i], per
 * sample [nb][C][9C*i]. */
static void node_products(struct NET *net, struct ws *ws, struct cellst *cs, int i, const float *dni,
			  int nq, int per_sample)
{
	const struct mn_net_plan *p = &net->plan;
	int C = p->sc[cs->stage], hw = p->sh[cs->stage] * p->sw[cs->stage], nb = net->nb;
	int M = nb * hw, N = 9 * C * i;
	float *P = ws->P + (size_t)(i - 1) * ws->psz;
	if (!per_sample) {
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, C * nq, N, M, 1, dni, M, cs->col[0],
			    M, 0, P, N);
		return;
	}
	struct np_ctx e = {dni, cs->col[0], P, C, N, hw, M, MN_FAST()};
	mn_par_for_work(ws->pool, (size_t)nb, (double)C * N * hw, np_body, &e);
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
		mn_fast_dots(d, xs, e->nops, len, dots, &sum);
		e->ms[(size_t)ch * e->G + r] = (float)sum;
		for (int o = 0; o < e->nops; o++)
			e->ms[((size_t)(1 + o) * e->C + ch) * e->G + r] = (float)dots[o];
	}
}

/* When node i's cotangent is complete: its products with every source's
 * im2col (P) and, per channel and group, sum(dn_i) and sum(dn_i * xhat) for
 * each op reading into it (msum[i][0] and msum[i][1 + op]). */
static void node_complete(struct NET *net, struct ws *ws, struct cellst *cs, int i, const float *dni,
			  int nq, int per_sample)
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
	struct ns_ctx e = {cs, ops, nops, dni, ws->msum + (size_t)i * 7 * C * G, C, G, nq, hw,
			   per_sample, M};
	mn_par_for_work(ws->pool, (size_t)C * G, (double)(nops + 1) * (per_sample ? (double)hw : (double)M), ns_body,
			&e);
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
				double m1 = f->m1s[(size_t)c * G + r], m2 = f->m2s[(size_t)c * G + r];
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
				float a = (float)(sc * m1 / (double)e->M), bb = (float)(sc * m2 / (double)e->M);
				const float *xc = g->xc + (size_t)bc * ck;
				cf[r * 3] = ks * sc;
				cf[r * 3 + 1] = -ks * a;
				cf[r * 3 + 2] = -ks * bb;
				if (f->t)
					for (int k = 0; k < ck; k++)
						wrow[k] = ks * (sc * prow[k] - a * e->colsum[k] - bb * xc[k]);
				else
					for (int ci = 0; ci < C; ci++) {
						int k = ci * 9 + 4;
						wrow[ci] = ks * (sc * prow[k] - a * e->colsum[k] - bb * xc[k]);
					}
			}
		}
	}
}

static int bw_cell_fused(struct NET *net, struct ws *ws, struct cellst *cs, const struct sink *sk,
			 int nq, REAL *dn3, REAL *dn0)
{
	const struct mn_net_plan *p = &net->plan;
	int s = cs->stage, C = p->sc[s], h = p->sh[s], w = p->sw[s], nb = net->nb;
	int ck = 9 * C, per_sample = sk->kind == SINK_SAMPLE, G = per_sample ? nb : nq;
	size_t M = (size_t)nb * h * w, n = (size_t)C * nq * M;
	REAL *dn[4] = {dn0, ws->D1, ws->D2, dn3};
	struct mn_convT_in *in = malloc(sizeof *in * (size_t)6 * C);
	if (!in)
		return -1;
	node_complete(net, ws, cs, 3, dn3, nq, per_sample);
	for (int j = 2; j >= 0; j--) {
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
			struct mn_convT_job job = {C, h, w, nb, nq * nb, nin, in, cs->relu[j], dn[j], 1,
						   ne, {0}, {0}};
			for (int b = 0; b < ne; b++) {
				job.skip[b] = dn[mn_edge_to(ed[b])];
				job.skip_s[b] = (float)(1.0 / p->k[ed[b]]);
			}
			struct pc_ctx e = {0};
			e.job = &job;
			mn_par_for_work(ws->pool, (size_t)nq * nb, (double)nin * C * 9 * h * w, pc_convT,
					&e);
			if (e.rc != 0) {
				free(in);
				return -1;
			}
		} else {
			memset(dn[j], 0, sizeof(REAL) * n);
			for (int b = 0; b < ne; b++)
				p_axpy(ws->pool, dn[j], (float)(1.0 / p->k[ed[b]]), dn[mn_edge_to(ed[b])],
				       n);
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
			mn_par_for_work(ws->pool, (size_t)C * nq * nb, 9.0 * h * w * ne, pc_pool_bw, &e);
		}
		if (j > 0)
			node_complete(net, ws, cs, j, dn[j], nq, per_sample);
	}
	free(in);
	return 0;
}
#endif

static void bw_red(struct NET *net, struct ws *ws, struct redst *r, int s, const struct sink *sk, int nq,
		   int coupled, REAL *dout, REAL *dx)
{
	const struct mn_net_plan *p = &net->plan;
	const struct mn_red_params *rp = &p->red[s];
	int C = p->sc[s], nb = net->nb;
	int hw = r->ga.h * r->ga.w, ohw = r->ga.oh * r->ga.ow;
	size_t M = (size_t)nb * hw, Mo = (size_t)nb * ohw;
	REAL one = 1;
	/* shortcut: avgpool 2x2 then 1x1 conv */
	emit_wgrad(net, ws, sk, &rp->wsc, 1, 2 * C, C, dout, r->pool, Mo, nq, ohw);
	/* D1 = Wsc^T dout (written, not accumulated) */
	MN_GEMM(CblasRowMajor, CblasTrans, CblasNoTrans, C, (int)(nq * Mo), 2 * C, 1,
		tparam(net, rp->wsc), C, dout, (int)(nq * Mo), 0, ws->D1, (int)(nq * Mo));
	MN_R(mn_avgpool2_backward)(dx, ws->D1, (size_t)C * nq * nb, r->ga.h, r->ga.w, 0);
	/* conv b */
	const REAL *dys[1] = {dout};
	bn_backward_blocks(net, ws, sk, ws->DZ, dys, &one, r->xb, r->sb, tparam(net, rp->bnb), &rp->bnb,
			   1, 2 * C, nq, ohw, coupled);
	const REAL *col = r->colb;
	if (!col) {
		MN_R(mn_im2col)(ws->col, Mo, r->rb, Mo, &r->gb, nb);
		col = ws->col;
	}
	emit_wgrad(net, ws, sk, &rp->wb, 1, 2 * C, mn_conv_ckk(&r->gb), ws->DZ, col, Mo, nq, ohw);
	int done = 0;
#if MN_REAL_IS_FLOAT
	if (MN_FAST())
		done = convT_dz(2 * C, r->gb.h, r->gb.w, nb, nq, 2 * C, tparam(net, rp->wb), ws->DZ, 0,
				NULL, NULL, r->rb, ws->D2, 1) == 0;
#endif
	if (!done) {
		memset(ws->D2, 0, sizeof(REAL) * 2 * C * nq * Mo);
		MN_R(mn_conv_backward_data)(ws->D2, tparam(net, rp->wb), ws->DZ, &r->gb, nq * nb,
					    ws->dcol, ws->dcol_cap);
		MN_R(mn_relu_backward)(ws->D2, ws->D2, r->rb, 2 * C, nq, Mo, 0);
	}
	/* conv a */
	dys[0] = ws->D2;
	bn_backward_blocks(net, ws, sk, ws->DZ, dys, &one, r->xa, r->sa, tparam(net, rp->bna), &rp->bna,
			   1, 2 * C, nq, ohw, coupled);
	col = r->cola;
	if (!col) {
		MN_R(mn_im2col)(ws->col, Mo, r->ra, M, &r->ga, nb);
		col = ws->col;
	}
	emit_wgrad(net, ws, sk, &rp->wa, 1, 2 * C, mn_conv_ckk(&r->ga), ws->DZ, col, Mo, nq, ohw);
	memset(ws->DR, 0, sizeof(REAL) * C * nq * M);
	MN_R(mn_conv_backward_data)(ws->DR, tparam(net, rp->wa), ws->DZ, &r->ga, nq * nb, ws->dcol,
				    ws->dcol_cap);
	MN_R(mn_relu_backward)(dx, ws->DR, r->ra, C, nq, M, 1);
}

static void bw_stem(struct NET *net, struct ws *ws, const struct sink *sk, int nq, int coupled, REAL *dout)
{
	const struct mn_net_plan *p = &net->plan;
	const struct mn_net_config *cfg = &p->cfg;
	int C = p->sc[0], nb = net->nb, hw = cfg->H * cfg->W;
	size_t M = (size_t)nb * hw;
	REAL one = 1;
	const REAL *dys[1] = {dout};
	bn_backward_blocks(net, ws, sk, ws->DZ, dys, &one, net->stem_xhat, net->stem_rstd,
			   tparam(net, p->stem_bn), &p->stem_bn, 1, C, nq, hw, coupled);
	const REAL *col = net->stem_col;
	if (!col) {
		MN_R(mn_im2col)(ws->col, M, net->x, M, &net->gstem, nb);
		col = ws->col;
	}
	emit_wgrad(net, ws, sk, &p->stem_w, 1, C, mn_conv_ckk(&net->gstem), ws->DZ, col, M, nq, hw);
}

/* One backward over nq queries from ws->dlog ([classes][nq][nb]). */
static int backward(struct NET *net, struct ws *ws, const struct sink *sk, int nq, int coupled)
{
	const struct mn_net_plan *p = &net->plan;
	const struct mn_net_config *cfg = &p->cfg;
	ws->err = 0;
	REAL *a = ws->P0, *b = ws->P1, *t;
	/* mn_net_backward keeps each block output's cotangent */
	int rec = sk->kind == SINK_SUM && net->bgrad, blk = MN_R(mn_net_block_count)(net);
	bw_head(net, ws, sk, nq, coupled, a);
	for (int s = p->nstages - 1; s >= 0; s--) {
		for (int i = cfg->N - 1; i >= 0; i--) {
			if (rec)
				record_bgrad(net, --blk, a);
#if MN_REAL_IS_FLOAT
			if (ws->fused) {
				/* a fused layout has no room for the stacked cotangents */
				if (!fused_ok(net, ws, sk, coupled) ||
				    bw_cell_fused(net, ws, &net->cells[s * cfg->N + i], sk, nq, a, b) != 0)
					ws->err = 1;
				t = a, a = b, b = t;
				continue;
			}
#endif
			bw_cell(net, ws, &net->cells[s * cfg->N + i], sk, nq, coupled, a, b);
			t = a, a = b, b = t;
		}
		if (s > 0) {
			if (rec)
				record_bgrad(net, --blk, a);
			bw_red(net, ws, &net->red[s - 1], s - 1, sk, nq, coupled, a, b);
			t = a, a = b, b = t;
		}
	}
	if (rec)
		record_bgrad(net, --blk, a);
	if (!cfg->thin)
		bw_stem(net, ws, sk, nq, coupled, a);
	return ws->err ? -1 : 0;
}

int MN_R(mn_net_backward)(struct NET *net, const REAL *dlogits, REAL *grad)
{
	const struct mn_net_config *cfg = &net->plan.cfg;
	if (!net->layout_ok || !net->nb || !dlogits || !grad)
		return -1;
	if (ensure_workspaces(net, 1) != 0 || ensure_backward_layout(net, &net->ws[0], 1, 0) != 0)
		return -1;
	struct ws *ws = &net->ws[0];
	ws->pool = NULL;
	int nb = net->nb;
	for (int n = 0; n < nb; n++)
		for (int c = 0; c < cfg->classes; c++)
			ws->dlog[(size_t)c * nb + n] = dlogits[(size_t)n * cfg->classes + c];
	memset(grad, 0, sizeof(REAL) * net->plan.nparams);
	struct sink sk = {SINK_SUM, grad, NULL, 0, 0};
	net->has_bgrad = 0;
	if (grow(&net->bgrad, &net->bgrad_cap, block_store_size(net) * nb) != 0)
		return -1;
	if (backward(net, ws, &sk, 1, !net->frozen) != 0)
		return -1;
	net->has_bgrad = 1;
	return 0;
}

/* Queries per chunk: the backward workspace of one chunk stays within
 * MN_CHUNK_BUDGET, and the chunks divide evenly among the workers. */
static int query_chunk(const struct NET *net, int batch, int workers)
{
	if (net->qchunk > 0)
		return net->qchunk < batch ? net->qchunk : batch;
	const struct mn_net_plan *p = &net->plan;
	size_t E = 0;
	for (int s = 0; s < p->nstages; s++) {
		size_t e = (size_t)p->sc[s] * p->sh[s] * p->sw[s];
		if (e > E)
			E = e;
	}
	size_t per_query = (fused_possible(net) ? 6 : 12) * E * (size_t)batch * sizeof(REAL);
	size_t nq = per_query ? MN_CHUNK_BUDGET / per_query : 1;
	if (nq < 1)
		nq = 1;
	if (nq > (size_t)batch)
		nq = (size_t)batch;
	/* rounds of `workers` chunks, then the smallest chunk that needs no more rounds */
	size_t per_round = nq * (size_t)workers;
	size_t rounds = ((size_t)batch + per_round - 1) / per_round;
	size_t chunks = rounds * (size_t)workers;
	nq = ((size_t)batch + chunks - 1) / chunks;
	return (int)(nq < 1 ? 1 : nq);
}

struct exact_job {
	struct NET *net;
	REAL *G;
	size_t ldg;
	int batch, nq, workers, worker;
	int rc;
};

/* Worker: chunks worker, worker+workers, ... of the exact backward. */
static void *exact_worker(void *arg)
{
	struct exact_job *j = arg;
	struct NET *net = j->net;
	struct ws *ws = &net->ws[j->worker];
	const int classes = net->plan.cfg.classes, nb = net->nb;
	j->rc = 0;
	for (int q0 = j->worker * j->nq; q0 < j->batch; q0 += j->workers * j->nq) {
		int m = j->batch - q0 < j->nq ? j->batch - q0 : j->nq;
		if (ensure_backward_layout(net, ws, m, fused_possible(net)) != 0) {
			j->rc = -1;
			return NULL;
		}
		/* query q: ones on sample q0+q's logits */
		memset(ws->dlog, 0, sizeof(REAL) * classes * m * nb);
		for (int c = 0; c < classes; c++)
			for (int q = 0; q < m; q++)
				ws->dlog[((size_t)c * m + q) * nb + q0 + q] = 1;
		struct sink sk = {SINK_QUERY, NULL, j->G, j->ldg, q0};
		if (backward(net, ws, &sk, m, 1) != 0) {
			j->rc = -1;
			return NULL;
		}
	}
	return NULL;
}

static void exact_run(void *ctx, int t, int T)
{
	struct exact_job *jobs = ctx;
	(void)T;
	exact_worker(&jobs[t]);
}

/* The exact mode's query chunks are shared out to the pool's threads (one
 * workspace each, single-threaded kernels inside). */
static int exact_grads(struct NET *net, int batch, REAL *G, size_t ldg)
{
#if MN_REAL_IS_FLOAT
	struct mn_pool *pool = net->pool;
#else
	struct mn_pool *pool = NULL;
#endif
	int T = mn_pool_size(pool);
	int nq = query_chunk(net, batch, T);
	struct exact_job *jobs = malloc(sizeof *jobs * (size_t)T);
	if (!jobs || ensure_workspaces(net, T) != 0) {
		free(jobs);
		return -1;
	}
	for (int t = 0; t < T; t++) {
		jobs[t].net = net;
		jobs[t].G = G;
		jobs[t].ldg = ldg;
		jobs[t].batch = batch;
		jobs[t].nq = nq;
		jobs[t].workers = T;
		jobs[t].worker = t;
		jobs[t].rc = 0;
		net->ws[t].pool = NULL;
	}
#if MN_REAL_IS_FLOAT
	if (MN_FAST())
		prepare_fused(net);
#endif
	mn_par_run(pool, exact_run, jobs);
	int rc = 0;
	for (int t = 0; t < T; t++)
		rc |= jobs[t].rc;
	free(jobs);
	return rc;
}

static int per_sample_grads(struct NET *net, const REAL *x, int batch, enum mn_grad_mode mode,
			    REAL *G, size_t ldg)
{
	const struct mn_net_config *cfg = &net->plan.cfg;
	if (!G || ldg < net->plan.gwidth || (mode != MN_GRAD_EXACT && mode != MN_GRAD_FIXED_STATS))
		return -1;
	if (forward(net, x, batch, NULL) != 0)
		return -1;
	int nb = batch;
	if (mode == MN_GRAD_FIXED_STATS || net->frozen) {
		/* decoupled BN: one backward, cotangent ones, every sample its own row */
		if (ensure_workspaces(net, 1) != 0 ||
		    ensure_backward_layout(net, &net->ws[0], 1, fused_possible(net)) != 0)
			return -1;
		struct ws *ws = &net->ws[0];
#if MN_REAL_IS_FLOAT
		ws->pool = net->pool;
#else
		ws->pool = NULL;
#endif
		for (size_t i = 0; i < (size_t)cfg->classes * nb; i++)
			ws->dlog[i] = 1;
		struct sink sk = {SINK_SAMPLE, NULL, G, ldg, 0};
		return backward(net, ws, &sk, 1, 0);
	}
	return exact_grads(net, batch, G, ldg);
}

int MN_R(mn_net_per_sample_grads)(struct NET *net, const REAL *x, int batch, enum mn_grad_mode mode,
				  REAL *G, size_t ldg)
{
	par_begin(net);
	int rc = per_sample_grads(net, x, batch, mode, G, ldg);
	par_end(net);
	return rc;
}

struct gram_ctx {
	const REAL *G;
	int B;
	size_t P;
	double *part; /* [T][B*B] */
	int rc;
};

/* thread t's share of the columns into its own partial Gram */
static void gram_body(void *c, int t, int T)
{
	struct gram_ctx *e = c;
	size_t lo = e->P * t / T, hi = e->P * (t + 1) / T;
	double *K = e->part + (size_t)t * e->B * e->B;
	if (hi <= lo) {
		memset(K, 0, sizeof(double) * (size_t)e->B * e->B);
		return;
	}
#if MN_REAL_IS_FLOAT
	int rc = mn_ntk_gram(e->G + lo, e->B, hi - lo, e->P, K);
#else
	int rc = mn_ntk_gram_d(e->G + lo, e->B, hi - lo, e->P, K);
#endif
	if (rc)
		e->rc = -1;
}

static int gram(struct NET *net, const REAL *G, int B, size_t P, double *K)
{
#if MN_REAL_IS_FLOAT
	struct mn_pool *pool = net->pool;
#else
	struct mn_pool *pool = NULL;
	(void)net;
#endif
	int T = mn_pool_size(pool);
	size_t bb = (size_t)B * B;
	struct gram_ctx e = {G, B, P, malloc(sizeof(double) * bb * T), 0};
	if (!e.part)
		return -1;
	mn_par_run(pool, gram_body, &e);
	for (size_t i = 0; i < bb; i++) {
		double v = 0;
		for (int t = 0; t < T; t++)
			v += e.part[(size_t)t * bb + i];
		K[i] = v;
	}
	free(e.part);
	return e.rc;
}

int MN_R(mn_net_ntk_cond)(struct NET *net, const REAL *x, int batch, enum mn_grad_mode mode,
			  double *cond, REAL *G, double *gram_out)
{
	size_t P = net->plan.gwidth;
	if (batch < 1 || !cond)
		return -1;
	*cond = MN_NTK_BAD_COND;
	REAL *g = G;
	if (!g) {
		size_t need = (size_t)batch * P;
		if (need > net->G_cap) {
			free(net->G);
			net->G = malloc(need * sizeof(REAL));
			net->G_cap = net->G ? need : 0;
			if (!net->G)
				return -1;
		}
		g = net->G;
	}
	double *K = gram_out ? gram_out : malloc(sizeof(double) * (size_t)batch * batch);
	if (!K)
		return -1;
	/* OpenBLAS stays single-threaded through the whole evaluation (its idle
	 * threads spin and would steal the cores from the pool's) */
	par_begin(net);
	int rc = per_sample_grads(net, x, batch, mode, g, P);
	if (rc == 0)
		rc = gram(net, g, batch, P, K);
	/* still single-threaded: a multi-threaded dsyevd would wake OpenBLAS's
	 * threads, which then spin through the next evaluation */
	if (rc == 0)
		*cond = mn_ntk_cond(K, batch, NULL);
	par_end(net);
	if (!gram_out)
		free(K);
	return rc;
}

double MN_R(mn_net_forward_macs)(const struct NET *net, int batch)
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
			m += (18 * C * C + 36 * C * C + 2 * C * C) * (hw / 4);
	}
	m += (double)cfg->classes * p->cf;
	return m * batch;
}

/* ------------------------------------------------------------- patterns */

size_t MN_R(mn_net_pattern_bits)(const struct NET *net)
{
	const struct mn_net_plan *p = &net->plan;
	size_t bits = 0;
	for (int s = 0; s < p->nstages; s++) {
		size_t hw = (size_t)p->sh[s] * p->sw[s];
		for (int j = 0; j < 3; j++)
			if (mn_plan_node_has_conv(p, j))
				bits += (size_t)p->cfg.N * p->sc[s] * hw;
		if (s + 1 < p->nstages)
			bits += (size_t)p->sc[s] * hw + (size_t)2 * p->sc[s] * (hw / 4);
	}
	int L = p->nstages - 1;
	return bits + (size_t)p->cf * p->sh[L] * p->sw[L];
}

static size_t put_bits(uint64_t *row, size_t b, const REAL *act, int C, int nb, int n, size_t hw)
{
	for (int c = 0; c < C; c++) {
		const REAL *r = act + ((size_t)c * nb + n) * hw;
		for (size_t i = 0; i < hw; i++, b++)
			if (r[i] > 0)
				row[b >> 6] |= (uint64_t)1 << (b & 63);
	}
	return b;
}

int MN_R(mn_net_patterns)(const struct NET *net, uint64_t *bits, size_t words)
{
	const struct mn_net_plan *p = &net->plan;
	size_t nbits = MN_R(mn_net_pattern_bits)(net);
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
						b = put_bits(row, b, cs->relu[j], p->sc[s], nb, n, hw);
			}
			if (s + 1 < p->nstages) {
				b = put_bits(row, b, net->red[s].ra, p->sc[s], nb, n, hw);
				b = put_bits(row, b, net->red[s].rb, 2 * p->sc[s], nb, n, hw / 4);
			}
		}
		int L = p->nstages - 1;
		put_bits(row, b, net->head_h, p->cf, nb, n, (size_t)p->sh[L] * p->sw[L]);
	}
	return 0;
}
