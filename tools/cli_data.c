/*
 * cli_data.c — `wordbench data stats|show FILE`: a labelled data set as the
 * model will see it.  Reads with the reader module, tokenizes, builds the
 * vocabulary (vocab module) and prints statistics (rows, labels, tokens per
 * row, vocabulary, coverage against a store) or the processed rows.
 *
 * Leaves out: splits and the dataset cache (the vocabulary is built from the
 * whole FILE here; training builds it from the training split only).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "wordbench/reader.h"
#include "wordbench/store.h"
#include "wordbench/tokenize.h"
#include "wordbench/vocab.h"

static const cli_opt data_opts[] = {
    {"format", 'f', "FMT", "auto", "input format: auto|tsv|fasttext|csv", 0},
    {"text-col", 0, "NAME", "text", "CSV text column (several: kept separate)", 1},
    {"label-col", 0, "NAME", "label", "CSV label column", 0},
    {"label-sep", 0, "SEP", NULL, "split the label field at these bytes (e.g. ' ' for tag lists)", 0},
    {"label-prefix", 0, "P", "__label__", "fastText label prefix", 0},
    {"skip-bad", 0, NULL, NULL, "skip records with a per-record error instead of failing", 0},
    {"tokenizer", 't', "KIND", "keras", "keras|fasttext|unicode|char", 0},
    {"no-lower", 0, NULL, NULL, "keep case", 0},
    {"max-doc-chars", 0, "N", "0", "use only the first N characters of each text (0 = all)", 0},
    {"strip-html", 0, NULL, NULL, "remove HTML tags and decode entities", 0},
    {"num-words", 0, "N", "0", "keep word ids < N, as Keras' Tokenizer(num_words=N, oov_token) (0 = all)", 0},
    {"min-count", 0, "N", "1", "drop words seen fewer than N times", 0},
    {"maxlen", 0, "N", "0", "show: pad or truncate each text to N tokens (0 = as is)", 0},
    {"padding", 0, "SIDE", "post", "show: pre|post", 0},
    {"truncating", 0, "SIDE", "post", "show: pre|post", 0},
    {"head", 'n', "N", "0", "show: only the first N rows (0 = all)", 0},
    {"store", 's', "STORE", NULL, "stats: coverage of the vocabulary by this store", 0},
    {"top", 0, "N", "20", "stats: labels and uncovered words listed", 0},
    {"quiet", 'q', NULL, NULL, "accepted for symmetry (data prints no progress)", 0},
    {"json", 0, NULL, NULL, "stats: one JSON document", 0},
    {"help", 'h', NULL, NULL, "show this help", 0},
    {0}};

typedef struct label_count {
    char *name;       /* owned, NUL-terminated */
    size_t len;
    uint64_t count;
} label_count;

typedef struct dctx {
    cli *c;
    int show;                  /* 1 = show, 0 = stats */
    wb_tokenize_opts to;
    wb_token_list tl;
    wb_vocab *v;
    /* stats */
    uint64_t rows, tokens;
    uint32_t *per_row;         /* tokens per row */
    size_t nrow_cap;
    label_count *labels;
    size_t nlabels, labels_cap;
    /* show */
    uint64_t head, shown;
    size_t maxlen;
    wb_pad_side padding, truncating;
    int32_t *seq;
    size_t seq_cap;
    int rc;                    /* first library error inside a callback */
    wb_err err;
} dctx;

static int count_label(dctx *d, const wb_span *s) {
    for (size_t i = 0; i < d->nlabels; i++)
        if (d->labels[i].len == s->len && !memcmp(d->labels[i].name, s->ptr, s->len)) return d->labels[i].count++, 0;
    if (d->nlabels == d->labels_cap) {
        size_t cap = d->labels_cap ? d->labels_cap * 2 : 64;
        label_count *l = realloc(d->labels, cap * sizeof *l);
        if (!l) return WB_ENOMEM;
        d->labels = l, d->labels_cap = cap;
    }
    char *n = malloc(s->len + 1);
    if (!n) return WB_ENOMEM;
    memcpy(n, s->ptr, s->len);
    n[s->len] = 0;
    d->labels[d->nlabels++] = (label_count){n, s->len, 1};
    return 0;
}

