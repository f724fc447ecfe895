"""Which PyTorch names a program uses that ``flowgraph.dynamic`` lacks (static, nothing runs).

``python -m flowgraph.dynamic.coverage prog.py [more.py ...]`` reads each program's AST:

* module names: every attribute chain rooted at an alias of ``torch`` or ``flowgraph.dynamic``
  (``import torch``, ``import flowgraph.dynamic as torch``, ``import torch.nn as nn``,
  ``import flowgraph.dynamic.nn.functional as F``, ``from torch import optim``, ...) and every
  ``from torch.utils.data import X`` is looked up in ``flowgraph.dynamic`` (``torch.nn.X``
  is ``flowgraph.dynamic.nn.X``);
* tensor methods: every attribute *call* not rooted at a module alias (``x.view(...)``,
  ``loss.backward()``) whose name is not a method of ``flowgraph.dynamic.Tensor`` — unless the
  name is a method of the other objects programs call methods on (lists, dicts, strings,
  ``nn.Module``, optimizers, schedulers, data loaders) or defined by the program itself.

It prints one line per missing name (``file:line: name``) and exits with status 1 if any.

>>> report = scan_source("import flowgraph.dynamic as torch\\nx = torch.zeros(2).frobnicate()\\n"
...                      "y = torch.no_such_fn(x)\\n", "prog.py")
>>> [(m.line, m.name) for m in report]
[(2, 'Tensor.frobnicate'), (3, 'torch.no_such_fn')]
"""

from __future__ import annotations

import argparse
import ast
import importlib
import sys
from dataclasses import dataclass

ROOTS = ("torch", "flowgraph.dynamic")


@dataclass(frozen=True)
class Missing:
    """A name the program uses that flowgraph.dynamic lacks, and where."""

    path: str
    line: int
    name: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.name}"


def _target_module(dotted: str) -> str | None:
    """``torch.nn`` or ``flowgraph.dynamic.nn`` -> ``flowgraph.dynamic.nn`` (None if neither)."""
    for root in ROOTS:
        if dotted == root or dotted.startswith(root + "."):
            return "flowgraph.dynamic" + dotted[len(root) :]
    return None


def _torch_name(dotted: str) -> str:
    return "torch" + dotted[len("flowgraph.dynamic") :]


def _resolve(dotted: str):
    """The object at ``flowgraph.dynamic...`` dotted path, or None."""
    parts = dotted.split(".")
    obj = importlib.import_module("flowgraph.dynamic")
    for i, part in enumerate(parts[2:], start=2):
        if hasattr(obj, part):
            obj = getattr(obj, part)
            continue
        try:
            obj = importlib.import_module(".".join(parts[: i + 1]))
        except ImportError:
            return None
    return obj


def _other_method_names() -> set:
    """Method names of what programs call methods on besides tensors."""
    from flowgraph.dynamic import Generator, data, device, nn, optim
    from flowgraph.dynamic.function import FunctionCtx
    from flowgraph.dynamic.optim import lr_scheduler

    classes = [list, dict, str, set, tuple, bytes, int, float, type(open), range]
    classes += [nn.Module, optim.Optimizer, data.DataLoader, data.Dataset, Generator, device]
    classes.append(FunctionCtx)
    classes += [getattr(lr_scheduler, n) for n in lr_scheduler.__all__]
    names = set()
    for cls in classes:
        names.update(dir(cls))
    import io

    names.update(dir(io.TextIOWrapper))
    return names


