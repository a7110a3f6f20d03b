/*
 * convert_int.h — the converter's record parsers, exposed for the unit tests
 * and the fuzz targets.  They work on memory only: no threads, no files.
 */
#ifndef WB_CONVERT_INT_H
#define WB_CONVERT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "wordbench/utf8.h" /* wb_utf8_valid, wb_utf8_next: the words' UTF-8 check */

/* Result of parsing one text line. */
typedef struct wb_line {
    const char *word;  /* first byte of the word (inside the line) */
    size_t wlen;       /* word length in bytes (may contain spaces) */
    int blank;         /* 1: the line holds only white space (skipped) */
} wb_line;

/* Parse one text line line[0..len) (no '\n'; a trailing '\r', spaces and tabs
 * are ignored) holding a word and `dim` numbers.  The word is everything
 * before the last `dim` white-space separated tokens (so words may contain
 * spaces, as in glove.840B), unless those extra tokens are all numbers,
 * which is reported as too many numbers.  Writes dim floats to vec.
 * Returns 0, or -1 with a reason in why[0..whylen) ("expected 300 numbers
 * after the word, found 299", "value 7 'abc' is not a number", "value 3 is
 * nan (use --allow-nonfinite)"). */
int wb_parse_text_line(const char *line, size_t len, uint32_t dim, int allow_nonfinite,
                       wb_line *out, float *vec, char *why, size_t whylen);

/* Count the trailing tokens of line[0..len) that are numbers, at most
 * (tokens - 1): the dim of a GloVe line whose word has no spaces. */
uint32_t wb_text_line_dim(const char *line, size_t len);

/* Parse a "rows dim" header line.  Returns 0 and sets rows/dim, or -1. */
int wb_parse_header_line(const char *line, size_t len, uint64_t *rows, uint32_t *dim);

/* Frame one word2vec binary record at p[0..avail): optional leading '\n's,
 * word bytes up to a space, then the vector of little-endian float32, an optional
 * '\n' (consumed when present).  `eof` says no more bytes follow avail.
 * Returns the record length (> 0) and sets *word, *wlen and *vals, 0 when more
 * bytes are needed (never when eof), or -1 with why set (no space within
 * 64 KiB, empty word, truncated record at eof). */
long wb_frame_bin_record(const char *p, size_t avail, uint32_t dim, int eof,
                         const char **word, size_t *wlen, const char **vals,
                         char *why, size_t whylen);

/* Does the text after a word2vec header look like binary vectors?  p points
 * at the first byte after the header line.  Returns 1 (binary) or 0 (text). */
int wb_looks_binary(const char *p, size_t n, uint32_t dim);


#endif
