#include "proxy/proxy_set.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/az_expressivity.h"
#include "proxy/az_memo.h"
#include "proxy/az_trainability.h"
#include "proxy/nwot.h"
#include "proxy/swap.h"
#include "proxy/zico.h"
#include "data/dataset.h"
#include "nn/net_block.h"
#include "space/arch_class.h"
#include "space/cost.h"

static const struct mn_proxy_info INFO[MN_PROXY_COUNT] = {
	[MN_PROXY_NTK_COND] = {"ntk_cond", "NTK cond", 0, 0},
	[MN_PROXY_LINEAR_REGIONS] = {"linear_regions", "lin. regions", 1, 0},
	[MN_PROXY_AZ_EXPRESSIVITY] = {"az_expressivity", "AZ expr.", 1, 1},
	[MN_PROXY_AZ_PROGRESSIVITY] = {"az_progressivity", "AZ progr.", 1, 1},
	[MN_PROXY_AZ_TRAINABILITY] = {"az_trainability", "AZ train.", 1, 1},
	[MN_PROXY_AZ_COMPLEXITY] = {"az_complexity", "AZ FLOPs", 1, 1},
	[MN_PROXY_NWOT] = {"nwot", "NWOT", 1, 0},
	[MN_PROXY_SWAP] = {"swap", "SWAP", 1, 0},
	[MN_PROXY_ZICO] = {"zico", "ZiCo", 1, 0},
};

const struct mn_proxy_info *mn_proxy_info(enum mn_proxy_id id)
{
	return (unsigned)id < MN_PROXY_COUNT ? &INFO[id] : NULL;
}

/* The network and buffers of the proxies beyond TE-NAS's, kept in the
 * evaluator (mn_tenas_extra). */
struct extra {
	struct mn_net *net;
	int batch, classes;
	size_t nparams, words, nbits;
	float *x;              /* [2][batch][3][32][32]: batches A and B */
	int32_t *labels;       /* [2][batch] */
	size_t img;            /* floats per image of a batch (the data's proxy size) */
	float *logits, *dlogits;
	float *grads;          /* [2][nparams] */
	uint64_t *bits;        /* [batch][words] */
	struct mn_param_range *layers;
	int nlayers, nblocks;
	double *ent, *terms;   /* [nblocks + 1], [nblocks] */
	float *xg;             /* [batch][img]: AZ-NAS's Gaussian input */
	float *gout, *gin;     /* [batch][largest block]: trainability's cotangents */
	uint16_t *rep;         /* [MN_ARCH_COUNT]: each arch's function class (arch_class.h) */
};

static void extra_free(void *p)
{
	struct extra *e = p;
	if (!e)
		return;
	mn_net_free(e->net);
	free(e->x);
	free(e->labels);
	free(e->logits);
	free(e->dlogits);
	free(e->grads);
	free(e->bits);
	free(e->layers);
	free(e->ent);
	free(e->terms);
	free(e->xg);
	free(e->gout);
	free(e->gin);
	free(e->rep);
	free(e);
}

