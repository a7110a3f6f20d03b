/*
 * report.c — the HTML report of report.h: per model, evaluation (inference,
 * metrics.h's figures, the most confident errors explained), then the page:
 * CSS, compare table, learning curves, heat map, per-class table, errors,
 * configuration.  Every text goes through wb_xml_text, so the page is
 * well-formed XML as well as HTML (tests run xmllint on it).
 *
 * Search runs (search.h) come in through their plan and trial log: the
 * results table of wb_search_table, mean learning curves of the best
 * configurations, the nested estimate, the fixed part.
 *
 * Leaves out: any script; running anything for a search (the page shows
 * what its log holds).
 */
#include "wordbench/report.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wordbench/eval.h"
#include "wordbench/explain.h"
#include "wordbench/metrics.h"
#include "wordbench/search.h"
#include "wordbench/stats.h"
#include "wordbench/svg.h"
#include "wordbench/triallog.h"

/* One error shown. */
typedef struct rerr {
    size_t i;                /* example */
    long long line;          /* its source line */
    uint32_t pred;           /* the wrong label */
    double conf;             /* its probability */
    wb_explanation x;        /* why */
} rerr;

/* One model of the report. */
typedef struct rmodel {
    char *name;              /* the model file's path */
    wb_bundle *b;            /* borrowed */
    const wb_labelled *data; /* borrowed, or NULL */
    char *data_path;
    wb_task task;
    size_t C, L;
    float th;
    uint64_t file_check;     /* the model file's XXH3 trailer */
    long long file_size;
    double loss;             /* mean loss on data */
    wb_scores s;
    rerr *err;
    size_t nerr;             /* shown */
    int unexplained;         /* a model reading records from stdin: errors are counted, not explained */
    size_t nwrong;           /* all errors */
} rmodel;

/* One search run of the report. */
typedef struct rrun {
    char *dir;
    wb_plan plan;
    int metric;              /* ranks the table (the plan's) */
    wb_trial_result **res;   /* (ntrials) by trial; NULL = no result */
    size_t ntrials, done;
    wb_triallog_stats st;
    wb_table_row *rows;      /* wb_search_table */
    size_t nrows;
    wb_nested_fold *nested;  /* (plan.k) when nested */
    size_t nested_done;
    size_t pe;               /* the `embeddings` parameter, SIZE_MAX = none */
    wb_compare_group *cmp;   /* (ncmp) wb_search_compare against learned */
    size_t ncmp;
} rrun;

struct wb_report {
    wb_report_opts o;
    rmodel *m;
    size_t n, cap;
    rrun *run;
    size_t nrun, runcap;
};

void wb_report_opts_init(wb_report_opts *o) {
    memset(o, 0, sizeof *o);
    o->top_classes = 20;
    o->errors = 20;
    o->k = 1;
    o->threshold = NAN;
    o->batch = 64;
}

int wb_report_create(wb_report **out, const wb_report_opts *o, wb_err *e) {
    *out = calloc(1, sizeof **out);
    if (!*out) return wb_err_set(e, WB_ENOMEM, "out of memory");
    if (o) (*out)->o = *o;
    else wb_report_opts_init(&(*out)->o);
    if (!(*out)->o.batch) (*out)->o.batch = 64;
    if (!(*out)->o.k) (*out)->o.k = 1;
    return 0;
}

static void rmodel_free(rmodel *m) {
    free(m->name), free(m->data_path);
    wb_scores_free(&m->s);
    for (size_t i = 0; i < m->nerr; i++) wb_explanation_free(&m->err[i].x);
    free(m->err);
}

static void rrun_free(rrun *u) {
    if (u->res) wb_triallog_results_free(u->res, u->ntrials);
    wb_compare_free(u->cmp, u->ncmp);
    free(u->res), free(u->rows), free(u->nested), free(u->dir);
    wb_plan_free(&u->plan);
    memset(u, 0, sizeof *u);
}

void wb_report_destroy(wb_report *r) {
    if (!r) return;
    for (size_t i = 0; i < r->n; i++) rmodel_free(&r->m[i]);
    free(r->m);
    for (size_t i = 0; i < r->nrun; i++) rrun_free(&r->run[i]);
    free(r->run);
    free(r);
}

/* The model file's size and checksum trailer (the last 8 bytes, XXH3-64 of
 * the rest: model.h). */
static int file_check(const char *path, uint64_t *check, long long *size, wb_err *e) {
    FILE *f = fopen(path, "rb");
    unsigned char t[8];
    if (!f) return wb_err_at(e, errno, path, 0, -1, "%s", strerror(errno));
    int ok = fseek(f, -8, SEEK_END) == 0 && fread(t, 1, 8, f) == 8;
    *size = ok ? ftell(f) : -1;
    fclose(f);
    if (!ok) return wb_err_at(e, WB_ECORRUPT, path, 0, -1, "not a model file (too short)");
    *check = 0;
    for (int i = 7; i >= 0; i--) *check = *check << 8 | t[i];
    return 0;
}

