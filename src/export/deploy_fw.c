#define _DEFAULT_SOURCE 1 /* realpath() */

/* Firmware images of a deployed model; see deploy_fw.h. */
#include "export/deploy_fw.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config/exe_tree.h"
#include "util/clock.h"

static int has_sources(const char *dir)
{
	char p[4200];
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
			char p[4400];
			snprintf(p, sizeof p, "%s/%s/%s", fwdir, targets[i], outs[k]);
			(void)unlink(p); /* absent as a rule; one that stays, make writes again or names */
		}
}

int mn_deploy_build_firmware(const char *src, const char *dir, const char *const *targets, int n,
			     int (*stop)(void *), void *ctx, char *err, size_t errn)
{
	char abs_dir[4200], fwdir[sizeof abs_dir + 16];
	pid_t pid[4];
	int done[4] = {0}, status[4] = {0};
	if (n > 4)
		n = 4;
	/* make runs in the source directory: the model's paths must be absolute. */
	if (!realpath(dir, abs_dir)) {
		snprintf(err, errn, "cannot resolve %s: %s", dir, strerror(errno));
		return -1;
	}
	snprintf(fwdir, sizeof fwdir, "%s/firmware", abs_dir);
	if (mkdir(fwdir, 0777) != 0 && errno != EEXIST) {
		snprintf(err, errn, "cannot create %s: %s", fwdir, strerror(errno));
		return -1;
	}
	remove_images(fwdir, targets, n);
	if (stop && stop(ctx))
		return 1;
	for (int i = 0; i < n; i++) {
		char log[sizeof fwdir + 100], t[80], b[sizeof fwdir + 16], m[sizeof abs_dir + 16], c[300];
		snprintf(log, sizeof log, "%s/%s.log", fwdir, targets[i]);
		snprintf(t, sizeof t, "TARGET=%s", targets[i]);
		snprintf(b, sizeof b, "BUILDDIR=%s", fwdir);
		snprintf(m, sizeof m, "MODEL=%s", abs_dir);
		snprintf(c, sizeof c, "ARM_CC=%s", arm_cc());
		pid[i] = fork();
		if (pid[i] < 0) {
			snprintf(err, errn, "cannot start make: %s", strerror(errno));
			for (int k = 0; k < i; k++)
				while (waitpid(pid[k], NULL, 0) < 0 && errno == EINTR)
					;
			return -1;
		}
		if (pid[i] == 0) {
			char *argv[] = {(char *)"make", (char *)"--no-print-directory", (char *)"-C",
					(char *)src, t, b, m, c, NULL};
			exec_logged(argv, log);
		}
	}
	/* Waited for in turns of 20 ms, asking stop between them: stopped, each
	 * make still running gets SIGTERM (it stops its compiler and removes
	 * the file it was writing), and is still waited for. */
	int left = n, stopped = 0;
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
	if (stopped) {
		remove_images(fwdir, targets, n); /* anything make left */
		return 1;
	}
	int bad = -1;
	for (int i = 0; i < n; i++) {
		int st = status[i];
		if ((st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) && bad < 0)
			bad = i;
	}
	if (bad >= 0) {
		snprintf(err, errn, "building the %s image failed (see %s/%s.log; the sources in %s "
			 "are written)", targets[bad], fwdir, targets[bad], abs_dir);
		return -1;
	}
	return 0;
}
