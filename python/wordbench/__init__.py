"""wordbench: memory-mapped word-embedding stores and the CNN text classifiers trained on them.

    from wordbench import Store, Model
    kv = Store("glove300")          # O(1) open; kv.vectors is the mapped matrix
    kv["king"], kv.most_similar("king", topn=5)
    Model("spam.wbm").predict(["free money now"])

`wordbench.torch.StoreEmbedding` (imported on demand: it needs PyTorch) is an nn.Module that gathers
only the rows of each minibatch from a store.  docs/python.md is the manual.
"""

from ._wordbench import (CorruptError, Error, FileError, FormatError, NotFoundError, UsageError,
                         VersionError, Vocab, __version__)
from .model import Model
from .store import Store

__all__ = ["Store", "Model", "Vocab", "Error", "NotFoundError", "CorruptError", "VersionError",
           "UsageError", "FormatError", "FileError", "__version__"]
