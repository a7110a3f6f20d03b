/*
 * cli_ds.h — the data-set options shared by every command that reads
 * labelled text (`data stats|show`, `train`, `eval`): one macro with their
 * option-table entries (defaults live there, so --help prints them), one
 * function that turns the parsed values into a wb_dataset_opts with range
 * checks, and the report of what the data-set cache did.
 *
 * Where the data set lives: --cache-dir DIR; else the per-user cache
 * (wb_dataset_default_cache_dir: $XDG_CACHE_HOME/wordbench or
 * ~/.cache/wordbench); --no-cache builds it in a temporary directory
 * ($TMPDIR) removed at once.
 *
 * Several --text-col make one input per column (WB_TEXT_EACH, for models
 * with several text inputs): --maxlen N gives each N ids, --maxlen
 * NAME=N,NAME=N (one entry for each --text-col, in any order) each its own.
 *
 * Use:
 *   static const cli_opt train_opts[] = {
 *       CLI_DATASET_OPTS("100", "pad or truncate every text to N tokens"),
 *       {"epochs", 0, "N", "10", "...", 0},
 *       ...
 *       {0}};
 *   ...
 *   wb_dataset_opts o;
 *   cli_ds_strings s;
 *   int rc = cli_ds_opts(c, c->argv[0], 0, &o, &s);
 *   if (rc) { cli_ds_strings_free(&s); return rc; }        // EXIT_USAGE or EXIT_FAIL, printed
 *   wb_dataset *ds; wb_dataset_stats st; wb_err e; wb_err_clear(&e);
 *   int lrc = wb_dataset_build(&ds, &o, &st, &e);
 *   cli_ds_report(c, &o, &st);                               // cache line on stderr
 *   cli_ds_strings_free(&s);                                 // after the build: o borrows s
 *   if (lrc) return cli_fail(&e, lrc);
 *
 * The table of a command using CLI_DATASET_OPTS must also have "quiet" (the
 * report and warnings honour it).  "--split" is not among these options: the
 * split MODE is --split-mode, so that a command may use --split for a part
 * (`data show --split test`).
 *
 * Leaves out: --store (a command decides what it does with a store), k-fold
 * options (the search issue), the TSV header switch (auto-detected), a
 * switch for WB_TEXT_JOIN (no model asks for it yet).
 */
#ifndef WB_CLI_DS_H
#define WB_CLI_DS_H

#include "cli.h"
#include "wordbench/dataset.h"

#define CLI_DS_MAX_COLS 64 /* --text-col / --feature-col values accepted */

/* Option-table entries (26).  MAXLEN_DEF is the command's --maxlen default
 * as a string ("100" for training; "0" where 0 means "as is" and the caller
 * passes CLI_DS_MAXLEN0), MAXLEN_HELP its help line. */
#define CLI_DATASET_OPTS(MAXLEN_DEF, MAXLEN_HELP)                                                          \
    {"format", 'f', "FMT", "auto", "input format: auto|tsv|fasttext|csv", 0},                              \
    {"text-col", 0, "NAME", "text", "CSV text column (several: one input each, --maxlen N for all or NAME=N each)", 1}, \
    {"label-col", 0, "NAME", "label", "CSV label column", 0},                                              \
    {"label-sep", 0, "SEP", NULL, "split the label field at these bytes (e.g. ' ' for tag lists)", 0},     \
    {"label-prefix", 0, "P", "__label__", "fastText label prefix", 0},                                     \
    {"feature-col", 0, "NAME", NULL, "CSV numeric feature column", 1},                                     \
    {"skip-bad", 0, NULL, NULL, "skip records with a per-record error instead of failing", 0},            \
    {"tokenizer", 't', "KIND", "keras", "keras|fasttext|unicode|char", 0},                                 \
    {"no-lower", 0, NULL, NULL, "keep case", 0},                                                           \
    {"max-doc-chars", 0, "N", "0", "use only the first N characters of each text (0 = all)", 0},           \
    {"strip-html", 0, NULL, NULL, "remove HTML tags and decode entities", 0},                              \
    {"alphabet", 0, "CHARS", NULL, "char tokenizer: the known characters (default: Zhang et al.'s 69)", 0}, \
    {"num-words", 0, "N", "0", "keep word ids < N, as Keras' Tokenizer(num_words=N, oov_token) (0 = all)", 0}, \
    {"min-count", 0, "N", "1", "drop words seen fewer than N times in the training split", 0},             \
    {"maxlen", 0, "N|NAME=N,..", MAXLEN_DEF, MAXLEN_HELP, 0},                                               \
    {"padding", 0, "SIDE", "post", "pre|post", 0},                                                         \
    {"truncating", 0, "SIDE", "post", "pre|post: which end a long text loses", 0},                         \
    {"valid", 0, "FILE", NULL, "validation file (same format and options)", 0},                            \
    {"test", 0, "FILE", NULL, "test file (instead of --test-size)", 0},                                    \
    {"test-size", 0, "F", "0", "hold out this share of FILE as the test split, 0 <= F < 1", 0},           \
    {"seed", 0, "S", "0", "seed of the --test-size split", 0},                                              \
    {"split-mode", 0, "MODE", "stratify", "random|stratify|iterative (see split.h)", 0},                   \
    {"task", 0, "TASK", "auto", "auto|binary|multiclass|multilabel", 0},                                   \
    {"unknown-label", 0, "WHAT", "error", "error|skip: a valid/test label never seen in FILE", 0},         \
    {"cache-dir", 0, "DIR", NULL, "keep data sets here (default: $XDG_CACHE_HOME/wordbench or ~/.cache/wordbench)", 0}, \
    {"no-cache", 0, NULL, NULL, "build the data set in a temporary directory ($TMPDIR), removed at exit", 0}

