/* Starting and stopping QEMU with the micronas firmware (see emulator.h). */
#include "board/emulator.h"

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
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "board/board.h"
#include "config/exe_tree.h"
#include "util/error.h"
#include "util/clock.h"

/* Seconds QEMU gets to print its pty name or create its socket. */
#define QEMU_START_MS 10000
/* Grace period between SIGTERM and SIGKILL. */
#define QEMU_TERM_MS 3000

struct mn_emulator {
	pid_t pid;
	int reaped;          /* waitpid() has collected it */
	int status;          /* its wait status once reaped */
	char tmpdir[64];     /* holds QEMU's output file */
	char log[128];
	char *port;          /* "/dev/pts/N" or "unix:PATH" (heap), NULL until known */
	char *socket_path;   /* heap; NULL: a pty */
	struct mn_error warning; /* the start-up warning, "" if none */
	char build[64];      /* the firmware build expected (for messages) */
};

static int readable(const char *p)
{
	return *p && access(p, R_OK) == 0;
}

int mn_emulator_find_firmware(char *path, size_t n, char *err, size_t errn)
{
	return mn_emulator_find_firmware_build(NULL, path, n, err, errn);
}

int mn_emulator_find_firmware_build(const char *build, char *path, size_t n, char *err,
				    size_t errn)
{
	const char *env = getenv("MN_FIRMWARE");
	char rel[160];
	if (!build || !*build)
		snprintf(rel, sizeof rel, "%s", MN_FIRMWARE_QEMU_REL);
	else
		snprintf(rel, sizeof rel, "%.100s/fw.elf", build);
	char *exe_build = mn_exe_build_tree(), *exe_src = mn_exe_source_tree();
	/* Build trees, in order; "" is the working directory. */
	const char *trees[] = {getenv("MN_TOP_BUILDDIR"), getenv("MN_TOP_SRCDIR"), "", exe_build,
			       exe_src};
	enum { N_TREES = sizeof trees / sizeof trees[0] };
	char looked[N_TREES + 1][600];
	int nl = 0, found = 0;

	if (env && *env) {
		free(exe_build);
		free(exe_src);
		if (readable(env)) {
			snprintf(path, n, "%s", env);
			return 0;
		}
		snprintf(err, errn, "MN_FIRMWARE=%s: no such readable file (build the firmware with "
			 "'make -C fw-profiler' or unset MN_FIRMWARE)", env);
		return -1;
	}
	for (int i = 0; i < N_TREES && !found; i++) {
		if (!trees[i] || (i != 2 && !*trees[i]))
			continue;
		snprintf(path, n, "%s%sfw-profiler/build/%s", trees[i], *trees[i] ? "/" : "", rel);
		int dup = 0;
		for (int k = 0; k < nl; k++)
			dup |= strcmp(looked[k], path) == 0;
		if (dup)
			continue;
		snprintf(looked[nl++], sizeof looked[0], "%s", path);
		found = readable(path);
	}
	free(exe_build);
	free(exe_src);
	if (found)
		return 0;
	snprintf(path, n, "%s/firmware/%s", MN_DATADIR, rel);
	if (readable(path))
		return 0;
	snprintf(looked[nl++], sizeof looked[0], "%s", path);
	size_t l = (size_t)snprintf(err, errn, "no QEMU firmware image found (looked at");
	for (int k = 0; k < nl && l < errn; k++)
		l += (size_t)snprintf(err + l, errn - l, "%s %s", k ? "," : "", looked[k]);
	if (l < errn)
		snprintf(err + l, errn - l,
			 "; build it with 'make -C fw-profiler' (apt-get install gcc-arm-none-eabi "
			 "libnewlib-arm-none-eabi) or set MN_FIRMWARE)");
	return -1;
}

/* execvp() would find QEMU too, but only after the fork; looking first
 * gives a clear message naming the Debian package. */
static int find_program(const char *name, char *out, size_t n)
{
	const char *path = getenv("PATH");
	if (strchr(name, '/')) {
		snprintf(out, n, "%s", name);
		return access(name, X_OK);
	}
	if (!path || !*path)
		path = "/usr/bin:/bin";
	while (*path) {
		const char *colon = strchr(path, ':');
		size_t len = colon ? (size_t)(colon - path) : strlen(path);
		snprintf(out, n, "%.*s/%s", (int)len, len ? path : ".", name);
		if (access(out, X_OK) == 0)
			return 0;
		path += len;
		if (*path == ':')
			path++;
	}
	return -1;
}

