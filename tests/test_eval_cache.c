/* The persistent evaluation cache: values written come back on the next
 * open; a torn last record is dropped silently; a corrupt or foreign file
 * is ignored with a one-line warning and replaced; the directory is kept
 * under its size bound by deleting the least recently used files. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "search/eval_cache.h"
#include "tap.h"

struct got {
	int n;
	double sum;
	int bad;
};

static void collect(void *ctx, const uint8_t super[MN_EDGES], int edge, int op, double dk, double dr)
{
	struct got *g = ctx;
	g->n++;
	g->sum += dk + dr;
	if (!((super[edge] >> op) & 1))
		g->bad++;
}

static long file_size(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 ? (long)st.st_size : -1;
}

/* Two processes open the cache in sub at the same moment (released
 * together through a pipe) and each puts one value; then the file is
 * read back.  1 when a value was lost (or anything failed, or the file
 * read back drew a warning), else 0.  The file is removed after. */
static int two_at_once(const char *sub, const char *key, const uint8_t super[MN_EDGES])
{
	char warn[600], err[600];
	int gate[2];
	if (pipe(gate) != 0)
		return 1;
	for (int k = 0; k < 2; k++) {
		pid_t pid = fork();
		if (pid == 0) {
			char b, w[600], e[600];
			struct got gg = {0, 0, 0};
			close(gate[1]);
			/* Both wait here until the gate closes. */
			if (read(gate[0], &b, 1) < 0)
				_exit(3);
			struct mn_eval_cache *cc = mn_eval_cache_open(sub, key, collect, &gg, w, sizeof w, e, sizeof e);
			if (!cc)
				_exit(2);
			int rc = mn_eval_cache_put(cc, super, k, 1, 0.5 + k, 0.25);
			mn_eval_cache_close(cc);
			_exit(rc == 0 ? 0 : 1);
		}
	}
	close(gate[0]);
	close(gate[1]);
	int ok = 1, status;
	for (int k = 0; k < 2; k++)
		if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			ok = 0;
	struct got gr = {0, 0, 0};
	struct mn_eval_cache *cr = mn_eval_cache_open(sub, key, collect, &gr, warn, sizeof warn, err, sizeof err);
	int lost = !ok || !cr || gr.n != 2 || warn[0];
	if (cr) {
		unlink(mn_eval_cache_path(cr));
		mn_eval_cache_close(cr);
	}
	rmdir(sub);
	return lost;
}

