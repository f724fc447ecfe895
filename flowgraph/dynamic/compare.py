"""Static and dynamic mode side by side: the seed MLP's training step, measured in both.

:func:`compare_mlp_step` trains the seed programs' model (784-256-10, ReLU, softmax
cross-entropy, SGD or Adam) for a few steps twice, from the same initial weights on the same
MNIST batches: once as the TF1 program does (a graph built once, ``Session.run(train_op)`` per
step) and once as the PyTorch program does (``model(x)``, ``loss.backward()``,
``optimizer.step()``: a tape rebuilt every step). It checks that both give the same losses and
the same trained weights, and reports per step:

- **ops executed**: static, the ops of the compiled plan that ran (after the compiler's passes;
  from the profiler, or the plan's node count where there is no profiler); dynamic, the kernels
  that ran (forward ops recorded on the tape, and the gradient ops ``backward()`` computed;
  PyTorch-style optimizers update the arrays in NumPy, outside the op library).
- **ops built**: static builds its graph once (N ops; a plan compiled on the first run) and
  nothing per step; dynamic builds every op again each step (forward ops with their tape nodes,
  and every gradient op ``backward()`` creates, including those it never needs to run).
- **time**: the median step time of each mode (uninstrumented runs); then, on separate
  instrumented steps, the time inside kernels (static: the profiler's per-op times,
  ``RunOptions(trace_level=FULL_TRACE)``; dynamic: the executor's kernel calls, timed) and
  the rest of the step, Python's share (building, dispatch, bookkeeping, the optimizer).

>>> report = compare_mlp_step(batch=20, steps=3)
>>> report.agree, report.static.ops_built_per_step, report.dynamic.ops_built_per_step > 0
(True, 0, True)
>>> print(report)  # doctest: +SKIP
seed MLP 784-256-10, batch 20, sgd, 3 steps + 5 profiled: losses and weights agree ...

Counting and timing dynamic-mode kernels uses the tape's profiler hook
(``tape.profiling_kernels``): nothing is patched, and nothing costs anything outside the block.
"""

from __future__ import annotations

import statistics
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

__all__ = ["ModeStats", "StepComparison", "compare_mlp_step", "counting_kernels"]

D_IN, D_HIDDEN, D_OUT = 784, 256, 10


@dataclass
class ModeStats:
    """One mode's numbers for one training step (times in seconds)."""

    mode: str
    ops_executed_per_step: int  # kernels that ran in one step
    ops_built_per_step: int  # ops created in one step (0 for a graph built once)
    ops_built_once: int  # ops created before the first step (the static graph)
    step_time: float  # median step time, uninstrumented
    # step_time split by the median kernel share of the profiled steps; None: unmeasured
    kernel_time: float | None
    python_time: float | None  # step_time - kernel_time: building, dispatch, bookkeeping
    first_step_time: float  # includes compiling the plan in static mode
    detail: dict = field(default_factory=dict)  # per-mode breakdown, for reading


@dataclass
class StepComparison:
    """What :func:`compare_mlp_step` found; ``print`` it for a table."""

    batch: int
    steps: int
    profiled_steps: int
    optimizer: str
    static: ModeStats
    dynamic: ModeStats
    static_losses: np.ndarray
    dynamic_losses: np.ndarray
    max_loss_difference: float
    max_weight_difference: float
    rtol: float
    atol: float
    agree: bool
    notes: list = field(default_factory=list)

    def __str__(self) -> str:
        s, d = self.static, self.dynamic
        verdict = "agree" if self.agree else "DIFFER"
        compared = "losses" if self.optimizer == "adam" else "losses and weights"
        lines = [
            f"seed MLP {D_IN}-{D_HIDDEN}-{D_OUT}, batch {self.batch}, {self.optimizer}, "
            f"{self.steps} steps + {self.profiled_steps} profiled: {compared} {verdict} "
            f"(max |loss diff| {self.max_loss_difference:.2e}, max |weight diff| "
            f"{self.max_weight_difference:.2e}; rtol {self.rtol:g}, atol {self.atol:g})",
            "",
            f"{'per step':<34}{'static (graph)':>16}{'dynamic (tape)':>16}",
            _row("ops executed", s.ops_executed_per_step, d.ops_executed_per_step),
            _row("ops built", s.ops_built_per_step, d.ops_built_per_step),
            _row("ops built once, before step 1", s.ops_built_once, d.ops_built_once),
            _row("step time (median, ms)", _ms(s.step_time), _ms(d.step_time)),
            _row("  of which in kernels (ms)", _ms(s.kernel_time), _ms(d.kernel_time)),
            _row("  of which in Python (ms)", _ms(s.python_time), _ms(d.python_time)),
            _row("first step (ms)", _ms(s.first_step_time), _ms(d.first_step_time)),
        ]
        for stats in (s, d):
            if stats.detail:
                parts = ", ".join(f"{k} {v}" for k, v in stats.detail.items())
                lines.append(f"{stats.mode}: {parts}")
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    __repr__ = __str__


