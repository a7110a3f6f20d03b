/*
 * test_npy.c — specification of the NPY header module (src/store/npy.c).
 *
 * Contains: the exact bytes the writer emits, write→parse round trips for
 * both dtypes and both ndims, numpy loading what we write (skipped when
 * /usr/bin/python3 or numpy is missing), numpy's own files from
 * fixtures/npy (tools/make_npy_fixtures.py), the header variations the
 * parser accepts, a table of malformed headers with the code and message
 * each must produce, every truncation of valid headers, and the 64-bit size
 * limits.
 *
 * Leaves out: mapping the data (test_store.c).  Every parse goes through
 * parse_exact(), which copies the input into a heap block of exactly n bytes
 * so that AddressSanitizer catches any read past n.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"
#include "wordbench/err.h"
#include "wordbench/npy.h"

#ifndef WB_FIXTURES
#define WB_FIXTURES "fixtures"
#endif
#define NPY_FIXTURES WB_FIXTURES "/npy/"
#ifndef WB_PYTHON
#define WB_PYTHON "/usr/bin/python3" /* the system python, where numpy is installed */
#endif
#define PYTHON WB_PYTHON

/* ---- helpers ----------------------------------------------------------- */

/* Parse a private heap copy of exactly n bytes (see the file comment). */
static int parse_exact(const void *bytes, size_t n, wb_npy_info *info, wb_err *err) {
    unsigned char *copy = malloc(n ? n : 1);
    assert_non_null(copy);
    if (n) memcpy(copy, bytes, n);
    int rc = wb_npy_header_parse(copy, n, info, err);
    free(copy);
    return rc;
}

/* Build magic, version major.minor, header length (u16 for 1.x, u32
 * otherwise) and `dict` (no padding) into buf.  Returns the total size. */
static size_t build(unsigned char *buf, size_t cap, unsigned major, unsigned minor,
                    const char *dict) {
    size_t dlen = strlen(dict);
    size_t prefix = major == 1 ? 10 : 12;
    assert_true(prefix + dlen <= cap);
    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = (unsigned char)major;
    buf[7] = (unsigned char)minor;
    buf[8] = (unsigned char)(dlen & 0xff);
    buf[9] = (unsigned char)(dlen >> 8);
    if (prefix == 12) {
        buf[10] = (unsigned char)(dlen >> 16);
        buf[11] = (unsigned char)(dlen >> 24);
    }
    memcpy(buf + prefix, dict, dlen);
    return prefix + dlen;
}

/* Exact IEEE binary16 bits of a float that is 0 or a normal half value with
 * at most 10 mantissa bits (all our test values are). */
static uint16_t half_exact(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) == 0) return (uint16_t)(u >> 16);
    uint32_t sign = u >> 31, exp = (u >> 23) & 0xff, man = u & 0x7fffffu;
    assert_true(exp >= 127 - 14 && exp <= 127 + 15);
    assert_int_equal(man & 0x1fffu, 0);
    return (uint16_t)(sign << 15 | (exp - 127 + 15) << 10 | man >> 13);
}

/* The values every fixture and interop file holds (see the script). */
static float value_2d(uint64_t i, uint64_t j) { return (float)i + (float)j / 4.0f; }
static float value_1d(uint64_t i) { return (float)i - 3.5f; }

/* Fail with the message when `err` does not carry `code` and `needle`. */
static void check_err(const char *what, int rc, const wb_err *err, int code, const char *needle) {
    if (rc != code)
        fail_msg("%s: returned %d (%s), expected %d (%s); message: %s", what, rc,
                 wb_strerror(rc), code, wb_strerror(code), err->msg);
    if (err->code != code) fail_msg("%s: err.code %d, expected %d", what, err->code, code);
    if (!err->msg[0]) fail_msg("%s: empty message", what);
    if (needle && !strstr(err->msg, needle))
        fail_msg("%s: message \"%s\" lacks \"%s\"", what, err->msg, needle);
}

/* ---- dtype helpers ----------------------------------------------------- */

static void test_dtype_size_and_name(void **state) {
    (void)state;
    assert_int_equal(wb_dtype_size(WB_DTYPE_F32), 4);
    assert_int_equal(wb_dtype_size(WB_DTYPE_F16), 2);
    assert_int_equal(wb_dtype_size((wb_dtype)0), 0);
    assert_int_equal(wb_dtype_size((wb_dtype)99), 0);
    assert_string_equal(wb_dtype_name(WB_DTYPE_F32), "f32");
    assert_string_equal(wb_dtype_name(WB_DTYPE_F16), "f16");
    assert_string_equal(wb_dtype_name((wb_dtype)0), "?");
    assert_string_equal(wb_dtype_name((wb_dtype)-5), "?");
    /* the data set's types (dataset.h) */
    static const struct { wb_dtype t; size_t size; const char *name; } more[] = {
        {WB_DTYPE_I32, 4, "i32"}, {WB_DTYPE_U16, 2, "u16"}, {WB_DTYPE_U8, 1, "u8"},
        {WB_DTYPE_U32, 4, "u32"}, {WB_DTYPE_U64, 8, "u64"}, {WB_DTYPE_F64, 8, "f64"}};
    for (size_t i = 0; i < sizeof more / sizeof more[0]; i++) {
        assert_int_equal(wb_dtype_size(more[i].t), more[i].size);
        assert_string_equal(wb_dtype_name(more[i].t), more[i].name);
    }
    assert_int_equal(wb_dtype_size((wb_dtype)9), 0);
}

/* ---- writer ------------------------------------------------------------ */

