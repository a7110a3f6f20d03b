/*
 * sgemm_rate.c — the sgemm rate a `wordbench train` run reaches, next to the
 * machine's single-threaded OpenBLAS rate at the same shapes (issue 12).
 *
 * Built twice from this one file (tools/bench/bench_train.sh --sgemm does it):
 *
 *   cc -O2 -DSGEMM_SHIM -shared -fPIC sgemm_rate.c -o libsgemm_shim.so -ldl
 *       An LD_PRELOAD shim: it interposes cblas_sgemm, forwards every call to
 *       OpenBLAS (dlsym RTLD_NEXT) and charges the calling thread's CPU time
 *       (CLOCK_THREAD_CPUTIME_ID, robust on a loaded machine) and 2·M·N·K
 *       flops to the call's shape.  At exit a process that called sgemm writes
 *       $WB_SGEMM_LOG: one line per shape, and a last line with the process's
 *       whole CPU time (getrusage, user + sys) so the sgemm share is known.
 *       Shapes group M (the distinct rows of a lane's minibatch in the
 *       projected convolution: it varies from step to step) in buckets of 64.
 *
 *   cc -O2 sgemm_rate.c -o sgemm_rate $(pkg-config --cflags --libs openblas)
 *       sgemm_rate LOG: for each shape of the log (M at the bucket's mean),
 *       times OpenBLAS sgemm with one thread on random matrices of that shape
 *       and those leading dimensions, the best of 3 trials of >= 0.05 s of CPU time,
 *       and prints a markdown table: flops and CPU seconds inside the run,
 *       the run's GFLOP/s, the replay's GFLOP/s and their ratio, per family
 *       (N, K, transposes, leading dimensions) and for all shapes together
 *       (the replay's rate for the run's mix = total flops / Σ flops_i/rate_i).
 *
 * Not here: saxpy (the projected convolution's backward is saxpys over the
 * argmax windows: see perf), other BLAS levels, multi-threaded BLAS.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>

#define MBUCKET 64

static double thread_cpu(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#ifdef SGEMM_SHIM
#include <dlfcn.h>
#include <pthread.h>
#include <sys/resource.h>

typedef struct shape {
    int order, ta, tb, mb, n, k, lda, ldb, ldc;
    long long calls;
    double msum, flops, secs;
} shape;

#define MAXSHAPES 4096
static shape g_sh[MAXSHAPES];
static int g_nsh;
static long long g_dropped;
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;

typedef void (*sgemm_fn)(const enum CBLAS_ORDER, const enum CBLAS_TRANSPOSE, const enum CBLAS_TRANSPOSE, const blasint,
                         const blasint, const blasint, const float, const float *, const blasint, const float *,
                         const blasint, const float, float *, const blasint);

void cblas_sgemm(const enum CBLAS_ORDER order, const enum CBLAS_TRANSPOSE ta, const enum CBLAS_TRANSPOSE tb,
                 const blasint m, const blasint n, const blasint k, const float alpha, const float *a, const blasint lda,
                 const float *b, const blasint ldb, const float beta, float *c, const blasint ldc) {
    static sgemm_fn real;
    if (!real) real = (sgemm_fn)dlsym(RTLD_NEXT, "cblas_sgemm");
    double t0 = thread_cpu();
    real(order, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    double dt = thread_cpu() - t0;
    int mb = (int)(m / MBUCKET);
    pthread_mutex_lock(&g_mu);
    int i = 0;
    while (i < g_nsh && !(g_sh[i].order == (int)order && g_sh[i].ta == (int)ta && g_sh[i].tb == (int)tb &&
                          g_sh[i].mb == mb && g_sh[i].n == n && g_sh[i].k == k && g_sh[i].lda == lda &&
                          g_sh[i].ldb == ldb && g_sh[i].ldc == ldc))
        i++;
    if (i == g_nsh && g_nsh < MAXSHAPES) {
        g_sh[i] = (shape){(int)order, (int)ta, (int)tb, mb, n, k, lda, ldb, ldc, 0, 0, 0, 0};
        g_nsh++;
    }
    if (i < g_nsh) {
        g_sh[i].calls++;
        g_sh[i].msum += m;
        g_sh[i].flops += 2.0 * m * n * k;
        g_sh[i].secs += dt;
    } else {
        g_dropped++;
    }
    pthread_mutex_unlock(&g_mu);
}

__attribute__((destructor)) static void shim_report(void) {
    const char *path = getenv("WB_SGEMM_LOG");
    if (!path || !g_nsh) return;
    FILE *f = fopen(path, "w");
    if (!f) return;
    fprintf(f, "# order ta tb m_mean n k lda ldb ldc calls flops cpu_s\n");
    for (int i = 0; i < g_nsh; i++) {
        const shape *s = &g_sh[i];
        fprintf(f, "%d %d %d %.1f %d %d %d %d %d %lld %.6e %.6f\n", s->order, s->ta, s->tb, s->msum / (double)s->calls,
                s->n, s->k, s->lda, s->ldb, s->ldc, s->calls, s->flops, s->secs);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_sec +
                 1e-6 * (double)ru.ru_stime.tv_usec;
    fprintf(f, "process_cpu_s %.6f dropped_calls %lld\n", cpu, g_dropped);
    fclose(f);
}

#else /* the replay */

