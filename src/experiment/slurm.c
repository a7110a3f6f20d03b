/*
 * slurm.c — submitting a search's trials to Slurm (slurm.h): the trial
 * lists and job scripts in RUN_DIR/slurm/, and sbatch run as a child
 * process whose --parsable output gives the job id.  Leaves out waiting
 * for jobs and cancelling them.
 */
#include "wordbench/slurm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/json.h"

#define MAX_ARRAY 1000

static int plain_path(const char *p) { return p && *p && !strpbrk(p, " \t\n\r'\"\\$`"); }

/* Write text to path (0644).  Returns 0 or errno. */
static int write_text(const char *path, const char *text, size_t len, int exec) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, exec ? 0755 : 0644);
    if (fd < 0) return errno;
    int rc = 0;
    for (size_t done = 0; done < len;) {
        ssize_t k = write(fd, text + done, len - done);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
            rc = k < 0 ? errno : EIO;
            break;
        }
        done += (size_t)k;
    }
    if (!rc && fsync(fd)) rc = errno;
    if (close(fd) && !rc) rc = errno;
    return rc;
}

/* Run argv (sbatch ...), its stdout into out (cap bytes, NUL-terminated,
 * trailing newline removed).  Returns 0, errno, or WB_EIO with e set. */
static int run_capture(char *const argv[], char *out, size_t cap, wb_err *e) {
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC)) return wb_err_set(e, errno, "pipe: %s", strerror(errno));
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        int rc = errno;
        close(pfd[0]), close(pfd[1]);
        return wb_err_set(e, rc, "cannot start %s: %s", argv[0], strerror(rc));
    }
    if (pid == 0) {
        dup2(pfd[1], 1);
        dup2(pfd[1], 2);
        execvp(argv[0], argv);
        dprintf(1, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(pfd[1]);
    size_t n = 0;
    char buf[512];
    for (;;) {
        ssize_t k = read(pfd[0], buf, sizeof buf);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) break;
        for (ssize_t i = 0; i < k && n + 1 < cap; i++) out[n++] = buf[i];
    }
    out[n] = 0;
    close(pfd[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return wb_err_set(e, errno, "waitpid: %s", strerror(errno));
    while (n && (out[n - 1] == '\n' || out[n - 1] == '\r')) out[--n] = 0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char *nl = strchr(out, '\n');
        if (nl) *nl = 0;
        return wb_err_set(e, WB_EIO, "%s failed (exit status %d): %s", argv[0],
                          WIFEXITED(status) ? WEXITSTATUS(status) : -1, out[0] ? out : "(no output)");
    }
    return 0;
}

/* The common #SBATCH lines. */
static void header(wb_sbuf *s, const wb_slurm_opts *o, const char *name) {
    wb_sb_printf(s, "#!/bin/sh\n# written by wordbench search for %s (see docs/slurm.md)\n", o->run_dir);
    wb_sb_printf(s, "#SBATCH --job-name=%s\n#SBATCH --cpus-per-task=%zu\n", name, o->cpus);
    if (o->partition) wb_sb_printf(s, "#SBATCH --partition=%s\n", o->partition);
    if (o->time) wb_sb_printf(s, "#SBATCH --time=%s\n", o->time);
}

/* Submit a script; the job id (before any ';cluster') into id. */
static int sbatch(const wb_slurm_opts *o, const char *script, const char *dependency, char *id, size_t cap, wb_err *e) {
    char dep[4096];
    char *argv[6];
    int a = 0;
    argv[a++] = (char *)(o->sbatch ? o->sbatch : "sbatch");
    argv[a++] = "--parsable";
    if (dependency) {
        snprintf(dep, sizeof dep, "--dependency=afterany:%s", dependency);
        argv[a++] = dep;
    }
    argv[a++] = (char *)script;
    argv[a] = NULL;
    char out[1024];
    int rc = run_capture(argv, out, sizeof out, e);
    if (rc) return rc;
    char *semi = strchr(out, ';');
    if (semi) *semi = 0;
    size_t l = strlen(out);
    if (!l || l >= cap || strspn(out, "0123456789") != l)
        return wb_err_set(e, WB_EIO, "sbatch printed '%.200s', not a job id", out);
    memcpy(id, out, l + 1);
    return 0;
}

int wb_slurm_submit(const wb_slurm_opts *o, const size_t *trials, size_t n, size_t refit_trial, char *jobids,
                    size_t cap, wb_err *e) {
    if (cap) jobids[0] = 0;
    if (!plain_path(o->run_dir) || !plain_path(o->exe))
        return wb_err_set(e, WB_EUSAGE, "Slurm submission needs RUN_DIR and the wordbench path without blanks or quotes ('%s', '%s')",
                          o->run_dir, o->exe);
    if (!o->cpus) return wb_err_set(e, WB_EUSAGE, "cpus per task must be >= 1");
    if ((o->partition && !plain_path(o->partition)) || (o->time && !plain_path(o->time)))
        return wb_err_set(e, WB_EUSAGE, "partition and time must hold no blanks or quotes");
    size_t dl = strlen(o->run_dir) + 64;
    char *dir = malloc(dl), *path = malloc(dl + 32);
    if (!dir || !path) {
        free(dir), free(path);
        return wb_err_set(e, WB_ENOMEM, "out of memory");
    }
    int rc = 0;
    snprintf(dir, dl, "%s/slurm", o->run_dir);
    if (mkdir(dir, 0777) && errno != EEXIST) {
        rc = wb_err_at(e, errno, dir, 0, -1, "cannot create: %s", strerror(errno));
        goto done;
    }
    snprintf(path, dl + 32, "%s/tasks", o->run_dir);
    if (mkdir(path, 0777) && errno != EEXIST) {
        rc = wb_err_at(e, errno, path, 0, -1, "cannot create: %s", strerror(errno));
        goto done;
    }
    size_t k = 0; /* the first free submission number */
    for (;; k++) {
        struct stat sb;
        snprintf(path, dl + 32, "%s/submit-%zu.trials", dir, k);
        if (stat(path, &sb)) break;
    }
    wb_sbuf ids = {0};
    for (size_t first = 0; first < n; first += MAX_ARRAY, k++) {
        size_t m = n - first < MAX_ARRAY ? n - first : MAX_ARRAY;
        wb_sbuf list = {0}, sh = {0};
        for (size_t j = 0; j < m; j++) wb_sb_printf(&list, "%zu\n", trials[first + j]);
        header(&sh, o, "wordbench-search");
        wb_sb_printf(&sh, "#SBATCH --array=0-%zu\n#SBATCH --output=%s/%%A_%%a.out\n", m - 1, dir);
        wb_sb_printf(&sh, "trial=$(sed -n \"$((SLURM_ARRAY_TASK_ID + 1))p\" '%s/submit-%zu.trials')\n", dir, k);
        wb_sb_printf(&sh, "exec '%s' search --trial \"$trial\" '%s'\n", o->exe, o->run_dir);
        if (list.oom || sh.oom) rc = wb_err_set(e, WB_ENOMEM, "out of memory");
        snprintf(path, dl + 32, "%s/submit-%zu.trials", dir, k);
        if (!rc && (rc = write_text(path, list.p, list.n, 0))) wb_err_at(e, rc, path, 0, -1, "%s", strerror(rc));
        snprintf(path, dl + 32, "%s/submit-%zu.sh", dir, k);
        if (!rc && (rc = write_text(path, sh.p, sh.n, 1))) wb_err_at(e, rc, path, 0, -1, "%s", strerror(rc));
        free(list.p), free(sh.p);
        char id[64];
        if (!rc) rc = sbatch(o, path, NULL, id, sizeof id, e);
        if (rc) break;
        wb_sb_printf(&ids, "%s%s", ids.n ? ":" : "", id);
    }
    if (!rc && refit_trial != (size_t)-1) {
        wb_sbuf sh = {0};
        header(&sh, o, "wordbench-refit");
        wb_sb_printf(&sh, "#SBATCH --output=%s/%%j.out\n", dir);
        wb_sb_printf(&sh, "exec '%s' search --trial %zu '%s'\n", o->exe, refit_trial, o->run_dir);
        snprintf(path, dl + 32, "%s/submit-%zu-refit.sh", dir, k ? k - 1 : 0);
        if (sh.oom) rc = wb_err_set(e, WB_ENOMEM, "out of memory");
        else if ((rc = write_text(path, sh.p, sh.n, 1))) wb_err_at(e, rc, path, 0, -1, "%s", strerror(rc));
        free(sh.p);
        char id[64];
        if (!rc) rc = sbatch(o, path, ids.n ? ids.p : NULL, id, sizeof id, e);
        if (!rc) wb_sb_printf(&ids, "%s%s", ids.n ? ":" : "", id);
    }
    if (!rc && ids.p && cap) {
        snprintf(jobids, cap, "%s", ids.p);
        for (char *q = jobids; *q; q++)
            if (*q == ':') *q = ' ';
    }
    free(ids.p);
done:
    free(dir), free(path);
    return rc;
}
