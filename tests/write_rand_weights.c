/* Writes random folded weights (rand_weights.h) for one arch and network
 * shape, the fixture of test_deploy_shapes.sh:
 *   write_rand_weights OUT ARCH C N H W INPUT_CHANNELS CLASSES
 * Exit 0, or 1 with one line on standard error. */
#include <stdio.h>
#include <stdlib.h>

#include "rand_weights.h"

int main(int argc, char **argv)
{
	struct mn_arch a;
	struct mn_parse_error pe;
	struct mn_net_shape s = MN_SHAPE_DEFAULT;
	struct rand_weights w;
	struct mn_fnet f;
	struct mn_rng rng;
	char err[512] = "";
	if (argc != 9) {
		fprintf(stderr, "usage: write_rand_weights OUT ARCH C N H W INPUT_CHANNELS CLASSES\n");
		return 1;
	}
	if (mn_arch_parse(argv[2], &a, &pe) != 0) {
		fprintf(stderr, "write_rand_weights: %s\n", pe.msg);
		return 1;
	}
	s.channels = atoi(argv[3]);
	s.cells = atoi(argv[4]);
	s.height = atoi(argv[5]);
	s.width = atoi(argv[6]);
	s.input_channels = atoi(argv[7]);
	s.classes = atoi(argv[8]);
	if (mn_shape_check(&s, err, sizeof err) != 0) {
		fprintf(stderr, "write_rand_weights: %s\n", err);
		return 1;
	}
	mn_rng_seed(&rng, 11);
	if (rand_weights_make(&w, &a, &s, &rng) != 0) {
		fprintf(stderr, "write_rand_weights: out of memory\n");
		return 1;
	}
	int rc = rand_weights_bind(&w, argv[1], &a, &s, &f, err, sizeof err);
	rand_weights_free(&w);
	if (rc != 0) {
		fprintf(stderr, "write_rand_weights: %s\n", err);
		return 1;
	}
	mn_fnet_free(&f);
	return 0;
}
