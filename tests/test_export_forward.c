/* The exported model.py against micronas's own networks, on the tensors
 * tests/test_export_forward.py wrote (see tests/test_export.sh):
 *   raw.safetensors: model.py's trainable parameters, the input batch, the
 *     logits of its train-mode forward (BN on batch statistics) and of its
 *     eval-mode forward with the BN running statistics set to that batch's
 *     statistics;
 *   folded.safetensors: save_weights() of that eval-mode model.
 * 1. micronas's float network (src/nn, train-mode BN) with the raw
 *    parameters gives the train-mode logits.
 * 2. micronas's folded float network (src/export/fnet) with the folded
 *    weights gives the eval-mode logits.  Because the running statistics
 *    are the batch's own, both comparisons test the same function, one
 *    through micronas's training network and one through the deployed
 *    (folded) one.
 * Usage: test_export_forward RAW FOLDED ARCH C N R K [IC]  (R: R or HxW; IC: input
 * channels, 3 when not given) */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "export/fnet.h"
#include "export/safetensors.h"
#include "nn/net.h"
#include "tap.h"

#define TOL 1e-4

static const struct mn_st_tensor *need(const struct mn_safetensors *st, const char *name)
{
	const struct mn_st_tensor *t = mn_st_find(st, name);
	if (!t)
		tap_ok(0, "raw file has %s", name);
	return t;
}

/* Copies tensor `name` to p and advances p by its size (n values expected). */
static int take(const struct mn_safetensors *st, const char *name, float **p, size_t n)
{
	const struct mn_st_tensor *t = need(st, name);
	if (!t || t->numel != n)
		return tap_ok(0, "%s has %zu values", name, n), -1;
	mn_st_copy_f32(t, *p);
	*p += n;
	return 0;
}

static int take_bn(const struct mn_safetensors *st, const char *pre, float **p, size_t c)
{
	char a[96], b[96];
	snprintf(a, sizeof a, "%s.weight", pre);
	snprintf(b, sizeof b, "%s.bias", pre);
	return take(st, a, p, c) || take(st, b, p, c) ? -1 : 0;
}

