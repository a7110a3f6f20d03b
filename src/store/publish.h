/*
 * publish.h — the publishing path of a new store, shared by the converter
 * (convert.c) and the store writer (store_writer.c), so every store is born
 * the same way (docs/store-format.md, "Publication"):
 *
 *   wb_pub_begin    check the target name and an existing target (replaced
 *                   only with force, and only when it looks like a store),
 *                   remove stale temporaries of dead processes, create the
 *                   temporary sibling PARENT/.NAME.wbtmp-PID/;
 *   (the caller writes vectors.npy and norms.npy into p->tmp, data from
 *   byte 4096, and adds the words to an index builder opened on p->tmp)
 *   wb_pub_finish   NPY headers, the norms hash, the meta keys
 *                   (wb_pub_meta), fsync of both matrices while the index
 *                   is merged into p->tmp/index.lmdb;
 *   wb_pub_commit   fsync the index file, the index directory and the
 *                   temporary directory, then rename into place
 *                   (RENAME_NOREPLACE, or RENAME_EXCHANGE with force) and
 *                   fsync the parent;
 *   wb_pub_end      remove the temporary directory unless it was published,
 *                   free the paths (always call it, also after a failure).
 *
 * Plus the small file helpers both writers use.  Internal to the store
 * layer.
 */
#ifndef WB_PUBLISH_H
#define WB_PUBLISH_H

#include <stddef.h>
#include <stdint.h>

#include "base/fileio.h"
#include "store/index_build.h"
#include "wordbench/err.h"
#include "wordbench/store.h"

typedef struct wb_pub {
    char *parent;     /* directory of the store (owned) */
    char *base;       /* the store's name in it (owned) */
    char tmp[4096];   /* PARENT/.NAME.wbtmp-PID */
    int made;         /* tmp exists and is ours to remove */
    int force;        /* replace an existing store */
} wb_pub;

/* Start publishing `store`.  Errors: WB_EUSAGE (a name like "." or "/"),
 * WB_EEXIST (exists without force, or is not a store), WB_ENOMEM, errno
 * (cannot create the temporary directory); each names the path.  Call
 * wb_pub_end afterwards in every case. */
int wb_pub_begin(wb_pub *p, const char *store, int force, wb_err *e);

/* Put the meta keys of `in` into the index being built: format_version,
 * rows, dim, dtype, normalized, source, source_bytes, source_gzip,
 * source_format, duplicates, skipped, invalid_utf8, long_words, created
 * (now), block_bytes, block_hashes (nhash values, written little-endian),
 * norms_xxh3 and fingerprint (XXH3-64 of the block hashes, also stored in
 * *fingerprint).  Returns 0 or the index builder's error. */
int wb_pub_meta(wb_ixb *ix, const wb_store_info *in, const uint64_t *hashes, size_t nhash, uint64_t norms_hash,
                uint64_t *fingerprint, wb_err *e);

/* Finish a store whose matrices are written in tmp (vectors and norms
 * files open as vec_fd, nrm_fd; in->rows, dim, dtype describe them; hashes
 * are the nhash block hashes of the vector data): write both NPY headers,
 * hash the norms, put the meta keys, and fsync the matrices on a second
 * thread while the index builder merges into tmp/index.lmdb.  *fingerprint
 * gets the store's fingerprint.  Errors: errno, WB_ENOMEM, the index
 * builder's errors. */
int wb_pub_finish(const char *tmp, wb_ixb *ix, int vec_fd, int nrm_fd, const wb_store_info *in,
                  const uint64_t *hashes, size_t nhash, uint64_t *fingerprint, wb_err *e);

/* Make the temporary store durable and rename it to `store`.  The vector
 * files must already be fsynced by the caller.  Errors: errno (fsync,
 * rename), WB_EEXIST (a store appeared meanwhile, without force). */
int wb_pub_commit(wb_pub *p, const char *store, wb_err *e);

/* Remove the temporary directory if it was not published; free the paths. */
void wb_pub_end(wb_pub *p);

/* ---- file helpers ---------------------------------------------------------- */

/* pwrite all n bytes at off, retrying on EINTR.  Returns 0 or errno. */
int wb_pwrite_all(int fd, const void *buf, size_t n, uint64_t off);

/* wb_fsync_path and wb_rmrf: base/fileio.h (shared with the data set). */

/* XXH3-64 of n bytes of fd from off (pread in 1 MiB pieces).  Returns 0,
 * errno, WB_EIO (short file) or WB_ENOMEM. */
int wb_hash_range(int fd, uint64_t off, uint64_t n, uint64_t *out);

/* Hash `bytes` of fd from `off` in WB_STORE_BLOCK_BYTES blocks into
 * hashes[] (one per block, the last one short).  Returns like
 * wb_hash_range. */
int wb_hash_blocks(int fd, uint64_t off, uint64_t bytes, uint64_t *hashes);

#endif
