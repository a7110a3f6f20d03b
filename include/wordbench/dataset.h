/*
 * wordbench/dataset.h — a labelled text file turned into what the trainer
 * eats: padded id matrices (one per text input), label sets, a label table,
 * a task, a train/valid/test membership, numeric features, a vocabulary per
 * input.  The data set is a directory of files that every run maps
 * read-only (the id matrices are NPY arrays numpy maps as they are); it is
 * built by streaming the input once, in memory bounded by the distinct words
 * and labels, never by the rows or tokens.  docs/dataset-format.md describes
 * the files.
 *
 * wb_dataset_build(opts) does, in this order:
 *   1. reads the training FILE with the reader (reader.h) record by record,
 *      tokenizes the text input(s) of every record (tokenize.h; see Inputs
 *      below), gives every token a provisional id (vocab.h), writes the
 *      record's padded row, token count, labels and numeric features (CSV
 *      feature_cols) to the files of the data set under construction;
 *   2. builds the label table from the labels of the training FILE (both
 *      parts of a test_fraction split) and decides the task (below);
 *   3. reads the optional valid and test files in the same way; their labels
 *      must be in the table (see unknown_skip);
 *   4. splits the training file (test_fraction + seed) with the split module;
 *   5. finishes each input's vocabulary from the TRAINING part only (split
 *      value WB_DS_TRAIN) with num_words / min_count (vocab.h semantics: 0 =
 *      pad, 1 = OOV, so a word seen only in test/valid examples encodes to 1);
 *      with test_fraction > 0 the counts come from a temporary file of the
 *      training file's provisional ids (4 bytes a token), not from the input;
 *   6. rewrites the provisional ids of every row as final ids (all files,
 *      file order: training file, then valid, then test), as uint16 when the
 *      input's vocabulary has at most 65536 ids, else int32.
 * The result is identical, id for id, to tokenizing everything in memory and
 * encoding it with the finished vocabulary (wb_vocab_encode).
 *
 * Inputs (text_mode).  WB_TEXT_FIRST (the default): one input, the FIRST
 * text field of every record (TSV and fastText have only one; a CSV with
 * several reader.text_cols uses the first).  WB_TEXT_JOIN: one input, the
 * tokens of every text field one after another, in text_cols order.
 * WB_TEXT_EACH: one input per text field (reader.text_cols order), each with
 * its own vocabulary (same tokenizer, num_words and min_count), maxlen
 * (maxlens[k], or maxlen for all when maxlens is NULL), id matrix and token
 * counts.  An input with maxlen 0 gets token counts and a vocabulary but no
 * id matrix (what `data stats` needs).
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
 * Where the data set lives.  cache_dir not NULL: <cache_dir>/<key>.wbds, a
 * directory, keyed by XXH3-64 (streaming) over a format tag, the paths as
 * given of the training, valid and test files (the path matters:
 * WB_READER_AUTO looks at the name), the bytes of the three files, and every
 * option in wb_dataset_opts that changes the result (reader and tokenizer
 * options, text_mode and maxlens, num_words, min_count, maxlen, padding,
 * truncating, test_fraction, seed, split_mode, task, unknown_skip).  A valid
 * data set there is mapped (a cache hit: the inputs are read once to hash
 * them, nothing is tokenized); else it is built in <key>.wbds.tmp-<pid> and
 * renamed into place, replacing an invalid one (processes still mapping the
 * old one keep it).  Builders of one key take turns through an exclusive
 * flock on <cache_dir>/<key>.lock (the file exists while it is held: its
 * holder removes it before releasing it): a second process waits and then
 * maps what the first built (many search workers starting at once build it
 * once).  Under the lock, leftovers of
 * builders that died (<key>.wbds.tmp-*) are removed.  An input that is not
 * a regular file (stdin "-", a pipe such as <(zcat f.gz), a directory)
 * cannot be hashed before it is read: it is built as with cache_dir NULL.
 * Inputs are hashed before they are read: a file changed between the two is
 * not detected.  An input's content hash is memoised in <cache_dir>/<id>.src
 * with the file's device, inode, size, mtime and ctime (nanoseconds): while
 * these are unchanged the file is not read again (a later run starts without
 * reading its inputs; any write changes ctime).  A file changed less than 2 s
 * ago is not memoised (times are stamped in ticks of a few milliseconds).
 * cache_dir NULL: built in a new directory under tmp_dir (NULL: $TMPDIR, else
 * /tmp), mapped, and removed at once: nothing is left once the data set is
 * destroyed or the process dies (after the build).
 *
 * Trust.  Opening checks the meta file's size, magic, version, key and
 * XXH3-64, then for every array file its exact size, its NPY header (byte
 * for byte what the builder writes) and the XXH3-64 of its data recorded in
 * the meta, and the invariants cheap to check (label CSR, label ids, split
 * values, finite features).  Anything wrong: the data set is rebuilt
 * (stats->cache_rejected = 1), never trusted.  A truncated build (a killed
 * process) never has the published name.  Ids of the matrices are not
 * range-checked at open (their checksum is); the model checks every id it
 * embeds.
 *
 * Writing the data set is part of the build: a full disk or an unwritable
 * cache_dir is an error (positive errno, err names the file), the temporary
 * directory is removed, the inputs are never written.
 *
 * Errors: WB_EUSAGE (bad options), WB_EFORMAT (reader errors, empty training
 * file, task conflicts, unknown labels; err names file:line), WB_ENOMEM,
 * positive errno from reading inputs or writing the data set (err names the
 * file), and the codes of the reader, tokenizer, vocabulary and split modules
 * passed through.
 *
 * Memory: the arrays are mapped (file-backed pages, shared by every process
 * mapping the same data set); a dataset owns the vocabularies and the label
 * table (bounded by distinct words and labels).  Pointers its accessors
 * return are borrowed until wb_dataset_destroy.  Building holds the
 * provisional vocabularies, the label dictionary, one record, and I/O
 * buffers; with test_fraction > 0 also the split module's O(n) scratch.
 *
 * Byte order: the files are little-endian and the arrays are used as mapped,
 * so the data set needs a little-endian host (every platform wordbench
 * builds on; the store needs the same).
 *
 * Deliberately not here: k-fold, per-example source lines, cache eviction
 * (`wordbench data cache --clear` empties a cache directory), multi-threaded
 * tokenizing, fault-injection sites.
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

#define WB_DATASET_VERSION 3u      /* data-set format version (docs/dataset-format.md) */

