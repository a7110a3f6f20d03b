/*
 * cli_data.c — `wordbench data stats|show FILE`: a labelled data set exactly
 * as training will see it.  Both verbs build the data set with the dataset
 * module (wb_dataset_build: reader, tokenizer, label table and task, splits
 * or --valid/--test files, vocabulary from the training split, the cache)
 * from the options training takes (cli_ds.h), then print statistics (rows,
 * splits, task, labels by id per split, tokens per row before truncation,
 * vocabulary, coverage against a store, feature columns, cache) or the rows.
 *
 * --maxlen 0 (the default here) means "as is": `stats` builds with maxlen 1
 * (nothing it prints depends on X), `show` re-reads the files and encodes
 * every selected text in full with the data set's vocabulary, mapping records
 * to rows as the dataset module does (training file, then valid, then test;
 * valid/test records with unknown labels dropped under --unknown-label skip).
 *
 * Leaves out: several text fields (the dataset uses the first --text-col).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_ds.h"
#include "wordbench/dataset.h"
#include "wordbench/store.h"
#include "wordbench/vocab.h"

static const cli_opt data_opts[] = {
    CLI_DATASET_OPTS("0", "pad or truncate each text to N tokens as training does (0 = as is; train: 100)"),
    {"split", 0, "PART", "all", "show: rows of train|test|valid|all", 0},
    {"head", 'n', "N", "0", "show: only the first N rows (0 = all)", 0},
    {"store", 's', "STORE", NULL, "stats: coverage of the vocabulary by this store", 0},
    CLI_OPT_VERIFY_ON_OPEN,
    {"top", 0, "N", "20", "stats: labels and uncovered words listed", 0},
    {"quiet", 'q', NULL, NULL, "no cache line or warnings on stderr", 0},
    {"json", 0, NULL, NULL, "stats: one JSON document", 0},
    {"help", 'h', NULL, NULL, "show this help", 0},
    {0}};

/* ---- stats ------------------------------------------------------------- */

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of n sorted values. */
static uint32_t pct(const uint32_t *sorted, size_t n, double p) {
    if (!n) return 0;
    size_t i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
    return sorted[i < n ? i : n - 1];
}

static void json_name(const wb_dataset *ds, uint32_t id) {
    size_t l;
    const char *s = wb_dataset_label_name(ds, id, &l);
    json_str(stdout, s, l);
}

