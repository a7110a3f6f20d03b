/*
 * classweights.c — class weights of the training loss from what a user
 * writes: "balanced", "name=w,name=w", or a file of "label<TAB>weight"
 * lines (model.h, wb_class_weights_parse).  The model applies them
 * (wb_model_set_class_weights).
 *
 * Leaves out: per-example weights (sample_weight).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wordbench/model.h"

/* One "name" + weight text into out (weights indexed by label id, binary
 * included: label ids 0 and 1).  Returns 0 or WB_EUSAGE. */
static int set_one(const wb_dataset *ds, const char *name, size_t nl, const char *num, float *out, const char *where,
                   long long line, wb_err *e) {
    int64_t id = wb_dataset_label_find(ds, name, nl);
    if (id < 0) return wb_err_at(e, WB_EUSAGE, where, line, -1, "class weight for '%.*s': no such label", (int)nl, name);
    char *end;
    errno = 0;
    double w = strtod(num, &end);
    while (*end == ' ' || *end == '\t' || *end == '\r') end++;
    if (end == num || *end || errno || !(w > 0 && w < 1e6))
        return wb_err_at(e, WB_EUSAGE, where, line, -1, "class weight of '%.*s' must be a number in (0, 1e6), not '%s'",
                         (int)nl, name, num);
    out[id] = (float)w;
    return 0;
}

int wb_class_weights_parse(const char *spec, const wb_dataset *ds, const uint32_t *idx, size_t nidx, float *out,
                           size_t *n, wb_err *e) {
    wb_task task = wb_dataset_task(ds);
    size_t L = wb_dataset_nlabels(ds), C = task == WB_TASK_BINARY ? 1 : L;
    *n = task == WB_TASK_BINARY ? 2 : C;
    for (size_t k = 0; k < *n; k++) out[k] = 1;
    if (!strcmp(spec, "balanced")) {
        /* scikit-learn's compute_class_weight('balanced') = n / (classes ·
         * count) for single-label tasks; for multi-label the positive
         * weight of each label (negatives / positives), as PyTorch users
         * set BCEWithLogitsLoss's pos_weight; counted over idx, else over
         * the training split */
        const size_t *lo;
        const uint32_t *li;
        wb_dataset_labels(ds, &lo, &li);
        const uint8_t *sp = wb_dataset_split(ds);
        double *cnt = calloc(L ? L : 1, sizeof *cnt), ntr = 0;
        if (!cnt) return wb_err_set(e, WB_ENOMEM, "out of memory");
        size_t N = idx ? nidx : wb_dataset_n(ds);
        for (size_t j = 0; j < N; j++) {
            size_t i = idx ? idx[j] : j;
            if (!idx && sp[i] != WB_DS_TRAIN) continue;
            ntr++;
            for (size_t q = lo[i]; q < lo[i + 1]; q++) cnt[li[q]] += 1;
        }
        for (size_t k = 0; k < *n; k++) {
            if (!(cnt[k] > 0)) continue; /* a class without training examples keeps 1 */
            out[k] = task == WB_TASK_MULTILABEL ? (float)((ntr - cnt[k]) / cnt[k]) : (float)(ntr / ((double)*n * cnt[k]));
            if (!(out[k] > 0)) out[k] = 1; /* a label on every example: nothing to balance */
        }
        free(cnt);
        return 0;
    }
    FILE *f = strchr(spec, '=') ? NULL : fopen(spec, "r");
    if (!f && !strchr(spec, '='))
        return wb_err_at(e, errno ? errno : WB_EUSAGE, spec, 0, -1, "cannot read the class weights file: %s",
                         strerror(errno ? errno : ENOENT));
    if (f) { /* label<TAB>weight lines; '#' comments and blank lines skipped */
        char *line = NULL;
        size_t cap = 0;
        long long ln = 0;
        ssize_t got;
        int rc = 0;
        while (!rc && (got = getline(&line, &cap, f)) >= 0) {
            ln++;
            while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r')) line[--got] = 0;
            if (!got || line[0] == '#') continue;
            char *tab = strchr(line, '\t');
            if (!tab) {
                rc = wb_err_at(e, WB_EFORMAT, spec, ln, -1, "expected 'label<TAB>weight'");
                break;
            }
            rc = set_one(ds, line, (size_t)(tab - line), tab + 1, out, spec, ln, e);
            if (rc == WB_EUSAGE) rc = e->code = WB_EFORMAT;
        }
        if (!rc && ferror(f)) rc = wb_err_at(e, EIO, spec, ln, -1, "read error");
        free(line);
        fclose(f);
        return rc;
    }
    /* name=w,name=w (a label holding ',' or '=' needs the file form) */
    for (const char *p = spec; *p;) {
        const char *comma = strchr(p, ','), *end = comma ? comma : p + strlen(p), *eq = memchr(p, '=', (size_t)(end - p));
        if (!eq) return wb_err_set(e, WB_EUSAGE, "class weights: expected name=weight, not '%.*s'", (int)(end - p), p);
        char num[64];
        snprintf(num, sizeof num, "%.*s", (int)(end - eq - 1 < 63 ? end - eq - 1 : 63), eq + 1);
        int rc = set_one(ds, p, (size_t)(eq - p), num, out, NULL, 0, e);
        if (rc) return rc;
        p = comma ? comma + 1 : end;
    }
    return 0;
}
