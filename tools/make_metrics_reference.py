#!/usr/bin/python3
"""Fixed predictions and scikit-learn's figures for them: fixtures/metrics/*.txt,
read by tests/test_metrics.c (which compares every figure of wb_scores_compute
and wb_threshold_tune with these) and re-made by tests/cli/metrics_sklearn.sh
to check that the committed files still match the installed scikit-learn.

Usage: /usr/bin/python3 tools/make_metrics_reference.py [OUT_DIR]   (default fixtures/metrics)
Needs numpy and scikit-learn (Debian python3-sklearn).  Deterministic.

File format (one figure per line, '#' comments):
  task binary|multiclass|multilabel, n N, C C, k K, threshold T
  probs: n lines of C float32 values (%.9g: strtof gives them back exactly)
  labels: n lines of comma-separated label ids
  then "name value" lines (value %.17g, nan for undefined), "class c precision
  recall f1 support", "cell truth pred count", "tuned f1".
"""
import os
import sys

import numpy as np
import sklearn
from sklearn.metrics import (accuracy_score, average_precision_score, confusion_matrix, f1_score, hamming_loss,
                             log_loss, precision_recall_fscore_support, roc_auc_score, top_k_accuracy_score)


def g(x):
    return "nan" if x != x else "%.17g" % x


def header(f, task, P, labels, k, th):
    n, C = P.shape
    f.write("# made by tools/make_metrics_reference.py with scikit-learn %s, numpy %s\n" % (sklearn.__version__, np.__version__))
    f.write("task %s\nn %d\nC %d\nk %d\nthreshold %s\n" % (task, n, C, k, "%.9g" % th))
    f.write("probs\n")
    for row in P:
        f.write(" ".join("%.9g" % v for v in row) + "\n")
    f.write("labels\n")
    for ls in labels:
        f.write(",".join(str(x) for x in ls) + "\n")


def per_class(f, y, yp, L):
    p, r, f1, sup = precision_recall_fscore_support(y, yp, labels=list(range(L)), average=None, zero_division=0)
    for c in range(L):
        f.write("class %d %s %s %s %d\n" % (c, g(p[c]), g(r[c]), g(f1[c]), sup[c]))


def averages(f, y, yp, labels=None):
    for avg in ("micro", "macro", "weighted"):
        p, r, f1, _ = precision_recall_fscore_support(y, yp, labels=labels, average=avg, zero_division=0)
        f.write("%s_precision %s\n%s_recall %s\n%s_f1 %s\n" % (avg, g(p), avg, g(r), avg, g(f1)))


def best_f1(y_flat, s_flat):
    """The best F1 over every cut at a distinct score (brute force with sklearn)."""
    best = 0.0
    for t in np.unique(s_flat):
        best = max(best, f1_score(y_flat, (s_flat >= t).astype(int), zero_division=0))
    return best


def topk(P, k):
    # wb_topk: highest first, ties to the lower id (a stable sort of -P)
    return np.argsort(-P, axis=1, kind="stable")[:, :k]


def binary(out, name, seed, n, th):
    rs = np.random.RandomState(seed)
    y = rs.randint(0, 2, n)
    p = np.clip(0.35 * y + 0.65 * rs.rand(n), 0, 1).astype(np.float32)
    p[:4] = np.float32(0.5)          # ties at the threshold and the top-1 rule
    p[4:8] = p[8]                    # ties in the ranking
    p[10] = np.float32(1.0)
    P = p.reshape(n, 1).astype(np.float64)
    pv = P[:, 0]
    yp = (pv >= th).astype(int)
    with open(os.path.join(out, name), "w") as f:
        header(f, "binary", p.reshape(n, 1), [[int(v)] for v in y], 1, th)
        f.write("accuracy %s\n" % g(accuracy_score(y, yp)))
        pr, rc, f1, _ = precision_recall_fscore_support(y, yp, average="binary", zero_division=0)
        f.write("precision %s\nrecall %s\nf1 %s\n" % (g(pr), g(rc), g(f1)))
        averages(f, y, yp)
        per_class(f, y, yp, 2)
        top1 = (pv > 1 - pv).astype(int)
        f.write("p_at_k %s\nr_at_k %s\n" % (g(np.mean(top1 == y)), g(np.mean(top1 == y))))
        f.write("hamming %s\n" % g(hamming_loss(y, yp)))
        f.write("log_loss %s\n" % g(log_loss(y, pv, labels=[0, 1])))
        f.write("avg_precision %s\n" % g(average_precision_score(y, pv)))
        f.write("auc %s\n" % g(roc_auc_score(y, pv)))
        cm = confusion_matrix(y, yp, labels=[0, 1])
        for a in range(2):
            for b in range(2):
                if cm[a, b]:
                    f.write("cell %d %d %d\n" % (a, b, cm[a, b]))
        f.write("tuned_f1 %s\n" % g(best_f1(y, pv)))


