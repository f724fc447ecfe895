"""The one door through which text from a graph enters generated source.

Op names, scope names, creation sites, device labels and backend names come from the user's
program or from a graph file, which may be hostile. Generated plan source is executed, so a
newline in a site, written into a comment, would become a line of Python. Therefore no such
text is ever formatted into source directly: :mod:`flowgraph.compiler.codegen` (the only code
generator) passes every piece of it through one of these functions, and checks each finished
line with :func:`check_line` before compiling.

- :func:`identifier`: a name for a Python variable made from any text: ASCII letters, digits
  and ``_`` only (non-ASCII identifiers would be NFKC-normalised by Python, so two different
  op names could become one variable), capped in length;
- :func:`quoted`: a string literal (``repr``) of the text, capped with ``...``, for comments:
  ``repr`` escapes every character that is not printable, which includes every line break
  Python or ``str.splitlines`` know (``\\n \\r \\x0b \\x0c \\x1c-\\x1e \\x85 \\u2028 \\u2029``);
- :func:`plain`: the text itself where it is a short run of harmless characters (``model.py``,
  ``<module>``), else :func:`quoted` -- so the usual comment stays easy to read;
- :func:`site`: a creation site as ``model.py:12 in build``, each part through :func:`plain`.

>>> identifier("dense/MatMul"), identifier("1x"), identifier("权重"), identifier("for")
('dense_MatMul', '_1x', '__', '_for')
>>> quoted("f\\n    import os"), plain("model.py"), plain("a b\\u2028c")
("'f\\\\n    import os'", 'model.py', "'a b\\\\u2028c'")
>>> quoted("x" * 500)[-7:]
"xxx'..."

"""

from __future__ import annotations

import keyword
import os
import re

from flowgraph.errors import InternalError

MAX_IDENTIFIER = 64  # characters of an op name kept in a variable name (then ``_<k>`` if taken)
MAX_QUOTED = 200  # characters of a text kept in a comment

_NOT_ASCII_WORD = re.compile(r"[^0-9A-Za-z_]")
_PLAIN = re.compile(r"[0-9A-Za-z_.<>+@\[\] -]{1,80}")


def identifier(text: str) -> str:
    """An ASCII Python identifier derived from ``text`` (not yet unique: the caller's name
    table adds ``_<k>``); never a keyword, never starting with a digit or ``__``."""
    base = _NOT_ASCII_WORD.sub("_", str(text)[:MAX_IDENTIFIER])
    if not base or base[0].isdigit() or keyword.iskeyword(base):
        base = "_" + base
    if base.startswith("__") and base.endswith("__") and len(base) > 4:
        base = "v" + base  # never ``__builtins__`` and the like, looked up by the interpreter
    return base


def quoted(text) -> str:
    """``repr(str(text))``, at most :data:`MAX_QUOTED` characters of it, then ``...``."""
    text = str(text)
    if len(text) > MAX_QUOTED:
        return repr(text[:MAX_QUOTED]) + "..."
    return repr(text)


def plain(text) -> str:
    """``text`` itself if it is short and made of ``[0-9A-Za-z_.<>+@[] -]``, else ``quoted``."""
    text = str(text)
    return text if _PLAIN.fullmatch(text) else quoted(text)


def site(creation_site) -> str:
    """``model.py:12 in build`` for a CreationSite (``<unknown>`` for anything else); a
    gradient op's adds its forward op: ``(gradient of Log 'Log' created at model.py:4 in f)``.
    """
    try:
        filename, lineno, function = creation_site
        lineno = int(lineno)
    except (TypeError, ValueError):
        return "<unknown>"
    text = f"{plain(os.path.basename(str(filename)))}:{lineno} in {plain(function)}"
    forward = getattr(creation_site, "forward_op", None)  # a gradient op's GradientSite
    if forward is not None:
        of = f"{plain(forward.type)} {quoted(forward.name)}"
        text += f" (gradient of {of} created at {site(forward.site)})"
    return text


def check_line(line: str) -> str:
    """``line``, after checking it is one printable line: everything encoded above is, so
    anything else means text slipped past the encoder (a bug in flowgraph, refused here
    rather than executed)."""
    if not line.isprintable():
        raise InternalError(
            None, None, f"generated plan source has a non-printable character: {quoted(line)}"
        )
    return line
