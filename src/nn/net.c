/* Float build of the network (net_tmpl.h). */
#include "nn/nn_real.h"
#include "nn/net_tmpl.h"
