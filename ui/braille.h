/* Braille-dot plotting shared by the TUI's plots (the candidates' plot and
 * the atlas scatter): each terminal cell holds 2 x 4 dots, one Unicode
 * braille character (U+2800 + the dot bits); on a terminal without UTF-8
 * a cell is one dot.  The plot's frame (its cells, dots and data range)
 * and the mapping of data to dots are the same in both plots. */
#ifndef TUI_BRAILLE_H
#define TUI_BRAILLE_H

/* The bit of the dot at (column bx 0..1, row by 0..3) of a cell, in
 * Unicode's numbering. */
unsigned char braille_bit(int bx, int by);

/* The UTF-8 bytes of the braille character with these dot bits. */
void braille_utf8(unsigned bits, char out[4]);

/* Widens [*lo, *hi] by frac of its length on each side, so that the
 * extremes are not drawn on the frame; an empty range first gets a length
 * of empty_frac x |*lo| (1 when *lo is 0). */
void plot_pad_range(double *lo, double *hi, double frac, double empty_frac);

/* A plot's drawing area: w x h cells of sub_x x sub_y dots, showing the
 * data range x0..x1 (left to right) by y0..y1 (bottom to top). */
struct plot_frame {
	int w, h;              /* cells */
	int sub_x, sub_y;      /* dots per cell */
	double x0, x1, y0, y1; /* data range */
};

/* f for w x h cells, cut to max_w x max_h (the callers' arrays), dots for
 * a UTF-8 terminal or not, and an empty range for plot_frame_take. */
void plot_frame_init(struct plot_frame *f, int w, int h, int max_w, int max_h, int utf8);

/* Widens f's range to hold (x, y). */
void plot_frame_take(struct plot_frame *f, double x, double y);

/* Data to dot coordinates (0..w*sub_x-1, 0..h*sub_y-1, y down), rounded
 * to the nearest dot; 0 when outside the range or not finite. */
int plot_frame_dot(const struct plot_frame *f, double x, double y, int *px, int *py);

#endif
