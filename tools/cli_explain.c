/*
 * cli_explain.c — `wordbench explain`: for every line of text (a model of
 * several text columns or numeric features: every CSV record, each input's
 * spans labelled by its column, then the features), the
 * predicted label(s) and the n-grams (or tokens) that decided, as a list
 * and as the text with a colour highlight on a terminal or [+ +] / [- -]
 * markers otherwise; --per-sentence scores each sentence on its own and
 * marks those that belong to a target label; --json prints one object per
 * line.  The work is the library's (wordbench/explain.h).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cblas.h>

#include "cli.h"
#include "cli_explain.h"
#include "cli_model.h"
#include "cli_train.h"
#include "wordbench/eval.h"
#include "wordbench/explain.h"

static const cli_opt explain_opts[] = {
    {"store", 's', "STORE", NULL, "the store the model was trained with (default: the recorded path)", 0},
    {"label", 'l', "NAME", NULL, "explain this label instead of the prediction", 0},
    {"top", 'n', "N", "5", "n-grams listed for and against the label", 0},
    {"per-sentence", 0, NULL, NULL, "score every sentence on its own; mark those predicted as the target", 0},
    {"document", 0, NULL, NULL, "the whole input is one text (not one text per line)", 0},
    {"target", 0, "NAME", NULL, "the label --per-sentence looks for (default: the text's predicted label)", 0},
    {"threshold", 0, "T", NULL, "binary and multi-label: a label is predicted when its probability >= T (default: the model's, 0.5 unless tuned)", 0},
    {"color", 0, "WHEN", "auto", "auto|always|never: colour highlights (auto: stdout is a terminal, NO_COLOR unset)", 0},
    {"threads", 0, "N", "1", "OpenBLAS threads", 0},
    CLI_MAX_MEMORY_OPT,
    {"json", 0, NULL, NULL, "one JSON object per line of input", 0},
    {"quiet", 'q', NULL, NULL, "accepted for symmetry", 0},
    {"help", 'h', NULL, NULL, "show this help", 0},
    {0}};

typedef struct xctx {
    cli *c;
    wb_bundle *b;
    size_t top;
    int color;
    float th;
    int32_t label;   /* -1: the prediction */
    int32_t target;  /* per-sentence: -1 = each text's predicted label */
} xctx;

static const char *label_name(const wb_bundle *b, uint32_t l) { return b->labels[l]; }

/* The predicted labels of one probability row: binary the one decision,
 * multiclass the best, multilabel those at >= th (the best when none). */
static size_t predicted(const wb_bundle *b, const float *p, float th, uint32_t *out, size_t cap) {
    const wb_model_cfg *mc = wb_model_cfg_get(b->model);
    if (mc->task == WB_TASK_BINARY) {
        out[0] = p[0] >= th;
        return 1;
    }
    size_t n = 0;
    uint32_t top;
    wb_topk(p, mc->C, 1, &top);
    if (mc->task == WB_TASK_MULTILABEL)
        for (size_t c = 0; c < mc->C && n < cap; c++)
            if (p[c] >= th) out[n++] = (uint32_t)c;
    if (!n) out[n++] = top;
    /* best first */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && p[out[j]] > p[out[j - 1]]; j--) {
            uint32_t t = out[j];
            out[j] = out[j - 1], out[j - 1] = t;
        }
    return n;
}

static double prob_of(const wb_bundle *b, const float *p, uint32_t l) {
    return wb_model_cfg_get(b->model)->task == WB_TASK_BINARY ? (l ? p[0] : 1.0 - p[0]) : p[l];
}

/* ---- text output --------------------------------------------------------------- */

static void put_token(const wb_expl_text *x, size_t i, FILE *f) {
    size_t n = x->tokoff[i + 1] - x->tokoff[i];
    const char *t = x->tok + x->tokoff[i];
    if (!n) {
        fputs("\xC2\xB7", f); /* a character outside the alphabet: · */
        return;
    }
    for (size_t k = 0; k < n; k++) fputc(t[k] == '\n' || t[k] == '\t' || t[k] == '\r' ? ' ' : t[k], f);
}

