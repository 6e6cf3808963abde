/* Image folders (one subfolder per class, PNG/JPEG decoded with stb_image):
 * a generated 48x48 grayscale set of 5 classes, a colour set, and the
 * one-line refusals of what does not belong in one.  The PNGs are written
 * with stb_image_write, from the same Debian package. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stb/stb_image_write.h>

#include "data/dataset.h"
#include "data/dataset_source.h"
#include "tap.h"

static char tmpdir[256];

static const char *tpath(const char *name, char *buf, size_t n)
{
	snprintf(buf, n, "%s/%s", tmpdir, name);
	return buf;
}

static int one_line(const char *s) { return s[0] && !strchr(s, '\n'); }

/* Pixel (x, y) of image i of class k, channel c. */
static unsigned char gen(int k, int i, int x, int y, int c)
{
	return (unsigned char)(k * 40 + i * 9 + x * 3 + y * 5 + c * 70);
}

/* dir/<class>/img<i>.png for classes c0..c4, n images each, side x side,
 * comp channels. */
static int write_folder(const char *dir, int classes, int n, int side, int comp)
{
	char p[512];
	unsigned char *img = malloc((size_t)side * side * comp);
	if (!img || mkdir(dir, 0755) != 0)
		return free(img), -1;
	for (int k = 0; k < classes; k++) {
		snprintf(p, sizeof p, "%s/class%d", dir, k);
		if (mkdir(p, 0755) != 0)
			return free(img), -1;
		for (int i = 0; i < n; i++) {
			for (int y = 0; y < side; y++)
				for (int x = 0; x < side; x++)
					for (int c = 0; c < comp; c++)
						img[(y * side + x) * comp + c] = gen(k, i, x, y, c);
			snprintf(p, sizeof p, "%s/class%d/img%02d.png", dir, k, i);
			if (!stbi_write_png(p, side, side, comp, img, side * comp))
				return free(img), -1;
		}
	}
	free(img);
	return 0;
}

static void test_gray(void)
{
	char dir[512], err[512];
	tap_ok(write_folder(tpath("gray", dir, sizeof dir), 5, 4, 48, 1) == 0,
	       "wrote a 48x48 grayscale folder: 5 classes of 4 PNGs");
	struct mn_dataset d;
	int rc = mn_dataset_load(&d, dir, err, sizeof err);
	tap_ok(rc == 0, "loads it (%s)", rc ? err : "ok");
	if (rc)
		return;
	tap_ok(d.count == 20 && d.height == 48 && d.width == 48 && d.channels == 1 && d.classes == 5 &&
		       strcmp(d.format, "image folder") == 0,
	       "20 images of 48x48x1, 5 classes");
	int same = 1;
	for (int k = 0; k < 5; k++)
		for (int i = 0; i < 4; i++) {
			size_t n = (size_t)(k * 4 + i);
			same &= d.labels[n] == k;
			for (int y = 0; y < 48; y += 7)
				for (int x = 0; x < 48; x += 5)
					same &= d.pixels[n * 48 * 48 + (size_t)(y * 48 + x)] == gen(k, i, x, y, 0);
		}
	tap_ok(same, "classes in name order, images in name order, pixels as written");
	size_t hist[5];
	mn_dataset_histogram(&d, hist);
	tap_ok(hist[0] == 4 && hist[4] == 4, "4 images per class");
	int ph, pw;
	mn_dataset_proxy_size(&d, &ph, &pw);
	tap_ok(ph == 48 && pw == 48, "the proxies see all 48x48");
	float *b = malloc(8 * 48 * 48 * sizeof *b);
	struct mn_rng r;
	mn_rng_seed(&r, 5);
	size_t idx[8];
	rc = mn_dataset_batch(&d, &r, 8, b, NULL, idx, err, sizeof err);
	tap_ok(rc == 0 && b[48 * 48 + 100] == mn_dataset_value(&d, idx[1], 0, 2, 4), "a batch of 8 gray images");
	free(b);
	mn_dataset_free(&d);
}

static void test_colour_and_alpha(void)
{
	char dir[512], err[512];
	/* RGBA: the alpha channel is dropped, 3 channels stay. */
	tap_ok(write_folder(tpath("rgba", dir, sizeof dir), 2, 3, 12, 4) == 0, "wrote a 12x12 RGBA folder");
	struct mn_dataset d;
	int rc = mn_dataset_load(&d, dir, err, sizeof err);
	tap_ok(rc == 0 && d.channels == 3 && d.classes == 2 && d.count == 6, "RGBA read as 3 channels (%s)",
	       rc ? err : "ok");
	if (rc == 0) {
		/* Image 4 is class 1, image 1; green plane at (x 3, y 2). */
		tap_ok(d.pixels[(4 * 3 + 1) * 144 + 2 * 12 + 3] == gen(1, 1, 3, 2, 1), "planes from interleaved RGB");
		mn_dataset_free(&d);
	}
	/* A JPEG in a grayscale folder is decoded too. */
	char p[512];
	unsigned char g[48 * 48];
	memset(g, 128, sizeof g);
	tap_ok(write_folder(tpath("mixed", dir, sizeof dir), 2, 2, 48, 1) == 0 &&
		       stbi_write_jpg(tpath("mixed/class1/photo.jpg", p, sizeof p), 48, 48, 1, g, 90),
	       "added a JPEG to a PNG folder");
	rc = mn_dataset_load(&d, dir, err, sizeof err);
	tap_ok(rc == 0 && d.count == 5 && d.labels[4] == 1, "PNG and JPEG together (%s)", rc ? err : "ok");
	mn_dataset_free(&d);
}

