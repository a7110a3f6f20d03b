/*
 * wordbench/store.h — open and read an embedding store.
 *
 * A store is a directory written once by wb_convert() and never modified
 * after it is published (docs/store-format.md):
 *   vectors.npy   NPY v1.0 matrix (rows, dim), '<f4' or '<f2', data at byte 4096
 *   norms.npy     NPY v1.0 vector (rows,), '<f4': L2 norm of each stored row
 *   index.lmdb/   LMDB environment (data.mdb) with databases words, rows, meta
 *
 * Opening maps both matrices read-only (MAP_SHARED, so every process that maps
 * the same store shares its page-cache pages), advises the matrix MADV_RANDOM
 * (no read-ahead of rows nobody asked for), and opens the index with
 * MDB_RDONLY|MDB_NOLOCK: a published store has no writer, so no lock file is
 * needed and a read-only directory or file system works.  Opening checks the
 * NPY headers against the file sizes and the meta database, so a truncated or
 * mismatched file is an error at open, never a SIGBUS later.  The index is
 * mapped with the size of its file (a process under `ulimit -v` needs no
 * more address space than the store's files), and before LMDB maps it the
 * opener checks what LMDB trusts: the meta pages, the database records, the
 * root pages and the small meta database (a few page reads whatever the
 * store's size; src/store/mdbcheck.h).  That covers every page of a store of
 * up to a few hundred words.  In a bigger one a corrupt page below the roots
 * could still make a look-up fault inside LMDB; for untrusted stores open
 * with WB_STORE_OPEN_VERIFY, which checks every index page and the index
 * checksum first (it reads the whole index: about 4% of a 300-dim store).
 *
 * Not here: building stores (convert.h), similarity search (similar.h),
 * writing any file.
 *
 * Threads: wb_store_row, wb_store_norms, wb_store_gather and wb_store_info_get
 * are safe from any number of threads.  The look-up functions
 * (wb_store_lookup*, wb_store_word) share one LMDB read transaction and must
 * be called from one thread at a time per handle; open one handle per thread
 * for parallel look-ups (opening is cheap: the pages are shared).
 *
 * Ownership: pointers returned by the store (rows, norms, words) are borrowed
 * and valid until wb_store_close().  wb_store_close(NULL) and closing a
 * handle whose open failed are both safe.
 */
#ifndef WORDBENCH_STORE_H
#define WORDBENCH_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "wordbench/err.h"
#include "wordbench/npy.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WB_STORE_FORMAT_VERSION 2u /* 2: index.lmdb/data.mdb.xxh3; 1 still opens */
#define WB_STORE_BLOCK_BYTES (64ull << 20) /* vector data hashed per 64 MiB block */
#define WB_STORE_MAX_KEY 511u              /* LMDB's default key limit */

typedef struct wb_store wb_store;

/* What the meta database says about a store, plus file sizes. */
typedef struct wb_store_info {
    uint32_t format_version;   /* WB_STORE_FORMAT_VERSION */
    uint64_t rows;             /* number of vectors */
    uint32_t dim;              /* floats per vector */
    wb_dtype dtype;            /* element type of vectors.npy */
    int normalized;            /* 1 when rows were scaled to unit length */
    char source[512];          /* base name of the input file ("-" for stdin) */
    uint64_t source_bytes;     /* bytes read from the input (the compressed size when source_gzip) */
    int source_gzip;           /* 1 when the input was gzip-compressed */
    char source_format[16];    /* "glove", "word2vec", "word2vec-bin" */
    uint64_t duplicates;       /* duplicate words met (and resolved by policy) */
    uint64_t skipped;          /* bad lines skipped with --skip-bad */
    uint64_t invalid_utf8;     /* words kept as raw bytes that are not valid UTF-8 */
    uint64_t long_words;       /* words longer than WB_STORE_MAX_KEY (hashed keys) */
    uint64_t created;          /* creation time, seconds since the Epoch (UTC) */
    uint64_t fingerprint;      /* XXH3-64 over the block hashes */
    uint64_t nblocks;          /* number of 64 MiB blocks hashed */
    uint64_t vectors_bytes;    /* size of vectors.npy */
    uint64_t norms_bytes;      /* size of norms.npy */
    uint64_t index_bytes;      /* size of index.lmdb/data.mdb */
} wb_store_info;

