/* Firmware images of a deployed model (micronas deploy): the firmware's
 * own Makefile (fw-profiler/Makefile, MODEL=DIR) run with the cross
 * compiler on the firmware sources, found in the source tree or where
 * `make install` put them ($(pkgdatadir)/firmware/src). */
#ifndef MN_DEPLOY_FW_H
#define MN_DEPLOY_FW_H

#include <stddef.h>

/* The directory holding the firmware sources (its Makefile and
 * fw_main.c), in order: $MN_FIRMWARE_SRC; fw-profiler/ under
 * $MN_TOP_SRCDIR, the working directory and the source tree of the
 * running build-tree program; MN_DATADIR/firmware/src.  0, or -1 with err
 * listing where it looked. */
int mn_firmware_find_sources(char *path, size_t n, char *err, size_t errn);

/* The board build and its emulated counterpart for a preset's firmware
 * name (its [board] firmware, the emulated build; NULL or "" for the
 * default pair).  0, or -1 when the name is not a known build. */
int mn_firmware_pair(const char *firmware, const char **board, const char **emulated);

/* Builds DIR/firmware/TARGET/fw.elf and fw.bin for each of the n targets
 * (concurrently, one make each) from the model in DIR (model.c, model.h),
 * make's output in DIR/firmware/TARGET.log.  make and the cross compiler
 * ($ARM_CC, else arm-none-eabi-gcc) come from PATH.  The targets' old
 * images are removed first.  The objects that do not read the model are
 * kept between deploys in the cache directory (util/cache_dir.h:
 * firmware-objects/, the Makefile's OBJDIR), so a later build compiles
 * model.c and model_cmd.c alone; an empty one is started from the objects
 * the build made for src (the Makefile's deploy-objects, in the build tree
 * or installed), so a first build does too.  stop(ctx) (stop NULL: never) is asked on the
 * calling thread while make runs: when it says stop, make is stopped and
 * no image is left (1).  0, or -1 with one line in err naming the failing
 * target and its log. */
int mn_deploy_build_firmware(const char *src, const char *dir, const char *const *targets, int n,
			     int (*stop)(void *), void *ctx, char *err, size_t errn);

/* 1 when the cross compiler can be run. */
int mn_firmware_have_cc(void);

#endif
