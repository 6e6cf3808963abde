/* CIFAR-10 reading, normalisation, batches and crops. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/cifar.h"
#include "tap.h"
#include "data/dataset_source.h"

static char tmpdir[256];

/* Pixel byte of record r at offset k: a pattern the test can recompute. */
static unsigned char pattern(size_t r, size_t k) { return (unsigned char)((k * 7 + r * 13 + k / 251) & 0xff); }

static int write_records(const char *path, const unsigned char *labels, size_t n, long trim)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	for (size_t r = 0; r < n; r++) {
		unsigned char rec[MN_CIFAR_RECORD_BYTES];
		rec[0] = labels[r];
		for (size_t k = 0; k < MN_CIFAR_IMAGE_BYTES; k++)
			rec[1 + k] = pattern(r, k);
		size_t len = sizeof rec;
		if (r == n - 1 && trim > 0)
			len -= (size_t)trim;
		if (fwrite(rec, 1, len, f) != len) {
			fclose(f);
			return -1;
		}
	}
	return fclose(f);
}

static const char *tpath(const char *name, char *buf, size_t n)
{
	snprintf(buf, n, "%s/%s", tmpdir, name);
	return buf;
}

static int one_line(const char *s) { return s[0] && !strchr(s, '\n'); }

static void test_round_trip(void)
{
	char p[512], err[512];
	const unsigned char labels[3] = {0, 9, 5};
	struct mn_dataset d;
	tap_ok(write_records(tpath("three.bin", p, sizeof p), labels, 3, 0) == 0, "wrote a 3-image file");
	int rc = mn_dataset_load(&d, p, err, sizeof err);
	tap_ok(rc == 0, "loads a file it wrote (%s)", rc ? err : "ok");
	if (rc)
		return;
	tap_ok(d.count == 3 && d.files == 1 && !d.synthetic, "3 images from 1 file, not synthetic");
	tap_ok(d.labels[0] == 0 && d.labels[1] == 9 && d.labels[2] == 5, "labels 0, 9, 5");
	int same = 1;
	for (size_t r = 0; r < 3; r++)
		for (size_t k = 0; k < MN_CIFAR_IMAGE_BYTES; k++)
			same &= d.pixels[r * MN_CIFAR_IMAGE_BYTES + k] == pattern(r, k);
	tap_ok(same, "every pixel byte as written (R, G, B planes)");

	/* A batch of all three: a permutation, each image normalised per
	 * channel, the plane layout kept (NCHW). */
	float *out = malloc(3 * MN_CIFAR_IMAGE_BYTES * sizeof *out);
	int32_t lab[3];
	size_t idx[3];
	struct mn_rng r;
	mn_rng_seed(&r, 7);
	rc = mn_dataset_batch(&d, &r, 3, out, lab, idx, err, sizeof err);
	tap_ok(rc == 0, "batch of 3 from 3 images");
	tap_ok(idx[0] != idx[1] && idx[1] != idx[2] && idx[0] != idx[2] && idx[0] < 3 && idx[1] < 3 &&
		       idx[2] < 3,
	       "the batch is a permutation: no image twice");
	int exact = 1, labels_ok = 1;
	for (size_t i = 0; i < 3; i++) {
		labels_ok &= lab[i] == d.labels[idx[i]];
		for (int c = 0; c < 3; c++)
			for (int q = 0; q < MN_CIFAR_PLANE; q++) {
				unsigned char v = pattern(idx[i], (size_t)(c * MN_CIFAR_PLANE + q));
				double want = (v - (c == 0 ? 125.3 : c == 1 ? 123.0 : 113.9)) /
					      (c == 0 ? 63.0 : c == 1 ? 62.1 : 66.7);
				float got = out[i * MN_CIFAR_IMAGE_BYTES + (size_t)c * MN_CIFAR_PLANE + (size_t)q];
				exact &= fabs(got - want) < 1e-6 * (1 + fabs(want));
			}
	}
	tap_ok(exact, "batch values = (pixel - 255 mean) / (255 std) per channel");
	tap_ok(labels_ok, "batch labels follow the images");
	rc = mn_dataset_batch(&d, &r, 4, out, NULL, NULL, err, sizeof err);
	tap_ok(rc != 0 && one_line(err) && strstr(err, "batch of 4"), "a batch larger than the data is refused: %s", err);
	rc = mn_dataset_batch(&d, &r, 0, out, NULL, NULL, err, sizeof err);
	tap_ok(rc != 0, "a batch of 0 is refused");
	free(out);
	mn_dataset_free(&d);
	tap_ok(d.count == 0 && d.pixels == NULL, "free empties the set");
}

