/*
 * publish.c — how a new store comes into existence (see publish.h): the
 * temporary sibling, the meta keys, durability and the atomic rename, for
 * the converter and the store writer alike.  Leaves out: writing the
 * matrices and the index (convert.c, store_writer.c, index_build.c).
 */
#include "store/publish.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "store/store_int.h"
#include "wordbench/npy.h"

/* ---- file helpers ----------------------------------------------------------- */

int wb_pwrite_all(int fd, const void *buf, size_t n, uint64_t off) {
    const char *p = buf;
    while (n) {
        ssize_t w = pwrite(fd, p, n, (off_t)off);
        if (w < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        p += w, n -= (size_t)w, off += (uint64_t)w;
    }
    return 0;
}

int wb_hash_range(int fd, uint64_t off, uint64_t n, uint64_t *out) {
    XXH3_state_t *s = XXH3_createState();
    char *b = malloc(1 << 20);
    int rc = (!s || !b) ? WB_ENOMEM : 0;
    if (!rc) XXH3_64bits_reset(s);
    while (!rc && n) {
        size_t k = n < (1u << 20) ? (size_t)n : (1u << 20);
        ssize_t r = pread(fd, b, k, (off_t)off);
        if (r <= 0) rc = r < 0 ? errno : WB_EIO;
        else XXH3_64bits_update(s, b, (size_t)r), off += (uint64_t)r, n -= (uint64_t)r;
    }
    if (!rc) *out = XXH3_64bits_digest(s);
    XXH3_freeState(s);
    free(b);
    return rc;
}

int wb_hash_blocks(int fd, uint64_t off, uint64_t bytes, uint64_t *hashes) {
    for (uint64_t b = 0; b * WB_STORE_BLOCK_BYTES < bytes; b++) {
        uint64_t at = b * WB_STORE_BLOCK_BYTES;
        uint64_t n = bytes - at < WB_STORE_BLOCK_BYTES ? bytes - at : WB_STORE_BLOCK_BYTES;
        int rc = wb_hash_range(fd, off + at, n, &hashes[b]);
        if (rc) return rc;
    }
    return 0;
}

/* ---- the temporary sibling ------------------------------------------------------ */

/* Remove `.<base>.wbtmp-<pid>` siblings whose process is gone. */
static void clean_stale(const char *parent, const char *base) {
    DIR *d = opendir(parent);
    if (!d) return;
    char prefix[600];
    int pl = snprintf(prefix, sizeof prefix, ".%s.wbtmp-", base);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, prefix, (size_t)pl)) continue;
        char *endp;
        long pid = strtol(e->d_name + pl, &endp, 10);
        if (*endp || pid <= 0) continue;
        if (pid != getpid() && kill((pid_t)pid, 0) == 0) continue; /* a live writer owns it */
        if (pid != getpid() && errno == EPERM) continue;
        struct stat sb;
        if (fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) || !S_ISDIR(sb.st_mode) || sb.st_uid != geteuid())
            continue; /* another user's, or not a directory: not ours to remove */
        char *p = wb_path_join(parent, e->d_name);
        if (p) wb_rmrf(p);
        free(p);
    }
    closedir(d);
}

/* A directory we may replace with --force: empty, or holding nothing but a
 * store's files (so --force never deletes anything else).  fd is the
 * directory, or -1 to open `dir` (its last component not followed). */
static int looks_like_store(const char *dir, int fd) {
    int own = fd < 0;
    if (own) fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int dup_fd = fd >= 0 ? dup(fd) : -1;
    DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
    if (own && fd >= 0) close(fd);
    if (!d) {
        if (dup_fd >= 0) close(dup_fd);
        return 0;
    }
    rewinddir(d);
    struct dirent *e;
    int other = 0;
    while (!other && (e = readdir(d))) {
        const char *n = e->d_name;
        other = strcmp(n, ".") && strcmp(n, "..") && strcmp(n, WB_STORE_VECTORS) && strcmp(n, WB_STORE_NORMS) &&
                strcmp(n, WB_STORE_INDEX);
    }
    closedir(d);
    return !other;
}