int main(void)
{
	char dir[] = "/tmp/mn-evalcache-XXXXXX", warn[600], err[600], path[1024];
	if (!mkdtemp(dir))
		return tap_ok(0, "temporary directory"), tap_done();
	const char *key = "test key: batch 32, seed 0";
	uint8_t super[MN_EDGES] = {0x1e, 0x1e, 0x1e, 0x1e, 0x1e, 0x1e};
	struct got g = {0, 0, 0};

	struct mn_eval_cache *c = mn_eval_cache_open(dir, key, collect, &g, warn, sizeof warn, err, sizeof err);
	tap_ok(c != NULL && g.n == 0 && warn[0] == '\0', "a new cache opens empty, no warning");
	double want = 0;
	for (int e = 0; e < MN_EDGES; e++)
		for (int o = 1; o < MN_OP_COUNT; o++) {
			double dk = e * 0.1 + o * 0.01, dr = -o * 0.001;
			want += dk + dr;
			mn_eval_cache_put(c, super, e, o, dk, dr);
		}
	snprintf(path, sizeof path, "%s", mn_eval_cache_path(c));
	mn_eval_cache_close(c);

	c = mn_eval_cache_open(dir, key, collect, &g, warn, sizeof warn, err, sizeof err);
	tap_ok(c && g.n == 24 && g.bad == 0 && g.sum == want && !warn[0], "24 values come back exactly (%d)", g.n);
	mn_eval_cache_close(c);

	/* A torn last record (a crash mid-write). */
	long full = file_size(path);
	FILE *f = fopen(path, "ab");
	fwrite("abcdefghij", 1, 10, f);
	fclose(f);
	g = (struct got){0, 0, 0};
	c = mn_eval_cache_open(dir, key, collect, &g, warn, sizeof warn, err, sizeof err);
	tap_ok(c && g.n == 24 && !warn[0] && file_size(path) == full,
	       "a torn last record is dropped silently and cut off");
	mn_eval_cache_close(c);

	/* Another key: its own file; this one is untouched. */
	g = (struct got){0, 0, 0};
	c = mn_eval_cache_open(dir, "other settings", collect, &g, warn, sizeof warn, err, sizeof err);
	tap_ok(c && g.n == 0 && strcmp(mn_eval_cache_path(c), path) != 0, "other settings use another file");
	char other[1024];
	snprintf(other, sizeof other, "%s", mn_eval_cache_path(c));
	mn_eval_cache_close(c);

	/* Foreign: a file with another key under this key's name. */
	rename(other, path);
	g = (struct got){0, 0, 0};
	c = mn_eval_cache_open(dir, key, collect, &g, warn, sizeof warn, err, sizeof err);
	tap_diag("%s", warn);
	tap_ok(c && g.n == 0 && strstr(warn, "foreign") && !strchr(warn, '\n'),
	       "a foreign file is ignored with a one-line warning");
	mn_eval_cache_put(c, super, 0, 1, 0.5, 0.25);
	mn_eval_cache_close(c);

	/* Corrupt: one flipped byte in a record. */
	f = fopen(path, "r+b");
	fseek(f, -5, SEEK_END);
	fputc(0x5a, f);
	fclose(f);
	g = (struct got){0, 0, 0};
	c = mn_eval_cache_open(dir, key, collect, &g, warn, sizeof warn, err, sizeof err);
	tap_diag("%s", warn);
	tap_ok(c && g.n == 0 && strstr(warn, "corrupt"), "a corrupt record: the file is not trusted, one warning");
	mn_eval_cache_close(c);
	g = (struct got){0, 0, 0};
	c = mn_eval_cache_open(dir, key, collect, &g, warn, sizeof warn, err, sizeof err);
	tap_ok(c && g.n == 0 && !warn[0], "...and replaced by a clean one");
	mn_eval_cache_close(c);

	/* Garbage header. */
	f = fopen(path, "wb");
	fputs("not a cache at all", f);
	fclose(f);
	c = mn_eval_cache_open(dir, key, collect, &g, warn, sizeof warn, err, sizeof err);
	tap_ok(c && strstr(warn, "corrupt"), "a file that is not a cache is ignored with a warning");
	mn_eval_cache_close(c);

	/* Eviction: two old files over the bound go, oldest first. */
	char old1[1024], old2[1024];
	snprintf(old1, sizeof old1, "%s/eval-00000000000000a1.bin", dir);
	snprintf(old2, sizeof old2, "%s/eval-00000000000000a2.bin", dir);
	long half = MN_EVAL_CACHE_MAX_BYTES / 2 + 1024;
	int fd = open(old1, O_CREAT | O_WRONLY, 0644);
	tap_ok(fd >= 0 && ftruncate(fd, half) == 0, "an old cache file of %ld bytes", half);
	close(fd);
	fd = open(old2, O_CREAT | O_WRONLY, 0644);
	tap_ok(fd >= 0 && ftruncate(fd, half) == 0, "a newer one of the same size");
	close(fd);
	struct timeval tv[2] = {{1000, 0}, {1000, 0}};
	utimes(old1, tv);
	tv[0].tv_sec = tv[1].tv_sec = 2000;
	utimes(old2, tv);
	c = mn_eval_cache_open(dir, key, collect, &g, warn, sizeof warn, err, sizeof err);
	tap_ok(c && access(old1, F_OK) != 0 && access(old2, F_OK) == 0 && access(path, F_OK) == 0,
	       "over the bound, the least recently used file is deleted, the one in use kept");
	mn_eval_cache_close(c);

	/* Opening marks the file as used (the eviction's order), also when
	 * nothing is cut off it. */
	struct timeval tv1[2] = {{1000, 0}, {1000, 0}};
	struct stat stp;
	utimes(path, tv1);
	c = mn_eval_cache_open(dir, key, collect, &g, warn, sizeof warn, err, sizeof err);
	tap_ok(c && stat(path, &stp) == 0 && stp.st_mtime > time(NULL) - 600,
	       "opening a cache marks it as just used");
	mn_eval_cache_close(c);

	/* Two searches starting together on a cache that does not exist yet:
	 * each keeps its value.  Before, both found no file and the second
	 * rename() replaced the first's, whose values went to a file no one
	 * opened again (lost in nearly every round here). */
	int lost = 0, rounds = 40;
	for (int it = 0; it < rounds; it++) {
		char sub[600];
		snprintf(sub, sizeof sub, "%s/race%d", dir, it);
		lost += two_at_once(sub, key, super);
	}
	tap_ok(lost == 0, "two searches creating one cache at once both keep their values (%d of %d rounds lost one)",
	       lost, rounds);

	/* Two searches finding the same corrupt cache at once: each keeps its
	 * value.  Before, both renamed a new file over the corrupt one and the
	 * first's values went to the file the second replaced. */
	lost = 0;
	for (int it = 0; it < rounds; it++) {
		char sub[600];
		snprintf(sub, sizeof sub, "%s/corrupt%d", dir, it);
		/* The cache's own path, then garbage put there. */
		struct got g0 = {0, 0, 0};
		struct mn_eval_cache *c0 = mn_eval_cache_open(sub, key, collect, &g0, warn, sizeof warn, err, sizeof err);
		char cpath[1024];
		snprintf(cpath, sizeof cpath, "%s", c0 ? mn_eval_cache_path(c0) : "");
		mn_eval_cache_close(c0);
		FILE *cf = c0 ? fopen(cpath, "wb") : NULL;
		if (!cf || fputs("not a cache at all", cf) < 0 || fclose(cf) != 0) {
			lost++;
			continue;
		}
		lost += two_at_once(sub, key, super);
	}
	tap_ok(lost == 0, "two searches replacing one corrupt cache at once both keep their values (%d of %d rounds lost one)",
	       lost, rounds);

	/* An unusable directory: NULL with a message. */
	c = mn_eval_cache_open("/proc/nonexistent/x", key, collect, &g, warn, sizeof warn, err, sizeof err);
	tap_ok(c == NULL && err[0], "an unusable directory is an error message (%s)", err);

	unlink(path);
	unlink(other);
	unlink(old2);
	rmdir(dir);
	return tap_done();
}
