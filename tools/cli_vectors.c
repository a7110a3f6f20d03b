/*
 * cli_vectors.c — judging and saving the vectors themselves:
 *   evaluate            gensim's analogy and word-pair benchmarks on a store,
 *                       or on a model's view of its vectors beside its store's
 *   export-embeddings   a model's embedding written as a new store
 * Options are parsed here; the work is in the library (wordeval.h,
 * embedding.h).  Results on stdout (one JSON document with --json),
 * diagnostics and progress on stderr.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "cli_train.h"
#include "wordbench/bundle.h"
#include "wordbench/embedding.h"
#include "wordbench/store.h"
#include "wordbench/store_writer.h"
#include "wordbench/wordeval.h"

/* ---- evaluate ------------------------------------------------------------------ */

static const cli_opt evaluate_opts[] = {
    {"analogies", 'a', "FILE", NULL, "analogy questions (questions-words.txt format)", 1},
    {"pairs", 'p', "FILE", NULL, "word pairs with human scores (wordsim353.tsv format)", 1},
    {"restrict-vocab", 'r', "N", "300000", "the vocabulary is the first N rows (0 = all), as gensim's restrict_vocab", 0},
    CLI_OPT_VERIFY_ON_OPEN,
    {"case-sensitive", 0, NULL, NULL, "compare words as they are (default: upper-cased, as gensim)", 0},
    {"dummy4unknown", 0, NULL, NULL, "count out-of-vocabulary questions as wrong and pairs as similarity 0", 0},
    {"method", 'm', "M", "add", "analogy objective: add (3CosAdd, gensim's most_similar) | mul (3CosMul)", 0},
    {"store", 's', "STORE", NULL, "for a MODEL: the store it was trained with (default: the recorded path)", 0},
    {"threads", 'j', "N", "0", "threads scanning the rows (0 = one per core)", 0},
    {"quiet", 'q', NULL, NULL, "no progress line on stderr", 0},
    {"json", 0, NULL, NULL, "print the result as one JSON document", 0},
    {"help", 'h', NULL, NULL, "show this help", 0},
    {0}};

/* One column of results: the store, or the model's view. */
typedef struct column {
    const char *name;           /* "store" or "model" */
    wb_wordeval_result r;
    const wb_embedding_view *mv; /* the model's view (model column only) */
} column;

static void eval_progress(void *ud, uint64_t done, uint64_t total) {
    cli_progress(ud, 0, "analogies: %" PRIu64 " / %" PRIu64 " rows", done, total);
}

/* Split a '\n'-joined repeated option value and add each file. */
static int add_files(cli *c, const char *opt, wb_wordtests *t, int pairs) {
    const char *v = cli_str(c, opt);
    if (!v) return 0;
    char *all = strdup(v);
    int rc = 0;
    for (char *save, *f = strtok_r(all, "\n", &save); f && !rc; f = strtok_r(NULL, "\n", &save)) {
        wb_err e;
        wb_err_clear(&e);
        int r = pairs ? wb_wordtests_add_pairs(t, f, &e) : wb_wordtests_add_analogies(t, f, &e);
        if (r) rc = cli_fail(&e, r);
    }
    free(all);
    return rc;
}

/* "87.5% (42/48)" */
static void pct(char *buf, size_t n, const wb_analogy_section *s) {
    snprintf(buf, n, "%5.1f%% (%" PRIu64 "/%" PRIu64 ")", 100 * s->accuracy, s->correct, s->correct + s->incorrect);
}

/* One table row: a name, then one cell per column (the last one unpadded). */
static void row_out(const char *name, char cells[][64], size_t ncol) {
    printf("  %-30s", name);
    for (size_t k = 0; k < ncol; k++) printf(k + 1 < ncol ? "  %-20s" : "  %s", cells[k]);
    putchar('\n');
}

