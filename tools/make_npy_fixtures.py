#!/usr/bin/python3
"""make_npy_fixtures.py — write the small .npy files tests/test_npy.c reads.

Usage: /usr/bin/python3 tools/make_npy_fixtures.py [OUTDIR]
OUTDIR defaults to fixtures/npy next to this script's parent directory.

Every file is written by numpy itself (np.save / np.lib.format.write_array),
so the tests check wordbench's parser against the real producer.  The output
is deterministic: values are small exact binary fractions computed from the
element index, never random.  The header padding numpy chooses may differ
between numpy versions; the tests only rely on what the header says and on
the data at the offset it gives.

Value of element (i, j) in every 2-D fixture: i + j / 4 (exact in float16);
element i of a 1-D fixture: i - 3.5.
"""
import os
import sys

import numpy as np
from numpy.lib import format as npf


def matrix(rows, cols, dtype):
    i = np.arange(rows, dtype=np.float64)[:, None]
    j = np.arange(cols, dtype=np.float64)[None, :]
    return (i + j / 4.0).astype(dtype)


def save(outdir, name, arr, version=None):
    path = os.path.join(outdir, name)
    with open(path, "wb") as f:
        if version is None:
            np.save(f, arr, allow_pickle=False)
        else:
            npf.write_array(f, arr, version=version, allow_pickle=False)
    return path


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "fixtures", "npy")
    os.makedirs(outdir, exist_ok=True)

    # Accepted by wordbench.
    save(outdir, "f32_3x4.npy", matrix(3, 4, "<f4"))
    save(outdir, "f16_2x5.npy", matrix(2, 5, "<f2"))
    save(outdir, "f32_7.npy", (np.arange(7, dtype=np.float64) - 3.5).astype("<f4"))
    save(outdir, "f32_3x4_v2.npy", matrix(3, 4, "<f4"), version=(2, 0))
    save(outdir, "f16_2x5_v3.npy", matrix(2, 5, "<f2"), version=(3, 0))

    # Rejected with WB_EFORMAT.
    save(outdir, "f64_2x3.npy", matrix(2, 3, "<f8"))
    save(outdir, "f32_3x4_fortran.npy", np.asfortranarray(matrix(3, 4, "<f4")))
    save(outdir, "f32be_2x2.npy", matrix(2, 2, ">f4"))
    save(outdir, "f32_2x2x2.npy", np.zeros((2, 2, 2), dtype="<f4"))

    # Check that numpy wrote the headers the tests expect.
    for name, dtype, shape, fortran in [
        ("f32_3x4_fortran.npy", "<f4", (3, 4), True),
        ("f32_3x4_v2.npy", "<f4", (3, 4), False),
    ]:
        with open(os.path.join(outdir, name), "rb") as f:
            version = npf.read_magic(f)
            hdr = npf._read_array_header(f, version)
        assert hdr == (shape, fortran, np.dtype(dtype)), (name, hdr)


if __name__ == "__main__":
    main()
