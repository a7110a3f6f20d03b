/*
 * index_build.c — bounded-memory construction of a store's LMDB index:
 * appended rows database, fingerprint table for duplicates, sorted runs
 * merged into the words database (see index_build.h for why).
 * Leaves out: the vectors and norms files (convert.c).
 */
#include "store/index_build.h"

#include <errno.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "store/mdbcheck.h"
#include "store/store_int.h"

#define IXB_TXN_ROWS 50000u          /* puts per write transaction */
#define IXB_MAPSIZE (1ull << 37)     /* virtual size of the build environment */
#define IXB_RUN_BYTES (8u << 20)     /* (key, row) bytes buffered before a spill */
#define IXB_REC_HEAD 6               /* u16 key length + u32 row */
#define IXB_EXPECT_MAX (1u << 23)     /* rows the duplicate table is sized for at most (12 B each) */

struct wb_ixb {
    char *dir;               /* temporary store directory (owned) */
    char *envdir;            /* dir/index.build (owned) */
    MDB_env *env;            /* build environment */
    MDB_txn *txn;            /* current write transaction */
    MDB_dbi words, rows, meta;
    uint32_t in_txn;         /* puts in txn */
    /* duplicate table, open addressing: hash[i] = XXH3-64 of the key with the
     * low bit forced to 1 (0 = empty), row[i] its row.  The slot index is
     * derived from the full hash (fastrange), so the table grows from its own
     * contents; a full 64-bit match is confirmed in the rows database. */
    uint64_t *hash;
    uint32_t *row;
    size_t size, count;
    /* current run: records [u16 klen][u32 row][key], and their offsets */
    char *run;
    size_t run_len;
    uint32_t *recs;
    size_t nrec, rec_cap;
    int nruns;               /* run files written */
};

/* An LMDB failure, naming the index being built (a full disk or a file size
 * limit surfaces here as the commit's errno). */
static int lmdb_fail(const wb_ixb *b, wb_err *err, const char *what, int mrc) {
    if (mrc == MDB_MAP_FULL)
        return wb_err_at(err, WB_ENOMEM, b->envdir, 0, -1,
                         "LMDB %s: %s (the index outgrew the address space left under ulimit -v)", what, mdb_strerror(mrc));
    return wb_err_at(err, WB_ELMDB, b->envdir, 0, -1, "LMDB %s: %s", what, mdb_strerror(mrc));
}

/* The build environment's map: 128 GB of address space, or under a capped
 * address space (ulimit -v) half of what the process has left, so that a
 * converter on a small login node still runs (the sealed file records its
 * own size whatever this was). */
static size_t build_mapsize(void) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) || rl.rlim_cur == RLIM_INFINITY) return IXB_MAPSIZE;
    unsigned long pages = 0;
    FILE *f = fopen("/proc/self/statm", "re");
    if (f) {
        if (fscanf(f, "%lu", &pages) != 1) pages = 0;
        fclose(f);
    }
    uint64_t used = (uint64_t)pages * (uint64_t)sysconf(_SC_PAGESIZE), left = rl.rlim_cur > used ? rl.rlim_cur - used : 0;
    uint64_t size = (left / 2) & ~((1ull << 20) - 1);
    return size < (16u << 20) ? (16u << 20) : size > IXB_MAPSIZE ? IXB_MAPSIZE : (size_t)size;
}

static char *run_path(const wb_ixb *b, int i) {
    char name[32];
    snprintf(name, sizeof name, "run-%d", i);
    return wb_path_join(b->dir, name);
}

/* Commit; optionally start the next transaction.  (Dropping the map pages
 * touched so far with MADV_DONTNEED after each commit was measured: 6% less
 * peak RSS for 2.2M words, 75% more system time, so it is not done.) */
static int cycle(wb_ixb *b, int reopen, wb_err *err) {
    int mrc = mdb_txn_commit(b->txn);
    b->txn = NULL;
    if (mrc) return lmdb_fail(b, err, "commit", mrc);
    b->in_txn = 0;
    if (reopen && (mrc = mdb_txn_begin(b->env, NULL, 0, &b->txn))) return lmdb_fail(b, err, "txn_begin", mrc);
    return 0;
}

static int bump(wb_ixb *b, wb_err *err) {
    return ++b->in_txn >= IXB_TXN_ROWS ? cycle(b, 1, err) : 0;
}