def _row(label, a, b) -> str:
    return f"{label:<34}{a!s:>16}{b!s:>16}"


def _ms(seconds) -> str:
    return "n/a" if seconds is None else f"{seconds * 1e3:.3f}"


# ---- counting dynamic-mode work ---------------------------------------------------------------


class KernelCounter:
    """What :func:`counting_kernels` saw: ``dispatched`` ops (each op call made in dynamic
    mode, whether or not its kernel ran), ``kernels`` run and ``kernel_ns`` spent in them.
    It is a kernel profiler for :func:`flowgraph.dynamic.tape.profiling_kernels`."""

    def __init__(self) -> None:
        self.kernels = 0
        self.kernel_ns = 0
        self.deferred = 0  # gradient ops made deferred (their kernels run when read)
        self.forced = 0  # deferred ops whose kernels ran
        self.by_type: dict[str, int] = {}

    @property
    def dispatched(self) -> int:
        return self.kernels - self.forced + self.deferred

    def wrap(self, op_type: str, kernel):
        """``kernel``, counted and timed."""
        clock = time.perf_counter_ns

        def timed(*args):
            start = clock()
            try:
                return kernel(*args)
            finally:
                self.kernel_ns += clock() - start
                self.kernels += 1
                self.by_type[op_type] = self.by_type.get(op_type, 0) + 1

        return timed

    def snapshot(self) -> tuple[int, int, int]:
        return self.dispatched, self.kernels, self.kernel_ns


def counting_kernels():
    """Count and time dynamic-mode ops inside the block (this process, all threads), through
    the tape's kernel profiler hook.

    >>> import flowgraph.dynamic as fd
    >>> x = fd.tensor([1.0, 2.0], requires_grad=True)
    >>> with counting_kernels() as counter:
    ...     (x * x).sum().backward()
    >>> counter.kernels > 0, counter.dispatched >= counter.kernels
    (True, True)
    """
    from flowgraph.dynamic import tape

    return tape.profiling_kernels(KernelCounter())


# ---- the two programs ---------------------------------------------------------------------------


def _initial_weights(seed: int) -> dict:
    """PyTorch's Linear initialisation, U(-1/sqrt(fan_in), 1/sqrt(fan_in)), in TF's layout
    (``x @ W``): the same arrays start both modes."""
    rng = np.random.default_rng(seed)

    def uniform(shape, fan_in):
        bound = 1.0 / np.sqrt(fan_in)
        return rng.uniform(-bound, bound, shape).astype(np.float32)

    return {
        "W1": uniform((D_IN, D_HIDDEN), D_IN),
        "b1": uniform((D_HIDDEN,), D_IN),
        "W2": uniform((D_HIDDEN, D_OUT), D_HIDDEN),
        "b2": uniform((D_OUT,), D_HIDDEN),
    }


def _batches(batch: int, count: int):
    """``count`` batches of the bundled MNIST sample: images in [0, 1], one-hot and class ids."""
    from flowgraph.datasets import mnist

    arrays = mnist.load_arrays()
    images = arrays.train_images.reshape(-1, D_IN)
    labels = arrays.train_labels.astype(np.int64)
    n = len(images)
    out = []
    for i in range(count):
        index = np.arange(i * batch, (i + 1) * batch) % n
        x = images[index].astype(np.float32) / np.float32(255.0)
        y = labels[index]
        out.append((x, np.eye(D_OUT, dtype=np.float32)[y], y))
    return out


