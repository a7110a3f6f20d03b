/*
 * fuzz_store.c — libFuzzer target for the store opener: the NPY header
 * parser (wb_npy_header_parse), the meta parser (wb_meta_init / take /
 * finish) in memory, and wb_store_open on a real store whose files are
 * overwritten with fuzz data.
 *
 * Input layout (short input: missing parts are empty):
 *   byte 0    flags: bit 0 store variant (0 f32, 1 f16; index mode 7: the
 *             big store);
 *             bits 1-2 where the NPY blob is written on disk (0 nowhere,
 *             1 over the start of vectors.npy, 2 of norms.npy, 3 both);
 *             bit 3 fit the size of each overwritten .npy to its new header;
 *             bit 4 make 'fingerprint' match the last 'block_hashes' pair;
 *             bits 5-7 index mode, see FS_MDB_* below
 *   bytes 1-2 NPY blob length (little endian), then the blob
 *   bytes 3-4 (after the blob) meta section length, then the section:
 *             pairs of key (byte k < 0xc0: the k % 18-th known meta key;
 *             else k - 0xc0 raw key bytes follow) and value (byte v < 0xf0:
 *             v bytes follow; else ((v & 15) << 8 | next byte) bytes follow)
 *   rest      index patch: u16 LE argument (index mode 7: u32), then bytes
 * Every blob and value lives in a heap block of exactly its size, so
 * AddressSanitizer catches a read past it (block_hashes is borrowed).
 *
 * Checked:
 *   - wb_npy_header_parse: result codes, a filled message on failure, and on
 *     success a shape whose byte size plus the data offset fits in 64 bits;
 *   - meta: take returns 0 or WB_ECORRUPT, finish 0, WB_ECORRUPT or
 *     WB_EVERSION, each failure with a message; on success every required
 *     value is in range and the numbers are those of the last pairs given,
 *     the borrowed block hashes lie inside the value passed and hash to the
 *     fingerprint, and text fields are NUL-terminated;
 *   - wb_store_open on the mutated copy returns 0 or a documented code with
 *     a message and *out NULL; an unmutated copy opens and verifies.  After a
 *     successful open: the sizes in the info are the files' sizes, the row
 *     and norms pointers are aligned for their element type and readable,
 *     gather works on every row, every row's word looks up to that row, and
 *     verify returns 0 or WB_ECORRUPT.
 * A broken invariant aborts, so libFuzzer saves the input.
 *
 * The stores (6 words, dim 4, one 600-byte word, f32 and f16 variants; and
 * a big one of 800 words, whose words and rows trees have branch pages) are
 * written once by fs_build_store() in a fresh directory under /dev/shm (or
 * $TMPDIR, /tmp), checked to open and verify, and its pristine files are
 * rewritten into a work copy before every input; the directory is removed at
 * exit (not after a crash).  It is not built with wb_convert(): a converter
 * bug would then stop the opener's fuzzing (see README.md, bug 1).
 *
 * Raw byte patches of data.mdb (modes 2, 3, 7) used to crash LMDB inside
 * the opener (README.md, "LMDB"); the opener now checks what LMDB trusts
 * before mapping the file (src/store/mdbcheck.h), so they are always on.
 * The small stores' trees are single pages, all checked at open, so plain
 * wb_store_open must survive any patch; the big store's leaves are not
 * read at open, so mode 7 opens it with WB_STORE_OPEN_VERIFY, which must.
 * After a patch (argument bit 15, mode 7: bit 31) the store can be sealed
 * again (wb_mdb_seal: new checksum file), so that the checks behind the
 * checksum are reached too.
 *
 * Known, unfixed library bugs can be made non-fatal while fuzzing on with
 * WB_FUZZ_SKIP=tag[,tag] (tags: align, efmt); they stay fatal by default.
 *
 * The harness body is fuzz_store_one(); tests/test_fuzz_regress.c includes
 * this file with WB_FUZZ_NO_MAIN defined.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <lmdb.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "store/mdbcheck.h"
#include "store/store_int.h"
#include "wordbench/floatparse.h"
#include "wordbench/err.h"
#include "wordbench/npy.h"
#include "wordbench/store.h"

#include "fuzz_common.h"

#define FS_CHECK(c) ((c) ? (void)0 : wbf_fail("fuzz_store.c", #c, __LINE__))

#define FS_CHECK_KNOWN(tag, c) (((c) || wbf_skipped(tag)) ? (void)0 : wbf_fail("fuzz_store.c", #c " [" tag "]", __LINE__))

/* Index modes (flags bits 5-7). */
enum {
    FS_MDB_KEEP = 0,    /* data.mdb untouched */
    FS_MDB_RESIZE = 1,  /* truncate or zero-extend data.mdb to the u16 argument */
    FS_MDB_PATCH = 2,   /* overwrite bytes of the two meta pages (offset: argument bits 0-14) */
    FS_MDB_PATCHANY = 3, /* overwrite bytes anywhere (the same) */
    FS_MDB_REPLACE = 4, /* replace the meta database with the fuzzed pairs */
    FS_MDB_ADD = 5,     /* put the fuzzed pairs into the meta database */
    FS_MDB_SUMPATCH = 6, /* overwrite bytes of data.mdb.xxh3 (offset: the argument; none: delete it) */
    FS_MDB_BIG = 7      /* the big store: overwrite bytes anywhere (offset: u32 argument bits 0-30),
                           open with WB_STORE_OPEN_VERIFY */
};
#define FS_RESEAL16 0x8000u     /* argument bit: seal the patched index again */
#define FS_RESEAL32 0x80000000u
#define FS_NVARIANT 3           /* f32, f16, big */
#define FS_BIG_ROWS 800

