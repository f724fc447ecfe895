"""Write the API reference pages (reStructuredText with autodoc directives) from
:mod:`flowgraph.docs.api`: one page per namespace, its own names documented in full and grouped
by the module that defines them, its aliases in a table pointing to their targets."""

from __future__ import annotations

import inspect
from itertools import groupby
from pathlib import Path

from flowgraph.docs.api import NAMESPACES, Entry, attribute_comment, docstring, reference


def page_name(namespace: str) -> str:
    """The page (without suffix) documenting ``namespace``, under api/."""
    return namespace


def write(folder: Path) -> list[Path]:
    """Write api/index.rst and one page per namespace; return the pages written."""
    folder.mkdir(parents=True, exist_ok=True)
    ref = reference()
    homes = {id(e.obj): e.home for entries in ref.entries.values() for e in entries}
    pages = []
    for namespace, about in NAMESPACES:
        path = folder / f"{page_name(namespace)}.rst"
        path.write_text(_namespace_page(namespace, about, ref.entries[namespace], homes))
        pages.append(path)
    index = [
        "API reference",
        "=============",
        "",
        "Generated at build time from the docstrings of every public name. A name is documented",
        "once, where it lives first; other names for the same object (``tf.matmul``, ``fg.mod``)",
        "are listed as aliases pointing there. ``tests/docs/test_docstrings.py`` fails when a",
        "public name has no docstring.",
        "",
        ".. list-table::",
        "   :header-rows: 1",
        "",
        "   * - namespace",
        "     - what it holds",
        "     - names (own / aliases)",
    ]
    for namespace, about in NAMESPACES:
        entries = ref.entries[namespace]
        own = sum(not e.is_alias for e in entries)
        index += [
            f"   * - :doc:`{namespace} <{page_name(namespace)}>`",
            f"     - {about}",
            f"     - {own} / {len(entries) - own}",
        ]
    index += ["", ".. toctree::", "   :hidden:", "   :titlesonly:", ""]
    index += [f"   {page_name(n)}" for n, _ in NAMESPACES]
    (folder / "index.rst").write_text("\n".join(index) + "\n")
    return [folder / "index.rst", *pages]


def _namespace_page(namespace: str, about: str, entries: list[Entry], homes: dict) -> str:
    """``homes``: id(object) -> the qualified name documenting it (to name a data's type)."""
    lines = [_title(namespace), "", f"{about[0].upper()}{about[1:]}.", ""]
    own = [e for e in entries if not e.is_alias and e.kind != "module"]
    subpages = [e for e in entries if e.kind == "module"]
    aliases = [e for e in entries if e.is_alias]
    if subpages:
        lines += ["Namespaces: " + ", ".join(f":doc:`{e.home}`" for e in subpages) + ".", ""]
    lines += [f".. py:module:: {namespace}", "   :no-index:", ""]
    by_module = sorted(own, key=_defined_in)
    for module, group in groupby(by_module, key=_defined_in):
        heading = f"From ``{module}``" if module != namespace else "Defined here"
        lines += [heading, "-" * len(heading), ""]
        for entry in group:
            lines += _entry(entry, homes)
    if aliases:
        lines += ["Aliases", "-------", ""]
        lines += ["Other names for objects documented elsewhere.", ""]
        lines += [".. list-table::", "   :header-rows: 1", "", "   * - name", "     - alias of"]
        for entry in aliases:
            target = f":doc:`{entry.home}`" if entry.kind == "module" else f":py:obj:`{entry.home}`"
            lines += [f"   * - ``{entry.qualified}``", f"     - {target}"]
        lines.append("")
    return "\n".join(lines) + "\n"


def _defined_in(entry: Entry) -> str:
    module = getattr(entry.obj, "__module__", None)
    if entry.kind == "data" or not isinstance(module, str):
        return entry.namespace
    return module


def _title(text: str) -> str:
    return f"{text}\n{'=' * len(text)}"


def _entry(entry: Entry, homes: dict) -> list[str]:
    kind = entry.kind
    if kind == "data":
        lines = [f".. py:data:: {entry.qualified}", f"   :value: {_value(entry.obj)}", ""]
        if attribute_comment(entry.namespace, entry.name):
            body = docstring(entry)
        else:  # documented by its type: name the type rather than repeat its docstring
            cls = type(entry.obj)
            name = homes.get(id(cls))
            body = f"A :py:class:`{name}`." if name else f"A ``{cls.__qualname__}``."
        lines += ["   " + line if line else "" for line in body.splitlines()]
        return [*lines, ""]
    options = ["   :members:"] if kind in ("class", "exception") else []
    if kind == "class" and _has_own_init_doc(entry.obj):
        options.append("   :special-members: __init__")
    if kind == "class" and _hidden_bases(entry.obj, homes):
        options.append("   :inherited-members:")  # e.g. Session's close() from SessionLifetime
    return [f".. auto{kind}:: {entry.qualified}", *options, ""]


def _hidden_bases(cls, homes: dict) -> list:
    """The mixins ``cls`` inherits that flowgraph defines but documents nowhere
    (SessionLifetime): their methods belong on ``cls``'s page."""
    return [
        base
        for base in cls.__bases__
        if base.__module__.startswith("flowgraph.")
        and id(base) not in homes
        and base.__bases__ == (object,)  # a mixin (SessionLifetime), not a hidden subclass
    ]


def _has_own_init_doc(cls) -> bool:
    init = vars(cls).get("__init__")
    return init is not None and bool(inspect.getdoc(init)) and init.__doc__ is not None


def _value(obj) -> str:
    text = repr(obj)
    return text if len(text) < 60 else type(obj).__name__
