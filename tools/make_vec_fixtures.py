#!/usr/bin/python3
"""make_vec_fixtures.py — write the small word-vector files that
tests/test_convert.c converts (fixtures/vectors/).

Usage: /usr/bin/python3 tools/make_vec_fixtures.py [OUTDIR]
OUTDIR defaults to fixtures/vectors next to this script's parent directory.

One file per input format and one per messy case the converter must handle
(see fixtures/README.md for the list and what the tests expect of each).
Standard library only; the output is byte-for-byte reproducible: random
values come from random.Random with a fixed seed, gzip members are written
with mtime=0 and no file name, and text is written in binary mode so line
ends are exactly what each fixture asks for.

Values of the word2vec text / binary pair are float32-exact numbers printed
with "%.9g", so strtof() of the text gives exactly the float32 stored in the
binary file and the two convert to identical stores.

Leaves out: the large multi-chunk input (tests/test_convert.c writes it into
a temporary directory at test time), fixtures/vectors/demo.glove.txt
(tools/make_demo_vectors.py) and fixtures/npy/ (tools/make_npy_fixtures.py).
"""
import gzip
import os
import random
import struct
import sys

SEED = 20240611


def f32(x):
    """Round a Python float to the nearest float32 (returned as a float)."""
    return struct.unpack("<f", struct.pack("<f", x))[0]


def gz(data):
    """One gzip member, reproducible (mtime 0, no file name)."""
    return gzip.compress(data, compresslevel=9, mtime=0)


def text(rows, sep=" ", eol="\n", trailing=""):
    """GloVe-style lines: word, values (already strings), line end."""
    out = []
    for word, vals in rows:
        w = word if isinstance(word, bytes) else word.encode("utf-8")
        line = w + (sep + sep.join(vals) + trailing).encode("ascii") + eol.encode("ascii")
        out.append(line)
    return b"".join(out)


