#include "proxy/tenas.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/linear_regions.h"

void mn_tenas_config_default(struct mn_tenas_config *c)
{
	c->batch = 72;
	c->repeat = 3;
	c->regions_samples = 1000;
	c->regions_batches = 3;
	c->init = MN_INIT_CODE;
	c->grad = MN_GRAD_EXACT;
	c->classes = 10;
	c->threads = 1;
	/* The network AZ-NAS scores: NAS-Bench-201's own (proxy_set.h). */
	c->az_channels = 16;
	c->az_cells = 5;
	c->az_batch = 64;
	c->all_proxies = 1;
}

struct mn_tenas {
	struct mn_tenas_config cfg;
	const struct mn_dataset *data;
	struct mn_net *ntk;
	struct mn_net *thin;
	float *batch;          /* batch x channels x H x W (mn_dataset_proxy_size) */
	float *crops;          /* regions_batches x regions_samples x 9 */
	/* K(supernet) per repeat for the state last measured: every candidate
	 * of a round shares the supernet's weights and batches. */
	uint8_t k0_super[MN_EDGES];
	uint64_t k0_seed;
	double *k0;            /* repeat values, NaN = not computed */
	struct mn_k0_share *share; /* the search's board for K(supernet), or NULL */
	double *k1;            /* the candidate's value per repeat */
	void *extra;           /* proxy_set.c's state */
	void (*extra_free)(void *);
};

enum stream {
	STREAM_NTK_WEIGHTS = 1,
	STREAM_NTK_BATCH,
	STREAM_THIN_WEIGHTS,
	STREAM_CROPS,
};

/* A stream's tag: what it is for, the supernet state, the candidate and the
 * repeat (-1 where it does not depend on one). */
static uint64_t tag_of(enum stream kind, const uint8_t mask[MN_EDGES], int edge, int op, int repeat)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ (uint64_t)kind;
	for (int e = 0; e < MN_EDGES; e++)
		h = (h ^ mask[e]) * 0x100000001b3ULL;
	h = (h ^ (uint64_t)(uint32_t)(edge + 1)) * 0x100000001b3ULL;
	h = (h ^ (uint64_t)(uint32_t)(op + 1)) * 0x100000001b3ULL;
	h = (h ^ (uint64_t)(uint32_t)(repeat + 1)) * 0x100000001b3ULL;
	return h;
}

struct mn_tenas *mn_tenas_new(const struct mn_tenas_config *cfg, const struct mn_dataset *data,
			      char *err, size_t errn)
{
	struct mn_net_config nc, tc;
	char msg[160];
	struct mn_tenas *t = calloc(1, sizeof *t);
	if (!t)
		goto oom;
	if (cfg->batch < 2 || (size_t)cfg->batch > data->count) {
		snprintf(err, errn, "NTK batch %d needs 2..%zu images (the data has %zu)", cfg->batch,
			 data->count, data->count);
		free(t);
		return NULL;
	}
	t->cfg = *cfg;
	t->data = data;
	mn_net_config_ntk(&nc);
	nc.classes = cfg->classes;
	mn_dataset_proxy_size(data, &nc.H, &nc.W);
	nc.in_channels = data->channels;
	mn_net_config_thin(&tc);
	tc.classes = cfg->classes;
	if (mn_net_config_check(&nc, msg, sizeof msg)) {
		snprintf(err, errn, "%dx%dx%d images, %d classes: cannot feed the NTK network: %s (give other data)",
			 data->height, data->width, data->channels, cfg->classes, msg);
		free(t);
		return NULL;
	}
	t->ntk = mn_net_create(&nc);
	t->thin = mn_net_create(&tc);
	t->batch = malloc((size_t)cfg->batch * mn_dataset_batch_image_size(data) * sizeof(float));
	t->crops = malloc((size_t)cfg->regions_batches * cfg->regions_samples * 9 * sizeof(float));
	t->k0 = malloc((size_t)(cfg->repeat > 0 ? cfg->repeat : 1) * sizeof(double));
	t->k1 = malloc((size_t)(cfg->repeat > 0 ? cfg->repeat : 1) * sizeof(double));
	if (!t->ntk || !t->thin || !t->batch || !t->crops || !t->k0 || !t->k1 ||
	    mn_net_set_threads(t->ntk, cfg->threads) != 0 ||
	    mn_net_set_threads(t->thin, cfg->threads) != 0)
		goto oom;
	return t;
oom:
	mn_tenas_free(t);
	snprintf(err, errn, "out of memory creating the proxy networks");
	return NULL;
}

