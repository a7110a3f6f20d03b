/*
 * test_fuzz_regress.c — replays the fuzz targets' saved inputs without
 * libFuzzer: every file of tests/fuzz/regress/ (inputs that once crashed or
 * broke an invariant, named <target>-<sha1>.bin) and every seed of
 * tests/fuzz/corpus/{text,bin,store,model,npy,reader,triallog}/, through the same
 * harness code the fuzzers run.
 *
 * Contains: one test per seed corpus and one for the regression inputs.  The
 * harness bodies are not copied: tests/fuzz/fuzz_<target>.c are included
 * with WB_FUZZ_NO_MAIN defined, which leaves out their libFuzzer entry points
 * and keeps fuzz_<target>_one() as static functions of this file, so the
 * replay can never drift from the fuzzers.  A broken invariant fails the test with the file
 * named; memory errors need a sanitizer build (-DWB_SANITIZE=ON).
 *
 * Known, unfixed bugs (tests/fuzz/README.md lists them) make this test fail
 * until they are fixed; WB_FUZZ_SKIP=align,efmt downgrades those checks.
 *
 * Leaves out: fuzzing itself (tests/fuzz/README.md).  The directory is found
 * from __FILE__, so the test needs no CMake variable.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static const char *wb_regress_current = "?"; /* the input being replayed */

#define WB_FUZZ_NO_MAIN 1
#define WB_FUZZ_ABORT() fail_msg("while replaying %s", wb_regress_current)
#include "fuzz/fuzz_text.c"
#include "fuzz/fuzz_bin.c"
#include "fuzz/fuzz_store.c"
#include "fuzz/fuzz_model.c"
#include "fuzz/fuzz_npy.c"
#include "fuzz/fuzz_reader.c"
#include "fuzz/fuzz_triallog.c"

/* tests/fuzz, from this file's path (CMake compiles it by absolute path). */
static char *fuzz_dir(const char *sub) {
    const char *slash = strrchr(__FILE__, '/');
    size_t n = slash ? (size_t)(slash - __FILE__) : 1;
    const char *base = slash ? __FILE__ : ".";
    size_t cap = n + strlen("/fuzz/") + strlen(sub) + 1;
    char *d = malloc(cap);
    assert_non_null(d);
    snprintf(d, cap, "%.*s/fuzz/%s", (int)n, base, sub);
    return d;
}

static int cmp_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted regular-file names of dir (no dot files); *n gets the count. */
static char **list_dir(const char *dir, size_t *n) {
    DIR *d = opendir(dir);
    *n = 0;
    if (!d) return NULL;
    size_t cap = 16;
    char **names = malloc(cap * sizeof *names);
    assert_non_null(names);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        if (*n == cap) {
            names = realloc(names, (cap *= 2) * sizeof *names);
            assert_non_null(names);
        }
        names[(*n)++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, *n, sizeof *names, cmp_names);
    return names;
}

typedef int (*harness_fn)(const uint8_t *data, size_t size);

/* Replay one file; the harness fails the test on a broken invariant. */
static void replay(const char *dir, const char *name, harness_fn fn) {
    char *path = tu_path(dir, name);
    size_t n = 0;
    char *data = tu_read_file(path, &n);
    if (!data) fail_msg("cannot read %s", path);
    /* An exact heap copy, as libFuzzer hands it over. */
    uint8_t *copy = malloc(n ? n : 1);
    assert_non_null(copy);
    memcpy(copy, data, n);
    wb_regress_current = path;
    fn(copy, n);
    wb_regress_current = "?";
    free(copy);
    free(data);
    free(path);
}

/* Every seed of corpus/<target>; there must be some. */
static void replay_corpus(const char *target, harness_fn fn) {
    char sub[64];
    snprintf(sub, sizeof sub, "corpus/%s", target);
    char *dir = fuzz_dir(sub);
    size_t n;
    char **names = list_dir(dir, &n);
    if (n == 0) fail_msg("no seed inputs in %s", dir);
    for (size_t i = 0; i < n; i++) {
        replay(dir, names[i], fn);
        free(names[i]);
    }
    free(names);
    free(dir);
}

/* The fuzz targets: corpus directory / regression-file prefix and harness. */
static const struct {
    const char *name;
    harness_fn fn;
} targets[] = {{"text", fuzz_text_one},   {"bin", fuzz_bin_one}, {"store", fuzz_store_one},
               {"model", fuzz_model_one}, {"npy", fuzz_npy_one}, {"reader", fuzz_reader_one},
               {"triallog", fuzz_triallog_one}};
#define NTARGETS (sizeof targets / sizeof targets[0])

/* Every seed of one target's corpus (*state is the target's index). */
static void test_corpus(void **state) {
    size_t t = (size_t)(uintptr_t)*state;
    replay_corpus(targets[t].name, targets[t].fn);
}

/* One regression input (*state is its file name), replayed through the
 * target its name starts with. */
static void test_regress_file(void **state) {
    const char *name = *state;
    char *dir = fuzz_dir("regress");
    harness_fn fn = NULL;
    for (size_t t = 0; t < NTARGETS; t++) {
        size_t n = strlen(targets[t].name);
        if (!strncmp(name, targets[t].name, n) && name[n] == '-') fn = targets[t].fn;
    }
    if (!fn) fail_msg("%s/%s: name does not start with a target's name and '-'", dir, name);
    replay(dir, name, fn);
    free(dir);
}

int main(void) {
    /* One test per seed corpus, then one per regression input so that each
     * failing input is reported by name. */
    char *dir = fuzz_dir("regress");
    size_t n;
    char **names = list_dir(dir, &n);
    struct CMUnitTest *tests = calloc(NTARGETS + n, sizeof *tests);
    char corpus_names[NTARGETS][32];
    assert_non_null(tests);
    for (size_t t = 0; t < NTARGETS; t++) {
        snprintf(corpus_names[t], sizeof corpus_names[t], "corpus/%s", targets[t].name);
        tests[t].name = corpus_names[t];
        tests[t].test_func = test_corpus;
        tests[t].initial_state = (void *)(uintptr_t)t;
    }
    for (size_t i = 0; i < n; i++) {
        tests[NTARGETS + i].name = names[i];
        tests[NTARGETS + i].test_func = test_regress_file;
        tests[NTARGETS + i].initial_state = names[i];
    }
    int failed = _cmocka_run_group_tests("test_fuzz_regress", tests, NTARGETS + n, NULL, NULL);
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    free(tests);
    free(dir);
    return failed;
}
