"""``FileWriter``: TF1's writer of TensorBoard event files.

What comes from the ``tensorboard`` package (``pip install "flowgraph[tensorboard]"``): the
``Event``, ``Summary``, ``GraphDef``, ``RunMetadata`` and ``StepStats`` protocol-buffer classes,
and ``EventFileWriter`` — which names the file ``events.out.tfevents.<time>.<host>.<pid>.<n>``,
frames each record (length, masked CRC32C of the length, data, masked CRC32C of the data), writes
the ``brain.Event:2`` version record first, and writes from a background thread with a bounded
queue (``max_queue``) flushed every ``flush_secs``. What flowgraph adds: turning its graphs and
traced runs into those protocol buffers, and TF1's ``FileWriter`` API on top.

>>> import tempfile
>>> import flowgraph as fg
>>> logdir = tempfile.mkdtemp()
>>> with fg.Graph().as_default() as g:
...     loss = fg.placeholder(fg.float32, [], name="x")
...     s = fg.summary.scalar("loss", loss)
...     with fg.Session() as sess, FileWriter(logdir, g) as writer:
...         for step in range(3):
...             writer.add_summary(sess.run(s, {loss: 1.0 / (step + 1)}), step)
>>> from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
>>> acc = EventAccumulator(logdir)
>>> _ = acc.Reload()
>>> [(e.step, round(e.value, 3)) for e in acc.Scalars("loss")]
[(0, 1.0), (1, 0.5), (2, 0.333)]
"""

from __future__ import annotations

import os
import time

import numpy as np

from flowgraph.ops.summary_proto import tensorboard_protos

CPU_DEVICE = "/job:localhost/replica:0/task:0/device:CPU:0"


class FileWriter:
    """Writes summaries, graphs and run metadata to an event file in ``logdir`` for TensorBoard
    (TF1's ``tf.summary.FileWriter``).

    ``graph`` (or a ``Session``'s graph via ``session=``) is written at once, as in TF1. Use it as
    a context manager, or call ``close()``; writing after ``close()`` is an error naming the file
    (``reopen()`` starts a new event file).
    """

    def __init__(
        self,
        logdir,
        graph=None,
        max_queue: int = 10,
        flush_secs: float = 120,
        graph_def=None,
        filename_suffix: str | None = None,
        session=None,
    ) -> None:
        tensorboard_protos()
        self._logdir = os.fspath(logdir)
        self._max_queue = max_queue
        self._flush_secs = flush_secs
        self._suffix = filename_suffix or ""
        self._writer = None
        self._open()
        if session is not None and graph is None:
            graph = session.graph
        if graph is not None or graph_def is not None:
            self.add_graph(graph, graph_def=graph_def)

    def _open(self) -> None:
        from tensorboard.summary.writer.event_file_writer import EventFileWriter

        try:
            os.makedirs(self._logdir, exist_ok=True)
            probe = os.path.join(self._logdir, ".flowgraph-write-test")
            with open(probe, "wb"):
                pass
            os.remove(probe)
        except OSError as e:  # the same kind of OSError, saying which logdir
            message = f"FileWriter cannot write event files to logdir {self._logdir!r}"
            raise type(e)(e.errno, f"{message}: {e.strerror or e}") from e
        self._writer = EventFileWriter(
            self._logdir, self._max_queue, self._flush_secs, self._suffix
        )
        self._path = self._writer._file_name  # noqa: SLF001 - the only place it is kept
        self._closed = False

    # ---- what TF1 programs call -----------------------------------------------------------
    def get_logdir(self) -> str:
        """The directory the event file is in."""
        return self._logdir

    @property
    def path(self) -> str:
        """The event file being written (``.../events.out.tfevents...``)."""
        return self._path

    def add_summary(self, summary, global_step=None) -> None:
        """Write a summary: the bytes ``sess.run`` returned for a summary op, or a ``Summary``
        protocol buffer; ``global_step`` is the x of TensorBoard's curves."""
        from tensorboard.compat.proto import event_pb2, summary_pb2

        if isinstance(summary, np.ndarray):
            summary = summary.item()
        if isinstance(summary, (bytes, bytearray)):
            parsed = summary_pb2.Summary()
            parsed.ParseFromString(bytes(summary))
            summary = parsed
        if not isinstance(summary, summary_pb2.Summary):
            raise TypeError(
                f"add_summary takes the serialized summary that sess.run returned (bytes) or a "
                f"Summary, not {type(summary).__name__}"
            )
        self.add_event(event_pb2.Event(summary=summary), global_step)

    def add_graph(self, graph, global_step=None, graph_def=None) -> None:
        """Write ``graph`` (a flowgraph Graph) as a GraphDef for TensorBoard's Graphs dashboard."""
        from tensorboard.compat.proto import event_pb2

        from flowgraph.summary.graph_def import to_graph_def

        if graph_def is None:
            graph_def = to_graph_def(graph)
        event = event_pb2.Event(graph_def=graph_def.SerializeToString())
        self.add_event(event, global_step)

    def add_run_metadata(self, run_metadata, tag: str, global_step=None) -> None:
        """Write a traced run's per-op compute time and memory (``run_metadata`` from
        ``sess.run(..., options=RunOptions(trace_level=FULL_TRACE), run_metadata=...)``) under
        ``tag``; the Graphs dashboard offers it as a run to color nodes by compute time."""
        from tensorboard.compat.proto import event_pb2

        proto = run_metadata_proto(run_metadata)
        tagged = event_pb2.TaggedRunMetadata(tag=tag, run_metadata=proto.SerializeToString())
        self.add_event(event_pb2.Event(tagged_run_metadata=tagged), global_step)

    def add_event(self, event, global_step=None) -> None:
        """Write one ``Event`` protocol buffer (wall time and step filled in if unset)."""
        if self._closed:
            raise RuntimeError(
                f"This FileWriter was closed; cannot write to {self._path!r} (call reopen() to "
                "start a new event file)"
            )
        if not event.wall_time:
            event.wall_time = time.time()
        if global_step is not None:
            event.step = int(global_step)
        self._writer.add_event(event)

    def flush(self) -> None:
        """Write everything queued to disk now."""
        if not self._closed:
            self._writer.flush()

    def close(self) -> None:
        """Flush and close the event file (closing twice is harmless)."""
        if not self._closed:
            self._writer.close()
            self._closed = True

    def reopen(self) -> None:
        """After ``close()``: start writing a new event file in the same logdir."""
        if self._closed:
            self._open()

    def __enter__(self) -> FileWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<FileWriter {self._path!r} ({state})>"


