"""One model format for every model kind: a folder with a JSON manifest and an array file.

``model.json`` (the manifest) records what the model is and who wrote it::

    {"format": "audioscene.model", "format_version": 1, "kind": "EventDetector",
     "written_by": {"audioscene": "0.1.0", "numpy": "...", "scikit-learn": "...",
                    "torch": "..." or null, "python": "..."},
     "params": {...}, "state": {...}, "children": {"embedder": {...}},
     "arrays": {"name": {"dtype": "<f8", "shape": [...]}, ...},
     "arrays_sha256": "..."}

``arrays.npz`` holds every array (``np.savez_compressed``, loaded with
``allow_pickle=False``: no pickle anywhere). A model made of other models (a classifier
with its embedder) stores each part as a *child*: its manifest entries under
``children[name]`` and its arrays under ``name/`` in the same file.

Loading checks, each failure one :class:`ModelFileError` line naming the file: the folder
holds a manifest of this format; its version is not newer than :data:`FORMAT_VERSION`;
the kind is one the caller accepts; the array file is readable, its SHA-256 is the one the
manifest recorded, and it holds exactly the arrays (names, dtypes, shapes) the manifest
lists. The manifest itself carries no checksum (its values may be edited by hand, e.g. a
decision threshold); a value that no longer makes sense is reported by the model's loader.

Examples
--------
>>> import tempfile
>>> d = tempfile.mkdtemp()
>>> rec = ModelRecord("Demo", params={"a": 1}, arrays={"w": np.arange(3.0)})
>>> _ = save_record(d, rec)
>>> back = load_record(d, "Demo")
>>> back.params, back.arrays["w"]
({'a': 1}, array([0., 1., 2.]))
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sys
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .io_utils import atomic_write_bytes, atomic_write_text, read_json

__all__ = ["FORMAT", "FORMAT_VERSION", "MANIFEST", "ARRAYS", "ModelFileError", "ModelRecord",
           "save_record", "load_record", "read_manifest", "model_kind", "library_versions",
           "rebuild", "Persistent", "label_array"]

FORMAT = "audioscene.model"
#: The manifest layout this version writes and the newest it reads.
FORMAT_VERSION = 1
MANIFEST = "model.json"
ARRAYS = "arrays.npz"

#: Files that earlier versions of audioscene wrote instead of ``model.json``.
LEGACY_FILES = ("detector.json", "gmm.json", "classifier.json", "lte.json", "carforest.json")


class ModelFileError(ValueError):
    """A model folder that cannot be loaded; the message is one line naming the file.

    Examples
    --------
    >>> str(ModelFileError("m/model.json", "not an audioscene model"))
    'm/model.json: not an audioscene model'
    """

    def __init__(self, path: str | os.PathLike, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason

    def __reduce__(self) -> tuple[Any, ...]:  # picklable for worker processes
        return (type(self), (self.path, self.reason))


@dataclass
class ModelRecord:
    """Everything a model kind saves: JSON-ready ``params`` (constructor arguments) and
    ``state`` (fitted values that are not arrays), plain ``arrays``, and sub-models.

    Examples
    --------
    >>> ModelRecord("CaRForest", params={"n_estimators": 5}).kind
    'CaRForest'
    """

    kind: str
    params: dict[str, Any] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    children: dict[str, ModelRecord] = field(default_factory=dict)
    #: Where it was read from (set by :func:`load_record`): errors name this file.
    source: str | None = None


def library_versions() -> dict[str, str | None]:
    """Versions of the libraries whose behaviour a model file depends on (``None``: not
    installed), read from the installed distributions' metadata without importing them.

    Examples
    --------
    >>> sorted(library_versions())
    ['audioscene', 'numpy', 'python', 'scikit-learn', 'torch']
    """
    from importlib import metadata

    from . import __version__

    out: dict[str, str | None] = {"audioscene": __version__, "python": sys.version.split()[0]}
    for dist in ("numpy", "scikit-learn", "torch"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    return out


def _flatten(rec: ModelRecord, prefix: str, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """The manifest entries of ``rec``; its arrays go into ``arrays`` under ``prefix``."""
    for k, v in rec.arrays.items():
        if "/" in k and k.split("/", 1)[0] in rec.children:
            raise ValueError(f"array name {k!r} collides with child {k.split('/', 1)[0]!r}")
        a = np.asarray(v)
        if a.dtype == object:
            raise TypeError(f"array {prefix}{k!r} has dtype object; model files hold no pickle")
        arrays[prefix + k] = a
    entry: dict[str, Any] = {"kind": rec.kind, "params": rec.params, "state": rec.state}
    if rec.children:
        entry["children"] = {name: _flatten(ch, f"{prefix}{name}/", arrays)
                             for name, ch in rec.children.items()}
    return entry


def label_array(labels: Any) -> np.ndarray:
    """Class labels as an array a model file can hold: an object array of strings,
    numbers or booleans becomes an array of that type; anything else is a ``TypeError``.

    Examples
    --------
    >>> label_array(np.array(["a", "b"], dtype=object)).dtype
    dtype('<U1')
    """
    a = np.asarray(labels)
    if a.dtype == object:
        a = np.asarray(a.tolist())
        if a.dtype == object:
            raise TypeError("class labels must be strings, numbers or booleans to be saved")
    return a


def save_record(directory: str | os.PathLike, record: ModelRecord) -> Path:
    """Write ``record`` into ``directory`` as ``arrays.npz`` then ``model.json``, each
    atomically (a reader never sees a half-written file; a crash between the two leaves a
    manifest whose checksum does not match, which loading reports).

    Returns
    -------
    Path
        The folder.

    Examples
    --------
    >>> save_record("models/demo", ModelRecord("Demo"))  # doctest: +SKIP
    PosixPath('models/demo')
    """
    d = Path(directory)
    arrays: dict[str, np.ndarray] = {}
    entry = _flatten(record, "", arrays)
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    data = buf.getvalue()
    manifest = {"format": FORMAT, "format_version": FORMAT_VERSION, "kind": record.kind,
                "written_by": library_versions(), "params": entry["params"],
                "state": entry["state"], "children": entry.get("children", {}),
                "arrays": {k: {"dtype": a.dtype.str, "shape": list(a.shape)}
                           for k, a in arrays.items()},
                "arrays_sha256": hashlib.sha256(data).hexdigest()}
    try:
        text = json.dumps(manifest, indent=1, allow_nan=False) + "\n"
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{record.kind}: parameters or state not JSON-ready ({exc})") from None
    atomic_write_bytes(d / ARRAYS, data)
    atomic_write_text(d / MANIFEST, text)
    return d


def read_manifest(directory: str | os.PathLike) -> dict[str, Any]:
    """Read and check a model folder's ``model.json`` (format and version only).

    Raises
    ------
    ModelFileError
        No manifest (naming an earlier version's file when there is one), not valid
        JSON, another format, or a newer format version.

    Examples
    --------
    >>> read_manifest("models/demo")["kind"]  # doctest: +SKIP
    'Demo'
    """
    d = Path(directory)
    p = d / MANIFEST
    if not p.is_file():
        if not d.exists():
            raise ModelFileError(d, "no such model folder")
        if not d.is_dir():
            raise ModelFileError(d, "not a model folder (a model is a folder with "
                                    f"{MANIFEST} and {ARRAYS})")
        old = [f for f in LEGACY_FILES if (d / f).is_file()]
        if old:
            raise ModelFileError(d / old[0], "a model file of an earlier audioscene version "
                                             f"(this version reads {MANIFEST}); train it again")
        raise ModelFileError(d, f"not a model folder (no {MANIFEST})")
    try:
        doc = read_json(p)
    except (OSError, ValueError) as exc:
        raise ModelFileError(p, str(exc).split(": ", 1)[-1]) from None
    if doc.get("format") != FORMAT:
        raise ModelFileError(p, "not an audioscene model manifest")
    ver = doc.get("format_version")
    if not isinstance(ver, int) or isinstance(ver, bool) or ver < 1:
        raise ModelFileError(p, f"invalid format_version {ver!r}")
    if ver > FORMAT_VERSION:
        raise ModelFileError(p, f"model format version {ver} is newer than this audioscene "
                                f"reads ({FORMAT_VERSION}); upgrade audioscene")
    for key, kind in (("kind", str), ("params", dict), ("state", dict), ("children", dict),
                      ("arrays", dict), ("arrays_sha256", str)):
        if not isinstance(doc.get(key), kind):
            raise ModelFileError(p, f"'{key}' is missing or not a {kind.__name__}")
    return doc


def model_kind(directory: str | os.PathLike) -> str:
    """The kind of model saved in ``directory`` (checks as :func:`read_manifest`).

    Examples
    --------
    >>> model_kind("models/demo")  # doctest: +SKIP
    'Demo'
    """
    return str(read_manifest(directory)["kind"])


def _read_npz(p: Path, expected_sha: str, listed: dict[str, Any]) -> dict[str, np.ndarray]:
    if not p.is_file():
        raise ModelFileError(p, "no such file")
    data = p.read_bytes()
    if not data:
        raise ModelFileError(p, "empty file")
    if hashlib.sha256(data).hexdigest() != expected_sha:
        raise ModelFileError(p, f"does not match {MANIFEST} (changed, damaged or truncated "
                                "after saving)")
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, OSError, KeyError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ModelFileError(p, f"unreadable array file ({reason})") from None
    if set(arrays) != set(listed):
        extra = sorted(set(arrays) ^ set(listed))
        raise ModelFileError(p, f"arrays differ from those {MANIFEST} lists ({extra[0]!r})")
    for k, a in arrays.items():
        spec = listed[k]
        if not isinstance(spec, dict) or spec.get("dtype") != a.dtype.str or \
                spec.get("shape") != list(a.shape):
            raise ModelFileError(p, f"array {k!r} differs from {MANIFEST} (dtype or shape)")
    return arrays


def _unflatten(entry: Any, prefix: str, arrays: dict[str, np.ndarray], p: Path,
               name: str) -> ModelRecord:
    if not isinstance(entry, dict) or not isinstance(entry.get("kind"), str):
        raise ModelFileError(p, f"child {name!r} is not a model entry")
    children = entry.get("children") or {}
    own = {k[len(prefix):]: a for k, a in arrays.items() if k.startswith(prefix)
           and not any(k.startswith(f"{prefix}{c}/") for c in children)}
    return ModelRecord(entry["kind"], dict(entry.get("params") or {}),
                       dict(entry.get("state") or {}), own,
                       {c: _unflatten(e, f"{prefix}{c}/", arrays, p, c)
                        for c, e in children.items()}, str(p))


def load_record(directory: str | os.PathLike, kinds: str | tuple[str, ...] | None = None
                ) -> ModelRecord:
    """Read a model folder written by :func:`save_record`.

    Parameters
    ----------
    directory : str or os.PathLike
        The model folder.
    kinds : str, tuple of str or None
        Accepted kinds (``None``: any).

    Raises
    ------
    ModelFileError
        See the module docstring.

    Examples
    --------
    >>> load_record("models/demo", "Demo").kind  # doctest: +SKIP
    'Demo'
    """
    d = Path(directory)
    doc = read_manifest(d)
    if isinstance(kinds, str):
        kinds = (kinds,)
    if kinds is not None and doc["kind"] not in kinds:
        want = " or ".join(kinds)
        a = "an" if want[:1] in "AEIOU" else "a"
        raise ModelFileError(d / MANIFEST, f"a {doc['kind']} model, not {a} {want}")
    arrays = _read_npz(d / ARRAYS, doc["arrays_sha256"], doc["arrays"])
    entry = {"kind": doc["kind"], "params": doc["params"], "state": doc["state"],
             "children": doc["children"]}
    return _unflatten(entry, "", arrays, d / MANIFEST, doc["kind"])


def rebuild(record: ModelRecord, build: Any) -> Any:
    """``build(record)``, with a missing or ill-typed entry reported as one
    :class:`ModelFileError` line naming the manifest.

    Examples
    --------
    >>> rebuild(ModelRecord("Demo", source="m/model.json"), lambda r: r.params["a"])
    Traceback (most recent call last):
    ...
    audioscene.persist.ModelFileError: m/model.json: Demo entry does not fit this version (KeyError: 'a')
    """
    try:
        return build(record)
    except ModelFileError:
        raise
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise ModelFileError(record.source or record.kind,
                             f"{record.kind} entry does not fit this version "
                             f"({type(exc).__name__}: {exc})") from None


class Persistent:
    """Mixin giving a model class ``save``/``load`` through this module, from its
    ``to_record()`` and ``from_record(record)``; the kind is the class name.

    Examples
    --------
    >>> class Demo(Persistent):
    ...     def __init__(self, a=1): self.a = a
    ...     def to_record(self): return ModelRecord("Demo", params={"a": self.a})
    ...     @classmethod
    ...     def from_record(cls, record): return cls(**record.params)
    >>> import tempfile
    >>> Demo.load(Demo(3).save(tempfile.mkdtemp())).a
    3
    """

    def to_record(self) -> ModelRecord:  # pragma: no cover - each model defines it
        raise NotImplementedError

    @classmethod
    def from_record(cls, record: ModelRecord) -> Any:  # pragma: no cover
        raise NotImplementedError

    def save(self, directory: str | os.PathLike) -> Path:
        """Write the model folder (``model.json`` and ``arrays.npz``, no pickle).

        Examples
        --------
        >>> model.save("models/m")  # doctest: +SKIP
        PosixPath('models/m')
        """
        return save_record(directory, self.to_record())

    @classmethod
    def load(cls, directory: str | os.PathLike) -> Any:
        """Read a folder written by :meth:`save` (outputs are identical); a folder of
        another kind, a newer format or a damaged file is one :class:`ModelFileError`.

        Examples
        --------
        >>> model = type(model).load("models/m")  # doctest: +SKIP
        """
        return rebuild(load_record(directory, cls.__name__), cls.from_record)