static struct extra *extra_new(const struct mn_tenas_config *c, const struct mn_dataset *data,
				char *err, size_t errn)
{
	struct mn_net_config nc;
	mn_net_config_eval(&nc, c->az_channels, c->az_cells, 32, c->classes);
	/* At the data's input, as the NTK network (tenas.c). */
	mn_dataset_proxy_size(data, &nc.H, &nc.W);
	nc.in_channels = data->channels;
	if (mn_net_config_check(&nc, err, errn) != 0)
		return NULL;
	if (c->az_batch < 2 || data->count < 2) {
		snprintf(err, errn, "the AZ-NAS/NWOT/SWAP/ZiCo proxies need a batch of at least 2 images (%zu given)",
			 data->count);
		return NULL;
	}
	struct extra *e = calloc(1, sizeof *e);
	if (!e || !(e->net = mn_net_create(&nc)))
		goto oom;
	/* A small data set gives all its images (the batch is drawn without
	 * repeats). */
	e->batch = (size_t)c->az_batch <= data->count ? c->az_batch : (int)data->count;
	e->classes = c->classes;
	e->nparams = mn_net_param_count(e->net);
	e->nbits = mn_net_pattern_bits(e->net);
	e->words = (e->nbits + 63) / 64;
	e->nblocks = mn_net_block_count(e->net);
	int cap = 3 * c->az_cells * MN_EDGES * 2 + 16;
	size_t img = mn_dataset_batch_image_size(data);
	e->img = img;
	e->x = malloc(2 * (size_t)e->batch * img * sizeof *e->x);
	e->labels = malloc(2 * (size_t)e->batch * sizeof *e->labels);
	e->logits = malloc((size_t)e->batch * e->classes * sizeof *e->logits);
	e->dlogits = malloc((size_t)e->batch * e->classes * sizeof *e->dlogits);
	e->grads = malloc(2 * e->nparams * sizeof *e->grads);
	e->bits = malloc((size_t)e->batch * e->words * sizeof *e->bits);
	e->layers = malloc((size_t)cap * sizeof *e->layers);
	e->ent = malloc((size_t)(e->nblocks + 1) * sizeof *e->ent);
	e->terms = malloc((size_t)(e->nblocks > 0 ? e->nblocks : 1) * sizeof *e->terms);
	size_t gmax = 0;
	for (int i = -1; i < e->nblocks; i++) {
		int bc, bh, bw;
		if (mn_net_block_shape(e->net, i, &bc, &bh, &bw) == 0 &&
		    (size_t)bc * bh * bw > gmax)
			gmax = (size_t)bc * bh * bw;
	}
	e->xg = malloc((size_t)e->batch * img * sizeof *e->xg);
	e->gout = malloc((size_t)e->batch * gmax * sizeof *e->gout);
	e->gin = malloc((size_t)e->batch * gmax * sizeof *e->gin);
	e->rep = malloc(MN_ARCH_COUNT * sizeof *e->rep);
	if (!e->x || !e->labels || !e->logits || !e->dlogits || !e->grads || !e->bits ||
	    !e->layers || !e->ent || !e->terms || !e->xg || !e->gout || !e->gin || !e->rep ||
	    mn_arch_classes(e->rep) != 0)
		goto oom;
	e->nlayers = mn_zico_layers(&nc, e->nparams, e->layers, cap);
	if (e->nlayers < 0 || e->nblocks < 1) {
		snprintf(err, errn, "the network's parameter layout is not the one zico.c expects "
			 "(net.h's canonical order changed?)");
		extra_free(e);
		return NULL;
	}
	return e;
oom:
	extra_free(e);
	snprintf(err, errn, "out of memory creating the proxy network");
	return NULL;
}

/* Streams of these proxies: what they are for and the repeat; every arch
 * scored with one seed sees the same ones. */
enum stream {
	STREAM_WEIGHTS = 201, STREAM_BATCH_A, STREAM_BATCH_B,
	STREAM_AZ_WEIGHTS, STREAM_AZ_INPUT, STREAM_AZ_NOISE
};

static uint64_t tag_of(enum stream kind, int repeat)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ (uint64_t)kind;
	h = (h ^ 0x9e3779b97f4a7c15ULL) * 0x100000001b3ULL;
	return (h ^ (uint64_t)(uint32_t)(repeat + 1)) * 0x100000001b3ULL;
}

/* dlogits = gradient of the mean cross-entropy over the batch. */
static void ce_grad(const float *logits, const int32_t *labels, int b, int k, float *d)
{
	for (int n = 0; n < b; n++) {
		const float *z = logits + (size_t)n * k;
		double mx = z[0], sum = 0;
		for (int j = 1; j < k; j++)
			mx = z[j] > mx ? z[j] : mx;
		for (int j = 0; j < k; j++)
			sum += exp(z[j] - mx);
		for (int j = 0; j < k; j++) {
			double p = exp(z[j] - mx) / sum;
			d[(size_t)n * k + j] = (float)((p - (j == labels[n])) / b);
		}
	}
}