def run_metadata_proto(run_metadata):
    """flowgraph's ``RunMetadata`` (one ``OpStats`` per op that ran) as TensorBoard's
    ``RunMetadata``: ``step_stats`` with one ``NodeExecStats`` per op (start, compute time, output
    bytes as memory), on one CPU device."""
    from tensorboard.compat.proto import (
        allocation_description_pb2,
        config_pb2,
        step_stats_pb2,
        tensor_description_pb2,
    )

    if isinstance(run_metadata, config_pb2.RunMetadata):
        return run_metadata
    start_us = int(time.time() * 1e6)
    nodes = []
    for s in getattr(run_metadata, "step_stats", []):
        begin = s.start_ns // 1000
        took = max(1, s.duration_ns // 1000)  # the dashboard skips zero-time ops
        allocation = allocation_description_pb2.AllocationDescription(
            requested_bytes=s.output_bytes, allocated_bytes=s.output_bytes, allocator_name="cpu"
        )
        output = step_stats_pb2.NodeOutput(
            slot=0,
            tensor_description=tensor_description_pb2.TensorDescription(
                allocation_description=allocation
            ),
        )
        memory = step_stats_pb2.AllocatorMemoryUsed(
            allocator_name="cpu", total_bytes=s.output_bytes, peak_bytes=s.output_bytes
        )
        nodes.append(
            step_stats_pb2.NodeExecStats(
                node_name=s.name,
                all_start_micros=start_us + begin,
                op_start_rel_micros=0,
                op_end_rel_micros=took,
                all_end_rel_micros=took,
                timeline_label=f"{s.name} = {s.type}()",
                output=[output],
                memory=[memory],
            )
        )
    device = step_stats_pb2.DeviceStepStats(device=CPU_DEVICE, node_stats=nodes)
    return config_pb2.RunMetadata(step_stats=step_stats_pb2.StepStats(dev_stats=[device]))