/* Storage for what a filled wb_dataset_opts borrows (column name arrays and
 * the copies of repeated values).  Zero it or let cli_ds_opts do so. */
typedef struct cli_ds_strings {
    char *text_buf;                            /* owned: '\n'-joined --text-col values, split in place */
    char *feat_buf;                            /* owned: the same for --feature-col */
    const char *text_cols[CLI_DS_MAX_COLS];    /* pointers into text_buf */
    const char *feature_cols[CLI_DS_MAX_COLS]; /* pointers into feat_buf */
    size_t maxlens[CLI_DS_MAX_COLS];           /* per text column: --maxlen NAME=N, or N for all */
    int one_maxlen;                            /* several --text-col, one --maxlen N (or none) */
    char *cache_dir;                           /* owned: the default cache directory */
} cli_ds_strings;

/* o->maxlen = maxlen, and every input's when one --maxlen serves several
 * text columns (a command's default decided after cli_ds_opts, e.g. the
 * model kind's). */
void cli_ds_set_maxlen(wb_dataset_opts *o, cli_ds_strings *s, size_t maxlen);

/* cli_ds_opts flags. */
enum {
    CLI_DS_MAXLEN0 = 1 /* accept --maxlen 0 (o->maxlen = 0): the caller must replace it before
                          wb_dataset_build, which needs maxlen >= 1 */
};

/* Fill *o (from wb_dataset_opts_init) from the parsed options of `c`;
 * train_path is the training FILE argument (borrowed).  *s receives the
 * strings o borrows: keep it until the build is done, then
 * cli_ds_strings_free.  Checks every value: choices, number ranges
 * (--max-doc-chars and --min-count 0..2^32-1, --num-words 0..2^31-1,
 * --maxlen 1..2^24 or 0 with CLI_DS_MAXLEN0, --test-size in [0,1), --seed any
 * u64), at most CLI_DS_MAX_COLS non-empty column names, --alphabet only with
 * --tokenizer char, --test-size with --test, stdin ("-") for more than one
 * file, --cache-dir with --no-cache, --maxlen NAME=N naming each --text-col
 * once.  Returns 0 or EXIT_USAGE after printing the usage message.  *s is
 * safe to free in every case. */
int cli_ds_opts(const cli *c, const char *train_path, unsigned flags, wb_dataset_opts *o,
                cli_ds_strings *s);

/* Release what cli_ds_opts allocated in *s (safe on a zeroed struct). */
void cli_ds_strings_free(cli_ds_strings *s);

/* Path of the data set of a build in the cache (malloc'd; NULL without a
 * cache or on ENOMEM). */
char *cli_ds_cache_file(const wb_dataset_opts *o, const wb_dataset_stats *st);

/* One line on stderr about the cache unless --quiet or no --cache-dir given
 * (the default cache is silent): "wordbench: dataset cache hit: DIR/KEY.wbds"
 * or "... written: ..." (with "(replaced an invalid data set)").  Also warns
 * about valid/test records skipped for unknown labels. */
void cli_ds_report(const cli *c, const wb_dataset_opts *o, const wb_dataset_stats *st);

/* The cache as a JSON value on f: null without a cache (--no-cache, stdin),
 * else {"file": "...", "key": "16 hex digits", "hit": bool, "written": bool,
 *  "rejected": bool, "waited": bool}. */
void cli_ds_json_cache(FILE *f, const wb_dataset_opts *o, const wb_dataset_stats *st);

/* The cache directory the options name (--cache-dir or the default; NULL
 * with --no-cache or when there is no default), for `data cache`. */
const char *cli_ds_cache_dir(const cli *c, cli_ds_strings *s);

#endif
