"""wordbench.torch.StoreEmbedding: outputs and gradients equal nn.Embedding.from_pretrained on the
same rows; fine-tuning with SparseAdam follows nn.Embedding(sparse=True) step for step; the overlay is
what state_dict holds."""

import numpy as np
import pytest

import wordbench

torch = pytest.importorskip("torch")
nn = torch.nn
from wordbench.torch import StoreEmbedding  # noqa: E402  (after the importorskip)

WORDS = ["<pad>", "king", "qqq", "queen", "zzz", "man", "woman", "cake", "castle", "yyy"]
IDS = [[1, 2, 0, 3, 7], [3, 3, 4, 5, 9], [8, 6, 0, 0, 0]]


def reference(emb, trainable):
    """nn.Embedding.from_pretrained over the rows StoreEmbedding starts from."""
    M = emb.embedding_rows(torch.arange(emb.num_embeddings)).clone()
    return nn.Embedding.from_pretrained(M, freeze=not trainable, padding_idx=emb.padding_idx, sparse=True)


@pytest.mark.parametrize("oov", ["zero", "random"])
def test_frozen_equals_from_pretrained(demo_store, oov):
    kv = wordbench.Store(demo_store)
    emb = StoreEmbedding(kv, WORDS, oov=oov, padding_idx=0, seed=5)
    assert list(emb.parameters()) == [] and emb.state_dict() == {}
    ref = reference(emb, trainable=False)
    ids = torch.tensor(IDS)
    out = emb(ids)
    assert out.shape == (3, 5, 16) and not out.requires_grad
    assert torch.equal(out, ref(ids))
    # rows of known words are the store's, padding is zero, OOV rows follow the mode
    assert torch.equal(out[0, 0], torch.from_numpy(kv["king"]))
    assert torch.equal(out[0, 2], torch.zeros(16))
    oov_row = out[0, 1]
    assert torch.equal(oov_row, torch.zeros(16)) == (oov == "zero")
    # gradients flow to what comes after the embedding exactly as with nn.Embedding
    lin1, lin2 = nn.Linear(16, 1), nn.Linear(16, 1)
    lin2.load_state_dict(lin1.state_dict())
    lin1(emb(ids)).sum().backward()
    lin2(ref(ids)).sum().backward()
    assert torch.equal(lin1.weight.grad, lin2.weight.grad)


def test_finetune_gradients_equal_from_pretrained(demo_store):
    emb = StoreEmbedding(demo_store, WORDS, mode="finetune", oov="random", padding_idx=0)
    ref = reference(emb, trainable=True)
    ids = torch.tensor(IDS)
    w = torch.randn(16)
    out, r = emb(ids), ref(ids)
    assert torch.equal(out, r) and out.requires_grad
    (out @ w).square().sum().backward()
    (r @ w).square().sum().backward()
    g, gr = emb.weight.grad, ref.weight.grad
    assert g.is_sparse
    assert torch.equal(g.to_dense(), gr.to_dense())
    assert torch.equal(g.to_dense()[0], torch.zeros(16))  # padding gets no gradient


def test_finetune_sparse_adam_follows_nn_embedding(demo_store):
    torch.manual_seed(0)
    emb = StoreEmbedding(demo_store, WORDS, mode="finetune", padding_idx=0)
    # rows first used in a later step must start as the store's rows: build the reference from a twin
    ref = reference(StoreEmbedding(demo_store, WORDS, mode="finetune", padding_idx=0), trainable=True)
    head1 = nn.Linear(16, 2)
    head2 = nn.Linear(16, 2)
    head2.load_state_dict(head1.state_dict())
    opt1 = [torch.optim.SparseAdam(list(emb.parameters()), lr=0.01), torch.optim.Adam(head1.parameters(), lr=0.01)]
    opt2 = [torch.optim.SparseAdam(list(ref.parameters()), lr=0.01), torch.optim.Adam(head2.parameters(), lr=0.01)]
    batches = [torch.tensor([[1, 2, 0]]), torch.tensor([[3, 4, 1]]), torch.tensor([[5, 6, 7], [8, 9, 1]])]
    y = torch.tensor([1])
    for step in range(6):
        ids = batches[step % 3]
        for e, h, opts in ((emb, head1, opt1), (ref, head2, opt2)):
            for o in opts:
                o.zero_grad()
            loss = nn.functional.cross_entropy(h(e(ids).mean(1)), y.expand(ids.shape[0]))
            loss.backward()
            for o in opts:
                o.step()
    assert torch.equal(emb.embedding_rows(torch.arange(len(WORDS))), ref.weight.detach())
    assert emb.overlay_rows == len(WORDS)
    # the store itself is never written
    kv = wordbench.Store(demo_store)
    assert np.array_equal(kv.gather(kv.rows(["king"])), kv.vectors[[kv.get_index("king")]])