static const char *const fs_keys[] = {
    WB_META_FORMAT_VERSION, WB_META_ROWS, WB_META_DIM, WB_META_DTYPE, WB_META_NORMALIZED,
    WB_META_SOURCE, WB_META_SOURCE_BYTES, WB_META_SOURCE_GZIP, WB_META_SOURCE_FORMAT,
    WB_META_DUPLICATES, WB_META_SKIPPED, WB_META_INVALID_UTF8, WB_META_LONG_WORDS,
    WB_META_CREATED, WB_META_BLOCK_BYTES, WB_META_BLOCK_HASHES, WB_META_NORMS_XXH3,
    WB_META_FINGERPRINT};
#define FS_NKEYS (sizeof fs_keys / sizeof fs_keys[0])

/* ---- files ---------------------------------------------------------------- */

typedef struct fs_file {
    unsigned char *b; /* contents */
    size_t n;         /* length */
} fs_file;

enum { FS_VEC, FS_NORMS, FS_MDB, FS_SUM, FS_NFILES };
static const char *const fs_names[FS_NFILES] = {WB_STORE_VECTORS, WB_STORE_NORMS, WB_STORE_INDEX "/data.mdb",
                                                WB_STORE_INDEX "/" WB_MDB_SUM_NAME};

static char fs_root[256];              /* the private temporary directory */
static char fs_work[300];              /* the store copy that is mutated */
static fs_file fs_pristine[FS_NVARIANT][FS_NFILES]; /* [variant][file] */
static int fs_ready;

static int fs_read(const char *path, fs_file *f) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return -1;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    f->b = malloc(n > 0 ? (size_t)n : 1);
    f->n = n > 0 ? (size_t)n : 0;
    int ok = f->b && fread(f->b, 1, f->n, fp) == f->n;
    fclose(fp);
    return ok ? 0 : -1;
}

static int fs_write(const char *path, const void *b, size_t n) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return -1;
    const char *p = b;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w <= 0) { close(fd); return -1; }
        p += w, n -= (size_t)w;
    }
    return close(fd);
}

static void fs_path(char *out, size_t cap, const char *dir, const char *name) {
    snprintf(out, cap, "%s/%s", dir, name);
}

static int fs_rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb;
    (void)ftw;
    if (flag == FTW_DP) rmdir(path);
    else unlink(path);
    return 0;
}

