/* int8 quantization; see quantize.h. */
#include "export/quantize.h"

#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "board/validate.h"
#include "data/dataset.h"
#include "export/fnet.h"
#include "space/memory.h"

static float act_scale(float amax)
{
	/* An all-zero tensor may take any scale; keep it finite. */
	return (amax > 1e-8f ? amax : 1e-8f) / 127.0f;
}

static void *block(struct mn_qmodel *q, size_t bytes)
{
	void **nb = realloc(q->blocks, sizeof(void *) * (size_t)(q->nblocks + 1));
	if (!nb)
		return NULL;
	q->blocks = nb;
	void *p = calloc(1, bytes ? bytes : 1);
	if (p)
		q->blocks[q->nblocks++] = p;
	return p;
}

static int32_t clamp32(double v, double lim)
{
	if (v > lim)
		v = lim;
	if (v < -lim)
		v = -lim;
	return (int32_t)lrint(v);
}

/* M = mult / 2^(31 + shift), mult in [2^30, 2^31). */
static void multiplier(double M, int32_t *mult, int8_t *shift)
{
	int e;
	double f = frexp(M, &e);
	if (!(M > 0) || -e > 31) {
		*mult = 0, *shift = 0;
		return;
	}
	long long m = llround(f * 2147483648.0);
	if (m == 2147483648LL)
		m = 1LL << 30, e++;
	if (-e < -30)
		m = 2147483647LL, e = 30;
	*mult = (int32_t)m;
	*shift = (int8_t)-e;
}

double mn_qrow_shift(const float *w, int n, double sw, const double *mean)
{
	double d = 0;
	for (int i = 0; i < n; i++) {
		double v = rint(w[i] / sw);
		v = v > 127 ? 127 : (v < -127 ? -127 : v);
		d += (v * sw - w[i]) * mean[i];
	}
	return d;
}

int mn_gptq_factor(const float *cov, int K, double *U)
{
	double mean = 0;
	for (int i = 0; i < K; i++)
		for (int j = 0; j < K; j++)
			U[(size_t)i * K + j] = j >= i ? cov[(size_t)i * K + j] : 0.0;
	for (int i = 0; i < K; i++)
		mean += U[(size_t)i * K + i] / K;
	/* A dead input (never nonzero) gets a unit diagonal, then every
	 * diagonal the damping GPTQ uses, 1% of the mean. */
	for (int i = 0; i < K; i++) {
		double *d = &U[(size_t)i * K + i];
		if (!(*d > 0))
			*d = mean > 0 ? mean : 1.0;
		*d += 0.01 * (mean > 0 ? mean : 1.0);
	}
	if (LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'U', K, U, K) != 0 ||
	    LAPACKE_dpotri(LAPACK_ROW_MAJOR, 'U', K, U, K) != 0 ||
	    LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'U', K, U, K) != 0)
		return -1;
	for (int i = 0; i < K; i++)
		for (int j = 0; j < i; j++)
			U[(size_t)i * K + j] = 0;
	return 0;
}

void mn_gptq_row(const float *w, int K, double sw, const double *U, double *tmp, int8_t *q)
{
	for (int i = 0; i < K; i++)
		tmp[i] = w[i];
	for (int i = 0; i < K; i++) {
		double v = rint(tmp[i] / sw);
		v = v > 127 ? 127 : (v < -127 ? -127 : v);
		q[i] = (int8_t)v;
		if (!U)
			continue;
		/* The rounding error, carried into the weights not yet
		 * rounded through the inverse Hessian's Cholesky row. */
		double e = (tmp[i] - v * sw) / U[(size_t)i * K + i];
		for (int j = i + 1; j < K; j++)
			tmp[j] -= e * U[(size_t)i * K + j];
	}
}

double mn_qrow_scale(const float *wr, int K)
{
	float m = 0;
	for (int i = 0; i < K; i++)
		m = fmaxf(m, fabsf(wr[i]));
	return m > 0 ? m / 127.0 : 1.0;
}

int mn_gptq_conv(const struct mn_fconv *c, const float *cov, int8_t *q)
{
	int K = c->cin * c->k * c->k;
	double *U = cov ? malloc(sizeof(double) * (size_t)K * K) : NULL;
	double *tmp = malloc(sizeof(double) * (size_t)K);
	if ((cov && !U) || !tmp) {
		free(U), free(tmp);
		return -1;
	}
	if (U && mn_gptq_factor(cov, K, U) != 0) {
		free(U); /* not positive definite: plain rounding */
		U = NULL;
	}
	for (int oc = 0; oc < c->cout; oc++) {
		const float *wr = c->w + (size_t)oc * K;
		mn_gptq_row(wr, K, mn_qrow_scale(wr, K), U, tmp, q + (size_t)oc * K);
	}
	free(U), free(tmp);
	return 0;
}

