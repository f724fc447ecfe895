"""What kernels that need more than ``xp`` see: the session's variables, RNG and backend,
and a way to run the functions of control-flow ops (``cond`` branches, loop bodies)."""

from __future__ import annotations

import copy
import threading
from contextlib import contextmanager

from flowgraph.compiler.plan import compile_plan
from flowgraph.compiler.plan_cache import PlanCache
from flowgraph.ops.namespace import aligned_empty


class RunContext:
    """Shared by all runs of one Session: per-run values never live here, only state that
    belongs to the session (variable values, random generators, compiled function plans).

    Kernels on another device than the session's get ``ctx.on(backend)``: a context sharing
    all of that state whose ``backend`` / ``xp`` are the device's (variables placed there keep
    arrays of that backend in the shared store).
    """

    def __init__(self, backend, seed=None) -> None:
        self.backend = backend
        self.xp = backend.xp
        self.variables: dict = {}
        self.rng = backend.random_generator(seed)
        # One generator per random op, made on first use (see ops/random.py): its state moves
        # on with every run, and a seeded op starts from the same state in every session.
        self.random_generators: dict = {}
        self._function_plans = PlanCache()
        self._variable_locks: dict = {}  # store name -> Lock, for use_locking=True updates
        self._lock = threading.Lock()
        self._scratch = threading.local()
        self._siblings: dict = {id(backend): self}

    def on(self, backend) -> RunContext:
        """This context as seen by kernels running on ``backend``."""
        sibling = self._siblings.get(id(backend))
        if sibling is None:
            with self._lock:
                sibling = self._siblings.get(id(backend))
                if sibling is None:
                    sibling = copy.copy(self)
                    sibling.backend, sibling.xp = backend, backend.xp
                    sibling._scratch = threading.local()  # its arrays are the backend's
                    self._siblings[id(backend)] = sibling
        return sibling

    def scratch(self, like):
        """A work array of ``like``'s shape and dtype, reused by later calls on this thread.

        Fused kernels (optimizer updates) compute into it instead of allocating temporaries
        each step: for MNIST-sized weights, fresh 800 KB temporaries were returned to the OS and
        faulted back in every step, which cost more than the arithmetic. Per thread, because
        concurrent runs of one session must not share it; its contents are garbage on entry.
        """
        buffers = self._scratch.__dict__.setdefault("buffers", {})
        key = (like.shape, like.dtype)
        buffer = buffers.get(key)
        if buffer is None:
            buffer = buffers[key] = aligned_empty(self.xp, like.shape, like.dtype)
        return buffer

    @contextmanager
    def locked(self, names):
        """Hold the locks of the variables ``names`` (store names) for an update made with
        ``use_locking=True``: taken in sorted order, so two updates never deadlock."""
        locks = []
        for name in sorted(set(names)):
            lock = self._variable_locks.get(name)
            if lock is None:
                lock = self._variable_locks.setdefault(name, threading.Lock())  # atomic
            locks.append(lock)
        for lock in locks:
            lock.acquire()
        try:
            yield
        finally:
            for lock in reversed(locks):
                lock.release()

    def to_host(self, value):
        return self.backend.to_host(value)

    def generator_for(self, key: str, seeds=None):
        """The random generator of the op ``key``, made on first use: seeded by ``seeds``
        (graph seed, op seed) when given, else drawn from the session's own generator."""
        generator = self.random_generators.get(key)
        if generator is None:
            seed = list(seeds) if seeds is not None else int(self.rng.integers(2**63))
            new = self.backend.random_generator(seed)
            generator = self.random_generators.setdefault(key, new)  # atomic: one per key
        return generator

    def call(self, function, args) -> list:
        """Run a traced function (see ``flowgraph.ops.function.Function``) on ``args``; return
        its outputs, then its exports (the values its stateful ops produced, which a gradient
        reuses). Its plan is compiled on first use and cached for the session."""
        key = (function, id(self.backend))  # a function runs where the op calling it runs
        plan = self._function_plans.get_or_compile(
            key,
            lambda: compile_plan(
                list(function.outputs) + function.exports + list(function.side_effects),
                list(function.inputs),
                self.backend,
                frozen=function.frozen,
            ),
        )
        return list(plan.run(self, args)[: len(function.outputs) + len(function.exports)])
