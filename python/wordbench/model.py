"""wordbench.Model: a model trained by `wordbench train`, run on raw texts from Python.

The C half (_wordbench._Model) loads the model file with its tokenizer, vocabulary and labels, attaches
the store it was trained with (checked by fingerprint) and runs the CLI's code path, so predict() gives
the probabilities of `wordbench predict` for the same texts.  This module only turns probabilities into
labels.  explain() comes with issue 10 (not yet in the library).
"""

import operator
import os

import numpy as np

from ._wordbench import UsageError, _Model, _topk

__all__ = ["Model"]


class Model(_Model):
    """Model(path, store=None, batch_size=64): load a model file (.wbm).

    store: the store directory it was trained with (a path or a wordbench.Store), default the path
    recorded in the model; models trained with --embed-vectors need none.  batch_size: texts per
    forward pass.  Close with close() or a `with` block.
    """

    def __init__(self, path, store=None, batch_size=64):
        if store is not None and not isinstance(store, (str, bytes, os.PathLike)):
            store = store.path  # a wordbench.Store
        if store is None:
            super().__init__(os.fspath(path), batch_size=batch_size)
        else:
            super().__init__(os.fspath(path), os.fspath(store), batch_size)
        self._labels = self.labels

    def __repr__(self):
        if self.closed:
            return "<wordbench.Model (closed)>"
        c = self.config
        return "<wordbench.Model %s, %s embeddings, %s, %d labels>" % (c["model"], c["embeddings"], c["task"],
                                                                        len(self._labels))

    @property
    def task(self):
        """'binary', 'multiclass' or 'multilabel'."""
        return self.config["task"]

    @property
    def maxlen(self):
        """Tokens per text the model reads (longer texts are truncated, shorter padded)."""
        return self.config["maxlen"]

    def _proba(self, texts):
        p, ntok = self._predict(texts)
        if self.config["task"] == "binary":
            p = np.concatenate([1 - p, p], axis=1)
        return p, ntok

    def predict_proba(self, texts):
        """float32 (n, labels): the probability of every label for every text, columns in the order of
        .labels.  A binary model gives two columns, 1 - p and p, as `wordbench predict` prints them.
        A text without tokens gets the model's output for an all-padding sequence."""
        single = isinstance(texts, (str, bytes))
        p, _ = self._proba([texts] if single else texts)
        return p[0] if single else p

    def predict(self, texts, top_k=1, threshold=None):
        """Labels of each text with their probabilities, best first: [(label, prob), ...] for one text
        (a str), a list of such lists for a list of texts.  top_k: labels per text (the CLI's
        --top-k).  threshold (multi-label models): every label with probability >= threshold instead.
        Probabilities are those of `wordbench predict` on the same texts.  A text without tokens gets no
        labels ([]), as `wordbench predict` marks such a record empty."""
        single = isinstance(texts, (str, bytes))
        p, ntok = self._proba([texts] if single else texts)
        if threshold is not None:
            if self.config["task"] != "multilabel":
                raise UsageError("threshold is for multi-label models")
            if not 0 <= threshold <= 1:
                raise UsageError("threshold must be in [0, 1], got %r" % (threshold,))
            order = _topk(p, p.shape[1])
            out = [[(self._labels[j], float(row[j])) for j in idx if row[j] >= threshold] if n else []
                   for row, idx, n in zip(p, order, ntok)]
        else:
            if isinstance(top_k, bool) or operator.index(top_k) < 1:
                raise UsageError("top_k must be at least 1, got %r" % (top_k,))
            top = _topk(p, operator.index(top_k))
            out = [[(self._labels[j], float(row[j])) for j in idx] if n else [] for row, idx, n in zip(p, top, ntok)]
        return out[0] if single else out
