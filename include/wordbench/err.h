/*
 * wordbench/err.h — error codes and the caller-owned error record.
 *
 * Every library function that can fail returns an int: 0 on success, a
 * negative WB_E* code from the block below, or a positive errno value passed
 * through unchanged.  wb_strerror() names both kinds.  Functions that can say
 * more take a caller-owned `wb_err *` (may be NULL) and fill it at the failure
 * site with the data file, line or byte offset, and a message that names what
 * was expected and what was found.  The library never prints and never exits:
 * the caller decides what to show and which exit status to use.
 *
 * Foreign errors (LMDB, zlib) are wrapped as WB_ELMDB / WB_EIO with the foreign
 * library's text in the message; they never leak as foreign codes.
 */
#ifndef WORDBENCH_ERR_H
#define WORDBENCH_ERR_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* wordbench's own codes: one negative block, far from LMDB's (-30799..-30780). */
enum {
    WB_OK = 0,
    WB_EFORMAT = -30900, /* input data is malformed (location in wb_err) */
    WB_EUSAGE,           /* an argument or option is out of range */
    WB_EEXIST,           /* the target exists and --force was not given */
    WB_ENOTFOUND,        /* a word or row is not in the store */
    WB_ECORRUPT,         /* a store or model file is damaged or truncated */
    WB_EVERSION,         /* a file has a format version this build cannot read */
    WB_ELMDB,            /* LMDB reported an error (its text in wb_err) */
    WB_ENOMEM,           /* out of memory */
    WB_EEMPTY,           /* the input holds no vectors */
    WB_EDUP,             /* duplicate word with --duplicates error */
    WB_EIO,              /* an I/O or decompression failure not covered by errno */
    WB_ELAST             /* one past the last code */
};

/* The detail record. Caller-owned; the library only writes it on failure. */
typedef struct wb_err {
    int code;           /* the code also returned by the failing function */
    char file[512];     /* data file the error is about, "" when none */
    long long line;     /* 1-based line in `file`, 0 when not applicable */
    long long offset;   /* byte offset in `file` (binary input), -1 when n/a */
    char msg[1024];     /* message without the location prefix */
} wb_err;

/* Name of a code: wordbench's own, else strerror() of a positive errno. */
const char *wb_strerror(int code);

/* Reset `e` to "no error" (code 0, empty strings, line 0, offset -1). */
void wb_err_clear(wb_err *e);

/* Fill `e` (if not NULL) with `code` and a printf-style message, no location.
 * Returns `code` so failure sites can write `return wb_err_set(...)`. */
int wb_err_set(wb_err *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Like wb_err_set, with a location: `file` (may be NULL), `line` (0 = none),
 * `offset` (-1 = none). */
int wb_err_at(wb_err *e, int code, const char *file, long long line,
              long long offset, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* Render "file:line: msg", "file: byte N: msg", "file: msg" or "msg" into
 * buf (always NUL-terminated).  Returns buf. */
char *wb_err_format(const wb_err *e, char *buf, size_t n);

#ifdef __cplusplus
}
#endif
#endif /* WORDBENCH_ERR_H */