/* The header is byte-for-byte what numpy itself would write, padded to 4096. */
static void test_write_exact_bytes(void **state) {
    (void)state;
    static const struct {
        wb_dtype dt;
        int ndim;
        uint64_t rows, cols;
        const char *dict;
    } cases[] = {
        {WB_DTYPE_F32, 2, 3, 4, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }"},
        {WB_DTYPE_F16, 2, 400000, 300, "{'descr': '<f2', 'fortran_order': False, 'shape': (400000, 300), }"},
        {WB_DTYPE_F32, 1, 7, 99, "{'descr': '<f4', 'fortran_order': False, 'shape': (7,), }"},
        {WB_DTYPE_F16, 1, 0, 0, "{'descr': '<f2', 'fortran_order': False, 'shape': (0,), }"},
        {WB_DTYPE_I32, 2, 5, 60, "{'descr': '<i4', 'fortran_order': False, 'shape': (5, 60), }"},
        {WB_DTYPE_U16, 2, 5, 60, "{'descr': '<u2', 'fortran_order': False, 'shape': (5, 60), }"},
        {WB_DTYPE_U8, 1, 5, 0, "{'descr': '|u1', 'fortran_order': False, 'shape': (5,), }"},
        {WB_DTYPE_U32, 1, 5, 0, "{'descr': '<u4', 'fortran_order': False, 'shape': (5,), }"},
        {WB_DTYPE_U64, 1, 6, 0, "{'descr': '<u8', 'fortran_order': False, 'shape': (6,), }"},
        {WB_DTYPE_F64, 2, 5, 2, "{'descr': '<f8', 'fortran_order': False, 'shape': (5, 2), }"},
        {WB_DTYPE_F32, 2, UINT64_MAX, UINT64_MAX,
         "{'descr': '<f4', 'fortran_order': False, 'shape': (18446744073709551615, 18446744073709551615), }"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        unsigned char buf[WB_NPY_DATA_OFFSET + 16];
        memset(buf, 0xAB, sizeof buf);
        assert_int_equal(wb_npy_header_write(buf, sizeof buf, cases[k].dt, cases[k].ndim,
                                             cases[k].rows, cases[k].cols), 0);
        /* magic, version 1.0, header length 4086 = 0x0ff6 little-endian */
        assert_memory_equal(buf, "\x93NUMPY\x01\x00\xf6\x0f", 10);
        size_t dlen = strlen(cases[k].dict);
        assert_memory_equal(buf + 10, cases[k].dict, dlen);
        for (size_t i = 10 + dlen; i < WB_NPY_DATA_OFFSET - 1; i++)
            if (buf[i] != ' ') fail_msg("case %zu: byte %zu is 0x%02x, expected a space", k, i, buf[i]);
        assert_int_equal(buf[WB_NPY_DATA_OFFSET - 1], '\n');
        for (size_t i = WB_NPY_DATA_OFFSET; i < sizeof buf; i++)
            assert_int_equal(buf[i], 0xAB); /* nothing written past 4096 */
    }
}

static void test_write_usage_errors(void **state) {
    (void)state;
    static unsigned char buf[WB_NPY_DATA_OFFSET];
    assert_int_equal(wb_npy_header_write(buf, sizeof buf - 1, WB_DTYPE_F32, 2, 1, 1), WB_EUSAGE);
    assert_int_equal(wb_npy_header_write(NULL, sizeof buf, WB_DTYPE_F32, 2, 1, 1), WB_EUSAGE);
    assert_int_equal(wb_npy_header_write(buf, sizeof buf, (wb_dtype)0, 2, 1, 1), WB_EUSAGE);
    assert_int_equal(wb_npy_header_write(buf, sizeof buf, (wb_dtype)9, 2, 1, 1), WB_EUSAGE);
    assert_int_equal(wb_npy_header_write(buf, sizeof buf, WB_DTYPE_F16, 0, 1, 1), WB_EUSAGE);
    assert_int_equal(wb_npy_header_write(buf, sizeof buf, WB_DTYPE_F16, 3, 1, 1), WB_EUSAGE);
    assert_int_equal(wb_npy_header_write(buf, sizeof buf, WB_DTYPE_F16, -1, 1, 1), WB_EUSAGE);
    assert_int_equal(wb_npy_header_write(buf, sizeof buf, WB_DTYPE_F16, 2, 1, 1), 0);
}

/* ---- round trip -------------------------------------------------------- */

/* The data set's types are written but never parsed as a store matrix. */
static void test_dataset_types_not_parsed(void **state) {
    (void)state;
    static const wb_dtype dts[] = {WB_DTYPE_I32, WB_DTYPE_U16, WB_DTYPE_U8, WB_DTYPE_U32, WB_DTYPE_U64, WB_DTYPE_F64};
    unsigned char buf[WB_NPY_DATA_OFFSET];
    for (size_t d = 0; d < sizeof dts / sizeof dts[0]; d++) {
        assert_int_equal(wb_npy_header_write(buf, sizeof buf, dts[d], 1, 3, 0), 0);
        wb_npy_info ni;
        wb_err err;
        wb_err_clear(&err);
        assert_int_equal(wb_npy_header_parse(buf, sizeof buf, &ni, &err), WB_EFORMAT);
        assert_non_null(strstr(err.msg, "is not supported"));
    }
}

static void test_roundtrip(void **state) {
    (void)state;
    static const wb_dtype dts[] = {WB_DTYPE_F32, WB_DTYPE_F16};
    static const uint64_t shapes[][2] = {
        {0, 0}, {1, 1}, {3, 4}, {7, 1}, {1, 300}, {400000, 300}, {2000000, 50},
        {UINT64_C(4294967296), 7}, {UINT64_C(1) << 40, 1000},
    };
    unsigned char buf[WB_NPY_DATA_OFFSET];
    for (size_t d = 0; d < 2; d++)
        for (int ndim = 1; ndim <= 2; ndim++)
            for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
                assert_int_equal(wb_npy_header_write(buf, sizeof buf, dts[d], ndim,
                                                     shapes[s][0], shapes[s][1]), 0);
                wb_npy_info info;
                wb_err err;
                wb_err_clear(&err);
                int rc = parse_exact(buf, sizeof buf, &info, &err);
                if (rc) fail_msg("dtype %s ndim %d shape %zu: %s", wb_dtype_name(dts[d]), ndim, s, err.msg);
                assert_int_equal(err.code, 0); /* err untouched on success */
                assert_int_equal(info.dtype, dts[d]);
                assert_int_equal(info.ndim, ndim);
                assert_true(info.rows == shapes[s][0]);
                assert_true(info.cols == (ndim == 2 ? shapes[s][1] : 1));
                assert_true(info.data_offset == WB_NPY_DATA_OFFSET);
            }
}

