/* The per-block vector-Jacobian product and AZ-NAS's init (net_block.h). */
#include "nn/net_block.h"

#include <math.h>
#include <string.h>

#include "nn/net_internal.h"

int mn_net_block_shape(const struct mn_net *net, int i, int *c, int *h, int *w)
{
	const struct mn_net_plan *p = &net->plan;
	const struct mn_net_config *cfg = &p->cfg;
	int per = cfg->N + 1;
	if (i < -1 || i >= mn_net_block_count(net))
		return -1;
	if (i == -1) {
		*c = cfg->thin ? cfg->in_channels : p->sc[0];
		*h = cfg->thin ? cfg->H : p->sh[0];
		*w = cfg->thin ? cfg->W : p->sw[0];
		return 0;
	}
	int s = i / per, k = i % per;
	*c = p->sc[s], *h = p->sh[s], *w = p->sw[s];
	if (k == cfg->N) /* the reduction block after stage s */
		*c *= 2, *h /= 2, *w /= 2;
	return 0;
}

/* [nb][c][hw] <-> [c][nb][hw] */
static void to_cnhw(float *dst, const float *src, int nb, int c, size_t hw)
{
	for (int n = 0; n < nb; n++)
		for (int k = 0; k < c; k++)
			memcpy(dst + ((size_t)k * nb + n) * hw, src + ((size_t)n * c + k) * hw,
			       sizeof(float) * hw);
}

static void to_nchw(float *dst, const float *src, int nb, int c, size_t hw)
{
	for (int n = 0; n < nb; n++)
		for (int k = 0; k < c; k++)
			memcpy(dst + ((size_t)n * c + k) * hw, src + ((size_t)k * nb + n) * hw,
			       sizeof(float) * hw);
}

int mn_net_block_vjp(struct mn_net *net, int i, const float *g_out, float *g_in)
{
	int co, ho, wo, ci, hi, wi;
	if (!net || !g_out || !g_in || !net->fw_ok || !net->layout_ok || !net->nb ||
	    mn_net_block_shape(net, i, &co, &ho, &wo) || i < 0 ||
	    mn_net_block_shape(net, i - 1, &ci, &hi, &wi))
		return -1;
	struct ws *ws = net_backward_ws(net);
	if (!ws)
		return -1;
	/* P0 and P1 hold any block's cotangent (the full backward's a and b) */
	to_cnhw(ws->P0, g_out, net->nb, co, (size_t)ho * wo);
	if (net_backward_block(net, ws, i, ws->P0, ws->P1) != 0)
		return -1;
	to_nchw(g_in, ws->P1, net->nb, ci, (size_t)hi * wi);
	return 0;
}

void mn_net_init_fan_in(struct mn_net *net, struct mn_rng *rng)
{
	const struct mn_net_plan *p = &net->plan;
	for (int i = 0; i < p->nt; i++) {
		const struct mn_tensor *t = &p->t[i];
		float *v = net->params + t->off;
		for (size_t j = 0; j < t->size; j++)
			switch (t->kind) {
			case MN_T_BN_GAMMA:
				v[j] = 1;
				break;
			case MN_T_BN_BETA:
			case MN_T_LIN_B:
				v[j] = 0;
				break;
			default:
				v[j] = (float)(sqrt(2.0 / t->fan_in) * mn_rng_normal(rng));
			}
	}
}
