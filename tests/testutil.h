/*
 * testutil.h — small helpers shared by the cmocka tests: temporary
 * directories, writing and reading whole files, running the CLI.
 */
#ifndef WB_TESTUTIL_H
#define WB_TESTUTIL_H

#include <stddef.h>

/* Create a fresh temporary directory (under $TMPDIR or /tmp) and return its
 * path in a static-lifetime malloc'd string; removed by tu_rmrf. */
char *tu_tmpdir(void);
/* Remove a directory tree (like rm -rf); ignores a missing path. */
void tu_rmrf(const char *path);
/* One temporary directory for a whole cmocka group: pass tu_dir_setup and
 * tu_dir_teardown to cmocka_run_group_tests; the tests find it in tu_dir. */
extern char *tu_dir;
int tu_dir_setup(void **state);
int tu_dir_teardown(void **state);
/* Write n bytes to path (creating/truncating). Returns 0 or -1. */
int tu_write_file(const char *path, const void *data, size_t n);
/* Read a whole file into a malloc'd buffer (NUL-terminated); *n gets the size. NULL on error. */
char *tu_read_file(const char *path, size_t *n);
/* Join dir and name into a malloc'd path. */
char *tu_path(const char *dir, const char *name);
/* Run a shell command line; returns its exit status (or -1). stdout/stderr
 * are captured into malloc'd strings if out/errout are not NULL. */
int tu_run(const char *cmdline, char **out, char **errout);

#endif
