/*
 * dataset_cache.c — where data sets live: the key (XXH3 of the inputs'
 * bytes and of the options, with input hashes memoised per inode), the
 * per-key lock, leftovers of killed builders, the atomic publication, and
 * listing / clearing a cache directory.  Leaves out: building (dataset.c)
 * and the files' contents (dataset_file.c).
 */
#include "text/dataset_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <xxhash.h>

/* ---- cache key --------------------------------------------------------- */

static void h_u64(XXH3_state_t *st, uint64_t v) {
    unsigned char b[8];
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(v >> (8 * i));
    XXH3_64bits_update(st, b, 8);
}

static void h_str(XXH3_state_t *st, const char *s) {
    if (!s) {
        h_u64(st, UINT64_MAX);
        return;
    }
    size_t n = strlen(s);
    h_u64(st, n);
    XXH3_64bits_update(st, s, n);
}

/* An input's identity and state: a memo of its content hash is reused only
 * while all of these are unchanged. */
typedef struct fstate {
    uint64_t dev, ino, size, mtime_ns, ctime_ns;
} fstate;

static fstate fstate_of(const struct stat *sb) {
    fstate f = {(uint64_t)sb->st_dev, (uint64_t)sb->st_ino, (uint64_t)sb->st_size,
                (uint64_t)sb->st_mtim.tv_sec * 1000000000u + (uint64_t)sb->st_mtim.tv_nsec,
                (uint64_t)sb->st_ctim.tv_sec * 1000000000u + (uint64_t)sb->st_ctim.tv_nsec};
    return f;
}

static const char SRC_MAGIC[8] = {'W', 'B', 'D', 'S', 'S', 'R', 'C', 0};
#define SRC_BYTES (8 + 4 + 4 + 5 * 8 + 8 + 8) /* magic, version, 0, fstate, hash, checksum */

/* <cache_dir>/<16 hex>.src: the memo of one input file's content hash. */
static char *src_path(const char *dir, const fstate *f) {
    uint64_t id[2] = {f->dev, f->ino};
    return wb_ds_key_path(dir, XXH3_64bits(id, sizeof id), ".src");
}

/* The XXH3-64 of a file's bytes into *hash, *size.  cache_dir not NULL:
 * taken from its memo when the file's device, inode, size, mtime and ctime
 * (nanoseconds) are those recorded, else computed and memoised (a failure
 * to write the memo is ignored). */
static int content_hash(const char *path, const char *cache_dir, uint64_t *hash, uint64_t *size, wb_err *err) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return wb_err_at(err, errno, path, 0, -1, "cannot open: %s", strerror(errno));
    struct stat sb;
    int rc = fstat(fd, &sb) ? errno : 0, memo = !rc && cache_dir && S_ISREG(sb.st_mode);
    fstate f = fstate_of(&sb);
    char *mp = memo ? src_path(cache_dir, &f) : NULL;
    unsigned char *m = NULL;
    size_t mlen = 0;
    if (mp && !wb_read_file(mp, &m, &mlen) && mlen == SRC_BYTES && !memcmp(m, SRC_MAGIC, 8) &&
        wb_get32(m + 8) == 1 && wb_get64(m + SRC_BYTES - 8) == XXH3_64bits(m, SRC_BYTES - 8)) {
        fstate g = {wb_get64(m + 16), wb_get64(m + 24), wb_get64(m + 32), wb_get64(m + 40), wb_get64(m + 48)};
        if (!memcmp(&f, &g, sizeof f)) {
            *hash = wb_get64(m + 56), *size = f.size;
            free(m), free(mp);
            close(fd);
            return 0;
        }
    }
    free(m);
    uint64_t total = 0;
    XXH3_state_t *st = XXH3_createState();
    unsigned char *buf = malloc(WB_DS_IOBUF);
    if (!rc && (!st || !buf)) rc = WB_ENOMEM;
    if (!rc) XXH3_64bits_reset(st);
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    while (!rc) {
        ssize_t got = read(fd, buf, WB_DS_IOBUF);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) rc = errno;
        if (got <= 0) break;
        XXH3_64bits_update(st, buf, (size_t)got);
        total += (uint64_t)got;
    }
    if (!rc) *hash = XXH3_64bits_digest(st), *size = total;
    struct stat after;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    uint64_t now_ns = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec, last = f.ctime_ns > f.mtime_ns ? f.ctime_ns : f.mtime_ns;
    /* a file changed in the last 2 s is not memoised: file systems stamp times
     * in ticks of a few ms, so a write right after ours could keep them */
    if (!rc && mp && now_ns > last + 2000000000u && !fstat(fd, &after) && total == f.size) {
        fstate g = fstate_of(&after);
        wb_awriter w;
        if (!memcmp(&f, &g, sizeof f) && !wb_aw_open(&w, mp)) { /* unchanged while hashed */
            wb_aw_write(&w, SRC_MAGIC, 8);
            wb_aw_u32(&w, 1);
            wb_aw_u32(&w, 0);
            wb_aw_u64(&w, f.dev), wb_aw_u64(&w, f.ino), wb_aw_u64(&w, f.size);
            wb_aw_u64(&w, f.mtime_ns), wb_aw_u64(&w, f.ctime_ns), wb_aw_u64(&w, *hash);
            wb_aw_commit(&w);
        }
    }
    free(buf);
    if (st) XXH3_freeState(st);
    free(mp);
    close(fd);
    if (rc == WB_ENOMEM) return wb_err_set(err, rc, "out of memory");
    if (rc) return wb_err_at(err, rc, path, 0, -1, "read error while hashing: %s", strerror(rc));
    return 0;
}

