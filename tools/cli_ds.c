/*
 * cli_ds.c — the shared data-set options (see cli_ds.h): parsed values to a
 * range-checked wb_dataset_opts, and the dataset-cache report.  Leaves out
 * the commands; they build and use the data set themselves.
 */
#include "cli_ds.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "wordbench/split.h"

/* Copy a repeated option's '\n'-joined values into *buf and point out[] at
 * them.  Returns the count, or -1 after printing (too many, or empty). */
static int split_values(const cli *c, const char *name, char **buf, const char **out) {
    const char *v = cli_str(c, name);
    if (!v) return 0;
    *buf = strdup(v);
    if (!*buf) return cli_usage(c, "out of memory"), -1;
    int n = 0;
    char *p = *buf;
    for (;;) {
        char *e = strchr(p, '\n');
        if (e) *e = 0;
        if (!*p) return cli_usage(c, "--%s: an empty column name", name), -1;
        if (n == CLI_DS_MAX_COLS) return cli_usage(c, "--%s: more than %d columns", name, CLI_DS_MAX_COLS), -1;
        out[n++] = p;
        if (!e) break;
        p = e + 1;
    }
    return n;
}

void cli_ds_strings_free(cli_ds_strings *s) {
    if (!s) return;
    free(s->text_buf);
    free(s->feat_buf);
    free(s->cache_dir);
    s->text_buf = s->feat_buf = s->cache_dir = NULL;
}

void cli_ds_set_maxlen(wb_dataset_opts *o, cli_ds_strings *s, size_t maxlen) {
    o->maxlen = maxlen;
    if (s->one_maxlen)
        for (size_t i = 0; i < o->reader.n_text_cols; i++) s->maxlens[i] = maxlen;
}

/* --maxlen NAME=N,NAME=N: one maxlen per text column (nt of them, names in
 * cols), into out[].  Returns 0 or EXIT_USAGE after printing. */
static int maxlen_list(const cli *c, const char *v, const char *const *cols, int nt, size_t *out) {
    int seen[CLI_DS_MAX_COLS] = {0};
    const char *p = v;
    while (*p) {
        const char *eq = strchr(p, '='), *end = strchr(p, ',');
        if (!end) end = p + strlen(p);
        if (!eq || eq > end || eq == p)
            return cli_usage(c, "--maxlen %s: expected N or NAME=N,NAME=N (one per --text-col)", v);
        int k = -1;
        for (int i = 0; i < nt && k < 0; i++)
            if (strlen(cols[i]) == (size_t)(eq - p) && !memcmp(cols[i], p, (size_t)(eq - p))) k = i;
        if (k < 0) return cli_usage(c, "--maxlen: '%.*s' is not a --text-col", (int)(eq - p), p);
        if (seen[k]++) return cli_usage(c, "--maxlen: '%s' given twice", cols[k]);
        char *e;
        errno = 0;
        unsigned long long n = strtoull(eq + 1, &e, 10);
        if (e != end || eq + 1 == end || errno || n < 1 || n > (1u << 24))
            return cli_usage(c, "--maxlen %s: '%.*s' is not a number in 1..16777216", cols[k], (int)(end - eq - 1),
                             eq + 1);
        out[k] = (size_t)n;
        p = *end ? end + 1 : end;
    }
    for (int i = 0; i < nt; i++)
        if (!seen[i]) return cli_usage(c, "--maxlen: no length for --text-col '%s'", cols[i]);
    return 0;
}

