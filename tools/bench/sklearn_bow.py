#!/usr/bin/python3
"""sklearn_bow.py — scikit-learn's twin of `wordbench train --model bow` (issue 11, Figures).

Run it with Debian's /usr/bin/python3 (python3-sklearn, python3-keras-preprocessing). It reads the same
files as `wordbench train` and prints one JSON line: the time to vectorize and fit, the test accuracy
(binary, multiclass) or P@1 (multilabel: the top-scored label is one of the record's labels, / N).

The features are those wordbench's bow model sees: each text through Keras' text_to_word_sequence
(wordbench's default keras tokenizer: lower-case, punctuation to spaces), its first --maxlen tokens
(wordbench pads / truncates every text to maxlen, post), then CountVectorizer(ngram_range=(1, N)) over
those tokens (tokenizer=that list, lowercase=False): a unigram or n-gram unseen in the training split
is dropped, as in wordbench. --bow tfidf adds TfidfTransformer() (smooth idf, L2-normalised rows: the
default wordbench's tfidf follows). The model is LogisticRegression(C=--C, lbfgs, max_iter 1000): one
sigmoid (binary), a softmax (multiclass), OneVsRestClassifier of it (multilabel, one sigmoid per label,
n_jobs = --threads).

Test records with a label the training split lacks are dropped with --unknown-label skip (as
`wordbench train --unknown-label skip` does); labels: fastText `__label__x` prefixes or a CSV column.
"""

import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_train as tt  # noqa: E402  (the readers of issue 5's twin: the same parsing of the same files)


def main():
    p = argparse.ArgumentParser(description="scikit-learn twin of wordbench's bow model (issue 11).")
    p.add_argument("--train", required=True)
    p.add_argument("--test", required=True)
    p.add_argument("--format", choices=["fasttext", "csv", "tsv"], default="csv")
    p.add_argument("--text-col", action="append")
    p.add_argument("--label-col", default="label")
    p.add_argument("--label-prefix", default="__label__")
    p.add_argument("--maxlen", type=int, default=100)
    p.add_argument("--ngrams", type=int, default=1)
    p.add_argument("--bow", choices=["counts", "tfidf"], default="counts")
    p.add_argument("--C", type=float, default=1.0, help="inverse L2 strength (scikit-learn's default 1)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--unknown-label", choices=["keep", "skip"], default="keep")
    a = p.parse_args()
    if a.maxlen < 1 or not 1 <= a.ngrams <= 3 or a.C <= 0 or a.threads < 1:
        print("sklearn_bow.py: --maxlen >= 1, --ngrams 1..3, --C > 0, --threads >= 1", file=sys.stderr)
        sys.exit(2)

    import sklearn
    from keras_preprocessing.text import text_to_word_sequence
    from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.preprocessing import MultiLabelBinarizer

    t0 = time.perf_counter()
    tr, te = tt.read_data(a.train, a), tt.read_data(a.test, a)
    task = tt.detect_task(tr.labels)
    names = sorted({l for labs in tr.labels for l in labs})
    if a.unknown_label == "skip":
        te = tt.subset(te, [i for i, labs in enumerate(te.labels) if all(l in names for l in labs)])
    t_read = time.perf_counter()

    def tokens(text):
        return text_to_word_sequence(text)[:a.maxlen]

    vec = CountVectorizer(tokenizer=tokens, lowercase=False, token_pattern=None, ngram_range=(1, a.ngrams))
    Xtr = vec.fit_transform(tr.texts)
    tf = None
    if a.bow == "tfidf":
        tf = TfidfTransformer()
        Xtr = tf.fit_transform(Xtr)
    lr = LogisticRegression(C=a.C, max_iter=1000)
    if task == "multilabel":
        mlb = MultiLabelBinarizer(classes=names)
        Y = mlb.fit_transform(tr.labels)
        clf = OneVsRestClassifier(lr, n_jobs=a.threads)
    else:
        Y = np.array([labs[0] for labs in tr.labels])
        clf = lr
    t_vec = time.perf_counter()
    clf.fit(Xtr, Y)
    t_fit = time.perf_counter()

    Xte = vec.transform(te.texts)
    if tf is not None:
        Xte = tf.transform(Xte)
    if task == "multilabel":
        top = np.asarray(clf.decision_function(Xte)).argmax(axis=1)
        metric = sum(names[k] in labs for k, labs in zip(top, te.labels)) / max(1, len(te.labels))
    else:
        pred = clf.predict(Xte)
        metric = sum(p == labs[0] for p, labs in zip(pred, te.labels)) / max(1, len(te.labels))
    t_eval = time.perf_counter()
    out = {"impl": "sklearn", "task": task, "train": len(tr.texts), "test": len(te.texts),
           "features": len(vec.vocabulary_), "bow": a.bow, "ngrams": a.ngrams, "maxlen": a.maxlen, "C": a.C,
           "read_seconds": round(t_read - t0, 3), "vectorize_seconds": round(t_vec - t_read, 3),
           "fit_seconds": round(t_fit - t_vec, 3), "eval_seconds": round(t_eval - t_fit, 3),
           "seconds": round(t_fit - t_read, 3), "sklearn": sklearn.__version__}
    out["test_p_at_1" if task == "multilabel" else "test_acc"] = round(metric, 5)
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
