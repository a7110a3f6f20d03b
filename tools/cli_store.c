/*
 * cli_store.c — the store commands: convert, info, lookup, neighbors,
 * verify, export.  Each parses its options (tables below), calls the
 * library, and prints results on stdout (one JSON document with --json);
 * diagnostics and progress go to stderr.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "wordbench/convert.h"
#include "wordbench/similar.h"
#include "wordbench/store.h"

#define COMMON_OPTS                                                              \
    {"quiet", 'q', NULL, NULL, "no progress line on stderr", 0},                 \
    {"json", 0, NULL, NULL, "print the result as one JSON document", 0},         \
    {"help", 'h', NULL, NULL, "show this help", 0}

/* ---- convert ------------------------------------------------------------ */

static const cli_opt convert_opts[] = {
    {"format", 'f', "FMT", "auto", "input format: auto|glove|word2vec|word2vec-bin", 0},
    {"dtype", 0, "TYPE", "f32", "stored element type: f32|f16", 0},
    {"duplicates", 0, "POLICY", "first", "duplicate words: first|last|error", 0},
    {"normalize", 0, NULL, NULL, "scale every row to unit length", 0},
    {"dim", 0, "N", NULL, "expected vector length (default: from the header or first line)", 0},
    {"limit", 0, "N", NULL, "keep only the first N rows", 0},
    {"vocab", 0, "FILE", NULL, "keep only the words listed in FILE (one per line)", 0},
    {"skip-bad", 0, NULL, NULL, "skip malformed lines instead of failing", 0},
    {"bad-lines", 0, "FILE", NULL, "with --skip-bad: write each skipped line number and reason", 0},
    {"allow-nonfinite", 0, NULL, NULL, "accept NaN and Inf values", 0},
    {"threads", 'j', "N", "0", "parser threads (0 = one per core)", 0},
    {"force", 0, NULL, NULL, "replace an existing store (atomically)", 0},
    COMMON_OPTS,
    {0}};

typedef struct conv_ui {
    cli *c;
    double last;
} conv_ui;

static void conv_progress(void *ud, const wb_convert_progress *p) {
    conv_ui *u = ud;
    if (!u->c->progress) return;
    double mbs = p->seconds > 0 ? p->bytes_in / 1e6 / p->seconds : 0;
    char done[32], tot[32];
    cli_bytes(done, sizeof done, (double)p->bytes_in);
    if (p->bytes_total) {
        double frac = (double)p->bytes_in / (double)p->bytes_total;
        double eta = frac > 0 ? p->seconds * (1 - frac) / frac : 0;
        int bar = (int)(frac * 20 + 0.5);
        cli_progress(u->c, 0, "[%.*s%*s] %5.1f%% %s / %s  %.0f MB/s  %" PRIu64 " rows  ETA %.0fs", bar,
                     "====================", 20 - bar, "", frac * 100, done,
                     cli_bytes(tot, sizeof tot, (double)p->bytes_total), mbs, p->rows, eta);
    } else {
        cli_progress(u->c, 0, "%s  %.0f MB/s  %" PRIu64 " rows", done, mbs, p->rows);
    }
}

static void conv_warn(void *ud, const char *msg) {
    (void)ud;
    cli_warn("warning: %s", msg);
}

