/*
 * wordbench/kv.h — "key value" text, the format of the small texts inside
 * wordbench's files: the model's configuration (model file section CONF),
 * a bundle's preprocessing options (META) and the trainer's state (TRST).
 * One pair a line: the key (no space, no newline), one space, the value
 * to the end of the line.  Values are escaped so that any bytes
 * round-trip: every byte below 0x21 (space, tab, newline, ...), '%' and
 * 0x7F is written as %XX (two upper-case hex digits); a value without such
 * bytes is written as it is.  Keys may repeat (a bundle's "label" lines).
 *
 * Writing grows one malloc'd buffer (wb_kv); an allocation failure is
 * remembered and reported once, by wb_kv_take.  Reading works on the text
 * as it is (wb_kv_get: the first value of a key) or splits a mutable copy
 * in place (wb_kv_split: every pair in order).
 *
 * Leaves out: comments, quoting, nesting, duplicate-key policies (callers
 * decide: the first wins for wb_kv_get).
 */
#ifndef WORDBENCH_KV_H
#define WORDBENCH_KV_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A text being written.  Start zeroed ({0}) or with wb_kv_init. */
typedef struct wb_kv {
    char *p;      /* the text, NUL-terminated (owned; NULL while empty) */
    size_t n;     /* bytes used */
    size_t cap;   /* bytes allocated */
    int oom;      /* an allocation failed: the text is incomplete */
} wb_kv;

void wb_kv_init(wb_kv *k);
/* Append "key value\n" with the n bytes of v escaped. */
void wb_kv_put(wb_kv *k, const char *key, const char *v, size_t n);
/* Append n bytes of text that already are "key value" lines (a META
 * written earlier, say), as they are. */
void wb_kv_append(wb_kv *k, const char *text, size_t n);
/* The same for a NUL-terminated value. */
void wb_kv_puts(wb_kv *k, const char *key, const char *v);
/* The same for a value formatted by printf (then escaped). */
void wb_kv_putf(wb_kv *k, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The text (NUL-terminated; *len, when not NULL, its length without the
 * NUL), now the caller's to free(); the wb_kv is empty again.  NULL when an
 * allocation failed on the way (nothing to free then). */
char *wb_kv_take(wb_kv *k, size_t *len);
/* Release the text of an abandoned wb_kv. */
void wb_kv_free(wb_kv *k);

/* The value of the first line whose key is `key` in text s (len bytes, no
 * NUL needed), unescaped into out (cap bytes, NUL-terminated); *vlen (may
 * be NULL) gets its length (a value may hold NUL bytes).  0, or -1 when
 * the key is missing, the value does not fit or has a bad escape. */
int wb_kv_get(const char *s, size_t len, const char *key, char *out, size_t cap, size_t *vlen);

/* The next pair of a mutable NUL-terminated text, split in place: *cur
 * starts at the text and moves on; *key and *val point into the text (both
 * NUL-terminated, the value unescaped; *vlen its length).  Returns 1 for a
 * pair, 0 at the end, -1 for a malformed line (no space, bad escape). */
int wb_kv_split(char **cur, char **key, char **val, size_t *vlen);

/* Unescape %XX in the NUL-terminated v in place; the new length, or -1 on
 * a bad escape ('%' not followed by two hex digits). */
long wb_kv_unescape(char *v);

#ifdef __cplusplus
}
#endif
#endif /* WORDBENCH_KV_H */