static void expect_error(const char *dir, const char *what, const char *name, const char *needle)
{
	struct mn_dataset d;
	char err[512] = "";
	int rc = mn_dataset_load(&d, dir, err, sizeof err);
	tap_ok(rc != 0 && d.count == 0 && d.pixels == NULL, "%s: refused", what);
	tap_ok(one_line(err) && strstr(err, name) && strstr(err, needle) && strchr(err, '('),
	       "%s: one line naming the file, '%s' and a fix: %s", what, needle, err);
}

static void test_errors(void)
{
	char dir[512], p[512];
	FILE *f;

	tap_ok(write_folder(tpath("notimg", dir, sizeof dir), 2, 2, 8, 1) == 0 &&
		       (f = fopen(tpath("notimg/class1/notes.txt", p, sizeof p), "w")) && fputs("hi\n", f) >= 0 &&
		       fclose(f) == 0,
	       "a folder with a text file among the images");
	expect_error(dir, "a non-image file", p, "not a PNG or JPEG");

	tap_ok(write_folder(tpath("fake", dir, sizeof dir), 2, 2, 8, 1) == 0 &&
		       (f = fopen(tpath("fake/class0/zz.png", p, sizeof p), "w")) && fputs("not a png\n", f) >= 0 &&
		       fclose(f) == 0,
	       "a text file named .png");
	expect_error(dir, "a file that claims to be a PNG", p, "not a PNG or JPEG");

	tap_ok(write_folder(tpath("emptyclass", dir, sizeof dir), 2, 2, 8, 1) == 0 &&
		       mkdir(tpath("emptyclass/class2", p, sizeof p), 0755) == 0,
	       "a folder with an empty class folder");
	expect_error(dir, "an empty class folder", p, "no images");

	tap_ok(write_folder(tpath("nested", dir, sizeof dir), 2, 2, 8, 1) == 0 &&
		       mkdir(tpath("nested/class1/more", p, sizeof p), 0755) == 0,
	       "a folder with a folder inside a class folder");
	expect_error(dir, "a nested folder", p, "folder inside a class folder");

	tap_ok(write_folder(tpath("sizes", dir, sizeof dir), 1, 1, 8, 1) == 0, "a folder of 8x8 images");
	unsigned char big[16 * 16] = {0};
	tap_ok(stbi_write_png(tpath("sizes/class0/z.png", p, sizeof p), 16, 16, 1, big, 16), "plus one 16x16");
	expect_error(dir, "images of two sizes", p, "resize");

	tap_ok(write_folder(tpath("loose", dir, sizeof dir), 2, 1, 8, 1) == 0 &&
		       (f = fopen(tpath("loose/README", p, sizeof p), "w")) && fclose(f) == 0,
	       "a file beside the class folders");
	expect_error(dir, "a file beside the classes", p, "beside the class folders");

	/* A PNG cut in half: the header reads, the pixels do not. */
	tap_ok(write_folder(tpath("cut", dir, sizeof dir), 1, 2, 32, 1) == 0, "a folder of 32x32 PNGs");
	tpath("cut/class0/img01.png", p, sizeof p);
	struct stat st;
	tap_ok(stat(p, &st) == 0 && truncate(p, st.st_size / 2) == 0, "cut img01.png in half");
	expect_error(dir, "a truncated PNG", p, "decode");

	tap_ok(mkdir(tpath("empty", dir, sizeof dir), 0755) == 0, "an empty directory");
	expect_error(dir, "an empty directory", dir, "class subfolders");

	/* A directory of one CIFAR binary under its own name: the file to
	 * give is named, not called "a file beside the class folders". */
	tap_ok(mkdir(tpath("flat", dir, sizeof dir), 0755) == 0 &&
		       (f = fopen(tpath("flat/subset.bin", p, sizeof p), "w")) && fputs("x", f) >= 0 &&
		       fclose(f) == 0,
	       "a directory holding only subset.bin");
	expect_error(dir, "a flat directory with a .bin file", "flat/subset.bin", "give the file itself");
}

int main(void)
{
	snprintf(tmpdir, sizeof tmpdir, "%s", "/tmp/mn_test_folder_XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	test_gray();
	test_colour_and_alpha();
	test_errors();
	char cmd[512];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", tmpdir);
	return tap_done();
}