static int run_convert(cli *c) {
    wb_convert_opts o;
    wb_convert_opts_init(&o);
    int f = cli_choice(c, "format", "auto|glove|word2vec|word2vec-bin");
    int dt = cli_choice(c, "dtype", "f32|f16");
    int dp = f < 0 || dt < 0 ? 0 : cli_choice(c, "duplicates", "first|last|error");
    if (f < 0 || dt < 0 || dp < 0) return EXIT_USAGE;
    o.format = (wb_format)f;
    o.dtype = dt ? WB_DTYPE_F16 : WB_DTYPE_F32;
    o.duplicates = (wb_dup_policy)dp;
    uint64_t v;
    if (cli_given(c, "dim")) {
        if (cli_u64(c, "dim", 1, 1000000, &v)) return EXIT_USAGE;
        o.dim = (uint32_t)v;
    }
    if (cli_given(c, "limit")) {
        if (cli_u64(c, "limit", 1, UINT32_MAX, &v)) return EXIT_USAGE;
        o.limit = v;
    }
    if (cli_u64(c, "threads", 0, 256, &v)) return EXIT_USAGE;
    o.threads = (int)v;
    o.normalize = cli_flag(c, "normalize");
    o.skip_bad = cli_flag(c, "skip-bad");
    o.allow_nonfinite = cli_flag(c, "allow-nonfinite");
    o.force = cli_flag(c, "force");
    o.vocab_path = cli_str(c, "vocab");
    o.bad_lines_path = cli_str(c, "bad-lines");
    if (o.bad_lines_path && !o.skip_bad) return cli_usage(c, "--bad-lines needs --skip-bad");
    conv_ui ui = {c, 0};
    o.progress = conv_progress;
    o.warn = conv_warn;
    o.ud = &ui;
    wb_convert_stats st;
    wb_err e;
    wb_err_clear(&e);
    int rc = wb_convert(c->argv[0], c->argv[1], &o, &st, &e);
    cli_progress(c, 1, " ");
    if (rc) return cli_fail(&e, rc);
    double mbs = st.seconds > 0 ? st.bytes_in / 1e6 / st.seconds : 0;
    if (c->json) {
        printf("{\"store\": ");
        json_str(stdout, c->argv[1], strlen(c->argv[1]));
        printf(", \"rows\": %" PRIu64 ", \"dim\": %u, \"format\": \"%s\", \"gzip\": %s, \"dtype\": \"%s\", "
               "\"lines\": %" PRIu64 ", \"header_rows\": %" PRIu64 ", \"duplicates\": %" PRIu64
               ", \"skipped\": %" PRIu64 ", \"invalid_utf8\": %" PRIu64 ", \"long_words\": %" PRIu64
               ", \"not_in_vocab\": %" PRIu64 ", \"bytes_in\": %" PRIu64 ", \"seconds\": %.3f, \"mb_per_s\": %.1f, "
               "\"fingerprint\": \"%016" PRIx64 "\"}\n",
               st.rows, st.dim, wb_format_name(st.format), st.gzip ? "true" : "false", wb_dtype_name(o.dtype),
               st.lines, st.header_rows, st.duplicates, st.skipped, st.invalid_utf8, st.long_words,
               st.not_in_vocab, st.bytes_in, st.seconds, mbs, st.fingerprint);
    } else {
        printf("converted %" PRIu64 " rows x %u dim (%s%s, %s) into %s: %" PRIu64 " duplicates, %" PRIu64
               " skipped, %" PRIu64 " invalid UTF-8, %.2f s, %.0f MB/s\n",
               st.rows, st.dim, wb_format_name(st.format), st.gzip ? "+gzip" : "", wb_dtype_name(o.dtype),
               c->argv[1], st.duplicates, st.skipped, st.invalid_utf8, st.seconds, mbs);
    }
    return EXIT_OK;
}

const cli_cmd cmd_convert = {"convert", "[options] INPUT STORE",
                             "Convert a GloVe / word2vec / fastText .vec file (or .gz, or - for stdin) into a store.",
                             convert_opts, 2, 2, run_convert};

/* ---- shared: open a store ------------------------------------------------ */

static int open_store(const char *dir, wb_store **st) {
    wb_err e;
    wb_err_clear(&e);
    int rc = wb_store_open(st, dir, &e);
    if (rc) return cli_fail(&e, rc);
    return 0;
}

/* ---- info --------------------------------------------------------------- */

static const cli_opt info_opts[] = {CLI_OPT_VERIFY_ON_OPEN, COMMON_OPTS, {0}};

