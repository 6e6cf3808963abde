/* Internal to src/nn/net*.c: the network's state, its memory layout and
 * the functions the network's files share.  Nothing outside src/nn/
 * includes this; the public API is net.h.
 *
 * The network's files, by concern:
 *   net.c          set-up, parameters, masks, threads, block outputs, MACs,
 *                  activation patterns
 *   net_layout.c   the forward arena and the backward workspaces
 *   net_par.c      the parallel loops under the forward (pool, SIMD kernels)
 *   net_forward.c  the forward in train mode
 *   net_backward.c the generic backward (head, cells, reductions, stem) and
 *                  mn_net_backward
 *   net_fused.c    the fused cell backward (per-query / per-sample sinks)
 *   net_grads.c    per-sample gradients for the NTK (both modes) and
 *                  mn_net_ntk_cond
 *
 * Memory: a forward lays out one arena holding the input, every activation
 * the backward needs and (when they fit a budget) the im2col matrices; each
 * backward workspace (one per worker) is a second arena sized for its query
 * chunk.  Both are kept and reused while the batch and mask stay the same.
 * Activations are [C][nb][h*w] (nn_layers.h); a cotangent of nq queries is
 * [C][nq][nb][h*w].
 *
 * Cell evaluation is grouped by source node: all active 3x3 convs reading
 * node j share one ReLU and one im2col and run as one conv with their
 * kernels stacked (likewise the 1x1 convs); their BNs are one BN over the
 * stacked channels.  The backward visits the groups in reverse (j = 2, 1, 0),
 * so node j's cotangent is complete when its group is processed.
 *
 * Two cell backwards: the generic one materializes the stacked BN
 * cotangents and runs GEMM + col2im; the fused one (AVX2, im2col kept,
 * per-query or per-sample sinks) folds each BN into the conv^T input and
 * into the weight-gradient algebra (see net_fused.c).  Tests check both
 * against the double-precision reference (tests/ref_net.c).
 *
 * Threads: the exact mode shares its query chunks among the pool's threads,
 * one workspace each; the forward and the fixed-stats backward split their
 * heavy loops over images, channels or samples. */
#ifndef MN_NET_INTERNAL_H
#define MN_NET_INTERNAL_H

#include <stddef.h>

#include <cblas.h>

#include "nn/net.h"
#include "nn/net_plan.h"
#include "nn/nn_layers.h"
#include "nn/simd.h"
#include "util/pool.h"

/* Bytes of forward state above which im2col matrices are recomputed in the
 * backward rather than kept. */
#define MN_STATE_BUDGET ((size_t)768 << 20)
/* Bytes of backward workspace per query chunk (exact mode). */
#define MN_CHUNK_BUDGET ((size_t)96 << 20)
/* Queries per chunk at most (exact mode): this many or a quarter of the
 * batch, within the budget (query_chunk in net_grads.c says why). */
#define MN_CHUNK_QUERIES 8
/* Elements of the col scratch used by the backward-data slabs. */
#define MN_DCOL_ELEMS ((size_t)1 << 20)

/* Stacked convs of one source node and one op (1x1 or 3x3). */
struct group {
	int ne;
	int edge[3];
	int tw[3], tbn[3]; /* tensors per edge */
	int Cs;            /* ne * C */
	struct mn_conv_geom geom;
	float *w, *gamma, *beta, *mean, *rstd;
	float *xhat; /* [Cs][nb*hw]: conv output, normalized in place */
	float *xc;   /* [Cs][9C]: xhat col^T (fused backward), or NULL */
};

struct cellst {
	int stage, index;
	float *node[4];
	float *relu[3];
	float *col[3]; /* kept im2col of relu[j] (contiguous, j = 0..2), or NULL */
	float *colsum; /* [3][9C]: row sums of col[j] (fused backward), or NULL */
	struct group g[3][2]; /* [source][0: 1x1, 1: 3x3] */
};

