/* libFuzzer target for CIFAR-10 binary files: any input is either read
 * (every label 0..9, count = size / record) or refused with one line. */
#define _GNU_SOURCE
#include "fuzz_input.h"

#include "data/cifar.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], err[512];
	int fd = fuzz_input_file(data, size, path, sizeof path);
	if (fd < 0)
		return 0;
	struct mn_cifar d;
	err[0] = '\0';
	if (mn_cifar_load(&d, path, err, sizeof err) != 0) {
		fuzz_check_error(err, sizeof err);
	} else {
		if (d.count != size / MN_CIFAR_RECORD_BYTES)
			abort();
		for (size_t i = 0; i < d.count; i++)
			if (d.labels[i] >= MN_CIFAR_CLASSES)
				abort();
		mn_cifar_free(&d);
	}
	close(fd);
	return 0;
}