/* Remove the private directory tree (at exit; a crash leaves it behind). */
static void fs_cleanup(void) {
    if (fs_root[0]) nftw(fs_root, fs_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* The pristine store: six words, dim 4 (plain, UTF-8, a space inside a
 * word, a 600-byte word with a hashed LMDB key, negative, subnormal and
 * f16-extreme values). */
#define FS_ROWS 6
#define FS_DIM 4
static const float fs_vals[FS_ROWS][FS_DIM] = {
    {0.418f, 0.24968f, -0.41242f, 0.1217f}, {1, -2, 3e-3f, 1e-40f}, {0.5f, 0.25f, 0.125f, -0.0f},
    {0.70853f, 0.57088f, -0.4716f, 0.18048f}, {9, 8, 7, 6}, {65504, -65504, 6e-8f, 1}};

static void fs_die(const char *what, const char *detail) {
    fprintf(stderr, "fuzz_store: building the store: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    abort();
}

static int fs_put(MDB_txn *txn, MDB_dbi dbi, const void *k, size_t kl, const void *v, size_t vl) {
    MDB_val key = {kl, (void *)k}, val = {vl, (void *)v};
    return mdb_put(txn, dbi, &key, &val, 0);
}

static int fs_put_meta(MDB_txn *txn, MDB_dbi dbi, const char *k, const char *v, size_t vl) {
    return fs_put(txn, dbi, k, strlen(k), v, vl);
}

static int fs_put_u64(MDB_txn *txn, MDB_dbi dbi, const char *k, uint64_t v) {
    char b[24];
    int n = snprintf(b, sizeof b, "%" PRIu64, v);
    return fs_put_meta(txn, dbi, k, b, (size_t)n);
}

/* Write a store in `dir` as docs/store-format.md describes it (the layout
 * wb_convert produces).  Written here rather than with wb_convert() so that
 * the opener is fuzzed whatever state the converter is in. */
static void fs_build_store(const char *dir, wb_dtype dtype, int big) {
    static const char *const words[FS_ROWS] = {"the", "na\xc3\xafve", "new york", "of", NULL, "x"};
    char longword[600], bigword[16];
    memset(longword, 'L', sizeof longword);
    const uint32_t nrows = big ? FS_BIG_ROWS : FS_ROWS;
    const size_t esize = wb_dtype_size(dtype), data_n = (size_t)nrows * FS_DIM * esize;
    static unsigned char vec[WB_NPY_DATA_OFFSET + FS_BIG_ROWS * FS_DIM * 4];
    static unsigned char nrm[WB_NPY_DATA_OFFSET + FS_BIG_ROWS * 4];
    if (wb_npy_header_write(vec, sizeof vec, dtype, 2, nrows, FS_DIM) ||
        wb_npy_header_write(nrm, sizeof nrm, WB_DTYPE_F32, 1, nrows, 1))
        fs_die("wb_npy_header_write", NULL);
    for (uint32_t r = 0; r < nrows; r++) {
        double ss = 0;
        for (int c = 0; c < FS_DIM; c++) {
            float f = big ? (float)((r * 7 + (uint32_t)c * 13) % 101) / 50.0f - 1.0f : fs_vals[r][c];
            if (dtype == WB_DTYPE_F16) {
                uint16_t h = wb_f32_to_f16(f);
                memcpy(vec + WB_NPY_DATA_OFFSET + ((size_t)r * FS_DIM + c) * 2, &h, 2);
                f = wb_f16_to_f32(h);
            } else {
                memcpy(vec + WB_NPY_DATA_OFFSET + ((size_t)r * FS_DIM + c) * 4, &f, 4);
            }
            ss += (double)f * f;
        }
        float norm = (float)sqrt(ss);
        memcpy(nrm + WB_NPY_DATA_OFFSET + (size_t)r * 4, &norm, 4);
    }
    char p[500], idx[500];
    if (mkdir(dir, 0755)) fs_die("mkdir", strerror(errno));
    fs_path(p, sizeof p, dir, WB_STORE_VECTORS);
    if (fs_write(p, vec, WB_NPY_DATA_OFFSET + data_n)) fs_die(p, strerror(errno));
    fs_path(p, sizeof p, dir, WB_STORE_NORMS);
    if (fs_write(p, nrm, WB_NPY_DATA_OFFSET + (size_t)nrows * 4)) fs_die(p, strerror(errno));

    /* One 64 MiB block: its hash, the fingerprint over the hashes, the norms hash. */
    uint64_t h = XXH3_64bits(vec + WB_NPY_DATA_OFFSET, data_n);
    unsigned char le[8];
    for (int i = 0; i < 8; i++) le[i] = (unsigned char)(h >> (8 * i));
    char fpr[17], nh[17];
    snprintf(fpr, sizeof fpr, "%016" PRIx64, (uint64_t)XXH3_64bits(le, 8));
    snprintf(nh, sizeof nh, "%016" PRIx64, (uint64_t)XXH3_64bits(nrm + WB_NPY_DATA_OFFSET, (size_t)nrows * 4));

    fs_path(idx, sizeof idx, dir, WB_STORE_INDEX);
    if (mkdir(idx, 0755)) fs_die("mkdir", strerror(errno));
    MDB_env *env = NULL;
    MDB_txn *txn = NULL;
    MDB_dbi dw, dr, dm;
    int mrc = mdb_env_create(&env);
    if (!mrc) mrc = mdb_env_set_maxdbs(env, 4);
    if (!mrc) mrc = mdb_env_set_mapsize(env, 1u << 20);
    if (!mrc) mrc = mdb_env_open(env, idx, MDB_NOSYNC | MDB_NOMETASYNC | MDB_NOLOCK, 0644);
    if (!mrc) mrc = mdb_txn_begin(env, NULL, 0, &txn);
    if (!mrc) mrc = mdb_dbi_open(txn, WB_DB_WORDS, MDB_CREATE, &dw);
    if (!mrc) mrc = mdb_dbi_open(txn, WB_DB_ROWS, MDB_CREATE | MDB_INTEGERKEY, &dr);
    if (!mrc) mrc = mdb_dbi_open(txn, WB_DB_META, MDB_CREATE, &dm);
    for (uint32_t r = 0; !mrc && r < nrows; r++) {
        const char *w = words[r % FS_ROWS] ? words[r % FS_ROWS] : longword;
        size_t wl = words[r % FS_ROWS] ? strlen(w) : sizeof longword;
        if (big) wl = (size_t)snprintf(bigword, sizeof bigword, "w%05u", r * 7919u % 100000u), w = bigword;
        char key[WB_STORE_MAX_KEY];
        size_t kl = wb_store_key(w, wl, key);
        mrc = fs_put(txn, dw, key, kl, &r, 4);
        if (!mrc) mrc = fs_put(txn, dr, &r, 4, w, wl);
    }
    const char *dt = wb_dtype_name(dtype);
    if (!mrc) mrc = fs_put_u64(txn, dm, WB_META_FORMAT_VERSION, WB_STORE_FORMAT_VERSION);
    if (!mrc) mrc = fs_put_u64(txn, dm, WB_META_ROWS, nrows);
    if (!mrc) mrc = fs_put_u64(txn, dm, WB_META_DIM, FS_DIM);
    if (!mrc) mrc = fs_put_meta(txn, dm, WB_META_DTYPE, dt, strlen(dt));
    if (!mrc) mrc = fs_put_u64(txn, dm, WB_META_NORMALIZED, 0);
    if (!mrc) mrc = fs_put_meta(txn, dm, WB_META_SOURCE, "fuzz.txt", 8);
    if (!mrc) mrc = fs_put_u64(txn, dm, WB_META_SOURCE_BYTES, 700);
    if (!mrc) mrc = fs_put_u64(txn, dm, WB_META_SOURCE_GZIP, 0);
    if (!mrc) mrc = fs_put_meta(txn, dm, WB_META_SOURCE_FORMAT, "glove", 5);
    if (!mrc) mrc = fs_put_u64(txn, dm, WB_META_DUPLICATES, 0);
    if (!mrc) mrc = fs_put_u64(txn, dm, WB_META_SKIPPED, 0);
    if (!mrc) mrc = fs_put_u64(txn, dm, WB_META_INVALID_UTF8, 0);
    if (!mrc) mrc = fs_put_u64(txn, dm, WB_META_LONG_WORDS, big ? 0 : 1);
    if (!mrc) mrc = fs_put_u64(txn, dm, WB_META_CREATED, 1700000000);
    if (!mrc) mrc = fs_put_u64(txn, dm, WB_META_BLOCK_BYTES, WB_STORE_BLOCK_BYTES);
    if (!mrc) mrc = fs_put_meta(txn, dm, WB_META_BLOCK_HASHES, (const char *)le, 8);
    if (!mrc) mrc = fs_put_meta(txn, dm, WB_META_NORMS_XXH3, nh, 16);
    if (!mrc) mrc = fs_put_meta(txn, dm, WB_META_FINGERPRINT, fpr, 16);
    if (!mrc) {
        mrc = mdb_txn_commit(txn);
        txn = NULL;
    }
    if (txn) mdb_txn_abort(txn);
    if (env) mdb_env_close(env);
    if (mrc) fs_die("LMDB", mdb_strerror(mrc));
    wb_err err;
    if (wb_mdb_seal(idx, &err)) fs_die("wb_mdb_seal", err.msg); /* map size, data.mdb.xxh3 */
}

/* Build the two pristine stores (f32, f16), check that they open and verify,
 * and make the work directory.  Aborts on failure: without a store there is
 * nothing to fuzz. */
static void fs_init(void) {
    if (fs_ready) return;
    const char *tmp = getenv("TMPDIR");
    struct stat sb;
    if (!stat("/dev/shm", &sb) && S_ISDIR(sb.st_mode) && !access("/dev/shm", W_OK)) tmp = "/dev/shm";
    snprintf(fs_root, sizeof fs_root, "%s/wbfuzz-store-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(fs_root)) fs_die("mkdtemp", strerror(errno));
    atexit(fs_cleanup);
    for (int v = 0; v < FS_NVARIANT; v++) {
        char dir[400];
        snprintf(dir, sizeof dir, "%s/s%d", fs_root, v);
        fs_build_store(dir, v == 1 ? WB_DTYPE_F16 : WB_DTYPE_F32, v == 2);
        wb_store *st = NULL;
        wb_err err;
        wb_err_clear(&err);
        wb_verify_report rep;
        if (wb_store_open(&st, dir, &err) || wb_store_verify(st, &rep, NULL, NULL, &err))
            fs_die("the pristine store does not open and verify", err.msg);
        wb_mdb_file mf;
        if (v == 2) { /* the big store must have pages the opener does not read */
            char mdb[500];
            fs_path(mdb, sizeof mdb, dir, WB_STORE_INDEX "/data.mdb");
            int fd = open(mdb, O_RDONLY);
            if (fd < 0 || wb_mdb_check_open(&mf, fd, mdb, WB_DB_META, &err)) fs_die("wb_mdb_check_open", err.msg);
            close(fd);
            for (int i = 0; i < mf.ndbs; i++)
                if (strcmp(mf.dbs[i].name, WB_DB_META) && mf.dbs[i].depth < 2) fs_die("the big store is too small", NULL);
        }
        wb_store_close(st);
        for (int f = 0; f < FS_NFILES; f++) {
            char p[500];
            fs_path(p, sizeof p, dir, fs_names[f]);
            if (fs_read(p, &fs_pristine[v][f])) fs_die("cannot read", p);
        }
    }
    fs_path(fs_work, sizeof fs_work, fs_root, "w");
    char idx[400];
    fs_path(idx, sizeof idx, fs_work, WB_STORE_INDEX);
    if (mkdir(fs_work, 0755) || mkdir(idx, 0755)) fs_die("mkdir", strerror(errno));
    fs_ready = 1;
}

/* ---- input parsing ---------------------------------------------------------- */

typedef struct fs_pair {
    const char *key;     /* known key name or raw bytes (heap block of klen) */
    size_t klen;         /* key length */
    unsigned char *val;  /* heap block of exactly vlen bytes (owned) */
    size_t vlen;         /* value length */
    unsigned char *kown; /* owned raw key block, or NULL */
} fs_pair;

typedef struct fs_input {
    unsigned flags;          /* byte 0 */
    unsigned char *blob;     /* NPY blob, exact heap block */
    size_t blen;             /* its length */
    fs_pair *pairs;          /* meta pairs */
    size_t npairs;           /* their count */
    uint32_t arg;            /* index patch argument */
    const uint8_t *patch;    /* index patch bytes (borrowed from the input) */
    size_t plen;             /* their length */
} fs_input;

static size_t fs_take(const uint8_t **p, const uint8_t *end, size_t want) {
    size_t have = (size_t)(end - *p);
    return want < have ? want : have;
}

static unsigned fs_u16(const uint8_t **p, const uint8_t *end) {
    unsigned v = 0;
    if (*p < end) v = *(*p)++;
    if (*p < end) v |= (unsigned)*(*p)++ << 8;
    return v;
}

static unsigned char *fs_dup(const void *src, size_t n) {
    unsigned char *b = malloc(n); /* malloc(0): a valid zero-byte block */
    if (b && n) memcpy(b, src, n);
    return b;
}

static void fs_input_free(fs_input *in) {
    free(in->blob);
    for (size_t i = 0; i < in->npairs; i++) {
        free(in->pairs[i].val);
        free(in->pairs[i].kown);
    }
    free(in->pairs);
}

static int fs_parse_input(const uint8_t *data, size_t size, fs_input *in) {
    memset(in, 0, sizeof *in);
    const uint8_t *p = data, *end = data + size;
    if (p < end) in->flags = *p++;
    size_t bl = fs_take(&p, end, fs_u16(&p, end));
    in->blob = fs_dup(p, bl);
    in->blen = bl;
    p += bl;
    size_t ml = fs_take(&p, end, fs_u16(&p, end));
    const uint8_t *m = p, *mend = p + ml;
    p += ml;
    in->pairs = malloc((ml + 2) * sizeof *in->pairs); /* a pair takes >= 1 byte */
    if (!in->blob || !in->pairs) return -1;
    while (m < mend) {
        fs_pair *pr = &in->pairs[in->npairs];
        memset(pr, 0, sizeof *pr);
        unsigned k = *m++;
        if (k < 0xc0) {
            pr->key = fs_keys[k % FS_NKEYS];
            pr->klen = strlen(pr->key);
        } else {
            size_t kl = fs_take(&m, mend, k - 0xc0);
            pr->kown = fs_dup(m, kl);
            pr->key = (const char *)pr->kown;
            pr->klen = kl;
            m += kl;
        }
        size_t vl = 0;
        if (m < mend) {
            unsigned v = *m++;
            vl = v < 0xf0 ? v : ((v & 15u) << 8) | (m < mend ? *m++ : 0u);
        }
        vl = fs_take(&m, mend, vl);
        pr->val = fs_dup(m, vl);
        pr->vlen = vl;
        m += vl;
        in->npairs++;
        if (!pr->val || (k >= 0xc0 && !pr->kown)) return -1;
    }
    /* Optionally make the fingerprint agree with the last block hashes. */
    if (in->flags & 0x10) {
        const fs_pair *bh = NULL;
        fs_pair *fp = NULL;
        for (size_t i = 0; i < in->npairs; i++) {
            if (in->pairs[i].klen == strlen(WB_META_BLOCK_HASHES) &&
                !memcmp(in->pairs[i].key, WB_META_BLOCK_HASHES, in->pairs[i].klen))
                bh = &in->pairs[i];
            if (in->pairs[i].klen == strlen(WB_META_FINGERPRINT) &&
                !memcmp(in->pairs[i].key, WB_META_FINGERPRINT, in->pairs[i].klen))
                fp = &in->pairs[i];
        }
        if (bh) {
            char hex[17];
            snprintf(hex, sizeof hex, "%016" PRIx64, (uint64_t)XXH3_64bits(bh->val, bh->vlen));
            if (!fp) {
                fp = &in->pairs[in->npairs++];
                memset(fp, 0, sizeof *fp);
                fp->key = WB_META_FINGERPRINT;
                fp->klen = strlen(fp->key);
            }
            free(fp->val);
            fp->val = fs_dup(hex, 16);
            fp->vlen = 16;
            if (!fp->val) return -1;
        }
    }
    in->arg = fs_u16(&p, end);
    if (in->flags >> 5 == FS_MDB_BIG) in->arg |= (uint32_t)fs_u16(&p, end) << 16;
    in->patch = p;
    in->plen = (size_t)(end - p);
    return 0;
}

/* ---- in-memory parsers ---------------------------------------------------------- */

static void fs_check_err(int rc, const wb_err *err) {
    FS_CHECK(err->code == rc);
    FS_CHECK(memchr(err->msg, 0, sizeof err->msg) != NULL && err->msg[0] != 0);
    FS_CHECK(memchr(err->file, 0, sizeof err->file) != NULL);
}

static void fs_npy(const unsigned char *b, size_t n) {
    wb_npy_info ni;
    wb_err err;
    wb_err_clear(&err);
    int rc = wb_npy_header_parse(b, n, &ni, &err);
    if (rc) {
        FS_CHECK(rc == WB_ECORRUPT || rc == WB_EVERSION || rc == WB_EFORMAT);
        fs_check_err(rc, &err);
        return;
    }
    FS_CHECK(err.code == 0);
    FS_CHECK(ni.dtype == WB_DTYPE_F32 || ni.dtype == WB_DTYPE_F16);
    FS_CHECK(ni.ndim == 1 || ni.ndim == 2);
    FS_CHECK(ni.ndim == 2 || ni.cols == 1);
    FS_CHECK(ni.data_offset >= 10 && ni.data_offset <= n);
    unsigned __int128 bytes = (unsigned __int128)ni.rows * ni.cols * wb_dtype_size(ni.dtype);
    FS_CHECK(bytes + ni.data_offset <= UINT64_MAX); /* the opener's size test cannot overflow */
}

/* Strict decimal: what the last value of a numeric key must read as. */
static int fs_dec(const unsigned char *v, size_t n, uint64_t *out) {
    if (n == 0 || n > 20) return -1;
    unsigned __int128 x = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9') return -1;
        x = x * 10 + (v[i] - '0');
    }
    if (x > UINT64_MAX) return -1;
    *out = (uint64_t)x;
    return 0;
}

static const fs_pair *fs_last(const fs_input *in, size_t upto, const char *key) {
    const fs_pair *r = NULL;
    for (size_t i = 0; i < upto; i++)
        if (in->pairs[i].klen == strlen(key) && !memcmp(in->pairs[i].key, key, in->pairs[i].klen))
            r = &in->pairs[i];
    return r;
}

static void fs_meta(const fs_input *in) {
    wb_meta m;
    wb_err err;
    wb_err_clear(&err);
    wb_meta_init(&m);
    size_t i;
    for (i = 0; i < in->npairs; i++) {
        const fs_pair *pr = &in->pairs[i];
        int rc = wb_meta_take(&m, pr->key, pr->klen, pr->val, pr->vlen, &err);
        FS_CHECK(rc == 0 || rc == WB_ECORRUPT);
        if (rc) {
            fs_check_err(rc, &err);
            return; /* the opener stops at the first bad pair */
        }
        FS_CHECK(err.code == 0);
    }
    int rc = wb_meta_finish(&m, &err);
    FS_CHECK(rc == 0 || rc == WB_ECORRUPT || rc == WB_EVERSION);
    if (rc) {
        fs_check_err(rc, &err);
        return;
    }
    const wb_store_info *si = &m.info;
    FS_CHECK(si->format_version >= 1 && si->format_version <= WB_STORE_FORMAT_VERSION);
    FS_CHECK(si->dim >= 1 && si->rows <= UINT32_MAX);
    FS_CHECK(si->dtype == WB_DTYPE_F32 || si->dtype == WB_DTYPE_F16);
    FS_CHECK(m.block_bytes == WB_STORE_BLOCK_BYTES);
    uint64_t data = si->rows * si->dim * wb_dtype_size(si->dtype);
    FS_CHECK(si->nblocks == (data + WB_STORE_BLOCK_BYTES - 1) / WB_STORE_BLOCK_BYTES);
    FS_CHECK(memchr(si->source, 0, sizeof si->source) != NULL);
    FS_CHECK(memchr(si->source_format, 0, sizeof si->source_format) != NULL);

    /* The numbers are those of the last pairs of their keys. */
    const fs_pair *pr;
    uint64_t v;
    pr = fs_last(in, i, WB_META_ROWS);
    FS_CHECK(pr && !fs_dec(pr->val, pr->vlen, &v) && v == si->rows);
    pr = fs_last(in, i, WB_META_DIM);
    FS_CHECK(pr && !fs_dec(pr->val, pr->vlen, &v) && v == si->dim);
    pr = fs_last(in, i, WB_META_FORMAT_VERSION);
    FS_CHECK(pr && !fs_dec(pr->val, pr->vlen, &v) && v == si->format_version);
    pr = fs_last(in, i, WB_META_CREATED);
    if (pr) FS_CHECK(!fs_dec(pr->val, pr->vlen, &v) && v == si->created);

    /* The borrowed hashes are the last block_hashes value, whole. */
    pr = fs_last(in, i, WB_META_BLOCK_HASHES);
    FS_CHECK(pr && m.block_hashes == pr->val && si->nblocks * 8 == pr->vlen);
    FS_CHECK(XXH3_64bits(m.block_hashes, si->nblocks * 8) == si->fingerprint);
}

/* ---- the store on disk ---------------------------------------------------------- */

/* Rewrite the work store from the pristine files of `variant`, then apply
 * the mutations.  Returns 1 when anything was changed. */
static int fs_prepare(const fs_input *in, int variant) {
    char p[500];
    int changed = 0;
    fs_file f[FS_NFILES];
    for (int i = 0; i < FS_NFILES; i++) {
        f[i].n = fs_pristine[variant][i].n;
        f[i].b = fs_dup(fs_pristine[variant][i].b, f[i].n);
        if (!f[i].b) abort();
    }
    /* The NPY blob over the start of vectors.npy and/or norms.npy. */
    for (int i = 0; i < 2; i++) {
        if (!(in->flags & (2u << i)) || !in->blen) continue;
        changed = 1;
        size_t n = f[i].n > in->blen ? f[i].n : in->blen;
        if (in->flags & 8) {
            /* Fit the size to what the new header announces (up to 1 MiB). */
            unsigned char head[WB_NPY_DATA_OFFSET];
            size_t hn = in->blen < sizeof head ? in->blen : sizeof head;
            memcpy(head, in->blob, hn);
            if (hn < sizeof head) {
                size_t rest = f[i].n > hn ? f[i].n - hn : 0;
                if (rest > sizeof head - hn) rest = sizeof head - hn;
                memcpy(head + hn, f[i].b + hn, rest);
                hn += rest;
            }
            wb_npy_info ni;
            if (!wb_npy_header_parse(head, hn, &ni, NULL)) {
                unsigned __int128 want =
                    (unsigned __int128)ni.rows * ni.cols * wb_dtype_size(ni.dtype) + ni.data_offset;
                if (want <= (1u << 20) && want >= in->blen) n = (size_t)want;
            }
        }
        unsigned char *b = calloc(n ? n : 1, 1);
        if (!b) abort();
        memcpy(b, f[i].b, f[i].n < n ? f[i].n : n);
        memcpy(b, in->blob, in->blen);
        free(f[i].b);
        f[i].b = b;
        f[i].n = n;
    }
    /* The index file and its checksum file. */
    unsigned mode = in->flags >> 5;
    int reseal = 0;
    if (mode == FS_MDB_RESIZE) {
        size_t n = in->arg;
        unsigned char *b = calloc(n ? n : 1, 1);
        if (!b) abort();
        memcpy(b, f[FS_MDB].b, f[FS_MDB].n < n ? f[FS_MDB].n : n);
        free(f[FS_MDB].b);
        f[FS_MDB].b = b;
        changed |= n != f[FS_MDB].n;
        f[FS_MDB].n = n;
    } else if (mode == FS_MDB_PATCH || mode == FS_MDB_PATCHANY || mode == FS_MDB_BIG || mode == FS_MDB_SUMPATCH) {
        fs_file *t = &f[mode == FS_MDB_SUMPATCH ? FS_SUM : FS_MDB];
        size_t span = mode == FS_MDB_PATCH ? 2 * 4096 : t->n, off;
        if (span > t->n) span = t->n;
        if (mode == FS_MDB_BIG) off = (in->arg & ~FS_RESEAL32) % (span ? span : 1), reseal = !!(in->arg & FS_RESEAL32);
        else if (mode == FS_MDB_SUMPATCH) off = in->arg % (span ? span : 1);
        else off = (in->arg & ~FS_RESEAL16) % (span ? span : 1), reseal = !!(in->arg & FS_RESEAL16);
        for (size_t j = 0; j < in->plen && off + j < span; j++) t->b[off + j] = in->patch[j];
        changed |= in->plen > 0 && span > 0;
        if (mode == FS_MDB_SUMPATCH && !in->plen) t->n = 0, changed = 1; /* no checksum file */
    }
    for (int i = 0; i < FS_NFILES; i++) {
        fs_path(p, sizeof p, fs_work, fs_names[i]);
        if (i == FS_SUM && f[i].n == 0) unlink(p);
        else if (fs_write(p, f[i].b, f[i].n)) {
            perror("fuzz_store: writing the work store");
            abort();
        }
        free(f[i].b);
    }
    if (reseal) { /* as if the damaged index had been written so: a matching checksum file */
        wb_err err;
        fs_path(p, sizeof p, fs_work, WB_STORE_INDEX);
        (void)wb_mdb_seal(p, &err); /* fails on a damaged meta page: keeps the old checksum file */
    }
    /* Meta pairs through LMDB's own API: pages stay well-formed. */
    if ((mode == FS_MDB_REPLACE || mode == FS_MDB_ADD) && in->npairs) {
        MDB_env *env = NULL;
        MDB_txn *txn = NULL;
        MDB_dbi dbi;
        fs_path(p, sizeof p, fs_work, WB_STORE_INDEX);
        int mrc = mdb_env_create(&env);
        if (!mrc) mrc = mdb_env_set_maxdbs(env, 4);
        if (!mrc) mrc = mdb_env_set_mapsize(env, 64u << 20);
        if (!mrc) mrc = mdb_env_open(env, p, MDB_NOSYNC | MDB_NOMETASYNC | MDB_NOLOCK, 0644);
        if (!mrc) mrc = mdb_txn_begin(env, NULL, 0, &txn);
        if (!mrc) mrc = mdb_dbi_open(txn, WB_DB_META, 0, &dbi);
        if (!mrc && mode == FS_MDB_REPLACE) mrc = mdb_drop(txn, dbi, 0);
        for (size_t i = 0; !mrc && i < in->npairs; i++) {
            const fs_pair *pr = &in->pairs[i];
            if (pr->klen == 0 || pr->klen > (size_t)mdb_env_get_maxkeysize(env)) continue;
            MDB_val k = {pr->klen, (void *)pr->key}, v = {pr->vlen, pr->val};
            mrc = mdb_put(txn, dbi, &k, &v, 0);
        }
        if (!mrc) {
            mrc = mdb_txn_commit(txn);
            txn = NULL;
        }
        if (txn) mdb_txn_abort(txn);
        if (env) mdb_env_close(env);
        if (mrc) {
            fprintf(stderr, "fuzz_store: rewriting meta: %s\n", mdb_strerror(mrc));
            abort();
        }
        wb_err err;
        if (wb_mdb_seal(p, &err)) { /* the index LMDB wrote is sound: seal it as the converter would */
            fprintf(stderr, "fuzz_store: sealing the rewritten index: %s\n", err.msg);
            abort();
        }
        changed = 1;
    }
    return changed;
}

static int fs_file_size(const char *name, uint64_t *n) {
    char p[500];
    struct stat sb;
    fs_path(p, sizeof p, fs_work, name);
    if (stat(p, &sb)) return -1;
    *n = (uint64_t)sb.st_size;
    return 0;
}

/* Everything a reader may do with an open store. */
static void fs_use(wb_store *st, int pristine) {
    const wb_store_info *si = wb_store_info_get(st);
    uint64_t n;
    FS_CHECK(!fs_file_size(WB_STORE_VECTORS, &n) && n == si->vectors_bytes);
    FS_CHECK(!fs_file_size(WB_STORE_NORMS, &n) && n == si->norms_bytes);
    FS_CHECK(!fs_file_size(WB_STORE_INDEX "/data.mdb", &n) && n == si->index_bytes);
    FS_CHECK(si->dim >= 1 && si->rows <= UINT32_MAX);
    const size_t esize = wb_dtype_size(si->dtype);
    FS_CHECK(esize == 2 || esize == 4);
    const size_t row_bytes = (size_t)si->dim * esize;
    FS_CHECK(si->vectors_bytes >= si->rows * row_bytes);
    if (si->rows * row_bytes > (64u << 20)) return; /* not from this harness's files */

    /* Rows and norms: aligned for their type, readable to the last byte. */
    int aligned = 1;
    unsigned char *buf = malloc(row_bytes);
    for (uint64_t r = 0; buf && r < si->rows; r++) {
        const void *row = wb_store_row(st, r);
        FS_CHECK(row != NULL);
        FS_CHECK_KNOWN("align", (uintptr_t)row % esize == 0);
        aligned &= (uintptr_t)row % esize == 0;
        memcpy(buf, row, row_bytes);
    }
    FS_CHECK(wb_store_row(st, si->rows) == NULL);
    free(buf);
    const float *norms = wb_store_norms(st);
    FS_CHECK(norms != NULL);
    FS_CHECK_KNOWN("align", (uintptr_t)norms % _Alignof(float) == 0);
    aligned &= (uintptr_t)norms % _Alignof(float) == 0;
    float *nb = malloc(si->rows * sizeof(float) + 1);
    if (nb) memcpy(nb, norms, si->rows * sizeof(float));
    free(nb);

    /* Gather every row, in reverse, into an exact buffer. */
    uint32_t *rows = malloc(si->rows * sizeof *rows + 1);
    float *out = malloc(si->rows * si->dim * sizeof(float) + 1);
    if (rows && out && aligned) { /* f16 gather reads uint16_t: UB when misaligned ("align" skipped) */
        for (uint64_t r = 0; r < si->rows; r++) rows[r] = (uint32_t)(si->rows - 1 - r);
        FS_CHECK(wb_store_gather(st, si->rows, rows, out) == 0);
        if (si->rows < UINT32_MAX) {
            uint32_t bad = (uint32_t)si->rows;
            FS_CHECK(wb_store_gather(st, 1, &bad, out) == WB_EUSAGE);
        }
    }
    free(rows);
    free(out);

    /* Words and look-ups.  The words/rows databases are never mutated by
     * this harness except through raw patches (modes 1-3). */
    for (uint64_t r = 0; r < si->rows; r++) {
        const char *w;
        size_t wl;
        int rc = wb_store_word(st, (uint32_t)r, &w, &wl);
        FS_CHECK(rc == 0 || rc == WB_ENOTFOUND || rc == WB_ELMDB || rc == WB_ECORRUPT);
        if (pristine) FS_CHECK(rc == 0);
        if (rc) continue;
        char *copy = (char *)fs_dup(w, wl);
        uint32_t got = UINT32_MAX;
        rc = wb_store_lookup(st, copy, wl, &got);
        FS_CHECK(rc == 0 || rc == WB_ENOTFOUND || rc == WB_ELMDB || rc == WB_ECORRUPT);
        if (pristine) FS_CHECK(rc == 0 && got == r);
        free(copy);
    }
    uint32_t got;
    FS_CHECK(wb_store_lookup(st, "", 0, &got) == WB_ENOTFOUND);

    wb_verify_report rep;
    wb_err err;
    wb_err_clear(&err);
    int rc = wb_store_verify(st, &rep, NULL, NULL, &err);
    FS_CHECK(rc == 0 || rc == WB_ECORRUPT || rc == WB_ELMDB);
    if (rc) fs_check_err(rc, &err);
    if (!rc) FS_CHECK(rep.index_ok && rep.index_pages_ok && rep.index_sum != 0);
    if (pristine) FS_CHECK(rc == 0 && rep.index_ok && rep.norms_ok && rep.first_bad_block < 0 && rep.index_sum == 1);
}

static void fs_disk(const fs_input *in) {
    const int big = in->flags >> 5 == FS_MDB_BIG, variant = big ? 2 : in->flags & 1;
    int changed = fs_prepare(in, variant);
    wb_store *st = (wb_store *)&st; /* must be set to NULL on failure */
    wb_err err;
    wb_err_clear(&err);
    int rc = wb_store_open_ex(&st, fs_work, big ? WB_STORE_OPEN_VERIFY : 0, &err);
    if (rc) {
        FS_CHECK(st == NULL);
        FS_CHECK(rc > 0 || rc == WB_ECORRUPT || rc == WB_EVERSION || rc == WB_ELMDB || rc == WB_ENOMEM ||
                 (rc == WB_EFORMAT && wbf_skipped("efmt")));
        fs_check_err(rc, &err);
        FS_CHECK(changed); /* the pristine store opens */
        wb_store_close(st);
        return;
    }
    FS_CHECK(st != NULL);
    fs_use(st, !changed);
    wb_store_close(st);
}

static int fuzz_store_one(const uint8_t *data, size_t size) {
    fs_init();
    fs_input in;
    if (fs_parse_input(data, size, &in) == 0) {
        fs_npy(in.blob, in.blen);
        fs_meta(&in);
        fs_disk(&in);
    }
    fs_input_free(&in);
    return 0;
}

#ifndef WB_FUZZ_NO_MAIN
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    fs_init();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return fuzz_store_one(data, size);
}
#endif
