"""wordbench.Store: look-ups, gathers, the mapped matrix, neighbours, info and verify, checked against
the CLI on the same store (the binding must not drift from it)."""

import gc
import os

import numpy as np
import pytest

import wordbench
from conftest import fixture


def test_open_len_contains(demo_store):
    kv = wordbench.Store(demo_store)
    assert len(kv) == 60 and kv.vector_size == 16
    assert "king" in kv and "dragon" not in kv and 3 not in kv
    assert kv.get_index("king") == 0 and kv.get_index("dragon", -7) == -7
    assert kv.has_index_for("queen") and not kv.has_index_for("qqq")
    # row numbers stand for their rows (gensim's int keys); membership is by word
    assert kv.get_index(5) == 5 and kv.has_index_for(59) and not kv.has_index_for(60)
    assert np.array_equal(kv[1], kv["queen"]) and np.array_equal(kv[[0, "queen"]], kv[["king", 1]])
    with pytest.raises(KeyError):
        kv[60]
    assert list(kv)[:2] == ["king", "queen"] and len(list(kv)) == 60
    assert repr(kv).startswith("<wordbench.Store")
    kv.close()
    assert kv.closed and "closed" in repr(kv)


def test_vectors_are_the_mapping(demo_store):
    kv = wordbench.Store(demo_store)
    v = kv.vectors
    assert isinstance(v, np.memmap) and v.shape == (60, 16) and v.dtype == np.float32
    assert v.mode == "r" and v.offset == 4096 and v.filename.endswith("vectors.npy")
    assert not v.flags.writeable
    with pytest.raises(ValueError):
        v[0, 0] = 1
    # the same bytes as numpy's own map of the file, and no copy: one object for the store's life
    ref = np.load(os.path.join(demo_store, "vectors.npy"), mmap_mode="r")
    assert np.array_equal(v, ref) and kv.vectors is v
    norms = kv.norms
    assert np.allclose(norms, np.linalg.norm(ref, axis=1), rtol=1e-6)
    assert not norms.flags.writeable


def test_lookup_equals_cli(wb, demo_store):
    kv = wordbench.Store(demo_store)
    words = ["king", "queen", "man", "woman"]
    cli = wb.json("lookup", "--json", demo_store, *words)
    for w, rec in zip(words, cli):
        assert kv.get_index(w) == rec["row"]
        assert np.array_equal(kv[w], np.array(rec["vector"], dtype=np.float32))
    both = kv[words]
    assert both.shape == (4, 16) and np.array_equal(both[1], kv["queen"])
    with pytest.raises(KeyError):
        kv["dragon"]
    with pytest.raises(wordbench.NotFoundError):
        kv[["king", "dragon"]]


def test_rows_and_gather(demo_store):
    kv = wordbench.Store(demo_store)
    rows = kv.rows(["king", "qqq", "queen", b"man"])
    assert rows.dtype == np.int64 and rows.tolist() == [0, -1, 1, kv.get_index("man")]
    assert kv.rows([]).shape == (0,)
    g = kv.gather([1, 0, 1])
    assert g.dtype == np.float32 and g.shape == (3, 16)
    assert np.array_equal(g, kv.vectors[[1, 0, 1]])
    # any integer dtype and shape; the result has shape rows.shape + (dim,)
    g2 = kv.gather(np.array([[0, 1], [2, 3]], dtype=np.uint16))
    assert g2.shape == (2, 2, 16) and np.array_equal(g2[1, 1], kv.vectors[3])
    out = np.empty((2, 16), dtype=np.float32)
    assert kv.gather([4, 5], out=out) is out and np.array_equal(out, kv.vectors[4:6])


def test_f16_store(demo_store, demo_f16):
    kv16, kv32 = wordbench.Store(demo_f16), wordbench.Store(demo_store)
    assert kv16.info["dtype"] == "f16" and kv16.vectors.dtype == np.float16
    g = kv16.gather([0, 1])
    assert g.dtype == np.float32
    assert np.array_equal(g, kv16.vectors[:2].astype(np.float32))
    assert np.allclose(g, kv32.gather([0, 1]), atol=2e-3)
    assert kv16.most_similar("king", topn=3)[0][0] == kv32.most_similar("king", topn=3)[0][0]