static void test_normalize(void)
{
	tap_ok(fabs(mn_cifar_normalize(0, 0) - (-125.3 / 63.0)) < 1e-6, "R 0 -> -125.3/63");
	tap_ok(fabs(mn_cifar_normalize(0, 255) - (129.7 / 63.0)) < 1e-6, "R 255 -> 129.7/63");
	tap_ok(fabs(mn_cifar_normalize(1, 123) - 0.0) < 1e-6, "G 123 -> 0 (the mean)");
	tap_ok(fabs(mn_cifar_normalize(2, 200) - (86.1 / 66.7)) < 1e-6, "B 200 -> 86.1/66.7");
	tap_ok(fabsf(mn_cifar_mean[2] - 113.9f / 255) < 1e-7f && fabsf(mn_cifar_std[1] - 62.1f / 255) < 1e-7f,
	       "exported mean and std are TE-NAS's");
}

static void expect_error(const char *path, const char *what, const char *needle)
{
	struct mn_dataset d;
	char err[512] = "";
	int rc = mn_dataset_load(&d, path, err, sizeof err);
	tap_ok(rc != 0 && d.count == 0 && d.pixels == NULL, "%s: refused", what);
	tap_ok(one_line(err) && strstr(err, path) && strstr(err, needle) && strchr(err, '('),
	       "%s: one line naming the file, '%s' and a fix: %s", what, needle, err);
}

static void test_errors(void)
{
	char p[512], q[512], err[512];
	const unsigned char labels[3] = {1, 2, 3};
	const unsigned char bad[3] = {1, 10, 3};

	expect_error(tpath("missing.bin", p, sizeof p), "missing file", "No such file");

	FILE *f = fopen(tpath("empty.bin", p, sizeof p), "wb");
	tap_ok(f && fclose(f) == 0, "made an empty file");
	expect_error(p, "empty file", "empty");

	tap_ok(write_records(tpath("short.bin", p, sizeof p), labels, 2, 5) == 0, "made a short file");
	expect_error(p, "short file", "not a multiple of 3073");

	tap_ok(write_records(tpath("corrupt.bin", p, sizeof p), bad, 3, 0) == 0, "made a file with label 10");
	expect_error(p, "label > 9", "label 10");

	tap_ok(mkdir(tpath("nobatches", p, sizeof p), 0755) == 0, "made an empty directory");
	expect_error(p, "directory without batches", "none of data_batch_1.bin");

	/* A data_batch file that cannot be read as a file (works as root). */
	tap_ok(mkdir(tpath("dirbatch", p, sizeof p), 0755) == 0 &&
		       mkdir(tpath("dirbatch/data_batch_1.bin", q, sizeof q), 0755) == 0,
	       "made a directory whose data_batch_1.bin is a directory");
	expect_error(p, "unreadable batch", "is a directory");

	if (geteuid() != 0) {
		tap_ok(write_records(tpath("noperm.bin", p, sizeof p), labels, 1, 0) == 0 && chmod(p, 0) == 0,
		       "made an unreadable file");
		expect_error(p, "unreadable file", "Permission denied");
	} else {
		tap_diag("running as root: the permission-denied case cannot be made, skipped");
	}

	/* A directory holding batches 1 and 3 reads those two, in order. */
	struct mn_dataset d;
	tap_ok(mkdir(tpath("batches", p, sizeof p), 0755) == 0 &&
		       write_records(tpath("batches/data_batch_1.bin", q, sizeof q), labels, 3, 0) == 0 &&
		       write_records(tpath("batches/data_batch_3.bin", q, sizeof q), bad, 1, 0) == 0 &&
		       write_records(tpath("batches/test_batch.bin", q, sizeof q), labels, 2, 0) == 0,
	       "made a directory with data_batch_1, data_batch_3 and test_batch");
	/* data_batch_3 has label 1 (first record of 'bad'): it is valid. */
	int rc = mn_dataset_load(&d, p, err, sizeof err);
	tap_ok(rc == 0 && d.count == 4 && d.files == 2 && d.labels[0] == 1 && d.labels[3] == 1,
	       "a directory reads the data_batch files that exist, not test_batch (%s)", rc ? err : "ok");
	mn_dataset_free(&d);

	/* Several paths: a file and a directory. */
	const char *paths[2];
	char a[512];
	paths[0] = tpath("three.bin", a, sizeof a);
	paths[1] = p;
	rc = mn_dataset_load_paths(&d, paths, 2, err, sizeof err);
	tap_ok(rc == 0 && d.count == 7 && d.files == 3 && d.labels[0] == 0 && d.labels[3] == 1,
	       "a file and a directory together: 7 images (%s)", rc ? err : "ok");
	mn_dataset_free(&d);
	rc = mn_dataset_load_paths(&d, paths, 0, err, sizeof err);
	tap_ok(rc != 0 && one_line(err), "no path at all is an error: %s", err);
}

