/* NumPy .npy input: the header parser, uint8 NHWC and float32 NHW sets,
 * the labels beside them, the proxy batch and crops drawn from them, and
 * the one-line refusals of what is not supported or not what it claims. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/dataset.h"
#include "data/dataset_source.h"
#include "data/npy.h"
#include "tap.h"

static char tmpdir[256];

static const char *tpath(const char *name, char *buf, size_t n)
{
	snprintf(buf, n, "%s/%s", tmpdir, name);
	return buf;
}

static int one_line(const char *s) { return s[0] && !strchr(s, '\n'); }

/* A test-only writer of NumPy's format: the dict text given, padded with
 * spaces so the data starts at a multiple of 64, as numpy.save does. */
static int write_npy(const char *path, int major, const char *dict, const void *data, size_t bytes)
{
	size_t prefix = major == 1 ? 10 : 12, len = strlen(dict);
	size_t total = (prefix + len + 1 + 63) / 64 * 64;
	size_t hl = total - prefix;
	unsigned char pre[12] = {0x93, 'N', 'U', 'M', 'P', 'Y', (unsigned char)major, 0};
	pre[8] = (unsigned char)hl;
	pre[9] = (unsigned char)(hl >> 8);
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	int ok = fwrite(pre, 1, prefix, f) == prefix && fwrite(dict, 1, len, f) == len;
	for (size_t k = prefix + len; ok && k + 1 < total; k++)
		ok = fputc(' ', f) != EOF;
	ok = ok && fputc('\n', f) != EOF && (bytes == 0 || fwrite(data, 1, bytes, f) == bytes);
	return fclose(f) == 0 && ok ? 0 : -1;
}

static void test_parser(void)
{
	struct mn_npy_header h;
	char err[200];
	unsigned char buf[256];
	const char *dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (7, 5, 3), }";
	size_t len = strlen(dict);
	memcpy(buf, "\x93NUMPY\x01\x00", 8);
	buf[8] = (unsigned char)(len + 1);
	buf[9] = 0;
	memcpy(buf + 10, dict, len);
	buf[10 + len] = '\n';
	int rc = mn_npy_parse_header(buf, 11 + len, &h, err, sizeof err);
	tap_ok(rc == 0 && h.kind == 'f' && h.item_size == 4 && h.byte_order == '<' && !h.fortran_order &&
		       h.ndim == 3 && h.shape[0] == 7 && h.shape[1] == 5 && h.shape[2] == 3 &&
		       h.data_offset == 11 + len && mn_npy_elements(&h) == 105,
	       "v1 header: <f4, C order, (7, 5, 3) (%s)", rc ? err : "ok");

	/* Version 3 (4-byte length), keys in another order, 1-tuple. */
	const char *d3 = "{\"shape\": (12,), \"fortran_order\": True, \"descr\": \"|u1\"}";
	len = strlen(d3);
	memcpy(buf, "\x93NUMPY\x03\x00", 8);
	buf[8] = (unsigned char)(len + 1);
	buf[9] = buf[10] = buf[11] = 0;
	memcpy(buf + 12, d3, len);
	buf[12 + len] = '\n';
	rc = mn_npy_parse_header(buf, 13 + len, &h, err, sizeof err);
	tap_ok(rc == 0 && h.major == 3 && h.kind == 'u' && h.item_size == 1 && h.fortran_order && h.ndim == 1 &&
		       h.shape[0] == 12, "v3 header, keys in any order (%s)", rc ? err : "ok");
	/* The same header cut short. */
	rc = mn_npy_parse_header(buf, 12 + len / 2, &h, err, sizeof err);
	tap_ok(rc != 0 && strstr(err, "truncated"), "a header cut short: %s", err);

	static const struct {
		const char *dict, *needle;
	} bad[] = {
		{"{'descr': '<f4', 'shape': (2,), }", "fortran_order"},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", "unknown"},
		{"{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,)}", "structured"},
		{"{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2,)}", "True nor False"},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (2, -1)}", "non-negative"},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}", "too large"},
		{"['descr', '<f4']", "not a dict"},
		{"{'descr': 'f4', 'fortran_order': False, 'shape': (2,)}", "plain numeric"},
		/* Found by make fuzz-npy: a key holding a newline must not reach
		 * the message. */
		{"{'sh\nape': (3, 2), 'fortran_order': True, 'descr': '>f8'}", "well-formed"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		len = strlen(bad[i].dict);
		memcpy(buf, "\x93NUMPY\x01\x00", 8);
		buf[8] = (unsigned char)(len + 1);
		buf[9] = 0;
		memcpy(buf + 10, bad[i].dict, len);
		buf[10 + len] = '\n';
		rc = mn_npy_parse_header(buf, 11 + len, &h, err, sizeof err);
		tap_ok(rc != 0 && strstr(err, bad[i].needle) && one_line(err), "refused header %zu: %s", i, err);
	}
	memcpy(buf, "\x93NUMPY\x04\x00\x00\x00", 10);
	rc = mn_npy_parse_header(buf, 10, &h, err, sizeof err);
	tap_ok(rc != 0 && strstr(err, "version 4.0"), "version 4 refused: %s", err);
	rc = mn_npy_parse_header((const unsigned char *)"PK\x03\x04", 4, &h, err, sizeof err);
	tap_ok(rc != 0 && strstr(err, "magic"), "a zip (.npz) refused: %s", err);
}

