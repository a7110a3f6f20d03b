/*
 * fuzz_npy.c — libFuzzer target for the NPY header parser (src/store/npy.c).
 *
 * Contains: one entry point that parses the input as a .npy header and
 * checks the parser's contract: it returns 0 or one of WB_ECORRUPT,
 * WB_EVERSION, WB_EFORMAT with a filled, NUL-terminated message; on success
 * the info is consistent (data_offset within the input, sizes that fit in
 * 64 bits) and re-writing it with wb_npy_header_write parses back to the
 * same shape and dtype.  A broken contract aborts, so libFuzzer saves the
 * input.  Out-of-bounds reads are caught by AddressSanitizer: libFuzzer
 * hands over a heap block of exactly `size` bytes.
 *
 * Leaves out: the data after the header.  Seeds: tests/fuzz/corpus/npy (the
 * files of fixtures/npy and headers written by wb_npy_header_write).
 *
 * The harness body is fuzz_npy_one(); tests/test_fuzz_regress.c includes
 * this file with WB_FUZZ_NO_MAIN defined.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wordbench/err.h"
#include "wordbench/npy.h"

#include "fuzz_common.h"

#define FN_CHECK(c) ((c) ? (void)0 : wbf_fail("fuzz_npy.c", #c, __LINE__))

static int fuzz_npy_one(const uint8_t *data, size_t size) {
    wb_npy_info info;
    wb_err err;
    wb_err_clear(&err);
    int rc = wb_npy_header_parse(data, size, &info, &err);
    if (rc != 0) {
        FN_CHECK(rc == WB_ECORRUPT || rc == WB_EVERSION || rc == WB_EFORMAT);
        FN_CHECK(err.code == rc && err.msg[0] && memchr(err.msg, 0, sizeof err.msg));
        return 0;
    }
    FN_CHECK(err.code == 0); /* err is only written on failure */
    FN_CHECK(info.dtype == WB_DTYPE_F32 || info.dtype == WB_DTYPE_F16);
    FN_CHECK(info.ndim == 1 || info.ndim == 2);
    FN_CHECK(info.ndim == 2 || info.cols == 1);
    FN_CHECK(info.data_offset >= 10 && info.data_offset <= size);

    /* rows*cols*itemsize + data_offset fits (the parser promises it). */
    uint64_t esize = wb_dtype_size(info.dtype);
    if (info.rows && info.cols) {
        FN_CHECK(info.rows <= UINT64_MAX / info.cols);
        uint64_t count = info.rows * info.cols;
        FN_CHECK(count <= UINT64_MAX / esize);
        FN_CHECK(count * esize <= UINT64_MAX - info.data_offset);
    }

    /* Round trip through the writer, when the 4096-byte header leaves room. */
    uint64_t bytes = info.rows * info.cols * esize;
    if (bytes <= UINT64_MAX - WB_NPY_DATA_OFFSET) {
        static unsigned char hdr[WB_NPY_DATA_OFFSET];
        FN_CHECK(wb_npy_header_write(hdr, sizeof hdr, info.dtype, info.ndim, info.rows, info.cols) == 0);
        wb_npy_info again;
        FN_CHECK(wb_npy_header_parse(hdr, sizeof hdr, &again, NULL) == 0);
        if (again.dtype != info.dtype || again.ndim != info.ndim || again.rows != info.rows ||
            again.cols != info.cols || again.data_offset != WB_NPY_DATA_OFFSET)
            wbf_fail("fuzz_npy.c", "round trip", __LINE__);
    }
    return 0;
}

#ifndef WB_FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return fuzz_npy_one(data, size);
}
#endif