int cli_ds_opts(const cli *c, const char *train_path, unsigned flags, wb_dataset_opts *o,
                cli_ds_strings *s) {
    memset(s, 0, sizeof *s);
    wb_dataset_opts_init(o);
    o->train_path = train_path;

    int fmt = cli_choice(c, "format", "auto|tsv|fasttext|csv");
    if (fmt < 0) return EXIT_USAGE;
    int tok = cli_choice(c, "tokenizer", "keras|fasttext|unicode|char");
    if (tok < 0) return EXIT_USAGE;
    int pad = cli_choice(c, "padding", "pre|post");
    if (pad < 0) return EXIT_USAGE;
    int trunc = cli_choice(c, "truncating", "pre|post");
    if (trunc < 0) return EXIT_USAGE;
    int mode = cli_choice(c, "split-mode", "random|stratify|iterative");
    if (mode < 0) return EXIT_USAGE;
    int task = cli_choice(c, "task", "auto|binary|multiclass|multilabel");
    if (task < 0) return EXIT_USAGE;
    int unk = cli_choice(c, "unknown-label", "error|skip");
    if (unk < 0) return EXIT_USAGE;

    uint64_t mdc, nw, mc, ml = 0, seed;
    const char *mlv = cli_str(c, "maxlen");
    int per_col = mlv && strchr(mlv, '=');
    if (cli_u64(c, "max-doc-chars", 0, UINT32_MAX, &mdc) || cli_u64(c, "num-words", 0, INT32_MAX, &nw) ||
        cli_u64(c, "min-count", 0, UINT32_MAX, &mc) ||
        (!per_col && cli_u64(c, "maxlen", (flags & CLI_DS_MAXLEN0) ? 0 : 1, 1u << 24, &ml)) ||
        cli_u64(c, "seed", 0, UINT64_MAX, &seed) || cli_f64(c, "test-size", 0, 1, 1, &o->test_fraction))
        return EXIT_USAGE;

    /* reader */
    static const wb_reader_format fmts[] = {WB_READER_AUTO, WB_READER_TSV, WB_READER_FASTTEXT, WB_READER_CSV};
    o->reader.format = fmts[fmt];
    o->reader.label_prefix = cli_str(c, "label-prefix");
    o->reader.label_col = cli_str(c, "label-col");
    o->reader.label_sep = cli_str(c, "label-sep");
    o->reader.skip_bad = cli_flag(c, "skip-bad");
    if (o->reader.label_prefix && !*o->reader.label_prefix) return cli_usage(c, "--label-prefix must not be empty");
    int nt = split_values(c, "text-col", &s->text_buf, s->text_cols);
    if (nt < 0) return EXIT_USAGE;
    int nf = split_values(c, "feature-col", &s->feat_buf, s->feature_cols);
    if (nf < 0) return EXIT_USAGE;
    if (nt) {
        o->reader.text_cols = s->text_cols;
        o->reader.n_text_cols = (size_t)nt;
    }
    if (nf) {
        o->reader.feature_cols = s->feature_cols;
        o->reader.n_feature_cols = (size_t)nf;
    }
    if (per_col) {
        if (!nt) return cli_usage(c, "--maxlen NAME=N needs the --text-col names");
        if (maxlen_list(c, mlv, s->text_cols, nt, s->maxlens)) return EXIT_USAGE;
        o->text_mode = WB_TEXT_EACH;
        o->maxlens = s->maxlens;
        ml = s->maxlens[0];
    } else if (nt > 1) { /* one value for all: every column an input of that length */
        o->text_mode = WB_TEXT_EACH;
        o->maxlens = s->maxlens;
        s->one_maxlen = 1;
        for (int i = 0; i < nt; i++) s->maxlens[i] = (size_t)ml;
    }

    /* tokenizer */
    wb_tokenize_opts_init(&o->tok, (wb_tok_kind)tok);
    if (cli_flag(c, "no-lower")) o->tok.lower = 0;
    o->tok.max_doc_chars = (size_t)mdc;
    o->tok.strip_html = cli_flag(c, "strip-html");
    const char *alpha = cli_str(c, "alphabet");
    if (alpha) {
        if (tok != WB_TOK_CHAR) return cli_usage(c, "--alphabet needs --tokenizer char");
        if (!*alpha) return cli_usage(c, "--alphabet must not be empty");
        o->tok.alphabet = alpha;
    }

    /* vocabulary and sequences */
    o->num_words = nw;
    o->min_count = mc;
    o->maxlen = (size_t)ml;
    o->padding = pad ? WB_PAD_POST : WB_PAD_PRE;
    o->truncating = trunc ? WB_PAD_POST : WB_PAD_PRE;

    /* splits */
    o->valid_path = cli_str(c, "valid");
    o->test_path = cli_str(c, "test");
    o->seed = seed;
    static const int modes[] = {WB_SPLIT_RANDOM, WB_SPLIT_STRATIFY, WB_SPLIT_ITERATIVE};
    o->split_mode = modes[mode];
    o->task = (wb_task)task; /* the choices are in wb_task order */
    o->unknown_skip = unk == 1;
    if (o->test_fraction > 0 && o->test_path)
        return cli_usage(c, "give --test FILE or --test-size F, not both");
    int stdin_uses = !strcmp(train_path, "-") + (o->valid_path && !strcmp(o->valid_path, "-")) +
                     (o->test_path && !strcmp(o->test_path, "-"));
    if (stdin_uses > 1) return cli_usage(c, "only one of FILE, --valid and --test can be '-' (stdin)");
    if ((o->valid_path && !*o->valid_path) || (o->test_path && !*o->test_path))
        return cli_usage(c, "--valid and --test need a file name");

    /* where the data set lives (the library creates the directory) */
    o->cache_dir = cli_ds_cache_dir(c, s);
    if (cli_given(c, "cache-dir") && cli_flag(c, "no-cache")) return cli_usage(c, "give --cache-dir or --no-cache, not both");
    if (cli_given(c, "cache-dir")) {
        struct stat sb;
        const char *dir = cli_str(c, "cache-dir");
        if (!*dir) return cli_usage(c, "--cache-dir needs a directory name");
        if (stat(dir, &sb) == 0 && !S_ISDIR(sb.st_mode)) return cli_usage(c, "--cache-dir %s is not a directory", dir);
    }
    return 0;
}

