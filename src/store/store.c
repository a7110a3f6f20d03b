/*
 * store.c — open, read and verify an embedding store (see wordbench/store.h).
 *
 * Contains: the opener (NPY headers checked against file sizes and the meta
 * database; the index file checked before LMDB maps it, then opened
 * read-only without a lock file and with a map of the file's size),
 * word/row look-ups, gather into float32, verification, and the meta parser
 * shared with the converter.  Leaves out: writing stores (convert.c),
 * similarity search (similar.c), the LMDB page checks themselves
 * (mdbcheck.c).
 */
#include "wordbench/store.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "base/fileio.h"
#include "store/mdbcheck.h"
#include "store/store_int.h"
#include "wordbench/floatparse.h"
#include "wordbench/npy.h"

/* One open store.  Invariant: when open succeeded every field is valid; when
 * it failed, whatever was set is released by wb_store_close. */
struct wb_store {
    char *dir;                  /* store directory path (owned) */
    wb_store_info info;         /* from meta + file sizes */
    void *vmap;                 /* mapping of vectors.npy (whole file) */
    size_t vmap_len;            /* its length */
    const uint8_t *vdata;       /* first element: vmap + data offset */
    size_t row_bytes;           /* dim * element size */
    void *nmap;                 /* mapping of norms.npy */
    size_t nmap_len;            /* its length */
    const float *norms;         /* (rows) */
    MDB_env *env;               /* index environment */
    MDB_txn *txn;               /* one read transaction for the handle's life */
    MDB_dbi words, rows, meta;  /* database handles */
    uint8_t *block_hashes;      /* copy of meta block_hashes (nblocks*8) */
    uint64_t norms_hash;        /* XXH3-64 of the norms data */
    wb_mdb_file mdb;            /* the index file as checked at open (fd: LMDB's; path: index_path) */
    char *index_path;           /* STORE/index.lmdb/data.mdb for messages (owned) */
    int have_sum;               /* the index has a checksum file */
    wb_mdb_sum sum;             /* and what it records */
    const uint8_t *imap;        /* LMDB's map of the index (NULL: unknown) */
    size_t imap_len;            /* its length */
    int vfd1;                   /* vectors.npy's descriptor + 1 (0: none), for pread prefetches */
    struct prefetch *pf;        /* the running or finished read-ahead (NULL: none) */
};

/* ---- keys and meta ------------------------------------------------------ */

size_t wb_store_key(const char *word, size_t len, char *key) {
    if (len <= WB_STORE_MAX_KEY) {
        memcpy(key, word, len);
        return len;
    }
    uint64_t h = XXH3_64bits(word, len);
    memcpy(key, word, WB_STORE_MAX_KEY - 8);
    for (int i = 0; i < 8; i++) key[WB_STORE_MAX_KEY - 8 + i] = (char)(h >> (8 * i));
    return WB_STORE_MAX_KEY;
}

enum {
    SEEN_VERSION = 1 << 0, SEEN_ROWS = 1 << 1, SEEN_DIM = 1 << 2, SEEN_DTYPE = 1 << 3,
    SEEN_BLOCKB = 1 << 4, SEEN_HASHES = 1 << 5, SEEN_NORMSH = 1 << 6, SEEN_FPR = 1 << 7,
    SEEN_REQUIRED = (1 << 8) - 1
};

void wb_meta_init(wb_meta *m) {
    memset(m, 0, sizeof *m);
}

/* Parse an ASCII decimal u64 of exactly vlen bytes. */
static int meta_u64(const void *val, size_t vlen, uint64_t *out) {
    const char *s = val;
    if (vlen == 0 || vlen > 20) return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < vlen; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10) return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* Parse exactly 16 lower/upper-case hex digits. */
static int meta_hex64(const void *val, size_t vlen, uint64_t *out) {
    const char *s = val;
    if (vlen != 16) return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < 16; i++) {
        int c = s[i], d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else return -1;
        v = (v << 4) | (uint64_t)d;
    }
    *out = v;
    return 0;
}

static int key_is(const void *key, size_t klen, const char *name) {
    return klen == strlen(name) && memcmp(key, name, klen) == 0;
}

static void meta_text(char *dst, size_t cap, const void *val, size_t vlen) {
    size_t n = vlen < cap - 1 ? vlen : cap - 1;
    memcpy(dst, val, n);
    dst[n] = 0;
}

int wb_meta_take(wb_meta *m, const void *key, size_t klen, const void *val,
                 size_t vlen, wb_err *err) {
    wb_store_info *in = &m->info;
    uint64_t v = 0;
    /* numeric keys: name, destination, seen bit */
    struct { const char *name; uint64_t *dst; uint32_t bit; } nums[] = {
        {WB_META_ROWS, &in->rows, SEEN_ROWS},
        {WB_META_SOURCE_BYTES, &in->source_bytes, 0},
        {WB_META_DUPLICATES, &in->duplicates, 0},
        {WB_META_SKIPPED, &in->skipped, 0},
        {WB_META_INVALID_UTF8, &in->invalid_utf8, 0},
        {WB_META_LONG_WORDS, &in->long_words, 0},
        {WB_META_CREATED, &in->created, 0},
        {WB_META_BLOCK_BYTES, &m->block_bytes, SEEN_BLOCKB},
    };
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        if (!key_is(key, klen, nums[i].name)) continue;
        if (meta_u64(val, vlen, nums[i].dst))
            return wb_err_set(err, WB_ECORRUPT, "meta '%s' is not a number", nums[i].name);
        m->seen |= nums[i].bit;
        return 0;
    }
    if (key_is(key, klen, WB_META_FORMAT_VERSION) || key_is(key, klen, WB_META_DIM) ||
        key_is(key, klen, WB_META_NORMALIZED) || key_is(key, klen, WB_META_SOURCE_GZIP)) {
        if (meta_u64(val, vlen, &v) || v > UINT32_MAX)
            return wb_err_set(err, WB_ECORRUPT, "meta '%.*s' is not a small number", (int)klen,
                              (const char *)key);
        if (key_is(key, klen, WB_META_FORMAT_VERSION)) in->format_version = (uint32_t)v, m->seen |= SEEN_VERSION;
        else if (key_is(key, klen, WB_META_DIM)) in->dim = (uint32_t)v, m->seen |= SEEN_DIM;
        else if (key_is(key, klen, WB_META_NORMALIZED)) in->normalized = v != 0;
        else in->source_gzip = v != 0;
        return 0;
    }
    if (key_is(key, klen, WB_META_DTYPE)) {
        if (vlen == 3 && !memcmp(val, "f32", 3)) in->dtype = WB_DTYPE_F32;
        else if (vlen == 3 && !memcmp(val, "f16", 3)) in->dtype = WB_DTYPE_F16;
        else return wb_err_set(err, WB_ECORRUPT, "meta 'dtype' is neither f32 nor f16");
        m->seen |= SEEN_DTYPE;
        return 0;
    }
    if (key_is(key, klen, WB_META_SOURCE)) { meta_text(in->source, sizeof in->source, val, vlen); return 0; }
    if (key_is(key, klen, WB_META_SOURCE_FORMAT)) {
        meta_text(in->source_format, sizeof in->source_format, val, vlen);
        return 0;
    }
    if (key_is(key, klen, WB_META_BLOCK_HASHES)) {
        if (vlen % 8) return wb_err_set(err, WB_ECORRUPT, "meta 'block_hashes' length %zu is not a multiple of 8", vlen);
        m->block_hashes = val;
        in->nblocks = vlen / 8;
        m->seen |= SEEN_HASHES;
        return 0;
    }
    if (key_is(key, klen, WB_META_NORMS_XXH3) || key_is(key, klen, WB_META_FINGERPRINT)) {
        int fpr = key_is(key, klen, WB_META_FINGERPRINT);
        if (meta_hex64(val, vlen, fpr ? &in->fingerprint : &m->norms_hash))
            return wb_err_set(err, WB_ECORRUPT, "meta '%s' is not 16 hex digits",
                              fpr ? WB_META_FINGERPRINT : WB_META_NORMS_XXH3);
        m->seen |= fpr ? SEEN_FPR : SEEN_NORMSH;
        return 0;
    }
    return 0; /* unknown key: ignored */
}