/* ---- numpy interop ----------------------------------------------------- */

static const char interop_py[] =
    "import sys, numpy as np\n"
    "d = sys.argv[1]\n"
    "i = np.arange(3, dtype=np.float64)[:, None]; j = np.arange(4, dtype=np.float64)[None, :]\n"
    "cases = [\n"
    "  ('f32_3x4.npy', '<f4', (3, 4), (i + j / 4)),\n"
    "  ('f16_2x5.npy', '<f2', (2, 5), (np.arange(2.)[:, None] + np.arange(5.)[None, :] / 4)),\n"
    "  ('f32_7.npy', '<f4', (7,), np.arange(7.) - 3.5),\n"
    "  ('f32_0x3.npy', '<f4', (0, 3), np.zeros((0, 3))),\n"
    "]\n"
    "for name, dt, shape, want in cases:\n"
    "    # numpy cannot mmap zero data bytes (offset 4096 == file size)\n"
    "    empty = want.size == 0\n"
    "    a = np.load(d + '/' + name, mmap_mode=None if empty else 'r')\n"
    "    assert empty or isinstance(a, np.memmap), (name, type(a))\n"
    "    assert a.dtype == np.dtype(dt), (name, a.dtype)\n"
    "    assert a.shape == shape, (name, a.shape)\n"
    "    assert empty or a.offset == 4096, (name, a.offset)\n"
    "    assert a.flags.c_contiguous, name\n"
    "    assert np.array_equal(np.asarray(a), want.astype(dt)), (name, np.asarray(a))\n"
    "print('numpy ok')\n";

/* header + data into dir/name */
static void write_npy(const char *dir, const char *name, wb_dtype dt, int ndim,
                      uint64_t rows, uint64_t cols) {
    size_t esize = wb_dtype_size(dt);
    size_t count = (size_t)(rows * (ndim == 2 ? cols : 1));
    size_t n = WB_NPY_DATA_OFFSET + count * esize;
    unsigned char *buf = calloc(1, n);
    assert_non_null(buf);
    assert_int_equal(wb_npy_header_write(buf, n, dt, ndim, rows, cols), 0);
    for (size_t k = 0; k < count; k++) {
        float v = ndim == 2 ? value_2d(k / cols, k % cols) : value_1d(k);
        unsigned char *at = buf + WB_NPY_DATA_OFFSET + k * esize;
        if (dt == WB_DTYPE_F32) {
            memcpy(at, &v, 4); /* the tests run on little-endian hosts only */
        } else {
            uint16_t h = half_exact(v);
            at[0] = (unsigned char)(h & 0xff);
            at[1] = (unsigned char)(h >> 8);
        }
    }
    char *path = tu_path(dir, name);
    assert_int_equal(tu_write_file(path, buf, n), 0);
    free(path);
    free(buf);
}

static void test_numpy_loads_written_file(void **state) {
    (void)state;
    if (access(PYTHON, X_OK) != 0 || tu_run(PYTHON " -c 'import numpy'", NULL, NULL) != 0) {
        print_message("numpy interop skipped: " PYTHON " with numpy not available\n");
        skip();
    }
    char *dir = tu_tmpdir();
    assert_non_null(dir);
    write_npy(dir, "f32_3x4.npy", WB_DTYPE_F32, 2, 3, 4);
    write_npy(dir, "f16_2x5.npy", WB_DTYPE_F16, 2, 2, 5);
    write_npy(dir, "f32_7.npy", WB_DTYPE_F32, 1, 7, 0);
    write_npy(dir, "f32_0x3.npy", WB_DTYPE_F32, 2, 0, 3);
    char *script = tu_path(dir, "check.py");
    assert_int_equal(tu_write_file(script, interop_py, strlen(interop_py)), 0);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, PYTHON " '%s' '%s'", script, dir);
    char *out = NULL, *errout = NULL;
    int rc = tu_run(cmd, &out, &errout);
    int ok = rc == 0 && out && strstr(out, "numpy ok");
    if (!ok)
        print_error("numpy could not load what we wrote (exit %d):\n%s%s", rc,
                    out ? out : "", errout ? errout : "");
    free(out);
    free(errout);
    free(script);
    tu_rmrf(dir);
    free(dir);
    assert_true(ok);
}

/* ---- numpy's files ----------------------------------------------------- */

static char *read_fixture(const char *name, size_t *n) {
    char *buf = tu_read_file(name, n);
    if (!buf) fail_msg("cannot read %s (run tools/make_npy_fixtures.py)", name);
    return buf;
}

static void test_fixtures_accepted(void **state) {
    (void)state;
    static const struct {
        const char *file;
        wb_dtype dt;
        int ndim;
        uint64_t rows, cols;
    } cases[] = {
        {NPY_FIXTURES "f32_3x4.npy", WB_DTYPE_F32, 2, 3, 4},
        {NPY_FIXTURES "f16_2x5.npy", WB_DTYPE_F16, 2, 2, 5},
        {NPY_FIXTURES "f32_7.npy", WB_DTYPE_F32, 1, 7, 1},
        {NPY_FIXTURES "f32_3x4_v2.npy", WB_DTYPE_F32, 2, 3, 4},
        {NPY_FIXTURES "f16_2x5_v3.npy", WB_DTYPE_F16, 2, 2, 5},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        size_t n;
        char *buf = read_fixture(cases[k].file, &n);
        wb_npy_info info;
        wb_err err;
        wb_err_clear(&err);
        if (parse_exact(buf, n, &info, &err)) fail_msg("%s: %s", cases[k].file, err.msg);
        assert_int_equal(info.dtype, cases[k].dt);
        assert_int_equal(info.ndim, cases[k].ndim);
        assert_true(info.rows == cases[k].rows);
        assert_true(info.cols == cases[k].cols);
        size_t esize = wb_dtype_size(info.dtype);
        assert_true(info.data_offset + info.rows * info.cols * esize == n);

        /* the data at data_offset is what the script wrote */
        for (uint64_t i = 0; i < info.rows; i++)
            for (uint64_t j = 0; j < info.cols; j++) {
                float want = info.ndim == 2 ? value_2d(i, j) : value_1d(i);
                const unsigned char *at =
                    (const unsigned char *)buf + info.data_offset + (i * info.cols + j) * esize;
                if (info.dtype == WB_DTYPE_F32) {
                    float got;
                    memcpy(&got, at, 4);
                    if (got != want) fail_msg("%s[%d,%d] = %g, expected %g", cases[k].file, (int)i, (int)j, got, want);
                } else {
                    uint16_t got = (uint16_t)(at[0] | at[1] << 8);
                    assert_int_equal(got, half_exact(want));
                }
            }

        /* the header alone suffices; one byte less is truncated */
        assert_int_equal(parse_exact(buf, (size_t)info.data_offset, &info, &err), 0);
        check_err(cases[k].file, parse_exact(buf, (size_t)info.data_offset - 1, &info, &err), &err,
                  WB_ECORRUPT, "truncated");
        free(buf);
    }
}

