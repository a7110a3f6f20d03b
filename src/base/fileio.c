/*
 * fileio.c — atomic checksummed file writing and whole-file reading
 * (fileio.h).  Leaves out: Windows, byte order other than little-endian for
 * the float arrays callers append raw.
 */
#include "base/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <dirent.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wordbench/err.h"

int wb_aw_open(wb_awriter *w, const char *path) {
    w->fd = -1, w->err = 0, w->n = 0;
    w->path = strdup(path);
    size_t tl = strlen(path) + 16;
    w->tmp = malloc(tl);
    w->h = XXH3_createState();
    if (!w->path || !w->tmp || !w->h) {
        wb_aw_abort(w);
        return WB_ENOMEM;
    }
    snprintf(w->tmp, tl, "%s.tmpXXXXXX", path);
    w->fd = mkstemp(w->tmp);
    if (w->fd < 0) {
        int rc = errno;
        free(w->tmp), w->tmp = NULL;
        wb_aw_abort(w);
        return rc;
    }
    /* The lock says "a live writer owns this temporary" to
     * wb_aw_clean_stale; the kernel drops it when the process dies. */
    (void)flock(w->fd, LOCK_EX | LOCK_NB);
    /* mkstemp makes the file 0600; a model file is as readable as any file
     * the user creates (0666 less the umask). */
    mode_t um = umask(022);
    umask(um);
    if (fchmod(w->fd, 0666 & ~um)) {
        int rc = errno;
        wb_aw_abort(w);
        return rc;
    }
    XXH3_64bits_reset(w->h);
    return 0;
}

static void flush(wb_awriter *w) {
    size_t done = 0;
    while (!w->err && done < w->n) {
        ssize_t k = write(w->fd, w->buf + done, w->n - done);
        if (k < 0) {
            if (errno != EINTR) w->err = errno;
            continue;
        }
        done += (size_t)k;
    }
    w->n = 0;
}

void wb_aw_write(wb_awriter *w, const void *p, size_t n) {
    if (w->err || !n) return;
    XXH3_64bits_update(w->h, p, n);
    const unsigned char *s = p;
    while (n) {
        if (w->n == sizeof w->buf) flush(w);
        size_t k = sizeof w->buf - w->n < n ? sizeof w->buf - w->n : n;
        memcpy(w->buf + w->n, s, k);
        w->n += k, s += k, n -= k;
    }
}

void wb_aw_u32(wb_awriter *w, uint32_t v) {
    unsigned char b[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16), (unsigned char)(v >> 24)};
    wb_aw_write(w, b, 4);
}

void wb_aw_u64(wb_awriter *w, uint64_t v) {
    wb_aw_u32(w, (uint32_t)v);
    wb_aw_u32(w, (uint32_t)(v >> 32));
}

static int finish(wb_awriter *w, int trailer) {
    uint64_t h = XXH3_64bits_digest(w->h);
    unsigned char b[8];
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(h >> (8 * i));
    if (!w->err) {
        if (trailer) {
            if (w->n + 8 > sizeof w->buf) flush(w);
            memcpy(w->buf + w->n, b, 8);
            w->n += 8;
        }
        flush(w);
    }
    if (!w->err && fsync(w->fd)) w->err = errno;
    if (close(w->fd) && !w->err) w->err = errno;
    w->fd = -1;
    if (!w->err && rename(w->tmp, w->path)) w->err = errno;
    int rc = w->err;
    if (!rc) {
        /* Make the rename durable. */
        char *d = strdup(w->path);
        if (d) {
            int dfd = open(dirname(d), O_RDONLY | O_DIRECTORY);
            if (dfd >= 0) fsync(dfd), close(dfd);
            free(d);
        }
        free(w->tmp), w->tmp = NULL;
    }
    wb_aw_abort(w);
    return rc;
}

int wb_aw_commit(wb_awriter *w) { return finish(w, 1); }

int wb_aw_commit_text(wb_awriter *w) { return finish(w, 0); }

void wb_aw_abort(wb_awriter *w) {
    if (w->fd >= 0) close(w->fd), w->fd = -1;
    if (w->tmp) unlink(w->tmp);
    free(w->tmp), w->tmp = NULL;
    free(w->path), w->path = NULL;
    if (w->h) XXH3_freeState(w->h), w->h = NULL;
}

size_t wb_aw_clean_stale(const char *path, char *first, size_t first_cap) {
    if (first_cap) first[0] = 0;
    char *d = strdup(path), *b = strdup(path);
    if (!d || !b) {
        free(d), free(b);
        return 0;
    }
    const char *dir = dirname(d), *base = basename(b);
    size_t bl = strlen(base), removed = 0;
    DIR *dp = opendir(dir);
    int dfd = dp ? dirfd(dp) : -1;
    struct dirent *de;
    while (dp && (de = readdir(dp))) {
        const char *n = de->d_name;
        /* exactly <base>.tmp + the six characters mkstemp chose */
        if (strlen(n) != bl + 10 || memcmp(n, base, bl) || memcmp(n + bl, ".tmp", 4)) continue;
        int fd = openat(dfd, n, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) continue;
        struct stat sb;
        int stale = !fstat(fd, &sb) && S_ISREG(sb.st_mode) && flock(fd, LOCK_EX | LOCK_NB) == 0;
        if (stale && unlinkat(dfd, n, 0) == 0) {
            if (!removed && first_cap) snprintf(first, first_cap, "%s", n);
            removed++;
        }
        close(fd); /* drops our lock */
    }
    if (dp) closedir(dp);
    free(d), free(b);
    return removed;
}

const char *wb_file_kind(const void *head, size_t n) {
    const unsigned char *h = head;
    if (n >= 8 && !memcmp(h, "WBMODEL", 8)) return "a wordbench model file";
    if (n >= 8 && !memcmp(h, "WBDSET\0\0", 8)) return "a wordbench data-set cache file";
    if (n >= 6 && !memcmp(h, "\x93NUMPY", 6)) return "an NPY array";
    if (n >= 20 && wb_get32(h + 16) == 0xBEEFC0DEu) return "an LMDB database";
    if (n >= 2 && h[0] == 0x1f && h[1] == 0x8b) return "gzip-compressed data";
    if (n >= 4 && !memcmp(h, "\x7f" "ELF", 4)) return "an executable (ELF)";
    return NULL;
}

int wb_read_file(const char *path, unsigned char **out, size_t *len) {
    *out = NULL, *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno;
    struct stat sb;
    if (fstat(fd, &sb)) {
        int rc = errno;
        close(fd);
        return rc;
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return EISDIR;
    }
    size_t n = (size_t)sb.st_size, done = 0;
    unsigned char *b = malloc(n ? n : 1);
    if (!b) {
        close(fd);
        return WB_ENOMEM;
    }
    while (done < n) {
        ssize_t k = read(fd, b + done, n - done);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
            int rc = k < 0 ? errno : EIO;
            free(b);
            close(fd);
            return rc;
        }
        done += (size_t)k;
    }
    close(fd);
    *out = b, *len = n;
    return 0;
}
