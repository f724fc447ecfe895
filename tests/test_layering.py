"""How the modules of flowgraph/ may use each other, as rules scanned from the source.

1. The layer order: every import points down (or stays in its layer).

The order is written once, here and in the README's Architecture section. Each import of each
module under flowgraph/ -- at module level and inside functions alike, found with ``ast`` -- is
an edge between two layers (a layer is a top-level package or module of flowgraph). An edge to
a layer of a higher rank, or across to another layer of the same rank, fails the test and is
named ``importing module:line -> imported module``. Since every edge between two layers points
strictly down, no two layers can import each other, directly or round a cycle.

2. Private names stay private: no module takes another module's ``_name`` (``from m import
_name`` or ``m._name``); a helper two modules share gets a public name in one of them.

3. Op kinds are not strings: outside ops/, code that treats an op specially asks its OpDef
(``get_op_def(op.type).is_variable``) instead of comparing ``op.type`` with op type names.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "flowgraph"

# Bottom to top. Layers in one tuple are side by side and import nothing of each other.
LAYERS = (
    ("errors",),
    ("graph", "backends"),  # the IR; the array namespaces (kernels get ``xp`` handed to them)
    ("ops",),
    ("autodiff", "compiler"),
    ("runtime",),
    # Libraries on top of the runtime:
    ("io", "datasets", "summary", "layers", "losses", "metrics", "viz", "config", "testing"),
    ("train", "dynamic", "distributed"),
    ("flowgraph",),  # the package's own __init__: the façade that gathers the public API
    ("compat", "onnx", "docs"),  # written against the façade (``import flowgraph as fg``)
    ("cli",),
    ("__main__",),  # python -m flowgraph
)
RANK = {layer: rank for rank, layers in enumerate(LAYERS) for layer in layers}

# (importing module, imported module) allowed to point up, each with its reason. A few lines.
EXEMPT: dict[tuple[str, str], str] = {
    ("flowgraph.dynamic.compare", "flowgraph"): "benchmark code builds the TF1 seed program "
    "with the public API; it leaves the package (issue 16 part 4, another branch)",
}


@functools.cache
def _parsed(path: Path, mtime: float) -> ast.Module:
    return ast.parse(path.read_text(), str(path))


def parsed(path: Path) -> ast.Module:
    """The syntax tree of ``path``, parsed once per version of the file for all the scans."""
    return _parsed(path, path.stat().st_mtime)


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _is_module(name: str, root: Path) -> bool:
    path = root.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imported_from(node: ast.ImportFrom, package: str) -> str:
    """The absolute module name of ``from <module> import ...`` written in ``package``."""
    if not node.level:
        return node.module or ""
    base = package.split(".")[: len(package.split(".")) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(path: Path, root: Path):
    """(line, imported module) for every import of ``path`` that names a module of the
    package, wherever it stands (module level, function, class, ``if TYPE_CHECKING``)."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    top = name.split(".")[0]
    for node in ast.walk(parsed(path)):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            source = imported_from(node, package)
            # ``from flowgraph.ops import math`` imports the module flowgraph.ops.math.
            targets = [
                f"{source}.{a.name}" if _is_module(f"{source}.{a.name}", root) else source
                for a in node.names
            ]
        else:
            continue
        for target in targets:
            if target == top or target.startswith(top + "."):
                yield node.lineno, target


def violations(root: Path, package: str = "flowgraph") -> list[str]:
    """Every import between layers that does not point strictly down, as
    ``module:line -> imported (layer rank -> layer rank)``."""
    out = []
    for path in sorted((root / package).rglob("*.py")):
        source = module_name(path, root)
        for line, target in imports_of(path, root):
            a, b = layer_of(source), layer_of(target)
            if a == b or (source, target) in EXEMPT:
                continue
            if a not in RANK or b not in RANK:
                unplaced = a if a not in RANK else b
                out.append(f"{source}:{line} -> {target}: layer {unplaced!r} has no place")
            elif RANK[b] >= RANK[a]:
                way = "across" if RANK[b] == RANK[a] else "up"
                out.append(f"{source}:{line} -> {target} ({way}: {a} -> {b})")
    return out


