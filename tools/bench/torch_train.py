#!/usr/bin/python3
"""torch_train.py — the PyTorch twin of wordbench's `tutorial` and `kim` models (issue 5, Figures).

Run it with Debian's /usr/bin/python3 (python3-torch 1.13, python3-keras-preprocessing, python3-sklearn):
the `python3` first on PATH may be another interpreter without torch.

What it does:
  --synthetic   random ids (V = 20000, id 0 = padding allowed), maxlen 100, E = 300, random labels:
                training examples/s over --steps minibatches after --warmup ones. One JSON line.
  real data     --train FILE [--valid FILE | --test-size F] --format fasttext|csv|tsv --vectors FILE.vec:
                Keras' own Tokenizer fitted on the training split, pad_sequences(maxlen, post, post),
                the Real Python tutorial's create_embedding_matrix, E epochs; per-epoch time on stderr,
                one JSON line on stdout with examples/s and the test accuracy (binary, multiclass) or
                P@1 (multilabel, fastText's definition: correct top-1 predictions / N).
  --write-split PREFIX   only split --train (same split as a --test-size run) into PREFIX-train.EXT
                and PREFIX-test.EXT, so that another trainer can be given exactly the same data.

The models are Keras-equivalent (the shapes, initialisation and losses of the Keras code a tutorial
reader writes), built the way a PyTorch user writes them:
  tutorial  Embedding(V,E) -> Conv1d(E,128,5) -> ReLU -> max over time -> Linear(128,10) -> ReLU
            -> Linear(10,C)
  kim       Embedding -> Conv1d(E,100,k) + ReLU for k = 3,4,5 -> max over time -> concat (300)
            -> Dropout(0.5) -> Linear(300,C), each row of its weight renormed to L2 norm <= 3 after
            every step (Kim 2014; Keras max_norm(3) on the Dense kernel)
Heads: binary 1 logit + BCEWithLogitsLoss; multiclass C logits + CrossEntropyLoss; multilabel C logits
+ BCEWithLogitsLoss (mean over all B*C elements, as Keras' binary_crossentropy). Initialisation as
Keras: Glorot-uniform kernels, zero biases, learned embeddings U(-0.05, 0.05). Row 0 (padding) is
zero and gets no gradient (padding_idx=0), as wordbench's model.h specifies.
Embeddings: frozen (requires_grad False; Adam over the other parameters), finetune and learned
(trainable; torch.optim.Adam over all parameters, i.e. dense Adam that reads and writes every row of
the embedding each step: what a PyTorch user does by default). --sparse switches the embedding to
sparse gradients + torch.optim.SparseAdam (lazy rows), the fairer but less common PyTorch set-up.
Adam lr 1e-3, betas (0.9, 0.999), eps 1e-7 (Keras' default), batch 32, shuffled each epoch.

Deliberately not here: early stopping, checkpoints, class weights, other optimizers, GPU.
"""

import argparse
import csv
import json
import math
import os
import platform
import random
import sys
import time

import numpy as np
import torch
import torch.nn as nn

KERAS_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'


def die(msg, code=1):
    print("torch_train.py: " + msg, file=sys.stderr)
    sys.exit(code)


# ---- the model -------------------------------------------------------------------------------------