static void put_span_text(const wb_expl_text *x, const wb_expl_span *s, FILE *f) {
    for (size_t t = s->tok; t < s->tok + s->ntok; t++) {
        if (t > s->tok && !x->chars) fputc(' ', f);
        put_token(x, t, f);
    }
}

/* The listed spans: the `top` best for the label, the `top` worst. */
static void listed(const wb_expl_text *x, size_t top, size_t *npos, size_t *nneg) {
    size_t p = 0, n = 0;
    while (p < top && p < x->nspans && x->spans[p].score > 0) p++;
    while (n < top && n < x->nspans - p && x->spans[x->nspans - 1 - n].score < 0) n++;
    *npos = p, *nneg = n;
}

/* 256-colour backgrounds, light to strong: green for, red against. */
static const int greens[4] = {194, 157, 120, 83}, reds[4] = {224, 217, 210, 203};

static void put_text(const xctx *xc, const wb_expl_text *x, FILE *f) {
    size_t np, nn;
    listed(x, xc->top, &np, &nn);
    if (xc->color) {
        double mx = 0;
        for (size_t i = 0; i < x->ntok; i++) mx = fabs(x->tok_score[i]) > mx ? fabs(x->tok_score[i]) : mx;
        for (size_t i = 0; i < x->ntok; i++) {
            if (i && !x->chars) fputc(' ', f);
            double s = mx > 0 ? x->tok_score[i] / mx : 0;
            int lvl = fabs(s) >= 0.75 ? 3 : fabs(s) >= 0.5 ? 2 : fabs(s) >= 0.25 ? 1 : fabs(s) >= 0.1 ? 0 : -1;
            if (lvl >= 0) fprintf(f, "\033[30;48;5;%dm", s > 0 ? greens[lvl] : reds[lvl]);
            put_token(x, i, f);
            if (lvl >= 0) fputs("\033[0m", f);
        }
        return;
    }
    /* plain: tokens of the listed spans for the label in [+ +], against in [- -] */
    signed char *mark = calloc(x->ntok ? x->ntok : 1, 1);
    if (!mark) return;
    for (size_t i = 0; i < nn; i++) {
        const wb_expl_span *s = &x->spans[x->nspans - 1 - i];
        memset(mark + s->tok, -1, s->ntok);
    }
    for (size_t i = 0; i < np; i++) memset(mark + x->spans[i].tok, 1, x->spans[i].ntok);
    for (size_t i = 0; i < x->ntok; i++) {
        if (i && !x->chars) fputc(' ', f);
        if (mark[i] && (!i || mark[i - 1] != mark[i])) fputs(mark[i] > 0 ? "[+" : "[-", f);
        put_token(x, i, f);
        if (mark[i] && (i + 1 == x->ntok || mark[i + 1] != mark[i])) fputs(mark[i] > 0 ? "+]" : "-]", f);
    }
    free(mark);
}

/* One text input: its spans for and against, then its text. */
static void print_input(const xctx *xc, const wb_expl_text *x) {
    size_t np, nn;
    listed(x, xc->top, &np, &nn);
    for (size_t i = 0; i < np + nn; i++) {
        const wb_expl_span *s = i < np ? &x->spans[i] : &x->spans[x->nspans - 1 - (i - np)];
        printf("  %+8.4f  ", s->score);
        put_span_text(x, s, stdout);
        putchar('\n');
    }
    fputs("  text: ", stdout);
    if (x->skipped) printf("(%zu tokens cut) ", x->skipped);
    put_text(xc, x, stdout);
    if (x->total_tokens > x->skipped + x->ntok) printf(" (%zu tokens cut)", x->total_tokens - x->skipped - x->ntok);
    putchar('\n');
}