static void print_text(const column *col, size_t ncol, const char *what, uint64_t restrict_vocab, int mul, int dummy,
                       int case_sensitive) {
    printf("%s: %" PRIu64 " rows searched (restrict_vocab %" PRIu64 "), words %s, %s\n", what, col[0].r.vocab,
           restrict_vocab, case_sensitive ? "as they are" : "upper-cased", mul ? "3CosMul" : "3CosAdd");
    if (ncol > 1)
        printf("model: %" PRIu64 " vocabulary words, %" PRIu64 " in the store, %" PRIu64 " changed by training\n",
               col[1].mv->words, col[1].mv->in_store, col[1].mv->changed);
    else if (col[0].mv)
        printf("model: %" PRIu64 " vocabulary words (its own vectors, in vocabulary order)\n", col[0].mv->words);
    char cells[2][64];
    for (size_t f = 0; f < col[0].r.nanalogies; f++) {
        const wb_analogy_result *a0 = &col[0].r.analogies[f];
        printf("\nanalogies %s: %" PRIu64 " questions, %" PRIu64 " out of vocabulary (%.1f%%, %s)", a0->path,
               a0->questions, a0->oov, a0->oov_ratio, dummy ? "counted wrong" : "skipped");
        if (a0->invalid) printf(", %" PRIu64 " invalid lines skipped", a0->invalid);
        putchar('\n');
        for (size_t k = 0; k < ncol; k++) snprintf(cells[k], sizeof cells[k], "%s", col[k].name);
        row_out("section", cells, ncol);
        for (size_t s = 0; s <= a0->nsections; s++) {
            for (size_t k = 0; k < ncol; k++) {
                const wb_analogy_result *a = &col[k].r.analogies[f];
                pct(cells[k], sizeof cells[k], s < a->nsections ? &a->sections[s] : &a->total);
            }
            row_out(s < a0->nsections ? a0->sections[s].name : a0->total.name, cells, ncol);
        }
    }
    for (size_t f = 0; f < col[0].r.npairs; f++) {
        const wb_pairs_result *p0 = &col[0].r.pairs[f];
        printf("\npairs %s: %" PRIu64 " pairs used, %" PRIu64 " out of vocabulary (%.1f%%%s)", p0->path, p0->pairs,
               p0->oov, p0->oov_ratio, dummy ? ", similarity 0" : "");
        if (p0->invalid) printf(", %" PRIu64 " invalid lines skipped", p0->invalid);
        printf("\n  %-8s %9s %10s %9s %10s\n", "", "pearson", "p", "spearman", "p");
        for (size_t k = 0; k < ncol; k++) {
            const wb_pairs_result *p = &col[k].r.pairs[f];
            printf("  %-8s %9.4f %10.3g %9.4f %10.3g\n", col[k].name, p->pearson, p->pearson_p, p->spearman,
                   p->spearman_p);
        }
    }
}

static void json_section(const wb_analogy_section *s) {
    printf("{\"section\":");
    json_str(stdout, s->name, strlen(s->name));
    printf(",\"correct\":%" PRIu64 ",\"incorrect\":%" PRIu64 ",\"accuracy\":", s->correct, s->incorrect);
    json_num(stdout, s->accuracy);
    putchar('}');
}

static void print_json(const column *col, size_t ncol, const char *what, int is_model, uint64_t restrict_vocab,
                       int mul, int dummy, int case_sensitive) {
    printf("{\"vectors\":");
    json_str(stdout, what, strlen(what));
    printf(",\"kind\":\"%s\",\"restrict_vocab\":%" PRIu64 ",\"case_sensitive\":%s,\"dummy4unknown\":%s,"
           "\"method\":\"%s\",\"results\":[",
           is_model ? "model" : "store", restrict_vocab, case_sensitive ? "true" : "false", dummy ? "true" : "false",
           mul ? "mul" : "add");
    for (size_t k = 0; k < ncol; k++) {
        const wb_wordeval_result *r = &col[k].r;
        printf("%s{\"view\":\"%s\",\"vocab\":%" PRIu64 ",\"seconds\":", k ? "," : "", col[k].name, r->vocab);
        json_num(stdout, r->seconds);
        if (col[k].mv)
            printf(",\"words\":%" PRIu64 ",\"in_store\":%" PRIu64 ",\"changed\":%" PRIu64, col[k].mv->words,
                   col[k].mv->in_store, col[k].mv->changed);
        printf(",\"analogies\":[");
        for (size_t f = 0; f < r->nanalogies; f++) {
            const wb_analogy_result *a = &r->analogies[f];
            printf("%s{\"file\":", f ? "," : "");
            json_str(stdout, a->path, strlen(a->path));
            printf(",\"questions\":%" PRIu64 ",\"oov\":%" PRIu64 ",\"invalid\":%" PRIu64 ",\"oov_ratio\":",
                   a->questions, a->oov, a->invalid);
            json_num(stdout, a->oov_ratio);
            printf(",\"sections\":[");
            for (size_t s = 0; s < a->nsections; s++) {
                if (s) putchar(',');
                json_section(&a->sections[s]);
            }
            printf("],\"total\":");
            json_section(&a->total);
            putchar('}');
        }
        printf("],\"pairs\":[");
        for (size_t f = 0; f < r->npairs; f++) {
            const wb_pairs_result *p = &r->pairs[f];
            printf("%s{\"file\":", f ? "," : "");
            json_str(stdout, p->path, strlen(p->path));
            printf(",\"pairs\":%" PRIu64 ",\"oov\":%" PRIu64 ",\"invalid\":%" PRIu64, p->pairs, p->oov, p->invalid);
            const char *names[] = {"pearson", "pearson_p", "spearman", "spearman_p", "oov_ratio"};
            const double vals[] = {p->pearson, p->pearson_p, p->spearman, p->spearman_p, p->oov_ratio};
            for (int i = 0; i < 5; i++) {
                printf(",\"%s\":", names[i]);
                json_num(stdout, vals[i]);
            }
            putchar('}');
        }
        printf("]}");
    }
    printf("]}\n");
}

