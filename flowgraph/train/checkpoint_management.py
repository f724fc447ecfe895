"""Finding checkpoints (TF1's ``tf.train.get_checkpoint_state``, ``latest_checkpoint``,
``checkpoint_exists``) from the ``checkpoint`` state file a :class:`~flowgraph.train.Saver`
keeps next to its checkpoints.

>>> import tempfile
>>> with tempfile.TemporaryDirectory() as d:
...     print(get_checkpoint_state(d), latest_checkpoint(d))
None None
"""

from __future__ import annotations

import os

from flowgraph.io import checkpoint

__all__ = ["CheckpointState", "checkpoint_exists", "get_checkpoint_state", "latest_checkpoint"]


class CheckpointState(dict):
    """What :func:`get_checkpoint_state` returns: TF1's ``ckpt.model_checkpoint_path`` and
    ``ckpt.all_model_checkpoint_paths`` as attributes (and, as before, as dict keys)."""

    @property
    def model_checkpoint_path(self) -> str:
        """The prefix of the newest checkpoint."""
        return self["model_checkpoint_path"]

    @property
    def all_model_checkpoint_paths(self) -> list[str]:
        """The prefixes of the checkpoints kept, oldest first."""
        return self["all_model_checkpoint_paths"]


def get_checkpoint_state(checkpoint_dir, latest_filename=None) -> CheckpointState | None:
    """The state of ``checkpoint_dir`` (read from its ``checkpoint`` file, or
    ``latest_filename``), or None when there is none — the TF1 pattern::

        ckpt = tf.train.get_checkpoint_state(model_dir)
        if ckpt and ckpt.model_checkpoint_path:
            saver.restore(sess, ckpt.model_checkpoint_path)
    """
    state = checkpoint.get_checkpoint_state(os.fspath(checkpoint_dir), latest_filename)
    return None if state is None else CheckpointState(state)


def latest_checkpoint(checkpoint_dir, latest_filename=None) -> str | None:
    """The prefix of the newest checkpoint in ``checkpoint_dir`` whose files exist, or None."""
    return checkpoint.latest_checkpoint(os.fspath(checkpoint_dir), latest_filename)


def checkpoint_exists(checkpoint_prefix) -> bool:
    """Whether a checkpoint with this prefix (as :meth:`Saver.save` returned it) exists."""
    return checkpoint.checkpoint_exists(os.fspath(checkpoint_prefix))
