"""Threads: look-ups, gathers, neighbour searches and predictions run without the GIL; results are
the same as from one thread, and closing a store or model while other threads use it never crashes
(each call either completes or raises UsageError)."""

import threading

import numpy as np

import wordbench


def run_threads(n, fn):
    errors = []

    def wrap(i):
        try:
            fn(i)
        except Exception as e:  # noqa: BLE001 - collected and re-raised below
            errors.append(e)

    ts = [threading.Thread(target=wrap, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return errors


def test_parallel_results_equal_serial(demo_store):
    kv = wordbench.Store(demo_store)
    words = list(kv.index_to_key) * 50 + ["qqq"]          # > 64 words: the GIL-free look-up path
    rows = np.random.default_rng(1).integers(0, len(kv), size=5000)
    want_rows, want_g, want_nb = kv.rows(words), kv.gather(rows), kv.most_similar("king", topn=7)

    def work(i):
        for _ in range(20):
            assert np.array_equal(kv.rows(words), want_rows)
            assert np.array_equal(kv.gather(rows), want_g)
            assert kv.most_similar("king", topn=7) == want_nb
            assert kv.get_index("queen") == 1
    assert run_threads(4, work) == []


def test_close_while_in_use(demo_store):
    for _ in range(5):
        kv = wordbench.Store(demo_store)
        words = list(kv.index_to_key) * 100
        rows = np.arange(len(kv)).repeat(100)
        start = threading.Barrier(5)

        def work(i):
            start.wait()
            if i == 0:
                kv.close()
                return
            v = None
            for _ in range(50):
                try:
                    kv.rows(words)
                    kv.gather(rows)
                    kv.most_similar("king", topn=3)
                    v = kv.vectors
                except wordbench.UsageError as e:
                    assert "closed" in str(e)
                    break
            if v is not None:
                assert v.shape == (60, 16) and float(np.abs(v).sum()) > 0  # still mapped
        assert run_threads(5, work) == []
        assert kv.closed


def test_model_from_threads(models):
    m = wordbench.Model(models["multilabel"])
    texts = ["Princess house village sleep queen", "Son woman kitchen", "castle father"] * 30
    want = m.predict_proba(texts)

    def work(i):
        if i == 3:
            return
        for _ in range(10):
            assert np.array_equal(m.predict_proba(texts), want)
    assert run_threads(4, work) == []
    start = threading.Barrier(3)

    def closing(i):
        start.wait()
        if i == 0:
            m.close()
            return
        try:
            for _ in range(50):
                m.predict_proba(texts)
        except wordbench.UsageError as e:
            assert "closed" in str(e)
    assert run_threads(3, closing) == []
