/*
 * export.c — write a store back out as GloVe text, word2vec text or word2vec
 * binary (see wb_export in wordbench/convert.h).
 *
 * Text values use the shortest "%.{6..9}g" that strtof reads back to the
 * same bits, so convert → export → convert reproduces every value (NaN
 * payloads excepted: text has only "nan").  The output goes to a temporary
 * sibling that is renamed into place; "-" writes to stdout.
 * Leaves out: formats other than the three the converter reads.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wordbench/convert.h"
#include "wordbench/floatparse.h"

/* Shortest round-trip text of f into b; returns its length. */
static int fmt_float(char *b, size_t cap, float f) {
    if (f == 0) return snprintf(b, cap, signbit(f) ? "-0" : "0");
    for (int p = 6; p <= 9; p++) {
        int n = snprintf(b, cap, "%.*g", p, (double)f);
        float back;
        if (wb_parse_f32(b, (size_t)n, &back) && (memcmp(&back, &f, 4) == 0 || (isnan(f) && isnan(back))))
            return n;
    }
    return snprintf(b, cap, "%.9g", (double)f);
}

int wb_export(wb_store *st, const char *output, wb_format format,
              void (*progress)(void *ud, uint64_t done, uint64_t total),
              void *ud, wb_err *err) {
    if (format == WB_FMT_AUTO) return wb_err_set(err, WB_EUSAGE, "choose an export format");
    const wb_store_info *in = wb_store_info_get(st);
    const size_t E = in->dim;
    const int to_stdout = !strcmp(output, "-");
    char tmp[4200];
    FILE *f;
    if (to_stdout) {
        f = stdout;
    } else {
        /* hidden sibling: DIR/.NAME.wbtmp-PID */
        const char *slash = strrchr(output, '/');
        int dl = slash ? (int)(slash - output + 1) : 0;
        snprintf(tmp, sizeof tmp, "%.*s.%s.wbtmp-%ld", dl, output, output + dl, (long)getpid());
        f = fopen(tmp, "wbx");
        if (!f) return wb_err_at(err, errno, tmp, 0, -1, "cannot create: %s", strerror(errno));
    }
    static char obuf[1 << 20];
    setvbuf(f, obuf, _IOFBF, sizeof obuf);
    float *v = malloc(E * sizeof(float));
    int rc = v ? 0 : wb_err_set(err, WB_ENOMEM, "out of memory");
    if (!rc && format != WB_FMT_GLOVE) fprintf(f, "%" PRIu64 " %zu\n", in->rows, E);
    wb_store_advise(st, 1);
    char num[48];
    for (uint64_t r = 0; !rc && r < in->rows; r++) {
        const char *w;
        size_t wl;
        uint32_t row = (uint32_t)r;
        if ((rc = wb_store_word(st, row, &w, &wl))) {
            wb_err_set(err, rc, "row %" PRIu64 " has no word in the index", r);
            break;
        }
        if (format == WB_FMT_WORD2VEC_BIN && (memchr(w, ' ', wl) || (wl && w[0] == '\n'))) {
            rc = wb_err_set(err, WB_EFORMAT,
                            "row %" PRIu64 ": the word contains a space, which word2vec-bin cannot represent; "
                            "export as glove or word2vec text", r);
            break;
        }
        if (format != WB_FMT_WORD2VEC_BIN && (memchr(w, '\n', wl) || (wl && w[wl - 1] == '\r'))) {
            rc = wb_err_set(err, WB_EFORMAT, "row %" PRIu64 ": the word contains a line break; export as word2vec-bin", r);
            break;
        }
        wb_store_gather(st, 1, &row, v);
        fwrite(w, 1, wl, f);
        if (format == WB_FMT_WORD2VEC_BIN) {
            fputc(' ', f);
            fwrite(v, sizeof(float), E, f); /* little-endian host (docs/design.md) */
            fputc('\n', f);
        } else {
            for (size_t i = 0; i < E; i++) {
                num[0] = ' ';
                int n = fmt_float(num + 1, sizeof num - 1, v[i]);
                fwrite(num, 1, (size_t)n + 1, f);
            }
            fputc('\n', f);
        }
        if (progress && (r & 0xffff) == 0) progress(ud, r, in->rows);
    }
    wb_store_advise(st, 0);
    free(v);
    if (!rc && (fflush(f) || ferror(f))) rc = wb_err_set(err, errno ? errno : EIO, "writing: %s", strerror(errno));
    if (to_stdout) return rc;
    if (!rc && fsync(fileno(f))) rc = wb_err_set(err, errno, "fsync: %s", strerror(errno));
    if (fclose(f) && !rc) rc = wb_err_set(err, errno, "close: %s", strerror(errno));
    if (!rc && rename(tmp, output)) rc = wb_err_at(err, errno, output, 0, -1, "cannot rename into place: %s", strerror(errno));
    if (rc) unlink(tmp);
    if (!rc && progress) progress(ud, in->rows, in->rows);
    return rc;
}
