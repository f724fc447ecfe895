"""Write the op catalog's pages from :func:`flowgraph.docs.catalog.op_entries`: an index table
by family and one page per op type, with the source lines of its definition, kernel and
gradient rule included from the files themselves."""

from __future__ import annotations

import json
import os
from itertools import groupby
from pathlib import Path

from flowgraph.docs.catalog import OpEntry, Source, op_entries

CACHE = Path(".pytest_cache") / "v" / "flowgraph" / "op_coverage"


def coverage_record(repo: Path) -> dict:
    """What the last complete test run recorded (tests/conftest.py), or ``{}`` if none did."""
    path = repo / CACHE
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def write(folder: Path, repo: Path) -> list[Path]:
    """Write ops/index.rst and ops/<Type>.rst for every registered op type."""
    folder.mkdir(parents=True, exist_ok=True)
    record = coverage_record(repo)
    entries = op_entries()
    pages = [folder / "index.rst"]
    (folder / "index.rst").write_text(_index(entries, record))
    for entry in entries:
        path = folder / f"{entry.type}.rst"
        path.write_text(_page(entry, record, Path(os.path.relpath(repo, folder))))
        pages.append(path)
    return pages


def ran_on(entry: OpEntry, record: dict) -> list[str]:
    """The backends whose kernel of ``entry`` ran in the recorded test run."""
    return [b for b, seen in record.get("backends", {}).items() if entry.type in seen["ops"]]


def _coverage_statement(record: dict) -> list[str]:
    if not record.get("backends"):
        return [
            "No complete test run is recorded on the machine that built this site, so the",
            "catalog names no backend per op. The suite's own check still holds for every",
            "op with a kernel: a complete run of ``python -m pytest`` fails when a registered",
            "op type's kernel did not run on each backend of ``--backends`` (default ``numpy``",
            "and ``array_api_strict``; ``benchmarks/gpu_check.sh`` adds ``cupy``).",
        ]
    lines = [
        "*Kernel ran on* and *dtypes built* come from the last complete, passing test run",
        "recorded on the machine that built this site (``tests/conftest.py`` keeps it in",
        "pytest's cache):",
        "",
    ]
    for name, seen in record["backends"].items():
        lines.append(
            f"- ``{name}``: {len(seen['ops'])} op types, run of {seen['recorded']}"
            f" at commit ``{seen['commit'] or 'unknown'}``"
        )
    return lines


def _index(entries: list[OpEntry], record: dict) -> str:
    lines = [
        "Op catalog",
        "==========",
        "",
        f"All {len(entries)} op types of the registry (``flowgraph/ops/registry.py``), generated",
        "at build time: each page says what the registry, the gradient table and the source",
        "files say about that op. Adding an op adds its page.",
        f"{sum(e.differentiable for e in entries)} are differentiable and"
        f" {sum(e.stateful for e in entries)} stateful; every page shows the source lines of",
        "the op's definition, kernel and gradient rule.",
        "",
        *_coverage_statement(record),
        "",
    ]
    by_family = sorted(entries, key=lambda e: (e.family, e.type))
    for family, group in groupby(by_family, key=lambda e: e.family):
        group = list(group)
        where = group[0].defined_at.path if group[0].defined_at else "?"
        title = f"{family} (``{where}``)"
        lines += [title, "-" * len(title), "", ".. list-table::", "   :header-rows: 1"]
        lines += ["   :width: 100%", "   :widths: 30 45 10 15", ""]
        lines += ["   * - op type", "     - functions", "     - gradient", "     - kernel ran on"]
        for e in group:
            functions = ", ".join(f"``{f}``" for f in e.functions[:3]) or "(internal)"
            lines += [
                f"   * - :doc:`{e.type}`",
                f"     - {functions}",
                f"     - {'yes' if e.differentiable else 'no'}",
                f"     - {_ran_cell(e, record)}",
            ]
        lines.append("")
    return "\n".join(lines)


