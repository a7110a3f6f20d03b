#!/usr/bin/python3
"""bench_python.py — wordbench's Python module against its peers, side by side (issue 13, Figures).

Every case runs in a fresh interpreter (so open times and memory are its own) and prints one JSON line;
the parent runs the peers of a comparison one after the other, alternating which goes first over
--repeat rounds, and prints a markdown report with the machine line and the exact commands.

  lookup   wordbench.Store(STORE) vs gensim KeyedVectors.load(KV, mmap='r'): import, open, 20,000
           single look-ups `kv[word]` (first pass right after open, then a warm pass), one batch
           look-up of the same words (`kv.gather(kv.rows(words))` vs gensim's `kv[words]`), anonymous
           RSS; and gather rows/s from 1 and 2 threads (the GIL is released around gathers).
           pymagnitude's published figures are quoted beside (its README: GoogleNews 3M x 300,
           MacBook Pro 2014: initial load 0.7210 s, warm single key query 0.00004 s).
  gensim-kv  write the gensim KeyedVectors file (KV) with the words and vectors of STORE, once.
  train    the Real Python tutorial's CNN in PyTorch on the spam e-mails (tools/bench/torch_train.py's
           split, Keras tokenization, maxlen 100, batch 32, Adam lr 1e-3 eps 1e-7), with its embedding
           layer as: nn.Embedding frozen; nn.Embedding fine-tuned with dense Adam (what a PyTorch user
           does by default) and with sparse gradients + SparseAdam; StoreEmbedding frozen and fine-tuned
           (SparseAdam).  Training examples/s, test accuracy, anonymous RSS (sampled every 10 steps).
           The nn.Embedding matrix holds the store's rows of the vocabulary (create_embedding_matrix).
  rss2m    the same CNN on synthetic data over a big store (20,000 words spread over all its rows,
           3,200 lines of 100 words, random labels): anonymous RSS of StoreEmbedding frozen and
           fine-tuned, and of nn.Embedding over the tutorial's vocabulary matrix and over a copy of
           the whole store matrix (what nn.Embedding.from_pretrained(torch.tensor(vectors)) costs).

Usage (Debian's /usr/bin/python3 with python3-torch, python3-gensim, python3-keras-preprocessing,
python3-sklearn; PYTHONPATH=build/python for the wordbench module):
  tools/bench/bench_python.py gensim-kv --store S --kv S.kv
  tools/bench/bench_python.py lookup --store S --kv S.kv [--words 20000] [--repeat 2]
  tools/bench/bench_python.py train --csv emails.csv --store SPAMSTORE [--epochs 2] [--budget 120]
  tools/bench/bench_python.py rss2m --store S [--vocab 20000]
Not here: GPU, other models, DataLoader workers.
"""

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import threading
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def status(field):
    m = re.search(r"^%s:\s+(\d+) kB" % field, open("/proc/self/status").read(), re.M)
    return int(m.group(1)) / 1024.0 if m else float("nan")


def anon_mb():
    return status("RssAnon")


def machine():
    cpu = "?"
    for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
        if line.startswith("Model name"):
            cpu = line.split(":", 1)[1].strip()
    return "%s · %d CPUs · %s %s · Python %s · load %s" % (
        cpu, os.cpu_count(), platform.system(), platform.release(), platform.python_version(),
        " ".join("%.1f" % x for x in os.getloadavg()))


def sample_words(store, n, seed):
    import wordbench
    kv = wordbench.Store(store)
    rows = np.random.default_rng(seed).choice(len(kv), size=min(n, len(kv)), replace=False)
    return kv.words(rows)


# ---- cases (each in its own interpreter) -------------------------------------------------------------

def single_lookups(kv, words, res):
    """`kv[word]` for every word and use of the vector (its sum, so that gensim's view is read too),
    right after open (first) and again (warm): microseconds per word into res."""
    for name in ("first", "warm"):
        s = 0.0
        t = time.perf_counter()
        for w in words:
            s += float(kv[w].sum())
        res[name + "_us"] = (time.perf_counter() - t) / len(words) * 1e6


