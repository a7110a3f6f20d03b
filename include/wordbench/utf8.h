/*
 * wordbench/utf8.h — the one UTF-8 decoder of wordbench: well-formed
 * sequences as Unicode 15 defines them (table 3-7: no overlongs, no
 * surrogates, nothing above U+10FFFF), the maximal ill-formed subpart a
 * repair replaces by one U+FFFD (the Unicode / WHATWG practice, which is
 * Python's bytes.decode(errors="replace")), and the encoder.  Used by the
 * vector parsers (words), the labelled-text reader and the tokenizers
 * (repair), and the CLI (JSON output).
 *
 * Leaves out: normalisation and case mapping (utf8proc, tokenize.c).
 */
#ifndef WORDBENCH_UTF8_H
#define WORDBENCH_UTF8_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The well-formed sequence at s (n >= 1 bytes): its code point into *cp and
 * its length 1..4; 0 when the bytes there are not one (ill-formed, or cut
 * by n). */
size_t wb_utf8_next(const char *s, size_t n, uint32_t *cp);

/* 1 when s[0..n) is well-formed UTF-8 (ASCII runs are checked 8 bytes at a
 * time), else 0. */
int wb_utf8_valid(const char *s, size_t n);

/* For a lead byte s[0] >= 0x80 (n >= 1): *ok = 1 and the sequence's length
 * when it is well formed; else *ok = 0 and the length (>= 1) of the maximal
 * ill-formed subpart starting there, which a repair replaces by one U+FFFD
 * and skips. */
size_t wb_utf8_seq(const unsigned char *s, size_t n, int *ok);

/* Encode code point c (<= 0x10FFFF) into out: 1..4 bytes, the count returned. */
size_t wb_utf8_encode(uint32_t c, char *out);

#ifdef __cplusplus
}
#endif
#endif /* WORDBENCH_UTF8_H */
