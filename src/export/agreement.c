/* int8 against float on the host; see agreement.h. */
#include "export/agreement.h"

#include <stdlib.h>
#include <string.h>

#include "export/calibrate.h"
#include "util/pool.h"

struct agree_run {
	const struct mn_qmodel *q;
	const struct mn_fnet *f;
	const struct mn_dataset *d;
	size_t first;
	size_t base; /* the chunk's first image, counted from first */
	int keep;
	int8_t *imgs;
	int32_t *logits;
	int *top1_float, *top1_int8; /* [n]; -1 where a run failed (out of memory) */
};

int mn_agreement_image(const struct mn_qmodel *q, const struct mn_fnet *f, const struct mn_dataset *d,
		       size_t idx, float *x, float *fl, int8_t *img, int32_t *ql)
{
	mn_calib_image(d, idx, &f->shape, x);
	if (mn_fnet_forward(f, x, fl, NULL) != 0)
		return -1;
	mn_qmodel_quantize_input(q, x, img);
	return mn_qmodel_run(q, img, ql);
}

static void run_images(void *ctx, size_t lo, size_t hi)
{
	struct agree_run *r = ctx;
	const struct mn_net_shape *s = &r->f->shape;
	size_t ib = mn_shape_input_values(s);
	int K = s->classes;
	float *x = malloc(sizeof(float) * ib), *fl = malloc(sizeof(float) * (size_t)K);
	int8_t *img = malloc(ib);
	int32_t *ql = malloc(sizeof(int32_t) * (size_t)K);
	for (size_t i = r->base + lo; i < r->base + hi; i++) {
		r->top1_float[i] = r->top1_int8[i] = -1;
		if (!x || !fl || !img || !ql)
			continue;
		int kept = i < (size_t)r->keep;
		int8_t *qi = kept ? r->imgs + i * ib : img;
		int32_t *lg = kept ? r->logits + i * (size_t)K : ql;
		if (mn_agreement_image(r->q, r->f, r->d, r->first + i, x, fl, qi, lg) != 0)
			continue;
		r->top1_float[i] = mn_argmax_f(fl, K);
		r->top1_int8[i] = mn_argmax_i(lg, K);
	}
	free(x), free(fl), free(img), free(ql);
}

int mn_agreement_run(const struct mn_qmodel *q, const struct mn_fnet *f, const struct mn_dataset *d,
		     size_t first, int n, int threads, int keep, int8_t *imgs, int32_t *logits,
		     int (*stop)(void *), void *ctx, struct mn_agreement *a)
{
	memset(a, 0, sizeof *a);
	if (first >= d->count || n < 0)
		n = 0;
	else if ((size_t)n > d->count - first)
		n = (int)(d->count - first);
	keep = keep < 0 ? 0 : (keep > n ? n : keep);
	if (n == 0)
		return 0;
	threads = mn_threads_or_all(threads);
	int *top1 = malloc(sizeof(int) * 2 * (size_t)n);
	if (!top1)
		return -1;
	struct agree_run r = {q, f, d, first, 0, keep, imgs, logits, top1, top1 + n};
	struct mn_pool *pool = mn_pool_create(threads > n ? n : threads); /* NULL: here alone */
	/* In chunks of 16 images a thread, asking stop between them (on this
	 * thread: it is the one a pending signal shows on). */
	size_t chunk = 16 * (size_t)mn_pool_size(pool);
	int rc = 0;
	for (r.base = 0; r.base < (size_t)n; r.base += chunk) {
		if (stop && stop(ctx)) {
			mn_pool_free(pool);
			free(top1);
			return 1;
		}
		size_t m = (size_t)n - r.base < chunk ? (size_t)n - r.base : chunk;
		mn_par_for(pool, m, run_images, &r);
	}
	mn_pool_free(pool);
	for (int i = 0; i < n && rc == 0; i++) {
		int pf = r.top1_float[i], pq = r.top1_int8[i];
		if (pf < 0 || pq < 0) {
			rc = -1;
			break;
		}
		a->images++;
		a->agree += pf == pq;
		if (!d->synthetic && d->labels) {
			int32_t y = d->labels[first + (size_t)i];
			a->labelled++;
			a->correct_float += pf == y;
			a->correct_int8 += pq == y;
		}
	}
	free(top1);
	if (rc)
		memset(a, 0, sizeof *a);
	return rc;
}
