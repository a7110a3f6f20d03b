/*
 * tools/bench/evict.c — wb_evict: keep files out of memory while another
 * process uses them, to show what `wordbench train` does under memory
 * pressure without touching the machine's control groups.
 *
 * Every --interval milliseconds (default 100) it
 *   1. with --pid: asks the kernel to page out that process's mappings of the
 *      files (process_madvise(MADV_PAGEOUT) over the ranges /proc/PID/maps
 *      lists for their device and inode), because the page cache never drops
 *      a page some process still maps;
 *   2. drops the files' pages from the page cache: posix_fadvise(fd, 0, 0,
 *      POSIX_FADV_DONTNEED) on each file, as `vmtouch -e` does.
 * It stops when the --pid process has exited (its pidfd turns readable), after --rounds rounds, or on
 * SIGINT/SIGTERM, and prints one summary line on stderr: rounds, and the
 * size of the target's mappings advised in each (the kernel pages out what
 * of them is resident; it does not say how much that was).  If the kernel refuses process_madvise (it needs
 * CAP_SYS_NICE and ptrace access, Linux >= 5.10) it says so once and carries
 * on with step 2 alone.
 *
 * Not here: anonymous memory (only the named files are touched), cgroups.
 *
 * usage: wb_evict [--interval MS] [--pid PID] [--rounds N] FILE...
 * exit status: 0, 1 when a file cannot be opened, 2 on usage errors.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_process_madvise
#define SYS_process_madvise 440
#endif

static volatile sig_atomic_t g_stop;

static void on_signal(int sig) {
    (void)sig;
    g_stop = 1;
}

typedef struct file {
    const char *path;
    int fd;
    dev_t dev;
    ino_t ino;
} file;

static int usage(void) {
    fprintf(stderr, "usage: wb_evict [--interval MS] [--pid PID] [--rounds N] FILE...\n");
    return 2;
}

/* Page out the target's mappings of the files; returns the bytes advised or
 * -1 with errno when process_madvise is refused. */
static long long page_out(int pidfd, pid_t pid, const file *fs, int nf) {
    char path[64], line[4096];
    snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
    FILE *m = fopen(path, "re");
    if (!m) return 0; /* the process is gone */
    struct iovec iov[512];
    int n = 0;
    long long total = 0;
    while (fgets(line, sizeof line, m)) {
        unsigned long lo, hi, ino;
        unsigned maj, min;
        if (sscanf(line, "%lx-%lx %*s %*x %x:%x %lu", &lo, &hi, &maj, &min, &ino) != 5) continue;
        for (int i = 0; i < nf; i++) {
            if (fs[i].ino != (ino_t)ino || fs[i].dev != makedev(maj, min)) continue;
            iov[n].iov_base = (void *)lo;
            iov[n].iov_len = hi - lo;
            if (++n == 512) {
                long r = syscall(SYS_process_madvise, pidfd, iov, (size_t)n, MADV_PAGEOUT, 0u);
                if (r < 0) { fclose(m); return -1; }
                total += r, n = 0;
            }
            break;
        }
    }
    fclose(m);
    if (n) {
        long r = syscall(SYS_process_madvise, pidfd, iov, (size_t)n, MADV_PAGEOUT, 0u);
        if (r < 0) return errno == ESRCH ? total : -1;
        total += r;
    }
    return total;
}

int main(int argc, char **argv) {
    long interval_ms = 100, rounds = -1;
    pid_t pid = 0;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        char *end = NULL;
        if (!strcmp(argv[i], "--")) { i++; break; }
        if (i + 1 >= argc) return usage();
        long v = strtol(argv[i + 1], &end, 10);
        if (!*argv[i + 1] || *end || v < 0) return usage();
        if (!strcmp(argv[i], "--interval") && v >= 1) interval_ms = v;
        else if (!strcmp(argv[i], "--pid") && v >= 1) pid = (pid_t)v;
        else if (!strcmp(argv[i], "--rounds") && v >= 1) rounds = v;
        else return usage();
        i++;
    }
    int nf = argc - i;
    if (nf < 1) return usage();
    file *fs = calloc((size_t)nf, sizeof *fs);
    if (!fs) return 1;
    for (int k = 0; k < nf; k++) {
        struct stat sb;
        fs[k].path = argv[i + k];
        fs[k].fd = open(fs[k].path, O_RDONLY | O_CLOEXEC);
        if (fs[k].fd < 0 || fstat(fs[k].fd, &sb)) {
            fprintf(stderr, "wb_evict: %s: %s\n", fs[k].path, strerror(errno));
            return 1;
        }
        fs[k].dev = sb.st_dev, fs[k].ino = sb.st_ino;
    }
    int pidfd = pid ? (int)syscall(SYS_pidfd_open, pid, 0u) : -1;
    if (pid && pidfd < 0) {
        fprintf(stderr, "wb_evict: process %d: %s\n", (int)pid, strerror(errno));
        return 1;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    long done = 0;
    long long mapped = 0; /* bytes of the target's mappings advised in the last round */
    int can_pageout = pid != 0;
    while (!g_stop && (rounds < 0 || done < rounds)) {
        if (can_pageout) {
            long long r = page_out(pidfd, pid, fs, nf);
            if (r < 0) {
                fprintf(stderr, "wb_evict: process_madvise(MADV_PAGEOUT) refused (%s): page-cache eviction only\n",
                        strerror(errno));
                can_pageout = 0;
            } else if (r > 0) {
                mapped = r;
            }
        }
        for (int k = 0; k < nf; k++) posix_fadvise(fs[k].fd, 0, 0, POSIX_FADV_DONTNEED);
        done++;
        if (pidfd >= 0) { /* a pidfd becomes readable when the process exits (zombie or not) */
            struct pollfd pfd = {pidfd, POLLIN, 0};
            if (poll(&pfd, 1, (int)interval_ms) > 0) break;
        } else {
            struct timespec ts = {interval_ms / 1000, (interval_ms % 1000) * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    fprintf(stderr, "wb_evict: %ld rounds every %ld ms, %.1f MB of mappings paged out per round%s, %d files\n",
            done, interval_ms, (double)mapped / 1e6, pid ? (can_pageout ? "" : " (refused)") : " (no --pid)", nf);
    return 0;
}