static void test_fixtures_rejected(void **state) {
    (void)state;
    static const struct {
        const char *file;
        const char *needle;
    } cases[] = {
        {NPY_FIXTURES "f64_2x3.npy", "dtype '<f8' is not supported (expected '<f4' or '<f2'"},
        {NPY_FIXTURES "f32_3x4_fortran.npy", "fortran_order True is not supported"},
        {NPY_FIXTURES "f32be_2x2.npy", "dtype '>f4' is not supported"},
        {NPY_FIXTURES "f32_2x2x2.npy", "shape (2, 2, 2) has 3 dimensions (expected 1 or 2)"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        size_t n;
        char *buf = read_fixture(cases[k].file, &n);
        wb_npy_info info;
        wb_err err;
        wb_err_clear(&err);
        check_err(cases[k].file, parse_exact(buf, n, &info, &err), &err, WB_EFORMAT, cases[k].needle);
        free(buf);
    }
}

/* ---- accepted variations ----------------------------------------------- */

static void test_accepts_variations(void **state) {
    (void)state;
    static const struct {
        const char *name;
        unsigned major;
        const char *dict;
        wb_dtype dt;
        int ndim;
        uint64_t rows, cols;
    } cases[] = {
        {"numpy's own", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }          \n",
         WB_DTYPE_F32, 2, 3, 4},
        {"keys reordered, no trailing comma", 1, "{'shape': (3, 4), 'fortran_order': False, 'descr': '<f2'}",
         WB_DTYPE_F16, 2, 3, 4},
        {"fortran_order first", 1, "{'fortran_order': False, 'descr': '<f4', 'shape': (5,)}",
         WB_DTYPE_F32, 1, 5, 1},
        {"double quotes", 1, "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (3, 4)}",
         WB_DTYPE_F32, 2, 3, 4},
        {"mixed quotes, no spaces", 1, "{'descr':\"<f2\",\"fortran_order\":False,'shape':(10,20)}",
         WB_DTYPE_F16, 2, 10, 20},
        {"whitespace everywhere", 1,
         " \t{ \n 'descr' \t: '<f4' ,\r\n 'fortran_order' :False , 'shape' : ( 5 , 6 , ) , \n\f } \f\n",
         WB_DTYPE_F32, 2, 5, 6},
        {"shape trailing comma", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4,), }",
         WB_DTYPE_F32, 2, 3, 4},
        {"1-D", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (7,), }", WB_DTYPE_F32, 1, 7, 1},
        {"1-D spaced", 1, "{'descr': '<f2', 'fortran_order': False, 'shape': ( 7 , ) }", WB_DTYPE_F16, 1, 7, 1},
        {"zero rows", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 300), }", WB_DTYPE_F32, 2, 0, 300},
        {"zero cols", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (5, 0), }", WB_DTYPE_F32, 2, 5, 0},
        {"zero length 1-D", 1, "{'descr': '<f2', 'fortran_order': False, 'shape': (0,), }", WB_DTYPE_F16, 1, 0, 1},
        {"dimension 00", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (00, 4), }", WB_DTYPE_F32, 2, 0, 4},
        {"no final newline", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1)}", WB_DTYPE_F32, 2, 1, 1},
        {"version 2.0", 2, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }\n", WB_DTYPE_F32, 2, 3, 4},
        {"version 3.0", 3, "{'descr': '<f2', 'fortran_order': False, 'shape': (2, 5), }\n", WB_DTYPE_F16, 2, 2, 5},
        {"big dims", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 1024), }",
         WB_DTYPE_F32, 2, UINT64_C(4294967296), 1024},
        {"max uint64 with a zero", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (18446744073709551615, 0), }",
         WB_DTYPE_F32, 2, UINT64_MAX, 0},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        unsigned char buf[512];
        size_t n = build(buf, sizeof buf, cases[k].major, 0, cases[k].dict);
        wb_npy_info info;
        wb_err err;
        wb_err_clear(&err);
        if (parse_exact(buf, n, &info, &err)) fail_msg("%s: %s", cases[k].name, err.msg);
        assert_int_equal(info.dtype, cases[k].dt);
        assert_int_equal(info.ndim, cases[k].ndim);
        assert_true(info.rows == cases[k].rows);
        assert_true(info.cols == cases[k].cols);
        assert_true(info.data_offset == n);
        /* bytes after the header (the data) are not looked at */
        unsigned char more[600];
        memcpy(more, buf, n);
        memset(more + n, 'x', sizeof more - n);
        assert_int_equal(parse_exact(more, sizeof more, &info, &err), 0);
        assert_true(info.data_offset == n);
    }

    /* a version 2.0 header longer than 65535 bytes (what v2 exists for) */
    size_t big = 70000;
    unsigned char *buf = malloc(12 + big);
    assert_non_null(buf);
    const char *dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }";
    build(buf, 12 + big, 2, 0, dict);
    memset(buf + 12 + strlen(dict), ' ', big - strlen(dict) - 1);
    buf[12 + big - 1] = '\n';
    buf[8] = (unsigned char)(big & 0xff);
    buf[9] = (unsigned char)(big >> 8 & 0xff);
    buf[10] = (unsigned char)(big >> 16);
    buf[11] = 0;
    wb_npy_info info;
    assert_int_equal(parse_exact(buf, 12 + big, &info, NULL), 0);
    assert_true(info.data_offset == 12 + big);
    assert_true(info.rows == 3 && info.cols == 4);
    free(buf);
}

