/* The tools the tests on the emulated board need: QEMU and the firmware
 * image (or the cross compiler to build it).  A missing one fails a test
 * point that names the Debian package; nothing is skipped silently. */
#ifndef MN_TEST_QEMU_PREREQ_H
#define MN_TEST_QEMU_PREREQ_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "board/emulator.h"
#include "tap.h"

static inline int in_path(const char *prog)
{
	char buf[4096];
	const char *path = getenv("PATH");
	if (strchr(prog, '/'))
		return access(prog, X_OK) == 0;
	while (path && *path) {
		const char *c = strchr(path, ':');
		size_t len = c ? (size_t)(c - path) : strlen(path);
		snprintf(buf, sizeof buf, "%.*s/%s", (int)len, path, prog);
		if (access(buf, X_OK) == 0)
			return 1;
		path += len + (c ? 1 : 0);
	}
	return 0;
}

/* 1 when QEMU and the firmware image (its path in fw) are there. */
static inline int qemu_prerequisites(char *fw, size_t n)
{
	const char *q = getenv("QEMU_SYSTEM_ARM");
	char err[1024];
	int ok = 1;
	if (!q || !*q)
		q = "qemu-system-arm";
	ok &= tap_ok(in_path(q), "QEMU present (%s)%s", q,
		     in_path(q) ? "" : ": MISSING, install it: apt-get install qemu-system-arm");
	if (mn_emulator_find_firmware(fw, n, err, sizeof err) == 0) {
		tap_ok(1, "firmware image %s", fw);
	} else if (!in_path("arm-none-eabi-gcc")) {
		ok &= tap_ok(0, "the firmware needs the cross compiler: apt-get install "
			     "gcc-arm-none-eabi libnewlib-arm-none-eabi, then rerun configure and make");
	} else {
		ok &= tap_ok(0, "firmware not built (%s); run make", err);
	}
	return ok;
}

#endif
