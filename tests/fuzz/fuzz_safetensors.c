/* libFuzzer target for the safetensors reader and the weights check: any
 * input is either refused with one non-empty line naming the file, or
 * parses to tensors whose data lie inside the file image and whose shapes
 * account for exactly their bytes; a parsed file is then bound to a tiny
 * network (C=1, N=1, R=4, 2 classes), which must succeed or fail the same
 * way. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "export/safetensors.h"
#include "export/weights_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_line(int rc, const char *err)
{
	if (rc == 0)
		return;
	if (rc != -1 || err[0] == '\0' || strchr(err, '\n') || strncmp(err, "f: ", 3))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mn_safetensors st;
	char err[512] = "";
	int rc = mn_st_parse(&st, data, size, "f", err, sizeof err);
	check_line(rc, err);
	if (rc)
		return 0;
	for (size_t i = 0; i < st.n; i++) {
		const struct mn_st_tensor *t = &st.t[i];
		uint64_t bytes = t->numel * (uint64_t)t->elem_bytes, numel = 1;
		if (t->data < st.buf + 8 || t->data + bytes > st.buf + st.len)
			abort();
		for (int d = 0; d < t->ndim; d++)
			numel *= (uint64_t)t->shape[d];
		if (numel != t->numel || mn_st_find(&st, t->name) != t)
			abort();
		if (!strcmp(t->dtype, "F32") && t->numel <= 4096) {
			float v[4096];
			mn_st_copy_f32(t, v);
		}
	}
	struct mn_arch a;
	struct mn_parse_error pe;
	struct mn_net_shape s = {1, 1, 4, 2, 3, 0};
	struct mn_fnet net;
	if (mn_arch_parse("|nor_conv_1x1~0|+|none~0|none~1|+|none~0|none~1|none~2|", &a, &pe))
		abort();
	err[0] = 0;
	rc = mn_fnet_bind(&net, &st, &a, &s, err, sizeof err);
	if (rc == 0)
		mn_fnet_free(&net);
	else if (err[0] == '\0' || strchr(err, '\n'))
		abort();
	mn_st_free(&st);
	return 0;
}