class _StaticProgram:
    """The TF1 seed program's graph and step."""

    def __init__(self, weights: dict, optimizer: str, lr: float) -> None:
        import flowgraph as fg

        start = time.perf_counter()
        self.graph = fg.Graph()
        with self.graph.as_default():
            self.x = fg.placeholder(fg.float32, [None, D_IN])
            self.y = fg.placeholder(fg.float32, [None, D_OUT])
            self.variables = [fg.Variable(weights[k], name=k) for k in ("W1", "b1", "W2", "b2")]
            W1, b1, W2, b2 = self.variables
            h1 = fg.nn.relu(fg.matmul(self.x, W1) + b1)
            logits = fg.matmul(h1, W2) + b2
            cross_entropy = fg.nn.softmax_cross_entropy_with_logits_v2(labels=self.y, logits=logits)
            self.loss = fg.reduce_mean(cross_entropy)
            if optimizer == "adam":
                train = fg.train.AdamOptimizer(lr)
            else:
                train = fg.train.GradientDescentOptimizer(lr)
            self.train_op = train.minimize(self.loss)
            init = fg.global_variables_initializer()
        self.ops_built = len(self.graph.get_operations())
        self.session = fg.Session(graph=self.graph)
        self.session.run(init)
        self.build_time = time.perf_counter() - start

    def step(self, x, y, options=None, run_metadata=None):
        _, loss = self.session.run(
            [self.train_op, self.loss],
            feed_dict={self.x: x, self.y: y},
            options=options,
            run_metadata=run_metadata,
        )
        return float(loss)

    def weights(self) -> list:
        return self.session.run(self.variables)

    def planned_ops(self) -> int:
        """The ops the compiled step runs: the IR's nodes after the passes, less the feeds."""
        from flowgraph.compiler.plan import compile_plan

        plan = compile_plan([self.train_op, self.loss], [self.x, self.y], level=self.session.level)
        nodes = getattr(getattr(plan, "ir", None), "nodes", None)
        if nodes is None:
            return len(plan.ops)
        return sum(1 for n in nodes if n.type != "Feed")