def binary(rows, dim, newline=True, header_rows=None):
    """word2vec binary (GoogleNews layout): "rows dim\\n", then per word the
    word bytes, ' ', dim little-endian float32 and (optionally) '\\n'."""
    n = len(rows) if header_rows is None else header_rows
    out = [b"%d %d\n" % (n, dim)]
    for word, vals in rows:
        w = word if isinstance(word, bytes) else word.encode("utf-8")
        assert len(vals) == dim
        out.append(w + b" " + struct.pack("<%df" % dim, *vals) + (b"\n" if newline else b""))
    return b"".join(out)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "fixtures", "vectors")
    os.makedirs(outdir, exist_ok=True)
    rng = random.Random(SEED)
    written = []

    def put(name, data):
        with open(os.path.join(outdir, name), "wb") as f:
            f.write(data)
        written.append((name, len(data)))

    # ---- the formats --------------------------------------------------------

    # GloVe: no header, dim 5.  Hand-written values cover the decimal forms a
    # parser gets wrong: exponents (both cases, signed), -0, the smallest
    # normal and a subnormal float32, the float16 maximum, a UTF-8 word.
    glove = text([
        ("the", ["0.418", "0.24968", "-0.41242", "0.1217", "0.34527"]),
        (",", ["0.013441", "0.23682", "-0.16899", "0.40951", "0.63812"]),
        ("zero", ["0", "0", "0", "0", "-0"]),
        ("exp", ["1e-3", "-2.5E+2", "65504", "1.17549435e-38", "1e-45"]),
        ("café", ["0.1", "0.2", "0.3", "0.4", "0.5"]),
        ("last", ["-0.5", "0.25", "0.125", "-1", "7"]),
    ])
    put("glove.txt", glove)
    put("glove.txt.gz", gz(glove))
    # Two gzip members whose boundary falls in the middle of a line: the
    # decompressed stream is glove.txt again.
    cut = glove.index(b"zero") + 2
    put("glove_multimember.txt.gz", gz(glove[:cut]) + gz(glove[cut:]))

    # word2vec text and binary: the same 5 words x 4 float32-exact values.
    w2v_words = ["</s>", "in", "for", "naïve", "New_York"]
    w2v_vals = [[f32(rng.uniform(-1, 1)) for _ in range(4)] for _ in w2v_words]
    w2v_rows = list(zip(w2v_words, w2v_vals))
    w2v_text = b"%d %d\n" % (len(w2v_rows), 4) + text(
        [(w, ["%.9g" % v for v in vals]) for w, vals in w2v_rows])
    put("word2vec.txt", w2v_text)
    put("word2vec.bin", binary(w2v_rows, 4))
    put("word2vec_nonl.bin", binary(w2v_rows, 4, newline=False))
    put("word2vec.bin.gz", gz(binary(w2v_rows, 4)))

    # fastText .vec: header, "%.5g" values, a space before every line end.
    ft_words = ["</s>", ".", "the", "de", "und"]
    ft_rows = [(w, ["%.5g" % rng.uniform(-0.5, 0.5) for _ in range(6)]) for w in ft_words]
    put("fasttext.vec", b"%d %d\n" % (len(ft_rows), 6) + text(ft_rows, trailing=" "))

    # A binary file whose first vector is all zeros (its bytes are all 0x00,
    # which must not look like text to the format sniffer).
    zero_rows = [("</s>", [0.0] * 4), ("a", [f32(0.5), f32(-1.5), f32(2.0), f32(0.25)]),
                 ("b", [f32(1.0), f32(2.0), f32(3.0), f32(4.0)])]
    put("zero_first.bin", binary(zero_rows, 4))

    # ---- messy text ---------------------------------------------------------

    # glove.840B-style words with spaces, and a word whose inner token is a number.
    put("spaces.glove.txt", text([
        ("the", ["0.1", "0.2", "0.3"]),
        (". . .", ["0.4", "0.5", "0.6"]),
        ("at name@domain.com", ["0.7", "0.8", "0.9"]),
        ("new york city", ["-1", "-2", "-3"]),
        ("a 1 b", ["2", "3", "4"]),
    ]))

    put("crlf.glove.txt", text([
        ("one", ["1", "2", "3", "4"]),
        ("two", ["5", "6", "7", "8.5"]),
        ("three", ["-1", "-2", "-3", "-4.25"]),
    ], eol="\r\n"))

    # Trailing spaces and tabs, a tab-separated line, CR before the LF.
    put("trailing_spaces.glove.txt",
        b"alpha 0.5 1.5 2.5  \n"
        b"beta 1 2 3\t\n"
        b"gamma\t4\t5\t6\n"
        b"delta 7 8 9 \t \r\n")

    bom_rows = [("the", ["1", "2", "3"]), ("of", ["4", "5", "6"])]
    put("bom.glove.txt", b"\xef\xbb\xbf" + text(bom_rows))
    put("bom.word2vec.txt", b"\xef\xbb\xbf2 3\n" + text(bom_rows))

    # Blank lines: empty, spaces only, CR only, tab only; rows on lines 2, 5, 7.
    put("blank_lines.glove.txt",
        b"\n"
        b"the 1 2 3\n"
        b"   \n"
        b"\r\n"
        b"cat 4 5 6\n"
        b"\t\n"
        b"dog 7 8 9\n"
        b"\n")

    # Words that are not valid UTF-8 (kept as bytes, counted): 5 bad, 3 good.
    put("invalid_utf8.glove.txt", text([
        (b"ok", ["1", "0", "0"]),
        (b"bad\xff", ["2", "0", "0"]),
        (b"\xc3\x28", ["3", "0", "0"]),          # lead byte, then ASCII
        (b"\xc0\xaf", ["4", "0", "0"]),          # overlong '/'
        (b"\xed\xa0\x80", ["5", "0", "0"]),      # UTF-16 surrogate D800
        ("日本".encode("utf-8"), ["6", "0", "0"]),
        (b"caf\xe9", ["7", "0", "0"]),           # Latin-1
        ("\U0001F600".encode("utf-8"), ["8", "0", "0"]),
    ]))

    # "the" three times (lines 1, 3, 5), "cat" twice (2, 6): 3 duplicates.
    put("duplicates.glove.txt", text([
        ("the", ["1", "1", "1"]),
        ("cat", ["2", "2", "2"]),
        ("the", ["3", "3", "3"]),
        ("dog", ["4", "4", "4"]),
        ("the", ["5", "5", "5"]),
        ("cat", ["6", "6", "6"]),
    ]))

    # Words around LMDB's 511-byte key limit; two 600-byte words share their
    # first 503 bytes (the part of a hashed key that is the word itself).
    letters = "abcdefghijklmnopqrstuvwxyz"
    long_rows = [
        ("short", ["0.5", "0", "0"]),
        ("a" * 510, ["1", "0", "0"]),
        ("b" * 511, ["2", "0", "0"]),
        ("b" * 512, ["3", "0", "0"]),
        ("c" * 503 + "x" * 97, ["4", "0", "0"]),
        ("c" * 503 + "y" * 97, ["5", "0", "0"]),
        ("".join(rng.choice(letters) for _ in range(2000)), ["6", "0", "0"]),
        ("é" * 300, ["7", "0", "0"]),
    ]
    put("long_words.glove.txt", text(long_rows))

    # NaN and infinities (rejected unless --allow-nonfinite): lines 2-6.
    put("nan_inf.glove.txt", text([
        ("ok", ["1", "2", "3"]),
        ("a", ["nan", "0", "1"]),
        ("b", ["0", "inf", "1"]),
        ("c", ["0", "1", "-inf"]),
        ("d", ["-nan", "1", "2"]),
        ("e", ["Infinity", "1", "2"]),
        ("f", ["4", "5", "6"]),
    ]))

    # Line 3 has 4 numbers where 5 are expected.
    put("too_few.glove.txt", text([
        ("one", ["1", "2", "3", "4", "5"]),
        ("two", ["6", "7", "8", "9", "10"]),
        ("three", ["11", "12", "13", "14"]),
        ("four", ["16", "17", "18", "19", "20"]),
    ]))
    # Line 4 has 6 numbers where 5 are expected.
    put("too_many.glove.txt", text([
        ("one", ["1", "2", "3", "4", "5"]),
        ("two", ["6", "7", "8", "9", "10"]),
        ("three", ["11", "12", "13", "14", "15"]),
        ("four", ["16", "17", "18", "19", "20", "21"]),
        ("five", ["22", "23", "24", "25", "26"]),
    ]))
    # Every kind of bad line at once (for --skip-bad / --bad-lines):
    # 2 too few, 4 too many, 5 not a number, 6 blank (not bad), 7 NaN.
    put("mixed_bad.glove.txt",
        b"good1 1 2 3\n"
        b"short 1 2\n"
        b"good2 4 5 6\n"
        b"long 1 2 3 4\n"
        b"bad 1 x 3\n"
        b"\n"
        b"nanrow nan 1 2\n"
        b"good3 7 8 9\n")

    # ---- headers and truncation ---------------------------------------------

    # Binary cut in the middle of the 5th record's vector (header says 5).
    trunc_vals = [[f32(rng.uniform(-1, 1)) for _ in range(4)] for _ in range(5)]
    trunc = binary(list(zip(["w1", "w2", "w3", "w4", "w5"], trunc_vals)), 4)
    put("truncated.bin", trunc[:len(trunc) - 1 - 9])  # drop '\n' and 9 of the 16 value bytes

    # Header says 10 rows, the body has 4.
    put("header_mismatch.vec", b"10 3\n" + text([
        ("a", ["1", "2", "3"]), ("b", ["4", "5", "6"]),
        ("c", ["7", "8", "9"]), ("d", ["10", "11", "12"]),
    ]))
    put("empty.txt", b"")
    put("header_only.vec", b"3 4\n")

    # ---- medium -------------------------------------------------------------

    med = []
    for i in range(3000):
        med.append(("m%04d" % i, ["%.5f" % rng.uniform(-1, 1) for _ in range(25)]))
    put("medium.glove.txt", text(med))

    for name, n in written:
        print("%-28s %8d bytes" % (name, n))


if __name__ == "__main__":
    main()
