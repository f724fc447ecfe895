"""DistributedSession: runs a graph's plans on a Dask cluster (``dask.distributed``)::

    with fg.Graph().as_default():
        with fg.device("/job:worker/task:1"):
            y = fg.constant(2.0) * 3.0
        with DistributedSession() as sess:  # starts a 2-worker LocalCluster on 127.0.0.1
            print(sess.run(y))  # 6.0

Each compiled plan is cut into segments (``flowgraph.distributed.partition``); a segment is
one ``client.submit`` task with ``workers=[address]`` restrictions and no retries, whose
arguments are the futures of the segments it reads from, so tensors cross workers through
Dask only. Results come back as NumPy; a kernel failing on a worker raises the same OpError
(class, op name, creation line, input shapes) that ``Session.run`` raises.

Guarantees on failure: every run waits with a deadline (``timeout``) and checks that the
workers it uses are alive, so a killed worker gives an ``UnavailableError`` naming it, never a
hang. A step's variable updates (phase 2) are submitted only after everything else of the step
(forward, gradients: phase 1) has succeeded; each worker applies its updates in one task that
puts the variables it writes back as they were if any update of it fails. So a failure in
phase 1 — an op error or a lost worker — leaves every variable as before the step. Only a
failure in the commit phase itself, across several variable-holding workers, can leave one
worker's variables updated and another's not (with all variables on one "ps" worker, as
``data_parallel`` lays them out, a step is all-or-nothing). Variables on a worker that died are
lost: restore them from a checkpoint.

After a worker dies, the run that needed it raises ``UnavailableError`` naming it. Every later
call first looks the workers up again: a worker the cluster started in its place (a nanny
restarts a killed worker, on a new port) takes over its task index, with an empty variable
store. So the documented recovery works: ``Saver.restore`` (or ``load_variables``) puts the
variables back, and training goes on. Until a replacement has joined, every method raises
``UnavailableError`` naming the lost worker at once; nothing waits for it.
"""

from __future__ import annotations

import time
import uuid

import numpy as np

from flowgraph import errors
from flowgraph.compiler.ir import op_device
from flowgraph.compiler.passes import DEFAULT_LEVEL
from flowgraph.compiler.plan import compile_plan
from flowgraph.compiler.plan_cache import PlanCache
from flowgraph.graph.default_stacks import get_default_graph
from flowgraph.ops.execution import failure_message
from flowgraph.ops.registry import get_op_def
from flowgraph.runtime.feeds import feed_key, feed_value
from flowgraph.runtime.fetches import as_fetch_element, flatten
from flowgraph.runtime.lifetime import SessionLifetime

from . import partition as part
from . import worker as remote
from .store import ContextView, Placed


def local_cluster(n_workers: int = 2):
    """A loopback ``LocalCluster`` (processes, one thread each, no dashboard) and its Client."""
    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        processes=True,
        n_workers=n_workers,
        threads_per_worker=1,
        host="127.0.0.1",
        dashboard_address=None,
    )
    return Client(cluster), cluster


