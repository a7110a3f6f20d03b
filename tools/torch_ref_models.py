#!/usr/bin/python3
"""torch_ref_models.py — PyTorch reference values for whole wordbench models.

Writes fixtures/torch/model_<case>.txt (the "wbfix 1" text format of
fixtures/torch/README.md), read by tests/test_parity_model.c; the tests never
run PyTorch.  Each case builds the torch twin of a small model of
include/wordbench/model.h (learned embeddings, dropout 0, max-norm off),
fills it with random float32 weights and embedding rows (row 0, padding,
zero), and records for one minibatch: the logits, the probabilities, the mean
loss, the gradient of every dense tensor and of every embedding row.

Precision: the weights, rows and inputs are drawn in float32 (so the C test
loads exactly the same numbers), then the twin runs in float64; outputs and
gradients are rounded to float32 when written.  The reference is therefore
exact to float32 rounding.

The twin computes conv -> + bias -> ReLU -> max over time, the textbook
order; wordbench computes max over time -> + bias -> ReLU (equal, see
model.h).  Max pooling and ReLU are not differentiable at ties and at 0, so
each case checks that every max it takes wins by a margin over any window
with other ids, and that every ReLU input is away from 0 (MARGIN); a case
that fails the check draws again with the next seed (the seed used is
written into the file).

Developer-run; needs Debian's python3-torch (torch 1.13), installed for
/usr/bin/python3 only:

    /usr/bin/python3 tools/torch_ref_models.py            # every case
    /usr/bin/python3 tools/torch_ref_models.py --list

Layouts are wordbench's: Dense kernels [out, in] (torch.nn.Linear's), Conv1D
kernels [F, K, E] (torch's Conv1d weight [F, E, K] permuted), biases [n],
embedding rows [V, E], minibatch X [B, T].
"""
import collections
import os
import sys

import torch

from torch_ref import case_args, write_model_case  # the fixture format of the layer references

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "fixtures", "torch")
MARGIN = 1e-3

# Enum values of include/wordbench/model.h and dataset.h, as written in the files.
KIND = {"dense": 0, "pool": 1, "tutorial": 2, "kim": 3}
TASK = {"binary": 1, "multiclass": 2, "multilabel": 3}

# name: kind, task, V, E, T, F, widths, H, C, B, seed
CASES = collections.OrderedDict([
    ("tutorial_multiclass", dict(kind="tutorial", task="multiclass", V=14, E=6, T=9, F=4, widths=[3], H=5, C=3, B=4, seed=11)),
    ("tutorial_binary", dict(kind="tutorial", task="binary", V=14, E=6, T=9, F=4, widths=[3], H=5, C=1, B=4, seed=12)),
    ("kim_multilabel", dict(kind="kim", task="multilabel", V=14, E=6, T=9, F=4, widths=[2, 3, 4], H=0, C=4, B=4, seed=13)),
    ("pool_multiclass", dict(kind="pool", task="multiclass", V=14, E=6, T=9, F=0, widths=[], H=5, C=3, B=4, seed=14)),
    ("dense_binary", dict(kind="dense", task="binary", V=14, E=6, T=9, F=0, widths=[], H=5, C=1, B=4, seed=15)),
])


class Twin(torch.nn.Module):
    """The torch model equal to wordbench's `kind` (model.h)."""

    def __init__(self, kind, V, E, T, F, widths, H, C):
        super().__init__()
        self.kind = kind
        self.emb = torch.nn.Embedding(V, E, padding_idx=0)
        self.convs = torch.nn.ModuleList(torch.nn.Conv1d(E, F, k) for k in widths)
        feat = {"dense": T * E, "pool": E}.get(kind, F * len(widths))
        self.hidden = torch.nn.Linear(feat, H) if H else None
        self.output = torch.nn.Linear(H if H else feat, C)

    def forward(self, X, trace):
        """Logits of X; trace collects (values, ids-of-window) for the margin
        checks: every max pool and every ReLU input."""
        x = self.emb(X)  # [B, T, E]
        if self.kind == "dense":
            feat = x.reshape(x.shape[0], -1)
        elif self.kind == "pool":
            feat, _ = x.max(dim=1)
            trace.append(("max", x, X.unsqueeze(-1)))
        else:
            parts = []
            for conv in self.convs:
                y = conv(x.transpose(1, 2)).transpose(1, 2)  # [B, T-K+1, F], with bias
                k = conv.kernel_size[0]
                win = X.unfold(1, k, 1)  # [B, T-K+1, k] ids of each window
                trace.append(("max", y, win))
                trace.append(("relu", y.max(dim=1)[0]))  # the input of the ReLU that matters
                parts.append(torch.relu(y).max(dim=1)[0])
            feat = torch.cat(parts, dim=1)
        if self.hidden is not None:
            h = self.hidden(feat)
            trace.append(("relu", h))
            feat = torch.relu(h)
        return self.output(feat)


def margins_ok(trace):
    """True when every ReLU input is at least MARGIN from 0 and every max
    beats each window with different ids by MARGIN."""
    for item in trace:
        if item[0] == "relu":
            if (item[1].detach().abs() < MARGIN).any():
                return False
            continue
        _, y, win = item  # y [B, L, D], win [B, L, k]
        y = y.detach()
        B, L, D = y.shape
        top, arg = y.max(dim=1)
        for b in range(B):
            for d in range(D):
                w0 = win[b, arg[b, d]]
                for s in range(L):
                    if torch.equal(win[b, s], w0):
                        continue
                    if top[b, d] - y[b, s, d] < MARGIN:
                        return False
    return True


