"""Atomic file output: a temporary file in the destination folder, renamed into place,
so a crash or a failed input never leaves a half-written file behind."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

__all__ = ["atomic_open", "atomic_write_text", "atomic_write_bytes", "atomic_save_npz",
           "read_json", "read_arrays"]


_UMASK = os.umask(0)
os.umask(_UMASK)


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w") -> Iterator[IO[Any]]:
    """Open a temporary file next to ``path``; rename it to ``path`` on success.

    The temporary file is ``.<name>.<random>.part`` in the destination's folder. After a
    successful rename, leftovers of earlier interrupted writes to the same destination
    (``.<name>.XXXXXXXX.part`` files that were in the folder when this process first
    wrote there and were last modified before this write began, such as a killed process
    leaves) are removed.

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
    started = time.time()
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
    _remove_stale_parts(dest, started)


_PART = re.compile(r"^\.(?P<name>.+)\.[A-Za-z0-9_]{8}\.part$")
#: Per folder: the temporary files (by destination name) found at the first write there.
_PARTS_FOUND: dict[Path, dict[str, list[Path]]] = {}


def _remove_stale_parts(dest: Path, before: float) -> None:
    """Remove the ``.<name>.XXXXXXXX.part`` leftovers of ``dest`` (``mkstemp``'s names)
    last modified before ``before``. A folder is listed once per process, at its first
    write, so a batch into one folder lists it once."""
    folder = dest.parent.resolve()
    found = _PARTS_FOUND.get(folder)
    if found is None:
        found = _PARTS_FOUND[folder] = {}
        with contextlib.suppress(OSError):
            for entry in os.scandir(folder):
                m = _PART.match(entry.name)
                if m:
                    found.setdefault(m["name"], []).append(Path(entry.path))
    for q in found.pop(dest.name, []):
        with contextlib.suppress(OSError):
            if q.stat().st_mtime < before:
                q.unlink()


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


def read_json(path: str | os.PathLike) -> dict[str, Any]:
    """Read a JSON object from a file; a missing, empty or malformed file is one error
    naming the file (and the line and column for malformed JSON).

    Examples
    --------
    >>> import tempfile
    >>> d = tempfile.mkdtemp()
    >>> _ = Path(d, "bad.json").write_text('{"a": 1,')
    >>> read_json(Path(d, "bad.json"))
    Traceback (most recent call last):
    ...
    ValueError: .../bad.json: not valid JSON (line 1, column 9: Expecting property name enclosed in double quotes)
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{p}: no such file")
    try:
        doc = json.loads(p.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{p}: not valid JSON (line {exc.lineno}, column {exc.colno}: "
                         f"{exc.msg})") from None
    except UnicodeDecodeError:
        raise ValueError(f"{p}: not a text file") from None
    if not isinstance(doc, dict):
        raise ValueError(f"{p}: expected a JSON object, found {type(doc).__name__}")
    return doc


class _Arrays(dict):
    """Arrays read from one file; a missing name is an error naming the file."""

    path: Path

    def __missing__(self, key: str) -> np.ndarray:
        raise ValueError(f"{self.path}: no array {key!r} in it (damaged, or not written "
                         "by this version)")


def read_arrays(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read every array of an ``.npz`` file (no pickle) into memory; a missing, empty,
    truncated or corrupt file, or a missing array name later, is one error naming the
    file.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp(), "x.npz")
    >>> _ = atomic_save_npz(p, a=np.arange(3))
    >>> read_arrays(p)["a"]
    array([0, 1, 2])
    >>> _ = p.write_bytes(p.read_bytes()[:40])
    >>> read_arrays(p)
    Traceback (most recent call last):
    ...
    ValueError: .../x.npz: unreadable array file (...)
    """
    import zipfile
    import zlib

    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{p}: no such file")
    if p.stat().st_size == 0:
        raise ValueError(f"{p}: empty file")
    try:
        with np.load(p, allow_pickle=False) as z:
            out = _Arrays({k: z[k] for k in z.files})
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, OSError, KeyError,
            TypeError, AttributeError) as exc:  # the last two: an .npy, not an archive
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValueError(f"{p}: unreadable array file ({reason})") from None
    out.path = p
    return out
