/*
 * fuzz_triallog.c — libFuzzer target for what a search reads back from its
 * run directory, all untrusted bytes: one trial log line
 * (wb_triallog_parse, src/experiment/triallog.c, with the JSON parser of
 * src/base/json.c under it), a whole trial log (wb_triallog_read against a
 * fixed plan: torn and damaged lines, other plans' lines, duplicates), and
 * plan.json (wb_plan_load, src/experiment/search.c).
 *
 * Input layout:
 *   byte 0    mode % 4:
 *               0  the rest is one log line;
 *               1  the rest is a log line with its checksum recomputed
 *                  (so the fuzzer gets past the XXH3 check and reaches the
 *                  JSON parser and the field checks): the bytes before the
 *                  last ", \"check\": \"" are hashed and 16 hex digits and
 *                  "\"}" appended (the input's own tail after that key, if
 *                  any, is dropped);
 *               2  the rest is a whole trial log file, read against the
 *                  plan below (its id is 0x0123456789abcdef), with byte 1
 *                  choosing whether line checksums are recomputed (bit 0)
 *                  line by line as in mode 1;
 *               3  the rest is plan.json; with byte 1 bit 0 its checksum is
 *                  recomputed the same way (the plan's ", \"check\"" tail).
 *
 * Checked:
 *   - parse returns 0 or WB_EFORMAT / WB_ENOMEM, and on WB_EFORMAT the byte
 *     offset lies within the line;
 *   - a parsed line formats back (wb_triallog_format) to a line that parses
 *     to the same fields (the integers, refit, the metrics bit for bit or
 *     both NaN, the history), and its plan id is kept;
 *   - reading a log returns 0 or WB_EFORMAT with a line number inside the
 *     file; every result it keeps lies in the plan (trial < ntrials, the
 *     right configuration and folds), and the counts add up (records +
 *     torn + damaged <= lines);
 *   - a plan that loads passes wb_plan_text (its text has the id it was
 *     loaded with) and has a sane trial count.
 * Memory errors and leaks are ASan's and LSan's.
 *
 * Files go to a fresh directory under /dev/shm (or $TMPDIR, /tmp), removed
 * at exit.  The harness body is fuzz_triallog_one(); tests/test_fuzz_regress.c
 * includes this file with WB_FUZZ_NO_MAIN defined.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "wordbench/err.h"
#include "wordbench/search.h"
#include "wordbench/triallog.h"

#include "fuzz_common.h"

#define TL_CHECK(c) ((c) ? (void)0 : wbf_fail("fuzz_triallog.c", #c, __LINE__))
#define TL_PLAN_ID 0x0123456789abcdefULL

static int tl_ready;
static char tl_dir[256];
static char tl_log[320], tl_plan[320];
static wb_plan tl_p;

static void tl_cleanup(void) {
    unlink(tl_log);
    unlink(tl_plan);
    rmdir(tl_dir);
    wb_plan_free(&tl_p);
}

static void tl_setup(void) {
    if (tl_ready) return;
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : (getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    snprintf(tl_dir, sizeof tl_dir, "%s/wbfuzz-triallog-XXXXXX", base);
    if (!mkdtemp(tl_dir)) abort();
    snprintf(tl_log, sizeof tl_log, "%s/trials.jsonl", tl_dir);
    snprintf(tl_plan, sizeof tl_plan, "%s/plan.json", tl_dir);
    /* the plan logs are read against: 2 configurations x (2 outer + 2x2 inner) + refit */
    wb_param *ps = calloc(1, sizeof *ps);
    wb_err e;
    if (!ps || wb_param_parse("filters=4,8", &ps[0], &e)) abort();
    static const char *const args[] = {"--data", "x"};
    wb_plan_opts o = {.k = 2, .k2 = 2, .split_mode = 1, .metric = "acc", .threads = 1, .refit = 1, .args = args,
                      .nargs = 2, .params = ps, .nparams = 1};
    if (wb_plan_create(&tl_p, &o, &e)) abort();
    free(o.params);
    tl_p.id = TL_PLAN_ID;
    atexit(tl_cleanup);
    tl_ready = 1;
}

#define TL_KEY ", \"check\": \""

/* Append s[0..n) to *out with its checksum recomputed (see mode 1). */
static size_t tl_fix(const uint8_t *s, size_t n, char *out) {
    size_t kl = strlen(TL_KEY), cut = n;
    for (size_t i = 0; i + kl <= n; i++)
        if (!memcmp(s + i, TL_KEY, kl)) cut = i;
    memcpy(out, s, cut);
    uint64_t h = XXH3_64bits(out, cut);
    return cut + (size_t)sprintf(out + cut, "%s%016llx\"}", TL_KEY, (unsigned long long)h);
}

static void tl_same(const wb_trial_result *a, const wb_trial_result *b) {
    TL_CHECK(a->trial == b->trial && a->config == b->config && a->outer == b->outer && a->inner == b->inner);
    TL_CHECK(a->refit == b->refit && a->ntrain == b->ntrain && a->ntest == b->ntest && a->epochs == b->epochs);
    for (int m = 0; m < WB_NMET; m++)
        TL_CHECK(a->metric[m] == b->metric[m] || (a->metric[m] != a->metric[m] && b->metric[m] != b->metric[m]));
    for (size_t i = 0; i < a->epochs; i++) {
        const wb_epoch *x = &a->history[i], *y = &b->history[i];
        TL_CHECK(x->epoch == y->epoch && x->has_val == y->has_val);
        TL_CHECK(x->loss == y->loss || (x->loss != x->loss && y->loss != y->loss));
    }
}