static int cmp_err(const void *a, const void *b) {
    const rerr *x = a, *y = b;
    if (x->conf != y->conf) return x->conf > y->conf ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

/* Is example i an error, and which label, how sure (report.h). */
static int wrong_of(const rmodel *m, const float *p, const uint32_t *lab, size_t nl, uint32_t *pred, double *conf) {
    if (m->task == WB_TASK_BINARY) {
        *pred = p[0] >= m->th;
        *conf = *pred ? p[0] : 1.0 - p[0];
        return !(nl && lab[0] == *pred);
    }
    uint32_t top;
    wb_topk(p, m->C, 1, &top);
    *pred = top, *conf = p[top];
    for (size_t q = 0; q < nl; q++)
        if (lab[q] == top) return 0;
    return 1;
}

/* The errors m->err[0..nerr) of a model that reads records: the data
 * file read again with the model's reader options (as wb_bundle_read
 * did), each error's record explained when its line comes by. */
typedef struct xrec {
    rmodel *m;
    size_t done;
    wb_err *e;
} xrec;

static int on_record(void *ud, const wb_example *ex) {
    xrec *xr = ud;
    rmodel *m = xr->m;
    for (size_t k = 0; k < m->nerr; k++) {
        rerr *r = &m->err[k];
        if (r->line != ex->line || r->x.prob) continue;
        int rc = wb_explain_record(m->b, ex, m->data_path, (int32_t)r->pred, m->th, &r->x, xr->e);
        if (rc) return rc;
        xr->done++;
    }
    return 0;
}

static int explain_records(rmodel *m, wb_err *e) {
    xrec xr = {m, 0, e};
    int rc = wb_reader_read(m->data_path, &m->b->reader, on_record, &xr, NULL, e);
    if (!rc && xr.done != m->nerr)
        rc = wb_err_at(e, WB_EFORMAT, m->data_path, 0, -1, "changed while the report read it (%zu of %zu errors found again)",
                       xr.done, m->nerr);
    return rc;
}

static int evaluate(wb_report *r, rmodel *m, wb_err *e) {
    const wb_labelled *d = m->data;
    size_t n = d->n, C = m->C;
    float *probs = malloc((n ? n : 1) * C * sizeof *probs);
    uint32_t *idx = malloc((n ? n : 1) * sizeof *idx);
    rerr *all = malloc((n ? n : 1) * sizeof *all);
    int rc = 0;
    if (!probs || !idx || !all) {
        rc = wb_err_set(e, WB_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) idx[i] = (uint32_t)i;
    wb_metrics met;
    wb_inputs in; /* every text input and the features the model reads */
    wb_labelled_inputs(m->b, d, &in);
    if (n && (rc = wb_eval_inputs(m->b->model, &in, d->loff, d->lids, idx, n, r->o.batch, r->o.k, m->th, &met, probs, e)))
        goto done;
    m->loss = n ? met.loss : NAN;
    if ((rc = wb_scores_compute(&m->s, m->task, C, probs, d->loff, d->lids, NULL, n, r->o.k, m->th, e))) goto done;
    size_t nw = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t pred;
        double conf;
        if (wrong_of(m, probs + i * C, d->lids + d->loff[i], d->loff[i + 1] - d->loff[i], &pred, &conf))
            all[nw++] = (rerr){.i = i, .line = d->line ? d->line[i] : (long long)i + 1, .pred = pred, .conf = conf};
    }
    m->nwrong = nw;
    qsort(all, nw, sizeof *all, cmp_err);
    size_t show = nw < r->o.errors ? nw : r->o.errors;
    int records = wb_bundle_reads_records(m->b); /* several columns or features: the records are read again */
    m->unexplained = records && (!m->data_path || !strcmp(m->data_path, "-"));
    if (!d->text || m->unexplained) show = 0;
    m->err = calloc(show ? show : 1, sizeof *m->err);
    if (!m->err) {
        rc = wb_err_set(e, WB_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t k = 0; k < show; k++) m->err[k] = all[k];
    if (records && show) {
        m->nerr = show;
        rc = explain_records(m, e);
    }
    for (size_t k = 0; !records && k < show; k++) {
        const char *t = d->text[all[k].i];
        if ((rc = wb_explain_text(m->b, t, strlen(t), (int32_t)all[k].pred, m->th, &m->err[k].x, e))) goto done;
        m->nerr = k + 1;
    }
done:
    free(probs), free(idx), free(all);
    return rc;
}

/* Room for one more element after n in the array *pp of capacity *cap
 * (doubled).  0, or -1 out of memory. */
static int grow(void *pp, size_t *cap, size_t n, size_t elem) {
    if (n < *cap) return 0;
    size_t nc = *cap ? 2 * *cap : 4;
    void *q = realloc(*(void **)pp, nc * elem);
    if (!q) return -1;
    *(void **)pp = q, *cap = nc;
    return 0;
}

int wb_report_add_model(wb_report *r, const char *path, wb_bundle *b, const wb_labelled *data, const char *data_path,
                        wb_err *e) {
    if (grow(&r->m, &r->cap, r->n, sizeof *r->m)) return wb_err_set(e, WB_ENOMEM, "out of memory");
    rmodel *m = &r->m[r->n];
    memset(m, 0, sizeof *m);
    const wb_model_cfg *mc = wb_model_cfg_get(b->model);
    m->b = b, m->data = data, m->task = mc->task, m->C = mc->C;
    m->L = mc->task == WB_TASK_BINARY ? 2 : mc->C;
    m->th = isnan(r->o.threshold) ? b->threshold : r->o.threshold;
    m->loss = NAN;
    m->name = strdup(path);
    m->data_path = data_path ? strdup(data_path) : NULL;
    int rc = 0;
    if (!m->name || (data_path && !m->data_path)) rc = wb_err_set(e, WB_ENOMEM, "out of memory");
    if (!rc) rc = file_check(path, &m->file_check, &m->file_size, e);
    if (!rc && data) rc = evaluate(r, m, e);
    if (rc) {
        rmodel_free(m);
        return rc;
    }
    r->n++;
    return 0;
}

int wb_report_add_run(wb_report *r, const char *dir, wb_err *e) {
    if (grow(&r->run, &r->runcap, r->nrun, sizeof *r->run)) return wb_err_set(e, WB_ENOMEM, "out of memory");
    rrun *u = &r->run[r->nrun];
    memset(u, 0, sizeof *u);
    int rc;
    if (!(u->dir = strdup(dir))) {
        rc = wb_err_set(e, WB_ENOMEM, "out of memory");
        goto fail;
    }
    if ((rc = wb_plan_load(&u->plan, dir, e))) {
        if (rc == ENOENT) rc = wb_err_at(e, ENOENT, dir, 0, -1, "no search here (no plan.json)");
        goto fail;
    }
    u->metric = wb_metric_parse(u->plan.metric);
    if (u->metric < 0) u->metric = WB_MET_ACC;
    u->ntrials = wb_plan_ntrials(&u->plan);
    if (!(u->res = calloc(u->ntrials ? u->ntrials : 1, sizeof *u->res))) {
        rc = wb_err_set(e, WB_ENOMEM, "out of memory");
        goto fail;
    }
    if ((rc = wb_triallog_read_dir(dir, &u->plan, u->res, &u->st, e))) goto fail;
    for (size_t t = 0; t < u->ntrials; t++) u->done += u->res[t] != NULL;
    if ((rc = wb_search_table(&u->plan, u->res, u->metric, &u->rows, &u->nrows, e))) goto fail;
    if (u->plan.k2) {
        if (!(u->nested = calloc(u->plan.k, sizeof *u->nested))) {
            rc = wb_err_set(e, WB_ENOMEM, "out of memory");
            goto fail;
        }
        u->nested_done = wb_search_nested(&u->plan, u->res, u->metric, u->nested);
    }
    u->pe = wb_plan_param_index(&u->plan, "embeddings");
    if (u->pe != SIZE_MAX &&
        (rc = wb_search_compare(&u->plan, u->res, u->metric, u->pe, "learned", &u->cmp, &u->ncmp, e)))
        goto fail;
    r->nrun++;
    return 0;
fail:
    rrun_free(u);
    return rc;
}

/* ---- writing ---------------------------------------------------------------- */

static void txt(FILE *f, const char *s) { wb_xml_text(f, s, strlen(s), 0); }

static void num(FILE *f, double v) {
    if (isnan(v)) fputs("\xE2\x80\x94", f); /* — */
    else fprintf(f, "%.4f", v);
}

static const char css[] =
    "body{font-family:sans-serif;margin:0 auto;max-width:1180px;padding:0 18px 40px;color:#222;background:#fff}"
    "h1{font-size:22px;margin:18px 0 4px}h2{font-size:18px;border-bottom:2px solid #4e79a7;padding-bottom:3px;margin-top:34px}"
    "h3{font-size:15px;margin:22px 0 6px}nav a{margin-right:14px}p.note{color:#666;font-size:13px}"
    "table{border-collapse:collapse;font-size:13px;margin:6px 0}th,td{border:1px solid #ddd;padding:3px 8px;text-align:right}"
    "th{background:#f2f4f7}td.l,th.l{text-align:left}tr:nth-child(even) td{background:#fafbfc}"
    "tr.best td{background:#fff3c4;font-weight:bold}.charts{display:flex;flex-wrap:wrap;gap:14px}"
    "p.cap{width:0;min-width:max(100%,320px)}"
    ".err{border:1px solid #ddd;border-radius:4px;padding:6px 10px;margin:8px 0;font-size:13px}"
    ".err .h{color:#555;margin-bottom:4px}.col{font-weight:bold;color:#4e79a7;margin-right:4px}.tok{padding:1px 1px;border-radius:2px}.spans{color:#555;margin-top:4px}"
    "code{font-size:12px}details summary{cursor:pointer;color:#4e79a7;font-size:13px}footer{margin-top:40px;color:#888;font-size:12px}";

static void label(FILE *f, const rmodel *m, uint32_t l) {
    if (l < m->b->nlabels) wb_xml_text(f, m->b->labels[l], m->b->label_len[l], 60);
    else fputs("(unknown)", f);
}

/* The figures of one model, as rows of (name, value). */
static void metrics_rows(FILE *f, const rmodel *m) {
    const wb_scores *s = &m->s;
    struct {
        const char *name;
        double v;
        int show;
    } rows[] = {
        {"examples", (double)s->n, 1},
        {"loss", m->loss, 1},
        {m->task == WB_TASK_MULTILABEL ? "subset accuracy" : "accuracy", s->accuracy, 1},
        {m->task == WB_TASK_BINARY ? "precision (positive)" : "precision (micro)", s->precision, 1},
        {m->task == WB_TASK_BINARY ? "recall (positive)" : "recall (micro)", s->recall, 1},
        {m->task == WB_TASK_BINARY ? "F1 (positive)" : "F1 (micro)", s->f1, 1},
        {"macro precision", s->macro_precision, 1},
        {"macro recall", s->macro_recall, 1},
        {"macro F1", s->macro_f1, 1},
        {"weighted F1", s->weighted_f1, 1},
        {"P@k", s->p_at_k, m->task != WB_TASK_BINARY},
        {"R@k", s->r_at_k, m->task != WB_TASK_BINARY},
        {"Hamming loss", s->hamming, m->task == WB_TASK_MULTILABEL},
        {"log loss", s->log_loss, 1},
        {"average precision", s->avg_precision, 1},
        {"ROC-AUC", s->auc, !isnan(s->auc)},
    };
    fputs("<table><tr><th class=\"l\">figure</th><th>value</th></tr>\n", f);
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        if (!rows[i].show) continue;
        fputs("<tr><td class=\"l\">", f);
        if (!strncmp(rows[i].name, "P@k", 3) || !strncmp(rows[i].name, "R@k", 3)) fprintf(f, "%c@%zu", rows[i].name[0], s->k);
        else txt(f, rows[i].name);
        fputs("</td><td>", f);
        if (i == 0) fprintf(f, "%zu", s->n);
        else num(f, rows[i].v);
        fputs("</td></tr>\n", f);
    }
    if (m->task != WB_TASK_MULTICLASS) fprintf(f, "<tr><td class=\"l\">threshold</td><td>%.4g</td></tr>\n", (double)m->th);
    if (s->unknown)
        fprintf(f, "<tr><td class=\"l\">unknown true labels</td><td>%" PRIu64 "</td></tr>\n", s->unknown);
    fputs("</table>\n", f);
}

static void compare_table(FILE *f, const wb_report *r) {
    size_t ne = 0;
    for (size_t i = 0; i < r->n; i++) ne += r->m[i].data != NULL;
    if (ne < 2) return;
    fputs("<h2 id=\"compare\">Compare</h2>\n<table><tr><th class=\"l\">model</th><th class=\"l\">data</th><th>examples</th>"
          "<th>loss</th><th>accuracy</th><th>F1</th><th>macro F1</th><th>P@k</th><th>R@k</th><th>log loss</th>"
          "<th>avg. precision</th><th>ROC-AUC</th></tr>\n",
          f);
    size_t best = SIZE_MAX;
    for (size_t i = 0; i < r->n; i++)
        if (r->m[i].data && (best == SIZE_MAX || r->m[i].s.f1 > r->m[best].s.f1)) best = i;
    for (size_t i = 0; i < r->n; i++) {
        const rmodel *m = &r->m[i];
        if (!m->data) continue;
        fprintf(f, "<tr%s><td class=\"l\">", i == best ? " class=\"best\"" : "");
        txt(f, m->name);
        fputs(i == best ? " \xE2\x98\x85" : "", f);
        fputs("</td><td class=\"l\">", f);
        txt(f, m->data_path ? m->data_path : "");
        fprintf(f, "</td><td>%zu</td>", m->s.n);
        double v[] = {m->loss, m->s.accuracy, m->s.f1, m->s.macro_f1, m->s.p_at_k, m->s.r_at_k, m->s.log_loss,
                      m->s.avg_precision, m->s.auc};
        for (size_t k = 0; k < sizeof v / sizeof *v; k++) {
            fputs("<td>", f);
            num(f, v[k]);
            fputs("</td>", f);
        }
        fputs("</tr>\n", f);
    }
    fputs("</table>\n<p class=\"note\">\xE2\x98\x85 the highest F1. F1: binary of the positive class, else micro.</p>\n", f);
}

/* The heat map of the top classes by support. */
static void confusion(FILE *f, const wb_report *r, const rmodel *m) {
    const wb_scores *s = &m->s;
    size_t L = m->L, N = r->o.top_classes < L ? r->o.top_classes : L;
    uint32_t *ord = malloc(L * sizeof *ord);
    int32_t *pos = malloc(L * sizeof *pos);
    size_t cols = N + (N < L);
    double *v = calloc(N * cols + 1, sizeof *v);
    const char **rl = malloc((N + 1) * sizeof *rl), **cl = malloc((cols + 1) * sizeof *cl);
    if (!ord || !pos || !v || !rl || !cl) goto done;
    for (size_t i = 0; i < L; i++) ord[i] = (uint32_t)i;
    /* by support, then id (insertion sort on the first N is enough, but L is small enough for a full sort) */
    for (size_t i = 1; i < L; i++)
        for (size_t j = i; j > 0 && s->cls[ord[j]].support > s->cls[ord[j - 1]].support; j--) {
            uint32_t t = ord[j];
            ord[j] = ord[j - 1], ord[j - 1] = t;
        }
    if (L <= N)
        for (size_t i = 0; i < L; i++) ord[i] = (uint32_t)i; /* all labels: keep the id order */
    for (size_t i = 0; i < L; i++) pos[i] = -1;
    for (size_t i = 0; i < N; i++) pos[ord[i]] = (int32_t)i;
    uint64_t outside = 0;
    for (size_t q = 0; q < s->ncells; q++) {
        const wb_confusion_cell *c = &s->cells[q];
        if (pos[c->truth] < 0) {
            outside += c->count;
            continue;
        }
        size_t col = pos[c->pred] >= 0 ? (size_t)pos[c->pred] : N;
        v[(size_t)pos[c->truth] * cols + col] += (double)c->count;
    }
    for (size_t i = 0; i < N; i++) rl[i] = cl[i] = m->b->labels[ord[i]];
    if (cols > N) cl[N] = "(other)";
    char title[160];
    snprintf(title, sizeof title, "Confusion: %zu of %zu labels%s", N, L, N < L ? " (by support)" : "");
    wb_svg_heatmap(f, title, rl, cl, v, N, cols);
    const char *what = m->task == WB_TASK_BINARY      ? "rows: true label; columns: the decision at the threshold"
                       : m->task == WB_TASK_MULTICLASS ? "rows: true label; columns: the top label"
                                                       : "rows: each true label of an example; columns: the example's top label";
    fprintf(f, "<p class=\"note cap\">");
    txt(f, what);
    fputs(". Colour: the share of the row.", f);
    if (outside) fprintf(f, " %" PRIu64 " true labels outside the top %zu are not drawn.", outside, N);
    fputs("</p>\n", f);
done:
    free(ord), free(pos), free(v), free(rl), free(cl);
}

static void per_class(FILE *f, const rmodel *m) {
    const wb_scores *s = &m->s;
    size_t L = m->L, shown = 0;
    uint32_t *ord = malloc(L * sizeof *ord);
    if (!ord) return;
    size_t n = 0;
    for (size_t i = 0; i < L; i++)
        if (s->cls[i].support || s->cls[i].tp + s->cls[i].fp) ord[n++] = (uint32_t)i;
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && s->cls[ord[j]].support > s->cls[ord[j - 1]].support; j--) {
            uint32_t t = ord[j];
            ord[j] = ord[j - 1], ord[j - 1] = t;
        }
    static const char head[] = "<table><tr><th class=\"l\">label</th><th>precision</th><th>recall</th><th>F1</th>"
                               "<th>support</th><th>predicted</th></tr>\n";
    fputs(head, f);
    for (size_t k = 0; k < n; k++) {
        if (k == 30) {
            fprintf(f, "</table>\n<details><summary>%zu more labels</summary>\n", n - 30);
            fputs(head, f);
        }
        const wb_class_score *c = &s->cls[ord[k]];
        fputs("<tr><td class=\"l\">", f);
        label(f, m, ord[k]);
        fprintf(f, "</td><td>%.4f</td><td>%.4f</td><td>%.4f</td><td>%" PRIu64 "</td><td>%" PRIu64 "</td></tr>\n",
                c->precision, c->recall, c->f1, c->support, c->tp + c->fp);
        shown++;
    }
    fputs("</table>\n", f);
    if (n > 30) fputs("</details>\n", f);
    fprintf(f, "<p class=\"note\">%zu of %zu labels occur in the data or the predictions", shown, L);
    if (m->task != WB_TASK_BINARY)
        fprintf(f, "; macro averages are over these (%zu)", s->present);
    fputs(".</p>\n", f);
    free(ord);
}