enum { N8 = 24, H8 = 10, W8 = 14, C8 = 3 };

/* Byte of image i at (y, x, c) in the NHWC file. */
static unsigned char px8(int i, int y, int x, int c) { return (unsigned char)(i * 31 + y * 7 + x * 3 + c * 50); }

static void test_uint8_nhwc(void)
{
	char p[512], q[512], err[512];
	static unsigned char img[N8 * H8 * W8 * C8];
	int64_t lab[N8];
	for (int i = 0; i < N8; i++) {
		lab[i] = i % 4;
		for (int y = 0; y < H8; y++)
			for (int x = 0; x < W8; x++)
				for (int c = 0; c < C8; c++)
					img[((i * H8 + y) * W8 + x) * C8 + c] = px8(i, y, x, c);
	}
	char dict[160];
	snprintf(dict, sizeof dict, "{'descr': '|u1', 'fortran_order': False, 'shape': (%d, %d, %d, %d), }", N8,
		 H8, W8, C8);
	tap_ok(write_npy(tpath("rgb.npy", p, sizeof p), 1, dict, img, sizeof img) == 0 &&
		       write_npy(tpath("rgb_labels.npy", q, sizeof q), 1,
				 "{'descr': '<i8', 'fortran_order': False, 'shape': (24,), }", lab, sizeof lab) == 0,
	       "wrote rgb.npy (uint8 NHWC) and rgb_labels.npy (int64)");
	struct mn_dataset d;
	int rc = mn_dataset_load(&d, p, err, sizeof err);
	tap_ok(rc == 0, "loads X.npy with X_labels.npy (%s)", rc ? err : "ok");
	if (rc)
		return;
	tap_ok(d.count == N8 && d.height == H8 && d.width == W8 && d.channels == C8 && d.classes == 4 &&
		       d.pixels && !d.values && strcmp(d.format, "npy") == 0,
	       "24 images of 10x14x3 bytes, 4 classes");
	int same = 1;
	for (int i = 0; i < N8; i++) {
		same &= d.labels[i] == i % 4;
		for (int c = 0; c < C8; c++)
			for (int y = 0; y < H8; y++)
				for (int x = 0; x < W8; x++)
					same &= d.pixels[((size_t)(i * C8 + c) * H8 + (size_t)y) * W8 + (size_t)x] ==
						px8(i, y, x, c);
	}
	tap_ok(same, "NHWC became planes, labels in order");
	/* Its own statistics: the normalised set has mean 0 and std 1 per
	 * channel. */
	int stats_ok = 1;
	for (int c = 0; c < C8; c++) {
		double s = 0, q2 = 0;
		for (int i = 0; i < N8; i++)
			for (int y = 0; y < H8; y++)
				for (int x = 0; x < W8; x++) {
					double v = mn_dataset_value(&d, (size_t)i, c, y, x);
					s += v;
					q2 += v * v;
				}
		double n = N8 * H8 * W8, m = s / n;
		stats_ok &= fabs(m) < 1e-5 && fabs(sqrt(q2 / n - m * m) - 1) < 1e-4;
	}
	tap_ok(stats_ok, "normalised with its own per-channel mean and std");

	/* The NTK batch: the whole 10x14 images (the network halves any side
	 * by ceil(n/2), so nothing is cropped). */
	int ph, pw;
	mn_dataset_proxy_size(&d, &ph, &pw);
	tap_ok(ph == 10 && pw == 14 && mn_dataset_batch_image_size(&d) == 3 * 10 * 14, "proxy size 10x14");
	float *out = malloc(5 * mn_dataset_batch_image_size(&d) * sizeof *out);
	size_t idx[5];
	int32_t lb[5];
	struct mn_rng r;
	mn_rng_seed(&r, 3);
	rc = mn_dataset_batch(&d, &r, 5, out, lb, idx, err, sizeof err);
	int crop_ok = rc == 0;
	for (int i = 0; crop_ok && i < 5; i++) {
		crop_ok &= lb[i] == d.labels[idx[i]];
		for (int c = 0; c < 3; c++)
			for (int y = 0; y < 10; y++)
				for (int x = 0; x < 14; x++)
					crop_ok &= out[((size_t)(i * 3 + c) * 10 + (size_t)y) * 14 + (size_t)x] ==
						   mn_dataset_value(&d, idx[i], c, y, x);
	}
	tap_ok(crop_ok, "batch images are the whole images, normalised (%s)", rc ? err : "ok");
	free(out);

	/* Crops: windows inside 10x14 over three channels. */
	enum { NC = 2000 };
	float *cr = malloc(NC * 9 * sizeof *cr);
	rc = mn_dataset_crops(&d, &r, NC, cr, err, sizeof err);
	tap_ok(rc == 0, "2000 crops");
	free(cr);
	mn_dataset_free(&d);

	/* The same set as a directory: images.npy + labels.npy. */
	char dir[512];
	tap_ok(mkdir(tpath("set", dir, sizeof dir), 0755) == 0 &&
		       write_npy(tpath("set/images.npy", p, sizeof p), 2, dict, img, sizeof img) == 0 &&
		       write_npy(tpath("set/labels.npy", q, sizeof q), 1,
				 "{'descr': '<i8', 'fortran_order': False, 'shape': (24, 1), }", lab, sizeof lab) == 0,
	       "wrote set/images.npy (format 2.0) and set/labels.npy (24, 1)");
	rc = mn_dataset_load(&d, dir, err, sizeof err);
	tap_ok(rc == 0 && d.count == N8 && d.classes == 4, "a directory with images.npy and labels.npy (%s)",
	       rc ? err : "ok");
	mn_dataset_free(&d);
}

