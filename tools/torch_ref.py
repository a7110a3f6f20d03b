#!/usr/bin/python3
"""torch_ref.py — PyTorch reference values for tests/test_parity.c.

Writes one text fixture per case into fixtures/torch/ (format in
fixtures/torch/README.md): the inputs, the weights, the outputs and the
gradients computed by torch autograd for each layer of
include/wordbench/nn.h, a small conv -> relu -> global max pool -> dense ->
softmax cross-entropy chain, and five steps of each torch.optim optimizer
configured to the formulas of include/wordbench/optim.h (plus SparseAdam
against wordbench's lazy row updates).

Developer-run, never by the tests; needs Debian's python3-torch, which is
installed for /usr/bin/python3 only:

    /usr/bin/python3 tools/torch_ref.py              # every case
    /usr/bin/python3 tools/torch_ref.py dense adam   # some cases
    /usr/bin/python3 tools/torch_ref.py --list

Every case is a function returning an ordered dict of named arrays,
registered with @case; each case seeds torch itself, so a case's output
depends on nothing else and adding a case (e.g. a full model) changes no
other file.  Layouts are wordbench's: batch-major [B, L, D] sequences and
Conv1D weights [F, k, D].  Integer arrays (labels, argmax) are written as
numbers like the rest.
"""
import argparse
import collections
import os
import sys

import torch

FORMAT = "wbfix 1"
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "fixtures", "torch")

CASES = collections.OrderedDict()


def case(fn):
    CASES[fn.__name__.replace("case_", "")] = fn
    return fn


def rand(*shape):
    return torch.randn(*shape, dtype=torch.float32)


def packed_rnn(rnn, x, lengths, pool):
    """nn.LSTM / nn.GRU `rnn` (batch_first) over the post-padded (B, T, E) x, each row's first lengths[b]
    steps only (pack_padded_sequence: PyTorch's masking, Keras' mask_zero). Returns (features, seq):
    pool "last" the last state of each direction (forward, backward) and seq None; "max" the max over
    each row's real steps and seq the (B, T, R·dirs) output with -inf at the padding steps."""
    packed = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    out, hn = rnn(packed)
    if pool == "last":
        if isinstance(hn, tuple):
            hn = hn[0]
        return torch.cat([hn[d] for d in range(hn.shape[0])], dim=1), None
    seq, _ = torch.nn.utils.rnn.pad_packed_sequence(out, batch_first=True, padding_value=float("-inf"),
                                                    total_length=x.shape[1])
    return seq.max(dim=1)[0], seq


def grads_of(out, dout, *leaves):
    """Gradients of sum(out * dout) with respect to leaves (the backward of
    a layer that receives dout)."""
    return torch.autograd.grad(out, leaves, grad_outputs=dout)


# ---- layers ---------------------------------------------------------------

@case
def case_dense():
    torch.manual_seed(1)
    B, I, O = 3, 5, 4
    lin = torch.nn.Linear(I, O)
    x = rand(B, I).requires_grad_()
    y = lin(x)
    dy = rand(B, O)
    dx, dW, db = grads_of(y, dy, x, lin.weight, lin.bias)
    return dict(x=x, W=lin.weight, b=lin.bias, y=y, dy=dy, dx=dx, dW=dW, db=db)


def conv1d(seed, B, L, D, F, k):
    torch.manual_seed(seed)
    conv = torch.nn.Conv1d(D, F, k)
    x = rand(B, L, D).requires_grad_()
    y = conv(x.transpose(1, 2)).transpose(1, 2)  # [B, T, F]
    dy = rand(*y.shape)
    dx, dWt, db = grads_of(y, dy, x, conv.weight, conv.bias)
    # torch's weight is [F, D, k]; ours is [F, k, D]: W[f][t][d] = Wt[f][d][t]
    return dict(x=x, W=conv.weight.permute(0, 2, 1), b=conv.bias, y=y, dy=dy, dx=dx,
                dW=dWt.permute(0, 2, 1), db=db)


