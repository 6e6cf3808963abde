/* How precisely a count of k successes in n trials gives the rate: the
 * Wilson score interval (Wilson 1927; Brown, Cai and DasGupta 2001 advise
 * it over the plain p +- z sqrt(p(1-p)/n), which collapses to a point at
 * k = n and leaves [0, 1] near it).  Used where micronas reports an
 * agreement over a few hundred images: 587/596 = 98.49% is 97.2-99.2% at
 * 95%, so a 99% target is not told apart from it by those images. */
#ifndef MN_PROPORTION_H
#define MN_PROPORTION_H

#include <stddef.h>

/* The two-sided 95% normal quantile the interval uses. */
#define MN_Z95 1.959963984540054

/* [lo, hi] for k of n at the normal quantile z (MN_Z95 for 95%), within
 * [0, 1].  Returns 0, or -1 (lo = hi = NaN) when n < 1, k < 0, k > n or
 * z is not positive. */
int mn_wilson_interval(long k, long n, double z, double *lo, double *hi);

/* The 95% interval of k of n as text, "97.2-99.2%" (percent, one
 * decimal), into buf; 0, or -1 (buf "") when mn_wilson_interval refuses. */
int mn_wilson95_text(long k, long n, char *buf, size_t len);

#endif
