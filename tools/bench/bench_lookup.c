/*
 * tools/bench/bench_lookup.c — wb_bench_lookup: how fast a store opens, maps
 * words to rows and hands out rows.
 *
 *   wb_bench_lookup STORE WORDLIST [--repeat N]
 *
 * WORDLIST holds one word per line (as written by `wb_gen_glove --words-out
 * FILE --sample K`; a trailing '\r' is dropped, empty lines are skipped).
 * Three figures, all single-threaded, all timed with CLOCK_MONOTONIC:
 *   1. open + resolve: wb_store_open, then wb_store_lookup_many over the
 *      whole list, in ms (what a training run pays before its first batch);
 *   2. look-ups per second: N passes of wb_store_lookup over every word, in
 *      list order (each result is checked against step 1);
 *   3. gather: N passes of wb_store_gather over the rows found, in a fixed
 *      shuffled order, 4096 rows per call into one reused float32 buffer,
 *      in rows/s and MB/s of float32 output.
 * The result is one line of JSON on stdout; errors go to stderr.  Exit
 * status: 0 success, 1 store or file failure, 2 usage error.
 *
 * Not here: page-cache control (the caller decides whether the store is
 * warm), multi-threaded look-ups (one handle per thread; see store.h), and
 * similarity search.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wordbench/clock.h"
#include "wordbench/err.h"
#include "wordbench/npy.h"
#include "wordbench/store.h"

#define PROG "wb_bench_lookup"
#define DEFAULT_REPEAT 10
#define MAX_REPEAT 1000000
#define GATHER_BATCH 4096 /* rows per wb_store_gather call */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: " PROG " STORE WORDLIST [--repeat N]\n"
            "Time opening STORE and resolving the words of WORDLIST (one per line), single-thread\n"
            "look-ups per second and gather throughput; print one line of JSON.\n"
            "  --repeat N   passes over the list for look-ups and gathers (1..%d; default %d)\n"
            "  -h, --help   this text\n"
            "Exit status: 0 success, 1 store or file failure, 2 usage error.\n",
            MAX_REPEAT, DEFAULT_REPEAT);
}

static _Noreturn void usage_error(const char *msg, const char *arg)
{
    fprintf(stderr, PROG ": %s%s\n" PROG ": try --help\n", msg, arg);
    exit(2);
}

static _Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static _Noreturn void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, PROG ": ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

/* The word list: one buffer holding the file, and pointers into it. */
typedef struct wordlist {
    char *text;          /* the whole file (owned) */
    size_t n;            /* number of words */
    const char **words;  /* (n) start of each word, not NUL-terminated */
    size_t *lens;        /* (n) bytes of each word */
} wordlist;

static void wordlist_load(wordlist *wl, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        die("cannot open word list %s: %s", path, strerror(errno));
    size_t cap = 1 << 20, len = 0;
    char *text = malloc(cap);
    for (;;) {
        if (!text)
            die("out of memory reading %s", path);
        size_t got = fread(text + len, 1, cap - len, f);
        len += got;
        if (len < cap)
            break;
        cap *= 2;
        text = realloc(text, cap);
    }
    if (ferror(f))
        die("cannot read word list %s: %s", path, strerror(errno));
    fclose(f);

    size_t lines = 1;
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    wl->text = text;
    wl->words = malloc(lines * sizeof *wl->words);
    wl->lens = malloc(lines * sizeof *wl->lens);
    if (!wl->words || !wl->lens)
        die("out of memory for the words of %s", path);
    wl->n = 0;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && text[i] != '\n')
            continue;
        size_t end = i;
        if (end > start && text[end - 1] == '\r')
            end--;
        if (end > start) {
            wl->words[wl->n] = text + start;
            wl->lens[wl->n] = end - start;
            wl->n++;
        }
        start = i + 1;
    }
    if (wl->n == 0)
        die("word list %s holds no words", path);
}

static void wordlist_free(wordlist *wl)
{
    free(wl->text);
    free(wl->words);
    free(wl->lens);
}

/* Print s as a JSON string. */
static void json_str(const char *s)
{
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if (*p < 0x20)
            printf("\\u%04x", *p);
        else
            putchar(*p);
    }
    putchar('"');
}

/* xorshift64*: the fixed shuffle of the gather order. */
static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545f4914f6cdd1dull;
}