int wb_pub_begin(wb_pub *p, const char *store, int force, wb_err *e) {
    memset(p, 0, sizeof *p);
    p->force = force;
    char *s1 = strdup(store), *s2 = strdup(store);
    if (s1 && s2) p->parent = strdup(dirname(s1)), p->base = strdup(basename(s2));
    free(s1), free(s2);
    if (!p->parent || !p->base) return wb_err_set(e, WB_ENOMEM, "out of memory");
    if (!strcmp(p->base, "/") || !strcmp(p->base, ".") || !strcmp(p->base, ".."))
        return wb_err_set(e, WB_EUSAGE, "'%s' cannot be a store name", store);
    snprintf(p->tmp, sizeof p->tmp, "%s/.%s.wbtmp-%ld", p->parent, p->base, (long)getpid());
    struct stat sb;
    if (stat(store, &sb) == 0) {
        if (!force) return wb_err_at(e, WB_EEXIST, store, 0, -1, "exists (use --force to replace it)");
        if (!S_ISDIR(sb.st_mode) || !looks_like_store(store, -1))
            return wb_err_at(e, WB_EEXIST, store, 0, -1, "exists and is not a wordbench store; refusing to replace it");
    }
    clean_stale(p->parent, p->base);
    if (mkdir(p->tmp, 0755))
        return wb_err_at(e, errno, p->tmp, 0, -1, "cannot create the temporary store: %s", strerror(errno));
    p->made = 1;
    return 0;
}

void wb_pub_end(wb_pub *p) {
    if (p->made) wb_rmrf(p->tmp);
    p->made = 0;
    free(p->parent), free(p->base);
    p->parent = p->base = NULL;
}

/* ---- meta --------------------------------------------------------------------- */

static int put_str(wb_ixb *ix, const char *key, const char *val, size_t n, wb_err *e) {
    return wb_ixb_put_meta(ix, key, val, n, e);
}

static int put_u64(wb_ixb *ix, const char *key, uint64_t val, wb_err *e) {
    char b[24];
    int n = snprintf(b, sizeof b, "%" PRIu64, val);
    return put_str(ix, key, b, (size_t)n, e);
}

static int put_hex(wb_ixb *ix, const char *key, uint64_t val, wb_err *e) {
    char b[24];
    snprintf(b, sizeof b, "%016" PRIx64, val);
    return put_str(ix, key, b, 16, e);
}

int wb_pub_meta(wb_ixb *ix, const wb_store_info *in, const uint64_t *hashes, size_t nhash, uint64_t norms_hash,
                uint64_t *fingerprint, wb_err *e) {
    uint8_t *le = malloc(nhash * 8 + 1);
    if (!le) return wb_err_set(e, WB_ENOMEM, "out of memory");
    for (size_t b = 0; b < nhash; b++)
        for (int i = 0; i < 8; i++) le[b * 8 + i] = (uint8_t)(hashes[b] >> (8 * i));
    uint64_t fpr = XXH3_64bits(le, nhash * 8);
    *fingerprint = fpr;
    const char *dt = wb_dtype_name(in->dtype);
    int rc = put_u64(ix, WB_META_FORMAT_VERSION, WB_STORE_FORMAT_VERSION, e);
    if (!rc) rc = put_u64(ix, WB_META_ROWS, in->rows, e);
    if (!rc) rc = put_u64(ix, WB_META_DIM, in->dim, e);
    if (!rc) rc = put_str(ix, WB_META_DTYPE, dt, strlen(dt), e);
    if (!rc) rc = put_u64(ix, WB_META_NORMALIZED, (uint64_t)!!in->normalized, e);
    if (!rc) rc = put_str(ix, WB_META_SOURCE, in->source, strlen(in->source), e);
    if (!rc) rc = put_u64(ix, WB_META_SOURCE_BYTES, in->source_bytes, e);
    if (!rc) rc = put_u64(ix, WB_META_SOURCE_GZIP, (uint64_t)!!in->source_gzip, e);
    if (!rc) rc = put_str(ix, WB_META_SOURCE_FORMAT, in->source_format, strlen(in->source_format), e);
    if (!rc) rc = put_u64(ix, WB_META_DUPLICATES, in->duplicates, e);
    if (!rc) rc = put_u64(ix, WB_META_SKIPPED, in->skipped, e);
    if (!rc) rc = put_u64(ix, WB_META_INVALID_UTF8, in->invalid_utf8, e);
    if (!rc) rc = put_u64(ix, WB_META_LONG_WORDS, in->long_words, e);
    if (!rc) rc = put_u64(ix, WB_META_CREATED, (uint64_t)time(NULL), e);
    if (!rc) rc = put_u64(ix, WB_META_BLOCK_BYTES, WB_STORE_BLOCK_BYTES, e);
    if (!rc) rc = put_str(ix, WB_META_BLOCK_HASHES, (const char *)le, nhash * 8, e);
    if (!rc) rc = put_hex(ix, WB_META_NORMS_XXH3, norms_hash, e);
    if (!rc) rc = put_hex(ix, WB_META_FINGERPRINT, fpr, e);
    free(le);
    return rc;
}

/* ---- finishing the files ---------------------------------------------------------- */