@case
def case_conv1d_k3():
    return conv1d(2, B=3, L=7, D=5, F=4, k=3)


@case
def case_conv1d_k1():
    return conv1d(3, B=3, L=7, D=5, F=4, k=1)


@case
def case_conv1d_kL():
    return conv1d(4, B=2, L=4, D=3, F=2, k=4)  # k = L: one window per example


@case
def case_gmaxpool():
    torch.manual_seed(5)
    B, L, C = 3, 7, 4
    x = rand(B, L, C).requires_grad_()
    out, idx = x.max(dim=1)
    dout = rand(B, C)
    (dx,) = grads_of(out, dout, x)
    return dict(x=x, out=out, argmax=idx, dout=dout, dx=dx)


@case
def case_gavgpool():
    torch.manual_seed(6)
    B, L, C = 3, 7, 4
    x = rand(B, L, C).requires_grad_()
    out = x.mean(dim=1)
    dout = rand(B, C)
    (dx,) = grads_of(out, dout, x)
    return dict(x=x, out=out, dout=dout, dx=dx)


def maxpool(seed, B, L, C, p):
    torch.manual_seed(seed)
    x = rand(B, L, C).requires_grad_()
    out, idx = torch.nn.MaxPool1d(p, return_indices=True)(x.transpose(1, 2))
    out, idx = out.transpose(1, 2), idx.transpose(1, 2)  # [B, L//p, C]; idx = row in [0, L)
    dout = rand(*out.shape)
    (dx,) = grads_of(out, dout, x)
    return dict(p=torch.tensor([p]), x=x, out=out, argmax=idx, dout=dout, dx=dx)


@case
def case_maxpool_p2():
    return maxpool(7, B=3, L=7, C=4, p=2)  # L not a multiple of p: the last row is dropped


@case
def case_maxpool_p3():
    return maxpool(8, B=2, L=9, C=3, p=3)


@case
def case_relu():
    torch.manual_seed(9)
    x = rand(3, 7).requires_grad_()
    y = torch.relu(x)
    dy = rand(3, 7)
    (dx,) = grads_of(y, dy, x)
    return dict(x=x, y=y, dy=dy, dx=dx)


def softmax_xent(seed, B, C, weighted):
    torch.manual_seed(seed)
    z = (2 * rand(B, C)).requires_grad_()
    y = torch.randint(0, C, (B,))
    cw = torch.rand(C) * 2 + 0.25 if weighted else torch.ones(C)
    # wordbench: mean over B of cw[y]·CE (Keras class_weight), NOT torch's
    # weighted mean (which divides by Σ cw[y]).
    ce = torch.nn.functional.cross_entropy(z, y, reduction="none")
    loss = (cw[y] * ce).sum() / B
    (dz,) = torch.autograd.grad(loss, z)
    d = dict(z=z, y=y, loss=loss.reshape(1), dz=dz, prob=torch.softmax(z, dim=1))
    if weighted:
        d["cw"] = cw
    return d


@case
def case_softmax_xent():
    return softmax_xent(10, B=4, C=5, weighted=False)


@case
def case_softmax_xent_cw():
    return softmax_xent(11, B=4, C=5, weighted=True)


def sigmoid_bce(seed, B, C, weighted):
    torch.manual_seed(seed)
    z = (2 * rand(B, C)).requires_grad_()
    t = (torch.rand(B, C) < 0.5).float()
    pw = torch.rand(C) * 3 + 0.25 if weighted else None
    loss = torch.nn.BCEWithLogitsLoss(pos_weight=pw)(z, t)  # mean over B·C
    (dz,) = torch.autograd.grad(loss, z)
    d = dict(z=z, t=t, loss=loss.reshape(1), dz=dz, prob=torch.sigmoid(z))
    if weighted:
        d["cw"] = pw
    return d


