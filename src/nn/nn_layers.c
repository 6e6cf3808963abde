/* Float build of the layers (nn_layers_tmpl.h), plus the shape helpers. */
#include "nn/nn_real.h"
#include "nn/nn_layers_tmpl.h"

int mn_conv_geom_init(struct mn_conv_geom *g, int cin, int cout, int k, int stride, int pad, int h,
		      int w)
{
	if (cin < 1 || cout < 1 || k < 1 || stride < 1 || pad < 0 || h < 1 || w < 1)
		return -1;
	g->cin = cin;
	g->cout = cout;
	g->k = k;
	g->stride = stride;
	g->pad = pad;
	g->h = h;
	g->w = w;
	g->oh = (h + 2 * pad - k) / stride + 1;
	g->ow = (w + 2 * pad - k) / stride + 1;
	if (h + 2 * pad < k || w + 2 * pad < k || g->oh < 1 || g->ow < 1)
		return -1;
	return 0;
}

int mn_conv_ckk(const struct mn_conv_geom *g)
{
	return g->cin * g->k * g->k;
}

int mn_conv_is_pointwise(const struct mn_conv_geom *g)
{
	return g->k == 1 && g->stride == 1 && g->pad == 0;
}
