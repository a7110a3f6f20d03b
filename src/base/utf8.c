/*
 * utf8.c — the length of one well-formed UTF-8 sequence (utf8.h), by the
 * table of well-formed byte sequences of Unicode 15, section 3.9.
 */
#include "wordbench/utf8.h"

size_t wb_utf8_seq(const unsigned char *p, const unsigned char *e) {
    unsigned c = p[0], cp, min;
    size_t k;
    if (c < 0x80) return 1;
    if ((c & 0xe0) == 0xc0) k = 2, cp = c & 0x1f, min = 0x80;
    else if ((c & 0xf0) == 0xe0) k = 3, cp = c & 0x0f, min = 0x800;
    else if ((c & 0xf8) == 0xf0) k = 4, cp = c & 0x07, min = 0x10000;
    else return 0;
    if ((size_t)(e - p) < k) return 0;
    for (size_t i = 1; i < k; i++) {
        if ((p[i] & 0xc0) != 0x80) return 0;
        cp = cp << 6 | (p[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return k;
}
