/* libFuzzer target for the .npy header parser: any input must either be
 * refused with a one-line message, or parse to a header that is consistent
 * with the bytes it came from (data offset inside the input, right after
 * the announced header; a known version; shape within the dimension
 * limit), and parsing must never read outside the input (ASan checks that:
 * the input is copied to a buffer of exactly its size). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "data/npy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *buf = malloc(size ? size : 1);
	struct mn_npy_header h;
	char err[200];

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	if (mn_npy_parse_header(buf, size, &h, err, sizeof err) != 0) {
		if (err[0] == '\0' || strchr(err, '\n') || strlen(err) >= sizeof err)
			abort();
	} else {
		if (h.major < 1 || h.major > 3 || h.data_offset > size ||
		    h.data_offset != mn_npy_header_size(buf, size) || h.ndim < 0 ||
		    h.ndim > MN_NPY_MAX_DIMS || h.item_size < 1 || h.item_size > 16 ||
		    (h.fortran_order != 0 && h.fortran_order != 1))
			abort();
		(void)mn_npy_elements(&h);
	}
	free(buf);
	return 0;
}
