/* Calibration; see calibrate.h. */
#include "export/calibrate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/cifar.h"
#include "export/fnet.h"
#include "util/pool.h"
#include "util/rng.h"

void mn_calib_image(const struct mn_dataset *d, size_t i, const struct mn_net_shape *s, float *x)
{
	int H = s->height, W = mn_shape_width(s), C = mn_shape_input_channels(s);
	if (d->height == H && d->width == W && d->channels == C) {
		for (int c = 0; c < C; c++)
			for (int y = 0; y < H; y++)
				for (int xx = 0; xx < W; xx++)
					x[((size_t)c * H + y) * W + xx] = mn_dataset_value(d, i, c, y, xx);
		return;
	}
	/* CIFAR-10's statistics for the generated pixels, channel by channel
	 * in turn when there are not three */
	struct mn_rng r;
	mn_rng_seed(&r, 0x1234 + i);
	for (int c = 0; c < C; c++)
		for (int j = 0; j < H * W; j++)
			x[(size_t)c * H * W + j] =
				mn_cifar_normalize(c % 3, (unsigned char)mn_rng_below(&r, 256));
}

float mn_calib_mse_range(const double *hist, int bins, float hist_max)
{
	/* Suffix sums of n, n v and n v^2 over the bins above a candidate. */
	double s0 = 0, s1 = 0, s2 = 0, in = 0, best = -1;
	double w = (double)hist_max / bins;
	int jbest = bins - 1;
	for (int b = 0; b < bins; b++)
		in += hist[b];
	for (int j = bins - 1; j >= 0; j--) {
		double c = (j + 1) * w, s = c / 127.0;
		double e = in * s * s / 12.0 + s2 - 2.0 * c * s1 + c * c * s0;
		if (best < 0 || e < best)
			best = e, jbest = j;
		double v = (j + 0.5) * w;
		in -= hist[j];
		s0 += hist[j], s1 += hist[j] * v, s2 += hist[j] * v * v;
	}
	return (float)((jbest + 1) * w);
}

void mn_calib_free(struct mn_calib *c)
{
	for (int i = 0; i < c->nconv; i++) {
		if (c->patch_mean)
			free(c->patch_mean[i]);
		if (c->patch_cov)
			free(c->patch_cov[i]);
	}
	free(c->amax), free(c->range), free(c->patch_mean), free(c->patch_cov), free(c->pooled_mean);
	*c = (struct mn_calib){0};
}

/* The calibration images are summed in parts of MN_CALIB_PART images,
 * each part from zero, and the parts' sums added in part order.  The sums
 * whose value depends on their order (the patch means and second moments
 * and the pooled means: float and double additions) are then the same
 * however many threads ran the parts, so deploy and validate --weights
 * make the same model, byte for byte, whatever their thread counts (on
 * one computer: another BLAS may round the sums otherwise).  The parts run a
 * wave at a time, one part per thread into that thread's own sums; between
 * waves the caller adds them into the totals, in part order.  (The largest
 * magnitudes and the histogram counts do not depend on the order.) */
#define MN_CALIB_PART 16

/* One thread's sums over its part of a wave. */
struct calib_part {
	float *amax;   /* [slots] */
	double *hist;  /* [slots][MN_HIST_BINS] */
	double **psum; /* [convs], each NULL or [K] */
	float **pcov;  /* [convs], each NULL or [K][K] */
	double *pooled; /* [4C] */
	float *x, *lg;  /* the image, the logits */
	int images;    /* run in this wave: 0 when the wave had no part for it */
	int failed;    /* out of memory in the forward */
};

struct calib_run {
	const struct mn_fnet *f;
	const struct mn_dataset *d;
	int n, pass, wave0; /* images; 0 the magnitudes, 1 the rest; the wave's first part */
	const float *hist_max;
	struct calib_part *part; /* [threads] */
	size_t *K;               /* [convs]: patch length, 0 for no conv */
	int ns, nc, cf;
};

