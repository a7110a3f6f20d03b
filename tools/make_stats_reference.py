#!/usr/bin/env python3
"""Reference values for the statistics of wordbench (eval.c's ROC-AUC and
compare.c's paired tests), computed with scikit-learn and SciPy (Debian
python3-sklearn, python3-scipy).  Deterministic (fixed seed).

    /usr/bin/python3 tools/make_stats_reference.py   # rewrites fixtures/stats/*.txt

fixtures/stats/auc.txt, one case per block:
    case NAME TASK N C          TASK binary|multiclass|multilabel
    scores s00 s01 ... (N*C values, row-major, %.9g)
    labels l0 l1 ...            N label sets, ids joined by ',' ('-' = none)
    auc VALUE NUSED             sklearn roc_auc_score (macro over the labels
                                with both classes present; nan when none)
fixtures/stats/paired.txt, one case per line:
    NAME N a1..aN b1..bN TRAIN_FRAC t_p nb_p wilcoxon_p wilcoxon_method
    t_p: scipy.stats.ttest_rel(a, b).pvalue; nb_p: the Nadeau-Bengio corrected
    resampled t-test of sklearn's example "Statistical comparison of models
    using grid search" (var * (1/N + n_test/n_train), t with N-1 degrees of
    freedom, two-sided) with n_test/n_train = (1-TRAIN_FRAC)/TRAIN_FRAC;
    wilcoxon_p: scipy.stats.wilcoxon(a, b) with zero_method "wilcox", no
    continuity correction, method exact (n <= 50, no zero and no tied |d|) or
    approx (normal, tie-corrected) otherwise.
"""
import os
import numpy as np
from scipy import stats
from sklearn.metrics import roc_auc_score

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "fixtures", "stats")
rng = np.random.default_rng(20240609)


def f9(x):
    return "%.9g" % x


def auc_cases():
    out = []
    # binary: random scores, heavy ties, perfect, inverted, one class only
    n = 200
    y = rng.integers(0, 2, n)
    s = np.clip(y * 0.3 + rng.random(n) * 0.8, 0, 1).astype(np.float32)
    out.append(("binary_random", "binary", s.reshape(n, 1), [[1] if v else [0] for v in y]))
    s = (np.round(rng.random(n) * 4) / 4).astype(np.float32)  # 5 distinct values: many ties
    y = (rng.random(n) < 0.3 + 0.4 * s).astype(int)
    out.append(("binary_ties", "binary", s.reshape(n, 1), [[1] if v else [0] for v in y]))
    s = np.arange(10, dtype=np.float32) / 10
    out.append(("binary_perfect", "binary", s.reshape(10, 1), [[0]] * 5 + [[1]] * 5))
    out.append(("binary_inverted", "binary", s[::-1].copy().reshape(10, 1), [[0]] * 5 + [[1]] * 5))
    out.append(("binary_one_class", "binary", s.reshape(10, 1), [[1]] * 10))
    # multiclass: softmax rows, every class present
    n, C = 150, 4
    y = rng.integers(0, C, n)
    z = rng.normal(size=(n, C)) + np.eye(C)[y] * 1.2
    p = (np.exp(z) / np.exp(z).sum(1, keepdims=True)).astype(np.float32)
    out.append(("multiclass", "multiclass", p, [[int(v)] for v in y]))
    # multilabel: 6 labels, label 5 never present (left out), label 4 always present (left out)
    n, C = 120, 6
    Y = (rng.random((n, C)) < 0.35).astype(int)
    Y[:, 5] = 0
    Y[:, 4] = 1
    Y[0, 0] = 1
    P = np.clip(Y * 0.25 + rng.random((n, C)) * 0.75, 0, 1).astype(np.float32)
    out.append(("multilabel", "multilabel", P, [[c for c in range(C) if Y[i, c]] for i in range(n)]))
    return out


