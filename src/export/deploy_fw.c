#define _DEFAULT_SOURCE 1 /* realpath() */

/* Firmware images of a deployed model; see deploy_fw.h. */
#include "export/deploy_fw.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config/exe_tree.h"
#include "util/cache_dir.h"
#include "util/clock.h"
#include "util/copy_file.h"
#include "util/hash.h"
#include "util/make_dirs.h"

/* Path buffers.  Every path here is a real path (PATH_MAX bytes) or the
 * cache directory's (as long), with a short suffix at most (a board's
 * name, a file's, a make variable's): DIR_BYTES holds a directory,
 * PATH_BYTES a file in one or a make argument NAME=DIR.  A path that would
 * not fit is refused where it is made (snprintf's count). */
enum { DIR_BYTES = PATH_MAX + 128, PATH_BYTES = PATH_MAX + 384 };

static int has_sources(const char *dir)
{
	char p[PATH_BYTES];
	snprintf(p, sizeof p, "%s/Makefile", dir);
	if (access(p, R_OK) != 0)
		return 0;
	snprintf(p, sizeof p, "%s/fw_main.c", dir);
	return access(p, R_OK) == 0;
}

int mn_firmware_find_sources(char *path, size_t n, char *err, size_t errn)
{
	const char *env = getenv("MN_FIRMWARE_SRC");
	if (env && *env) {
		snprintf(path, n, "%s", env);
		if (has_sources(path))
			return 0;
		snprintf(err, errn, "MN_FIRMWARE_SRC=%s holds no firmware sources (Makefile, "
			 "fw_main.c): point it at fw-profiler/ or unset it", env);
		return -1;
	}
	char *exe_src = mn_exe_source_tree();
	const char *trees[] = {getenv("MN_TOP_SRCDIR"), ".", exe_src};
	size_t l = 0;
	char looked[1600] = "";
	for (size_t i = 0; i < sizeof trees / sizeof trees[0]; i++) {
		if (!trees[i] || !*trees[i])
			continue;
		snprintf(path, n, "%s/fw-profiler", trees[i]);
		if (has_sources(path)) {
			free(exe_src);
			return 0;
		}
		if (l < sizeof looked)
			l += (size_t)snprintf(looked + l, sizeof looked - l, "%s, ", path);
	}
	free(exe_src);
	snprintf(path, n, "%s/firmware/src", MN_DATADIR);
	if (has_sources(path))
		return 0;
	snprintf(err, errn, "no firmware sources found (looked at %s%s): install micronas with "
		 "'make install' or set MN_FIRMWARE_SRC to fw-profiler/", looked, path);
	return -1;
}

/* The board pairs of fw-profiler/Makefile: each board's image and its
 * emulated counterpart's are built for the same core and arena. */
static const char *const pairs[][2] = {
	{"nucleo-f746zg", "qemu-mps2-an500"},
	{"nucleo-f446re", "qemu-mps2-an386"},
};

int mn_firmware_pair(const char *firmware, const char **board, const char **emulated)
{
	for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
		if (!firmware || !*firmware || !strcmp(firmware, pairs[i][0]) ||
		    !strcmp(firmware, pairs[i][1])) {
			*board = pairs[i][0];
			*emulated = pairs[i][1];
			return 0;
		}
	return -1;
}

static const char *arm_cc(void)
{
	const char *cc = getenv("ARM_CC");
	return cc && *cc ? cc : "arm-none-eabi-gcc";
}

/* In a child before exec: the signals the command blocks to poll them
 * (cli_signal.h) are let through again, since a blocked mask is inherited
 * across exec and make and the compiler must stop on Ctrl-C (make then
 * removes the file it was writing). */
static void child_signals(void)
{
	sigset_t none;
	if (sigemptyset(&none) == 0)
		(void)sigprocmask(SIG_SETMASK, &none, NULL); /* failing, the child runs as it would have */
}

/* In a forked child: argv, with the signals let through and its output
 * (stdout and stderr) in the file log, which it truncates; never returns
 * (127 when argv cannot run, as a shell says).  Without the log file the
 * output goes where it went. */
static _Noreturn void exec_logged(char *const argv[], const char *log)
{
	child_signals();
	int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0666);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
	}
	execvp(argv[0], argv);
	_exit(127);
}