/* AZ-NAS's expressivity, progressivity and trainability of one repeat into
 * v, as the authors' code computes them: fresh fan_in Kaiming weights, a
 * batch of N(0, 1) inputs, one forward; the entropy of every block output;
 * then per block a +-1 cotangent on its output carried back through that
 * block alone. */
static int az_repeat(struct extra *e, uint64_t seed, int r, double *v)
{
	struct mn_rng rng;
	mn_rng_derive(&rng, seed, tag_of(STREAM_AZ_WEIGHTS, r));
	mn_net_init_fan_in(e->net, &rng);
	mn_rng_derive(&rng, seed, tag_of(STREAM_AZ_INPUT, r));
	for (size_t q = 0; q < (size_t)e->batch * e->img; q++)
		e->xg[q] = (float)mn_rng_normal(&rng);
	int rc = mn_net_forward(e->net, e->xg, e->batch, NULL);
	if (rc)
		return rc == MN_NET_CANCELLED ? 1 : -1;
	int c, h, w;
	for (int i = -1; i < e->nblocks; i++) {
		const float *f = mn_net_block_output(e->net, i, &c, &h, &w);
		if (!f)
			return -1;
		e->ent[i + 1] = mn_az_feature_entropy(f, e->batch, c, h, w);
	}
	mn_az_expressivity(e->ent, e->nblocks + 1, &v[MN_PROXY_AZ_EXPRESSIVITY],
			   &v[MN_PROXY_AZ_PROGRESSIVITY]);
	mn_rng_derive(&rng, seed, tag_of(STREAM_AZ_NOISE, r));
	for (int i = e->nblocks - 1; i >= 0; i--) {
		int ci, hi, wi;
		/* the block backwards do not poll the flag: between them */
		if (mn_net_cancelled(e->net))
			return 1;
		if (mn_net_block_shape(e->net, i, &c, &h, &w) ||
		    mn_net_block_shape(e->net, i - 1, &ci, &hi, &wi))
			return -1;
		size_t n = (size_t)e->batch * c * h * w;
		uint64_t bits = 0;
		for (size_t q = 0; q < n; q++, bits >>= 1) {
			if (q % 64 == 0)
				bits = mn_rng_u64(&rng);
			e->gout[q] = bits & 1 ? 1.0f : -1.0f;
		}
		if (mn_net_block_vjp(e->net, i, e->gout, e->gin))
			return -1;
		e->terms[i] = mn_az_trainability_block(e->gin, ci, hi, wi, e->gout, c, h, w,
							e->batch);
	}
	v[MN_PROXY_AZ_TRAINABILITY] = mn_az_trainability(e->terms, e->nblocks);
	return 0;
}

/* One repeat of NWOT, SWAP and ZiCo into v (indexed by enum mn_proxy_id),
 * on real images (their papers' input) and their own weights (net.h's
 * "paper" init).  0, 1 when the network's cancel flag was seen, -1 with
 * err. */