static void part_free(struct calib_part *p, int nc)
{
	for (int i = 0; i < nc; i++) {
		if (p->psum)
			free(p->psum[i]);
		if (p->pcov)
			free(p->pcov[i]);
	}
	free(p->amax), free(p->hist), free(p->psum), free(p->pcov), free(p->pooled), free(p->x),
		free(p->lg);
}

static int part_alloc(struct calib_part *p, const struct calib_run *r, size_t in, int classes)
{
	memset(p, 0, sizeof *p);
	p->amax = calloc((size_t)r->ns, sizeof *p->amax);
	p->hist = calloc((size_t)r->ns * MN_HIST_BINS, sizeof *p->hist);
	p->psum = calloc((size_t)r->nc, sizeof *p->psum);
	p->pcov = calloc((size_t)r->nc, sizeof *p->pcov);
	p->pooled = calloc((size_t)r->cf, sizeof *p->pooled);
	p->x = malloc(sizeof(float) * in);
	p->lg = malloc(sizeof(float) * (size_t)classes);
	if (!p->amax || !p->hist || !p->psum || !p->pcov || !p->pooled || !p->x || !p->lg)
		return -1;
	for (int i = 0; i < r->nc; i++)
		if (r->K[i] && (!(p->psum[i] = malloc(r->K[i] * sizeof(double))) ||
				!(p->pcov[i] = malloc(r->K[i] * r->K[i] * sizeof(float)))))
			return -1;
	return 0;
}

/* Thread t of T runs part wave0 + t, if there is one, into part[t]. */
static void run_part(void *ctx, int t, int T)
{
	(void)T;
	struct calib_run *r = ctx;
	struct calib_part *p = &r->part[t];
	int i0 = (r->wave0 + t) * MN_CALIB_PART, i1 = i0 + MN_CALIB_PART;
	p->images = 0;
	if (i0 >= r->n)
		return;
	if (i1 > r->n)
		i1 = r->n;
	struct mn_fnet_obs o = {0};
	if (r->pass == 0) {
		memset(p->amax, 0, sizeof(float) * (size_t)r->ns);
		o.amax = p->amax;
	} else {
		memset(p->hist, 0, sizeof(double) * (size_t)r->ns * MN_HIST_BINS);
		memset(p->pooled, 0, sizeof(double) * (size_t)r->cf);
		for (int i = 0; i < r->nc; i++)
			if (r->K[i]) {
				memset(p->psum[i], 0, r->K[i] * sizeof(double));
				memset(p->pcov[i], 0, r->K[i] * r->K[i] * sizeof(float));
			}
		o.hist = p->hist, o.hist_max = r->hist_max, o.patch_sum = p->psum,
		o.patch_cov = p->pcov, o.pooled_sum = p->pooled;
	}
	for (int i = i0; i < i1; i++) {
		mn_calib_image(r->d, (size_t)i, &r->f->shape, p->x);
		if (mn_fnet_run(r->f, p->x, p->lg, &o) != 0) {
			p->failed = 1;
			return;
		}
	}
	p->images = i1 - i0;
}

/* Adds p's sums into c's (and hist), as pass r->pass took them. */
static void part_merge(const struct calib_run *r, const struct calib_part *p, struct mn_calib *c,
		       double *hist)
{
	if (r->pass == 0) {
		for (int k = 0; k < r->ns; k++)
			c->amax[k] = p->amax[k] > c->amax[k] ? p->amax[k] : c->amax[k];
		return;
	}
	for (size_t k = 0; k < (size_t)r->ns * MN_HIST_BINS; k++)
		hist[k] += p->hist[k];
	for (int i = 0; i < r->nc; i++)
		if (r->K[i]) {
			for (size_t j = 0; j < r->K[i]; j++)
				c->patch_mean[i][j] += p->psum[i][j];
			for (size_t j = 0; j < r->K[i] * r->K[i]; j++)
				c->patch_cov[i][j] += p->pcov[i][j];
		}
	for (int k = 0; k < r->cf; k++)
		c->pooled_mean[k] += p->pooled[k];
}

/* mn_calib_collect, asking stop between waves: 1 when stopped (c then
 * holds nothing). */