/* The child: its own process group, dies with its parent, default signal
 * handling (dispositions and masks are inherited across exec, and QEMU must
 * see SIGTERM), stdin from /dev/null, output into the log file.  The parent
 * may have other threads (OpenBLAS starts some), so only async-signal-safe
 * calls are made between fork() and exec. */
static void child(const char *qemu, char *const argv[], const char *log, pid_t parent)
{
	sigset_t none;
	int fd;

	if (setpgid(0, 0) != 0)
		_exit(126);
#ifdef __linux__
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
		_exit(126);
#endif
	if (getppid() != parent)
		_exit(126); /* the parent died before prctl() took effect */
	if (sigemptyset(&none) != 0 || sigprocmask(SIG_SETMASK, &none, NULL) != 0 ||
	    signal(SIGINT, SIG_DFL) == SIG_ERR || signal(SIGTERM, SIG_DFL) == SIG_ERR ||
	    signal(SIGHUP, SIG_DFL) == SIG_ERR || signal(SIGPIPE, SIG_DFL) == SIG_ERR ||
	    signal(SIGCHLD, SIG_DFL) == SIG_ERR)
		_exit(126);
	fd = open("/dev/null", O_RDONLY);
	if (fd < 0 || dup2(fd, 0) < 0)
		_exit(126);
	close(fd);
	fd = open(log, O_WRONLY | O_APPEND);
	if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
		_exit(126);
	close(fd);
	execv(qemu, argv);
	{
		static const char msg[] = "micronas: cannot execute QEMU (execv failed)\n";
		/* Nothing more can be done if even this fails: the exit status
		 * says it. */
		ssize_t w = write(2, msg, sizeof msg - 1);
		(void)w;
	}
	_exit(127);
}

static void read_log(const struct mn_emulator *e, char *buf, size_t n)
{
	FILE *f = fopen(e->log, "r");
	size_t got = 0;
	buf[0] = 0;
	if (!f)
		return;
	got = fread(buf, 1, n - 1, f);
	buf[got] = 0;
	fclose(f);
}

void mn_emulator_last_output(const struct mn_emulator *e, char *buf, size_t n)
{
	char all[8192];
	char *line, *save = NULL, *last = NULL;

	buf[0] = 0;
	read_log(e, all, sizeof all);
	/* QEMU's own errors start with its name ("qemu-system-arm: ...",
	 * "qemu: fatal: ..."); a guest crash follows with a register dump,
	 * whose last line says nothing. */
	for (line = strtok_r(all, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
		if (!strncmp(line, "qemu", 4)) {
			snprintf(buf, n, "%s", line);
			return;
		}
		if (*line)
			last = line;
	}
	if (last)
		snprintf(buf, n, "%s", last);
}

int mn_emulator_pid_exited(long pid, char *how, size_t n)
{
	siginfo_t si;
	int r;
	if (pid <= 0)
		return 0;
	memset(&si, 0, sizeof si);
	do {
		r = waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT);
	} while (r < 0 && errno == EINTR);
	if (r != 0 || si.si_pid != (pid_t)pid)
		return 0;
	if (si.si_code == CLD_EXITED)
		snprintf(how, n, "exited with status %d", si.si_status);
	else
		snprintf(how, n, "killed by signal %d", si.si_status);
	return 1;
}

int mn_emulator_running(struct mn_emulator *e)
{
	int st;
	pid_t r;
	if (e->reaped)
		return 0;
	do {
		r = waitpid(e->pid, &st, WNOHANG);
	} while (r < 0 && errno == EINTR);
	if (r == e->pid || (r < 0 && errno == ECHILD)) {
		e->reaped = 1;
		e->status = r == e->pid ? st : 0;
		return 0;
	}
	return 1;
}

void mn_emulator_exit_text(const struct mn_emulator *e, char *buf, size_t n)
{
	buf[0] = 0;
	if (!e->reaped)
		return;
	if (WIFEXITED(e->status))
		snprintf(buf, n, "exited with status %d", WEXITSTATUS(e->status));
	else if (WIFSIGNALED(e->status))
		snprintf(buf, n, "killed by signal %d", WTERMSIG(e->status));
}

const char *mn_emulator_warning(const struct mn_emulator *e)
{
	return e->warning.msg;
}