static int h_file(XXH3_state_t *st, const char *path, const char *cache_dir, wb_err *err) {
    h_str(st, path);
    if (!path) return 0;
    uint64_t hash, size;
    int rc = content_hash(path, cache_dir, &hash, &size, err);
    if (!rc) h_u64(st, hash), h_u64(st, size);
    return rc;
}

int wb_ds_key(const wb_dataset_opts *o, uint64_t *key, wb_err *err) {
    XXH3_state_t *st = XXH3_createState();
    if (!st) return wb_err_set(err, WB_ENOMEM, "out of memory");
    XXH3_64bits_reset(st);
    h_str(st, "wordbench data set v3, reader 2"); /* reader 2: CR in fields read as LF */
    int rc = h_file(st, o->train_path, o->cache_dir, err);
    if (!rc) rc = h_file(st, o->valid_path, o->cache_dir, err);
    if (!rc) rc = h_file(st, o->test_path, o->cache_dir, err);
    if (rc) {
        XXH3_freeState(st);
        return rc;
    }
    const wb_reader_opts *r = &o->reader;
    h_u64(st, (uint64_t)r->format);
    h_u64(st, (uint64_t)(int64_t)r->tsv_header);
    h_str(st, r->label_prefix);
    h_u64(st, r->text_cols ? r->n_text_cols : UINT64_MAX);
    for (size_t i = 0; r->text_cols && i < r->n_text_cols; i++) h_str(st, r->text_cols[i]);
    h_str(st, r->label_col);
    h_str(st, r->label_sep);
    h_u64(st, r->feature_cols ? r->n_feature_cols : UINT64_MAX);
    for (size_t i = 0; r->feature_cols && i < r->n_feature_cols; i++) h_str(st, r->feature_cols[i]);
    h_u64(st, (uint64_t)(int64_t)r->skip_bad);
    const wb_tokenize_opts *t = &o->tok;
    h_u64(st, (uint64_t)t->kind);
    h_u64(st, (uint64_t)(int64_t)t->lower);
    h_u64(st, t->max_doc_chars);
    h_u64(st, (uint64_t)(int64_t)t->strip_html);
    h_str(st, t->kind == WB_TOK_CHAR ? t->alphabet : NULL);
    h_u64(st, (uint64_t)o->text_mode);
    size_t nml = o->text_mode == WB_TEXT_EACH && o->maxlens && r->text_cols ? r->n_text_cols : 0;
    h_u64(st, nml);
    for (size_t i = 0; i < nml; i++) h_u64(st, o->maxlens[i]);
    h_u64(st, o->num_words);
    h_u64(st, o->min_count);
    h_u64(st, o->maxlen);
    h_u64(st, (uint64_t)o->padding);
    h_u64(st, (uint64_t)o->truncating);
    uint64_t fb;
    memcpy(&fb, &o->test_fraction, 8);
    h_u64(st, o->test_fraction == 0 ? 0 : fb);
    h_u64(st, o->seed);
    h_u64(st, (uint64_t)(int64_t)o->split_mode);
    h_u64(st, (uint64_t)o->task);
    h_u64(st, (uint64_t)(int64_t)o->unknown_skip);
    *key = XXH3_64bits_digest(st);
    XXH3_freeState(st);
    return 0;
}


