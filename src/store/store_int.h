/*
 * store_int.h — internals shared by store.c (reading) and convert.c (writing):
 * file names inside a store, meta database keys, the word → LMDB key mapping
 * and the meta parser (also the fuzzing entry point for the store opener).
 */
#ifndef WB_STORE_INT_H
#define WB_STORE_INT_H

#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>

#include "wordbench/err.h"
#include "wordbench/store.h"

#define WB_STORE_VECTORS "vectors.npy"
#define WB_STORE_NORMS   "norms.npy"
#define WB_STORE_INDEX   "index.lmdb"
#define WB_DB_WORDS "words"
#define WB_DB_ROWS  "rows"
#define WB_DB_META  "meta"

/* Meta keys (values are ASCII decimal numbers or text, except block_hashes:
 * little-endian u64 array).  docs/store-format.md lists them. */
#define WB_META_FORMAT_VERSION "format_version"
#define WB_META_ROWS           "rows"
#define WB_META_DIM            "dim"
#define WB_META_DTYPE          "dtype"
#define WB_META_NORMALIZED     "normalized"
#define WB_META_SOURCE         "source"
#define WB_META_SOURCE_BYTES   "source_bytes"
#define WB_META_SOURCE_GZIP    "source_gzip"
#define WB_META_SOURCE_FORMAT  "source_format"
#define WB_META_DUPLICATES     "duplicates"
#define WB_META_SKIPPED        "skipped"
#define WB_META_INVALID_UTF8   "invalid_utf8"
#define WB_META_LONG_WORDS     "long_words"
#define WB_META_CREATED        "created"
#define WB_META_BLOCK_BYTES    "block_bytes"
#define WB_META_BLOCK_HASHES   "block_hashes"
#define WB_META_NORMS_XXH3     "norms_xxh3"
#define WB_META_FINGERPRINT    "fingerprint"

/* Map a word to its LMDB key in `key` (WB_STORE_MAX_KEY bytes of room) and
 * return the key length.  Words up to 511 bytes (LMDB's key limit) are their
 * own key.  Longer words become their first 503 bytes followed by the
 * little-endian XXH3-64 of the whole word (511 bytes); since a 511-byte key
 * may also be a plain 511-byte word, look-ups of 511-byte keys confirm the
 * word in the rows database. */
size_t wb_store_key(const char *word, size_t len, char *key);

/* "dir/name" in a malloc'd string (NULL when out of memory). */
char *wb_path_join(const char *dir, const char *name);

/* Where LMDB mapped the environment's data file in this process, and how
 * much of it is in use ((last page + 1) x page size).  LMDB does not say
 * (mdb_env_info's me_mapaddr is only set for MDB_FIXEDMAP), so this finds
 * the mapping of mdb_env_get_fd's file that contains `inside` (a pointer
 * LMDB returned: other handles may map the same file) in /proc/self/maps.
 * Returns 0, or -1 when it cannot tell. */
int wb_lmdb_map(MDB_env *env, const void *inside, void **addr, size_t *used);

/* Meta values parsed so far; `seen` bits record which required keys came. */
typedef struct wb_meta {
    wb_store_info info;          /* filled field by field */
    uint64_t block_bytes;        /* WB_STORE_BLOCK_BYTES */
    const uint8_t *block_hashes; /* borrowed: nblocks * 8 bytes LE */
    uint64_t norms_hash;         /* XXH3-64 of the norms data */
    uint32_t seen;               /* bit set of required keys present */
} wb_meta;

/* Start parsing meta: zero m. */
void wb_meta_init(wb_meta *m);
/* Take one key/value pair of the meta database.  Unknown keys are ignored
 * (later minor versions may add some).  Returns 0 or WB_ECORRUPT with err
 * naming the key.  Values are borrowed (block_hashes keeps a pointer). */
int wb_meta_take(wb_meta *m, const void *key, size_t klen, const void *val,
                 size_t vlen, wb_err *err);
/* After the last pair: check all required keys came and agree with each
 * other.  Returns 0, WB_ECORRUPT or WB_EVERSION. */
int wb_meta_finish(wb_meta *m, wb_err *err);

/* Read-ahead threads of wb_store_prefetch running in this process now (a
 * thread counts from before its start to the end of its work).  A forked
 * child reads what was running when it was copied: 0, as the fork handlers
 * see to (tests/test_store.c). */
int wb_store_prefetch_live(void);

#endif
