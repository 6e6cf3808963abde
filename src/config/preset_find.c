/* See preset_find.h. */
#define _DEFAULT_SOURCE 1 /* realpath() */
#include "config/preset_find.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config/exe_tree.h"
#include "space/latency_table.h"
#include "util/ini_file.h"
#include "util/str_join.h"

#ifndef MN_DATADIR
#define MN_DATADIR "/usr/local/share/micronas" /* the build passes $(pkgdatadir) */
#endif

static int is_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && !S_ISDIR(st.st_mode);
}

/* Adds DIR/presets unless an earlier entry is that directory (the source
 * tree named by MN_TOP_SRCDIR and found from the program are often one):
 * a lookup and its "looked for" list name each place once. */
static int add_presets(char *dirs[MN_PRESET_DIRS], int *n, const char *dir)
{
	char *d = mn_str_join(dir, "/presets", NULL);
	if (!d)
		return 1;
	char *rd = realpath(d, NULL);
	for (int i = 0; i < *n; i++) {
		char *ri = rd ? realpath(dirs[i], NULL) : NULL;
		int same = strcmp(dirs[i], d) == 0 || (ri && strcmp(ri, rd) == 0);
		free(ri);
		if (same) {
			free(rd);
			free(d);
			return 0;
		}
	}
	free(rd);
	dirs[(*n)++] = d;
	return 0;
}

int mn_preset_dirs(const struct mn_preset_env *env, char *dirs[MN_PRESET_DIRS])
{
	struct mn_preset_env real;
	char *exe_src = NULL;
	int n = 0, oom = 0;
	if (!env) {
		exe_src = mn_exe_source_tree();
		real = (struct mn_preset_env){getenv("XDG_CONFIG_HOME"), getenv("HOME"),
					      getenv("MN_TOP_SRCDIR"), exe_src, MN_DATADIR};
		env = &real;
	}
	/* The XDG spec says to ignore a relative XDG_CONFIG_HOME. */
	if (env->xdg_config_home && env->xdg_config_home[0] == '/')
		oom |= !(dirs[n++] = mn_str_join(env->xdg_config_home, "/micronas", NULL));
	else if (env->home && *env->home)
		oom |= !(dirs[n++] = mn_str_join(env->home, "/.config/micronas", NULL));
	if (env->top_srcdir && *env->top_srcdir)
		oom |= add_presets(dirs, &n, env->top_srcdir);
	if (env->exe_srcdir && *env->exe_srcdir)
		oom |= add_presets(dirs, &n, env->exe_srcdir);
	if (env->datadir && *env->datadir)
		oom |= add_presets(dirs, &n, env->datadir);
	free(exe_src);
	if (oom) {
		mn_preset_dirs_free(dirs, n);
		return -1;
	}
	return n;
}

void mn_preset_dirs_free(char *dirs[MN_PRESET_DIRS], int n)
{
	for (int i = 0; i < n; i++)
		free(dirs[i]);
}

int mn_preset_find(const char *name, const struct mn_preset_env *env, char **path,
		   struct mn_error *e)
{
	size_t len = strlen(name);
	*path = NULL;
	if (strchr(name, '/') || (len >= 4 && strcmp(name + len - 4, ".ini") == 0)) {
		if (!is_file(name)) {
			struct stat st;
			int err = stat(name, &st) == 0 ? EISDIR : errno;
			return mn_error_set(e, "%s: cannot open the preset: %s (check the path)", name,
					    strerror(err));
		}
		if (!(*path = strdup(name)))
			return mn_error_set(e, "out of memory");
		return 0;
	}
	if (!mn_preset_valid_name(name))
		return mn_error_set(e, "preset name '%.60s' is not valid (use letters, digits, '-', '_', '.'; or give a path to an .ini file)",
				    name);
	char *dirs[MN_PRESET_DIRS];
	int nd = mn_preset_dirs(env, dirs);
	if (nd < 0)
		return mn_error_set(e, "out of memory");
	for (int i = 0; i < nd && !*path; i++) {
		char *cand = mn_str_join(dirs[i], "/", name);
		char *file = cand ? mn_str_join(cand, ".ini", NULL) : NULL;
		free(cand);
		if (!file) {
			mn_preset_dirs_free(dirs, nd);
			return mn_error_set(e, "out of memory");
		}
		if (is_file(file))
			*path = file;
		else
			free(file);
	}
	if (*path) {
		mn_preset_dirs_free(dirs, nd);
		return 0;
	}
	size_t l = (size_t)snprintf(e ? e->msg : NULL, e ? sizeof e->msg : 0,
				    "preset '%s' not found (looked for", name);
	for (int i = 0; e && i < nd && l < sizeof e->msg; i++)
		l += (size_t)snprintf(e->msg + l, sizeof e->msg - l, "%s %s/%s.ini", i ? "," : "", dirs[i],
				      name);
	if (e && l < sizeof e->msg)
		snprintf(e->msg + l, sizeof e->msg - l, "; create one there or give a path to an .ini file)");
	mn_preset_dirs_free(dirs, nd);
	return -1;
}

