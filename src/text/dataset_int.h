/*
 * dataset_int.h (internal) — what the three files of the dataset module
 * share: the data set as mapped (struct wb_dataset), the meta file parsed,
 * the sequential array writer and reader, the cache key and directory
 * operations.  dataset.c builds and answers the API, dataset_file.c maps,
 * checks and writes the files (docs/dataset-format.md), dataset_cache.c
 * keys and publishes them.  Nothing here is API: include/wordbench/dataset.h
 * is.
 */
#ifndef WB_DATASET_INT_H
#define WB_DATASET_INT_H

#include <stddef.h>
#include <stdint.h>

#include "base/fileio.h"
#include "wordbench/dataset.h"
#include "wordbench/npy.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the data set uses its little-endian arrays as mapped"
#endif
_Static_assert(sizeof(size_t) == 8, "label offsets are mapped as size_t");

extern const char WB_DS_MAGIC[8];     /* "WBDSET\0\0" */
#define WB_DS_HEADER 104              /* fixed part of the meta file */
#define WB_DS_META "meta.wbd"         /* the meta file in a data-set directory */
#define WB_DS_MAXFILES (2 * 4096 + 4) /* x and len of each input, labels (2), split, features */
#define WB_DS_IOBUF (1u << 20)        /* bytes buffered by the array writers and readers */

/* ---- the data set as mapped ---- */

typedef struct wb_ds_fmap {
    void *p;                    /* whole file mapped read-only, NULL when empty */
    size_t len;                 /* its size */
} wb_ds_fmap;

typedef struct wb_ds_input {
    wb_dataset_input pub;       /* what wb_dataset_input_get returns */
    wb_ids ids;                 /* pub.ids points here when maxlen > 0 */
    char *name;                 /* owned */
    wb_vocab *vocab;            /* owned, finished */
} wb_ds_input;

/* Invariants: every array pointer points into maps[] (or is NULL for a
 * missing optional array); loff has n+1 entries, loff[n] = nnz. */
struct wb_dataset {
    char *path;                 /* published directory; NULL when temporary */
    size_t n;                   /* examples */
    wb_task task;               /* never AUTO */
    uint32_t nlabels;           /* labels in the table */
    char *lnames;               /* label names back to back, each NUL-terminated */
    size_t *lname_off;          /* (nlabels+1) start of name i; length = next - this - 1 */
    size_t nfeat;               /* numeric features per example */
    char **fnames;              /* (nfeat) feature column names */
    uint64_t skipped_unknown;   /* valid/test records skipped */
    uint64_t skipped_bad;       /* records the reader skipped, all files */
    uint64_t invalid_utf8;      /* replaced invalid UTF-8 sequences, all files */
    wb_reader_format format;    /* format of the training file as read */
    wb_text_mode mode;          /* how the inputs were made */
    uint64_t created;           /* build time, Unix seconds */
    char *sources[3];           /* training, valid, test file as recorded (NULL = none) */
    size_t ninputs;             /* text inputs */
    wb_ds_input *in;                 /* (ninputs) */
    size_t nnz;                 /* label ids */
    const size_t *loff;         /* (n+1) label CSR offsets */
    const uint32_t *lids;       /* (nnz) label ids */
    const uint8_t *split;       /* (n) WB_DS_* */
    const double *feat;         /* (n, nfeat) or NULL */
    wb_ds_fmap *maps;                 /* (nmaps) the mapped files */
    size_t nmaps;
};


/* ---- small helpers (dataset_file.c) ---- */

/* Make room for `need` elements of `elem` bytes in *p (capacity *cap):
 * 0 or WB_ENOMEM. */
int wb_ds_grow(void *pp, size_t *cap, size_t need, size_t elem);
/* "dir/name", malloc'd (NULL when out of memory). */
char *wb_ds_join(const char *dir, const char *name);
/* Byte-wise order of two label names (shorter first on a common prefix). */
int wb_ds_name_cmp(const char *a, size_t al, const char *b, size_t bl);

/* ---- the meta file (dataset_file.c) ---- */

/* Parsed meta file.  Pointers point into the buffer parsed. */
typedef struct wb_ds_str {
    const char *p;
    uint32_t len;
} wb_ds_str;

typedef struct wb_ds_minput {
    wb_ds_str name;
    uint64_t maxlen, distinct;
    uint32_t dtype;             /* wb_dtype of the matrix, 0 without one */
    const unsigned char *vocab; /* saved vocabulary */
    uint64_t vocab_len;
} wb_ds_minput;

typedef struct wb_ds_file {
    wb_ds_str name;
    uint32_t dtype, ndim;
    uint64_t rows, cols, bytes, hash;
} wb_ds_file;

