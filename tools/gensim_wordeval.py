#!/usr/bin/python3
"""gensim_wordeval.py — gensim 4.2's word benchmarks on a vector file, as the
reference `wordbench evaluate` must equal; and the comparison of the two.

Usage:
  /usr/bin/python3 tools/gensim_wordeval.py VECTORS [--analogies F]... [--pairs F]...
      [--restrict-vocab N] [--case-sensitive] [--dummy4unknown] [--method add|mul]
      [--format glove|word2vec|word2vec-bin|kv] [--compare WB.json [--view store|model]]
      [--out FILE] [--save-kv FILE]

VECTORS is read with KeyedVectors.load_word2vec_format (glove = no header)
or KeyedVectors.load (kv, memory-mapped).  Prints one JSON document shaped
like one entry of `wordbench evaluate --json`'s "results" (plus "seconds":
the benchmark time, loading excluded, and "load_seconds").

--out FILE: write the JSON there instead of stdout.  --save-kv FILE: only
load VECTORS and save them in gensim's own format (for --format kv).

--compare WB.json: compare with wordbench's --json
output (the result whose "view" is --view, default store): every section's
correct / incorrect counts, the questions and out-of-vocabulary counts, and
each pairs file's count, Pearson and Spearman correlations (to 1e-6) and
p-values (relative 1e-3: they magnify the float32 rounding of the
similarities).  Prints the differences and exits 1 on any.

The benchmarks are gensim's own methods: evaluate_word_analogies and
evaluate_word_pairs.  --method mul has no evaluate_word_analogies in gensim
4.2 (its similarity_function argument is not used), so the analogies are
then gensim's evaluate_word_analogies with most_similar replaced by
most_similar_cosmul on the first N vectors (most_similar_cosmul searches all
vectors and ignores restrict_vocab, so the KeyedVectors is cut to N rows).
"""
import argparse
import json
import logging
import math
import sys
import time


def load(path, fmt):
    from gensim.models import KeyedVectors
    if fmt == "kv":
        return KeyedVectors.load(path, mmap="r")
    if fmt == "glove":
        return KeyedVectors.load_word2vec_format(path, binary=False, no_header=True)
    return KeyedVectors.load_word2vec_format(path, binary=(fmt == "word2vec-bin"))


def restricted(kv, n):
    """A KeyedVectors holding the first n vectors of kv."""
    from gensim.models import KeyedVectors
    n = min(n, len(kv.index_to_key))
    r = KeyedVectors(kv.vector_size, dtype=kv.vectors.dtype)
    r.add_vectors(kv.index_to_key[:n], kv.vectors[:n])
    return r


def run(kv, analogies, pairs, restrict, case_insensitive, dummy, method):
    out = {"view": "gensim", "vocab": min(restrict, len(kv.index_to_key)) if restrict else len(kv.index_to_key),
           "analogies": [], "pairs": []}
    t0 = time.perf_counter()
    for path in analogies:
        target = kv
        if method == "mul":
            target = restricted(kv, restrict or len(kv.index_to_key))
            cosmul = target.most_similar_cosmul
            target.most_similar = lambda positive, negative, topn, restrict_vocab: cosmul(
                positive=positive, negative=negative, topn=topn)
        # questions and out-of-vocabulary counts are only logged by gensim: count them from its log records
        counter = OovCounter()
        log = logging.getLogger("gensim.models.keyedvectors")
        level, propagate = log.level, log.propagate
        log.setLevel(logging.DEBUG)
        log.propagate = False
        log.addHandler(counter)
        score, sections = target.evaluate_word_analogies(path, restrict_vocab=restrict or len(kv.index_to_key),
                                                         case_insensitive=case_insensitive, dummy4unknown=dummy)
        log.removeHandler(counter)
        log.setLevel(level)
        log.propagate = propagate
        secs = []
        for s in sections:
            c, i = len(s["correct"]), len(s["incorrect"])
            secs.append({"section": s["section"], "correct": c, "incorrect": i,
                         "accuracy": c / (c + i) if c + i else 0.0})
        total = secs.pop()
        questions = total["correct"] + total["incorrect"] + (0 if dummy else counter.oov)
        out["analogies"].append({"file": path, "questions": questions, "oov": counter.oov,
                                 "oov_ratio": counter.ratio, "sections": secs, "total": total})
    for path in pairs:
        try:
            pearson, spearman, oov_ratio = kv.evaluate_word_pairs(
                path, restrict_vocab=restrict or len(kv.index_to_key), case_insensitive=case_insensitive,
                dummy4unknown=dummy)
        except ValueError as e:  # no pair in the vocabulary (or one): wordbench reports NaN there
            nan = float("nan")
            out["pairs"].append({"file": path, "pearson": nan, "pearson_p": nan, "spearman": nan, "spearman_p": nan,
                                 "oov_ratio": None, "error": str(e)})
            continue
        out["pairs"].append({"file": path, "pearson": float(pearson[0]), "pearson_p": float(pearson[1]),
                             "spearman": float(spearman[0]), "spearman_p": float(spearman[1]),
                             "oov_ratio": float(oov_ratio)})
    out["seconds"] = time.perf_counter() - t0
    return out


