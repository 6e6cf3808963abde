/* Float build of the network (net_tmpl.h). */
#include "nn_real.h"
#include "net_tmpl.h"