static void print_text(const xctx *xc, long long line, const float *p, const wb_explanation *x) {
    const wb_bundle *b = xc->b;
    uint32_t pl[64];
    size_t n = predicted(b, p, xc->th, pl, 64);
    printf("line %lld\t", line);
    for (size_t i = 0; i < n; i++) printf("%s%s %.4f", i ? ", " : "", label_name(b, pl[i]), prob_of(b, p, pl[i]));
    if (xc->label >= 0 || n > 1) printf("\t(explaining %s %.4f)", label_name(b, x->label), x->label_prob);
    putchar('\n');
    for (size_t k = 0; k < x->ninputs; k++) {
        if (x->in[k].name) printf("  [%s]  (sum %+.4f)\n", x->in[k].name, x->in[k].sum);
        print_input(xc, &x->in[k]);
    }
    if (x->nfeat) {
        size_t ord[WB_BUNDLE_MAX_COLS];
        wb_expl_feat_rank(x, ord);
        printf("  [features]\n");
        for (size_t i = 0; i < x->nfeat; i++)
            printf("  %+8.4f  %s = %.6g\n", x->feat[ord[i]].score, x->feat[ord[i]].name, x->feat[ord[i]].value);
    }
}

/* ---- JSON ------------------------------------------------------------------------ */

static void json_span(const wb_expl_text *x, const wb_expl_span *s) {
    printf("{\"start\": %zu, \"len\": %zu, \"text\": ", s->tok, s->ntok);
    size_t a = x->tokoff[s->tok], z = x->tokoff[s->tok + s->ntok];
    if (x->chars) {
        json_str(stdout, x->tok + a, z - a);
    } else { /* tokens joined by spaces */
        char *t = malloc(z - a + s->ntok + 1);
        size_t k = 0;
        for (size_t i = s->tok; t && i < s->tok + s->ntok; i++) {
            if (i > s->tok) t[k++] = ' ';
            memcpy(t + k, x->tok + x->tokoff[i], x->tokoff[i + 1] - x->tokoff[i]);
            k += x->tokoff[i + 1] - x->tokoff[i];
        }
        json_str(stdout, t ? t : "", k);
        free(t);
    }
    printf(", \"score\": ");
    json_num(stdout, s->score);
    putchar('}');
}

/* "spans", "against" (and "total_tokens", "skipped", "tokens") of x. */
static void json_spans(const xctx *xc, const wb_expl_text *x, int with_tokens) {
    size_t np, nn;
    listed(x, xc->top, &np, &nn);
    printf("\"spans\": [");
    for (size_t i = 0; i < np; i++) {
        if (i) printf(", ");
        json_span(x, &x->spans[i]);
    }
    printf("], \"against\": [");
    for (size_t i = 0; i < nn; i++) {
        if (i) printf(", ");
        json_span(x, &x->spans[x->nspans - 1 - i]);
    }
    printf("]");
    if (with_tokens) {
        printf(", \"total_tokens\": %zu, \"skipped\": %zu, \"tokens\": [", x->total_tokens, x->skipped);
        for (size_t i = 0; i < x->ntok; i++) {
            printf("%s[", i ? ", " : "");
            json_str(stdout, x->tok + x->tokoff[i], x->tokoff[i + 1] - x->tokoff[i]);
            printf(", ");
            json_num(stdout, x->tok_score[i]);
            putchar(']');
        }
        putchar(']');
    }
}

/* "label", "prob", "predicted", "sum", then one text's "spans", "against",
 * "tokens"; a record's (records = 1) "inputs" (one object per text input:
 * "column", "sum", its spans) and "features". */