int wb_meta_finish(wb_meta *m, wb_err *err) {
    wb_store_info *in = &m->info;
    if ((m->seen & SEEN_VERSION) && in->format_version > WB_STORE_FORMAT_VERSION)
        return wb_err_set(err, WB_EVERSION,
                          "store format version %u is newer than this build reads (%u): upgrade wordbench",
                          in->format_version, WB_STORE_FORMAT_VERSION);
    if ((m->seen & SEEN_REQUIRED) != SEEN_REQUIRED) {
        static const char *names[] = {WB_META_FORMAT_VERSION, WB_META_ROWS, WB_META_DIM, WB_META_DTYPE,
                                      WB_META_BLOCK_BYTES, WB_META_BLOCK_HASHES, WB_META_NORMS_XXH3,
                                      WB_META_FINGERPRINT};
        for (int i = 0; i < 8; i++)
            if (!(m->seen & (1u << i)))
                return wb_err_set(err, WB_ECORRUPT, "meta key '%s' is missing", names[i]);
    }
    if (in->format_version == 0)
        return wb_err_set(err, WB_ECORRUPT, "meta 'format_version' is 0");
    if (m->block_bytes != WB_STORE_BLOCK_BYTES)
        return wb_err_set(err, WB_ECORRUPT, "meta 'block_bytes' is %" PRIu64 ", expected %llu",
                          m->block_bytes, WB_STORE_BLOCK_BYTES);
    if (in->dim == 0) return wb_err_set(err, WB_ECORRUPT, "meta 'dim' is 0");
    if (in->rows > UINT32_MAX)
        return wb_err_set(err, WB_ECORRUPT, "meta 'rows' %" PRIu64 " exceeds 2^32-1", in->rows);
    /* rows * dim * esize fits easily in u64 (2^32 * 2^32 * 4 would not: check). */
    if ((unsigned __int128)in->rows * in->dim * wb_dtype_size(in->dtype) > (unsigned __int128)UINT64_MAX / 2)
        return wb_err_set(err, WB_ECORRUPT, "meta 'rows' x 'dim' is too large");
    uint64_t data = in->rows * in->dim * wb_dtype_size(in->dtype);
    uint64_t want = data ? (data + m->block_bytes - 1) / m->block_bytes : 0;
    if (in->nblocks != want)
        return wb_err_set(err, WB_ECORRUPT, "meta has %" PRIu64 " block hashes, the data needs %" PRIu64,
                          in->nblocks, want);
    uint64_t fpr = XXH3_64bits(m->block_hashes, in->nblocks * 8);
    if (fpr != in->fingerprint)
        return wb_err_set(err, WB_ECORRUPT, "meta 'fingerprint' does not match the block hashes");
    return 0;
}

/* ---- open / close ------------------------------------------------------- */

char *wb_path_join(const char *a, const char *b) {
    size_t n = strlen(a) + strlen(b) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", a, b);
    return p;
}

/* Map one NPY file read-only after checking its header and size.
 * want_ndim 2 for vectors, 1 for norms. */
static int map_npy(int dfd, const char *dir, const char *name, int want_ndim, wb_npy_info *ni,
                   void **map, size_t *maplen, uint64_t *fsize, int *keep_fd, wb_err *err) {
    char *path = wb_path_join(dir, name);
    if (!path) return wb_err_set(err, WB_ENOMEM, "out of memory");
    /* O_NONBLOCK: a store path may come from a model file, and opening a
     * FIFO planted as vectors.npy would otherwise wait forever. */
    int rc = 0, fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        rc = errno;
        wb_err_at(err, rc, path, 0, -1, "cannot open: %s", strerror(rc));
        goto out;
    }
    struct stat sb;
    if (fstat(fd, &sb)) {
        rc = errno;
        wb_err_at(err, rc, path, 0, -1, "cannot stat: %s", strerror(rc));
        goto out;
    }
    if (!S_ISREG(sb.st_mode)) {
        rc = wb_err_at(err, WB_ECORRUPT, path, 0, -1, "not a regular file");
        goto out;
    }
    uint8_t head[WB_NPY_DATA_OFFSET];
    ssize_t got = pread(fd, head, sizeof head, 0);
    if (got < 0) {
        rc = errno;
        wb_err_at(err, rc, path, 0, -1, "cannot read: %s", strerror(rc));
        goto out;
    }
    if ((rc = wb_npy_header_parse(head, (size_t)got, ni, err))) {
        if (rc == WB_EFORMAT) rc = WB_ECORRUPT; /* a store never holds another dtype */
        if (err) err->code = rc, snprintf(err->file, sizeof err->file, "%s", path);
        goto out;
    }
    if (ni->data_offset % 64) { /* numpy aligns data to 64; rows must be float-aligned */
        rc = wb_err_at(err, WB_ECORRUPT, path, 0, -1, "NPY data offset %" PRIu64 " is not a multiple of 64",
                       ni->data_offset);
        goto out;
    }
    if (ni->ndim != want_ndim) {
        rc = wb_err_at(err, WB_ECORRUPT, path, 0, -1, "has %d dimensions, expected %d", ni->ndim, want_ndim);
        goto out;
    }
    uint64_t need = ni->data_offset + ni->rows * ni->cols * wb_dtype_size(ni->dtype);
    if ((uint64_t)sb.st_size != need) {
        rc = wb_err_at(err, WB_ECORRUPT, path, 0, -1,
                       "%s: header says %" PRIu64 " x %" PRIu64 " %s (%" PRIu64 " bytes) but the file has %lld bytes",
                       (uint64_t)sb.st_size < need ? "truncated" : "trailing bytes", ni->rows, ni->cols,
                       wb_dtype_name(ni->dtype), need, (long long)sb.st_size);
        goto out;
    }
    *fsize = need;
    *maplen = (size_t)need;
    *map = mmap(NULL, *maplen, PROT_READ, MAP_SHARED, fd, 0);
    if (*map == MAP_FAILED) {
        *map = NULL;
        rc = errno;
        wb_err_at(err, rc, path, 0, -1, "cannot map: %s", strerror(rc));
    } else if (keep_fd) {
        *keep_fd = fd + 1;
        fd = -1;
    }