static int run_info(cli *c) {
    wb_store *st;
    if (open_store(c->argv[0], &st)) return EXIT_FAIL;
    const wb_store_info *in = wb_store_info_get(st);
    char created[64];
    time_t t = (time_t)in->created;
    strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
    if (c->json) {
        printf("{\"store\": ");
        json_str(stdout, c->argv[0], strlen(c->argv[0]));
        printf(", \"format_version\": %u, \"rows\": %" PRIu64 ", \"dim\": %u, \"dtype\": \"%s\", \"normalized\": %s, "
               "\"source\": ",
               in->format_version, in->rows, in->dim, wb_dtype_name(in->dtype), in->normalized ? "true" : "false");
        json_str(stdout, in->source, strlen(in->source));
        printf(", \"source_bytes\": %" PRIu64 ", \"source_gzip\": %s, \"source_format\": \"%s\", \"duplicates\": %" PRIu64
               ", \"skipped\": %" PRIu64 ", \"invalid_utf8\": %" PRIu64 ", \"long_words\": %" PRIu64
               ", \"created\": \"%s\", \"fingerprint\": \"%016" PRIx64 "\", \"blocks\": %" PRIu64
               ", \"vectors_bytes\": %" PRIu64 ", \"norms_bytes\": %" PRIu64 ", \"index_bytes\": %" PRIu64 "}\n",
               in->source_bytes, in->source_gzip ? "true" : "false", in->source_format, in->duplicates, in->skipped,
               in->invalid_utf8, in->long_words, created, in->fingerprint, in->nblocks, in->vectors_bytes,
               in->norms_bytes, in->index_bytes);
    } else {
        char a[32], b[32], d[32], s[32];
        printf("store          %s\n", c->argv[0]);
        printf("rows           %" PRIu64 "\n", in->rows);
        printf("dim            %u\n", in->dim);
        printf("dtype          %s%s\n", wb_dtype_name(in->dtype), in->normalized ? " (unit-length rows)" : "");
        printf("source         %s (%s%s, %s)\n", in->source, in->source_format, in->source_gzip ? "+gzip" : "",
               cli_bytes(s, sizeof s, (double)in->source_bytes));
        printf("duplicates     %" PRIu64 "\nskipped        %" PRIu64 "\ninvalid UTF-8  %" PRIu64 "\nlong words     %" PRIu64 "\n",
               in->duplicates, in->skipped, in->invalid_utf8, in->long_words);
        printf("sizes          vectors.npy %s, norms.npy %s, index %s\n", cli_bytes(a, sizeof a, (double)in->vectors_bytes),
               cli_bytes(b, sizeof b, (double)in->norms_bytes), cli_bytes(d, sizeof d, (double)in->index_bytes));
        printf("fingerprint    %016" PRIx64 "\ncreated        %s\nformat         v%u\n", in->fingerprint, created,
               in->format_version);
    }
    wb_store_close(st);
    return EXIT_OK;
}

const cli_cmd cmd_info = {"info", "[options] STORE", "Describe a store: dim, rows, dtype, sizes, source, fingerprint.",
                          info_opts, 1, 1, run_info};

/* ---- lookup ------------------------------------------------------------- */

static const cli_opt lookup_opts[] = {
    {"no-vector", 0, NULL, NULL, "print only the row numbers", 0}, CLI_OPT_VERIFY_ON_OPEN, COMMON_OPTS, {0}};

static void print_vec(const float *v, size_t n) {
    for (size_t i = 0; i < n; i++) printf(i ? " %.9g" : "%.9g", (double)v[i]);
}

static int run_lookup(cli *c) {
    wb_store *st;
    if (open_store(c->argv[0], &st)) return EXIT_FAIL;
    const size_t E = wb_store_info_get(st)->dim;
    float *v = malloc(E * sizeof(float));
    int missing = 0, novec = cli_flag(c, "no-vector");
    if (c->json) printf("[");
    for (int i = 1; i < c->argc; i++) {
        const char *w = c->argv[i];
        uint32_t row;
        int rc = wb_store_lookup(st, w, strlen(w), &row);
        if (c->json) {
            printf(i > 1 ? ",\n {\"word\": " : "{\"word\": ");
            json_str(stdout, w, strlen(w));
        }
        if (rc == WB_ENOTFOUND) {
            missing++;
            if (c->json) printf(", \"row\": null}");
            cli_warn("'%s' is not in the store", w);
            continue;
        }
        if (rc) {
            wb_err e;
            wb_err_set(&e, rc, "look-up of '%s' failed: %s", w, wb_strerror(rc));
            free(v);
            wb_store_close(st);
            return cli_fail(&e, rc);
        }
        if (!rc && !v) rc = WB_ENOMEM;
        if (!rc) rc = wb_store_gather(st, 1, &row, v);
        if (rc) { /* the library checks rows at its boundary; this is a second guard */
            wb_err e;
            wb_err_set(&e, rc, "%s: row %u of '%s': %s", c->argv[0], row, w, wb_strerror(rc));
            free(v);
            wb_store_close(st);
            return cli_fail(&e, rc);
        }
        if (c->json) {
            printf(", \"row\": %u", row);
            if (!novec) {
                printf(", \"vector\": [");
                for (size_t j = 0; j < E; j++) {
                    if (j) fputs(", ", stdout);
                    json_num(stdout, v[j]);
                }
                printf("]");
            }
            printf("}");
        } else {
            printf("%s\t%u", w, row);
            if (!novec) putchar('\t'), print_vec(v, E);
            putchar('\n');
        }
    }
    if (c->json) printf("]\n");
    free(v);
    wb_store_close(st);
    return missing ? EXIT_FAIL : EXIT_OK;
}