static void describe_exit(struct mn_emulator *e, char *err, size_t errn, const char *when)
{
	char last[300], how[64];
	mn_emulator_last_output(e, last, sizeof last);
	mn_emulator_exit_text(e, how, sizeof how);
	snprintf(err, errn, "QEMU %s %s: %s (is the firmware the %s build of "
		 "fw-profiler, and QEMU 7 or later?)", how, when, *last ? last : "no output",
		 e->build);
}

static int cancelled(const struct mn_emulator_opts *o, char *err, size_t errn)
{
	if (o->cancel && o->cancel(o->cancel_arg)) {
		snprintf(err, errn, "interrupted while QEMU was starting");
		return 1;
	}
	return 0;
}

/* Whether QEMU has its serial port up: 1 yes, 0 not yet, -1 failed (err
 * set). */
typedef int (*ready_fn)(struct mn_emulator *e, char *err, size_t errn);

/* A pty: "char device redirected to /dev/pts/N" in QEMU's output. */
static int pty_ready(struct mn_emulator *e, char *err, size_t errn)
{
	static const char key[] = "char device redirected to ";
	char out[8192], *p;
	read_log(e, out, sizeof out);
	p = strstr(out, key);
	if (!p)
		return 0;
	p += sizeof key - 1;
	size_t len = strcspn(p, " \t\r\n");
	if (len == 0)
		return 0;
	if (!(e->port = strndup(p, len))) {
		snprintf(err, errn, "out of memory starting QEMU");
		return -1;
	}
	return 1;
}

/* A unix socket: it exists. */
static int socket_ready(struct mn_emulator *e, char *err, size_t errn)
{
	struct stat sb;
	(void)err;
	(void)errn;
	return stat(e->socket_path, &sb) == 0 && S_ISSOCK(sb.st_mode);
}

/* Polls ready() until the port is up, QEMU has died, the caller cancels or
 * QEMU_START_MS have passed. */
static int wait_ready(struct mn_emulator *e, const struct mn_emulator_opts *o, ready_fn ready,
		      char *err, size_t errn)
{
	long long deadline = mn_now_ms() + QEMU_START_MS;
	for (;;) {
		int r = ready(e, err, errn);
		if (r != 0)
			return r > 0 ? 0 : -1;
		if (!mn_emulator_running(e)) {
			describe_exit(e, err, errn, "at start");
			return -1;
		}
		if (cancelled(o, err, errn))
			return -1;
		if (mn_now_ms() > deadline) {
			if (e->socket_path)
				snprintf(err, errn, "QEMU created no socket at %s within %d s (check that "
					 "the directory is writable)", e->socket_path, QEMU_START_MS / 1000);
			else
				snprintf(err, errn, "QEMU printed no pty name within %d s (is it QEMU 7.x? "
					 "try --socket PATH instead)", QEMU_START_MS / 1000);
			return -1;
		}
		mn_sleep_ms(20);
	}
}

/* The QEMU program (o->qemu, else $QEMU_SYSTEM_ARM, else qemu-system-arm,
 * looked up in PATH) and the firmware image (o->firmware, else the build's
 * image, mn_emulator_find_firmware_build). */
static int find_programs(const struct mn_emulator_opts *o, char *qemu, size_t qn, char *fw,
			 size_t fwn, char *err, size_t errn)
{
	const char *qname = o->qemu;
	if (!qname || !*qname)
		qname = getenv("QEMU_SYSTEM_ARM");
	if (!qname || !*qname)
		qname = "qemu-system-arm";
	if (find_program(qname, qemu, qn) != 0) {
		snprintf(err, errn, "%s not found (install it: apt-get install qemu-system-arm, or "
			 "set QEMU_SYSTEM_ARM to its path)", qname);
		return -1;
	}
	if (!o->firmware || !*o->firmware)
		return mn_emulator_find_firmware_build(o->firmware_build, fw, fwn, err, errn);
	if (!readable(o->firmware)) {
		snprintf(err, errn, "firmware image %s not found (build it with 'make -C "
			 "fw-profiler')", o->firmware);
		return -1;
	}
	snprintf(fw, fwn, "%s", o->firmware);
	return 0;
}

/* e's temporary directory and QEMU's output file in it.  What is not made
 * is left empty, so mn_emulator_stop removes only what exists. */