class TextCNN(nn.Module):
    """tutorial or kim.  x: (B,T) int64 ids -> logits (B,C)."""

    def __init__(self, model, V, E, C, emb_mode, weights=None, sparse=False):
        super().__init__()
        if model == "tutorial":
            widths, F, hidden, dropout, self.maxnorm = [5], 128, 10, 0.0, 0.0
        elif model == "kim":
            widths, F, hidden, dropout, self.maxnorm = [3, 4, 5], 100, 0, 0.5, 3.0
        else:
            raise ValueError(model)
        self.emb = nn.Embedding(V, E, padding_idx=0, sparse=sparse)
        with torch.no_grad():
            if weights is not None:
                self.emb.weight.copy_(torch.from_numpy(np.ascontiguousarray(weights, dtype=np.float32)))
            else:
                self.emb.weight.uniform_(-0.05, 0.05)   # Keras Embedding default
            self.emb.weight[0].zero_()
        self.emb.weight.requires_grad_(emb_mode != "frozen")
        self.convs = nn.ModuleList(nn.Conv1d(E, F, k) for k in widths)
        feat = F * len(widths)
        self.drop = nn.Dropout(dropout) if dropout > 0 else None
        self.hidden = nn.Linear(feat, hidden) if hidden else None
        self.out = nn.Linear(hidden if hidden else feat, C)
        # Keras defaults: glorot_uniform kernels (Conv1D fan_in = K*E, fan_out = K*F: the same numbers
        # torch's xavier_uniform_ takes from the (F, E, K) weight), zero biases.
        for m in list(self.convs) + [self.hidden, self.out]:
            if m is not None:
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        e = self.emb(x).transpose(1, 2)                           # (B,E,T)
        feats = [torch.relu(conv(e)).amax(dim=2) for conv in self.convs]   # each (B,F)
        h = feats[0] if len(feats) == 1 else torch.cat(feats, dim=1)
        if self.drop is not None:
            h = self.drop(h)
        if self.hidden is not None:
            h = torch.relu(self.hidden(h))
        return self.out(h)                                        # (B,C)

    @torch.no_grad()
    def apply_maxnorm(self):
        """Keras max_norm(c): w * clip(|w|, 0, c) / (eps + |w|) per output unit (a row of torch's weight)."""
        if self.maxnorm > 0:
            w = self.out.weight                                   # (C, in)
            n = w.norm(dim=1, keepdim=True)
            w.mul_(n.clamp(max=self.maxnorm) / (n + 1e-7))


def make_optimizers(net, emb_mode, sparse, lr=1e-3, eps=1e-7):
    if emb_mode == "frozen":
        return [torch.optim.Adam([p for p in net.parameters() if p.requires_grad], lr=lr, eps=eps)]
    if sparse:
        rest = [p for n, p in net.named_parameters() if not n.startswith("emb.")]
        return [torch.optim.SparseAdam([net.emb.weight], lr=lr, eps=eps),
                torch.optim.Adam(rest, lr=lr, eps=eps)]
    return [torch.optim.Adam(net.parameters(), lr=lr, eps=eps)]


def make_loss(task):
    if task == "multiclass":
        return nn.CrossEntropyLoss()
    bce = nn.BCEWithLogitsLoss()
    if task == "binary":
        return lambda z, y: bce(z.squeeze(1), y)
    return bce


def train_step(net, opts, lossf, xb, yb):
    for o in opts:
        o.zero_grad(set_to_none=True)
    loss = lossf(net(xb), yb)
    loss.backward()
    for o in opts:
        o.step()
    net.apply_maxnorm()
    return loss


# ---- reading data ----------------------------------------------------------------------------------

class Data:
    """texts, label lists, and the raw records (to write a split back out)."""

    def __init__(self):
        self.texts, self.labels, self.raw = [], [], []
        self.header = None


def read_fasttext(path, prefix):
    """`__label__a __label__b text`: labels are the leading tokens with the prefix (as wordbench's reader)."""
    d = Data()
    with open(path, encoding="utf-8", errors="replace", newline="") as f:
        for ln, line in enumerate(f, 1):
            s = line.rstrip("\r\n")
            if not s.strip():
                continue
            toks = s.split()
            i = 0
            labs = []
            while i < len(toks) and toks[i].startswith(prefix) and len(toks[i]) > len(prefix):
                labs.append(toks[i][len(prefix):])
                i += 1
            if not labs:
                die("%s:%d: missing label: expected a first token starting with '%s'" % (path, ln, prefix))
            d.texts.append(" ".join(toks[i:]))
            d.labels.append(labs)
            d.raw.append(line if line.endswith("\n") else line + "\n")
    return d


def read_tsv(path):
    """`text<TAB>label`, the label after the last tab; a header line `text<TAB>label` is skipped."""
    d = Data()
    with open(path, encoding="utf-8", errors="replace", newline="") as f:
        for ln, line in enumerate(f, 1):
            s = line.rstrip("\r\n")
            if not s.strip():
                continue
            if "\t" not in s:
                die("%s:%d: expected text<TAB>label" % (path, ln))
            text, lab = s.rsplit("\t", 1)
            if ln == 1 and lab.strip().lower() in ("label", "class", "sentiment"):
                d.header = line
                continue
            d.texts.append(text)
            d.labels.append([lab.strip()])
            d.raw.append(line if line.endswith("\n") else line + "\n")
    return d


