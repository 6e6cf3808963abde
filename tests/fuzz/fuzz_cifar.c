/* libFuzzer target for CIFAR-10/100 binary files through the data loader:
 * any input is either read (a whole number of records, every label below
 * the class count) or refused with one line. */
#define _GNU_SOURCE
#include "fuzz_input.h"

#include "data/cifar.h"
#include "data/dataset.h"
#include "data/dataset_source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], err[512];
	int fd = fuzz_input_file(data, size, path, sizeof path);
	if (fd < 0)
		return 0;
	struct mn_dataset d;
	err[0] = '\0';
	if (mn_dataset_load(&d, path, err, sizeof err) != 0) {
		fuzz_check_error(err, sizeof err);
	} else {
		if (d.count * MN_CIFAR_RECORD_BYTES != size && d.count * MN_CIFAR100_RECORD_BYTES != size)
			abort();
		for (size_t i = 0; i < d.count; i++)
			if (d.labels[i] < 0 || d.labels[i] >= d.classes)
				abort();
		mn_dataset_free(&d);
	}
	close(fd);
	return 0;
}