/* Tokens with a background by their share: green for the label, red
 * against.  A long text shows the neighbourhoods (CONTEXT tokens each side)
 * of its three strongest spans, "…" for the rest. */
#define CONTEXT 20
static void highlighted(FILE *f, const wb_expl_text *x) {
    double mx = 0;
    for (size_t i = 0; i < x->ntok; i++) mx = fmax(mx, fabs(x->tok_score[i]));
    unsigned char *show = malloc(x->ntok ? x->ntok : 1);
    if (!show) return;
    memset(show, x->ntok <= 6 * CONTEXT, x->ntok ? x->ntok : 1);
    for (size_t q = 0; q < 3 && q < x->nspans && !show[0]; q++) {
        const wb_expl_span *sp = &x->spans[q];
        size_t lo = sp->tok > CONTEXT ? sp->tok - CONTEXT : 0, hi = sp->tok + sp->ntok + CONTEXT;
        for (size_t t = lo; t < hi && t < x->ntok; t++) show[t] = 1;
    }
    if (x->skipped) fprintf(f, "<span class=\"note\">(%zu tokens cut) </span>", x->skipped);
    for (size_t i = 0; i < x->ntok; i++) {
        if (!show[i]) {
            if (!i || show[i - 1]) fputs(" \xE2\x80\xA6", f);
            continue;
        }
        double a = mx > 0 ? x->tok_score[i] / mx : 0;
        if (i && !x->chars) fputc(' ', f);
        if (fabs(a) >= 0.05)
            fprintf(f, "<span class=\"tok\" style=\"background:rgba(%s,%.2f)\" title=\"%+.4f\">",
                    a > 0 ? "89,161,79" : "225,87,89", fabs(a) * 0.85, x->tok_score[i]);
        size_t l = x->tokoff[i + 1] - x->tokoff[i];
        if (!l) fputs("\xC2\xB7", f);
        else wb_xml_text(f, x->tok + x->tokoff[i], l, 0);
        if (fabs(a) >= 0.05) fputs("</span>", f);
    }
    if (x->total_tokens > x->skipped + x->ntok)
        fprintf(f, " <span class=\"note\">(%zu tokens cut)</span>", x->total_tokens - x->skipped - x->ntok);
    free(show);
}

