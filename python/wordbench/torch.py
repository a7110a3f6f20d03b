"""wordbench.torch.StoreEmbedding: a PyTorch embedding layer over a wordbench store.

    from wordbench.torch import StoreEmbedding
    emb = StoreEmbedding("glove300", ["<pad>", "<oov>"] + words, padding_idx=0)   # frozen
    emb = StoreEmbedding(store, wordbench.Vocab("spam.wbm"), mode="finetune")       # ids of a model

Id i stands for the word vocab[i]; the words are resolved to store rows once, at construction.  Each
forward call gathers only the distinct rows of the batch from the memory-mapped store, so the
embedding matrix is never copied into the process: a 2.2M x 300 store (2.6 GB) costs its page-cache
pages (shared with every other process using the store), not anonymous memory.

Modes (the CLI's --embeddings):
  frozen    no gradient; rows read from the store on every call.
  finetune  a row is copied into the overlay (the `weight` Parameter, whose pages the kernel only
            allocates when a row is first written) the first time its id is used; gradients are
            sparse (torch.optim.SparseAdam, torch.optim.SGD); the store is never written;
            state_dict() holds the overlay rows only (ids and values), not a V x E matrix.
            wordbench.torch.SparseAdam is torch.optim.SparseAdam with the same arithmetic (bit for
            bit) whose two moment matrices get pages only for the rows that ever had a gradient:
            torch's zero-fills both (2 x V x E floats) on its first step.
Ids the store lacks follow `oov` (the CLI's --oov): "zero" (a zero row), "random" (U(-a, a) with
a = sqrt(3 var), var the variance of the store's values over up to 4096 resolved rows, as Kim 2014;
drawn from (seed, id), so independent of the order ids are met), "learn" (random, and trainable even
when frozen: the `oov_weight` Parameter, sparse gradients).  The padding_idx row is zero and gets no
gradient, as in nn.Embedding.

CPU only: rows come from the mapping in this process.  A module holding a store is not picklable
(save its state_dict).
"""

import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ._wordbench import UsageError, Vocab
from .store import Store

__all__ = ["StoreEmbedding", "SparseAdam"]

_U64 = np.uint64


def _mix(x):
    """splitmix64's output function over a uint64 array (wraps modulo 2**64)."""
    x = x + _U64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> _U64(30))) * _U64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> _U64(27))) * _U64(0x94D049BB133111EB)
    return x ^ (x >> _U64(31))


def _random_rows(seed, ids, dim, a):
    """float32 (len(ids), dim): U(-a, a) values that depend only on (seed, id, column)."""
    key = _mix(np.asarray(ids, dtype=np.uint64) * _U64(0xD1B54A32D192ED03) ^ _U64(seed & 0xFFFFFFFFFFFFFFFF))
    bits = _mix(key[:, None] ^ (np.arange(dim, dtype=np.uint64)[None, :] * _U64(0x9E3779B97F4A7C15)))
    u = (bits >> _U64(40)).astype(np.float32) * np.float32(2.0 / 16777216.0) - np.float32(1.0)
    return np.float32(a) * u