def read_csv(path, text_cols, label_col):
    """RFC 4180 with a header; whole raw e-mails fit in a field once the field limit is raised."""
    csv.field_size_limit(sys.maxsize)
    d = Data()
    with open(path, encoding="utf-8", errors="replace", newline="") as f:
        rd = csv.reader(f)
        try:
            d.header = next(rd)
        except StopIteration:
            die("%s: empty file" % path)
        cols = {name: i for i, name in enumerate(d.header)}
        for c in text_cols + [label_col]:
            if c not in cols:
                die("%s: no column '%s' (columns: %s)" % (path, c, ", ".join(d.header)))
        ti = [cols[c] for c in text_cols]
        li = cols[label_col]
        for row in rd:
            if not row:
                continue
            if len(row) != len(d.header):
                die("%s:%d: %d fields, the header has %d" % (path, rd.line_num, len(row), len(d.header)))
            d.texts.append(" ".join(row[i] for i in ti))
            d.labels.append([row[li]])
            d.raw.append(row)
    return d


def read_data(path, a):
    if a.format == "fasttext":
        return read_fasttext(path, a.label_prefix)
    if a.format == "csv":
        return read_csv(path, a.text_col or ["text"], a.label_col)
    return read_tsv(path)


def split_indices(d, test_size, seed, task):
    """Seeded stratified split (sklearn) of a single-label set, else a seeded random one. Returns
    (train_idx, test_idx, description)."""
    n = len(d.texts)
    idx = np.arange(n)
    if task != "multilabel":
        try:
            from sklearn.model_selection import train_test_split
            y = [labs[0] for labs in d.labels]
            tr, te = train_test_split(idx, test_size=test_size, random_state=seed, stratify=y)
            return (sorted(tr.tolist()), sorted(te.tolist()),
                    "sklearn train_test_split(test_size=%g, random_state=%d, stratify=labels)" % (test_size, seed))
        except ImportError:
            pass
    rng = np.random.RandomState(seed)
    perm = rng.permutation(n)
    t = int(math.floor(n * test_size + 0.5))
    why = "multilabel" if task == "multilabel" else "sklearn missing"
    return (sorted(perm[t:].tolist()), sorted(perm[:t].tolist()),
            "seeded random split (numpy RandomState(%d), test_size=%g; %s)" % (seed, test_size, why))


def subset(d, ids):
    s = Data()
    s.header = d.header
    s.texts = [d.texts[i] for i in ids]
    s.labels = [d.labels[i] for i in ids]
    s.raw = [d.raw[i] for i in ids]
    return s


def write_data(d, path, fmt):
    with open(path, "w", encoding="utf-8", newline="") as f:
        if fmt == "csv":
            w = csv.writer(f, lineterminator="\r\n")
            w.writerow(d.header)
            w.writerows(d.raw)
        else:
            if d.header:
                f.write(d.header)
            f.writelines(d.raw)


def detect_task(labels):
    if any(len(l) > 1 for l in labels):
        return "multilabel"
    return "binary" if len({l[0] for l in labels}) == 2 else "multiclass"


# ---- embeddings ------------------------------------------------------------------------------------

def create_embedding_matrix(filepath, word_index, embedding_dim):
    """The Real Python tutorial's create_embedding_matrix ("Practical Text Classification With Python and
    Keras"): row 0 and words the file lacks stay zero, a later duplicate overwrites an earlier one.
    Two departures, both needed for a .vec file: a first `ROWS DIM` header line is skipped (the tutorial
    would store the vector [DIM] broadcast into the row of the word ROWS), and a line whose vector is not
    embedding_dim long is an error instead of being silently truncated or broadcast.
    Returns (matrix (V,E) float32, words found)."""
    vocab_size = len(word_index) + 1  # Adding again 1 because of reserved 0 index
    embedding_matrix = np.zeros((vocab_size, embedding_dim), dtype=np.float32)
    found = set()
    with open(filepath, encoding="utf-8", errors="replace") as f:
        for ln, line in enumerate(f, 1):
            word, *vector = line.split()
            if ln == 1 and len(vector) == 1 and word.isdigit() and vector[0].isdigit():
                continue
            if word in word_index:
                if len(vector) != embedding_dim:
                    die("%s:%d: expected %d numbers, found %d" % (filepath, ln, embedding_dim, len(vector)))
                idx = word_index[word]
                embedding_matrix[idx] = np.array(vector, dtype=np.float32)[:embedding_dim]
                found.add(idx)
    return embedding_matrix, len(found)


