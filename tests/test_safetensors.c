/* safetensors: round trip through the writer and the reader, one clear
 * line for every kind of malformed file, and the check of trained weights
 * against an arch (first mismatch named). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "export/safetensors.h"
#include "export/weights_check.h"
#include "space/cost.h"
#include "tap.h"

/* A file image from a header text and n data bytes. */
static size_t image(unsigned char *buf, const char *hdr, size_t ndata)
{
	size_t h = strlen(hdr);
	for (int i = 0; i < 8; i++)
		buf[i] = (unsigned char)((uint64_t)h >> (8 * i));
	memcpy(buf + 8, hdr, h);
	for (size_t i = 0; i < ndata; i++)
		buf[8 + h + i] = (unsigned char)i;
	return 8 + h + ndata;
}

static void bad(const char *what, const char *hdr, size_t ndata, const char *expect)
{
	unsigned char buf[4096];
	char err[512] = "";
	struct mn_safetensors st;
	size_t len = image(buf, hdr, ndata);
	int rc = mn_st_parse(&st, buf, len, "x.safetensors", err, sizeof err);
	tap_ok(rc == -1 && strstr(err, expect) && !strchr(err, '\n') &&
		       !strncmp(err, "x.safetensors: ", 15) && strstr(err, "(write it again: "),
	       "%s: one line naming it and the fix (%s)", what, err);
}