/* The learning task. */
typedef enum wb_task {
    WB_TASK_AUTO = 0,   /* detect from the training file (options only) */
    WB_TASK_BINARY,     /* exactly one of two labels per example */
    WB_TASK_MULTICLASS, /* exactly one label per example */
    WB_TASK_MULTILABEL  /* any set of labels per example */
} wb_task;

/* How the text fields of a record become inputs (file comment). */
typedef enum wb_text_mode {
    WB_TEXT_FIRST = 0,  /* one input: the first text field (default) */
    WB_TEXT_JOIN,       /* one input: the tokens of every text field in turn */
    WB_TEXT_EACH        /* one input per text field */
} wb_text_mode;

/* Split membership values. */
enum {
    WB_DS_TRAIN = 0, /* training part (the vocabulary comes from these) */
    WB_DS_TEST = 1,  /* test part of the training file, or the test file */
    WB_DS_VALID = 2  /* the valid file */
};

/* Build options.  Always start from wb_dataset_opts_init().  Strings and
 * arrays are borrowed for the duration of wb_dataset_build. */
typedef struct wb_dataset_opts {
    const char *train_path;     /* training file ("-" = stdin); required */
    const char *valid_path;     /* optional valid file, NULL = none */
    const char *test_path;      /* optional test file, NULL = none */
    wb_reader_opts reader;      /* reader options for every file (default all-zero) */
    wb_tokenize_opts tok;       /* tokenizer (default WB_TOK_KERAS defaults) */
    wb_text_mode text_mode;     /* default WB_TEXT_FIRST */
    const size_t *maxlens;      /* WB_TEXT_EACH: (reader.n_text_cols) maxlen of each
                                   input; NULL = maxlen for every input */
    uint64_t num_words;         /* keep ids < num_words; 0 = all (vocab.h) */
    uint64_t min_count;         /* drop words seen fewer times (default 0) */
    size_t maxlen;              /* sequence length (default 100); 0 = no id matrix */
    wb_pad_side padding;        /* default WB_PAD_POST */
    wb_pad_side truncating;     /* default WB_PAD_POST */
    double test_fraction;       /* 0 = no split of the training file; else in (0,1) */
    uint64_t seed;              /* split seed (default 0) */
    int split_mode;             /* WB_SPLIT_*; default WB_SPLIT_STRATIFY */
    wb_task task;               /* default WB_TASK_AUTO */
    int unknown_skip;           /* 1: valid/test records with a label not in the
                                   training file are skipped and counted; 0: error */
    const char *cache_dir;      /* directory of data sets (created with its parents when
                                   missing), NULL = a temporary one */
    const char *tmp_dir;        /* cache_dir NULL: where to build; NULL = $TMPDIR or /tmp */
} wb_dataset_opts;

