/* micronas export: the network of an arch and preset as one self-contained
 * PyTorch file (model.py) with build_model(), save_weights(model, path)
 * (BN folded, safetensors) and a main() that trains it on CIFAR-10 binaries
 * with the NAS-Bench-201 recipe.  The body of the file is
 * src/export/model_template.py, compiled in; this adds the constants. */
#ifndef MN_MODEL_PY_H
#define MN_MODEL_PY_H

#include <stdio.h>

#include "space/arch.h"
#include "space/cost.h"

/* Writes model.py to f.  0, or -1 on a write error. */
int mn_export_model_py(FILE *f, const struct mn_arch *a, const struct mn_net_shape *s);

#endif