static void json_explanation(const xctx *xc, const wb_explanation *x, int with_tokens, int records) {
    printf("{\"label\": ");
    json_str(stdout, label_name(xc->b, x->label), xc->b->label_len[x->label]);
    printf(", \"prob\": ");
    json_num(stdout, x->label_prob);
    printf(", \"predicted\": %s, \"sum\": ", x->predicted ? "true" : "false");
    json_num(stdout, x->sum);
    printf(", ");
    if (!records) {
        json_spans(xc, &x->in[0], with_tokens);
        putchar('}');
        return;
    }
    printf("\"inputs\": [");
    for (size_t k = 0; k < x->ninputs; k++) {
        printf("%s{\"column\": ", k ? ", " : "");
        if (x->in[k].name) json_str(stdout, x->in[k].name, strlen(x->in[k].name));
        else printf("null");
        printf(", \"sum\": ");
        json_num(stdout, x->in[k].sum);
        printf(", ");
        json_spans(xc, &x->in[k], with_tokens);
        putchar('}');
    }
    printf("], \"features\": [");
    for (size_t j = 0; j < x->nfeat; j++) {
        printf("%s{\"column\": ", j ? ", " : "");
        json_str(stdout, x->feat[j].name, strlen(x->feat[j].name));
        printf(", \"value\": ");
        json_num(stdout, x->feat[j].value);
        printf(", \"score\": ");
        json_num(stdout, x->feat[j].score);
        putchar('}');
    }
    printf("]}");
}

static void json_labels(const xctx *xc, const float *p) {
    uint32_t pl[64];
    size_t n = predicted(xc->b, p, xc->th, pl, 64);
    printf("\"labels\": [");
    for (size_t i = 0; i < n; i++) {
        printf("%s{\"label\": ", i ? ", " : "");
        json_str(stdout, label_name(xc->b, pl[i]), xc->b->label_len[pl[i]]);
        printf(", \"prob\": ");
        json_num(stdout, prob_of(xc->b, p, pl[i]));
        putchar('}');
    }
    putchar(']');
}

/* ---- one line --------------------------------------------------------------------- */

/* Whether the target is among the predicted labels of p. */
static int is_target(const xctx *xc, const float *p, uint32_t target) {
    uint32_t pl[64];
    size_t n = predicted(xc->b, p, xc->th, pl, 64);
    for (size_t i = 0; i < n; i++)
        if (pl[i] == target) return 1;
    return 0;
}

static int per_sentence(const xctx *xc, long long line, const char *text, size_t len, const wb_explanation *whole,
                        wb_err *e) {
    uint32_t target = xc->target >= 0 ? (uint32_t)xc->target : whole->label;
    size_t ns = wb_sentences(text, len, NULL, 0);
    wb_range *r = malloc((ns ? ns : 1) * sizeof *r);
    wb_explanation *sx = calloc(ns ? ns : 1, sizeof *sx);
    int rc = 0;
    if (!r || !sx) rc = wb_err_set(e, WB_ENOMEM, "out of memory");
    if (!rc) wb_sentences(text, len, r, ns);
    size_t hits = 0;
    for (size_t i = 0; !rc && i < ns; i++) {
        rc = wb_explain_text(xc->b, text + r[i].start, r[i].end - r[i].start, (int32_t)target, xc->th, &sx[i], e);
        if (!rc) hits += is_target(xc, sx[i].prob, target);
    }
    if (!rc && xc->c->json) {
        printf("{\"line\": %lld, ", line);
        json_labels(xc, whole->prob);
        printf(", \"explained\": ");
        json_explanation(xc, whole, 0, 0);
        printf(", \"target\": ");
        json_str(stdout, label_name(xc->b, target), xc->b->label_len[target]);
        printf(", \"target_sentences\": %zu, \"sentences\": [", hits);
        for (size_t i = 0; i < ns; i++) {
            printf("%s{\"start\": %zu, \"end\": %zu, \"text\": ", i ? ", " : "", r[i].start, r[i].end);
            json_str(stdout, text + r[i].start, r[i].end - r[i].start);
            printf(", \"target\": %s, ", is_target(xc, sx[i].prob, target) ? "true" : "false");
            json_labels(xc, sx[i].prob);
            printf(", \"explained\": ");
            json_explanation(xc, &sx[i], 0, 0);
            putchar('}');
        }
        printf("]}\n");
    } else if (!rc) {
        uint32_t pl[64];
        size_t n = predicted(xc->b, whole->prob, xc->th, pl, 64);
        printf("line %lld\t", line);
        for (size_t i = 0; i < n; i++)
            printf("%s%s %.4f", i ? ", " : "", label_name(xc->b, pl[i]), prob_of(xc->b, whole->prob, pl[i]));
        printf("\ttarget %s: %zu of %zu sentences\n", label_name(xc->b, target), hits, ns);
        for (size_t i = 0; i < ns; i++) {
            int t = is_target(xc, sx[i].prob, target);
            if (xc->color && t) printf("\033[1;30;48;5;%dm>\033[0m", greens[2]);
            else putchar(t ? '>' : ' ');
            printf(" %.4f  ", sx[i].label_prob);
            if (t && xc->color) {
                put_text(xc, &sx[i].in[0], stdout);
            } else {
                for (size_t k = r[i].start; k < r[i].end; k++) {
                    char ch = text[k];
                    putchar(ch == '\n' || ch == '\t' || ch == '\r' ? ' ' : ch);
                }
            }
            putchar('\n');
        }
    }
    for (size_t i = 0; i < ns && sx; i++) wb_explanation_free(&sx[i]);
    free(sx), free(r);
    return rc;
}

