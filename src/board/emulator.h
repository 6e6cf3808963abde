/* The emulated board: QEMU's mps2-an500 (a Cortex-M7; or another MPS2
 * machine a preset names, such as the Cortex-M4 mps2-an386) running the
 * micronas firmware, its UART0 on a pseudo-terminal or a unix socket:
 *
 *   qemu-system-arm -M mps2-an500 -nographic -monitor none -icount shift=0
 *                   -kernel FW.elf -serial pty | -serial unix:PATH,server=on,wait=off
 *
 * -icount shift=0 makes time instruction-based and deterministic (one
 * virtual ns per instruction, reference.md section 5), so the figures the
 * firmware reports are instruction counts, not STM32 cycles.
 *
 * QEMU runs in its own process group (a Ctrl-C at the terminal reaches only
 * micronas, which then stops QEMU in order) and, on Linux, dies with its
 * parent (PR_SET_PDEATHSIG), so no QEMU outlives micronas even when
 * micronas is killed outright.  mn_emulator_stop() sends SIGTERM, then
 * SIGKILL after a grace period, and reaps the process: no zombie.
 * PR_SET_PDEATHSIG fires when the *thread* that forked ends, so start the
 * emulator from a thread that lives as long as QEMU should (the main one). */
#ifndef MN_EMULATOR_H
#define MN_EMULATOR_H

#include <stddef.h>
#include <sys/types.h>

/* Where the firmware's Makefile puts the QEMU image, under its BUILDDIR. */
#define MN_FIRMWARE_QEMU_REL "qemu-mps2-an500/fw.elf"

struct mn_emulator_opts {
	const char *qemu;        /* NULL: $QEMU_SYSTEM_ARM, else qemu-system-arm */
	const char *firmware;    /* NULL: mn_emulator_find_firmware() */
	const char *socket_path; /* NULL: -serial pty; else a unix socket there */
	int boot_timeout_ms;     /* until the firmware answers HELLO (20000) */
	/* Polled while waiting for QEMU and the firmware; nonzero gives up
	 * (QEMU is stopped again).  May be NULL. */
	int (*cancel)(void *arg);
	void *cancel_arg;
	/* The board's emulated counterpart, from its preset ([board] emulator
	 * and firmware): QEMU's -M machine (NULL: mps2-an500) and the name of
	 * the firmware build it runs (NULL: qemu-mps2-an500), which names the
	 * image looked for and, when given, the board HELLO must report. */
	const char *machine;
	const char *firmware_build;
};

struct mn_emulator;

/* Finds the QEMU firmware image, in order:
 *   1. $MN_FIRMWARE
 *   2. $MN_TOP_BUILDDIR/fw-profiler/build/qemu-mps2-an500/fw.elf (make check)
 *   3. $MN_TOP_SRCDIR/fw-profiler/build/qemu-mps2-an500/fw.elf
 *   4. ./fw-profiler/build/qemu-mps2-an500/fw.elf (the build or source tree)
 *   5. the same under the build tree the running program is in, then under
 *      its source tree (a build-tree micronas run from any directory)
 *   6. MN_DATADIR/firmware/qemu-mps2-an500/fw.elf (installed)
 * Returns 0 with path filled, or -1 with err listing every place looked at
 * and the fix. */
int mn_emulator_find_firmware(char *path, size_t n, char *err, size_t errn);
/* The same for the firmware build named build (e.g. "qemu-mps2-an386":
 * BUILD/fw.elf in the places above); NULL is qemu-mps2-an500. */
int mn_emulator_find_firmware_build(const char *build, char *path, size_t n, char *err,
				    size_t errn);

/* Starts QEMU, reads the pty name it prints (or waits for its socket) and
 * waits until the firmware answers HELLO.  o may be NULL.  Returns 0, or -1
 * with err (QEMU is stopped again on every failure).  A firmware that
 * answers in another protocol version counts as up (it did answer):
 * mn_emulator_warning() then holds the board client's version error, and
 * every command over the port reports it.
 * QEMU is started with PR_SET_PDEATHSIG so that it never outlives us; Linux
 * ties that to the THREAD that forked it, so call this from a thread that
 * lives as long as the emulator should (the main thread, or a long-lived
 * worker as board_job uses), never from a short-lived one. */
int mn_emulator_start(struct mn_emulator **e, const struct mn_emulator_opts *o, char *err,
		      size_t errn);

/* The value to pass as --port: "/dev/pts/N" or "unix:PATH". */
const char *mn_emulator_port(const struct mn_emulator *e);
pid_t mn_emulator_pid(const struct mn_emulator *e);
/* 1 while QEMU runs; 0 once it has exited (it is reaped then). */
int mn_emulator_running(struct mn_emulator *e);
/* Whether the child pid (a QEMU started here) has exited, without reaping
 * it (waitid WNOWAIT): safe from any thread while the one that owns the
 * emulator reaps it later.  1 with how set ("killed by signal 9"), 0 while
 * it runs or when it was already reaped (then its owner knows). */
int mn_emulator_pid_exited(long pid, char *how, size_t n);
/* QEMU's own output (stdout and stderr), for messages: its first line
 * starting with "qemu" (QEMU's errors), else its last line, or "". */
void mn_emulator_last_output(const struct mn_emulator *e, char *buf, size_t n);
/* How QEMU ended ("exited with status N", "killed by signal N"), once
 * mn_emulator_running() has returned 0; "" before. */
void mn_emulator_exit_text(const struct mn_emulator *e, char *buf, size_t n);
/* The start-up warning (see mn_emulator_start), or "". */
const char *mn_emulator_warning(const struct mn_emulator *e);

/* Stops QEMU (SIGTERM, SIGKILL after 3 s), reaps it, removes its temporary
 * files and the socket, frees e.  Returns 0, or -1 when QEMU had already
 * died of a signal or exited non-zero before being asked to stop (the
 * cleanup is done all the same).  e may be NULL. */
int mn_emulator_stop(struct mn_emulator *e);

#endif
