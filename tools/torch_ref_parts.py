#!/usr/bin/python3
"""torch_ref_parts.py — PyTorch reference values for the later model kinds.

Writes fixtures/torch/model_<case>.txt for the recurrent models (lstm, gru,
one or both directions, last state or max over time) and the character CNN,
in the "wbfix 1" format of tools/torch_ref_models.py (whose cases cover
dense, pool, tutorial and kim), read by tests/test_parity_model.c.  The
tests never run PyTorch.

Each case builds the torch twin of a small wordbench model from torch's own
modules — nn.LSTM / nn.GRU over a packed sequence (what masking means in
PyTorch), nn.Conv1d over one-hot characters, nn.MaxPool1d, nn.Linear —
fills it with random float32 weights converted to wordbench's layouts, and
records for one minibatch the probabilities, the mean loss and the gradient
of every dense tensor and of every embedding row.

Weight conversion (the point of the parity test):
  LSTM  wordbench kernel [4R, E], recurrent_kernel [4R, R], bias [4R] with
        Keras' gate order i, f, c, o = torch's i, f, g, o: weight_ih_l0 =
        kernel, weight_hh_l0 = recurrent_kernel, bias_ih_l0 = bias,
        bias_hh_l0 = 0 (its gradient equals bias_ih's).
  GRU   Keras' gate order z, r, h; torch's r, z, n: every [3R, .] tensor is
        permuted by blocks (1, 0, 2); bias -> bias_ih, recurrent_bias ->
        bias_hh (torch's GRU is Keras' reset_after=True).
  Conv1D wordbench [F, K, D] = torch [F, D, K] permuted; the character CNN's
        first layer reads one-hot channels id - 2 (ids 0 and 1 are zero
        vectors) and its flatten is position-major: torch's [B, F, L] output
        is permuted to [B, L, F] before the flatten.

X of the recurrent cases is post-padded (pack_padded_sequence needs lengths;
padding elsewhere is tests/test_parts.c's masking test) with an OOV id.  Max
over time and ReLU / max pooling have no derivative at ties: a case whose
maxima do not win by MARGIN (1e-3; 1e-5 for the character CNN, whose ~10^3
ReLU inputs would rarely all clear 1e-3, and whose float32 forward pass is
exact to ~1e-6) draws again (seed + 1000; the seed used is in the file).

    /usr/bin/python3 tools/torch_ref_parts.py            # every case
    /usr/bin/python3 tools/torch_ref_parts.py --list
"""
import collections
import os
import sys

import torch

from torch_ref import case_args, packed_rnn, write_model_case

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "fixtures", "torch")
MARGIN = 1e-3
CHAR_MARGIN = 1e-5  # the character CNN has ~10^3 ReLU inputs: a float32 forward is exact to ~1e-6 of them

KIND = {"charcnn": 4, "lstm": 5, "gru": 6}
TASK = {"binary": 1, "multiclass": 2, "multilabel": 3}

CASES = collections.OrderedDict([
    ("lstm_multiclass", dict(kind="lstm", task="multiclass", V=14, E=6, T=9, R=5, bi=0, pool="last", H=0, C=3, B=4, seed=21)),
    ("lstm_bi_max_multilabel", dict(kind="lstm", task="multilabel", V=14, E=6, T=9, R=4, bi=1, pool="max", H=5, C=3, B=4, seed=22)),
    ("gru_binary", dict(kind="gru", task="binary", V=14, E=6, T=9, R=5, bi=0, pool="last", H=0, C=1, B=4, seed=23)),
    ("gru_bi_max_multiclass", dict(kind="gru", task="multiclass", V=14, E=6, T=9, R=4, bi=1, pool="max", H=0, C=3, B=4, seed=24)),
    ("charcnn_multiclass", dict(kind="charcnn", task="multiclass", V=10, T=60, F=4, widths=[3, 3, 2, 2], H=6,
                                nhidden=2, C=3, B=3, seed=25)),
])


class RnnTwin(torch.nn.Module):
    def __init__(self, kind, V, E, R, bi, pool, H, C):
        super().__init__()
        self.pool = pool
        self.emb = torch.nn.Embedding(V, E, padding_idx=0)
        cls = torch.nn.LSTM if kind == "lstm" else torch.nn.GRU
        self.rnn = cls(E, R, batch_first=True, bidirectional=bool(bi))
        W = R * (2 if bi else 1)
        self.hidden = torch.nn.Linear(W, H) if H else None
        self.output = torch.nn.Linear(H if H else W, C)

    def forward(self, X, lengths, trace):
        feat, seq = packed_rnn(self.rnn, self.emb(X), lengths, self.pool)
        if seq is not None:
            trace.append(("maxt", seq))
        if self.hidden is not None:
            h = self.hidden(feat)
            trace.append(("relu", h))
            feat = torch.relu(h)
        return self.output(feat)