/* Print explanation x of line `line` (records: of a CSV record). */
static void print_explanation(const xctx *xc, long long line, const wb_explanation *x, int records) {
    if (xc->c->json) {
        printf("{\"line\": %lld, ", line);
        json_labels(xc, x->prob);
        printf(", \"explained\": ");
        json_explanation(xc, x, 1, records);
        printf("}\n");
    } else {
        print_text(xc, line, x->prob, x);
    }
}

static int explain_line(const xctx *xc, long long line, const char *text, size_t len, wb_err *e) {
    wb_explanation x;
    int rc = wb_explain_text(xc->b, text, len, xc->label, xc->th, &x, e);
    if (rc) return rc;
    if (cli_flag(xc->c, "per-sentence")) rc = per_sentence(xc, line, text, len, &x, e);
    else print_explanation(xc, line, &x, 0);
    wb_explanation_free(&x);
    return rc;
}

/* A model of several text columns or numeric features: one CSV record. */
typedef struct rctx {
    const xctx *xc;
    const char *in;            /* input name for messages */
    wb_err *e;
} rctx;

static int explain_record(void *ud, const wb_example *ex) {
    rctx *r = ud;
    wb_explanation x;
    int rc = wb_explain_record(r->xc->b, ex, r->in, r->xc->label, r->xc->th, &x, r->e);
    if (rc) {
        if (!r->e->file[0]) { /* a tokenizer's or the model's error: name the record */
            char msg[sizeof r->e->msg];
            snprintf(msg, sizeof msg, "%s", r->e->msg); /* never format e->msg into itself */
            wb_err_at(r->e, rc, r->in, ex->line, -1, "%s", msg);
        }
        return rc;
    }
    print_explanation(r->xc, ex->line, &x, 1);
    wb_explanation_free(&x);
    return 0;
}

/* Read the records of `in` as predict does (the model's columns, CSV). */
static int explain_records(const xctx *xc, const char *in) {
    wb_err e;
    wb_err_clear(&e);
    wb_reader_opts ro = xc->b->reader;
    ro.format = WB_READER_CSV;
    ro.unlabelled = 1;
    ro.skip_bad = 0;
    ro.label_sep = NULL;
    rctx r = {xc, strcmp(in, "-") ? in : "<stdin>", &e};
    int rc = wb_reader_read(in, &ro, explain_record, &r, NULL, &e);
    return rc ? cli_fail(&e, rc) : 0;
}

static int label_arg(cli *c, const wb_bundle *b, const char *opt, int32_t *out) {
    const char *v = cli_str(c, opt);
    *out = -1;
    if (!v) return 0;
    int64_t id = wb_bundle_label(b, v, strlen(v));
    if (id < 0) return cli_usage(c, "--%s %s: the model has no such label", opt, v);
    *out = (int32_t)id;
    return 0;
}

