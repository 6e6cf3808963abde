/* Random folded weights for the int8 deployment tests: see rand_weights.h. */
#include "rand_weights.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "export/safetensors.h"

int rand_weights_make(struct rand_weights *w, const struct mn_arch *a, const struct mn_net_shape *s,
		      struct mn_rng *rng)
{
	memset(w, 0, sizeof *w);
	int n = mn_weights_spec(a, s, NULL, 0);
	if (n <= 0)
		return -1;
	w->spec = calloc((size_t)n, sizeof *w->spec);
	w->out = calloc((size_t)n, sizeof *w->out);
	if (!w->spec || !w->out) {
		rand_weights_free(w);
		return -1;
	}
	mn_weights_spec(a, s, w->spec, n);
	for (int i = 0; i < n; i++) {
		const struct mn_wspec *sp = &w->spec[i];
		size_t e = 1;
		for (int d = 0; d < sp->ndim; d++)
			e *= (size_t)sp->shape[d], w->out[i].shape[d] = sp->shape[d];
		float *v = malloc(sizeof(float) * e);
		if (!v) {
			rand_weights_free(w);
			return -1;
		}
		double fan = sp->ndim == 4 ? (double)(sp->shape[1] * sp->shape[2] * sp->shape[3])
			     : sp->ndim == 2 ? (double)sp->shape[1] : 0;
		for (size_t j = 0; j < e; j++) {
			double u = 2 * mn_rng_uniform(rng) - 1;
			v[j] = (float)(fan > 0 ? u * 1.7 / sqrt(fan)
				       : !strcmp(sp->name, "lastact.weight") ? 1 + 0.3 * u : 0.1 * u);
		}
		w->out[i].name = sp->name;
		w->out[i].ndim = sp->ndim;
		w->out[i].data = v;
		/* Counted as it is filled: free releases only what was made. */
		w->n = i + 1;
	}
	return 0;
}

int rand_weights_bind(const struct rand_weights *w, const char *path, const struct mn_arch *a,
		      const struct mn_net_shape *s, struct mn_fnet *f, char *err, size_t errn)
{
	char tmp[] = "/tmp/mn_weights_XXXXXX";
	if (!path) {
		int fd = mkstemp(tmp);
		if (fd < 0) {
			snprintf(err, errn, "cannot make a temporary file in /tmp");
			return -1;
		}
		close(fd);
	}
	const char *p = path ? path : tmp;
	struct mn_safetensors st;
	int rc = -1;
	if (mn_st_write(p, w->out, (size_t)w->n, NULL, 0, err, errn) == 0 &&
	    mn_st_read(&st, p, err, errn) == 0) {
		rc = mn_fnet_bind(f, &st, a, s, err, errn) == 0 ? 0 : -1;
		mn_st_free(&st);
	}
	if (!path)
		remove(tmp);
	return rc;
}

void rand_weights_free(struct rand_weights *w)
{
	for (int i = 0; i < w->n; i++)
		free((void *)w->out[i].data);
	free(w->out);
	free(w->spec);
	memset(w, 0, sizeof *w);
}
