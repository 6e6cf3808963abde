/* The persistent evaluation cache (see eval_cache.h).
 *
 * File layout (little-endian host order; the header's magic includes a
 * byte-order probe so a file from another byte order is "corrupt"):
 *   header: "MNEVAL01", uint32 probe 0x01020304, uint32 key length, key bytes
 *   record: 32 bytes, see struct record */
#include "search/eval_cache.h"
#include "util/cache_dir.h"
#include "util/make_dirs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define MAGIC "MNEVAL01"
#define PROBE 0x01020304u
#define MAX_KEY 4096

struct record {
	uint8_t super[MN_EDGES];
	uint8_t edge, op;
	double dk, dr;
	uint64_t check; /* hash of the 24 bytes above, continued from the key's */
};

struct mn_eval_cache {
	pthread_mutex_t lock;
	int fd;           /* O_APPEND; -1 once writing failed */
	int count;
	char error[400];  /* the first failed write, "" if none */
	uint64_t key_hash;
	char *path;
};

static uint64_t record_check(uint64_t key_hash, const struct record *r)
{
	unsigned char b[24];
	memcpy(b, r->super, MN_EDGES);
	b[6] = r->edge;
	b[7] = r->op;
	memcpy(b + 8, &r->dk, 8);
	memcpy(b + 16, &r->dr, 8);
	return mn_hash_bytes(key_hash, b, sizeof b);
}

static int record_valid(uint64_t key_hash, const struct record *r)
{
	if (r->check != record_check(key_hash, r) || r->edge >= MN_EDGES || r->op >= MN_OP_COUNT ||
	    !isfinite(r->dk) || !isfinite(r->dr))
		return 0;
	for (int e = 0; e < MN_EDGES; e++)
		if (r->super[e] >> MN_OP_COUNT)
			return 0;
	return (r->super[r->edge] >> r->op) & 1;
}

static long header_size(size_t keylen) { return 8 + 4 + 4 + (long)keylen; }

/* Reads an existing file: 1 valid (records handed over, *good = bytes to
 * keep, *torn when a torn last record follows them), 0 absent or empty,
 * -1 corrupt, -2 foreign.  *seen gets the file's identity (zeroed when
 * absent) so that a corrupt one is replaced only if it is still there. */
static int read_file(const char *path, const char *key, uint64_t key_hash, mn_eval_cache_fn fn,
		     void *ctx, int *count, long *good, int *torn, struct stat *seen)
{
	FILE *f = fopen(path, "rb");
	char magic[8];
	uint32_t probe, klen;
	*count = 0;
	*good = 0;
	*torn = 0;
	memset(seen, 0, sizeof *seen);
	if (!f)
		return 0;
	if (fstat(fileno(f), seen) != 0)
		memset(seen, 0, sizeof *seen); /* matches no file: never replaced unchecked */
	size_t got = fread(magic, 1, 8, f);
	if (got == 0) {
		fclose(f);
		return 0;
	}
	if (got != 8 || memcmp(magic, MAGIC, 8) != 0 || fread(&probe, 4, 1, f) != 1 || probe != PROBE ||
	    fread(&klen, 4, 1, f) != 1 || klen > MAX_KEY) {
		fclose(f);
		return -1;
	}
	char *k = malloc((size_t)klen + 1);
	if (!k || fread(k, 1, klen, f) != klen) {
		free(k);
		fclose(f);
		return -1;
	}
	k[klen] = '\0';
	int same = strlen(key) == klen && memcmp(k, key, klen) == 0;
	free(k);
	if (!same) {
		fclose(f);
		return -2;
	}
	/* Validate every record before handing any over: a corrupt file is
	 * never half-trusted. */
	struct record *recs = NULL;
	int n = 0, cap = 0, bad = 0;
	struct record r;
	size_t rd;
	while ((rd = fread(&r, 1, sizeof r, f)) == sizeof r) {
		if (!record_valid(key_hash, &r)) {
			bad = 1;
			break;
		}
		if (n == cap) {
			cap = cap ? 2 * cap : 256;
			struct record *nr = realloc(recs, (size_t)cap * sizeof *nr);
			if (!nr) {
				bad = 1;
				break;
			}
			recs = nr;
		}
		recs[n++] = r;
	}
	fclose(f);
	if (bad) {
		free(recs);
		return -1;
	}
	/* rd in (0, 32): a torn last record from a crash, dropped. */
	*torn = rd > 0;
	for (int i = 0; i < n; i++)
		fn(ctx, recs[i].super, recs[i].edge, recs[i].op, recs[i].dk, recs[i].dr);
	free(recs);
	*count = n;
	*good = header_size(strlen(key)) + (long)n * (long)sizeof r;
	return 1;
}