def ref_auc(task, P, labels):
    n, C = P.shape
    if task == "binary":
        y = np.array([1 if 1 in l else 0 for l in labels])
        if len(set(y)) < 2:
            return float("nan"), 0
        return roc_auc_score(y, P[:, 0].astype(np.float64)), 1
    Y = np.zeros((n, C), dtype=int)
    for i, l in enumerate(labels):
        for c in l:
            Y[i, c] = 1
    keep = [c for c in range(C) if 0 < Y[:, c].sum() < n]
    if not keep:
        return float("nan"), 0
    if task == "multiclass" and len(keep) == C:
        y = Y.argmax(1)
        a = roc_auc_score(y, P.astype(np.float64), multi_class="ovr", average="macro")
        b = roc_auc_score(Y, P.astype(np.float64), average="macro")
        assert abs(a - b) < 1e-12
        return a, C
    return roc_auc_score(Y[:, keep], P[:, keep].astype(np.float64), average="macro"), len(keep)


def paired_cases():
    cases = []
    # (name, a, b, train_frac)
    a = rng.normal(0.90, 0.01, 5)
    cases.append(("five_folds", a, a - rng.normal(0.01, 0.008, 5), 0.8))
    a = rng.normal(0.70, 0.02, 10)
    cases.append(("ten_folds", a, a + rng.normal(0.002, 0.01, 10), 0.9))
    a = np.array([0.91, 0.93, 0.90, 0.92, 0.94])
    cases.append(("zeros", a, np.array([0.91, 0.92, 0.90, 0.90, 0.93]), 0.8))  # two zero differences
    a = np.array([0.80, 0.82, 0.84, 0.86, 0.88, 0.90])
    cases.append(("tied_abs", a, a - np.array([0.01, -0.01, 0.02, 0.02, 0.03, -0.04]), 2.0 / 3.0))
    a = rng.normal(0.5, 0.05, 60)
    cases.append(("sixty", a, a - rng.normal(0.01, 0.02, 60), 0.8))
    a = rng.normal(0.8, 0.02, 3)
    cases.append(("three_all_better", a, a - np.array([0.05, 0.04, 0.06]), 2.0 / 3.0))
    return cases


def ref_paired(a, b, frac):
    n = len(a)
    d = a - b
    t_p = stats.ttest_rel(a, b).pvalue
    var = np.var(d, ddof=1)
    corr = var * (1.0 / n + (1 - frac) / frac)
    t = d.mean() / np.sqrt(corr)
    nb_p = 2 * stats.t.sf(abs(t), n - 1)
    nz = d[d != 0]
    absd = np.abs(nz)
    ties = len(np.unique(absd)) < len(absd)
    method = "exact" if (n <= 50 and len(nz) == n and not ties) else "approx"
    w = stats.wilcoxon(a, b, zero_method="wilcox", correction=False, method=method)
    return t_p, nb_p, w.pvalue, method


def main():
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "auc.txt"), "w") as f:
        f.write("# made by tools/make_stats_reference.py (scikit-learn roc_auc_score)\n")
        for name, task, P, labels in auc_cases():
            n, C = P.shape
            auc, used = ref_auc(task, P, labels)
            f.write("case %s %s %d %d\n" % (name, task, n, C))
            f.write("scores " + " ".join(f9(x) for x in P.reshape(-1)) + "\n")
            f.write("labels " + " ".join(",".join(str(c) for c in l) if l else "-" for l in labels) + "\n")
            f.write("auc %s %d\n" % ("nan" if auc != auc else "%.17g" % auc, used))
    with open(os.path.join(OUT, "paired.txt"), "w") as f:
        f.write("# made by tools/make_stats_reference.py (scipy.stats ttest_rel, t, wilcoxon)\n")
        for name, a, b, frac in paired_cases():
            a = np.round(a, 6)
            b = np.round(b, 6)
            t_p, nb_p, w_p, method = ref_paired(a, b, frac)
            f.write("%s %d %s %s %.17g %.17g %.17g %.17g %s\n" % (
                name, len(a), " ".join("%.6f" % x for x in a), " ".join("%.6f" % x for x in b), frac,
                t_p, nb_p, w_p, method))


if __name__ == "__main__":
    main()
