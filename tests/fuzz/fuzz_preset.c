/* libFuzzer target for preset files (INI through inih): any input is either
 * read into a preset or refused with one line; nothing leaks either way. */
#define _GNU_SOURCE
#include "fuzz_input.h"

#include "config/preset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	struct mn_error e;
	int fd = fuzz_input_file(data, size, path, sizeof path);
	if (fd < 0)
		return 0;
	struct mn_preset p;
	mn_preset_defaults(&p);
	e.msg[0] = '\0';
	if (mn_preset_load(&p, path, &e) != 0)
		fuzz_check_error(e.msg, sizeof e.msg);
	mn_preset_free(&p);
	close(fd);
	return 0;
}