class CharTwin(torch.nn.Module):
    def __init__(self, V, F, widths, H, nhidden, C, T):
        super().__init__()
        self.A = V - 2
        self.convs = torch.nn.ModuleList()
        D, L = self.A, T
        for i, k in enumerate(widths):
            self.convs.append(torch.nn.Conv1d(D, F, k))
            L = L - k + 1
            if i < 2 or i + 1 == len(widths):
                L //= 3
            D = F
        self.hidden = torch.nn.ModuleList()
        fin = L * F
        for _ in range(nhidden):
            self.hidden.append(torch.nn.Linear(fin, H))
            fin = H
        self.output = torch.nn.Linear(fin, C)
        self.n = len(widths)

    def forward(self, X, trace):
        oh = torch.nn.functional.one_hot(X, self.A + 2)[..., 2:].to(torch.float64)  # ids 0, 1: zero vectors
        x = oh.transpose(1, 2)  # [B, A, T]
        for i, conv in enumerate(self.convs):
            y = conv(x)
            trace.append(("relu", y))
            x = torch.relu(y)
            if i < 2 or i + 1 == self.n:
                trace.append(("pool3", x))
                x = torch.nn.functional.max_pool1d(x, 3)
        feat = x.transpose(1, 2).reshape(x.shape[0], -1)  # position-major, as wordbench flattens
        for lin in self.hidden:
            h = lin(feat)
            trace.append(("relu", h))
            feat = torch.relu(h)
        return self.output(feat)


def margins_ok(trace, margin=MARGIN):
    """True when every ReLU input is at least `margin` from 0 and every max
    wins by `margin`: then float32 and float64 take the same branches."""
    for kind, t in trace:
        t = t.detach()
        if kind == "relu":
            if (t.abs() < margin).any():
                return False
        elif kind == "maxt":  # [B, T, W]: the max over time wins by MARGIN
            s, _ = t.sort(dim=1, descending=True)
            gap = s[:, 0] - s[:, 1]
            if (torch.isfinite(s[:, 1]) & (gap < margin)).any():
                return False
        elif kind == "pool3":  # [B, F, L]: each window of 3 has a clear max
            L = t.shape[2] // 3 * 3
            w = t[:, :, :L].reshape(t.shape[0], t.shape[1], -1, 3)
            s, _ = w.sort(dim=3, descending=True)
            gap = s[..., 0] - s[..., 1]
            if ((gap < margin) & (s[..., 0] > 0)).any():  # ties of zeros (ReLU off) pass no gradient either way
                return False
    return True


def gru_perm(t, R):
    """Keras' (z, r, h) blocks <-> torch's (r, z, n): swap the first two."""
    return torch.cat([t[R:2 * R], t[:R], t[2 * R:]], dim=0)