/* Span q of x as \u201ctokens\u201d +score, after "; " unless it is the first (i = 0). */
static void span_text(FILE *f, const wb_expl_text *x, size_t q, size_t i) {
    const wb_expl_span *sp = &x->spans[q];
    fputs(i ? "; " : " ", f);
    fputs("\xE2\x80\x9C", f);
    for (size_t t = sp->tok; t < sp->tok + sp->ntok; t++) {
        if (t > sp->tok && !x->chars) fputc(' ', f);
        wb_xml_text(f, x->tok + x->tokoff[t], x->tokoff[t + 1] - x->tokoff[t], 0);
    }
    fprintf(f, "\xE2\x80\x9D %+.3f", sp->score);
}

/* One text input of an error: its column's name (several inputs), the
 * highlighted tokens, the strongest spans for and against. */
static void error_input(FILE *f, const rmodel *m, const rerr *r, const wb_expl_text *x) {
    fputs("<div>", f);
    if (x->name) {
        fputs("<span class=\"col\">", f);
        txt(f, x->name);
        fputs("</span> ", f);
    }
    highlighted(f, x);
    fputs("</div>\n<div class=\"spans\">for ", f);
    label(f, m, r->pred);
    fputs(":", f);
    size_t npos = 0, nneg = 0;
    for (size_t q = 0; q < 3 && q < x->nspans && x->spans[q].score > 0; q++) span_text(f, x, q, npos++);
    if (!npos)
        fputs(r->x.ninputs > 1 || r->x.nfeat ? " no n-gram of this text"
                                             : " no n-gram of the text (the label's bias outweighs what speaks against it)",
              f);
    /* the strongest against: the last spans (highest first) */
    for (size_t q = x->nspans; q > 0 && nneg < 2 && x->spans[q - 1].score < 0; q--) {
        if (!nneg++) fputs("; against:", f);
        span_text(f, x, q - 1, nneg - 1);
    }
    fputs("</div>\n", f);
}

/* The numeric features of an error: each column, its value, its
 * contribution (green for the label, red against), strongest first. */