static int make_log(struct mn_emulator *e, char *err, size_t errn)
{
	snprintf(e->tmpdir, sizeof e->tmpdir, "/tmp/micronas-qemu-XXXXXX");
	if (!mkdtemp(e->tmpdir)) {
		snprintf(err, errn, "cannot create a temporary directory in /tmp: %s (free space or "
			 "set permissions)", strerror(errno));
		e->tmpdir[0] = '\0';
		return -1;
	}
	snprintf(e->log, sizeof e->log, "%s/qemu.log", e->tmpdir);
	int fd = open(e->log, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0) {
		snprintf(err, errn, "cannot create %s: %s", e->log, strerror(errno));
		e->log[0] = '\0';
		return -1;
	}
	close(fd);
	return 0;
}

/* QEMU's -serial argument: a Unix socket at path (NULL or "": a pty).  A
 * socket left by an earlier run would make QEMU fail to bind, so it is
 * removed; anything that is not a socket is left alone (and e does not
 * take the path, so mn_emulator_stop leaves it too). */
static int serial_arg(struct mn_emulator *e, const char *path, char *serial, size_t n, char *err,
		      size_t errn)
{
	struct stat sb;
	if (!path || !*path) {
		snprintf(serial, n, "pty");
		return 0;
	}
	if (stat(path, &sb) == 0 && !S_ISSOCK(sb.st_mode)) {
		snprintf(err, errn, "%s exists and is not a socket (choose another --socket path)",
			 path);
		return -1;
	}
	if (!(e->socket_path = strdup(path))) {
		snprintf(err, errn, "out of memory starting QEMU");
		return -1;
	}
	(void)unlink(path);
	snprintf(serial, n, "unix:%s,server=on,wait=off", path);
	return 0;
}

static int spawn(struct mn_emulator *e, const char *qemu, const char *machine, const char *fw,
		 const char *serial, char *err, size_t errn)
{
	char *argv[] = {(char *)qemu, "-M", (char *)machine, "-nographic", "-monitor", "none",
			"-icount", "shift=0", "-kernel", (char *)fw, "-serial", (char *)serial, NULL};
	pid_t parent = getpid();
	e->pid = fork();
	if (e->pid < 0) {
		snprintf(err, errn, "cannot start QEMU: fork failed: %s", strerror(errno));
		return -1;
	}
	if (e->pid == 0)
		child(qemu, argv, e->log, parent);
	return 0;
}

/* Until QEMU has made its serial port: e->port set. */
static int wait_port(struct mn_emulator *e, const struct mn_emulator_opts *o, char *err,
		     size_t errn)
{
	if (!e->socket_path)
		return wait_ready(e, o, pty_ready, err, errn);
	if (wait_ready(e, o, socket_ready, err, errn) != 0)
		return -1;
	size_t n = strlen(e->socket_path) + sizeof "unix:";
	if (!(e->port = malloc(n))) {
		snprintf(err, errn, "out of memory starting QEMU");
		return -1;
	}
	snprintf(e->port, n, "unix:%s", e->socket_path);
	return 0;
}

/* The board is up when the firmware answers HELLO, as the board the
 * preset expects when o->firmware_build is given. */
static int wait_hello(struct mn_emulator *e, const struct mn_emulator_opts *o, const char *fw,
		      char *err, size_t errn)
{
	int boot_ms = o->boot_timeout_ms > 0 ? o->boot_timeout_ms : 20000;
	struct mn_board *b;
	struct mn_board_opts bo;
	struct mn_error berr;
	mn_board_opts_default(&bo);
	bo.connect_timeout_ms = boot_ms;
	bo.cancel = o->cancel;
	bo.cancel_arg = o->cancel_arg;
	/* QEMU creates the socket file when it binds, a moment before it
	 * listens: until then a connect is refused (EIO).  On a loaded
	 * machine that moment is long, so a refusal while QEMU runs is
	 * retried within the boot time. */
	long long connect_until = mn_now_ms() + boot_ms;
	int r;
	for (;;) {
		r = mn_board_connect(&b, e->port, &bo, berr.msg, sizeof berr.msg);
		if (r != MN_BOARD_EIO || !e->socket_path || !mn_emulator_running(e) ||
		    mn_now_ms() > connect_until || (o->cancel && o->cancel(o->cancel_arg)))
			break;
		mn_sleep_ms(20);
	}
	if (r == MN_BOARD_EVERSION) {
		snprintf(e->warning.msg, sizeof e->warning.msg, "%s", berr.msg);
		return 0;
	}
	if (r == MN_BOARD_ECANCEL) {
		snprintf(err, errn, "interrupted while the emulated board was booting");
		return -1;
	}
	if (r != MN_BOARD_OK) {
		/* A pty reports EOF (EGONE) as QEMU's descriptors close, a
		 * moment before the process can be reaped; if QEMU exited
		 * before the connect, its pty is already gone and opening it
		 * fails (EIO).  Either way, give QEMU the moment to be reaped
		 * so the error says why it stopped. */
		long long until = mn_now_ms() + 5000; /* ends when QEMU is reaped */
		while ((r == MN_BOARD_EGONE || r == MN_BOARD_EIO) && mn_emulator_running(e) &&
		       mn_now_ms() < until)
			mn_sleep_ms(10);
		if (!mn_emulator_running(e))
			describe_exit(e, err, errn, "while booting");
		else
			snprintf(err, errn, "the emulated board does not answer: %s", berr.msg);
		return -1;
	}
	int rc = 0;
	if (o->firmware_build && *o->firmware_build &&
	    strcmp(mn_board_info(b)->board, o->firmware_build) != 0) {
		/* $MN_FIRMWARE or --firmware gave another board's image. */
		snprintf(err, errn, "the firmware %s answers as %s, not %s (build it with 'make "
			 "-C fw-profiler TARGET=%s', or give that image with --firmware)", fw,
			 mn_board_info(b)->board, o->firmware_build, o->firmware_build);
		rc = -1;
	}
	mn_board_close(b);
	return rc;
}