def test_every_import_in_flowgraph_points_down_the_layers():
    found = violations(ROOT)
    assert not found, "imports against the layer order:\n" + "\n".join(found)


def test_every_package_and_module_of_flowgraph_has_a_layer():
    tops = {p.stem for p in PACKAGE.glob("*.py")} | {
        p.parent.name for p in PACKAGE.glob("*/__init__.py")
    }
    tops = {"flowgraph" if t == "__init__" else t for t in tops}
    assert sorted(tops - set(RANK)) == []
    assert sorted(set(RANK) - tops) == []  # no stale names in LAYERS


def test_exemptions_stay_few_say_why_and_are_still_needed():
    assert len(EXEMPT) <= 3 and all(reason.strip() for reason in EXEMPT.values())
    edges = {
        (module_name(path, ROOT), target)
        for path in PACKAGE.rglob("*.py")
        for _, target in imports_of(path, ROOT)
    }
    assert [pair for pair in EXEMPT if pair not in edges] == [], "remove these from EXEMPT"


@pytest.mark.parametrize(
    ("where", "code", "edge"),
    [
        ("graph/a.py", "from flowgraph.ops import b\n", "flowgraph.graph.a:1 -> flowgraph.ops.b"),
        (  # hidden in a function, relative
            "ops/a.py",
            "def f():\n    from ..runtime import b\n",
            "flowgraph.ops.a:2 -> flowgraph.runtime.b (up: ops -> runtime)",
        ),
        (  # sideways between layers of one rank
            "autodiff/a.py",
            "import flowgraph.compiler.b\n",
            "flowgraph.autodiff.a:1 -> flowgraph.compiler.b (across: autodiff -> compiler)",
        ),
        ("ops/a.py", "import flowgraph\n", "flowgraph.ops.a:1 -> flowgraph (up"),
        (
            "ops/a.py",
            "from flowgraph.nowhere import x\n",
            "flowgraph.ops.a:1 -> flowgraph.nowhere: layer 'nowhere'",
        ),
    ],
)
def test_the_scan_names_an_upward_edge(tmp_path, where, code, edge):
    """The rule can fail: a toy package with one bad import is caught, and the edge named."""
    for package in ("", "graph", "ops", "runtime", "autodiff", "compiler", "nowhere"):
        folder = tmp_path / "flowgraph" / package
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "__init__.py").write_text("")
        (folder / "b.py").write_text("")
    (tmp_path / "flowgraph" / where).write_text(code)
    found = violations(tmp_path)
    assert len(found) == 1 and found[0].startswith(edge), found


def test_downward_and_same_layer_imports_pass(tmp_path):
    for package in ("", "graph", "ops"):
        (tmp_path / "flowgraph" / package).mkdir(parents=True, exist_ok=True)
        (tmp_path / "flowgraph" / package / "__init__.py").write_text("")
    (tmp_path / "flowgraph" / "graph" / "g.py").write_text("from . import other\n")
    (tmp_path / "flowgraph" / "graph" / "other.py").write_text("")
    (tmp_path / "flowgraph" / "ops" / "o.py").write_text(
        "from flowgraph.graph import g\ndef f():\n    from flowgraph.graph.other import x\n"
    )
    assert violations(tmp_path) == []


# ---- 2. private names ------------------------------------------------------------------------


def private_uses(path: Path, root: Path):
    """(line, module, name) for each use of another flowgraph module's private name."""
    me = module_name(path, root)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    tree = parsed(path)
    modules = {}  # local name -> flowgraph module it is bound to
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            source = imported_from(node, package)
            for a in node.names:
                if _is_module(f"{source}.{a.name}", root):
                    modules[a.asname or a.name] = f"{source}.{a.name}"
                elif _private(a.name) and source != me and source.startswith("flowgraph"):
                    yield node.lineno, source, a.name
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.asname and a.name.startswith("flowgraph"):
                    modules[a.asname] = a.name
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in modules
            and _private(node.attr)
        ):
            yield node.lineno, modules[node.value.id], node.attr


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def private_violations(root: Path) -> list[str]:
    out = []
    for path in sorted((root / "flowgraph").rglob("*.py")):
        me = module_name(path, root)
        for line, module, name in private_uses(path, root):
            if module != me:
                out.append(f"{me}:{line} uses {module}.{name}")
    return out


