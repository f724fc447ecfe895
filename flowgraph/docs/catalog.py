"""The op catalog: one entry per registered op type, read from the op registry.

Everything an entry says comes from the code: the :class:`~flowgraph.ops.registry.OpDef`
(attributes, flags, shape rule), the gradient registry, the source files (where the op is
defined, which public functions name it) and, when a full test run recorded it, which backends
ran its kernel and which input dtypes the tests built it with.

>>> from flowgraph.docs.catalog import op_entries
>>> matmul = next(e for e in op_entries() if e.type == "MatMul")
>>> matmul.family, matmul.functions[:1], matmul.tf1_names[:1], matmul.differentiable
('linalg', ['flowgraph.matmul'], ['tf.matmul'], True)
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import types
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import flowgraph
from flowgraph.ops import registry

PACKAGE_ROOT = Path(flowgraph.__file__).resolve().parent
# Packages whose modules define ops; all are imported so that every op type is registered.
OP_PACKAGES = ("flowgraph.ops", "flowgraph.train")
# Where users find op functions, searched in this order for the functions that create an op.
FUNCTION_NAMESPACES = (
    "flowgraph",
    "flowgraph.nn",
    "flowgraph.layers",
    "flowgraph.train",
    "flowgraph.initializers",
)
TF1_NAMESPACES = ("", "nn", "math", "random", "train", "layers")
# Generated code inlines these or skips them; no kernel is bound (tests/conftest.py agrees).
NO_KERNEL = frozenset({"Const", "NoOp", "Placeholder"})


@dataclass
class Source:
    """A span of lines in a file under flowgraph/ (path relative to the repository)."""

    path: str
    start: int
    end: int


@dataclass
class OpEntry:
    """What the catalog says about one op type."""

    type: str
    family: str  # the module that defines it: "math" for flowgraph/ops/math.py
    defined_at: Source | None
    attrs: dict[str, str]  # name -> default (repr), "required" when it has none
    shape_rule: str  # the shape/dtype rule's docstring
    shape_rule_name: str
    shape_rule_source: Source | None
    stateful: bool
    differentiable: bool
    gradient: str | None  # first sentence or paragraph of the gradient rule's docstring
    gradient_source: Source | None
    kernel: str  # "xp.tanh", the kernel function's name, or "none (inlined)"
    kernel_source: Source | None
    functions: list[str] = field(default_factory=list)
    tf1_names: list[str] = field(default_factory=list)
    made_by_gradients_of: list[str] = field(default_factory=list)


def load_all_ops() -> None:
    """Import every module that defines ops, so the registry is complete."""
    for package in OP_PACKAGES:
        for info in pkgutil.iter_modules(importlib.import_module(package).__path__):
            importlib.import_module(f"{package}.{info.name}")


def op_entries() -> list[OpEntry]:
    """One :class:`OpEntry` per registered op type, sorted by type."""
    load_all_ops()
    sites = _definition_sites()
    functions = _functions_by_op()
    tf1 = _tf1_names()
    grads_by_op = _gradient_users()
    gradients = registry.registered_gradients()
    entries = []
    for op_type in registry.registered_op_types():
        op_def = registry.get_op_def(op_type)
        defined_at = sites.get(op_type)
        grad_fn = gradients.get(op_type)
        fns = functions.get(op_type, [])
        entries.append(
            OpEntry(
                type=op_type,
                family=_family(defined_at),
                defined_at=defined_at,
                attrs={
                    k: "required" if v is registry.REQUIRED else repr(v)
                    for k, v in op_def.attrs.items()
                },
                shape_rule=inspect.getdoc(op_def.infer) or "",
                shape_rule_name=_qualname(op_def.infer),
                shape_rule_source=_source_of(op_def.infer),
                stateful=op_def.stateful,
                differentiable=op_def.differentiable and grad_fn is not None,
                gradient=_first_line(grad_fn) if grad_fn else None,
                gradient_source=_source_of(grad_fn) if grad_fn else None,
                kernel=_kernel_name(op_type, op_def),
                kernel_source=_source_of(op_def.kernel) if op_def.kernel else None,
                functions=[name for name, _ in fns],
                tf1_names=sorted({t for _, fn in fns for t in tf1.get(id(fn), [])}),
                made_by_gradients_of=grads_by_op.get(op_type, []),
            )
        )
    return entries


def _family(site: Source | None) -> str:
    return Path(site.path).stem if site else "other"


def _qualname(fn) -> str:
    name = getattr(fn, "__qualname__", type(fn).__name__)
    return f"{getattr(fn, '__module__', '?')}.{name}"


def resolve(dotted: str):
    """The module or namespace at ``dotted``, following attributes where no module of that
    name exists (``flowgraph.nn`` is ``flowgraph.ops.nn``, reached as an attribute)."""
    head, *rest = dotted.split(".")
    obj = importlib.import_module(head)
    for i, part in enumerate(rest):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            obj = importlib.import_module(".".join([head, *rest[: i + 1]]))
    return obj


def _first_line(fn) -> str:
    """The docstring's first paragraph, on one line (the summary of a gradient rule)."""
    doc = (inspect.getdoc(fn) or "").strip()
    return " ".join(doc.split("\n\n")[0].split())


