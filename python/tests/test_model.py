"""wordbench.Model: the same tokenizer, vocabulary and weights as the CLI — probabilities identical to
`wordbench predict --json` on the same lines, for every task."""

import json

import numpy as np
import pytest

import wordbench
from conftest import fixture


def texts():
    """Lines of the demo data without their labels, plus awkward ones."""
    out = []
    with open(fixture("text", "demo_sentiment_test.tsv"), encoding="utf-8") as f:
        out += [line.rstrip("\n").split("\t")[0] for line in f][:40]
    with open(fixture("text", "demo_topics.txt"), encoding="utf-8") as f:
        out += [" ".join(w for w in line.split() if not w.startswith("__label__")) for line in f][:40]
    out += ["", "qqq zzz unknown words only", "king " * 500, "Café au lait, crème brûlée!", "\t tabs \t"]
    return out


def cli_probs(wb, model, lines, tmp_path, nlabels):
    path = tmp_path / "in.txt"
    path.write_text("".join(t + "\n" for t in lines), encoding="utf-8")
    out = wb("predict", "--json", "-k", nlabels, model, path).stdout.splitlines()
    assert len(out) == len(lines)
    return [wb_json(line) for line in out]


def wb_json(line):
    return json.loads(line)


@pytest.mark.parametrize("name", ["binary", "finetune", "multiclass", "multilabel"])
def test_probabilities_identical_to_cli(wb, models, tmp_path, name):
    m = wordbench.Model(models[name])
    lines = texts()
    labels = m.labels
    p = m.predict_proba(lines)
    assert p.dtype == np.float32 and p.shape == (len(lines), len(labels))
    for i, rec in enumerate(cli_probs(wb, models[name], lines, tmp_path, len(labels))):
        assert rec["line"] == i + 1
        ours = m.predict(lines[i], top_k=len(labels))
        if not ours:  # a text without tokens: no labels, as `wordbench predict` marks an empty record
            assert lines[i] in ("", "...") or not any(c.isalnum() for c in lines[i])
        if not rec["labels"]:
            assert rec.get("empty") and not ours
            continue
        assert len(rec["labels"]) == len(labels)
        for lab in rec["labels"]:
            # the CLI prints float32 with %.9g: parsing it back gives the exact float
            assert np.float32(lab["prob"]) == p[i, labels.index(lab["label"])], (name, i, lab)
        # and the same order (ties included) as predict with top_k
        if ours:
            assert [lab for lab, _ in ours] == [r["label"] for r in rec["labels"]]


def test_batch_size(wb, models, tmp_path):
    """The batch size changes the last bits (OpenBLAS picks kernels by matrix size), as in the CLI:
    the same batch size gives the same bytes as `predict --batch-size`."""
    lines = texts()
    m7 = wordbench.Model(models["multilabel"], batch_size=7)
    a = wordbench.Model(models["multilabel"], batch_size=1).predict_proba(lines)
    b = m7.predict_proba(lines)
    assert np.allclose(a, b, atol=1e-6, rtol=0)
    path = tmp_path / "in.txt"
    path.write_text("".join(t + "\n" for t in lines), encoding="utf-8")
    out = wb("predict", "--json", "-k", len(m7.labels), "--batch-size", 7, models["multilabel"], path).stdout
    for i, line in enumerate(out.splitlines()):
        for lab in wb_json(line)["labels"]:
            assert np.float32(lab["prob"]) == b[i, m7.labels.index(lab["label"])]


def test_predict_shapes(models):
    m = wordbench.Model(models["binary"])
    assert m.task == "binary" and m.labels == ["0", "1"]
    one = m.predict("good cake")
    assert len(one) == 1 and one[0][0] in ("0", "1")
    two = m.predict(["good cake", "sad tea"], top_k=2)
    assert len(two) == 2 and all(len(r) == 2 for r in two)
    assert abs(sum(p for _, p in two[0]) - 1) < 1e-6
    assert m.predict([]) == [] and m.predict_proba([]).shape == (0, 2)
    assert m.predict_proba("good cake").shape == (2,)
    assert m.predict([b"good cake"]) == m.predict(["good cake"])
    assert m.predict(["", "...", "good cake"])[:2] == [[], []]  # no tokens, no labels (as the CLI)
    assert m.predict_proba("").shape == (2,)


def test_threshold_multilabel(models):
    m = wordbench.Model(models["multilabel"])
    assert m.task == "multilabel"
    text = "Princess house village sleep queen queen"
    p = m.predict_proba(text)
    got = m.predict(text, threshold=0.3)
    want = sorted(((lab, float(x)) for lab, x in zip(m.labels, p) if x >= 0.3), key=lambda t: -t[1])
    assert got == want
    assert m.predict(text, threshold=1.0) == [] or all(x == 1.0 for _, x in m.predict(text, threshold=1.0))


def test_config_vocab_and_encode(wb, models, demo_store):
    m = wordbench.Model(models["binary"], store=demo_store)
    c = m.config
    assert c["model"] == "tutorial" and c["embeddings"] == "frozen" and c["maxlen"] == 20 == m.maxlen
    assert m.store == str(__import__("pathlib").Path(demo_store).resolve()) or m.store.endswith("demo.store")
    v = m.vocab
    assert len(v) == c["vocab_size"] and v[0] == "" and v[1] == ""
    ids = m.encode("Prince castle great")
    assert ids.dtype == np.int32 and ids.shape == (20,)
    assert ids[:3].tolist() == [v.lookup("prince"), v.lookup("castle"), v.lookup("great")]
    assert v.lookup("qqqq") == 1 and v.count(2) >= v.count(3)
    assert v.words()[2] == v[2]
    # the same vocabulary read straight from the model file
    v2 = wordbench.Vocab(models["binary"])
    assert v2.words() == v.words()
    # a Store object works as store= too
    with wordbench.Store(demo_store) as kv:
        assert wordbench.Model(models["binary"], store=kv).predict("cake") == m.predict("cake")
    with m:
        pass
    assert m.closed