struct redst {
	struct mn_conv_geom ga, gb, gsc;
	float *in, *ra, *cola, *xa, *ma, *sa, *rb, *colb, *xb, *mb, *sb, *pool, *out;
};

struct arena {
	float *base;
	size_t used;
};

static inline float *take(struct arena *a, size_t n)
{
	size_t off = a->used;
	a->used += (n + 15) & ~(size_t)15;
	return a->base ? a->base + off : NULL;
}

/* Backward workspace for one query chunk (one per worker thread). */
struct ws {
	float *mem;
	size_t cap;
	int nq; /* laid out for this many queries, 0 = not laid out */
	float *P0, *P1, *D1, *D2, *DR, *DZ, *DZ1, *dcol, *tmp, *dg, *db, *dlog, *dgap;
	float *col; /* im2col recomputation when the forward keeps none */
	struct mn_pool *pool; /* parallel loops inside this backward, or NULL */
	float *P, *coef; /* fused backward: node cotangent x cols, BN coefficients */
	float *msum;     /* fused backward: BN sums per node, [4][7][C][groups] */
	size_t psz;
	int fused;      /* laid out for the fused cell backward */
	int err;        /* a step of the last backward failed */
	size_t dcol_cap;
	struct mn_simd_scratch scr; /* SIMD kernels run serially on this worker */
	struct mn_convT_in *cin;    /* conv^T input descriptors, cin_cap of them */
	size_t cin_cap;
};

struct mn_net {
	struct mn_net_plan plan;
	float *params;
	float *stat_mean, *stat_rstd; /* [nstats]: statistics of the last train forward */
	int frozen, has_stats;
	int qchunk;
	size_t state_budget; /* 0: MN_STATE_BUDGET */

	/* forward state */
	int nb;
	int store_cols;
	size_t max_col; /* largest im2col matrix */
	int layout_ok; /* arena laid out for (nb, mask) */
	int fused_ready; /* colsum and xc computed for the current forward */
	float *arena;
	size_t arena_cap;
	float *x;
	struct mn_conv_geom gstem;
	float *stem_col, *stem_xhat, *stem_mean, *stem_rstd, *stem_out;
	struct cellst *cells;
	struct redst red[2];
	float *head_xhat, *head_mean, *head_rstd, *head_h, *head_g, *logits;
	float *col_scratch;

	/* backward workspaces, one per worker thread */
	struct ws *ws;
	int nws;

	float *G; /* internal G for mn_net_ntk_cond */
	size_t G_cap;

	/* block outputs [batch][c][h][w] (filled on request) and their
	 * gradients (recorded by mn_net_backward), blocks -1..nblocks-1 one
	 * after the other */
	float *bout, *bgrad;
	size_t bout_cap, bgrad_cap;
	unsigned char *bout_ok; /* [nblocks + 1]: block i's copy is current */
	int has_bgrad;
	int fw_ok; /* the last forward completed */

	/* threads: the network's own pool (mn_net_set_threads; NULL: one) and
	 * one SIMD scratch per pool thread */
	struct mn_pool *pool;
	struct mn_simd_scratch *scr;
	int nscr;

	const atomic_int *cancel; /* mn_net_set_cancel, or NULL */
};

/* SINK_NONE: no parameter gradient at all (net_backward_block). */
enum { SINK_SUM, SINK_QUERY, SINK_SAMPLE, SINK_NONE };

struct sink {
	int kind;
	float *grad; /* SUM: canonical [P], accumulated */
	float *G;    /* QUERY/SAMPLE: rows row0.. */
	size_t ldG;
	int row0;
};

/* A parallel conv / pool / element-wise job (net_par.c). */
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
	struct mn_simd_scratch *scr; /* one per thread of the loop's pool */
};

static inline const float *tparam(const struct mn_net *net, int t)
{
	return net->params + net->plan.t[t].off;
}

/* net.c */
size_t net_block_store_size(const struct mn_net *net);
/* *buf holds at least n floats (contents lost when it grows); -1 when out of memory. */
int net_grow(float **buf, size_t *cap, size_t n);
/* mn_net_backward: keeps the cotangent d ([c][nb][h*w]) of block i's output. */
void net_record_bgrad(struct mn_net *net, int i, const float *d);