int main(void)
{
	char tmpl[] = "/tmp/mn_st_XXXXXX", path[128], err[512];
	int fd = mkstemp(tmpl);
	if (fd < 0)
		return 1;
	close(fd);
	snprintf(path, sizeof path, "%s", tmpl);

	/* Round trip. */
	float a[6] = {1.5f, -2.0f, 3.25f, 0.0f, -0.0f, 1e-30f}, b[3] = {7, 8, 9};
	struct mn_st_out out[2] = {{"a.weight", 2, {2, 3}, a, NULL}, {"b", 1, {3}, b, NULL}};
	struct mn_st_meta meta[1] = {{"arch", "|none~0|"}};
	struct mn_safetensors st;
	tap_ok(mn_st_write(path, out, 2, meta, 1, err, sizeof err) == 0, "write (%s)", err);
	tap_ok(mn_st_read(&st, path, err, sizeof err) == 0, "read back (%s)", err);
	const struct mn_st_tensor *t = mn_st_find(&st, "a.weight");
	float got[6] = {0};
	if (t && t->numel == 6)
		mn_st_copy_f32(t, got);
	tap_ok(t && t->ndim == 2 && t->shape[0] == 2 && t->shape[1] == 3 &&
		       !memcmp(got, a, sizeof a),
	       "tensor a: shape [2, 3] and bit-identical values");
	tap_ok(mn_st_meta_get(&st, "arch") && !strcmp(mn_st_meta_get(&st, "arch"), "|none~0|"),
	       "metadata survives");
	tap_ok(((8 + (st.t[0].data - st.buf - 8)) % 8) == 0, "data starts 8-byte aligned");
	tap_ok(mn_st_find(&st, "nope") == NULL, "unknown name: NULL");
	mn_st_free(&st);

	/* Integer tensors (the int8 model file): I8 and I32, little-endian,
	 * and a dtype the writer does not take. */
	int8_t i8[5] = {-128, -1, 0, 1, 127};
	int32_t i32[3] = {INT32_MIN, -2, INT32_MAX}, g32[3] = {0};
	struct mn_st_out iout[2] = {{"q.w", 1, {5}, i8, "I8"}, {"q.b", 1, {3}, i32, "I32"}};
	tap_ok(mn_st_write(path, iout, 2, NULL, 0, err, sizeof err) == 0 &&
		       mn_st_read(&st, path, err, sizeof err) == 0,
	       "I8 and I32 tensors written and read back (%s)", err);
	const struct mn_st_tensor *ti8 = mn_st_find(&st, "q.w"), *ti32 = mn_st_find(&st, "q.b");
	if (ti32 && ti32->numel == 3 && !strcmp(ti32->dtype, "I32"))
		mn_st_copy_i32(ti32, g32);
	tap_ok(ti8 && !strcmp(ti8->dtype, "I8") && ti8->numel == 5 && !memcmp(ti8->data, i8, 5) &&
		       !memcmp(g32, i32, sizeof i32) && ti32->data[0] == 0 && ti32->data[3] == 0x80,
	       "their dtypes, values and byte order (I32 little-endian)");
	mn_st_free(&st);
	struct mn_st_out f16 = {"h", 1, {1}, i8, "F16"};
	tap_ok(mn_st_write(path, &f16, 1, NULL, 0, err, sizeof err) == -1 && strstr(err, "F16"),
	       "a dtype the writer does not take: refused in one line (%s)", err);

	/* Malformed files. */
	unsigned char tiny[4] = {1, 2, 3, 4};
	tap_ok(mn_st_parse(&st, tiny, 4, "t", err, sizeof err) == -1 && strstr(err, "shorter"),
	       "4-byte file refused (%s)", err);
	unsigned char huge[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, '{', '}'};
	tap_ok(mn_st_parse(&st, huge, 16, "t", err, sizeof err) == -1 && strstr(err, "100 MB"),
	       "huge header length refused (%s)", err);
	unsigned char past[16] = {100, 0, 0, 0, 0, 0, 0, 0, '{', '}'};
	tap_ok(mn_st_parse(&st, past, 10, "t", err, sizeof err) == -1 && strstr(err, "past the end"),
	       "header past the end refused (%s)", err);
	bad("not JSON", "{\"a\":", 0, "not a JSON object");
	bad("JSON array", "[1,2]", 0, "does not start with '{'");
	bad("no dtype", "{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "no \"dtype\"");
	bad("unknown dtype", "{\"a\":{\"dtype\":\"F31\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
	    "unknown dtype 'F31'");
	bad("negative dim", "{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4,
	    "shape entry 0");
	bad("fractional dim", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4,
	    "shape entry 0");
	bad("size mismatch", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4,
	    "shape needs");
	bad("offsets past data", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4,
	    "leave the 4 data bytes");
	bad("reversed offsets", "{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,0]}}", 4,
	    "data_offsets [4, 0]");
	bad("overflowing shape",
	    "{\"a\":{\"dtype\":\"F64\",\"shape\":[4294967296,4294967296,4096],\"data_offsets\":[0,4]}}",
	    4, "too many");
	bad("overlap",
	    "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
	    "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
	    4, "overlap or hole");
	bad("hole", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8,
	    "overlap or hole");
	bad("trailing bytes", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 6,
	    "2 data bytes after");
	bad("duplicate name",
	    "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
	    "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
	    8, "appears twice");
	bad("metadata not strings", "{\"__metadata__\":{\"k\":1}}", 0, "metadata 'k'");
	bad("tensor not an object", "{\"a\":3}", 0, "not a JSON object");
	tap_ok(mn_st_read(&st, "/nonexistent/w.safetensors", err, sizeof err) == -1 &&
		       strstr(err, "cannot open"),
	       "missing file: cannot open (%s)", err);

	/* Weights check: a file written from the spec binds; changes name the
	 * first mismatch. */
	struct mn_arch arch;
	struct mn_parse_error pe;
	struct mn_net_shape shape = {4, 1, 8, 3, 3, 0};
	mn_arch_parse("|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|none~0|avg_pool_3x3~1|nor_conv_3x3~2|",
		      &arch, &pe);
	int n = mn_weights_spec(&arch, &shape, NULL, 0);
	struct mn_wspec spec[64];
	struct mn_st_out so[64] = {{0}};
	static float zeros[65536];
	tap_ok(n > 0 && n <= 64 && mn_weights_spec(&arch, &shape, spec, 64) == n, "spec has %d tensors", n);
	uint64_t count = 0;
	for (int i = 0; i < n; i++) {
		uint64_t e = 1;
		so[i].name = spec[i].name;
		so[i].ndim = spec[i].ndim;
		for (int d = 0; d < spec[i].ndim; d++)
			so[i].shape[d] = spec[i].shape[d], e *= (uint64_t)spec[i].shape[d];
		so[i].data = zeros;
		count += e;
	}
	/* Folding removes BN's second vector (gamma and beta become one
	 * bias), and the head BN is kept as scale and shift. */
	struct mn_cost cost;
	mn_cost_arch(&arch, &shape, &cost);
	uint64_t convs = 0;
	for (int i = 0; i < n; i++)
		if (strstr(spec[i].name, ".bias") && strncmp(spec[i].name, "lastact", 7) &&
		    strncmp(spec[i].name, "classifier", 10))
			convs += (uint64_t)spec[i].shape[0];
	tap_ok(count + convs == cost.params,
	       "folded values (%llu) + one per folded BN channel (%llu) = cost's params (%llu)",
	       (unsigned long long)count, (unsigned long long)convs,
	       (unsigned long long)cost.params);
	struct mn_fnet net;
	tap_ok(mn_st_write(path, so, (size_t)n, NULL, 0, err, sizeof err) == 0 &&
		       mn_st_read(&st, path, err, sizeof err) == 0 &&
		       mn_fnet_bind(&net, &st, &arch, &shape, err, sizeof err) == 0,
	       "a file of the spec binds (%s)", err);
	mn_fnet_free(&net);
	mn_st_free(&st);
	/* A diverged training's weights: NaN or infinity in one tensor. */
	static float poisoned[65536];
	const float nonfinite[2] = {NAN, INFINITY};
	for (int k = 0; k < 2; k++) {
		poisoned[3] = nonfinite[k];
		so[2].data = poisoned;
		tap_ok(mn_st_write(path, so, (size_t)n, NULL, 0, err, sizeof err) == 0 &&
			       mn_st_read(&st, path, err, sizeof err) == 0 &&
			       mn_fnet_bind(&net, &st, &arch, &shape, err, sizeof err) == -1 &&
			       strstr(err, spec[2].name) && strstr(err, "at element 3") &&
			       strstr(err, k ? "infinite" : "NaN") && strstr(err, "train again"),
		       "%s weight is refused, naming the tensor (%s)", k ? "an infinite" : "a NaN", err);
		mn_st_free(&st);
	}
	so[2].data = zeros;
	/* Wrong shape of one tensor. */
	so[2].shape[1] = 5;
	mn_st_write(path, so, (size_t)n, meta, 1, err, sizeof err);
	mn_st_read(&st, path, err, sizeof err);
	tap_ok(mn_fnet_bind(&net, &st, &arch, &shape, err, sizeof err) == -1 &&
		       strstr(err, spec[2].name) && strstr(err, "has shape") &&
		       strstr(err, "exported for |none~0|"),
	       "wrong shape named (%s)", err);
	mn_st_free(&st);
	so[2].shape[1] = spec[2].shape[1];
	/* Weights model.py exported for a 49x10x1 network of 12 classes, bound
	 * as the 8x8x3 one: the hint gives every flag of the file's network,
	 * the input channels from the metadata, else (older files) the stem. */
	char a_str[MN_ARCH_STRLEN];
	mn_arch_format(&arch, a_str, sizeof a_str);
	struct mn_st_meta kws[6] = {{"arch", a_str}, {"channels", "4"}, {"cells", "1"},
				    {"resolution", "49x10"}, {"classes", "12"}, {"input_channels", "1"}};
	so[0].shape[1] = 1;
	for (int m = 6; m >= 5; m--) {
		mn_st_write(path, so, (size_t)n, kws, (size_t)m, err, sizeof err);
		mn_st_read(&st, path, err, sizeof err);
		tap_ok(mn_fnet_bind(&net, &st, &arch, &shape, err, sizeof err) == -1 &&
			       strstr(err, "'stem.weight' has shape [4, 1, 3, 3], this arch needs [4, 3, 3, 3]") &&
			       strstr(err, "with --channels 4 --cells 1 --resolution 49x10 --input-channels 1 "
					   "--classes 12: give those flags)"),
		       "another input: the hint names the file's flags, input channels from the %s (%s)",
		       m == 6 ? "metadata" : "stem", err);
		mn_st_free(&st);
	}
	kws[0].value = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|";
	mn_st_write(path, so, (size_t)n, kws, 6, err, sizeof err);
	mn_st_read(&st, path, err, sizeof err);
	tap_ok(mn_fnet_bind(&net, &st, &arch, &shape, err, sizeof err) == -1 &&
		       strstr(err, "give that arch and those flags)"),
	       "another arch too: the hint says to give that arch (%s)", err);
	mn_st_free(&st);
	so[0].shape[1] = spec[0].shape[1];
	/* Another arch's weights: a missing edge. */
	struct mn_arch other = arch;
	other.op[1] = MN_OP_CONV1;
	tap_ok(mn_st_write(path, so, (size_t)n, NULL, 0, err, sizeof err) == 0 &&
		       mn_st_read(&st, path, err, sizeof err) == 0 &&
		       mn_fnet_bind(&net, &st, &other, &shape, err, sizeof err) == -1 &&
		       strstr(err, "'cells.0.edge1.weight' [4, 4, 1, 1] is missing"),
	       "missing tensor named (%s)", err);
	other.op[1] = MN_OP_NONE;
	other.op[2] = MN_OP_NONE;
	tap_ok(mn_fnet_bind(&net, &st, &other, &shape, err, sizeof err) == -1 &&
		       strstr(err, "'cells.0.edge2.") && strstr(err, "not part of this arch"),
	       "extra tensor named (%s)", err);
	mn_st_free(&st);
	remove(path);
	return tap_done();
}
