/*
 * wordbench/utf8.h — the one UTF-8 decoder step the JSON writers share
 * (the library's trial log and plan, the CLI's --json output): the length
 * of the well-formed sequence at a position.  Not here: whole-string
 * validation of words (store/vecparse), case mapping and normalisation
 * (utf8proc, in the tokenizers).
 */
#ifndef WORDBENCH_UTF8_H
#define WORDBENCH_UTF8_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Length (1-4) of the well-formed UTF-8 sequence starting at p (p < end):
 * 1 for ASCII; 0 when the bytes at p are not one (a stray continuation
 * byte, an overlong form, a surrogate, a code point above U+10FFFF, or a
 * sequence cut by end). */
size_t wb_utf8_seq(const unsigned char *p, const unsigned char *end);

#ifdef __cplusplus
}
#endif
#endif /* WORDBENCH_UTF8_H */
