#include "proxy/estimate.h"

#include <math.h>
#include <stdlib.h>

#include "util/rankstat.h"

int mn_estimate(const struct mn_proxy_values *pop, size_t n, double *est)
{
	if (n == 0)
		return -1;
	double *v = malloc(n * sizeof *v), *rank = malloc(n * sizeof *rank);
	if (!v || !rank) {
		free(v);
		free(rank);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		est[i] = 0;
	for (int p = 0; p < MN_PROXY_COUNT; p++) {
		const struct mn_proxy_info *info = mn_proxy_info((enum mn_proxy_id)p);
		if (!info->in_estimate)
			continue;
		/* Orient so that larger is better; NaN goes below everything. */
		for (size_t i = 0; i < n; i++) {
			double x = pop[i].v[p];
			v[i] = isnan(x) ? -INFINITY : info->higher_is_better ? x : -x;
		}
		if (mn_rank_average(v, n, rank)) {
			free(v);
			free(rank);
			return -1;
		}
		/* rank 1 = worst, n = best: log(rank / n) <= 0. */
		for (size_t i = 0; i < n; i++)
			est[i] += log(rank[i] / (double)n);
	}
	free(v);
	free(rank);
	return 0;
}
