/*
 * fileio.h (internal) — writing a file atomically with a trailing XXH3-64
 * checksum: bytes go to a temporary file in the target's directory, every
 * byte is hashed, commit appends the hash, fsyncs, renames over the target
 * and fsyncs the directory.  A reader sees the old file or the whole new
 * one.  Used by the model file (and checkpoints).
 */
#ifndef WB_FILEIO_H
#define WB_FILEIO_H

#include <stddef.h>
#include <stdint.h>

#include <xxhash.h>

typedef struct wb_awriter {
    int fd;                 /* temporary file, -1 when closed */
    char *tmp;              /* its path (owned) */
    char *path;             /* the target (owned) */
    XXH3_state_t *h;        /* running hash of everything written */
    int err;                /* first errno, 0 = fine */
    size_t n;               /* bytes buffered */
    unsigned char buf[1 << 16];
} wb_awriter;

/* Start writing `path`.  Returns 0 or errno / WB_ENOMEM. */
int wb_aw_open(wb_awriter *w, const char *path);
/* Append n bytes (errors are remembered and reported by commit). */
void wb_aw_write(wb_awriter *w, const void *p, size_t n);
void wb_aw_u32(wb_awriter *w, uint32_t v);
void wb_aw_u64(wb_awriter *w, uint64_t v);
/* Append the checksum, fsync, rename into place.  Returns 0 or errno; on
 * failure the temporary file is removed and the target untouched. */
int wb_aw_commit(wb_awriter *w);
/* The same without the binary trailer: for text files that carry their own
 * checksum (a search's plan.json). */
int wb_aw_commit_text(wb_awriter *w);

/* Give up: remove the temporary file. */
void wb_aw_abort(wb_awriter *w);

/* Remove the temporaries `path.tmpXXXXXX` that writers of `path` left
 * when they died (kill -9, power loss): a live writer holds an exclusive
 * flock on its temporary from wb_aw_open to commit, so an unlocked one
 * belongs to nobody.  (A writer is unlocked only between its mkstemp and
 * flock, two consecutive system calls: two processes writing the same
 * path at once are a race of their own.)  Returns the number removed; the
 * first one's name goes into first (first_cap bytes, may be 0). */
size_t wb_aw_clean_stale(const char *path, char *first, size_t first_cap);

/* What a file that starts with head[0..n) is, when its first bytes say so
 * beyond doubt: "a wordbench model file", "a wordbench data-set cache
 * file", "an NPY array", "an LMDB database", "gzip-compressed data", "an
 * executable (ELF)"; NULL otherwise.  For messages that would else echo a
 * binary file's bytes. */
const char *wb_file_kind(const void *head, size_t n);

/* Read a whole file into a malloc'ed buffer.  Returns 0 or errno /
 * WB_ENOMEM. */
int wb_read_file(const char *path, unsigned char **out, size_t *len);

static inline uint32_t wb_get32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t wb_get64(const unsigned char *p) { return wb_get32(p) | (uint64_t)wb_get32(p + 4) << 32; }

#endif
