/* Per-sample gradients for the NTK: the exact mode (one backward per query
 * chunk through the batched graph, chunks shared among the pool's threads)
 * and the fixed-stats mode (one decoupled backward); the Gram matrix and
 * mn_net_ntk_cond. */
#include <stdlib.h>
#include <string.h>

#include "nn/net_internal.h"
#include "util/huge_alloc.h"

/* Queries per chunk: at most MN_CHUNK_QUERIES or a quarter of the batch,
 * whichever is more, the backward workspace of one chunk within
 * MN_CHUNK_BUDGET, and the chunks divided evenly among the workers.
 * Why: every kernel of a chunk's backward streams the chunk's cotangents,
 * which smaller chunks keep nearer the caches (at batch 32 on the
 * search's supernet a chunk of 8 queries takes 19 MB, all 32 take 75 MB),
 * while every chunk streams the whole batch's im2col again (the B of the
 * long-K GEMMs, 27 C floats a pixel of the batch), a cost that grows with
 * the batch.  Measured (exact NTK of that supernet, one thread on each of
 * the 2 cores of an AMD Zen 5 VM, best of 3, on the steadier core): at
 * batch 32 chunks of 8, 16, 32 took 107.8-109.0, 110.3-113.1,
 * 112.5-116.7 ms (4 queries: 112.5); at batch 72 chunks of 18 took
 * 562-595 ms and of 8, 578-610 ms, so the budget's 18 stays. */
static int query_chunk(const struct mn_net *net, int batch, int workers)
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
	size_t per_query = (net_fused_possible(net) ? 6 : 12) * E * (size_t)batch * sizeof(float);
	size_t nq = per_query ? MN_CHUNK_BUDGET / per_query : 1;
	if (nq < 1)
		nq = 1;
	size_t cap = (size_t)batch / 4 > MN_CHUNK_QUERIES ? (size_t)batch / 4 : MN_CHUNK_QUERIES;
	if (nq > cap)
		nq = cap;
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
	struct mn_net *net;
	float *G;
	size_t ldg;
	int batch, nq, workers, worker;
	int rc;
};

/* Worker: chunks worker, worker+workers, ... of the exact backward. */
static void *exact_worker(void *arg)
{
	struct exact_job *j = arg;
	struct mn_net *net = j->net;
	struct ws *ws = &net->ws[j->worker];
	const int classes = net->plan.cfg.classes, nb = net->nb;
	j->rc = 0;
	for (int q0 = j->worker * j->nq; q0 < j->batch; q0 += j->workers * j->nq) {
		int m = j->batch - q0 < j->nq ? j->batch - q0 : j->nq;
		if (mn_net_cancelled(net)) {
			j->rc = MN_NET_CANCELLED;
			return NULL;
		}
		if (net_ensure_backward_layout(net, ws, m, net_fused_possible(net)) != 0) {
			j->rc = -1;
			return NULL;
		}
		/* query q: ones on sample q0+q's logits */
		memset(ws->dlog, 0, sizeof(float) * classes * m * nb);
		for (int c = 0; c < classes; c++)
			for (int q = 0; q < m; q++)
				ws->dlog[((size_t)c * m + q) * nb + q0 + q] = 1;
		struct sink sk = {SINK_QUERY, NULL, j->G, j->ldg, q0};
		int rc = net_backward_run(net, ws, &sk, m, 1);
		if (rc != 0) {
			j->rc = rc;
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
static int exact_grads(struct mn_net *net, int batch, float *G, size_t ldg)
{
	struct mn_pool *pool = net->pool;
	int T = mn_pool_size(pool);
	int nq = query_chunk(net, batch, T);
	struct exact_job *jobs = malloc(sizeof *jobs * (size_t)T);
	if (!jobs || net_ensure_workspaces(net, T) != 0) {
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
	if (mn_simd_avx2())
		net_prepare_fused(net);
	mn_par_run(pool, exact_run, jobs);
	/* a failure outranks a cancel */
	int rc = 0;
	for (int t = 0; t < T; t++)
		if (jobs[t].rc < 0 || (jobs[t].rc == MN_NET_CANCELLED && rc == 0))
			rc = jobs[t].rc;
	free(jobs);
	return rc;
}

static int per_sample_grads(struct mn_net *net, const float *x, int batch, enum mn_grad_mode mode,
			    float *G, size_t ldg)
{
	const struct mn_net_config *cfg = &net->plan.cfg;
	if (!G || ldg < net->plan.gwidth || (mode != MN_GRAD_EXACT && mode != MN_GRAD_FIXED_STATS))
		return -1;
	int frc = net_forward_run(net, x, batch, NULL);
	if (frc != 0)
		return frc == MN_NET_CANCELLED ? frc : -1;
	if (mn_net_cancelled(net))
		return MN_NET_CANCELLED;
	int nb = batch;
	if (mode == MN_GRAD_FIXED_STATS || net->frozen) {
		/* decoupled BN: one backward, cotangent ones, every sample its own row */
		if (net_ensure_workspaces(net, 1) != 0 ||
		    net_ensure_backward_layout(net, &net->ws[0], 1, net_fused_possible(net)) != 0)
			return -1;
		struct ws *ws = &net->ws[0];
		ws->pool = net->pool;
		for (size_t i = 0; i < (size_t)cfg->classes * nb; i++)
			ws->dlog[i] = 1;
		struct sink sk = {SINK_SAMPLE, NULL, G, ldg, 0};
		int rc = net_backward_run(net, ws, &sk, 1, 0);
		return rc == MN_NET_CANCELLED ? rc : rc ? -1 : 0;
	}
	return exact_grads(net, batch, G, ldg);
}

int mn_net_per_sample_grads(struct mn_net *net, const float *x, int batch, enum mn_grad_mode mode,
			    float *G, size_t ldg)
{
	return per_sample_grads(net, x, batch, mode, G, ldg);
}

struct gram_ctx {
	const float *G;
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
	int rc = mn_ntk_gram(e->G + lo, e->B, hi - lo, e->P, K);
	if (rc)
		e->rc = -1;
}

static int gram(struct mn_net *net, const float *G, int B, size_t P, double *K)
{
	struct mn_pool *pool = net->pool;
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

int mn_net_ntk_cond(struct mn_net *net, const float *x, int batch, enum mn_grad_mode mode,
		    double *cond, float *G, double *gram_out)
{
	size_t P = net->plan.gwidth;
	if (batch < 1 || !cond)
		return -1;
	*cond = MN_NTK_BAD_COND;
	float *g = G;
	if (!g) {
		size_t need = (size_t)batch * P;
		if (need > net->G_cap) {
			free(net->G);
			net->G = mn_huge_alloc(need * sizeof(float));
			net->G_cap = net->G ? need : 0;
			if (!net->G)
				return -1;
		}
		g = net->G;
	}
	double *K = gram_out ? gram_out : malloc(sizeof(double) * (size_t)batch * batch);
	if (!K)
		return -1;
	int rc = per_sample_grads(net, x, batch, mode, g, P);
	if (rc == 0 && mn_net_cancelled(net))
		rc = MN_NET_CANCELLED;
	if (rc == 0)
		rc = gram(net, g, batch, P, K);
	/* dsyevd runs on OpenBLAS's threads: entry points keep them at one
	 * (mn_blas_set_threads) so that they do not spin through the next
	 * evaluation */
	if (rc == 0)
		*cond = mn_ntk_cond(K, batch, NULL);
	if (!gram_out)
		free(K);
	return rc;
}