static int run_evaluate(cli *c) {
    uint64_t restrict_vocab, thr;
    if (cli_u64(c, "restrict-vocab", 0, UINT64_MAX, &restrict_vocab) || cli_u64(c, "threads", 0, 256, &thr))
        return EXIT_USAGE;
    int method = cli_choice(c, "method", "add|mul");
    if (method < 0) return EXIT_USAGE;
    if (!cli_given(c, "analogies") && !cli_given(c, "pairs"))
        return cli_usage(c, "nothing to evaluate: give --analogies FILE and/or --pairs FILE");
    const char *what = c->argv[0];
    struct stat sb;
    if (stat(what, &sb)) {
        cli_warn("%s: %s", what, strerror(errno));
        return EXIT_FAIL;
    }
    const int is_model = !S_ISDIR(sb.st_mode);
    if (!is_model && cli_given(c, "store")) return cli_usage(c, "--store is for a MODEL; the argument is a store");
    const int case_sensitive = cli_flag(c, "case-sensitive");
    wb_err e;
    wb_err_clear(&e);
    wb_wordtests *t = NULL;
    int rc = wb_wordtests_create(&t, case_sensitive, &e);
    if (rc) return cli_fail(&e, rc);
    if ((rc = add_files(c, "analogies", t, 0)) || (rc = add_files(c, "pairs", t, 1))) {
        wb_wordtests_destroy(t);
        return rc;
    }
    wb_wordeval_opts o;
    wb_wordeval_opts_init(&o);
    o.restrict_vocab = restrict_vocab;
    o.dummy4unknown = cli_flag(c, "dummy4unknown");
    o.method = method ? WB_ANALOGY_MUL : WB_ANALOGY_ADD;
    o.threads = (unsigned)thr;
    o.progress = eval_progress;
    o.ud = c;
    column col[2];
    memset(col, 0, sizeof col);
    size_t ncol = 0;
    wb_store *st = NULL;
    wb_bundle *b = NULL;
    wb_embedding_view mv;
    memset(&mv, 0, sizeof mv);
    if (!is_model) {
        rc = wb_store_open(&st, what, &e);
        if (rc) rc = cli_fail(&e, rc);
        wb_wordvecs v = {.store = st};
        if (!rc && (rc = wb_wordeval_run(&v, t, &o, &col[0].r, &e))) rc = cli_fail(&e, rc);
        col[0].name = "store";
        ncol = 1;
    } else {
        rc = cli_load_bundle(c, what, 1, &b);
        if (!rc && (rc = wb_embedding_view_build(b, &mv, &e))) rc = cli_fail(&e, rc);
        if (!rc && mv.over_store) { /* the untouched store first, then the model's view of it */
            wb_wordvecs v = {.store = b->store};
            col[ncol].name = "store";
            rc = wb_wordeval_run(&v, t, &o, &col[ncol++].r, &e);
            if (rc) rc = cli_fail(&e, rc);
        }
        if (!rc) {
            col[ncol].name = "model";
            col[ncol].mv = &mv;
            rc = wb_wordeval_run(&mv.vecs, t, &o, &col[ncol++].r, &e);
            if (rc) rc = cli_fail(&e, rc);
        }
    }
    cli_progress(c, 1, " ");
    if (!rc) {
        if (c->json) print_json(col, ncol, what, is_model, restrict_vocab, method, o.dummy4unknown, case_sensitive);
        else print_text(col, ncol, what, restrict_vocab, method, o.dummy4unknown, case_sensitive);
        for (size_t k = 0; k < ncol && !c->quiet; k++)
            for (size_t f = 0; f < col[k].r.npairs; f++)
                if (col[k].r.pairs[f].pairs < 2)
                    cli_warn("%s: %s: fewer than 2 pairs in the vocabulary, no correlation", col[k].name,
                             col[k].r.pairs[f].path);
    }
    for (size_t k = 0; k < 2; k++) wb_wordeval_result_free(&col[k].r);
    wb_embedding_view_free(&mv);
    wb_bundle_destroy(b);
    wb_store_close(st);
    wb_wordtests_destroy(t);
    return rc;
}

