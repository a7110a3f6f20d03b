/*
 * wordbench/dataset.h — a labelled text file turned into what the trainer
 * eats: padded index sequences X, label sets, a label table, a task, a
 * train/valid/test membership, the vocabulary; with an on-disk cache.
 *
 * wb_dataset_build(opts) does, in this order:
 *   1. reads the training FILE with the reader (reader.h) and tokenizes the
 *      FIRST text field of every record (tokenize.h), keeping its token
 *      count (wb_dataset_lengths) and its numeric features (CSV
 *      feature_cols; wb_dataset_features).  Further text fields (CSV with
 *      several text columns) are read but not used yet;
 *   2. builds the label table from the labels of the training FILE (both
 *      parts of a test_fraction split) and decides the task (below);
 *   3. reads the optional valid and test files with the same reader and
 *      tokenizer options; their labels must be in the table (see
 *      unknown_skip);
 *   4. splits the training file (test_fraction + seed) with the split module;
 *   5. builds the vocabulary from the TRAINING part only (split value
 *      WB_DS_TRAIN) with num_words / min_count (vocab.h semantics: 0 = pad,
 *      1 = OOV, so a word seen only in test/valid examples encodes to 1);
 *   6. encodes every example (all files, file order: training file, then
 *      valid, then test) to int32[maxlen] with padding / truncating.
 *
 * Label ids: the distinct label names of the training file sorted byte-wise
 * (memcmp, shorter first on a common prefix), numbered 0, 1, ...  So "ham" = 0
 * and "spam" = 1, "0" = 0 and "1" = 1, and ids do not depend on record order:
 * stable across runs and across files holding the same label names.  Labels
 * repeated within one record are counted once; each record's ids are sorted.
 *
 * Task (wb_task).  WB_TASK_AUTO detects it from the training file: multilabel
 * if any record has a number of distinct labels other than 1; else binary if
 * there are exactly 2 distinct labels; else multiclass (1 label included).
 * A forced task is checked: binary with a third distinct label is WB_EFORMAT
 * naming that label and its file:line (the first line where a third label
 * appears); binary or multiclass with a record holding several labels is
 * WB_EFORMAT at that record's file:line (also in valid/test files).
 * Multilabel accepts everything.
 *
 * Split values (wb_dataset_split): WB_DS_TRAIN, WB_DS_TEST, WB_DS_VALID.
 * With test_fraction > 0 the training file is split by wb_split_train_test
 * (split_mode: WB_SPLIT_STRATIFY, the default, is per-class for single-label
 * tasks and iterative stratification for multilabel; see split.h for the
 * exact rounding).  Records of the valid file are WB_DS_VALID, of the test
 * file WB_DS_TEST.  test_fraction > 0 together with a test file is
 * WB_EUSAGE; a valid file may be combined with test_fraction.
 *
 * Cache (cache_dir not NULL).  The key is XXH3-64 (streaming) over: a
 * format tag, the paths as given of the training, valid and test files (the
 * path matters: WB_READER_AUTO looks at the name), the bytes of the three
 * files, and every option in wb_dataset_opts that changes the result (all
 * reader and tokenizer options, num_words, min_count, maxlen, padding,
 * truncating, test_fraction, seed, split_mode, task, unknown_skip).  The file
 * is <cache_dir>/<key as 16 lower-case hex digits>.wbds.  A stdin path ("-")
 * disables the cache (the input cannot be read twice).  Inputs are hashed
 * before they are read: a file changed between the two is not detected.
 *
 * Cache file format (version 2; integers little-endian):
 *   0    8 bytes  magic "WBDSET\0\0"
 *   8    u32      version (2; version 1 files are ignored and rewritten)
 *   12   u32      flags (0)
 *   16   u64      key
 *   24   u64      n examples
 *   32   u64      maxlen
 *   40   u32      task
 *   44   u32      nlabels L
 *   48   u64      label ids in the CSR, nnz
 *   56   u64      skipped_unknown
 *   64   u64      vocabulary bytes VB
 *   72   u64      features per example NF
 *   80   u64      records skipped by the reader (skip_bad), all files
 *   88   u64      invalid UTF-8 sequences replaced by the reader, all files
 *   96   u32      format of the training file (wb_reader_format)
 *   100  u32      reserved (0)
 *   104  u64      distinct training words before min_count / num_words
 *   112  L times: u32 len, len bytes (label names, id order)
 *        VB bytes: the vocabulary (wb_vocab_save_buf format)
 *        n*maxlen i32: X, row-major
 *        (n+1) u64: label offsets
 *        nnz u32: label ids
 *        n u8: split
 *        n u32: token counts before padding and truncating
 *        n*NF f64: features, row-major, IEEE-754 bits as u64
 *   end  u64      XXH3-64 of every preceding byte
 * It is written to a temporary file in cache_dir and renamed into place, so
 * a reader sees either no file or a whole one.  On build, an existing file is
 * used only if its size, checksum, magic, version and key are right and its
 * contents are consistent (label CSR, ids, split values, X ids below the
 * vocabulary size, each row holding min(length, maxlen) non-zero ids, finite
 * features); otherwise it is ignored (stats->cache_rejected = 1),
 * rebuilt and overwritten.  Never trusted blindly.  A failure to WRITE the
 * cache does not fail the build: it is reported in stats->cache_write_error.
 *
 * Deliberately not here (dropped for now): several text fields per example
 * (only texts[0] is used), k-fold, per-example source
 * lines, cache eviction, fault-injection sites for the cache's I/O paths,
 * multi-threaded tokenizing.  The cache assumes nothing about the host's byte
 * order (explicit little-endian encoding).
 *
 * Errors: WB_EUSAGE (bad options), WB_EFORMAT (reader errors, empty training
 * file, task conflicts, unknown labels; err names file:line), WB_ENOMEM,
 * positive errno from reading inputs (err names the file), and the codes of
 * the reader, tokenizer, vocabulary and split modules passed through.
 *
 * Memory: a dataset owns everything its accessors return; pointers are
 * borrowed until wb_dataset_destroy.  While building, all tokens of all
 * files are held in memory (about the size of the text).
 *
 * Threads: a finished dataset is read-only and may be shared.
 */