def run_rnn(name, cfg):
    V, E, T, R, H, C, B = (cfg[k] for k in "V E T R H C B".split())
    bi, G = cfg["bi"], 4 if cfg["kind"] == "lstm" else 3
    seed = cfg["seed"]
    for _ in range(1000):
        g = torch.Generator().manual_seed(seed)

        def randn(*shape, scale=1.0):
            return torch.randn(*shape, generator=g, dtype=torch.float32) * scale

        tw = RnnTwin(cfg["kind"], V, E, R, bi, cfg["pool"], H, C)
        p = collections.OrderedDict()
        emb = randn(V, E, scale=0.5)
        emb[0] = 0
        k = cfg["kind"]
        for d in range(2 if bi else 1):
            pre = k + ("_backward" if d else "")
            p[pre + "/kernel"] = randn(G * R, E, scale=E ** -0.5)
            p[pre + "/recurrent_kernel"] = randn(G * R, R, scale=R ** -0.5)
            p[pre + "/bias"] = randn(G * R, scale=0.3)
            if k == "gru":
                p[pre + "/recurrent_bias"] = randn(G * R, scale=0.3)
        if H:
            fin = tw.hidden.in_features
            p["hidden/kernel"] = randn(H, fin, scale=fin ** -0.5 * 1.5)
            p["hidden/bias"] = randn(H, scale=0.2) + 0.5
        fin = tw.output.in_features
        p["output/kernel"] = randn(C, fin, scale=fin ** -0.5 * 1.5)
        p["output/bias"] = randn(C, scale=0.2)
        X = torch.randint(2, V, (B, T), generator=g, dtype=torch.int64)
        X[0, 1] = 1
        lengths = torch.tensor([T - 2 * b if T - 2 * b > 0 else 1 for b in range(B)])
        for b in range(B):
            X[b, lengths[b]:] = 0
        if cfg["task"] == "multiclass":
            target = torch.randint(0, C, (B,), generator=g, dtype=torch.int64)
        else:
            target = (torch.rand(B, C, generator=g) < 0.5).to(torch.float32)
            target[0, 0], target[1, 0] = 1.0, 0.0
        with torch.no_grad():
            tw.emb.weight.copy_(emb)
            for d in range(2 if bi else 1):
                pre, suf = k + ("_backward" if d else ""), "_l0" + ("_reverse" if d else "")
                conv = (lambda t: gru_perm(t, R)) if k == "gru" else (lambda t: t)
                getattr(tw.rnn, "weight_ih" + suf).copy_(conv(p[pre + "/kernel"]))
                getattr(tw.rnn, "weight_hh" + suf).copy_(conv(p[pre + "/recurrent_kernel"]))
                getattr(tw.rnn, "bias_ih" + suf).copy_(conv(p[pre + "/bias"]))
                getattr(tw.rnn, "bias_hh" + suf).copy_(conv(p[pre + "/recurrent_bias"]) if k == "gru" else torch.zeros(G * R))
            if H:
                tw.hidden.weight.copy_(p["hidden/kernel"])
                tw.hidden.bias.copy_(p["hidden/bias"])
            tw.output.weight.copy_(p["output/kernel"])
            tw.output.bias.copy_(p["output/bias"])
        tw = tw.double()
        trace = []
        z = tw(X, lengths, trace)
        if margins_ok(trace):
            break
        seed += 1000
    else:
        raise SystemExit("%s: no seed with clear margins" % name)
    loss, prob = loss_prob(cfg, z, target)
    loss.backward()
    grads = collections.OrderedDict()
    for d in range(2 if bi else 1):
        pre, suf = k + ("_backward" if d else ""), "_l0" + ("_reverse" if d else "")
        conv = (lambda t: gru_perm(t, R)) if k == "gru" else (lambda t: t)
        grads[pre + "/kernel"] = conv(getattr(tw.rnn, "weight_ih" + suf).grad)
        grads[pre + "/recurrent_kernel"] = conv(getattr(tw.rnn, "weight_hh" + suf).grad)
        grads[pre + "/bias"] = conv(getattr(tw.rnn, "bias_ih" + suf).grad)
        if k == "gru":
            grads[pre + "/recurrent_bias"] = conv(getattr(tw.rnn, "bias_hh" + suf).grad)
    if H:
        grads["hidden/kernel"], grads["hidden/bias"] = tw.hidden.weight.grad, tw.hidden.bias.grad
    grads["output/kernel"], grads["output/bias"] = tw.output.weight.grad, tw.output.bias.grad
    demb = tw.emb.weight.grad.clone()
    a = header(cfg, seed)
    for key in "E".split():
        a[key] = torch.tensor([cfg[key]])
    a["F"] = torch.tensor([0])
    a["widths"] = torch.tensor([0])
    a["units"] = torch.tensor([R])
    a["bidirectional"] = torch.tensor([bi])
    a["rnn_pool"] = torch.tensor([1 if cfg["pool"] == "max" else 0])
    return finish(a, cfg, X, target, emb, p, z, prob, loss, grads, demb), seed


