/*
 * mdbcheck.h — integrity of a store's LMDB index file (data.mdb): the checks
 * a reader makes before LMDB maps the file, the walk of every page, and the
 * sealing the converter does (map size, checksum file).  Internal to the
 * store layer.
 *
 * Why: LMDB 0.9 trusts the file it maps.  A page size of 0 divides by zero
 * in mdb_env_open, a node offset or key size past the page end makes a
 * look-up read past the map (SIGSEGV, SIGBUS), a leaf's data size is handed
 * out unchecked.  So before LMDB sees the file the reader checks, with a
 * few preads whatever the index's size (wb_mdb_check_open):
 *   - both meta pages (flags, magic, version, page size) and the one LMDB
 *     will use (the larger transaction id): its last page against the file
 *     size, its free and main database records;
 *   - the main database: a single leaf (wordbench's has three entries), every
 *     node in bounds, the named databases' records (flags, depth, root);
 *   - the root page of every named database, and the whole of the meta
 *     database (LMDB reads all of it at every open anyway).
 * Every page read is checked whole: header, node offsets, key and data
 * sizes inside the page, overflow data inside the used pages, branch
 * children inside the used pages, the key sizes the database allows, and
 * keys in order.  For a tree of depth 1 (stores of up to a few hundred
 * words) that is every page LMDB can touch.  Pages below the root of a
 * deeper words or rows tree are not read at open, so a corrupt one can still
 * make a look-up fault inside LMDB; wb_mdb_walk closes that gap by checking
 * every page of every database (plus the free list, and that each page is
 * used exactly once or free), which reads the whole file: `wordbench verify`
 * and opening with WB_STORE_OPEN_VERIFY do it.
 *
 * The converter seals a finished index (wb_mdb_seal): it records the file's
 * size as LMDB's map size (instead of the builder's 128 GB, so that a reader
 * under `ulimit -v` that does not set its own still maps only the file), and
 * writes the checksum file data.mdb.xxh3 beside it (docs/store-format.md).
 *
 * On-disk layout relied on (LMDB data version 1 as written by 64-bit
 * little-endian builds; lmdb.h does not publish it, mdb.c's MDB_page,
 * MDB_node, MDB_db and MDB_meta define it) is spelled out at the top of
 * mdbcheck.c.
 */
#ifndef WB_MDBCHECK_H
#define WB_MDBCHECK_H

#include <stdint.h>

#include "wordbench/err.h"

#define WB_MDB_MAX_DBS 8       /* named databases wordbench accepts in one index */
#define WB_MDB_SUM_NAME "data.mdb.xxh3"

/* A database record (LMDB's MDB_db) as read from the file. */
typedef struct wb_mdb_db {
    char name[32];            /* named database; "" for the free and main ones */
    uint16_t flags;           /* LMDB database flags (0 or MDB_INTEGERKEY here) */
    uint16_t depth;           /* tree depth, 0 for an empty tree */
    uint64_t branch_pages;    /* counts LMDB keeps in the record */
    uint64_t leaf_pages;
    uint64_t overflow_pages;
    uint64_t entries;
    uint64_t root;            /* root page, UINT64_MAX for an empty tree */
} wb_mdb_db;

/* What wb_mdb_check_open learned about the file; the walk needs it too. */
typedef struct wb_mdb_file {
    int fd;                   /* the data file (borrowed) */
    const char *path;         /* its name for messages (borrowed) */
    uint64_t fsize;           /* file size */
    uint32_t psize;           /* page size */
    uint64_t npages;          /* pages in use: last page + 1 (<= fsize / psize) */
    int meta;                 /* meta page LMDB uses: 0 or 1 */
    uint64_t txnid;           /* its transaction id */
    wb_mdb_db free_db;        /* LMDB's free-page database */
    wb_mdb_db main_db;        /* the main database (records of the named ones) */
    wb_mdb_db dbs[WB_MDB_MAX_DBS]; /* the named databases */
    int ndbs;                 /* their number */
} wb_mdb_file;

/* Pages the full walk met. */
typedef struct wb_mdb_walk_stats {
    uint64_t branch_pages, leaf_pages, overflow_pages; /* over all databases */
    uint64_t free_pages;      /* pages listed in the free database */
    uint64_t entries;         /* leaf entries over all named databases */
} wb_mdb_walk_stats;

/* Check what LMDB reads at open (see above) of the data file `fd` (named
 * `path` in messages) and fill *f; the named database `whole` (may be NULL)
 * is checked whole, the others' root pages only.  Returns 0, WB_ECORRUPT
 * (err names the byte offset and what is wrong), WB_ENOMEM or an errno. */
int wb_mdb_check_open(wb_mdb_file *f, int fd, const char *path, const char *whole, wb_err *err);

/* Check every page of every database of a file that passed
 * wb_mdb_check_open: tree shape and depth, key order across pages, the
 * counts in the database records, overflow pages, the free list, and that
 * every page up to the last one is used exactly once or is free.  Reads the
 * whole file with pread (bounded memory, no mapping).  Returns 0,
 * WB_ECORRUPT, WB_ENOMEM or an errno; *st (may be NULL) gets the counts. */
int wb_mdb_walk(const wb_mdb_file *f, wb_mdb_walk_stats *st, wb_err *err);

/* The index checksum file (data.mdb.xxh3 beside data.mdb). */
typedef struct wb_mdb_sum {
    uint64_t size;            /* data.mdb's size when sealed */
    uint64_t xxh3;            /* XXH3-64 of data.mdb */
} wb_mdb_sum;

/* Read the checksum file `name` relative to directory descriptor `dfd`
 * (shown as `path`).  Returns 0, ENOENT when there is none, WB_ECORRUPT
 * (bad magic, version, syntax or self-check), or an errno. */
int wb_mdb_sum_read(int dfd, const char *name, const char *path, wb_mdb_sum *s, wb_err *err);

/* XXH3-64 of the first `size` bytes of fd, read with pread in 1 MiB pieces.
 * Returns 0, WB_ENOMEM, WB_ECORRUPT (the file is shorter) or an errno. */
int wb_mdb_hash(int fd, uint64_t size, uint64_t *out);

/* Seal the finished index in directory `dir` (no LMDB environment open on
 * it): set the map size recorded in both meta pages to the file's size,
 * then write dir/data.mdb.xxh3 (fsynced; the caller fsyncs the directory).
 * Returns 0, WB_ECORRUPT (the file is not an LMDB data file), WB_ENOMEM or
 * an errno. */
int wb_mdb_seal(const char *dir, wb_err *err);

#endif
