"""The checkpoint format: variable values in an ``.npz``, described by a JSON index.

A checkpoint with prefix ``runs/model-100`` is two files:

- ``runs/model-100.npz``: a NumPy archive written by ``np.savez`` (no pickles) with one
  array per variable, keyed by the variable's name (``dense/kernel``), so
  ``np.load("runs/model-100.npz")["dense/kernel"]`` reads one back;
- ``runs/model-100.index.json``: ``{"format": "flowgraph-checkpoint", "version": 1,
  "data": "model-100.npz", "variables": [{"name", "key", "dtype", "shape"}, ...]}``.
  ``key`` is the array's name in the archive: the variable's name, except for the few names
  ``np.savez`` reserves for itself (``file``, ``allow_pickle``).

A directory of checkpoints has a state file ``checkpoint``: ``{"format":
"flowgraph-checkpoint-state", "version": 1, "model_checkpoint_path": "model-100",
"all_model_checkpoint_paths": [...]}`` — paths relative to the directory, oldest first —
which :func:`latest_checkpoint` reads.

Every file is written atomically (temporary file, fsync, ``os.replace``), the data and
index before the state file, so a save that fails midway leaves the previous checkpoint
loadable. Reading never unpickles (``allow_pickle=False``); a truncated or corrupted file
raises :class:`~flowgraph.errors.DataLossError` naming it.

>>> import os, tempfile
>>> import numpy as np
>>> with tempfile.TemporaryDirectory() as d:
...     prefix = os.path.join(d, "model-1")
...     write_checkpoint(prefix, {"w": np.ones((2, 3), np.float32)})
...     update_checkpoint_state(d, prefix, [prefix])
...     print(latest_checkpoint(d) == prefix, read_checkpoint(prefix)["w"].shape)
True (2, 3)
"""

from __future__ import annotations

import inspect
import json
import math
import os
import zipfile

import numpy as np

from flowgraph.errors import DataLossError, NotFoundError
from flowgraph.io import files

FORMAT = "flowgraph-checkpoint"
STATE_FORMAT = "flowgraph-checkpoint-state"
VERSION = 1
STATE_FILENAME = "checkpoint"

# Element types a checkpoint may hold: plain numbers and bools, never Python objects.
_DTYPES = frozenset(
    "bool int8 int16 int32 int64 uint8 uint16 uint32 uint64 float16 float32 float64".split()
)
# Names np.savez takes as its own arguments; such variables are stored under another key.
_RESERVED_KEYS = frozenset({"file", "allow_pickle", "args", "kwds"})
_SAVEZ_HAS_ALLOW_PICKLE = "allow_pickle" in inspect.signature(np.savez).parameters


def data_path(prefix: str) -> str:
    return prefix + ".npz"


def index_path(prefix: str) -> str:
    return prefix + ".index.json"


def checkpoint_exists(prefix: str) -> bool:
    """Whether both files of the checkpoint ``prefix`` exist."""
    return os.path.isfile(data_path(prefix)) and os.path.isfile(index_path(prefix))


# ---- writing ------------------------------------------------------------------------------


def _keys_for(names) -> dict[str, str]:
    taken = set(names)
    keys = {}
    for i, name in enumerate(names):
        key = name
        while key in _RESERVED_KEYS or (key != name and key in taken):
            key = f"_var{i}_{key}"
        taken.add(key)
        keys[name] = key
    return keys


