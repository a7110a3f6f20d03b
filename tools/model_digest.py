#!/usr/bin/python3
"""model_digest.py -- the SHA-256 of a model file without its run record.

`train` ends by rewriting the model file with what the run was (bundle.h
wb_bundle_finish): META lines `history`, `saved_epoch`, `data`, `data_key`,
`threshold`, `threshold_f1`.  The training file's path is among them, so two
trainings of the same bytes from another directory, or from stdin, differ there
and nowhere else.  This prints the SHA-256 of the file with those lines taken out
of META and the XXH3-64 trailer recomputed: exactly the file a build before the
run record wrote (fixtures/dataset/reference.txt was made by one), so the digest
of an older file is its plain sha256sum.

Usage: tools/model_digest.py MODEL.wbm   (prints 64 hex digits; exit 1 on a file
that is not a model file).  Needs python3-xxhash.
"""
import hashlib
import struct
import sys

import xxhash

RUN_KEYS = {b"history", b"saved_epoch", b"data", b"data_key", b"threshold", b"threshold_f1"}
MAGIC = b"WBMODEL\0"
HEADER = 8 + 4 + 4 + 8  # magic, version, flags, fingerprint
SECTION = 4 + 4 + 8  # tag, part, length


def tag(s):
    return s[0] | s[1] << 8 | s[2] << 16 | s[3] << 24


def digest(blob):
    if len(blob) < HEADER + 8 or blob[:8] != MAGIC:
        raise ValueError("not a model file")
    body = blob[:-8]
    out = bytearray(body[:HEADER])
    at = HEADER
    while at < len(body):
        if at + SECTION > len(body):
            raise ValueError("truncated section header at byte %d" % at)
        t, part, n = struct.unpack_from("<IIQ", body, at)
        data = body[at + SECTION:at + SECTION + n]
        if len(data) != n:
            raise ValueError("truncated section at byte %d" % at)
        if t == tag(b"META"):
            text = data[:-1] if data.endswith(b"\0") else data
            keep = [ln for ln in text.split(b"\n") if ln.split(b" ", 1)[0] not in RUN_KEYS]
            data = b"\n".join(keep) + b"\0"
        out += struct.pack("<IIQ", t, part, len(data)) + data
        at += SECTION + n
    out += struct.pack("<Q", xxhash.xxh3_64_intdigest(bytes(out)))
    return hashlib.sha256(out).hexdigest()


def main():
    if len(sys.argv) != 2:
        print("usage: model_digest.py MODEL", file=sys.stderr)
        return 2
    try:
        with open(sys.argv[1], "rb") as f:
            print(digest(f.read()))
    except (OSError, ValueError) as e:
        print("model_digest.py: %s: %s" % (sys.argv[1], e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
