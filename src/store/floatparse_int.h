/*
 * floatparse_int.h — private to the store layer's number parsing: the
 * prototype of the one C++ shim over fast_float (src/store/floatparse_ff.cc),
 * so that floatparse.c and the tests can call it from C, and the shared "C"
 * locale object (also used by pytext.c).
 *
 * Leaves out: everything public (see include/wordbench/floatparse.h).
 */
#ifndef WB_FLOATPARSE_INT_H
#define WB_FLOATPARSE_INT_H

#include <locale.h>
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

/* The "C" locale object (created once, never freed; (locale_t)0 if newlocale
 * failed, never seen with glibc), for strtod_l / strtof_l calls that must
 * not depend on the process locale. */
locale_t wb_c_locale_get(void);

#ifdef __cplusplus
}
#endif
#endif /* WB_FLOATPARSE_INT_H */