int wb_ixb_open(wb_ixb **out, const char *dir, uint64_t expect_rows, wb_err *err) {
    *out = NULL;
    wb_ixb *b = calloc(1, sizeof *b);
    if (!b) return wb_err_set(err, WB_ENOMEM, "out of memory");
    *out = b;
    b->dir = strdup(dir);
    b->envdir = wb_path_join(dir, "index.build");
    if (expect_rows > IXB_EXPECT_MAX) expect_rows = IXB_EXPECT_MAX; /* a hint; the table grows */
    b->size = expect_rows ? (size_t)(expect_rows * 5 / 4) + 1024 : 1 << 16;
    b->hash = calloc(b->size, sizeof *b->hash);
    b->row = malloc(b->size * sizeof *b->row);
    b->run = malloc(IXB_RUN_BYTES);
    if (!b->dir || !b->envdir || !b->hash || !b->row || !b->run) return wb_err_set(err, WB_ENOMEM, "out of memory");
    if (mkdir(b->envdir, 0755))
        return wb_err_at(err, errno, b->envdir, 0, -1, "cannot create: %s", strerror(errno));
    int mrc;
    if ((mrc = mdb_env_create(&b->env)) || (mrc = mdb_env_set_maxdbs(b->env, 4)) ||
        (mrc = mdb_env_set_mapsize(b->env, build_mapsize())) ||
        (mrc = mdb_env_open(b->env, b->envdir, MDB_NOSYNC | MDB_NOMETASYNC | MDB_NOLOCK, 0644)) ||
        (mrc = mdb_txn_begin(b->env, NULL, 0, &b->txn)) ||
        (mrc = mdb_dbi_open(b->txn, WB_DB_WORDS, MDB_CREATE, &b->words)) ||
        (mrc = mdb_dbi_open(b->txn, WB_DB_ROWS, MDB_CREATE | MDB_INTEGERKEY, &b->rows)) ||
        (mrc = mdb_dbi_open(b->txn, WB_DB_META, MDB_CREATE, &b->meta)))
        return lmdb_fail(b, err, "open", mrc);
    return 0;
}

/* ---- duplicate table ---------------------------------------------------- */

/* Slot of a hash: fastrange over the high bits (any table size). */
static inline size_t slot_of(uint64_t h, size_t size) {
    return (size_t)(((unsigned __int128)h * size) >> 64);
}

static int grow(wb_ixb *b) {
    size_t size = b->size * 2;
    uint64_t *h = calloc(size, sizeof *h);
    uint32_t *r = malloc(size * sizeof *r);
    if (!h || !r) {
        free(h), free(r);
        return WB_ENOMEM;
    }
    for (size_t i = 0; i < b->size; i++) {
        if (!b->hash[i]) continue;
        size_t j = slot_of(b->hash[i], size);
        while (h[j]) j = j + 1 == size ? 0 : j + 1;
        h[j] = b->hash[i], r[j] = b->row[i];
    }
    free(b->hash), free(b->row);
    b->hash = h, b->row = r, b->size = size;
    return 0;
}

/* ---- runs --------------------------------------------------------------- */

static const char *g_run; /* qsort has no context argument */

/* LMDB's default key order: memcmp over the shorter length, then length. */
static int key_cmp(const char *a, size_t na, const char *b, size_t nb) {
    int c = memcmp(a, b, na < nb ? na : nb);
    return c ? c : (na > nb) - (na < nb);
}

static size_t rec_klen(const char *r) {
    uint16_t n;
    memcpy(&n, r, 2);
    return n;
}

static int rec_cmp(const void *x, const void *y) {
    const char *a = g_run + *(const uint32_t *)x, *b = g_run + *(const uint32_t *)y;
    return key_cmp(a + IXB_REC_HEAD, rec_klen(a), b + IXB_REC_HEAD, rec_klen(b));
}

static int spill(wb_ixb *b, wb_err *err) {
    if (!b->nrec) return 0;
    g_run = b->run;
    qsort(b->recs, b->nrec, sizeof *b->recs, rec_cmp);
    char *p = run_path(b, b->nruns);
    FILE *f = p ? fopen(p, "wb") : NULL;
    int rc = 0;
    if (!f) rc = wb_err_at(err, p ? errno : WB_ENOMEM, p, 0, -1, "cannot create a sort run: %s", strerror(errno));
    for (size_t i = 0; !rc && i < b->nrec; i++) {
        const char *r = b->run + b->recs[i];
        fwrite(r, 1, IXB_REC_HEAD + rec_klen(r), f);
    }
    if (f) {
        int bad = ferror(f);
        if ((fclose(f) || bad) && !rc) rc = wb_err_at(err, EIO, p, 0, -1, "cannot write a sort run");
    }
    free(p);
    if (rc) return rc;
    b->nruns++;
    b->run_len = 0;
    b->nrec = 0;
    return 0;
}

