"""TF1's functional layers (``tf.layers``): each call builds ops and, through ``get_variable``,
the layer's variables, in a variable scope named after the layer.

``dense(x, 10)`` makes ``dense/kernel`` and ``dense/bias`` (the next unnamed one ``dense_1/...``);
``dense(x, 10, name="out", reuse=True)`` shares ``out/kernel``. Kernels start Glorot-uniform,
biases at zero, as in TF1.

>>> import flowgraph as fg
>>> from flowgraph import layers
>>> with fg.Graph().as_default():
...     images = fg.placeholder(fg.float32, [None, 28, 28, 1])
...     h = layers.conv2d(images, 8, 5, padding="same", activation=fg.nn.relu)
...     h = layers.max_pooling2d(h, 2, 2)
...     logits = layers.dense(layers.flatten(h), 10)
...     print(h.shape, logits.shape, [v.name for v in fg.trainable_variables()])
[?,14,14,8] [?,10] ['conv2d/kernel:0', 'conv2d/bias:0', 'dense/kernel:0', 'dense/bias:0']
"""

from flowgraph.layers.convolutional import conv2d, conv2d_transpose
from flowgraph.layers.core import dense, dropout, flatten
from flowgraph.layers.normalization import batch_normalization
from flowgraph.layers.objects import (
    AveragePooling2D,
    BatchNormalization,
    Conv2D,
    Conv2DTranspose,
    Dense,
    Dropout,
    Flatten,
    Layer,
    MaxPooling2D,
)
from flowgraph.layers.pooling import average_pooling2d, max_pooling2d

__all__ = [
    "AveragePooling2D",
    "BatchNormalization",
    "Conv2D",
    "Conv2DTranspose",
    "Dense",
    "Dropout",
    "Flatten",
    "Layer",
    "MaxPooling2D",
    "average_pooling2d",
    "batch_normalization",
    "conv2d",
    "conv2d_transpose",
    "dense",
    "dropout",
    "flatten",
    "max_pooling2d",
]