def test_state_dict_holds_the_overlay_only(demo_store):
    emb = StoreEmbedding(demo_store, WORDS, mode="finetune", padding_idx=0)
    emb(torch.tensor([[1, 3, 0]]))
    sd = emb.state_dict()
    assert set(sd) == {"overlay_ids", "overlay"}
    assert sd["overlay_ids"].tolist() == [0, 1, 3] and sd["overlay"].shape == (3, 16)
    with torch.no_grad():
        emb.weight[1] += 1.0  # as if trained
    sd = emb.state_dict()
    fresh = StoreEmbedding(demo_store, WORDS, mode="finetune", padding_idx=0)
    fresh.load_state_dict(sd)
    assert fresh.overlay_rows == 3
    ids = torch.tensor([[1, 3, 5, 0]])
    assert torch.equal(fresh(ids), emb(ids))
    # inside a bigger model, under its prefix
    model = nn.Sequential(emb, nn.Linear(16, 1))
    assert {k for k in model.state_dict() if k.startswith("0.")} == {"0.overlay_ids", "0.overlay"}
    with pytest.raises(RuntimeError, match="overlay"):
        fresh.load_state_dict({"overlay_ids": torch.tensor([99]), "overlay": torch.zeros(1, 16)})
    with pytest.raises(RuntimeError, match="Missing"):
        fresh.load_state_dict({})