def draw(cfg, seed):
    """Weights, rows, minibatch and targets in float32 from `seed`."""
    g = torch.Generator().manual_seed(seed)
    V, E, T, F, H, C, B = (cfg[k] for k in "V E T F H C B".split())

    def randn(*shape, scale=1.0):
        return torch.randn(*shape, generator=g, dtype=torch.float32) * scale

    tw = Twin(cfg["kind"], V, E, T, F, cfg["widths"], H, C)
    p = collections.OrderedDict()
    emb = randn(V, E, scale=0.5)
    emb[0] = 0
    for i, conv in enumerate(tw.convs):
        k = conv.kernel_size[0]
        p["conv%d/kernel" % (i + 1)] = randn(F, k, E, scale=(k * E) ** -0.5 * 2)  # wordbench [F, K, E]
        p["conv%d/bias" % (i + 1)] = randn(F, scale=0.2)
    if H:
        fin = tw.hidden.in_features
        p["hidden/kernel"] = randn(H, fin, scale=fin ** -0.5 * 1.5)
        p["hidden/bias"] = randn(H, scale=0.2) + 0.5  # shifted: keeps most hidden units alive
    fin = tw.output.in_features
    p["output/kernel"] = randn(C, fin, scale=fin ** -0.5 * 1.5)
    p["output/bias"] = randn(C, scale=0.2)

    # Minibatch: ids in [0, V) with post-padding of varying length; id 1 (OOV)
    # and padding are forced to occur.
    X = torch.randint(2, V, (B, T), generator=g, dtype=torch.int64)
    X[0, 1] = 1
    X[2, 4] = 1
    for b in range(B):
        X[b, T - b:] = 0  # 0, 1, 2, 3 padding positions at the end
    X[1, 0] = 0  # and one padding id in the middle of a sequence
    if cfg["task"] == "multiclass":
        target = torch.randint(0, C, (B,), generator=g, dtype=torch.int64)
    else:
        target = (torch.rand(B, C, generator=g) < 0.5).to(torch.float32)
        target[0, 0], target[1, 0] = 1.0, 0.0  # both labels occur
    return tw, emb, p, X, target


def run_case(name, cfg):
    seed = cfg["seed"]
    for _ in range(1000):
        tw, emb, p, X, target = draw(cfg, seed)
        with torch.no_grad():
            tw.emb.weight.copy_(emb)
            for i, conv in enumerate(tw.convs):
                conv.weight.copy_(p["conv%d/kernel" % (i + 1)].permute(0, 2, 1))  # [F, K, E] -> [F, E, K]
                conv.bias.copy_(p["conv%d/bias" % (i + 1)])
            if tw.hidden is not None:
                tw.hidden.weight.copy_(p["hidden/kernel"])
                tw.hidden.bias.copy_(p["hidden/bias"])
            tw.output.weight.copy_(p["output/kernel"])
            tw.output.bias.copy_(p["output/bias"])
        tw = tw.double()
        trace = []
        z = tw(X, trace)
        if margins_ok(trace):
            break
        seed += 1000
    else:
        raise SystemExit("%s: no seed with clear margins" % name)

    if cfg["task"] == "multiclass":
        loss = torch.nn.functional.cross_entropy(z, target)  # mean over B
        prob = torch.softmax(z, dim=1)
    else:
        loss = torch.nn.functional.binary_cross_entropy_with_logits(z, target.double())  # mean over B·C
        prob = torch.sigmoid(z)
    loss.backward()

    tensors = {}
    for i, conv in enumerate(tw.convs):
        tensors["conv%d/kernel" % (i + 1)] = (conv.weight, conv.weight.grad, lambda t: t.permute(0, 2, 1))
        tensors["conv%d/bias" % (i + 1)] = (conv.bias, conv.bias.grad, None)
    if tw.hidden is not None:
        tensors["hidden/kernel"] = (tw.hidden.weight, tw.hidden.weight.grad, None)
        tensors["hidden/bias"] = (tw.hidden.bias, tw.hidden.bias.grad, None)
    tensors["output/kernel"] = (tw.output.weight, tw.output.weight.grad, None)
    tensors["output/bias"] = (tw.output.bias, tw.output.bias.grad, None)

    demb = tw.emb.weight.grad.clone()
    assert not demb[0].any()  # padding_idx: row 0 gets no gradient
    a = collections.OrderedDict()
    a["kind"] = torch.tensor([KIND[cfg["kind"]]])
    a["task"] = torch.tensor([TASK[cfg["task"]]])
    for k in "V E T F".split():
        a[k] = torch.tensor([cfg[k]])
    a["widths"] = torch.tensor(cfg["widths"] or [0])  # [0]: no convolution
    for k in "H C B".split():
        a[k] = torch.tensor([cfg[k]])
    a["seed"] = torch.tensor([seed])
    a["X"] = X
    a["y" if cfg["task"] == "multiclass" else "t"] = target
    a["emb"] = emb
    for nm, (w, g, perm) in tensors.items():
        a[nm] = perm(w) if perm else w
    a["z"] = z
    a["prob"] = prob
    a["loss"] = loss.reshape(1)
    for nm, (w, g, perm) in tensors.items():
        a["d" + nm] = perm(g) if perm else g
    a["demb"] = demb
    return a, seed


def main():
    r = case_args(__doc__, "torch_ref_models.py", CASES)
    if isinstance(r, int):
        return r
    names, out = r
    for n in names:
        cfg = CASES[n]
        arrays, seed = run_case(n, cfg)
        p = write_model_case(out, n, "torch_ref_models.py", [
            "%s %s, widths %s, seed %d; float32 inputs, float64 twin, written as float32"
            % (cfg["kind"], cfg["task"], cfg["widths"], seed),
            "kind: 0 dense 1 pool 2 tutorial 3 kim; task: 1 binary 2 multiclass 3 multilabel"], arrays)
        print("wrote %s (seed %d)" % (os.path.relpath(p), seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