def case_lookup_wordbench(a):
    t0 = time.perf_counter()
    import wordbench
    t1 = time.perf_counter()
    kv = wordbench.Store(a["store"])
    t2 = time.perf_counter()
    words = a["words"]
    res = {"import_s": t1 - t0, "open_s": t2 - t1}
    single_lookups(kv, words, res)
    t = time.perf_counter()
    rows = kv.rows(words)
    t1 = time.perf_counter()
    m = kv.gather(rows)
    t2 = time.perf_counter()
    res.update({"batch_ms": (t2 - t) * 1e3, "rows_ms": (t1 - t) * 1e3, "gather_ms": (t2 - t1) * 1e3})
    assert m.shape == (len(words), kv.vector_size)
    res["anon_mb"] = anon_mb()
    # gather throughput from 1 and 2 threads: minibatches of 4,096 of the words' rows (in the page
    # cache), each thread into its own output buffer, as a training loop does
    batches = np.random.default_rng(3).choice(rows, size=(50, 4096))
    for nthreads in (1, 2):
        def work():
            out = np.empty((4096, kv.vector_size), dtype=np.float32)
            for b in batches:
                kv.gather(b, out=out)
        work()
        ts = [threading.Thread(target=work) for _ in range(nthreads)]
        t = time.perf_counter()
        for th in ts:
            th.start()
        for th in ts:
            th.join()
        res["gather_%dt_mrows_s" % nthreads] = nthreads * batches.size / (time.perf_counter() - t) / 1e6
    return res


def case_lookup_gensim(a):
    t0 = time.perf_counter()
    from gensim.models import KeyedVectors
    t1 = time.perf_counter()
    kv = KeyedVectors.load(a["kv"], mmap="r")
    t2 = time.perf_counter()
    words = a["words"]
    res = {"import_s": t1 - t0, "open_s": t2 - t1}
    single_lookups(kv, words, res)
    t = time.perf_counter()
    m = kv[words]
    res["batch_ms"] = (time.perf_counter() - t) * 1e3
    assert m.shape == (len(words), kv.vector_size)
    res["anon_mb"] = anon_mb()
    return res


def tutorial_cnn(emb, E, C, seed):
    """The Real Python tutorial's CNN around an embedding module: Conv1D 128x5 relu, global max pool,
    Dense 10 relu, Dense C.  Keras initialisation (Glorot-uniform kernels, zero biases), seeded here
    so every variant gets the same weights."""
    import torch
    import torch.nn as nn

    class Tutorial(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = emb
            torch.manual_seed(seed)
            self.conv = nn.Conv1d(E, 128, 5)
            self.hidden = nn.Linear(128, 10)
            self.out = nn.Linear(10, C)
            for m in (self.conv, self.hidden, self.out):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)

        def forward(self, x):
            e = self.emb(x).transpose(1, 2)
            h = torch.relu(self.conv(e)).amax(dim=2)
            return self.out(torch.relu(self.hidden(h)))

    return Tutorial()


def make_embedding(kind, store, words, M_fn):
    """kind: nn-frozen, nn-dense, nn-sparse, store-frozen, store-finetune[-torchadam] -> (module, optimizers)."""
    import torch
    import torch.nn as nn
    if kind.startswith("store-"):
        from wordbench.torch import SparseAdam, StoreEmbedding
        emb = StoreEmbedding(store, words, mode="frozen" if kind == "store-frozen" else "finetune", padding_idx=0)
        # store-finetune: wordbench.torch.SparseAdam (moments only for rows with gradients);
        # store-finetune-torchadam: torch.optim.SparseAdam (zero-filled V x E moments), same numbers
        Opt = torch.optim.SparseAdam if kind == "store-finetune-torchadam" else SparseAdam
        opts = [] if kind == "store-frozen" else [Opt(list(emb.parameters()), lr=1e-3, eps=1e-7)]
        return emb, opts
    M = M_fn()
    emb = nn.Embedding.from_pretrained(torch.from_numpy(M), freeze=kind == "nn-frozen", padding_idx=0,
                                       sparse=kind == "nn-sparse")
    if kind == "nn-sparse":
        return emb, [torch.optim.SparseAdam(list(emb.parameters()), lr=1e-3, eps=1e-7)]
    if kind == "nn-dense":
        return emb, [torch.optim.Adam(list(emb.parameters()), lr=1e-3, eps=1e-7)]
    return emb, []