static int run_quiet(char *const argv[], const char *log)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0)
		exec_logged(argv, log ? log : "/dev/null");
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int mn_firmware_have_cc(void)
{
	char *argv[] = {(char *)arm_cc(), (char *)"--version", NULL};
	return run_quiet(argv, NULL) == 0;
}

/* The images of each target (the Makefile's outputs): removed before a
 * build, so that a build that fails or is stopped leaves none, rather
 * than one half written or made from the model DIR held before. */
static void remove_images(const char *fwdir, const char *const *targets, int n)
{
	static const char *const outs[] = {"fw.elf", "fw.bin", "fw.map"};
	for (int i = 0; i < n; i++)
		for (size_t k = 0; k < sizeof outs / sizeof outs[0]; k++) {
			char p[PATH_BYTES];
			if (snprintf(p, sizeof p, "%s/%s/%s", fwdir, targets[i], outs[k]) < (int)sizeof p)
				(void)unlink(p); /* absent as a rule; one that stays, make writes again or names */
		}
}

/* Where the objects that do not read the model (the Makefile's OBJDIR)
 * are kept between deploys: CACHE/firmware-objects/KEY, KEY a hash of the
 * firmware sources' real path (real) and the cross compiler's name (the Makefile
 * rebuilds what newer sources, headers, the Makefile itself or another
 * compiler version outdate), one directory a target in it.  Created; 0, or
 * -1 when there is no cache directory (the objects then go with the
 * image). */
static int object_cache_dir(const char *real, char *dir, size_t n)
{
	char cache[PATH_MAX];
	if (mn_cache_dir(cache, sizeof cache) != 0)
		return -1;
	uint64_t key = mn_hash_bytes(MN_HASH_INIT, real, strlen(real) + 1);
	key = mn_hash_bytes(key, arm_cc(), strlen(arm_cc()));
	if (snprintf(dir, n, "%s/firmware-objects/%016llx", cache, (unsigned long long)key) >= (int)n)
		return -1;
	return mn_make_dirs(dir);
}

/* A target's kept objects, DIR/TARGET, into objdir: a build holds
 * DIR/TARGET.lock (flock) so that two deploys never write one object at
 * once; a deploy that finds it held builds that target without them.  The
 * lock's descriptor into *lock_fd; 0, or -1. */
static int lock_objects(const char *dir, const char *target, char *objdir, size_t n, int *lock_fd)
{
	char lock[PATH_BYTES];
	*lock_fd = -1;
	if (snprintf(lock, sizeof lock, "%s/%s.lock", dir, target) >= (int)sizeof lock)
		return -1;
	int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) != 0 ||
	    snprintf(objdir, n, "%s/%s", dir, target) >= (int)n) {
		close(fd);
		return -1;
	}
	*lock_fd = fd;
	return 0;
}

/* Empties a target's object cache (its files; it holds no directory):
 * after a failed build, in case a killed compiler left an object cut
 * short that make would take as up to date. */
static void empty_dir(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		char p[PATH_BYTES];
		if (e->d_name[0] == '.' || snprintf(p, sizeof p, "%s/%s", dir, e->d_name) >= (int)sizeof p)
			continue;
		(void)unlink(p); /* one that stays, the next build rewrites or fails on again */
	}
	closedir(d);
}

/* The objects the build made for deploys of the images of the sources
 * at real path real (the firmware Makefile's deploy-objects, one directory
 * a target): those of the build tree a build-tree micronas runs from, when
 * real is that tree's fw-profiler, or the installed ones beside the
 * installed sources.  Only there are they known to come from these very
 * sources.  0 with the directory in dir, or -1. */
static int prebuilt_objects(const char *real, char *dir, size_t n)
{
	char cand[PATH_MAX], creal[PATH_MAX];
	char *tree = mn_exe_source_tree(), *build = mn_exe_build_tree();
	int rc = -1;
	if (tree && build && snprintf(cand, sizeof cand, "%s/fw-profiler", tree) < (int)sizeof cand &&
	    realpath(cand, creal) && !strcmp(creal, real))
		rc = snprintf(dir, n, "%s/fw-profiler/build/deploy-objects", build) < (int)n ? 0 : -1;
	else if (snprintf(cand, sizeof cand, "%s/firmware/src", MN_DATADIR) < (int)sizeof cand &&
		 realpath(cand, creal) && !strcmp(creal, real))
		rc = snprintf(dir, n, "%s/firmware/objects", MN_DATADIR) < (int)n ? 0 : -1;
	free(tree);
	free(build);
	return rc;
}