static int print_stats(cli *c, const wb_dataset *ds, const wb_dataset_opts *o, const wb_dataset_stats *st,
                       size_t maxlen, const cli_ds_strings *s, const char *store_path, uint64_t top) {
    const size_t n = wb_dataset_n(ds);
    const uint8_t *sp = wb_dataset_split(ds);
    const uint32_t *len = wb_dataset_lengths(ds);
    const wb_vocab *v = wb_dataset_vocab(ds);
    const uint32_t nl = wb_dataset_nlabels(ds);
    const size_t *off;
    const uint32_t *ids;
    wb_dataset_labels(ds, &off, &ids);

    /* label counts per split, tokens per row, truncation */
    uint64_t *cnt = calloc((size_t)nl * 3 + 1, sizeof *cnt);
    uint32_t *sorted = malloc((n ? n : 1) * sizeof *sorted);
    if (!cnt || !sorted) {
        free(cnt);
        free(sorted);
        cli_warn("out of memory");
        return EXIT_FAIL;
    }
    uint64_t parts[3] = {0, 0, 0}, tokens = 0, trunc_rows = 0, trunc_tokens = 0;
    for (size_t i = 0; i < n; i++) {
        parts[sp[i]]++;
        for (size_t j = off[i]; j < off[i + 1]; j++) cnt[(size_t)ids[j] * 3 + sp[i]]++;
        sorted[i] = len[i];
        tokens += len[i];
        if (maxlen && len[i] > maxlen) trunc_rows++, trunc_tokens += len[i] - maxlen;
    }
    qsort(sorted, n, sizeof *sorted, cmp_u32);
    const double mean = n ? (double)tokens / (double)n : 0;
    const uint32_t p[5] = {pct(sorted, n, 50), pct(sorted, n, 90), pct(sorted, n, 95), pct(sorted, n, 99),
                           n ? sorted[n - 1] : 0};
    free(sorted);

    /* coverage */
    double types = 0, toks = 0;
    int32_t *unc = NULL;
    size_t nunc = 0;
    if (store_path) {
        wb_store *sto;
        wb_err e;
        wb_err_clear(&e);
        int rc = wb_store_open(&sto, store_path, &e);
        if (rc) {
            free(cnt);
            return cli_fail(&e, rc);
        }
        unc = malloc((top ? top : 1) * sizeof *unc);
        rc = unc ? wb_vocab_coverage(v, sto, &types, &toks, top, unc, &nunc, &e) : WB_ENOMEM;
        wb_store_close(sto);
        if (rc) {
            free(unc);
            free(cnt);
            return cli_fail(&e, rc);
        }
    }

    /* features: min, mean, max per column over all rows */
    size_t nf;
    const double *feat = wb_dataset_features(ds, &nf);
    const char *const *fnames = s->feature_cols;

    const size_t distinct = wb_dataset_vocab_distinct(ds), kept = wb_vocab_size(v) - 2;
    if (c->json) {
        printf("{\"rows\": %zu, \"format\": \"%s\", \"skipped\": %" PRIu64 ", \"invalid_utf8\": %" PRIu64
               ", \"skipped_unknown\": %" PRIu64 ", \"task\": \"%s\", \"splits\": {\"train\": %" PRIu64
               ", \"test\": %" PRIu64 ", \"valid\": %" PRIu64 "}, \"tokens\": %" PRIu64
               ", \"tokens_per_row\": {\"mean\": %.2f, \"p50\": %u, \"p90\": %u, \"p95\": %u, \"p99\": %u, "
               "\"max\": %u}, \"maxlen\": %zu, \"truncated_rows\": %" PRIu64 ", \"truncated_tokens\": %" PRIu64
               ", \"vocabulary\": %zu, \"kept\": %zu, \"labels\": {",
               n, wb_reader_format_name(st->format), st->skipped_bad, st->invalid_utf8, st->skipped_unknown,
               wb_task_name(wb_dataset_task(ds)), parts[WB_DS_TRAIN], parts[WB_DS_TEST], parts[WB_DS_VALID], tokens,
               mean, p[0], p[1], p[2], p[3], p[4], maxlen, trunc_rows, trunc_tokens, distinct, kept);
        for (uint32_t l = 0; l < nl; l++) {
            fputs(l ? ", " : "", stdout);
            json_name(ds, l);
            printf(": %" PRIu64, cnt[l * 3] + cnt[l * 3 + 1] + cnt[l * 3 + 2]);
        }
        printf("}, \"label_table\": [");
        for (uint32_t l = 0; l < nl; l++) {
            printf("%s{\"id\": %u, \"name\": ", l ? ", " : "", l);
            json_name(ds, l);
            printf(", \"train\": %" PRIu64 ", \"test\": %" PRIu64 ", \"valid\": %" PRIu64 "}", cnt[l * 3],
                   cnt[l * 3 + 1], cnt[l * 3 + 2]);
        }
        printf("], \"features\": [");
        for (size_t k = 0; k < nf; k++) {
            double lo = 0, hi = 0, sum = 0;
            for (size_t i = 0; i < n; i++) {
                double x = feat[i * nf + k];
                if (!i || x < lo) lo = x;
                if (!i || x > hi) hi = x;
                sum += x;
            }
            printf("%s{\"name\": ", k ? ", " : "");
            json_str(stdout, fnames[k], strlen(fnames[k]));
            printf(", \"count\": %zu, \"min\": ", n);
            json_num(stdout, lo);
            printf(", \"mean\": ");
            json_num(stdout, n ? sum / (double)n : 0);
            printf(", \"max\": ");
            json_num(stdout, hi);
            putchar('}');
        }
        printf("]");
        if (store_path) {
            printf(", \"coverage\": {\"types\": %.6f, \"tokens\": %.6f, \"top_uncovered\": [", types, toks);
            for (size_t i = 0; i < nunc; i++) {
                size_t wl;
                uint64_t wc;
                const char *w = wb_vocab_word(v, unc[i], &wl, &wc);
                printf(i ? ", {\"word\": " : "{\"word\": ");
                json_str(stdout, w, wl);
                printf(", \"count\": %" PRIu64 "}", wc);
            }
            printf("]}");
        }
        printf(", \"cache\": ");
        cli_ds_json_cache(stdout, o, st);
        printf("}\n");
    } else {
        printf("rows            %zu (%s; %" PRIu64 " skipped, %" PRIu64 " invalid UTF-8 replaced", n,
               wb_reader_format_name(st->format), st->skipped_bad, st->invalid_utf8);
        if (st->skipped_unknown) printf("; %" PRIu64 " with unknown labels skipped", st->skipped_unknown);
        printf(")\n");
        printf("splits          train %" PRIu64 ", test %" PRIu64 ", valid %" PRIu64 "\n", parts[WB_DS_TRAIN],
               parts[WB_DS_TEST], parts[WB_DS_VALID]);
        printf("task            %s%s\n", wb_task_name(wb_dataset_task(ds)),
               o->task == WB_TASK_AUTO ? " (detected; --task)" : "");
        printf("labels          %u distinct (ids in byte order of the names)\n", nl);
        printf("   id  %-24s %15s %15s %15s\n", "label", "train", "test", "valid");
        for (uint32_t l = 0; l < nl && l < top; l++) {
            size_t ln;
            const char *name = wb_dataset_label_name(ds, l, &ln);
            printf("%5u  %-24.*s", l, (int)ln, name);
            for (int k = 0; k < 3; k++) {
                uint64_t x = cnt[l * 3 + (size_t)k];
                if (!parts[k]) printf(" %15s", "-");
                else printf(" %8" PRIu64 " %5.1f%%", x, 100.0 * (double)x / (double)parts[k]);
            }
            putchar('\n');
        }
        if (nl > top) printf("  ... %" PRIu64 " more (--top)\n", nl - top);
        printf("tokens per row  mean %.1f, p50 %u, p90 %u, p95 %u, p99 %u, max %u (choose --maxlen)\n", mean, p[0],
               p[1], p[2], p[3], p[4]);
        if (maxlen)
            printf("truncated       %" PRIu64 " rows (%.1f%%) are longer than --maxlen %zu; %.1f%% of tokens cut\n",
                   trunc_rows, n ? 100.0 * (double)trunc_rows / (double)n : 0, maxlen,
                   tokens ? 100.0 * (double)trunc_tokens / (double)tokens : 0);
        printf("vocabulary      %zu distinct words in the training split, %zu kept (--num-words, --min-count)\n",
               distinct, kept);
        if (store_path) {
            printf("coverage        %.1f%% of the vocabulary, %.1f%% of running tokens are in %s\n", 100 * types,
                   100 * toks, store_path);
            if (nunc) printf("most frequent uncovered:");
            for (size_t i = 0; i < nunc; i++) {
                size_t wl;
                uint64_t wc;
                const char *w = wb_vocab_word(v, unc[i], &wl, &wc);
                printf(" %.*s (%" PRIu64 ")", (int)wl, w, wc);
            }
            if (nunc) putchar('\n');
        }
        for (size_t k = 0; k < nf; k++) {
            double lo = 0, hi = 0, sum = 0;
            for (size_t i = 0; i < n; i++) {
                double x = feat[i * nf + k];
                if (!i || x < lo) lo = x;
                if (!i || x > hi) hi = x;
                sum += x;
            }
            printf("%-15s %s: count %zu, min %g, mean %g, max %g\n", k ? "" : "features", fnames[k], n, lo,
                   n ? sum / (double)n : 0, hi);
        }
    }
    free(unc);
    free(cnt);
    return EXIT_OK;
}