/* CIFAR-100: 1 coarse + 1 fine label byte per record; the fine label is
 * the class, TE-NAS's CIFAR-100 statistics normalise it. */
static int write_records100(const char *path, const unsigned char *fine, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	for (size_t r = 0; r < n; r++) {
		unsigned char rec[MN_CIFAR100_RECORD_BYTES];
		rec[0] = (unsigned char)(fine[r] / 5); /* coarse: 20 superclasses */
		rec[1] = fine[r];
		for (size_t k = 0; k < MN_CIFAR_IMAGE_BYTES; k++)
			rec[2 + k] = pattern(r, k);
		if (fwrite(rec, 1, sizeof rec, f) != sizeof rec) {
			fclose(f);
			return -1;
		}
	}
	return fclose(f);
}

static void test_cifar100(void)
{
	char p[512], q[512], err[512];
	const unsigned char fine[4] = {99, 0, 42, 7};
	struct mn_dataset d;
	tap_ok(mkdir(tpath("c100", p, sizeof p), 0755) == 0 &&
		       write_records100(tpath("c100/train.bin", q, sizeof q), fine, 4) == 0,
	       "wrote a CIFAR-100 train.bin of 4 images");
	int rc = mn_dataset_load(&d, p, err, sizeof err);
	tap_ok(rc == 0 && d.count == 4 && d.classes == 100 && d.channels == 3 && d.height == 32 &&
		       strcmp(d.format, "CIFAR-100") == 0,
	       "a directory with train.bin is CIFAR-100: 4 images, 100 classes (%s)", rc ? err : "ok");
	if (rc == 0) {
		tap_ok(d.labels[0] == 99 && d.labels[1] == 0 && d.labels[2] == 42 && d.labels[3] == 7,
		       "fine labels 99 0 42 7, not the coarse ones");
		int same = 1;
		for (size_t k = 0; k < MN_CIFAR_IMAGE_BYTES; k++)
			same &= d.pixels[3 * MN_CIFAR_IMAGE_BYTES + k] == pattern(3, k);
		tap_ok(same, "pixels after the two label bytes");
		tap_ok(mn_dataset_value(&d, 0, 0, 0, 0) == (float)((pattern(0, 0) / 255.0 - 129.3 / 255.0) / (68.2 / 255.0)),
		       "normalised with TE-NAS's CIFAR-100 statistics");
		mn_dataset_free(&d);
	}
	/* A CIFAR-10 file named like CIFAR-100's (bench_export.sh's train.bin)
	 * is known by its record size too. */
	const unsigned char ten[4] = {9, 0, 4, 7};
	tap_ok(mkdir(tpath("c10named", q, sizeof q), 0755) == 0 &&
		       write_records(tpath("c10named/train.bin", q, sizeof q), ten, 4, 0) == 0,
	       "wrote 4 CIFAR-10 records as train.bin");
	rc = mn_dataset_load(&d, q, err, sizeof err);
	tap_ok(rc == 0 && d.classes == 10 && d.count == 4 && strcmp(d.format, "CIFAR-10") == 0 &&
		       d.labels[0] == 9 && d.labels[3] == 7,
	       "CIFAR-10 records named train.bin are CIFAR-10: 4 images, labels 9 .. 7 (%s)",
	       rc ? err : "ok");
	if (rc == 0)
		mn_dataset_free(&d);
	/* A renamed CIFAR-100 file is known by its record size. */
	tap_ok(write_records100(tpath("c100/part.bin", q, sizeof q), fine, 3) == 0, "wrote part.bin (3 records)");
	rc = mn_dataset_load(&d, q, err, sizeof err);
	tap_ok(rc == 0 && d.classes == 100 && d.count == 3, "a 3074-byte-record file is CIFAR-100 (%s)", rc ? err : "ok");
	mn_dataset_free(&d);
	/* Fine label 100 is out of range. */
	const unsigned char bad[2] = {3, 100};
	tap_ok(write_records100(tpath("c100bad.bin", q, sizeof q), bad, 2) == 0, "wrote a CIFAR-100 file with label 100");
	expect_error(q, "CIFAR-100 label 100", "label 100");
	/* CIFAR-10 and CIFAR-100 do not mix. */
	const char *paths[2];
	char a[512];
	paths[0] = tpath("three.bin", a, sizeof a);
	paths[1] = tpath("c100/part.bin", q, sizeof q);
	rc = mn_dataset_load_paths(&d, paths, 2, err, sizeof err);
	tap_ok(rc != 0 && one_line(err) && strstr(err, "CIFAR-100") && strstr(err, "CIFAR-10 "),
	       "CIFAR-10 and CIFAR-100 together refused: %s", err);
}