class OovCounter(logging.Handler):
    """Reads 'Quadruplets with out-of-vocabulary words: x%' and the debug /
    info lines of skipped questions to count questions and OOV ones."""

    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.oov = 0
        self.ratio = None

    def emit(self, record):
        msg = record.getMessage()
        if msg.startswith("Skipping line #") or msg.startswith("Zero accuracy for line #"):
            self.oov += 1
        elif msg.startswith("Quadruplets with out-of-vocabulary words:"):
            self.ratio = float(msg.split(":")[1].strip().rstrip("%"))


def close(a, b, tol):
    """a (gensim) equals b (wordbench) within tol; NaN equals NaN or JSON null."""
    nan = [x is None or (isinstance(x, float) and math.isnan(x)) for x in (a, b)]
    if nan[0] or nan[1]:
        return nan[0] and nan[1]
    return abs(a - b) <= tol


def compare(ref, wb, path_of):
    bad = []
    for ra, wa in zip(ref["analogies"], wb["analogies"]):
        name = path_of(ra["file"])
        if len(ra["sections"]) != len(wa["sections"]):
            bad.append("%s: %d sections, wordbench %d" % (name, len(ra["sections"]), len(wa["sections"])))
        for rs, ws in zip(ra["sections"] + [ra["total"]], wa["sections"] + [wa["total"]]):
            for k in ("correct", "incorrect"):
                if rs[k] != ws[k]:
                    bad.append("%s: section %s: %s gensim %d, wordbench %d" % (name, rs["section"], k, rs[k], ws[k]))
            if not close(rs["accuracy"], ws["accuracy"], 1e-6):
                bad.append("%s: section %s: accuracy gensim %r, wordbench %r" % (name, rs["section"],
                                                                                  rs["accuracy"], ws["accuracy"]))
        for k in ("questions", "oov"):
            if ra[k] != wa[k]:
                bad.append("%s: %s gensim %d, wordbench %d" % (name, k, ra[k], wa[k]))
        if ra["oov_ratio"] is not None and not close(ra["oov_ratio"], wa["oov_ratio"], 0.05):
            bad.append("%s: oov ratio gensim %.1f%%, wordbench %r" % (name, ra["oov_ratio"], wa["oov_ratio"]))
    for rp, wp in zip(ref["pairs"], wb["pairs"]):
        name = path_of(rp["file"])
        for k in ("pearson", "spearman", "oov_ratio"):
            if rp[k] is None and "error" in rp:  # gensim raised: no ratio to compare
                continue
            if not close(rp[k], wp[k], 1e-6):
                bad.append("%s: %s gensim %r, wordbench %r" % (name, k, rp[k], wp[k]))
        for k in ("pearson_p", "spearman_p"):
            a, b = rp[k], wp[k]
            if not (close(a, b, 0) or (a is not None and b is not None and abs(a - b) <= 1e-3 * abs(a) + 1e-300)):
                bad.append("%s: %s gensim %r, wordbench %r" % (name, k, a, b))
    if len(ref["analogies"]) != len(wb["analogies"]) or len(ref["pairs"]) != len(wb["pairs"]):
        bad.append("different numbers of benchmark files")
    return bad


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("vectors")
    ap.add_argument("--analogies", action="append", default=[])
    ap.add_argument("--pairs", action="append", default=[])
    ap.add_argument("--restrict-vocab", type=int, default=300000)
    ap.add_argument("--case-sensitive", action="store_true")
    ap.add_argument("--dummy4unknown", action="store_true")
    ap.add_argument("--method", choices=("add", "mul"), default="add")
    ap.add_argument("--format", choices=("glove", "word2vec", "word2vec-bin", "kv"), default="glove")
    ap.add_argument("--compare")
    ap.add_argument("--view", default="store")
    ap.add_argument("--out")
    ap.add_argument("--save-kv")
    a = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    t0 = time.perf_counter()
    kv = load(a.vectors, a.format)
    load_s = time.perf_counter() - t0
    if a.save_kv:
        kv.save(a.save_kv)
        return 0
    ref = run(kv, a.analogies, a.pairs, a.restrict_vocab, not a.case_sensitive, a.dummy4unknown, a.method)
    ref["load_seconds"] = load_s
    if a.out:
        with open(a.out, "w") as f:
            json.dump(ref, f)
            f.write("\n")
    elif not a.compare:
        json.dump(ref, sys.stdout)
        print()
    if not a.compare:
        return 0
    with open(a.compare) as f:
        wbj = json.load(f)
    views = [r for r in wbj["results"] if r["view"] == a.view]
    if not views:
        print("gensim_wordeval: no result with view %r in %s" % (a.view, a.compare), file=sys.stderr)
        return 1
    bad = compare(ref, views[0], lambda p: p.rsplit("/", 1)[-1])
    for b in bad:
        print("MISMATCH " + b)
    if not bad:
        n = sum(len(x["sections"]) + 1 for x in ref["analogies"])
        print("gensim %s and wordbench agree: %d analogy sections, %d pairs files (gensim %.2fs)" % (
            __import__("gensim").__version__, n, len(ref["pairs"]), ref["seconds"]))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
