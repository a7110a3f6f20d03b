/*
 * mdbcheck.c — checks of an LMDB data file before LMDB maps it, the walk of
 * every page, the index checksum file and the converter's sealing (see
 * mdbcheck.h for what is checked when and why).  Every page is read with
 * pread into a buffer of its own, so a corrupt file can make a check fail
 * but never fault; nothing here maps the file or calls LMDB.
 *
 * LMDB data version 1, 64-bit little-endian build (mdb.c's structures):
 *
 *   page header (PAGEHDRSZ = 16)     node (NODESIZE = 8, 2-byte aligned)
 *     0  u64 page number               0  u16 lo   leaf: data size = lo | hi << 16
 *     8  u16 pad (0)                   2  u16 hi   branch: child = lo | hi << 16
 *    10  u16 flags                     4  u16 flags            | flags << 32
 *    12  u16 lower (overflow: u32      6  u16 key size
 *    14  u16 upper  page count)        8  key, then data (or an overflow page
 *    16  u16 node offsets [nkeys]          number when flags has F_BIGDATA)
 *        nkeys = (lower - 16) / 2
 *
 *   meta page (pages 0 and 1): header, then at byte 16:
 *    16 u32 magic 0xBEEFC0DE   20 u32 version 1   24 u64 address   32 u64 map size
 *    40 free database record (its u32 pad is the page size, its flags the
 *       environment's)   88 main database record   136 u64 last page   144 u64 txn id
 *
 *   database record (48 bytes): 0 u32 pad, 4 u16 flags, 6 u16 depth,
 *    8 u64 branch pages, 16 leaf pages, 24 overflow pages, 32 entries, 40 root
 *
 * The main database's leaves hold the named databases: key = name, data =
 * their 48-byte record, node flag F_SUBDATA.  The free database maps a
 * transaction id (8-byte integer key) to a list of freed pages (u64 count,
 * then that many u64 page numbers).  Overflow data starts 16 bytes into its
 * first page and spans (15 + size) / page size + 1 pages.
 *
 * Leaves out: duplicate-sorted databases, reverse keys, LEAF2 and sub-pages
 * (wordbench's indexes have none, so such flags are reported as corrupt),
 * other LMDB data versions and big-endian files.
 */
#include "store/mdbcheck.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "base/fileio.h"

enum {
    PGHDR = 16, NODESZ = 8, DBREC = 48,
    P_BRANCH = 0x01, P_LEAF = 0x02, P_OVERFLOW = 0x04, P_META = 0x08,
    F_BIGDATA = 0x01, F_SUBDATA = 0x02,
    DB_INTEGERKEY = 0x08,     /* MDB_INTEGERKEY */
    MAX_DEPTH = 32,           /* LMDB's cursor stack */
    MAX_KEY = 511,            /* LMDB's default key size limit */
    M_MAGIC = 16, M_VERSION = 20, M_MAPSIZE = 32, M_FREE = 40, M_MAIN = 88, M_LASTPG = 136, M_TXNID = 144,
    META_END = 152
};
#define MDB_MAGIC_ 0xBEEFC0DEu
#define NO_PAGE UINT64_MAX
#define SUM_MAGIC "wordbench index checksum"

static unsigned g16(const uint8_t *p) {
    return (unsigned)p[0] | (unsigned)p[1] << 8;
}

static int pread_all(int fd, void *buf, size_t n, uint64_t off) {
    uint8_t *p = buf;
    while (n) {
        ssize_t r = pread(fd, p, n, (off_t)off);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return errno;
        if (r == 0) return WB_ECORRUPT;
        p += r, n -= (size_t)r, off += (uint64_t)r;
    }
    return 0;
}

/* ---- database records and meta pages -------------------------------------- */

static void db_parse(wb_mdb_db *d, const uint8_t *p) {
    d->flags = (uint16_t)g16(p + 4);
    d->depth = (uint16_t)g16(p + 6);
    d->branch_pages = wb_get64(p + 8);
    d->leaf_pages = wb_get64(p + 16);
    d->overflow_pages = wb_get64(p + 24);
    d->entries = wb_get64(p + 32);
    d->root = wb_get64(p + 40);
}

static const char *db_label(const wb_mdb_db *d, char *buf, size_t n) {
    if (d->name[0]) snprintf(buf, n, "the '%s' database", d->name);
    else snprintf(buf, n, "%s", d->flags & DB_INTEGERKEY ? "the free-page database" : "the main database");
    return buf;
}