static int collect(struct mn_calib *c, const struct mn_fnet *f, const struct mn_dataset *d, int n,
		   int threads, mn_calib_stop_fn stop, void *ctx, char *err, size_t errn)
{
	const struct mn_net_shape *s = &f->shape;
	int rc = -1;
	int ns = mn_slot_count(s), nc = mn_fconv_count(s), cf = 4 * s->channels;
	*c = (struct mn_calib){0};
	if (n > (int)d->count)
		n = (int)d->count;
	if (n < 0)
		n = 0;
	int parts = (n + MN_CALIB_PART - 1) / MN_CALIB_PART;
	threads = mn_threads_or_all(threads);
	if (threads > parts)
		threads = parts;
	struct mn_pool *pool = mn_pool_create(threads); /* NULL: this thread alone */
	int T = mn_pool_size(pool);
	struct calib_run r = {f, d, n, 0, 0, NULL, NULL, NULL, ns, nc, cf};
	c->images = n, c->nconv = nc;
	c->amax = calloc((size_t)ns, sizeof *c->amax);
	c->range = calloc((size_t)ns, sizeof *c->range);
	c->patch_mean = calloc((size_t)nc, sizeof *c->patch_mean);
	c->patch_cov = calloc((size_t)nc, sizeof *c->patch_cov);
	c->pooled_mean = calloc((size_t)cf, sizeof *c->pooled_mean);
	double *hist = calloc((size_t)ns * MN_HIST_BINS, sizeof *hist);
	r.K = calloc((size_t)nc, sizeof *r.K);
	r.part = calloc((size_t)T, sizeof *r.part);
	if (!c->amax || !c->range || !c->patch_mean || !c->patch_cov || !c->pooled_mean || !hist ||
	    !r.K || !r.part) {
		snprintf(err, errn, "out of memory calibrating");
		goto out;
	}
	for (int i = 0; i < nc; i++) {
		const struct mn_fconv *cv = mn_fnet_conv(f, i);
		size_t K = r.K[i] = cv ? (size_t)cv->cin * cv->k * cv->k : 0;
		if (cv && (!(c->patch_mean[i] = calloc(K, sizeof(double))) ||
			   !(c->patch_cov[i] = calloc(K * K, sizeof(float))))) {
			snprintf(err, errn, "out of memory calibrating");
			goto out;
		}
	}
	for (int t = 0; t < T; t++)
		if (part_alloc(&r.part[t], &r, mn_shape_input_values(s), s->classes) != 0) {
			snprintf(err, errn, "out of memory calibrating");
			goto out;
		}
	/* Pass 1: the largest magnitudes; pass 2: the histograms over them
	 * and the means (sums here). */
	r.hist_max = c->amax;
	for (r.pass = 0; r.pass < 2; r.pass++)
		for (r.wave0 = 0; r.wave0 < parts; r.wave0 += T) {
			if (stop && stop(ctx)) {
				rc = 1;
				goto out;
			}
			mn_par_run(pool, run_part, &r);
			for (int t = 0; t < T; t++) {
				if (r.part[t].failed) {
					snprintf(err, errn, "out of memory in the float forward");
					goto out;
				}
				if (r.part[t].images)
					part_merge(&r, &r.part[t], c, hist);
			}
		}
	for (int k = 0; k < ns; k++)
		c->range[k] = c->amax[k] > 0 ? mn_calib_mse_range(hist + (size_t)k * MN_HIST_BINS,
								   MN_HIST_BINS, c->amax[k])
					     : 0;
	for (int i = 0; i < nc; i++)
		if (c->patch_mean[i]) {
			size_t K = r.K[i];
			for (size_t j = 0; j < K; j++)
				c->patch_mean[i][j] /= n > 0 ? n : 1;
			for (size_t j = 0; j < K * K; j++)
				c->patch_cov[i][j] /= n > 0 ? n : 1;
		}
	for (int k = 0; k < cf; k++)
		c->pooled_mean[k] /= n > 0 ? n : 1;
	rc = 0;
out:
	mn_pool_free(pool);
	if (r.part)
		for (int t = 0; t < T; t++)
			part_free(&r.part[t], nc);
	free(r.part), free(r.K), free(hist);
	if (rc)
		mn_calib_free(c);
	return rc;
}

