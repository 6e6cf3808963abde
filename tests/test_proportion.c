/* The Wilson score interval against values worked out by hand, its
 * mirror symmetry, its refusals, and its coverage computed exactly from
 * the binomial distribution. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "util/proportion.h"
#include "tap.h"

static int near(double a, double b, double tol) { return fabs(a - b) < tol; }

static void test_hand_values(void)
{
	double lo, hi;
	/* k = n: p = 1, so the half width is (z^2/2n)/d and lo = 1/d =
	 * n / (n + z^2); hi = 1. */
	int rc = mn_wilson_interval(10, 10, MN_Z95, &lo, &hi);
	tap_ok(rc == 0 &&
		   near(lo, 10.0 / (10.0 + MN_Z95 * MN_Z95), 1e-12) && hi == 1.0,
	   "10/10: [n/(n+z^2), 1] = [%.6f, %.6f]", lo, hi);
	/* k = 0: [0, z^2 / (n + z^2)]. */
	rc = mn_wilson_interval(0, 20, MN_Z95, &lo, &hi);
	tap_ok(rc == 0 && lo == 0.0 &&
		   near(hi, MN_Z95 * MN_Z95 / (20.0 + MN_Z95 * MN_Z95), 1e-12),
	   "0/20: [0, z^2/(n+z^2)] = [%.6f, %.6f]", lo, hi);
	/* 587/596 (bench_export's agreement): centre (p + z^2/2n)/d =
	 * 0.981794, half width 0.010241 (the two formulas evaluated apart
	 * from this code). */
	rc = mn_wilson_interval(587, 596, MN_Z95, &lo, &hi);
	tap_ok(rc == 0 && near(lo, 0.971552, 2e-6) &&
		   near(hi, 0.992036, 2e-6),
	   "587/596: [%.6f, %.6f], not the plain interval's [%.6f, %.6f]", lo, hi,
	   587.0 / 596 - MN_Z95 * sqrt(587.0 / 596 * 9 / 596 / 596),
	   587.0 / 596 + MN_Z95 * sqrt(587.0 / 596 * 9 / 596 / 596));
	/* k = n/2: centred on 1/2. */
	rc = mn_wilson_interval(50, 100, MN_Z95, &lo, &hi);
	tap_ok(rc == 0 && near(lo + hi, 1.0, 1e-12) &&
		   lo > 0.40 && hi < 0.60,
	   "50/100: symmetric about 1/2, [%.4f, %.4f]", lo, hi);
}

static void test_text(void)
{
	char b[32] = "x";
	int rc = mn_wilson95_text(587, 596, b, sizeof b);
	tap_ok(rc == 0 && !strcmp(b, "97.2-99.2%"), "587/596 as text: '%s'", b);
	rc = mn_wilson95_text(1, 0, b, sizeof b);
	tap_ok(rc == -1 && b[0] == '\0', "0 images: -1 and no text");
}

static void test_mirror(void)
{
	int bad = 0;
	for (long n = 1; n <= 40; n++)
		for (long k = 0; k <= n; k++) {
			double lo, hi, lo2, hi2;
			if (mn_wilson_interval(k, n, MN_Z95, &lo, &hi) != 0 ||
			    mn_wilson_interval(n - k, n, MN_Z95, &lo2, &hi2) != 0 ||
			    !near(lo, 1.0 - hi2, 1e-12) || !near(hi, 1.0 - lo2, 1e-12) ||
			    !(lo <= (double)k / n && (double)k / n <= hi))
				bad++;
		}
	tap_ok(bad == 0, "k of n and n-k of n mirror each other and hold k/n, n = 1..40 (%d bad)", bad);
}

static void test_refusals(void)
{
	double lo = 0, hi = 0;
	tap_ok(mn_wilson_interval(1, 0, MN_Z95, &lo, &hi) == -1 && isnan(lo) && isnan(hi),
	   "n = 0 is refused (NaN)");
	tap_ok(mn_wilson_interval(5, 4, MN_Z95, &lo, &hi) == -1, "k > n is refused");
	tap_ok(mn_wilson_interval(-1, 4, MN_Z95, &lo, &hi) == -1, "k < 0 is refused");
	tap_ok(mn_wilson_interval(1, 4, 0.0, &lo, &hi) == -1, "z = 0 is refused");
	tap_ok(mn_wilson_interval(1, 4, NAN, &lo, &hi) == -1, "z = NaN is refused");
}

/* The chance that the interval holds the true rate p, summed exactly over
 * the binomial distribution of k. */
static double coverage(long n, double p)
{
	double c = 0;
	for (long k = 0; k <= n; k++) {
		double lo, hi;
		mn_wilson_interval(k, n, MN_Z95, &lo, &hi);
		double logpmf = lgamma(n + 1.0) - lgamma(k + 1.0) - lgamma(n - k + 1.0) +
				k * log(p) + (n - k) * log1p(-p);
		if (lo <= p && p <= hi)
			c += exp(logpmf);
	}
	return c;
}

static void test_coverage(void)
{
	/* Brown, Cai and DasGupta (2001): the Wilson interval's coverage
	 * oscillates about 95%, dipping a few points near p = 0 or 1 at small
	 * n (0.921 at n = 100, p = 0.99 here), where the plain interval's
	 * falls far short. */
	const long ns[] = {100, 596};
	const double ps[] = {0.5, 0.9, 0.985, 0.99};
	for (int a = 0; a < 2; a++)
		for (int b = 0; b < 4; b++) {
			double c = coverage(ns[a], ps[b]);
			tap_ok(c > 0.90 && c < 0.99, "coverage at n = %ld, p = %.3f: %.4f (near 0.95)", ns[a],
			   ps[b], c);
		}
}

int main(void)
{
	test_hand_values();
	test_text();
	test_mirror();
	test_refusals();
	test_coverage();
	return tap_done();
}