const cli_cmd cmd_evaluate = {"evaluate", "[options] STORE|MODEL",
                              "Analogy and word-pair benchmarks, as gensim's evaluate_word_analogies/_pairs.",
                              evaluate_opts, 1, 1, run_evaluate};

/* ---- export-embeddings ------------------------------------------------------------ */

static const cli_opt export_emb_opts[] = {
    {"store", 's', "STORE", NULL, "the store the model was trained with (default: the recorded path)", 0},
    CLI_OPT_VERIFY_ON_OPEN,
    {"dtype", 0, "TYPE", "f32", "stored element type: f32|f16", 0},
    {"force", 0, NULL, NULL, "replace an existing store (atomically)", 0},
    {"quiet", 'q', NULL, NULL, "accepted for symmetry", 0},
    {"json", 0, NULL, NULL, "print the result as one JSON document", 0},
    {"help", 'h', NULL, NULL, "show this help", 0},
    {0}};

static int run_export_embeddings(cli *c) {
    int dt = cli_choice(c, "dtype", "f32|f16");
    if (dt < 0) return EXIT_USAGE;
    wb_bundle *b;
    int rc = cli_load_bundle(c, c->argv[0], 1, &b);
    if (rc) return rc;
    wb_store_writer_opts o;
    wb_store_writer_opts_init(&o);
    o.dtype = dt ? WB_DTYPE_F16 : WB_DTYPE_F32;
    o.force = cli_flag(c, "force");
    const char *slash = strrchr(c->argv[0], '/');
    o.source = slash ? slash + 1 : c->argv[0];
    wb_embedding_export_stats s;
    wb_err e;
    wb_err_clear(&e);
    rc = wb_embedding_export(b, c->argv[1], &o, &s, &e);
    if (rc) rc = cli_fail(&e, rc);
    else if (c->json) {
        printf("{\"store\":");
        json_str(stdout, c->argv[1], strlen(c->argv[1]));
        printf(",\"rows\":%" PRIu64 ",\"dim\":%zu,\"dtype\":\"%s\",\"from_store\":%" PRIu64 ",\"changed\":%" PRIu64
               ",\"own\":%" PRIu64 ",\"zero\":%" PRIu64 ",\"fingerprint\":\"%016" PRIx64 "\"}\n",
               s.rows, wb_model_cfg_get(b->model)->E, dt ? "f16" : "f32", s.from_store, s.changed, s.own, s.zero,
               s.fingerprint);
    } else {
        printf("%s: %" PRIu64 " rows x %zu (%s): %" PRIu64 " store rows, %" PRIu64 " changed by training, %" PRIu64
               " the model's own; %" PRIu64 " all zero; fingerprint %016" PRIx64 "\n",
               c->argv[1], s.rows, wb_model_cfg_get(b->model)->E, dt ? "f16" : "f32", s.from_store, s.changed, s.own,
               s.zero, s.fingerprint);
    }
    wb_bundle_destroy(b);
    return rc;
}

const cli_cmd cmd_export_embeddings = {"export-embeddings", "[options] MODEL OUT_STORE",
                                       "Write a model's embedding (its vocabulary, trained rows in place) as a store.",
                                       export_emb_opts, 2, 2, run_export_embeddings};
