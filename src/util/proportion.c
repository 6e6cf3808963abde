#include "util/proportion.h"

#include <math.h>
#include <stdio.h>

int mn_wilson_interval(long k, long n, double z, double *lo, double *hi)
{
	if (n < 1 || k < 0 || k > n || !(z > 0)) {
		*lo = *hi = NAN;
		return -1;
	}
	/* centre (p + z^2/2n) / (1 + z^2/n),
	 * half width z sqrt(p(1-p)/n + z^2/4n^2) / (1 + z^2/n) */
	double nn = (double)n, p = (double)k / nn, z2 = z * z;
	double d = 1.0 + z2 / nn;
	double c = (p + z2 / (2.0 * nn)) / d;
	double h = z * sqrt(p * (1.0 - p) / nn + z2 / (4.0 * nn * nn)) / d;
	/* At k = 0 and k = n the bound is exactly 0 or 1 (c - h or c + h
	 * in exact arithmetic); rounding would leave 1 - 1e-16. */
	*lo = k == 0 ? 0.0 : fmax(0.0, c - h);
	*hi = k == n ? 1.0 : fmin(1.0, c + h);
	return 0;
}

int mn_wilson95_text(long k, long n, char *buf, size_t len)
{
	double lo, hi;
	if (len)
		buf[0] = '\0';
	if (mn_wilson_interval(k, n, MN_Z95, &lo, &hi) != 0)
		return -1;
	snprintf(buf, len, "%.1f-%.1f%%", 100.0 * lo, 100.0 * hi);
	return 0;
}
