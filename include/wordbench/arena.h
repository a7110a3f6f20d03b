/*
 * wordbench/arena.h — the step arena: a bump allocator for everything that
 * lives for one training or inference step (gathered embedding rows,
 * activations, their gradients), reset at the start of every step.
 *
 * Memory comes from a dedicated jemalloc arena (mallctl "arenas.create",
 * once per process, shared by every wb_arena; mallocx with MALLOCX_ARENA
 * and no thread cache), in chunks that are kept
 * across resets: after the first steps have sized it, a step allocates
 * nothing and faults no pages.  Allocations are 64-byte aligned (whole
 * cache lines, AVX-friendly) and never freed one by one.  (The Python
 * module's copy of the library takes its chunks from libc instead: see
 * src/nn/arena.c.)
 *
 * Deliberately not here: thread safety (one arena per thread), freeing
 * single allocations, shrinking (wb_arena_destroy returns everything).
 */
#ifndef WORDBENCH_ARENA_H
#define WORDBENCH_ARENA_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wb_arena wb_arena;

/* Create an arena whose first chunk holds at least `initial` bytes (0 =
 * 1 MiB).  Returns NULL when out of memory. */
wb_arena *wb_arena_create(size_t initial);

/* Release every chunk; NULL is a no-op. */
void wb_arena_destroy(wb_arena *a);

/* n bytes, 64-byte aligned, uninitialised; valid until the next reset.
 * NULL when out of memory (n = 0 gives a valid unique pointer). */
void *wb_arena_alloc(wb_arena *a, size_t n);

/* The same, zero-filled. */
void *wb_arena_calloc(wb_arena *a, size_t n);

/* Forget every allocation; the chunks stay for the next step.  When the
 * previous step needed several chunks, they are merged into one chunk of
 * their total size, so a steady state uses one contiguous chunk. */
void wb_arena_reset(wb_arena *a);

/* Bytes reserved in chunks, and the most bytes used by any one step. */
size_t wb_arena_capacity(const wb_arena *a);
size_t wb_arena_peak(const wb_arena *a);

#ifdef __cplusplus
}
#endif
#endif /* WORDBENCH_ARENA_H */
