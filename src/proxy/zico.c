#include "proxy/zico.h"

#include <math.h>

struct layout {
	struct mn_param_range *out;
	int cap, n;
	size_t at;
};

static void skip(struct layout *l, size_t size) { l->at += size; }

static void conv(struct layout *l, size_t size)
{
	if (l->n < l->cap)
		l->out[l->n] = (struct mn_param_range){l->at, size};
	l->n++;
	l->at += size;
}

int mn_zico_layers(const struct mn_net_config *cfg, size_t nparams, struct mn_param_range *out,
		   int cap)
{
	struct layout l = {out, cap, 0, 0};
	int stages = cfg->thin ? 1 : 3, C = cfg->C;
	if (!cfg->thin) {
		conv(&l, (size_t)cfg->in_channels * C * 9); /* stem conv */
		skip(&l, 2 * (size_t)C);                   /* its BN */
	}
	for (int s = 0; s < stages; s++) {
		size_t c = (size_t)C << s;
		for (int i = 0; i < cfg->N * MN_EDGES; i++) {
			conv(&l, c * c);     /* 1x1 */
			skip(&l, 2 * c);
			conv(&l, c * c * 9); /* 3x3 */
			skip(&l, 2 * c);
		}
		if (s + 1 < stages) { /* reduction: conv a, BN, conv b, BN, shortcut */
			conv(&l, c * 2 * c * 9);
			skip(&l, 4 * c);
			conv(&l, 2 * c * 2 * c * 9);
			skip(&l, 4 * c);
			conv(&l, c * 2 * c);
		}
	}
	size_t cf = (size_t)C << (stages - 1);
	skip(&l, 2 * cf);                 /* final BN */
	conv(&l, (size_t)cfg->classes * cf); /* linear weight */
	skip(&l, (size_t)cfg->classes);      /* bias */
	return l.n <= cap && l.at == nparams ? l.n : -1;
}

double mn_zico_score(const float *grads, int nbatches, size_t stride,
		     const struct mn_param_range *layers, int nlayers)
{
	double score = 0;
	for (int li = 0; li < nlayers; li++) {
		double sum = 0;
		for (size_t p = layers[li].off; p < layers[li].off + layers[li].size; p++) {
			double m = 0, ma = 0, v = 0;
			for (int k = 0; k < nbatches; k++) {
				double g = grads[(size_t)k * stride + p];
				m += g;
				ma += fabs(g);
			}
			m /= nbatches;
			ma /= nbatches;
			for (int k = 0; k < nbatches; k++) {
				double d = grads[(size_t)k * stride + p] - m;
				v += d * d;
			}
			v /= nbatches;
			if (v > 0)
				sum += ma / sqrt(v);
		}
		if (sum > 0)
			score += log(sum);
	}
	return score;
}