static void error_features(FILE *f, const rmodel *m, const rerr *r) {
    size_t n = r->x.nfeat, *ord = malloc(n * sizeof *ord);
    if (!ord) return;
    wb_expl_feat_rank(&r->x, ord);
    fputs("<div class=\"spans\"><span class=\"col\">features</span> for ", f);
    label(f, m, r->pred);
    fputs(":", f);
    for (size_t i = 0; i < n; i++) {
        const wb_expl_feat *ft = &r->x.feat[ord[i]];
        fprintf(f, "%s <span class=\"tok\" style=\"background:rgba(%s,0.25)\">", i ? ";" : "",
                ft->score >= 0 ? "89,161,79" : "225,87,89");
        txt(f, ft->name ? ft->name : "?");
        fprintf(f, " = %.6g</span> %+.3f", ft->value, ft->score);
    }
    fputs("</div>\n", f);
    free(ord);
}

static void errors(FILE *f, const rmodel *m) {
    if (!m->nwrong) {
        fputs("<p class=\"note\">No errors.</p>\n", f);
        return;
    }
    if (m->unexplained) {
        fprintf(f, "<p class=\"note\">%zu of %zu examples are errors (not listed: this model reads several columns, "
                   "which the report reads again to explain them, and the data came from standard input).</p>\n",
                m->nwrong, m->s.n);
        return;
    }
    fprintf(f, "<p class=\"note\">%zu of %zu examples are errors; the %zu with the most probable wrong label:</p>\n",
            m->nwrong, m->s.n, m->nerr);
    const wb_labelled *d = m->data;
    for (size_t k = 0; k < m->nerr; k++) {
        const rerr *r = &m->err[k];
        fputs("<div class=\"err\"><div class=\"h\">", f);
        txt(f, m->data_path ? m->data_path : "");
        fprintf(f, ":%lld \xE2\x80\x94 true: <b>", r->line);
        for (size_t q = d->loff[r->i]; q < d->loff[r->i + 1]; q++) {
            if (q > d->loff[r->i]) fputs(", ", f);
            label(f, m, d->lids[q]);
        }
        fputs("</b>; predicted: <b>", f);
        label(f, m, r->pred);
        fprintf(f, "</b> %.4f</div>\n", r->conf);
        for (size_t in = 0; in < r->x.ninputs; in++) error_input(f, m, r, &r->x.in[in]);
        if (r->x.nfeat) error_features(f, m, r);
        fputs("</div>\n", f);
    }
}

static void kv(FILE *f, const char *k, const char *v) {
    fputs("<tr><td class=\"l\">", f);
    txt(f, k);
    fputs("</td><td class=\"l\"><code>", f);
    txt(f, v ? v : "");
    fputs("</code></td></tr>\n", f);
}

static void kvf(FILE *f, const char *k, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void kvf(FILE *f, const char *k, const char *fmt, ...) {
    char b[640];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b, sizeof b, fmt, ap);
    va_end(ap);
    kv(f, k, b);
}

static void configuration(FILE *f, const rmodel *m) {
    const wb_bundle *b = m->b;
    const wb_model_cfg *c = wb_model_cfg_get(b->model);
    const wb_optim *o = wb_model_optim(b->model);
    static const char *const toks[] = {"keras", "fasttext", "unicode", "char"};
    static const char *const fmts[] = {"auto", "tsv", "fasttext", "csv"};
    fputs("<table><tr><th class=\"l\">setting</th><th class=\"l\">value</th></tr>\n", f);
    kv(f, "model file", m->name);
    kvf(f, "model file checksum (XXH3-64)", "%016" PRIx64 ", %lld bytes", m->file_check, m->file_size);
    kv(f, "model", wb_model_kind_name(c->kind));
    kv(f, "task", wb_task_name(c->task));
    kvf(f, "labels", "%u", b->nlabels);
    if (c->kind != WB_MODEL_BOW && c->kind != WB_MODEL_CHARCNN) {
        kv(f, "embeddings", wb_emb_mode_name(c->emb));
        kv(f, "oov", wb_oov_mode_name(c->oov));
        kvf(f, "emb-dim", "%zu", c->E);
    }
    size_t ni = wb_model_cfg_ninputs(c);
    if (ni > 1) { /* a text part per column, each with its own vocabulary and maxlen */
        for (size_t k = 0; k < ni; k++) {
            char key[96];
            snprintf(key, sizeof key, "text input %zu: column %s", k + 1,
                     k < b->reader.n_text_cols ? b->text_cols[k] : c->text_name[k]);
            kvf(f, key, "maxlen %zu, vocabulary %zu ids", wb_model_cfg_T(c, k), wb_model_cfg_V(c, k));
        }
    } else {
        kvf(f, "vocabulary", "%zu ids", c->V);
        kvf(f, "maxlen", "%zu", c->T);
    }
    if (b->text_mode == WB_TEXT_JOIN) {
        char cols[256] = "";
        for (size_t i = 0, n = 0; i < b->reader.n_text_cols && n < sizeof cols; i++)
            n += (size_t)snprintf(cols + n, sizeof cols - n, "%s%s", i ? " + " : "", b->text_cols[i]);
        kv(f, "text columns (joined: one input)", cols);
    }
    if (c->nfeat) {
        char cols[512] = "";
        for (size_t i = 0, n = 0; i < b->reader.n_feature_cols && n < sizeof cols; i++)
            n += (size_t)snprintf(cols + n, sizeof cols - n, "%s%s", i ? ", " : "", b->feature_cols[i]);
        kvf(f, "feature columns", "%s (%zu, standardised)", cols, c->nfeat);
        if (c->feat_dense) kvf(f, "feature-dense", "%zu units, relu", c->feat_dense);
        else kv(f, "feature-dense", "none (the standardised values join the merge)");
    }
    if (c->kind == WB_MODEL_TUTORIAL || c->kind == WB_MODEL_KIM || c->kind == WB_MODEL_CHARCNN) {
        char w[128] = "";
        for (size_t i = 0, n = 0; i < c->nwidths && n < sizeof w; i++)
            n += (size_t)snprintf(w + n, sizeof w - n, "%s%zu", i ? "," : "", c->widths[i]);
        kvf(f, "filters", "%zu", c->F);
        kv(f, "widths", w);
    }
    if (c->kind == WB_MODEL_LSTM || c->kind == WB_MODEL_GRU) {
        kvf(f, "units", "%zu", c->units);
        kv(f, "bidirectional", c->bidirectional ? "yes" : "no");
        kv(f, "rnn-pool", c->rnn_pool == WB_RNN_MAX ? "max" : "last");
    }
    if (c->kind == WB_MODEL_BOW) {
        kv(f, "bow", c->bow == WB_BOW_TFIDF ? "tfidf" : "counts");
        kvf(f, "ngrams", "%zu", c->ngrams);
        kvf(f, "features", "%zu", c->D);
    }
    if (c->H) kvf(f, "hidden", "%zu units x %zu", c->H, c->nhidden ? c->nhidden : 1);
    kvf(f, "dropout", "%g (hidden %g)", (double)c->dropout, (double)c->hidden_dropout);
    if (c->maxnorm > 0) kvf(f, "max-norm", "%g", (double)c->maxnorm);
    kvf(f, "seed", "%" PRIu64, c->seed);
    kvf(f, "optimizer", "%s lr %g, l2 %g, clipnorm %g, clipvalue %g, %" PRIu64 " steps", wb_optim_name(o->kind),
        (double)o->lr, (double)o->l2, (double)o->clipnorm, (double)o->clipvalue, o->t);
    kvf(f, "tokenizer", "%s, lower %d, strip-html %d, max-doc-chars %zu", toks[b->tok.kind & 3], b->tok.lower,
        b->tok.strip_html, (size_t)b->tok.max_doc_chars);
    kvf(f, "padding / truncating", "%s / %s", b->padding == WB_PAD_PRE ? "pre" : "post",
        b->truncating == WB_PAD_PRE ? "pre" : "post");
    kvf(f, "reader", "format %s%s%s", fmts[b->reader.format & 3], b->text_col && ni == 1 ? ", text column " : "",
        b->text_col && ni == 1 ? b->text_col : "");
    kv(f, "store (as trained)", b->store_path ? b->store_path : "(none)");
    if (b->fingerprint) kvf(f, "store fingerprint", "%016" PRIx64, b->fingerprint);
    else kv(f, "store fingerprint", "(no store)");
    kv(f, "trained on", b->data_path ? b->data_path : "(not recorded)");
    if (b->data_key) kvf(f, "data set key (XXH3-64 of the files and options)", "%016" PRIx64, b->data_key);
    else kv(f, "data set key", "(not recorded)");
    if (b->saved_epoch) kvf(f, "saved epoch", "%zu of %zu", b->saved_epoch, b->nhist);
    if (b->threshold_tuned) kvf(f, "threshold (tuned)", "%.4g (validation F1 %.4f)", (double)b->threshold, b->threshold_f1);
    if (m->data_path) kvf(f, "evaluated on", "%s (%zu examples)", m->data_path, m->s.n);
    fputs("</table>\n", f);
}