/* ---- show -------------------------------------------------------------- */

typedef struct show_ctx {
    const wb_dataset *ds;
    const wb_dataset_opts *o;
    int part;                  /* WB_DS_* or -1 = all */
    uint64_t head, shown;
    size_t row;                /* next data-set row */
    int other;                 /* reading a valid/test file */
    const char *path;          /* file being read */
    wb_token_list tl;
    int32_t *seq;
    size_t seq_cap;
    int rc;                    /* library error inside the callback */
    wb_err err;
} show_ctx;

static void print_labels(const wb_dataset *ds, size_t i) {
    const size_t *off;
    const uint32_t *ids;
    wb_dataset_labels(ds, &off, &ids);
    for (size_t j = off[i]; j < off[i + 1]; j++) {
        size_t l;
        const char *s = wb_dataset_label_name(ds, ids[j], &l);
        printf("%s%.*s", j > off[i] ? "," : "", (int)l, s);
    }
    putchar('\t');
}

/* Ids as words: padding skipped, 1 as <oov>. */
static void print_ids(const wb_vocab *v, const int32_t *x, size_t n) {
    int first = 1;
    for (size_t i = 0; i < n; i++) {
        if (x[i] == WB_VOCAB_PAD) continue;
        size_t wl = 5;
        const char *w = x[i] == WB_VOCAB_OOV ? "<oov>" : wb_vocab_word(v, x[i], &wl, NULL);
        printf("%s%.*s", first ? "" : " ", (int)wl, w);
        first = 0;
    }
    putchar('\n');
}

