"""Bad input never crashes the interpreter: wrong types, closed objects, out-of-range rows, damaged
files.  Every library error arrives as a wordbench.Error subclass carrying the library's message."""

import os
import shutil

import numpy as np
import pytest

import wordbench
from conftest import fixture


def test_exception_classes():
    W = wordbench
    assert issubclass(W.NotFoundError, W.Error) and issubclass(W.NotFoundError, KeyError)
    assert issubclass(W.UsageError, ValueError) and issubclass(W.FormatError, ValueError)
    assert issubclass(W.FileError, OSError)
    for c in (W.CorruptError, W.VersionError, W.UsageError, W.FormatError, W.FileError):
        assert issubclass(c, W.Error)


def test_missing_and_not_a_store(tmp_path):
    with pytest.raises(wordbench.FileError) as e:
        wordbench.Store(tmp_path / "nothing")
    assert e.value.errno == 2 and "nothing" in str(e.value) and e.value.code == 2
    (tmp_path / "empty").mkdir()
    with pytest.raises(wordbench.Error):
        wordbench.Store(tmp_path / "empty")


def test_truncated_store(demo_store, tmp_path):
    bad = tmp_path / "cut.store"
    shutil.copytree(demo_store, bad)
    vec = bad / "vectors.npy"
    os.truncate(vec, os.path.getsize(vec) - 64)
    with pytest.raises(wordbench.CorruptError) as e:
        wordbench.Store(bad)
    assert "vectors.npy" in str(e.value) and e.value.code < 0
    # damaged values (same size): open works, verify names the block
    bad2 = tmp_path / "flip.store"
    shutil.copytree(demo_store, bad2)
    with open(bad2 / "vectors.npy", "r+b") as f:
        f.seek(4096 + 100)
        b = f.read(1)
        f.seek(4096 + 100)
        f.write(bytes([b[0] ^ 0xFF]))
    kv = wordbench.Store(bad2)
    with pytest.raises(wordbench.CorruptError, match="block"):
        kv.verify()


def test_wrong_types(demo_store):
    kv = wordbench.Store(demo_store)
    for call in (lambda: kv.rows("king"), lambda: kv.rows([1, 2]), lambda: kv.rows(None),
                 lambda: kv._lookup(3), lambda: kv.gather([0.5]), lambda: kv.gather(["a"]),
                 lambda: kv.words([1.0]), lambda: wordbench.Store(3), lambda: kv.most_similar([("king", 1.0)])):
        with pytest.raises(TypeError):
            call()
    ro = np.zeros(16, np.float32)
    ro.setflags(write=False)
    mis = np.frombuffer(bytearray(65), np.float32, 16, 1)
    assert mis.flags.writeable and not mis.flags.aligned
    for call in (lambda: kv.gather([0], out=np.zeros((1, 16))),            # float64
                 lambda: kv.gather([0], out=np.zeros((2, 16), np.float32)),  # wrong size
                 lambda: kv.gather([0], out=np.zeros((1, 32), np.float32)[:, ::2]),  # not contiguous
                 lambda: kv.gather([0], out=mis),  # misaligned
                 lambda: kv.gather([0], out=ro),  # read-only
                 lambda: kv.most_similar("king", topn=0), lambda: kv.most_similar(),
                 lambda: kv.most_similar("king", topn=None), lambda: kv._similar(np.zeros(3), 1, []),
                 lambda: kv.similar_by_vector(np.zeros(16)),                  # a zero query
                 lambda: kv.similar_by_vector(np.ones(5))):
        with pytest.raises(wordbench.UsageError):
            call()
    with pytest.raises(TypeError):
        kv.most_similar("king", topn="5")


