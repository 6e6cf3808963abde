/* libFuzzer target for the search's evaluation cache files
 * (search/eval_cache.h): whatever bytes stand in the cache file, opening it
 * hands over only records of the space (edge and op in range, a supernet
 * state of op bits) and any warning is one line; a corrupt or foreign file
 * is never trusted.  Each input is written over the one file the key maps
 * to, in a scratch directory made once.
 *   FUZZ_SEED_OUT=FILE ./fuzz_eval_cache -runs=0  writes a valid file with
 *   three records to FILE (how tests/fuzz/corpus/eval_cache was made). */
#define _GNU_SOURCE
#include "fuzz_input.h"

#include <fcntl.h>

#include "search/eval_cache.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char key[] = "fuzz eval cache key: ntk batch 8 repeat 1 seed 0";
/* The scratch directory and the cache file's path: set once, read-only after. */
static char dir[64] = "/tmp/mn_fuzz_eval_XXXXXX";
static char file[256];

static void count_record(void *ctx, const uint8_t super[MN_EDGES], int edge, int op, double dk,
			 double dr)
{
	(void)dk, (void)dr;
	if (edge < 0 || edge >= MN_EDGES || op < 0 || op >= MN_OP_COUNT)
		abort();
	for (int e = 0; e < MN_EDGES; e++)
		if (super[e] >= 1u << MN_OP_COUNT)
			abort();
	(*(int *)ctx)++;
}

static void copy_file(const char *from, const char *to)
{
	FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
	char buf[4096];
	size_t n;
	if (!a || !b)
		abort();
	while ((n = fread(buf, 1, sizeof buf, a)) > 0)
		if (fwrite(buf, 1, n, b) != n)
			abort();
	fclose(a);
	if (fclose(b) != 0)
		abort();
}

/* The scratch directory goes when the fuzzer exits. */
static void remove_scratch(void)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "fuzz_eval_cache: could not remove %s\n", dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	char warn[512], err[512];
	int n = 0;
	if (!mkdtemp(dir) || atexit(remove_scratch) != 0)
		abort();
	struct mn_eval_cache *c = mn_eval_cache_open(dir, key, count_record, &n, warn, sizeof warn,
						     err, sizeof err);
	if (!c)
		abort();
	snprintf(file, sizeof file, "%s", mn_eval_cache_path(c));
	const uint8_t super[MN_EDGES] = {31, 31, 31, 31, 31, 31};
	for (int i = 0; i < 3; i++)
		if (mn_eval_cache_put(c, super, i, i + 1, 10.0 + i, 100.0 * i) != 0)
			abort();
	mn_eval_cache_close(c);
	const char *out = getenv("FUZZ_SEED_OUT");
	if (out)
		copy_file(file, out);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char warn[512], err[512];
	int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return 0;
	size_t off = 0;
	while (off < size) {
		ssize_t w = write(fd, data + off, size - off);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	close(fd);
	int n = 0;
	warn[0] = err[0] = '\0';
	struct mn_eval_cache *c = mn_eval_cache_open(dir, key, count_record, &n, warn, sizeof warn,
						     err, sizeof err);
	if (!c) {
		fuzz_check_error(err, sizeof err);
		return 0;
	}
	if (memchr(warn, '\0', sizeof warn) == NULL || strchr(warn, '\n'))
		abort();
	if (mn_eval_cache_count(c) != n)
		abort();
	mn_eval_cache_close(c);
	return 0;
}
