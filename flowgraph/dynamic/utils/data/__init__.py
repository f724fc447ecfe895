"""``flowgraph.dynamic.utils.data``: PyTorch's ``torch.utils.data`` spelling of
:mod:`flowgraph.dynamic.data` (``from flowgraph.dynamic.utils.data import DataLoader``).

>>> from flowgraph.dynamic.utils.data import DataLoader, TensorDataset
>>> import flowgraph.dynamic as torch
>>> loader = DataLoader(TensorDataset(torch.arange(5)), batch_size=2)
>>> [batch[0].tolist() for batch in loader]
[[0, 1], [2, 3], [4]]
"""

from flowgraph.dynamic.data import (
    DataLoader,
    Dataset,
    Subset,
    TensorDataset,
    default_collate,
    random_split,
)

__all__ = ["DataLoader", "Dataset", "Subset", "TensorDataset", "default_collate", "random_split"]
