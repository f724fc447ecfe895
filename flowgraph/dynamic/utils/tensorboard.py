"""``SummaryWriter``: PyTorch's ``torch.utils.tensorboard`` spelling for define-by-run programs.

A thin layer over the same ``FileWriter`` and Summary encoders that the graph-mode
``flowgraph.summary`` ops use, so TensorBoard sees the same event files either way. Values may be
flowgraph.dynamic tensors, NumPy arrays or Python numbers. Needs ``pip install
"flowgraph[tensorboard]"``.

>>> import tempfile
>>> import flowgraph.dynamic as torch
>>> from flowgraph.dynamic.utils.tensorboard import SummaryWriter
>>> logdir = tempfile.mkdtemp()
>>> with SummaryWriter(logdir) as writer:
...     for step in range(3):
...         loss = torch.tensor(1.0) / (step + 1)
...         writer.add_scalar("loss", loss, step)
>>> from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
>>> acc = EventAccumulator(logdir)
>>> _ = acc.Reload()
>>> [(e.step, round(e.value, 2)) for e in acc.Scalars("loss")]
[(0, 1.0), (1, 0.5), (2, 0.33)]
"""

from __future__ import annotations

import os
import socket
from datetime import datetime

import numpy as np

from flowgraph.ops import summary_proto
from flowgraph.summary.writer import FileWriter

__all__ = ["SummaryWriter"]


def _array(value) -> np.ndarray:
    """A tensor, array or number as a NumPy array on the host."""
    if hasattr(value, "detach") and hasattr(value, "numpy"):
        value = value.detach().numpy()
    elif hasattr(value, "get") and not isinstance(value, np.ndarray):
        value = value.get()  # CuPy
    return np.asarray(value)


class SummaryWriter:
    """Writes scalars, histograms, images and text for TensorBoard, as PyTorch's does.

    ``log_dir`` defaults to ``runs/<date>_<host><comment>``; ``max_queue``, ``flush_secs`` and
    ``filename_suffix`` are passed to the event-file writer. Use it as a context manager, or call
    ``close()``.
    """

    def __init__(
        self,
        log_dir=None,
        comment: str = "",
        purge_step=None,
        max_queue: int = 10,
        flush_secs: float = 120,
        filename_suffix: str = "",
    ) -> None:
        if log_dir is None:
            stamp = datetime.now().strftime("%b%d_%H-%M-%S")
            log_dir = os.path.join("runs", f"{stamp}_{socket.gethostname()}{comment}")
        self.log_dir = os.fspath(log_dir)
        self.file_writer = FileWriter(
            self.log_dir, max_queue=max_queue, flush_secs=flush_secs,
            filename_suffix=filename_suffix,
        )  # fmt: skip

    def get_logdir(self) -> str:
        return self.log_dir

    def _write(self, serialized: bytes, global_step, walltime) -> None:
        from tensorboard.compat.proto import event_pb2

        event = event_pb2.Event(summary=summary_proto.parse(serialized))
        if walltime is not None:
            event.wall_time = float(walltime)
        self.file_writer.add_event(event, global_step)

    def add_scalar(self, tag: str, scalar_value, global_step=None, walltime=None) -> None:
        """One point of the curve ``tag`` at ``global_step``; ValueError for a non-scalar."""
        value = _array(scalar_value)
        if value.size != 1:
            raise ValueError(
                f"add_scalar({tag!r}) needs a single number, got shape {list(value.shape)}"
            )
        self._write(summary_proto.scalar_summary(tag, value.item()), global_step, walltime)

    def add_scalars(self, main_tag: str, tag_scalar_dict: dict, global_step=None, walltime=None):
        """Several curves ``main_tag/<name>`` at once (in this writer's run)."""
        for name, value in tag_scalar_dict.items():
            self.add_scalar(f"{main_tag}/{name}", value, global_step, walltime)

    def add_histogram(
        self, tag: str, values, global_step=None, bins="tensorflow", walltime=None
    ) -> None:
        """A histogram of ``values``: TF's default buckets (``bins="tensorflow"``), or NumPy's
        ``np.histogram`` bins (an int, a sequence of edges, or a rule name like ``"auto"``)."""
        values = _array(values).astype(np.float64)
        if bins == "tensorflow":
            serialized = summary_proto.histogram_summary(tag, values)
        else:
            serialized = summary_proto.numpy_histogram_summary(tag, values, bins)
        self._write(serialized, global_step, walltime)

    def add_image(
        self, tag: str, img_tensor, global_step=None, walltime=None, dataformats: str = "CHW"
    ) -> None:
        """One image; floats are taken to be in [0, 1] (times 255), uint8 as is, as PyTorch."""
        image = _array(img_tensor)
        layout = dataformats.upper()
        if image.ndim != len(layout) or not set(layout) <= set("CHW") or "H" not in layout:
            raise ValueError(
                f"add_image({tag!r}): dataformats {dataformats!r} does not fit an image of "
                f"shape {list(image.shape)}"
            )
        if "C" not in layout:
            image, layout = image[..., None], layout + "C"
        image = np.transpose(image, [layout.index(c) for c in "HWC"])
        if image.dtype != np.uint8:
            image = np.clip(image.astype(np.float64) * 255.0, 0, 255).astype(np.uint8)
        serialized = summary_proto.image_summary(tag, image[None], max_outputs=1)
        # One image keeps the tag it was given, as PyTorch does (not ``tag/image``).
        summary = summary_proto.parse(serialized)
        summary.value[0].tag = tag
        self._write(summary.SerializeToString(), global_step, walltime)

    def add_text(self, tag: str, text_string: str, global_step=None, walltime=None) -> None:
        """Markdown text for the Text dashboard."""
        strings = np.array(text_string.encode("utf-8"), dtype=object)
        self._write(summary_proto.text_summary(tag, strings), global_step, walltime)

    def add_graph(self, model, input_to_model=None, verbose: bool = False) -> None:
        """The ops one forward pass of ``model(input_to_model)`` records on the tape, as a graph
        for the Graphs dashboard (parameters appear as placeholders; see ``tape_to_graph``)."""
        from flowgraph.dynamic.to_graph import tape_to_graph

        inputs = input_to_model if isinstance(input_to_model, (list, tuple)) else [input_to_model]
        output = model(*inputs)
        outputs = list(output) if isinstance(output, (list, tuple)) else [output]
        graph, _ = tape_to_graph(outputs)
        if verbose:
            print(graph)
        self.file_writer.add_graph(graph)

    def flush(self) -> None:
        self.file_writer.flush()

    def close(self) -> None:
        self.file_writer.close()

    def __enter__(self) -> SummaryWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