class StoreEmbedding(nn.Module):
    """StoreEmbedding(store, vocab, mode="frozen", oov="zero", padding_idx=None, seed=0)

    store: a wordbench.Store or a store directory.
    vocab: the word of every id: a list of words, a wordbench.Vocab, or the path of a model file /
        saved vocabulary written by wordbench (then padding_idx defaults to 0 and id 1, the
        out-of-vocabulary id, follows `oov`).
    mode: "frozen" or "finetune".  oov: "zero", "random" or "learn".
    padding_idx: an id whose row is zero and gets no gradient (None: none).
    seed: the seed of random / learned out-of-vocabulary rows.

    forward(ids): a LongTensor of any shape -> float32 tensor ids.shape + (dim,).
    """

    def __init__(self, store, vocab, mode="frozen", oov="zero", padding_idx=None, seed=0):
        super().__init__()
        if mode not in ("frozen", "finetune"):
            raise UsageError("mode must be 'frozen' or 'finetune', got %r" % (mode,))
        if oov not in ("zero", "random", "learn"):
            raise UsageError("oov must be 'zero', 'random' or 'learn', got %r" % (oov,))
        self.store = store if isinstance(store, Store) else Store(store)
        if isinstance(vocab, (str, bytes, os.PathLike)):
            vocab = Vocab(vocab)
        if isinstance(vocab, Vocab):
            rows = vocab.rows(self.store)
            if padding_idx is None:
                padding_idx = 0
        else:
            rows = self.store.rows(list(vocab))
        self.num_embeddings = len(rows)
        self.embedding_dim = self.store.vector_size
        if padding_idx is not None:
            if padding_idx < 0:
                padding_idx += self.num_embeddings
            if not 0 <= padding_idx < self.num_embeddings:
                raise UsageError("padding_idx %d out of range for %d ids" % (padding_idx, self.num_embeddings))
            rows[padding_idx] = -1
        self.padding_idx = padding_idx
        self.mode, self.oov, self.seed = mode, oov, int(seed)
        self.register_buffer("rows", torch.from_numpy(rows), persistent=False)
        missing = rows < 0
        if padding_idx is not None:
            missing[padding_idx] = False
        self.oov_scale = self._oov_scale(rows) if oov != "zero" else 0.0
        self.oov_weight = None
        if oov == "learn" and mode == "frozen":
            oov_ids = np.flatnonzero(missing)
            slot = np.full(self.num_embeddings, -1, dtype=np.int64)
            slot[oov_ids] = np.arange(oov_ids.size)
            self.register_buffer("oov_slot", torch.from_numpy(slot), persistent=False)
            self.oov_weight = nn.Parameter(torch.from_numpy(
                _random_rows(self.seed, oov_ids, self.embedding_dim, self.oov_scale)))
        self.weight = None
        if mode == "finetune":
            # torch.empty: the kernel gives a page only when a row is first written (the overlay)
            self.weight = nn.Parameter(torch.empty(self.num_embeddings, self.embedding_dim))
            self.register_buffer("loaded", torch.zeros(self.num_embeddings, dtype=torch.bool), persistent=False)

    def extra_repr(self):
        s = "%d, %d, mode=%r, oov=%r" % (self.num_embeddings, self.embedding_dim, self.mode, self.oov)
        if self.padding_idx is not None:
            s += ", padding_idx=%d" % self.padding_idx
        return s + ", store=%r" % (self.store.path,)

    def _oov_scale(self, rows):
        """sqrt(3 var) of the store's values over up to 4096 resolved rows spread over the vocabulary."""
        found = rows[rows >= 0]
        if found.size == 0:
            return 0.05
        sample = found[:: max(1, found.size // 4096)]
        values = self.store.gather(sample).astype(np.float64)
        var = float(values.var())
        return float(np.sqrt(3.0 * var)) if var > 0 else 0.05

    def _check(self, ids):
        if ids.dtype not in (torch.int64, torch.int32):
            raise TypeError("ids must be an integer tensor (int64 or int32), got %s" % (ids.dtype,))
        if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= self.num_embeddings):
            raise IndexError("id out of range: ids must be in [0, %d)" % self.num_embeddings)
        return ids.to(torch.int64)

    def _initial(self, ids):
        """float32 (len(ids), dim): the rows of distinct ids as the store gives them (OOV rows by
        `oov`, padding zero), before any training."""
        rows = self.rows[ids].numpy()
        have = rows >= 0
        out = self.store.gather(np.where(have, rows, 0))
        if not have.all():
            out[~have] = 0
            if self.oov != "zero":
                oov = ~have & (ids.numpy() != (-1 if self.padding_idx is None else self.padding_idx))
                if oov.any():
                    out[oov] = _random_rows(self.seed, ids.numpy()[oov], self.embedding_dim, self.oov_scale)
        return torch.from_numpy(out)

    @staticmethod
    def _unique(ids, inverse):
        """The distinct ids (sorted) and, with inverse, where each id of ids is among them.  numpy's
        unique: ~10x faster than torch.unique on CPU for a minibatch (0.2 vs 2.2 ms for 32 x 100)."""
        if inverse:
            u, inv = np.unique(ids.numpy(), return_inverse=True)
            return torch.from_numpy(u), torch.from_numpy(inv.reshape(ids.shape))
        return torch.from_numpy(np.unique(ids.numpy())), None

    def forward(self, ids):
        ids = self._check(ids)
        if self.mode == "finetune":
            with torch.no_grad():
                uniq, _ = self._unique(ids, False)
                new = uniq[~self.loaded[uniq]]
                if new.numel():
                    self.weight[new] = self._initial(new)
                    self.loaded[new] = True
            return F.embedding(ids, self.weight, self.padding_idx, sparse=True)
        uniq, inv = self._unique(ids, True)
        table = self._initial(uniq)
        if self.oov_weight is not None:
            slot = self.oov_slot[uniq]
            pos = torch.nonzero(slot >= 0).reshape(-1)
            if pos.numel():
                learned = F.embedding(slot[pos], self.oov_weight, sparse=True)
                table = table.index_put((pos,), learned)
        return F.embedding(inv, table)

    def embedding_rows(self, ids):
        """The current rows of `ids` (a LongTensor or list), float32 (len, dim), without gradient: what
        forward gives for them now (a finetune overlay row once it exists, else the store's row)."""
        ids = self._check(torch.as_tensor(ids, dtype=torch.int64).reshape(-1))
        with torch.no_grad():
            out = self._initial(ids)
            if self.weight is not None:
                have = self.loaded[ids]
                out[have] = self.weight[ids[have]]
            if self.oov_weight is not None:
                slot = self.oov_slot[ids]
                pos = slot >= 0
                out[pos] = self.oov_weight[slot[pos]]
        return out

    @property
    def overlay_rows(self):
        """Rows copied into the finetune overlay so far (0 when frozen)."""
        return int(self.loaded.sum()) if self.weight is not None else 0

    # ---- state_dict: the overlay only --------------------------------------------------------------

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        if self.oov_weight is not None:
            destination[prefix + "oov_weight"] = self.oov_weight if keep_vars else self.oov_weight.detach()
        if self.weight is not None:
            ids = torch.nonzero(self.loaded).reshape(-1)
            destination[prefix + "overlay_ids"] = ids
            destination[prefix + "overlay"] = self.weight.detach()[ids]

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        keys = []
        if self.oov_weight is not None:
            keys.append("oov_weight")
        if self.weight is not None:
            keys += ["overlay_ids", "overlay"]
        for k in keys:
            if prefix + k not in state_dict:
                missing_keys.append(prefix + k)
        for k in state_dict:
            if k.startswith(prefix) and k[len(prefix):] not in keys and "." not in k[len(prefix):]:
                unexpected_keys.append(k)
        with torch.no_grad():
            if self.oov_weight is not None and prefix + "oov_weight" in state_dict:
                w = state_dict[prefix + "oov_weight"]
                if w.shape != self.oov_weight.shape:
                    error_msgs.append("%soov_weight: shape %s, expected %s" % (prefix, tuple(w.shape),
                                                                                tuple(self.oov_weight.shape)))
                else:
                    self.oov_weight.copy_(w)
            if self.weight is not None and prefix + "overlay_ids" in state_dict and prefix + "overlay" in state_dict:
                ids, rows = state_dict[prefix + "overlay_ids"].to(torch.int64), state_dict[prefix + "overlay"]
                if rows.shape != (ids.numel(), self.embedding_dim) or (
                        ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= self.num_embeddings)):
                    error_msgs.append("%soverlay: %d ids and rows of shape %s do not fit %d x %d" % (
                        prefix, ids.numel(), tuple(rows.shape), self.num_embeddings, self.embedding_dim))
                else:
                    self.weight[ids] = rows.to(self.weight.dtype)
                    self.loaded[ids] = True


