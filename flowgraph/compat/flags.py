"""TF1's ``tf.app.flags`` (``tf.flags``): command-line flags defined at module level and read
as ``FLAGS.name``.

The syntax is absl's, which TF1 uses: ``--name=value`` or ``--name value``; booleans also as
``--name`` / ``--noname`` and ``--name=true|false|1|0``; ``--`` ends the flags. As in TF1,
reading ``FLAGS.x`` before anything parsed the command line parses ``sys.argv`` then,
tolerating flags it does not know; ``tf.app.run`` parses and hands the unknown arguments to
``main``. A bad value is a :class:`FlagError` naming the flag and the value.

>>> from flowgraph.compat.flags import FlagValues
>>> flags = FlagValues()
>>> flags.DEFINE_integer("steps", 100, "training steps")
>>> flags.DEFINE_boolean("fake_data", False, "use fake data")
>>> flags(["prog.py", "--steps=5", "--fake_data", "--other=1", "file.txt"])
['prog.py', '--other=1', 'file.txt']
>>> flags.steps, flags.fake_data
(5, True)
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

__all__ = [
    "DEFINE_bool",
    "DEFINE_boolean",
    "DEFINE_enum",
    "DEFINE_float",
    "DEFINE_integer",
    "DEFINE_list",
    "DEFINE_string",
    "FLAGS",
    "FlagError",
    "FlagValues",
]


class FlagError(ValueError):
    """A flag defined twice, or given a value it cannot take."""


_TRUE, _FALSE = {"true", "t", "1", "yes", "y"}, {"false", "f", "0", "no", "n"}


def _parse_bool(text: str) -> bool:
    low = text.lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise ValueError("expected true or false")


def _parse_list(text: str) -> list[str]:
    return [s.strip() for s in text.split(",") if s.strip()] if text else []


@dataclass
class _Flag:
    name: str
    default: Any
    help: str
    parse: Any  # str -> value
    kind: str
    where: str  # the file that defined it
    choices: tuple | None = None

    def convert(self, text):
        if not isinstance(text, str):
            return text
        try:
            value = self.parse(text)
        except ValueError as e:
            raise FlagError(
                f"flag --{self.name}={text}: {e} (a {self.kind} flag: {self.help})"
            ) from None
        if self.choices is not None and value not in self.choices:
            raise FlagError(f"flag --{self.name}={text}: must be one of {list(self.choices)}")
        return value


def _tf14_names(name, default, help, kw) -> tuple:
    """TF 1.4's keyword names (``flag_name``, ``default_value``, ``docstring``) as absl's."""
    name = kw.pop("flag_name", name)
    default = kw.pop("default_value", default)
    help = kw.pop("docstring", help)
    if name is None:
        raise TypeError("DEFINE_*: the flag needs a name")
    return name, default, help


class FlagValues:
    """A registry of flags and their values (``FLAGS`` is the global one)."""

    def __init__(self) -> None:
        object.__setattr__(self, "_flags", {})
        object.__setattr__(self, "_values", {})
        object.__setattr__(self, "_parsed", False)

    # ---- defining --------------------------------------------------------------------------
    def _define(self, name, default, help, parse, kind, choices=None) -> None:
        where = sys._getframe(2).f_code.co_filename
        old = self._flags.get(name)
        if old is not None and old.where != where:
            raise FlagError(
                f"The flag {name!r} is defined twice: in {old.where} and again in {where}"
            )
        # The same file defining it again is the same program run again (a notebook cell,
        # a test running a script twice): start over from the new default, as absl allows.
        flag = _Flag(name, None, help or "", parse, kind, where, choices)
        flag.default = None if default is None else flag.convert(default)
        self._flags[name] = flag
        self._values[name] = flag.default
        object.__setattr__(self, "_parsed", False)

    def DEFINE_string(self, name=None, default=None, help=None, **kw):
        """Define a string flag."""
        self._define(*_tf14_names(name, default, help, kw), str, "string")

    def DEFINE_integer(self, name=None, default=None, help=None, **kw):
        """Define an integer flag."""
        self._define(*_tf14_names(name, default, help, kw), int, "integer")

    def DEFINE_float(self, name=None, default=None, help=None, **kw):
        """Define a float flag."""
        self._define(*_tf14_names(name, default, help, kw), float, "float")

    def DEFINE_boolean(self, name=None, default=None, help=None, **kw):
        """Define a boolean flag (``--name``, ``--noname``, ``--name=false``)."""
        self._define(*_tf14_names(name, default, help, kw), _parse_bool, "boolean")

    DEFINE_bool = DEFINE_boolean

    def DEFINE_list(self, name=None, default=None, help=None, **kw):
        """Define a comma-separated list flag (``--layers=64,32``; values are strings)."""
        self._define(*_tf14_names(name, default, help, kw), _parse_list, "list")

    def DEFINE_enum(self, name=None, default=None, enum_values=(), help=None, **kw):
        """Define a string flag restricted to ``enum_values``."""
        args = _tf14_names(name, default, help, kw)
        self._define(*args, str, "enum", tuple(enum_values))

    # ---- parsing ---------------------------------------------------------------------------
    def __call__(self, argv, known_only=True) -> list[str]:
        """Parse ``argv`` (``argv[0]`` is the program); return the program and the arguments
        that are not flags this registry knows (all unknown ``--x`` too when ``known_only``)."""
        argv = list(argv)
        rest, i = argv[:1], 1
        while i < len(argv):
            arg = argv[i]
            if arg == "--":
                rest.extend(argv[i + 1 :])
                break
            consumed = self._parse_one(arg, argv[i + 1] if i + 1 < len(argv) else None)
            if consumed == 0:
                if not known_only and arg.startswith("-") and arg != "-":
                    raise FlagError(f"Unknown command line flag {arg!r}")
                rest.append(arg)
                consumed = 1
            i += consumed
        object.__setattr__(self, "_parsed", True)
        return rest

    def _parse_one(self, arg: str, following: str | None) -> int:
        """How many arguments ``arg`` (and its follower) used up as a known flag; 0 if none."""
        if not arg.startswith("-") or arg == "-":
            return 0
        name, eq, text = arg.lstrip("-").partition("=")
        flag = self._flags.get(name)
        if flag is None and name.startswith("no") and not eq:
            negated = self._flags.get(name[2:])
            if negated is not None and negated.kind == "boolean":
                self._values[negated.name] = False
                return 1
            return 0
        if flag is None:
            return 0
        if eq:
            self._values[name] = flag.convert(text)
            return 1
        if flag.kind == "boolean":
            self._values[name] = True
            return 1
        if following is None:
            raise FlagError(f"flag --{name} needs a value ({flag.kind}: {flag.help})")
        self._values[name] = flag.convert(following)
        return 2

    def is_parsed(self) -> bool:
        """Whether a command line was parsed (else the next read parses ``sys.argv``)."""
        return self._parsed

    def mark_as_parsed(self) -> None:
        """Treat the command line as parsed: reads keep the current values."""
        object.__setattr__(self, "_parsed", True)

    # ---- reading and writing values --------------------------------------------------------
    def __getattr__(self, name):
        flags = object.__getattribute__(self, "_flags")
        if name not in flags:
            raise AttributeError(f"There is no flag named {name!r}; define it with DEFINE_...")
        if not self._parsed:  # TF1: the first read parses sys.argv, tolerating unknown flags
            self(sys.argv, known_only=True)
        return self._values[name]

    def __setattr__(self, name, value) -> None:
        flag = self._flags.get(name)
        if flag is None:
            raise AttributeError(f"There is no flag named {name!r}; define it with DEFINE_...")
        self._values[name] = flag.convert(value)

    def __contains__(self, name) -> bool:
        return name in self._flags

    def __iter__(self):
        return iter(list(self._flags))

    def flag_values_dict(self) -> dict:
        """``{name: value}`` of every flag."""
        return dict(self._values)

    def help_text(self) -> str:
        """One line per flag: name, kind, default and help."""
        lines = []
        for f in self._flags.values():
            lines.append(f"  --{f.name}: {f.help} ({f.kind}, default: {f.default!r})")
        return "\n".join(lines)

    def unparse_all(self) -> None:
        """Forget what was parsed: values return to defaults, the next read parses again."""
        for name, flag in self._flags.items():
            self._values[name] = flag.default
        object.__setattr__(self, "_parsed", False)


FLAGS = FlagValues()
"""The global flags every ``DEFINE_*`` of this module defines."""

DEFINE_string = FLAGS.DEFINE_string
DEFINE_integer = FLAGS.DEFINE_integer
DEFINE_float = FLAGS.DEFINE_float
DEFINE_boolean = FLAGS.DEFINE_boolean
DEFINE_bool = FLAGS.DEFINE_boolean
DEFINE_list = FLAGS.DEFINE_list
DEFINE_enum = FLAGS.DEFINE_enum