def vec_dim(filepath):
    with open(filepath, encoding="utf-8", errors="replace") as f:
        first = f.readline().split()
        if len(first) == 2 and first[0].isdigit() and first[1].isdigit():
            return int(first[1])
        return len(first) - 1


# ---- modes -----------------------------------------------------------------------------------------

def setup(a):
    torch.set_num_threads(a.threads)
    random.seed(a.seed)
    np.random.seed(a.seed)
    torch.manual_seed(a.seed)


def versions():
    return {"torch": torch.__version__, "numpy": np.__version__, "python": platform.python_version()}


def run_synthetic(a):
    V, T, E, B = a.vocab, a.maxlen, a.emb_dim, a.batch_size
    task = a.task if a.task != "auto" else "binary"
    C = 1 if task == "binary" else a.classes
    g = torch.Generator().manual_seed(a.seed)
    weights = None
    if a.embeddings != "learned":                     # stands in for pretrained vectors (GloVe-like std)
        weights = (torch.randn(V, E, generator=g) * 0.4).numpy()
    net = TextCNN(a.model, V, E, C, a.embeddings, weights, a.sparse)
    net.train()
    opts = make_optimizers(net, a.embeddings, a.sparse)
    lossf = make_loss(task)
    nsteps = a.warmup + a.steps
    X = torch.randint(0, V, (nsteps, B, T), generator=g)
    if task == "binary":
        Y = torch.randint(0, 2, (nsteps, B), generator=g).float()
    elif task == "multiclass":
        Y = torch.randint(0, C, (nsteps, B), generator=g)
    else:
        Y = (torch.rand(nsteps, B, C, generator=g) < 2.0 / C).float()
    for i in range(a.warmup):
        train_step(net, opts, lossf, X[i], Y[i])
    t0 = time.perf_counter()
    for i in range(a.warmup, nsteps):
        loss = train_step(net, opts, lossf, X[i], Y[i])
    float(loss)
    dt = time.perf_counter() - t0
    out = {"impl": "torch", "mode": "synthetic", "model": a.model, "embeddings": a.embeddings,
           "optimizer": "sparse_adam" if a.sparse and a.embeddings != "frozen" else "adam",
           "task": task, "vocab": V, "emb_dim": E, "maxlen": T, "batch_size": B, "classes": C,
           "warmup_steps": a.warmup, "steps": a.steps, "seconds": round(dt, 4),
           "examples_per_s": round(a.steps * B / dt, 1), "threads": a.threads, "seed": a.seed}
    out.update(versions())
    print(json.dumps(out), flush=True)


def encode_labels(labels, label_ids, task):
    if task == "multilabel":
        Y = np.zeros((len(labels), len(label_ids)), dtype=np.float32)
        for i, labs in enumerate(labels):
            for l in labs:
                j = label_ids.get(l)
                if j is not None:
                    Y[i, j] = 1.0
        return torch.from_numpy(Y)
    y = np.array([label_ids.get(l[0], -1) for l in labels], dtype=np.int64)
    return torch.from_numpy(y)


@torch.no_grad()
def evaluate(net, X, labels, label_ids, task, batch=256):
    """accuracy (binary: logit > 0; multiclass: argmax) or P@1 (top-1 in the true label set) / N."""
    net.eval()
    preds = []
    for i in range(0, len(X), batch):
        z = net(X[i:i + batch])
        if task == "binary":
            preds.append((z[:, 0] > 0).long())
        else:
            preds.append(z.argmax(dim=1))
    net.train()
    p = torch.cat(preds).tolist() if preds else []
    names = sorted(label_ids, key=label_ids.get)
    correct = 0
    for k, labs in zip(p, labels):
        if task == "multilabel":
            correct += names[k] in labs
        else:
            correct += names[k] == labs[0]
    return correct / max(1, len(labels))


def baseline(train_labels, test_labels, task):
    """Majority class accuracy, or P@1 of always answering the most frequent training label."""
    counts = {}
    for labs in train_labels:
        for l in labs:
            counts[l] = counts.get(l, 0) + 1
    top = max(counts, key=counts.get)
    if task == "multilabel":
        hit = sum(top in labs for labs in test_labels)
    else:
        hit = sum(labs[0] == top for labs in test_labels)
    return hit / max(1, len(test_labels))


