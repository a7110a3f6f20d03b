/*
 * arena.c — the step arena (arena.h): chunks from a private jemalloc arena,
 * bump allocation, reset by rewinding.  Leaves out thread safety and
 * per-allocation frees.
 *
 * All step arenas of a process share one private jemalloc arena, created on
 * first use and kept: jemalloc 5.3 keeps about 4 KB of metadata for every
 * arena created and destroyed (arenas.create + arena.<i>.destroy, even with
 * the index reused), so one jemalloc arena per wb_arena made a process that
 * creates models again and again (a search, the model fuzzer: 2 GB after
 * 280,000 inputs) grow without bound.  Chunks still bypass the thread cache
 * and go back to that arena when a wb_arena is destroyed.
 *
 * Built with WB_ARENA_LIBC (the Python module, see CMakeLists.txt), the
 * chunks come from libc's aligned_alloc instead: libjemalloc.so.2 cannot be
 * loaded into a running interpreter.  Only where chunks come from changes.
 */
#include "wordbench/arena.h"

#ifndef WB_ARENA_LIBC
#include <jemalloc/jemalloc.h>
#endif
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_ALIGN 64u

typedef struct chunk {
    struct chunk *next;  /* older chunk */
    size_t cap;          /* usable bytes after the header */
    size_t used;         /* bytes handed out */
} chunk;

struct wb_arena {
    chunk *head;         /* current chunk (newest) */
    int flags;           /* mallocx flags */
    size_t total;        /* bytes reserved in all chunks */
    size_t step_used;    /* bytes handed out since the last reset */
    size_t peak;         /* max step_used */
};

#define HDR (((sizeof(chunk) + ARENA_ALIGN - 1) / ARENA_ALIGN) * ARENA_ALIGN)

#ifdef WB_ARENA_LIBC
/* libc stand-ins for the three jemalloc calls used below: no private
 * arena (arenas.create fails, so flags stay 0), aligned chunks, free. */
#define MALLOCX_ALIGN(a) 0
#define MALLOCX_ARENA(a) 0
#define MALLOCX_TCACHE_NONE 0
static void *mallocx(size_t n, int flags) {
    (void)flags;
    if (n > SIZE_MAX - ARENA_ALIGN) return NULL;
    return aligned_alloc(ARENA_ALIGN, (n + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN);
}
static void dallocx(void *p, int flags) {
    (void)flags;
    free(p);
}
static int mallctl(const char *name, void *old, size_t *oldlen, void *new_, size_t newlen) {
    (void)name, (void)old, (void)oldlen, (void)new_, (void)newlen;
    return -1;
}
#endif

static chunk *chunk_new(wb_arena *a, size_t cap) {
    if (cap > SIZE_MAX - HDR) return NULL; /* HDR + cap would wrap */
    chunk *c = mallocx(HDR + cap, a->flags | MALLOCX_ALIGN(ARENA_ALIGN));
    if (!c) return NULL;
    c->next = NULL, c->cap = cap, c->used = 0;
    a->total += cap;
    return c;
}

/* mallocx flags for the process's one private jemalloc arena, made on first
 * use and never destroyed (see the top of this file); 0 (the default arena)
 * when it cannot be made. */
static pthread_once_t shared_once = PTHREAD_ONCE_INIT;
static int shared_flags;

static void shared_init(void) {
    unsigned ind;
    size_t sz = sizeof ind;
    if (mallctl("arenas.create", &ind, &sz, NULL, 0) != 0) return;
    if (ind < 2000) /* MALLOCX_ARENA shifts ind + 1 left by 20 in an int */
        shared_flags = (int)MALLOCX_ARENA(ind) | MALLOCX_TCACHE_NONE;
}

wb_arena *wb_arena_create(size_t initial) {
    wb_arena *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    pthread_once(&shared_once, shared_init);
    a->flags = shared_flags;
    a->head = chunk_new(a, initial ? initial : (1u << 20));
    if (!a->head) {
        free(a);
        return NULL;
    }
    return a;
}

void wb_arena_destroy(wb_arena *a) {
    if (!a) return;
    for (chunk *c = a->head, *n; c; c = n) n = c->next, dallocx(c, a->flags);
    free(a);
}

void *wb_arena_alloc(wb_arena *a, size_t n) {
    size_t need = (n + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
    if (need == 0) need = ARENA_ALIGN;
    if (need < n) return NULL; /* overflow */
    chunk *c = a->head;
    if (c->cap - c->used < need) {
        size_t cap = c->cap <= SIZE_MAX / 2 && c->cap * 2 > need ? c->cap * 2 : need;
        chunk *nc = chunk_new(a, cap);
        if (!nc) return NULL;
        nc->next = c, a->head = c = nc;
    }
    void *p = (char *)c + HDR + c->used;
    c->used += need;
    a->step_used += need;
    if (a->step_used > a->peak) a->peak = a->step_used;
    return p;
}

void *wb_arena_calloc(wb_arena *a, size_t n) {
    void *p = wb_arena_alloc(a, n);
    if (p) memset(p, 0, n);
    return p;
}

void wb_arena_reset(wb_arena *a) {
    if (a->head->next) {
        /* Several chunks: replace them by one of their total size.  If that
         * allocation fails, keep the chunks and rewind them all. */
        size_t total = a->total;
        chunk *one = mallocx(HDR + total, a->flags | MALLOCX_ALIGN(ARENA_ALIGN));
        if (one) {
            for (chunk *c = a->head, *n; c; c = n) n = c->next, dallocx(c, a->flags);
            one->next = NULL, one->cap = total, one->used = 0;
            a->head = one;
        } else {
            for (chunk *c = a->head; c; c = c->next) c->used = 0;
        }
    }
    a->head->used = 0;
    a->step_used = 0;
}

size_t wb_arena_capacity(const wb_arena *a) { return a->total; }
size_t wb_arena_peak(const wb_arena *a) { return a->peak; }