static int run_add(wb_ixb *b, const char *key, size_t klen, uint32_t row, wb_err *err) {
    int rc;
    if (b->run_len + IXB_REC_HEAD + klen > IXB_RUN_BYTES && (rc = spill(b, err))) return rc;
    if (b->nrec == b->rec_cap) {
        size_t cap = b->rec_cap ? b->rec_cap * 2 : 65536;
        uint32_t *r = realloc(b->recs, cap * sizeof *r);
        if (!r) return wb_err_set(err, WB_ENOMEM, "out of memory");
        b->recs = r, b->rec_cap = cap;
    }
    b->recs[b->nrec++] = (uint32_t)b->run_len;
    char *r = b->run + b->run_len;
    uint16_t n = (uint16_t)klen;
    memcpy(r, &n, 2);
    memcpy(r + 2, &row, 4);
    memcpy(r + IXB_REC_HEAD, key, klen);
    b->run_len += IXB_REC_HEAD + klen;
    return 0;
}

/* ---- adding words ------------------------------------------------------- */

int wb_ixb_add(wb_ixb *b, const char *word, size_t len, uint32_t row, uint32_t *dup_row, wb_err *err) {
    char key[WB_STORE_MAX_KEY];
    size_t klen = wb_store_key(word, len, key);
    *dup_row = UINT32_MAX;
    if (klen == 0) return wb_err_set(err, WB_EFORMAT, "empty word");
    const uint64_t h = XXH3_64bits(key, klen) | 1;
    size_t i = slot_of(h, b->size);
    for (; b->hash[i]; i = i + 1 == b->size ? 0 : i + 1) {
        if (b->hash[i] != h) continue;
        /* Same 64-bit hash: the same word only if the rows database says so. */
        uint32_t old = b->row[i];
        MDB_val k = {4, &old}, v;
        int mrc = mdb_get(b->txn, b->rows, &k, &v);
        if (mrc) return lmdb_fail(b, err, "get", mrc);
        if (v.mv_size == len && !memcmp(v.mv_data, word, len)) {
            *dup_row = old;
            return 0;
        }
        char okey[WB_STORE_MAX_KEY];
        if (wb_store_key(v.mv_data, v.mv_size, okey) == klen && !memcmp(okey, key, klen))
            return wb_err_set(err, WB_EFORMAT, "two long words share a hashed key (XXH3 collision)");
    }
    b->hash[i] = h, b->row[i] = row;
    if (++b->count * 5 > b->size * 4 && grow(b)) return wb_err_set(err, WB_ENOMEM, "out of memory");
    MDB_val rk = {4, &row}, rv = {len, (void *)word};
    int mrc = mdb_put(b->txn, b->rows, &rk, &rv, MDB_APPEND);
    if (mrc) return lmdb_fail(b, err, "put", mrc);
    int rc = run_add(b, key, klen, row, err);
    return rc ? rc : bump(b, err);
}

int wb_ixb_put_meta(wb_ixb *b, const char *key, const void *val, size_t n, wb_err *err) {
    MDB_val k = {strlen(key), (void *)key}, v = {n, (void *)val};
    int mrc = mdb_put(b->txn, b->meta, &k, &v, 0);
    return mrc ? lmdb_fail(b, err, "put meta", mrc) : 0;
}

/* ---- the merge ---------------------------------------------------------- */

typedef struct cursor {
    FILE *f;
    size_t klen;
    uint32_t row;
    char key[WB_STORE_MAX_KEY];
} cursor;

/* Next record of a run; 1 = got one, 0 = end, -1 = error. */
static int cursor_next(cursor *c) {
    unsigned char h[IXB_REC_HEAD];
    size_t r = fread(h, 1, sizeof h, c->f);
    if (r == 0) return feof(c->f) ? 0 : -1;
    if (r != sizeof h) return -1;
    uint16_t n;
    memcpy(&n, h, 2);
    memcpy(&c->row, h + 2, 4);
    c->klen = n;
    return n <= WB_STORE_MAX_KEY && fread(c->key, 1, n, c->f) == n ? 1 : -1;
}

static int cur_less(const cursor *a, const cursor *b) {
    return key_cmp(a->key, a->klen, b->key, b->klen) < 0;
}

static void sift(cursor **h, size_t n, size_t i) {
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && cur_less(h[l], h[m])) m = l;
        if (r < n && cur_less(h[r], h[m])) m = r;
        if (m == i) return;
        cursor *t = h[i];
        h[i] = h[m], h[m] = t, i = m;
    }
}

