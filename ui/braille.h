/* Braille-dot plotting shared by the TUI's plots (the candidates' plot and
 * the atlas scatter): each terminal cell holds 2 x 4 dots, one Unicode
 * braille character (U+2800 + the dot bits). */
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

#endif