def vocab_matrix(store, words):
    """create_embedding_matrix from the store: the rows of the vocabulary, zero where missing."""
    import wordbench
    kv = wordbench.Store(store)
    rows = kv.rows(words)
    M = np.zeros((len(words), kv.vector_size), dtype=np.float32)
    found = rows >= 0
    found[0] = False
    M[found] = kv.gather(rows[found])
    return M


def train_loop(net, opts, X, Y, epochs, budget, seed, Xte=None, yte=None):
    import torch
    import torch.nn as nn
    head = [p for n, p in net.named_parameters() if not n.startswith("emb.")]
    opts = opts + [torch.optim.Adam(head, lr=1e-3, eps=1e-7)]
    lossf = nn.BCEWithLogitsLoss()
    g = torch.Generator().manual_seed(seed)
    n, B = len(X), 32
    steps, seconds, peak, done = 0, 0.0, anon_mb(), True
    for ep in range(epochs):
        perm = torch.randperm(n, generator=g)
        for i in range(0, n, B):
            b = perm[i:i + B]
            t = time.perf_counter()
            for o in opts:
                o.zero_grad(set_to_none=True)
            loss = lossf(net(X[b]).squeeze(1), Y[b])
            loss.backward()
            for o in opts:
                o.step()
            seconds += time.perf_counter() - t
            steps += 1
            if steps % 10 == 0:
                peak = max(peak, anon_mb())
            if seconds > budget:
                done = False
                break
        if not done:
            break
    res = {"steps": steps, "examples": min(steps * B, n * epochs), "train_s": seconds,
           "examples_per_s": min(steps * B, n * epochs) / seconds, "anon_peak_mb": max(peak, anon_mb()),
           "anon_end_mb": anon_mb(), "all_epochs": done, "loss": float(loss)}
    if done and Xte is not None:
        with torch.no_grad():
            net.eval()
            pred = torch.cat([net(Xte[i:i + 256])[:, 0] > 0 for i in range(0, len(Xte), 256)])
            res["test_acc"] = float((pred.float() == yte).float().mean())
    return res


def case_train(a):
    import torch
    sys.path.insert(0, HERE)
    import torch_train as tt
    from keras_preprocessing.sequence import pad_sequences
    from keras_preprocessing.text import Tokenizer
    torch.set_num_threads(a["threads"])
    d = tt.read_csv(a["csv"], ["text"], "label")
    itr, ite, _ = tt.split_indices(d, 0.2, a["seed"], "binary")
    tr, te = tt.subset(d, itr), tt.subset(d, ite)
    tok = Tokenizer(num_words=None, oov_token="<oov>")
    tok.fit_on_texts(tr.texts)
    Xtr = torch.from_numpy(pad_sequences(tok.texts_to_sequences(tr.texts), maxlen=100, padding="post",
                                         truncating="post").astype(np.int64))
    Xte = torch.from_numpy(pad_sequences(tok.texts_to_sequences(te.texts), maxlen=100, padding="post",
                                         truncating="post").astype(np.int64))
    words = ["<pad>"] + [tok.index_word[i] for i in range(1, len(tok.word_index) + 1)]
    labels = sorted({l[0] for l in tr.labels})
    ytr = torch.tensor([float(labels.index(l[0])) for l in tr.labels])
    yte = torch.tensor([float(labels.index(l[0])) for l in te.labels])
    del tok, d
    before = anon_mb()
    emb, opts = make_embedding(a["kind"], a["store"], words, lambda: vocab_matrix(a["store"], words))
    E = emb.embedding_dim
    net = tutorial_cnn(emb, E, 1, a["seed"])
    res = train_loop(net, opts, Xtr, ytr, a["epochs"], a["budget"], a["seed"], Xte, yte)
    res.update({"vocab": len(words), "train": len(Xtr), "test": len(Xte), "anon_before_mb": before})
    return res