int wb_dataset_key(const wb_dataset_opts *o, uint64_t *key, wb_err *err) {
    *key = 0;
    if (!o->train_path || !strcmp(o->train_path, "-") || (o->valid_path && !strcmp(o->valid_path, "-")) ||
        (o->test_path && !strcmp(o->test_path, "-")))
        return wb_err_set(err, WB_EUSAGE, "a data set read from stdin has no key");
    return wb_ds_key(o, key, err);
}


/* ---- the cache directory ------------------------------------------------ */

/* "<dir>/<16 hex digits><suffix>" */
char *wb_ds_key_path(const char *dir, uint64_t key, const char *suffix) {
    char name[64];
    snprintf(name, sizeof name, "%016llx%s", (unsigned long long)key, suffix);
    return wb_ds_join(dir, name);
}

/* Remove leftovers of dead builders of `key` (the caller holds its lock). */
void wb_ds_remove_stale(const char *dir, uint64_t key) {
    char prefix[64];
    int pl = snprintf(prefix, sizeof prefix, "%016llx.wbds.", (unsigned long long)key);
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, prefix, (size_t)pl)) continue;
        char *p = wb_ds_join(dir, e->d_name);
        if (p) wb_rmrf(p);
        free(p);
    }
    closedir(d);
}

/* Take the exclusive lock of a key: flock on <key>.lock.  Its holder
 * unlinks the file before releasing it (no lock files stay behind), so a
 * waiter may get a lock on a file that is gone: it then opens the path anew.
 * *waited = 1 when another process held it. */
int wb_ds_take_lock(const char *path, int *fd, int *waited, wb_err *err) {
    for (;;) {
        *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
        if (*fd < 0) return wb_err_at(err, errno, path, 0, -1, "cannot create the lock file: %s", strerror(errno));
        if (flock(*fd, LOCK_EX | LOCK_NB)) {
            *waited = 1;
            while (flock(*fd, LOCK_EX) && errno == EINTR) {
            }
        }
        struct stat a, b;
        if (!fstat(*fd, &a) && !stat(path, &b) && a.st_dev == b.st_dev && a.st_ino == b.st_ino) return 0;
        close(*fd);
        *fd = -1;
    }
}

/* Publish the built directory tmp as final (replacing an invalid one). */
int wb_ds_publish(const char *tmp, const char *final, const char *dir, wb_err *err) {
    if (wb_rename_noreplace(tmp, final) == 0) goto synced;
    if (errno == EEXIST || errno == ENOTEMPTY) {
        if (wb_rename_exchange(tmp, final) == 0) {
            wb_rmrf(tmp); /* now the old one; processes mapping it keep their mappings */
            goto synced;
        }
    } else if (errno == EINVAL) { /* no renameat2 flags on this file system */
        wb_rmrf(final);
        if (rename(tmp, final) == 0) goto synced;
    }
    return wb_err_at(err, errno, final, 0, -1, "cannot publish the data set: %s", strerror(errno));
synced:
    wb_fsync_path(dir, 1);
    return 0;
}

static int is_hexkey(const char *s) {
    for (int i = 0; i < 16; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
    return 1;
}

/* What kind of cache entry a file name is (WB_ENTRY_*), 0 for another file. */
static int entry_kind(const char *name) {
    if (strlen(name) < 20 || !is_hexkey(name)) return 0;
    const char *s = name + 16;
    if (!strcmp(s, ".wbds")) return WB_ENTRY_DATASET;
    if (!strncmp(s, ".wbds.", 6)) return WB_ENTRY_PARTIAL;
    if (!strcmp(s, ".lock")) return WB_ENTRY_LOCK;
    if (!strcmp(s, ".src")) return WB_ENTRY_INPUT;
    return 0;
}

/* Bytes of a file or of the files of a directory (one level). */
static uint64_t entry_bytes(const char *path) {
    struct stat sb;
    if (lstat(path, &sb)) return 0;
    if (!S_ISDIR(sb.st_mode)) return (uint64_t)sb.st_size;
    uint64_t total = 0;
    DIR *d = opendir(path);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char *p = wb_ds_join(path, e->d_name);
        if (p && !lstat(p, &sb) && S_ISREG(sb.st_mode)) total += (uint64_t)sb.st_size;
        free(p);
    }
    if (d) closedir(d);
    return total;
}