@case
def case_sigmoid_bce():
    return sigmoid_bce(12, B=5, C=1, weighted=False)  # binary task


@case
def case_sigmoid_bce_pw():
    return sigmoid_bce(13, B=4, C=3, weighted=True)  # multi-label with pos_weight


@case
def case_chain():
    """x -> Conv1d(k) -> ReLU -> global max pool -> Linear -> softmax
    cross-entropy; gradients of the mean loss for every weight and x."""
    torch.manual_seed(14)
    B, L, D, F, k, C = 3, 7, 5, 4, 3, 3
    conv = torch.nn.Conv1d(D, F, k)
    lin = torch.nn.Linear(F, C)
    x = rand(B, L, D).requires_grad_()
    y = torch.randint(0, C, (B,))
    h = torch.relu(conv(x.transpose(1, 2)))  # [B, F, T]
    pool, idx = h.max(dim=2)
    z = lin(pool)
    loss = torch.nn.functional.cross_entropy(z, y)
    dx, dWc, dbc, dWd, dbd = torch.autograd.grad(loss, (x, conv.weight, conv.bias, lin.weight,
                                                         lin.bias))
    return dict(k=torch.tensor([k]), x=x, y=y, Wc=conv.weight.permute(0, 2, 1), bc=conv.bias,
                Wd=lin.weight, bd=lin.bias, pool=pool, argmax=idx, z=z, loss=loss.reshape(1),
                dx=dx, dWc=dWc.permute(0, 2, 1), dbc=dbc, dWd=dWd, dbd=dbd)


# ---- optimizers -------------------------------------------------------------
# Each case: w0 [n], the fixed gradients g [S, n] of S steps, the weights
# after each step w [S, n], and wordbench's optimizer fields as 1-element
# arrays (kind = wb_opt_kind, lr, beta1, beta2, eps, momentum, rho, l2,
# clipnorm); the C test configures wb_optim from them.

KIND = {"adam": 0, "sgd": 1, "rmsprop": 2, "adagrad": 3, "adadelta": 4}
STEPS, N = 5, 6


def optim_case(seed, kind, make, lr, beta1=0.9, beta2=0.999, eps=1e-7, momentum=0.0, rho=0.0,
               l2=0.0, clipnorm=0.0):
    torch.manual_seed(seed)
    w0 = rand(N)
    g = rand(STEPS, N)
    p = torch.nn.Parameter(w0.clone())
    opt = make([p])
    ws = []
    for s in range(STEPS):
        p.grad = g[s].clone()
        if clipnorm > 0:
            # scale = clipnorm / (‖g‖ + 1e-6) when below 1 (torch); optim.h
            # has no 1e-6: a relative difference of ~1e-6/‖g‖.
            torch.nn.utils.clip_grad_norm_([p], clipnorm)
        opt.step()
        ws.append(p.detach().clone())
    hp = dict(kind=KIND[kind], lr=lr, beta1=beta1, beta2=beta2, eps=eps, momentum=momentum,
              rho=rho, l2=l2, clipnorm=clipnorm)
    d = {k: torch.tensor([v], dtype=torch.float64) for k, v in hp.items()}
    d.update(w0=w0, g=g, w=torch.stack(ws))
    return d


@case
def case_adam():
    return optim_case(20, "adam", lambda ps: torch.optim.Adam(ps, lr=0.01, betas=(0.9, 0.999),
                                                              eps=1e-7), lr=0.01)


@case
def case_adam_l2():
    return optim_case(21, "adam", lambda ps: torch.optim.Adam(ps, lr=0.01, eps=1e-7,
                                                              weight_decay=0.1), lr=0.01, l2=0.1)


@case
def case_adam_clipnorm():
    return optim_case(22, "adam", lambda ps: torch.optim.Adam(ps, lr=0.01, eps=1e-7),
                      lr=0.01, clipnorm=0.5)