out:
    if (fd >= 0) close(fd);
    free(path);
    return rc;
}

static int lmdb_err(wb_err *err, const char *what, int mrc) {
    return wb_err_set(err, WB_ELMDB, "%s: %s", what, mdb_strerror(mrc));
}

static void store_release(wb_store *st);

void wb_store_close(wb_store *st) {
    if (!st) return;
    store_release(st);
    free(st->dir);
    free(st);
}

/* Open the LMDB index.  Before LMDB sees data.mdb, check what it will trust
 * (mdbcheck.h: meta pages, the database records, root pages, the meta
 * database) or, with WB_STORE_OPEN_VERIFY, every page and the checksum; then
 * open it read-only, without a lock file, with a map of the file's size (the
 * builder's recorded map size may be 128 GB, more address space than a
 * capped process has). */
static int open_index(wb_store *st, int dfd, unsigned flags, wb_err *err) {
    /* LMDB takes a path: reach the index through the directory descriptor
     * (/proc/self/fd/N) so that it comes from the same directory as the
     * matrices even if the store is replaced meanwhile. */
    char viafd[64];
    snprintf(viafd, sizeof viafd, "/proc/self/fd/%d", dfd);
    struct stat sb;
    const int proc = stat(viafd, &sb) == 0 && S_ISDIR(sb.st_mode);
    char *path = proc ? wb_path_join(viafd, WB_STORE_INDEX) : wb_path_join(st->dir, WB_STORE_INDEX);
    char *shown = wb_path_join(st->dir, WB_STORE_INDEX "/data.mdb");
    char *sumshown = wb_path_join(st->dir, WB_STORE_INDEX "/" WB_MDB_SUM_NAME);
    int rc = 0, mrc, fd = -1;
    if (!path || !shown || !sumshown) { rc = wb_err_set(err, WB_ENOMEM, "out of memory"); goto out; }
    fd = openat(dfd, WB_STORE_INDEX "/data.mdb", O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        rc = errno;
        wb_err_at(err, rc, shown, 0, -1, "cannot open the index: %s", strerror(rc));
        goto out;
    }
    if ((rc = wb_mdb_check_open(&st->mdb, fd, shown, WB_DB_META, err))) goto out;
    st->index_path = shown, shown = NULL; /* the store keeps the name for verify's messages */
    st->info.index_bytes = st->mdb.fsize;
    rc = wb_mdb_sum_read(dfd, WB_STORE_INDEX "/" WB_MDB_SUM_NAME, sumshown, &st->sum, err);
    if (rc && rc != ENOENT) goto out;
    st->have_sum = rc == 0;
    rc = 0;
    if (st->have_sum && st->sum.size != st->mdb.fsize) {
        rc = wb_err_at(err, WB_ECORRUPT, st->index_path, 0, -1, "has %" PRIu64 " bytes, its checksum file says %" PRIu64,
                       st->mdb.fsize, st->sum.size);
        goto out;
    }
    if (flags & WB_STORE_OPEN_VERIFY) {
        uint64_t h;
        if ((rc = wb_mdb_walk(&st->mdb, NULL, err))) goto out;
        if (st->have_sum && (rc = wb_mdb_hash(fd, st->mdb.fsize, &h))) {
            wb_err_at(err, rc, st->index_path, 0, -1, "cannot read: %s", wb_strerror(rc));
            goto out;
        }
        if (st->have_sum && h != st->sum.xxh3) {
            rc = wb_err_at(err, WB_ECORRUPT, st->index_path, 0, -1, "does not match its checksum (data.mdb.xxh3)");
            goto out;
        }
    }
    if ((mrc = mdb_env_create(&st->env))) { rc = lmdb_err(err, "mdb_env_create", mrc); goto out; }
    mdb_env_set_maxdbs(st->env, 4);
    mdb_env_set_mapsize(st->env, (size_t)st->mdb.fsize);
    if ((mrc = mdb_env_open(st->env, path, MDB_RDONLY | MDB_NOLOCK | MDB_NOTLS, 0444))) {
        /* errno values pass through (ENOENT lets wb_store_open retry a
         * store that was replaced under it); LMDB's own codes are wrapped. */
        rc = wb_err_at(err, mrc > 0 ? mrc : mrc == MDB_INVALID || mrc == MDB_VERSION_MISMATCH ? WB_ECORRUPT : WB_ELMDB,
                       st->index_path, 0, -1, "cannot open the LMDB index: %s", mdb_strerror(mrc));
        goto out;
    }
    /* LMDB must see the file as it was checked (the same file, the same meta
     * page): a store is never written after publication. */
    MDB_envinfo ei;
    MDB_stat es;
    mdb_env_info(st->env, &ei);
    mdb_env_stat(st->env, &es);
    mdb_filehandle_t lfd;
    struct stat a, b;
    if (ei.me_last_pgno + 1 != st->mdb.npages || es.ms_psize != st->mdb.psize || mdb_env_get_fd(st->env, &lfd) ||
        fstat(lfd, &a) || fstat(fd, &b) || a.st_ino != b.st_ino || a.st_dev != b.st_dev) {
        rc = wb_err_at(err, WB_ECORRUPT, st->index_path, 0, -1, "changed while it was being opened");
        goto out;
    }
    st->mdb.fd = lfd;
    if ((mrc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &st->txn))) {
        rc = lmdb_err(err, "mdb_txn_begin", mrc);
        goto out;
    }
    struct { const char *name; MDB_dbi *dbi; unsigned flags; } dbs[] = {
        {WB_DB_META, &st->meta, 0}, {WB_DB_WORDS, &st->words, 0}, {WB_DB_ROWS, &st->rows, MDB_INTEGERKEY}};
    for (int i = 0; i < 3; i++) {
        if ((mrc = mdb_dbi_open(st->txn, dbs[i].name, dbs[i].flags, dbs[i].dbi))) {
            rc = wb_err_at(err, WB_ECORRUPT, st->index_path, 0, -1, "the index has no '%s' database: %s", dbs[i].name,
                           mdb_strerror(mrc));
            goto out;
        }
    }
out:
    if (fd >= 0) close(fd);
    free(path);
    free(shown);
    free(sumshown);
    return rc;
}