/* What a build did.  Filled by wb_dataset_build when not NULL (also on
 * failure, as far as known). */
typedef struct wb_dataset_stats {
    int cache_hit;              /* 1: mapped an existing data set, nothing tokenized */
    int cache_rejected;         /* 1: one existed at the path but was invalid (rebuilt) */
    int cache_written;          /* 1: built and published in cache_dir */
    int cache_waited;           /* 1: waited for another process building the same key */
    uint64_t key;               /* the cache key (0 without cache) */
    uint64_t skipped_unknown;   /* valid/test records skipped for unknown labels */
    uint64_t n_train;           /* examples with split WB_DS_TRAIN */
    uint64_t n_valid;           /* ... WB_DS_VALID */
    uint64_t n_test;            /* ... WB_DS_TEST */
    uint64_t skipped_bad;       /* records the reader skipped (reader.skip_bad), all files */
    uint64_t invalid_utf8;      /* invalid UTF-8 sequences the reader replaced, all files */
    wb_reader_format format;    /* format of the training file as read */
} wb_dataset_stats;

/* A view of an (n, T) id matrix: 0 pad, 1 OOV, 2.. words; little-endian
 * uint16 or int32, row-major.  The data are borrowed (mapped).
 * `oov` (NULL: none) makes the view read some words as OOV without copying
 * the matrix: an id v >= 2 with v < noov and oov[v] != 0 reads as 1.  A
 * search trial uses it to read the words that none of its training folds
 * holds as a vocabulary built from those folds would (search.h). */
typedef struct wb_ids {
    const void *data;           /* (n, T) ids, `width` bytes each */
    size_t n;                   /* rows */
    size_t T;                   /* ids per row */
    unsigned width;             /* 2 (uint16) or 4 (int32) */
    const uint8_t *oov;         /* (noov) flags, or NULL */
    size_t noov;
} wb_ids;

/* Copy rows[0..b) of x into out (b, T) as int32 (no range check on rows:
 * each must be < x->n), reading flagged ids as OOV. */
void wb_ids_gather(const wb_ids *x, const uint32_t *rows, size_t b, int32_t *out);

/* Id t of row i (a flagged id reads as OOV). */
static inline int32_t wb_ids_at(const wb_ids *x, size_t i, size_t t) {
    size_t k = i * x->T + t;
    int32_t v = x->width == 2 ? (int32_t)((const uint16_t *)x->data)[k] : ((const int32_t *)x->data)[k];
    return x->oov && v > 1 && (size_t)v < x->noov && x->oov[v] ? 1 : v;
}

