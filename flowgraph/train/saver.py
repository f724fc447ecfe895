"""Saving and restoring variables (TF1's ``tf.train.Saver``), in flowgraph's checkpoint format.

A :class:`Saver` reads the values of its variables out of a Session's variable store and
writes them as a checkpoint (``<prefix>.npz`` plus ``<prefix>.index.json``, see
:mod:`flowgraph.io.checkpoint`); ``restore`` checks a checkpoint against the variables —
names, shapes and dtypes — and puts the values straight into the session's store, with no
new graph ops. So restoring stands in for running the initializers.

>>> import os, tempfile
>>> import flowgraph as fg
>>> from flowgraph.train.saver import Saver, latest_checkpoint
>>> tmp = tempfile.mkdtemp()
>>> with fg.Graph().as_default():
...     w = fg.Variable([1.0, 2.0], name="w")
...     bump = w.assign_add([10.0, 10.0])
...     saver = Saver()
...     with fg.Session() as sess:
...         _ = sess.run(fg.global_variables_initializer())
...         _ = sess.run(bump)
...         path = saver.save(sess, os.path.join(tmp, "model"), global_step=1)
...     with fg.Session() as sess:  # a new session: no initializer needed
...         saver.restore(sess, latest_checkpoint(tmp))
...         print(os.path.basename(path), sess.run(w))
model-1 [11. 12.]
"""

from __future__ import annotations

import os
import warnings

import numpy as np

from flowgraph.errors import (
    DataLossError,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    UnimplementedError,
)
from flowgraph.graph.default_stacks import get_default_graph
from flowgraph.graph.graph import GraphKeys
from flowgraph.graph.tensor import Tensor
from flowgraph.io import checkpoint
from flowgraph.ops.registry import get_op_def
from flowgraph.train.checkpoint_management import get_checkpoint_state, latest_checkpoint

__all__ = ["Saver", "get_checkpoint_state", "latest_checkpoint"]


def _variable_tensor(var) -> Tensor:
    ref = var._as_graph_tensor() if hasattr(var, "_as_graph_tensor") else var
    if not isinstance(ref, Tensor) or not get_op_def(ref.op.type).is_variable:
        raise TypeError(f"Saver: expected a Variable, got {var!r}")
    return ref


def _state_or_none(directory: str, latest_filename: str | None = None):
    try:
        return checkpoint.get_checkpoint_state(directory, latest_filename)
    except DataLossError:  # a corrupted state file is rewritten by this save
        return None


def _same(a: str, b: str) -> bool:
    return os.path.abspath(a) == os.path.abspath(b)


def _same_any(a: str, paths) -> bool:
    return any(_same(a, p) for p in paths)