/* Read every meta pair, check them, copy the block hashes. */
static int read_meta(wb_store *st, wb_err *err) {
    MDB_cursor *cur;
    MDB_val k, v;
    int mrc = mdb_cursor_open(st->txn, st->meta, &cur), rc = 0;
    if (mrc) return lmdb_err(err, "mdb_cursor_open", mrc);
    wb_meta m;
    wb_meta_init(&m);
    const void *inside = NULL; /* any byte of LMDB's map */
    while ((mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {
        inside = k.mv_data;
        if ((rc = wb_meta_take(&m, k.mv_data, k.mv_size, v.mv_data, v.mv_size, err))) break;
    }
    mdb_cursor_close(cur);
    if (rc) return rc;
    if (mrc != MDB_NOTFOUND) return lmdb_err(err, "reading meta", mrc);
    void *addr;
    size_t used;
    if (inside && !wb_lmdb_map(st->env, inside, &addr, &used)) st->imap = addr, st->imap_len = used;
    if ((rc = wb_meta_finish(&m, err))) return rc;
    uint64_t vb = st->info.vectors_bytes, nb = st->info.norms_bytes, ib = st->info.index_bytes;
    st->info = m.info;
    st->info.vectors_bytes = vb, st->info.norms_bytes = nb, st->info.index_bytes = ib;
    st->norms_hash = m.norms_hash;
    st->block_hashes = malloc(m.info.nblocks * 8 + 1);
    if (!st->block_hashes) return wb_err_set(err, WB_ENOMEM, "out of memory");
    memcpy(st->block_hashes, m.block_hashes, m.info.nblocks * 8);
    return 0;
}

/* Release what one open attempt acquired; keep dir. */
static void prefetch_stop(wb_store *st);

static void store_release(wb_store *st) {
    prefetch_stop(st);
    if (st->vfd1) close(st->vfd1 - 1);
    if (st->txn) mdb_txn_abort(st->txn);
    if (st->env) mdb_env_close(st->env);
    if (st->vmap) munmap(st->vmap, st->vmap_len);
    if (st->nmap) munmap(st->nmap, st->nmap_len);
    free(st->block_hashes);
    free(st->index_path);
    char *dir = st->dir;
    memset(st, 0, sizeof *st);
    st->dir = dir;
}

/* One attempt: every file through one directory descriptor, so all of them
 * come from the same store even while `convert --force` swaps in another. */
static int open_attempt(wb_store *st, const char *dir, unsigned flags, wb_err *err) {
    int rc, dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    wb_npy_info vi, ni;
    if (dfd < 0) {
        rc = errno;
        if (rc == ENOTDIR) { /* a file: say what it is when its first bytes tell */
            unsigned char head[64];
            int fd = open(dir, O_RDONLY | O_CLOEXEC);
            ssize_t n = fd >= 0 ? read(fd, head, sizeof head) : -1;
            if (fd >= 0) close(fd);
            const char *kind = n > 0 ? wb_file_kind(head, (size_t)n) : NULL;
            return wb_err_at(err, WB_ECORRUPT, dir, 0, -1, "%s%snot a store directory (a store is the directory "
                             "'wordbench convert' writes)", kind ? kind : "", kind ? ", " : "");
        }
        return wb_err_at(err, rc, dir, 0, -1, "cannot open the store: %s", strerror(rc));
    }
    if ((rc = map_npy(dfd, dir, WB_STORE_VECTORS, 2, &vi, &st->vmap, &st->vmap_len, &st->info.vectors_bytes,
                      &st->vfd1, err)) ||
        (rc = map_npy(dfd, dir, WB_STORE_NORMS, 1, &ni, &st->nmap, &st->nmap_len, &st->info.norms_bytes, NULL, err)))
        goto out;
    if ((rc = open_index(st, dfd, flags, err)) || (rc = read_meta(st, err))) {
        if (err && !err->file[0]) snprintf(err->file, sizeof err->file, "%s/%s", dir, WB_STORE_INDEX);
        goto out;
    }
    if (st->info.format_version >= 2 && !st->have_sum) {
        /* Format 2 records the index's checksum.  ENOENT, like any missing
         * file: the store may have just been replaced (--force) and its
         * files removed under us, which wb_store_open retries. */
        rc = wb_err_at(err, ENOENT, dir, 0, -1, "%s/%s is missing", WB_STORE_INDEX, WB_MDB_SUM_NAME);
        goto out;
    }
    if (vi.rows != st->info.rows || vi.cols != st->info.dim || vi.dtype != st->info.dtype) {
        rc = wb_err_at(err, WB_ECORRUPT, dir, 0, -1,
                       "vectors.npy is %" PRIu64 " x %" PRIu64 " %s but the index says %" PRIu64 " x %u %s", vi.rows,
                       vi.cols, wb_dtype_name(vi.dtype), st->info.rows, st->info.dim,
                       wb_dtype_name(st->info.dtype));
        goto out;
    }
    if (ni.rows != st->info.rows || ni.dtype != WB_DTYPE_F32) {
        rc = wb_err_at(err, WB_ECORRUPT, dir, 0, -1, "norms.npy has %" PRIu64 " %s values, expected %" PRIu64 " f32",
                       ni.rows, wb_dtype_name(ni.dtype), st->info.rows);
        goto out;
    }
    MDB_stat ws, rs;
    mdb_stat(st->txn, st->words, &ws);
    mdb_stat(st->txn, st->rows, &rs);
    if (ws.ms_entries != st->info.rows || rs.ms_entries != st->info.rows) {
        rc = wb_err_at(err, WB_ECORRUPT, dir, 0, -1,
                       "the index has %zu words and %zu rows, the store %" PRIu64 " vectors", ws.ms_entries,
                       rs.ms_entries, st->info.rows);
        goto out;
    }
    st->vdata = (const uint8_t *)st->vmap + vi.data_offset;
    st->norms = (const float *)((const uint8_t *)st->nmap + ni.data_offset);
    st->row_bytes = (size_t)st->info.dim * wb_dtype_size(st->info.dtype);
    madvise(st->vmap, st->vmap_len, MADV_RANDOM);
out:
    close(dfd);
    return rc;
}

static _Atomic unsigned g_open_flags; /* wb_store_set_open_flags */

void wb_store_set_open_flags(unsigned flags) {
    g_open_flags = flags;
}

int wb_store_open(wb_store **out, const char *dir, wb_err *err) {
    return wb_store_open_ex(out, dir, g_open_flags, err);
}

int wb_store_open_ex(wb_store **out, const char *dir, unsigned flags, wb_err *err) {
    *out = NULL;
    if (flags & ~(unsigned)WB_STORE_OPEN_VERIFY) return wb_err_set(err, WB_EUSAGE, "unknown store open flags 0x%x", flags);
    wb_store *st = calloc(1, sizeof *st);
    if (!st || !(st->dir = strdup(dir))) {
        free(st);
        return wb_err_set(err, WB_ENOMEM, "out of memory");
    }
    int rc;
    /* A file that vanishes under us means the store we opened was just
     * replaced and is being removed: open the new one (a few tries). */
    for (int attempt = 0;; attempt++) {
        rc = open_attempt(st, dir, flags, err);
        if (rc != ENOENT || attempt == 8) break;
        struct stat sb;
        if (stat(dir, &sb) || !S_ISDIR(sb.st_mode)) break; /* really missing */
        store_release(st);
        struct timespec ts = {0, 1000000L << (attempt < 6 ? attempt : 6)};
        nanosleep(&ts, NULL);
    }
    if (rc) {
        wb_store_close(st);
        return rc;
    }
    *out = st;
    return 0;
}

const wb_store_info *wb_store_info_get(const wb_store *st) {
    return &st->info;
}

/* ---- look-ups ----------------------------------------------------------- */

/* LMDB's answer as a wordbench code: its corruption reports are WB_ECORRUPT. */
static int mdb_code(int mrc) {
    if (mrc == MDB_NOTFOUND) return WB_ENOTFOUND;
    if (mrc == MDB_CORRUPTED || mrc == MDB_PAGE_NOTFOUND || mrc == MDB_CURSOR_FULL) return WB_ECORRUPT;
    return mrc ? WB_ELMDB : 0;
}

/* A value LMDB hands out must lie inside its map of the index: a corrupt
 * leaf below the pages checked at open may claim any size. */
static int in_map(const wb_store *st, const MDB_val *v) {
    if (!st->imap) return 1;
    const uintptr_t p = (uintptr_t)v->mv_data, b = (uintptr_t)st->imap;
    return p >= b && p - b <= st->imap_len && v->mv_size <= st->imap_len - (p - b);
}

static int row_word(wb_store *st, uint32_t row, MDB_val *v) {
    MDB_val k = {sizeof row, &row};
    int rc = mdb_code(mdb_get(st->txn, st->rows, &k, v));
    return rc ? rc : in_map(st, v) ? 0 : WB_ECORRUPT;
}

int wb_store_lookup(wb_store *st, const char *word, size_t len, uint32_t *row) {
    char kb[WB_STORE_MAX_KEY];
    MDB_val k, v;
    if (len <= WB_STORE_MAX_KEY) { /* the word is its own key: no copy */
        k.mv_size = len;
        k.mv_data = (void *)word;
    } else {
        k.mv_size = wb_store_key(word, len, kb);
        k.mv_data = kb;
    }
    if (k.mv_size == 0) return WB_ENOTFOUND; /* LMDB has no empty keys */
    int rc = mdb_code(mdb_get(st->txn, st->words, &k, &v));
    if (rc) return rc;
    if (v.mv_size != 4 || !in_map(st, &v)) return WB_ECORRUPT;
    uint32_t r;
    memcpy(&r, v.mv_data, 4);
    if (r >= st->info.rows) return WB_ECORRUPT; /* the index names a row the matrix lacks */
    if (k.mv_size == WB_STORE_MAX_KEY) { /* a 511-byte word or a hashed long word: confirm */
        MDB_val w;
        rc = row_word(st, r, &w);
        if (rc) return rc == WB_ENOTFOUND ? WB_ECORRUPT : rc;
        if (w.mv_size != len || memcmp(w.mv_data, word, len)) return WB_ENOTFOUND;
    }
    *row = r;
    return 0;
}

int wb_lmdb_map(MDB_env *env, const void *inside, void **addr, size_t *used) {
    mdb_filehandle_t fd;
    struct stat sb;
    MDB_envinfo ei;
    MDB_stat es;
    const unsigned long at = (unsigned long)(uintptr_t)inside;
    if (mdb_env_get_fd(env, &fd) || fstat(fd, &sb) || mdb_env_info(env, &ei) || mdb_env_stat(env, &es)) return -1;
    FILE *f = fopen("/proc/self/maps", "re");
    if (!f) return -1;
    char line[4096];
    int rc = -1;
    while (rc && fgets(line, sizeof line, f)) {
        unsigned long lo, hi, ino, off;
        unsigned maj, min;
        if (sscanf(line, "%lx-%lx %*s %lx %x:%x %lu", &lo, &hi, &off, &maj, &min, &ino) != 6) continue;
        if (ino != (unsigned long)sb.st_ino || off != 0 || makedev(maj, min) != sb.st_dev) continue;
        if (at < lo || at >= hi) continue; /* another handle's map of the same file */
        *addr = (void *)lo;
        *used = (size_t)(ei.me_last_pgno + 1) * es.ms_psize;
        if (*used > hi - lo) *used = hi - lo;
        rc = 0;
    }
    fclose(f);
    return rc;
}

/* Map the whole index into this process in one call.  A big batch touches
 * most index pages anyway, and one madvise costs far less than thousands of
 * separate page faults (each ~10 us on a virtual machine). */
static void populate_index(wb_store *st) {
#ifdef MADV_POPULATE_READ
    if (st->imap) madvise((void *)st->imap, st->imap_len, MADV_POPULATE_READ);
#else
    (void)st;
#endif
}

int wb_store_lookup_many(wb_store *st, size_t n, const char *const *words,
                         const size_t *lens, int64_t *rows, size_t *found) {
    size_t nf = 0;
    if (n >= 4096) populate_index(st);
    for (size_t i = 0; i < n; i++) {
        uint32_t r;
        int rc = wb_store_lookup(st, words[i], lens[i], &r);
        if (rc == 0) rows[i] = r, nf++;
        else if (rc == WB_ENOTFOUND) rows[i] = -1;
        else return rc;
    }
    if (found) *found = nf;
    return 0;
}

int wb_store_word(wb_store *st, uint32_t row, const char **word, size_t *len) {
    MDB_val v;
    int rc = row_word(st, row, &v);
    if (rc) return rc;
    *word = v.mv_data;
    *len = v.mv_size;
    return 0;
}

int wb_store_words(wb_store *st, uint64_t first, uint64_t n,
                   int (*fn)(void *ud, uint32_t row, const char *word, size_t len), void *ud) {
    if (first >= st->info.rows || n == 0) return 0;
    uint64_t end = st->info.rows - first < n ? st->info.rows : first + n;
    MDB_cursor *cur;
    if (mdb_cursor_open(st->txn, st->rows, &cur)) return WB_ELMDB;
    uint32_t r = (uint32_t)first;
    MDB_val k = {sizeof r, &r}, v;
    int rc = 0, mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    while (!rc && !mrc) {
        if (k.mv_size != 4) {
            rc = WB_ECORRUPT;
            break;
        }
        uint32_t row;
        memcpy(&row, k.mv_data, 4);
        if (row >= end) break;
        rc = fn(ud, row, v.mv_data, v.mv_size);
        if (!rc) mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    if (!rc && mrc && mrc != MDB_NOTFOUND) rc = WB_ELMDB;
    mdb_cursor_close(cur);
    return rc;
}

const void *wb_store_row(const wb_store *st, uint64_t row) {
    if (row >= st->info.rows) return NULL;
    return st->vdata + row * st->row_bytes;
}

const float *wb_store_norms(const wb_store *st) {
    return st->norms;
}

int wb_store_gather(const wb_store *st, size_t n, const uint32_t *rows, float *out) {
    const size_t E = st->info.dim;
    for (size_t i = 0; i < n; i++) {
        if (rows[i] >= st->info.rows) return WB_EUSAGE;
        const uint8_t *src = st->vdata + (size_t)rows[i] * st->row_bytes;
        if (st->info.dtype == WB_DTYPE_F32) memcpy(out + i * E, src, st->row_bytes);
        else wb_f16_to_f32_n(out + i * E, (const uint16_t *)src, E);
    }
    return 0;
}

int wb_store_advise(wb_store *st, int sequential) {
    return madvise(st->vmap, st->vmap_len, sequential ? MADV_SEQUENTIAL : MADV_RANDOM) ? errno : 0;
}

int wb_store_drop(wb_store *st, uint64_t first, uint64_t n) {
    if (first >= st->info.rows) return 0;
    if (n > st->info.rows - first) n = st->info.rows - first;
    const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t lo = (uintptr_t)(st->vdata + first * st->row_bytes), hi = lo + n * st->row_bytes;
    lo = (lo + page - 1) & ~(page - 1); /* whole pages inside the range only */
    hi &= ~(page - 1);
    if (hi <= lo) return 0;
    return madvise((void *)lo, hi - lo, MADV_DONTNEED) ? errno : 0;
}

/* ---- read-ahead ------------------------------------------------------------ */

/* A prefetch: byte ranges of the mapping of vectors.npy (whole pages, at
 * most PF_CHUNK bytes each): first the ranges of the rows asked for first
 * (file order), then those of the other rows (file order, the pages of the
 * first ranges left out).  Each lane (a thread) runs a short program of
 * phases over them; its place in the program is all a pause keeps, so a
 * fork can stop the threads and the parent start them again where they
 * were (pf_prepare, pf_parent below). */
#define PF_CHUNK ((uint64_t)1 << 20) /* a stop or a fork waits for one range at most */

typedef struct pf_range {
    uint64_t off, len;
} pf_range;

typedef enum { PF_WILLNEED, PF_POPULATE, PF_PREAD, PF_GATE_OPEN, PF_GATE_WAIT } pf_op;
typedef struct pf_phase {
    pf_op op;
    size_t lo, hi, step; /* ranges lo, lo + step, ... below hi */
} pf_phase;

struct prefetch;
typedef struct pf_lane {
    struct prefetch *pf;
    pf_phase ph[4];
    size_t nph, at, i; /* phases; the current phase and range (at == nph: done) */
    int running;       /* a thread of this process to join */
    pthread_t th;
} pf_lane;

struct prefetch {
    const wb_store *st;
    pf_range *r;
    size_t nr, nfirst, nlane; /* ranges, the first nfirst of them the rows asked for first; lanes */
    uint64_t bytes;
    atomic_int stop;          /* 1: stop for good (replaced, closed), 2: pause (a fork) */
    atomic_int gate;          /* the first rows' reads are queued: the other rows' may follow */
    pf_lane lane[WB_PREFETCH_THREADS];
    struct prefetch *next;    /* pf_all */
};

/* Every prefetch of the process, for the fork handlers; pf_mu also orders
 * starting, joining and freeing the threads against a fork in another thread. */
static pthread_mutex_t pf_mu = PTHREAD_MUTEX_INITIALIZER;
static struct prefetch *pf_all;
static pthread_once_t pf_once = PTHREAD_ONCE_INIT;
static atomic_int pf_live; /* wb_store_prefetch_live */

int wb_store_prefetch_live(void) {
    return atomic_load(&pf_live);
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Map one range's pages into the process, waiting for their reads.  Where
 * MADV_POPULATE_READ is missing (Linux < 5.14), a read of every page. */
static void pf_populate(uint8_t *p, uint64_t len) {
#ifdef MADV_POPULATE_READ
    if (!madvise(p, len, MADV_POPULATE_READ)) return;
#endif
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    for (uint64_t o = 0; o < len; o += page) (void)*(volatile const uint8_t *)(p + o);
}

static void pf_pread(int fd, uint64_t off, uint64_t len) {
    uint8_t buf[1 << 16];
    for (uint64_t o = 0; o < len;) {
        size_t want = len - o < sizeof buf ? (size_t)(len - o) : sizeof buf;
        ssize_t got = pread(fd, buf, want, (off_t)(off + o));
        if (got <= 0) break;
        o += (uint64_t)got;
    }
}

static void pf_run(pf_lane *ln) {
    struct prefetch *pf = ln->pf;
    uint8_t *base = (uint8_t *)pf->st->vmap;
    while (ln->at < ln->nph) {
        const pf_phase *ph = &ln->ph[ln->at];
        if (ph->op == PF_GATE_OPEN)
            atomic_store(&pf->gate, 1);
        else if (ph->op == PF_GATE_WAIT)
            while (!atomic_load(&pf->gate)) {
                if (atomic_load_explicit(&pf->stop, memory_order_relaxed)) return;
                nanosleep(&(struct timespec){0, 200000}, NULL);
            }
        else
            for (; ln->i < ph->hi; ln->i += ph->step) {
                if (atomic_load_explicit(&pf->stop, memory_order_relaxed)) return;
                const pf_range *r = &pf->r[ln->i];
                if (ph->op == PF_WILLNEED) (void)madvise(base + r->off, r->len, MADV_WILLNEED);
                else if (ph->op == PF_POPULATE) pf_populate(base + r->off, r->len);
                else pf_pread(pf->st->vfd1 - 1, r->off, r->len);
            }
        if (++ln->at < ln->nph) ln->i = ln->ph[ln->at].lo;
    }
}

static void *pf_thread(void *arg) {
    pf_run(arg);
    atomic_fetch_sub(&pf_live, 1);
    return NULL;
}

/* Start a thread for every lane not done (a thread that cannot start
 * leaves its ranges to demand reads; the gate opens for it).  pf_mu held. */
static void pf_start(struct prefetch *pf) {
    atomic_store(&pf->stop, 0);
    pthread_attr_t at; /* a small stack: a capped address space (ulimit -v) need not find 8 MB for it */
    int have_at = !pthread_attr_init(&at);
    if (have_at) (void)pthread_attr_setstacksize(&at, 256 << 10);
    for (size_t k = 0; k < pf->nlane; k++) {
        pf_lane *ln = &pf->lane[k];
        if (ln->at >= ln->nph || ln->running) continue;
        atomic_fetch_add(&pf_live, 1);
        ln->running = !pthread_create(&ln->th, have_at ? &at : NULL, pf_thread, ln);
        if (!ln->running) {
            atomic_fetch_sub(&pf_live, 1);
            ln->at = ln->nph;
            atomic_store(&pf->gate, 1);
        }
    }
    if (have_at) pthread_attr_destroy(&at);
}

static void pf_join(struct prefetch *pf) { /* pf_mu held */
    for (size_t k = 0; k < pf->nlane; k++)
        if (pf->lane[k].running) pthread_join(pf->lane[k].th, NULL), pf->lane[k].running = 0;
}

/* fork: no read-ahead thread runs while the process is copied (a child
 * inherits the locks other threads hold, ASan's allocator's among them);
 * the parent's go on where they stopped, the child has none. */
static void pf_prepare(void) {
    pthread_mutex_lock(&pf_mu);
    for (struct prefetch *pf = pf_all; pf; pf = pf->next) {
        atomic_store(&pf->stop, 2);
        pf_join(pf);
    }
}

static void pf_parent(void) {
    for (struct prefetch *pf = pf_all; pf; pf = pf->next) pf_start(pf);
    pthread_mutex_unlock(&pf_mu);
}

static void pf_child(void) {
    for (struct prefetch *pf = pf_all; pf; pf = pf->next) atomic_store(&pf->stop, 1);
    pthread_mutex_unlock(&pf_mu);
}

static void pf_register(void) {
    (void)pthread_atfork(pf_prepare, pf_parent, pf_child);
}

static void prefetch_stop(wb_store *st) {
    struct prefetch *pf = st->pf;
    if (!pf) return;
    pthread_mutex_lock(&pf_mu);
    for (struct prefetch **p = &pf_all; *p; p = &(*p)->next)
        if (*p == pf) {
            *p = pf->next;
            break;
        }
    atomic_store(&pf->stop, 1);
    pf_join(pf);
    pthread_mutex_unlock(&pf_mu);
    free(pf->r);
    free(pf);
    st->pf = NULL;
}

uint64_t wb_store_prefetch_wait(wb_store *st) {
    struct prefetch *pf = st->pf;
    if (!pf) return 0;
    pthread_mutex_lock(&pf_mu);
    pf_join(pf);
    pthread_mutex_unlock(&pf_mu);
    return pf->bytes;
}

/* A growing list of ranges in file order: [lo, hi) appended, merged with
 * the last range while that stays within PF_CHUNK. */
typedef struct pf_list {
    pf_range *r;
    size_t n, cap, from; /* ranges before from are not merged with */
} pf_list;

static int pf_add(pf_list *l, uint64_t lo, uint64_t hi) {
    if (l->n > l->from) {
        pf_range *last = &l->r[l->n - 1];
        if (lo <= last->off + last->len) {
            if (hi <= last->off + last->len) return 0;
            lo = last->off + last->len;
            uint64_t end = last->off + PF_CHUNK < hi ? last->off + PF_CHUNK : hi;
            if (end > lo) last->len = end - last->off, lo = end;
        }
    }
    while (lo < hi) {
        if (l->n == l->cap) {
            size_t cap = l->cap ? 2 * l->cap : 256;
            pf_range *r = realloc(l->r, cap * sizeof *r);
            if (!r) return -1;
            l->r = r, l->cap = cap;
        }
        uint64_t len = hi - lo < PF_CHUNK ? hi - lo : PF_CHUNK;
        l->r[l->n++] = (pf_range){lo, len};
        lo += len;
    }
    return 0;
}

/* The pages of the sorted rows row[0..n) not inside l's first nex ranges
 * (sorted, disjoint), appended to l (l->r moves as it grows: indices only). */
static int pf_pages(const wb_store *st, const uint64_t *row, size_t n, size_t nex, pf_list *l) {
    const uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE), off0 = (uint64_t)(st->vdata - (const uint8_t *)st->vmap);
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t lo = (off0 + row[i] * st->row_bytes) / page * page;
        uint64_t hi = (off0 + (row[i] + 1) * st->row_bytes + page - 1) / page * page;
        while (lo < hi) {
            while (j < nex && l->r[j].off + l->r[j].len <= lo) j++;
            if (j < nex && l->r[j].off <= lo) {
                lo = l->r[j].off + l->r[j].len;
                continue;
            }
            uint64_t end = j < nex && l->r[j].off < hi ? l->r[j].off : hi;
            if (pf_add(l, lo, end)) return -1;
            lo = end;
        }
    }
    return 0;
}

/* The valid rows of rows[0..n) sorted (negative ones skipped); *m gets
 * their number.  Returns WB_EUSAGE for a row out of range, WB_ENOMEM. */
static int pf_sorted(const wb_store *st, size_t n, const int64_t *rows, uint64_t **out, size_t *m, wb_err *err) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (rows[i] < 0) continue;
        if ((uint64_t)rows[i] >= st->info.rows)
            return wb_err_set(err, WB_EUSAGE, "row %" PRId64 " out of range (the store has %" PRIu64 ")", rows[i],
                              st->info.rows);
        k++;
    }
    *out = NULL, *m = k;
    if (!k) return 0;
    if (!(*out = malloc(k * sizeof **out))) return wb_err_set(err, WB_ENOMEM, "out of memory");
    k = 0;
    for (size_t i = 0; i < n; i++)
        if (rows[i] >= 0) (*out)[k++] = (uint64_t)rows[i];
    qsort(*out, k, sizeof **out, cmp_u64);
    return 0;
}

