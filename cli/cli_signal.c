/* Signals for the long-running commands (see cli_signal.h). */
/* syscall(), for tgkill and gettid (Linux). */
#define _DEFAULT_SOURCE 1

#include "cli_signal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cli.h"

/* Libraries start threads of their own before main() (OpenBLAS starts its
 * workers when it is loaded), and those threads do not block our signals,
 * so the kernel would deliver a SIGTERM to one of them and the default
 * action would end the process in the middle of a write.  This handler,
 * run by whichever thread got the signal, sends it on to the main thread
 * (whose thread id is the process id), where it stays pending because the
 * main thread blocks it.  It keeps no state, so nothing global is needed. */
static void to_main_thread(int sig)
{
	int saved = errno;
#if defined(SYS_tgkill) && defined(SYS_gettid)
	pid_t pid = getpid();
	if ((pid_t)syscall(SYS_gettid) != pid)
		syscall(SYS_tgkill, pid, pid, sig);
#else
	(void)sig;
#endif
	errno = saved;
}

static int forward(int sig)
{
	struct sigaction sa, old;
	if (sigaction(sig, NULL, &old) != 0)
		return -1;
	/* A signal ignored by whoever started us (SIGINT in a background
	 * job) stays ignored. */
	if (old.sa_handler == SIG_IGN && sig != SIGCHLD)
		return 0;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = to_main_thread;
	sa.sa_flags = SA_RESTART | (sig == SIGCHLD ? SA_NOCLDSTOP : 0);
	if (sigfillset(&sa.sa_mask) != 0)
		return -1;
	return sigaction(sig, &sa, NULL);
}

int mn_cli_block_signals(const char *cmd, int with_chld, sigset_t *set)
{
	/* Blocked in the main thread, signals stay pending until we look
	 * at them (sigpending, sigtimedwait) between steps. */
	if (sigemptyset(set) != 0 || sigaddset(set, SIGINT) != 0 || sigaddset(set, SIGTERM) != 0 ||
	    sigaddset(set, SIGHUP) != 0 || (with_chld && sigaddset(set, SIGCHLD) != 0) ||
	    sigprocmask(SIG_BLOCK, set, NULL) != 0 || forward(SIGINT) != 0 ||
	    forward(SIGTERM) != 0 || forward(SIGHUP) != 0 || (with_chld && forward(SIGCHLD) != 0)) {
		mn_cli_error(cmd, "cannot set up signal handling (system error)");
		return -1;
	}
	return 0;
}

int mn_cli_stop_requested(void *arg)
{
	sigset_t p;
	(void)arg;
	if (sigpending(&p) != 0)
		return 0;
	return sigismember(&p, SIGINT) == 1 || sigismember(&p, SIGTERM) == 1 ||
	       sigismember(&p, SIGHUP) == 1;
}