void mn_tenas_free(struct mn_tenas *t)
{
	if (!t)
		return;
	if (t->extra_free)
		t->extra_free(t->extra);
	mn_net_free(t->ntk);
	mn_net_free(t->thin);
	free(t->batch);
	free(t->crops);
	free(t->k0);
	free(t->k1);
	free(t);
}

static int draw_batch(struct mn_tenas *t, uint64_t seed, uint64_t tag, char *err, size_t errn)
{
	struct mn_rng r;
	mn_rng_derive(&r, seed, tag);
	return mn_dataset_batch(t->data, &r, (size_t)t->cfg.batch, t->batch, NULL, NULL, err, errn);
}

static int draw_crops(struct mn_tenas *t, uint64_t seed, uint64_t tag, char *err, size_t errn)
{
	struct mn_rng r;
	mn_rng_derive(&r, seed, tag);
	return mn_dataset_crops(t->data, &r, (size_t)t->cfg.regions_batches * t->cfg.regions_samples, t->crops,
			      err, errn);
}

static void init_net(struct mn_net *net, uint64_t seed, uint64_t tag, enum mn_init_mode mode)
{
	struct mn_rng r;
	mn_rng_derive(&r, seed, tag);
	mn_net_init(net, &r, mode);
}

/* 0, 1 if cancelled, -1 with err. */
static int ntk_of(struct mn_tenas *t, const uint8_t mask[MN_EDGES], double *cond, char *err,
		  size_t errn)
{
	int rc = mn_net_set_mask(t->ntk, mask);
	if (rc == 0)
		rc = mn_net_ntk_cond(t->ntk, t->batch, t->cfg.batch, t->cfg.grad, cond, NULL, NULL);
	if (rc == MN_NET_CANCELLED)
		return 1;
	if (rc) {
		snprintf(err, errn, "NTK evaluation failed (out of memory?)");
		return -1;
	}
	return 0;
}

/* Distinct activation patterns of the thin network over the crops drawn
 * (regions_batches batches of regions_samples, each batch with its own BN
 * statistics, as TE-NAS forwards them).  0, 1 if cancelled, -1 with err. */
static int regions_of(struct mn_tenas *t, const uint8_t mask[MN_EDGES], double *count, char *err,
		      size_t errn)
{
	long n = -1;
	if (mn_net_set_mask(t->thin, mask) == 0)
		n = mn_linear_regions_count(t->thin, t->crops, t->cfg.regions_samples, t->cfg.regions_batches);
	if (n == MN_LR_CANCELLED)
		return 1;
	if (n < 0) {
		snprintf(err, errn, "linear-region evaluation failed (out of memory?)");
		return -1;
	}
	*count = (double)n;
	return 0;
}

/* TE-NAS rounds each repeat's relative change to 3 decimals. */
static double round3(double x) { return nearbyint(x * 1000.0) / 1000.0; }

/* Repeat r's NTK weights and batch, as every candidate of the round sees
 * them. */
static int ntk_repeat(struct mn_tenas *t, uint64_t seed, const uint8_t super[MN_EDGES], int r,
		      char *err, size_t errn)
{
	int paper = t->cfg.init == MN_INIT_PAPER;
	init_net(t->ntk, seed, tag_of(STREAM_NTK_WEIGHTS, super, -1, -1, paper ? r : -1),
		 t->cfg.init);
	return draw_batch(t, seed, tag_of(STREAM_NTK_BATCH, super, -1, -1, r), err, errn);
}

/* K(super) of repeat r, computed here: into this evaluator's store and,
 * with a board, put there (or the claim given back on failure).  0, 1 if
 * cancelled, -1 with err. */
static int k0_compute(struct mn_tenas *t, uint64_t seed, const uint8_t super[MN_EDGES], int r,
		      char *err, size_t errn)
{
	int rc = ntk_repeat(t, seed, super, r, err, errn);
	if (rc == 0)
		rc = ntk_of(t, super, &t->k0[r], err, errn);
	if (t->share) {
		if (rc)
			mn_k0_release(t->share, seed, super, r);
		else
			mn_k0_put(t->share, seed, super, r, t->k0[r]);
	}
	return rc;
}

