/*
 * cli_data.c — `wordbench data stats|show FILE`: a labelled data set exactly
 * as training will see it; `wordbench data cache [--clear]`: the data sets
 * kept in the cache directory.  stats and show build (or map from the cache)
 * the data set with the dataset module (wb_dataset_build: reader, tokenizer,
 * label table and task, splits or --valid/--test files, vocabulary from the
 * training split) from the options training takes (cli_ds.h), then print
 * statistics (rows, splits, task, labels by id per split, tokens per row
 * before truncation, vocabulary, coverage against a store, feature columns,
 * cache) or the rows.  Statistics are computed from the mapped arrays in one
 * pass: token-length percentiles come from a histogram, not from sorting the
 * lengths, so memory does not grow with the rows.
 *
 * --maxlen 0 (the default here) means "as is": `stats` builds without id
 * matrices (nothing it prints depends on them), `show` re-reads the files and
 * encodes every selected text in full with the data set's vocabulary, mapping
 * records to rows as the dataset module does (training file, then valid,
 * then test; valid/test records with unknown labels dropped under
 * --unknown-label skip).  With several inputs (--maxlen NAME=N) show prints
 * one tab-separated field per input and stats one line per input.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
    {"clear", 0, NULL, NULL, "cache: remove the data sets, leftovers, lock files and input hashes of the directory", 0},
    {"json", 0, NULL, NULL, "stats, cache: one JSON document", 0},
    {"help", 'h', NULL, NULL, "show this help", 0},
    {0}};

/* ---- stats ------------------------------------------------------------- */

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Token counts of one input: a histogram of the lengths below HSMALL and
 * the (few: each is a text of HSMALL tokens or more) longer ones sorted. */
#define HSMALL 65536
typedef struct lenstat {
    uint64_t *h;                /* (HSMALL) rows of each length */
    uint32_t *big;              /* lengths >= HSMALL, sorted */
    size_t nbig;
    uint64_t n, tokens, trunc_rows, trunc_tokens;
    uint32_t max;
} lenstat;

/* Every 2^16 rows of a pass over the mapped arrays, take their pages out of
 * the resident set again (they stay in the page cache): the RSS of `stats`
 * does not grow with the rows. */
static void every_mrow(const wb_dataset *ds, size_t i) {
    if ((i & ((1u << 16) - 1)) == 0) wb_dataset_release_pages(ds);
}

static int lenstat_fill(lenstat *ls, const wb_dataset *ds, const uint32_t *len, size_t n, size_t maxlen) {
    memset(ls, 0, sizeof *ls);
    size_t cap = 0;
    if (!(ls->h = calloc(HSMALL, sizeof *ls->h))) return -1;
    for (size_t i = 0; i < n; i++) {
        every_mrow(ds, i);
        uint32_t L = len[i];
        if (L < HSMALL) ls->h[L]++;
        else {
            if (ls->nbig == cap) {
                size_t nc = cap ? 2 * cap : 64;
                uint32_t *b = realloc(ls->big, nc * sizeof *b);
                if (!b) return -1;
                ls->big = b, cap = nc;
            }
            ls->big[ls->nbig++] = L;
        }
        ls->tokens += L;
        if (L > ls->max) ls->max = L;
        if (maxlen && L > maxlen) ls->trunc_rows++, ls->trunc_tokens += L - maxlen;
    }
    if (ls->nbig) qsort(ls->big, ls->nbig, sizeof *ls->big, cmp_u32);
    ls->n = n;
    return 0;
}

static void lenstat_free(lenstat *ls) {
    free(ls->h);
    free(ls->big);
}

/* Nearest-rank percentile: the value at rank round(p/100 * (n-1)) of the
 * sorted lengths. */