typedef struct wb_ds_meta {
    uint64_t key, n, nnz, skipped_unknown, skipped_bad, invalid_utf8, created;
    uint32_t task, nlabels, format, mode, ninputs, nfeat, nfiles;
    wb_ds_str sources[3];
    const unsigned char *labels;   /* nlabels strings */
    const unsigned char *fnames;   /* nfeat strings */
    const unsigned char *end;      /* the checksum: where the sections end */
    wb_ds_minput *in;                    /* (ninputs) malloc'd */
    wb_ds_file *files;                  /* (nfiles) malloc'd */
} wb_ds_meta;

/* Parse a meta image of len bytes (path for messages).  0, or WB_EFORMAT
 * (not a data set), WB_EVERSION, WB_ECORRUPT (damaged), WB_ENOMEM; err gets
 * why.  Free with wb_ds_meta_free (also after a failure). */
int wb_ds_meta_parse(const unsigned char *b, size_t len, wb_ds_meta *m, const char *path, wb_err *err);
void wb_ds_meta_free(wb_ds_meta *m);
/* A NUL-terminated copy of a meta string (NULL when out of memory). */
char *wb_ds_str_dup(wb_ds_str s);

/* Map the data set in directory dir.  want_key: the key it must have (0 =
 * any).  verify: check the arrays' checksums and invariants (0 only for a
 * data set this process has just written).  0 or the errors of
 * wb_dataset_open. */
int wb_ds_map(wb_dataset **out, const char *dir, uint64_t want_key, int verify, wb_err *err);

/* ---- writing and reading arrays (dataset_file.c) ---- */

/* A file being written sequentially: an NPY array (a 4096-byte header
 * placeholder, then the data, hashed; the header is written at the end when
 * the row count is known) or a raw temporary stream. */
typedef struct wb_ds_arr {
    int fd;                     /* -1 when not open */
    char *path;                 /* owned */
    int raw;                    /* 1: temporary stream (no header, no hash) */
    wb_dtype dtype;             /* NPY element type */
    int ndim;                   /* 1 or 2 */
    uint64_t cols;              /* elements per row (1 for ndim 1) */
    uint64_t bytes;             /* data bytes written */
    XXH3_state_t *h;            /* hash of the data (not raw) */
    unsigned char *buf;         /* WB_DS_IOBUF bytes */
    size_t nbuf;                /* bytes buffered */
    int err;                    /* first errno */
} wb_ds_arr;

/* Create dir/name (O_EXCL) as an NPY array of dt, ndim, cols per row, or a
 * raw stream.  0 or errno / WB_ENOMEM with err set. */
int wb_ds_arr_open(wb_ds_arr *a, const char *dir, const char *name, int raw, wb_dtype dt, int ndim, uint64_t cols,
                   wb_err *err);
/* Append n bytes (errors are kept and reported by finish). */
void wb_ds_arr_put(wb_ds_arr *a, const void *p, size_t n);
/* Finish an NPY array of `rows` rows (a raw stream: rows ignored): header,
 * close; *rec (may be NULL) gets its meta record, whose name points into
 * a->path.  0 or errno with err set (ENOSPC for a full disk, EFBIG...). */
int wb_ds_arr_finish(wb_ds_arr *a, uint64_t rows, wb_ds_file *rec, wb_err *err);
/* Release (the file stays) / remove the file and release. */
void wb_ds_arr_free(wb_ds_arr *a);
void wb_ds_arr_discard(wb_ds_arr *a);

/* Sequential reading of a file written by wb_ds_arr (skip: header bytes). */
typedef struct wb_ds_in {
    int fd;
    unsigned char *buf;
    size_t pos, len;
} wb_ds_in;

/* Open path for reading from byte `skip`.  0 or errno / WB_ENOMEM with err
 * set (close is safe either way). */
int wb_ds_in_open(wb_ds_in *s, const char *path, size_t skip, wb_err *err);
/* Read exactly n bytes into p: 0, errno, or EIO at a premature end. */
int wb_ds_in_read(wb_ds_in *s, void *p, size_t n);
void wb_ds_in_close(wb_ds_in *s);

/* ---- the cache (dataset_cache.c) ---- */

/* The cache key of o (dataset.h, "Where the data set lives"); input hashes
 * are memoised in o->cache_dir when it is set.  0 or errno with err set. */
int wb_ds_key(const wb_dataset_opts *o, uint64_t *key, wb_err *err);
/* "<dir>/<16 hex digits of key><suffix>", malloc'd. */
char *wb_ds_key_path(const char *dir, uint64_t key, const char *suffix);
/* Remove <key>.wbds.* leftovers of dead builders (the caller holds the key's lock). */
void wb_ds_remove_stale(const char *dir, uint64_t key);
/* Take the exclusive lock of a key (the lock file path): *fd, *waited = 1
 * when another process held it.  The holder unlinks the path before closing
 * *fd.  0 or errno with err set. */
int wb_ds_take_lock(const char *path, int *fd, int *waited, wb_err *err);
/* Rename the built directory tmp to final (replacing an invalid one) and
 * fsync dir.  0 or errno with err set. */
int wb_ds_publish(const char *tmp, const char *final, const char *dir, wb_err *err);

#endif