def case_rss2m(a):
    import torch
    torch.set_num_threads(a["threads"])
    import wordbench
    base = anon_mb()
    words = ["<pad>"] + sample_words(a["store"], a["vocab"], a["seed"])
    g = torch.Generator().manual_seed(a["seed"])
    X = torch.randint(1, len(words), (a["lines"], 100), generator=g)
    Y = torch.randint(0, 2, (a["lines"],), generator=g).float()
    kind = a["kind"]
    if kind == "nn-whole":
        import torch.nn as nn
        kv = wordbench.Store(a["store"])
        emb = nn.Embedding.from_pretrained(torch.tensor(np.asarray(kv.vectors)), freeze=True)
        X = torch.from_numpy(kv.rows(words[1:]))[X - 1]   # ids are store rows here
        opts = []
    else:
        emb, opts = make_embedding(kind, a["store"], words, lambda: vocab_matrix(a["store"], words))
    net = tutorial_cnn(emb, emb.embedding_dim, 1, a["seed"])
    res = train_loop(net, opts, X, Y, 1, 1e9, a["seed"])
    res.update({"anon_after_import_mb": base, "vocab": len(words)})
    return res


CASES = {"lookup-wordbench": case_lookup_wordbench, "lookup-gensim": case_lookup_gensim,
         "train": case_train, "rss2m": case_rss2m}


# ---- the parent ----------------------------------------------------------------------------------------

def run_case(name, args):
    env = dict(os.environ)
    p = subprocess.run([sys.executable, os.path.abspath(__file__), "_case", name], input=json.dumps(args),
                       capture_output=True, text=True, env=env)
    if p.returncode != 0:
        sys.stderr.write(p.stderr)
        raise SystemExit("bench_python.py: case %s failed (exit %d)" % (name, p.returncode))
    return json.loads(p.stdout.strip().splitlines()[-1])


def cmd_gensim_kv(a):
    import wordbench
    from gensim.models import KeyedVectors
    kv = wordbench.Store(a.store)
    t = time.perf_counter()
    g = KeyedVectors(kv.vector_size, count=0)
    g.index_to_key = list(kv.index_to_key)
    g.key_to_index = {w: i for i, w in enumerate(g.index_to_key)}
    g.vectors = np.asarray(kv.vectors)
    g.save(a.kv)
    print("wrote %s (%d x %d) in %.1f s" % (a.kv, len(g.index_to_key), kv.vector_size, time.perf_counter() - t))


def cmd_lookup(a):
    words = sample_words(a.store, a.words, a.seed)
    peers = [("wordbench", "lookup-wordbench", {"store": a.store, "words": words})]
    if a.kv:
        peers.append(("gensim", "lookup-gensim", {"kv": a.kv, "words": words}))
    out = {name: [] for name, _, _ in peers}
    for r in range(a.repeat):
        order = peers if r % 2 == 0 else peers[::-1]
        for name, case, args in order:
            out[name].append(run_case(case, args))
    print("\n**Machine:** %s · %s\n" % (machine(), time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())))
    print("`%s`\n" % " ".join([os.path.relpath(__file__)] + sys.argv[1:]))
    print("| | import | open | first look-up (µs) | warm look-up (µs) | %d words at once | anonymous RSS |" % len(words))
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, runs in out.items():
        for i, x in enumerate(runs):
            print("| %s (round %d) | %.3f s | %.4f s | %.1f | %.1f | %.1f ms | %.0f MB |" % (
                name, i + 1, x["import_s"], x["open_s"], x["first_us"], x["warm_us"], x["batch_ms"], x["anon_mb"]))
    print("| pymagnitude (published: GoogleNews 3M x 300, MacBook Pro 2014) | | 0.7210 s | 100 (cold) | 40 (same key) | | |")
    w = out["wordbench"][-1]
    print("\nwordbench batch: rows() %.1f ms + gather() %.1f ms (a new 20,000 x dim array: its page faults "
          "dominate)" % (w["rows_ms"], w["gather_ms"]))
    print("\nwordbench gather, minibatches of 4,096 rows into a reused buffer, 50 per thread: %.2f M rows/s on 1 thread, "
          "%.2f M rows/s on 2 threads (%.2fx)" % (w["gather_1t_mrows_s"], w["gather_2t_mrows_s"],
                                                 w["gather_2t_mrows_s"] / w["gather_1t_mrows_s"]))
    print("\n```json\n%s\n```" % json.dumps(out)[:4000])


