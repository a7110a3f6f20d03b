/*
 * wordbench/convert.h — build a store from a word-vector file in one
 * streaming pass, and export a store back to text or binary.
 *
 * Input formats (docs/store-format.md, "Input formats"):
 *   glove         "word v1 v2 ... vD" per line, no header
 *   word2vec      first line "rows dim", then GloVe-style lines (also fastText .vec)
 *   word2vec-bin  first line "rows dim\n", then per word: word bytes, ' ',
 *                 dim little-endian float32, optional '\n' (GoogleNews layout)
 * Any of them may be gzip-compressed (detected by its magic bytes); the input
 * "-" is standard input.
 *
 * How it runs: one reader thread fills line-aligned chunks (decompressing if
 * needed), `threads` parser threads turn chunks into words + float32 rows, and
 * the calling thread writes rows in input order to vectors.npy (with O_DIRECT
 * where the file system allows it: the new store's rows are then not in the
 * page cache) and norms.npy, and words to the index builder (sorted runs
 * appended to LMDB; see src/index_build.h).  Memory is the chunk ring, a few
 * buffers and a duplicate table of 12 bytes per slot (92 MB in all for
 * 2.2M x 300).
 *
 * Publication: everything is written into a temporary sibling directory
 * `.<name>.wbtmp-<pid>`, fsynced, and renamed into place (renameat2
 * RENAME_NOREPLACE; with `force`, RENAME_EXCHANGE then removal of the old
 * store).  On any failure the temporary directory is removed and an existing
 * store is untouched.  Stale temporaries of dead processes are removed at the
 * start of the next convert into the same parent directory.
 *
 * Not here: reading a store (store.h).
 */
#ifndef WORDBENCH_CONVERT_H
#define WORDBENCH_CONVERT_H

#include <stddef.h>
#include <stdint.h>

#include "wordbench/err.h"
#include "wordbench/npy.h"
#include "wordbench/store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum wb_format {
    WB_FMT_AUTO = 0,     /* detect from the first bytes */
    WB_FMT_GLOVE,        /* text, no header */
    WB_FMT_WORD2VEC,     /* text with a "rows dim" header (word2vec text, fastText .vec) */
    WB_FMT_WORD2VEC_BIN  /* binary, GoogleNews layout */
} wb_format;

/* "auto", "glove", "word2vec", "word2vec-bin" <-> wb_format. parse returns -1 if unknown. */
const char *wb_format_name(wb_format f);
int wb_format_parse(const char *name);

typedef enum wb_dup_policy {
    WB_DUP_FIRST = 0, /* keep the first vector of a word, count later ones */
    WB_DUP_LAST,      /* keep the last vector (rewritten in the first one's row) */
    WB_DUP_ERROR      /* a duplicate is an error (WB_EDUP) */
} wb_dup_policy;

/* Progress, passed to the callback about every 100 ms (and once at the end). */
typedef struct wb_convert_progress {
    uint64_t bytes_in;     /* input bytes consumed so far (compressed bytes for .gz) */
    uint64_t bytes_total;  /* input size when known (regular file), else 0 */
    uint64_t rows;         /* rows written so far */
    double seconds;        /* since the start */
} wb_convert_progress;

typedef struct wb_convert_opts {
    wb_format format;             /* WB_FMT_AUTO */
    wb_dup_policy duplicates;     /* WB_DUP_FIRST */
    wb_dtype dtype;               /* WB_DTYPE_F32 */
    int normalize;                /* scale rows to unit length (0) */
    int force;                    /* replace an existing store atomically (0) */
    int skip_bad;                 /* skip bad lines instead of failing (0) */
    int allow_nonfinite;          /* accept NaN/Inf values (0) */
    int threads;                  /* parser threads; 0 = number of cores */
    uint32_t dim;                 /* expected dim; 0 = from the header or first line */
    uint64_t limit;               /* keep the first N rows; 0 = all */
    const char *vocab_path;       /* keep only words listed (one per line); NULL = all */
    const char *bad_lines_path;   /* write "line<TAB>reason" per skipped line; NULL = none */
    /* Called from the writing thread; may be NULL. */
    void (*progress)(void *ud, const wb_convert_progress *p);
    /* Non-fatal warnings (header/body row count mismatch, ...); may be NULL. */
    void (*warn)(void *ud, const char *msg);
    void *ud;                     /* passed to progress and warn */
} wb_convert_opts;

/* Fill opts with the defaults shown above. */
void wb_convert_opts_init(wb_convert_opts *opts);

typedef struct wb_convert_stats {
    uint64_t rows;          /* rows in the store */
    uint32_t dim;           /* vector length */
    wb_format format;       /* detected or given format */
    int gzip;               /* input was gzip-compressed */
    uint64_t lines;         /* records read (non-blank lines, or binary records) */
    uint64_t header_rows;   /* rows announced by the header (0 if none) */
    uint64_t duplicates;    /* duplicate words met */
    uint64_t skipped;       /* bad records skipped (--skip-bad) */
    uint64_t invalid_utf8;  /* words that are not valid UTF-8 (kept as bytes) */
    uint64_t long_words;    /* words longer than WB_STORE_MAX_KEY bytes */
    uint64_t not_in_vocab;  /* rows dropped by --vocab */
    uint64_t bytes_in;      /* input bytes read (compressed size for gzip) */
    uint64_t bytes_text;    /* bytes parsed (after decompression) */
    uint64_t fingerprint;   /* the new store's fingerprint */
    double seconds;         /* wall time */
} wb_convert_stats;

/* Convert `input` (a path or "-") into the store directory `store`.
 * Returns 0, or: WB_EFORMAT (bad line: err has file:line or byte offset and
 * what was expected vs found), WB_EEMPTY, WB_EDUP, WB_EEXIST (store exists,
 * no force), WB_EUSAGE (bad option), WB_ELMDB, WB_EIO, or errno.
 * stats (may be NULL) is filled on success and, as far as known, on failure. */
int wb_convert(const char *input, const char *store, const wb_convert_opts *opts,
               wb_convert_stats *stats, wb_err *err);

/* Write the store as `format` (not AUTO) to `output` ("-" = stdout).
 * Text values are printed with the shortest decimal that strtof reads back to
 * the same float, so convert(export(store)) reproduces every value bit for
 * bit.  The output file is written to a hidden temporary sibling
 * (.NAME.wbtmp-PID) and renamed into place, replacing an existing file
 * (the CLI asks for --force first).  Returns 0, WB_EUSAGE, WB_EFORMAT (a word
 * the format cannot represent), WB_ELMDB, or errno. */
int wb_export(wb_store *st, const char *output, wb_format format,
              void (*progress)(void *ud, uint64_t done, uint64_t total),
              void *ud, wb_err *err);

#ifdef __cplusplus
}
#endif
#endif /* WORDBENCH_CONVERT_H */