typedef struct row {
    int order, ta, tb, n, k, lda, ldb, ldc;
    double m, flops, secs;
    long long calls;
} row;

/* Time sgemm at one shape (m rounded) with one thread: GFLOP/s, the best of 3 trials of >= 0.05 s CPU. */
static double replay(const row *r) {
    int m = (int)(r->m + 0.5), n = r->n, k = r->k;
    if (m < 1) m = 1;
    int rm = r->order == CblasRowMajor;
    /* Rows × columns of the stored A, B, C for these transposes and order. */
    size_t ar = rm ? (r->ta == CblasNoTrans ? m : k) : (r->ta == CblasNoTrans ? k : m);
    size_t br = rm ? (r->tb == CblasNoTrans ? k : n) : (r->tb == CblasNoTrans ? n : k);
    size_t cr = rm ? m : n;
    /* the run's lda may be larger than the shape needs (a strided view): keep it */
    size_t asz = ar * (size_t)r->lda, bsz = br * (size_t)r->ldb, csz = cr * (size_t)r->ldc;
    float *a = malloc(asz * sizeof *a), *b = malloc(bsz * sizeof *b), *c = malloc(csz * sizeof *c);
    if (!a || !b || !c) {
        free(a), free(b), free(c);
        return 0;
    }
    unsigned x = 12345;
    for (size_t i = 0; i < asz; i++) a[i] = (float)((x = x * 1103515245u + 12345u) >> 16) / 65536.0f - 0.5f;
    for (size_t i = 0; i < bsz; i++) b[i] = (float)((x = x * 1103515245u + 12345u) >> 16) / 65536.0f - 0.5f;
    memset(c, 0, csz * sizeof *c);
    double fl = 2.0 * m * n * k, best = 0;
    cblas_sgemm(r->order, r->ta, r->tb, m, n, k, 1.0f, a, r->lda, b, r->ldb, 0.0f, c, r->ldc); /* warm */
    /* best of 3 trials of >= 0.05 s: on a shared machine a trial can lose its cache or its core */
    for (int trial = 0; trial < 3; trial++) {
        double done = 0, t = 0;
        while (t < 0.05) {
            double t0 = thread_cpu();
            for (int i = 0; i < 8; i++)
                cblas_sgemm(r->order, r->ta, r->tb, m, n, k, 1.0f, a, r->lda, b, r->ldb, 0.0f, c, r->ldc);
            t += thread_cpu() - t0;
            done += 8 * fl;
        }
        if (done / t > best) best = done / t;
    }
    free(a), free(b), free(c);
    return best / 1e9;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: sgemm_rate LOG   (LOG written by libsgemm_shim.so via WB_SGEMM_LOG)\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "r");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    openblas_set_num_threads(1);
    row *rows = NULL;
    size_t nr = 0, cap = 0;
    double pcpu = 0;
    char line[512];
    int ln = 0;
    while (fgets(line, sizeof line, f)) {
        ln++;
        if (line[0] == '#') continue;
        if (!strncmp(line, "process_cpu_s", 13)) {
            sscanf(line, "process_cpu_s %lf", &pcpu);
            continue;
        }
        row r;
        if (sscanf(line, "%d %d %d %lf %d %d %d %d %d %lld %lf %lf", &r.order, &r.ta, &r.tb, &r.m, &r.n, &r.k, &r.lda,
                   &r.ldb, &r.ldc, &r.calls, &r.flops, &r.secs) != 12) {
            fprintf(stderr, "%s:%d: not a shape line\n", argv[1], ln);
            fclose(f);
            free(rows);
            return 1;
        }
        if (nr == cap && !(rows = realloc(rows, (cap = cap ? 2 * cap : 64) * sizeof *rows))) {
            fclose(f);
            return 1;
        }
        rows[nr++] = r;
    }
    fclose(f);
    if (!nr) {
        fprintf(stderr, "%s: no sgemm calls recorded\n", argv[1]);
        free(rows);
        return 1;
    }
    /* Families: the same (order, ta, tb, n, k, lda, ldb, ldc) over every M bucket. */
    printf("| sgemm family (M × N × K, transposes, lda/ldb/ldc) | calls | GFLOP | share of process CPU | in the run GFLOP/s"
           " | replay 1 thread GFLOP/s | run / replay |\n|---|---:|---:|---:|---:|---:|---:|\n");
    double tf = 0, ts = 0, tideal = 0, of = 0, os = 0, oideal = 0, all = 0;
    long long ocalls = 0;
    for (size_t i = 0; i < nr; i++) all += rows[i].flops;
    int *done = calloc(nr, sizeof *done);
    for (size_t i = 0; i < nr; i++) {
        if (done[i]) continue;
        double ff = 0, fs = 0, fideal = 0, mlo = 1e30, mhi = 0;
        long long calls = 0;
        for (size_t j = i; j < nr; j++) {
            const row *a = &rows[i], *b = &rows[j];
            if (done[j] || a->order != b->order || a->ta != b->ta || a->tb != b->tb || a->n != b->n || a->k != b->k ||
                a->lda != b->lda || a->ldb != b->ldb || a->ldc != b->ldc)
                continue;
            done[j] = 1;
            double g = replay(b);
            ff += b->flops, fs += b->secs, calls += b->calls;
            if (g > 0) fideal += b->flops / (g * 1e9);
            if (b->m < mlo) mlo = b->m;
            if (b->m > mhi) mhi = b->m;
        }
        const row *a = &rows[i];
        tf += ff, ts += fs, tideal += fideal;
        if (ff < 0.01 * all) { /* the small ones (dense layers): one line */
            of += ff, os += fs, oideal += fideal, ocalls += calls;
            continue;
        }
        printf("| %.0f–%.0f × %d × %d, %s%s, %d/%d/%d | %lld | %.2f | %.1f%% | %.2f | %.2f | %.0f%% |\n", mlo, mhi,
               a->n, a->k, a->ta == CblasNoTrans ? "N" : "T", a->tb == CblasNoTrans ? "N" : "T", a->lda, a->ldb,
               a->ldc, calls, ff / 1e9, pcpu > 0 ? 100.0 * fs / pcpu : 0, fs > 0 ? ff / fs / 1e9 : 0,
               fideal > 0 ? ff / fideal / 1e9 : 0, fs > 0 && fideal > 0 ? 100.0 * fideal / fs : 0);
    }
    if (ocalls)
        printf("| the others (each < 1%% of the flops) | %lld | %.2f | %.1f%% | %.2f | %.2f | %.0f%% |\n", ocalls, of / 1e9,
               pcpu > 0 ? 100.0 * os / pcpu : 0, os > 0 ? of / os / 1e9 : 0, oideal > 0 ? of / oideal / 1e9 : 0,
               os > 0 && oideal > 0 ? 100.0 * oideal / os : 0);
    free(done);
    printf("| all sgemms | | %.2f | %.1f%% | %.2f | %.2f | %.0f%% |\n", tf / 1e9, pcpu > 0 ? 100.0 * ts / pcpu : 0,
           ts > 0 ? tf / ts / 1e9 : 0, tideal > 0 ? tf / tideal / 1e9 : 0, ts > 0 ? 100.0 * tideal / ts : 0);
    printf("\nprocess CPU %.2f s (user + sys), of which %.2f s inside sgemm\n", pcpu, ts);
    free(rows);
    return 0;
}
#endif
