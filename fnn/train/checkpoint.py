"""Save and load parameter pytrees as ``.npz`` files, never with pickle.

The file is an ordinary npz archive: one ``.npy`` entry per leaf, keyed by the leaf's
path (``"dense_0/w"``), plus ``__fnn_treedef__``, a 0-d string array holding the
structure as JSON. Containers may be dicts with str keys, lists, tuples and None;
leaves may be numpy arrays, Python scalars or fnn Arrays. ``load`` returns numpy
arrays as leaves (Python scalars come back as 0-d arrays); convert with
``tree_map(fnn.numpy.asarray, params)`` if you want fnn Arrays.

Example:
    >>> import tempfile, os, numpy as np
    >>> p = os.path.join(tempfile.mkdtemp(), "params.npz")
    >>> save(p, {"dense": {"w": np.ones((2, 3), np.float32), "b": None}, "steps": (1, 2)})
    >>> params = load(p)
    >>> params["dense"]["w"].shape, params["dense"]["b"], type(params["steps"])
    ((2, 3), None, <class 'tuple'>)
"""

from __future__ import annotations

import json
import os
import zipfile
from typing import Any

import numpy as np

from fnn.distributed import runtime
from fnn.train._atomic import atomic_write
from fnn.tree_util import PyTreeDef, tree_flatten

__all__ = ["CheckpointError", "save", "load"]

TREEDEF_KEY = "__fnn_treedef__"
FORMAT = "fnn.checkpoint"
VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint file that cannot be read: foreign, corrupt, or of the wrong structure."""


# -- structure <-> JSON ---------------------------------------------------------
#
# JSON form: a leaf is {"leaf": "<npz key>"}, None is null, a dict is
# {"dict": [[key, child], ...]} (a list of pairs keeps tree_util's key order
# explicit), a list is {"list": [...]} and a tuple is {"tuple": [...]}.


def _join(path: str, part: str) -> str:
    return f"{path}/{part}" if path else part


def _encode(treedef: PyTreeDef, path: str, keys: list[str]) -> Any:
    """The JSON form of ``treedef``; appends each leaf's npz key to ``keys``."""
    if treedef.node is None:
        key = path or "leaf"
        # Keys must be unique: a dict key "a/b" and nested "a" -> "b" share a path.
        n, base = 1, key
        while key in keys or key == TREEDEF_KEY:
            key, n = f"{base}~{n}", n + 1
        keys.append(key)
        return {"leaf": key}
    name = treedef.node.name
    if name == "NoneType":
        return None
    if name == "dict":
        bad = [k for k in treedef.aux if not isinstance(k, str)]
        if bad:
            raise TypeError(
                f"save: dict keys must be str to be stored, got {bad[0]!r} "
                f"({type(bad[0]).__name__}) at {path or 'the root'!r}; convert keys with str()"
            )
        return {
            "dict": [
                [k, _encode(c, _join(path, k), keys)]
                for k, c in zip(treedef.aux, treedef.children, strict=True)
            ]
        }
    if name in ("list", "tuple") and treedef.aux is None:
        kids = enumerate(treedef.children)
        return {name: [_encode(c, _join(path, str(i)), keys) for i, c in kids]}
    raise TypeError(
        f"save: cannot store a {name} container at {path or 'the root'!r}; checkpoints hold "
        "dicts with str keys, lists, tuples, None and array leaves (convert a namedtuple "
        "with ._asdict(), a custom node to a dict)"
    )


def _decode(node: Any, leaves: dict[str, np.ndarray]) -> Any:
    if node is None:
        return None
    if isinstance(node, dict) and len(node) == 1:
        ((kind, body),) = node.items()
        if kind == "leaf" and isinstance(body, str):
            return leaves[body]
        if kind == "dict" and isinstance(body, list):
            return {k: _decode(c, leaves) for k, c in body}
        if kind == "list" and isinstance(body, list):
            return [_decode(c, leaves) for c in body]
        if kind == "tuple" and isinstance(body, list):
            return tuple(_decode(c, leaves) for c in body)
    raise ValueError(f"unknown structure node {json.dumps(node)[:80]}")