int mn_calib_collect(struct mn_calib *c, const struct mn_fnet *f, const struct mn_dataset *d,
		     int n, int threads, char *err, size_t errn)
{
	return collect(c, f, d, n, threads, NULL, NULL, err, errn);
}

/* GPTQ's rounding of every conv, shared among threads: thread t of T
 * takes every T-th conv from the costliest (the longest patch) down, so
 * the big last-stage convs spread over the threads. */
struct gptq_run {
	const struct mn_fnet *f;
	const struct mn_calib *c;
	int8_t **rows; /* [convs] */
	int *order;    /* [n]: the convs with a second moment, costliest first */
	int n;
	int *failed;   /* [T] */
};

static void gptq_part(void *ctx, int t, int T)
{
	struct gptq_run *r = ctx;
	for (int j = t; j < r->n; j += T) {
		int i = r->order[j];
		if (mn_gptq_conv(mn_fnet_conv(r->f, i), r->c->patch_cov[i], r->rows[i]) != 0)
			r->failed[t] = 1;
	}
}

static int patch_len(const struct mn_fnet *f, int i)
{
	const struct mn_fconv *c = mn_fnet_conv(f, i);
	return c->cin * c->k * c->k;
}

int mn_calibrate(struct mn_qmodel *q, const struct mn_fnet *f, const struct mn_dataset *d, int n,
		 int threads, char *err, size_t errn)
{
	return mn_calibrate_stoppable(q, f, d, n, threads, NULL, NULL, err, errn);
}

int mn_calibrate_stoppable(struct mn_qmodel *q, const struct mn_fnet *f, const struct mn_dataset *d,
			   int n, int threads, mn_calib_stop_fn stop, void *ctx, char *err, size_t errn)
{
	struct mn_calib c;
	if (errn)
		err[0] = '\0';
	int got = collect(&c, f, d, n, threads, stop, ctx, err, errn);
	if (got != 0)
		return got;
	/* The rounding's one parallel step runs to its end once begun. */
	if (stop && stop(ctx)) {
		mn_calib_free(&c);
		return 1;
	}
	int nc = c.nconv, rc = -1;
	threads = mn_threads_or_all(threads);
	struct gptq_run g = {f, &c, calloc((size_t)nc, sizeof(int8_t *)),
			     malloc(sizeof(int) * (size_t)(nc > 0 ? nc : 1)), 0,
			     calloc((size_t)threads, sizeof(int))};
	struct mn_pool *pool = NULL;
	if (!g.rows || !g.order || !g.failed)
		goto out;
	for (int i = 0; i < nc; i++)
		if (c.patch_cov[i]) {
			const struct mn_fconv *cv = mn_fnet_conv(f, i);
			if (!(g.rows[i] = malloc((size_t)cv->cout * patch_len(f, i))))
				goto out;
			g.order[g.n++] = i;
		}
	/* costliest first: insertion sort on the patch length, stable */
	for (int a = 1; a < g.n; a++)
		for (int b = a; b > 0 && patch_len(f, g.order[b]) > patch_len(f, g.order[b - 1]); b--) {
			int tmp = g.order[b];
			g.order[b] = g.order[b - 1], g.order[b - 1] = tmp;
		}
	pool = mn_pool_create(threads > g.n ? g.n : threads);
	mn_par_run(pool, gptq_part, &g);
	for (int t = 0; t < mn_pool_size(pool); t++)
		if (g.failed[t])
			goto out;
	const struct mn_qcalib qc = {c.range, (const double *const *)c.patch_mean, c.pooled_mean,
				     (const float *const *)c.patch_cov,
				     (const int8_t *const *)g.rows};
	rc = mn_quantize_calib(q, f, &qc);
out:
	if (rc != 0)
		snprintf(err, errn, "out of memory quantizing");
	mn_pool_free(pool);
	for (int i = 0; g.rows && i < nc; i++)
		free(g.rows[i]);
	free(g.rows), free(g.order), free(g.failed);
	mn_calib_free(&c);
	return rc;
}