/* net_layout.c */
int net_ensure_forward_layout(struct mn_net *net, int nb);
int net_ensure_backward_layout(struct mn_net *net, struct ws *ws, int nq, int fused);
/* Can the fused cell backward run (AVX2, im2col kept)?  The sink and mode
 * decide the rest (net_fused_ok). */
int net_fused_possible(const struct mn_net *net);
/* At least n workspaces. */
int net_ensure_workspaces(struct mn_net *net, int n);
/* ws->cin holds at least n descriptors; NULL when out of memory. */
struct mn_convT_in *net_ws_convT_inputs(struct ws *ws, size_t n);

/* net_par.c: loops split over the pool (NULL: serial). */
/* fn(ctx, t, lo, hi) over [0, n) split as mn_par_for_work splits it, t the
 * thread (0 when serial): loops whose kernels need thread t's scratch. */
void net_par_ranges(struct mn_pool *pool, size_t n, double work_per_item,
		    void (*fn)(void *ctx, int t, size_t lo, size_t hi), void *ctx);
/* The scratch of the threads of ws's loops (one when ws->pool is NULL),
 * each grown to bytes; NULL when out of memory. */
struct mn_simd_scratch *net_ws_scratch(struct mn_net *net, struct ws *ws, size_t bytes);
/* The same for the forward's loops (the network's pool). */
struct mn_simd_scratch *net_fw_scratch(struct mn_net *net, size_t bytes);
void net_par_relu(struct mn_pool *pool, float *y, const float *x, size_t n);
void net_par_axpy(struct mn_pool *pool, float *y, float s, const float *x, size_t n);
void net_par_affine(struct mn_pool *pool, float *y, const float *xhat, const float *gamma,
		    const float *beta, int C, size_t M, float scale, int acc);
int net_par_bn(struct mn_pool *pool, float *xhat, const float *x, float *mean, float *rstd, int C,
	       size_t M, int stats);
void net_par_conv(struct mn_net *net, float *y, const float *w, const float *x,
		  const struct mn_conv_geom *g, int nb, float *keep_col, float *scratch, int acc);
void net_par_pool3_fw(struct mn_net *net, float *y, const float *x, size_t nplanes, int h, int w,
		      float scale);
void net_pc_convT(void *c, int t, size_t lo, size_t hi);
void net_pc_pool_bw(void *c, int t, size_t lo, size_t hi);

/* net_forward.c: the forward (no thread bracketing). */
int net_forward_run(struct mn_net *net, const float *x, int batch, float *logits);

/* net_backward.c: one backward over nq queries from ws->dlog ([classes][nq][nb]);
 * MN_NET_CANCELLED when the cancel flag was seen between blocks. */
int net_backward_run(struct mn_net *net, struct ws *ws, const struct sink *sk, int nq, int coupled);
/* Block i alone (0 <= i < block count): din = J_i^T dout, both [c][nb][h*w]
 * (one query), no parameter gradient; BN coupled unless frozen.  0 or -1. */
int net_backward_block(struct mn_net *net, struct ws *ws, int i, float *dout, float *din);
/* net->ws[0] laid out for one query, unfused, without a pool: the serial
 * passes' workspace (mn_net_backward, the block VJP).  NULL when out of
 * memory. */
struct ws *net_backward_ws(struct mn_net *net);

/* net_fused.c */
int net_fused_ok(const struct mn_net *net, const struct ws *ws, const struct sink *sk, int coupled);
/* colsum and xhat col^T of every cell, once per forward. */
void net_prepare_fused(struct mn_net *net);
/* 0, -1 on failure, MN_NET_CANCELLED when the cancel flag was seen between
 * source nodes. */
int net_bw_cell_fused(struct mn_net *net, struct ws *ws, struct cellst *cs, const struct sink *sk,
		      int nq, float *dn3, float *dn0);

#endif
