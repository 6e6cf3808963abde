/* Double build of the network (net_tmpl.h), for the gradient tests. */
#define MN_REAL_DOUBLE
#include "nn_real.h"
#include "net_tmpl.h"