static int write_header(int fd, const char *key)
{
	uint32_t probe = PROBE, klen = (uint32_t)strlen(key);
	size_t n = (size_t)header_size(klen);
	unsigned char *b = malloc(n);
	if (!b)
		return -1;
	memcpy(b, MAGIC, 8);
	memcpy(b + 8, &probe, 4);
	memcpy(b + 12, &klen, 4);
	memcpy(b + 16, key, klen);
	ssize_t w = write(fd, b, n);
	free(b);
	return w == (ssize_t)n ? 0 : -1;
}

static int same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* Puts tmp at path in place of the corrupt or foreign file that was read
 * (seen): 0 placed, 1 not placed because path no longer holds that file
 * (another search replaced or removed it first; read what is there
 * instead), -1 failed (errno).  Two searches that found the same corrupt
 * file would otherwise both rename their new file over it, and the
 * first's values would go to a file no one opens again.  The check and
 * the rename are made holding an exclusive flock() on the examined file,
 * which every search replacing it takes too, so only the first replaces
 * it.  A file system without flock() gets the plain rename. */
static int replace_examined(const char *tmp, const char *path, const struct stat *seen)
{
	struct stat now;
	int old = open(path, O_RDONLY);
	if (old < 0)
		return errno == ENOENT ? 1 : -1;
	if (fstat(old, &now) != 0 || !same_file(&now, seen)) {
		close(old);
		return 1;
	}
	if (flock(old, LOCK_EX) == 0 && (stat(path, &now) != 0 || !same_file(&now, seen))) {
		close(old); /* releases the lock */
		return 1;
	}
	int rc = rename(tmp, path) == 0 ? 0 : -1;
	int e = errno;
	close(old);
	errno = e;
	return rc;
}

struct cached_file {
	char *path;
	long size;
	time_t mtime;
};

static int by_mtime(const void *a, const void *b)
{
	const struct cached_file *x = a, *y = b;
	return (x->mtime > y->mtime) - (x->mtime < y->mtime);
}

/* Deletes the least recently used eval-*.bin files (never `keep`) until
 * the directory holds at most MN_EVAL_CACHE_MAX_BYTES - reserve. */
static void evict(const char *dir, const char *keep, long reserve)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	struct cached_file *fs = NULL;
	int n = 0, cap = 0;
	long total = 0;
	if (!d)
		return;
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		if (strncmp(de->d_name, "eval-", 5) != 0 || len < 9 || strcmp(de->d_name + len - 4, ".bin") != 0)
			continue;
		char *p = malloc(strlen(dir) + len + 2);
		struct stat st;
		if (!p)
			break;
		sprintf(p, "%s/%s", dir, de->d_name);
		if (stat(p, &st) != 0 || strcmp(p, keep) == 0) {
			if (strcmp(p, keep) == 0 && stat(p, &st) == 0)
				total += (long)st.st_size;
			free(p);
			continue;
		}
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			struct cached_file *nf = realloc(fs, (size_t)cap * sizeof *nf);
			if (!nf) {
				free(p);
				break;
			}
			fs = nf;
		}
		fs[n++] = (struct cached_file){p, (long)st.st_size, st.st_mtime};
		total += (long)st.st_size;
	}
	closedir(d);
	if (n > 1)
		qsort(fs, (size_t)n, sizeof *fs, by_mtime);
	for (int i = 0; i < n && total > MN_EVAL_CACHE_MAX_BYTES - reserve; i++)
		if (unlink(fs[i].path) == 0)
			total -= fs[i].size;
	for (int i = 0; i < n; i++)
		free(fs[i].path);
	free(fs);
}

