"""The API reference: which names are public, where each is documented, and its pages.

A name is documented in full once, at its *home*: the first namespace of :data:`NAMESPACES`
that holds it, under the object's own name when several names there hold it. Everywhere else it
is an alias and its entry points to the home (``tf.matmul`` -> ``flowgraph.matmul``), so no
docstring is shown twice.

>>> from flowgraph.docs.api import reference
>>> ref = reference()
>>> ref.home_of("flowgraph.compat.v1", "matmul")
'flowgraph.matmul'
>>> "Session" in ref.public_names("flowgraph")
True
"""

from __future__ import annotations
import __future__

import inspect
from dataclasses import dataclass
from functools import cached_property

from flowgraph.docs.catalog import resolve

# (namespace, what it is): the order decides homes; sub-namespaces get pages of their own.
NAMESPACES = (
    ("flowgraph", "the static-graph API: graphs, ops, Session, gradients"),
    ("flowgraph.nn", "neural-network ops (TF1's tf.nn)"),
    ("flowgraph.layers", "TF1-style layers built from ops and variables"),
    ("flowgraph.initializers", "variable initializers"),
    ("flowgraph.errors", "error classes, as TF1 names them"),
    ("flowgraph.train", "optimizers, learning-rate schedules, Saver"),
    ("flowgraph.viz", "drawing graphs and plans; networkx export; text views"),
    ("flowgraph.summary", "TensorBoard summaries: summary ops and FileWriter (TF1's tf.summary)"),
    ("flowgraph.distributed", "running graphs on a Dask cluster"),
    ("flowgraph.dynamic", "define-by-run tensors and a tape, PyTorch style"),
    ("flowgraph.dynamic.nn", "modules and losses, as torch.nn"),
    ("flowgraph.dynamic.nn.functional", "functions, as torch.nn.functional"),
    ("flowgraph.dynamic.nn.init", "parameter initialization, as torch.nn.init"),
    ("flowgraph.dynamic.nn.utils", "gradient clipping, as torch.nn.utils"),
    ("flowgraph.dynamic.optim", "optimizers, as torch.optim"),
    (
        "flowgraph.dynamic.optim.lr_scheduler",
        "learning-rate schedules, as torch.optim.lr_scheduler",
    ),
    ("flowgraph.dynamic.utils.data", "datasets and loaders, as torch.utils.data"),
    ("flowgraph.dynamic.utils.tensorboard", "SummaryWriter, as torch.utils.tensorboard"),
    ("flowgraph.compat.v1", "TensorFlow 1 spellings: import flowgraph.compat.v1 as tf"),
    ("flowgraph.compat.v1.nn", "tf.nn"),
    ("flowgraph.compat.v1.math", "tf.math"),
    ("flowgraph.compat.v1.random", "tf.random"),
    ("flowgraph.compat.v1.train", "tf.train"),
    ("flowgraph.compat.v1.layers", "tf.layers"),
)
# Names that star imports carry into a namespace without being part of its API.
NOT_PUBLIC = frozenset({"REQUIRED"})


def public_names(namespace: str) -> list[str]:
    """The public names of a namespace: its ``__all__``, or else every name without a leading
    underscore except modules that are not namespaces of their own and ``__future__``
    features."""
    module = resolve(namespace)
    names = getattr(module, "__all__", None)
    if names is not None:
        return sorted(names)
    pages = {n for n, _ in NAMESPACES}
    out = []
    for name in dir(module):
        obj = getattr(module, name)
        if name.startswith("_") or name in NOT_PUBLIC or isinstance(obj, __future__._Feature):
            continue
        if inspect.ismodule(obj) and not {f"{namespace}.{name}", obj.__name__} & pages:
            continue
        out.append(name)
    return sorted(out)


def kind_of(obj) -> str:
    """The autodoc directive that documents ``obj``: function, class, exception, module, data."""
    if inspect.ismodule(obj):
        return "module"
    if inspect.isclass(obj):
        return "exception" if issubclass(obj, BaseException) else "class"
    if callable(obj) and not _is_flowgraph_instance(obj):
        return "function"
    return "data"


