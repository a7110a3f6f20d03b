#!/usr/bin/python3
"""make_analogy_vectors.py — a synthetic GloVe file in which the Google
analogy questions are seen and partly answerable, for benchmarking
`wordbench evaluate` against gensim (tools/bench/bench_evaluate.sh).

Usage:
  /usr/bin/python3 tools/bench/make_analogy_vectors.py IN.txt QUESTIONS OUT.txt [--stride N] [--first N]

IN.txt is a wb_gen_glove file (random words and vectors, std 0.4).  Every
word of QUESTIONS (lower-cased, as GloVe spells words) is put at rows
FIRST, FIRST + STRIDE, ... (defaults 50 and 300: all within the first
300000 rows for the 905 words of the Google set), replacing the generated
word there; a generated word that already equals a question word keeps its
row when it is inside the first 300000 rows, else it is renamed.  The
question words get vectors with the analogies' structure: each section has
an offset o_s, and for each pair (x, y) of a section met first with one
side still unset, y = x + o_s + noise (or x = y - o_s + noise); all values
follow N(0, 0.4) like the generated ones, the noise N(0, 1.2): large enough
that about half the answers are wrong (in 300 dimensions random competitors
are nearly orthogonal, so a smaller noise gives ~100%).  So some sections are mostly
right and others (where a word's vector was fixed by an earlier relation)
mostly wrong: accuracies are neither 0 nor 1, which is what an equality
test needs.  Values are printed with %.5g.  Deterministic (numpy seed 15).
"""
import argparse
import sys

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("inp")
    ap.add_argument("questions")
    ap.add_argument("out")
    ap.add_argument("--stride", type=int, default=300)
    ap.add_argument("--first", type=int, default=50)
    ap.add_argument("--keep", type=int, default=300000, help="rows that count as the vocabulary")
    a = ap.parse_args()

    pairs = {}  # section -> list of (x, y)
    order = []  # question words in first-seen order
    seen = set()
    section = None
    with open(a.questions, encoding="utf-8") as f:
        for line in f:
            if line.startswith(": "):
                section = line[2:].strip()
                pairs[section] = []
                continue
            w = [t.lower() for t in line.split()]
            if len(w) != 4:
                continue
            for t in w:
                if t not in seen:
                    seen.add(t)
                    order.append(t)
            for p in ((w[0], w[1]), (w[2], w[3])):
                if p not in pairs[section]:
                    pairs[section].append(p)

    rng = np.random.default_rng(15)
    dim = None
    existing = {}  # question word -> row where IN already has it
    with open(a.inp, "rb") as f:
        for r, line in enumerate(f):
            sp = line.index(b" ")
            if dim is None:
                dim = line.count(b" ")
            w = line[:sp].decode("utf-8", "surrogateescape")
            if w in seen:
                existing[w] = r
    vec = {}
    std = 0.4
    for s, ps in pairs.items():
        off = rng.normal(0, std, dim)
        for x, y in ps:
            if x in vec and y in vec:
                continue
            if x not in vec and y not in vec:
                vec[x] = rng.normal(0, std, dim)
            if y not in vec:
                vec[y] = vec[x] + off + rng.normal(0, 3.0 * std, dim)
            else:
                vec[x] = vec[y] - off + rng.normal(0, 3.0 * std, dim)
    place = {}  # row -> word
    row = a.first
    for w in order:
        if w in existing and existing[w] < a.keep:
            place[existing[w]] = w
            continue
        while row in place or row in existing.values():
            row += 1
        place[row] = w
        row += a.stride
    if max(place) >= a.keep:
        sys.exit("make_analogy_vectors: the words do not fit in the first %d rows" % a.keep)
    renamed = 0
    with open(a.inp, "rb") as f, open(a.out, "wb") as o:
        for r, line in enumerate(f):
            if r in place:
                w = place[r]
                o.write((w + " " + " ".join("%.5g" % v for v in vec[w]) + "\n").encode("utf-8"))
                continue
            sp = line.index(b" ")
            word = line[:sp].decode("utf-8", "surrogateescape")
            if word in seen:  # a question word beyond the vocabulary, placed elsewhere: rename it
                o.write(line[:sp] + b"zqx" + line[sp:])
                renamed += 1
                continue
            o.write(line)
    print("make_analogy_vectors: %d question words placed in rows %d..%d, %d kept where they were, %d renamed"
          % (len(order), min(place), max(place), sum(1 for w in order if existing.get(w, a.keep) < a.keep),
             renamed), file=sys.stderr)


if __name__ == "__main__":
    main()