static int others_repeat(struct extra *e, const struct mn_dataset *data, uint64_t seed, int r,
			 double *v, char *err, size_t errn)
{
	struct mn_rng rng;
	size_t img = e->img;
	int rc;
	mn_rng_derive(&rng, seed, tag_of(STREAM_WEIGHTS, r));
	mn_net_init(e->net, &rng, MN_INIT_PAPER);
	for (int k = 0; k < 2; k++) {
		mn_rng_derive(&rng, seed, tag_of(k ? STREAM_BATCH_B : STREAM_BATCH_A, r));
		if (mn_dataset_batch(data, &rng, (size_t)e->batch, e->x + (size_t)k * e->batch * img,
				   e->labels + (size_t)k * e->batch, NULL, err, errn))
			return -1;
	}
	for (int k = 0; k < 2; k++) {
		rc = mn_net_forward(e->net, e->x + (size_t)k * e->batch * img, e->batch, e->logits);
		if (rc == MN_NET_CANCELLED)
			return 1;
		if (rc)
			goto fail;
		if (k == 0) {
			if (mn_net_patterns(e->net, e->bits, e->words))
				goto fail;
			v[MN_PROXY_NWOT] = mn_nwot_score(e->bits, e->words, e->nbits, e->batch);
			long sw = mn_swap_score(e->bits, e->words, e->nbits, e->batch);
			if (sw < 0)
				goto fail;
			v[MN_PROXY_SWAP] = (double)sw;
		}
		ce_grad(e->logits, e->labels + (size_t)k * e->batch, e->batch, e->classes, e->dlogits);
		if (mn_net_backward(e->net, e->dlogits, e->grads + (size_t)k * e->nparams))
			goto fail;
	}
	v[MN_PROXY_ZICO] = mn_zico_score(e->grads, 2, e->nparams, e->layers, e->nlayers);
	return 0;
fail:
	snprintf(err, errn, "proxy network evaluation failed (out of memory?)");
	return -1;
}

/* The extra network for t (created on first use). */
static struct extra *extra_of(struct mn_tenas *t, char *err, size_t errn)
{
	struct extra *e = mn_tenas_extra(t);
	if (!e) {
		if (!(e = extra_new(mn_tenas_get_config(t), mn_tenas_data(t), err, errn)))
			return NULL;
		mn_tenas_set_extra(t, e, extra_free);
	}
	return e;
}

/* AZ-NAS's three measured proxies of the network as set (an arch or a
 * mask), averaged over the repeats, into az[3]: 0, 1 when cancelled, -1
 * with err. */
static int az_average(struct extra *e, const struct mn_tenas_config *cfg, uint64_t seed,
		      double az[3], char *err, size_t errn)
{
	static const int ids[3] = {MN_PROXY_AZ_EXPRESSIVITY, MN_PROXY_AZ_PROGRESSIVITY,
				   MN_PROXY_AZ_TRAINABILITY};
	double sum[3] = {0}, v[MN_PROXY_COUNT];
	for (int r = 0; r < cfg->repeat; r++) {
		int rc = az_repeat(e, seed, r, v);
		if (rc == 1)
			return 1;
		if (rc) {
			snprintf(err, errn, "proxy network evaluation failed (out of memory?)");
			return -1;
		}
		for (int k = 0; k < 3; k++)
			sum[k] += v[ids[k]];
	}
	for (int k = 0; k < 3; k++)
		az[k] = sum[k] / cfg->repeat;
	return 0;
}

/* The estimate's four into out: AZ-NAS's three measured ones and
 * complexity, the FLOPs of the C=16, N=5 network (cost). */
static void put_estimate(struct mn_proxy_values *out, const double az[3], const struct mn_cost *cost)
{
	out->v[MN_PROXY_AZ_EXPRESSIVITY] = az[0];
	out->v[MN_PROXY_AZ_PROGRESSIVITY] = az[1];
	out->v[MN_PROXY_AZ_TRAINABILITY] = az[2];
	out->v[MN_PROXY_AZ_COMPLEXITY] = (double)cost->flops;
}

int mn_proxy_score_mask_az(struct mn_tenas *t, uint64_t seed, const uint8_t mask[MN_EDGES],
			   struct mn_proxy_values *out, char *err, size_t errn)
{
	const struct mn_tenas_config *cfg = mn_tenas_get_config(t);
	struct extra *e = extra_of(t, err, errn);
	if (!e)
		return -1;
	if (mn_net_set_mask(e->net, mask)) {
		snprintf(err, errn, "proxy network: bad mask");
		return -1;
	}
	double az[3];
	if (az_average(e, cfg, seed, az, err, errn))
		return -1; /* no cancel flag is set here */
	for (int p = 0; p < MN_PROXY_COUNT; p++)
		out->v[p] = NAN;
	struct mn_net_shape shape = MN_SHAPE_DEFAULT;
	struct mn_cost cost;
	mn_cost_mask(mask, &shape, &cost);
	put_estimate(out, az, &cost);
	return 0;
}

