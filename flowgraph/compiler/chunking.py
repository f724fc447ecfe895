"""Splitting the generated code of a very large plan into several functions.

CPython parses one huge source in more than linear time (a 250,000-line ``run`` took 6.2 s
against 0.27 s for 25,000 lines), so a plan above :data:`CHUNK_THRESHOLD` statements becomes a
chain of ``_part<k>`` functions of at most :data:`CHUNK_SIZE` statements each, compiled one by
one (:func:`compile_into`), which takes linear time. A value made in one part and used in a
later one travels in the dict ``_L`` (``_L[3]``) and is deleted from it at its last use, like
any other value; names used within one part stay plain locals. Plans below the threshold
(every plan a student will print) keep their single readable ``run``.

It adds no text of its own from the graph: the statements it splits are codegen's, whose names
and comments already went through ``compiler/encode.py``; it adds only ``_part<k>``/``_L``
(reserved there) and indices.

>>> lines, _ = chunked_source(["ctx", "x"], [], [("a = f(x)", 1), ("b = g(a)", 2),
...                           ("del a", None)], "b", chunk_size=2)
>>> print("\\n".join(lines))
def _part0(ctx, _L):
    a = f(_L[0])
    _L[1] = a
    b = g(a)
    _L[2] = b
def _part1(ctx, _L):
    del _L[1]
    return (_L[2],)
def run(ctx, x):
    _L = {0: x}
    _part0(ctx, _L)
    return _part1(ctx, _L)
"""

from __future__ import annotations

import re

CHUNK_THRESHOLD = 6000  # statements; below this, one function
CHUNK_SIZE = 2000

_IDENTIFIER = re.compile(r"(?<![.\w])[A-Za-z_]\w*")
_TARGETS = re.compile(r"^([A-Za-z_][\w, ]*) = ")


def _split(statement: str) -> tuple[str, str]:
    code, sep, comment = statement.partition("  # ")
    return code, sep + comment


def _names(code: str) -> tuple[set, set]:
    """(names read, names written) by one generated statement's code."""
    match = _TARGETS.match(code)
    if match is None:
        return set(_IDENTIFIER.findall(code)), set()
    written = {t.strip() for t in match.group(1).split(",") if t.strip()}
    return set(_IDENTIFIER.findall(code[match.end() :])), written


def chunked_source(params, prelude, body, returned, chunk_size=None):
    """Source lines of ``run`` split into parts, and ``{line: payload}`` for body statements.

    ``params``: run's parameters (the first is the context, passed to every part);
    ``prelude``: lines each part starts with (names local to each part); ``body``:
    (statement, payload) pairs; ``returned``: the inside of the tuple ``run`` returns.
    """
    chunk_size = chunk_size or CHUNK_SIZE
    chunks = [body[i : i + chunk_size] for i in range(0, len(body), chunk_size)]
    parsed, written_in = [], []
    defined = set(params[1:])
    for chunk in chunks:
        rows, writes = [], set()
        for statement, payload in chunk:
            code, comment = _split(statement)
            read, written = _names(code)
            writes |= written
            rows.append((code, comment, read, written, payload))
        parsed.append(rows)
        written_in.append(writes)
        defined |= writes
    # A value read in a part that does not make it travels in _L.
    shared: dict = {}
    for k, rows in enumerate(parsed):
        for _, _, read, _, _ in rows:
            for name in sorted((read & defined) - written_in[k]):
                shared.setdefault(name, len(shared))
    last = len(chunks) - 1
    for name in _IDENTIFIER.findall(returned or ""):
        if name in defined and name not in written_in[last]:
            shared.setdefault(name, len(shared))

    def rewrite(code: str, k: int) -> str:
        def name(m):
            n = m.group(0)
            return f"_L[{shared[n]}]" if n in shared and n not in written_in[k] else n

        return _IDENTIFIER.sub(name, code)

    lines, line_payload = [], {}
    for k, rows in enumerate(parsed):
        lines.append(f"def _part{k}({params[0]}, _L):")
        lines += [f"    {line}" for line in prelude]
        for code, comment, _, written, payload in rows:
            lines.append(f"    {rewrite(code, k)}{comment}")
            if payload is not None:
                line_payload[len(lines)] = payload
            lines += [f"    _L[{shared[n]}] = {n}" for n in sorted(written) if n in shared]
        if k == last:
            lines.append(f"    return ({rewrite(returned, k)},)" if returned else "    return ()")
    initial = ", ".join(f"{shared[n]}: {n}" for n in params[1:] if n in shared)
    lines.append(f"def run({', '.join(params)}):")
    lines.append(f"    _L = {{{initial}}}")
    lines += [f"    _part{k}({params[0]}, _L)" for k in range(last)]
    lines.append(f"    return _part{last}({params[0]}, _L)")
    return lines, line_payload


def compile_into(lines: list[str], filename: str, namespace: dict) -> None:
    """Execute the top-level functions of ``lines`` into ``namespace``, compiling each function
    on its own and then moving its line numbers to where it stands in ``lines``, so tracebacks
    still point into the plan's source (a code object's line table is relative to its first
    line, so moving it is one field per code object)."""
    starts = [i for i, line in enumerate(lines) if line.startswith("def ")] + [len(lines)]
    for begin, end in zip(starts, starts[1:]):
        code = compile("\n".join(lines[begin:end]), filename, "exec")
        exec(_moved(code, begin), namespace)


def _moved(code, offset: int):
    consts = tuple(_moved(c, offset) if hasattr(c, "co_firstlineno") else c for c in code.co_consts)
    return code.replace(co_firstlineno=code.co_firstlineno + offset, co_consts=consts)
