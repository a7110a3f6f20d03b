from ._wordbench import _Store as Store