int main(int argc, char **argv)
{
    const char *dir = NULL, *list = NULL;
    long repeat = DEFAULT_REPEAT;
    int only_args = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!only_args && strcmp(a, "--") == 0) {
            only_args = 1;
        } else if (!only_args && (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)) {
            usage(stdout);
            return 0;
        } else if (!only_args && (strcmp(a, "--repeat") == 0 || strncmp(a, "--repeat=", 9) == 0)) {
            const char *v = a[8] == '=' ? a + 9 : (i + 1 < argc ? argv[++i] : NULL);
            if (!v)
                usage_error("--repeat needs a value", "");
            char *end;
            errno = 0;
            repeat = strtol(v, &end, 10);
            if (errno || *end || end == v || repeat < 1 || repeat > MAX_REPEAT)
                usage_error("--repeat: expected an integer in 1..1000000, found ", v);
        } else if (!only_args && a[0] == '-' && a[1] != '\0') {
            usage_error("unknown option ", a);
        } else if (!dir) {
            dir = a;
        } else if (!list) {
            list = a;
        } else {
            usage_error("unexpected argument ", a);
        }
    }
    if (!dir || !list)
        usage_error("expected STORE and WORDLIST", "");

    wordlist wl;
    wordlist_load(&wl, list);
    int64_t *rows = malloc(wl.n * sizeof *rows);
    uint32_t *found_rows = malloc(wl.n * sizeof *found_rows);
    if (!rows || !found_rows)
        die("out of memory for %zu rows", wl.n);

    /* 1. Open and resolve. */
    wb_err err;
    wb_err_clear(&err);
    wb_store *st = NULL;
    double t0 = wb_clock_s();
    int rc = wb_store_open(&st, dir, &err);
    double t1 = wb_clock_s();
    if (rc != 0) {
        char msg[2048];
        wb_err_format(&err, msg, sizeof msg);
        wb_store_close(st); /* safe after a failed open */
        die("cannot open store %s: %s", dir, msg[0] ? msg : wb_strerror(rc));
    }
    size_t found = 0;
    rc = wb_store_lookup_many(st, wl.n, wl.words, wl.lens, rows, &found);
    double t2 = wb_clock_s();
    if (rc != 0) {
        wb_store_close(st);
        die("look-up of %zu words in %s failed: %s", wl.n, dir, wb_strerror(rc));
    }
    const wb_store_info *info = wb_store_info_get(st);
    size_t nf = 0;
    for (size_t i = 0; i < wl.n; i++)
        if (rows[i] >= 0)
            found_rows[nf++] = (uint32_t)rows[i];

    /* 2. Single look-ups, each checked against lookup_many. */
    double t3 = wb_clock_s();
    for (long r = 0; r < repeat; r++) {
        for (size_t i = 0; i < wl.n; i++) {
            uint32_t row;
            rc = wb_store_lookup(st, wl.words[i], wl.lens[i], &row);
            if (rc != 0 && rc != WB_ENOTFOUND) {
                wb_store_close(st);
                die("wb_store_lookup failed in %s: %s", dir, wb_strerror(rc));
            }
            if (rc == 0 ? rows[i] != (int64_t)row : rows[i] >= 0) {
                wb_store_close(st);
                die("%s:%zu: '%.*s': wb_store_lookup and wb_store_lookup_many disagree in %s",
                    list, i + 1, (int)wl.lens[i], wl.words[i], dir);
            }
        }
    }
    double t4 = wb_clock_s();

    /* 3. Gather the found rows in a fixed shuffled order. */
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    for (size_t i = nf; i > 1; i--) {
        size_t j = (size_t)(next_rand(&seed) % i);
        uint32_t t = found_rows[i - 1];
        found_rows[i - 1] = found_rows[j];
        found_rows[j] = t;
    }
    size_t batch = nf < GATHER_BATCH ? nf : GATHER_BATCH;
    float *out = malloc((batch ? batch : 1) * (size_t)info->dim * sizeof *out);
    if (!out)
        die("out of memory for the gather buffer");
    double checksum = 0.0;
    double t5 = wb_clock_s();
    for (long r = 0; r < repeat && nf > 0; r++) {
        for (size_t i = 0; i < nf; i += batch) {
            size_t n = nf - i < batch ? nf - i : batch;
            rc = wb_store_gather(st, n, found_rows + i, out);
            if (rc != 0) {
                wb_store_close(st);
                die("wb_store_gather failed in %s: %s", dir, wb_strerror(rc));
            }
            checksum += out[0]; /* keeps every call observable */
        }
    }
    double t6 = wb_clock_s();

    double lookups = (double)wl.n * (double)repeat;
    double gathered = (double)nf * (double)repeat;
    double lk_s = t4 - t3, g_s = t6 - t5;
    printf("{\"store\":");
    json_str(dir);
    printf(",\"wordlist\":");
    json_str(list);
    printf(",\"rows\":%" PRIu64 ",\"dim\":%u,\"dtype\":\"%s\"", info->rows, info->dim,
           wb_dtype_name(info->dtype));
    printf(",\"words\":%zu,\"found\":%zu,\"repeat\":%ld", wl.n, found, repeat);
    printf(",\"open_ms\":%.3f,\"resolve_ms\":%.3f,\"open_resolve_ms\":%.3f",
           (t1 - t0) * 1e3, (t2 - t1) * 1e3, (t2 - t0) * 1e3);
    printf(",\"lookups\":%.0f,\"lookup_s\":%.6f,\"lookups_per_s\":%.0f,\"ns_per_lookup\":%.1f",
           lookups, lk_s, lk_s > 0 ? lookups / lk_s : 0.0, lookups > 0 ? lk_s * 1e9 / lookups : 0.0);
    printf(",\"gather_rows\":%.0f,\"gather_batch\":%zu,\"gather_s\":%.6f,"
           "\"gather_rows_per_s\":%.0f,\"gather_mb_per_s\":%.1f,\"checksum\":%.6g}\n",
           gathered, batch, g_s, g_s > 0 ? gathered / g_s : 0.0,
           g_s > 0 ? gathered * info->dim * sizeof(float) / g_s / 1e6 : 0.0, checksum);

    wb_store_close(st);
    free(out);
    free(rows);
    free(found_rows);
    wordlist_free(&wl);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, PROG ": cannot write the result: %s\n", strerror(errno));
        return 1;
    }
    return 0;
}