def test_no_module_uses_another_modules_private_names():
    found = private_violations(ROOT)
    assert not found, "give these a public name in their module:\n" + "\n".join(found)


@pytest.mark.parametrize(
    "code",
    [
        "from flowgraph.ops.b import _helper\n",
        "from .b import _helper\n",
        "from flowgraph.ops import b\nb._helper()\n",
        "import flowgraph.ops.b as bee\nbee._helper()\n",
    ],
)
def test_the_scan_names_a_private_use(tmp_path, code):
    (tmp_path / "flowgraph" / "ops").mkdir(parents=True)
    for name in ("__init__", "ops/__init__", "ops/b"):
        (tmp_path / "flowgraph" / f"{name}.py").write_text("def _helper(): pass\n")
    (tmp_path / "flowgraph" / "ops" / "a.py").write_text(code + "def _own(): _own()\n")
    assert private_violations(tmp_path) == [
        f"flowgraph.ops.a:{code.count(chr(10))} uses flowgraph.ops.b._helper"
    ]


# ---- 3. op kinds -----------------------------------------------------------------------------

# Where matching op types by name is the point (a few lines):
TYPE_NAMES_ALLOWED = {
    "flowgraph/onnx/": "translates each op type to ONNX's and back: the names are the contract",
    "flowgraph/compiler/passes/simplify.py": "algebraic rewrite rules match the ops they rewrite",
}


def _strings(node) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return [e.value for e in node.elts if isinstance(e, ast.Constant)]
    return []


def _names_a_type(node) -> bool:
    """``op.type``, or a local holding one (``op_type``, ``node_type``)."""
    if isinstance(node, ast.Attribute):
        return node.attr == "type"
    return isinstance(node, ast.Name) and node.id.endswith("_type")


def op_type_comparisons(root: Path, op_types) -> list[str]:
    """``file:line`` of each comparison of a ``.type`` (or an ``..._type`` local) with
    registered op type names, outside ops/ and the places above."""
    out = []
    for path in sorted((root / "flowgraph").rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel.startswith("flowgraph/ops/") or any(rel.startswith(a) for a in TYPE_NAMES_ALLOWED):
            continue
        for node in ast.walk(parsed(path)):
            if not isinstance(node, ast.Compare):
                continue
            sides = [node.left, *node.comparators]
            named = [n for side in sides for n in _strings(side) if n in op_types]
            if named and any(_names_a_type(s) for s in sides):
                out.append(f"{rel}:{node.lineno} compares a type with {named}")
    return out


def test_no_op_type_is_compared_as_a_string_outside_ops():
    from flowgraph.ops.registry import registered_op_types

    found = op_type_comparisons(ROOT, set(registered_op_types()))
    assert not found, "ask the OpDef (a flag) instead:\n" + "\n".join(found)


@pytest.mark.parametrize(
    ("code", "found"),
    [
        ('if op.type == "VariableV2": pass\n', ["['VariableV2']"]),
        ('ok = node.type not in ("Const", "Feed")\n', ["['Const']"]),
        ('if device.type == "cuda": pass\n', []),  # not an op type
        ('if kind == "Const": pass\n', []),  # not an op's type
        ('if op_type == "Const": pass\n', ["['Const']"]),  # a local holding an op's type
    ],
)
def test_the_scan_finds_an_op_type_compared_as_a_string(tmp_path, code, found):
    (tmp_path / "flowgraph" / "viz").mkdir(parents=True)
    (tmp_path / "flowgraph" / "viz" / "a.py").write_text(code)
    got = op_type_comparisons(tmp_path, {"VariableV2", "Const"})
    assert [g.split("with ")[1] for g in got] == found