typedef struct fsync_job {
    int fd[2];   /* files to fsync */
    int rc;      /* first errno, 0 if all went well */
} fsync_job;

static void *fsync_main(void *arg) {
    fsync_job *j = arg;
    for (int i = 0; i < 2; i++)
        if (fsync(j->fd[i]) && !j->rc) j->rc = errno;
    return NULL;
}

int wb_pub_finish(const char *tmp, wb_ixb *ix, int vec_fd, int nrm_fd, const wb_store_info *in,
                  const uint64_t *hashes, size_t nhash, uint64_t *fingerprint, wb_err *err) {
    int rc;
    uint64_t norms_hash;
    if ((rc = wb_hash_range(nrm_fd, WB_NPY_DATA_OFFSET, in->rows * 4, &norms_hash)))
        return wb_err_set(err, rc, "re-reading norms.npy: %s", wb_strerror(rc));
    /* NPY headers, now that the row count is known */
    char head[WB_NPY_DATA_OFFSET];
    if ((rc = wb_npy_header_write(head, sizeof head, in->dtype, 2, in->rows, in->dim)) ||
        (rc = wb_pwrite_all(vec_fd, head, sizeof head, 0)) ||
        (rc = wb_npy_header_write(head, sizeof head, WB_DTYPE_F32, 1, in->rows, 1)) ||
        (rc = wb_pwrite_all(nrm_fd, head, sizeof head, 0)))
        return wb_err_set(err, rc, "writing NPY headers: %s", wb_strerror(rc));
    if ((rc = wb_pub_meta(ix, in, hashes, nhash, norms_hash, fingerprint, err))) return rc;
    /* The matrices are complete: make them durable on another thread while
     * this one merges the index (an fsync mostly waits for the journal). */
    fsync_job job = {{vec_fd, nrm_fd}, 0};
    pthread_t th;
    int threaded = pthread_create(&th, NULL, fsync_main, &job) == 0;
    if (!threaded) fsync_main(&job);
    char *dst = wb_path_join(tmp, WB_STORE_INDEX);
    if (!dst) rc = wb_err_set(err, WB_ENOMEM, "out of memory");
    else if (mkdir(dst, 0755)) rc = wb_err_at(err, errno, dst, 0, -1, "cannot create: %s", strerror(errno));
    else rc = wb_ixb_finish(ix, dst, err);
    free(dst);
    if (threaded) pthread_join(th, NULL);
    if (!rc && job.rc) rc = wb_err_set(err, job.rc, "fsync: %s", strerror(job.rc));
    return rc;
}

/* ---- publication ------------------------------------------------------------- */

static int publish(const char *tmp, const char *store, const char *parent, int force, wb_err *err) {
    if (wb_rename_noreplace(tmp, store) == 0) goto synced;
    if (errno != EEXIST && errno != ENOTEMPTY)
        return wb_err_at(err, errno, store, 0, -1, "cannot publish the store: %s", strerror(errno));
    if (!force) return wb_err_at(err, WB_EEXIST, store, 0, -1, "exists (use --force to replace it)");
    /* Hold the old store's directory before the check and the swap:
     * afterwards it is removed through this descriptor, and only while the
     * temporary name still names it. */
    int old = open(store, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (old < 0 || !looks_like_store(store, old)) {
        if (old >= 0) close(old);
        return wb_err_at(err, WB_EEXIST, store, 0, -1, "exists and is not a wordbench store; refusing to replace it");
    }
    if (wb_rename_exchange(tmp, store)) {
        int e = errno;
        close(old);
        return wb_err_at(err, e, store, 0, -1, "cannot swap in the new store: %s", strerror(e));
    }
    wb_rmrf_held(tmp, old); /* now at the temporary name; processes mapping it keep their mappings */
    close(old);
synced:
    wb_fsync_path(parent, 1);
    return 0;
}

int wb_pub_commit(wb_pub *p, const char *store, wb_err *e) {
    /* Durability: the matrices were fsynced by the caller; now the index,
     * the directories; then the rename. */
    char *idx = wb_path_join(p->tmp, WB_STORE_INDEX), *data = idx ? wb_path_join(idx, "data.mdb") : NULL;
    int rc = 0;
    if (!data) rc = wb_err_set(e, WB_ENOMEM, "out of memory");
    int f = rc ? 0 : wb_fsync_path(data, 0);
    if (!rc && !f) f = wb_fsync_path(idx, 1);
    if (!rc && !f) f = wb_fsync_path(p->tmp, 1);
    if (f) rc = wb_err_set(e, f, "fsync: %s", strerror(f));
    free(idx), free(data);
    if (!rc) rc = publish(p->tmp, store, p->parent, p->force, e);
    if (!rc) p->made = 0;
    return rc;
}