static int run_explain(cli *c) {
    uint64_t top, thr;
    float th = 0.5f;
    if (cli_u64(c, "top", 1, 1000, &top) || cli_u64(c, "threads", 1, 256, &thr) ||
        cli_f32(c, "threshold", 0, 1, &th))
        return EXIT_USAGE;
    int color = cli_choice(c, "color", "auto|always|never");
    if (color < 0) return EXIT_USAGE;
    if (cli_given(c, "target") && !cli_flag(c, "per-sentence")) return cli_usage(c, "--target goes with --per-sentence");
    if (color == 0) {
        const char *nc = getenv("NO_COLOR");
        color = isatty(1) && !(nc && *nc) && !c->json;
    } else {
        color = color == 1;
    }
    openblas_set_num_threads((int)thr);
    const char *in = c->argc > 1 ? c->argv[1] : "-";
    wb_bundle *b;
    int rc = cli_load_bundle(c, c->argv[0], 1, &b);
    if (rc) return rc;
    int records = wb_bundle_reads_records(b); /* several columns or features: CSV records, as predict reads them */
    if (records && (cli_flag(c, "per-sentence") || cli_flag(c, "document"))) {
        wb_bundle_destroy(b);
        return cli_usage(c, "%s reads CSV records (several text columns or numeric features): --per-sentence and "
                            "--document are for models of one text",
                         c->argv[0]);
    }
    if (!cli_given(c, "threshold")) th = b->threshold; /* train --tune-threshold's, else 0.5 */
    xctx xc = {c, b, top, color, th, -1, -1};
    if ((rc = label_arg(c, b, "label", &xc.label)) || (rc = label_arg(c, b, "target", &xc.target))) {
        wb_bundle_destroy(b);
        return rc;
    }
    if (records) {
        rc = explain_records(&xc, in);
        wb_bundle_destroy(b);
        return rc;
    }
    FILE *f = strcmp(in, "-") ? fopen(in, "r") : stdin;
    if (!f) {
        cli_warn("%s: %s", in, strerror(errno));
        wb_bundle_destroy(b);
        return EXIT_FAIL;
    }
    char *line = NULL;
    size_t cap = 0;
    long long ln = 0;
    wb_err e;
    wb_err_clear(&e);
    ssize_t n;
    if (cli_flag(c, "document")) { /* one text: the whole input */
        size_t len = 0;
        for (;;) {
            if (len + 65536 > cap) {
                char *g = realloc(line, cap = 2 * cap + 65536);
                if (!g) {
                    rc = cli_fail(&e, wb_err_set(&e, WB_ENOMEM, "out of memory"));
                    break;
                }
                line = g;
            }
            size_t got = fread(line + len, 1, cap - len, f);
            if (!got) break;
            len += got;
        }
        if (!rc && !ferror(f)) {
            int lrc = explain_line(&xc, 1, line ? line : "", len, &e);
            if (lrc) rc = cli_fail(&e, lrc);
        }
    }
    while (!rc && !cli_flag(c, "document") && (n = getline(&line, &cap, f)) >= 0) {
        ln++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) n--;
        int lrc = explain_line(&xc, ln, line, (size_t)n, &e);
        if (lrc) {
            wb_err_at(&e, lrc, in, ln, -1, "%s", e.msg);
            rc = cli_fail(&e, lrc);
            break;
        }
    }
    if (!rc && ferror(f)) {
        cli_warn("%s: read error", in);
        rc = EXIT_FAIL;
    }
    free(line);
    if (f != stdin) fclose(f);
    wb_bundle_destroy(b);
    return rc;
}

const cli_cmd cmd_explain = {"explain", "[options] MODEL [FILE|-]",
                             "The n-grams that decided each line's prediction; --per-sentence for long documents.",
                             explain_opts, 1, 2, run_explain};
