"""``torch.save`` / ``torch.load`` in flowgraph's safe format: no pickle, ever.

A saved object is an ``.npz`` archive (NumPy's zip of ``.npy`` files) holding each array once,
plus ``__structure__``: JSON describing the object around them — dicts (``state_dict``'s
``OrderedDict`` included; keys str or int), lists, tuples, tensors (dtype, ``requires_grad``,
Parameter or not), NumPy arrays and plain numbers, strings, booleans and None. ``load`` reads
it back with ``allow_pickle=False``, so loading a file can never run code: this is PyTorch's
``weights_only=True``, and the only mode (``weights_only=False`` is refused). Anything else
(a Module, an optimizer, an arbitrary class) is refused when saving, with the path to it; save
``model.state_dict()`` instead. The file is written atomically (a temporary file, fsync,
``os.replace``), like the Saver's checkpoints: a crash never leaves half a file.

>>> import os, tempfile
>>> import flowgraph.dynamic as torch
>>> path = os.path.join(tempfile.mkdtemp(), "model.pt")
>>> torch.save({"w": torch.ones(2), "step": 3, "names": ["a", "b"]}, path)
>>> torch.load(path)
{'w': tensor([1., 1.]), 'step': 3, 'names': ['a', 'b']}
"""

from __future__ import annotations

import io
import json
import os
from collections import OrderedDict

import numpy as np

from flowgraph.dynamic import devices
from flowgraph.dynamic.tensor import EagerTensor, Parameter
from flowgraph.io.files import atomic_write_bytes

__all__ = ["load", "save"]

_STRUCTURE = "__structure__"
_FORMAT = "flowgraph.dynamic.save/1"


def save(obj, f) -> None:
    """Write ``obj`` (tensors, arrays, numbers, strings and dicts/lists/tuples of them) to
    the path or binary file ``f``."""
    arrays: dict[str, np.ndarray] = {}
    structure = {"format": _FORMAT, "object": _encode(obj, arrays, "obj")}
    buffer = io.BytesIO()
    text = json.dumps(structure).encode()
    np.savez(buffer, **arrays, **{_STRUCTURE: np.frombuffer(text, dtype=np.uint8)})
    data = buffer.getvalue()
    if hasattr(f, "write"):
        f.write(data)
    else:
        atomic_write_bytes(os.fspath(f), data)


def load(f, map_location=None, weights_only: bool = True, **kwargs):
    """Read what :func:`save` wrote (``map_location`` may name the CPU; anything is loaded
    there)."""
    if weights_only is False:
        raise ValueError(
            "flowgraph.dynamic.load only reads its safe format (no pickle): weights_only=False "
            "is not supported"
        )
    if map_location is not None:
        from flowgraph.dynamic import devices

        devices.check(map_location if not callable(map_location) else "cpu")
    source = f if hasattr(f, "read") else os.fspath(f)
    try:
        with np.load(source, allow_pickle=False) as archive:
            if _STRUCTURE not in archive.files:
                raise ValueError("it has no __structure__ entry")
            structure = json.loads(archive[_STRUCTURE].tobytes().decode())
            if structure.get("format") != _FORMAT:
                raise ValueError(f"unknown format {structure.get('format')!r}")
            arrays = {name: archive[name] for name in archive.files if name != _STRUCTURE}
    except (OSError, ValueError, KeyError, json.JSONDecodeError) as e:
        where = source if isinstance(source, str) else "the file object"
        raise RuntimeError(
            f"flowgraph.dynamic.load: {where} is not a file written by flowgraph.dynamic.save "
            f"(an .npz archive with a JSON structure; PyTorch's pickle files are not read): {e}"
        ) from None
    return _decode(structure["object"], arrays)


def _encode(obj, arrays: dict, path: str):
    if obj is None or isinstance(obj, (bool, str)):
        return {"kind": "value", "value": obj}
    if isinstance(obj, (int, float)) and not isinstance(obj, bool):
        if isinstance(obj, float) and not np.isfinite(obj):
            return {"kind": "float", "value": repr(obj)}
        return {"kind": "value", "value": obj}
    if isinstance(obj, (np.integer, np.floating, np.bool_)):
        return _encode(obj.item(), arrays, path)
    if isinstance(obj, EagerTensor):
        name = f"a{len(arrays)}"
        # (on the host: a GPU tensor is saved as its copy, as PyTorch's map to CPU on load;
        # ascontiguousarray would make a 0-d array 1-d)
        arrays[name] = np.array(devices.to_host(obj._value), order="C")
        kind = "parameter" if isinstance(obj, Parameter) else "tensor"
        return {"kind": kind, "array": name, "requires_grad": bool(obj.requires_grad)}
    if type(obj) is not np.ndarray and devices.device_of(obj).type != "cpu":
        obj = devices.to_host(obj)  # a GPU array (an optimizer's state): saved from the host
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind not in "biuf":
            raise TypeError(f"save: {path} is an array of dtype {obj.dtype}, not a number type")
        name = f"a{len(arrays)}"
        arrays[name] = np.array(obj, order="C")
        return {"kind": "ndarray", "array": name}
    if isinstance(obj, dict):
        items = []
        for key, value in obj.items():
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                raise TypeError(f"save: {path} has a key {key!r}; keys must be str or int")
            items.append([key, _encode(value, arrays, f"{path}[{key!r}]")])
        kind = "ordered_dict" if isinstance(obj, OrderedDict) else "dict"
        return {"kind": kind, "items": items}
    if isinstance(obj, (list, tuple)):
        values = [_encode(v, arrays, f"{path}[{i}]") for i, v in enumerate(obj)]
        return {"kind": "list" if isinstance(obj, list) else "tuple", "items": values}
    hint = " (save module.state_dict() instead)" if hasattr(obj, "state_dict") else ""
    raise TypeError(
        f"save: {path} is a {type(obj).__name__}, which flowgraph's safe format cannot hold"
        f"{hint}; it holds tensors, arrays, numbers, strings, None and dicts/lists/tuples"
    )


def _decode(node: dict, arrays: dict):
    kind = node["kind"]
    if kind == "value":
        return node["value"]
    if kind == "float":
        return float(node["value"])
    if kind in ("tensor", "parameter"):
        from flowgraph.dynamic.torch_functions import from_numpy

        value = np.array(arrays[node["array"]])  # writable, owned
        if kind == "parameter":
            return Parameter(value, requires_grad=node["requires_grad"])
        t = from_numpy(value)
        return t.requires_grad_(True) if node["requires_grad"] else t
    if kind == "ndarray":
        return np.array(arrays[node["array"]])
    if kind in ("dict", "ordered_dict"):
        cls = OrderedDict if kind == "ordered_dict" else dict
        return cls((key, _decode(value, arrays)) for key, value in node["items"])
    if kind in ("list", "tuple"):
        values = [_decode(v, arrays) for v in node["items"]]
        return values if kind == "list" else tuple(values)
    raise ValueError(f"unknown entry kind {kind!r}")