class _DynamicProgram:
    """The PyTorch seed program's model and step."""

    def __init__(self, weights: dict, optimizer: str, lr: float) -> None:
        import flowgraph.dynamic as torch
        from flowgraph.dynamic import nn, optim

        class MNISTModel(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Linear(784, 256)
                self.fc2 = nn.Linear(256, 10)

            def forward(self, x):
                x = x.view(-1, 784)
                x = torch.relu(self.fc1(x))
                x = self.fc2(x)
                return x

        self.torch = torch
        self.model = MNISTModel()
        self.model.load_state_dict(
            {
                "fc1.weight": weights["W1"].T,
                "fc1.bias": weights["b1"],
                "fc2.weight": weights["W2"].T,
                "fc2.bias": weights["b2"],
            }
        )
        self.criterion = nn.CrossEntropyLoss()
        parameters = self.model.parameters()
        if optimizer == "adam":
            self.optimizer = optim.Adam(parameters, lr=lr)
        else:
            self.optimizer = optim.SGD(parameters, lr=lr)

    def step(self, x, target, counter=None):
        torch = self.torch
        data, target = torch.from_numpy(x), torch.from_numpy(target)
        self.optimizer.zero_grad()
        output = self.model(data)
        loss = self.criterion(output, target)
        if counter is not None:
            from flowgraph.dynamic.autograd import reachable

            self.tape_nodes = len(reachable([loss]))
            self.forward_counts = counter.snapshot()
        loss.backward()
        self.optimizer.step()
        return loss.item()

    def weights(self) -> list:
        m = self.model
        return [
            m.fc1.weight.detach().numpy().T,
            m.fc1.bias.detach().numpy(),
            m.fc2.weight.detach().numpy().T,
            m.fc2.bias.detach().numpy(),
        ]


# ---- the comparison -----------------------------------------------------------------------------


def compare_mlp_step(
    batch: int = 100,
    steps: int = 20,
    seed: int = 0,
    optimizer: str = "sgd",
    lr: float | None = None,
    profiled_steps: int = 5,
    rtol: float | None = None,
    atol: float | None = None,
    blas_threads: int | None = 1,
) -> StepComparison:
    """Train the seed MLP ``steps`` (+ ``profiled_steps`` instrumented) steps in both modes
    from the same weights (``seed``) on the same MNIST batches; compare and measure.

    ``optimizer`` is ``"sgd"`` (lr 0.1 by default: the same update in TF1 and PyTorch; every
    step's loss and the final weights must match) or ``"adam"`` (lr 0.001, the seeds'): TF1's
    Adam adds epsilon to sqrt(v) where PyTorch adds it to sqrt(v / (1 - beta2^t)), so weights
    whose gradients are tiny (below ~1e-7, e.g. pixels that are almost always 0) move
    differently in the two seed programs: then only the losses are compared, to a looser
    tolerance, and the weight difference is reported. ``agree`` says whether what is compared
    matches within ``rtol`` / ``atol``; the report does not raise when it does not.

    ``blas_threads`` limits BLAS to that many threads while measuring (needs threadpoolctl;
    None: leave it): on a busy machine a multithreaded BLAS makes kernel times erratic.
    """
    with _blas_limited(blas_threads) as limited:
        report = _compare(batch, steps, seed, optimizer, lr, profiled_steps, rtol, atol)
    if blas_threads is not None and not limited:
        report.notes.append("BLAS threads not limited: install threadpoolctl")
    return report


@contextmanager
def _blas_limited(threads):
    if threads is None:
        yield False
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield False
        return
    with threadpool_limits(limits=threads, user_api="blas"):
        yield True


def _compare(batch, steps, seed, optimizer, lr, profiled_steps, rtol, atol) -> StepComparison:
    if optimizer not in ("sgd", "adam"):
        raise ValueError(f"optimizer must be 'sgd' or 'adam', got {optimizer!r}")
    if steps < 1 or profiled_steps < 1:
        raise ValueError("steps and profiled_steps must be at least 1")
    adam = optimizer == "adam"
    lr = lr if lr is not None else (0.001 if adam else 0.1)
    rtol = rtol if rtol is not None else (5e-3 if adam else 1e-4)
    atol = atol if atol is not None else (1e-4 if adam else 1e-6)
    weights = _initial_weights(seed)
    data = _batches(batch, steps + profiled_steps)
    notes = []

    static = _StaticProgram(weights, optimizer, lr)
    dynamic = _DynamicProgram(weights, optimizer, lr)

    static_times, dynamic_times, static_losses, dynamic_losses = [], [], [], []
    for x, onehot, target in data[:steps]:  # plain steps, taking turns, timed
        start = time.perf_counter()
        static_losses.append(static.step(x, onehot))
        static_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        dynamic_losses.append(dynamic.step(x, target))
        dynamic_times.append(time.perf_counter() - start)

    static_kernel, static_python, executed = _profile_static(static, data[steps:], static_losses)
    if not static_kernel:
        notes.append("static kernel time not measured: flowgraph.runtime.profiling is missing")
    dynamic_kernel, dynamic_python, counts = [], [], None
    for x, _, target in data[steps:]:  # instrumented steps
        with counting_kernels() as counter:
            start = time.perf_counter()
            dynamic_losses.append(dynamic.step(x, target, counter))
            total = time.perf_counter() - start
        dynamic_kernel.append(counter.kernel_ns / 1e9)
        dynamic_python.append(total - counter.kernel_ns / 1e9)
        counts = (counter, dynamic.forward_counts, dynamic.tape_nodes)

    counter, (forward_dispatched, forward_kernels, _), tape_nodes = counts
    dynamic_step = statistics.median(dynamic_times)
    dynamic_kernel_time = _kernel_share(dynamic_kernel, dynamic_python) * dynamic_step
    dynamic_stats = ModeStats(
        "dynamic",
        ops_executed_per_step=counter.kernels,
        ops_built_per_step=counter.dispatched,
        ops_built_once=0,
        step_time=dynamic_step,
        kernel_time=dynamic_kernel_time,
        python_time=dynamic_step - dynamic_kernel_time,
        first_step_time=dynamic_times[0],
        detail={
            "tape nodes recorded": tape_nodes,
            "forward kernels": forward_kernels,
            "backward kernels": counter.kernels - forward_kernels,
            "gradient ops built but never run": (counter.dispatched - forward_dispatched)
            - (counter.kernels - forward_kernels),
        },
    )
    static_step = statistics.median(static_times[1:] or static_times)
    static_kernel_time = (
        _kernel_share(static_kernel, static_python) * static_step if static_kernel else None
    )
    static_stats = ModeStats(
        "static",
        ops_executed_per_step=executed,
        ops_built_per_step=0,
        ops_built_once=static.ops_built,
        step_time=static_step,
        kernel_time=static_kernel_time,
        python_time=static_step - static_kernel_time if static_kernel else None,
        first_step_time=static_times[0],
        detail={
            "graph ops (built once)": static.ops_built,
            "plan nodes after passes (with constants)": static.planned_ops(),
            "plans compiled (init, step, profiled step)": static.session.compile_count,
            "graph build (ms)": f"{static.build_time * 1e3:.1f}",
        },
    )

    static_losses, dynamic_losses = np.array(static_losses), np.array(dynamic_losses)
    loss_diff = float(np.max(np.abs(static_losses - dynamic_losses)))
    weight_diff = 0.0
    agree = bool(np.allclose(static_losses, dynamic_losses, rtol=rtol, atol=atol))
    for a, b in zip(static.weights(), dynamic.weights()):
        weight_diff = max(weight_diff, float(np.max(np.abs(a - b))))
        if not adam:
            agree = agree and bool(np.allclose(a, b, rtol=rtol, atol=atol))
    if adam:
        notes.append(
            "adam: losses compared, weights not: TF1's and PyTorch's Adam place epsilon "
            "differently, which moves weights with tiny gradients differently"
        )
    notes.append(
        "dynamic mode: optimizer.step() updates the arrays in NumPy, outside the op library, "
        "so its work is in Python time, not in ops; static mode runs the update as graph ops"
    )
    static.session.close()
    return StepComparison(
        batch,
        steps,
        profiled_steps,
        optimizer,
        static_stats,
        dynamic_stats,
        static_losses,
        dynamic_losses,
        loss_diff,
        weight_diff,
        rtol,
        atol,
        agree,
        notes,
    )


def _kernel_share(kernel: list, python: list) -> float:
    """The median share of kernel time in the instrumented steps. The report applies it to
    the median *plain* step time, so kernels + Python always add up to the step time shown
    (instrumented steps run a little slower, and on a busy machine their median kernel time
    alone could exceed the plain steps' median)."""
    return statistics.median(k / (k + p) for k, p in zip(kernel, python) if k + p > 0)


def _profile_static(static: _StaticProgram, data, losses: list):
    """Run the profiled static steps: ``(kernel seconds, other seconds, ops executed)``, the
    times one per step; without a profiler, no times and the plan's op count."""
    try:
        from flowgraph.runtime.profiling import RunMetadata, RunOptions
    except ImportError:
        for x, onehot, _ in data:
            losses.append(static.step(x, onehot))
        return [], [], static.planned_ops()
    kernel, python, executed = [], [], 0
    options = RunOptions(trace_level=RunOptions.FULL_TRACE)
    for x, onehot, _ in data:
        metadata = RunMetadata()
        start = time.perf_counter()
        losses.append(static.step(x, onehot, options, metadata))
        total = time.perf_counter() - start
        kernel.append(sum(s.duration_ns for s in metadata.step_stats) / 1e9)
        python.append(total - kernel[-1])
        executed = len(metadata.step_stats)
    return kernel, python, executed