/* ---- malformed headers ------------------------------------------------- */

#define RAW(s) (const unsigned char *)(s), sizeof(s) - 1
#define V1(d) NULL, 0, 1, 0, (d)
#define GOOD_TAIL "'fortran_order': False, 'shape': (3, 4), }"

typedef struct bad_case {
    const char *name;
    const unsigned char *raw; /* whole input, or NULL to build from the fields below */
    size_t rawlen;
    unsigned major, minor;    /* version written by build() */
    const char *dict;         /* header text written by build() */
    int code;                 /* expected return and err.code */
    const char *needle;       /* must appear in err.msg */
} bad_case;

static const bad_case bad_cases[] = {
    /* the fixed prefix */
    {"empty input", RAW(""), 0, 0, NULL, WB_ECORRUPT, "truncated: only 0 bytes"},
    {"bad magic", RAW("\x93NUMPZ\x01\x00\x10\x00{}"), 0, 0, NULL, WB_ECORRUPT, "NPY header: bad magic"},
    {"zip (.npz) file", RAW("PK\x03\x04\x14\x00\x00\x00\x08\x00"), 0, 0, NULL, WB_ECORRUPT, "bad magic"},
    {"text file", RAW("the 0.418 0.24968 -0.41242\n"), 0, 0, NULL, WB_ECORRUPT, "found 'the 0."},
    {"short bad magic", RAW("\x93X"), 0, 0, NULL, WB_ECORRUPT, "bad magic"},
    {"short good magic", RAW("\x93NUM"), 0, 0, NULL, WB_ECORRUPT, "truncated"},
    {"magic only", RAW("\x93NUMPY"), 0, 0, NULL, WB_ECORRUPT, "truncated: only 6 bytes"},
    {"version 9.0", RAW("\x93NUMPY\x09\x00\x10\x00{}"), 0, 0, NULL, WB_EVERSION,
     "NPY format version 9.0 is not supported (expected 1.0, 2.0 or 3.0)"},
    {"version 0.0", RAW("\x93NUMPY\x00\x00\x10\x00{}"), 0, 0, NULL, WB_EVERSION, "version 0.0"},
    {"version 1.1", NULL, 0, 1, 1, "{'descr': '<f4', " GOOD_TAIL, WB_EVERSION, "version 1.1"},
    {"version 4.0", NULL, 0, 4, 0, "{'descr': '<f4', " GOOD_TAIL, WB_EVERSION, "version 4.0"},
    {"v1 length cut", RAW("\x93NUMPY\x01\x00\x76"), 0, 0, NULL, WB_ECORRUPT, "prefix needs 10"},
    {"v2 length cut", RAW("\x93NUMPY\x02\x00\x76\x00\x00"), 0, 0, NULL, WB_ECORRUPT, "prefix needs 12"},
    {"header longer than input", RAW("\x93NUMPY\x01\x00\xf6\x0f{'descr': '<f4', " GOOD_TAIL), 0, 0, NULL,
     WB_ECORRUPT, "NPY header truncated: header length 4086 but only 69 bytes"},
    {"v2 length 4 GiB", RAW("\x93NUMPY\x02\x00\xff\xff\xff\xff{}"), 0, 0, NULL, WB_ECORRUPT,
     "header length 4294967295"},

    /* dict syntax */
    {"empty header text", V1(""), WB_ECORRUPT, "expected '{' to start the header dict at byte 10, found the end"},
    {"not a dict", V1("[1, 2, 3]"), WB_ECORRUPT, "expected '{'"},
    {"binary garbage", V1("\xff\xfe\x01"), WB_ECORRUPT, "found '\\xff'"},
    {"lone brace", V1("{"), WB_ECORRUPT, "unterminated dict starting at byte 10"},
    {"unterminated dict", V1("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), "), WB_ECORRUPT,
     "unterminated dict"},
    {"unterminated shape", V1("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4"), WB_ECORRUPT,
     "expected ',' or ')' in 'shape'"},
    {"unterminated string", V1("{'descr': '<f4}"), WB_ECORRUPT, "unterminated string starting at byte 20"},
    {"newline in string", V1("{'descr': '<f4\n', " GOOD_TAIL), WB_ECORRUPT, "unterminated string"},
    {"mismatched quotes", V1("{'descr\": '<f4', " GOOD_TAIL), WB_ECORRUPT, "unexpected key 'descr\": ' at byte 11"},
    {"escape in string", V1("{'de\\x73cr': '<f4', " GOOD_TAIL), WB_ECORRUPT, "escape sequence"},
    {"unquoted key", V1("{descr: '<f4', " GOOD_TAIL), WB_ECORRUPT, "expected a quoted string at byte 11"},
    {"missing colon", V1("{'descr' '<f4', " GOOD_TAIL), WB_ECORRUPT, "expected ':' after a key"},
    {"missing comma", V1("{'descr': '<f4' " GOOD_TAIL), WB_ECORRUPT, "expected ',' or '}' after a value"},
    {"leading comma", V1("{, 'descr': '<f4', " GOOD_TAIL), WB_ECORRUPT, "expected a quoted string"},
    {"double comma", V1("{'descr': '<f4',, " GOOD_TAIL), WB_ECORRUPT, "expected a quoted string"},
    {"garbage after dict", V1("{'descr': '<f4', " GOOD_TAIL " x"), WB_ECORRUPT,
     "expected only whitespace after the header dict"},
    {"vertical tab", V1("{'descr': '<f4',\v" GOOD_TAIL), WB_ECORRUPT, "found '\\x0b'"},
    {"second dict", V1("{'descr': '<f4', " GOOD_TAIL "{}"), WB_ECORRUPT, "only whitespace"},
    {"NUL padding", RAW("\x93NUMPY\x01\x00\x3e\x00{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }\0\0\0"),
     0, 0, NULL, WB_ECORRUPT, "found '\\x00'"},

    /* keys */
    {"missing shape", V1("{'descr': '<f4', 'fortran_order': False}"), WB_ECORRUPT, "key 'shape' is missing"},
    {"missing descr", V1("{'fortran_order': False, 'shape': (3, 4)}"), WB_ECORRUPT, "key 'descr' is missing"},
    {"missing fortran_order", V1("{'descr': '<f4', 'shape': (3, 4)}"), WB_ECORRUPT,
     "key 'fortran_order' is missing"},
    {"empty dict", V1("{}"), WB_ECORRUPT, "key 'descr' is missing"},
    {"unknown key", V1("{'descr': '<f4', 'foo': 1, " GOOD_TAIL), WB_ECORRUPT,
     "unexpected key 'foo' at byte 27 (expected only 'descr', 'fortran_order', 'shape')"},
    {"duplicate key", V1("{'descr': '<f4', 'descr': '<f4', " GOOD_TAIL), WB_ECORRUPT, "duplicate key 'descr'"},
    {"key case", V1("{'Descr': '<f4', " GOOD_TAIL), WB_ECORRUPT, "unexpected key 'Descr'"},

    /* shape */
    {"negative shape", V1("{'descr': '<f4', 'fortran_order': False, 'shape': (-3, 4), }"), WB_ECORRUPT,
     "negative dimension in 'shape' at byte 61"},
    {"huge shape", V1("{'descr': '<f4', 'fortran_order': False, 'shape': (18446744073709551616, 4), }"),
     WB_ECORRUPT, "dimension 18446744073709551616 at byte 61 does not fit in 64 bits"},
    {"very long number", V1("{'descr': '<f4', 'fortran_order': False, 'shape': "
                            "(1000000000000000000000000000000000000000000000000000000000000000000000, 4), }"),
     WB_ECORRUPT, "does not fit in 64 bits"},
    {"overflowing size f4", V1("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 2), }"),
     WB_ECORRUPT, "shape (4611686018427387904, 2) times 4 bytes per element overflows 64-bit sizes"},
    {"overflowing size f2", V1("{'descr': '<f2', 'fortran_order': False, 'shape': (9223372036854775807, 2), }"),
     WB_ECORRUPT, "times 2 bytes per element overflows"},
    {"overflowing rows*cols", V1("{'descr': '<f2', 'fortran_order': False, 'shape': (4294967296, 4294967296), }"),
     WB_ECORRUPT, "overflows"},
    {"non-number shape", V1("{'descr': '<f4', 'fortran_order': False, 'shape': ('a', 4), }"), WB_ECORRUPT,
     "expected a dimension (decimal integer) in 'shape' at byte 61, found \"'\""},
    {"float shape", V1("{'descr': '<f4', 'fortran_order': False, 'shape': (3.5, 4), }"), WB_ECORRUPT,
     "expected ',' or ')' in 'shape' at byte 62, found '.'"},
    {"hex shape", V1("{'descr': '<f4', 'fortran_order': False, 'shape': (0x10, 4), }"), WB_ECORRUPT, "found 'x'"},
    {"leading zero", V1("{'descr': '<f4', 'fortran_order': False, 'shape': (03, 4), }"), WB_ECORRUPT,
     "dimension 03 at byte 61 has a leading zero"},
    {"shape as list", V1("{'descr': '<f4', 'fortran_order': False, 'shape': [3, 4], }"), WB_ECORRUPT,
     "expected '(' to start 'shape'"},
    {"shape without comma", V1("{'descr': '<f4', 'fortran_order': False, 'shape': (7), }"), WB_ECORRUPT,
     "'shape' (7) at byte 60 is not a tuple"},
    {"shape (,)", V1("{'descr': '<f4', 'fortran_order': False, 'shape': (,), }"), WB_ECORRUPT,
     "expected a dimension"},
    {"shape double comma", V1("{'descr': '<f4', 'fortran_order': False, 'shape': (3,, 4), }"), WB_ECORRUPT,
     "expected a dimension"},
    {"shape missing comma", V1("{'descr': '<f4', 'fortran_order': False, 'shape': (3 4), }"), WB_ECORRUPT,
     "expected ',' or ')' in 'shape'"},
    {"scalar shape ()", V1("{'descr': '<f4', 'fortran_order': False, 'shape': (), }"), WB_EFORMAT,
     "shape () has 0 dimensions (expected 1 or 2)"},
    {"3-D shape", V1("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 4), }"), WB_EFORMAT,
     "shape (2, 3, 4) has 3 dimensions (expected 1 or 2)"},
    {"9-D shape", V1("{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1), }"), WB_EFORMAT,
     "has 9 dimensions"},

    /* descr */
    {"descr <f8", V1("{'descr': '<f8', " GOOD_TAIL), WB_EFORMAT,
     "NPY header: dtype '<f8' is not supported (expected '<f4' or '<f2'"},
    {"descr >f4", V1("{'descr': '>f4', " GOOD_TAIL), WB_EFORMAT, "dtype '>f4' is not supported"},
    {"descr =f4", V1("{'descr': '=f4', " GOOD_TAIL), WB_EFORMAT, "dtype '=f4' is not supported"},
    {"descr |f2", V1("{'descr': '|f2', " GOOD_TAIL), WB_EFORMAT, "dtype '|f2' is not supported"},
    {"descr f4", V1("{'descr': 'f4', " GOOD_TAIL), WB_EFORMAT, "dtype 'f4' is not supported"},
    {"descr <i4", V1("{'descr': '<i4', " GOOD_TAIL), WB_EFORMAT, "dtype '<i4'"},
    {"descr <f4 with a space", V1("{'descr': '<f4 ', " GOOD_TAIL), WB_EFORMAT, "dtype '<f4 '"},
    {"descr empty", V1("{'descr': '', " GOOD_TAIL), WB_EFORMAT, "dtype ''"},
    {"descr object", V1("{'descr': '|O', " GOOD_TAIL), WB_EFORMAT, "dtype '|O'"},
    {"descr non-ASCII", V1("{'descr': '\xe9\x01', " GOOD_TAIL), WB_EFORMAT, "dtype '\\xe9\\x01'"},
    {"descr number", V1("{'descr': 4, " GOOD_TAIL), WB_ECORRUPT, "expected a quoted dtype string for 'descr'"},
    {"structured descr", V1("{'descr': [('a', '<f4'), ('b', '<f4', (2,))], " GOOD_TAIL), WB_EFORMAT,
     "structured dtype [('a', '<f4'), ('b', '<f4', (2,))] is not supported"},
    {"unbalanced structured", V1("{'descr': [('a', '<f4'], " GOOD_TAIL), WB_ECORRUPT, "unbalanced ']'"},
    {"unterminated structured", V1("{'descr': [('a', '<f4')"), WB_ECORRUPT, "unterminated 'descr' list"},
    {"structured with a dict", V1("{'descr': [{'a': 1}], " GOOD_TAIL), WB_ECORRUPT,
     "expected a list, tuple, string or number in 'descr'"},
    {"structured too deep", V1("{'descr': [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]], "
                               GOOD_TAIL), WB_ECORRUPT, "nested more than 32 deep"},

    /* fortran_order */
    {"fortran True", V1("{'descr': '<f4', 'fortran_order': True, 'shape': (3, 4), }"), WB_EFORMAT,
     "fortran_order True is not supported"},
    {"fortran string", V1("{'descr': '<f4', 'fortran_order': 'False', 'shape': (3, 4), }"), WB_ECORRUPT,
     "expected True or False for 'fortran_order'"},
    {"fortran 0", V1("{'descr': '<f4', 'fortran_order': 0, 'shape': (3, 4), }"), WB_ECORRUPT, "True or False"},
    {"fortran false", V1("{'descr': '<f4', 'fortran_order': false, 'shape': (3, 4), }"), WB_ECORRUPT,
     "True or False"},
    {"fortran Falsey", V1("{'descr': '<f4', 'fortran_order': Falsey, 'shape': (3, 4), }"), WB_ECORRUPT,
     "True or False"},
    {"fortran missing value", V1("{'descr': '<f4', 'fortran_order': , 'shape': (3, 4), }"), WB_ECORRUPT,
     "True or False"},
};

