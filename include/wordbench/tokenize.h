/*
 * wordbench/tokenize.h — split one document of UTF-8 text into tokens.
 *
 * Four tokenizers (wb_tok_kind):
 *
 *   WB_TOK_KERAS     exactly Keras' text_to_word_sequence(text) with its
 *                    defaults (keras_preprocessing 1.1): Python str.lower()
 *                    (full Unicode lower-casing: U+0130 'İ' becomes "i" +
 *                    U+0307, and capital sigma becomes final 'ς' in Python's
 *                    Final_Sigma context), then each of the filter characters
 *                    !"#$%&()*+,-./:;<=>?@[\]^_`{|}~ TAB LF becomes a space,
 *                    then split on U+0020 only, dropping empty strings.  Other
 *                    white space (CR, VT, FF, U+00A0, U+3000 ...) is NOT a
 *                    separator, as in Keras.  Lower-casing uses utf8proc's
 *                    tables; checked against Python 3.11 (Unicode 14) for
 *                    every code point: the mappings agree everywhere, and the
 *                    final-sigma context (Cased / Case_Ignorable) agrees on
 *                    every character Unicode 14 assigns; ~110 characters new
 *                    in utf8proc's Unicode 15 differ, as they would between
 *                    Python versions.
 *   WB_TOK_FASTTEXT  fastText's Dictionary::readWord: split on the ASCII
 *                    white space ' ' '\t' '\n' '\v' '\f' '\r' and NUL,
 *                    punctuation kept.  fastText's end-of-sentence token
 *                    "</s>" is not emitted.  fastText does not lower-case, so
 *                    wb_tokenize_opts_init(WB_TOK_FASTTEXT) sets lower = 0.
 *   WB_TOK_UNICODE   utf8proc NFKC + case folding (utf8proc_map with
 *                    STABLE|COMPOSE|COMPAT|CASEFOLD; without CASEFOLD when
 *                    lower = 0), then split on Unicode white space,
 *                    punctuation and controls (general categories Z*, P*, Cc),
 *                    dropping empty tokens.  utf8proc sorts each run of
 *                    combining marks by insertion sort: time is quadratic in
 *                    the length of one such run (never in the document).
 *   WB_TOK_CHAR      one token per character (after lower-casing when
 *                    lower = 1), for character-level CNNs.  A character that
 *                    is not in the alphabet becomes an EMPTY token (length 0):
 *                    the "unknown" marker a vocabulary maps to its reserved
 *                    index.  White space is a character like any other (the
 *                    default alphabet holds only '\n', so a space is unknown).
 *
 * Before tokenizing, every call runs the same input stages in this order:
 *   1. invalid UTF-8 is replaced by U+FFFD, one per maximal ill-formed
 *      subsequence (the Unicode / WHATWG "maximal subpart" practice, which is
 *      also what Python's bytes.decode(errors="replace") does), and counted;
 *   2. strip_html: tags are replaced by one space each (so words in adjacent
 *      paragraphs do not merge), comments <!-- ... --> likewise, and entities
 *      are decoded once (&amp;lt; gives "&lt;"): &amp; &lt; &gt; &quot;
 *      &apos; &#39; &nbsp; (U+00A0) &#NNN; &#xHH; and ~40 common named ones
 *      (copy, reg, trade, hellip, mdash, ndash, lsquo, rsquo, ldquo, rdquo,
 *      laquo, raquo, euro, pound, ...).  An entity needs its ';'; unknown
 *      entities stay verbatim; a numeric reference to 0, a surrogate or a value
 *      above U+10FFFF gives U+FFFD.  A '<' not followed by a letter, '/', '!'
 *      or '?', or with no later '>', is text;
 *   3. max_doc_chars: only the first N code points are kept (after stages 1
 *      and 2, so markup does not count; a replaced invalid sequence counts as
 *      one character).  Without strip_html, input beyond the first N
 *      characters is never read and its invalid bytes are not counted.
 * Everything is linear in the input length (a 100 MB single-line document is
 * fine); scratch memory is about twice the document size, kept in the list
 * and reused by the next call.
 *
 * Not here: reading files or rows (text readers), vocabularies and indices
 * (vocab), sentence splitting, n-grams.
 *
 * Threads: a wb_token_list may be used by one thread at a time; different
 * lists in different threads are independent.  The functions keep no global
 * state.
 */
#ifndef WORDBENCH_TOKENIZE_H
#define WORDBENCH_TOKENIZE_H

#include <stddef.h>
#include <stdint.h>

#include "wordbench/err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Which tokenizer to run (see the file comment). */
typedef enum wb_tok_kind {
    WB_TOK_KERAS = 0,
    WB_TOK_FASTTEXT,
    WB_TOK_UNICODE,
    WB_TOK_CHAR
} wb_tok_kind;