/* Open the store directory `dir` read-only, with the flags set by
 * wb_store_set_open_flags (none by default).  On success *out is a handle
 * to release with wb_store_close.  Errors: positive errno (missing files),
 * WB_ECORRUPT (truncated, damaged or inconsistent files, with the file and
 * byte offset named in err), WB_EVERSION (format version newer than this
 * build), WB_ELMDB, WB_ENOMEM. */
int wb_store_open(wb_store **out, const char *dir, wb_err *err);

/* Flags of wb_store_open_ex. */
#define WB_STORE_OPEN_VERIFY 1u /* check every index page and the index checksum before use */

/* wb_store_open with explicit flags (0 or WB_STORE_OPEN_VERIFY); WB_EUSAGE
 * for unknown flags. */
int wb_store_open_ex(wb_store **out, const char *dir, unsigned flags, wb_err *err);

/* The flags every later wb_store_open in this process uses (the CLI's
 * --verify-on-open sets WB_STORE_OPEN_VERIFY this way, so that stores
 * opened deep inside the library, e.g. by wb_bundle_load, are checked too).
 * Safe to call from any thread; handles already open are not affected. */
void wb_store_set_open_flags(unsigned flags);

/* Release everything; NULL is a no-op. */
void wb_store_close(wb_store *st);

/* The store's description (borrowed, valid until close). */
const wb_store_info *wb_store_info_get(const wb_store *st);

/* Row of one word (len bytes, need not be NUL-terminated).
 * Returns 0 and *row, or WB_ENOTFOUND, or WB_ECORRUPT (the index is damaged:
 * e.g. it names a row the matrix does not have), or WB_ELMDB. */
int wb_store_lookup(wb_store *st, const char *word, size_t len, uint32_t *row);

/* Look up n words: rows[i] = row or -1 when missing.  *found (may be NULL)
 * gets the number found.  Returns 0, WB_ECORRUPT or WB_ELMDB (missing words
 * are not errors).
 * For n >= 4096 the index is first mapped whole (MADV_POPULATE_READ): a big
 * batch touches most of its pages anyway, and one call is much cheaper than
 * thousands of page faults; the pages are shared page-cache pages. */
int wb_store_lookup_many(wb_store *st, size_t n, const char *const *words,
                         const size_t *lens, int64_t *rows, size_t *found);

/* The word of a row: *word points into the index map (borrowed, not
 * NUL-terminated), *len its length.  Returns 0, WB_ENOTFOUND, WB_ECORRUPT,
 * WB_ELMDB. */
int wb_store_word(wb_store *st, uint32_t row, const char **word, size_t *len);

/* Call fn(ud, row, word, len) for the rows first .. first + n - 1 that exist,
 * in row order, by one cursor walk over the rows database (much cheaper than
 * a look-up per row).  Words are borrowed (valid until close), not
 * NUL-terminated.  Stops at the first non-zero return of fn and returns it;
 * otherwise 0, or WB_ELMDB / WB_ECORRUPT.  Same thread rule as the
 * look-ups. */
int wb_store_words(wb_store *st, uint64_t first, uint64_t n,
                   int (*fn)(void *ud, uint32_t row, const char *word, size_t len), void *ud);

/* Pointer to row `row` in the mapped matrix, in the store's dtype
 * (float for f32, uint16_t for f16).  NULL if row >= rows. */
const void *wb_store_row(const wb_store *st, uint64_t row);

/* The mapped norms (rows floats). */
const float *wb_store_norms(const wb_store *st);

/* Copy n rows (any order, repeats allowed) into out[n][dim] as float32,
 * converting f16.  Returns 0, or WB_EUSAGE if a row is out of range (out is
 * then partly written). */
int wb_store_gather(const wb_store *st, size_t n, const uint32_t *rows, float *out);

/* Advise the kernel how the matrix will be read next: 0 = random (the
 * default after open), 1 = sequential (for whole-matrix scans: verify,
 * export, neighbors).  Returns 0 or errno. */
int wb_store_advise(wb_store *st, int sequential);

/* Let go of the pages of rows first .. first + n - 1 that this process has
 * read (madvise MADV_DONTNEED on the whole pages inside that range): they
 * leave the process's resident set but stay in the page cache, so reading
 * them again costs a page fault, not a disk read.  For scans that visit
 * every row once (wordeval.h) and must not hold the whole matrix resident.
 * Pointers into the matrix stay valid.  Returns 0 or errno. */
int wb_store_drop(wb_store *st, uint64_t first, uint64_t n);