static void test_synthetic_and_determinism(void)
{
	struct mn_dataset a, b;
	char err[256];
	tap_ok(mn_dataset_synthetic(&a, 50, 11, err, sizeof err) == 0 &&
		       mn_dataset_synthetic(&b, 50, 11, err, sizeof err) == 0,
	       "two synthetic sets from seed 11");
	tap_ok(a.synthetic && a.count == 50 && a.files == 0, "flagged synthetic");
	/* CIFAR-10's values must stay bit-identical to the original
	 * normalisation, so searches give the same results as before. */
	int lut_same = a.lut != NULL;
	for (int c = 0; lut_same && c < 3; c++)
		for (int v = 0; v < 256; v++)
			lut_same &= mn_dataset_value(&a, 0, c, 0, 0) == mn_cifar_normalize(c, a.pixels[c * 1024]) &&
				    a.lut[c * 256 + v] == mn_cifar_normalize(c, (unsigned char)v);
	tap_ok(lut_same, "every CIFAR-10 byte normalises to exactly mn_cifar_normalize's value");
	tap_ok(memcmp(a.pixels, b.pixels, 50 * MN_CIFAR_IMAGE_BYTES) == 0 && memcmp(a.labels, b.labels, 50 * sizeof *a.labels) == 0,
	       "same seed, same images");
	mn_dataset_free(&b);
	tap_ok(mn_dataset_synthetic(&b, 50, 12, err, sizeof err) == 0 &&
		       memcmp(a.pixels, b.pixels, 50 * MN_CIFAR_IMAGE_BYTES) != 0,
	       "another seed, other images");
	mn_dataset_free(&b);
	tap_ok(mn_dataset_synthetic_shape(&b, 50, 32, 32, 3, 10, 11, err, sizeof err) == 0 &&
		       memcmp(a.pixels, b.pixels, 50 * MN_CIFAR_IMAGE_BYTES) == 0 &&
		       memcmp(a.labels, b.labels, 50 * sizeof *a.labels) == 0 && b.lut[5] == a.lut[5],
	       "the shaped synthetic set at 32x32x3, 10 classes is the CIFAR-10-shaped one");
	mn_dataset_free(&b);
	int in_range = mn_dataset_synthetic_shape(&b, 30, 49, 10, 1, 5, 11, err, sizeof err) == 0 &&
		       b.height == 49 && b.width == 10 && b.channels == 1 && b.classes == 5;
	for (size_t i = 0; in_range && i < b.count; i++)
		in_range &= b.labels[i] >= 0 && b.labels[i] < 5;
	tap_ok(in_range && fabs(b.mean[0] - 0.5) < 0.02, "a 49x10x1 synthetic set of 5 classes, its own statistics (mean %.3f)",
	       b.mean[0]);
	mn_dataset_free(&b);
	tap_ok(strcmp(MN_CIFAR_SYNTHETIC_NOTICE, "no CIFAR-10 data given: using a synthetic input batch") == 0,
	       "the notice the CLI prints");

	float *x = malloc(50 * MN_CIFAR_IMAGE_BYTES * sizeof *x);
	float *y = malloc(50 * MN_CIFAR_IMAGE_BYTES * sizeof *y);
	size_t ix[50], iy[50];
	struct mn_rng r1, r2;
	mn_rng_seed(&r1, 5);
	mn_rng_seed(&r2, 5);
	tap_ok(mn_dataset_batch(&a, &r1, 50, x, NULL, ix, err, sizeof err) == 0 &&
		       mn_dataset_batch(&a, &r2, 50, y, NULL, iy, err, sizeof err) == 0,
	       "two batches of 50 from the same seed");
	tap_ok(memcmp(x, y, 50 * MN_CIFAR_IMAGE_BYTES * sizeof *x) == 0 && memcmp(ix, iy, sizeof ix) == 0,
	       "same seed, same batch");
	int seen[50] = {0}, distinct = 1;
	for (int i = 0; i < 50; i++)
		distinct &= ix[i] < 50 && !seen[ix[i]]++;
	tap_ok(distinct, "a batch of all 50 images holds each once (no replacement)");
	mn_rng_seed(&r2, 6);
	tap_ok(mn_dataset_batch(&a, &r2, 10, y, NULL, iy, err, sizeof err) == 0 && memcmp(ix, iy, 10 * sizeof *ix) != 0,
	       "another seed, another batch");

	float c1[300 * 9], c2[300 * 9];
	mn_rng_seed(&r1, 9);
	mn_rng_seed(&r2, 9);
	tap_ok(mn_dataset_crops(&a, &r1, 300, c1, err, sizeof err) == 0 &&
		       mn_dataset_crops(&a, &r2, 300, c2, err, sizeof err) == 0 && memcmp(c1, c2, sizeof c1) == 0,
	       "same seed, same crops");
	free(x);
	free(y);
	mn_dataset_free(&a);
}

