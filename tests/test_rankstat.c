/* Kendall tau-b, Spearman rho and TE-NAS's dense ranking, against values
 * worked out by hand and against a plain O(n^2) count. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "util/rankstat.h"
#include "util/rng.h"
#include "tap.h"

static int near(double a, double b) { return fabs(a - b) < 1e-12; }

/* The definition, pair by pair. */
static double tau_b_slow(const double *x, const double *y, size_t n)
{
	double c = 0, d = 0, tx = 0, ty = 0;
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++) {
			double s = (x[i] - x[j]) * (y[i] - y[j]);
			if (x[i] == x[j] && y[i] == y[j])
				continue;
			if (x[i] == x[j])
				tx++;
			else if (y[i] == y[j])
				ty++;
			else if (s > 0)
				c++;
			else
				d++;
		}
	return (c - d) / sqrt((c + d + tx) * (c + d + ty));
}

static void test_hand_values(void)
{
	double tau = 0, rho = 0;
	/* Pairs of x = 1..5 with y = 5 6 7 8 7: 8 concordant, 1 discordant
	 * ((4,8) vs (5,7)), 1 tied in y ((3,7) vs (5,7)): tau-b = 7 /
	 * sqrt(10 * 9). */
	const double x1[] = {1, 2, 3, 4, 5}, y1[] = {5, 6, 7, 8, 7};
	int rc = mn_kendall_tau_b(x1, y1, 5, &tau);
	tap_ok(rc == 0 && near(tau, 7 / sqrt(90.0)), "tau-b with a tie in y = 7/sqrt(90) (%.12f)", tau);
	/* y ranks 1 2 3.5 5 3.5: sum dx dy = 8, sum dx^2 = 10, sum dy^2 = 9.5. */
	rc = mn_spearman_rho(x1, y1, 5, &rho);
	tap_ok(rc == 0 && near(rho, 8 / sqrt(95.0)), "rho with a tie = 8/sqrt(95) (%.12f)", rho);

	/* Ties in both: x = 1 1 2 2 3, y = 1 2 1 2 3.  Concordant: 5,
	 * discordant: 1, tied in x: 2, tied in y: 2: tau-b = 4 / sqrt(8 * 8). */
	const double x2[] = {1, 1, 2, 2, 3}, y2[] = {1, 2, 1, 2, 3};
	rc = mn_kendall_tau_b(x2, y2, 5, &tau);
	tap_ok(rc == 0 && near(tau, 0.5), "tau-b with ties in x and y = 0.5 (%.12f)", tau);
	/* Ranks 1.5 1.5 3.5 3.5 5 and 1.5 3.5 1.5 3.5 5: 5 / 9. */
	rc = mn_spearman_rho(x2, y2, 5, &rho);
	tap_ok(rc == 0 && near(rho, 5 / 9.0), "rho with ties = 5/9 (%.12f)", rho);

	/* A pair tied in both x and y counts in neither denominator term's
	 * numerator: x = 1 1 2, y = 1 1 2: concordant 2, n1 = n2 = n3 = 1:
	 * tau-b = 2 / sqrt(2 * 2) = 1. */
	const double x3[] = {1, 1, 2}, y3[] = {1, 1, 2};
	tap_ok(mn_kendall_tau_b(x3, y3, 3, &tau) == 0 && near(tau, 1.0), "joint tie: tau-b = 1");

	const double up[] = {1, 2, 3, 4}, down[] = {9, 7, 5, 3};
	tap_ok(mn_kendall_tau_b(up, down, 4, &tau) == 0 && near(tau, -1), "reversed: tau-b = -1");
	tap_ok(mn_spearman_rho(up, down, 4, &rho) == 0 && near(rho, -1), "reversed: rho = -1");
	tap_ok(mn_kendall_tau_b(up, up, 4, &tau) == 0 && near(tau, 1), "identical: tau-b = 1");

	const double flat[] = {2, 2, 2, 2};
	tap_ok(mn_kendall_tau_b(up, flat, 4, &tau) == 0 && isnan(tau), "constant y: tau-b is NaN (undefined)");
	tap_ok(mn_spearman_rho(flat, up, 4, &rho) == 0 && isnan(rho), "constant x: rho is NaN");

	const double withnan[] = {1, NAN, 3, 4};
	tap_ok(mn_kendall_tau_b(up, withnan, 4, &tau) != 0, "NaN input refused by tau-b");
	tap_ok(mn_spearman_rho(withnan, up, 4, &rho) != 0, "NaN input refused by rho");
	tap_ok(mn_kendall_tau_b(up, down, 1, &tau) != 0, "n = 1 refused");
}