int wb_store_prefetch(wb_store *st, size_t n, const int64_t *rows, wb_err *err) {
    return wb_store_prefetch_first(st, n, rows, 0, NULL, err);
}

int wb_store_prefetch_first(wb_store *st, size_t n, const int64_t *rows, size_t nfirst, const int64_t *first,
                            wb_err *err) {
    static const char *const names[] = {"advise", "populate", "pread", "off"};
    const char *want = getenv("WB_PREFETCH");
    wb_prefetch_mode mode = WB_PREFETCH_ADVISE;
    for (int i = 0; want && i < 4; i++)
        if (!strcmp(want, names[i])) mode = (wb_prefetch_mode)i;
    if (want && !strcmp(want, "advise-nofirst")) nfirst = 0; /* the first rows not first (comparisons) */
    return wb_store_prefetch_ex(st, n, rows, nfirst, first, mode, err);
}

int wb_store_prefetch_ex(wb_store *st, size_t n, const int64_t *rows, size_t nfirst, const int64_t *first,
                         wb_prefetch_mode mode, wb_err *err) {
    prefetch_stop(st);
    if (mode == WB_PREFETCH_PREAD && !st->vfd1) mode = WB_PREFETCH_ADVISE;
    uint64_t *a = NULL, *f = NULL;
    size_t na, nf;
    int rc = pf_sorted(st, n, rows, &a, &na, err);
    if (!rc) rc = pf_sorted(st, nfirst, first, &f, &nf, err);
    if (rc || (!na && !nf) || mode == WB_PREFETCH_OFF || !st->vmap) {
        free(a), free(f);
        return rc;
    }
    struct prefetch *pf = calloc(1, sizeof *pf);
    pf_list l = {0};
    if (!pf || pf_pages(st, f, nf, 0, &l)) goto nomem;
    size_t nfr = l.from = l.n;
    if (pf_pages(st, a, na, nfr, &l)) goto nomem;
    free(a), free(f);
    pf->st = st, pf->r = l.r, pf->nr = l.n, pf->nfirst = nfr;
    for (size_t i = 0; i < pf->nr; i++) pf->bytes += pf->r[i].len;
    /* the lanes' programs (wb_prefetch_mode in store.h) */
    const size_t nr = pf->nr;
    if (mode == WB_PREFETCH_PREAD) {
        pf->nlane = WB_PREFETCH_THREADS;
        for (size_t k = 0; k < pf->nlane; k++)
            pf->lane[k].ph[0] = (pf_phase){PF_PREAD, k, nr, WB_PREFETCH_THREADS}, pf->lane[k].nph = 1;
    } else if (mode == WB_PREFETCH_POPULATE) {
        pf->nlane = 1;
        pf->lane[0].ph[0] = (pf_phase){PF_POPULATE, 0, nr, 1}, pf->lane[0].nph = 1;
    } else if (!nfr || nfr == nr) {
        pf->nlane = 1;
        pf->lane[0].ph[0] = (pf_phase){PF_WILLNEED, 0, nr, 1};
        pf->lane[0].ph[1] = (pf_phase){PF_POPULATE, 0, nr, 1}, pf->lane[0].nph = 2;
    } else { /* the first rows' reads queued before the others', mapped while those are queued */
        pf->nlane = 2;
        pf->lane[0].ph[0] = (pf_phase){PF_WILLNEED, 0, nfr, 1};
        pf->lane[0].ph[1] = (pf_phase){PF_GATE_OPEN, 0, 0, 1};
        pf->lane[0].ph[2] = (pf_phase){PF_POPULATE, 0, nfr, 1}, pf->lane[0].nph = 3;
        pf->lane[1].ph[0] = (pf_phase){PF_GATE_WAIT, 0, 0, 1};
        pf->lane[1].ph[1] = (pf_phase){PF_WILLNEED, nfr, nr, 1};
        pf->lane[1].ph[2] = (pf_phase){PF_POPULATE, nfr, nr, 1}, pf->lane[1].nph = 3;
    }
    for (size_t k = 0; k < pf->nlane; k++) pf->lane[k].pf = pf, pf->lane[k].i = pf->lane[k].ph[0].lo;
    (void)pthread_once(&pf_once, pf_register);
    pthread_mutex_lock(&pf_mu);
    pf_start(pf);
    pf->next = pf_all, pf_all = pf;
    pthread_mutex_unlock(&pf_mu);
    st->pf = pf;
    return 0;
nomem:
    free(a), free(f), free(l.r), free(pf);
    return wb_err_set(err, WB_ENOMEM, "out of memory");
}

