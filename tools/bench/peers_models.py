#!/usr/bin/python3
"""peers_models.py — the peers of wordbench's later model kinds (issue 11, figures).

Run with Debian's /usr/bin/python3 (python3-torch 1.13, python3-keras-preprocessing, python3-sklearn).

  --model lstm|gru   the PyTorch twin: nn.Embedding(V, E, padding_idx=0) learned, nn.LSTM / nn.GRU of
                     --units over pack_padded_sequence (PyTorch's way of skipping padding, what Keras'
                     mask_zero and wordbench do), [bidirectional], the last state (h_n), nn.Linear to
                     the outputs; Keras' Tokenizer + pad_sequences(maxlen, post, post) on the training
                     split, as torch_train.py does for the CNNs.
  --model charcnn    the PyTorch twin of Zhang et al.'s small model: the text lower-cased, each
                     character its index in the 69-character alphabet (others and padding: zero
                     vectors), 1014 positions, one-hot built per minibatch (F.one_hot), six Conv1d of
                     256 (7 7 3 3 3 3) + ReLU, MaxPool1d(3) after 1, 2 and 6, two Linear 1024 + ReLU +
                     Dropout(0.5), Linear to the outputs.
  --model bow        scikit-learn: CountVectorizer(ngram_range=(1, N)) or TfidfVectorizer, then
                     LogisticRegression (lbfgs, C = 1, max_iter 1000) for a single label, or
                     OneVsRestClassifier of it for multi-label (P@1 from decision_function's argmax).

Common to the torch twins: Adam lr 1e-3, eps 1e-7 (--sparse: the embedding's rows by SparseAdam, lazily, as
wordbench updates them; without it dense Adam reads and writes every row every step), batch 32, Keras' initialisation for the Linear and
Conv1d kernels (Glorot uniform, zero biases), BCEWithLogitsLoss / CrossEntropyLoss, seeded shuffles.
One JSON line on stdout: examples/s (training steps only), seconds, the test accuracy (binary,
multiclass) or P@1 (multilabel); per-epoch lines on stderr.
"""
import argparse
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import torch_train as tt  # noqa: E402  the data plumbing of the CNN benchmark

ZHANG = "abcdefghijklmnopqrstuvwxyz0123456789-,;.!?:'\"/\\|_@#$%^&*~`+-=<>()[]{}\n"


def load(a):
    full = tt.read_data(a.train, a)
    task = a.task if a.task != "auto" else tt.detect_task(full.labels)
    if a.valid:
        tr, te = full, tt.read_data(a.valid, a)
    else:
        itr, ite, _ = tt.split_indices(full, a.test_size, a.seed, task)
        tr, te = tt.subset(full, itr), tt.subset(full, ite)
    names = sorted({l for labs in tr.labels for l in labs})
    ids = {l: i for i, l in enumerate(names)}
    keep = [i for i, labs in enumerate(te.labels) if all(l in ids for l in labs)]
    te = tt.subset(te, keep)
    return tr, te, task, ids


def metric(pred, labels, ids, task):
    names = sorted(ids, key=ids.get)
    if task == "multilabel":
        return sum(names[k] in labs for k, labs in zip(pred, labels)) / max(1, len(labels))
    return sum(names[k] == labs[0] for k, labs in zip(pred, labels)) / max(1, len(labels))


# ---- scikit-learn: bag of words ------------------------------------------------------------------

def run_bow(a):
    from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.preprocessing import MultiLabelBinarizer
    tr, te, task, ids = load(a)
    t0 = time.perf_counter()
    vec = (TfidfVectorizer if a.bow == "tfidf" else CountVectorizer)(ngram_range=(1, a.ngrams))
    Xtr = vec.fit_transform(tr.texts)
    Xte = vec.transform(te.texts)
    t_vec = time.perf_counter() - t0
    t1 = time.perf_counter()
    if task == "multilabel":
        mlb = MultiLabelBinarizer(classes=sorted(ids, key=ids.get))
        Y = mlb.fit_transform(tr.labels)
        clf = OneVsRestClassifier(LogisticRegression(max_iter=1000), n_jobs=a.threads).fit(Xtr, Y)
        pred = clf.decision_function(Xte).argmax(axis=1)
    else:
        y = [ids[labs[0]] for labs in tr.labels]
        clf = LogisticRegression(max_iter=1000).fit(Xtr, y)
        pred = clf.predict(Xte)
    t_fit = time.perf_counter() - t1
    out = {"impl": "sklearn", "model": "bow", "bow": a.bow, "ngrams": a.ngrams, "task": task,
           "train": len(tr.texts), "test": len(te.texts), "features": Xtr.shape[1],
           "vectorize_seconds": round(t_vec, 3), "fit_seconds": round(t_fit, 3),
           "seconds": round(t_vec + t_fit, 3)}
    out["test_p_at_1" if task == "multilabel" else "test_acc"] = round(metric(pred.tolist(), te.labels, ids, task), 5)
    print(json.dumps(out), flush=True)


