"""wordbench.Store: a store opened read-only, with the API of gensim 4's KeyedVectors.

The C half (_wordbench._Store) does the work: look-ups in the LMDB index, gathers from the mapped
matrix, cosine neighbours by BLAS over the matrix.  This module only gives it gensim's names and
argument conventions.  Nothing here reads the whole matrix except what gensim's own method would
(most_similar streams it once, as `wordbench neighbors` does).

Differences from KeyedVectors, on purpose:
- key_to_index / index_to_key are views over the index, not a dict and a list of 2.2M entries;
- kv["word"] returns a float32 copy (float16 stores are widened), not a view of the mapping;
- most_similar takes keys and vectors; (key, weight) pairs, topn=None, restrict_vocab and indexer
  are not supported (use kv.vectors with numpy for a full score vector).
"""

import operator
import os
from collections.abc import Mapping, Sequence

import numpy as np

from ._wordbench import NotFoundError, UsageError, _Store

__all__ = ["Store"]


class _KeyToIndex(Mapping):
    """word -> row, read from the store's index on demand (no dict is built)."""

    __slots__ = ("_store",)

    def __init__(self, store):
        self._store = store

    def __getitem__(self, key):
        return self._store.get_index(key)

    def __contains__(self, key):
        return isinstance(key, (str, bytes)) and self._store._lookup(key) >= 0

    def __len__(self):
        return len(self._store)

    def __iter__(self):
        return iter(self._store.index_to_key)


class _IndexToKey(Sequence):
    """row -> word, read from the store's index on demand (no list is built)."""

    __slots__ = ("_store",)

    _CHUNK = 4096

    def __init__(self, store):
        self._store = store

    def __len__(self):
        return len(self._store)

    def __getitem__(self, i):
        n = len(self._store)
        if isinstance(i, slice):
            return self._store.words(np.arange(n, dtype=np.int64)[i])
        i = int(i)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("row %d out of range: the store has %d rows" % (i, n))
        return self._store.words([i])[0]

    def __iter__(self):
        n = len(self._store)
        for start in range(0, n, self._CHUNK):
            yield from self._store.words(np.arange(start, min(n, start + self._CHUNK), dtype=np.int64))