def _kernel_name(op_type: str, op_def) -> str:
    if op_type in NO_KERNEL:
        return "none: generated code inlines or skips it"
    if op_def.xp_name:
        return f"xp.{op_def.xp_name}"
    name = getattr(op_def.kernel, "__qualname__", "?")
    return "a lambda" if name.endswith("<lambda>") else name


def _source_of(fn) -> Source | None:
    fn = inspect.unwrap(fn)
    try:
        path = Path(inspect.getsourcefile(fn)).resolve()
        lines, start = inspect.getsourcelines(fn)
    except (TypeError, OSError):
        return None
    if PACKAGE_ROOT not in path.parents:
        return None
    return Source(_relative(path), start, start + len(lines) - 1)


def _relative(path: Path) -> str:
    return path.relative_to(PACKAGE_ROOT.parent).as_posix()


# ---- where each op is defined: the call that names its type first --------------------------


def _definition_sites() -> dict[str, Source]:
    """op type -> the source span of the module-level statement that registers it.

    That is a call naming the type first (``define_op("Tanh", ...)``, a module's factory
    ``tanh = _unary("Tanh", ...)``), or a loop over literal types whose body defines ops
    (``for _type in ("If", "StatelessIf"): define_op(_type, ...)``)."""
    known = set(registry.registered_op_types())
    sites: dict[str, Source] = {}
    for path in _op_module_paths():
        for statement in ast.parse(path.read_text(), str(path)).body:
            span = Source(_relative(path), statement.lineno, statement.end_lineno)
            if isinstance(statement, ast.For):
                names = _literals(statement.iter)
            else:
                names = {
                    node.args[0].value
                    for node in ast.walk(statement)
                    if isinstance(node, ast.Call)
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                }
            for op_type in sorted(names & known):
                sites.setdefault(op_type, span)
    return sites


def _literals(node) -> set:
    return {n.value for n in ast.walk(node) if isinstance(n, ast.Constant)}


def _op_module_paths() -> list[Path]:
    paths = []
    for package in OP_PACKAGES:
        paths += sorted(Path(importlib.import_module(package).__path__[0]).glob("*.py"))
    return paths


# ---- which public functions create each op ------------------------------------------------


def _named_strings(fn) -> set[str]:
    """String constants in ``fn``'s code (nested code included) and its closure."""
    fn = inspect.unwrap(fn)
    code = getattr(fn, "__code__", None)
    if code is None:
        return set()
    found, stack = set(), [code]
    while stack:
        c = stack.pop()
        for const in c.co_consts:
            if isinstance(const, str):
                found.add(const)
            elif isinstance(const, types.CodeType):
                stack.append(const)
    for cell in fn.__closure__ or ():
        try:
            if isinstance(cell.cell_contents, str):
                found.add(cell.cell_contents)
        except ValueError:  # an empty cell
            pass
    return found


@cache
def _public_functions() -> list[tuple[str, object, object]]:
    """(qualified name, function, the public object it belongs to) for every public function
    and every method of a public class."""
    seen, out = set(), []
    for module_name in FUNCTION_NAMESPACES:
        module = resolve(module_name)
        for name in sorted(dir(module)):
            obj = getattr(module, name)
            if name.startswith("_") or id(obj) in seen:
                continue
            if inspect.isfunction(obj):
                out.append((f"{module_name}.{name}", obj, obj))
            elif inspect.isclass(obj) and obj.__module__.startswith("flowgraph."):
                # A class creates ops in its methods (Variable's VariableV2, Assign).
                methods = [m for m in vars(obj).values() if inspect.isfunction(m)]
                out += [(f"{module_name}.{name}", m, obj) for m in methods]
            seen.add(id(obj))
    return out


def _functions_by_op() -> dict[str, list[tuple[str, object]]]:
    known = set(registry.registered_op_types())
    by_op: dict[str, list] = {}
    for qualified, fn, owner in _public_functions():
        for op_type in sorted(_named_strings(fn) & known):
            if qualified not in (q for q, _ in by_op.get(op_type, [])):
                by_op.setdefault(op_type, []).append((qualified, owner))
    return by_op


def _tf1_names() -> dict[int, list[str]]:
    tf = importlib.import_module("flowgraph.compat.v1")
    names: dict[int, list[str]] = {}
    for sub in TF1_NAMESPACES:
        module = getattr(tf, sub) if sub else tf
        prefix = f"tf.{sub}." if sub else "tf."
        for name in dir(module):
            if not name.startswith("_") and callable(getattr(module, name)):
                names.setdefault(id(getattr(module, name)), []).append(prefix + name)
    return names


def _gradient_users() -> dict[str, list[str]]:
    """op type -> op types whose gradient rule names it (``MaxPoolGrad`` <- ``MaxPool``)."""
    known = set(registry.registered_op_types())
    users: dict[str, list[str]] = {}
    for op_type, fn in sorted(registry.registered_gradients().items()):
        for named in sorted(_named_strings(fn) & known - {op_type}):
            users.setdefault(named, []).append(op_type)
    return users