/* Pass 1: tokens into the vocabulary; counts for stats. */
static int on_count(void *ud, const wb_example *ex) {
    dctx *d = ud;
    size_t n = 0;
    for (size_t t = 0; t < ex->n_texts; t++) {
        if ((d->rc = wb_tokenize(&d->to, ex->texts[t].ptr, ex->texts[t].len, &d->tl, &d->err))) return 1;
        if ((d->rc = wb_vocab_add(d->v, &d->tl, &d->err))) return 1;
        n += d->tl.n;
    }
    if (d->rows == d->nrow_cap) {
        size_t cap = d->nrow_cap ? d->nrow_cap * 2 : 4096;
        uint32_t *p = realloc(d->per_row, cap * sizeof *p);
        if (!p) return d->rc = WB_ENOMEM, 1;
        d->per_row = p, d->nrow_cap = cap;
    }
    d->per_row[d->rows++] = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
    d->tokens += n;
    for (size_t l = 0; l < ex->n_labels; l++)
        if ((d->rc = count_label(d, &ex->labels[l]))) return 1;
    return 0;
}

/* Pass 2 (show): one line per row, "labels<TAB>tokens" as the model sees them. */
static int on_show(void *ud, const wb_example *ex) {
    dctx *d = ud;
    if (d->head && d->shown >= d->head) return 2; /* enough: stop reading */
    for (size_t l = 0; l < ex->n_labels; l++)
        printf("%s%.*s", l ? "," : "", (int)ex->labels[l].len, ex->labels[l].ptr);
    putchar('\t');
    for (size_t t = 0; t < ex->n_texts; t++) {
        if ((d->rc = wb_tokenize(&d->to, ex->texts[t].ptr, ex->texts[t].len, &d->tl, &d->err))) return 1;
        size_t L = d->maxlen ? d->maxlen : d->tl.n;
        if (L > d->seq_cap) {
            int32_t *s = realloc(d->seq, L * sizeof *s);
            if (!s) return d->rc = WB_ENOMEM, 1;
            d->seq = s, d->seq_cap = L;
        }
        size_t n_oov, n_tok;
        if (L && (d->rc = wb_vocab_encode(d->v, &d->tl, L, d->padding, d->truncating, d->seq, &n_oov, &n_tok)))
            return 1;
        if (t) fputs(" |", stdout);
        int first = !t;
        for (size_t i = 0; i < L; i++) {
            if (d->seq[i] == 0) continue; /* padding is not shown */
            size_t wl = 5;
            const char *w = d->seq[i] == 1 ? "<oov>" : wb_vocab_word(d->v, d->seq[i], &wl, NULL);
            printf("%s%.*s", first ? "" : " ", (int)wl, w);
            first = 0;
        }
    }
    putchar('\n');
    d->shown++;
    return 0;
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static int cmp_label(const void *a, const void *b) {
    const label_count *x = a, *y = b;
    if (x->count != y->count) return x->count < y->count ? 1 : -1;
    return strcmp(x->name, y->name);
}

static uint32_t pct(const uint32_t *sorted, uint64_t n, double p) {
    if (!n) return 0;
    uint64_t i = (uint64_t)(p / 100.0 * (double)(n - 1) + 0.5);
    return sorted[i < n ? i : n - 1];
}

static int print_stats(dctx *d, const wb_read_stats *rs, const char *store_path, uint64_t top) {
    cli *c = d->c;
    qsort(d->per_row, d->rows, sizeof *d->per_row, cmp_u32);
    qsort(d->labels, d->nlabels, sizeof *d->labels, cmp_label);
    double types = 0, toks = 0;
    int32_t *unc = NULL;
    size_t nunc = 0;
    if (store_path) {
        wb_store *st;
        wb_err e;
        wb_err_clear(&e);
        int rc = wb_store_open(&st, store_path, &e);
        if (rc) return cli_fail(&e, rc);
        unc = malloc((top ? top : 1) * sizeof *unc);
        rc = wb_vocab_coverage(d->v, st, &types, &toks, top, unc, &nunc, &e);
        wb_store_close(st);
        if (rc) {
            free(unc);
            return cli_fail(&e, rc);
        }
    }
    const uint64_t n = d->rows;
    const double mean = n ? (double)d->tokens / (double)n : 0;
    const uint32_t p[5] = {pct(d->per_row, n, 50), pct(d->per_row, n, 90), pct(d->per_row, n, 95),
                           pct(d->per_row, n, 99), n ? d->per_row[n - 1] : 0};
    if (c->json) {
        printf("{\"rows\": %" PRIu64 ", \"format\": \"%s\", \"skipped\": %" PRIu64 ", \"invalid_utf8\": %" PRIu64
               ", \"tokens\": %" PRIu64 ", \"tokens_per_row\": {\"mean\": %.2f, \"p50\": %u, \"p90\": %u, \"p95\": %u, "
               "\"p99\": %u, \"max\": %u}, \"vocabulary\": %zu, \"kept\": %zu, \"labels\": {",
               n, wb_reader_format_name(rs->format), rs->skipped, rs->invalid_utf8, d->tokens, mean, p[0], p[1], p[2],
               p[3], p[4], wb_vocab_distinct(d->v), wb_vocab_size(d->v) - 2);
        for (size_t i = 0; i < d->nlabels; i++) {
            printf(i ? ", " : "");
            json_str(stdout, d->labels[i].name, d->labels[i].len);
            printf(": %" PRIu64, d->labels[i].count);
        }
        printf("}");
        if (store_path) {
            printf(", \"coverage\": {\"types\": %.6f, \"tokens\": %.6f, \"top_uncovered\": [", types, toks);
            for (size_t i = 0; i < nunc; i++) {
                size_t wl;
                uint64_t cnt;
                const char *w = wb_vocab_word(d->v, unc[i], &wl, &cnt);
                printf(i ? ", {\"word\": " : "{\"word\": ");
                json_str(stdout, w, wl);
                printf(", \"count\": %" PRIu64 "}", cnt);
            }
            printf("]}");
        }
        printf("}\n");
    } else {
        printf("rows            %" PRIu64 " (%s; %" PRIu64 " skipped, %" PRIu64 " invalid UTF-8 replaced)\n", n,
               wb_reader_format_name(rs->format), rs->skipped, rs->invalid_utf8);
        printf("labels          %zu distinct\n", d->nlabels);
        for (size_t i = 0; i < d->nlabels && i < top; i++)
            printf("  %-24s %8" PRIu64 "  %5.1f%%\n", d->labels[i].name, d->labels[i].count,
                   n ? 100.0 * (double)d->labels[i].count / (double)n : 0);
        if (d->nlabels > top) printf("  ... %zu more\n", d->nlabels - top);
        printf("tokens per row  mean %.1f, p50 %u, p90 %u, p95 %u, p99 %u, max %u (choose --maxlen)\n", mean, p[0],
               p[1], p[2], p[3], p[4]);
        printf("vocabulary      %zu distinct words, %zu kept (--num-words, --min-count)\n", wb_vocab_distinct(d->v),
               wb_vocab_size(d->v) - 2);
        if (store_path) {
            printf("coverage        %.1f%% of the vocabulary, %.1f%% of running tokens are in %s\n", 100 * types,
                   100 * toks, store_path);
            if (nunc) printf("most frequent uncovered:");
            for (size_t i = 0; i < nunc; i++) {
                size_t wl;
                uint64_t cnt;
                const char *w = wb_vocab_word(d->v, unc[i], &wl, &cnt);
                printf(" %.*s (%" PRIu64 ")", (int)wl, w, cnt);
            }
            if (nunc) putchar('\n');
        }
    }
    free(unc);
    return EXIT_OK;
}

/* Split a repeated option's '\n'-joined values into an array (in place). */
static size_t split_values(char *s, const char **out, size_t cap) {
    size_t n = 0;
    for (char *save, *t = strtok_r(s, "\n", &save); t && n < cap; t = strtok_r(NULL, "\n", &save)) out[n++] = t;
    return n;
}

static int run_data(cli *c) {
    const char *verb = c->argv[0];
    int show = !strcmp(verb, "show");
    if (!show && strcmp(verb, "stats")) return cli_usage(c, "unknown verb '%s' (expected stats or show)", verb);
    dctx d;
    memset(&d, 0, sizeof d);
    d.c = c;
    d.show = show;
    int fmt = cli_choice(c, "format", "auto|tsv|fasttext|csv");
    int tok = fmt < 0 ? 0 : cli_choice(c, "tokenizer", "keras|fasttext|unicode|char");
    int pad = tok < 0 ? 0 : cli_choice(c, "padding", "pre|post");
    int trunc = pad < 0 ? 0 : cli_choice(c, "truncating", "pre|post");
    if (fmt < 0 || tok < 0 || pad < 0 || trunc < 0) return EXIT_USAGE;
    uint64_t mdc, nw, mc, ml, head, top;
    if (cli_u64(c, "max-doc-chars", 0, UINT32_MAX, &mdc) || cli_u64(c, "num-words", 0, UINT32_MAX, &nw) ||
        cli_u64(c, "min-count", 1, UINT32_MAX, &mc) || cli_u64(c, "maxlen", 0, 1u << 24, &ml) ||
        cli_u64(c, "head", 0, UINT64_MAX >> 1, &head) || cli_u64(c, "top", 0, 100000, &top))
        return EXIT_USAGE;
    wb_tokenize_opts_init(&d.to, (wb_tok_kind)tok);
    if (cli_flag(c, "no-lower")) d.to.lower = 0;
    d.to.max_doc_chars = (size_t)mdc;
    d.to.strip_html = cli_flag(c, "strip-html");
    d.maxlen = (size_t)ml;
    d.head = head;
    d.padding = pad ? WB_PAD_POST : WB_PAD_PRE;
    d.truncating = trunc ? WB_PAD_POST : WB_PAD_PRE;

    wb_reader_opts ro;
    memset(&ro, 0, sizeof ro);
    static const wb_reader_format fmts[] = {WB_READER_AUTO, WB_READER_TSV, WB_READER_FASTTEXT, WB_READER_CSV};
    ro.format = fmts[fmt];
    ro.label_prefix = cli_str(c, "label-prefix");
    char *cols = strdup(cli_str(c, "text-col"));
    const char *textcols[64];
    ro.text_cols = textcols;
    ro.n_text_cols = split_values(cols, textcols, 64);
    ro.label_col = cli_str(c, "label-col");
    ro.label_sep = cli_str(c, "label-sep");
    ro.skip_bad = cli_flag(c, "skip-bad");

    int rc = EXIT_OK, lrc;
    wb_err e;
    wb_err_clear(&e);
    wb_err_clear(&d.err);
    wb_read_stats rs;
    wb_token_list_init(&d.tl);
    if ((lrc = wb_vocab_create(&d.v, &e))) {
        rc = cli_fail(&e, lrc);
        goto out;
    }
    /* Pass 1: vocabulary and counts. */
    lrc = wb_reader_read(c->argv[1], &ro, on_count, &d, &rs, &e);
    if (d.rc) lrc = d.rc, e = d.err;
    if (lrc) {
        rc = cli_fail(&e, lrc);
        goto out;
    }
    if ((lrc = wb_vocab_finish(d.v, nw, mc, &e))) {
        rc = cli_fail(&e, lrc);
        goto out;
    }
    if (!show) {
        rc = print_stats(&d, &rs, cli_str(c, "store"), top);
        goto out;
    }
    /* Pass 2: the rows as the model sees them. */
    lrc = wb_reader_read(c->argv[1], &ro, on_show, &d, &rs, &e);
    if (d.rc) lrc = d.rc, e = d.err;
    if (lrc && lrc != 2) rc = cli_fail(&e, lrc);
out:
    wb_token_list_free(&d.tl);
    wb_vocab_destroy(d.v);
    for (size_t i = 0; i < d.nlabels; i++) free(d.labels[i].name);
    free(d.labels);
    free(d.per_row);
    free(d.seq);
    free(cols);
    return rc;
}

const cli_cmd cmd_data = {"data", "stats|show [options] FILE",
                          "Look at a labelled data set: statistics, or each row as the model will see it.",
                          data_opts, 2, 2, run_data};