def _ran_cell(entry: OpEntry, record: dict) -> str:
    if entry.kernel.startswith("none"):
        return "no kernel"
    if not record.get("backends"):
        return "not recorded"
    return ", ".join(ran_on(entry, record)) or "**none**"


def _page(e: OpEntry, record: dict, repo: Path) -> str:
    rows = [
        ("Python functions", _refs(e.functions) or "none public (made by the library)"),
        ("TF1 names", _code_list(e.tf1_names) or "none"),
        ("Made by the gradient of", ", ".join(f":doc:`{t}`" for t in e.made_by_gradients_of)),
        ("Attributes", _attrs(e.attrs)),
        ("Dtypes built in tests", _dtypes(e, record)),
        ("Shape rule", f"``{e.shape_rule_name}``"),
        ("Differentiable", _gradient(e)),
        (
            "Stateful",
            "yes: never folded or merged; a gradient never re-runs it" if e.stateful else "no",
        ),
        ("Kernel", f"``{e.kernel}``"),
        ("Defined in", _where(e.defined_at)),
        ("Kernel ran on", _ran_cell(e, record)),
    ]
    # Orphans, reached from the index's tables: 135 pages in the navigation tree would be
    # copied into every page of the site (and cost most of the build's time).
    lines = [":orphan:", "", e.type, "=" * len(e.type), "", ".. list-table::"]
    lines += ["   :stub-columns: 1", ""]
    for label, value in rows:
        if value:
            lines += [f"   * - {label}", f"     - {value}"]
    # Rubrics, not sections: 135 pages of sections would bloat every page's navigation tree.
    lines += ["", ".. rubric:: Shape rule", ""]
    if e.shape_rule:
        lines += e.shape_rule.splitlines()
    elif e.shape_rule_source and e.shape_rule_source != e.defined_at:
        lines += ["The rule has no docstring; here is its code.", ""]
        lines += _include("shape rule", e.shape_rule_source, repo)
    else:
        lines += ["The rule has no docstring; it is in the definition below."]
    lines += ["", ".. rubric:: Source", ""]
    for what, source in (
        ("definition", e.defined_at),
        ("kernel", e.kernel_source),
        ("gradient rule", e.gradient_source),
    ):
        if source:
            lines += _include(what, source, repo)
    return "\n".join(lines) + "\n"


def _refs(names: list[str]) -> str:
    return ", ".join(f":py:obj:`{n}`" for n in names)


def _where(source: Source | None) -> str:
    if source is None:
        return "not found"
    return f"``{source.path}``, line {source.start} (:doc:`all ops <index>`)"


def _code_list(names: list[str]) -> str:
    return ", ".join(f"``{n}``" for n in names)


def _attrs(attrs: dict) -> str:
    if not attrs:
        return "none"
    return "; ".join(
        f"``{k}`` (default ``{v}``)" if v != "required" else f"``{k}`` (required)"
        for k, v in attrs.items()
    )


def _dtypes(e: OpEntry, record: dict) -> str:
    seen = record.get("dtypes", {}).get(e.type)
    if not seen:
        return "not recorded" if not record.get("dtypes") else "none built by the tests"
    ins = [s[3:] for s in seen if s.startswith("in:")]
    outs = [s[4:] for s in seen if s.startswith("out:")]
    return f"inputs: {', '.join(ins) or 'none'}; outputs: {', '.join(outs) or 'none'}"


def _gradient(e: OpEntry) -> str:
    if not e.differentiable:
        return "no"
    return f"yes: {e.gradient}" if e.gradient else "yes (the rule has no docstring)"


def _include(what: str, source: Source, repo: Path) -> list[str]:
    lines = f"{source.start}-{source.end}"
    return [
        f".. literalinclude:: {(repo / source.path).as_posix()}",
        "   :language: python",
        f"   :lines: {lines}",
        f"   :lineno-start: {source.start}",
        f"   :caption: {what}: {source.path}, lines {source.start}–{source.end}",
        "",
    ]