@case
def case_sgd():
    return optim_case(23, "sgd", lambda ps: torch.optim.SGD(ps, lr=0.1), lr=0.1)


@case
def case_sgd_momentum():
    return optim_case(24, "sgd", lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9,
                                                            weight_decay=0.01),
                      lr=0.1, momentum=0.9, l2=0.01)


@case
def case_rmsprop():
    # torch's alpha is our rho; centered=False, momentum=0 (the defaults)
    return optim_case(25, "rmsprop", lambda ps: torch.optim.RMSprop(ps, lr=0.01, alpha=0.9,
                                                                    eps=1e-7), lr=0.01, rho=0.9)


@case
def case_adagrad():
    return optim_case(26, "adagrad", lambda ps: torch.optim.Adagrad(
        ps, lr=0.1, lr_decay=0, initial_accumulator_value=0, eps=1e-7), lr=0.1)


@case
def case_adadelta():
    return optim_case(27, "adadelta", lambda ps: torch.optim.Adadelta(ps, lr=1.0, rho=0.95,
                                                                      eps=1e-7),
                      lr=1.0, rho=0.95)


def embedding_adam_case(w0, touched, gs, ws):
    """The arrays of an Adam case on embedding rows (lr 0.01, eps 1e-7): the
    optimizer's fields, w0, touched, g and the weights after each step."""
    d = {k: torch.tensor([v], dtype=torch.float64) for k, v in
         dict(kind=0, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-7, momentum=0, rho=0, l2=0,
              clipnorm=0).items()}
    d.update(w0=w0, touched=touched, g=gs, w=torch.stack(ws))
    return d


@case
def case_sparse_adam():
    """torch.optim.SparseAdam on an embedding [V, E] whose gradient has rows
    only for the ids of each step (duplicates summed, as an embedding's
    backward does) vs wordbench's lazy Adam, one update per touched row.
    touched [S, V] is 1 for the rows in step s's sparse gradient; g [S, V, E]
    holds their (summed) gradients and zeros elsewhere."""
    torch.manual_seed(28)
    V, E = 8, 4
    emb = torch.nn.Embedding(V, E, sparse=True)
    w0 = emb.weight.detach().clone()
    opt = torch.optim.SparseAdam(emb.parameters(), lr=0.01, betas=(0.9, 0.999), eps=1e-7)
    ids = [[0, 2, 2, 5], [1, 2], [5, 7, 0], [3], [2, 5, 6, 6]]
    touched, gs, ws = torch.zeros(STEPS, V), torch.zeros(STEPS, V, E), []
    for s in range(STEPS):
        opt.zero_grad()
        idx = torch.tensor(ids[s])
        up = rand(len(ids[s]), E)
        (emb(idx) * up).sum().backward()
        grad = emb.weight.grad.coalesce()
        rows = grad.indices()[0]
        touched[s, rows] = 1
        gs[s, rows] = grad.values()
        opt.step()
        ws.append(emb.weight.detach().clone())
    return embedding_adam_case(w0, touched, gs, ws)


