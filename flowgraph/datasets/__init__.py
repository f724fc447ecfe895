"""Data sets: the MNIST IDX reader with a bundled real-MNIST sample, and synthetic sets.

>>> from flowgraph.datasets import mnist
>>> data = mnist.read_data_sets(one_hot=True)
>>> data.train.num_examples, data.validation.num_examples, data.test.num_examples
(3500, 500, 1000)
"""

from flowgraph.datasets import idx, mnist, synthetic
from flowgraph.datasets.dataset import DataSet, Datasets, dense_to_one_hot
from flowgraph.datasets.idx import IDXError, read_idx
from flowgraph.datasets.mnist import load_arrays, read_data_sets
from flowgraph.datasets.synthetic import blobs, spirals

__all__ = [
    "DataSet",
    "Datasets",
    "IDXError",
    "blobs",
    "dense_to_one_hot",
    "idx",
    "load_arrays",
    "mnist",
    "read_data_sets",
    "read_idx",
    "spirals",
    "synthetic",
]