static uint32_t pct(const lenstat *ls, double p) {
    if (!ls->n) return 0;
    uint64_t i = (uint64_t)(p / 100.0 * (double)(ls->n - 1) + 0.5), cum = 0;
    if (i >= ls->n) i = ls->n - 1;
    for (uint32_t L = 0; L < HSMALL; L++)
        if ((cum += ls->h[L]) > i) return L;
    return ls->big[i - cum];
}

static void json_name(const wb_dataset *ds, uint32_t id) {
    size_t l;
    const char *s = wb_dataset_label_name(ds, id, &l);
    json_str(stdout, s, l);
}

/* "tokens per row" and "truncated" of one input (name NULL: the only one). */
static void print_lengths(const lenstat *ls, const char *name, size_t maxlen) {
    const double mean = ls->n ? (double)ls->tokens / (double)ls->n : 0;
    if (name) printf("input           %s (--maxlen %zu)\n", name, maxlen);
    printf("tokens per row  mean %.1f, p50 %u, p90 %u, p95 %u, p99 %u, max %u (choose --maxlen)\n", mean, pct(ls, 50),
           pct(ls, 90), pct(ls, 95), pct(ls, 99), ls->max);
    if (maxlen)
        printf("truncated       %" PRIu64 " rows (%.1f%%) are longer than --maxlen %zu; %.1f%% of tokens cut\n",
               ls->trunc_rows, ls->n ? 100.0 * (double)ls->trunc_rows / (double)ls->n : 0, maxlen,
               ls->tokens ? 100.0 * (double)ls->trunc_tokens / (double)ls->tokens : 0);
}

static void json_lengths(const lenstat *ls, size_t maxlen) {
    const double mean = ls->n ? (double)ls->tokens / (double)ls->n : 0;
    printf("\"tokens\": %" PRIu64 ", \"tokens_per_row\": {\"mean\": %.2f, \"p50\": %u, \"p90\": %u, \"p95\": %u, "
           "\"p99\": %u, \"max\": %u}, \"maxlen\": %zu, \"truncated_rows\": %" PRIu64
           ", \"truncated_tokens\": %" PRIu64,
           ls->tokens, mean, pct(ls, 50), pct(ls, 90), pct(ls, 95), pct(ls, 99), ls->max, maxlen, ls->trunc_rows,
           ls->trunc_tokens);
}