#ifndef WORDBENCH_DATASET_H
#define WORDBENCH_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "wordbench/err.h"
#include "wordbench/reader.h"
#include "wordbench/tokenize.h"
#include "wordbench/vocab.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WB_DATASET_VERSION 2u      /* cache file format version */

/* The learning task. */
typedef enum wb_task {
    WB_TASK_AUTO = 0,   /* detect from the training file (options only) */
    WB_TASK_BINARY,     /* exactly one of two labels per example */
    WB_TASK_MULTICLASS, /* exactly one label per example */
    WB_TASK_MULTILABEL  /* any set of labels per example */
} wb_task;

/* Split membership values. */
enum {
    WB_DS_TRAIN = 0, /* training part (the vocabulary comes from these) */
    WB_DS_TEST = 1,  /* test part of the training file, or the test file */
    WB_DS_VALID = 2  /* the valid file */
};

/* Build options.  Always start from wb_dataset_opts_init().  Strings are
 * borrowed for the duration of wb_dataset_build. */
typedef struct wb_dataset_opts {
    const char *train_path;     /* training file ("-" = stdin); required */
    const char *valid_path;     /* optional valid file, NULL = none */
    const char *test_path;      /* optional test file, NULL = none */
    wb_reader_opts reader;      /* reader options for every file (default all-zero) */
    wb_tokenize_opts tok;       /* tokenizer (default WB_TOK_KERAS defaults) */
    uint64_t num_words;         /* keep ids < num_words; 0 = all (vocab.h) */
    uint64_t min_count;         /* drop words seen fewer times (default 0) */
    size_t maxlen;              /* sequence length, >= 1 (default 100) */
    wb_pad_side padding;        /* default WB_PAD_POST */
    wb_pad_side truncating;     /* default WB_PAD_POST */
    double test_fraction;       /* 0 = no split of the training file; else in (0,1) */
    uint64_t seed;              /* split seed (default 0) */
    int split_mode;             /* WB_SPLIT_*; default WB_SPLIT_STRATIFY */
    wb_task task;               /* default WB_TASK_AUTO */
    int unknown_skip;           /* 1: valid/test records with a label not in the
                                   training file are skipped and counted; 0: error */
    const char *cache_dir;      /* existing directory for the cache, NULL = no cache */
} wb_dataset_opts;

/* What a build did.  Filled by wb_dataset_build when not NULL (also on
 * failure, as far as known). */
typedef struct wb_dataset_stats {
    int cache_hit;              /* 1: loaded from the cache file, nothing tokenized */
    int cache_rejected;         /* 1: a cache file existed but was invalid (ignored) */
    int cache_written;          /* 1: a cache file was written */
    int cache_write_error;      /* 0, or the code why writing the cache failed */
    uint64_t key;               /* the cache key (0 without cache) */
    uint64_t skipped_unknown;   /* valid/test records skipped for unknown labels */
    uint64_t n_train;           /* examples with split WB_DS_TRAIN */
    uint64_t n_valid;           /* ... WB_DS_VALID */
    uint64_t n_test;            /* ... WB_DS_TEST */
    uint64_t skipped_bad;       /* records the reader skipped (reader.skip_bad), all files */
    uint64_t invalid_utf8;      /* invalid UTF-8 sequences the reader replaced, all files */
    wb_reader_format format;    /* format of the training file as read */
} wb_dataset_stats;

