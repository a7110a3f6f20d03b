#!/usr/bin/python3
"""torch_models.py — the PyTorch twins of wordbench's charcnn, lstm and gru models (issue 11, Figures).

Run it with Debian's /usr/bin/python3 (python3-torch 1.13, python3-keras-preprocessing). It reads the
same split files as `wordbench train` (tools/bench/bench_models.sh writes them with torch_train.py
--write-split and --write-subset below), trains the twin for --epochs and prints one JSON line on stdout:
examples/s of the training loop (all epochs, evaluation excluded) and the test accuracy (binary,
multiclass) or P@1 (multilabel), in the fields torch_train.py uses.

Models (the shapes, initialisation and losses of include/wordbench/model.h, written as a PyTorch user
writes them):
  charcnn  Zhang, Zhao & LeCun 2015, small: the text lower-cased, one id per character of the 69-character
           alphabet (WB_TOK_ZHANG_ALPHABET; any other character is a zero vector), padded / truncated
           (post) to --maxlen (l0, default 1014), one-hot (F.one_hot, materialised) -> Conv1d(69, 256, 7)
           ReLU MaxPool1d(3) -> Conv1d(256, 256, 7) ReLU MaxPool1d(3) -> 4 x Conv1d(256, 256, 3) ReLU ->
           MaxPool1d(3) -> Flatten -> [Linear(., 1024) ReLU Dropout(0.5)] x 2 -> Linear(1024, C).
  lstm,gru Keras' Tokenizer(num_words=--num-words, oov_token) fitted on the training split (the ids of
           wordbench's keras tokenizer and vocabulary: 0 padding, 1 OOV, 2.. by frequency),
           pad_sequences(maxlen, post, post) -> nn.Embedding(V, E, padding_idx=0), learned,
           U(-0.05, 0.05) -> nn.LSTM / nn.GRU(E, units, batch_first, bidirectional) over a packed sequence
           of each text's true length (PyTorch's masking; Keras' mask_zero) -> the last state of each
           direction (h_n) or the max over the real time steps -> Linear(., C).
           Initialisation as Keras: Glorot-uniform input kernels, orthogonal recurrent kernels, zero biases,
           the LSTM's forget-gate bias 1 (unit_forget_bias). torch's GRU is Keras' reset_after=True.
           --rnn-impl padded runs nn.LSTM / nn.GRU on the padded batch instead (no masking: the same maths
           only for texts of at least maxlen tokens; JSON short_share says how many are shorter). The
           reason: torch 1.13's CPU backward of a packed sequence is quadratic in maxlen (each time step's
           slice of the packed input adds a gradient the size of the whole input: aten::add takes ~90% of
           a step, 17 s of 17 s for 32 x 200 tokens vs 0.7 s unpacked), so the packed twin is timed on a
           small subset only.
Heads and optimizer as torch_train.py: binary 1 logit + BCEWithLogitsLoss, multiclass CrossEntropyLoss,
multilabel BCE per label; Adam lr 1e-3, eps 1e-7 (Keras' default) over all parameters (dense Adam: what a
PyTorch user writes), batch 32, shuffled each epoch by a seeded generator.

  --write-subset OUT N   only: write N records of --train (a seeded shuffle, CSV header kept) to OUT, so
                         that both trainers can be given the same smaller set.
"""

import argparse
import json
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_train as tt  # noqa: E402  (the readers, labels, loss, evaluation and baseline of issue 5's twin)
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import torch_ref as tr  # noqa: E402  (packed_rnn: the masked recurrent layer of the parity fixtures)

ZHANG = "abcdefghijklmnopqrstuvwxyz0123456789-,;.!?:'\"/\\|_@#$%^&*~`+=<>()[]{}\n"


def die(msg, code=1):
    print("torch_models.py: " + msg, file=sys.stderr)
    sys.exit(code)


class CharCNN(nn.Module):
    """x: (B, T) ids, 0 padding, 1 unknown, 2 + i the alphabet's character i -> logits (B, C)."""

    def __init__(self, A, T, C, F=256, widths=(7, 7, 3, 3, 3, 3), H=1024, nhidden=2, dropout=0.5):
        super().__init__()
        self.A = A
        self.convs = nn.ModuleList()
        self.pool_after = []
        D, L = A, T
        for i, k in enumerate(widths):
            self.convs.append(nn.Conv1d(D, F, k))
            L = L - k + 1
            pool = i < 2 or i + 1 == len(widths)
            self.pool_after.append(pool)
            if pool:
                L //= 3
            D = F
        if L < 1:
            die("--maxlen %d is too short for the convolutions" % T, 2)
        layers, fin = [], L * F
        for _ in range(nhidden):
            layers += [nn.Linear(fin, H), nn.ReLU(), nn.Dropout(dropout)]
            fin = H
        self.hidden = nn.Sequential(*layers)
        self.out = nn.Linear(fin, C)
        for m in self.modules():
            if isinstance(m, (nn.Conv1d, nn.Linear)):
                nn.init.xavier_uniform_(m.weight)   # Keras glorot_uniform: the same fans for (F, D, K)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        oh = torch.nn.functional.one_hot(x, self.A + 2)[..., 2:].float()   # (B, T, A): ids 0, 1 are zero
        h = oh.transpose(1, 2)                                               # (B, A, T)
        for conv, pool in zip(self.convs, self.pool_after):
            h = torch.relu(conv(h))
            if pool:
                h = torch.nn.functional.max_pool1d(h, 3)
        h = h.transpose(1, 2).reshape(h.shape[0], -1)   # position-major, as wordbench flattens
        return self.out(self.hidden(h))


