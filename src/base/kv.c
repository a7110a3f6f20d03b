/*
 * kv.c — "key value" text (wordbench/kv.h): escaped writing into a growing
 * buffer, look-up by key, in-place splitting.
 */
#include "wordbench/kv.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void wb_kv_init(wb_kv *k) { memset(k, 0, sizeof *k); }

static void put(wb_kv *k, const char *p, size_t n) {
    if (k->oom) return;
    if (k->n + n + 1 > k->cap) {
        size_t cap = (k->cap + n + 1) * 2;
        char *q = realloc(k->p, cap);
        if (!q) {
            k->oom = 1;
            return;
        }
        k->p = q, k->cap = cap;
    }
    memcpy(k->p + k->n, p, n);
    k->n += n;
    k->p[k->n] = 0;
}

void wb_kv_append(wb_kv *k, const char *text, size_t n) { put(k, text, n); }

void wb_kv_put(wb_kv *k, const char *key, const char *v, size_t n) {
    put(k, key, strlen(key));
    put(k, " ", 1);
    size_t run = 0; /* bytes that need no escape, copied in one go */
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)v[i];
        if (ch >= 0x21 && ch != '%' && ch != 0x7f) {
            run++;
            continue;
        }
        put(k, v + i - run, run);
        run = 0;
        char h[4];
        snprintf(h, sizeof h, "%%%02X", ch);
        put(k, h, 3);
    }
    put(k, v + n - run, run);
    put(k, "\n", 1);
}

void wb_kv_puts(wb_kv *k, const char *key, const char *v) { wb_kv_put(k, key, v, strlen(v)); }

void wb_kv_putf(wb_kv *k, const char *key, const char *fmt, ...) {
    char buf[128], *s = buf;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0) {
        k->oom = 1;
        return;
    }
    if ((size_t)n >= sizeof buf) { /* a long value: format it again into a buffer of its size */
        s = malloc((size_t)n + 1);
        if (!s) {
            k->oom = 1;
            return;
        }
        va_start(ap, fmt);
        vsnprintf(s, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    wb_kv_put(k, key, s, (size_t)n);
    if (s != buf) free(s);
}

char *wb_kv_take(wb_kv *k, size_t *len) {
    char *p = k->oom ? NULL : k->p;
    if (!p && !k->oom) p = calloc(1, 1); /* an empty text */
    if (len) *len = p ? k->n : 0;
    if (k->oom) free(k->p);
    memset(k, 0, sizeof *k);
    return p;
}

void wb_kv_free(wb_kv *k) {
    free(k->p);
    memset(k, 0, sizeof *k);
}

static int hexval(int c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

long wb_kv_unescape(char *v) {
    char *w = v;
    for (char *r = v; *r; r++) {
        if (*r != '%') {
            *w++ = *r;
            continue;
        }
        int hi = r[1] ? hexval((unsigned char)r[1]) : -1, lo = hi >= 0 && r[2] ? hexval((unsigned char)r[2]) : -1;
        if (lo < 0) return -1;
        *w++ = (char)(hi * 16 + lo);
        r += 2;
    }
    *w = 0;
    return (long)(w - v);
}

int wb_kv_get(const char *s, size_t len, const char *key, char *out, size_t cap, size_t *vlen) {
    size_t kl = strlen(key);
    for (size_t i = 0; i < len;) {
        size_t e = i;
        while (e < len && s[e] != '\n') e++;
        if (e - i > kl && !memcmp(s + i, key, kl) && s[i + kl] == ' ') {
            size_t o = 0;
            for (size_t j = i + kl + 1; j < e; j++) {
                if (o + 1 >= cap) return -1;
                if (s[j] != '%') {
                    out[o++] = s[j];
                    continue;
                }
                int hi = j + 1 < e ? hexval((unsigned char)s[j + 1]) : -1, lo = hi >= 0 && j + 2 < e ? hexval((unsigned char)s[j + 2]) : -1;
                if (lo < 0) return -1;
                out[o++] = (char)(hi * 16 + lo);
                j += 2;
            }
            if (!cap) return -1;
            out[o] = 0;
            if (vlen) *vlen = o;
            return 0;
        }
        i = e + 1;
    }
    return -1;
}

int wb_kv_split(char **cur, char **key, char **val, size_t *vlen) {
    char *line = *cur;
    if (!line || !*line) return 0;
    char *next = strchr(line, '\n');
    if (next) *next++ = 0;
    *cur = next;
    char *v = strchr(line, ' ');
    if (!v) return -1;
    *v++ = 0;
    long n = wb_kv_unescape(v);
    if (n < 0) return -1;
    *key = line, *val = v, *vlen = (size_t)n;
    return 1;
}