const cli_cmd cmd_lookup = {"lookup", "[options] STORE WORD...",
                            "Print the row and vector of each word; a missing word makes the exit status 1.",
                            lookup_opts, 2, -1, run_lookup};

/* ---- neighbors ---------------------------------------------------------- */

static const cli_opt neighbors_opts[] = {
    {"k", 'k', "N", "10", "how many neighbours", 0}, CLI_OPT_VERIFY_ON_OPEN, COMMON_OPTS, {0}};

static int run_neighbors(cli *c) {
    uint64_t k;
    if (cli_u64(c, "k", 1, 100000, &k)) return EXIT_USAGE;
    /* Terms: words separated by '+' / '-' tokens, from all arguments (split on spaces). */
    size_t cap = 16, n = 0;
    char **words = malloc(cap * sizeof *words);
    int *signs = malloc(cap * sizeof *signs), sign = 1, expect_word = 1;
    char *all = NULL;
    size_t alen = 0;
    for (int i = 1; i < c->argc; i++) alen += strlen(c->argv[i]) + 1;
    all = calloc(1, alen + 1);
    for (int i = 1; i < c->argc; i++) strcat(strcat(all, c->argv[i]), " ");
    int rc = EXIT_OK;
    for (char *save, *t = strtok_r(all, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
        if (!expect_word && (!strcmp(t, "+") || !strcmp(t, "-"))) {
            sign = t[0] == '-' ? -1 : 1;
            expect_word = 1;
            continue;
        }
        if (!expect_word) { rc = cli_usage(c, "expected '+' or '-' before '%s'", t); break; }
        if (n == cap) {
            cap *= 2;
            words = realloc(words, cap * sizeof *words);
            signs = realloc(signs, cap * sizeof *signs);
        }
        words[n] = t, signs[n++] = sign;
        expect_word = 0;
    }
    if (!rc && (n == 0 || expect_word)) rc = cli_usage(c, "the query must end with a word");
    wb_store *st = NULL;
    if (!rc && open_store(c->argv[0], &st)) rc = EXIT_FAIL;
    uint32_t *rows = malloc((n ? n : 1) * sizeof *rows);
    for (size_t i = 0; !rc && i < n; i++) {
        int r = wb_store_lookup(st, words[i], strlen(words[i]), &rows[i]);
        if (r) {
            cli_warn("'%s' is not in the store", words[i]);
            rc = EXIT_FAIL;
        }
    }
    wb_neighbor *out = NULL;
    size_t nout = 0;
    if (!rc) {
        const size_t E = wb_store_info_get(st)->dim;
        float *q = malloc(E * sizeof(float));
        out = malloc(k * sizeof *out);
        wb_err e;
        wb_err_clear(&e);
        int r = wb_similar_query(st, n, rows, signs, q);
        if (!r) r = wb_similar(st, q, k, rows, n, out, &nout, &e);
        if (r) rc = cli_fail(&e, r);
        free(q);
    }
    if (!rc) {
        if (c->json) printf("[");
        for (size_t i = 0; i < nout; i++) {
            const char *w;
            size_t wl;
            if (wb_store_word(st, out[i].row, &w, &wl)) w = "?", wl = 1;
            if (c->json) {
                printf(i ? ",\n {\"word\": " : "{\"word\": ");
                json_str(stdout, w, wl);
                printf(", \"row\": %u, \"cosine\": %.6f}", out[i].row, (double)out[i].score);
            } else {
                printf("%.*s\t%.6f\n", (int)wl, w, (double)out[i].score);
            }
        }
        if (c->json) printf("]\n");
    }
    free(out);
    free(rows);
    free(words);
    free(signs);
    free(all);
    wb_store_close(st);
    return rc;
}

const cli_cmd cmd_neighbors = {"neighbors", "[options] STORE WORD [(+|-) WORD]...",
                               "Nearest neighbours by cosine; analogies as 'king - man + woman'.",
                               neighbors_opts, 2, -1, run_neighbors};

/* ---- verify ------------------------------------------------------------- */

static const cli_opt verify_opts[] = {COMMON_OPTS, {0}};

static void verify_progress(void *ud, uint64_t done, uint64_t total) {
    cli *c = ud;
    char a[32], b[32];
    cli_progress(c, 0, "verify: %s / %s", cli_bytes(a, sizeof a, (double)done), cli_bytes(b, sizeof b, (double)total));
}

static int run_verify(cli *c) {
    wb_store *st;
    if (open_store(c->argv[0], &st)) return EXIT_FAIL;
    wb_verify_report rep;
    wb_err e;
    wb_err_clear(&e);
    int rc = wb_store_verify(st, &rep, verify_progress, c, &e);
    cli_progress(c, 1, " ");
    if (c->json) {
        printf("{\"ok\": %s, \"blocks_checked\": %" PRIu64 ", \"first_bad_block\": %" PRId64
               ", \"norms_ok\": %s, \"index_ok\": %s, \"index_pages_ok\": %s, \"index_checksum\": %s}\n",
               rc ? "false" : "true", rep.blocks_checked, rep.first_bad_block, rep.norms_ok ? "true" : "false",
               rep.index_ok ? "true" : "false", rep.index_pages_ok ? "true" : "false",
               rep.index_sum < 0 ? "null" : rep.index_sum ? "true" : "false");
    } else if (!rc) {
        printf("ok: %" PRIu64 " blocks, norms and index verified (index %s; fingerprint %016" PRIx64 ")\n",
               rep.blocks_checked, rep.index_sum > 0 ? "checksum and every page" : "every page; no checksum recorded",
               wb_store_info_get(st)->fingerprint);
    }
    wb_store_close(st);
    if (rc) return cli_fail(&e, rc);
    return EXIT_OK;
}

const cli_cmd cmd_verify = {"verify", "[options] STORE",
                            "Recompute the block hashes, check every index page; report the first problem.",
                            verify_opts, 1, 1, run_verify};

/* ---- export ------------------------------------------------------------- */

static const cli_opt export_opts[] = {
    {"format", 'f', "FMT", "glove", "output format: glove|word2vec|word2vec-bin", 0},
    {"force", 0, NULL, NULL, "replace an existing OUTPUT", 0},
    CLI_OPT_VERIFY_ON_OPEN,
    {"quiet", 'q', NULL, NULL, "no progress line on stderr", 0},
    {"help", 'h', NULL, NULL, "show this help", 0},
    {0}};

static void export_progress(void *ud, uint64_t done, uint64_t total) {
    cli *c = ud;
    cli_progress(c, 0, "export: %" PRIu64 " / %" PRIu64 " rows", done, total);
}

static int run_export(cli *c) {
    int f = cli_choice(c, "format", "glove|word2vec|word2vec-bin");
    if (f < 0) return EXIT_USAGE;
    struct stat sb;
    if (strcmp(c->argv[1], "-") && !cli_flag(c, "force") && stat(c->argv[1], &sb) == 0) {
        cli_warn("%s: exists (use --force to replace it)", c->argv[1]);
        return EXIT_FAIL;
    }
    wb_store *st;
    if (open_store(c->argv[0], &st)) return EXIT_FAIL;
    wb_err e;
    wb_err_clear(&e);
    int rc = wb_export(st, c->argv[1], (wb_format)(f + 1), export_progress, c, &e);
    cli_progress(c, 1, " ");
    wb_store_close(st);
    return rc ? cli_fail(&e, rc) : EXIT_OK;
}

const cli_cmd cmd_export = {"export", "[options] STORE OUTPUT",
                            "Write the store as GloVe / word2vec text or word2vec binary ('-' = stdout).",
                            export_opts, 2, 2, run_export};
