/*
 * utf8.c — the UTF-8 decoder and encoder of wordbench/utf8.h.
 */
#include "wordbench/utf8.h"

#include <string.h>

size_t wb_utf8_next(const char *s, size_t n, uint32_t *cp) {
    const unsigned char *p = (const unsigned char *)s;
    unsigned c = p[0];
    if (c < 0x80) return *cp = c, 1;
    size_t k;
    unsigned min;
    if ((c & 0xe0) == 0xc0) k = 1, min = 0x80, c &= 0x1f;
    else if ((c & 0xf0) == 0xe0) k = 2, min = 0x800, c &= 0x0f;
    else if ((c & 0xf8) == 0xf0) k = 3, min = 0x10000, c &= 0x07;
    else return 0;
    if (n <= k) return 0;
    for (size_t i = 1; i <= k; i++) {
        if ((p[i] & 0xc0) != 0x80) return 0;
        c = (c << 6) | (p[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return 0;
    *cp = c;
    return k + 1;
}

size_t wb_utf8_seq(const unsigned char *u, size_t n, int *ok) {
    unsigned char c = u[0], lo = 0x80, hi = 0xBF;
    size_t need;
    if (c >= 0xC2 && c <= 0xDF) need = 1;
    else if (c == 0xE0) need = 2, lo = 0xA0;
    else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) need = 2;
    else if (c == 0xED) need = 2, hi = 0x9F;
    else if (c == 0xF0) need = 3, lo = 0x90;
    else if (c >= 0xF1 && c <= 0xF3) need = 3;
    else if (c == 0xF4) need = 3, hi = 0x8F;
    else need = 0;
    size_t k = 1; /* the lead byte, then the continuation bytes that fit table 3-7 */
    if (need && 1 < n && u[1] >= lo && u[1] <= hi) {
        k = 2;
        while (k <= need && k < n && u[k] >= 0x80 && u[k] <= 0xBF) k++;
    }
    *ok = need && k == need + 1;
    return k;
}

int wb_utf8_valid(const char *s, size_t n) {
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        while (i + 8 <= n) { /* ASCII runs, 8 bytes at a time */
            uint64_t w;
            memcpy(&w, u + i, 8);
            if (w & 0x8080808080808080ull) break;
            i += 8;
        }
        if (i >= n) break;
        if (u[i] < 0x80) {
            i++;
            continue;
        }
        int ok;
        i += wb_utf8_seq(u + i, n - i, &ok);
        if (!ok) return 0;
    }
    return 1;
}

size_t wb_utf8_encode(uint32_t c, char *o) {
    if (c < 0x80) {
        o[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        o[0] = (char)(0xC0 | (c >> 6));
        o[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        o[0] = (char)(0xE0 | (c >> 12));
        o[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        o[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (c >> 18));
    o[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((c >> 6) & 0x3F));
    o[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}
