/*
 * err.c — wordbench error codes and the wb_err detail record.
 * Contains: code names, setters, the "file:line: msg" renderer.
 * Leaves out: printing; the CLI decides where messages go.
 */
#include "wordbench/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const wb_names[] = {
    "malformed input",                    /* WB_EFORMAT */
    "invalid argument",                   /* WB_EUSAGE */
    "target exists (use --force to replace it)", /* WB_EEXIST */
    "not found",                          /* WB_ENOTFOUND */
    "store or file is corrupt",           /* WB_ECORRUPT */
    "unsupported format version",         /* WB_EVERSION */
    "LMDB error",                         /* WB_ELMDB */
    "out of memory",                      /* WB_ENOMEM */
    "input holds no vectors",             /* WB_EEMPTY */
    "duplicate word",                     /* WB_EDUP */
    "I/O error",                          /* WB_EIO */
};

const char *wb_strerror(int code) {
    if (code == 0) return "success";
    if (code >= WB_EFORMAT && code < WB_ELAST) return wb_names[code - WB_EFORMAT];
    if (code > 0) return strerror(code);
    return "unknown error";
}

void wb_err_clear(wb_err *e) {
    if (!e) return;
    e->code = 0;
    e->file[0] = 0;
    e->line = 0;
    e->offset = -1;
    e->msg[0] = 0;
}

/* The file and message are formatted into locals first: an argument may be
 * e->file or e->msg itself (a caller adding context to an error it got),
 * and vsnprintf's source and target must not overlap. */
static void wb_err_vfill(wb_err *e, int code, const char *file, long long line,
                         long long offset, const char *fmt, va_list ap) {
    char f[sizeof e->file], m[sizeof e->msg];
    snprintf(f, sizeof f, "%s", file ? file : "");
    vsnprintf(m, sizeof m, fmt, ap);
    e->code = code;
    memcpy(e->file, f, strlen(f) + 1);
    e->line = line;
    e->offset = offset;
    memcpy(e->msg, m, strlen(m) + 1);
}

int wb_err_set(wb_err *e, int code, const char *fmt, ...) {
    if (!e) return code;
    va_list ap;
    va_start(ap, fmt);
    wb_err_vfill(e, code, NULL, 0, -1, fmt, ap);
    va_end(ap);
    return code;
}

int wb_err_at(wb_err *e, int code, const char *file, long long line,
              long long offset, const char *fmt, ...) {
    if (!e) return code;
    va_list ap;
    va_start(ap, fmt);
    wb_err_vfill(e, code, file, line, offset, fmt, ap);
    va_end(ap);
    return code;
}

char *wb_err_format(const wb_err *e, char *buf, size_t n) {
    if (!n) return buf;
    const char *msg = e->msg[0] ? e->msg : wb_strerror(e->code);
    if (e->file[0] && e->line > 0)
        snprintf(buf, n, "%s:%lld: %s", e->file, e->line, msg);
    else if (e->file[0] && e->offset >= 0)
        snprintf(buf, n, "%s: byte %lld: %s", e->file, e->offset, msg);
    else if (e->file[0])
        snprintf(buf, n, "%s: %s", e->file, msg);
    else
        snprintf(buf, n, "%s", msg);
    return buf;
}
