/*
 * index_build.h — builds a store's LMDB index (words, rows, meta) in bounded
 * memory while the converter streams rows.  Internal to the converter.
 *
 * Random inserts into a B-tree of millions of words would dirty most of its
 * leaves in every transaction (hundreds of MB for 2.2M words), so the words
 * database is not built by random inserts.  Instead:
 *   - rows (row -> word) is appended in row order (MDB_APPEND: one dirty
 *     path, pages written once);
 *   - duplicates are found with an in-memory table of 12 bytes per slot
 *     (XXH3-64 of the key + row), confirmed against the rows database, so a
 *     hash collision never merges two words;
 *   - (key, row) pairs go to a bounded buffer that is sorted and spilled to
 *     run files; at the end the runs are merged and appended to words in key
 *     order (MDB_APPEND again), giving a dense, compact tree.
 * Appends touch only the right edge of each tree, so LMDB's map adds little
 * to the converter's RSS.
 */
#ifndef WB_INDEX_BUILD_H
#define WB_INDEX_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "wordbench/err.h"

typedef struct wb_ixb wb_ixb;

/* Start building in directory `dir` (the temporary store directory): the
 * LMDB environment goes to dir/index.build/, run files to dir/run-N.
 * expect_rows (0 = unknown; any value: a hint capped at 8M rows) sizes the
 * duplicate table, which grows as needed.  Errors: errno,
 * WB_ELMDB, WB_ENOMEM.  On failure *out is still safe to close. */
int wb_ixb_open(wb_ixb **out, const char *dir, uint64_t expect_rows, wb_err *err);

/* Add `word` as row `row` (rows must come in order 0, 1, 2, ...).  When the
 * word is already present, nothing is added and *dup_row gets its row;
 * otherwise *dup_row = UINT32_MAX.  Errors: WB_ELMDB, WB_ENOMEM, errno. */
int wb_ixb_add(wb_ixb *b, const char *word, size_t len, uint32_t row, uint32_t *dup_row, wb_err *err);

/* Set a meta key (written with the last transaction). */
int wb_ixb_put_meta(wb_ixb *b, const char *key, const void *val, size_t n, wb_err *err);

/* Merge the runs into the words database, commit, close the environment,
 * move its data file into the existing empty directory `dst` and seal it
 * there (wb_mdb_seal: the file's size as map size, data.mdb.xxh3). */
int wb_ixb_finish(wb_ixb *b, const char *dst, wb_err *err);

/* Release everything and remove dir/index.build and the run files; NULL ok. */
void wb_ixb_close(wb_ixb *b);

#endif
