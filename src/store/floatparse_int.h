/*
 * floatparse_int.h — private to the floatparse module: the prototype of the
 * one C++ shim over fast_float (src/store/floatparse_ff.cc), so that floatparse.c
 * and the tests can call it from C.
 *
 * Leaves out: everything public (see include/wordbench/floatparse.h).
 */
#ifndef WB_FLOATPARSE_INT_H
#define WB_FLOATPARSE_INT_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Parse s[0..n) with fast_float::from_chars<float> (general format, '.' as
 * the decimal point).  Returns 1 and sets *out only when fast_float reports
 * success and consumed exactly the n bytes; otherwise returns 0 and leaves
 * *out untouched.  n must be > 0.  Never allocates, never throws, reads no
 * byte outside s[0..n).  It does not take a leading '+', hex floats or (by
 * the caller's choice, see floatparse.c) nan/inf: those are the caller's
 * fallback's business. */
int wb_ff_parse_f32(const char *s, size_t n, float *out);

#ifdef __cplusplus
}
#endif
#endif /* WB_FLOATPARSE_INT_H */