static int print_stats(cli *c, const wb_dataset *ds, const wb_dataset_opts *o, const wb_dataset_stats *st,
                       int as_is, const char *store_path, uint64_t top) {
    const size_t n = wb_dataset_n(ds), K = wb_dataset_ninputs(ds);
    const uint8_t *sp = wb_dataset_split(ds);
    const wb_vocab *v = wb_dataset_vocab(ds);
    const uint32_t nl = wb_dataset_nlabels(ds);
    const size_t *off;
    const uint32_t *ids;
    wb_dataset_labels(ds, &off, &ids);

    /* label counts per split, tokens per row and truncation of each input */
    uint64_t *cnt = calloc((size_t)nl * 3 + 1, sizeof *cnt);
    lenstat *ls = calloc(K, sizeof *ls);
    int bad = !cnt || !ls;
    for (size_t k = 0; !bad && k < K; k++) {
        const wb_dataset_input *in = wb_dataset_input_get(ds, k);
        bad = lenstat_fill(&ls[k], ds, in->lengths, n, as_is ? 0 : in->maxlen) != 0;
    }
    if (bad) {
        for (size_t k = 0; ls && k < K; k++) lenstat_free(&ls[k]);
        free(ls);
        free(cnt);
        cli_warn("out of memory");
        return EXIT_FAIL;
    }
    uint64_t parts[3] = {0, 0, 0};
    for (size_t i = 0; i < n; i++) {
        every_mrow(ds, i);
        parts[sp[i]]++;
        for (size_t j = off[i]; j < off[i + 1]; j++) cnt[(size_t)ids[j] * 3 + sp[i]]++;
    }
    const size_t maxlen = as_is ? 0 : wb_dataset_maxlen(ds);

    /* coverage */
    double types = 0, toks = 0;
    int32_t *unc = NULL;
    size_t nunc = 0;
    if (store_path) {
        wb_store *sto;
        wb_err e;
        wb_err_clear(&e);
        int rc = wb_store_open(&sto, store_path, &e);
        if (!rc) {
            unc = malloc((top ? top : 1) * sizeof *unc);
            rc = unc ? wb_vocab_coverage(v, sto, &types, &toks, top, unc, &nunc, &e) : WB_ENOMEM;
            wb_store_close(sto);
        }
        if (rc) {
            for (size_t k = 0; k < K; k++) lenstat_free(&ls[k]);
            free(ls);
            free(unc);
            free(cnt);
            return cli_fail(&e, rc);
        }
    }

    /* features: min, mean, max per column over all rows */
    size_t nf;
    const double *feat = wb_dataset_features(ds, &nf);

    const size_t distinct = wb_dataset_vocab_distinct(ds), kept = wb_vocab_size(v) - 2;
    if (c->json) {
        printf("{\"rows\": %zu, \"format\": \"%s\", \"skipped\": %" PRIu64 ", \"invalid_utf8\": %" PRIu64
               ", \"skipped_unknown\": %" PRIu64 ", \"task\": \"%s\", \"splits\": {\"train\": %" PRIu64
               ", \"test\": %" PRIu64 ", \"valid\": %" PRIu64 "}, ",
               n, wb_reader_format_name(st->format), st->skipped_bad, st->invalid_utf8, st->skipped_unknown,
               wb_task_name(wb_dataset_task(ds)), parts[WB_DS_TRAIN], parts[WB_DS_TEST], parts[WB_DS_VALID]);
        json_lengths(&ls[0], maxlen);
        printf(", \"vocabulary\": %zu, \"kept\": %zu, \"inputs\": [", distinct, kept);
        for (size_t k = 0; k < K; k++) {
            const wb_dataset_input *in = wb_dataset_input_get(ds, k);
            printf("%s{\"name\": ", k ? ", " : "");
            json_str(stdout, in->name, strlen(in->name));
            printf(", ");
            json_lengths(&ls[k], as_is ? 0 : in->maxlen);
            printf(", \"vocabulary\": %zu, \"kept\": %zu}", in->distinct, wb_vocab_size(in->vocab) - 2);
        }
        printf("], \"labels\": {");
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
                every_mrow(ds, i);
                double x = feat[i * nf + k];
                if (!i || x < lo) lo = x;
                if (!i || x > hi) hi = x;
                sum += x;
            }
            printf("%s{\"name\": ", k ? ", " : "");
            json_str(stdout, wb_dataset_feature_name(ds, k), strlen(wb_dataset_feature_name(ds, k)));
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
        for (size_t k = 0; k < K; k++) {
            const wb_dataset_input *in = wb_dataset_input_get(ds, k);
            print_lengths(&ls[k], K > 1 ? in->name : NULL, as_is ? 0 : in->maxlen);
            printf("vocabulary      %zu distinct words in the training split, %zu kept (--num-words, --min-count)\n",
                   in->distinct, wb_vocab_size(in->vocab) - 2);
        }
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
                every_mrow(ds, i);
                double x = feat[i * nf + k];
                if (!i || x < lo) lo = x;
                if (!i || x > hi) hi = x;
                sum += x;
            }
            printf("%-15s %s: count %zu, min %g, mean %g, max %g\n", k ? "" : "features",
                   wb_dataset_feature_name(ds, k), n, lo, n ? sum / (double)n : 0, hi);
        }
    }
    for (size_t k = 0; k < K; k++) lenstat_free(&ls[k]);
    free(ls);
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
    /* as is: each input's tokens (the first text field, all of them joined,
     * or one input per field), tab-separated */
    size_t K = d->o->text_mode == WB_TEXT_EACH ? wb_dataset_ninputs(d->ds) : 1;
    size_t ntext = d->o->text_mode == WB_TEXT_JOIN ? ex->n_texts : 1;
    print_labels(d->ds, i);
    for (size_t k = 0; k < K && k < ex->n_texts; k++) {
        const wb_vocab *v = wb_dataset_input_get(d->ds, k)->vocab;
        size_t L = 0;
        for (size_t j = k; j < k + ntext; j++) {
            if ((d->rc = wb_tokenize(&d->o->tok, ex->texts[j].ptr, ex->texts[j].len, &d->tl, &d->err))) return 1;
            size_t n = d->tl.n;
            if (L + n > d->seq_cap) {
                int32_t *s = realloc(d->seq, (L + n) * sizeof *s);
                if (!s) return d->rc = WB_ENOMEM, 1;
                d->seq = s, d->seq_cap = L + n;
            }
            if (n && (d->rc = wb_vocab_encode(v, &d->tl, n, WB_PAD_POST, WB_PAD_POST, d->seq + L, NULL, NULL))) return 1;
            L += n;
        }
        if (k) putchar('\t');
        print_ids(v, d->seq, L);
    }
    putchar('\n');
    d->shown++;
    return 0;
}