/* One image whose planes encode the position: R = 8x, G = 8y + 2, B = 8x + 4.
 * A crop then matches an in-bounds window only if it did not wrap past an
 * edge, and tells which channel and position it came from. */
static void test_crop_bounds(void)
{
	char p[512], err[256];
	unsigned char rec[MN_CIFAR_RECORD_BYTES];
	rec[0] = 3;
	for (int y = 0; y < 32; y++)
		for (int x = 0; x < 32; x++) {
			rec[1 + y * 32 + x] = (unsigned char)(8 * x);
			rec[1 + 1024 + y * 32 + x] = (unsigned char)(8 * y + 2);
			rec[1 + 2048 + y * 32 + x] = (unsigned char)(8 * x + 4);
		}
	FILE *f = fopen(tpath("grid.bin", p, sizeof p), "wb");
	tap_ok(f && fwrite(rec, 1, sizeof rec, f) == sizeof rec && fclose(f) == 0, "wrote a position-coded image");
	struct mn_dataset d;
	if (mn_dataset_load(&d, p, err, sizeof err) != 0) {
		tap_ok(0, "load grid: %s", err);
		return;
	}
	enum { N = 3000 };
	float *c = malloc(N * 9 * sizeof *c);
	struct mn_rng r;
	mn_rng_seed(&r, 1);
	tap_ok(mn_dataset_crops(&d, &r, N, c, err, sizeof err) == 0, "3000 crops");
	int all_inside = 1, chan[3] = {0}, lo = 0, hi = 0, ylo = 0, yhi = 0;
	for (int i = 0; i < N; i++) {
		const float *o = c + i * 9;
		int found = -1;
		for (int ch = 0; ch < 3 && found < 0; ch++)
			for (int y0 = 0; y0 <= 29 && found < 0; y0++)
				for (int x0 = 0; x0 <= 29 && found < 0; x0++) {
					int ok = 1;
					for (int k = 0; k < 9 && ok; k++) {
						int y = y0 + k / 3, x = x0 + k % 3;
						ok = o[k] == mn_cifar_normalize(ch, rec[1 + ch * 1024 + y * 32 + x]);
					}
					if (ok) {
						found = ch;
						chan[ch]++;
						/* R and B fix x0, G fixes y0. */
						if (ch != 1) {
							lo += x0 == 0;
							hi += x0 == 29;
						} else {
							ylo += y0 == 0;
							yhi += y0 == 29;
						}
					}
				}
		all_inside &= found >= 0;
	}
	tap_ok(all_inside, "every crop is a 3x3 window wholly inside the image, normalised with its channel");
	tap_ok(chan[0] > 800 && chan[1] > 800 && chan[2] > 800, "all three channels drawn (%d, %d, %d)", chan[0],
	       chan[1], chan[2]);
	tap_ok(lo > 0 && hi > 0 && ylo > 0 && yhi > 0, "windows reach both edges: x0 = 0 (%d), 29 (%d); y0 = 0 (%d), 29 (%d)",
	       lo, hi, ylo, yhi);
	free(c);
	mn_dataset_free(&d);
	struct mn_dataset empty = {0};
	float one[9];
	tap_ok(mn_dataset_crops(&empty, &r, 1, one, err, sizeof err) != 0, "crops from no images: error");
}