static int merge_runs(wb_ixb *b, wb_err *err) {
    int n = b->nruns, rc = 0;
    cursor *cs = calloc((size_t)n + 1, sizeof *cs);
    cursor **heap = calloc((size_t)n + 1, sizeof *heap);
    if (!cs || !heap) rc = wb_err_set(err, WB_ENOMEM, "out of memory");
    size_t hn = 0;
    for (int i = 0; !rc && i < n; i++) {
        char *p = run_path(b, i);
        cs[i].f = p ? fopen(p, "rb") : NULL;
        if (!cs[i].f) rc = wb_err_at(err, p ? errno : WB_ENOMEM, p, 0, -1, "cannot open a sort run");
        else setvbuf(cs[i].f, NULL, _IOFBF, 1 << 18);
        free(p);
        if (!rc) {
            int got = cursor_next(&cs[i]);
            if (got < 0) rc = wb_err_set(err, WB_EIO, "cannot read a sort run");
            else if (got) heap[hn++] = &cs[i];
        }
    }
    for (size_t i = hn; i-- > 0;) sift(heap, hn, i);
    while (!rc && hn) {
        cursor *c = heap[0];
        MDB_val k = {c->klen, c->key}, v = {4, &c->row};
        int mrc = mdb_put(b->txn, b->words, &k, &v, MDB_APPEND);
        if (mrc) {
            rc = lmdb_fail(b, err, mrc == MDB_KEYEXIST ? "merge (keys out of order)" : "put", mrc);
            break;
        }
        if ((rc = bump(b, err))) break;
        int got = cursor_next(c);
        if (got < 0) rc = wb_err_set(err, WB_EIO, "cannot read a sort run");
        else if (!got) heap[0] = heap[--hn];
        sift(heap, hn, 0);
    }
    for (int i = 0; cs && i < n; i++) {
        if (cs[i].f) fclose(cs[i].f);
        char *p = run_path(b, i);
        if (p) unlink(p);
        free(p);
    }
    free(cs);
    free(heap);
    return rc;
}

int wb_ixb_finish(wb_ixb *b, const char *dst, wb_err *err) {
    int rc;
    /* The duplicate table and run buffer are no longer needed: free them
     * before the merge so the peak stays where it was. */
    if (b->nruns == 0) { /* everything fits in one run: sort it and append from memory */
        free(b->hash), b->hash = NULL;
        free(b->row), b->row = NULL;
        g_run = b->run;
        qsort(b->recs, b->nrec, sizeof *b->recs, rec_cmp);
        for (size_t i = 0; i < b->nrec; i++) {
            const char *r = b->run + b->recs[i];
            uint32_t row;
            memcpy(&row, r + 2, 4);
            MDB_val k = {rec_klen(r), (void *)(r + IXB_REC_HEAD)}, v = {4, &row};
            int mrc = mdb_put(b->txn, b->words, &k, &v, MDB_APPEND);
            if (mrc) return lmdb_fail(b, err, "put", mrc);
            if ((rc = bump(b, err))) return rc;
        }
        b->nrec = 0;
    }
    if ((rc = spill(b, err))) return rc;
    free(b->hash), b->hash = NULL;
    free(b->row), b->row = NULL;
    free(b->run), b->run = NULL;
    free(b->recs), b->recs = NULL;
    if ((rc = merge_runs(b, err)) || (rc = cycle(b, 0, err))) return rc;
    /* Both trees were built by appends, so the file is already dense: the
     * only free pages are the few copy-on-write leftovers of the last
     * commits.  Moving the file (instead of mdb_env_copy2 with compaction,
     * which would read the whole index through this process's map) keeps
     * the converter's RSS bounded. */
    mdb_env_close(b->env);
    b->env = NULL;
    char *from = wb_path_join(b->envdir, "data.mdb"), *to = wb_path_join(dst, "data.mdb");
    rc = !from || !to ? wb_err_set(err, WB_ENOMEM, "out of memory")
         : rename(from, to) ? wb_err_at(err, errno, to, 0, -1, "cannot move the index: %s", strerror(errno)) : 0;
    free(from), free(to);
    /* Record a map size that fits the file and write its checksum file. */
    return rc ? rc : wb_mdb_seal(dst, err);
}

void wb_ixb_close(wb_ixb *b) {
    if (!b) return;
    if (b->txn) mdb_txn_abort(b->txn);
    if (b->env) mdb_env_close(b->env);
    for (int i = 0; i < b->nruns; i++) {
        char *p = run_path(b, i);
        if (p) unlink(p);
        free(p);
    }
    if (b->envdir) {
        char *d = wb_path_join(b->envdir, "data.mdb"), *l = wb_path_join(b->envdir, "lock.mdb");
        if (d) unlink(d);
        if (l) unlink(l);
        free(d), free(l);
        rmdir(b->envdir);
    }
    free(b->hash);
    free(b->row);
    free(b->run);
    free(b->recs);
    free(b->envdir);
    free(b->dir);
    free(b);
}