class RNN(nn.Module):
    """x: (B, T) post-padded ids, lengths (B,) -> logits (B, C)."""

    def __init__(self, kind, V, E, R, bi, pool, C, packed=True):
        super().__init__()
        self.pool, self.packed = pool, packed
        self.emb = nn.Embedding(V, E, padding_idx=0)
        cls = nn.LSTM if kind == "lstm" else nn.GRU
        self.rnn = cls(E, R, batch_first=True, bidirectional=bi)
        self.out = nn.Linear(R * (2 if bi else 1), C)
        gates = 4 if kind == "lstm" else 3
        with torch.no_grad():
            self.emb.weight.uniform_(-0.05, 0.05)
            self.emb.weight[0].zero_()
            for name, p in self.rnn.named_parameters():
                if name.startswith("weight_ih"):
                    nn.init.xavier_uniform_(p)                    # Keras kernel (E, gates*R): same fans
                elif name.startswith("weight_hh"):
                    for g in range(gates):                        # Keras: orthogonal (R, gates*R); here
                        nn.init.orthogonal_(p[g * R:(g + 1) * R])  # one orthogonal R x R block per gate
                else:
                    p.zero_()
                    if kind == "lstm" and name.startswith("bias_ih"):
                        p[R:2 * R] = 1.0                          # unit_forget_bias (gate order i, f, g, o)
            nn.init.xavier_uniform_(self.out.weight)
            nn.init.zeros_(self.out.bias)

    def forward(self, x, lengths):
        e = self.emb(x)
        if not self.packed:     # --rnn-impl padded: the padding steps run through the cell like words
            out, hn = self.rnn(e)
            if self.pool == "max":
                return self.out(out.max(dim=1)[0])
            if isinstance(hn, tuple):
                hn = hn[0]
            return self.out(torch.cat([hn[d] for d in range(hn.shape[0])], dim=1))
        return self.out(tr.packed_rnn(self.rnn, e, lengths, self.pool)[0])


def char_ids(texts, T):
    idx = {c: i + 2 for i, c in enumerate(ZHANG)}
    X = np.zeros((len(texts), T), dtype=np.int64)
    for r, s in enumerate(texts):
        ids = [idx.get(c, 1) for c in s.lower()[:T]]
        X[r, :len(ids)] = ids
    return torch.from_numpy(X)


def write_subset(a):
    d = tt.read_data(a.train, a)
    ids = list(range(len(d.texts)))
    random.Random(a.seed).shuffle(ids)
    sub = tt.subset(d, sorted(ids[:a.write_subset[1]]))
    tt.write_data(sub, a.write_subset[0], a.format)
    print(json.dumps({"subset": a.write_subset[0], "of": a.train, "records": len(sub.texts),
                      "seed": a.seed}))