class DistributedSession(SessionLifetime):
    """A Session whose plans run on a Dask cluster.

    ``DistributedSession(client=None, graph=None, timeout=60.0, level="O1", seed=None)``:
    ``client`` is a ``distributed.Client``; without one, a loopback 2-worker ``LocalCluster``
    is started (and closed with the session). Workers are indexed by their sorted addresses at
    creation: ``/job:worker/task:N`` and ``/job:ps/task:N`` run on worker N (``job_tasks``, a
    function ``(job, task) -> worker index``, changes that). ``timeout``: seconds a run may
    take before DeadlineExceededError.
    """

    def __init__(
        self,
        client=None,
        graph=None,
        timeout: float = 60.0,
        level: str = DEFAULT_LEVEL,
        seed=None,
        job_tasks=None,
    ) -> None:
        self.graph = graph if graph is not None else get_default_graph()
        self._own = None
        if client is None:
            client, cluster = local_cluster()
            self._own = cluster
        self.client = client
        self.client.wait_for_workers(1, timeout=timeout)
        self.workers = sorted(self.client.scheduler_info()["workers"])
        self._replaced: set = set()  # worker indices re-resolved to a new worker (empty store)
        self._check_workers = False  # set when a run lost a worker: look them up again
        self.timeout = timeout
        self.level = level
        self.seed = seed
        self.job_tasks = job_tasks
        self.session_id = uuid.uuid4().hex
        self._plans = PlanCache()
        self._closed = False
        self._default_cm = None
        self._runs = 0

    # ---- running ---------------------------------------------------------------------------
    def run(self, fetches, feed_dict=None):
        """Like ``Session.run``: values of ``fetches`` (any nesting) as NumPy arrays."""
        self._check_open()
        if isinstance(fetches, (list, tuple, dict)):
            elements, rebuild = flatten(fetches, self.graph)
        else:
            elements, rebuild = [as_fetch_element(fetches, self.graph)], None
        feeds = {}
        for key, value in (feed_dict or {}).items():
            tensor = feed_key(key, self.graph)
            feeds[tensor] = feed_value(tensor, value)
        dplan = self._plan_for(tuple(elements), feeds)
        if self._check_workers:
            self._resolve_workers()
        values = self._execute(dplan, feeds)
        out = []
        for v in values:
            if v is not None and np.ndim(v) == 0:
                v = np.asarray(v)[()]
            out.append(v)
        return out[0] if rebuild is None else rebuild(out)

    def _plan_for(self, elements, feeds):
        def compile_distributed():
            plan = compile_plan(list(elements), list(feeds), "numpy", self.level)
            return part.DistributedPlan(plan, len(self.workers), self.job_tasks)

        return self._plans.get_or_compile((elements, frozenset(feeds)), compile_distributed)

    @property
    def compile_count(self) -> int:
        """How many plans this session compiled (it keeps the 256 most recent)."""
        return self._plans.compiled

    def _execute(self, dplan, feeds):
        client = self.client
        self._runs += 1
        run_id = f"{self.session_id[:8]}-{self._runs}"
        fed = {f: feeds[f.origin] for f in dplan.plan.ir.feeds}
        futures: list = [None] * len(dplan.segments)
        deadline = time.monotonic() + self.timeout
        for phase in (1, 2):
            batch = []
            for seg in dplan.segments:
                if seg.phase != phase:
                    continue
                args = []
                for kind, key in seg.args:
                    args.append(fed[key] if kind == "feed" else futures[key])
                after = [futures[i] for i in sorted(seg.after)]
                name = seg.nodes[0].origin_name.replace("/", "_")
                fut = client.submit(
                    remote.run_segment,
                    self.session_id,
                    self.seed,
                    dplan.instructions[seg.index],
                    dplan.exports[seg.index],
                    dplan.names[seg.index] if phase == 2 else (),
                    *args,
                    *after,
                    key=f"fg-{name}-s{seg.index}-{run_id}",
                    workers=[self.workers[seg.worker]],
                    allow_other_workers=False,
                    pure=False,
                    retries=0,
                )
                futures[seg.index] = fut
                batch.append((seg, fut))
            self._wait(dplan, batch, deadline)
        values = []
        gathered: dict = {}
        for spec in dplan.outputs:
            if spec[0] == "none":
                values.append(None)
            elif spec[0] == "const":
                values.append(np.array(spec[1], copy=True))
            elif spec[0] == "feed":
                values.append(np.array(fed[spec[1]], copy=True))
            else:
                i = spec[1]
                if i not in gathered:
                    gathered[i] = futures[i].result()
                values.append(gathered[i][spec[2]])
        return values

    def _wait(self, dplan, batch, deadline) -> None:
        """Wait for ``batch`` ((segment, future) pairs): an op error is re-raised as the
        OpError naming its op; a lost worker or the deadline raise, never hang."""
        from distributed import wait

        pending = [f for _, f in batch]
        needed = {self.workers[seg.worker] for seg, _ in batch}
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self._cancel(pending)
                raise errors.DeadlineExceededError(
                    message=f"distributed run did not finish within {self.timeout:g} s"
                )
            try:
                wait(pending, timeout=min(left, 0.5))
                break
            except TimeoutError:
                alive = set(self.client.scheduler_info()["workers"])
                lost = sorted(needed - alive)
                if lost:
                    self._cancel(pending)
                    self._check_workers = True
                    raise errors.UnavailableError(
                        message=f"worker(s) {lost} left the cluster during the run; the step "
                        "was abandoned (variables placed there are lost: restore them from a "
                        "checkpoint)"
                    ) from None
        for seg, fut in batch:
            if fut.status == "error":
                exc = fut.exception()
                self._cancel(pending)
                raise self._translate(dplan, seg, exc) from None
        for seg, fut in batch:
            if fut.status != "finished":  # cancelled: a worker died while running it
                self._check_workers = True
                raise errors.UnavailableError(
                    message=f"a task on worker {self.workers[seg.worker]} was lost "
                    f"({fut.status}); the step was abandoned"
                )

    def _cancel(self, futures) -> None:
        try:
            self.client.cancel(futures)
        except Exception:  # noqa: BLE001, S110 - best effort while raising the real error
            pass

    def _translate(self, dplan, seg, exc):
        if not isinstance(exc, remote.RemoteOpError):
            name = type(exc).__name__
            if "KilledWorker" in name or "CommClosed" in name:
                self._check_workers = True
                return errors.UnavailableError(
                    message=f"worker {self.workers[seg.worker]} died while running a step: {exc}"
                )
            return exc
        node = dplan.node_at(seg.index, exc.position)
        if node is None:
            return errors.InternalError(message=exc.detail)
        op = node.origin
        shapes = ", ".join(str(s) for s in exc.shapes)
        message = failure_message(op.type, op.name, op.site, exc.detail, shapes)
        cls = getattr(errors, exc.error_class or "InvalidArgumentError", None)
        if not (isinstance(cls, type) and issubclass(cls, errors.OpError)):
            cls = errors.InvalidArgumentError
        if cls is errors.FailedPreconditionError and seg.worker in self._replaced:
            message += (
                f"\n  (worker {seg.worker} was replaced after a failure and holds no variables:"
                " restore them from a checkpoint)"
            )
        return cls(op=op, message=message)

    # ---- workers ---------------------------------------------------------------------------
    def _resolve_workers(self) -> None:
        """Look the cluster's workers up again: a worker that left is replaced, at its index,
        by one that joined since; UnavailableError naming it when none has."""
        try:
            alive = self.client.run_on_scheduler(remote.worker_addresses)
        except Exception as e:  # noqa: BLE001 - the scheduler itself is gone
            raise errors.UnavailableError(message=f"the Dask scheduler is unreachable: {e}") from e
        lost = [i for i, w in enumerate(self.workers) if w not in alive]
        if not lost:
            self._check_workers = False
            return
        spare = [w for w in alive if w not in self.workers]
        if len(spare) < len(lost):
            self._check_workers = True
            raise errors.UnavailableError(
                message=f"worker(s) {[self.workers[i] for i in lost]} left the cluster and no "
                "worker has joined in their place yet; retry once one has, then restore the "
                "variables placed there from a checkpoint"
            )
        for i, address in zip(lost, spare):
            self.workers[i] = address
            self._replaced.add(i)
        self._check_workers = False

    # ---- variables -------------------------------------------------------------------------
    def worker_of_variable(self, var_name: str) -> int:
        for op in self.graph.get_operations():
            if get_op_def(op.type).is_variable and op.attrs.get("var_name") == var_name:
                task = part.device_task(op_device(op))
                if task is None:
                    return 0
                return task[1] if self.job_tasks is None else self.job_tasks(*task)
        raise KeyError(var_name)

    def gather_variables(self, names=None) -> dict:
        """``{var_name: ndarray}``: copies of the variables held on the workers (a replaced
        worker holds none until they are restored). UnavailableError naming a lost worker."""
        self._check_open()
        self._resolve_workers()
        try:
            per_worker = self.client.run(
                remote.get_variables, self.session_id, names, workers=list(self.workers)
            )
        except Exception as e:  # noqa: BLE001 - a worker died meanwhile
            self._check_workers = True
            raise errors.UnavailableError(
                message=f"cannot read the variables from workers {self.workers}: {e}"
            ) from e
        merged: dict = {}
        for address in self.workers:
            merged.update(per_worker.get(address, {}))
        lost = [
            n
            for n in self._variables_on(self._replaced)
            if n not in merged and (names is None or n in names)
        ]
        if lost:
            raise errors.UnavailableError(
                message=f"variables {lost} were lost with a worker that left the cluster (its "
                "replacement holds none): restore them from a checkpoint (Saver.restore or "
                "load_variables)"
            )
        return merged

    def _variables_on(self, indices) -> list:
        """The store names of the graph's variables placed on the workers ``indices``."""
        if not indices:
            return []
        names = [
            op.attrs["var_name"]
            for op in self.graph.get_operations()
            if get_op_def(op.type).is_variable
        ]
        return [n for n in names if self.worker_of_variable(n) in indices]

    def load_variables(self, values: dict) -> None:
        """Put ``{var_name: array}`` on the workers the variables live on (within
        ``timeout``; UnavailableError naming a lost worker)."""
        self._check_open()
        self._resolve_workers()
        by_worker: dict = {}
        for name, value in values.items():
            by_worker.setdefault(self.worker_of_variable(name), {})[name] = np.asarray(value)
        futures = [
            self.client.submit(
                remote.put_variables,
                self.session_id,
                vals,
                workers=[self.workers[w]],
                allow_other_workers=False,
                pure=False,
            )
            for w, vals in by_worker.items()
        ]
        batch = [(Placed(w), f) for w, f in zip(by_worker, futures)]
        self._wait(None, batch, time.monotonic() + self.timeout)

    @property
    def _context(self):
        """What ``flowgraph.train.Saver`` reads and writes: a view of the workers' stores."""
        return ContextView(self)

    def backend_for(self, device: str):
        from flowgraph.backends import get_backend

        return get_backend("numpy")

    # ---- lifetime (opening, ``with``, closing: SessionLifetime) ----------------------------
    def _release(self) -> None:
        """Drop this session's variables on the workers; close a cluster it started."""
        self._plans.clear()
        try:
            self.client.run(remote.drop_session, self.session_id)
        except Exception:  # noqa: BLE001, S110 - workers may be gone already
            pass
        if self._own is not None:
            self.client.close()
            self._own.close()