/* One text input of a data set (wb_dataset_input).  Everything borrowed. */
typedef struct wb_dataset_input {
    const char *name;           /* the text column ("text" for TSV/fastText; WB_TEXT_JOIN:
                                   the column names joined by '+') */
    size_t maxlen;              /* T: ids per row (0 = no id matrix) */
    const wb_ids *ids;          /* the (n, T) matrix; NULL when maxlen is 0 */
    const uint32_t *lengths;    /* (n) tokens of each row before padding and truncating
                                   (OOV tokens included; saturated at UINT32_MAX): row i
                                   holds min(lengths[i], T) non-zero ids */
    const wb_vocab *vocab;      /* the input's finished vocabulary */
    size_t distinct;            /* distinct training words before min_count / num_words */
} wb_dataset_input;

typedef struct wb_dataset wb_dataset;

/* Defaults (see the field comments): keras tokenizer, maxlen 100, post/post,
 * no split, stratified mode, automatic task, first text field, no cache. */
void wb_dataset_opts_init(wb_dataset_opts *o);

/* Build (or map from cache_dir) the dataset described by `o` into *out.
 * `stats` and `err` may be NULL.  On failure *out is NULL (destroy is still
 * safe on it).  Returns 0 or the errors listed in the file comment. */
int wb_dataset_build(wb_dataset **out, const wb_dataset_opts *o, wb_dataset_stats *stats,
                     wb_err *err);

/* Map the data set directory `path` (a <key>.wbds) read-only, checked as in
 * "Trust" above, without knowing its key or options.  Errors: positive errno
 * (missing files), WB_EFORMAT (not a data set), WB_EVERSION (another
 * version), WB_ECORRUPT (damaged or truncated; err names the file). */
int wb_dataset_open(wb_dataset **out, const char *path, wb_err *err);

/* Unmap and release everything; NULL is a no-op. */
void wb_dataset_destroy(wb_dataset *ds);

/* The key of the data set `o` describes (the cache key above: XXH3-64 of
 * the files' paths and bytes and of every option that changes the
 * result), computed without building it: what a model file records as its
 * data set's hash.  Reads the files.  Returns 0, WB_EUSAGE (a path is "-":
 * stdin cannot be hashed and read), errno (a file), WB_ENOMEM. */
int wb_dataset_key(const wb_dataset_opts *o, uint64_t *key, wb_err *err);

/* Number of examples (all files). */
size_t wb_dataset_n(const wb_dataset *ds);

/* Number of text inputs (1 unless WB_TEXT_EACH), and input k (< ninputs;
 * NULL otherwise). */
size_t wb_dataset_ninputs(const wb_dataset *ds);
const wb_dataset_input *wb_dataset_input_get(const wb_dataset *ds, size_t k);

/* Input 0's maxlen, id matrix (NULL when maxlen is 0), token counts,
 * vocabulary and distinct training words (see wb_dataset_input). */
size_t wb_dataset_maxlen(const wb_dataset *ds);
const wb_ids *wb_dataset_ids(const wb_dataset *ds);
const uint32_t *wb_dataset_lengths(const wb_dataset *ds);
const wb_vocab *wb_dataset_vocab(const wb_dataset *ds);
size_t wb_dataset_vocab_distinct(const wb_dataset *ds);

/* Label sets, CSR: example i has ids (*ids)[(*offsets)[i] .. (*offsets)[i+1]),
 * sorted, distinct, each < wb_dataset_nlabels.  offsets has n+1 entries.
 * Borrowed.  Returns the total number of ids. */
size_t wb_dataset_labels(const wb_dataset *ds, const size_t **offsets, const uint32_t **ids);

/* Split membership (n,): WB_DS_TRAIN, WB_DS_TEST or WB_DS_VALID.  Borrowed. */
const uint8_t *wb_dataset_split(const wb_dataset *ds);

/* Numeric features (n, *nfeat) row-major, columns in reader.feature_cols
 * order, all finite; NULL with *nfeat = 0 when there are none (only CSV
 * files have features).  nfeat may be NULL.  Borrowed.  Every file must give
 * the same number of features (a CSV training file with a TSV valid file and
 * feature columns is WB_EFORMAT). */
const double *wb_dataset_features(const wb_dataset *ds, size_t *nfeat);

/* Name of feature column j (NULL when out of range). */
const char *wb_dataset_feature_name(const wb_dataset *ds, size_t j);

