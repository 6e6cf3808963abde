/* The build tree a program runs from, so that a build-tree micronas finds
 * its presets and firmware from any working directory, as an installed one
 * finds them in its data dir. */
#ifndef MN_EXE_TREE_H
#define MN_EXE_TREE_H

/* The directory of the running executable when it is a build tree (it
 * holds config.status), as a heap string; NULL when it is not (an installed
 * program) or cannot be told (no /proc). */
char *mn_exe_build_tree(void);

/* The source tree of that build tree: the one it was configured from when
 * the build tree is still where it was configured (a build outside the
 * source tree), else the build tree itself.  Heap string or NULL. */
char *mn_exe_source_tree(void);

/* The same for a program `up` directories below the top of its build tree
 * (a benchmark in bench/: 1), so that it finds the tree's presets and data
 * when run directly; mn_exe_source_tree() is mn_exe_source_tree_up(0). */
char *mn_exe_source_tree_up(int up);

#endif