class Store(_Store):
    """Store(path): open a wordbench store directory read-only.

    Opening maps the files and reads nothing else (O(1)); look-ups touch only the index pages and
    rows they need, and every process that opens the same store shares its pages.  Close with
    close() or a `with` block; arrays obtained from the store stay valid after close.
    """

    def __init__(self, path):
        super().__init__(os.fspath(path))
        self._vectors_view = None
        self._norms_view = None

    def close(self):
        """Close the store.  Arrays obtained from it (vectors, norms) stay valid: the mapping goes
        when the last of them does."""
        self._vectors_view = self._norms_view = None
        super().close()

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        if self.closed:
            return "<wordbench.Store %r (closed)>" % (self.path,)
        info = self.info
        return "<wordbench.Store %r: %d x %d %s>" % (self.path, info["rows"], info["dim"], info["dtype"])

    # ---- the matrix -----------------------------------------------------------------------------

    @property
    def vectors(self):
        """The mapped matrix (rows, dim) as a read-only numpy.memmap: no copy, shared page-cache pages,
        float32 or float16 as stored."""
        if self._vectors_view is None:
            v = self._vectors().view(np.memmap)
            v.filename = os.path.abspath(os.path.join(self.path, "vectors.npy"))
            v.offset, v.mode = 4096, "r"
            self._vectors_view = v
        return self._vectors_view

    @property
    def norms(self):
        """The mapped L2 norm of every row (rows,), float32, read-only (norms.npy)."""
        if self._norms_view is None:
            self._norms_view = self._norms()
        return self._norms_view

    @property
    def vector_size(self):
        """The dimension of the vectors (gensim's name)."""
        return self.info["dim"]

    # ---- look-ups -------------------------------------------------------------------------------

    @property
    def key_to_index(self):
        """A read-only mapping word -> row over the index (gensim's key_to_index, without the dict)."""
        return _KeyToIndex(self)

    @property
    def index_to_key(self):
        """A read-only sequence row -> word over the index (gensim's index_to_key, without the list)."""
        return _IndexToKey(self)

    def get_index(self, key, default=None):
        """The row of `key` (a word, or a row number, as in gensim); `default` when it is missing, or
        NotFoundError (a KeyError) when no default is given."""
        if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
            if 0 <= key < len(self):
                return int(key)
            row = -1
        else:
            row = self._lookup(key)
        if row >= 0:
            return row
        if default is not None:
            return default
        raise NotFoundError("Key %r not present in the store" % (key,))

    def has_index_for(self, key):
        return self.get_index(key, -1) >= 0 if isinstance(key, (str, bytes, int, np.integer)) else False

    def __contains__(self, key):
        return isinstance(key, (str, bytes)) and self._lookup(key) >= 0

    def __iter__(self):
        """The words, in row order (as iterating a dict gives its keys)."""
        return iter(self.index_to_key)

    def get_vector(self, key, norm=False):
        """The vector of `key` as a float32 copy; norm=True divides it by its L2 norm (gensim's
        get_vector(key, norm=True))."""
        row = self.get_index(key)
        v = self.gather([row])[0]
        if norm:
            n = self.norms[row]
            if n > 0:
                v /= n
        return v

    def __getitem__(self, keys):
        """kv["word"] -> float32 (dim,); kv[["a", "b"]] -> float32 (2, dim); a row number stands for
        its row, as in gensim.  A missing word raises NotFoundError (a KeyError)."""
        if isinstance(keys, (str, bytes, int, np.integer)):
            return self.get_vector(keys)
        keys = list(keys)
        rows = np.array([self.get_index(k, -1) for k in keys], dtype=np.int64) if any(
            isinstance(k, (int, np.integer)) for k in keys) else self.rows(keys)
        missing = np.flatnonzero(rows < 0)
        if missing.size:
            raise NotFoundError("Key %r not present in the store" % (keys[missing[0]],))
        return self.gather(rows)

    # ---- similarity -----------------------------------------------------------------------------

    def _unit(self, key):
        row = self.get_index(key)
        return self.gather([row])[0] / max(float(self.norms[row]), np.finfo(np.float32).tiny), row

    def similarity(self, w1, w2):
        """Cosine similarity of two words."""
        a, _ = self._unit(w1)
        b, _ = self._unit(w2)
        return float(np.dot(a, b))

    def distance(self, w1, w2):
        """1 - similarity(w1, w2)."""
        return 1.0 - self.similarity(w1, w2)

    def n_similarity(self, ws1, ws2):
        """Cosine similarity of the means of the vectors of two lists of words (as gensim 4, the
        vectors as stored, not normalised)."""
        if not len(ws1) or not len(ws2):
            raise UsageError("at least one word is needed in each list")
        a, b = self[list(ws1)].mean(axis=0), self[list(ws2)].mean(axis=0)
        return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))

    def most_similar(self, positive=None, negative=None, topn=10):
        """The topn rows most cosine-similar to the sum of `positive` minus `negative`, best first, as
        [(word, cosine), ...].  Words count as their unit vectors, vectors as given (as in gensim); a
        single word may be given as a string.  The words of the query are left out of the result.  Exact: the whole
        matrix is scored with BLAS, once."""
        if isinstance(positive, (str, bytes)):
            positive = [positive]
        if isinstance(negative, (str, bytes)):
            negative = [negative]
        positive, negative = list(positive or []), list(negative or [])
        if not positive and not negative:
            raise UsageError("most_similar needs at least one positive or negative word or vector")
        if topn is None or isinstance(topn, bool) or operator.index(topn) < 1:
            raise UsageError("topn must be a positive integer (topn=None is not supported: score "
                             "kv.vectors with numpy for all similarities)")
        rows, signs, vecs = [], [], []
        for sign, items in ((1, positive), (-1, negative)):
            for item in items:
                if isinstance(item, (str, bytes)):
                    rows.append(self.get_index(item))
                    signs.append(sign)
                elif isinstance(item, tuple):
                    raise TypeError("(key, weight) pairs are not supported; give words or vectors")
                else:
                    v = np.asarray(item, dtype=np.float32).reshape(-1)
                    if v.size != self.vector_size:
                        raise UsageError("a query vector has %d values, the store's dim is %d"
                                         % (v.size, self.vector_size))
                    vecs.append(sign * v)
        query = self._query(rows, signs)
        for v in vecs:
            query += v
        found, scores = self._similar(query, operator.index(topn), rows)
        return list(zip(self.words(found), (float(s) for s in scores)))

    def similar_by_key(self, key, topn=10):
        """most_similar([key], topn=topn)."""
        return self.most_similar([key], topn=topn)

    similar_by_word = similar_by_key

    def similar_by_vector(self, vector, topn=10):
        """The topn rows most cosine-similar to `vector` (no row is left out)."""
        return self.most_similar([vector], topn=topn)
