/* The accuracy estimate of a population of archs: the rank aggregation of
 * AZ-NAS (Lee & Ham, CVPR 2024, Sec. 3.5): each proxy in the estimate ranks
 * the population (rank m = best of m), and an arch's estimate is the sum
 * over those proxies of log(rank / m), equal weights.  So the estimate is
 * relative to the population it is computed in (the atlas, or the archs
 * given to `score`): 0 is best-by-every-proxy, more negative is worse. */
#ifndef MN_ESTIMATE_H
#define MN_ESTIMATE_H

#include <stddef.h>

#include "proxy/proxy_set.h"

/* est[i] for pop[i], i < n, over the proxies whose in_estimate flag is set.
 * Ties share their average rank; a NaN value ranks worst.  0, or -1 (no
 * memory, n == 0). */
int mn_estimate(const struct mn_proxy_values *pop, size_t n, double *est);

#endif
