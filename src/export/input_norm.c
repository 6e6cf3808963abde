/* Reading and applying the weights' input normalisation; see input_norm.h. */
#include "export/input_norm.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include "data/dataset.h"
#include "export/safetensors.h"

/* `channels` numbers separated by commas from text into out; 0 or -1. */
static int parse_list(const char *text, int channels, double *out)
{
	const char *p = text;
	for (int c = 0; c < channels; c++) {
		char *end;
		errno = 0;
		out[c] = strtod(p, &end);
		if (end == p || errno || !isfinite(out[c]))
			return -1;
		p = end;
		if (c + 1 < channels) {
			if (*p != ',')
				return -1;
			p++;
		}
	}
	return *p == '\0' ? 0 : -1;
}

int mn_input_norm_read(struct mn_input_norm *n, const struct mn_safetensors *st, int channels,
		       const char *label, char *err, size_t errn)
{
	char shown[80];
	memset(n, 0, sizeof *n);
	const char *m = mn_st_meta_get(st, "input_mean"), *s = mn_st_meta_get(st, "input_std");
	if (!m && !s)
		return 0;
	const char *bad = !m ? "input_mean" : !s ? "input_std" : NULL;
	if (bad) {
		snprintf(err, errn, "%s: the metadata has %s but no %s (write the weights again with model.py's save_weights)",
			 label, m ? "input_mean" : "input_std", bad);
		return -1;
	}
	n->mean = malloc(sizeof(double) * (size_t)channels);
	n->std = malloc(sizeof(double) * (size_t)channels);
	if (!n->mean || !n->std) {
		mn_input_norm_free(n);
		snprintf(err, errn, "%s: out of memory for the input normalisation", label);
		return -1;
	}
	int mean_ok = parse_list(m, channels, n->mean) == 0;
	int std_ok = mean_ok && parse_list(s, channels, n->std) == 0;
	for (int c = 0; std_ok && c < channels; c++)
		std_ok = n->std[c] > 0;
	if (!std_ok) {
		/* the first bad key: the mean's, else the std's */
		snprintf(err, errn, "%s: metadata %s '%s' is not %d finite numbers separated by commas%s (write the weights again with model.py's save_weights, or export with the data's --input-channels)",
			 label, mean_ok ? "input_std" : "input_mean",
			 mn_st_printable(mean_ok ? s : m, shown, sizeof shown), channels,
			 mean_ok ? ", each above 0" : "");
		mn_input_norm_free(n);
		return -1;
	}
	n->channels = channels;
	return 0;
}

static int close_to(double a, double b)
{
	return fabs(a - b) <= 1e-6 * fmax(fabs(a), fabs(b)) + 1e-12;
}

int mn_input_norm_apply(const struct mn_input_norm *n, struct mn_dataset *d, int *same, char *err,
			size_t errn)
{
	if (d->channels != n->channels) {
		snprintf(err, errn, "the weights' input normalisation has %d channels, the data %d (give data of the network's input channels)",
			 n->channels, d->channels);
		return -1;
	}
	*same = 1;
	for (int c = 0; c < n->channels; c++)
		if (!close_to(d->mean[c], n->mean[c]) || !close_to(d->std[c], n->std[c]))
			*same = 0;
	return mn_dataset_set_stats(d, n->mean, n->std, err, errn);
}

void mn_input_norm_free(struct mn_input_norm *n)
{
	free(n->mean);
	free(n->std);
	memset(n, 0, sizeof *n);
}