/* pm: NULL, or E[x] of each input patch element (fnet.h's patch_sum over
 * the images), for the bias correction; cov: NULL, or E[x x^T] (upper
 * triangle), for GPTQ; gq: NULL, or the rows mn_gptq_conv made from cov. */
static int qconv(struct mn_qmodel *q, struct mnq_conv *out, const struct mn_fconv *c, float s_in,
		 float s_out, const double *pm, const float *cov, const int8_t *gq)
{
	int K = c->cin * c->k * c->k, co = c->cout, k = c->k;
	int has_b = c->b || pm;
	int8_t *w = block(q, (size_t)co * K + 4 /* the DSP path's slack */);
	int32_t *b = has_b ? block(q, sizeof(int32_t) * co) : NULL;
	int32_t *mult = block(q, sizeof(int32_t) * co);
	int8_t *shift = block(q, (size_t)co);
	int8_t *rows = gq ? NULL : malloc((size_t)co * K);
	if (!w || (has_b && !b) || !mult || !shift || (!gq && !rows) ||
	    (!gq && mn_gptq_conv(c, cov, rows) != 0)) {
		free(rows);
		return -1;
	}
	for (int oc = 0; oc < co; oc++) {
		const float *wr = c->w + (size_t)oc * K;
		double sw = mn_qrow_scale(wr, K);
		const int8_t *qi = (gq ? gq : rows) + (size_t)oc * K;
		/* PyTorch [out][in][ky][kx] -> OHWI [out][ky][kx][in] */
		for (int ic = 0; ic < c->cin; ic++)
			for (int ky = 0; ky < k; ky++)
				for (int kx = 0; kx < k; kx++)
					w[(size_t)oc * K + (ky * k + kx) * c->cin + ic] =
					    qi[(ic * k + ky) * k + kx];
		if (b) {
			double bias = c->b ? c->b[oc] : 0.0;
			for (int i = 0; pm && i < K; i++)
				bias -= (qi[i] * sw - wr[i]) * pm[i];
			b[oc] = clamp32(bias / ((double)s_in * sw), MN_QBIAS_MAX);
		}
		multiplier((double)s_in * sw / s_out, &mult[oc], &shift[oc]);
	}
	free(rows);
	*out = (struct mnq_conv){w, b, mult, shift, (uint16_t)c->cin, (uint16_t)co, (uint8_t)k,
				 (uint8_t)c->stride, (uint8_t)c->relu_in};
	q->weight_bytes += (uint64_t)co * K;
	q->bias_bytes += b ? 4u * (uint64_t)co : 0;
	q->requant_bytes += 5u * (uint64_t)co;
	return 0;
}

static int32_t q15(double r)
{
	long v = lrint(r * 32768.0);
	return (int32_t)(v < MN_QADD_MIN ? MN_QADD_MIN : (v > MN_QADD_MAX ? MN_QADD_MAX : v));
}

int mn_qmodel_conv_count(int cells) { return 1 + 18 * cells + 6; }
int mn_qmodel_add_count(int cells) { return 18 * cells + 2; }

void mn_qmodel_free(struct mn_qmodel *q)
{
	for (int i = 0; i < q->nblocks; i++)
		free(q->blocks[i]);
	free(q->blocks);
	free(q->convs);
	free(q->adds);
	free(q->head);
	free(q->fc_w);
	free(q->fc_b);
	memset(q, 0, sizeof *q);
}

int mn_qmodel_shape_check(const struct mn_net_shape *s, char *err, size_t errn)
{
	/* any valid shape (sides up to 1024) within the firmware's channel
	 * limits: qnet sums the head's 4C channels in MNP_MAX_CHANNELS slots */
	if (mn_shape_check(s, err, errn) != 0 || mn_board_channels_check(s, err, errn) != 0)
		return -1;
	return 0;
}


int mn_quantize(struct mn_qmodel *q, const struct mn_fnet *f, const float *amax)
{
	const struct mn_qcalib c = {.range = amax};
	return mn_quantize_calib(q, f, &c);
}

