/*
 * wordbench/npy.h — NPY (numpy .npy v1.0) headers for wordbench's matrices.
 *
 * wordbench writes exactly one header shape: version 1.0, little-endian
 * float32 ('<f4') or float16 ('<f2') for the store (and the integer and
 * float64 types of wb_dtype for the data set), C order, shape (rows, cols) or (rows,),
 * padded with spaces and a final '\n' so the data starts at byte 4096
 * (WB_NPY_DATA_OFFSET), which keeps every row page-aligned relative to the
 * file start and lets a converter rewrite the header in place once the row
 * count is known.  numpy.load(path, mmap_mode='r') opens it unchanged.
 *
 * The parser is stricter than numpy where wordbench needs certainty (only the
 * dtypes above, C order), and tolerant where numpy is (key order, spacing,
 * trailing comma, versions 1.0, 2.0 and 3.0 of the format, any header length).
 * It never reads past the `n` bytes it is given.
 */
#ifndef WORDBENCH_NPY_H
#define WORDBENCH_NPY_H

#include <stddef.h>
#include <stdint.h>

#include "wordbench/err.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WB_NPY_DATA_OFFSET 4096u

typedef enum wb_dtype {
    WB_DTYPE_F32 = 1, /* '<f4', 4 bytes */
    WB_DTYPE_F16 = 2, /* '<f2', 2 bytes, IEEE binary16 */
    /* The data set's arrays (dataset.h); written, never accepted by
     * wb_npy_header_parse, which serves the store's float matrices. */
    WB_DTYPE_I32 = 3, /* '<i4' */
    WB_DTYPE_U16 = 4, /* '<u2' */
    WB_DTYPE_U8 = 5,  /* '|u1' */
    WB_DTYPE_U32 = 6, /* '<u4' */
    WB_DTYPE_U64 = 7, /* '<u8' */
    WB_DTYPE_F64 = 8  /* '<f8' */
} wb_dtype;

/* Bytes per element of a dtype (8, 4, 2 or 1; 0 for an unknown value). */
size_t wb_dtype_size(wb_dtype t);
/* "f32", "f16", "i32", "u16", "u8", "u32", "u64", "f64" (the names the CLI
 * uses); "?" for an unknown value. */
const char *wb_dtype_name(wb_dtype t);

typedef struct wb_npy_info {
    wb_dtype dtype;        /* element type */
    int ndim;              /* 1 or 2 */
    uint64_t rows;         /* shape[0] */
    uint64_t cols;         /* shape[1], or 1 when ndim == 1 */
    uint64_t data_offset;  /* byte offset of the first element */
} wb_npy_info;

/* Write a complete header of exactly WB_NPY_DATA_OFFSET bytes into buf
 * (bufsize >= WB_NPY_DATA_OFFSET): magic, version 1.0, the dict, space
 * padding, '\n'.  ndim 1 writes shape (rows,) and ignores cols.
 * Returns 0, or WB_EUSAGE for a bad dtype/ndim or a too small buffer. */
int wb_npy_header_write(void *buf, size_t bufsize, wb_dtype dtype, int ndim,
                        uint64_t rows, uint64_t cols);

/* Parse the header at the start of buf[0..n).  Fills *out.  Errors:
 * WB_ECORRUPT (bad magic, truncated header, unparseable dict, shape that
 * overflows 64-bit sizes), WB_EVERSION (unknown major version),
 * WB_EFORMAT (a dtype other than <f4/<f2, fortran_order True, ndim not 1/2).
 * err (may be NULL) gets a message naming what was found. */
int wb_npy_header_parse(const void *buf, size_t n, wb_npy_info *out, wb_err *err);

#ifdef __cplusplus
}
#endif
#endif /* WORDBENCH_NPY_H */