static void test_float_nhw(void)
{
	char p[512], q[512], err[512];
	enum { N = 12, H = 9, W = 7 };
	static float img[N * H * W];
	uint8_t lab[N];
	for (int i = 0; i < N * H * W; i++)
		img[i] = (float)sin(i * 0.37) * 3.5f + 1.25f;
	for (int i = 0; i < N; i++)
		lab[i] = (uint8_t)(i % 3);
	char dict[160];
	snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d, %d), }", N, H, W);
	tap_ok(write_npy(tpath("gray.npy", p, sizeof p), 1, dict, img, sizeof img) == 0 &&
		       write_npy(tpath("gray_labels.npy", q, sizeof q), 1,
				 "{'descr': '|u1', 'fortran_order': False, 'shape': (12,), }", lab, sizeof lab) == 0,
	       "wrote gray.npy (float32 NHW) and uint8 labels");
	struct mn_dataset d;
	int rc = mn_dataset_load(&d, p, err, sizeof err);
	tap_ok(rc == 0 && d.count == N && d.height == H && d.width == W && d.channels == 1 && d.classes == 3 &&
		       d.values && !d.pixels,
	       "12 float images of 9x7x1, 3 classes (%s)", rc ? err : "ok");
	if (rc)
		return;
	double m = 0;
	for (int i = 0; i < N * H * W; i++)
		m += img[i];
	m /= N * H * W;
	tap_ok(fabs(d.mean[0] - m) < 1e-9 && d.values[5] == img[5], "float values kept as stored, mean %.6f", d.mean[0]);
	float v = mn_dataset_value(&d, 1, 0, 2, 3);
	float want = (float)((img[1 * H * W + 2 * W + 3] - d.mean[0]) / d.std[0]);
	tap_ok(v == want, "a float value normalised as (v - mean) / std");
	enum { NC = 500 };
	float cr[NC * 9];
	struct mn_rng r;
	mn_rng_seed(&r, 9);
	tap_ok(mn_dataset_crops(&d, &r, NC, cr, err, sizeof err) == 0, "crops from one channel");
	mn_dataset_free(&d);
}

static void expect_error(const char *path, const char *what, const char *name, const char *needle)
{
	struct mn_dataset d;
	char err[512] = "";
	int rc = mn_dataset_load(&d, path, err, sizeof err);
	tap_ok(rc != 0 && d.count == 0 && d.pixels == NULL && d.values == NULL, "%s: refused", what);
	tap_ok(one_line(err) && strstr(err, name) && strstr(err, needle) && strchr(err, '('),
	       "%s: one line naming the file, '%s' and a fix: %s", what, needle, err);
}

