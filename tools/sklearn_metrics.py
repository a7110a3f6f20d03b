#!/usr/bin/python3
"""Check `wordbench eval --json` against scikit-learn on the model's own predictions.

Usage: sklearn_metrics.py EVAL_JSON PREDICT_JSONL LABELLED_FILE THRESHOLD K
  EVAL_JSON      the output of `wordbench eval MODEL FILE --json --threshold T -k K`
  PREDICT_JSONL  the output of `wordbench predict MODEL TEXTS --json --top-k 1000` on FILE's texts
                 (every label's probability, %.9g: the float32 values exactly)
  LABELLED_FILE  FILE itself (TSV: text<TAB>label; otherwise fastText __label__ lines)
Prints the figures that differ and exits 1, or exits 0.  Used by tests/cli/metrics_sklearn.sh.
Definitions: include/wordbench/metrics.h.  Needs numpy and scikit-learn (Debian python3-sklearn).
"""
import json
import sys

import numpy as np
from sklearn.metrics import (accuracy_score, average_precision_score, confusion_matrix, hamming_loss, log_loss,
                             precision_recall_fscore_support, roc_auc_score)


def labels_of(path):
    out = []
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if path.endswith(".tsv"):
            out.append([line.split("\t")[-1]])
        else:
            out.append([w[len("__label__"):] for w in line.split() if w.startswith("__label__")])
    return out


def main():
    ev = json.load(open(sys.argv[1]))
    preds = [json.loads(l) for l in open(sys.argv[2])]
    truth = labels_of(sys.argv[3])
    th, k = float(sys.argv[4]), int(sys.argv[5])
    names = [c["label"] for c in ev["classes"]]
    ids = {n: i for i, n in enumerate(names)}
    L, n, task = len(names), len(preds), ev["task"]
    assert n == len(truth) == ev["examples"], (n, len(truth), ev["examples"])
    P = np.zeros((n, L), dtype=np.float32)
    for i, p in enumerate(preds):
        for q in p["labels"]:
            P[i, ids[q["label"]]] = np.float32(q["prob"])
    P64 = P.astype(np.float64)
    want = {}
    if task == "binary":
        y = np.array([ids[t[0]] for t in truth])
        p = P[:, 1]
        yp = (p >= np.float32(th)).astype(int)
        want["acc"] = accuracy_score(y, yp)
        want["precision"], want["recall"], want["f1"], _ = precision_recall_fscore_support(
            y, yp, average="binary", zero_division=0)
        top1 = (p > np.float32(1) - p).astype(int)
        want["p_at_k"] = want["r_at_k"] = float(np.mean(top1 == y))
        want["log_loss"] = log_loss(y, p.astype(np.float64), labels=[0, 1])
        want["avg_precision"] = average_precision_score(y, p.astype(np.float64))
        want["auc"] = roc_auc_score(y, p.astype(np.float64))
        want["hamming"] = hamming_loss(y, yp)
        Y, Yp = y, yp
    elif task == "multiclass":
        y = np.array([ids[t[0]] for t in truth])
        order = np.argsort(-P, axis=1, kind="stable")  # wb_topk: ties to the lower id
        yp = order[:, 0]
        want["acc"] = accuracy_score(y, yp)
        want["precision"], want["recall"], want["f1"], _ = precision_recall_fscore_support(
            y, yp, average="micro", zero_division=0)
        hits = sum(int(y[i] in order[i, :k]) for i in range(n))
        want["p_at_k"], want["r_at_k"] = hits / (k * n), hits / n
        want["log_loss"] = log_loss(y, P64, labels=list(range(L)))
        Yb = np.eye(L)[y]
        pos = [c for c in range(L) if Yb[:, c].any()]
        want["avg_precision"] = average_precision_score(Yb[:, pos], P64[:, pos], average="macro")
        both = [c for c in range(L) if Yb[:, c].any() and not Yb[:, c].all()]
        want["auc"] = roc_auc_score(Yb[:, both], P64[:, both], average="macro")
        want["hamming"] = hamming_loss(y, yp)
        Y, Yp = y, yp
    else:
        Y = np.zeros((n, L), dtype=int)
        for i, t in enumerate(truth):
            for l in t:
                Y[i, ids[l]] = 1
        Yp = (P >= np.float32(th)).astype(int)
        want["acc"] = accuracy_score(Y, Yp)
        want["precision"], want["recall"], want["f1"], _ = precision_recall_fscore_support(
            Y, Yp, average="micro", zero_division=0)
        order = np.argsort(-P, axis=1, kind="stable")
        hits = sum(int(Y[i, order[i, :k]].sum()) for i in range(n))
        want["p_at_k"], want["r_at_k"] = hits / (k * n), hits / Y.sum()
        want["log_loss"] = log_loss(Y.ravel(), P64.ravel(), labels=[0, 1])
        pos = [c for c in range(L) if Y[:, c].any()]
        want["avg_precision"] = average_precision_score(Y[:, pos], P64[:, pos], average="macro")
        both = [c for c in range(L) if Y[:, c].any() and not Y[:, c].all()]
        want["auc"] = roc_auc_score(Y[:, both], P64[:, both], average="macro")
        want["hamming"] = hamming_loss(Y, Yp)
    present = None
    if task == "multilabel":
        present = [c for c in range(L) if Y[:, c].any() or Yp[:, c].any()]
    for avg in ("micro", "macro", "weighted"):
        pr, rc, f1, _ = precision_recall_fscore_support(Y, Yp, labels=present, average=avg, zero_division=0)
        want[avg] = {"precision": pr, "recall": rc, "f1": f1}
    pr, rc, f1, sup = precision_recall_fscore_support(Y, Yp, labels=list(range(L)), average=None, zero_division=0)
    bad = []

    def cmp(name, got, w):
        if got is None and w == w:
            bad.append("%s: null, sklearn %.17g" % (name, w))
        elif got is not None and not abs(got - w) <= 2e-8 * abs(w) + 1e-12:
            bad.append("%s: %.17g, sklearn %.17g" % (name, got, w))

    for key in ("acc", "precision", "recall", "f1", "p_at_k", "r_at_k", "log_loss", "avg_precision", "hamming"):
        cmp(key, ev[key], want[key])
    cmp("auc", ev["auc"], want["auc"])
    for avg in ("micro", "macro", "weighted"):
        for m in ("precision", "recall", "f1"):
            cmp("%s %s" % (avg, m), ev[avg][m], want[avg][m])
    for c in range(L):
        e = ev["classes"][c]
        cmp("class %s precision" % names[c], e["precision"], pr[c])
        cmp("class %s recall" % names[c], e["recall"], rc[c])
        cmp("class %s f1" % names[c], e["f1"], f1[c])
        if e["support"] != sup[c]:
            bad.append("class %s support %d, sklearn %d" % (names[c], e["support"], sup[c]))
    if task != "multilabel":
        cm = confusion_matrix(Y, Yp, labels=list(range(L)))
        got = np.zeros((L, L), dtype=int)
        for t, p, cnt in ev["confusion"]:
            got[ids[t], ids[p]] = cnt
        if not (got == cm).all():
            bad.append("confusion matrix differs:\n%s\nsklearn:\n%s" % (got, cm))
    if not ev["r_at_k"] <= 1:
        bad.append("R@k above 1")
    if bad:
        print("\n".join(bad))
        sys.exit(1)


if __name__ == "__main__":
    main()