def run_real(a):
    t_load = time.perf_counter()
    full = read_data(a.train, a)
    task = a.task if a.task != "auto" else detect_task(full.labels)
    if a.valid:
        tr, te = full, read_data(a.valid, a)
        split = "given: --valid %s" % a.valid
    else:
        itr, ite, split = split_indices(full, a.test_size, a.seed, task)
        tr, te = subset(full, itr), subset(full, ite)
    if a.write_split:
        ext = {"fasttext": "txt", "csv": "csv", "tsv": "tsv"}[a.format]
        write_data(tr, "%s-train.%s" % (a.write_split, ext), a.format)
        write_data(te, "%s-test.%s" % (a.write_split, ext), a.format)
        print(json.dumps({"split": split, "task": task, "train": len(tr.texts), "test": len(te.texts),
                          "files": ["%s-train.%s" % (a.write_split, ext), "%s-test.%s" % (a.write_split, ext)]}))
        return

    from keras_preprocessing.text import Tokenizer
    from keras_preprocessing.sequence import pad_sequences
    tok = Tokenizer(num_words=None, oov_token="<oov>")
    tok.fit_on_texts(tr.texts)
    Xtr = pad_sequences(tok.texts_to_sequences(tr.texts), maxlen=a.maxlen, padding="post", truncating="post")
    Xte = pad_sequences(tok.texts_to_sequences(te.texts), maxlen=a.maxlen, padding="post", truncating="post")
    V = len(tok.word_index) + 1

    label_names = sorted({l for labs in tr.labels for l in labs})
    label_ids = {l: i for i, l in enumerate(label_names)}
    skipped = 0
    if a.unknown_label == "skip":      # as wordbench's --unknown-label skip: drop a test record with any
        keep = [i for i, labs in enumerate(te.labels) if all(l in label_ids for l in labs)]   # unseen label
        skipped = len(te.labels) - len(keep)
        te = subset(te, keep)
        Xte = Xte[keep]
    if task == "binary" and len(label_names) != 2:
        die("binary task needs exactly 2 labels in the training split, found %d" % len(label_names))
    C = 1 if task == "binary" else len(label_names)

    weights, found = None, 0
    if a.embeddings == "learned":
        E = a.emb_dim
    else:
        if not a.vectors:
            die("--embeddings %s needs --vectors FILE.vec" % a.embeddings, 2)
        E = vec_dim(a.vectors)
        weights, found = create_embedding_matrix(a.vectors, tok.word_index, E)
    load_s = time.perf_counter() - t_load

    setup(a)   # re-seed after the data work, so the weights depend only on the seed
    net = TextCNN(a.model, V, E, C, a.embeddings, weights, a.sparse)
    net.train()
    opts = make_optimizers(net, a.embeddings, a.sparse)
    lossf = make_loss(task)
    Xtr_t = torch.from_numpy(Xtr.astype(np.int64))
    Xte_t = torch.from_numpy(Xte.astype(np.int64))
    Ytr = encode_labels(tr.labels, label_ids, task)
    if task == "binary":
        Ytr = Ytr.float()
    n, B = len(Xtr_t), a.batch_size
    g = torch.Generator().manual_seed(a.seed)
    epochs = []
    for ep in range(1, a.epochs + 1):
        perm = torch.randperm(n, generator=g)
        tot, cnt = 0.0, 0
        t0 = time.perf_counter()
        for i in range(0, n, B):
            b = perm[i:i + B]
            loss = train_step(net, opts, lossf, Xtr_t[b], Ytr[b])
            tot += float(loss) * len(b)
            cnt += len(b)
        dt = time.perf_counter() - t0
        rec = {"epoch": ep, "seconds": round(dt, 3), "examples_per_s": round(n / dt, 1),
               "loss": round(tot / cnt, 5)}
        if a.eval_every_epoch or ep == a.epochs:
            rec["test_metric"] = round(evaluate(net, Xte_t, te.labels, label_ids, task), 5)
        epochs.append(rec)
        if not a.quiet:
            print("Epoch %d/%d %d/%d %.1fs %.0f ex/s loss %.4f%s" % (
                ep, a.epochs, n, n, dt, n / dt, rec["loss"],
                (" test %.4f" % rec["test_metric"]) if "test_metric" in rec else ""), file=sys.stderr, flush=True)
    train_s = sum(e["seconds"] for e in epochs)
    metric = epochs[-1]["test_metric"]
    out = {"impl": "torch", "mode": "data", "model": a.model, "embeddings": a.embeddings,
           "optimizer": "sparse_adam" if a.sparse and a.embeddings != "frozen" else "adam",
           "task": task, "data": a.train, "format": a.format, "split": split,
           "train": n, "test": len(Xte_t), "test_skipped_unknown_label": skipped, "vocab": V, "emb_dim": E, "maxlen": a.maxlen,
           "classes": C, "vectors": a.vectors, "vectors_found": found,
           "coverage": round(found / max(1, V - 1), 4),
           "epochs": a.epochs, "batch_size": B, "seconds": round(train_s, 3),
           "examples_per_s": round(n * a.epochs / train_s, 1),
           "epoch_seconds": [e["seconds"] for e in epochs], "epoch_loss": [e["loss"] for e in epochs],
           "epoch_test_metric": [e.get("test_metric") for e in epochs],
           "load_seconds": round(load_s, 3), "threads": a.threads, "seed": a.seed}
    out["test_p_at_1" if task == "multilabel" else "test_acc"] = metric
    out["baseline"] = round(baseline(tr.labels, te.labels, task), 5)
    out.update(versions())
    print(json.dumps(out), flush=True)