@case
def case_dense_adam_idle():
    """torch.optim.Adam (dense) on an embedding [V, E] whose rows are idle for
    stretches: PyTorch decays every row's moments at every step, so an idle
    row keeps moving.  wordbench's catch-up (optim.h) must give the same
    weights without visiting idle rows.  touched [S, V] marks the rows with a
    gradient at step s, g [S, V, E] holds them (zeros elsewhere, which is
    what a dense nn.Embedding's gradient holds), w [S, V, E] the weights
    after each step.  Rows: 0 every step; 1 steps 0-2 and 30; 2 step 0 only;
    3 every 7th step; 4 never; 5 every 5th step with gradients of ~1e-6, so
    that sqrt(v) is near eps (where the catch-up approximates)."""
    torch.manual_seed(29)
    V, E, S = 6, 4, 40
    emb = torch.nn.Embedding(V, E)
    w0 = emb.weight.detach().clone()
    opt = torch.optim.Adam(emb.parameters(), lr=0.01, betas=(0.9, 0.999), eps=1e-7)
    touched, gs, ws = torch.zeros(S, V), torch.zeros(S, V, E), []
    for s in range(S):
        rows = [r for r, on in zip(range(V), [True, s < 3 or s == 30, s == 0, s % 7 == 0, False, s % 5 == 0]) if on]
        g = torch.zeros(V, E)
        for r in rows:
            g[r] = rand(E) * (1e-6 if r == 5 else 1.0)
            touched[s, r] = 1
        opt.zero_grad()
        (emb.weight * g).sum().backward()
        gs[s] = emb.weight.grad
        opt.step()
        ws.append(emb.weight.detach().clone())
    return embedding_adam_case(w0, touched, gs, ws)


# ---- output -----------------------------------------------------------------

def fmt(v, is_float):
    if not is_float:
        return "%d" % v
    return "%.9g" % v


def write_arrays(f, arrays, all_float32=False):
    """Write named arrays in the wbfix format: a line "name ndim d0 ...", then
    the values 8 per line (%.9g for floats, which round-trips a float32).
    float64 arrays stay float64 unless all_float32."""
    for key, a in arrays.items():
        t = torch.as_tensor(a).detach()
        is_float = t.is_floating_point()
        if is_float and (all_float32 or t.dtype != torch.float64):
            t = t.to(torch.float32)  # written exactly: %.9g round-trips a float32
        shape = list(t.shape) or [1]
        f.write("%s %d %s\n" % (key, len(shape), " ".join(str(s) for s in shape)))
        vals = [fmt(v, is_float) for v in t.reshape(-1).tolist()]
        for i in range(0, len(vals), 8):
            f.write(" ".join(vals[i:i + 8]) + "\n")


def write_case(name, arrays, out):
    path = os.path.join(out, name + ".txt")
    with open(path, "w") as f:
        f.write("%s\n# case %s; torch %s; tools/torch_ref.py\n" % (FORMAT, name, torch.__version__))
        write_arrays(f, arrays)
    return path


def write_model_case(out, name, script, notes, arrays):
    """A whole-model case fixtures/torch/model_NAME.txt: the header naming the
    script, one comment line per note, every array written as float32."""
    path = os.path.join(out, "model_" + name + ".txt")
    with open(path, "w") as f:
        f.write("%s\n# case model_%s; torch %s; tools/%s\n" % (FORMAT, name, torch.__version__, script))
        for note in notes:
            f.write("# %s\n" % note)
        write_arrays(f, arrays, all_float32=True)
    return path


def case_args(doc, script, cases):
    """The command line every reference script takes: case names (default:
    all), --out, --list.  Returns (names, out directory), or an exit code
    (0 after --list, 2 for unknown names) as an int."""
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    ap.add_argument("cases", nargs="*", help="case names (default: all)")
    ap.add_argument("--out", default=OUT, help="output directory (default fixtures/torch)")
    ap.add_argument("--list", action="store_true", help="list the cases and exit")
    a = ap.parse_args()
    if a.list:
        print("\n".join(cases))
        return 0
    names = a.cases or list(cases)
    bad = [n for n in names if n not in cases]
    if bad:
        print("%s: unknown case(s) %s; try --list" % (script, ", ".join(bad)), file=sys.stderr)
        return 2
    torch.set_num_threads(1)
    os.makedirs(a.out, exist_ok=True)
    return names, a.out


def main():
    r = case_args(__doc__, "torch_ref.py", CASES)
    if isinstance(r, int):
        return r
    names, out = r
    for n in names:
        p = write_case(n, CASES[n](), out)
        print("wrote %s" % os.path.relpath(p))
    return 0


if __name__ == "__main__":
    sys.exit(main())
