"""Define-by-run (PyTorch-style) tensors on flowgraph's op library.

An eager tensor computes each op as soon as it is called, with the op's own kernel and
build-time shape rule, and records the op on a tape; ``backward()`` replays the ops' own gradient
rules over the tape through the static autodiff driver. One definition per op serves both modes,
so they give the same numbers. (During ``backward()`` the rules' ops run deferred, so gradients
nobody needs — a data batch's — are never computed; see ``flowgraph/dynamic/deferred.py``.)

>>> import flowgraph.dynamic as fd
>>> fd.manual_seed(0)
>>> w = fd.Parameter(fd.randn(3, 2))
>>> x = fd.tensor([[1.0, 2.0, 3.0]])
>>> loss = fd.relu(x @ w).sum()
>>> loss.backward()
>>> w.grad.shape, loss.grad_fn.type
(torch.Size([3, 2]), 'Sum')

API
---
Tensors
    ``Tensor`` (= ``EagerTensor``, a subclass of the graph ``flowgraph.Tensor``), ``Parameter``
    (requires grad by default; what ``nn.Module`` registers), ``Size`` (a tuple with
    TensorShape's methods). A tensor has ``value`` (the backend array; writable in place under
    ``no_grad``), ``requires_grad``, ``grad``, ``grad_fn`` (tape node or None), ``is_leaf``,
    ``op`` (the tape node, or a record of the unrecorded op: library code reads ``op.type``),
    ``shape``/``size()``/``dim()``/``numel()``/``dtype``, ``item()``, ``numpy()``, ``tolist()``,
    ``detach()``, ``data``, ``requires_grad_()``, ``retain_grad()``,
    ``backward(gradient=None, retain_graph=None, create_graph=False)``; PyTorch-named methods
    (``sum``, ``mean``, ``max``, ``argmax``, ``view``, ``reshape``, ``t``, ``T``, ``transpose``,
    ``unsqueeze``, ``squeeze``, ``flatten``, ``float``, ``long``, ``to``, ...), in-place value
    updates (``zero_``, ``fill_``, ``add_``, ``sub_``, ``mul_``, ``copy_``, ...) and operators
    with PyTorch semantics (``==`` elementwise; tensors hash by identity).
Functions
    ``tensor``, ``as_tensor``, ``from_numpy``, ``zeros``, ``ones``, ``full``, ``zeros_like``,
    ``ones_like``, ``arange``, ``eye``, ``randn``, ``rand``, ``randint``, ``randperm``,
    ``manual_seed``; ``relu``, ``sigmoid``, ``tanh``, ``exp``, ``log``, ``sqrt``, ``abs``,
    ``pow``, ``matmul``/``mm``, ``maximum``, ``minimum``, ``clamp``, ``where``, ``softmax``,
    ``log_softmax``, ``sum``, ``mean``, ``max``, ``min``, ``argmax``, ``argmin``, ``reshape``,
    ``transpose``, ``permute``, ``unsqueeze``, ``squeeze``, ``flatten``, ``cat``, ``stack``.
Autograd
    ``no_grad()``, ``enable_grad()``, ``set_grad_enabled(mode)`` (context managers and
    decorators), ``is_grad_enabled()``, ``grad(outputs, inputs, ...)`` (``torch.autograd.grad``).
Running any flowgraph op eagerly
    ``with eager(): y = flowgraph.nn.conv2d(x, w, ...)`` runs library op functions on eager
    tensors inside the block; ``executing(fn, *args, **kwargs)`` calls ``fn`` that way. (The
    tensor methods and the functions above already do.)
Tape to graph
    ``tape_to_graph(root) -> (Graph, {eager tensor: graph tensor})`` rebuilds the recorded ops
    as a static graph, e.g. for ``flowgraph.viz.draw``.
Threads and floating point
    ``set_num_threads(n)`` / ``get_num_threads()`` (BLAS threads; one by default, see
    ``flowgraph/runtime/threads.py``), ``set_flush_denormal(mode)`` (flush-to-zero for the
    calling thread; ``backward()`` and ``optimizer.step()`` already compute with it on).
dtypes
    ``float32``/``float``, ``float64``/``double``, ``float16``/``half``, ``int64``/``long``,
    ``int32``/``int``, ``int16``, ``int8``, ``uint8``, ``bool``.

Not supported: variables, placeholders and graph control flow ops (use Parameters, tensors and
Python's ``if``/``while``); mixing dynamic and graph tensors in one op (a TypeError naming both).
"""

from flowgraph.dynamic import methods as _methods  # noqa: F401 - installs tensor methods
from flowgraph.dynamic import tensor_methods as _more_methods  # noqa: F401 - and the rest
from flowgraph.dynamic.autograd import grad
from flowgraph.dynamic.creation import *  # noqa: F403
from flowgraph.dynamic.creation import placed as _placed
from flowgraph.dynamic.devices import (  # noqa: F401
    accelerator,
    backends,
    cuda,
    device,
    get_default_device,
    set_default_device,
)
from flowgraph.dynamic.mathfns import *  # noqa: F403
from flowgraph.dynamic.serialization import load, save  # noqa: F401
from flowgraph.dynamic.tape import Node, eager, is_grad_enabled
from flowgraph.dynamic.tape import call as executing
from flowgraph.dynamic.tensor import EagerTensor, Parameter, Size
from flowgraph.dynamic.to_graph import tape_to_graph
from flowgraph.dynamic.torch_functions import *  # noqa: F403
from flowgraph.dynamic.torch_functions import clone, neg  # noqa: F401
from flowgraph.graph import dtypes as _dtypes
from flowgraph.runtime.fpenv import set_flush_denormal
from flowgraph.runtime.threads import get_num_threads, set_num_threads

Tensor = EagerTensor

# Every creation function takes PyTorch's device= (checked: "cpu", or an explanation for "cuda").
for _name in (
    "tensor", "as_tensor", "zeros", "ones", "full", "zeros_like", "ones_like", "full_like",
    "arange", "eye", "randn", "rand", "randint", "randperm", "linspace", "logspace", "empty",
    "empty_like", "normal", "rand_like", "randn_like", "randint_like",
):  # fmt: skip
    globals()[_name] = _placed(globals()[_name])
del _name

# ---- the PyTorch-style layers on top: torch.nn, torch.optim, nn.functional, a DataLoader ------
from flowgraph.dynamic import autograd, compare, data, nn, optim, utils  # noqa: E402
from flowgraph.dynamic.tracing import (  # noqa: E402
    ConcreteFunction,
    RetracingWarning,
    TensorSpec,
    function,
)

# ---- dtypes, with PyTorch's names ---------------------------------------------------------------
float16 = half = _dtypes.float16
float32 = _dtypes.float32
float64 = double = _dtypes.float64
int8 = _dtypes.int8
int16 = _dtypes.int16
int32 = _dtypes.int32
int64 = long = _dtypes.int64
uint8 = _dtypes.uint8
bool = _dtypes.bool_  # noqa: A001 - torch.bool
float = _dtypes.float32  # noqa: A001 - torch.float
int = _dtypes.int32  # noqa: A001 - torch.int
dtype = _dtypes.DType
Size = Size
