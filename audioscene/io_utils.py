"""Atomic file output: a temporary file in the destination folder, renamed into place,
so a crash or a failed input never leaves a half-written file behind."""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

__all__ = ["atomic_open", "atomic_write_text", "atomic_write_bytes", "atomic_save_npz",
           "read_model_json"]


_UMASK = os.umask(0)
os.umask(_UMASK)


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w") -> Iterator[IO[Any]]:
    """Open a temporary file next to ``path``; rename it to ``path`` on success.

    Parameters
    ----------
    path : str or os.PathLike
        Final destination; parent folders are created.
    mode : {"w", "wb"}
        Text or binary.

    Examples
    --------
    >>> with atomic_open("out.txt") as f:  # doctest: +SKIP
    ...     f.write("done\\n")
    """
    if mode not in ("w", "wb"):
        raise ValueError("mode must be 'w' or 'wb'")
    dest = Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    try:
        with os.fdopen(fd, mode, **({"encoding": "utf-8", "newline": ""} if mode == "w"
                                    else {})) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the usual file mode
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically and return the path.

    Examples
    --------
    >>> atomic_write_text("notes.txt", "hello\\n")  # doctest: +SKIP
    """
    with atomic_open(path, "w") as f:
        f.write(text)
    return Path(path)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically and return the path.

    Examples
    --------
    >>> atomic_write_bytes("blob.bin", b"\\x00")  # doctest: +SKIP
    """
    with atomic_open(path, "wb") as f:
        f.write(data)
    return Path(path)


def atomic_save_npz(path: str | os.PathLike, **arrays: Any) -> Path:
    """``np.savez_compressed`` to ``path`` atomically; no object arrays (no pickle).

    Examples
    --------
    >>> atomic_save_npz("x.npz", a=np.zeros(3))  # doctest: +SKIP
    """
    buf = io.BytesIO()
    for k, v in arrays.items():
        if np.asarray(v).dtype == object:
            raise TypeError(f"array {k!r} has dtype object; model files hold no pickle")
    np.savez_compressed(buf, **arrays)
    return atomic_write_bytes(path, buf.getvalue())


def read_model_json(path: str | os.PathLike, kind: str) -> dict[str, Any]:
    """Read a saved model's JSON description, checking that its ``type`` is
    ``audioscene.<kind>``; a missing file or another type is an error naming the file.

    Examples
    --------
    >>> meta = read_model_json("runs/esc10/model/classifier.json", "ClipClassifier")  # doctest: +SKIP
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p}: not a {kind} model folder")
    meta = json.loads(p.read_text())
    if meta.get("type") != f"audioscene.{kind}":
        raise ValueError(f"{p}: not a {kind} model")
    return meta