static int show_rows(cli *c, const wb_dataset *ds, const wb_dataset_opts *o, int as_is, int part, uint64_t head) {
    (void)c;
    const size_t n = wb_dataset_n(ds), K = wb_dataset_ninputs(ds);
    if (!as_is) {
        size_t T = 0;
        for (size_t k = 0; k < K; k++)
            if (wb_dataset_input_get(ds, k)->maxlen > T) T = wb_dataset_input_get(ds, k)->maxlen;
        int32_t *row = malloc(T * sizeof *row);
        if (!row) {
            cli_warn("out of memory");
            return EXIT_FAIL;
        }
        uint64_t shown = 0;
        for (uint32_t i = 0; i < n && (!head || shown < head); i++) {
            if (part >= 0 && wb_dataset_split(ds)[i] != part) continue;
            print_labels(ds, i);
            for (size_t k = 0; k < K; k++) {
                const wb_dataset_input *in = wb_dataset_input_get(ds, k);
                wb_ids_gather(in->ids, &i, 1, row);
                if (k) putchar('\t');
                print_ids(in->vocab, row, in->maxlen);
            }
            putchar('\n');
            shown++;
        }
        free(row);
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

/* ---- cache ------------------------------------------------------------- */

static int run_cache(cli *c) {
    if (c->argc > 1) return cli_usage(c, "'data cache' takes no FILE (usage: wordbench data cache [--clear] [--cache-dir DIR])");
    if (cli_flag(c, "no-cache")) return cli_usage(c, "'data cache' lists a cache directory; --no-cache has none");
    cli_ds_strings s;
    memset(&s, 0, sizeof s);
    const char *dir = cli_ds_cache_dir(c, &s);
    if (!dir) {
        cli_ds_strings_free(&s);
        return cli_usage(c, "no cache directory: give --cache-dir DIR (neither XDG_CACHE_HOME nor HOME is set)");
    }
    wb_err e;
    wb_err_clear(&e);
    wb_dataset_entry *v = NULL;
    size_t n = 0, removed = 0;
    uint64_t freed = 0, total = 0;
    int rc = EXIT_OK, lrc;
    if (cli_flag(c, "clear")) {
        lrc = wb_dataset_cache_clear(dir, &removed, &freed, &e);
        if (lrc == ENOENT) lrc = 0; /* nothing to clear */
    } else {
        lrc = wb_dataset_cache_list(dir, &v, &n, &e);
        if (lrc == ENOENT) lrc = 0; /* an empty cache */
    }
    if (lrc) {
        rc = cli_fail(&e, lrc);
    } else if (cli_flag(c, "clear")) {
        char b[32];
        if (c->json) {
            printf("{\"dir\": ");
            json_str(stdout, dir, strlen(dir));
            printf(", \"removed\": %zu, \"bytes\": %" PRIu64 "}\n", removed, freed);
        } else if (!c->quiet) {
            printf("removed %zu entries (%s) from %s\n", removed, cli_bytes(b, sizeof b, (double)freed), dir);
        }
    } else {
        for (size_t i = 0; i < n; i++) total += v[i].bytes;
        if (c->json) {
            printf("{\"dir\": ");
            json_str(stdout, dir, strlen(dir));
            printf(", \"bytes\": %" PRIu64 ", \"entries\": [", total);
        }
        for (size_t i = 0; i < n; i++) {
            const wb_dataset_entry *x = &v[i];
            char b[32], when[32] = "-";
            time_t t = (time_t)x->created;
            struct tm tm;
            if (x->complete && localtime_r(&t, &tm)) strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
            if (c->json) {
                static const char *const kinds[] = {"?", "dataset", "partial", "lock", "input"};
                printf("%s{\"name\": ", i ? ", " : "");
                json_str(stdout, x->name, strlen(x->name));
                printf(", \"kind\": \"%s\", \"complete\": %s, \"bytes\": %" PRIu64,
                       kinds[x->kind >= 1 && x->kind <= 4 ? x->kind : 0], x->complete ? "true" : "false", x->bytes);
                if (x->complete) {
                    printf(", \"rows\": %" PRIu64 ", \"inputs\": %zu, \"maxlen\": %zu, \"created\": %" PRIu64
                           ", \"source\": ",
                           x->rows, x->ninputs, x->maxlen, x->created);
                    json_str(stdout, x->source ? x->source : "", x->source ? strlen(x->source) : 0);
                }
                putchar('}');
            } else if (x->complete) {
                printf("%-26s %10s  %10" PRIu64 " rows  maxlen %-6zu %s  %s\n", x->name,
                       cli_bytes(b, sizeof b, (double)x->bytes), x->rows, x->maxlen, when, x->source ? x->source : "");
            } else {
                static const char *const what[] = {"?", "damaged data set", "unfinished build (running or killed)",
                                                   "lock file (of a running or killed build)",
                                                   "content hash of an input file"};
                printf("%-26s %10s  (%s)\n", x->name, cli_bytes(b, sizeof b, (double)x->bytes),
                       what[x->kind >= 1 && x->kind <= 4 ? x->kind : 0]);
            }
        }
        if (c->json) printf("]}\n");
        else printf("%zu entries, %s in %s\n", n, cli_bytes((char[32]){0}, 32, (double)total), dir);
    }
    wb_dataset_entries_free(v, n);
    cli_ds_strings_free(&s);
    return rc;
}

/* ---- the command ------------------------------------------------------- */

static int run_data(cli *c) {
    const char *verb = c->argv[0];
    if (!strcmp(verb, "cache")) return run_cache(c);
    int show = !strcmp(verb, "show");
    if (!show && strcmp(verb, "stats")) return cli_usage(c, "unknown verb '%s' (expected stats, show or cache)", verb);
    if (c->argc != 2) return cli_usage(c, "missing FILE (usage: wordbench data %s [options] FILE)", verb);
    if (cli_flag(c, "clear")) return cli_usage(c, "--clear belongs to 'data cache'");
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
    const size_t maxlen = o.maxlen; /* 0 = as is: no id matrix */

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
                  : print_stats(c, ds, &o, &st, maxlen == 0, cli_str(c, "store"), top);
    }
    wb_dataset_destroy(ds);
    cli_ds_strings_free(&s);
    return rc;
}

const cli_cmd cmd_data = {"data", "stats|show [options] FILE | cache [--clear]",
                          "Look at a labelled data set as training sees it (statistics, each row); list or clear the "
                          "data-set cache.",
                          data_opts, 1, 2, run_data};
