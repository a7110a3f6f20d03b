from ._wordbench import _Model as Model