static int selected(const show_ctx *d, size_t i) {
    return d->part < 0 || wb_dataset_split(d->ds)[i] == d->part;
}

/* --maxlen 0: one reader record; skip it where the dataset dropped it. */
static int on_show(void *ud, const wb_example *ex) {
    show_ctx *d = ud;
    if (d->head && d->shown >= d->head) return 2; /* enough: stop reading */
    if (d->other && d->o->unknown_skip)
        for (size_t l = 0; l < ex->n_labels; l++)
            if (wb_dataset_label_find(d->ds, ex->labels[l].ptr, ex->labels[l].len) < 0) return 0;
    size_t i = d->row++;
    if (i >= wb_dataset_n(d->ds)) {
        wb_err_at(&d->err, WB_EFORMAT, d->path, ex->line, -1,
                  "more records than when the data set was built (did the file change?)");
        return d->rc = WB_EFORMAT, 1;
    }
    if (!selected(d, i)) return 0;
    if ((d->rc = wb_tokenize(&d->o->tok, ex->texts[0].ptr, ex->texts[0].len, &d->tl, &d->err))) return 1;
    size_t L = d->tl.n;
    if (L > d->seq_cap) {
        int32_t *s = realloc(d->seq, L * sizeof *s);
        if (!s) return d->rc = WB_ENOMEM, 1;
        d->seq = s, d->seq_cap = L;
    }
    const wb_vocab *v = wb_dataset_vocab(d->ds);
    if (L && (d->rc = wb_vocab_encode(v, &d->tl, L, WB_PAD_POST, WB_PAD_POST, d->seq, NULL, NULL))) return 1;
    print_labels(d->ds, i);
    print_ids(v, d->seq, L);
    d->shown++;
    return 0;
}

