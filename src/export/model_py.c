/* The generator of model.py; see model_py.h. */
#include "export/model_py.h"

#include "src/export/model_template.h" /* mn_model_template: the file's body */

int mn_export_model_py(FILE *f, const struct mn_arch *a, const struct mn_net_shape *s)
{
	char arch[MN_ARCH_STRLEN];
	mn_arch_format(a, arch, sizeof arch);
	fprintf(f,
		"#!/usr/bin/env python3\n"
		"# model.py, written by `micronas export`: one self-contained PyTorch file\n"
		"# (torch only) defining the network micronas models for this arch.\n"
		"#\n"
		"#   import model; net = model.build_model(); model.save_weights(net, 'w.safetensors')\n"
		"#   python3 model.py --data cifar-10-batches-bin --epochs 200 -o weights.safetensors\n"
		"#   (or --data X.npy: a NumPy set, normalised with its own statistics)\n"
		"#   micronas deploy weights.safetensors '%s' -o out\n"
		"\n"
		"ARCH = \"%s\"\n"
		"CHANNELS = %d  # C: stages have C, 2C, 4C channels\n"
		"CELLS = %d  # N: cells per stage\n"
		"HEIGHT = %d  # input height; images of another size are resized\n"
		"WIDTH = %d  # input width\n"
		"RESOLUTION = HEIGHT if HEIGHT == WIDTH else \"%%dx%%d\" %% (HEIGHT, WIDTH)\n"
		"INPUT_CHANNELS = %d  # of the image: 1 grayscale, 3 RGB\n"
		"CLASSES = %d\n",
		arch, arch, s->channels, s->cells, s->height, mn_shape_width(s),
		mn_shape_input_channels(s), s->classes);
	fputs(mn_model_template, f);
	return ferror(f) ? -1 : 0;
}
