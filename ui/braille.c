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

void plot_frame_init(struct plot_frame *f, int w, int h, int max_w, int max_h, int utf8)
{
	f->w = w < max_w ? w : max_w;
	f->h = h < max_h ? h : max_h;
	f->sub_x = utf8 ? 2 : 1;
	f->sub_y = utf8 ? 4 : 1;
	f->x0 = f->y0 = INFINITY;
	f->x1 = f->y1 = -INFINITY;
}

void plot_frame_take(struct plot_frame *f, double x, double y)
{
	f->x0 = fmin(f->x0, x);
	f->x1 = fmax(f->x1, x);
	f->y0 = fmin(f->y0, y);
	f->y1 = fmax(f->y1, y);
}

int plot_frame_dot(const struct plot_frame *f, double x, double y, int *px, int *py)
{
	if (!isfinite(x) || !isfinite(y))
		return 0;
	int W = f->w * f->sub_x, H = f->h * f->sub_y;
	double fx = (x - f->x0) / (f->x1 - f->x0), fy = (f->y1 - y) / (f->y1 - f->y0);
	if (fx < 0 || fx > 1 || fy < 0 || fy > 1)
		return 0;
	*px = (int)(fx * (W - 1) + 0.5);
	*py = (int)(fy * (H - 1) + 0.5);
	return 1;
}
