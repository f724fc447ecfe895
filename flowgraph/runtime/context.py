"""What kernels that need more than ``xp`` see: the session's variables, RNG and backend."""

from __future__ import annotations


class RunContext:
    """Shared by all runs of one Session: per-run values never live here, only state that
    belongs to the session (variable values, the random generator)."""

    def __init__(self, backend, seed=None) -> None:
        self.backend = backend
        self.xp = backend.xp
        self.variables: dict = {}
        self.rng = backend.random_generator(seed)

    def to_host(self, value):
        return self.backend.to_host(value)
