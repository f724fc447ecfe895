"""The Session: runs fetches of a graph with a feed_dict, holding its own variable values.

>>> import flowgraph as fg
>>> with fg.Graph().as_default():
...     x = fg.placeholder(fg.float32, [None, 2], name="x")
...     total = fg.reduce_sum(x * 10.0)
...     with fg.Session() as sess:
...         out = sess.run({"total": total, "both": [total, x]}, feed_dict={x: [[1, 2]]})
>>> print(out["total"], out["both"][1])
30.0 [[1. 2.]]
"""

from __future__ import annotations

import functools
import time

import numpy as np

from flowgraph.backends import DevicePlacement, get_backend
from flowgraph.compiler.explain import Explanation
from flowgraph.compiler.passes import DEFAULT_LEVEL, passes_for
from flowgraph.compiler.plan import compile_plan
from flowgraph.compiler.plan_cache import MAX_PLANS, PlanCache
from flowgraph.graph import default_stacks
from flowgraph.graph.default_stacks import get_default_graph
from flowgraph.ops.registry import get_op_def
from flowgraph.runtime import fpenv, threads
from flowgraph.runtime.feeds import feed_key, feed_value
from flowgraph.runtime.fetches import as_fetch_element, flatten
from flowgraph.runtime.lifetime import SessionLifetime
from flowgraph.runtime.notices import GrowthWatch
from flowgraph.runtime.profiling import wants_trace
from flowgraph.runtime.run_context import RunContext


def _may_alias_state(op) -> bool:
    """Whether a fetched value of ``op`` may be an array the session or the caller keeps (a
    constant, a variable's value, a fed array, a view of one): only kernels that always make
    a new array (``OpDef.fresh_output``, or a ufunc) are known not to."""
    op_def = get_op_def(op.type)
    return not (op_def.fresh_output or op_def.xp_name is not None)


