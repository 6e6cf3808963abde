/* Where presets are found: a name looked up in the user's, the source
 * tree's and the installed directories (first wins), and every preset the
 * TUI can offer.  Reading one is preset.h's. */
#ifndef MN_PRESET_FIND_H
#define MN_PRESET_FIND_H

#include <stddef.h>

#include "config/preset.h"
#include "util/error.h"

/* Where presets are looked for by name, in order (see mn_preset_dirs()). */
struct mn_preset_env {
	const char *xdg_config_home; /* $XDG_CONFIG_HOME (ignored unless absolute) */
	const char *home;            /* $HOME: ~/.config/micronas without the above */
	const char *top_srcdir;      /* $MN_TOP_SRCDIR (make check's source tree) */
	const char *exe_srcdir;      /* the running program's source tree, when it
				      * runs from its build tree (mn_exe_source_tree()) */
	const char *datadir;         /* the installed data dir */
};

#define MN_PRESET_DIRS 4

/* The directories a preset name is looked for in, first wins:
 *   1. $XDG_CONFIG_HOME/micronas/ (default ~/.config/micronas/): the user's
 *   2. $MN_TOP_SRCDIR/presets/, when that variable is set (make check: the
 *      tree's presets, not a possibly older installed copy)
 *   3. SRC/presets/ where SRC is the source tree of the build tree the
 *      program was run from (a build-tree binary run from any directory)
 *   4. MN_DATADIR/presets/ (installed with the program)
 * Fills dirs with heap strings (free with mn_preset_dirs_free()); returns
 * how many, or -1 when out of memory.  env NULL: the real environment. */
int mn_preset_dirs(const struct mn_preset_env *env, char *dirs[MN_PRESET_DIRS]);
void mn_preset_dirs_free(char *dirs[MN_PRESET_DIRS], int n);

/* Finds a preset by name or path.  A name holding '/' or ending in ".ini"
 * is a path, used as it is; otherwise NAME.ini in mn_preset_dirs().
 * Returns 0 with *path set (heap; free it), or -1 with e listing the places
 * looked in.  env NULL: the real environment. */
int mn_preset_find(const char *name, const struct mn_preset_env *env, char **path,
		   struct mn_error *e);

/* Defaults, then the preset found by name_or_path (env NULL: the real
 * environment).  p holds nothing before; free it after, also on error. */
int mn_preset_open(struct mn_preset *p, const char *name_or_path, struct mn_error *e);
/* The same, or only the embedded default when name_or_path is NULL: what
 * --preset means to every command and to the TUI. */
int mn_preset_open_or_default(struct mn_preset *p, const char *name_or_path, struct mn_error *e);

/* Every preset the TUI can offer: one per name (the first found in
 * mn_preset_dirs() order, the one mn_preset_find takes), every .ini file
 * but latency tables (they live beside the presets), in each directory's
 * order.  A file that does not load as a preset is listed with its error,
 * so that the user learns why rather than missing it. */
struct mn_preset_entry {
	char *name;  /* "nucleo-f746zg" */
	char *path;  /* the file */
	char *error; /* NULL, or why the file does not load (one line) */
};
/* Fills *v (heap, free with mn_preset_list_free()) with at most max
 * entries.  Returns 0, or -1 when out of memory. */
int mn_preset_list(const struct mn_preset_env *env, size_t max, struct mn_preset_entry **v,
		   size_t *n, struct mn_error *e);
void mn_preset_list_free(struct mn_preset_entry *v, size_t n);

#endif