def test_index_views(demo_store):
    kv = wordbench.Store(demo_store)
    k2i, i2k = kv.key_to_index, kv.index_to_key
    assert len(k2i) == len(i2k) == 60
    assert k2i["queen"] == 1 and k2i.get("dragon") is None and "king" in k2i
    assert i2k[0] == "king" and i2k[-1] == kv.words([59])[0] and i2k[1:3] == ["queen", "prince"]
    words = list(i2k)
    assert len(words) == 60 and all(k2i[w] == i for i, w in enumerate(words))
    assert list(k2i) == words
    with pytest.raises(IndexError):
        i2k[60]


def test_neighbors_equal_cli(wb, demo_store):
    kv = wordbench.Store(demo_store)
    for query, pos, neg in (("king", ["king"], []), ("king - man + woman", ["king", "woman"], ["man"])):
        cli = wb.json("neighbors", "--json", "-k", "5", demo_store, *query.split())
        got = kv.most_similar(positive=pos, negative=neg, topn=5)
        assert [w for w, _ in got] == [r["word"] for r in cli]
        assert np.allclose([s for _, s in got], [r["cosine"] for r in cli], atol=5e-7)
    # a vector query leaves nothing out: the word itself comes first
    top = kv.similar_by_vector(kv["king"], topn=2)
    assert top[0][0] == "king" and abs(top[0][1] - 1) < 1e-6
    assert kv.similar_by_word("king", topn=5) == kv.most_similar("king", topn=5)
    assert len(kv.most_similar("king", topn=1000)) == 59


def test_similarity(demo_store):
    kv = wordbench.Store(demo_store)
    a, b = kv["king"], kv["queen"]
    cos = float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))
    assert abs(kv.similarity("king", "queen") - cos) < 1e-6
    assert abs(kv.distance("king", "queen") - (1 - cos)) < 1e-6
    assert abs(kv.similarity("king", "king") - 1) < 1e-6
    unit = kv.get_vector("king", norm=True)
    assert abs(np.linalg.norm(unit) - 1) < 1e-6


def test_info_equals_cli(wb, demo_store):
    kv = wordbench.Store(demo_store)
    assert kv.info == wb.json("info", "--json", demo_store)


def test_verify(demo_store):
    rep = wordbench.Store(demo_store).verify()
    assert rep == {"blocks_checked": 1, "norms_ok": True, "index_ok": True}


def test_words_that_are_not_utf8_round_trip(wb, workdir):
    path = workdir / "badutf8.store"
    wb("convert", "-q", fixture("vectors", "invalid_utf8.glove.txt"), path)
    kv = wordbench.Store(path)
    assert kv.info["invalid_utf8"] == 5
    words = list(kv.index_to_key)
    assert len(words) == 8
    for i, w in enumerate(words):  # lone surrogates stand for the bytes; they look up the same row
        assert kv.get_index(w) == i
        assert kv.get_index(w.encode("utf-8", "surrogateescape")) == i


def test_long_words(wb, workdir):
    path = workdir / "long.store"
    wb("convert", "-q", fixture("vectors", "long_words.glove.txt"), path)
    kv = wordbench.Store(path)
    words = list(kv.index_to_key)
    assert max(len(w.encode()) for w in words) == 2000
    assert kv.rows(words).tolist() == list(range(len(words)))


def test_with_block_and_arrays_after_close(demo_store):
    with wordbench.Store(demo_store) as kv:
        v, n = kv.vectors, kv.norms
        first = np.array(v[0])
    assert kv.closed
    # the mapping lives as long as an array over it does
    assert np.array_equal(v[0], first) and n.shape == (60,)
    del v, n
    gc.collect()
    for get in (lambda: kv.vectors, lambda: kv.norms, lambda: kv["king"], lambda: len(kv)):
        with pytest.raises(wordbench.UsageError):
            get()
