/* libFuzzer target for atlas files (micronas atlas, score --all --out): any
 * file is either read (every row an arch index of the space, the good end
 * inside the file) or refused with one line.  The settings lines the reader
 * expects are written before the input (a first byte 'R' hands the input
 * over raw instead), so the fuzzer reaches the header row and the rows
 * without having to guess a data fingerprint. */
#define _GNU_SOURCE
#include "fuzz_input.h"

#include "atlas/atlas_file.h"
#include "data/dataset.h"
#include "data/dataset_source.h"
#include "proxy/tenas.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The settings every input is read against: made once, read-only after. */
static struct mn_atlas_settings expect;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	struct mn_dataset d;
	struct mn_tenas_config cfg;
	char err[512];
	if (mn_dataset_synthetic(&d, 16, 0, err, sizeof err) != 0)
		abort();
	mn_tenas_config_default(&cfg);
	mn_atlas_settings_make(&expect, &d, 0, &cfg, MN_ATLAS_ORDER_SEEDED);
	mn_dataset_free(&d);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], err[512];
	int raw = size > 0 && data[0] == 'R';
	int fd = fuzz_input_file(raw ? data + 1 : data, raw ? size - 1 : size, path, sizeof path);
	if (fd < 0)
		return 0;
	if (!raw) {
		/* The settings lines first, then the input. */
		FILE *f = fopen(path, "w");
		if (!f || mn_atlas_write_head(f, &expect) != 0 || fwrite(data, 1, size, f) != size) {
			if (f)
				fclose(f);
			close(fd);
			return 0;
		}
		fclose(f);
	}
	off_t file_size = lseek(fd, 0, SEEK_END);
	struct mn_atlas_rows rows;
	long good_end = -1;
	err[0] = '\0';
	int rc = mn_atlas_read(path, &expect, &rows, &good_end, err, sizeof err);
	if (rc < 0) {
		fuzz_check_error(err, sizeof err);
	} else {
		if (rc == 1 && rows.n != 0)
			abort();
		if (good_end < 0 || good_end > (long)file_size)
			abort();
		for (int i = 0; i < rows.n; i++)
			if (rows.arch[i] < 0 || rows.arch[i] >= MN_ARCH_COUNT)
				abort();
		mn_atlas_rows_free(&rows);
	}
	close(fd);
	return 0;
}
