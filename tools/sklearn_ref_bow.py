#!/usr/bin/python3
"""sklearn_ref_bow.py — scikit-learn's answers for wordbench's bag-of-words model (issue 11: "parity
with scikit-learn for bow"), written to fixtures/sklearn/ and read by tests/cli/bow_sklearn.sh.

Run it with Debian's /usr/bin/python3 (python3-sklearn, python3-keras-preprocessing) from the top of the
repository: `/usr/bin/python3 tools/sklearn_ref_bow.py`. Deterministic (lbfgs / liblinear to a tight
tolerance): rerunning leaves `git status` clean unless scikit-learn's answer moved.

`wordbench train --model bow` minimises, over the training split,
    mean loss + l2/2 · ||W||²          (the bias included: --l2 is weight decay on every parameter)
with the loss a sigmoid's (binary), a softmax's (multiclass) or the mean of one sigmoid per label
(multi-label). scikit-learn's LogisticRegression minimises C · Σ loss + ||w||²/2 without the intercept,
so each case here fits it with fit_intercept=False on the features plus a constant column 1 (whose
weight, penalised like the rest, is wordbench's bias) at C = 1 / (l2 · n) (binary, multiclass
multinomial) or one binary fit per label at C = 1 / (l2 · n · L) (multi-label: wordbench averages over
the L labels too). Both objectives are the same strictly convex function, so a wordbench run trained
to convergence (full batch) must give the same probabilities.

Features as wordbench's bow part builds them: each text through Keras' text_to_word_sequence (the keras
tokenizer's default filters and lower-casing), its first maxlen tokens, CountVectorizer over that token
list with ngram_range (1, N) (an n-gram unseen in training is dropped; an unseen word breaks the n-grams
around it, as wordbench's OOV id does), and for tf-idf TfidfTransformer() (smooth idf, L2-normalised).

Each fixture file:
    # comment lines (how it was made)
    train ARGS...          wordbench train options of the objective (paths relative to fixtures/)
    test FILE FORMAT       the records scored
    labels NAME...         the label order of the rows below
    P1 P2 ...              one line per test record: each label's probability (binary: both)
"""

import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "bench"))
import torch_train as tt  # noqa: E402  (the readers of the twins: the same parsing of the same files)

FIX = os.path.join(os.path.dirname(HERE), "fixtures")


class Opts:
    text_col = None
    label_col = "label"
    label_prefix = "__label__"

    def __init__(self, fmt):
        self.format = fmt


def first_label_copy(src, dst):
    """A single-label (multiclass) copy of a fastText file: each record keeps its first label."""
    with open(src, encoding="utf-8") as f, open(dst, "w", encoding="utf-8") as o:
        for line in f:
            words = line.split()
            labels = [w for w in words if w.startswith("__label__")]
            text = [w for w in words if not w.startswith("__label__")]
            o.write(" ".join(labels[:1] + text) + "\n")


def case(name, train, test, fmt, bow, ngrams, maxlen, l2):
    from keras_preprocessing.text import text_to_word_sequence
    from scipy.sparse import hstack, csr_matrix
    from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
    from sklearn.linear_model import LogisticRegression
    import sklearn

    a = Opts(fmt)
    tr, te = tt.read_data(os.path.join(FIX, train), a), tt.read_data(os.path.join(FIX, test), a)
    task = tt.detect_task(tr.labels)
    names = sorted({l for labs in tr.labels for l in labs})
    vec = CountVectorizer(tokenizer=lambda t: text_to_word_sequence(t)[:maxlen], lowercase=False,
                          token_pattern=None, ngram_range=(1, ngrams))
    Xtr, Xte = vec.fit_transform(tr.texts), None
    Xte = vec.transform(te.texts)
    if bow == "tfidf":
        tf = TfidfTransformer()
        Xtr, Xte = tf.fit_transform(Xtr), tf.transform(Xte)
    one = lambda X: hstack([X, csr_matrix(np.ones((X.shape[0], 1)))]).tocsr()
    Xtr, Xte = one(Xtr), one(Xte)
    n = Xtr.shape[0]
    kw = dict(fit_intercept=False, tol=1e-12, max_iter=100000)
    if task == "multilabel":
        P = np.zeros((Xte.shape[0], len(names)))
        for j, lab in enumerate(names):
            y = np.array([lab in labs for labs in tr.labels], dtype=int)
            m = LogisticRegression(C=1 / (l2 * n * len(names)), solver="lbfgs", **kw).fit(Xtr, y)
            P[:, j] = m.predict_proba(Xte)[:, 1]
    else:
        y = np.array([labs[0] for labs in tr.labels])
        # binary: one sigmoid ("ovr"; a two-class multinomial would split the weights and halve the penalty)
        m = LogisticRegression(C=1 / (l2 * n), solver="lbfgs", multi_class="multinomial" if task == "multiclass"
                               else "ovr", **kw).fit(Xtr, y)
        P = m.predict_proba(Xte)[:, [list(m.classes_).index(l) for l in names]]
    path = os.path.join(FIX, "sklearn", "bow_%s.txt" % name)
    with open(path, "w", encoding="utf-8") as o:
        o.write("# made by tools/sklearn_ref_bow.py (scikit-learn %s): LogisticRegression on CountVectorizer%s\n"
                % (sklearn.__version__, " + TfidfTransformer" if bow == "tfidf" else ""))
        o.write("# %s, %d training records, %d features + the bias column\n" % (task, n, Xtr.shape[1] - 1))
        o.write("train --data %s --format %s --model bow --bow %s --ngrams %d --maxlen %d --l2 %.9g\n"
                % (train, fmt, bow, ngrams, maxlen, l2))
        o.write("test %s %s\n" % (test, fmt))
        o.write("labels %s\n" % " ".join(names))
        for row in P:
            o.write(" ".join("%.9g" % v for v in row) + "\n")
    print("%s: %s, %d x %d, %d test records" % (path, task, n, Xtr.shape[1], Xte.shape[0]))


def main():
    os.makedirs(os.path.join(FIX, "sklearn"), exist_ok=True)
    first_label_copy(os.path.join(FIX, "text", "demo_topics.txt"), os.path.join(FIX, "sklearn", "demo_topics_first.txt"))
    S, ST = "text/demo_sentiment.tsv", "text/demo_sentiment_test.tsv"
    case("counts1_binary", S, ST, "tsv", "counts", 1, 100, 1 / 400)
    case("tfidf2_binary", S, ST, "tsv", "tfidf", 2, 100, 1 / 400)
    case("counts2_multiclass", "sklearn/demo_topics_first.txt", "sklearn/demo_topics_first.txt", "fasttext",
         "counts", 2, 50, 0.01)
    case("tfidf1_multilabel", "text/demo_topics.txt", "text/demo_topics.txt", "fasttext", "tfidf", 1, 50, 0.001)


if __name__ == "__main__":
    main()