static void test_errors(void)
{
	char p[512], q[512];
	uint8_t img[4 * 6 * 6] = {0};
	uint8_t lab[4] = {0, 1, 0, 1};
	const char *ok_lab = "{'descr': '|u1', 'fortran_order': False, 'shape': (4,), }";
	const char *ok_img = "{'descr': '|u1', 'fortran_order': False, 'shape': (4, 6, 6), }";

	/* Truncated: the data stops short of what the shape says. */
	write_npy(tpath("trunc.npy", p, sizeof p), 1, ok_img, img, sizeof img - 10);
	write_npy(tpath("trunc_labels.npy", q, sizeof q), 1, ok_lab, lab, sizeof lab);
	expect_error(p, "truncated data", p, "truncated");
	/* Truncated inside the header. */
	FILE *f = fopen(tpath("cut.npy", p, sizeof p), "wb");
	tap_ok(f && fwrite("\x93NUMPY\x01\x00\x76\x00{'descr'", 1, 18, f) == 18 && fclose(f) == 0, "made cut.npy");
	write_npy(tpath("cut_labels.npy", q, sizeof q), 1, ok_lab, lab, sizeof lab);
	expect_error(p, "header cut short", p, "truncated");
	/* The header lies: it claims fewer images than the file holds. */
	write_npy(tpath("lies.npy", p, sizeof p), 1,
		  "{'descr': '|u1', 'fortran_order': False, 'shape': (3, 6, 6), }", img, sizeof img);
	write_npy(tpath("lies_labels.npy", q, sizeof q), 1, ok_lab, lab, sizeof lab);
	expect_error(p, "header lies about the shape", p, "(3, 6, 6)");
	/* Unsupported dtypes. */
	double dimg[4 * 6 * 6] = {0};
	write_npy(tpath("f64.npy", p, sizeof p), 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (4, 6, 6), }",
		  dimg, sizeof dimg);
	write_npy(tpath("f64_labels.npy", q, sizeof q), 1, ok_lab, lab, sizeof lab);
	expect_error(p, "float64 images", p, "dtype <f8");
	write_npy(tpath("flab.npy", p, sizeof p), 1, ok_img, img, sizeof img);
	float flab[4] = {0};
	write_npy(tpath("flab_labels.npy", q, sizeof q), 1,
		  "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", flab, sizeof flab);
	expect_error(p, "float labels", q, "labels of dtype <f4");
	/* Fortran order. */
	write_npy(tpath("fort.npy", p, sizeof p), 1, "{'descr': '|u1', 'fortran_order': True, 'shape': (4, 6, 6), }",
		  img, sizeof img);
	write_npy(tpath("fort_labels.npy", q, sizeof q), 1, ok_lab, lab, sizeof lab);
	expect_error(p, "Fortran order", p, "Fortran");
	/* Wrong rank, labels count, negative label, missing labels. */
	write_npy(tpath("rank.npy", p, sizeof p), 1, "{'descr': '|u1', 'fortran_order': False, 'shape': (144,), }",
		  img, sizeof img);
	write_npy(tpath("rank_labels.npy", q, sizeof q), 1, ok_lab, lab, sizeof lab);
	expect_error(p, "1-d images", p, "expected (N, H, W)");
	/* PyTorch's (N, C, H, W): named as channels-first, with the transpose. */
	uint8_t cimg[4 * 3 * 6 * 6] = {0};
	write_npy(tpath("nchw.npy", p, sizeof p), 1,
		  "{'descr': '|u1', 'fortran_order': False, 'shape': (4, 3, 6, 6), }", cimg, sizeof cimg);
	write_npy(tpath("nchw_labels.npy", q, sizeof q), 1, ok_lab, lab, sizeof lab);
	expect_error(p, "channels-first images", p, "transpose(0, 2, 3, 1)");
	write_npy(tpath("count.npy", p, sizeof p), 1, ok_img, img, sizeof img);
	write_npy(tpath("count_labels.npy", q, sizeof q), 1,
		  "{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }", lab, 3);
	expect_error(p, "3 labels for 4 images", q, "one label per image");
	write_npy(tpath("neg.npy", p, sizeof p), 1, ok_img, img, sizeof img);
	int8_t nlab[4] = {0, -1, 0, 1};
	write_npy(tpath("neg_labels.npy", q, sizeof q), 1,
		  "{'descr': '|i1', 'fortran_order': False, 'shape': (4,), }", nlab, sizeof nlab);
	expect_error(p, "negative label", q, "label 1 is -1, negative");
	write_npy(tpath("nolab.npy", p, sizeof p), 1, ok_img, img, sizeof img);
	expect_error(p, "no labels file", "nolab_labels.npy", "no labels");
	/* A mistyped images path: named as missing, not as lacking labels. */
	expect_error(tpath("missing.npy", p, sizeof p), "a missing .npy", p, "cannot open");
	/* Not an .npy at all. */
	f = fopen(tpath("text.npy", p, sizeof p), "wb");
	tap_ok(f && fputs("hello\n", f) >= 0 && fclose(f) == 0, "made text.npy");
	write_npy(tpath("text_labels.npy", q, sizeof q), 1, ok_lab, lab, sizeof lab);
	expect_error(p, "a text file named .npy", p, "magic");
	/* A .npz archive: named as one, not as a truncated CIFAR binary. */
	f = fopen(tpath("set.npz", p, sizeof p), "wb");
	tap_ok(f && fwrite("PK\x03\x04", 1, 4, f) == 4 && fclose(f) == 0, "made set.npz");
	expect_error(p, "a .npz archive", p, ".npz archive is not read");
	/* NaN in float images. */
	float nimg[4 * 6 * 6] = {0};
	nimg[40] = NAN;
	write_npy(tpath("nan.npy", p, sizeof p), 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 6, 6), }",
		  nimg, sizeof nimg);
	write_npy(tpath("nan_labels.npy", q, sizeof q), 1, ok_lab, lab, sizeof lab);
	expect_error(p, "NaN in the images", p, "NaN");
}

