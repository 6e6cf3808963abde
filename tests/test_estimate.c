/* The accuracy estimate (estimate.h): AZ-NAS's rank aggregation over the
 * proxies in the estimate, on populations small enough to rank by hand. */
#include <math.h>
#include <string.h>

#include "tap.h"
#include "proxy/estimate.h"

static int near(double a, double b) { return fabs(a - b) <= 1e-12; }

/* A population whose estimate columns are given and others are noise. */
static void fill(struct mn_proxy_values *pop, int n, const double *expr, const double *prog,
		 const double *train, const double *cx)
{
	for (int i = 0; i < n; i++) {
		for (int p = 0; p < MN_PROXY_COUNT; p++)
			pop[i].v[p] = (i * 7919 + p * 31) % 13 - 6.0; /* not in the estimate */
		pop[i].v[MN_PROXY_AZ_EXPRESSIVITY] = expr[i];
		pop[i].v[MN_PROXY_AZ_PROGRESSIVITY] = prog[i];
		pop[i].v[MN_PROXY_AZ_TRAINABILITY] = train[i];
		pop[i].v[MN_PROXY_AZ_COMPLEXITY] = cx[i];
	}
}

int main(void)
{
	struct mn_proxy_values pop[3];
	double est[3];
	double up[3] = {1, 2, 3}, down[3] = {3, 2, 1};
	/* Ranks (1 = worst of 3): expr 1,2,3; prog 3,2,1; train 1,2,3; cx 1,2,3. */
	fill(pop, 3, up, down, up, up);
	tap_ok(mn_estimate(pop, 3, est) == 0, "estimate of 3 archs");
	tap_ok(near(est[0], 3 * log(1 / 3.0)) && near(est[1], 4 * log(2 / 3.0)) && near(est[2], log(1 / 3.0)),
	       "sum of log(rank/m): 3 log(1/3), 4 log(2/3), log(1/3)");
	tap_ok(est[2] > est[1] && est[1] > est[0], "best by three of four ranks first");
	/* Ties share their average rank: expr (5, 5, 1) -> ranks 2.5, 2.5, 1. */
	double tie[3] = {5, 5, 1}, same[3] = {0, 0, 0};
	fill(pop, 3, tie, same, same, same);
	mn_estimate(pop, 3, est);
	double r2 = log(2 / 3.0) * 3; /* three all-tied columns: rank 2 of 3 each */
	tap_ok(near(est[0], log(2.5 / 3) + r2) && near(est[2], log(1 / 3.0) + r2),
	       "ties share the average rank");
	/* A NaN ranks worst; -inf (an identity cell's trainability) too. */
	double nan3[3] = {NAN, 1, 2}, inf3[3] = {0, -INFINITY, 1};
	fill(pop, 3, nan3, inf3, up, up);
	mn_estimate(pop, 3, est);
	tap_ok(near(est[0], log(1 / 3.0) + log(2 / 3.0) + 2 * log(1 / 3.0)) &&
		       near(est[1], log(2 / 3.0) + log(1 / 3.0) + 2 * log(2 / 3.0)),
	       "NaN and -inf rank worst");
	/* Columns outside the estimate do not move it. */
	fill(pop, 3, up, down, up, up);
	double before[3];
	mn_estimate(pop, 3, before);
	pop[0].v[MN_PROXY_NTK_COND] = 1e300;
	pop[2].v[MN_PROXY_SWAP] = NAN;
	mn_estimate(pop, 3, est);
	tap_ok(!memcmp(before, est, sizeof est), "proxies outside the estimate do not move it");
	tap_ok(mn_estimate(pop, 0, est) == -1, "an empty population is refused");
	/* One arch: rank 1 of 1 everywhere: 0. */
	tap_ok(mn_estimate(pop, 1, est) == 0 && est[0] == 0, "a population of one: 0");
	return tap_done();
}