def cmd_train(a):
    kinds = a.kinds.split(",")
    res = {k: [] for k in kinds}
    for r in range(a.repeat):
        for k in (kinds if r % 2 == 0 else kinds[::-1]):
            res[k].append(run_case("train", {"kind": k, "csv": a.csv, "store": a.store, "epochs": a.epochs,
                                             "budget": a.budget, "seed": a.seed, "threads": a.threads}))
            print("%s: %s" % (k, json.dumps(res[k][-1])), file=sys.stderr, flush=True)
    print("\n**Machine:** %s · %s\n" % (machine(), time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())))
    print("`%s`\n" % " ".join([os.path.relpath(__file__)] + sys.argv[1:]))
    print("| embedding layer | optimizer | examples/s | steps | test acc | anonymous RSS before the model | peak while training | end |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    names = {"nn-frozen": ("nn.Embedding frozen", "Adam (head)"), "nn-dense": ("nn.Embedding fine-tuned", "Adam (dense)"),
             "nn-sparse": ("nn.Embedding(sparse=True)", "SparseAdam + Adam"),
             "store-frozen": ("StoreEmbedding frozen", "Adam (head)"),
             "store-finetune": ("StoreEmbedding finetune", "SparseAdam + Adam")}
    for k in kinds:
        for x in res[k]:
            print("| %s | %s | %.0f | %d | %s | %.0f MB | %.0f MB | %.0f MB |" % (
                names[k][0], names[k][1], x["examples_per_s"], x["steps"],
                "%.4f" % x["test_acc"] if "test_acc" in x else "(budget)", x["anon_before_mb"], x["anon_peak_mb"],
                x["anon_end_mb"]))
    x = res[kinds[0]][0]
    print("\nvocabulary %d words, %d training / %d test e-mails" % (x["vocab"], x["train"], x["test"]))


def cmd_rss2m(a):
    kinds = a.kinds.split(",")
    print("\n**Machine:** %s · %s\n" % (machine(), time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())))
    print("`%s`\n" % " ".join([os.path.relpath(__file__)] + sys.argv[1:]))
    print("| embedding layer | examples/s | anonymous RSS after imports | peak while training | end |")
    print("|---|---:|---:|---:|---:|")
    for k in kinds:
        x = run_case("rss2m", {"kind": k, "store": a.store, "vocab": a.vocab, "lines": a.lines, "seed": a.seed,
                               "threads": a.threads})
        print("| %s | %.0f | %.0f MB | %.0f MB | %.0f MB |" % (k, x["examples_per_s"], x["anon_after_import_mb"],
                                                                x["anon_peak_mb"], x["anon_end_mb"]), flush=True)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "_case":   # arguments on stdin (a word list exceeds argv limits)
        print(json.dumps(CASES[sys.argv[2]](json.load(sys.stdin))))
        return
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gensim-kv")
    g.add_argument("--store", required=True)
    g.add_argument("--kv", required=True)
    lk = sub.add_parser("lookup")
    lk.add_argument("--store", required=True)
    lk.add_argument("--kv", help="gensim KeyedVectors file (gensim-kv writes it); omit for wordbench only")
    lk.add_argument("--words", type=int, default=20000)
    tr = sub.add_parser("train")
    tr.add_argument("--csv", required=True)
    tr.add_argument("--store", required=True)
    tr.add_argument("--epochs", type=int, default=2)
    tr.add_argument("--budget", type=float, default=120, help="seconds of training per variant at most")
    tr.add_argument("--kinds", default="nn-frozen,store-frozen,nn-sparse,store-finetune,nn-dense")
    r2 = sub.add_parser("rss2m")
    r2.add_argument("--store", required=True)
    r2.add_argument("--vocab", type=int, default=20000)
    r2.add_argument("--lines", type=int, default=3200)
    r2.add_argument("--kinds", default="store-frozen,store-finetune,store-finetune-torchadam,nn-frozen,nn-whole")
    for s in (lk, tr, r2):
        s.add_argument("--seed", type=int, default=1)
    for s in (lk, tr):
        s.add_argument("--repeat", type=int, default=2)
    for s in (tr, r2):
        s.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    {"gensim-kv": cmd_gensim_kv, "lookup": cmd_lookup, "train": cmd_train, "rss2m": cmd_rss2m}[a.cmd](a)


if __name__ == "__main__":
    main()
