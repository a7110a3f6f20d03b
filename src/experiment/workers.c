/*
 * workers.c — running a search's trials in forked worker processes
 * (search.h, wb_search_workers).  The workers share one page of anonymous
 * shared memory with the parent: the next trial to claim, counters, the
 * stop flag and the first failure.  Leaves out remote workers (Slurm runs
 * `wordbench search --trial I` instead: slurm.c).
 */
#include "wordbench/search.h"
#include "wordbench/clock.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "wordbench/triallog.h"

typedef struct shared {
    size_t next;           /* next index into trials[] to claim (atomic) */
    size_t done;           /* trials logged (atomic) */
    size_t running;        /* trials being trained (atomic) */
    size_t stopped;        /* trials stopped before the end (atomic) */
    int stop;              /* 1: stop at the next minibatch (atomic) */
    int failed;            /* 1 once err holds the first failure (atomic flag) */
    int err_rc;            /* its code */
    wb_err err;            /* the first failure */
} shared;

typedef struct wctx {
    shared *sh;
    double deadline;
    volatile sig_atomic_t *stop;
} wctx;

static int worker_should_stop(void *p) {
    wctx *w = p;
    if (__atomic_load_n(&w->sh->stop, __ATOMIC_RELAXED)) return 1;
    if (w->stop && *w->stop) return 1;
    return w->deadline > 0 && wb_clock_s() >= w->deadline;
}

/* Record the first failure (later ones are dropped) and stop everybody. */
static void record_failure(shared *sh, int rc, const wb_err *e) {
    int expected = 0;
    if (__atomic_compare_exchange_n(&sh->failed, &expected, 1, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
        sh->err = *e;
        sh->err_rc = rc;
    }
    __atomic_store_n(&sh->stop, 1, __ATOMIC_SEQ_CST);
}

/* The body of a worker process; never returns. */
static void worker(const size_t *trials, size_t n, const wb_workers_opts *o, wb_trial_fn fn, void *ctx, shared *sh,
                   pid_t parent) {
    /* A worker never outlives the search: kill -9 of the parent takes the
     * workers with it, so a re-run never races with orphans over the log. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(1);
    wctx w = {.sh = sh, .deadline = o->deadline, .stop = o->stop};
    for (;;) {
        if (worker_should_stop(&w)) break;
        size_t i = __atomic_fetch_add(&sh->next, 1, __ATOMIC_SEQ_CST);
        if (i >= n) break;
        size_t t = trials[i];
        __atomic_fetch_add(&sh->running, 1, __ATOMIC_SEQ_CST);
        wb_trial_result r;
        int stopped = 0;
        wb_err e;
        wb_err_clear(&e);
        int rc = fn(ctx, t, worker_should_stop, &w, &stopped, &r, &e);
        if (!rc && !stopped) rc = wb_triallog_append(o->log_path, &r, o->plan_id, &e);
        __atomic_fetch_sub(&sh->running, 1, __ATOMIC_SEQ_CST);
        if (rc) {
            wb_err named = e;
            char buf[sizeof e.msg];
            snprintf(buf, sizeof buf, "trial %zu: %.990s", t, e.msg);
            memcpy(named.msg, buf, sizeof named.msg);
            if (!named.code) named.code = rc;
            record_failure(sh, rc, &named);
            _exit(1);
        }
        if (stopped) __atomic_fetch_add(&sh->stopped, 1, __ATOMIC_SEQ_CST);
        else __atomic_fetch_add(&sh->done, 1, __ATOMIC_SEQ_CST), wb_trial_result_free(&r);
    }
    _exit(0);
}

int wb_search_workers(const size_t *trials, size_t n, const wb_workers_opts *o, wb_trial_fn fn, void *ctx,
                      wb_workers_stats *st, wb_err *e) {
    memset(st, 0, sizeof *st);
    if (!n) return 0;
    size_t jobs = o->jobs ? o->jobs : 1;
    if (jobs > n) jobs = n;
    shared *sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED) return wb_err_set(e, errno, "cannot map the workers' shared page: %s", strerror(errno));
    memset(sh, 0, sizeof *sh);
    pid_t *pids = calloc(jobs, sizeof *pids);
    if (!pids) {
        munmap(sh, sizeof *sh);
        return wb_err_set(e, WB_ENOMEM, "out of memory");
    }
    fflush(NULL); /* nothing buffered is written twice */
    size_t alive = 0;
    int rc = 0;
    pid_t self = getpid();
    for (size_t j = 0; j < jobs; j++) {
        pid_t pid = fork();
        if (pid == 0) worker(trials, n, o, fn, ctx, sh, self);
        if (pid < 0) {
            rc = wb_err_set(e, errno, "cannot start a worker process: %s", strerror(errno));
            __atomic_store_n(&sh->stop, 1, __ATOMIC_SEQ_CST);
            break;
        }
        pids[j] = pid, alive++;
    }
    char died[256] = "";
    int died_rc = 0;
    while (alive) {
        int status;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid < 0 && errno == EINTR) continue;
        if (pid < 0) break; /* no children left */
        if (pid == 0) {
            if (o->stop && *o->stop) __atomic_store_n(&sh->stop, 1, __ATOMIC_SEQ_CST);
            if (o->progress)
                o->progress(o->progress_ctx, __atomic_load_n(&sh->done, __ATOMIC_SEQ_CST),
                            __atomic_load_n(&sh->running, __ATOMIC_SEQ_CST), n);
            struct timespec ts = {0, 100 * 1000 * 1000};
            nanosleep(&ts, NULL);
            continue;
        }
        for (size_t j = 0; j < jobs; j++)
            if (pids[j] == pid) pids[j] = 0, alive--;
        int clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        if (!clean && !__atomic_load_n(&sh->failed, __ATOMIC_SEQ_CST) && !died[0]) {
            /* died without saying why (a signal: OOM killer, kill -9) */
            if (WIFSIGNALED(status))
                snprintf(died, sizeof died, "worker process %d was killed by signal %d (%s)", (int)pid, WTERMSIG(status),
                         strsignal(WTERMSIG(status)));
            else
                snprintf(died, sizeof died, "worker process %d exited with status %d", (int)pid,
                         WIFEXITED(status) ? WEXITSTATUS(status) : -1);
            died_rc = WB_EIO;
            __atomic_store_n(&sh->stop, 1, __ATOMIC_SEQ_CST);
        }
    }
    if (o->progress) o->progress(o->progress_ctx, sh->done, 0, n);
    st->done = sh->done;
    st->stopped = sh->stopped;
    st->interrupted = o->stop && *o->stop;
    st->timed_out = o->deadline > 0 && wb_clock_s() >= o->deadline;
    if (!rc && sh->failed) {
        rc = sh->err_rc;
        if (e) *e = sh->err;
    } else if (!rc && died_rc) {
        rc = wb_err_set(e, died_rc, "%s", died);
    }
    free(pids);
    munmap(sh, sizeof *sh);
    return rc;
}
