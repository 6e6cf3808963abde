/* libFuzzer target for latency-table files: any input is either read into a
 * table whose every latency is finite and >= 0, or refused with one line. */
#define _GNU_SOURCE
#include <math.h>

#include "fuzz_input.h"

#include "space/latency_table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], err[512];
	int fd = fuzz_input_file(data, size, path, sizeof path);
	if (fd < 0)
		return 0;
	struct mn_latency_table t;
	err[0] = '\0';
	if (mn_latency_table_read(&t, path, err, sizeof err) != 0) {
		fuzz_check_error(err, sizeof err);
	} else {
		for (int s = 0; s < MN_STAGES; s++)
			for (int o = 0; o < MN_OP_COUNT; o++)
				if (!(t.op_us[s][o] >= 0) || !isfinite(t.op_us[s][o]))
					abort();
	}
	close(fd);
	return 0;
}