struct mn_eval_cache *mn_eval_cache_open(const char *dir, const char *key, mn_eval_cache_fn fn,
					 void *ctx, char *warn, size_t warnn, char *err, size_t errn)
{
	char defdir[4096];
	warn[0] = '\0';
	if (!dir) {
		if (mn_cache_dir(defdir, sizeof defdir) != 0) {
			snprintf(err, errn, "no cache directory (set XDG_CACHE_HOME or HOME)");
			return NULL;
		}
		dir = defdir;
	}
	if (mn_make_dirs(dir) != 0) {
		snprintf(err, errn, "cannot create the cache directory %s: %s", dir, strerror(errno));
		return NULL;
	}
	struct mn_eval_cache *c = calloc(1, sizeof *c);
	if (!c || pthread_mutex_init(&c->lock, NULL) != 0) {
		free(c);
		snprintf(err, errn, "out of memory opening the evaluation cache");
		return NULL;
	}
	c->fd = -1;
	c->key_hash = mn_hash_bytes(MN_HASH_INIT, key, strlen(key));
	c->path = malloc(strlen(dir) + 32);
	if (!c->path) {
		mn_eval_cache_close(c);
		snprintf(err, errn, "out of memory opening the evaluation cache");
		return NULL;
	}
	sprintf(c->path, "%s/eval-%016llx.bin", dir, (unsigned long long)c->key_hash);

	long good = 0;
	int st, torn, raced = 0, replaced = 0;
	struct stat seen;
again:
	st = read_file(c->path, key, c->key_hash, fn, ctx, &c->count, &good, &torn, &seen);
	if (st < 0)
		snprintf(warn, warnn, "ignoring the %s evaluation cache %s; it is replaced by a new one",
			 st == -1 ? "corrupt" : "foreign (other settings)", c->path);
	if (st == 1) {
		c->fd = open(c->path, O_WRONLY | O_APPEND);
		/* Drop a torn last record so that appends stay aligned.  Only
		 * then: another search may be appending to this file, and a
		 * truncate to what was read would cut off the records it wrote
		 * since.  Otherwise the file is just marked as used for
		 * eviction. */
		if (c->fd >= 0 && (torn ? ftruncate(c->fd, good) : futimens(c->fd, NULL)) != 0) {
			close(c->fd);
			c->fd = -1;
		}
	} else {
		/* A new file, written whole under a temporary name first so that
		 * a reader never sees a header without its key. */
		char *tmp = malloc(strlen(c->path) + 16);
		int fd = -1, placed = -1;
		if (tmp) {
			sprintf(tmp, "%s.tmpXXXXXX", c->path);
			fd = mkstemp(tmp);
		}
		if (fd >= 0 && write_header(fd, key) == 0) {
			/* Where there was no file, link() rather than rename(): two
			 * searches starting together both find none, and the
			 * second rename would replace the first's file, its values
			 * then going to a file no one opens again.  The one that
			 * finds a file there reads it instead (at most once: what
			 * it finds the second time is read or replaced as usual).
			 * A file system without hard links gets the rename. */
			int lost = 0;
			if (st == 0 && !raced) {
				placed = link(tmp, c->path);
				lost = placed != 0 && errno == EEXIST;
				raced = 1;
			}
			/* Where the file was corrupt or foreign, replace only
			 * that file; when another search replaced it first, read
			 * its new one instead (a few times at most: a file found
			 * corrupt again and again is then just replaced). */
			if (st < 0 && replaced < 4) {
				int r = replace_examined(tmp, c->path, &seen);
				lost = r == 1;
				placed = r == 0 ? 0 : -2; /* -2: the rename below is not retried */
				replaced++;
			}
			if (lost) {
				close(fd);
				unlink(tmp);
				free(tmp);
				goto again;
			}
			if (placed == 0 && st == 0)
				unlink(tmp);
			else if (placed == -1)
				placed = rename(tmp, c->path);
		}
		if (fd >= 0 && placed != 0) {
			close(fd);
			unlink(tmp);
			fd = -1;
		}
		if (fd >= 0) {
			close(fd);
			(void)chmod(c->path, 0644);
			c->fd = open(c->path, O_WRONLY | O_APPEND);
		}
		free(tmp);
	}
	if (c->fd < 0) {
		snprintf(err, errn, "cannot write the evaluation cache %s: %s", c->path, strerror(errno));
		mn_eval_cache_close(c);
		return NULL;
	}
	evict(dir, c->path, 0);
	return c;
}

int mn_eval_cache_put(struct mn_eval_cache *c, const uint8_t super[MN_EDGES], int edge, int op,
		      double dk, double dr)
{
	struct record r;
	memset(&r, 0, sizeof r);
	memcpy(r.super, super, MN_EDGES);
	r.edge = (uint8_t)edge;
	r.op = (uint8_t)op;
	r.dk = dk;
	r.dr = dr;
	r.check = record_check(c->key_hash, &r);
	int rc = -1;
	pthread_mutex_lock(&c->lock);
	if (c->fd >= 0 && c->count < MN_EVAL_CACHE_MAX_RECORDS) {
		/* One write() per record: O_APPEND keeps concurrent writers'
		 * records whole. */
		ssize_t w = write(c->fd, &r, sizeof r);
		if (w == (ssize_t)sizeof r) {
			c->count++;
			rc = 0;
		} else {
			/* A full disk, a removed or read-only directory: stop
			 * writing (a torn record is dropped at the next open) and
			 * keep the reason for the caller to report. */
			snprintf(c->error, sizeof c->error, "cannot write the evaluation cache %s: %s",
				 c->path, w < 0 ? strerror(errno) : "short write (disk full?)");
			close(c->fd);
			c->fd = -1;
		}
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int mn_eval_cache_count(const struct mn_eval_cache *c) { return c->count; }

int mn_eval_cache_error(struct mn_eval_cache *c, char *msg, size_t n)
{
	pthread_mutex_lock(&c->lock);
	int failed = c->error[0] != '\0';
	if (n)
		snprintf(msg, n, "%s", c->error);
	pthread_mutex_unlock(&c->lock);
	return failed;
}

const char *mn_eval_cache_path(const struct mn_eval_cache *c) { return c->path; }

void mn_eval_cache_close(struct mn_eval_cache *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	pthread_mutex_destroy(&c->lock);
	free(c->path);
	free(c);
}
