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
 * Leaves out: the data after the header.  Seed it with the files in fixtures/npy:
 *   fuzz_npy -max_total_time=120 corpus/ /work/main/fixtures/npy
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wordbench/err.h"
#include "wordbench/npy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    wb_npy_info info;
    wb_err err;
    wb_err_clear(&err);
    int rc = wb_npy_header_parse(data, size, &info, &err);
    if (rc != 0) {
        if (rc != WB_ECORRUPT && rc != WB_EVERSION && rc != WB_EFORMAT) abort();
        if (err.code != rc || !err.msg[0] || !memchr(err.msg, 0, sizeof err.msg)) abort();
        return 0;
    }
    if (err.code != 0) abort(); /* err is only written on failure */
    if (info.dtype != WB_DTYPE_F32 && info.dtype != WB_DTYPE_F16) abort();
    if (info.ndim != 1 && info.ndim != 2) abort();
    if (info.ndim == 1 && info.cols != 1) abort();
    if (info.data_offset < 10 || info.data_offset > size) abort();

    /* rows*cols*itemsize + data_offset fits (the parser promises it). */
    uint64_t esize = wb_dtype_size(info.dtype);
    if (info.rows && info.cols) {
        if (info.rows > UINT64_MAX / info.cols) abort();
        uint64_t count = info.rows * info.cols;
        if (count > UINT64_MAX / esize) abort();
        if (count * esize > UINT64_MAX - info.data_offset) abort();
    }

    /* Round trip through the writer, when the 4096-byte header leaves room. */
    uint64_t bytes = info.rows * info.cols * esize;
    if (bytes <= UINT64_MAX - WB_NPY_DATA_OFFSET) {
        static unsigned char hdr[WB_NPY_DATA_OFFSET];
        if (wb_npy_header_write(hdr, sizeof hdr, info.dtype, info.ndim, info.rows, info.cols) != 0)
            abort();
        wb_npy_info again;
        if (wb_npy_header_parse(hdr, sizeof hdr, &again, NULL) != 0) abort();
        if (again.dtype != info.dtype || again.ndim != info.ndim || again.rows != info.rows ||
            again.cols != info.cols || again.data_offset != WB_NPY_DATA_OFFSET)
            abort();
    }
    return 0;
}
