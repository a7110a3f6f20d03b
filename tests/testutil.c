/* testutil.c — helpers for the cmocka tests (see testutil.h). */
#include "testutil.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

char *tu_tmpdir(void) {
    const char *base = getenv("TMPDIR");
    if (!base || !*base) base = "/tmp";
    size_t n = strlen(base) + 32;
    char *p = malloc(n);
    snprintf(p, n, "%s/wbtest-XXXXXX", base);
    if (!mkdtemp(p)) { free(p); return NULL; }
    return p;
}

static int rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb; (void)flag; (void)ftw;
    return remove(path);
}

void tu_rmrf(const char *path) {
    if (path) nftw(path, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

char *tu_dir;

int tu_dir_setup(void **state) {
    (void)state;
    tu_dir = tu_tmpdir();
    return tu_dir ? 0 : -1;
}

int tu_dir_teardown(void **state) {
    (void)state;
    tu_rmrf(tu_dir);
    free(tu_dir);
    tu_dir = NULL;
    return 0;
}

int tu_write_file(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(data, 1, n, f);
    return (fclose(f) == 0 && w == n) ? 0 : -1;
}

char *tu_read_file(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap + 1);
    size_t r;
    while ((r = fread(buf + len, 1, cap - len, f)) > 0) {
        len += r;
        if (len == cap) { cap *= 2; buf = realloc(buf, cap + 1); }
    }
    fclose(f);
    buf[len] = 0;
    if (n) *n = len;
    return buf;
}

char *tu_path(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

int tu_run(const char *cmdline, char **out, char **errout) {
    char *dir = tu_tmpdir();
    if (!dir) return -1;
    char *o = tu_path(dir, "out"), *e = tu_path(dir, "err");
    size_t n = strlen(cmdline) + strlen(o) + strlen(e) + 32;
    char *cmd = malloc(n);
    snprintf(cmd, n, "( %s ) >'%s' 2>'%s' </dev/null", cmdline, o, e);
    int st = system(cmd);
    int rc = (st != -1 && WIFEXITED(st)) ? WEXITSTATUS(st) : -1;
    if (out) *out = tu_read_file(o, NULL);
    if (errout) *errout = tu_read_file(e, NULL);
    free(cmd); free(o); free(e);
    tu_rmrf(dir);
    free(dir);
    return rc;
}