class Saver:
    """Saves and restores variables.

    ``var_list``: a list of Variables (saved under their op names, ``dense/kernel``) or a
    dict name -> Variable; by default every global variable of the default graph at
    construction. ``max_to_keep``: how many recent checkpoints :meth:`save` keeps; older
    ones are deleted (None or 0 keeps all). Those an earlier process recorded in the
    directory's state file count too, from this saver's first save there on.
    """

    def __init__(
        self,
        var_list=None,
        reshape=False,
        sharded=False,
        max_to_keep: int | None = 5,
        keep_checkpoint_every_n_hours=10000.0,
        name=None,
        restore_sequentially=False,
        saver_def=None,
        builder=None,
        defer_build=False,
        allow_empty=False,
        write_version=2,
        pad_step_number=False,
        save_relative_paths=False,
        filename=None,
    ) -> None:
        # TF1's other options describe its own file layout (shards, V1/V2 formats, when to
        # build the save ops); flowgraph has one format and builds nothing, so they change
        # nothing here.
        self._pad_step_number = bool(pad_step_number)
        if var_list is None:
            var_list = get_default_graph().get_collection(GraphKeys.GLOBAL_VARIABLES)
        if isinstance(var_list, dict):
            items = list(var_list.items())
        else:
            items = [(_variable_tensor(v).op.name, v) for v in var_list]
        if not items and not allow_empty:
            raise ValueError("Saver: there are no variables to save")
        self._vars: dict[str, Tensor] = {}
        for name, var in items:
            if not isinstance(name, str) or not name:
                raise TypeError(f"Saver: variable names must be non-empty strings, got {name!r}")
            if name in self._vars:
                raise ValueError(f"Saver: two variables are saved under the name {name!r}")
            self._vars[name] = _variable_tensor(var)
        self.max_to_keep = max_to_keep
        self._last: list[str] = []  # prefixes this saver wrote and keeps, oldest first
        self._directories: set = set()  # where it has saved (and read the state file)

    @property
    def last_checkpoints(self) -> list[str]:
        """The prefixes of the checkpoints this saver has written and not deleted, oldest first."""
        return list(self._last)

    # ---- saving ------------------------------------------------------------------------------
    def save(
        self,
        sess,
        save_path: str,
        global_step=None,
        latest_filename: str | None = None,
        meta_graph_suffix: str = "meta",
        write_meta_graph: bool = True,
        write_state: bool = True,
        strip_default_attrs: bool = False,
        save_debug_info: bool = False,
    ) -> str:
        """Write the variables' values in ``sess`` to ``save_path`` (suffixed ``-<step>`` when
        ``global_step`` — an int, or a Variable / Tensor evaluated in ``sess`` — is given).

        Returns the checkpoint's prefix. As in TF1: ``write_state`` updates the directory's
        state file (``checkpoint``, or ``latest_filename``) and deletes checkpoints beyond
        ``max_to_keep``; ``write_meta_graph`` also writes the graph, collections included, to
        ``<prefix>.<meta_graph_suffix>`` for :func:`import_meta_graph`. FailedPreconditionError
        naming the variable if one is uninitialized in ``sess`` (and nothing is written).
        """
        del strip_default_attrs, save_debug_info  # TF1 options about its protobuf meta graph
        if not self._vars:  # allow_empty=True and nothing to save: TF1 returns None
            return None
        sess._check_open()
        prefix = os.fspath(save_path)
        if global_step is not None:
            if not isinstance(global_step, (int, np.integer)):
                global_step = sess.run(global_step)
            step = int(global_step)
            prefix = f"{prefix}-{step:08d}" if self._pad_step_number else f"{prefix}-{step}"
        store = sess._context.variables
        arrays = {}
        for name, ref in self._vars.items():
            var_name = ref.op.attrs["var_name"]
            if var_name not in store:
                raise FailedPreconditionError(
                    message=f"Cannot save variable {name!r}: it is uninitialized in this session "
                    f"(attempting to use uninitialized value {var_name}). Run its initializer "
                    "or restore it first."
                )
            to_host = sess.backend_for(ref.op.device).to_host  # a variable lives on its device
            arrays[name] = np.asarray(to_host(store[var_name]))
        checkpoint.write_checkpoint(prefix, arrays)
        if write_meta_graph:
            self._write_meta_graph(sess.graph, f"{prefix}.{meta_graph_suffix}")
        if write_state:
            self._record(prefix, latest_filename, meta_graph_suffix)
        return prefix

    @staticmethod
    def _write_meta_graph(graph, path: str) -> None:
        from flowgraph.train.meta_graph import export_meta_graph

        try:
            export_meta_graph(path, graph=graph)
        except UnimplementedError as e:  # an attribute with no JSON form: keep the checkpoint
            warnings.warn(f"Saver: the meta graph {path!r} was not written: {e}", stacklevel=3)

    def export_meta_graph(self, filename=None, **kwargs) -> dict:
        """Write the default graph to ``filename`` (see :func:`export_meta_graph`)."""
        from flowgraph.train.meta_graph import export_meta_graph

        return export_meta_graph(filename, **kwargs)

    def _record(self, prefix: str, latest_filename=None, meta_suffix="meta") -> None:
        directory = os.path.dirname(os.path.abspath(prefix))
        state = _state_or_none(directory, latest_filename)
        pending = state["deleting"] if state else []
        if state and directory not in self._directories:
            # The first save here: the checkpoints earlier processes kept count too (TF1
            # needs recover_last_checkpoints for that; TF2's CheckpointManager does it too).
            earlier = [
                os.path.abspath(p)
                for p in state["all_model_checkpoint_paths"]
                if checkpoint.checkpoint_exists(p)
            ]
            self._last = [p for p in earlier if p not in self._last] + self._last
        self._directories.add(directory)
        self._last = [p for p in self._last if not _same(p, prefix)] + [prefix]
        doomed = []
        if self.max_to_keep and len(self._last) > self.max_to_keep:
            doomed, self._last = self._last[: -self.max_to_keep], self._last[-self.max_to_keep :]
        here = [p for p in self._last if os.path.dirname(os.path.abspath(p)) == directory]
        # The state file moves on before old files go, so it never names a deleted checkpoint
        # as kept; it lists them as being deleted, for the next save if this one is killed.
        deleting = [p for p in pending + doomed if not _same_any(p, here)]
        checkpoint.update_checkpoint_state(directory, prefix, here, deleting, latest_filename)
        for old in deleting:
            checkpoint.remove_checkpoint(old)
            if os.path.isfile(f"{old}.{meta_suffix}"):
                os.remove(f"{old}.{meta_suffix}")

    # ---- restoring ---------------------------------------------------------------------------
    def restore(self, sess, save_path: str) -> None:
        """Load checkpoint ``save_path`` (a prefix, as :meth:`save` returns) into ``sess``.

        The checkpoint must hold this saver's variables with their shapes and dtypes; other
        variables in it are ignored (TF1: ``Saver(var_list)`` restores just its list).
        NotFoundError when a variable is missing from it, InvalidArgumentError when a shape or
        dtype differs — each naming the file and listing every difference. Nothing is
        assigned unless everything matches.
        """
        if save_path is None:
            raise ValueError("Saver.restore: save_path is None (no checkpoint was found?)")
        sess._check_open()
        prefix = os.fspath(save_path)
        if not os.path.isfile(checkpoint.index_path(prefix)):
            raise NotFoundError(
                message=f"Failed to find a checkpoint at {prefix!r}: "
                f"{checkpoint.index_path(prefix)!r} does not exist"
            )
        arrays = checkpoint.read_checkpoint(prefix)
        self._check_matches(prefix, arrays)
        store = sess._context.variables
        for name, ref in self._vars.items():
            # Training ops update stored arrays in place: each must be writable and its own.
            value = np.require(arrays[name], requirements=["C", "W", "O"])
            store[ref.op.attrs["var_name"]] = sess.backend_for(ref.op.device).from_host(value)

    def _check_matches(self, prefix: str, arrays: dict) -> None:
        def spec(dtype_name, shape) -> str:
            return f"{dtype_name}{list(shape)}"

        missing = [n for n in self._vars if n not in arrays]
        wrong = []
        for name, ref in self._vars.items():
            if name not in arrays:
                continue
            value = arrays[name]
            if value.dtype.name != ref.dtype.name or not ref.shape.is_compatible_with(value.shape):
                shape = list(ref.shape.dims) if ref.shape.rank is not None else "<unknown rank>"
                wrong.append(
                    f"  {name!r}: checkpoint has {spec(value.dtype.name, value.shape)}, "
                    f"the graph's variable is {ref.dtype.name}{shape}"
                )
        if not (missing or wrong):
            return
        lines = [f"Restoring from checkpoint {checkpoint.data_path(prefix)!r} failed:"]
        if missing:
            lines.append(f"  variables not found in the checkpoint: {missing}")
        if wrong:
            lines.append("  shape or dtype differs:")
            lines.extend(wrong)
        error = NotFoundError if missing else InvalidArgumentError
        raise error(message="\n".join(lines))
