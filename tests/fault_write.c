/* Writes through the shared writers for test_write_faults:
 *   fault_write atomic PATH       256 KB through mn_atomic_write (the
 *                                 writer of the TUI's save files)
 *   fault_write table SRC DST     the latency table SRC written to DST
 * Exit 0, or 1 with the writer's error line on stderr. */
#include <stdio.h>
#include <string.h>

#include "space/latency_table.h"
#include "util/atomic_file.h"

static int fill(FILE *f, void *user)
{
	(void)user;
	for (int i = 0; i < 4096; i++)
		if (fprintf(f, "%063d\n", i) < 0)
			return -1;
	return 0;
}

int main(int argc, char **argv)
{
	char err[1024];
	if (argc == 3 && !strcmp(argv[1], "atomic")) {
		if (mn_atomic_write(argv[2], fill, NULL, err, sizeof err) != 0) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "table")) {
		struct mn_latency_table t;
		if (mn_latency_table_read(&t, argv[2], err, sizeof err) != 0 ||
		    mn_latency_table_write(&t, argv[3], "written by fault_write", err, sizeof err) != 0) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		return 0;
	}
	fprintf(stderr, "usage: fault_write atomic PATH | table SRC DST\n");
	return 2;
}
