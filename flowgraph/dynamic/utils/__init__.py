"""``flowgraph.dynamic.utils``: PyTorch's ``torch.utils`` — ``data`` (datasets and loaders).

>>> import flowgraph.dynamic.utils.data as data
>>> len(data.TensorDataset([1, 2, 3]))
3
"""

from flowgraph.dynamic.utils import data

__all__ = ["data"]