/* How wb_store_prefetch reads rows ahead (tools/bench/bench_coldstart.sh
 * measures them against each other; WB_PREFETCH_ADVISE is the default). */
typedef enum wb_prefetch_mode {
    WB_PREFETCH_ADVISE = 0,  /* madvise(MADV_WILLNEED) over every range (the kernel queues the reads
                              * at once), then MADV_POPULATE_READ over them in file order (waits for
                              * the reads, maps the pages).  With rows asked for first, two threads:
                              * one queues the first rows' reads, then maps those pages while the
                              * other queues and then maps the rest */
    WB_PREFETCH_POPULATE,    /* one thread: MADV_POPULATE_READ alone, range after range */
    WB_PREFETCH_PREAD,       /* WB_PREFETCH_THREADS threads: pread() of the ranges, interleaved */
    WB_PREFETCH_OFF          /* nothing (for measurements) */
} wb_prefetch_mode;
#define WB_PREFETCH_THREADS 4

/* Read ahead the rows a run is about to use, in the background: rows[i] for
 * i < n are store rows (negative entries are skipped, as wb_vocab_rows
 * writes them).  The rows are sorted into file order and their pages merged
 * into ranges (of at most 1 MB), then threads of the store read them (mode
 * above) while the caller goes on (builds its model, reads its input);
 * wb_store_gather and wb_store_row work meanwhile and find the rows read so
 * far in memory.  wb_store_prefetch_first reads first[0..nfirst) (rows too,
 * e.g. those of the first minibatch: a cold start waits for them) before
 * the others, then rows[] without the pages already read.  A prefetch still
 * running when another starts, or at wb_store_close, is stopped (after its
 * current range) and joined.
 *
 * fork: no read-ahead thread runs while a process forks (a pthread_atfork
 * handler stops them after their current range and joins them, so a child
 * inherits no lock one of them held); in the parent they go on where they
 * stopped, the child has none (its rows are read on demand).
 *
 * Nothing here is needed for correctness: when a thread cannot start or
 * the kernel refuses the advice, the rows are read on demand as before.
 * Returns 0, WB_ENOMEM or WB_EUSAGE (a row out of range; nothing started).
 * Same thread rule as the look-ups (one caller at a time per handle).
 * wb_store_prefetch and _first read the mode from the environment variable
 * WB_PREFETCH (advise, populate, pread, off; advise-nofirst: advise with
 * the first rows read in file order among the others; anything else:
 * advise), for comparisons; the _ex form takes it. */
int wb_store_prefetch(wb_store *st, size_t n, const int64_t *rows, wb_err *err);
int wb_store_prefetch_first(wb_store *st, size_t n, const int64_t *rows, size_t nfirst, const int64_t *first,
                            wb_err *err);
int wb_store_prefetch_ex(wb_store *st, size_t n, const int64_t *rows, size_t nfirst, const int64_t *first,
                         wb_prefetch_mode mode, wb_err *err);

/* Wait for the running prefetch (if any) to finish; returns the bytes of
 * the ranges it read ahead (0 when none ran). */
uint64_t wb_store_prefetch_wait(wb_store *st);

/* Result of a verification. */
typedef struct wb_verify_report {
    uint64_t blocks_checked;   /* 64 MiB blocks hashed */
    int64_t first_bad_block;   /* -1 when all vector blocks match */
    int norms_ok;              /* norms.npy hash matches */
    int index_ok;              /* words <-> rows agree for every row (0 when pages are bad) */
    uint64_t index_bad_row;    /* first row whose index entries disagree */
    int index_sum;             /* data.mdb matches its checksum: 1, 0, or -1 (format 1: none recorded) */
    int index_pages_ok;        /* every page of every index database is well formed */
} wb_verify_report;

/* Recompute the vector block hashes, the norms hash and the index checksum,
 * check every page of the index (mdbcheck.h) and, when they are sound, that
 * the words and rows databases are inverse of each other.  Returns 0 when
 * all match, WB_ECORRUPT with err naming the first bad block / page / row
 * otherwise (*rep filled in both cases).  `progress` (may be NULL) is called
 * with the vector bytes hashed so far and the total. */
int wb_store_verify(wb_store *st, wb_verify_report *rep,
                    void (*progress)(void *ud, uint64_t done, uint64_t total),
                    void *ud, wb_err *err);

#ifdef __cplusplus
}
#endif
#endif /* WORDBENCH_STORE_H */
