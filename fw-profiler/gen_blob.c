/* Build-time generator (host C): writes the flash blob the firmware links
 * in, as two files, weights.bin (MNP_WEIGHTS_BYTES int8) and biases.bin
 * (MNP_BIAS_COUNT little-endian int32), from the deterministic functions
 * in proto_codec.c, so the host can rebuild the identical table with
 * mnp_blob_fill().
 * Usage: gen_blob OUTDIR */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"

static int write_file(const char *dir, const char *name, const uint8_t *p,
		      size_t n)
{
	char path[4096];
	FILE *f;
	int ok;

	if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path) {
		fprintf(stderr, "gen_blob: output path too long: %s/%s\n", dir, name);
		return -1;
	}
	f = fopen(path, "wb");
	if (!f) {
		perror(path);
		return -1;
	}
	ok = fwrite(p, 1, n, f) == n;
	if (fclose(f) != 0)
		ok = 0;
	if (!ok) {
		fprintf(stderr, "gen_blob: cannot write %s\n", path);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	uint8_t *blob;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: gen_blob OUTDIR\n");
		return 1;
	}
	blob = malloc(MNP_BLOB_BYTES);
	if (!blob) {
		fprintf(stderr, "gen_blob: out of memory\n");
		return 1;
	}
	mnp_blob_fill(blob);
	rc = write_file(argv[1], "weights.bin", blob, MNP_WEIGHTS_BYTES);
	if (rc == 0)
		rc = write_file(argv[1], "biases.bin", blob + MNP_WEIGHTS_BYTES,
				4u * MNP_BIAS_COUNT);
	free(blob);
	return rc == 0 ? 0 : 1;
}
