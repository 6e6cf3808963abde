/* Random folded weights for one arch, the fixture of the int8 deployment
 * tests (test_deploy, test_validate_model): every tensor
 * mn_weights_spec lists, drawn from the caller's generator, then written
 * and read back through the same safetensors code as `micronas deploy`. */
#ifndef MN_TESTS_RAND_WEIGHTS_H
#define MN_TESTS_RAND_WEIGHTS_H

#include <stddef.h>

#include "export/fnet.h"
#include "util/rng.h"

struct rand_weights {
	int n;                 /* tensors */
	struct mn_wspec *spec; /* their names and shapes */
	struct mn_st_out *out; /* the same, with data: malloc'ed floats */
};

/* Draws the weights: conv and linear weights uniform in +-1.7/sqrt(fan_in),
 * the head's scales in 1 +- 0.3, biases and shifts in +-0.1.  0, or -1
 * when out of memory (nothing to free then). */
int rand_weights_make(struct rand_weights *w, const struct mn_arch *a, const struct mn_net_shape *s,
		      struct mn_rng *rng);

/* Writes them to path (to a temporary file, removed after, when path is
 * NULL), reads the file back and binds it to f.  0, or -1 with err. */
int rand_weights_bind(const struct rand_weights *w, const char *path, const struct mn_arch *a,
		      const struct mn_net_shape *s, struct mn_fnet *f, char *err, size_t errn);

void rand_weights_free(struct rand_weights *w);

#endif