def main():
    p = argparse.ArgumentParser(description="PyTorch twin of wordbench's tutorial / kim CNNs (issue 5).")
    p.add_argument("--model", choices=["tutorial", "kim"], default="tutorial")
    p.add_argument("--embeddings", choices=["frozen", "finetune", "learned"], default="frozen")
    p.add_argument("--sparse", action="store_true",
                   help="sparse embedding gradients + SparseAdam (default: dense Adam over all parameters)")
    p.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--maxlen", type=int, default=100)
    p.add_argument("--task", choices=["auto", "binary", "multiclass", "multilabel"], default="auto")
    p.add_argument("--quiet", action="store_true", help="no per-epoch lines on stderr")
    s = p.add_argument_group("synthetic")
    s.add_argument("--synthetic", action="store_true", help="random ids and labels, throughput only")
    s.add_argument("--vocab", type=int, default=20000)
    s.add_argument("--emb-dim", type=int, default=300, help="synthetic and learned embeddings (default 300)")
    s.add_argument("--classes", type=int, default=2, help="synthetic multiclass/multilabel outputs")
    s.add_argument("--warmup", type=int, default=5)
    s.add_argument("--steps", type=int, default=40)
    r = p.add_argument_group("real data")
    r.add_argument("--train", metavar="FILE")
    r.add_argument("--valid", metavar="FILE")
    r.add_argument("--test-size", type=float, default=0.2)
    r.add_argument("--format", choices=["fasttext", "csv", "tsv"])
    r.add_argument("--text-col", action="append", help="CSV text column (repeatable; default text)")
    r.add_argument("--label-col", default="label")
    r.add_argument("--label-prefix", default="__label__")
    r.add_argument("--vectors", metavar="FILE.vec", help="word2vec / fastText text .vec or GloVe file")
    r.add_argument("--unknown-label", choices=["keep", "skip"], default="keep",
                   help="test records with a label the training split lacks: keep (count as wrong where "
                        "they must be) or skip them (wordbench's --unknown-label skip)")
    r.add_argument("--epochs", type=int, default=3)
    r.add_argument("--eval-every-epoch", action="store_true")
    r.add_argument("--write-split", metavar="PREFIX", help="only write PREFIX-train.EXT / PREFIX-test.EXT")
    a = p.parse_args()
    if a.threads < 1 or a.batch_size < 1 or a.maxlen < 5 or a.steps < 1 or a.warmup < 0 or a.epochs < 1:
        die("--threads, --batch-size, --steps, --epochs must be >= 1, --maxlen >= 5, --warmup >= 0", 2)
    if not 0.0 < a.test_size < 1.0:
        die("--test-size must be in (0, 1)", 2)
    setup(a)
    if a.synthetic:
        run_synthetic(a)
    else:
        if not a.train or not a.format:
            die("give --synthetic, or --train FILE --format fasttext|csv|tsv (try --help)", 2)
        run_real(a)


if __name__ == "__main__":
    main()