class SparseAdam(torch.optim.SparseAdam):
    """torch.optim.SparseAdam whose moment estimates cost memory only for the rows that got gradients.

    torch.optim.SparseAdam allocates exp_avg and exp_avg_sq with zeros_like on its first step: for a
    fine-tuned vocabulary of V words that is 2 x V x dim floats written at once, whatever few rows
    the batches touch.  This subclass allocates them with empty_like (the kernel gives a page only
    when it is first written, like StoreEmbedding's overlay) and zeroes a row the first time it
    appears in a gradient, then lets torch's own step run, so the parameters it produces are bit for
    bit those of torch.optim.SparseAdam.  A state loaded with load_state_dict is complete and used
    as it is.  Same arguments as torch.optim.SparseAdam.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, maximize=maximize)
        self._zeroed = {}  # parameter -> bool mask of the rows whose moments have been zeroed

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None or not p.grad.is_sparse:
                    continue  # torch's step raises on a dense gradient
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = 0
                    state["exp_avg"] = torch.empty_like(p, memory_format=torch.preserve_format)
                    state["exp_avg_sq"] = torch.empty_like(p, memory_format=torch.preserve_format)
                    self._zeroed[p] = torch.zeros(p.shape[0], dtype=torch.bool)  # sparse gradients are by rows
                mask = self._zeroed.get(p)
                if mask is None:
                    continue
                p.grad = p.grad.coalesce()
                rows = p.grad._indices()[0]
                new = rows[~mask[rows]]
                if new.numel():
                    state["exp_avg"][new] = 0
                    state["exp_avg_sq"][new] = 0
                    mask[new] = True
        return super().step(closure)

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        self._zeroed = {}  # a loaded state is whole