static int entry_cmp(const void *a, const void *b) {
    return strcmp(((const wb_dataset_entry *)a)->name, ((const wb_dataset_entry *)b)->name);
}

void wb_dataset_entries_free(wb_dataset_entry *e, size_t n) {
    for (size_t i = 0; e && i < n; i++) free(e[i].name), free(e[i].source);
    free(e);
}

int wb_dataset_cache_list(const char *dir, wb_dataset_entry **out, size_t *n, wb_err *err) {
    *out = NULL, *n = 0;
    DIR *d = opendir(dir);
    if (!d) return wb_err_at(err, errno, dir, 0, -1, "cannot list: %s", strerror(errno));
    wb_dataset_entry *v = NULL;
    size_t cap = 0, k = 0;
    struct dirent *e;
    int rc = 0;
    while (!rc && (e = readdir(d))) {
        int kind = entry_kind(e->d_name);
        if (!kind) continue;
        if (wb_ds_grow(&v, &cap, k + 1, sizeof *v)) {
            rc = wb_err_set(err, WB_ENOMEM, "out of memory");
            break;
        }
        wb_dataset_entry *x = &v[k];
        memset(x, 0, sizeof *x);
        x->kind = kind;
        char *p = wb_ds_join(dir, e->d_name);
        if (!(x->name = strdup(e->d_name)) || !p) {
            free(p);
            rc = wb_err_set(err, WB_ENOMEM, "out of memory");
            break;
        }
        k++;
        x->bytes = entry_bytes(p);
        char *mp = kind == WB_ENTRY_DATASET ? wb_ds_join(p, WB_DS_META) : NULL;
        unsigned char *b = NULL;
        size_t len = 0;
        wb_ds_meta m;
        if (mp && !wb_read_file(mp, &b, &len) && !wb_ds_meta_parse(b, len, &m, mp, NULL)) {
            x->complete = 1;
            x->rows = m.n, x->created = m.created, x->ninputs = m.ninputs, x->maxlen = (size_t)m.in[0].maxlen;
            x->source = wb_ds_str_dup(m.sources[0]);
            wb_ds_meta_free(&m);
        }
        free(b);
        free(mp);
        free(p);
    }
    closedir(d);
    if (rc) {
        wb_dataset_entries_free(v, k);
        return rc;
    }
    if (k) qsort(v, k, sizeof *v, entry_cmp);
    *out = v, *n = k;
    return 0;
}

int wb_dataset_cache_clear(const char *dir, size_t *removed, uint64_t *bytes, wb_err *err) {
    wb_dataset_entry *v;
    size_t n;
    if (removed) *removed = 0;
    if (bytes) *bytes = 0;
    int rc = wb_dataset_cache_list(dir, &v, &n, err);
    for (size_t i = 0; !rc && i < n; i++) {
        char *p = wb_ds_join(dir, v[i].name);
        if (!p) {
            rc = wb_err_set(err, WB_ENOMEM, "out of memory");
            break;
        }
        wb_rmrf(p);
        struct stat sb;
        if (!lstat(p, &sb)) rc = wb_err_at(err, EACCES, p, 0, -1, "cannot remove");
        else {
            if (removed) (*removed)++;
            if (bytes) *bytes += v[i].bytes;
        }
        free(p);
    }
    wb_dataset_entries_free(v, n);
    return rc;
}

char *wb_dataset_default_cache_dir(void) {
    const char *x = getenv("XDG_CACHE_HOME");
    if (x && x[0] == '/') return wb_ds_join(x, "wordbench");
    const char *h = getenv("HOME");
    if (h && *h) return wb_ds_join(h, ".cache/wordbench");
    return NULL;
}

