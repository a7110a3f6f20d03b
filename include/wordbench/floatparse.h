/*
 * wordbench/floatparse.h — exact, fast decimal → float32, and float16 conversion.
 *
 * wb_parse_f32 gives bit for bit what glibc strtof() gives on the same token
 * (round to nearest even, subnormals, overflow to ±inf, "nan", "inf", hex
 * floats, a leading '+'), but several times faster on the plain decimals that
 * vector files are made of: those go through fast_float (Lemire's exact
 * algorithm, Debian's libfast-float-dev) behind a one-file C++ shim; anything
 * fast_float does not take whole (nan payloads, hex, '+', very long tokens)
 * falls back to strtof_l() in the "C" locale, so the result is always strtof's.
 *
 * It does not skip white space: callers split tokens first.  It does not
 * decide whether NaN or Inf are acceptable: callers check isfinite().
 */
#ifndef WORDBENCH_FLOATPARSE_H
#define WORDBENCH_FLOATPARSE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Parse the token s[0..n) as strtof would.  Returns 1 and sets *out when
 * strtof would consume exactly the n bytes (the whole token is a number),
 * 0 otherwise (*out untouched).  A token starting with white space is not a
 * number (strtof would skip it).  s need not be NUL-terminated; n may be 0. */
int wb_parse_f32(const char *s, size_t n, float *out);

/* Parse the number that starts at s and ends at the next ' ', '\t', '\r',
 * '\n' or at end, exactly as wb_parse_f32 would parse that token.  Returns
 * the pointer just past the token, or NULL when the token is not a number
 * (*out untouched).  s < end.  The converter's hot loop: plain decimals with
 * at most 7 significant digits and a power of ten within 10^-10..10^10 (the
 * shape of GloVe and fastText values) take Clinger's exact path (the digits
 * and the power of ten are both exact floats, so one IEEE division rounds
 * correctly), everything else goes through wb_parse_f32. */
const char *wb_parse_f32_token(const char *s, const char *end, float *out);

/* IEEE 754 binary16 <-> binary32.  f32 → f16 rounds to nearest even,
 * overflows to ±inf, keeps NaN a NaN (quiet), handles subnormals.
 * f16 → f32 is exact. */
uint16_t wb_f32_to_f16(float f);
float wb_f16_to_f32(uint16_t h);

/* Convert arrays; out and in must not overlap. */
void wb_f16_to_f32_n(float *out, const uint16_t *in, size_t n);
void wb_f32_to_f16_n(uint16_t *out, const float *in, size_t n);

#ifdef __cplusplus
}
#endif
#endif /* WORDBENCH_FLOATPARSE_H */
