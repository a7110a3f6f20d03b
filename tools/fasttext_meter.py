#!/usr/bin/python3
"""fastText's `test` meter (src/meter.cc, src/fasttext.cc of fastText 0.9.2)
recomputed from a labelled file and the predictions made for it, so that
`wordbench eval` can be checked against fastText on the SAME predictions.

    fasttext_meter.py TRAIN TEST PREDICTIONS K skip|keep

TRAIN       the training file (fastText format): its labels are the model's.
TEST        the labelled file evaluated (fastText format, `__label__` prefix).
PREDICTIONS either fastText's `predict-prob MODEL TEST K` output, one line
            per line of TEST (`__label__a 0.9 __label__b 0.1`), or
            `wordbench predict --json --format fasttext --top-k K` output, one
            line per record naming its line of TEST
            (`{"line": 7, "labels": [{"label": "a", "prob": 0.9}, ...]}`).
K           the k of P@k and R@k.
skip        fastText's own rule: labels the model does not know are dropped
            (Dictionary::getLine keeps only labels with an id), and a line
            left without labels, or without predictions (fastText: no known
            word), is not counted.
keep        wordbench's default: an unknown label stays a true label that is
            never predicted (it adds to the gold count, never to the hits),
            and its line is counted.

Prints what `fasttext test` prints: N, P@K, R@K (tab-separated, %.6g).
Meter::log: N += 1, gold += labels, predicted += predictions, predictedGold
+= predictions that are true labels; P@K = predictedGold / predicted,
R@K = predictedGold / gold.
"""
import json
import sys

PREFIX = "__label__"


def labels_of(line):
    out = []
    for tok in line.split():
        if not tok.startswith(PREFIX):
            break  # labels come first: a later __label__ token is text
        out.append(tok[len(PREFIX):])
    return out


def read_predictions(path, k):
    """{line number of TEST: [labels, best first]}"""
    out = {}
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            line = line.strip()
            if line.startswith("{"):
                d = json.loads(line)
                out[d["line"]] = [p["label"] for p in d["labels"]][:k]
            else:
                out[i] = [t[len(PREFIX):] for t in line.split()[0::2]][:k]
    return out


def main(argv):
    if len(argv) != 6 or argv[5] not in ("skip", "keep"):
        sys.exit(__doc__)
    train, test, preds, k, mode = argv[1], argv[2], argv[3], int(argv[4]), argv[5]
    known = set()
    with open(train, encoding="utf-8", errors="replace") as f:
        for line in f:
            known.update(labels_of(line))
    byline = read_predictions(preds, k)
    n = gold = predicted = hits = 0
    with open(test, encoding="utf-8", errors="replace") as t:
        for i, tl in enumerate(t, 1):
            labs = labels_of(tl)
            if mode == "skip":
                labs = [l for l in labs if l in known]
            pr = byline.get(i, [])
            if not labs or (mode == "skip" and not pr):
                continue
            n += 1
            gold += len(labs)
            predicted += len(pr)
            hits += sum(1 for x in pr if x in labs)
    print("N\t%d" % n)
    print("P@%d\t%.6g" % (k, hits / predicted if predicted else float("nan")))
    print("R@%d\t%.6g" % (k, hits / gold if gold else float("nan")))


if __name__ == "__main__":
    main(sys.argv)
