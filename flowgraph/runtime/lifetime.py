"""A session's lifetime, shared by the in-process and the distributed Session.

``with Session() as sess:`` makes it the default session (for ``Tensor.eval()``) and closes it
on exit; ``close()`` releases what the session holds, once; a closed session refuses to run.

>>> class Demo(SessionLifetime):
...     def _release(self):
...         print("released")
>>> with Demo() as s:
...     s.closed
False
released
>>> s.close()  # a second close does nothing
>>> s._check_open()
Traceback (most recent call last):
RuntimeError: Attempted to use a closed Session.
"""

from __future__ import annotations

from flowgraph.graph import default_stacks


class SessionLifetime:
    """Opening, default-session scoping and closing; subclasses say what ``_release`` frees."""

    _closed = False

    def _release(self) -> None:
        """Free what the session holds (variable values, plans, workers): called once."""

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("Attempted to use a closed Session.")

    def close(self) -> None:
        """Release the session's variable values and plans; later runs raise RuntimeError."""
        if self._closed:
            return
        self._closed = True
        self._release()

    @property
    def closed(self) -> bool:
        """True once :meth:`close` ran."""
        return self._closed

    def as_default(self):
        """Context manager making this the default session (for ``Tensor.eval()``)."""
        return default_stacks.default_session(self)

    def __enter__(self):
        self._default_cm = default_stacks.default_session(self)
        self._default_cm.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._default_cm.__exit__(*exc)
        self.close()