int mn_quantize_layout(struct mn_qmodel *q, const struct mn_fnet *f)
{
	/* unit ranges, zero patch means (a bias on every conv), no GPTQ */
	const struct mn_net_shape *s = &f->shape;
	int ns = mn_slot_count(s), nc = mn_fconv_count(s), K = 0;
	for (int i = 0; i < nc; i++) {
		const struct mn_fconv *c = mn_fnet_conv(f, i);
		if (c && c->cin * c->k * c->k > K)
			K = c->cin * c->k * c->k;
	}
	float *range = malloc(sizeof(float) * (size_t)ns);
	double *zero = calloc((size_t)K + 1, sizeof *zero);
	const double **pm = malloc(sizeof *pm * (size_t)nc);
	int rc = -1;
	if (range && zero && pm) {
		for (int i = 0; i < ns; i++)
			range[i] = 1.0f;
		for (int i = 0; i < nc; i++)
			pm[i] = zero;
		const struct mn_qcalib c = {.range = range, .patch_mean = pm};
		rc = mn_quantize_calib(q, f, &c);
	}
	free(range), free(zero), free(pm);
	return rc;
}

/* The E[x] of conv index i for the bias correction, or NULL. */
static const double *pmean(const struct mn_qcalib *c, int i)
{
	return c->patch_mean ? c->patch_mean[i] : NULL;
}
static const float *pcov(const struct mn_qcalib *c, int i)
{
	return c->patch_cov ? c->patch_cov[i] : NULL;
}
static const int8_t *pgq(const struct mn_qcalib *c, int i)
{
	return c->gptq ? c->gptq[i] : NULL;
}

/* q's arrays, zeroed, and q->net pointing into them with f's shape and
 * cell order; -1 when out of memory (q then holds what was allocated). */
static int qmodel_alloc(struct mn_qmodel *q, const struct mn_fnet *f)
{
	const struct mn_net_shape *s = &f->shape;
	int N = s->cells, C = s->channels, K = s->classes, cf = 4 * C, ncell = 3 * N;
	struct mnq_net *net = &q->net;
	q->convs = calloc((size_t)mn_qmodel_conv_count(N), sizeof *q->convs);
	q->adds = calloc((size_t)mn_qmodel_add_count(N), sizeof *q->adds);
	q->head = calloc((size_t)(2 * cf), sizeof *q->head);
	q->fc_w = calloc((size_t)K * cf, 1);
	q->fc_b = calloc((size_t)K, sizeof *q->fc_b);
	if (!q->convs || !q->adds || !q->head || !q->fc_w || !q->fc_b)
		return -1;
	net->channels = (uint16_t)C, net->cells = (uint16_t)N;
	net->height = (uint16_t)s->height, net->width = (uint16_t)mn_shape_width(s);
	net->classes = (uint16_t)K;
	for (int e = 0; e < MN_EDGES; e++)
		net->ops[e] = f->arch.op[e];
	int order[MN_EDGES], len;
	mn_cell_plan(&f->arch, order, &len);
	net->n_order = (uint8_t)len;
	for (int i = 0; i < len; i++)
		net->order[i] = (uint8_t)order[i];
	net->stem = &q->convs[0];
	net->edge = &q->convs[1];
	net->red = &q->convs[1 + ncell * 6];
	net->cell_add = q->adds;
	net->red_add = &q->adds[ncell * 6];
	net->head_g = q->head;
	net->head_b = q->head + cf;
	net->fc_w = q->fc_w;
	net->fc_b = q->fc_b;
	return 0;
}

/* conv i of the model (fnet.h's numbering) from fw, input scale sx, output
 * scale so, with calibration's bias correction, patch statistics and GPTQ
 * rounding for it. */
static int qconv_at(struct mn_qmodel *q, const struct mn_qcalib *cal, int i,
		    const struct mn_fconv *fw, float sx, float so)
{
	return qconv(q, &q->convs[i], fw, sx, so, pmean(cal, i), pcov(cal, i), pgq(cal, i));
}

/* Reduction block r (before stage r + 1) on an input of scale sx: its two
 * convs, its pooled shortcut's conv (the pool keeps the input's scale) and
 * the add into the block's output scale, the largest of its calibrated
 * range and its inputs' (the Q15 factors stay below 1).  The output scale
 * in *sout. */
