/* Double build of the layers (nn_layers_tmpl.h), used by the gradient checks. */
#define MN_REAL_DOUBLE
#include "nn/nn_real.h"
#include "nn/nn_layers_tmpl.h"