static void tl_line(const char *s, size_t n) {
    wb_trial_result r;
    uint64_t id;
    wb_err e;
    wb_err_clear(&e);
    int rc = wb_triallog_parse(s, n, &r, &id, &e);
    TL_CHECK(rc == 0 || rc == WB_EFORMAT || rc == WB_ENOMEM);
    if (rc) {
        TL_CHECK(e.code == rc && e.msg[0]);
        TL_CHECK(rc != WB_EFORMAT || (e.offset >= 0 && (size_t)e.offset <= n));
        return;
    }
    char *line;
    size_t len;
    TL_CHECK(wb_triallog_format(&r, id, &line, &len) == 0);
    wb_trial_result q;
    uint64_t id2;
    TL_CHECK(wb_triallog_parse(line, len, &q, &id2, &e) == 0);
    TL_CHECK(id2 == id);
    tl_same(&r, &q);
    wb_trial_result_free(&q);
    wb_trial_result_free(&r);
    free(line);
}

static void tl_write(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    if (n && fwrite(p, 1, n, f) != n) abort();
    fclose(f);
}

static void tl_read_log(const uint8_t *d, size_t n, int fix) {
    char *buf = malloc(2 * n + 64 * (n + 1) + 1);
    size_t m = 0;
    if (!buf) abort();
    if (!fix) {
        memcpy(buf, d, n), m = n;
    } else {
        for (size_t pos = 0; pos < n;) {
            const uint8_t *nl = memchr(d + pos, '\n', n - pos);
            size_t l = nl ? (size_t)(nl - (d + pos)) : n - pos;
            m += tl_fix(d + pos, l, buf + m);
            if (nl) buf[m++] = '\n';
            pos += l + (nl ? 1 : 0);
        }
    }
    tl_write(tl_log, buf, m);
    free(buf);
    size_t nt = wb_plan_ntrials(&tl_p);
    wb_trial_result **res = calloc(nt, sizeof *res);
    wb_triallog_stats st;
    memset(&st, 0, sizeof st);
    wb_err e;
    wb_err_clear(&e);
    int rc = wb_triallog_read(tl_log, &tl_p, res, &st, &e);
    TL_CHECK(rc == 0 || rc == WB_EFORMAT || rc == WB_ENOMEM);
    if (rc == WB_EFORMAT) TL_CHECK(e.line >= 1 && (size_t)e.line <= st.lines + 1);
    TL_CHECK(st.records + st.torn + st.damaged <= st.lines);
    for (size_t t = 0; t < nt; t++) {
        if (!res[t]) continue;
        wb_trial tr;
        wb_plan_trial(&tl_p, t, &tr);
        TL_CHECK(res[t]->trial == t && res[t]->config < tl_p.nconfigs && res[t]->refit == tr.refit);
        TL_CHECK(tr.refit || (res[t]->config == tr.config && res[t]->outer == tr.outer && res[t]->inner == tr.inner));
    }
    wb_triallog_results_free(res, nt);
    free(res);
}

static void tl_read_plan(const uint8_t *d, size_t n, int fix) {
    char *buf = malloc(n + 64);
    if (!buf) abort();
    size_t m = n;
    if (fix) {
        /* the plan's tail is "\"}\n" after the digits */
        m = tl_fix(d, n, buf);
        buf[m++] = '\n';
    } else {
        memcpy(buf, d, n);
    }
    tl_write(tl_plan, buf, m);
    free(buf);
    wb_plan p;
    wb_err e;
    wb_err_clear(&e);
    int rc = wb_plan_load(&p, tl_dir, &e);
    TL_CHECK(rc == 0 || rc == WB_EFORMAT || rc == WB_ECORRUPT || rc == WB_EVERSION || rc == WB_ENOMEM);
    if (rc) {
        TL_CHECK(e.msg[0]);
        return;
    }
    char *t;
    size_t len;
    uint64_t id;
    TL_CHECK(wb_plan_text(&p, &t, &len, &id) == 0);
    TL_CHECK(p.nconfigs >= 1 && wb_plan_ntrials(&p) >= p.nconfigs);
    free(t);
    wb_plan_free(&p);
}

static int fuzz_triallog_one(const uint8_t *data, size_t size) {
    tl_setup();
    if (size < 1) return 0;
    int mode = data[0] % 4;
    const uint8_t *d = data + 1;
    size_t n = size - 1;
    if (mode == 0) {
        char *s = malloc(n ? n : 1); /* an exact heap block: ASan sees one byte past */
        if (!s) abort();
        memcpy(s, d, n);
        tl_line(s, n);
        free(s);
    } else if (mode == 1) {
        char *s = malloc(n + 40);
        if (!s) abort();
        size_t m = tl_fix(d, n, s);
        char *t = malloc(m ? m : 1);
        if (!t) abort();
        memcpy(t, s, m);
        free(s);
        tl_line(t, m);
        free(t);
    } else if (n >= 1) {
        if (mode == 2) tl_read_log(d + 1, n - 1, d[0] & 1);
        else tl_read_plan(d + 1, n - 1, d[0] & 1);
    }
    return 0;
}

#ifndef WB_FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fuzz_triallog_one(data, size); }
#endif
