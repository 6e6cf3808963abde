#include "braille.h"

#include <math.h>

unsigned char braille_bit(int bx, int by)
{
	static const unsigned char bit[4][2] = {{0x01, 0x08}, {0x02, 0x10}, {0x04, 0x20}, {0x40, 0x80}};
	return bit[by & 3][bx & 1];
}

void braille_utf8(unsigned bits, char out[4])
{
	unsigned cp = 0x2800u + (bits & 0xffu);
	out[0] = (char)(0xe0 | (cp >> 12));
	out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[2] = (char)(0x80 | (cp & 0x3f));
	out[3] = '\0';
}

void plot_pad_range(double *lo, double *hi, double frac, double empty_frac)
{
	double d = *hi - *lo;
	if (d <= 0)
		d = fabs(*lo) > 0 ? fabs(*lo) * empty_frac : 1;
	*lo -= d * frac;
	*hi += d * frac;
}