static void test_rejects_malformed(void **state) {
    (void)state;
    size_t count = sizeof bad_cases / sizeof bad_cases[0];
    assert_true(count >= 25);
    for (size_t k = 0; k < count; k++) {
        const bad_case *c = &bad_cases[k];
        unsigned char buf[512];
        const unsigned char *in = c->raw;
        size_t n = c->rawlen;
        if (!in) {
            n = build(buf, sizeof buf, c->major, c->minor, c->dict);
            in = buf;
        }
        wb_npy_info info, before;
        memset(&info, 0xAB, sizeof info);
        before = info;
        wb_err err;
        wb_err_clear(&err);
        int rc = parse_exact(in, n, &info, &err);
        check_err(c->name, rc, &err, c->code, c->needle);
        if (memcmp(&info, &before, sizeof info) != 0) fail_msg("%s: *out written on failure", c->name);
        /* a NULL err is allowed and changes nothing but the detail */
        assert_int_equal(parse_exact(in, n, &info, NULL), c->code);
    }
}

/* The error record: offset of the failure, no file, message names the byte. */
static void test_error_record(void **state) {
    (void)state;
    unsigned char buf[256];
    size_t n = build(buf, sizeof buf, 1, 0, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 'x'), }");
    wb_npy_info info;
    wb_err err;
    wb_err_clear(&err);
    assert_int_equal(parse_exact(buf, n, &info, &err), WB_ECORRUPT);
    assert_int_equal(err.offset, 64);
    assert_int_equal(err.line, 0);
    assert_string_equal(err.file, "");
    assert_string_equal(err.msg,
                        "NPY header: expected a dimension (decimal integer) in 'shape' at byte 64, found \"'\"");
    char line[2048];
    assert_string_equal(wb_err_format(&err, line, sizeof line), err.msg);

    /* usage errors */
    assert_int_equal(wb_npy_header_parse(NULL, 10, &info, &err), WB_EUSAGE);
    assert_int_equal(wb_npy_header_parse(buf, n, NULL, &err), WB_EUSAGE);
    assert_int_equal(wb_npy_header_parse(NULL, 0, &info, &err), WB_ECORRUPT);

    /* a long garbage value is quoted shortened, and the message stays bounded */
    char dict[400];
    snprintf(dict, sizeof dict, "{'descr': '%0300d', 'fortran_order': False, 'shape': (3, 4), }", 0);
    unsigned char big[512];
    n = build(big, sizeof big, 1, 0, dict);
    assert_int_equal(parse_exact(big, n, &info, &err), WB_EFORMAT);
    assert_non_null(strstr(err.msg, "000...' is not supported"));
    assert_true(strlen(err.msg) < 200);
}