/* ---- verification ------------------------------------------------------- */

int wb_store_verify(wb_store *st, wb_verify_report *rep,
                    void (*progress)(void *ud, uint64_t done, uint64_t total),
                    void *ud, wb_err *err) {
    memset(rep, 0, sizeof *rep);
    rep->first_bad_block = -1;
    const uint64_t total = st->info.rows * st->row_bytes;
    wb_store_advise(st, 1);
    for (uint64_t b = 0; b < st->info.nblocks; b++) {
        uint64_t off = b * WB_STORE_BLOCK_BYTES;
        uint64_t len = total - off < WB_STORE_BLOCK_BYTES ? total - off : WB_STORE_BLOCK_BYTES;
        uint64_t h = XXH3_64bits(st->vdata + off, len), want = 0;
        for (int i = 0; i < 8; i++) want |= (uint64_t)st->block_hashes[b * 8 + i] << (8 * i);
        rep->blocks_checked++;
        if (h != want && rep->first_bad_block < 0) rep->first_bad_block = (int64_t)b;
        /* Drop the pages we just hashed from this process (they stay cached). */
        madvise((void *)((uintptr_t)(st->vdata + off) & ~(uintptr_t)4095), len, MADV_DONTNEED);
        if (progress) progress(ud, off + len, total);
    }
    wb_store_advise(st, 0);
    rep->norms_ok = XXH3_64bits(st->norms, st->info.rows * sizeof(float)) == st->norms_hash;

    /* The index: its checksum (stores of format 2), every page (mdbcheck.c),
     * and only when every page is sound the look-ups through LMDB. */
    rep->index_sum = -1;
    if (st->have_sum) {
        uint64_t h;
        int rc = wb_mdb_hash(st->mdb.fd, st->mdb.fsize, &h);
        if (rc) return wb_err_at(err, rc, st->mdb.path, 0, -1, "cannot read: %s", wb_strerror(rc));
        rep->index_sum = h == st->sum.xxh3;
    }
    wb_err werr;
    wb_err_clear(&werr);
    int wrc = wb_mdb_walk(&st->mdb, NULL, &werr);
    if (wrc && wrc != WB_ECORRUPT) {
        if (err) *err = werr;
        return wrc;
    }
    rep->index_pages_ok = wrc == 0;

    /* Every row r has a word w, and w looks up to r. */
    rep->index_ok = rep->index_pages_ok;
    MDB_cursor *cur;
    MDB_val k, v;
    int mrc = rep->index_ok ? mdb_cursor_open(st->txn, st->rows, &cur) : 0;
    if (mrc) return lmdb_err(err, "mdb_cursor_open", mrc);
    uint64_t expect = 0;
    while (rep->index_ok && (mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {
        uint32_t r = 0, got;
        if (k.mv_size == 4) memcpy(&r, k.mv_data, 4);
        if (k.mv_size != 4 || r != expect || !in_map(st, &v) ||
            wb_store_lookup(st, v.mv_data, v.mv_size, &got) || got != r) {
            rep->index_ok = 0;
            rep->index_bad_row = expect;
            break;
        }
        expect++;
    }
    if (rep->index_pages_ok) mdb_cursor_close(cur);
    if (rep->index_ok && expect != st->info.rows) rep->index_ok = 0, rep->index_bad_row = expect;

    if (rep->first_bad_block >= 0) {
        uint64_t first = (uint64_t)rep->first_bad_block * WB_STORE_BLOCK_BYTES / st->row_bytes;
        return wb_err_at(err, WB_ECORRUPT, st->dir, 0, -1,
                         "vectors.npy block %" PRId64 " (bytes %" PRIu64 ".., rows from %" PRIu64
                         ") does not match its hash",
                         rep->first_bad_block,
                         (uint64_t)(WB_NPY_DATA_OFFSET + (uint64_t)rep->first_bad_block * WB_STORE_BLOCK_BYTES), first);
    }
    if (!rep->norms_ok)
        return wb_err_at(err, WB_ECORRUPT, st->dir, 0, -1, "norms.npy does not match its hash");
    if (!rep->index_pages_ok) {
        if (err) *err = werr;
        if (err && rep->index_sum == 0)
            snprintf(err->msg, sizeof err->msg, "does not match its checksum; first damage: %.900s", werr.msg);
        return WB_ECORRUPT;
    }
    if (rep->index_sum == 0)
        return wb_err_at(err, WB_ECORRUPT, st->mdb.path, 0, -1,
                         "does not match its checksum (data.mdb.xxh3), though every page is well formed");
    if (!rep->index_ok)
        return wb_err_at(err, WB_ECORRUPT, st->dir, 0, -1, "the index disagrees with itself at row %" PRIu64,
                         rep->index_bad_row);
    return 0;
}