enum { K0_UNKNOWN, K0_KNOWN, K0_MINE };

static int candidate_run(struct mn_tenas *t, uint64_t seed, const uint8_t super[MN_EDGES],
			 int edge, int op, const atomic_int *cancel, int *known, double *dk,
			 double *dr, char *err, size_t errn)
{
	uint8_t cand[MN_EDGES];
	double sum_k = 0, sum_r = 0;
	int paper = t->cfg.init == MN_INIT_PAPER, R = t->cfg.repeat, rc = 0;

	memcpy(cand, super, MN_EDGES);
	cand[edge] &= (uint8_t)~(1u << op);
	if (memcmp(t->k0_super, super, MN_EDGES) != 0 || t->k0_seed != seed) {
		memcpy(t->k0_super, super, MN_EDGES);
		t->k0_seed = seed;
		for (int r = 0; r < R; r++)
			t->k0[r] = NAN;
	}
	/* K(super): the repeats no one has or computes are claimed at once
	 * and computed first.  At a round's start the first worker so takes
	 * all of them while the others begin on their own candidates and find
	 * them ready when they need them: the first candidate is then done
	 * after as few NTKs as possible, and no K(super) is computed twice. */
	for (int r = 0; r < R; r++) {
		if (!t->share) {
			known[r] = isnan(t->k0[r]) ? K0_MINE : K0_KNOWN;
			continue;
		}
		enum mn_k0_status st = mn_k0_get(t->share, seed, super, r, 0, cancel, &t->k0[r]);
		known[r] = st == MN_K0_HAVE ? K0_KNOWN : st == MN_K0_CLAIMED ? K0_MINE : K0_UNKNOWN;
	}
	for (int r = 0; rc == 0 && r < R; r++)
		if (known[r] == K0_MINE) {
			if (cancel && atomic_load(cancel))
				rc = 1;
			else
				rc = k0_compute(t, seed, super, r, err, errn);
			known[r] = rc == 0 ? K0_KNOWN : K0_UNKNOWN;
		}
	if (rc) {
		/* the claims not computed go back to the board */
		for (int r = 0; t->share && r < R; r++)
			if (known[r] == K0_MINE)
				mn_k0_release(t->share, seed, super, r);
		return rc;
	}
	for (int r = 0; rc == 0 && r < R; r++) {
		if (cancel && atomic_load(cancel))
			return 1;
		/* repeat r's weights and batch (the set-up is a tiny part of an
		 * NTK) */
		rc = ntk_repeat(t, seed, super, r, err, errn);
		if (rc == 0)
			rc = ntk_of(t, cand, &t->k1[r], err, errn);
	}
	/* K(super) computed elsewhere: most likely there by now */
	for (int r = 0; rc == 0 && r < R; r++)
		if (known[r] == K0_UNKNOWN) {
			enum mn_k0_status st =
				mn_k0_get(t->share, seed, super, r, 1, cancel, &t->k0[r]);
			if (st == MN_K0_CANCELLED)
				rc = 1;
			else if (st == MN_K0_CLAIMED) /* given back by a cancelled worker */
				rc = k0_compute(t, seed, super, r, err, errn);
		}
	if (rc)
		return rc;
	/* in repeat order, as one evaluator alone sums them */
	for (int r = 0; r < R; r++)
		sum_k += round3((t->k0[r] - t->k1[r]) / t->k0[r]);
	if (!paper)
		init_net(t->thin, seed, tag_of(STREAM_THIN_WEIGHTS, super, edge, op, -1), MN_INIT_CODE);
	for (int r = 0; r < R; r++) {
		double r0, r1;
		if (cancel && atomic_load(cancel))
			return 1;
		if (paper)
			init_net(t->thin, seed, tag_of(STREAM_THIN_WEIGHTS, super, edge, op, r), MN_INIT_PAPER);
		if (draw_crops(t, seed, tag_of(STREAM_CROPS, super, edge, op, r), err, errn))
			return -1;
		if ((rc = regions_of(t, super, &r0, err, errn)) != 0 ||
		    (rc = regions_of(t, cand, &r1, err, errn)) != 0)
			return rc;
		sum_r += round3((r0 - r1) / r0);
	}
	*dk = sum_k / R;
	*dr = sum_r / R;
	return 0;
}

