/* Test-only generator of small data sets for the shell tests:
 *   gen_data folder DIR SIDE CLASSES PER_CLASS CHANNELS
 *       DIR/classK/imgNN.png, SIDE x SIDE, CHANNELS 1 or 3 (stb_image_write)
 *   gen_data npy PATH N H W C u8|f32
 *       PATH (N x H x W x C, or N x H x W when C is 0) and beside it
 *       PATH without .npy + _labels.npy (int64, image i in class i % 3)
 * Pixels are a smooth pattern plus noise from a fixed LCG, so sets are the
 * same on every run.  Exit 0, or 1 with a message. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <stb/stb_image_write.h>

static uint32_t lcg = 12345;
static unsigned next_byte(void)
{
	lcg = lcg * 1664525u + 1013904223u;
	return lcg >> 24;
}

static unsigned char pixel(int k, int i, int x, int y, int c)
{
	return (unsigned char)((k * 50 + x * 2 + y * (c + 1) + i * 3 + (int)(next_byte() % 32)) & 0xff);
}

static int folder(const char *dir, int side, int classes, int per, int comp)
{
	char p[4096];
	unsigned char *img = malloc((size_t)side * (size_t)side * (size_t)comp);
	if (!img || (mkdir(dir, 0755) != 0))
		return free(img), fprintf(stderr, "gen_data: cannot make %s\n", dir), 1;
	for (int k = 0; k < classes; k++) {
		snprintf(p, sizeof p, "%s/class%d", dir, k);
		if (mkdir(p, 0755) != 0)
			return free(img), fprintf(stderr, "gen_data: cannot make %s\n", p), 1;
		for (int i = 0; i < per; i++) {
			for (int y = 0; y < side; y++)
				for (int x = 0; x < side; x++)
					for (int c = 0; c < comp; c++)
						img[(y * side + x) * comp + c] = pixel(k, i, x, y, c);
			snprintf(p, sizeof p, "%s/class%d/img%03d.png", dir, k, i);
			if (!stbi_write_png(p, side, side, comp, img, side * comp))
				return free(img), fprintf(stderr, "gen_data: cannot write %s\n", p), 1;
		}
	}
	free(img);
	return 0;
}

static int write_npy(const char *path, const char *dict, const void *data, size_t bytes)
{
	size_t len = strlen(dict), total = (10 + len + 1 + 63) / 64 * 64, hl = total - 10;
	unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)hl, (unsigned char)(hl >> 8)};
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	int ok = fwrite(pre, 1, 10, f) == 10 && fwrite(dict, 1, len, f) == len;
	for (size_t k = 10 + len; ok && k + 1 < total; k++)
		ok = fputc(' ', f) != EOF;
	ok = ok && fputc('\n', f) != EOF && fwrite(data, 1, bytes, f) == bytes;
	return fclose(f) == 0 && ok ? 0 : -1;
}

static int npy(const char *path, int n, int h, int w, int c, int floats, int classes)
{
	size_t count = (size_t)n * h * w * (c ? c : 1);
	size_t elem = floats ? 4 : 1;
	unsigned char *buf = malloc(count * elem);
	int64_t *lab = malloc((size_t)n * sizeof *lab);
	char dict[200], lpath[4096];
	if (!buf || !lab)
		return 1;
	for (size_t i = 0; i < count; i++) {
		unsigned char b = (unsigned char)(i % 97 + next_byte() % 64);
		if (floats) {
			float v = b / 255.0f - 0.5f;
			memcpy(buf + 4 * i, &v, 4);
		} else {
			buf[i] = b;
		}
	}
	for (int i = 0; i < n; i++)
		lab[i] = i % classes;
	if (c)
		snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (%d, %d, %d, %d), }",
			 floats ? "<f4" : "|u1", n, h, w, c);
	else
		snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (%d, %d, %d), }",
			 floats ? "<f4" : "|u1", n, h, w);
	snprintf(lpath, sizeof lpath, "%.*s_labels.npy", (int)strlen(path) - 4, path);
	char ldict[120];
	snprintf(ldict, sizeof ldict, "{'descr': '<i8', 'fortran_order': False, 'shape': (%d,), }", n);
	int rc = write_npy(path, dict, buf, count * elem) || write_npy(lpath, ldict, lab, (size_t)n * sizeof *lab);
	free(buf);
	free(lab);
	if (rc)
		fprintf(stderr, "gen_data: cannot write %s\n", path);
	return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 7 && strcmp(argv[1], "folder") == 0)
		return folder(argv[2], atoi(argv[3]), atoi(argv[4]), atoi(argv[5]), atoi(argv[6]));
	if ((argc == 8 || (argc == 9 && atoi(argv[8]) > 0)) && strcmp(argv[1], "npy") == 0)
		return npy(argv[2], atoi(argv[3]), atoi(argv[4]), atoi(argv[5]), atoi(argv[6]),
			   strcmp(argv[7], "f32") == 0, argc == 9 ? atoi(argv[8]) : 3);
	fprintf(stderr, "usage: gen_data folder DIR SIDE CLASSES PER_CLASS CHANNELS\n"
			"       gen_data npy PATH.npy N H W C u8|f32 [CLASSES (3)]\n");
	return 2;
}