typedef struct wb_dataset wb_dataset;

/* Defaults (see the field comments): keras tokenizer, maxlen 100, post/post,
 * no split, stratified mode, automatic task, no cache. */
void wb_dataset_opts_init(wb_dataset_opts *o);

/* Build (or load from the cache) the dataset described by `o` into *out.
 * `stats` and `err` may be NULL.  On failure *out is NULL (destroy is still
 * safe on it).  Returns 0 or the errors listed in the file comment. */
int wb_dataset_build(wb_dataset **out, const wb_dataset_opts *o, wb_dataset_stats *stats,
                     wb_err *err);

/* Release everything; NULL is a no-op. */
void wb_dataset_destroy(wb_dataset *ds);

/* The key of the data set `o` describes (the cache key above: XXH3-64 of
 * the files' paths and bytes and of every option that changes the
 * result), computed without building it: what a model file records as its
 * data set's hash.  Reads the files.  Returns 0, WB_EUSAGE (a path is "-":
 * stdin cannot be hashed and read), errno (a file), WB_ENOMEM. */
int wb_dataset_key(const wb_dataset_opts *o, uint64_t *key, wb_err *err);

/* Number of examples (all files). */
size_t wb_dataset_n(const wb_dataset *ds);

/* Sequence length of every row of X. */
size_t wb_dataset_maxlen(const wb_dataset *ds);

/* X, (n, maxlen) row-major ids (0 pad, 1 OOV, 2.. words).  Borrowed. */
const int32_t *wb_dataset_x(const wb_dataset *ds);

/* Label sets, CSR: example i has ids (*ids)[(*offsets)[i] .. (*offsets)[i+1]),
 * sorted, distinct, each < wb_dataset_nlabels.  offsets has n+1 entries.
 * Borrowed.  Returns the total number of ids. */
size_t wb_dataset_labels(const wb_dataset *ds, const size_t **offsets, const uint32_t **ids);

/* Split membership (n,): WB_DS_TRAIN, WB_DS_TEST or WB_DS_VALID.  Borrowed. */
const uint8_t *wb_dataset_split(const wb_dataset *ds);

/* Token count of every example (n,) BEFORE padding and truncating (the
 * tokenizer's output for texts[0], OOV tokens included; saturated at
 * UINT32_MAX): what to look at when choosing maxlen.  Row i of X holds
 * min(len[i], maxlen) non-zero ids.  Borrowed. */
const uint32_t *wb_dataset_lengths(const wb_dataset *ds);

/* Numeric features (n, *nfeat) row-major, columns in reader.feature_cols
 * order, all finite; NULL with *nfeat = 0 when there are none (only CSV
 * files have features).  nfeat may be NULL.  Borrowed.  Every file must give
 * the same number of features (a CSV training file with a TSV valid file and
 * feature columns is WB_EFORMAT). */
const double *wb_dataset_features(const wb_dataset *ds, size_t *nfeat);

/* Distinct words of the training part before min_count and num_words cut
 * them (wb_vocab_distinct of the vocabulary as built; kept in the cache,
 * where the saved vocabulary holds only the kept words). */
size_t wb_dataset_vocab_distinct(const wb_dataset *ds);

/* The vocabulary (finished; borrowed until destroy). */
const wb_vocab *wb_dataset_vocab(const wb_dataset *ds);

/* The task (never WB_TASK_AUTO). */
wb_task wb_dataset_task(const wb_dataset *ds);

/* Number of labels in the table. */
uint32_t wb_dataset_nlabels(const wb_dataset *ds);

/* Name of label `id` (NUL-terminated, borrowed; *len (may be NULL) its
 * length), or NULL when id is out of range. */
const char *wb_dataset_label_name(const wb_dataset *ds, uint32_t id, size_t *len);

/* Id of the label named by len bytes at name, or -1 when unknown. */
int64_t wb_dataset_label_find(const wb_dataset *ds, const char *name, size_t len);

/* "auto", "binary", "multiclass", "multilabel"; and back (-1 when unknown). */
const char *wb_task_name(wb_task t);
int wb_task_parse(const char *name);

#ifdef __cplusplus
}
#endif
#endif /* WORDBENCH_DATASET_H */