const char *cli_ds_cache_dir(const cli *c, cli_ds_strings *s) {
    if (cli_flag(c, "no-cache")) return NULL;
    if (cli_given(c, "cache-dir")) return cli_str(c, "cache-dir");
    if (!s->cache_dir) s->cache_dir = wb_dataset_default_cache_dir();
    return s->cache_dir;
}

char *cli_ds_cache_file(const wb_dataset_opts *o, const wb_dataset_stats *st) {
    if (!o->cache_dir || !st->key) return NULL;
    size_t n = strlen(o->cache_dir) + 32;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%016llx.wbds", o->cache_dir, (unsigned long long)st->key);
    return p;
}

void cli_ds_report(const cli *c, const wb_dataset_opts *o, const wb_dataset_stats *st) {
    if (c->quiet) return;
    if (st->skipped_unknown)
        cli_warn("%llu valid/test records skipped: a label never seen in %s (--unknown-label skip)",
                 (unsigned long long)st->skipped_unknown, o->train_path);
    char *f = cli_given(c, "cache-dir") ? cli_ds_cache_file(o, st) : NULL;
    if (!f) return;
    if (st->cache_hit) cli_warn("dataset cache hit: %s%s", f, st->cache_waited ? " (built by another process)" : "");
    else if (st->cache_written) cli_warn("dataset cache written: %s%s", f,
                                          st->cache_rejected ? " (replaced an invalid data set)" : "");
    free(f);
}

void cli_ds_json_cache(FILE *f, const wb_dataset_opts *o, const wb_dataset_stats *st) {
    char *p = cli_ds_cache_file(o, st);
    if (!p) {
        fputs("null", f);
        return;
    }
    fputs("{\"file\": ", f);
    json_str(f, p, strlen(p));
    fprintf(f, ", \"key\": \"%016llx\", \"hit\": %s, \"written\": %s, \"rejected\": %s, \"waited\": %s}",
            (unsigned long long)st->key, st->cache_hit ? "true" : "false", st->cache_written ? "true" : "false",
            st->cache_rejected ? "true" : "false", st->cache_waited ? "true" : "false");
    free(p);
}