def run_charcnn(name, cfg):
    V, T, F, H, C, B = (cfg[k] for k in "V T F H C B".split())
    widths, nh = cfg["widths"], cfg["nhidden"]
    seed = cfg["seed"]
    for _ in range(1000):
        g = torch.Generator().manual_seed(seed)

        def randn(*shape, scale=1.0):
            return torch.randn(*shape, generator=g, dtype=torch.float32) * scale

        tw = CharTwin(V, F, widths, H, nh, C, T)
        p = collections.OrderedDict()
        for i, conv in enumerate(tw.convs):
            k, D = conv.kernel_size[0], conv.in_channels
            p["conv%d/kernel" % (i + 1)] = randn(F, k, D, scale=(k * D) ** -0.5 * 2)
            p["conv%d/bias" % (i + 1)] = randn(F, scale=0.2) + 0.2
        for j, lin in enumerate(tw.hidden):
            nm = "hidden" if j == 0 else "hidden%d" % (j + 1)
            p[nm + "/kernel"] = randn(H, lin.in_features, scale=lin.in_features ** -0.5 * 1.5)
            p[nm + "/bias"] = randn(H, scale=0.2) + 0.5
        fin = tw.output.in_features
        p["output/kernel"] = randn(C, fin, scale=fin ** -0.5 * 1.5)
        p["output/bias"] = randn(C, scale=0.2)
        X = torch.randint(2, V, (B, T), generator=g, dtype=torch.int64)
        X[0, 5] = X[2, 17] = 1  # characters outside the alphabet: zero vectors
        X[1, T - 2:] = 0  # padding (runs of identical windows would tie every max)
        target = torch.randint(0, C, (B,), generator=g, dtype=torch.int64)
        with torch.no_grad():
            for i, conv in enumerate(tw.convs):
                conv.weight.copy_(p["conv%d/kernel" % (i + 1)].permute(0, 2, 1))
                conv.bias.copy_(p["conv%d/bias" % (i + 1)])
            for j, lin in enumerate(tw.hidden):
                nm = "hidden" if j == 0 else "hidden%d" % (j + 1)
                lin.weight.copy_(p[nm + "/kernel"])
                lin.bias.copy_(p[nm + "/bias"])
            tw.output.weight.copy_(p["output/kernel"])
            tw.output.bias.copy_(p["output/bias"])
        tw = tw.double()
        trace = []
        z = tw(X, trace)
        if margins_ok(trace, CHAR_MARGIN):
            break
        seed += 1000
    else:
        raise SystemExit("%s: no seed with clear margins" % name)
    loss, prob = loss_prob(cfg, z, target)
    loss.backward()
    grads = collections.OrderedDict()
    for i, conv in enumerate(tw.convs):
        grads["conv%d/kernel" % (i + 1)] = conv.weight.grad.permute(0, 2, 1)
        grads["conv%d/bias" % (i + 1)] = conv.bias.grad
    for j, lin in enumerate(tw.hidden):
        nm = "hidden" if j == 0 else "hidden%d" % (j + 1)
        grads[nm + "/kernel"], grads[nm + "/bias"] = lin.weight.grad, lin.bias.grad
    grads["output/kernel"], grads["output/bias"] = tw.output.weight.grad, tw.output.bias.grad
    a = header(cfg, seed)
    a["E"] = torch.tensor([1])
    a["F"] = torch.tensor([F])
    a["widths"] = torch.tensor(widths)
    a["nhidden"] = torch.tensor([nh])
    return finish(a, cfg, X, target, None, p, z, prob, loss, grads, None), seed


def loss_prob(cfg, z, target):
    if cfg["task"] == "multiclass":
        return torch.nn.functional.cross_entropy(z, target), torch.softmax(z, dim=1)
    return torch.nn.functional.binary_cross_entropy_with_logits(z, target.double()), torch.sigmoid(z)


def header(cfg, seed):
    a = collections.OrderedDict()
    a["kind"] = torch.tensor([KIND[cfg["kind"]]])
    a["task"] = torch.tensor([TASK[cfg["task"]]])
    a["V"] = torch.tensor([cfg["V"]])
    a["T"] = torch.tensor([cfg["T"]])
    for k in "H C B".split():
        a[k] = torch.tensor([cfg[k]])
    a["seed"] = torch.tensor([seed])
    return a


def finish(a, cfg, X, target, emb, p, z, prob, loss, grads, demb):
    a["X"] = X
    a["y" if cfg["task"] == "multiclass" else "t"] = target
    if emb is not None:
        a["emb"] = emb
    for nm, w in p.items():
        a[nm] = w
    a["z"] = z
    a["prob"] = prob
    a["loss"] = loss.reshape(1)
    for nm, gr in grads.items():
        a["d" + nm] = gr
    if demb is not None:
        assert not demb[0].any()
        a["demb"] = demb
    return a


def main():
    r = case_args(__doc__, "torch_ref_parts.py", CASES)
    if isinstance(r, int):
        return r
    names, out = r
    for n in names:
        cfg = CASES[n]
        arrays, seed = (run_charcnn if cfg["kind"] == "charcnn" else run_rnn)(n, cfg)
        path = write_model_case(out, n, "torch_ref_parts.py", [
            "%s seed %d; float32 inputs, float64 twin, written as float32" % (cfg, seed),
            "kind: 4 charcnn 5 lstm 6 gru; task: 1 binary 2 multiclass 3 multilabel"], arrays)
        print("wrote %s (seed %d)" % (os.path.relpath(path), seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
