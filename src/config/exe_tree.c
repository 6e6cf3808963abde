#define _DEFAULT_SOURCE 1 /* realpath() */

#include "config/exe_tree.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The build passes both (Makefile.am); without them only the executable's
 * own directory counts. */
#ifndef MN_ABS_TOP_BUILDDIR
#define MN_ABS_TOP_BUILDDIR ""
#endif
#ifndef MN_ABS_TOP_SRCDIR
#define MN_ABS_TOP_SRCDIR ""
#endif

/* The directory `up` levels above the running executable's, when it is a
 * build tree (holds config.status). */
static char *build_tree_up(int up)
{
	/* PATH_MAX bounds readlink's answer; the result goes to the heap. */
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
	if (n <= 0 || (size_t)n >= sizeof buf - 1)
		return NULL;
	buf[n] = '\0';
	for (int i = 0; i <= up; i++) {
		char *slash = strrchr(buf, '/');
		if (!slash)
			return NULL;
		*slash = '\0';
	}
	const char *dir = buf[0] ? buf : "/";
	char *probe = malloc(strlen(dir) + sizeof "/config.status");
	if (!probe)
		return NULL;
	strcpy(probe, dir);
	strcat(probe, "/config.status");
	struct stat st;
	int is_tree = stat(probe, &st) == 0 && S_ISREG(st.st_mode);
	free(probe);
	return is_tree ? strdup(dir) : NULL;
}

char *mn_exe_build_tree(void) { return build_tree_up(0); }

/* Same directory, following symbolic links. */
static int same_dir(const char *a, const char *b)
{
	char *ra = realpath(a, NULL), *rb = realpath(b, NULL);
	int same = ra && rb && strcmp(ra, rb) == 0;
	free(ra);
	free(rb);
	return same;
}

char *mn_exe_source_tree(void) { return mn_exe_source_tree_up(0); }

char *mn_exe_source_tree_up(int up)
{
	char *build = build_tree_up(up);
	if (!build)
		return NULL;
	/* Empty when configure did not give them (through variables: clang
	 * warns of a literal's byte as an operand of &&). */
	const char *src = MN_ABS_TOP_SRCDIR, *top = MN_ABS_TOP_BUILDDIR;
	if (src[0] && top[0] && same_dir(build, top)) {
		/* Canonical: configure gives a VPATH build's source tree as
		 * BUILD/../.. (make distcheck), which messages would print so. */
		char *canon = realpath(src, NULL);
		free(build);
		return canon ? canon : strdup(src);
	}
	return build;
}
