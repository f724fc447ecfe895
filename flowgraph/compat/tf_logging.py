"""TF1's ``tf.logging``: leveled messages through Python's :mod:`logging`, on the logger
named ``"flowgraph"``, printed to stderr as ``INFO:flowgraph:message``.

As in TF1 the default verbosity is ``WARN``: ``info`` messages appear only after
``set_verbosity(INFO)``. Messages take ``%``-style arguments (``info("step %d", 5)``).

>>> from flowgraph.compat import tf_logging as logging
>>> old = logging.get_verbosity()
>>> logging.set_verbosity(logging.INFO); logging.get_verbosity() == logging.INFO
True
>>> logging.set_verbosity(old)
"""

from __future__ import annotations

import logging as _logging
import sys

__all__ = [
    "DEBUG",
    "ERROR",
    "FATAL",
    "INFO",
    "WARN",
    "debug",
    "error",
    "fatal",
    "get_verbosity",
    "info",
    "log",
    "log_every_n",
    "log_first_n",
    "log_if",
    "set_verbosity",
    "vlog",
    "warn",
    "warning",
]

DEBUG, INFO, WARN, ERROR, FATAL = (
    _logging.DEBUG,
    _logging.INFO,
    _logging.WARNING,
    _logging.ERROR,
    _logging.FATAL,
)


def _stderr_handler() -> _logging.Handler:
    class _Stderr(_logging.StreamHandler):
        # Looked up at each message, so redirected stderr (pytest's capsys) is honoured.
        @property
        def stream(self):
            return sys.stderr

        @stream.setter
        def stream(self, _):
            pass

    handler = _Stderr()
    handler.setFormatter(_logging.Formatter("%(levelname)s:%(name)s:%(message)s"))
    return handler


_logger = _logging.getLogger("flowgraph")
if not _logger.handlers:
    _logger.addHandler(_stderr_handler())
    _logger.setLevel(WARN)
    _logger.propagate = False


def get_logger() -> _logging.Logger:
    """The Python logger behind ``tf.logging``."""
    return _logger


def set_verbosity(v) -> None:
    """Show messages at level ``v`` (``tf.logging.INFO``...) and above."""
    _logger.setLevel(v)


def get_verbosity() -> int:
    """The current level."""
    return _logger.getEffectiveLevel()


def log(level, msg, *args, **kwargs) -> None:
    """Log ``msg % args`` at ``level``."""
    _logger.log(level, msg, *args, **kwargs)


def debug(msg, *args, **kwargs) -> None:
    """Log at DEBUG."""
    _logger.debug(msg, *args, **kwargs)


def info(msg, *args, **kwargs) -> None:
    """Log at INFO."""
    _logger.info(msg, *args, **kwargs)


def warning(msg, *args, **kwargs) -> None:
    """Log at WARN."""
    _logger.warning(msg, *args, **kwargs)


warn = warning


def error(msg, *args, **kwargs) -> None:
    """Log at ERROR."""
    _logger.error(msg, *args, **kwargs)


def fatal(msg, *args, **kwargs) -> None:
    """Log at FATAL (the program goes on; TF1's Python ``fatal`` does not exit either)."""
    _logger.critical(msg, *args, **kwargs)


def vlog(level, msg, *args, **kwargs) -> None:
    """Verbose logging: ``vlog(1, ...)`` logs at DEBUG."""
    _logger.log(DEBUG if level > 0 else INFO, msg, *args, **kwargs)


def log_if(level, msg, condition, *args) -> None:
    """Log only when ``condition`` is true."""
    if condition:
        _logger.log(level, msg, *args)


_counts: dict = {}


def _count(key) -> int:
    _counts[key] = _counts.get(key, 0) + 1
    return _counts[key] - 1


def log_every_n(level, msg, n, *args) -> None:
    """Log the 1st, (n+1)th, (2n+1)th... time this line runs."""
    frame = sys._getframe(1)
    if _count((frame.f_code.co_filename, frame.f_lineno)) % max(int(n), 1) == 0:
        _logger.log(level, msg, *args)


def log_first_n(level, msg, n, *args) -> None:
    """Log only the first ``n`` times this line runs."""
    frame = sys._getframe(1)
    if _count((frame.f_code.co_filename, frame.f_lineno)) < n:
        _logger.log(level, msg, *args)
