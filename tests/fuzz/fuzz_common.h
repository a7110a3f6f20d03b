/*
 * fuzz_common.h — what the fuzz harnesses share: the invariant-failure
 * report, the $WB_FUZZ_SKIP switch for known bugs, and a reference UTF-8
 * validator.  Static and include-guarded, because tests/test_fuzz_regress.c
 * includes several harnesses into one file.
 */
#ifndef WB_FUZZ_COMMON_H
#define WB_FUZZ_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef WB_FUZZ_ABORT
#define WB_FUZZ_ABORT() abort()
#endif

/* A broken invariant: say where, then abort (libFuzzer saves the input). */
__attribute__((unused)) static void wbf_fail(const char *file, const char *what, int line) {
    fprintf(stderr, "%s:%d: invariant broken: %s\n", file, line, what);
    WB_FUZZ_ABORT();
}

/* A check for a known bug: fatal unless its tag is in $WB_FUZZ_SKIP
 * (comma-separated tags). */
__attribute__((unused)) static int wbf_skipped(const char *tag) {
    const char *s = getenv("WB_FUZZ_SKIP");
    size_t n = strlen(tag);
    while (s && *s) {
        if (!strncmp(s, tag, n) && (s[n] == 0 || s[n] == ',')) return 1;
        s = strchr(s, ',');
        if (s) s++;
    }
    return 0;
}

/* Reference UTF-8 validation by the table of well-formed byte sequences
 * (Unicode 15, table 3-7), written independently of the library's. */
__attribute__((unused)) static int wbf_utf8_ref(const unsigned char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t k;
        unsigned lo = 0x80, hi = 0xbf;
        if (c <= 0x7f) { i++; continue; }
        if (c >= 0xc2 && c <= 0xdf) k = 1;
        else if (c == 0xe0) k = 2, lo = 0xa0;
        else if (c >= 0xe1 && c <= 0xec) k = 2;
        else if (c == 0xed) k = 2, hi = 0x9f;
        else if (c >= 0xee && c <= 0xef) k = 2;
        else if (c == 0xf0) k = 3, lo = 0x90;
        else if (c >= 0xf1 && c <= 0xf3) k = 3;
        else if (c == 0xf4) k = 3, hi = 0x8f;
        else return 0;
        if (n - i <= k) return 0;
        if (s[i + 1] < lo || s[i + 1] > hi) return 0;
        for (size_t j = 2; j <= k; j++)
            if (s[i + j] < 0x80 || s[i + j] > 0xbf) return 0;
        i += k + 1;
    }
    return 1;
}

#endif
