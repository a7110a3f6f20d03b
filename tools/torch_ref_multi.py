#!/usr/bin/python3
"""torch_ref_multi.py — PyTorch reference values for models of several inputs.

Writes fixtures/torch/model_<case>.txt (the "wbfix 1" format of
tools/torch_ref_models.py, whose twin and margin check this script reuses)
for wordbench models of two text inputs and numeric features (issue 11), read
by tests/test_parity_model.c; the tests never run PyTorch.

The twin is the Keras functional-API model wordbench builds: one branch per
text input (its own nn.Embedding, then the kind's reduction: GlobalMaxPool
for pool, Conv1d + ReLU + max over time per width for kim), the numeric
features standardised with the minibatch's own mean and population
deviation (wordbench's wb_model_fit_features on the same rows) and, with
feat_dense, squashed by nn.Linear + ReLU; torch.cat of the branches in input
order with the features last (the merge); the head (hidden Linear + ReLU when
H, the output Linear); the task's loss.

Arrays beyond the one-input cases: ntext (2), V2, T2, X2 [B, T2], emb2
[V2, E], demb2 (input 2's rows and their gradients), nfeat, feat_dense,
feat [B, nfeat] (multiples of 1/8: exact in float32, so the C test reads the
numbers the twin used).  Tensor names carry the input's name as wordbench's
do: subject_conv1/kernel, body_conv2/bias, features/kernel, hidden/kernel.

Precision and ties as in torch_ref_models.py: float32 draws, a float64 twin,
outputs rounded to float32; a draw whose maxima or ReLU inputs sit within
MARGIN of a tie draws again (seed + 1000; the seed used is in the file).

    /usr/bin/python3 tools/torch_ref_multi.py            # every case
    /usr/bin/python3 tools/torch_ref_multi.py --list
"""
import collections
import os
import sys

import torch

from torch_ref import case_args, write_model_case
from torch_ref_models import KIND, TASK, margins_ok
from torch_ref_parts import loss_prob

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "fixtures", "torch")
NAMES = ("subject", "body")  # the two text inputs' names (the C test gives the model the same)

CASES = collections.OrderedDict([
    ("multi_kim_multiclass", dict(kind="kim", task="multiclass", V=12, E=5, T=8, V2=9, T2=6, F=3, widths=[2, 3],
                                  nfeat=3, feat_dense=4, H=5, C=3, B=4, seed=31)),
    ("multi_pool_binary", dict(kind="pool", task="binary", V=12, E=5, T=7, V2=10, T2=5, F=0, widths=[],
                               nfeat=2, feat_dense=0, H=0, C=1, B=4, seed=32)),
])


class Branch(torch.nn.Module):
    """One text input: embedding, then the kind's reduction to a vector."""

    def __init__(self, kind, V, E, F, widths):
        super().__init__()
        self.kind = kind
        self.emb = torch.nn.Embedding(V, E, padding_idx=0)
        self.convs = torch.nn.ModuleList(torch.nn.Conv1d(E, F, k) for k in widths)
        self.width = E if kind == "pool" else F * len(widths)

    def forward(self, X, trace):
        x = self.emb(X)  # [B, T, E]
        if self.kind == "pool":
            trace.append(("max", x, X.unsqueeze(-1)))
            return x.max(dim=1)[0]
        parts = []
        for conv in self.convs:
            y = conv(x.transpose(1, 2)).transpose(1, 2)  # [B, T-K+1, F]
            trace.append(("max", y, X.unfold(1, conv.kernel_size[0], 1)))
            trace.append(("relu", y.max(dim=1)[0]))
            parts.append(torch.relu(y).max(dim=1)[0])
        return torch.cat(parts, dim=1)


class MultiTwin(torch.nn.Module):
    def __init__(self, cfg):
        super().__init__()
        k, E, F, w = cfg["kind"], cfg["E"], cfg["F"], cfg["widths"]
        self.branches = torch.nn.ModuleList([Branch(k, cfg["V"], E, F, w), Branch(k, cfg["V2"], E, F, w)])
        fd, nf = cfg["feat_dense"], cfg["nfeat"]
        self.feat_dense = torch.nn.Linear(nf, fd) if fd else None
        merged = sum(b.width for b in self.branches) + (fd if fd else nf)
        H, C = cfg["H"], cfg["C"]
        self.hidden = torch.nn.Linear(merged, H) if H else None
        self.output = torch.nn.Linear(H if H else merged, C)

    def forward(self, Xs, feat, trace):
        parts = [b(X, trace) for b, X in zip(self.branches, Xs)]
        mean = feat.mean(dim=0)
        std = ((feat - mean) ** 2).mean(dim=0).sqrt()  # population deviation, as wb_model_fit_features
        std = torch.where(std > 0, std, torch.ones_like(std))
        x = (feat - mean) / std
        if self.feat_dense is not None:
            h = self.feat_dense(x)
            trace.append(("relu", h))
            x = torch.relu(h)
        m = torch.cat(parts + [x], dim=1)
        if self.hidden is not None:
            h = self.hidden(m)
            trace.append(("relu", h))
            m = torch.relu(h)
        return self.output(m)


