/* libFuzzer target for the arch-string parser: any input must either be
 * refused with an in-bounds error position, or parse to an arch whose
 * canonical string parses back to the same arch and equals the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "space/arch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	struct mn_arch a, b;
	struct mn_parse_error err;
	char buf[MN_ARCH_STRLEN];

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (mn_arch_parse(s, &a, &err) != 0) {
		if (err.pos > strlen(s) || err.msg[0] == '\0')
			abort();
	} else {
		for (int e = 0; e < MN_EDGES; e++)
			if (a.op[e] >= MN_OP_COUNT)
				abort();
		mn_arch_format(&a, buf, sizeof buf);
		if (strcmp(buf, s) != 0 || mn_arch_parse(buf, &b, NULL) != 0 ||
		    memcmp(a.op, b.op, sizeof a.op) != 0)
			abort();
	}
	free(s);
	return 0;
}