/* The task (never WB_TASK_AUTO). */
wb_task wb_dataset_task(const wb_dataset *ds);

/* Number of labels in the table. */
uint32_t wb_dataset_nlabels(const wb_dataset *ds);

/* Name of label `id` (NUL-terminated, borrowed; *len (may be NULL) its
 * length), or NULL when id is out of range. */
const char *wb_dataset_label_name(const wb_dataset *ds, uint32_t id, size_t *len);

/* Id of the label named by len bytes at name, or -1 when unknown. */
int64_t wb_dataset_label_find(const wb_dataset *ds, const char *name, size_t len);

/* Where it is mapped from: the published directory, or NULL for a temporary
 * data set (already removed).  Borrowed. */
const char *wb_dataset_path(const wb_dataset *ds);

/* Bytes of the mapped files (the arrays with their headers). */
uint64_t wb_dataset_mapped_bytes(const wb_dataset *ds);

/* Bytes of the mapped files in the page cache (mincore: shared by every
 * process mapping them, whether or not this one touched them), for memory
 * reports. */
uint64_t wb_dataset_resident_bytes(const wb_dataset *ds);

/* Take the mapped files' pages out of this process's resident set
 * (MADV_DONTNEED): they stay in the page cache and every pointer stays
 * valid (a later access reads the page again).  For whole passes over the
 * arrays (statistics, checks) that would otherwise leave them all resident. */
void wb_dataset_release_pages(const wb_dataset *ds);

/* "auto", "binary", "multiclass", "multilabel"; and back (-1 when unknown). */
const char *wb_task_name(wb_task t);
int wb_task_parse(const char *name);

/* ---- the cache directory ------------------------------------------------ */

/* The default per-user cache directory: $XDG_CACHE_HOME/wordbench when
 * XDG_CACHE_HOME is an absolute path, else $HOME/.cache/wordbench; NULL when
 * neither is set (or out of memory).  malloc'd; not created. */
char *wb_dataset_default_cache_dir(void);

/* Kinds of entries of a cache directory. */
enum {
    WB_ENTRY_DATASET = 1,       /* <key>.wbds: a data set (complete or damaged) */
    WB_ENTRY_PARTIAL,           /* <key>.wbds.tmp-<pid>: a build running or killed */
    WB_ENTRY_LOCK,              /* <key>.lock: held by a build, or left by a killed one */
    WB_ENTRY_INPUT              /* <id>.src: the memo of an input file's content hash */
};

/* One entry of a cache directory (wb_dataset_cache_list). */
typedef struct wb_dataset_entry {
    char *name;                 /* file name in the directory (owned) */
    int kind;                   /* WB_ENTRY_* */
    int complete;               /* 1: a data set whose meta file is whole (checksum) */
    uint64_t bytes;             /* bytes of its files */
    uint64_t rows;              /* complete: examples */
    uint64_t created;           /* complete: build time, Unix seconds */
    size_t ninputs;             /* complete: text inputs */
    size_t maxlen;              /* complete: input 0's maxlen */
    char *source;               /* complete: the training file (absolute path, or "-"; owned) */
} wb_dataset_entry;

/* List what wordbench keeps in `dir` (the WB_ENTRY_* kinds), sorted by
 * name; other files are not listed.  *out (malloc'd; free with wb_dataset_entries_free)
 * gets *n entries.  Reads only the meta files.  Returns 0, errno, WB_ENOMEM. */
int wb_dataset_cache_list(const char *dir, wb_dataset_entry **out, size_t *n, wb_err *err);
void wb_dataset_entries_free(wb_dataset_entry *e, size_t n);

/* Remove everything wb_dataset_cache_list lists (processes mapping a data
 * set keep their mappings).  *removed / *bytes (may be NULL) get the entries
 * and bytes removed.  Returns 0 or errno of the first failure. */
int wb_dataset_cache_clear(const char *dir, size_t *removed, uint64_t *bytes, wb_err *err);

#ifdef __cplusplus
}
#endif
#endif /* WORDBENCH_DATASET_H */