/* model.py's parameters into micronas's canonical order (net.h). */
static int load_raw(const struct mn_safetensors *st, const struct mn_arch *a, int C, int N, int K,
		    int IC, float *params)
{
	float *p = params;
	char nm[96];
	int block = 0;
	if (take(st, "stem.conv.weight", &p, (size_t)C * 9 * IC) || take_bn(st, "stem.bn", &p, (size_t)C))
		return -1;
	for (int s = 0; s < 3; s++) {
		size_t c = (size_t)C << s;
		int cells_block0 = block;
		for (int i = 0; i < N; i++)
			for (int e = 0; e < MN_EDGES; e++)
				for (int op = MN_OP_CONV1; op <= MN_OP_CONV3; op++) {
					size_t kk = op == MN_OP_CONV3 ? 9 : 1;
					if (a->op[e] != op) {
						p += c * c * kk + 2 * c; /* inactive: stays zero */
						continue;
					}
					snprintf(nm, sizeof nm, "cells.%d.edge%d.conv.weight", cells_block0 + i, e);
					if (take(st, nm, &p, c * c * kk))
						return -1;
					snprintf(nm, sizeof nm, "cells.%d.edge%d.bn", cells_block0 + i, e);
					if (take_bn(st, nm, &p, c))
						return -1;
				}
		block += N;
		if (s < 2) {
			snprintf(nm, sizeof nm, "cells.%d.conv_a.conv.weight", block);
			if (take(st, nm, &p, 2 * c * c * 9))
				return -1;
			snprintf(nm, sizeof nm, "cells.%d.conv_a.bn", block);
			if (take_bn(st, nm, &p, 2 * c))
				return -1;
			snprintf(nm, sizeof nm, "cells.%d.conv_b.conv.weight", block);
			if (take(st, nm, &p, 4 * c * c * 9))
				return -1;
			snprintf(nm, sizeof nm, "cells.%d.conv_b.bn", block);
			if (take_bn(st, nm, &p, 2 * c))
				return -1;
			snprintf(nm, sizeof nm, "cells.%d.shortcut.weight", block);
			if (take(st, nm, &p, 2 * c * c))
				return -1;
			block++;
		}
	}
	if (take_bn(st, "lastact", &p, (size_t)4 * C) ||
	    take(st, "classifier.weight", &p, (size_t)K * 4 * C) ||
	    take(st, "classifier.bias", &p, (size_t)K))
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct mn_safetensors raw, folded;
	struct mn_arch a;
	struct mn_parse_error pe;
	char err[512] = "";
	int C, N, H, W, K, IC = argc > 8 ? atoi(argv[8]) : 3;
	if ((argc != 8 && argc != 9) || mn_arch_parse(argv[3], &a, &pe) ||
	    mn_sides_parse(argv[6], &H, &W) != 0 || IC < 1) {
		fprintf(stderr, "usage: test_export_forward RAW FOLDED ARCH C N R K [IC]\n");
		return 2;
	}
	C = atoi(argv[4]), N = atoi(argv[5]), K = atoi(argv[7]);
	if (!tap_ok(mn_st_read(&raw, argv[1], err, sizeof err) == 0, "read raw (%s)", err) ||
	    !tap_ok(mn_st_read(&folded, argv[2], err, sizeof err) == 0, "read folded (%s)", err))
		return tap_done();
	const struct mn_st_tensor *xin = need(&raw, "input"), *lt = need(&raw, "logits_train"),
				  *le = need(&raw, "logits_eval");
	if (!xin || !lt || !le)
		return tap_done();
	int B = (int)xin->shape[0];
	float *x = malloc(sizeof(float) * xin->numel), *ref_t = malloc(sizeof(float) * lt->numel);
	float *ref_e = malloc(sizeof(float) * le->numel), *out = malloc(sizeof(float) * B * K);
	mn_st_copy_f32(xin, x);
	mn_st_copy_f32(lt, ref_t);
	mn_st_copy_f32(le, ref_e);

	/* 1. micronas's training network, train-mode BN. */
	struct mn_net_config cfg;
	mn_net_config_eval(&cfg, C, N, H, K);
	cfg.W = W;
	cfg.in_channels = IC;
	struct mn_net *net = mn_net_create(&cfg);
	tap_ok(net && mn_net_set_arch(net, &a) == 0, "micronas network created");
	float *params = mn_net_params(net);
	memset(params, 0, sizeof(float) * mn_net_param_count(net));
	if (load_raw(&raw, &a, C, N, K, IC, params) == 0) {
		tap_ok(mn_net_forward(net, x, B, out) == 0, "micronas train-mode forward of %d images", B);
		double md = 0, mag = 0;
		for (int i = 0; i < B * K; i++) {
			md = fmax(md, fabs(out[i] - ref_t[i]));
			mag = fmax(mag, fabs(ref_t[i]));
		}
		tap_ok(md <= TOL, "train-mode logits equal PyTorch's: max |diff| %.3g <= %g (logits up to %.3g)",
		       md, TOL, mag);
	}
	mn_net_free(net);

	/* 2. The folded network micronas deploys. */
	struct mn_fnet fn;
	struct mn_net_shape shape = {C, N, H, K, IC, W};
	if (tap_ok(mn_fnet_bind(&fn, &folded, &a, &shape, err, sizeof err) == 0,
		   "save_weights() output matches the arch (%s)", err)) {
		double md = 0;
		int ok = 1;
		for (int b = 0; b < B; b++) {
			ok &= mn_fnet_forward(&fn, x + (size_t)b * IC * H * W, out + b * K, NULL) == 0;
			for (int k = 0; k < K; k++)
				md = fmax(md, fabs(out[b * K + k] - ref_e[b * K + k]));
		}
		tap_ok(ok && md <= TOL, "folded eval logits equal PyTorch's: max |diff| %.3g <= %g", md, TOL);
		md = 0;
		for (int i = 0; i < B * K; i++)
			md = fmax(md, fabs(ref_t[i] - ref_e[i]));
		tap_ok(md <= TOL, "PyTorch: eval with the batch's statistics = train mode (%.3g)", md);
		mn_fnet_free(&fn);
	}
	free(x), free(ref_t), free(ref_e), free(out);
	mn_st_free(&raw);
	mn_st_free(&folded);
	return tap_done();
}