def _leaf_keys(node: Any) -> list[str]:
    if node is None:
        return []
    ((kind, body),) = node.items()
    if kind == "leaf":
        return [body]
    children = [c for _, c in body] if kind == "dict" else body
    return [k for c in children for k in _leaf_keys(c)]


def _describe(node: Any) -> str:
    if node is None:
        return "None"
    ((kind, body),) = node.items()
    if kind == "leaf":
        return "an array leaf"
    if kind == "dict":
        return f"a dict with keys {[k for k, _ in body]}"
    return f"a {kind} of length {len(body)}"


def _children(node: Any, path: str) -> list[tuple[str, Any]]:
    """``(path, child)`` pairs of a JSON structure node (none for leaves and None)."""
    if node is None or "leaf" in node:
        return []
    if "dict" in node:
        return [(_join(path, k), c) for k, c in node["dict"]]
    body = next(iter(node.values()))
    return [(_join(path, str(i)), c) for i, c in enumerate(body)]


def _first_difference(a: Any, b: Any, path: str = "") -> str | None:
    """Where two JSON structures first differ, as a sentence, or None if equal."""
    if _describe(a) != _describe(b):
        where = repr(path) if path else "the root"
        return f"at {where} the file has {_describe(a)} but the template has {_describe(b)}"
    for (p, ca), (_, cb) in zip(_children(a, path), _children(b, path), strict=True):
        diff = _first_difference(ca, cb, p)
        if diff:
            return diff
    return None


# -- save -------------------------------------------------------------------------


def _as_array(leaf: Any, key: str) -> np.ndarray:
    arr = np.asarray(leaf)
    if arr.dtype.hasobject:
        # Object arrays need pickle to be stored; refuse rather than silently pickling.
        raise TypeError(
            f"save: leaf {key!r} ({type(leaf).__name__}) converts to an object "
            "array, which cannot be stored without pickle; leaves must be numeric/bool/str "
            "arrays, Python scalars or fnn Arrays"
        )
    return arr