def main():
    p = argparse.ArgumentParser(description="PyTorch twins of wordbench's charcnn, lstm and gru (issue 11).")
    p.add_argument("--model", choices=["charcnn", "lstm", "gru"], default="lstm")
    p.add_argument("--train", metavar="FILE", required=True)
    p.add_argument("--test", metavar="FILE")
    p.add_argument("--format", choices=["fasttext", "csv", "tsv"], default="csv")
    p.add_argument("--text-col", action="append", help="CSV text column (repeatable; default text)")
    p.add_argument("--label-col", default="label")
    p.add_argument("--label-prefix", default="__label__")
    p.add_argument("--maxlen", type=int, help="tokens (lstm/gru, default 100) or characters (charcnn, 1014)")
    p.add_argument("--num-words", type=int, default=0, help="lstm/gru: Keras' num_words (0 = all)")
    p.add_argument("--emb-dim", type=int, default=100)
    p.add_argument("--units", type=int, default=100)
    p.add_argument("--bidirectional", action="store_true")
    p.add_argument("--rnn-pool", choices=["last", "max"], default="last")
    p.add_argument("--rnn-impl", choices=["packed", "padded"], default="packed",
                   help="packed: pack_padded_sequence (masking); padded: the padded batch as it is (no "
                        "masking: differs from wordbench for texts shorter than --maxlen)")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--epoch-test", action="store_true",
                   help="also score the test file after every epoch (untimed; JSON epoch_test)")
    p.add_argument("--write-subset", nargs=2, metavar=("OUT", "N"))
    a = p.parse_args()
    if a.write_subset:
        a.write_subset[1] = int(a.write_subset[1])
        write_subset(a)
        return
    if not a.test:
        die("--test FILE is required", 2)
    if a.maxlen is None:
        a.maxlen = 1014 if a.model == "charcnn" else 100
    if min(a.maxlen, a.epochs, a.batch_size, a.threads, a.units, a.emb_dim) < 1:
        die("--maxlen, --epochs, --batch-size, --threads, --units, --emb-dim must be >= 1", 2)

    t_load = time.perf_counter()
    tr, te = tt.read_data(a.train, a), tt.read_data(a.test, a)
    task = tt.detect_task(tr.labels)
    label_names = sorted({l for labs in tr.labels for l in labs})
    label_ids = {l: i for i, l in enumerate(label_names)}
    C = 1 if task == "binary" else len(label_names)
    V = None
    if a.model == "charcnn":
        Xtr, Xte = char_ids(tr.texts, a.maxlen), char_ids(te.texts, a.maxlen)
    else:
        from keras_preprocessing.text import Tokenizer
        from keras_preprocessing.sequence import pad_sequences
        tok = Tokenizer(num_words=a.num_words or None, oov_token="<oov>")
        tok.fit_on_texts(tr.texts)
        seq = lambda texts: torch.from_numpy(pad_sequences(tok.texts_to_sequences(texts), maxlen=a.maxlen,
                                                           padding="post", truncating="post").astype(np.int64))
        Xtr, Xte = seq(tr.texts), seq(te.texts)
        V = min(len(tok.word_index) + 1, a.num_words) if a.num_words else len(tok.word_index) + 1
    load_s = time.perf_counter() - t_load

    tt.setup(a)
    if a.model == "charcnn":
        net = CharCNN(len(ZHANG), a.maxlen, C)
        fwd = lambda x: net(x)
    else:
        net = RNN(a.model, V, a.emb_dim, a.units, a.bidirectional, a.rnn_pool, C, a.rnn_impl == "packed")
        # an empty text has length 0, which pack_padded_sequence refuses: give it one padding step
        fwd = lambda x: net(x, (x != 0).sum(dim=1).clamp(min=1))
    net.train()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7)
    lossf = tt.make_loss(task)
    Ytr = tt.encode_labels(tr.labels, label_ids, task)
    if task == "binary":
        Ytr = Ytr.float()
    class Wrap:                 # tt.evaluate calls net(X) and net.eval() / net.train()
        def __call__(self, x):
            return fwd(x)

        def eval(self):
            net.eval()

        def train(self):
            net.train()

    n, B = len(Xtr), a.batch_size
    g = torch.Generator().manual_seed(a.seed)
    train_s, losses, epoch_test = 0.0, [], []
    for ep in range(1, a.epochs + 1):
        perm = torch.randperm(n, generator=g)
        tot = 0.0
        t0 = time.perf_counter()
        for i in range(0, n, B):
            b = perm[i:i + B]
            opt.zero_grad(set_to_none=True)
            loss = lossf(fwd(Xtr[b]), Ytr[b])
            loss.backward()
            opt.step()
            tot += float(loss) * len(b)
        dt = time.perf_counter() - t0
        train_s += dt
        losses.append(round(tot / n, 5))
        if not a.quiet:
            print("Epoch %d/%d %.1fs %.1f ex/s loss %.4f" % (ep, a.epochs, dt, n / dt, tot / n), file=sys.stderr)
        if a.epoch_test and ep < a.epochs:   # the last epoch is scored below
            with torch.no_grad():
                epoch_test.append(round(tt.evaluate(Wrap(), Xte, te.labels, label_ids, task, batch=64), 5))

    t_eval = time.perf_counter()
    metric = tt.evaluate(Wrap(), Xte, te.labels, label_ids, task, batch=64)
    eval_s = time.perf_counter() - t_eval
    out = {"impl": "torch", "model": a.model, "task": task, "train": n, "test": len(Xte), "maxlen": a.maxlen,
           "vocab": V, "classes": C, "epochs": a.epochs, "batch_size": B, "seconds": round(train_s, 3),
           "examples_per_s": round(n * a.epochs / train_s, 2), "epoch_loss": losses,
           "eval_seconds": round(eval_s, 3), "load_seconds": round(load_s, 3), "threads": a.threads,
           "seed": a.seed, "params": sum(p.numel() for p in net.parameters())}
    if a.model != "charcnn":
        out.update({"emb_dim": a.emb_dim, "units": a.units, "bidirectional": a.bidirectional,
                    "rnn_pool": a.rnn_pool, "num_words": a.num_words, "rnn_impl": a.rnn_impl,
                    "short_share": round(float((Xtr[:, -1] == 0).float().mean()), 4)})
    out["test_p_at_1" if task == "multilabel" else "test_acc"] = round(metric, 5)
    if a.epoch_test:
        out["epoch_test"] = epoch_test + [round(metric, 5)]
    out["baseline"] = round(tt.baseline(tr.labels, te.labels, task), 5)
    out.update(tt.versions())
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