int mn_emulator_start(struct mn_emulator **ep, const struct mn_emulator_opts *o, char *err,
		      size_t errn)
{
	static const struct mn_emulator_opts def = {.boot_timeout_ms = 20000};
	char qemu[4096], fw[4096], serial[4200];

	*ep = NULL;
	if (!o)
		o = &def;
	if (find_programs(o, qemu, sizeof qemu, fw, sizeof fw, err, errn) != 0)
		return -1;
	struct mn_emulator *e = calloc(1, sizeof *e);
	if (!e) {
		snprintf(err, errn, "out of memory starting QEMU");
		return -1;
	}
	e->pid = -1;
	snprintf(e->build, sizeof e->build, "%.60s",
		 o->firmware_build && *o->firmware_build ? o->firmware_build : "qemu-mps2-an500");
	const char *machine = o->machine && *o->machine ? o->machine : "mps2-an500";
	if (make_log(e, err, errn) != 0 ||
	    serial_arg(e, o->socket_path, serial, sizeof serial, err, errn) != 0 ||
	    spawn(e, qemu, machine, fw, serial, err, errn) != 0 || wait_port(e, o, err, errn) != 0 ||
	    wait_hello(e, o, fw, err, errn) != 0) {
		/* stops QEMU if it runs, removes what was made */
		mn_emulator_stop(e);
		return -1;
	}
	*ep = e;
	return 0;
}

const char *mn_emulator_port(const struct mn_emulator *e)
{
	return e->port;
}

pid_t mn_emulator_pid(const struct mn_emulator *e)
{
	return e->pid;
}

int mn_emulator_stop(struct mn_emulator *e)
{
	int rc = 0;
	if (!e)
		return 0;
	if (e->pid > 0 && mn_emulator_running(e)) {
		long long deadline;
		/* Asked to stop, QEMU exits on its own; SIGKILL only if it
		 * hangs. */
		if (kill(e->pid, SIGTERM) != 0 && errno != ESRCH)
			rc = -1;
		deadline = mn_now_ms() + QEMU_TERM_MS;
		while (mn_emulator_running(e) && mn_now_ms() < deadline)
			mn_sleep_ms(10);
		if (!e->reaped) {
			/* ESRCH (it just exited) is fine: waitpid collects it. */
			(void)kill(e->pid, SIGKILL);
			while (!e->reaped) {
				int st;
				pid_t r = waitpid(e->pid, &st, 0);
				if (r == e->pid) {
					e->reaped = 1;
					e->status = st;
				} else if (r < 0 && errno != EINTR) {
					e->reaped = 1; /* not our child any more */
				}
			}
		}
	} else if (e->pid > 0 && e->reaped) {
		/* It had exited before we asked. */
		if (!WIFEXITED(e->status) || WEXITSTATUS(e->status) != 0)
			rc = -1;
	}
	/* Best-effort cleanup of our own temporary files: a leftover in /tmp
	 * is harmless, and QEMU is already gone. */
	if (e->socket_path)
		(void)unlink(e->socket_path);
	free(e->socket_path);
	free(e->port);
	if (e->log[0])
		(void)unlink(e->log);
	if (e->tmpdir[0])
		(void)rmdir(e->tmpdir);
	free(e);
	return rc;
}