/* Loss and accuracy per epoch of every model with a history: validation
 * solid, training dashed, one colour per model. */
static void curves(FILE *f, const wb_report *r) {
    size_t nh = 0, maxe = 0;
    for (size_t i = 0; i < r->n; i++) nh += r->m[i].b->nhist > 0, maxe = r->m[i].b->nhist > maxe ? r->m[i].b->nhist : maxe;
    if (!nh) return;
    fputs("<h2 id=\"curves\">Learning curves</h2>\n<div class=\"charts\">", f);
    double *x = malloc(maxe * sizeof *x), *y = malloc(4 * r->n * maxe * sizeof *y);
    wb_series *s = malloc(4 * r->n * sizeof *s);
    char (*names)[200] = malloc(4 * r->n * sizeof *names);
    if (!x || !y || !s || !names) goto done;
    for (size_t e = 0; e < maxe; e++) x[e] = (double)(e + 1);
    for (int which = 0; which < 2; which++) { /* 0 loss, 1 accuracy */
        size_t ns = 0;
        for (size_t i = 0; i < r->n; i++) {
            const wb_bundle *b = r->m[i].b;
            if (!b->nhist) continue;
            for (int val = 1; val >= 0; val--) {
                double *yy = y + ns * maxe;
                int any = 0;
                for (size_t e = 0; e < b->nhist; e++) {
                    const wb_epoch *h = &b->history[e];
                    double v = val ? (h->has_val ? (which ? h->val_acc : h->val_loss) : NAN) : (which ? h->acc : h->loss);
                    yy[e] = v, any |= !isnan(v);
                }
                if (!any) continue;
                snprintf(names[ns], sizeof names[ns], "%s %s", r->m[i].name, val ? "validation" : "training");
                s[ns] = (wb_series){names[ns], x, yy, b->nhist, i, !val};
                ns++;
            }
        }
        wb_chart c = {which ? "Accuracy (P@1 for multi-label models)" : "Loss", "epoch", which ? "accuracy" : "loss", 560, 330, NAN,
                      NAN};
        if (which) c.ymax = 1;
        fputs("<div>", f);
        wb_svg_lines(f, &c, s, ns);
        fputs("</div>", f);
    }
    fputs("</div>\n<p class=\"note\">Solid: validation; dashed: training (running figures of the epoch, with dropout).", f);
    for (size_t i = 0; i < r->n; i++)
        if (r->m[i].b->nhist && r->m[i].b->saved_epoch) {
            fputs(" ", f);
            txt(f, r->m[i].name);
            fprintf(f, " holds epoch %zu.", r->m[i].b->saved_epoch);
        }
    fputs("</p>\n", f);
done:
    free(x), free(y), free(s), free(names);
}

/* ---- search runs ---------------------------------------------------------------- */

/* "mean ± sd" (— when undefined). */
static void mean_sd(FILE *f, double m, double sd) {
    if (isnan(m)) {
        fputs("\xE2\x80\x94", f);
        return;
    }
    fprintf(f, "%.4f", m);
    if (!isnan(sd)) fprintf(f, " \xC2\xB1 %.4f", sd);
}

/* Configuration c's values, "name=value" separated by sep. */
static void config_params(FILE *f, const wb_plan *p, size_t c, const char *sep) {
    for (size_t j = 0; j < p->nparams; j++) {
        if (j) fputs(sep, f);
        txt(f, p->params[j].name);
        fputc('=', f);
        txt(f, wb_plan_value(p, c, j));
    }
}

/* Loss and the metric per epoch of the best configurations: the mean over
 * their outer trials (a trial that stopped early adds nothing to the later
 * epochs), validation solid, training dashed, one colour per configuration. */
#define RUN_CURVES 6
static void run_curves(FILE *f, const rrun *u) {
    const wb_plan *p = &u->plan;
    size_t k = p->k ? p->k : 1, per = wb_plan_per_config(p), nc = 0, maxe = 0;
    size_t cfg[RUN_CURVES];
    for (size_t i = 0; i < u->nrows && nc < RUN_CURVES; i++)
        if (u->rows[i].rank) cfg[nc++] = u->rows[i].config;
    for (size_t i = 0; i < nc; i++)
        for (size_t o = 0; o < k; o++) {
            const wb_trial_result *t = u->res[cfg[i] * per + o];
            if (t && t->epochs > maxe) maxe = t->epochs;
        }
    if (!nc || !maxe) return;
    double *x = malloc(maxe * sizeof *x), *y = malloc(4 * nc * maxe * sizeof *y);
    wb_series *sr = malloc(4 * nc * sizeof *sr);
    char(*names)[64] = malloc(4 * nc * sizeof *names);
    if (!x || !y || !sr || !names) goto done;
    for (size_t ep = 0; ep < maxe; ep++) x[ep] = (double)(ep + 1);
    fputs("<div class=\"charts\">", f);
    for (int which = 0; which < 2; which++) { /* 0 loss, 1 the accuracy figure */
        size_t ns = 0;
        for (size_t i = 0; i < nc; i++)
            for (int val = 1; val >= 0; val--) {
                double *yy = y + ns * maxe;
                int any = 0;
                for (size_t ep = 0; ep < maxe; ep++) {
                    double sum = 0;
                    size_t cnt = 0;
                    for (size_t o = 0; o < k; o++) {
                        const wb_trial_result *t = u->res[cfg[i] * per + o];
                        if (!t || ep >= t->epochs || !t->history) continue;
                        const wb_epoch *h = &t->history[ep];
                        if (val && !h->has_val) continue;
                        sum += val ? (which ? h->val_acc : h->val_loss) : (which ? h->acc : h->loss), cnt++;
                    }
                    yy[ep] = cnt ? sum / (double)cnt : NAN;
                    any |= cnt > 0;
                }
                if (!any) continue;
                snprintf(names[ns], sizeof names[ns], "#%zu %s", i + 1, val ? "validation" : "training");
                sr[ns] = (wb_series){names[ns], x, yy, maxe, i, !val};
                ns++;
            }
        wb_chart c = {which ? "Accuracy (P@1 for multi-label models), mean over folds" : "Loss, mean over folds", "epoch",
                      which ? "accuracy" : "loss", 560, 330, NAN, NAN};
        if (which) c.ymax = 1;
        fputs("<div>", f);
        wb_svg_lines(f, &c, sr, ns);
        fputs("</div>", f);
    }
    fputs("</div>\n<p class=\"note\">", f);
    for (size_t i = 0; i < nc; i++) {
        fprintf(f, "%s#%zu: ", i ? "; " : "", i + 1);
        config_params(f, p, cfg[i], " ");
    }
    fputs(". Solid: validation (the held-out fold); dashed: training.</p>\n", f);
done:
    free(x), free(y), free(sr), free(names);
}