def write_checkpoint(prefix: str, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` (name -> NumPy array) as the checkpoint ``prefix``, atomically.

    Both files are written to temporary files first, then moved into place; if anything
    fails, the temporary files are removed and the exception propagates.
    """
    arrays = {name: np.asarray(value, order="C") for name, value in arrays.items()}
    for name, value in arrays.items():
        if not isinstance(name, str) or not name:
            raise ValueError(f"Checkpoint entry names must be non-empty strings, got {name!r}")
        if value.dtype.name not in _DTYPES:
            raise TypeError(
                f"Cannot checkpoint {name!r}: dtype {value.dtype} is not a plain numeric type"
            )
    keys = _keys_for(list(arrays))
    index = {
        "format": FORMAT,
        "version": VERSION,
        "data": os.path.basename(data_path(prefix)),
        "variables": [
            {"name": n, "key": keys[n], "dtype": a.dtype.name, "shape": list(a.shape)}
            for n, a in arrays.items()
        ],
    }
    by_key = {keys[n]: a for n, a in arrays.items()}
    extra = {"allow_pickle": False} if _SAVEZ_HAS_ALLOW_PICKLE else {}
    directory = os.path.dirname(os.path.abspath(prefix))
    os.makedirs(directory, exist_ok=True)
    files.remove_stale_temps(directory, _is_checkpoint_file)  # left by killed saves
    tmp_data = files.write_temp(data_path(prefix), lambda f: np.savez(f, **by_key, **extra))
    try:
        text = json.dumps(index, indent=1).encode()
        tmp_index = files.write_temp(index_path(prefix), lambda f: f.write(text))
    except BaseException:
        files.discard(tmp_data)
        raise
    files.commit([(tmp_data, data_path(prefix)), (tmp_index, index_path(prefix))])


def _is_checkpoint_file(name: str) -> bool:
    return name == STATE_FILENAME or name.endswith((".npz", ".index.json"))


def remove_checkpoint(prefix: str) -> None:
    """Delete the files of checkpoint ``prefix`` (those that exist): the index first, so a
    process killed in between leaves unlisted data, never an index naming missing data."""
    files.discard(index_path(prefix))
    files.discard(data_path(prefix))


# ---- reading ------------------------------------------------------------------------------


def _load_json(path: str, what: str):
    try:
        with open(path, "rb") as f:
            return json.loads(f.read().decode("utf-8"))
    except FileNotFoundError:
        raise NotFoundError(message=f"{what} {path!r} does not exist") from None
    except (ValueError, UnicodeDecodeError) as e:  # JSONDecodeError is a ValueError
        raise DataLossError(message=f"{what} {path!r} is corrupted (not valid JSON): {e}") from e


def read_index(prefix: str) -> list[dict]:
    """The entries of checkpoint ``prefix``'s index: ``{"name", "key", "dtype", "shape"}``.

    NotFoundError if the index file is missing; DataLossError if it is malformed.
    """
    path = index_path(prefix)
    doc = _load_json(path, "Checkpoint index")

    def bad(why: str) -> DataLossError:
        return DataLossError(message=f"Checkpoint index {path!r} is corrupted: {why}")

    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise bad(f"it is not a {FORMAT!r} file")
    if doc.get("version") != VERSION:
        raise bad(f"unsupported version {doc.get('version')!r} (this flowgraph reads {VERSION})")
    entries = doc.get("variables")
    if not isinstance(entries, list):
        raise bad("'variables' must be a list")
    names, keys = set(), set()
    for i, e in enumerate(entries):
        if not (
            isinstance(e, dict)
            and set(e) == {"name", "key", "dtype", "shape"}
            and isinstance(e["name"], str)
            and isinstance(e["key"], str)
            and isinstance(e["dtype"], str)
            and e["dtype"] in _DTYPES
            and isinstance(e["shape"], list)
            and all(type(d) is int and d >= 0 for d in e["shape"])
        ):
            raise bad(f"entry {i} is not {{name, key, dtype, shape}}: {e!r}"[:300])
        if e["name"] in names or e["key"] in keys:
            raise bad(f"entry {i} repeats the name {e['name']!r} or key {e['key']!r}")
        names.add(e["name"])
        keys.add(e["key"])
    return entries


def read_checkpoint(prefix: str) -> dict[str, np.ndarray]:
    """The arrays of checkpoint ``prefix`` (name -> array), in index order.

    Checks that the archive holds exactly what the index lists, with those shapes and dtypes.
    NotFoundError if a file is missing; DataLossError naming the file if one is truncated,
    corrupted or inconsistent with the other.
    """
    entries = read_index(prefix)
    path = data_path(prefix)
    if not os.path.isfile(path):
        raise NotFoundError(message=f"Checkpoint data file {path!r} does not exist")
    out = {}
    try:
        with np.load(path, allow_pickle=False) as archive:
            if not isinstance(archive, np.lib.npyio.NpzFile):
                raise ValueError("it is a single .npy array, not an .npz archive")
            found = set(archive.files)
            wanted = {e["key"] for e in entries}
            if found != wanted:
                raise _mismatch(
                    prefix, f"it holds {sorted(found)}, the index lists {sorted(wanted)}"
                )
            for e in entries:
                _check_declared_size(archive, e, path)
                value = archive[e["key"]]
                if value.dtype.name != e["dtype"] or list(value.shape) != e["shape"]:
                    raise _mismatch(
                        prefix,
                        f"array {e['name']!r} is {value.dtype.name}{list(value.shape)}, the "
                        f"index says {e['dtype']}{e['shape']}",
                    )
                out[e["name"]] = value
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as e:
        raise DataLossError(
            message=f"Checkpoint data file {path!r} is truncated or corrupted: {e}"
        ) from e
    return out


# Deflate expands at most ~1032 times: a compressed entry can hold no more than this.
_MAX_DEFLATE_RATIO = 1032
_HEADER_READERS = {
    (1, 0): np.lib.format.read_array_header_1_0,
    (2, 0): np.lib.format.read_array_header_2_0,
}


def _check_declared_size(archive, entry: dict, path: str) -> None:
    """Before NumPy allocates an array: its header's size must fit in what the file holds (a
    crafted header claiming 8 TB would otherwise raise MemoryError, or allocate it)."""
    info = archive.zip.getinfo(entry["key"] + ".npy")
    with archive.zip.open(info) as f:
        version = np.lib.format.read_magic(f)
        reader = _HEADER_READERS.get(version)
        if reader is None:
            raise ValueError(f"array {entry['name']!r} has .npy format version {version}")
        shape, _, dtype = reader(f)
        header = f.tell()
    if dtype.hasobject:
        raise ValueError(f"array {entry['name']!r} holds Python objects")
    nbytes = math.prod(shape) * dtype.itemsize
    if info.compress_type == zipfile.ZIP_STORED:
        room = info.compress_size - header
    else:
        room = info.compress_size * _MAX_DEFLATE_RATIO
    if nbytes > min(info.file_size - header, room) or info.compress_size > os.path.getsize(path):
        raise ValueError(
            f"array {entry['name']!r} claims {nbytes} bytes ({dtype}{list(shape)}), but the "
            f"file holds {info.compress_size} bytes for it"
        )


def _mismatch(prefix: str, why: str) -> DataLossError:
    return DataLossError(
        message=f"Checkpoint data file {data_path(prefix)!r} does not match its index "
        f"{index_path(prefix)!r}: {why}"
    )


# ---- the directory's state file -----------------------------------------------------------


def _relative(directory: str, prefix: str) -> str:
    if os.path.abspath(os.path.dirname(prefix)) == os.path.abspath(directory):
        return os.path.basename(prefix)
    return os.path.abspath(prefix)


def update_checkpoint_state(
    directory: str,
    latest: str,
    all_paths: list[str],
    deleting: list[str] = (),
    latest_filename: str | None = None,
) -> None:
    """Record ``latest`` and the kept checkpoints ``all_paths`` in ``directory/checkpoint``
    (or ``directory/<latest_filename>``); ``deleting``: checkpoints about to be deleted, so that
    a save killed while deleting them leaves their names for the next save to finish the job
    (see ``Saver``)."""
    state = {
        "format": STATE_FORMAT,
        "version": VERSION,
        "model_checkpoint_path": _relative(directory, latest),
        "all_model_checkpoint_paths": [_relative(directory, p) for p in all_paths],
    }
    if deleting:
        state["deleting"] = [_relative(directory, p) for p in deleting]
    path = os.path.join(directory, latest_filename or STATE_FILENAME)
    files.atomic_write_bytes(path, json.dumps(state, indent=1).encode())


def get_checkpoint_state(directory: str, latest_filename: str | None = None) -> dict | None:
    """``{"model_checkpoint_path", "all_model_checkpoint_paths", "deleting"}`` (full
    prefixes) of ``directory``, or None when it has no state file (``checkpoint``, or
    ``latest_filename``). DataLossError if that file is corrupted.
    """
    path = os.path.join(directory, latest_filename or STATE_FILENAME)
    if not os.path.isfile(path):
        return None
    doc = _load_json(path, "Checkpoint state file")
    if not isinstance(doc, dict):
        doc = {}
    latest = doc.get("model_checkpoint_path")
    kept = doc.get("all_model_checkpoint_paths")
    deleting = doc.get("deleting", [])
    if (
        doc.get("format") != STATE_FORMAT
        or doc.get("version") != VERSION
        or not isinstance(latest, str)
        or not isinstance(kept, list)
        or not all(isinstance(p, str) for p in kept)
        or not isinstance(deleting, list)
        or not all(isinstance(p, str) for p in deleting)
    ):
        raise DataLossError(message=f"Checkpoint state file {path!r} is corrupted")
    return {
        "model_checkpoint_path": os.path.join(directory, latest),
        "all_model_checkpoint_paths": [os.path.join(directory, p) for p in kept],
        "deleting": [os.path.join(directory, p) for p in deleting],
    }


def latest_checkpoint(checkpoint_dir: str, latest_filename: str | None = None) -> str | None:
    """The prefix of the newest checkpoint in ``checkpoint_dir``, or None if there is none.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     print(latest_checkpoint(d))
    None
    """
    state = get_checkpoint_state(checkpoint_dir, latest_filename)
    if state is None:
        return None
    prefix = state["model_checkpoint_path"]
    return prefix if checkpoint_exists(prefix) else None