/* Starts an empty object cache objdir (no cc-version stamp yet) from the
 * prebuilt objects of from (a target's directory of prebuilt_objects):
 * their files copied with their modification times, so that make rebuilds
 * just what sources, headers, the Makefile or the compiler changed since,
 * and the stamp last, so that a copy cut short is started again.  Nothing
 * to copy, or a copy that fails (then emptied), leaves the build to make
 * every object. */
static void seed_objects(const char *from, const char *objdir)
{
	char stamp[PATH_BYTES], p[PATH_BYTES], q[PATH_BYTES];
	if (snprintf(stamp, sizeof stamp, "%s/cc-version", objdir) >= (int)sizeof stamp ||
	    access(stamp, F_OK) == 0)
		return; /* started already */
	DIR *d = opendir(from);
	if (!d)
		return;
	int ok = mn_make_dirs(objdir) == 0;
	struct dirent *e;
	while (ok && (e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		if (l < 3 || (strcmp(e->d_name + l - 2, ".o") != 0 && strcmp(e->d_name + l - 2, ".d") != 0))
			continue;
		ok = snprintf(p, sizeof p, "%s/%s", from, e->d_name) < (int)sizeof p &&
		     snprintf(q, sizeof q, "%s/%s", objdir, e->d_name) < (int)sizeof q &&
		     mn_copy_file_keep_mtime(p, q) == 0;
	}
	closedir(d);
	if (ok && snprintf(p, sizeof p, "%s/cc-version", from) < (int)sizeof p &&
	    mn_copy_file_keep_mtime(p, stamp) == 0)
		return;
	empty_dir(objdir);
}

/* Runs make for the targets whose run[i] is set, concurrently, until they
 * end or stop(ctx) says stop (then each gets SIGTERM: it stops its compiler
 * and removes the file it was writing, and is still waited for).  Each
 * make's wait status into status[i].  0; 1 when stopped; -1 with err when
 * a make could not start. */
static int run_makes(const char *src, const char *fwdir, const char *abs_dir,
		     const char *const *targets, char objdir[][DIR_BYTES], const int *run, int n,
		     int *status, int (*stop)(void *), void *ctx, char *err, size_t errn)
{
	pid_t pid[4];
	int done[4] = {0};
	for (int i = 0; i < n; i++) {
		done[i] = !run[i];
		if (!run[i])
			continue;
		char log[PATH_BYTES], t[PATH_BYTES], b[PATH_BYTES], m[PATH_BYTES], c[PATH_BYTES],
			o[PATH_BYTES];
		int cut = snprintf(log, sizeof log, "%s/%s.log", fwdir, targets[i]) >= (int)sizeof log ||
			  snprintf(t, sizeof t, "TARGET=%s", targets[i]) >= (int)sizeof t ||
			  snprintf(b, sizeof b, "BUILDDIR=%s", fwdir) >= (int)sizeof b ||
			  snprintf(m, sizeof m, "MODEL=%s", abs_dir) >= (int)sizeof m ||
			  snprintf(c, sizeof c, "ARM_CC=%s", arm_cc()) >= (int)sizeof c ||
			  snprintf(o, sizeof o, "OBJDIR=%s", objdir[i]) >= (int)sizeof o;
		pid[i] = -1;
		if (cut)
			snprintf(err, errn, "the %s build's paths or $ARM_CC do not fit make's arguments "
				 "(%d bytes each): deploy to a shorter directory", targets[i], PATH_BYTES);
		else if ((pid[i] = fork()) < 0)
			snprintf(err, errn, "cannot start make: %s", strerror(errno));
		if (pid[i] < 0) {
			for (int k = 0; k < i; k++)
				while (run[k] && waitpid(pid[k], NULL, 0) < 0 && errno == EINTR)
					;
			return -1;
		}
		if (pid[i] == 0) {
			char *argv[] = {(char *)"make", (char *)"--no-print-directory", (char *)"-C",
					(char *)src, t, b, m, c, objdir[i][0] ? o : NULL, NULL};
			exec_logged(argv, log);
		}
	}
	/* Waited for in turns of 20 ms, asking stop between them. */
	int left = 0, stopped = 0;
	for (int i = 0; i < n; i++)
		left += !done[i];
	while (left > 0) {
		for (int i = 0; i < n; i++) {
			if (done[i])
				continue;
			pid_t w = waitpid(pid[i], &status[i], WNOHANG);
			if (w == pid[i] || (w < 0 && errno != EINTR)) {
				if (w < 0)
					status[i] = -1;
				done[i] = 1;
				left--;
			}
		}
		if (left == 0)
			break;
		if (!stopped && stop && stop(ctx)) {
			stopped = 1;
			for (int i = 0; i < n; i++)
				if (!done[i])
					(void)kill(pid[i], SIGTERM); /* fails only if it has just exited */
		}
		mn_sleep_ms(20); /* cut short by a signal: the loop asks again */
	}
	return stopped;
}

static int failed(int st)
{
	return st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0;
}

int mn_deploy_build_firmware(const char *src, const char *dir, const char *const *targets, int n,
			     int (*stop)(void *), void *ctx, char *err, size_t errn)
{
	char abs_dir[DIR_BYTES], fwdir[DIR_BYTES];
	char objdir[4][DIR_BYTES];
	int lock[4] = {-1, -1, -1, -1}, run[4] = {0}, status[4] = {0};
	if (n > 4)
		n = 4;
	/* make runs in the source directory: the model's paths must be absolute. */
	if (!realpath(dir, abs_dir)) {
		snprintf(err, errn, "cannot resolve %s: %s", dir, strerror(errno));
		return -1;
	}
	if (snprintf(fwdir, sizeof fwdir, "%s/firmware", abs_dir) >= (int)sizeof fwdir) {
		snprintf(err, errn, "%s is too long a path: deploy to a shorter directory", abs_dir);
		return -1;
	}
	if (mkdir(fwdir, 0777) != 0 && errno != EEXIST) {
		snprintf(err, errn, "cannot create %s: %s", fwdir, strerror(errno));
		return -1;
	}
	remove_images(fwdir, targets, n);
	if (stop && stop(ctx))
		return 1;
	char real[PATH_MAX], cdir[DIR_BYTES], pre[DIR_BYTES], from[PATH_BYTES];
	int cached = realpath(src, real) && object_cache_dir(real, cdir, sizeof cdir) == 0;
	int prebuilt = cached && prebuilt_objects(real, pre, sizeof pre) == 0;
	for (int i = 0; i < n; i++) {
		run[i] = 1;
		if (!cached || lock_objects(cdir, targets[i], objdir[i], sizeof objdir[i], &lock[i]) != 0)
			objdir[i][0] = '\0'; /* the objects go with the image, as without a cache */
		else if (prebuilt && snprintf(from, sizeof from, "%s/%s", pre, targets[i]) < (int)sizeof from)
			seed_objects(from, objdir[i]);
	}
	int rc = run_makes(src, fwdir, abs_dir, targets, objdir, run, n, status, stop, ctx, err, errn);
	/* A build that failed with kept objects is tried once more with them
	 * made afresh: a failure they caused goes, any other repeats. */
	int again = 0;
	for (int i = 0; i < n; i++) {
		run[i] = rc == 0 && objdir[i][0] && failed(status[i]);
		if (run[i])
			empty_dir(objdir[i]);
		again |= run[i];
	}
	if (again)
		rc = run_makes(src, fwdir, abs_dir, targets, objdir, run, n, status, stop, ctx, err, errn);
	for (int i = 0; i < n; i++)
		if (lock[i] >= 0)
			close(lock[i]); /* releases it */
	if (rc != 0) {
		if (rc > 0)
			remove_images(fwdir, targets, n); /* anything make left */
		return rc;
	}
	int bad = -1;
	for (int i = 0; i < n; i++)
		if (failed(status[i]) && bad < 0)
			bad = i;
	if (bad >= 0) {
		snprintf(err, errn, "building the %s image failed (see %s/%s.log; the sources in %s "
			 "are written)", targets[bad], fwdir, targets[bad], abs_dir);
		return -1;
	}
	return 0;
}