int mn_preset_open(struct mn_preset *p, const char *name_or_path, struct mn_error *e)
{
	char *path;
	mn_preset_defaults(p);
	if (mn_preset_find(name_or_path, NULL, &path, e) != 0)
		return -1;
	int rc = mn_preset_load(p, path, e);
	free(path);
	return rc;
}

int mn_preset_open_or_default(struct mn_preset *p, const char *name_or_path, struct mn_error *e)
{
	if (name_or_path)
		return mn_preset_open(p, name_or_path, e);
	mn_preset_defaults(p);
	return 0;
}

void mn_preset_list_free(struct mn_preset_entry *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].name);
		free(v[i].path);
		free(v[i].error);
	}
	free(v);
}

/* Counts a file's section headers: the latency table's and the preset's. */
struct section_count {
	int tables, presets;
};

static int count_section(void *user, const char *section, int line, char *err, size_t errn)
{
	struct section_count *c = user;
	(void)line, (void)err, (void)errn;
	c->tables += mn_latency_table_section(section);
	c->presets += mn_preset_section(section);
	return 0;
}

static int skip_entry(void *user, const char *section, const char *key, const char *value,
		      int line, char *err, size_t errn)
{
	(void)user, (void)section, (void)key, (void)value, (void)line, (void)err, (void)errn;
	return 0;
}

/* 1 when the INI file at path is a latency table (it has a section of the
 * table's and none of a preset's; space/latency_table.h), which live beside
 * the presets; 0 for anything else, a broken preset among them.  The
 * headers read before a malformed line still count. */
static int is_latency_table(const char *path)
{
	struct section_count c = {0, 0};
	char err[256];
	(void)mn_ini_parse(path, skip_entry, count_section, &c, NULL, err, sizeof err);
	return c.tables > 0 && c.presets == 0;
}

/* Adds dir's presets to v, keeping the first of each name (the one
 * mn_preset_find takes): a file that does not load is listed with its
 * error, so that it is neither hidden nor replaced by a later namesake. */
static int list_dir(const char *dir, size_t max, struct mn_preset_entry *v, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	if (!d)
		return 0; /* a place that does not exist offers nothing */
	while ((de = readdir(d)) != NULL && *n < max) {
		size_t len = strlen(de->d_name);
		if (len < 5 || strcmp(de->d_name + len - 4, ".ini") != 0 || de->d_name[0] == '.')
			continue;
		int dup = 0;
		for (size_t i = 0; i < *n; i++)
			if (strlen(v[i].name) == len - 4 && !strncmp(v[i].name, de->d_name, len - 4))
				dup = 1;
		if (dup)
			continue;
		char *name = strndup(de->d_name, len - 4), *path = mn_str_join(dir, "/", de->d_name);
		if (!name || !path) {
			free(name);
			free(path);
			closedir(d);
			return -1;
		}
		if (is_latency_table(path)) {
			free(name);
			free(path);
			continue;
		}
		struct mn_preset p;
		struct mn_error e;
		char *error = NULL;
		mn_preset_defaults(&p);
		if (mn_preset_load(&p, path, &e) != 0 && !(error = strdup(e.msg))) {
			mn_preset_free(&p);
			free(name);
			free(path);
			closedir(d);
			return -1;
		}
		mn_preset_free(&p);
		v[*n].name = name;
		v[*n].path = path;
		v[*n].error = error;
		(*n)++;
	}
	/* A directory only read: closing it cannot lose anything. */
	(void)closedir(d);
	return 0;
}

int mn_preset_list(const struct mn_preset_env *env, size_t max, struct mn_preset_entry **v,
		   size_t *n, struct mn_error *e)
{
	char *dirs[MN_PRESET_DIRS];
	int nd = mn_preset_dirs(env, dirs);
	*v = NULL;
	*n = 0;
	if (nd < 0 || (max && !(*v = calloc(max, sizeof **v)))) {
		if (nd >= 0)
			mn_preset_dirs_free(dirs, nd);
		return mn_error_set(e, "out of memory listing the presets");
	}
	for (int i = 0; i < nd; i++)
		if (list_dir(dirs[i], max, *v, n) != 0) {
			mn_preset_dirs_free(dirs, nd);
			mn_preset_list_free(*v, *n);
			*v = NULL;
			*n = 0;
			return mn_error_set(e, "out of memory listing the presets");
		}
	mn_preset_dirs_free(dirs, nd);
	return 0;
}
