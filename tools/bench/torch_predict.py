#!/usr/bin/python3
"""torch_predict.py — PyTorch inference of wordbench's `tutorial` / `kim` models, the peer of
`wordbench predict` in tools/bench/bench_predict.sh (issue 12, Inference).

Run it with Debian's /usr/bin/python3 (python3-torch 1.13, python3-keras-preprocessing).

    torch_predict.py --train cooking.train --input lines.txt --model kim --maxlen 100 --emb-dim 100
                     [--threads 1] [--batch 256] [--out FILE]

What a PyTorch user writes to label a file with a trained TextCNN: Keras' Tokenizer fitted on the
training file's texts (fastText format: leading __label__ tokens dropped), texts_to_sequences +
pad_sequences(maxlen, post, post) on the input lines, then the model in eval mode under
torch.no_grad(), batch 256, softmax (sigmoid for a multi-label or binary model: --task) and the best
label of each line written out.  The network is torch_train.py's TextCNN with the same shapes as the
wordbench model (V = the tokenizer's words + 1, E, C = the training file's labels); its weights are
its initialisation, not trained: the time of a forward pass does not depend on the values.
Prints one JSON line: examples, tokenize_s (tokenizer on the input + padding), forward_s (the model,
softmax, argmax), write_s, total_s (reading the input to the last line written) and examples/s.
Not timed: fitting the tokenizer on the training file and building the model (what a saved model
would load).
"""

import argparse
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_train import TextCNN  # noqa: E402  (same directory)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train", required=True, help="fastText-format training file (tokenizer + labels)")
    ap.add_argument("--input", required=True, help="plain lines to label")
    ap.add_argument("--model", default="kim", choices=["tutorial", "kim"])
    ap.add_argument("--maxlen", type=int, default=100)
    ap.add_argument("--emb-dim", type=int, default=100)
    ap.add_argument("--task", default="multilabel", choices=["multilabel", "multiclass"])
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=os.devnull)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    from keras_preprocessing.sequence import pad_sequences
    from keras_preprocessing.text import Tokenizer

    texts, labels = [], set()
    with open(a.train, encoding="utf-8", errors="replace") as f:
        for line in f:
            toks = line.split()
            i = 0
            while i < len(toks) and toks[i].startswith("__label__"):
                labels.add(toks[i][9:])
                i += 1
            texts.append(" ".join(toks[i:]))
    tok = Tokenizer(num_words=None, oov_token="<oov>")
    tok.fit_on_texts(texts)
    names = sorted(labels)
    V, C = len(tok.word_index) + 1, len(names)
    net = TextCNN(a.model, V, a.emb_dim, C, "frozen")
    net.eval()

    t0 = time.perf_counter()
    with open(a.input, encoding="utf-8", errors="replace") as f:
        lines = [l.rstrip("\n") for l in f]
    X = pad_sequences(tok.texts_to_sequences(lines), maxlen=a.maxlen, padding="post", truncating="post")
    X = torch.from_numpy(X.astype(np.int64))
    t1 = time.perf_counter()
    best = []
    with torch.no_grad():
        for s in range(0, len(X), a.batch):
            z = net(X[s:s + a.batch])
            p = torch.sigmoid(z) if a.task == "multilabel" else torch.softmax(z, dim=1)
            v, i = p.max(dim=1)
            best.append((i, v))
    t2 = time.perf_counter()
    with open(a.out, "w") as f:
        for i, v in best:
            for k, pv in zip(i.tolist(), v.tolist()):
                f.write("%s\t%.6f\n" % (names[k], pv))
    t3 = time.perf_counter()
    n = len(lines)
    print(json.dumps({"examples": n, "V": V, "C": C, "threads": a.threads, "tokenize_s": round(t1 - t0, 4),
                      "forward_s": round(t2 - t1, 4), "write_s": round(t3 - t2, 4), "total_s": round(t3 - t0, 4),
                      "examples_per_s": round(n / (t3 - t0), 1),
                      "forward_examples_per_s": round(n / (t2 - t1), 1), "torch": torch.__version__}))


if __name__ == "__main__":
    main()