/* A record must describe an empty tree or one rooted inside the used pages. */
static int db_check(const wb_mdb_file *f, const wb_mdb_db *d, uint64_t at, wb_err *err) {
    char lb[64];
    if (d->root == NO_PAGE) {
        if (d->depth || d->entries || d->branch_pages || d->leaf_pages || d->overflow_pages)
            return wb_err_at(err, WB_ECORRUPT, f->path, 0, (long long)at, "%s is empty but counts %u levels",
                             db_label(d, lb, sizeof lb), d->depth);
        return 0;
    }
    if (d->root < 2 || d->root >= f->npages)
        return wb_err_at(err, WB_ECORRUPT, f->path, 0, (long long)at,
                         "%s has root page %" PRIu64 ", outside pages 2..%" PRIu64, db_label(d, lb, sizeof lb),
                         d->root, f->npages - 1);
    if (d->depth < 1 || d->depth > MAX_DEPTH)
        return wb_err_at(err, WB_ECORRUPT, f->path, 0, (long long)at, "%s has depth %u (1..%d)",
                         db_label(d, lb, sizeof lb), d->depth, MAX_DEPTH);
    if (d->entries == 0 || d->leaf_pages == 0 || d->leaf_pages > f->npages || d->branch_pages > f->npages ||
        d->overflow_pages > f->npages || (d->depth > 1) != (d->branch_pages > 0))
        return wb_err_at(err, WB_ECORRUPT, f->path, 0, (long long)at,
                         "%s has impossible counts (%" PRIu64 " entries, %" PRIu64 " branch, %" PRIu64
                         " leaf pages, depth %u)",
                         db_label(d, lb, sizeof lb), d->entries, d->branch_pages, d->leaf_pages, d->depth);
    return 0;
}

/* Read and check the fixed part of meta page i (0 or 1) at byte `off`. */
static int meta_read(int fd, const char *path, int i, uint64_t off, uint8_t m[META_END], wb_err *err) {
    int rc = pread_all(fd, m, META_END, off);
    if (rc == WB_ECORRUPT)
        return wb_err_at(err, rc, path, 0, (long long)off, "truncated: meta page %d is missing", i);
    if (rc) return wb_err_at(err, rc, path, 0, -1, "cannot read: %s", wb_strerror(rc));
    if (wb_get64(m) != (uint64_t)i || g16(m + 10) != P_META || wb_get32(m + M_MAGIC) != MDB_MAGIC_)
        return wb_err_at(err, WB_ECORRUPT, path, 0, (long long)off, "meta page %d is not an LMDB meta page", i);
    if (wb_get32(m + M_VERSION) != 1)
        return wb_err_at(err, WB_ECORRUPT, path, 0, (long long)(off + M_VERSION),
                         "meta page %d has LMDB data version %u, expected 1", i, wb_get32(m + M_VERSION));
    uint32_t ps = wb_get32(m + M_FREE);
    if (ps < 512 || ps > 32768 || (ps & (ps - 1)))
        return wb_err_at(err, WB_ECORRUPT, path, 0, (long long)(off + M_FREE),
                         "meta page %d has page size %u (a power of two in 512..32768)", i, ps);
    return 0;
}

/* ---- pages -------------------------------------------------------------------- */

/* Shared state of a check: the file, and for the full walk the bitmaps of
 * pages used and pages listed free (NULL at open: no accounting). */
typedef struct walk {
    const wb_mdb_file *f;
    wb_err *err;                 /* where a failure is described */
    uint8_t *used, *freed;       /* npages bits each, or NULL */
    uint64_t budget;             /* tree pages a walk without bitmaps may still read */
    size_t intsize;              /* key size of the integer database being walked */
    wb_mdb_walk_stats st;        /* totals */
    wb_mdb_db *subs;             /* named databases found in the main database */
    int nsubs;                   /* their number */
} walk;

enum { K_FREE, K_MAIN, K_NAMED }; /* what a tree holds */

typedef struct span {
    const uint8_t *p;            /* key bytes, NULL = unbounded */
    size_t n;
} span;

/* LMDB's key order for database d: unsigned integers of the key's size for
 * MDB_INTEGERKEY, else memcmp over the shorter length, then length. */
