/* libFuzzer target for the int8 model file (export/qmodel_file.h): any
 * input either parses as safetensors and is loaded over a tiny quantized
 * network (C=2, N=1, 8x8, 2 classes), or is refused; a refusal is one
 * non-empty line naming the file, and the network afterwards still runs
 * (its arrays were never resized, only values the checks let through were
 * copied). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "data/dataset_source.h"
#include "export/calibrate.h"
#include "export/qmodel_file.h"
#include "export/safetensors.h"
#include "rand_weights.h"
#include "util/rng.h"

#define ARCH "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|skip_connect~1|nor_conv_3x3~2|"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct mn_qmodel q;
static struct mn_arch a;
static int ready;

/* The network every input is loaded over, made once (and, with
 * FUZZ_QMODEL_SEED=PATH, saved there: the corpus's valid seed). */
static void setup(void)
{
	struct mn_parse_error pe;
	struct mn_net_shape s = {2, 1, 8, 2, 3, 0};
	struct rand_weights w;
	struct mn_fnet f;
	struct mn_dataset d;
	struct mn_rng rng;
	char err[512];
	mn_rng_seed(&rng, 3);
	if (mn_arch_parse(ARCH, &a, &pe) || rand_weights_make(&w, &a, &s, &rng) ||
	    rand_weights_bind(&w, NULL, &a, &s, &f, err, sizeof err) ||
	    mn_dataset_synthetic(&d, 8, 3, err, sizeof err) || mn_calibrate(&q, &f, &d, 4, 1, err, sizeof err))
		abort();
	const char *seed = getenv("FUZZ_QMODEL_SEED");
	if (seed && mn_qmodel_save(&q, &a, seed, err, sizeof err))
		abort();
	mn_fnet_free(&f);
	mn_dataset_free(&d);
	rand_weights_free(&w);
	ready = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mn_safetensors st;
	char err[512] = "";
	if (!ready)
		setup();
	if (mn_st_parse(&st, data, size, "f", err, sizeof err) != 0)
		return 0;
	err[0] = 0;
	int rc = mn_qmodel_load_parsed(&q, &a, &st, "f", err, sizeof err);
	mn_st_free(&st);
	if (rc != 0 && (rc != -1 || err[0] == '\0' || strchr(err, '\n') || strncmp(err, "f: ", 3)))
		abort();
	/* whatever was copied passed the checks: the kernels take it */
	int8_t img[8 * 8 * 3] = {0};
	int32_t logits[2];
	img[5] = 100;
	if (mn_qmodel_run(&q, img, logits) != 0)
		abort();
	return 0;
}