/* ---- truncation -------------------------------------------------------- */

/* Every proper prefix of a valid header fails cleanly with WB_ECORRUPT. */
static void test_every_truncation_fails(void **state) {
    (void)state;
    unsigned char hdr[WB_NPY_DATA_OFFSET];
    assert_int_equal(wb_npy_header_write(hdr, sizeof hdr, WB_DTYPE_F32, 2, 400000, 300), 0);
    for (size_t k = 0; k < sizeof hdr; k++) {
        wb_npy_info info;
        wb_err err;
        wb_err_clear(&err);
        char what[64];
        snprintf(what, sizeof what, "written header cut to %zu bytes", k);
        check_err(what, parse_exact(hdr, k, &info, &err), &err, WB_ECORRUPT, "truncated");
    }

    static const char *const files[] = {
        NPY_FIXTURES "f32_3x4.npy", NPY_FIXTURES "f32_3x4_v2.npy", NPY_FIXTURES "f16_2x5_v3.npy",
    };
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        size_t n;
        char *buf = read_fixture(files[f], &n);
        wb_npy_info info;
        assert_int_equal(parse_exact(buf, n, &info, NULL), 0);
        for (size_t k = 0; k < info.data_offset; k++) {
            wb_err err;
            wb_err_clear(&err);
            char what[600];
            snprintf(what, sizeof what, "%s cut to %zu bytes", files[f], k);
            wb_npy_info tmp;
            check_err(what, parse_exact(buf, k, &tmp, &err), &err, WB_ECORRUPT, "truncated");
        }
        free(buf);
    }
}