def test_out_of_range_rows(demo_store):
    kv = wordbench.Store(demo_store)
    for rows in ([60], [-1], [0, 2**40], np.array([2**63 - 1]), np.array([2**64 - 1], dtype=np.uint64)):
        with pytest.raises(IndexError, match="out of range"):
            kv.gather(rows)
        with pytest.raises(IndexError):
            kv.words(rows)
    with pytest.raises(IndexError):
        kv._similar(kv["king"], 3, [99])
    with pytest.raises(IndexError):
        kv.index_to_key[10**6]


def test_closed_store(demo_store):
    kv = wordbench.Store(demo_store)
    kv.close()
    kv.close()  # twice is fine
    for call in (lambda: kv["king"], lambda: kv.rows(["king"]), lambda: kv.gather([0]), lambda: kv.info,
                 lambda: len(kv), lambda: kv.verify(), lambda: kv.most_similar("king"), lambda: kv.vectors,
                 lambda: "king" in kv, lambda: kv.words([0]), lambda: kv.__enter__()):
        with pytest.raises(wordbench.UsageError, match="closed"):
            call()
    with pytest.raises(wordbench.UsageError):
        kv.__init__(demo_store)  # a closed object is not reopened


def test_uninitialised_objects():
    s = wordbench.Store.__new__(wordbench.Store)
    with pytest.raises(wordbench.UsageError, match="not open"):
        s.rows(["a"])
    m = wordbench.Model.__new__(wordbench.Model)
    with pytest.raises(wordbench.UsageError):
        m._predict(["a"])
    v = wordbench.Vocab.__new__(wordbench.Vocab)
    with pytest.raises(wordbench.UsageError):
        len(v)


def test_model_errors(models, demo_store, tmp_path):
    with pytest.raises(wordbench.FileError):
        wordbench.Model(tmp_path / "none.wbm")
    cut = tmp_path / "cut.wbm"
    data = open(models["binary"], "rb").read()
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(wordbench.CorruptError):
        wordbench.Model(cut)
    notmodel = tmp_path / "x.wbm"
    notmodel.write_bytes(b"hello world, not a model at all" * 4)
    with pytest.raises(wordbench.Error):
        wordbench.Model(notmodel)
    other = tmp_path / "other.store"
    shutil.copytree(demo_store, other)
    with pytest.raises(wordbench.Error):
        wordbench.Model(models["binary"], store=tmp_path / "missing.store")
    m = wordbench.Model(models["binary"])
    for call in (lambda: m.predict([1, 2]), lambda: m.predict(None), lambda: m.encode(5)):
        with pytest.raises(TypeError):
            call()
    for call in (lambda: m.predict(["a"], top_k=0), lambda: m.predict(["a"], threshold=0.5),
                 lambda: wordbench.Model(models["binary"], batch_size=0)):
        with pytest.raises(wordbench.UsageError):
            call()
    m.close()
    for call in (lambda: m.predict(["a"]), lambda: m.labels, lambda: m.encode("a"), lambda: m.vocab):
        with pytest.raises(wordbench.UsageError, match="closed"):
            call()


def test_vocab_errors(tmp_path):
    with pytest.raises(wordbench.FileError):
        wordbench.Vocab(tmp_path / "none")
    junk = tmp_path / "junk"
    junk.write_bytes(b"WBVOCAB\0" + b"\1" * 80)
    with pytest.raises(wordbench.Error) as e:
        wordbench.Vocab(junk)
    assert str(junk) in str(e.value)
    text = tmp_path / "text"
    text.write_text("just some words\n")
    with pytest.raises(wordbench.FormatError):
        wordbench.Vocab(text)
    with pytest.raises(TypeError):
        wordbench.Vocab(None)


def test_convert_errors_surface_through_the_cli_only(wb, tmp_path):
    """The binding opens stores; it does not convert (the CLI does).  A store made from a bad file
    never appears, so there is nothing for Store() to open."""
    r = wb("convert", "-q", fixture("vectors", "too_few.glove.txt"), tmp_path / "bad.store", check=False)
    assert r.returncode == 1
    with pytest.raises(wordbench.FileError):
        wordbench.Store(tmp_path / "bad.store")
