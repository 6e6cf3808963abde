/* Double build of the network (net_tmpl.h), for the gradient tests. */
#define MN_REAL_DOUBLE
#include "nn/nn_real.h"
#include "nn/net_tmpl.h"
