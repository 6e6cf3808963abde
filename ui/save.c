/* Saving the pick: BASE.json with the keys of `micronas search --json`,
 * BASE.arch with the NAS-Bench-201 string, BASE.log with the session log.
 * Each file is replaced atomically, so an interrupted save leaves the old
 * file or the new one, never half of one. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "search/result_json.h"
#include "util/atomic_file.h"

static int write_json(FILE *f, void *user)
{
	const struct tui_app *a = user;
	return mn_result_json_write(f, &a->done_snap, a->session->preset.seed,
				    a->have_oracle ? &a->oracle : NULL);
}

static int write_arch(FILE *f, void *user)
{
	const struct tui_app *a = user;
	char arch[MN_ARCH_STRLEN];
	mn_arch_format(&a->done_snap.result, arch, sizeof arch);
	return fprintf(f, "%s\n", arch) < 0 ? -1 : 0;
}

static int write_log(FILE *f, void *user)
{
	const struct tui_app *a = user;
	return tui_log_write(&a->log, f);
}

int tui_save(struct tui_app *a, const char *base, struct mn_error *e)
{
	char path[MN_PRESET_PATH + 8];
	char *err = e->msg;
	size_t errn = sizeof e->msg;
	if (!a->have_done)
		return mn_error_set(e, "nothing to save yet: run the search first");
	if (strlen(base) + 6 > MN_PRESET_PATH)
		return mn_error_set(e, "the name is too long");
	char arch[MN_ARCH_STRLEN];
	mn_arch_format(&a->done_snap.result, arch, sizeof arch);
	snprintf(path, sizeof path, "%s.json", base);
	if (mn_atomic_write(path, write_json, a, err, errn) != 0)
		goto failed;
	snprintf(path, sizeof path, "%s.arch", base);
	if (mn_atomic_write(path, write_arch, a, err, errn) != 0)
		goto failed;
	/* Logged before the log is written, so that the saved log ends with
	 * the save; only once the other two files are written. */
	tui_log_event(&a->log, "saved %s to %s.json, %s.arch and %s.log", arch, base, base, base);
	snprintf(path, sizeof path, "%s.log", base);
	if (mn_atomic_write(path, write_log, a, err, errn) != 0)
		goto failed;
	tui_message(a, 0, "saved %s.json, %s.arch and %s.log", base, base, base);
	return 0;
failed:
	tui_log_event(&a->log, "save to %s failed: %s", base, err);
	return -1;
}