def save(path: str | os.PathLike, params: Any, *, all_processes: bool = False) -> None:
    """Write a pytree of arrays to ``path`` as an npz file, atomically and without pickle.

    Under several processes (``fnn.distributed``) only the main process writes (the
    parameters are the same on every process) and the others return at once, unless
    ``all_processes=True`` (a file per process: give each its own ``path``). Every
    process can then :func:`load` the file from a shared file system, whatever the
    number of processes: a run may resume on more or fewer of them.

    The file is written exactly at ``path`` (no ``.npz`` is appended). It is first
    written to a hidden temporary file in the same folder, flushed to disk and then
    moved into place, so a crash mid-write leaves any previous checkpoint intact. An
    interrupted save (any exception, ``KeyboardInterrupt`` and ``SystemExit`` included,
    so also SIGTERM under a handler that calls ``sys.exit``) removes the temporary
    file. The checkpoint gets mode ``0o666`` less the umask, like ``open(path, "w")``.

    Example:
        >>> import tempfile, os, numpy as np
        >>> p = os.path.join(tempfile.mkdtemp(), "ckpt.npz")
        >>> save(p, {"w": np.zeros(3), "layers": [np.ones(2), None]})
        >>> sorted(np.load(p).files)
        ['__fnn_treedef__', 'layers/0', 'w']
    """
    leaves, treedef = tree_flatten(params)
    keys: list[str] = []
    structure = _encode(treedef, "", keys)
    if not (all_processes or runtime.is_main_process()):
        return  # checked after the structure, so a bad tree fails on every process
    arrays = [_as_array(leaf, key) for leaf, key in zip(leaves, keys, strict=True)]
    header = json.dumps({"format": FORMAT, "version": VERSION, "tree": structure})
    with atomic_write(path, "wb") as f, zipfile.ZipFile(f, "w", zipfile.ZIP_STORED) as zf:
        entries = [(TREEDEF_KEY, np.array(header)), *zip(keys, arrays, strict=True)]
        for key, arr in entries:
            with zf.open(key + ".npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, arr, allow_pickle=False)


# -- load -------------------------------------------------------------------------


def _read_structure(name: str, npz: Any) -> Any:
    if TREEDEF_KEY not in npz.files:
        shown = sorted(npz.files)[:8]
        raise CheckpointError(
            f"load: {name!r} is an npz file but was not written by fnn.train.save "
            f"(no {TREEDEF_KEY!r} entry; it holds {shown}{'...' if len(npz.files) > 8 else ''})"
        )
    try:
        header = json.loads(str(npz[TREEDEF_KEY][()]))
        ok = header.get("format") == FORMAT and "tree" in header
    except (ValueError, TypeError, AttributeError) as e:
        raise CheckpointError(f"load: {name!r} has an unreadable {TREEDEF_KEY!r} entry: {e}") from e
    if not ok:
        raise CheckpointError(f"load: {name!r}: {TREEDEF_KEY!r} is not an fnn checkpoint header")
    if header.get("version") != VERSION:
        raise CheckpointError(
            f"load: {name!r} has checkpoint format version {header.get('version')!r}; "
            f"this fnn reads version {VERSION}"
        )
    return header["tree"]


def _check_like(name: str, tree: Any, leaves: dict[str, np.ndarray], like: Any) -> None:
    like_leaves, like_def = tree_flatten(like)
    like_keys: list[str] = []
    like_tree = _encode(like_def, "", like_keys)
    diff = _first_difference(tree, like_tree)
    if diff:
        raise CheckpointError(f"load: {name!r} does not match the template: {diff}")
    for key, leaf in zip(like_keys, like_leaves, strict=True):
        got = leaves[key]
        # Accept shape/dtype descriptors (e.g. ShapeDtypeStruct-likes) without converting.
        if hasattr(leaf, "shape") and hasattr(leaf, "dtype"):
            shape, dtype = tuple(leaf.shape), np.dtype(leaf.dtype)
        else:
            ref = np.asarray(leaf)
            shape, dtype = ref.shape, ref.dtype
        if got.shape != shape or got.dtype != dtype:
            raise CheckpointError(
                f"load: {name!r} does not match the template at {key!r}: the file has "
                f"{got.dtype}{list(got.shape)}, the template {dtype}{list(shape)}"
            )


def load(path: str | os.PathLike, like: Any = None) -> Any:
    """Read a pytree written by :func:`save`; leaves come back as numpy arrays.

    With ``like`` (a template pytree, e.g. freshly initialised params), the file's
    structure, shapes and dtypes must match it, else :class:`CheckpointError` names
    the first mismatch. A file not written by :func:`save` also raises
    :class:`CheckpointError` (a ``ValueError``). Nothing is ever unpickled.

    Example:
        >>> import tempfile, os, numpy as np
        >>> p = os.path.join(tempfile.mkdtemp(), "ckpt.npz")
        >>> save(p, {"w": np.arange(3.0)})
        >>> load(p, like={"w": np.zeros(3)})["w"]
        array([0., 1., 2.])
    """
    name = os.fspath(path)
    if not os.path.isfile(name):
        raise FileNotFoundError(f"load: no checkpoint file at {name!r}")
    if not zipfile.is_zipfile(name):
        raise CheckpointError(
            f"load: {name!r} is not an npz file (not a zip archive, or truncated); expected a "
            "checkpoint written by fnn.train.save"
        )
    try:
        with np.load(name, allow_pickle=False) as npz:
            tree = _read_structure(name, npz)
            try:
                wanted = _leaf_keys(tree)
            except (ValueError, TypeError, AttributeError) as e:
                raise CheckpointError(f"load: {name!r} has a malformed structure: {e}") from e
            missing = [k for k in wanted if k not in npz.files]
            if missing:
                raise CheckpointError(f"load: {name!r} is missing the leaf entries {missing[:5]}")
            leaves = {k: npz[k] for k in wanted}
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        raise CheckpointError(f"load: {name!r} is corrupt or truncated: {e}") from e
    except ValueError as e:
        if isinstance(e, CheckpointError):
            raise
        # np.load raises ValueError for object arrays (allow_pickle=False) and bad headers.
        raise CheckpointError(f"load: {name!r} has an unreadable entry: {e}") from e
    if like is not None:
        _check_like(name, tree, leaves, like)
    try:
        return _decode(tree, leaves)
    except (ValueError, TypeError) as e:
        raise CheckpointError(f"load: {name!r} has a malformed structure: {e}") from e
