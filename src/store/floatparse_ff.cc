/*
 * floatparse_ff.cc — the project's only C++: an extern "C" shim over
 * fast_float::from_chars<float> (header-only, Debian's libfast-float-dev).
 *
 * Leaves out: every policy decision (which tokens to try, what to do when
 * fast_float declines); floatparse.c makes those, so this file stays a few
 * lines that never need touching.
 */
#include "store/floatparse_int.h"

#include <fast_float/fast_float.h>

extern "C" int wb_ff_parse_f32(const char *s, size_t n, float *out) {
    float v;
    const fast_float::from_chars_result r = fast_float::from_chars(s, s + n, v);
    if (r.ec != std::errc() || r.ptr != s + n) return 0;
    *out = v;
    return 1;
}