def test_learned_oov_rows_in_a_frozen_layer(demo_store):
    emb = StoreEmbedding(demo_store, WORDS, mode="frozen", oov="learn", padding_idx=0, seed=2)
    params = list(emb.parameters())
    assert len(params) == 1 and params[0].shape == (3, 16)  # qqq, zzz, yyy
    before = emb.embedding_rows(torch.arange(len(WORDS)))
    opt = torch.optim.SparseAdam(params, lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        emb(torch.tensor(IDS)).sum().backward()
        opt.step()
    after = emb.embedding_rows(torch.arange(len(WORDS)))
    oov = [2, 4, 9]
    known = [i for i in range(len(WORDS)) if i not in oov]
    assert torch.equal(after[known], before[known])
    assert not torch.equal(after[oov], before[oov])
    assert torch.equal(emb(torch.tensor([2, 4, 9])), after[oov])
    assert set(emb.state_dict()) == {"oov_weight"}


def test_random_oov_rows_are_seeded(demo_store):
    a = StoreEmbedding(demo_store, WORDS, oov="random", seed=1)
    b = StoreEmbedding(demo_store, WORDS, oov="random", seed=1)
    c = StoreEmbedding(demo_store, WORDS, oov="random", seed=2)
    ra, rb, rc = (e.embedding_rows([2, 4]) for e in (a, b, c))
    assert torch.equal(ra, rb) and not torch.equal(ra, rc)
    # independent of the order or batch in which ids come
    assert torch.equal(a(torch.tensor([4, 2]))[0], rb[1])
    assert float(ra.abs().max()) <= a.oov_scale and a.oov_scale > 0
    # Kim 2014's scale: sqrt(3 var) of the store's values (all 60 rows resolve here... the sample)
    kv = wordbench.Store(demo_store)
    rows = kv.rows(WORDS)
    var = kv.gather(rows[rows >= 0]).astype(np.float64).var()
    assert abs(a.oov_scale - np.sqrt(3 * var)) < 1e-6


def test_vocab_of_a_model(demo_store, models):
    m = wordbench.Model(models["binary"])
    emb = StoreEmbedding(demo_store, models["binary"])  # the path of the model file
    assert emb.padding_idx == 0 and emb.num_embeddings == m.config["vocab_size"]
    kv = wordbench.Store(demo_store)
    ids = torch.from_numpy(m.encode("Prince castle great dragonz").astype(np.int64))
    out = emb(ids)
    v = m.vocab
    for j in range(3):
        assert torch.equal(out[j], torch.from_numpy(kv[v[int(ids[j])]]))
    assert torch.equal(out[3], torch.zeros(16))  # id 1, out of vocabulary, oov zero
    assert torch.equal(out[5], torch.zeros(16))  # padding
    assert StoreEmbedding(kv, v).num_embeddings == emb.num_embeddings


def test_f16_store(demo_f16):
    kv = wordbench.Store(demo_f16)
    emb = StoreEmbedding(kv, ["king", "queen"])
    assert torch.equal(emb(torch.tensor([0, 1])), torch.from_numpy(kv.vectors[:2].astype(np.float32)))


def test_tutorial_cnn_trains(demo_store):
    """The Real Python tutorial's CNN (Conv1D 128x5, global max pool, Dense 10, sigmoid) on the demo
    sentiment data with a frozen StoreEmbedding: the training loss goes down."""
    from conftest import fixture
    texts, labels = [], []
    with open(fixture("text", "demo_sentiment.tsv"), encoding="utf-8") as f:
        for line in f:
            t, y = line.rstrip("\n").rsplit("\t", 1)
            texts.append([w.strip(".,!?").lower() for w in t.split()])
            labels.append(float(y))
    words = ["<pad>", "<oov>"] + sorted({w for t in texts for w in t})
    index = {w: i for i, w in enumerate(words)}
    X = torch.zeros(len(texts), 20, dtype=torch.int64)
    for i, t in enumerate(texts):
        ids = [index[w] for w in t][:20]
        X[i, :len(ids)] = torch.tensor(ids)
    y = torch.tensor(labels)
    torch.manual_seed(0)
    emb = StoreEmbedding(demo_store, words, padding_idx=0)
    conv, head = nn.Conv1d(16, 128, 5), nn.Sequential(nn.Linear(128, 10), nn.ReLU(), nn.Linear(10, 1))
    opt = torch.optim.Adam(list(conv.parameters()) + list(head.parameters()), lr=0.01)
    losses = []
    for epoch in range(8):
        total = 0.0
        for b in range(0, len(X), 32):
            xb, yb = X[b:b + 32], y[b:b + 32]
            h = torch.relu(conv(emb(xb).transpose(1, 2))).amax(dim=2)
            loss = nn.functional.binary_cross_entropy_with_logits(head(h).squeeze(1), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss) * len(xb)
        losses.append(total / len(X))
    assert losses[-1] < 0.8 * losses[0], losses


def test_errors(demo_store):
    with pytest.raises(wordbench.UsageError):
        StoreEmbedding(demo_store, WORDS, mode="dense")
    with pytest.raises(wordbench.UsageError):
        StoreEmbedding(demo_store, WORDS, oov="gaussian")
    with pytest.raises(wordbench.UsageError):
        StoreEmbedding(demo_store, WORDS, padding_idx=10)
    emb = StoreEmbedding(demo_store, WORDS)
    with pytest.raises(IndexError):
        emb(torch.tensor([10]))
    with pytest.raises(IndexError):
        emb(torch.tensor([-1]))
    with pytest.raises(TypeError):
        emb(torch.tensor([0.5]))
    with pytest.raises(TypeError):
        StoreEmbedding(demo_store, [1, 2])
    assert emb(torch.zeros(0, 3, dtype=torch.int64)).shape == (0, 3, 16)
    assert emb(torch.tensor([1, 3], dtype=torch.int32)).shape == (2, 16)


def _rss_anon_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    return 0


def test_sparse_adam_equals_torch_and_touches_only_the_rows_it_updates():
    from wordbench.torch import SparseAdam
    torch.manual_seed(0)
    V, E = 40, 8
    init = torch.randn(V, E)
    a = nn.Embedding.from_pretrained(init.clone(), freeze=False, sparse=True)
    b = nn.Embedding.from_pretrained(init.clone(), freeze=False, sparse=True)
    oa = torch.optim.SparseAdam(list(a.parameters()), lr=0.05, eps=1e-7)
    ob = SparseAdam(list(b.parameters()), lr=0.05, eps=1e-7)
    batches = [torch.randint(0, V // 2, (4, 6)) for _ in range(5)] + [torch.randint(0, V, (4, 6)) for _ in range(5)]
    for ids in batches:
        for emb, opt in ((a, oa), (b, ob)):
            opt.zero_grad()
            (emb(ids) ** 2).sum().backward()
            opt.step()
        assert torch.equal(a.weight, b.weight)
    for k in ("exp_avg", "exp_avg_sq"):
        seen = torch.unique(torch.cat([x.reshape(-1) for x in batches]))
        assert torch.equal(oa.state[a.weight][k][seen], ob.state[b.weight][k][seen])
    # a saved state loads into either optimizer and the runs go on equal
    oc = SparseAdam(list(b.parameters()), lr=0.05, eps=1e-7)
    oc.load_state_dict(oa.state_dict())
    ids = torch.randint(0, V, (4, 6))
    for emb, opt in ((a, oa), (b, oc)):
        opt.zero_grad()
        (emb(ids) ** 2).sum().backward()
        opt.step()
    assert torch.equal(a.weight, b.weight)

    # 400k x 64 rows: torch's two zero-filled moments would be 205 MB of anonymous memory; here only
    # the 1,000 rows that got gradients (and the 400 kB mask) may cost any
    big = nn.Embedding(400_000, 64, sparse=True, _weight=torch.empty(400_000, 64))
    opt = SparseAdam(list(big.parameters()), lr=1e-3)
    before = _rss_anon_kb()
    for _ in range(3):
        opt.zero_grad()
        big(torch.arange(0, 400_000, 400)).sum().backward()
        opt.step()
    grown_mb = (_rss_anon_kb() - before) / 1024
    assert grown_mb < 60, "SparseAdam state grew anonymous memory by %.0f MB" % grown_mb