/* A p-value, "—" when undefined. */
static void pval(FILE *f, double p) {
    if (isnan(p)) fputs("\xE2\x80\x94", f);
    else fprintf(f, "%.3g", p);
}

/* The compare table (wordbench compare): per group of configurations that
 * differ only in --embeddings, each mode's metric and its paired tests
 * against learned. */
/* Modes of group gr with at least one result. */
static size_t modes_done(const wb_compare_group *gr) {
    size_t n = 0;
    for (size_t q = 0; q < gr->nmodes; q++) n += gr->modes[q].folds > 0;
    return n;
}

static void run_compare(FILE *f, const rrun *u) {
    const wb_plan *p = &u->plan;
    size_t k = p->k ? p->k : 1, paired = 0;
    int hb = wb_metric_higher_better(u->metric);
    /* only groups where two modes have results say anything (a random
     * search draws the other parameters anew for every configuration) */
    for (size_t g = 0; g < u->ncmp; g++) paired += modes_done(&u->cmp[g]) >= 2;
    if (!paired) {
        fputs("<h3>Embeddings compared</h3>\n<p class=\"note\">No two configurations with results differ only in "
              "<code>embeddings</code> (a random search draws the other parameters anew): nothing to pair. A grid over "
              "<code>embeddings</code> and the other parameters gives this table.</p>\n",
              f);
        return;
    }
    fprintf(f,
            "<h3>Embeddings compared</h3>\n<table><tr><th class=\"l\">other parameters</th><th class=\"l\">embeddings</th>"
            "<th>%s (mean \xC2\xB1 sd)</th><th>vs learned</th><th>p (t)</th><th>p (corr. t)</th><th>p (Wilc.)</th>"
            "<th>folds</th></tr>\n",
            wb_metric_name(u->metric));
    for (size_t g = 0; g < u->ncmp; g++) {
        const wb_compare_group *gr = &u->cmp[g];
        if (modes_done(gr) < 2) continue;
        size_t best = SIZE_MAX; /* the group's best complete mode */
        for (size_t q = 0; q < gr->nmodes; q++) {
            const wb_compare_mode *m = &gr->modes[q];
            if (m->folds == k && !isnan(m->mean) &&
                (best == SIZE_MAX || (hb ? m->mean > gr->modes[best].mean : m->mean < gr->modes[best].mean)))
                best = q;
        }
        for (size_t q = 0; q < gr->nmodes; q++) {
            const wb_compare_mode *m = &gr->modes[q];
            fprintf(f, "<tr%s>", q == best ? " class=\"best\"" : "");
            if (!q) {
                fprintf(f, "<td class=\"l\" rowspan=\"%zu\">", gr->nmodes);
                size_t shown = 0;
                for (size_t j = 0; j < p->nparams; j++) {
                    if (j == u->pe) continue;
                    if (shown++) fputc(' ', f);
                    txt(f, p->params[j].name);
                    fputc('=', f);
                    txt(f, wb_plan_value(p, gr->first, j));
                }
                if (!shown) fputs("(embeddings only)", f);
                fputs("</td>", f);
            }
            fputs("<td class=\"l\">", f);
            txt(f, m->mode);
            fprintf(f, "%s</td><td>", q == best ? " \xE2\x98\x85" : "");
            mean_sd(f, m->folds ? m->mean : NAN, m->sd);
            fputs("</td>", f);
            if (m->tested) {
                fprintf(f, "<td>%+.4f</td><td>", m->paired.mean_diff);
                pval(f, m->paired.p_t);
                fputs("</td><td>", f);
                pval(f, m->paired.p_nb);
                fputs("</td><td>", f);
                pval(f, m->paired.p_w);
                fprintf(f, "%s</td>", m->paired.w_exact || isnan(m->paired.p_w) ? "" : "*");
            } else {
                fprintf(f, "<td>%s</td><td></td><td></td><td></td>", m->is_base ? "(base)" : "\xE2\x80\x94");
            }
            fprintf(f, "<td>%zu/%zu</td></tr>\n", m->folds, k);
        }
    }
    fputs("</table>\n<p class=\"note\">\xE2\x98\x85 the best mode of each group. Differences to learned are paired fold "
          "by fold. p (t): the paired t-test; p (corr. t): the same with the Nadeau-Bengio correction for folds that "
          "share training data, the one to read with k-fold scores; p (Wilc.): Wilcoxon signed-rank (* the normal "
          "approximation), no lower than 2/2<sup>k</sup>. The store's coverage of each group's vocabulary: "
          "<code>wordbench compare RUN_DIR</code>.</p>\n",
          f);
}