# ---- PyTorch twins -------------------------------------------------------------------------------

def keras_init(m):
    import torch
    for mod in m.modules():
        if isinstance(mod, (torch.nn.Linear, torch.nn.Conv1d)):
            torch.nn.init.xavier_uniform_(mod.weight)
            torch.nn.init.zeros_(mod.bias)


def make_rnn(torch, kind, V, E, R, bi, C, sparse):
    class Rnn(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = torch.nn.Embedding(V, E, padding_idx=0, sparse=sparse)
            torch.nn.init.uniform_(self.emb.weight, -0.05, 0.05)
            with torch.no_grad():
                self.emb.weight[0] = 0
            cls = torch.nn.LSTM if kind == "lstm" else torch.nn.GRU
            self.rnn = cls(E, R, batch_first=True, bidirectional=bi)
            self.out = torch.nn.Linear(R * (2 if bi else 1), C)

        def forward(self, x):
            lengths = (x != 0).sum(dim=1).clamp(min=1)
            packed = torch.nn.utils.rnn.pack_padded_sequence(self.emb(x), lengths, batch_first=True,
                                                             enforce_sorted=False)
            _, hn = self.rnn(packed)
            if isinstance(hn, tuple):
                hn = hn[0]
            return self.out(torch.cat([hn[d] for d in range(hn.shape[0])], dim=1))
    net = Rnn()
    keras_init(net.out)
    return net


def make_charcnn(torch, A, C, T=1014, F=256):
    class CharCNN(torch.nn.Module):
        def __init__(self):
            super().__init__()
            ws = [7, 7, 3, 3, 3, 3]
            self.convs = torch.nn.ModuleList()
            D, L = A, T
            for i, k in enumerate(ws):
                self.convs.append(torch.nn.Conv1d(D, F, k))
                L = L - k + 1
                if i < 2 or i == 5:
                    L //= 3
                D = F
            self.fc1, self.fc2 = torch.nn.Linear(L * F, 1024), torch.nn.Linear(1024, 1024)
            self.out = torch.nn.Linear(1024, C)
            self.drop = torch.nn.Dropout(0.5)

        def forward(self, x):
            h = torch.nn.functional.one_hot(x, A + 1)[..., 1:].float().transpose(1, 2)  # index 0: zero vector
            for i, conv in enumerate(self.convs):
                h = torch.relu(conv(h))
                if i < 2 or i == 5:
                    h = torch.nn.functional.max_pool1d(h, 3)
            h = h.transpose(1, 2).flatten(1)
            h = self.drop(torch.relu(self.fc1(h)))
            h = self.drop(torch.relu(self.fc2(h)))
            return self.out(h)
    net = CharCNN()
    keras_init(net)
    return net


def char_ids(texts, T):
    idx = {c: i + 1 for i, c in enumerate(dict.fromkeys(ZHANG))}
    X = np.zeros((len(texts), T), dtype=np.int64)
    for r, t in enumerate(texts):
        for j, ch in enumerate(t.lower()[:T]):
            X[r, j] = idx.get(ch, 0)
    return X, len(idx)


def run_torch(a):
    import torch
    tr, te, task, ids = load(a)
    torch.set_num_threads(a.threads)
    if a.model == "charcnn":
        Xtr, A = char_ids(tr.texts, a.maxlen)
        Xte, _ = char_ids(te.texts, a.maxlen)
    else:
        from keras_preprocessing.text import Tokenizer
        from keras_preprocessing.sequence import pad_sequences
        tok = Tokenizer(num_words=None, oov_token="<oov>")
        tok.fit_on_texts(tr.texts)
        Xtr = pad_sequences(tok.texts_to_sequences(tr.texts), maxlen=a.maxlen, padding="post", truncating="post")
        Xte = pad_sequences(tok.texts_to_sequences(te.texts), maxlen=a.maxlen, padding="post", truncating="post")
        V = len(tok.word_index) + 1
    C = 1 if task == "binary" else len(ids)
    torch.manual_seed(a.seed)
    net = make_charcnn(torch, A, C, a.maxlen) if a.model == "charcnn" else \
        make_rnn(torch, a.model, V, a.emb_dim, a.units, a.bidirectional, C, a.sparse)
    if a.sparse and a.model != "charcnn":  # lazy rows for the embedding, as wordbench updates them
        dense = [p for n, p in net.named_parameters() if not n.startswith("emb.")]
        opts = [torch.optim.Adam(dense, lr=1e-3, eps=1e-7), torch.optim.SparseAdam(net.emb.parameters(), lr=1e-3, eps=1e-7)]
    else:  # what a PyTorch user writes first: dense Adam over every parameter, all rows every step
        opts = [torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7)]
    lossf = tt.make_loss(task)
    Xtr_t, Xte_t = torch.from_numpy(Xtr.astype(np.int64)), torch.from_numpy(Xte.astype(np.int64))
    Ytr = tt.encode_labels(tr.labels, ids, task)
    if task == "binary":
        Ytr = Ytr.float()
    n, B = len(Xtr_t), 32
    g = torch.Generator().manual_seed(a.seed)
    secs = 0.0
    for ep in range(1, a.epochs + 1):
        net.train()
        perm = torch.randperm(n, generator=g)
        t0 = time.perf_counter()
        tot = 0.0
        for i in range(0, n, B):
            b = perm[i:i + B]
            for o in opts:
                o.zero_grad()
            z = net(Xtr_t[b])
            loss = lossf(z, Ytr[b])  # binary: make_loss squeezes the one logit
            loss.backward()
            for o in opts:
                o.step()
            tot += float(loss) * len(b)
        dt = time.perf_counter() - t0
        secs += dt
        print("Epoch %d/%d %.1fs %.1f ex/s loss %.4f" % (ep, a.epochs, dt, n / dt, tot / n), file=sys.stderr, flush=True)
    net.eval()
    pred = []
    with torch.no_grad():
        for i in range(0, len(Xte_t), 64):
            z = net(Xte_t[i:i + 64])
            pred += ((z[:, 0] > 0).long() if task == "binary" else z.argmax(dim=1)).tolist()
    out = {"impl": "torch", "model": a.model, "task": task, "train": n, "test": len(Xte_t), "epochs": a.epochs,
           "seconds": round(secs, 3), "examples_per_s": round(n * a.epochs / secs, 2), "maxlen": a.maxlen,
           "optimizer": "adam+sparse_adam" if a.sparse and a.model != "charcnn" else "adam",
           "threads": a.threads}
    out["test_p_at_1" if task == "multilabel" else "test_acc"] = round(metric(pred, te.labels, ids, task), 5)
    out.update(tt.versions())
    print(json.dumps(out), flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", required=True, choices=["lstm", "gru", "charcnn", "bow"])
    p.add_argument("--train", required=True)
    p.add_argument("--valid")
    p.add_argument("--test-size", type=float, default=0.2)
    p.add_argument("--format", default="csv", choices=["fasttext", "csv", "tsv"])
    p.add_argument("--text-col", action="append")
    p.add_argument("--label-col", default="label")
    p.add_argument("--label-prefix", default="__label__")
    p.add_argument("--task", default="auto", choices=["auto", "binary", "multiclass", "multilabel"])
    p.add_argument("--maxlen", type=int, default=200)
    p.add_argument("--emb-dim", type=int, default=100)
    p.add_argument("--units", type=int, default=100)
    p.add_argument("--bidirectional", action="store_true")
    p.add_argument("--sparse", action="store_true", help="lstm/gru: sparse embedding gradients + SparseAdam")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--bow", default="counts", choices=["counts", "tfidf"])
    p.add_argument("--ngrams", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    (run_bow if a.model == "bow" else run_torch)(a)


if __name__ == "__main__":
    main()