/* The estimate's four of arch a into out: AZ-NAS's three of its function
 * class, from memo or measured on the class's representative (proxy_set.h),
 * and the FLOPs of a itself.  0, 1 when cancelled, -1 with err. */
static int estimate_of(struct extra *e, const struct mn_tenas_config *cfg, struct mn_az_memo *memo,
		       uint64_t seed, const struct mn_arch *a, struct mn_proxy_values *out, char *err,
		       size_t errn)
{
	int cls = e->rep[mn_arch_to_index(a)], rc = 0;
	double az[3];
	if (!mn_az_memo_get(memo, seed, cls, az)) {
		struct mn_arch ra;
		mn_arch_from_index(cls, &ra);
		if (mn_net_set_arch(e->net, &ra)) {
			snprintf(err, errn, "proxy network: bad arch");
			return -1;
		}
		if ((rc = az_average(e, cfg, seed, az, err, errn)) != 0)
			return rc;
		mn_az_memo_put(memo, seed, cls, az);
	}
	struct mn_net_shape shape = MN_SHAPE_DEFAULT;
	struct mn_cost cost;
	mn_cost_arch(a, &shape, &cost);
	put_estimate(out, az, &cost);
	return 0;
}

int mn_proxy_score_arch_shared(struct mn_tenas *t, struct mn_az_memo *memo, uint64_t seed,
			       const struct mn_arch *a, const atomic_int *cancel,
			       struct mn_proxy_values *out, char *err, size_t errn)
{
	static const int others[3] = {MN_PROXY_NWOT, MN_PROXY_SWAP, MN_PROXY_ZICO};
	const struct mn_tenas_config *cfg = mn_tenas_get_config(t);
	int rc = mn_tenas_score_arch(t, seed, a, cancel, &out->v[MN_PROXY_NTK_COND],
				     &out->v[MN_PROXY_LINEAR_REGIONS], err, errn);
	if (rc)
		return rc;
	struct extra *e = extra_of(t, err, errn);
	if (!e)
		return -1;
	/* the flag is polled only during this call */
	mn_net_set_cancel(e->net, cancel);
	rc = estimate_of(e, cfg, memo, seed, a, out, err, errn);
	double sum[3] = {0}, v[MN_PROXY_COUNT];
	if (rc == 0 && cfg->all_proxies && mn_net_set_arch(e->net, a)) {
		snprintf(err, errn, "proxy network: bad arch");
		rc = -1;
	}
	for (int r = 0; r < cfg->repeat && rc == 0 && cfg->all_proxies; r++) {
		rc = others_repeat(e, mn_tenas_data(t), seed, r, v, err, errn);
		for (int k = 0; k < 3 && rc == 0; k++)
			sum[k] += v[others[k]];
	}
	mn_net_set_cancel(e->net, NULL);
	if (rc)
		return rc;
	for (int k = 0; k < 3; k++)
		out->v[others[k]] = cfg->all_proxies ? sum[k] / cfg->repeat : NAN;
	return 0;
}

int mn_proxy_score_estimate(struct mn_tenas *t, struct mn_az_memo *memo, uint64_t seed,
			    const struct mn_arch *a, struct mn_proxy_values *out, char *err,
			    size_t errn)
{
	struct extra *e = extra_of(t, err, errn);
	if (!e)
		return -1;
	for (int p = 0; p < MN_PROXY_COUNT; p++)
		out->v[p] = NAN;
	return estimate_of(e, mn_tenas_get_config(t), memo, seed, a, out, err, errn) ? -1 : 0;
}

int mn_proxy_score_arch(struct mn_tenas *t, uint64_t seed, const struct mn_arch *a,
			const atomic_int *cancel, struct mn_proxy_values *out, char *err, size_t errn)
{
	return mn_proxy_score_arch_shared(t, NULL, seed, a, cancel, out, err, errn);
}