static void test_ranks(void)
{
	const double v[] = {3.0, 1.0, 3.0, 2.0, 5.0};
	int r[5] = {0};
	double a[5];
	int rc = mn_rank_dense(v, 5, MN_RANK_HIGH_BEST, r);
	tap_ok(rc == 0 && r[0] == 2 && r[1] == 4 && r[2] == 2 && r[3] == 3 &&
		       r[4] == 1,
	       "dense, high best: 3 1 3 2 5 -> 2 4 2 3 1 (%d %d %d %d %d)", r[0], r[1], r[2], r[3], r[4]);
	rc = mn_rank_dense(v, 5, MN_RANK_LOW_BEST, r);
	tap_ok(rc == 0 && r[0] == 3 && r[1] == 1 && r[2] == 3 && r[3] == 2 &&
		       r[4] == 4,
	       "dense, low best: 3 1 3 2 5 -> 3 1 3 2 4 (%d %d %d %d %d)", r[0], r[1], r[2], r[3], r[4]);
	tap_ok(mn_rank_average(v, 5, a) == 0 && a[0] == 3.5 && a[1] == 1 && a[2] == 3.5 && a[3] == 2 && a[4] == 5,
	       "average ranks: 3 1 3 2 5 -> 3.5 1 3.5 2 5");
	/* TE-NAS rounds dK and dR to 3 decimals, so equal values are common:
	 * all equal share rank 1. */
	const double same[] = {0.125, 0.125, 0.125};
	tap_ok(mn_rank_dense(same, 3, MN_RANK_LOW_BEST, r) == 0 && r[0] == 1 && r[1] == 1 && r[2] == 1,
	       "all equal: all rank 1");
	const double inf[] = {INFINITY, -1, 100000};
	tap_ok(mn_rank_dense(inf, 3, MN_RANK_LOW_BEST, r) == 0 && r[0] == 3 && r[1] == 1 && r[2] == 2,
	       "infinities rank as values");
	const double nan[] = {1, NAN};
	tap_ok(mn_rank_dense(nan, 2, MN_RANK_HIGH_BEST, r) != 0 && mn_rank_average(nan, 2, a) != 0, "NaN refused by the rankings");
	tap_ok(mn_rank_dense(v, 0, MN_RANK_HIGH_BEST, r) == 0, "no values: nothing to do");
}

static void test_against_slow(void)
{
	struct mn_rng r;
	mn_rng_seed(&r, 3);
	enum { N = 2000 };
	double *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y);
	int all = 1;
	for (int round = 0; round < 6; round++) {
		/* Few distinct values give many ties; round 0 has none. */
		uint32_t levels = round == 0 ? 0 : 3u << round;
		for (int i = 0; i < N; i++) {
			x[i] = levels ? mn_rng_below(&r, levels) : mn_rng_uniform(&r);
			y[i] = levels ? mn_rng_below(&r, levels) + (x[i] > levels / 2 ? 1 : 0) : x[i] + mn_rng_uniform(&r);
		}
		double fast, slow = tau_b_slow(x, y, N);
		all &= mn_kendall_tau_b(x, y, N, &fast) == 0 && fabs(fast - slow) < 1e-12;
		if (!all)
			tap_diag("round %d: fast %.15f slow %.15f", round, fast, slow);
	}
	tap_ok(all, "tau-b equals the pair-by-pair count on 2000 pairs, with and without ties");
	free(x);
	free(y);

	/* 15625 archs: the O(n log n) path handles the whole space quickly. */
	enum { M = 15625 };
	x = malloc(M * sizeof *x);
	y = malloc(M * sizeof *y);
	for (int i = 0; i < M; i++) {
		x[i] = i % 100;
		y[i] = M - i;
	}
	double tau = 0;
	int rc = mn_kendall_tau_b(x, y, M, &tau);
	double slow = tau_b_slow(x, y, M);
	tap_ok(rc == 0 && fabs(tau - slow) < 1e-12, "15625 values with heavy ties: %.9f, as counted pair by pair", tau);
	free(x);
	free(y);
}

int main(void)
{
	test_hand_values();
	test_ranks();
	test_against_slow();
	return tap_done();
}