def draw(cfg, seed):
    g = torch.Generator().manual_seed(seed)

    def randn(*shape, scale=1.0):
        return torch.randn(*shape, generator=g, dtype=torch.float32) * scale

    tw = MultiTwin(cfg)
    E, B, C = cfg["E"], cfg["B"], cfg["C"]
    p = collections.OrderedDict()
    embs, Xs = [], []
    for k, (V, T) in enumerate(((cfg["V"], cfg["T"]), (cfg["V2"], cfg["T2"]))):
        emb = randn(V, E, scale=0.5)
        emb[0] = 0
        embs.append(emb)
        for i, conv in enumerate(tw.branches[k].convs):
            K = conv.kernel_size[0]
            p["%s_conv%d/kernel" % (NAMES[k], i + 1)] = randn(cfg["F"], K, E, scale=(K * E) ** -0.5 * 2)
            p["%s_conv%d/bias" % (NAMES[k], i + 1)] = randn(cfg["F"], scale=0.2)
        X = torch.randint(2, V, (B, T), generator=g, dtype=torch.int64)
        X[0, 1] = 1  # OOV
        for b in range(B):
            X[b, T - b:] = 0  # 0, 1, 2, 3 padding positions at the end
        Xs.append(X)
    if tw.feat_dense is not None:
        nf = cfg["nfeat"]
        p["features/kernel"] = randn(cfg["feat_dense"], nf, scale=nf ** -0.5 * 1.5)
        p["features/bias"] = randn(cfg["feat_dense"], scale=0.2) + 0.3
    if tw.hidden is not None:
        fin = tw.hidden.in_features
        p["hidden/kernel"] = randn(cfg["H"], fin, scale=fin ** -0.5 * 1.5)
        p["hidden/bias"] = randn(cfg["H"], scale=0.2) + 0.5
    fin = tw.output.in_features
    p["output/kernel"] = randn(C, fin, scale=fin ** -0.5 * 1.5)
    p["output/bias"] = randn(C, scale=0.2)
    feat = torch.randint(-40, 41, (B, cfg["nfeat"]), generator=g).to(torch.float32) / 8  # exact in float32
    feat[:, 0] *= 16  # features of other scales: the standardisation matters
    if cfg["task"] == "multiclass":
        target = torch.randint(0, C, (B,), generator=g, dtype=torch.int64)
    else:
        target = (torch.rand(B, C, generator=g) < 0.5).to(torch.float32)
        target[0, 0], target[1, 0] = 1.0, 0.0
    return tw, embs, p, Xs, feat, target


def linears(tw):
    """(wordbench name, torch Linear) of the dense layers outside the branches."""
    out = []
    if tw.feat_dense is not None:
        out.append(("features", tw.feat_dense))
    if tw.hidden is not None:
        out.append(("hidden", tw.hidden))
    out.append(("output", tw.output))
    return out


def run_case(name, cfg):
    seed = cfg["seed"]
    for _ in range(1000):
        tw, embs, p, Xs, feat, target = draw(cfg, seed)
        with torch.no_grad():
            for k, br in enumerate(tw.branches):
                br.emb.weight.copy_(embs[k])
                for i, conv in enumerate(br.convs):
                    conv.weight.copy_(p["%s_conv%d/kernel" % (NAMES[k], i + 1)].permute(0, 2, 1))
                    conv.bias.copy_(p["%s_conv%d/bias" % (NAMES[k], i + 1)])
            for nm, lin in linears(tw):
                lin.weight.copy_(p[nm + "/kernel"])
                lin.bias.copy_(p[nm + "/bias"])
        tw = tw.double()
        trace = []
        z = tw(Xs, feat.double(), trace)
        if margins_ok(trace):
            break
        seed += 1000
    else:
        raise SystemExit("%s: no seed with clear margins" % name)
    loss, prob = loss_prob(cfg, z, target)
    loss.backward()
    grads = collections.OrderedDict()
    for k, br in enumerate(tw.branches):
        for i, conv in enumerate(br.convs):
            grads["%s_conv%d/kernel" % (NAMES[k], i + 1)] = conv.weight.grad.permute(0, 2, 1)
            grads["%s_conv%d/bias" % (NAMES[k], i + 1)] = conv.bias.grad
    for nm, lin in linears(tw):
        grads[nm + "/kernel"], grads[nm + "/bias"] = lin.weight.grad, lin.bias.grad

    a = collections.OrderedDict()
    a["kind"] = torch.tensor([KIND[cfg["kind"]]])
    a["task"] = torch.tensor([TASK[cfg["task"]]])
    for key in "V E T F".split():
        a[key] = torch.tensor([cfg[key]])
    a["widths"] = torch.tensor(cfg["widths"] or [0])
    for key in "H C B".split():
        a[key] = torch.tensor([cfg[key]])
    a["seed"] = torch.tensor([seed])
    a["ntext"] = torch.tensor([2])
    a["V2"] = torch.tensor([cfg["V2"]])
    a["T2"] = torch.tensor([cfg["T2"]])
    a["nfeat"] = torch.tensor([cfg["nfeat"]])
    a["feat_dense"] = torch.tensor([cfg["feat_dense"]])
    a["X"], a["X2"] = Xs
    a["feat"] = feat
    a["y" if cfg["task"] == "multiclass" else "t"] = target
    a["emb"], a["emb2"] = embs
    for nm, w in p.items():
        a[nm] = w
    a["z"] = z
    a["prob"] = prob
    a["loss"] = loss.reshape(1)
    for nm, gr in grads.items():
        a["d" + nm] = gr
    for k, key in enumerate(("demb", "demb2")):
        d = tw.branches[k].emb.weight.grad.clone()
        assert not d[0].any()
        a[key] = d
    return a, seed


def main():
    r = case_args(__doc__, "torch_ref_multi.py", CASES)
    if isinstance(r, int):
        return r
    names, out = r
    for n in names:
        cfg = CASES[n]
        arrays, seed = run_case(n, cfg)
        path = write_model_case(out, n, "torch_ref_multi.py", [
            "%s seed %d; inputs %s; float32 inputs, float64 twin, written as float32" % (cfg, seed, ", ".join(NAMES)),
            "kind: 1 pool 3 kim; task: 1 binary 2 multiclass 3 multilabel"], arrays)
        print("wrote %s (seed %d)" % (os.path.relpath(path), seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
