/*
 * pytext.h — the few pieces of Python's str behaviour that gensim's word
 * benchmarks depend on, reproduced on UTF-8 bytes so that `wordbench
 * evaluate` reads benchmark files and compares words exactly as
 * KeyedVectors.evaluate_word_analogies / evaluate_word_pairs do:
 *
 *   wb_py_upper     str.upper(): full case mapping, SpecialCasing included
 *                   ('straße' -> 'STRASSE', 'ﬁ' -> 'FI');
 *   wb_py_isspace   str.isspace() of one code point (what str.split() and
 *                   str.strip() with no argument cut at / remove);
 *   wb_py_float     float(str): Python's grammar (underscores between
 *                   digits, inf/infinity/nan in any case, Unicode digits and
 *                   spaces), correctly rounded like CPython.
 * Decoding is wordbench/utf8.h's wb_utf8_next / wb_utf8_valid, whose rules are
 * those of Python's strict utf-8 decoder (no overlongs, no surrogates).
 *
 * The tables come from Python itself (tools/make_pytext_table.py ->
 * pytext_table.h, Python 3.11 / Unicode 14 on Debian 12).  Internal to the
 * store layer (used by wordeval.c); no state, safe from any thread.
 */
#ifndef WB_PYTEXT_H
#define WB_PYTEXT_H

#include <stddef.h>
#include <stdint.h>

/* Worst-case growth of str.upper() in UTF-8 bytes: out needs
 * WB_PY_UPPER_GROWTH * n bytes for an input of n bytes. */
#define WB_PY_UPPER_GROWTH 3

/* str.upper() of s[0..n) into out (room for WB_PY_UPPER_GROWTH * n bytes);
 * returns the output length.  Bytes that are not valid UTF-8 are copied
 * unchanged (Python could not have decoded them; such a word then matches
 * only itself). */
size_t wb_py_upper(const char *s, size_t n, char *out);

/* 1 when Python's str.isspace() is true for the code point. */
int wb_py_isspace(uint32_t cp);

/* float(s[0..n)) as Python computes it: surrounding white space (isspace)
 * ignored; sign; digits with single underscores between them; an optional
 * fraction and exponent; or inf / infinity / nan in any case.  Non-ASCII
 * decimal digits count as their ASCII values.  Returns 0 and *out, or -1
 * when Python would raise ValueError. */
int wb_py_float(const char *s, size_t n, double *out);

#endif