class _Scanner(ast.NodeVisitor):
    def __init__(self, path: str) -> None:
        self.path = path
        self.aliases: dict[str, str] = {}  # local name -> the dotted module it names
        self.defined: set[str] = set()
        self.missing: list[Missing] = []
        self.calls: list[tuple[int, str]] = []
        self.foreign: set[str] = set()  # other libraries' names, and variables they made

    # ---- imports -------------------------------------------------------------------------
    def visit_Import(self, node: ast.Import) -> None:
        """Record the aliases of torch / flowgraph.dynamic and of other libraries."""
        for alias in node.names:
            target = _target_module(alias.name)
            if target is None:
                if alias.name.split(".")[0] == "flowgraph":
                    self.aliases[alias.asname or "flowgraph"] = alias.name.split(".")[0]
                else:  # another library: calls on it (and on what it returns) are not ours
                    self.foreign.add(alias.asname or alias.name.split(".")[0])
                continue
            if _resolve(target) is None:
                self._report(node, _torch_name(target))
            if alias.asname:
                self.aliases[alias.asname] = alias.name
            else:  # `import torch.nn` binds `torch`; `import flowgraph.dynamic` binds `flowgraph`
                head = alias.name.split(".")[0]
                self.aliases[head] = head

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        """Check each name imported from torch; record module aliases."""
        target = _target_module(node.module or "")
        if target is None:
            self.foreign.update(a.asname or a.name for a in node.names)
            return
        for alias in node.names:
            dotted = f"{target}.{alias.name}"
            if _resolve(dotted) is None:
                self._report(node, _torch_name(dotted))
            elif isinstance(_resolve(dotted), type(sys)):
                self.aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"

    # ---- definitions the program makes itself ---------------------------------------------
    def visit_FunctionDef(self, node) -> None:
        """The program's own functions are not missing names."""
        self.defined.add(node.name)
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        """The program's own classes are not missing names."""
        self.defined.add(node.name)
        self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        """Attributes the program sets, and variables other libraries made."""
        root = _root(node.value)
        for target in node.targets:
            for t in ast.walk(target):
                if isinstance(t, ast.Attribute):  # self.fc1 = ...: self.fc1(x) is the program's
                    self.defined.add(t.attr)
                elif isinstance(t, ast.Name) and root in self.foreign:
                    self.foreign.add(t.id)  # parser = argparse.ArgumentParser()
        self.generic_visit(node)

    # ---- uses ------------------------------------------------------------------------------
    def visit_Attribute(self, node: ast.Attribute) -> None:
        """Check a dotted name rooted at a torch alias."""
        chain = _chain(node)
        if chain and chain[0] in self.aliases:
            target = _target_module(".".join([self.aliases[chain[0]], *chain[1:]]))
            if target is not None and target != "flowgraph.dynamic" and _resolve(target) is None:
                self._report(node, _torch_name(target))
            return  # the inner attributes are prefixes of this one
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        """Collect method calls that are not module functions (tensor methods)."""
        func = node.func
        if isinstance(func, ast.Attribute):
            chain = _chain(func)
            chain = _chain(func)
            module_function = chain is not None and chain[0] in self.aliases
            if not module_function and _root(func) not in self.foreign:
                self.calls.append((node.lineno, func.attr))
        self.generic_visit(node)

    def _report(self, node, name: str) -> None:
        self.missing.append(Missing(self.path, node.lineno, name))


def _chain(node) -> list[str] | None:
    """``a.b.c`` -> ``["a", "b", "c"]``; None when the root is not a plain name."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return parts[::-1]


def _root(node) -> str | None:
    """The name an expression's chain of attributes, calls and subscripts starts from."""
    while isinstance(node, (ast.Attribute, ast.Call, ast.Subscript)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def scan_source(source: str, path: str = "<string>") -> list[Missing]:
    """The missing names of one program's source, in order of appearance."""
    from flowgraph.dynamic import Tensor

    scanner = _Scanner(path)
    scanner.visit(ast.parse(source, path))
    known = set(dir(Tensor)) | _other_method_names() | scanner.defined
    missing = list(scanner.missing)
    for line, name in scanner.calls:
        if name not in known and not name.startswith("__"):
            missing.append(Missing(path, line, f"Tensor.{name}"))
    return sorted(set(missing), key=lambda m: (m.line, m.name))


def scan_file(path: str) -> list[Missing]:
    """The missing names of the program in ``path``."""
    with open(path, encoding="utf-8") as f:
        return scan_source(f.read(), path)


def main(argv=None) -> int:
    """The command line: print the missing names; 1 if any."""
    parser = argparse.ArgumentParser(
        prog="python -m flowgraph.dynamic.coverage",
        description="List the torch.* / nn.* / F.* / optim.* / Tensor-method names that "
        "PyTorch programs use and flowgraph.dynamic lacks.",
    )
    parser.add_argument("programs", nargs="+", help="Python files to scan")
    args = parser.parse_args(argv)
    total = 0
    for path in args.programs:
        for missing in scan_file(path):
            print(missing)
            total += 1
    print(f"{total} missing name(s) in {len(args.programs)} program(s)")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
