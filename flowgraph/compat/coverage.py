"""Which ``tf.*`` names a TF1 program uses, and which of them ``flowgraph.compat.v1`` lacks.

Static analysis with :mod:`ast`; the program is never run. A name is an attribute chain rooted
at the alias the program imported TensorFlow as (``import tensorflow as tf``, ``import
tensorflow.compat.v1 as tf``, ``import flowgraph.compat.v1 as tf``, ``from tensorflow.compat
import v1 as tf``), a name imported from one of those modules (``from tensorflow import
losses``), or a chain through a variable bound to such a chain (``flags = tf.app.flags``).
``tf.compat.v1.`` inside a chain counts as ``tf.``.

A name is *present* when every part of it resolves on ``flowgraph.compat.v1`` through modules
and classes; once the walk reaches another object (``tf.app.flags.FLAGS``, ``tf.float32``) the
rest of the chain is that object's business (a flag the program defines, a dtype's method), so
the name is cut there.

Command line: ``python -m flowgraph.compat.coverage prog.py ...`` prints each program's names
with their use counts, marks the missing ones, and exits with status 1 when any is missing
(``--missing`` prints only those).

>>> names = scan_source("import tensorflow as tf\\nx = tf.placeholder(tf.float32)\\n"
...                     "tf.nn.not_there(x)\\n")
>>> sorted(names)
['tf.float32', 'tf.nn.not_there', 'tf.placeholder']
>>> missing_names(names)
['tf.nn.not_there']
"""

from __future__ import annotations

import argparse
import ast
import inspect
import sys
import types
from collections import Counter

__all__ = ["missing_names", "resolve", "scan_file", "scan_source"]

# Modules whose attributes are TF1's API when a program imports them.
_TF_MODULES = (
    "tensorflow.compat.v1",
    "tensorflow",
    "flowgraph.compat.v1",
)


def _tf_prefix(module: str) -> str | None:
    """``"tensorflow.compat.v1.train"`` -> ``"train"``; ``"tensorflow"`` -> ``""``; else None."""
    for root in _TF_MODULES:
        if module == root:
            return ""
        if module.startswith(root + "."):
            return _strip_compat(module[len(root) + 1 :])
    return None


def _strip_compat(path: str) -> str:
    for prefix in ("compat.v1.", "compat.v1"):
        if path.startswith(prefix):
            return path[len(prefix) :]
    return path


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _import_aliases(tree: ast.AST) -> dict[str, str]:
    """Local name -> the tf path it stands for (``""`` for the tf module itself)."""
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                path = _tf_prefix(a.name)
                if path is None:
                    continue
                if a.asname:
                    aliases[a.asname] = path
                elif a.name.split(".")[0] == "tensorflow":
                    aliases["tensorflow"] = ""  # `import tensorflow.x` binds `tensorflow`
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for a in node.names:
                full = f"{node.module}.{a.name}"
                path = _tf_prefix(full)
                if path is not None:
                    aliases[a.asname or a.name] = path
    return aliases