#define RUN_ROWS 100
static void run_section(FILE *f, const rrun *u, size_t ri) {
    const wb_plan *p = &u->plan;
    int hb = wb_metric_higher_better(u->metric);
    fprintf(f, "<h2 id=\"r%zu\">Search ", ri);
    txt(f, u->dir);
    fputs("</h2>\n<p>", f);
    fprintf(f, "%s search, %zu configuration%s, ", p->random ? "Random" : "Grid", p->nconfigs, p->nconfigs == 1 ? "" : "s");
    if (p->k2) fprintf(f, "nested cross-validation (%zu outer \xC3\x97 %zu inner folds)", p->k, p->k2);
    else if (p->k) fprintf(f, "%zu-fold cross-validation", p->k);
    else fputs("holdout validation", f);
    fprintf(f, "; %zu of %zu trials done; ranked by <b>%s</b> (%s first).", u->done, u->ntrials,
            wb_metric_name(u->metric), hb ? "highest" : "lowest");
    if (u->st.torn || u->st.damaged || u->st.duplicates)
        fprintf(f, " The log had %zu torn, %zu damaged and %zu duplicate line%s (skipped).", u->st.torn, u->st.damaged,
                u->st.duplicates, u->st.torn + u->st.damaged + u->st.duplicates == 1 ? "" : "s");
    fputs("</p>\n", f);
    if (!u->nrows) {
        fputs("<p class=\"note\">No trial has finished yet.</p>\n", f);
    } else {
        fputs("<table><tr><th>rank</th>", f);
        for (size_t j = 0; j < p->nparams; j++) {
            fputs("<th class=\"l\">", f);
            txt(f, p->params[j].name);
            fputs("</th>", f);
        }
        fprintf(f, "<th>%s (mean \xC2\xB1 sd)</th>", wb_metric_name(u->metric));
        for (int m = 0; m < WB_NMET; m++)
            if (m != u->metric) fprintf(f, "<th>%s</th>", wb_metric_name(m));
        fputs("<th>train s</th><th>examples/s</th><th>folds</th></tr>\n", f);
        for (size_t i = 0; i < u->nrows && i < RUN_ROWS; i++) {
            const wb_table_row *w = &u->rows[i];
            fprintf(f, "<tr%s><td>", w->rank == 1 ? " class=\"best\"" : "");
            if (w->rank) fprintf(f, "%zu%s", w->rank, w->rank == 1 ? " \xE2\x98\x85" : "");
            else fputs("\xE2\x80\x94", f);
            fputs("</td>", f);
            for (size_t j = 0; j < p->nparams; j++) {
                fputs("<td class=\"l\">", f);
                txt(f, wb_plan_value(p, w->config, j));
                fputs("</td>", f);
            }
            fputs("<td>", f);
            mean_sd(f, w->mean[u->metric], w->sd[u->metric]);
            fputs("</td>", f);
            for (int m = 0; m < WB_NMET; m++) {
                if (m == u->metric) continue;
                fputs("<td>", f);
                num(f, w->mean[m]);
                fputs("</td>", f);
            }
            fprintf(f, "<td>%.2f</td><td>%.0f</td><td>%zu/%zu</td></tr>\n", w->train_s, w->examples_per_s, w->folds,
                    w->expected);
        }
        fputs("</table>\n<p class=\"note\">\xE2\x98\x85 the best configuration. The other metrics are means over the same "
              "folds; rows without all their folds are not ranked (\xE2\x80\x94).",
              f);
        if (u->nrows > RUN_ROWS) fprintf(f, " %zu more rows are not shown.", u->nrows - RUN_ROWS);
        fputs("</p>\n", f);
        run_curves(f, u);
    }
    if (u->ncmp) run_compare(f, u);
    if (p->k2) {
        fputs("<h3>Nested estimate</h3>\n<table><tr><th>outer fold</th><th class=\"l\">chosen by the inner search</th>"
              "<th>inner mean</th><th>outer score</th></tr>\n",
              f);
        double *sc = malloc((p->k ? p->k : 1) * sizeof *sc);
        size_t ns = 0;
        for (size_t o = 0; o < p->k; o++) {
            const wb_nested_fold *nf = &u->nested[o];
            fprintf(f, "<tr><td>%zu</td><td class=\"l\">", o);
            if (nf->complete) config_params(f, p, nf->config, " ");
            else fputs("(incomplete)", f);
            fputs("</td><td>", f);
            num(f, nf->complete ? nf->inner_mean : NAN);
            fputs("</td><td>", f);
            num(f, nf->complete ? nf->score : NAN);
            fputs("</td></tr>\n", f);
            if (nf->complete && sc) sc[ns++] = nf->score;
        }
        fputs("</table>\n<p class=\"note\">", f);
        if (ns) {
            fprintf(f, "Nested estimate of %s over %zu of %zu outer folds: ", wb_metric_name(u->metric), ns, p->k);
            mean_sd(f, wb_stats_mean(sc, ns), ns > 1 ? wb_stats_sd(sc, ns) : NAN);
            fputs(" (unbiased by the choice, unlike the best row's mean above).", f);
        } else {
            fputs("No outer fold is complete yet.", f);
        }
        fputs("</p>\n", f);
        free(sc);
    }
    fputs("<h3>Search configuration</h3>\n<table>", f);
    fputs("<tr><td class=\"l\">fixed part</td><td class=\"l\"><code>", f);
    for (size_t i = 0; i < p->nargs; i++) {
        if (i) fputc(' ', f);
        txt(f, p->args[i]);
    }
    fputs("</code></td></tr>\n", f);
    for (size_t j = 0; j < p->nparams; j++) {
        fputs("<tr><td class=\"l\">--param</td><td class=\"l\"><code>", f);
        txt(f, p->params[j].name);
        fputc('=', f);
        txt(f, p->params[j].spec);
        fputs("</code></td></tr>\n", f);
    }
    fprintf(f,
            "<tr><td class=\"l\">seed, threads</td><td class=\"l\">%" PRIu64 ", %zu</td></tr>\n"
            "<tr><td class=\"l\">refit</td><td class=\"l\">%s</td></tr>\n"
            "<tr><td class=\"l\">plan id</td><td class=\"l\"><code>%016" PRIx64 "</code></td></tr>\n</table>\n",
            p->seed, p->threads, p->refit ? "yes (RUN_DIR/best.wbm)" : "no", p->id);
}

int wb_report_write(const wb_report *r, FILE *f, wb_err *e) {
    const char *title = r->o.title ? r->o.title : "wordbench report";
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/>\n<title>", f);
    txt(f, title);
    fprintf(f, "</title>\n<style>%s</style>\n</head><body>\n<h1>", css);
    txt(f, title);
    fputs("</h1>\n<nav>", f);
    /* in the page's order: search runs first */
    for (size_t i = 0; i < r->nrun; i++) {
        fprintf(f, "<a href=\"#r%zu\">search ", i);
        txt(f, r->run[i].dir);
        fputs("</a>", f);
    }
    for (size_t i = 0; i < r->n; i++) {
        fprintf(f, "<a href=\"#m%zu\">", i);
        txt(f, r->m[i].name);
        fputs("</a>", f);
    }
    fputs("</nav>\n", f);
    for (size_t i = 0; i < r->nrun; i++) run_section(f, &r->run[i], i);
    compare_table(f, r);
    curves(f, r);
    for (size_t i = 0; i < r->n; i++) {
        const rmodel *m = &r->m[i];
        fprintf(f, "<h2 id=\"m%zu\">", i);
        txt(f, m->name);
        fprintf(f, " <small>(%s, %s)</small></h2>\n", wb_model_kind_name(wb_model_cfg_get(m->b->model)->kind),
                wb_task_name(m->task));
        if (m->data) {
            fputs("<h3>Figures on ", f);
            txt(f, m->data_path ? m->data_path : "the data");
            fputs("</h3>\n<div class=\"charts\"><div>", f);
            metrics_rows(f, m);
            fputs("</div><div>", f);
            confusion(f, r, m);
            fputs("</div></div>\n<h3>Per class</h3>\n", f);
            per_class(f, m);
            fputs("<h3>Most confident errors</h3>\n", f);
            errors(f, m);
        } else {
            fputs("<p class=\"note\">No labelled data given (--data FILE): figures, confusion and errors are left out.</p>\n",
                  f);
        }
        fputs("<h3>Configuration</h3>\n", f);
        configuration(f, m);
    }
    fputs("<footer>", f);
    if (r->o.generator) {
        txt(f, r->o.generator);
        fputs(" \xE2\x80\x94 ", f);
    }
    fputs("a self-contained page: inline CSS and SVG, no scripts.</footer>\n</body></html>\n", f);
    if (ferror(f)) return wb_err_set(e, EIO, "writing the report failed");
    return 0;
}