def multiclass(out, name, seed, n, C, k):
    rs = np.random.RandomState(seed)
    y = rs.choice(C - 1, n)           # label C-1 is never true...
    z = rs.randn(n, C) + 1.5 * np.eye(C)[y]
    z[:3, C - 1] += 6                 # ...but predicted three times
    P = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    P = P.astype(np.float32)
    P64 = P.astype(np.float64)
    yp = topk(P, 1)[:, 0]
    with open(os.path.join(out, name), "w") as f:
        header(f, "multiclass", P, [[int(v)] for v in y], k, 0.5)
        f.write("accuracy %s\n" % g(accuracy_score(y, yp)))
        averages(f, y, yp)
        pr, rc, f1, _ = precision_recall_fscore_support(y, yp, average="micro", zero_division=0)
        f.write("precision %s\nrecall %s\nf1 %s\n" % (g(pr), g(rc), g(f1)))
        per_class(f, y, yp, C)
        hits = top_k_accuracy_score(y, P64, k=k, labels=list(range(C)))
        f.write("p_at_k %s\nr_at_k %s\n" % (g(hits / k), g(hits)))
        f.write("hamming %s\n" % g(hamming_loss(y, yp)))
        f.write("log_loss %s\n" % g(log_loss(y, P64, labels=list(range(C)))))
        Y = np.eye(C)[y]
        present = [c for c in range(C) if Y[:, c].any()]
        f.write("avg_precision %s\n" % g(average_precision_score(Y[:, present], P64[:, present], average="macro")))
        both = [c for c in range(C) if Y[:, c].any() and not Y[:, c].all()]
        f.write("auc %s\n" % g(roc_auc_score(Y[:, both], P64[:, both], average="macro")))
        cm = confusion_matrix(y, yp, labels=list(range(C)))
        for a in range(C):
            for b in range(C):
                if cm[a, b]:
                    f.write("cell %d %d %d\n" % (a, b, cm[a, b]))


def multilabel(out, name, seed, n, C, k, th):
    rs = np.random.RandomState(seed)
    Y = np.zeros((n, C), dtype=int)
    labels = []
    for i in range(n):
        ls = sorted(rs.choice(C - 1, rs.randint(1, 4), replace=False))  # label C-1: never true
        Y[i, ls] = 1
        labels.append([int(v) for v in ls])
    P = (1 / (1 + np.exp(-(rs.randn(n, C) + 2.0 * Y - 1.0)))).astype(np.float32)
    P[:, C - 1] = np.minimum(P[:, C - 1], np.float32(0.2))   # and never predicted: absent
    P64 = P.astype(np.float64)
    Yp = (P64 >= th).astype(int)
    present = [c for c in range(C) if Y[:, c].any() or Yp[:, c].any()]
    with open(os.path.join(out, name), "w") as f:
        header(f, "multilabel", P, labels, k, th)
        f.write("accuracy %s\n" % g(accuracy_score(Y, Yp)))
        averages(f, Y, Yp, labels=present)
        pr, rc, f1, _ = precision_recall_fscore_support(Y, Yp, average="micro", zero_division=0)
        f.write("precision %s\nrecall %s\nf1 %s\n" % (g(pr), g(rc), g(f1)))
        per_class(f, Y, Yp, C)
        # fastText's P@k, R@k (no scikit-learn function): hits among the k best
        tk = topk(P, k)
        hits = sum(Y[i, tk[i]].sum() for i in range(n))
        f.write("p_at_k %s\nr_at_k %s\n" % (g(hits / (k * n)), g(hits / Y.sum())))
        f.write("hamming %s\n" % g(hamming_loss(Y, Yp)))
        f.write("log_loss %s\n" % g(log_loss(Y.ravel(), P64.ravel(), labels=[0, 1])))
        pos = [c for c in range(C) if Y[:, c].any()]
        f.write("avg_precision %s\n" % g(average_precision_score(Y[:, pos], P64[:, pos], average="macro")))
        both = [c for c in range(C) if Y[:, c].any() and not Y[:, c].all()]
        f.write("auc %s\n" % g(roc_auc_score(Y[:, both], P64[:, both], average="macro")))
        cells = {}
        t1 = topk(P, 1)[:, 0]
        for i in range(n):
            for c in labels[i]:
                cells[(c, t1[i])] = cells.get((c, t1[i]), 0) + 1
        for (a, b), v in sorted(cells.items()):
            f.write("cell %d %d %d\n" % (a, b, v))
        f.write("tuned_f1 %s\n" % g(best_f1(Y.ravel(), P64.ravel())))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "fixtures", "metrics")
    os.makedirs(out, exist_ok=True)
    binary(out, "binary.txt", 1, 60, 0.5)
    binary(out, "binary_t03.txt", 2, 45, 0.3)
    multiclass(out, "multiclass.txt", 3, 80, 5, 2)
    multilabel(out, "multilabel.txt", 4, 50, 6, 2, 0.5)
    multilabel(out, "multilabel_t04.txt", 5, 40, 7, 3, 0.4)


if __name__ == "__main__":
    main()