/* The alphabet of Zhang, Zhao & LeCun (2015), "Character-level Convolutional
 * Networks for Text Classification", section 2.2: 26 letters, 10 digits, the
 * other characters and the new line.  The paper says "70 characters", but its
 * printed list holds '-' twice, and so do the reference implementations'
 * strings ("...0123456789-,;.!?:'\"/\\|_@#$%^&*~`+-=<>()[]{}" + '\n': 70
 * positions, 69 distinct characters, the duplicate giving no extra index).
 * We keep one '-' (the first) and use ASCII for the paper's typeset quotes,
 * caret and tilde, as those implementations do: 69 distinct characters,
 *   abcdefghijklmnopqrstuvwxyz0123456789-,;.!?:'"/\|_@#$%^&*~`+=<>()[]{} \n
 * (shown with a space before '\n' that is not part of it).  A vocabulary
 * should number them in the order of this string. */
#define WB_TOK_ZHANG_ALPHABET \
    "abcdefghijklmnopqrstuvwxyz0123456789-,;.!?:'\"/\\|_@#$%^&*~`+=<>()[]{}\n"

/* Tokenizer options.  Always start from wb_tokenize_opts_init(). */
typedef struct wb_tokenize_opts {
    wb_tok_kind kind;      /* the tokenizer */
    int lower;             /* 1: lower-case (Python str.lower; casefold for unicode); 0: keep case */
    size_t max_doc_chars;  /* keep only the first N code points; 0 = no limit */
    int strip_html;        /* 1: remove tags and decode entities first */
    const char *alphabet;  /* WB_TOK_CHAR only: UTF-8 string of the known characters
                            * (duplicates ignored); NULL = WB_TOK_ZHANG_ALPHABET.
                            * Borrowed for the duration of each wb_tokenize call. */
} wb_tokenize_opts;

/* Defaults for `kind`: lower = 1 (0 for WB_TOK_FASTTEXT, which fastText never
 * lower-cases), max_doc_chars = 0, strip_html = 0, alphabet = NULL. */
void wb_tokenize_opts_init(wb_tokenize_opts *o, wb_tok_kind kind);

/* A reusable list of tokens.  Invariants: the bytes of token i are
 * buf[off[i] .. off[i+1]) (valid UTF-8, not NUL-terminated, possibly empty
 * only for WB_TOK_CHAR unknowns); off has n + 1 entries when n > 0; all tokens
 * live in one growing buffer (no allocation per token).  All fields are
 * read-only for callers. */
typedef struct wb_token_list {
    char *buf;           /* token bytes, back to back */
    size_t *off;         /* (n+1,) start offsets into buf; off[n] = bytes used */
    size_t n;            /* number of tokens */
    size_t n_invalid;    /* invalid UTF-8 sequences replaced by U+FFFD in the last call */
    size_t buf_cap;      /* allocated bytes of buf */
    size_t off_cap;      /* allocated entries of off */
    char *scratch;       /* private: the cleaned document */
    size_t scratch_cap;  /* private */
    int32_t *cps;        /* private: code points (utf8proc buffer, sorted alphabet) */
    size_t cps_cap;      /* private: allocated entries of cps */
} wb_token_list;

/* Make `l` an empty list that owns nothing yet.  Cannot fail. */
void wb_token_list_init(wb_token_list *l);

/* Forget all tokens (n = 0, n_invalid = 0), keeping the memory for reuse. */
void wb_token_list_reset(wb_token_list *l);

/* Release all memory; `l` is then as after init.  Safe on a list that was
 * only initialised, and on NULL. */
void wb_token_list_free(wb_token_list *l);

/* Tokenize `len` bytes at `text` (any bytes; NUL is an ordinary character)
 * with options `o`, REPLACING the contents of `out` (it is reset first).
 * out->n_invalid receives the number of invalid UTF-8 sequences replaced.
 * `text` may be NULL when len is 0.  Returns 0, WB_EUSAGE (NULL `o` or `out`,
 * unknown kind, alphabet that is not valid UTF-8), or WB_ENOMEM; on error
 * `out` holds no tokens.  `e` (may be NULL) gets the message. */
int wb_tokenize(const wb_tokenize_opts *o, const char *text, size_t len,
                wb_token_list *out, wb_err *e);

/* ---- low-level accessors ---- */

/* Bytes of token i (i < l->n); *len gets its length.  Borrowed until the next
 * call that changes `l`. */
static inline const char *wb_token_list_get(const wb_token_list *l, size_t i, size_t *len) {
    *len = l->off[i + 1] - l->off[i];
    return l->buf + l->off[i];
}

#ifdef __cplusplus
}
#endif
#endif /* WORDBENCH_TOKENIZE_H */
