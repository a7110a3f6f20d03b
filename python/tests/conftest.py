"""Shared fixtures of the Python tests: the CLI (environment WB, set by CTest), the fixture files
(WB_FIXTURES), and small stores and models made with the CLI once per session."""

import json
import os
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.environ.get("WB_FIXTURES", os.path.join(HERE, "..", "..", "fixtures"))


def _cli():
    wb = os.environ.get("WB")
    if not wb or not os.access(wb, os.X_OK):
        pytest.skip("set WB to the wordbench binary (CTest does)")
    return wb


@pytest.fixture(scope="session")
def wb():
    """Run the CLI: wb("info", "--json", store) -> CompletedProcess (text, stdout and stderr)."""
    path = _cli()

    def run(*args, check=True, input=None):
        p = subprocess.run([path] + [str(a) for a in args], capture_output=True, text=True, input=input)
        if check and p.returncode != 0:
            raise AssertionError("wordbench %s: exit %d: %s" % (" ".join(map(str, args)), p.returncode, p.stderr))
        return p

    run.json = lambda *args: json.loads(run(*args).stdout)
    return run


def fixture(*parts):
    return os.path.join(FIXTURES, *parts)


@pytest.fixture(scope="session")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("wb")


@pytest.fixture(scope="session")
def demo_txt():
    return fixture("vectors", "demo.glove.txt")


@pytest.fixture(scope="session")
def demo_store(wb, workdir, demo_txt):
    """60 words x 16, float32 (fixtures/vectors/demo.glove.txt)."""
    path = workdir / "demo.store"
    wb("convert", "-q", demo_txt, path)
    return str(path)


@pytest.fixture(scope="session")
def demo_f16(wb, workdir, demo_txt):
    path = workdir / "demo16.store"
    wb("convert", "-q", "--dtype", "f16", demo_txt, path)
    return str(path)


@pytest.fixture(scope="session")
def models(wb, workdir, demo_store):
    """Models trained on the demo data, by task: binary (sentiment, tutorial frozen), finetune (sentiment,
    kim fine-tuned, oov random), multiclass (the single-label topic lines), multilabel (topics)."""
    out = {}
    single = workdir / "topics1.txt"
    with open(fixture("text", "demo_topics.txt"), encoding="utf-8") as f:
        single.write_text("".join(line for line in f if line.count("__label__") == 1), encoding="utf-8")
    specs = {
        "binary": ["--data", fixture("text", "demo_sentiment.tsv"), "--model", "tutorial", "--embeddings", "frozen",
                   "--maxlen", "20"],
        "finetune": ["--data", fixture("text", "demo_sentiment.tsv"), "--model", "kim", "--embeddings", "finetune",
                     "--maxlen", "20", "--oov", "random"],
        "multiclass": ["--data", single, "--model", "pool", "--embeddings", "frozen", "--maxlen", "16"],
        "multilabel": ["--data", fixture("text", "demo_topics.txt"), "--model", "kim", "--embeddings", "finetune",
                       "--maxlen", "16"],
    }
    for name, args in specs.items():
        path = workdir / (name + ".wbm")
        wb("train", "-q", "--store", demo_store, "--epochs", "4", "--seed", "7", "-o", path, *args)
        out[name] = str(path)
    return out
