/*
 * json.h (internal) — the JSON the library writes and reads back: a growing
 * string buffer with JSON string and number output, and a strict RFC 8259
 * parser into a small tree.  Used by the experiment layer's files (a
 * search's plan.json and its trial log, whose lines are untrusted input:
 * tests/fuzz/fuzz_triallog.c).
 *
 * Parser limits: nesting depth 64, and a document is parsed from a length
 * (no NUL needed; a NUL byte inside is an error).  Strings are decoded
 * (escapes, surrogate pairs) and must be valid UTF-8; numbers go through
 * strtod in the C locale's format (JSON's grammar is checked first, so
 * "0x1", "inf", "1." are refused).  Duplicate keys are kept (wb_json_get
 * returns the first).  Leaves out: streaming, writing a tree back.
 */
#ifndef WB_JSON_H
#define WB_JSON_H

#include <stddef.h>
#include <stdint.h>

/* ---- output ---------------------------------------------------------------- */

/* A growing NUL-terminated buffer.  Zero-initialise; on allocation failure
 * `oom` is set and later writes do nothing.  Release p with free(). */
typedef struct wb_sbuf {
    char *p;      /* bytes, NUL-terminated (NULL while empty) */
    size_t n;     /* length */
    size_t cap;   /* allocated */
    int oom;      /* 1 after an allocation failed */
} wb_sbuf;

void wb_sb_put(wb_sbuf *s, const char *p, size_t n);
void wb_sb_puts(wb_sbuf *s, const char *p);
void wb_sb_printf(wb_sbuf *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A JSON string with quotes; bytes that are not valid UTF-8 become U+FFFD. */
void wb_sb_json_str(wb_sbuf *s, const char *p, size_t n);
/* A number as %.17g (round-trips a double exactly); NaN and Inf as null. */
void wb_sb_json_num(wb_sbuf *s, double v);

/* ---- checked objects --------------------------------------------------------------
 * A file or line the library reads back carries its own checksum as the
 * object's last member: {..., "check": "<16 hex digits>"}, the digits being
 * XXH3-64 of every byte before ", \"check\"".  A torn or edited copy fails
 * the check before any of it is parsed. */

/* Close the object in s with its check member; returns the hash (0 and
 * s->oom set when out of memory). */
uint64_t wb_sb_json_check(wb_sbuf *s);

/* Does s[0..len) (one trailing '\n' allowed) end with a check member that
 * matches?  0 yes (*hash the hash, *body the bytes it covers; *body is set
 * on a mismatch too), 1 there is
 * no check member at the end (torn, or not a checked object), 2 the hash
 * differs.  hash and body may be NULL. */
int wb_json_check(const char *s, size_t len, uint64_t *hash, size_t *body);

/* 16 lower-case hex digits (as the check member and ids are written) to a
 * number: 0, or -1 when n != 16 or a digit is not one. */
int wb_hex64(const char *s, size_t n, uint64_t *out);

/* ---- parsing ----------------------------------------------------------------- */

typedef enum wb_jtype { WB_JNULL = 0, WB_JBOOL, WB_JNUM, WB_JSTR, WB_JARR, WB_JOBJ } wb_jtype;

/* A parsed value.  Arrays and objects own their items; object members are
 * keys[i] -> items[i]. */
typedef struct wb_json {
    wb_jtype type;
    int b;                 /* WB_JBOOL */
    double num;            /* WB_JNUM */
    char *str;             /* WB_JSTR: decoded, NUL-terminated (may hold no NUL: refused) */
    size_t len;            /* its length */
    struct wb_json *items; /* WB_JARR, WB_JOBJ: n values */
    char **keys;           /* WB_JOBJ: n decoded keys */
    size_t n;
} wb_json;

/* Parse exactly one value (whitespace around it allowed) from s[0..len)
 * into *out (free with wb_json_free).  Returns 0, or -1 with *err_off the
 * byte offset of the problem and *err_msg a static description ("expected
 * ':'", "nesting deeper than 64", "out of memory", ...). */
int wb_json_parse(const char *s, size_t len, wb_json *out, size_t *err_off, const char **err_msg);

/* Release what a parse allocated (the struct itself is the caller's). */
void wb_json_free(wb_json *j);

/* Member `key` of an object, or NULL (not an object, or no such key). */
const wb_json *wb_json_get(const wb_json *obj, const char *key);

#endif