/* Several paths: joined when they agree, refused in one line when not. */
static void test_paths(void)
{
	char a[512], b[512], err[512];
	const char *paths[2] = {tpath("rgb.npy", a, sizeof a), a};
	struct mn_dataset d;
	int rc = mn_dataset_load_paths(&d, paths, 2, err, sizeof err);
	tap_ok(rc == 0 && d.count == 2 * N8 && d.files == 4 && d.labels[N8 + 1] == 1 && d.classes == 4,
	       "the same .npy set twice: 48 images (%s)", rc ? err : "ok");
	mn_dataset_free(&d);
	paths[1] = tpath("gray.npy", b, sizeof b);
	rc = mn_dataset_load_paths(&d, paths, 2, err, sizeof err);
	tap_ok(rc != 0 && one_line(err) && strstr(err, b) && strstr(err, "does not match") && d.count == 0,
	       "sets of two shapes refused: %s", err);
}

/* mn_npy_write_set: a set written and read back is the same set (bytes
 * NHWC, floats NHW), and numpy's layout rules hold (data 64-aligned). */
static void roundtrip(const char *src, const char *name)
{
	char p[512], q[512], err[512];
	struct mn_dataset a, b;
	if (!tap_ok(mn_dataset_load(&a, tpath(src, p, sizeof p), err, sizeof err) == 0,
		    "%s read (%s)", src, err))
		return;
	snprintf(q, sizeof q, "%s", tpath(name, p, sizeof p));
	size_t n = strlen(q);
	char lab[520];
	snprintf(lab, sizeof lab, "%.*s_labels.npy", (int)(n - 4), q);
	int rc = mn_npy_write_set(&a, q, lab, err, sizeof err);
	tap_ok(rc == 0, "%s written as %s (%s)", src, name, rc ? err : "ok");
	rc = rc ? -1 : mn_dataset_load(&b, q, err, sizeof err);
	size_t vals = mn_dataset_image_size(&a) * a.count;
	int same = rc == 0 && b.count == a.count && b.height == a.height && b.width == a.width &&
		   b.channels == a.channels && b.classes == a.classes &&
		   !memcmp(b.labels, a.labels, sizeof *a.labels * a.count) &&
		   (a.pixels ? b.pixels && !memcmp(a.pixels, b.pixels, vals)
			     : b.values && !memcmp(a.values, b.values, sizeof(float) * vals));
	tap_ok(same, "%s read back: the same images, values and labels (%s)", name, rc ? err : "ok");
	FILE *f = fopen(q, "rb");
	unsigned char h[10] = {0};
	tap_ok(f && fread(h, 1, 10, f) == 10 && (10 + h[8] + 256 * h[9]) % 64 == 0,
	       "%s: a version 1.0 header, the data 64-byte aligned", name);
	if (f)
		fclose(f);
	if (rc == 0)
		mn_dataset_free(&b);
	mn_dataset_free(&a);
}

int main(void)
{
	snprintf(tmpdir, sizeof tmpdir, "%s", "/tmp/mn_test_npy_XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	test_parser();
	test_uint8_nhwc();
	test_float_nhw();
	test_errors();
	test_paths();
	roundtrip("rgb.npy", "rgb_rt.npy");
	roundtrip("gray.npy", "gray_rt.npy");
	char cmd[512];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", tmpdir);
	return tap_done();
}