static void test_shared(void)
{
	char buf[1024], err[512];
	const char *p = tap_shared_path("data/cifar10/data_batch_subset.bin", buf, sizeof buf);
	if (!p)
		return;
	struct mn_dataset d;
	int rc = mn_dataset_load(&d, p, err, sizeof err);
	tap_ok(rc == 0, "reads the shared subset (%s)", rc ? err : "ok");
	if (rc)
		return;
	tap_ok(d.count == 4660, "4660 images (%zu)", d.count);
	size_t h[MN_CIFAR_CLASSES];
	mn_dataset_histogram(&d, h);
	/* Counted from the file, not assumed: the first 932 images of each
	 * official batch are not balanced by class. */
	static const size_t want[MN_CIFAR_CLASSES] = {479, 479, 444, 448, 489, 435, 464, 477, 481, 464};
	int same = 1;
	for (int k = 0; k < MN_CIFAR_CLASSES; k++)
		same &= h[k] == want[k];
	tap_ok(same, "label histogram %zu %zu %zu %zu %zu %zu %zu %zu %zu %zu", h[0], h[1], h[2], h[3], h[4],
	       h[5], h[6], h[7], h[8], h[9]);
	/* CIFAR-10's first training images: frog, truck, truck, deer, car. */
	tap_ok(d.labels[0] == 6 && d.labels[1] == 9 && d.labels[2] == 9 && d.labels[3] == 4 && d.labels[4] == 1,
	       "first labels 6 9 9 4 1");
	tap_ok(d.pixels[0] == 59 && d.pixels[1] == 43, "first red pixels 59, 43");
	mn_dataset_free(&d);
}

int main(void)
{
	snprintf(tmpdir, sizeof tmpdir, "%s", "/tmp/mn_test_cifar_XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	test_normalize();
	test_round_trip();
	test_errors();
	test_cifar100();
	test_synthetic_and_determinism();
	test_crop_bounds();
	test_shared();
	char cmd[512];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", tmpdir);
	return tap_done();
}