class Session(SessionLifetime):
    """Runs a graph: compiles each distinct (fetches, feeds) signature once, then executes it.

    ``Session(graph=None, backend=None)`` uses the default graph at creation time and the
    default backend (NumPy, or the one of an enclosing ``flowgraph.backends.default_backend``;
    ``"cupy"`` runs on the GPU). Each Session holds its own variable values. ``run`` may be
    called from several threads: per-run values live in the run, and the plan cache is locked
    while compiling. Concurrent updates of one variable are atomic only when made with
    ``use_locking=True`` (as in TF1; see ``assign_add`` and the optimizers).
    ``level`` is the optimization level of its plans: ``"O1"`` (the default: all passes) or
    ``"O0"`` (prune only); ``explain`` shows what the passes do. It keeps the plans of the 256
    signatures it ran most recently (``config={"plan_cache_size": n}`` changes that); an older
    one is compiled again when it comes back.

    Ops placed with ``fg.device(...)`` run on the backend their device maps to:
    ``device_backends`` (or ``config={"device_backends": ...}``) maps device strings to
    backends; by default ``/cpu:*`` and ops without a device run on the session's backend and
    ``/gpu:0`` on CuPy. Values cross devices in explicit transfers; variables live on their
    device; ``run`` returns NumPy arrays unless ``return_device_arrays=True``.

    A first program: build the graph, then initialize the variables and run what you need,
    feeding placeholders (a fetch may also be a name, ``"w:0"``):

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     x = fg.placeholder(fg.float32, [None], name="x")
    ...     w = fg.Variable(2.0, name="w")
    ...     y = w * x
    ...     (dw,) = fg.gradients(fg.reduce_sum(y), [w])
    ...     with fg.Session() as sess:
    ...         sess.run(fg.global_variables_initializer())
    ...         print(*sess.run([y, dw], feed_dict={x: [1.0, 2.0]}), sess.run("w:0"))
    [2. 4.] 3.0 2.0

    A tensor must belong to the session's graph (``Session(graph=g)`` runs another one); a
    gradient that comes out ``None`` is explained by ``flowgraph.explain_gradient(y, x)``.

    ``config`` (a ``ConfigProto`` or a dict of its fields): ``intra_op_parallelism_threads``
    sets the BLAS threads around each run (default: ``flowgraph.config.threading``'s setting,
    one thread); ``flush_denormals=False`` keeps IEEE denormals (by default runs compute with
    flush-to-zero and denormals-are-zero, as TF does, and restore the caller's floating-point
    state after).
    """

    def __init__(
        self,
        target: str = "",
        graph=None,
        config=None,
        backend=None,
        seed=None,
        level: str = DEFAULT_LEVEL,
        device_backends: dict | None = None,
    ):
        if not isinstance(target, str):
            raise TypeError(
                f"Session(target={target!r}): an in-process Session takes no cluster. To run on "
                "a Dask cluster use flowgraph.distributed.Session(client) (pip install "
                '"flowgraph[distributed]").'
            )
        passes_for(level)  # an unknown level fails here, not at the first run
        self.level = level
        self.graph = graph if graph is not None else get_default_graph()
        self._backend = get_backend(backend)
        if device_backends is None:
            device_backends = _config_value(config, "device_backends")
        self._placement = DevicePlacement(self._backend, device_backends)
        self._context = RunContext(self._backend, seed)
        self._plans = PlanCache(_config_value(config, "plan_cache_size") or MAX_PLANS)
        self.intra_op_parallelism_threads = _config_value(config, "intra_op_parallelism_threads")
        flush = _config_value(config, "flush_denormals")
        self.flush_denormals = True if flush is None else bool(flush)
        self._closed = False
        self._default_cm = None
        self._growth = GrowthWatch(self.graph)

    @property
    def backend(self):
        """The Backend ops without a device (and ``/cpu:*`` ops) run on."""
        return self._backend

    @property
    def graph_def(self) -> dict:
        """The graph as a document (TF1's ``sess.graph_def``, for ``tf.train.write_graph``)."""
        return self.graph.as_graph_def()

    def backend_for(self, device: str):
        """The Backend that runs ops placed on ``device`` in this session."""
        return self._placement.backend_for(device)

    # ---- running ---------------------------------------------------------------------------
    def run(
        self, fetches, feed_dict=None, options=None, run_metadata=None, return_device_arrays=False
    ):
        """Evaluate ``fetches`` (a Tensor, Operation, name, or any nesting of list / tuple /
        dict / namedtuple of them) and return their values in the same structure.

        Operations give None. ``feed_dict`` maps tensors (or their names) to values; any
        tensor may be fed, which cuts off what computes it. With
        ``options=RunOptions(trace_level=RunOptions.FULL_TRACE)``, per-op timings go into
        ``run_metadata`` (a ``RunMetadata``; see ``flowgraph.runtime.profiling``). Values come
        back as NumPy arrays; ``return_device_arrays=True`` leaves each on its backend (a CuPy
        array for an op on the GPU).
        """
        self._check_open()
        self._growth.check()
        if isinstance(fetches, (list, tuple, dict)):
            elements, rebuild = flatten(fetches, self.graph)
        else:
            elements, rebuild = [as_fetch_element(fetches, self.graph)], None
        feeds = self._prepare_feeds(feed_dict)
        traced = options is not None and wants_trace(options)
        plan = self._plan_for(tuple(elements), feeds, traced)
        self._growth.report_skipped(plan)  # side-effect ops created since the last run, left out
        feed_values = [feeds[t] for t in plan.feeds]
        if plan.feed_transfers is not None:  # a placeholder placed on another device
            feed_values = _moved(feed_values, plan.feed_transfers)
        saved_fp = fpenv.enter() if self.flush_denormals else None
        saved_blas = (
            threads.enter(self.intra_op_parallelism_threads or threads.resolve(0))
            if plan.calls_blas
            else None
        )
        try:
            if traced:
                values = self._run_traced(plan, feed_values, run_metadata)
            else:
                values = plan.run(self._context, feed_values)
        finally:
            threads.leave(saved_blas)
            fpenv.leave(saved_fp)
        if return_device_arrays:
            values = [_device_value(e, v) for e, v in zip(elements, values)]
        elif plan.single_backend:
            values = [self._to_user(e, v) for e, v in zip(elements, values)]
        else:
            values = [
                self._to_user(e, v, b) for e, v, b in zip(elements, values, plan.output_backends)
            ]
        return values[0] if rebuild is None else rebuild(values)

    def make_callable(self, fetches, feed_list=None):
        """A function ``f(*feed_values)`` running ``fetches`` with ``feed_list`` fed, without
        re-checking the signature each call.

        >>> import flowgraph as fg
        >>> with fg.Graph().as_default():
        ...     x = fg.placeholder(fg.int32, [])
        ...     f = fg.Session().make_callable(x * x, [x])
        ...     print(f(7))
        49
        """
        self._check_open()
        feed_list = [feed_key(k, self.graph) for k in feed_list or []]
        single = not isinstance(fetches, (list, tuple, dict))
        elements, rebuild = flatten([fetches] if single else fetches, self.graph)
        plan = self._plan_for(tuple(elements), dict.fromkeys(feed_list))
        position = {t: i for i, t in enumerate(feed_list)}
        order = [position[t] for t in plan.feeds]

        def call(*values):
            self._check_open()
            if len(values) != len(feed_list):
                raise TypeError(
                    f"This callable takes {len(feed_list)} feed values, got {len(values)}"
                )
            checked = [feed_value(feed_list[i], values[i]) for i in order]
            moved = [b.from_host(v) for v, b in zip(checked, plan.feed_backends)]
            out = self._computing(plan.run, self._context, moved)
            out = rebuild(
                [self._to_user(e, v, b) for e, v, b in zip(elements, out, plan.output_backends)]
            )
            return out[0] if single else out

        return call

    def _computing(self, function, *args):
        """``function(*args)`` with this session's BLAS threads and flush-to-zero, the
        caller's settings restored after."""
        saved_fp = fpenv.enter() if self.flush_denormals else None
        saved_blas = threads.enter(threads.resolve(self.intra_op_parallelism_threads))
        try:
            return function(*args)
        finally:
            threads.leave(saved_blas)
            fpenv.leave(saved_fp)

    def _prepare_feeds(self, feed_dict) -> dict:
        """``{tensor: checked value on the session's backend}`` (a placeholder placed on
        another device gets its value moved there when the plan runs)."""
        if not feed_dict:
            return {}
        from_host = self._backend.from_host
        feeds = {}
        for key, value in feed_dict.items():
            tensor = feed_key(key, self.graph)
            feeds[tensor] = from_host(feed_value(tensor, value))
        return feeds

    def _plan_for(self, elements: tuple, feeds: dict, traced: bool = False):
        key = (elements, frozenset(feeds), traced)
        plan = self._plans.get(key)  # the usual case, without making a closure
        if plan is not None:
            return plan
        return self._plans.get_or_compile(
            key,
            lambda: compile_plan(
                list(elements), list(feeds), self._backend, self.level, traced, self._placement
            ),
        )

    @property
    def compile_count(self) -> int:
        """How many plans this session compiled (a repeated signature adds none, unless its
        plan was dropped from the bounded cache: see ``plan_cache_size``)."""
        return self._plans.compiled

    def _run_traced(self, plan, feed_values, run_metadata):
        """Run the instrumented plan; its per-op records go into ``run_metadata``."""
        records: list = []
        start = time.perf_counter_ns()
        try:
            return plan.run_traced(self._context, feed_values, records)
        finally:
            if run_metadata is not None:
                run_metadata.record(records, start)

    def explain(self, fetches, feed_dict=None, level=None) -> Explanation:
        """What compiling ``fetches`` (given the keys of ``feed_dict``) does, for reading: the
        pruned graph's op count, each pass's op counts and changes, and the generated code.
        ``print`` it. ``level`` defaults to the session's.

        >>> import flowgraph as fg
        >>> with fg.Graph().as_default():
        ...     x = fg.placeholder(fg.float32, [2], name="x")
        ...     y = fg.tanh(x * 1.0, name="y")
        ...     text = str(fg.Session().explain(y, {x: [0, 1]}))
        >>> print(text.splitlines()[4])
          replaced Mul 'Mul' (x * 1) by its input
        """
        self._check_open()
        single = not isinstance(fetches, (list, tuple, dict))
        elements, _ = flatten([fetches] if single else fetches, self.graph)
        feeds = [feed_key(k, self.graph) for k in feed_dict or {}]
        plan = compile_plan(
            elements, feeds, self._backend, level or self.level, placement=self._placement
        )
        return Explanation(plan)

    def _to_user(self, element, value, backend=None):
        """A fetched value as the user gets it: NumPy, copied if the session could alias it."""
        if value is None:
            return None
        value = (backend or self._backend).to_host(value)
        if value.ndim == 0:
            return value[()]  # NumPy scalar, as TF returns for scalar tensors
        if value.base is not None or _may_alias_state(element.op):
            return np.array(value, copy=True)
        return value

    # ---- lifetime (opening, ``with``, closing: SessionLifetime) ----------------------------
    def _release(self) -> None:
        self._plans.clear()
        self._context.variables.clear()

    def __del__(self) -> None:
        self._closed = True


def _moved(values, transfers) -> list:
    return [v if move is None else move(v) for v, move in zip(values, transfers)]


def _device_value(element, value):
    """A fetched value left on its backend, copied if the session could alias it."""
    if value is None or not _may_alias_state(element.op):
        return value
    return (
        value.copy()
        if hasattr(value, "copy")
        else value.__array_namespace__().asarray(value, copy=True)
    )


def _config_value(config, key: str):
    """``config[key]`` or ``config.key`` (a dict or a ConfigProto-like object), else None."""
    if config is None:
        return None
    if isinstance(config, dict):
        return config.get(key)
    return getattr(config, key, None)


class InteractiveSession(Session):
    """A Session that makes itself the default on creation (for shells and notebooks).

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     sess = fg.InteractiveSession()
    ...     value = fg.constant(3.0).eval()
    ...     sess.close()
    >>> print(value)
    3.0
    """

    @functools.wraps(Session.__init__)  # the same arguments (and signature in help())
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        default_stacks.push_session(self)

    def close(self) -> None:
        default_stacks.pop_session(self)
        super().close()