static int show_rows(cli *c, const wb_dataset *ds, const wb_dataset_opts *o, int as_is, int part, uint64_t head) {
    (void)c;
    const size_t n = wb_dataset_n(ds), ml = wb_dataset_maxlen(ds);
    if (!as_is) {
        const int32_t *x = wb_dataset_x(ds);
        uint64_t shown = 0;
        for (size_t i = 0; i < n && (!head || shown < head); i++) {
            if (part >= 0 && wb_dataset_split(ds)[i] != part) continue;
            print_labels(ds, i);
            print_ids(wb_dataset_vocab(ds), x + i * ml, ml);
            shown++;
        }
        return EXIT_OK;
    }
    show_ctx d;
    memset(&d, 0, sizeof d);
    d.ds = ds;
    d.o = o;
    d.part = part;
    d.head = head;
    wb_token_list_init(&d.tl);
    wb_err e;
    wb_err_clear(&e);
    const char *files[3] = {o->train_path, o->valid_path, o->test_path};
    int rc = EXIT_OK;
    for (int k = 0; k < 3 && rc == EXIT_OK; k++) {
        if (!files[k]) continue;
        d.other = k > 0;
        d.path = files[k];
        int lrc = wb_reader_read(files[k], &o->reader, on_show, &d, NULL, &e);
        if (d.rc) lrc = d.rc, e = d.err;
        if (lrc == 2) break; /* --head reached */
        if (lrc) rc = cli_fail(&e, lrc);
    }
    wb_token_list_free(&d.tl);
    free(d.seq);
    return rc;
}

/* ---- the command ------------------------------------------------------- */

static int run_data(cli *c) {
    const char *verb = c->argv[0];
    int show = !strcmp(verb, "show");
    if (!show && strcmp(verb, "stats")) return cli_usage(c, "unknown verb '%s' (expected stats or show)", verb);
    wb_dataset_opts o;
    cli_ds_strings s;
    int rc = cli_ds_opts(c, c->argv[1], CLI_DS_MAXLEN0, &o, &s);
    uint64_t head = 0, top = 0;
    int part = -1;
    if (!rc && (cli_u64(c, "head", 0, UINT64_MAX >> 1, &head) || cli_u64(c, "top", 0, 100000, &top)))
        rc = EXIT_USAGE;
    if (!rc) {
        part = cli_choice(c, "split", "train|test|valid|all");
        if (part < 0) rc = EXIT_USAGE;
        else if (part == 3) part = -1;
        else part = part == 0 ? WB_DS_TRAIN : part == 1 ? WB_DS_TEST : WB_DS_VALID;
        if (!rc && !show && cli_given(c, "split"))
            rc = cli_usage(c, "--split picks the rows of 'show'; 'stats' reports every split");
    }
    /* show --maxlen 0 reads the files a second time: stdin cannot be */
    if (!rc && show && !o.maxlen &&
        (!strcmp(o.train_path, "-") || (o.valid_path && !strcmp(o.valid_path, "-")) ||
         (o.test_path && !strcmp(o.test_path, "-"))))
        rc = cli_usage(c, "'show' of stdin ('-') needs --maxlen N (as is, it would read the input twice)");
    if (rc) {
        cli_ds_strings_free(&s);
        return rc;
    }
    const size_t maxlen = o.maxlen; /* 0 = as is */
    if (!maxlen) o.maxlen = 1;      /* nothing printed depends on X then */

    wb_dataset *ds = NULL;
    wb_dataset_stats st;
    wb_err e;
    wb_err_clear(&e);
    int lrc = wb_dataset_build(&ds, &o, &st, &e);
    if (lrc) {
        rc = cli_fail(&e, lrc);
    } else {
        cli_ds_report(c, &o, &st);
        rc = show ? show_rows(c, ds, &o, maxlen == 0, part, head)
                  : print_stats(c, ds, &o, &st, maxlen, &s, cli_str(c, "store"), top);
    }
    wb_dataset_destroy(ds);
    cli_ds_strings_free(&s);
    return rc;
}

const cli_cmd cmd_data = {"data", "stats|show [options] FILE",
                          "Look at a labelled data set as training sees it: statistics, or each row.",
                          data_opts, 2, 2, run_data};