static int key_cmp(const wb_mdb_db *d, span a, span b) {
    if (d->flags & DB_INTEGERKEY) {
        uint64_t x = a.n == 4 ? wb_get32(a.p) : wb_get64(a.p), y = b.n == 4 ? wb_get32(b.p) : wb_get64(b.p);
        return (x > y) - (x < y);
    }
    int c = memcmp(a.p, b.p, a.n < b.n ? a.n : b.n);
    return c ? c : (a.n > b.n) - (a.n < b.n);
}


/* "PATH: byte N: page P of the 'words' database: ..." */
static int page_err(walk *w, const wb_mdb_db *d, uint64_t pgno, unsigned at, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int page_err(walk *w, const wb_mdb_db *d, uint64_t pgno, unsigned at, const char *fmt, ...) {
    char msg[600], lb[64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return wb_err_at(w->err, WB_ECORRUPT, w->f->path, 0, (long long)(pgno * w->f->psize + at),
                     "page %" PRIu64 " of %s: %s", pgno, db_label(d, lb, sizeof lb), msg);
}

static int bit_get(const uint8_t *b, uint64_t i) {
    return b[i >> 3] >> (i & 7) & 1;
}

static void bit_set(uint8_t *b, uint64_t i) {
    b[i >> 3] |= (uint8_t)(1u << (i & 7));
}

/* Check one tree page of database d (pg holds it): header, every node
 * inside the page, the key sizes the database allows, keys ascending and
 * inside [lo, hi), leaf data inside the page or in overflow pages inside the
 * used pages (main database: 48-byte records), children inside the used
 * pages.  Sets *nkeys. */
static int check_page(walk *w, const wb_mdb_db *d, int kind, const uint8_t *pg, uint64_t pgno, int leaf, span lo,
                      span hi, unsigned *nkeys) {
    const uint32_t ps = w->f->psize;
    const uint64_t np = w->f->npages;
    const unsigned flags = g16(pg + 10), lower = g16(pg + 12), upper = g16(pg + 14);
    if (wb_get64(pg) != pgno) return page_err(w, d, pgno, 0, "the header says page %" PRIu64, wb_get64(pg));
    if (flags != (leaf ? P_LEAF : P_BRANCH) || g16(pg + 8) != 0)
        return page_err(w, d, pgno, 10, "expected a %s page, the flags are 0x%x", leaf ? "leaf" : "branch", flags);
    if (lower < PGHDR || (lower - PGHDR) % 2 || lower > upper || upper > ps)
        return page_err(w, d, pgno, 12, "free space %u..%u is not inside %u..%u", lower, upper, PGHDR, ps);
    const unsigned n = (lower - PGHDR) / 2;
    if (n < (leaf ? 1u : 2u)) return page_err(w, d, pgno, 12, "holds %u nodes", n);
    const int intkey = d->flags & DB_INTEGERKEY;
    span prev = {NULL, 0};
    for (unsigned i = 0; i < n; i++) {
        const unsigned off = g16(pg + PGHDR + 2 * i);
        if (off < upper || off % 2 || off + NODESZ > ps)
            return page_err(w, d, pgno, PGHDR + 2 * i, "node %u starts at byte %u, outside %u..%u", i, off, upper,
                            ps - NODESZ);
        const uint8_t *nd = pg + off;
        const unsigned ks = g16(nd + 6), nf = g16(nd + 4);
        if (off + NODESZ + ks > ps) return page_err(w, d, pgno, off, "node %u: its %u-byte key runs past the page", i, ks);
        const span k = {nd + NODESZ, ks};
        if (leaf || i > 0) { /* a branch's first key is never compared */
            if (intkey ? (ks != 4 && ks != 8) || (w->intsize && ks != w->intsize) : ks < 1 || ks > MAX_KEY)
                return page_err(w, d, pgno, off, "node %u: a key of %u bytes", i, ks);
            if (intkey) w->intsize = ks;
            if (prev.p && key_cmp(d, prev, k) >= 0) return page_err(w, d, pgno, off, "node %u: keys out of order", i);
            if ((lo.p && key_cmp(d, k, lo) < 0) || (hi.p && key_cmp(d, k, hi) >= 0))
                return page_err(w, d, pgno, off, "node %u: key outside the range its parent gives", i);
            prev = k;
        }
        if (!leaf) {
            const uint64_t child = g16(nd) | (uint64_t)g16(nd + 2) << 16 | (uint64_t)nf << 32;
            if (child < 2 || child >= np)
                return page_err(w, d, pgno, off, "node %u points to page %" PRIu64 ", outside pages 2..%" PRIu64, i,
                                child, np - 1);
            continue;
        }
        const uint64_t ds = g16(nd) | (uint64_t)g16(nd + 2) << 16, at = off + NODESZ + ks;
        if (kind == K_MAIN) {
            if (nf != F_SUBDATA || ds != DBREC || at + DBREC > ps)
                return page_err(w, d, pgno, off, "node %u is not a database record", i);
        } else if (nf == 0) {
            if (at + ds > ps)
                return page_err(w, d, pgno, off, "node %u: its %" PRIu64 "-byte value runs past the page", i, ds);
        } else if (nf == F_BIGDATA) {
            uint64_t op = at + 8 <= ps ? wb_get64(pg + at) : 0, need = (PGHDR - 1 + ds) / ps + 1;
            if (op < 2 || op >= np || need > np - op)
                return page_err(w, d, pgno, off,
                                "node %u: %" PRIu64 " bytes of overflow data at page %" PRIu64
                                " run past the last page %" PRIu64,
                                i, ds, op, np - 1);
        } else {
            return page_err(w, d, pgno, off, "node %u has flags 0x%x", i, nf);
        }
    }
    *nkeys = n;
    return 0;
}

static int read_page(walk *w, const wb_mdb_db *d, uint64_t pgno, uint8_t *buf, size_t n) {
    int rc = pread_all(w->f->fd, buf, n, pgno * w->f->psize);
    if (rc == WB_ECORRUPT) return page_err(w, d, pgno, 0, "the file ends before it");
    if (rc) return wb_err_at(w->err, rc, w->f->path, 0, -1, "cannot read: %s", wb_strerror(rc));
    return 0;
}

/* Mark pages [p, p + n) used; each may be used once. */
static int mark_used(walk *w, const wb_mdb_db *d, uint64_t p, uint64_t n, uint64_t from) {
    if (!w->used) return 0;
    for (uint64_t i = p; i < p + n; i++) {
        if (bit_get(w->used, i))
            return page_err(w, d, from, 0, "page %" PRIu64 " is reached a second time", i);
        bit_set(w->used, i);
    }
    return 0;
}

/* The overflow run of a leaf node: its first page's header, its pages;
 * optionally (out != NULL) its data, read into a new buffer. */
static int overflow(walk *w, const wb_mdb_db *d, uint64_t from, uint64_t op, uint64_t ds, uint64_t *cnt_ovf,
                    uint8_t **out) {
    uint8_t h[PGHDR];
    int rc = read_page(w, d, op, h, sizeof h);
    if (rc) return rc;
    const uint64_t need = (PGHDR - 1 + ds) / w->f->psize + 1, pages = wb_get32(h + 12);
    if (wb_get64(h) != op || g16(h + 10) != P_OVERFLOW || pages < need || pages > w->f->npages - op)
        return page_err(w, d, op, 0, "not an overflow run of %" PRIu64 " pages (the leaf at page %" PRIu64 " says so)",
                        need, from);
    if ((rc = mark_used(w, d, op, pages, from))) return rc;
    *cnt_ovf += pages;
    if (!out) return 0;
    if (!(*out = malloc(ds ? ds : 1))) return wb_err_set(w->err, WB_ENOMEM, "out of memory");
    rc = pread_all(w->f->fd, *out, ds, op * w->f->psize + PGHDR);
    if (rc) {
        free(*out), *out = NULL;
        return rc == WB_ECORRUPT ? page_err(w, d, op, 0, "the file ends inside it")
                                 : wb_err_at(w->err, rc, w->f->path, 0, -1, "cannot read: %s", wb_strerror(rc));
    }
    return 0;
}

/* A free-page list (u64 count, then the pages): mark them free. */
static int free_list(walk *w, const wb_mdb_db *d, uint64_t pgno, const uint8_t *v, uint64_t n) {
    uint64_t cnt = n >= 8 ? wb_get64(v) : 0;
    if (n < 8 || n % 8 || cnt != n / 8 - 1)
        return page_err(w, d, pgno, 0, "a free list of %" PRIu64 " bytes holds %" PRIu64 " pages", n, cnt);
    for (uint64_t i = 1; i <= cnt; i++) {
        uint64_t p = wb_get64(v + 8 * i);
        if (p < 2 || p >= w->f->npages)
            return page_err(w, d, pgno, 0, "the free list names page %" PRIu64 ", outside pages 2..%" PRIu64, p,
                            w->f->npages - 1);
        if (w->freed && bit_get(w->freed, p)) return page_err(w, d, pgno, 0, "page %" PRIu64 " is freed twice", p);
        if (w->freed) bit_set(w->freed, p);
        w->st.free_pages++;
    }
    return 0;
}

/* Check page pgno at `level` of d's tree and, above `maxlevel`, the pages
 * below it.  cnt: branch, leaf, overflow pages and entries met. */
static int walk_page(walk *w, const wb_mdb_db *d, int kind, uint64_t pgno, int level, int maxlevel, span lo, span hi,
                     uint64_t cnt[4]) {
    const uint32_t ps = w->f->psize;
    const int leaf = level == d->depth - 1;
    if (!w->used && w->budget-- == 0)
        return page_err(w, d, pgno, 0, "the tree has more pages than its record counts");
    int rc = mark_used(w, d, pgno, 1, pgno);
    uint8_t *pg = rc ? NULL : malloc(ps);
    unsigned n = 0;
    if (!rc && !pg) rc = wb_err_set(w->err, WB_ENOMEM, "out of memory");
    if (!rc) rc = read_page(w, d, pgno, pg, ps);
    if (!rc) rc = check_page(w, d, kind, pg, pgno, leaf, lo, hi, &n);
    cnt[leaf ? 1 : 0]++;
    for (unsigned i = 0; !rc && i < n; i++) {
        const uint8_t *nd = pg + g16(pg + PGHDR + 2 * i);
        const unsigned ks = g16(nd + 6), nf = g16(nd + 4);
        const uint8_t *val = nd + NODESZ + ks;
        if (!leaf) {
            if (level >= maxlevel) continue;
            const uint8_t *nx = i + 1 < n ? pg + g16(pg + PGHDR + 2 * (i + 1)) : NULL;
            span clo = i ? (span){nd + NODESZ, ks} : lo, chi = nx ? (span){nx + NODESZ, g16(nx + 6)} : hi;
            uint64_t child = g16(nd) | (uint64_t)g16(nd + 2) << 16 | (uint64_t)nf << 32;
            rc = walk_page(w, d, kind, child, level + 1, maxlevel, clo, chi, cnt);
            continue;
        }
        const uint64_t ds = g16(nd) | (uint64_t)g16(nd + 2) << 16;
        cnt[3]++;
        if (kind == K_MAIN) {
            if (w->nsubs == WB_MDB_MAX_DBS) {
                rc = page_err(w, d, pgno, 0, "more than %d named databases", WB_MDB_MAX_DBS);
                break;
            }
            wb_mdb_db *s = &w->subs[w->nsubs];
            memset(s, 0, sizeof *s);
            if (ks >= sizeof s->name || memchr(nd + NODESZ, 0, ks) || wb_get32(val) != 0) {
                rc = page_err(w, d, pgno, 0, "node %u is not a database name and record", i);
                break;
            }
            memcpy(s->name, nd + NODESZ, ks);
            db_parse(s, val);
            w->nsubs++;
            continue;
        }
        uint8_t *big = NULL;
        if (nf == F_BIGDATA)
            rc = overflow(w, d, pgno, wb_get64(val), ds, &cnt[2], kind == K_FREE ? &big : NULL);
        if (!rc && kind == K_FREE) rc = free_list(w, d, pgno, big ? big : val, ds);
        free(big);
    }
    free(pg);
    return rc;
}

/* Walk d's tree down to maxlevel (all of it: MAX_DEPTH) and, when whole,
 * compare what it holds with the counts of its record. */
static int walk_db(walk *w, const wb_mdb_db *d, int kind, int maxlevel) {
    if (d->root == NO_PAGE) return 0;
    uint64_t cnt[4] = {0, 0, 0, 0};
    w->intsize = 0;
    if (!w->used) w->budget = maxlevel ? d->branch_pages + d->leaf_pages : 1;
    span none = {NULL, 0};
    int rc = walk_page(w, d, kind, d->root, 0, maxlevel, none, none, cnt);
    if (rc || maxlevel < d->depth - 1) return rc;
    if (cnt[0] != d->branch_pages || cnt[1] != d->leaf_pages || cnt[2] != d->overflow_pages || cnt[3] != d->entries)
        return page_err(w, d, d->root, 0,
                        "the record counts %" PRIu64 "/%" PRIu64 "/%" PRIu64 " branch/leaf/overflow pages and %" PRIu64
                        " entries, the tree has %" PRIu64 "/%" PRIu64 "/%" PRIu64 " and %" PRIu64,
                        d->branch_pages, d->leaf_pages, d->overflow_pages, d->entries, cnt[0], cnt[1], cnt[2], cnt[3]);
    w->st.branch_pages += cnt[0];
    w->st.leaf_pages += cnt[1];
    w->st.overflow_pages += cnt[2];
    if (kind == K_NAMED) w->st.entries += cnt[3];
    return 0;
}

/* The named databases' records, as found in the main database. */
static int check_subs(walk *w) {
    const wb_mdb_file *f = w->f;
    for (int i = 0; i < w->nsubs; i++) {
        const wb_mdb_db *s = &w->subs[i];
        char lb[64];
        if (s->flags & ~DB_INTEGERKEY)
            return wb_err_at(w->err, WB_ECORRUPT, f->path, 0, (long long)(f->main_db.root * f->psize),
                             "%s has flags 0x%x (wordbench uses 0 or integer keys)", db_label(s, lb, sizeof lb),
                             s->flags);
        int rc = db_check(f, s, f->main_db.root * f->psize, w->err);
        if (rc) return rc;
    }
    return 0;
}

/* ---- the checks at open and the full walk ---------------------------------- */

int wb_mdb_check_open(wb_mdb_file *f, int fd, const char *path, const char *whole, wb_err *err) {
    memset(f, 0, sizeof *f);
    f->fd = fd;
    f->path = path;
    struct stat sb;
    if (fstat(fd, &sb)) return wb_err_at(err, errno, path, 0, -1, "cannot stat: %s", strerror(errno));
    if (!S_ISREG(sb.st_mode)) return wb_err_at(err, WB_ECORRUPT, path, 0, -1, "not a regular file");
    f->fsize = (uint64_t)sb.st_size;
    uint8_t m0[META_END], m1[META_END];
    int rc = meta_read(fd, path, 0, 0, m0, err);
    if (rc) return rc;
    f->psize = wb_get32(m0 + M_FREE);
    if ((rc = meta_read(fd, path, 1, f->psize, m1, err))) return rc;
    if (wb_get32(m1 + M_FREE) != f->psize)
        return wb_err_at(err, WB_ECORRUPT, path, 0, (long long)(f->psize + M_FREE),
                         "the meta pages disagree on the page size (%u, %u)", f->psize, wb_get32(m1 + M_FREE));
    /* LMDB uses the meta page with the larger transaction id (meta 0 on a tie). */
    f->meta = wb_get64(m1 + M_TXNID) > wb_get64(m0 + M_TXNID);
    const uint8_t *m = f->meta ? m1 : m0;
    const uint64_t moff = f->meta ? f->psize : 0, last = wb_get64(m + M_LASTPG);
    f->txnid = wb_get64(m + M_TXNID);
    if (last < 2 || last >= f->fsize / f->psize)
        return wb_err_at(err, WB_ECORRUPT, path, 0, (long long)(moff + M_LASTPG),
                         "meta page %d says the last page is %" PRIu64 ", the file holds %" PRIu64 " pages", f->meta,
                         last, f->fsize / f->psize);
    f->npages = last + 1;
    db_parse(&f->free_db, m + M_FREE);
    db_parse(&f->main_db, m + M_MAIN);
    if (f->free_db.flags != DB_INTEGERKEY || wb_get32(m + M_MAIN) != 0 || f->main_db.flags != 0)
        return wb_err_at(err, WB_ECORRUPT, path, 0, (long long)(moff + M_FREE),
                         "meta page %d has database flags 0x%x and 0x%x", f->meta, f->free_db.flags,
                         f->main_db.flags);
    if ((rc = db_check(f, &f->free_db, moff + M_FREE, err)) || (rc = db_check(f, &f->main_db, moff + M_MAIN, err)))
        return rc;
    if (f->main_db.depth != 1)
        return wb_err_at(err, WB_ECORRUPT, path, 0, (long long)(moff + M_MAIN),
                         "the main database has depth %u (wordbench's is one page)", f->main_db.depth);
    walk w = {.f = f, .err = err, .subs = f->dbs};
    if ((rc = walk_db(&w, &f->main_db, K_MAIN, MAX_DEPTH)) || (rc = check_subs(&w))) return rc;
    f->ndbs = w.nsubs;
    for (int i = 0; i < f->ndbs; i++) {
        int all = whole && !strcmp(f->dbs[i].name, whole);
        if ((rc = walk_db(&w, &f->dbs[i], K_NAMED, all ? MAX_DEPTH : 0))) return rc;
    }
    return 0;
}

int wb_mdb_walk(const wb_mdb_file *f, wb_mdb_walk_stats *st, wb_err *err) {
    const size_t nb = (size_t)(f->npages + 7) / 8;
    walk w = {.f = f, .err = err};
    wb_mdb_db subs[WB_MDB_MAX_DBS];
    w.subs = subs;
    w.used = calloc(nb, 1);
    w.freed = calloc(nb, 1);
    int rc = w.used && w.freed ? 0 : wb_err_set(err, WB_ENOMEM, "out of memory");
    if (!rc) {
        bit_set(w.used, 0), bit_set(w.used, 1); /* the meta pages */
        rc = walk_db(&w, &f->free_db, K_FREE, MAX_DEPTH);
    }
    if (!rc) rc = walk_db(&w, &f->main_db, K_MAIN, MAX_DEPTH);
    if (!rc) rc = check_subs(&w);
    for (int i = 0; !rc && i < w.nsubs; i++) rc = walk_db(&w, &subs[i], K_NAMED, MAX_DEPTH);
    /* Every page up to the last is in exactly one tree or on the free list. */
    for (uint64_t p = 2; !rc && p < f->npages; p++) {
        int u = bit_get(w.used, p), fr = bit_get(w.freed, p);
        if (u && fr) rc = wb_err_at(err, WB_ECORRUPT, f->path, 0, (long long)(p * f->psize),
                                    "page %" PRIu64 " is in use and on the free list", p);
        else if (!u && !fr)
            rc = wb_err_at(err, WB_ECORRUPT, f->path, 0, (long long)(p * f->psize),
                           "page %" PRIu64 " is neither in use nor on the free list", p);
    }
    free(w.used);
    free(w.freed);
    if (st) *st = w.st;
    return rc;
}

/* ---- checksum file, hash, sealing ------------------------------------------- */

int wb_mdb_hash(int fd, uint64_t size, uint64_t *out) {
    const size_t cap = size < (1u << 20) ? (size_t)size + 1 : (1u << 20);
    XXH3_state_t *s = XXH3_createState();
    uint8_t *b = malloc(cap);
    int rc = s && b ? 0 : WB_ENOMEM;
    if (!rc) XXH3_64bits_reset(s);
    for (uint64_t off = 0; !rc && off < size;) {
        size_t k = size - off < cap ? (size_t)(size - off) : cap;
        if (!(rc = pread_all(fd, b, k, off))) XXH3_64bits_update(s, b, k), off += k;
    }
    if (!rc) *out = XXH3_64bits_digest(s);
    XXH3_freeState(s);
    free(b);
    return rc;
}

/* The checksum file's text: two lines, then a line with the XXH3-64 of
 * those two (so that a damaged checksum file is told from a damaged index). */
static int sum_text(char *buf, size_t cap, uint64_t size, uint64_t h) {
    int n = snprintf(buf, cap, SUM_MAGIC " 1\ndata.mdb %" PRIu64 " %016" PRIx64 "\n", size, h);
    return n + snprintf(buf + n, cap - (size_t)n, "check %016" PRIx64 "\n", (uint64_t)XXH3_64bits(buf, (size_t)n));
}

/* Strict unsigned decimal or 16-digit hex field of s[*i..) ending in `end`. */
static int field(const char *s, size_t n, size_t *i, int hex, char end, uint64_t *out) {
    uint64_t v = 0;
    size_t j = *i, digits = 0;
    for (; j < n && s[j] != end; j++, digits++) {
        int c = s[j], d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (hex && c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else return -1;
        if (!hex && v > (UINT64_MAX - (uint64_t)d) / 10) return -1;
        v = hex ? v << 4 | (uint64_t)d : v * 10 + (uint64_t)d;
    }
    if (j == n || digits == 0 || (hex && digits != 16) || (!hex && digits > 20)) return -1;
    *i = j + 1;
    *out = v;
    return 0;
}

static int lit(const char *s, size_t n, size_t *i, const char *w) {
    size_t k = strlen(w);
    if (n - *i < k || memcmp(s + *i, w, k)) return -1;
    *i += k;
    return 0;
}

int wb_mdb_sum_read(int dfd, const char *name, const char *path, wb_mdb_sum *s, wb_err *err) {
    int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        int e = errno;
        if (e == ENOENT) return ENOENT;
        return wb_err_at(err, e, path, 0, -1, "cannot open: %s", strerror(e));
    }
    char b[257];
    struct stat sb;
    ssize_t n = fstat(fd, &sb) || !S_ISREG(sb.st_mode) ? -2 : read(fd, b, sizeof b);
    int e = errno;
    close(fd);
    if (n == -1) return wb_err_at(err, e, path, 0, -1, "cannot read: %s", strerror(e));
    size_t i = 0, len = n < 0 ? 0 : (size_t)n, mid;
    uint64_t ver, chk;
    if (n < 0 || n == (ssize_t)sizeof b || lit(b, len, &i, SUM_MAGIC " ") || field(b, len, &i, 0, '\n', &ver))
        return wb_err_at(err, WB_ECORRUPT, path, 0, -1, "not a wordbench index checksum file");
    if (ver != 1)
        return wb_err_at(err, WB_EVERSION, path, 0, -1,
                         "checksum file version %" PRIu64 " is newer than this build reads (1): upgrade wordbench", ver);
    if (lit(b, len, &i, "data.mdb ") || field(b, len, &i, 0, ' ', &s->size) || field(b, len, &i, 1, '\n', &s->xxh3) ||
        (mid = i, lit(b, len, &i, "check ")) || field(b, len, &i, 1, '\n', &chk) || i != len)
        return wb_err_at(err, WB_ECORRUPT, path, 0, (long long)i, "malformed checksum file");
    if (chk != XXH3_64bits(b, mid))
        return wb_err_at(err, WB_ECORRUPT, path, 0, (long long)mid, "the checksum file is damaged (its own check fails)");
    return 0;
}

int wb_mdb_seal(const char *dir, wb_err *err) {
    char path[4096], sum[4096];
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    snprintf(sum, sizeof sum, "%s/" WB_MDB_SUM_NAME, dir);
    int fd = open(path, O_RDWR | O_CLOEXEC), rc = 0;
    if (fd < 0) return wb_err_at(err, errno, path, 0, -1, "cannot open: %s", strerror(errno));
    struct stat sb;
    uint8_t m[META_END], le[8];
    uint64_t h = 0;
    if (fstat(fd, &sb)) rc = wb_err_at(err, errno, path, 0, -1, "cannot stat: %s", strerror(errno));
    if (!rc) rc = meta_read(fd, path, 0, 0, m, err);
    const uint32_t ps = rc ? 0 : wb_get32(m + M_FREE);
    if (!rc) rc = meta_read(fd, path, 1, ps, m, err);
    /* LMDB keeps the larger of the recorded and the configured map size, so
     * the builder's 128 GB cannot be lowered through its API: write it. */
    for (int i = 0; i < 8; i++) le[i] = (uint8_t)((uint64_t)sb.st_size >> (8 * i));
    for (int i = 0; !rc && i < 2; i++)
        if (pwrite(fd, le, 8, (off_t)((uint64_t)i * ps + M_MAPSIZE)) != 8)
            rc = wb_err_at(err, errno ? errno : EIO, path, 0, -1, "cannot write the map size: %s", strerror(errno));
    if (!rc && (rc = wb_mdb_hash(fd, (uint64_t)sb.st_size, &h)))
        rc = wb_err_at(err, rc, path, 0, -1, "cannot read back: %s", wb_strerror(rc));
    close(fd);
    if (rc) return rc;
    char text[256];
    int n = sum_text(text, sizeof text, (uint64_t)sb.st_size, h);
    fd = open(sum, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return wb_err_at(err, errno, sum, 0, -1, "cannot create: %s", strerror(errno));
    if (write(fd, text, (size_t)n) != n || fsync(fd))
        rc = wb_err_at(err, errno ? errno : EIO, sum, 0, -1, "cannot write: %s", strerror(errno ? errno : EIO));
    if (close(fd) && !rc) rc = wb_err_at(err, errno, sum, 0, -1, "cannot write: %s", strerror(errno));
    return rc;
}