/* A header whose length field honestly covers a cut dict: every prefix of
 * the dict text ends the parse in a different state, and each must fail. */
static void test_every_cut_dict_fails(void **state) {
    (void)state;
    static const char *const dicts[] = {
        "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }",
        "{\"shape\": ( 7 , ) , \"descr\" : \"<f2\" , \"fortran_order\" : False }",
        "{'descr': [('a', '<f4'), ('b', '<f4', (2,))], 'fortran_order': False, 'shape': (3,), }",
    };
    for (size_t d = 0; d < sizeof dicts / sizeof dicts[0]; d++) {
        size_t len = strlen(dicts[d]);
        for (size_t cut = 0; cut < len; cut++) {
            char text[256];
            memcpy(text, dicts[d], cut);
            text[cut] = 0;
            unsigned char buf[300];
            size_t n = build(buf, sizeof buf, 1, 0, text);
            wb_npy_info info;
            wb_err err;
            wb_err_clear(&err);
            int rc = parse_exact(buf, n, &info, &err);
            if (rc != WB_ECORRUPT)
                fail_msg("dict %zu cut to %zu bytes: returned %d (%s): %s", d, cut, rc, wb_strerror(rc), err.msg);
            assert_true(err.msg[0] != 0);
        }
    }
}

/* ---- 64-bit limits ----------------------------------------------------- */

/* rows*cols*itemsize + data_offset must fit in uint64_t: the largest such
 * shape is accepted, one more row is refused. */
static void test_size_limits(void **state) {
    (void)state;
    static const wb_dtype dts[] = {WB_DTYPE_F32, WB_DTYPE_F16};
    unsigned char hdr[WB_NPY_DATA_OFFSET];
    for (size_t d = 0; d < 2; d++) {
        uint64_t size = wb_dtype_size(dts[d]);
        uint64_t max_rows = (UINT64_MAX - WB_NPY_DATA_OFFSET) / size;
        wb_npy_info info;
        wb_err err;
        wb_err_clear(&err);
        assert_int_equal(wb_npy_header_write(hdr, sizeof hdr, dts[d], 1, max_rows, 0), 0);
        assert_int_equal(parse_exact(hdr, sizeof hdr, &info, &err), 0);
        assert_true(info.rows == max_rows);
        assert_int_equal(wb_npy_header_write(hdr, sizeof hdr, dts[d], 1, max_rows + 1, 0), 0);
        check_err("one row too many", parse_exact(hdr, sizeof hdr, &info, &err), &err, WB_ECORRUPT, "overflows");

        /* 2-D: cols = 2^32, rows at the limit */
        uint64_t cols = UINT64_C(1) << 32;
        uint64_t rows = (UINT64_MAX - WB_NPY_DATA_OFFSET) / size / cols;
        assert_int_equal(wb_npy_header_write(hdr, sizeof hdr, dts[d], 2, rows, cols), 0);
        assert_int_equal(parse_exact(hdr, sizeof hdr, &info, &err), 0);
        assert_int_equal(wb_npy_header_write(hdr, sizeof hdr, dts[d], 2, rows + 1, cols), 0);
        check_err("2-D one row too many", parse_exact(hdr, sizeof hdr, &info, &err), &err, WB_ECORRUPT,
                  "overflows");
    }
}

/* ---- inputs from the fuzzer ------------------------------------------ */

/* tests/fuzz/fuzz_npy.c found no crash (2 minutes, ~23 million inputs).
 * These inputs from its corpus end the header in the middle of a token or
 * sit on a size limit; they guard the bounds checks and the limits. */
static void test_fuzz_corpus_samples(void **state) {
    (void)state;
    static const struct {
        const char *dict;
        int code;
        const char *needle;
    } cases[] = {
        {"{", WB_ECORRUPT, "unterminated dict"},
        {"{'", WB_ECORRUPT, "unterminated string"},
        {"{'descr':[", WB_ECORRUPT, "unterminated 'descr' list"},
        {"{'descr':['", WB_ECORRUPT, "unterminated string"},
        {"{'shape':(1", WB_ECORRUPT, "found the end of the header"},
        {"{'fortran_order':T", WB_ECORRUPT, "True or False"},
        /* 2 * (2^63-1) fits in 64 bits, adding the data offset does not */
        {"{'descr': '<f2', 'fortran_order': False, 'shape': (9223372036854775807,\r\r), }", WB_ECORRUPT,
         "shape (9223372036854775807,\\x0d\\x0d) times 2 bytes per element overflows"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (00000000000000000,0 ,000) }", WB_EFORMAT,
         "has 3 dimensions"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        wb_npy_info info;
        wb_err err;
        wb_err_clear(&err);
        unsigned char buf[128];
        size_t n = build(buf, sizeof buf, 1, 0, cases[k].dict);
        check_err(cases[k].dict, parse_exact(buf, n, &info, &err), &err, cases[k].code, cases[k].needle);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dtype_size_and_name),
        cmocka_unit_test(test_write_exact_bytes),
        cmocka_unit_test(test_write_usage_errors),
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_dataset_types_not_parsed),
        cmocka_unit_test(test_numpy_loads_written_file),
        cmocka_unit_test(test_fixtures_accepted),
        cmocka_unit_test(test_fixtures_rejected),
        cmocka_unit_test(test_accepts_variations),
        cmocka_unit_test(test_rejects_malformed),
        cmocka_unit_test(test_error_record),
        cmocka_unit_test(test_every_truncation_fails),
        cmocka_unit_test(test_every_cut_dict_fails),
        cmocka_unit_test(test_size_limits),
        cmocka_unit_test(test_fuzz_corpus_samples),
    };
    return cmocka_run_group_tests_name("npy", tests, NULL, NULL);
}