def _is_flowgraph_instance(obj) -> bool:
    return type(obj).__module__.startswith("flowgraph") and not inspect.isroutine(obj)


def _aliasable(obj) -> bool:
    """Whether two names holding ``obj`` are the same API object (not None, 0, "x")."""
    return not isinstance(obj, str | int | float | bool | type(None))


@dataclass
class Entry:
    """One public name of one namespace."""

    namespace: str
    name: str
    obj: object
    home: str  # qualified name of where it is documented in full

    @property
    def qualified(self) -> str:
        return f"{self.namespace}.{self.name}"

    @property
    def is_alias(self) -> bool:
        return self.home != self.qualified

    @property
    def kind(self) -> str:
        return kind_of(self.obj)


class Reference:
    """Every public name of :data:`NAMESPACES`, with its home."""

    @cached_property
    def entries(self) -> dict[str, list[Entry]]:
        homes: dict[int, str] = {}
        out: dict[str, list[Entry]] = {}
        pages = {n for n, _ in NAMESPACES}
        for namespace, _ in NAMESPACES:
            names = public_names(namespace)
            module = resolve(namespace)
            # The object's own name first, so fg.floormod is the home and fg.mod its alias.
            names.sort(key=lambda n: getattr(getattr(module, n), "__name__", None) != n)
            entries = []
            for name in names:
                obj = getattr(module, name)
                qualified = f"{namespace}.{name}"
                if inspect.ismodule(obj):  # tf.summary is flowgraph.summary: an alias
                    home = obj.__name__ if obj.__name__ in pages else qualified
                else:
                    # None, numbers and strings are the same API object only under one name
                    # (tf.newaxis is fg.newaxis; fg.float64 is not fg.float32's alias).
                    key = id(obj) if _aliasable(obj) else (name, repr(obj))
                    home = homes.setdefault(key, qualified)
                entries.append(Entry(namespace, name, obj, home))
            out[namespace] = sorted(entries, key=lambda e: e.name.lower())
        return out

    def public_names(self, namespace: str) -> list[str]:
        return [e.name for e in self.entries[namespace]]

    def home_of(self, namespace: str, name: str) -> str:
        return next(e.home for e in self.entries[namespace] if e.name == name)

    def missing_docstrings(self) -> list[str]:
        """Qualified names of home entries with no docstring of their own."""
        return [
            e.qualified
            for entries in self.entries.values()
            for e in entries
            if not e.is_alias and not docstring(e)
        ]


def reference() -> Reference:
    """The API reference of the current code."""
    return Reference()


def docstring(entry: Entry) -> str:
    """The text documenting ``entry``: its own docstring (a class's or module's own, not one
    inherited), or, for data, the ``#:`` comment above its assignment or its flowgraph type's
    docstring (``float32`` is a :class:`~flowgraph.DType`)."""
    obj = entry.obj
    if inspect.isclass(obj) or inspect.ismodule(obj):
        return (vars(obj).get("__doc__") or "").strip()
    if entry.kind != "data":
        return (getattr(obj, "__doc__", None) or "").strip()
    comment = attribute_comment(entry.namespace, entry.name)
    if comment:
        return comment
    if _is_flowgraph_instance(obj):
        return (type(obj).__doc__ or "").strip()
    return ""


def attribute_comment(namespace: str, name: str) -> str:
    """The attribute docstring (``#:`` comment before, or string after, the assignment) of
    ``name`` in the namespace's module or in the module it imports ``name`` from."""
    from sphinx.pycode import ModuleAnalyzer, PycodeError

    module_name = resolve(namespace).__name__
    for candidate in [module_name, *_imported_from(module_name, name)]:
        try:
            docs = ModuleAnalyzer.for_module(candidate).find_attr_docs()
        except PycodeError:
            continue
        if ("", name) in docs:
            return "\n".join(docs[("", name)]).strip()
    return ""


def _imported_from(module_name: str, name: str) -> list[str]:
    """Modules that ``module_name`` imports ``name`` from (``from x import name`` or ``*``)."""
    import ast
    import importlib.util

    spec = importlib.util.find_spec(module_name)
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return []
    with open(spec.origin, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    return [
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        and node.module
        and any(a.name in (name, "*") for a in node.names)
    ]
