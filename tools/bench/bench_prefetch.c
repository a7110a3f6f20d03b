/*
 * tools/bench/bench_prefetch.c — wb_bench_prefetch: how fast the rows of a
 * vocabulary come in from disk with each read-ahead of wb_store_prefetch_ex.
 *
 *   wb_bench_prefetch STORE WORDLIST [--mode advise|populate|pread|off] [--batch N] [--first] [--warm]
 *
 * WORDLIST holds one word per line (empty lines skipped).  The tool opens the
 * store, resolves the words, then (unless --warm) drops vectors.npy from the
 * page cache (posix_fadvise POSIX_FADV_DONTNEED; nothing of it is mapped
 * yet), and times from the start of the prefetch:
 *   first_s  the first N rows (--batch, default 2,700: the distinct rows of a
 *            first minibatch of 32 × 100 words) gathered in a shuffled order,
 *            what a training run's first step waits for;
 *   all_s    every row gathered (same shuffled order, N rows a call);
 *   done_s   the prefetch thread finished.
 * With --mode off the gathers fault the rows in one by one (the behaviour
 * without a prefetch).  With --first the first N rows of the shuffled order
 * are given to wb_store_prefetch_ex as the rows to read first (a training
 * run asks for its first minibatch's rows so).  One line of JSON on stdout; errors on stderr.  Exit
 * status 0, 1 on a store or file failure, 2 on usage errors.
 *
 * Not here: the model (tools/bench/bench_coldstart.sh times whole commands).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wordbench/store.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int usage(void) {
    fprintf(stderr, "usage: wb_bench_prefetch STORE WORDLIST [--mode advise|populate|pread|off] [--batch N] [--first] [--warm]\n");
    return 2;
}

int main(int argc, char **argv) {
    const char *store = NULL, *list = NULL, *mname = "advise";
    size_t batch = 2700;
    int warm = 0, pfirst = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--mode") && i + 1 < argc) mname = argv[++i];
        else if (!strcmp(argv[i], "--batch") && i + 1 < argc) batch = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--warm")) warm = 1;
        else if (!strcmp(argv[i], "--first")) pfirst = 1;
        else if (argv[i][0] == '-') return usage();
        else if (!store) store = argv[i];
        else if (!list) list = argv[i];
        else return usage();
    }
    static const char *const names[] = {"advise", "populate", "pread", "off"};
    int mode = -1;
    for (int i = 0; i < 4; i++)
        if (!strcmp(mname, names[i])) mode = i;
    if (!store || !list || mode < 0 || !batch) return usage();

    FILE *f = fopen(list, "r");
    if (!f) {
        perror(list);
        return 1;
    }
    size_t n = 0, cap = 0;
    char **words = NULL, *line = NULL;
    size_t lcap = 0;
    ssize_t len;
    while ((len = getline(&line, &lcap, f)) > 0) {
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
        if (!len) continue;
        if (n == cap && !(words = realloc(words, (cap = cap ? 2 * cap : 1024) * sizeof *words))) return 1;
        if (!(words[n++] = strdup(line))) return 1;
    }
    free(line);
    fclose(f);

    wb_err e;
    wb_err_clear(&e);
    wb_store *st = NULL;
    uint32_t *found = malloc((n ? n : 1) * sizeof *found);
    int64_t *rows = malloc((n ? n : 1) * sizeof *rows);
    size_t *lens = malloc((n ? n : 1) * sizeof *lens);
    if (!found || !rows || !lens) return 1;
    for (size_t i = 0; i < n; i++) lens[i] = strlen(words[i]);
    int rc = wb_store_open(&st, store, &e);
    if (rc || (rc = wb_store_lookup_many(st, n, (const char *const *)words, lens, rows, NULL))) {
        fprintf(stderr, "wb_bench_prefetch: %s: %s\n", e.file[0] ? e.file : store, rc && !e.msg[0] ? "look-up failed" : e.msg);
        return 1;
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (rows[i] >= 0) rows[m] = rows[i], found[m] = (uint32_t)rows[i], m++;
    /* a fixed shuffle: the order a training run meets its rows */
    uint64_t s = 0x9E3779B97F4A7C15ull;
    for (size_t i = m; i > 1; i--) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        size_t j = (size_t)(s % i);
        uint32_t t = found[i - 1];
        found[i - 1] = found[j], found[j] = t;
    }
    if (!warm) {
        size_t pl = strlen(store) + 16;
        char *p = malloc(pl);
        snprintf(p, pl, "%s/vectors.npy", store);
        int fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED)) {
            perror(p);
            return 1;
        }
        close(fd);
        free(p);
    }
    size_t nfirst = pfirst ? (m < batch ? m : batch) : 0;
    int64_t *frows = malloc((nfirst ? nfirst : 1) * sizeof *frows);
    if (!frows) return 1;
    for (size_t i = 0; i < nfirst; i++) frows[i] = found[i];
    uint32_t dim = wb_store_info_get(st)->dim;
    float *out = malloc(batch * dim * sizeof *out);
    if (!out) return 1;
    double t0 = now_s(), first = 0;
    if (wb_store_prefetch_ex(st, m, rows, nfirst, frows, (wb_prefetch_mode)mode, &e)) {
        fprintf(stderr, "wb_bench_prefetch: %s\n", e.msg);
        return 1;
    }
    double issued = now_s() - t0;
    for (size_t i = 0; i < m; i += batch) {
        size_t k = m - i < batch ? m - i : batch;
        wb_store_gather(st, k, found + i, out);
        if (!i) first = now_s() - t0;
    }
    double all = now_s() - t0;
    uint64_t bytes = wb_store_prefetch_wait(st);
    double done = now_s() - t0;
    printf("{\"mode\": \"%s\", \"first_rows\": %zu, \"warm\": %s, \"rows\": %zu, \"prefetched_bytes\": %" PRIu64
           ", \"issue_s\": %.4f, \"first_s\": %.4f, \"all_s\": %.4f, \"done_s\": %.4f}\n",
           mname, nfirst, warm ? "true" : "false", m, bytes, issued, first, all, done);
    wb_store_close(st);
    for (size_t i = 0; i < n; i++) free(words[i]);
    free(words);
    free(found);
    free(rows);
    free(frows);
    free(lens);
    free(out);
    return 0;
}