static int qreduction(struct mn_qmodel *q, const struct mn_fnet *f, const struct mn_qcalib *cal,
		      int r, float sx, float *sout)
{
	const struct mn_net_shape *s = &f->shape;
	const float *amax = cal->range;
	int ncell = 3 * s->cells, ri = 1 + ncell * 6 + 3 * r;
	float sa = act_scale(amax[mn_slot_red(s, r, 0)]);
	float sb = act_scale(amax[mn_slot_red(s, r, 1)]);
	float ss = act_scale(amax[mn_slot_red(s, r, 2)]);
	float sr = fmaxf(act_scale(amax[mn_slot_red(s, r, 3)]), fmaxf(sb, ss));
	if (qconv_at(q, cal, ri, &f->red_a[r], sx, sa) ||
	    qconv_at(q, cal, ri + 1, &f->red_b[r], sa, sb) ||
	    qconv_at(q, cal, ri + 2, &f->red_sc[r], sx, ss))
		return -1;
	q->adds[ncell * 6 + r] = (struct mnq_add){q15(sb / sr), q15(ss / sr)};
	q->requant_bytes += 8;
	*sout = sr;
	return 0;
}

/* Cell `cell` on an input of scale sx.  Node i's scale S[i]: a conv edge
 * writes at its own calibrated scale, a skip or pool at its source's; a
 * node of one edge takes that edge's scale, a node that sums several the
 * largest of its calibrated one and its edges' (the Q15 factors stay below
 * 1), a node of none the input's.  The cell's output scale in *sout. */
static int qcell(struct mn_qmodel *q, const struct mn_fnet *f, const struct mn_qcalib *cal,
		 int cell, float sx, float *sout)
{
	const struct mn_net_shape *s = &f->shape;
	const float *amax = cal->range;
	const struct mnq_net *net = &q->net;
	float S[4], E[MN_EDGES], cur[4] = {0, 0, 0, 0};
	int nin[4] = {0, 0, 0, 0};
	S[0] = sx;
	for (int i = 1; i < 4; i++) {
		float mx = 0;
		for (int e = 0; e < MN_EDGES; e++) {
			int op = f->arch.op[e];
			if (mn_edge_to(e) != i || op == MN_OP_NONE)
				continue;
			E[e] = (op == MN_OP_CONV1 || op == MN_OP_CONV3)
				   ? act_scale(amax[mn_slot_edge(s, cell, e)])
				   : S[mn_edge_from(e)];
			mx = fmaxf(mx, E[e]);
			nin[i]++;
		}
		if (nin[i] == 0)
			S[i] = S[0];
		else if (nin[i] == 1)
			S[i] = mx;
		else
			S[i] = fmaxf(act_scale(amax[mn_slot_node(s, cell, i)]), mx);
	}
	for (int e = 0; e < MN_EDGES; e++)
		if (f->arch.op[e] == MN_OP_CONV1 || f->arch.op[e] == MN_OP_CONV3)
			if (qconv_at(q, cal, 1 + cell * 6 + e, &f->edge[cell * 6 + e],
				     S[mn_edge_from(e)], E[e]))
				return -1;
	/* The adds in execution order: the first edge into a node gives its
	 * buffer its own scale; every add after lands in the node's scale. */
	for (int k = 0; k < net->n_order; k++) {
		int e = net->order[k], i = mn_edge_to(e);
		if (cur[i] == 0) {
			cur[i] = E[e];
			continue;
		}
		q->adds[cell * 6 + e] = (struct mnq_add){q15(cur[i] / S[i]), q15(E[e] / S[i])};
		q->requant_bytes += 8;
		cur[i] = S[i];
	}
	*sout = S[3];
	return 0;
}

/* The head (folded BN as a Q14 affine into the head's scale, then ReLU)
 * on an input of scale sx, and the classifier with the global pool folded
 * in: logit = b + (W / hw) . sum, the int32 sums at the head's scale, so
 * nothing is rounded between the head's int8 output and the logits. */
