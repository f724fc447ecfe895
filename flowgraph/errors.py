"""Errors raised when a graph runs, named as in TensorFlow (``tf.errors``).

An :class:`OpError` carries the operation at fault; its message names the op, its type and the
line of user code that created it. The original exception (NumPy's, say) is chained as
``__cause__``.
"""

from __future__ import annotations


class OpError(Exception):
    """A failure while running an op. ``.op`` is the Operation (or None), ``.message`` the text."""

    error_code = 2

    def __init__(self, node_def=None, op=None, message: str = "") -> None:
        super().__init__(message)
        self.node_def = node_def
        self.op = op
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __reduce__(self):
        return (type(self), (self.node_def, None, self.message))


class CancelledError(OpError):
    """The operation or step was cancelled."""

    error_code = 1


class UnknownError(OpError):
    """An error of an unknown kind (an exception that maps to no other class)."""

    error_code = 2


class InvalidArgumentError(OpError):
    """An op got an invalid argument: a bad shape, value or dtype at run time."""

    error_code = 3


class DeadlineExceededError(OpError):
    """A deadline (a run's timeout) expired before the operation completed."""

    error_code = 4


class NotFoundError(OpError):
    """A requested entity (a file, a variable in a checkpoint) was not found."""

    error_code = 5


class AlreadyExistsError(OpError):
    """An entity that an operation tried to create already exists."""

    error_code = 6


class PermissionDeniedError(OpError):
    """The caller may not run the operation (a file it cannot read)."""

    error_code = 7


class ResourceExhaustedError(OpError):
    """A resource, such as memory, is exhausted."""

    error_code = 8


class FailedPreconditionError(OpError):
    """The system is not in a state to run the operation (an uninitialized variable)."""

    error_code = 9


class AbortedError(OpError):
    """The operation was aborted, typically by a concurrent action."""

    error_code = 10


class OutOfRangeError(OpError):
    """An operation went past the valid range (an input queue is exhausted)."""

    error_code = 11


class UnimplementedError(OpError):
    """The operation is not implemented or not supported here."""

    error_code = 12


class InternalError(OpError):
    """An internal invariant of the system was broken: a bug in flowgraph."""

    error_code = 13


class UnavailableError(OpError):
    """A service (a Dask worker) is unavailable."""

    error_code = 14


class DataLossError(OpError):
    """Unrecoverable data loss or corruption (a damaged checkpoint file)."""

    error_code = 15


class UnauthenticatedError(OpError):
    """The request has no valid authentication credentials."""

    error_code = 16


class ShapeError(ValueError):
    """A shape or dtype rule rejected an op's inputs while the graph was being built."""


class DTypeError(ShapeError, TypeError):
    """A dtype rule rejected an op's inputs while the graph was being built."""


#: How many characters of a user's value an error message repeats (then an ellipsis).
ECHO_LIMIT = 120


def echo(value, limit: int = ECHO_LIMIT) -> str:
    """``repr(value)`` for an error message, cut to ``limit`` characters with ``...``: a
    message repeats what the user passed, but a 1 MB string must not make a 1 MB message.

    >>> echo("/gpu:0"), echo("x" * 1_000_000)[-8:], len(echo(list(range(10**5))))
    ("'/gpu:0'", 'xxxxx...', 123)
    """
    if isinstance(value, str) and len(value) > limit:
        value = value[:limit]  # repr of the cut string only: never a copy of a huge one
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."