/* Hands the caller's cancel flag (or NULL) to both networks: they poll it
 * only during the call that set it, since it may not outlive that call. */
static void nets_cancel(struct mn_tenas *t, const atomic_int *cancel)
{
	mn_net_set_cancel(t->ntk, cancel);
	mn_net_set_cancel(t->thin, cancel);
}

int mn_tenas_candidate(struct mn_tenas *t, uint64_t seed, const uint8_t super[MN_EDGES],
		       int edge, int op, const atomic_int *cancel, double *dk, double *dr,
		       char *err, size_t errn)
{
	int *known = calloc((size_t)(t->cfg.repeat > 0 ? t->cfg.repeat : 1), sizeof *known);
	if (!known) {
		snprintf(err, errn, "out of memory");
		return -1;
	}
	nets_cancel(t, cancel);
	int rc = candidate_run(t, seed, super, edge, op, cancel, known, dk, dr, err, errn);
	nets_cancel(t, NULL);
	free(known);
	return rc;
}

/* mn_tenas_score_mask with the flag already on the networks. */
static int score_mask_run(struct mn_tenas *t, uint64_t seed, const uint8_t mask[MN_EDGES],
			  double *ntk_cond, double *regions, char *err, size_t errn)
{
	/* Every arch scored with one seed sees the same weights (the canonical
	 * fill ignores the mask), batches and crops: common random numbers
	 * make the scores of different archs comparable. */
	static const uint8_t all[MN_EDGES] = {0, 0, 0, 0, 0, 0};
	double sum_k = 0, sum_r = 0;
	for (int r = 0; r < t->cfg.repeat; r++) {
		double k, n;
		int rc;
		init_net(t->ntk, seed, tag_of(STREAM_NTK_WEIGHTS, all, -1, -1, r), t->cfg.init);
		init_net(t->thin, seed, tag_of(STREAM_THIN_WEIGHTS, all, -1, -1, r), t->cfg.init);
		if (draw_batch(t, seed, tag_of(STREAM_NTK_BATCH, all, -1, -1, r), err, errn) ||
		    draw_crops(t, seed, tag_of(STREAM_CROPS, all, -1, -1, r), err, errn))
			return -1;
		if ((rc = ntk_of(t, mask, &k, err, errn)) != 0 ||
		    (rc = regions_of(t, mask, &n, err, errn)) != 0)
			return rc;
		sum_k += k;
		sum_r += n;
	}
	*ntk_cond = sum_k / t->cfg.repeat;
	*regions = sum_r / t->cfg.repeat;
	return 0;
}

int mn_tenas_score_mask(struct mn_tenas *t, uint64_t seed, const uint8_t mask[MN_EDGES],
			const atomic_int *cancel, double *ntk_cond, double *regions, char *err,
			size_t errn)
{
	nets_cancel(t, cancel);
	int rc = score_mask_run(t, seed, mask, ntk_cond, regions, err, errn);
	nets_cancel(t, NULL);
	return rc;
}

int mn_tenas_score_arch(struct mn_tenas *t, uint64_t seed, const struct mn_arch *a,
			const atomic_int *cancel, double *ntk_cond, double *regions, char *err,
			size_t errn)
{
	uint8_t mask[MN_EDGES];
	mn_arch_to_mask(a, mask);
	return mn_tenas_score_mask(t, seed, mask, cancel, ntk_cond, regions, err, errn);
}

void mn_tenas_set_k0_share(struct mn_tenas *t, struct mn_k0_share *share) { t->share = share; }

const struct mn_dataset *mn_tenas_data(const struct mn_tenas *t) { return t->data; }

const struct mn_tenas_config *mn_tenas_get_config(const struct mn_tenas *t) { return &t->cfg; }

void *mn_tenas_extra(struct mn_tenas *t) { return t->extra; }

void mn_tenas_set_extra(struct mn_tenas *t, void *extra, void (*free_fn)(void *))
{
	if (t->extra_free && t->extra != extra)
		t->extra_free(t->extra);
	t->extra = extra;
	t->extra_free = free_fn;
}