def _chain(node: ast.AST, aliases: dict[str, str]) -> str | None:
    """The tf path of ``a.b.c`` when ``a`` is an alias, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or node.id not in aliases:
        return None
    path = aliases[node.id]
    for part in reversed(parts):
        path = _join(path, part)
    return _strip_compat(path)


def _assigned_aliases(tree: ast.AST, aliases: dict[str, str]) -> dict[str, str]:
    """Add ``flags = tf.app.flags``-style bindings (a plain name bound to a tf chain)."""
    aliases = dict(aliases)
    changed = True
    while changed:  # `FLAGS = flags.FLAGS` after `flags = tf.app.flags`
        changed = False
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Assign) and len(node.targets) == 1):
                continue
            target = node.targets[0]
            if not isinstance(target, ast.Name) or target.id in aliases:
                continue
            path = _chain(node.value, aliases)
            if path:
                aliases[target.id] = path
                changed = True
    return aliases


class _Collector(ast.NodeVisitor):
    def __init__(self, aliases: dict[str, str]):
        self.aliases = aliases
        self.names: Counter = Counter()

    def visit_Attribute(self, node: ast.Attribute) -> None:
        path = _chain(node, self.aliases)
        if path is None:
            self.generic_visit(node)  # e.g. tf.train.AdamOptimizer(0.1).minimize: look inside
        elif path:
            self.names[path] += 1

    def visit_Name(self, node: ast.Name) -> None:
        path = self.aliases.get(node.id)
        if path and isinstance(node.ctx, ast.Load):
            self.names[path] += 1


def scan_source(source: str, filename: str = "<string>") -> Counter:
    """Count the tf names ``source`` uses: ``Counter({"tf.placeholder": 2, ...})``.

    >>> scan_source("from tensorflow.compat import v1 as tf\\nflags = tf.app.flags\\n"
    ...             "flags.DEFINE_integer('steps', 5, 'how many')\\nprint(flags.FLAGS.steps)\\n")
    Counter({'tf.app.flags': 1, 'tf.app.flags.DEFINE_integer': 1, 'tf.app.flags.FLAGS.steps': 1})
    """
    tree = ast.parse(source, filename)
    aliases = _assigned_aliases(tree, _import_aliases(tree))
    collector = _Collector(aliases)
    collector.visit(tree)
    return Counter({f"tf.{name}": n for name, n in collector.names.items()})


def scan_file(path: str) -> Counter:
    """:func:`scan_source` of the file at ``path``."""
    with open(path, encoding="utf-8") as f:
        return scan_source(f.read(), path)


def resolve(name: str, module: types.ModuleType | None = None) -> tuple[str, bool]:
    """``(name cut where resolution stops, present?)`` for ``"tf.a.b.c"`` on ``module``
    (default ``flowgraph.compat.v1``).

    >>> resolve("tf.app.flags.FLAGS.learning_rate")
    ('tf.app.flags.FLAGS', True)
    >>> resolve("tf.contrib.layers.xavier_initializer")
    ('tf.contrib.layers.xavier_initializer', False)
    """
    if module is None:
        import flowgraph.compat.v1 as module
    obj = module
    parts = name.split(".")[1:]
    for i, part in enumerate(parts):
        if not (isinstance(obj, types.ModuleType) or inspect.isclass(obj)):
            return "tf." + ".".join(parts[:i]), True
        if not hasattr(obj, part):
            return name, False
        obj = getattr(obj, part)
    return name, True


def missing_names(names, module: types.ModuleType | None = None) -> list[str]:
    """The sorted names among ``names`` that ``module`` (default compat.v1) lacks."""
    return sorted({cut for cut, ok in (resolve(n, module) for n in names) if not ok})


def _report(path: str, names: Counter, only_missing: bool, out) -> int:
    cut = Counter()
    present = {}
    for name, n in names.items():
        short, ok = resolve(name)
        cut[short] += n
        present[short] = ok
    missing = sorted(n for n, ok in present.items() if not ok)
    print(f"{path}: {len(cut)} tf names, {len(missing)} missing", file=out)
    for name in sorted(cut):
        if only_missing and present[name]:
            continue
        mark = "  MISSING" if not present[name] else ""
        print(f"  {name:<50} {cut[name]:>4}{mark}", file=out)
    return len(missing)


def main(argv=None, out=None) -> int:
    """The command line; returns the exit status (1 when a name is missing)."""
    out = out or sys.stdout
    parser = argparse.ArgumentParser(
        prog="python -m flowgraph.compat.coverage",
        description="List the tf.* names TF1 programs use and those flowgraph.compat.v1 lacks.",
    )
    parser.add_argument("programs", nargs="+", help="Python files to scan")
    parser.add_argument("--missing", action="store_true", help="print only the missing names")
    args = parser.parse_args(argv)
    total = Counter()
    missing = 0
    for path in args.programs:
        try:
            names = scan_file(path)
        except (OSError, SyntaxError, UnicodeDecodeError) as e:
            print(f"{path}: cannot scan: {e}", file=out)
            missing += 1
            continue
        missing += _report(path, names, args.missing, out)
        total.update(names)
    if len(args.programs) > 1:
        lacking = missing_names(total)
        print(
            f"all {len(args.programs)} programs: {len(total)} tf names, "
            f"{len(lacking)} missing{': ' + ', '.join(lacking) if lacking else ''}",
            file=out,
        )
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
