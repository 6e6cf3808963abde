/* The trained weights of one arch: which tensors a BN-folded safetensors
 * file must hold (names and shapes, as model.py's save_weights writes
 * them), and binding a file to the network after checking it.
 *
 * Names (blocks numbered as model.py's nn.ModuleList "cells": stage 0's N
 * cells, reduction, stage 1's N cells, reduction, stage 2's N cells):
 *   stem.weight [C][3][3][3], stem.bias [C]
 *   cells.I.edgeE.weight [c][c][k][k], .bias [c]   (conv edges only)
 *   cells.I.conv_a.weight [2c][c][3][3], .bias; cells.I.conv_b.weight
 *   [2c][2c][3][3], .bias; cells.I.shortcut.weight [2c][c][1][1]
 *   lastact.weight [4C], lastact.bias [4C]   (folded final BN: scale, shift)
 *   classifier.weight [K][4C], classifier.bias [K]
 * Conv weights are PyTorch's [out][in][ky][kx]. */
#ifndef MN_WEIGHTS_CHECK_H
#define MN_WEIGHTS_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "export/safetensors.h"
#include "space/arch.h"
#include "space/cost.h"

struct mn_wspec {
	char name[48];
	int ndim;
	int64_t shape[4];
};

/* The expected tensors in network order; returns their count (at most
 * cap are written; call with cap 0 to size). */
int mn_weights_spec(const struct mn_arch *a, const struct mn_net_shape *s, struct mn_wspec *out,
		    int cap);

/* A conv with folded BN: w [cout][cin][k][k], b [cout] or NULL. */
struct mn_fconv {
	const float *w, *b;
	int cin, cout, k, stride, relu_in;
};

/* The BN-folded float network. */
struct mn_fnet {
	struct mn_arch arch;
	struct mn_net_shape shape;
	float *store;            /* every tensor's values */
	struct mn_fconv stem;
	struct mn_fconv *edge;   /* [3 * cells][6]: conv edges (w NULL elsewhere) */
	struct mn_fconv red_a[2], red_b[2], red_sc[2];
	const float *head_scale, *head_shift; /* [4C] */
	const float *fc_w, *fc_b;             /* [classes][4C], [classes] */
};

/* Checks st against the arch (every expected tensor present, F32, of the
 * expected shape, every value finite; no other tensor) and copies the
 * values into net.  0, or
 * -1 with one line in err naming the first mismatch. */
/* The network model.py exported st for, from its metadata (channels,
 * cells, resolution, classes; input channels from the metadata, else the
 * stem's shape in a file written before model.py recorded them).  0, or -1
 * when the file does not say it all. */
int mn_weights_file_shape(const struct mn_safetensors *st, struct mn_net_shape *s);

int mn_fnet_bind(struct mn_fnet *net, const struct mn_safetensors *st, const struct mn_arch *a,
		 const struct mn_net_shape *s, char *err, size_t errn);
void mn_fnet_free(struct mn_fnet *net);

#endif