static void qhead(struct mn_qmodel *q, const struct mn_fnet *f, const struct mn_qcalib *cal,
		  float sx)
{
	const struct mn_net_shape *s = &f->shape;
	int K = s->classes, cf = 4 * s->channels;
	float sh = act_scale(cal->range[mn_slot_head(s)]);
	for (int c = 0; c < cf; c++) {
		q->head[c] = clamp32(16384.0 * f->head_scale[c] * sx / sh, MN_QHEAD_SCALE_MAX);
		q->head[cf + c] = clamp32(16384.0 * f->head_shift[c] / sh, MN_QHEAD_SHIFT_MAX);
	}
	q->bias_bytes += 8u * (uint64_t)cf;
	int hw = mn_stage_height(s, 2) * mn_stage_width(s, 2);
	float m = 0;
	for (int i = 0; i < K * cf; i++)
		m = fmaxf(m, fabsf(f->fc_w[i]));
	double sw = m > 0 ? m / 127.0 / hw : 1.0;
	for (int i = 0; i < K * cf; i++)
		q->fc_w[i] = (int8_t)clamp32(f->fc_w[i] / hw / sw, 127);
	for (int k = 0; k < K; k++) {
		double bias = f->fc_b[k];
		if (cal->pooled_mean)
			bias -= mn_qrow_shift(f->fc_w + (size_t)k * cf, cf, sw * hw, cal->pooled_mean);
		q->fc_b[k] = clamp32(bias / (sh * sw), 2147483647.0);
	}
	q->logit_scale = (float)(sh * sw);
	q->weight_bytes += (uint64_t)K * cf;
	q->bias_bytes += 4u * (uint64_t)K;
}

int mn_quantize_calib(struct mn_qmodel *q, const struct mn_fnet *f, const struct mn_qcalib *cal)
{
	const struct mn_net_shape *s = &f->shape;
	int N = s->cells;
	char why[160];
	memset(q, 0, sizeof *q);
	if (mn_qmodel_shape_check(s, why, sizeof why) != 0)
		return -1;
	if (qmodel_alloc(q, f) != 0)
		goto oom;
	float sx = act_scale(cal->range[MN_SLOT_INPUT]);
	q->in_scale = sx;
	float so = act_scale(cal->range[MN_SLOT_STEM]);
	if (qconv_at(q, cal, 0, &f->stem, sx, so))
		goto oom;
	sx = so;
	for (int st = 0; st < 3; st++) {
		if (st > 0 && qreduction(q, f, cal, st - 1, sx, &sx) != 0)
			goto oom;
		for (int cell = st * N; cell < (st + 1) * N; cell++)
			if (qcell(q, f, cal, cell, sx, &sx) != 0)
				goto oom;
	}
	qhead(q, f, cal, sx);
	q->arena_bytes = mnq_arena_bytes(&q->net);
	return 0;
oom:
	mn_qmodel_free(q);
	return -1;
}

/* One normalised input value in the input scale: round, saturate. */
static int8_t input_q(const struct mn_qmodel *q, float x)
{
	long v = lrint(x / q->in_scale);
	return (int8_t)(v > 127 ? 127 : (v < -128 ? -128 : v));
}

void mn_qmodel_quantize_input(const struct mn_qmodel *q, const float *x, int8_t *img)
{
	int C = q->net.stem->cin, HW = q->net.height * q->net.width;
	for (int c = 0; c < C; c++)
		for (int i = 0; i < HW; i++)
			img[(size_t)i * C + c] = input_q(q, x[(size_t)c * HW + i]);
}

int mn_qmodel_has_input_table(const struct mn_qmodel *q, const struct mn_dataset *d)
{
	return d->pixels && d->lut && d->channels == q->net.stem->cin;
}

int mn_qmodel_input_table(const struct mn_qmodel *q, const struct mn_dataset *d, int8_t *table)
{
	int C = q->net.stem->cin;
	if (!mn_qmodel_has_input_table(q, d))
		return -1;
	/* d->lut is the very value mn_dataset_value gives for that byte */
	for (int c = 0; c < C; c++)
		for (int p = 0; p < 256; p++)
			table[c * 256 + p] = input_q(q, d->lut[c * 256 + p]);
	return 0;
}

int mn_qmodel_run(const struct mn_qmodel *q, const int8_t *img, int32_t *logits)
{
	uint8_t *arena = malloc(q->arena_bytes + 4);
	if (!arena)
		return -1;
	int rc = mnq_run(&q->net, img, logits, arena, q->arena_bytes + 4);
	free(arena);
	return rc;
}

int mn_argmax_f(const float *v, int n)
{
	int b = 0;
	for (int i = 1; i < n; i++)
		if (v[i] > v[b])
			b = i;
	return b;
}

int mn_argmax_i(const int32_t *v, int n)
{
	int b = 0;
	for (int i = 1; i < n; i++)
		if (v[i] > v[b])
			b = i;
	return b;
}
