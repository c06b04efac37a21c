"""Users' own training data in ordinary layouts: class folders, file lists, annotated
recordings.

Three layouts are read, each into a :class:`~audioscene.datasets.Dataset`:

* **class folders** (:func:`read_class_folders`): ``DATA/<class>/.../<file>``; the class
  is the name of the first folder below ``DATA`` (any name: spaces, unicode, mixed
  case); files may lie in nested folders below it; every extension of
  :data:`~audioscene.datasets.AUDIO_EXTENSIONS` counts, in any case. Names starting with
  ``.`` are skipped.
* **file lists** (:func:`read_file_list`): a CSV or TSV of ``file,label`` rows (``file,
  tag;tag`` for multi-label data), an optional header row and an optional third column
  ``recording``; relative paths are relative to the list's folder. A row whose file is
  missing is left out, with one line saying so to ``warn`` when given (the command line
  prints it); the rest is read.
* **detector data** (:func:`read_detector_data`): audio files with an annotation file of
  the same stem in the same folder, or in a sibling folder named ``annotation``,
  ``annotations``, ``labels`` or ``meta`` (any event-list format the package reads:
  DCASE text, CSV, JSON, Audacity labels, Raven selection tables), are *annotated
  recordings*; audio files without one that lie in a class folder are *isolated event
  sounds* of that class.

The **recording id** of a file (:func:`recording_id`), which keeps one recording on one
side of every split, is, in this order: the ``recording`` column of a file list; the
Freesound id of an ESC-style name ``F-ID-T`` (one digit, digits, one capital letter, e.g.
``1-100032-A``); the folder the
file lies in when that folder is below its class folder (``dog/session 1/a.wav`` and
``dog/session 1/b.wav`` are one recording); else the file itself.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..events import EventFormatError, EventList, event_list_stem
from .readers import AUDIO_EXTENSIONS, Dataset, DatasetError, Item, list_audio

__all__ = ["read_class_folders", "read_file_list", "read_training_data",
           "read_detector_data", "recording_id", "ANNOTATION_EXTENSIONS",
           "ANNOTATION_FOLDERS"]

#: Extensions of annotation files matched to audio files by stem.
ANNOTATION_EXTENSIONS = (".txt", ".csv", ".tsv", ".json", ".lab")

_FREESOUND = re.compile(r"[1-9]-(\d+)-[A-Z]")

#: Sibling folders of an audio folder that may hold its annotations (any case).
ANNOTATION_FOLDERS = ("annotation", "annotations", "labels", "meta")


def _visible(p: Path, root: Path) -> bool:
    return not any(part.startswith(".") for part in p.relative_to(root).parts)


def _audio_under(folder: Path) -> list[Path]:
    return [p for p in list_audio(folder, recursive=True) if p.is_file()]


def recording_id(path: str | os.PathLike, class_dir: str | os.PathLike | None = None) -> str:
    """The recording a file belongs to (see the module docstring for the rules).

    Parameters
    ----------
    path : str or path-like
        Audio file.
    class_dir : str, path-like or None
        Its class folder; a file in a folder below it takes that folder as recording.

    Returns
    -------
    str

    Examples
    --------
    >>> recording_id("dog/1-100032-A.ogg")
    'freesound:100032'
    >>> recording_id("dog/session 1/a.wav", "dog")
    'dog/session 1'
    >>> recording_id("dog/a.wav", "dog")
    'dog/a.wav'
    >>> recording_id("diary/2023-05-12.wav")
    'diary/2023-05-12.wav'
    """
    p = Path(path)
    m = _FREESOUND.fullmatch(p.stem)
    if m:
        return f"freesound:{m.group(1)}"
    if class_dir is not None:
        c = Path(class_dir)
        rel = p.parent.relative_to(c) if p.parent != c and c in p.parents else None
        if rel is not None:
            return (Path(c.name) / rel).as_posix()
        return (Path(c.name) / p.name).as_posix()
    return p.as_posix()


def read_class_folders(root: str | os.PathLike) -> Dataset:
    """A folder of class folders: ``root/<class>/.../<audio file>``.

    Parameters
    ----------
    root : str or path-like
        The folder holding one folder per class.

    Returns
    -------
    Dataset
        ``task="scene"``; ``Item.recording`` from :func:`recording_id`.

    Raises
    ------
    DatasetError
        ``root`` is missing, or holds no class folder with audio.

    Examples
    --------
    >>> ds = read_class_folders("my_sounds")  # doctest: +SKIP
    >>> ds.classes  # doctest: +SKIP
    ['Dog', 'rain on roof']
    """
    base = Path(root)
    if not base.is_dir():
        raise DatasetError(f"{base}: no such folder")
    items = []
    for d in sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith(".")):
        items += [Item(p, label=d.name, recording=recording_id(p, d)) for p in _audio_under(d)]
    if not items:
        raise DatasetError(f"{base}: no class folders with audio files "
                           f"({', '.join(AUDIO_EXTENSIONS)}) in it")
    return Dataset(base.name, "scene", base, items, sorted({it.label for it in items}))


_HEADER_FILE = {"file", "filename", "path", "audio", "audio_file", "filepath"}


def read_file_list(path: str | os.PathLike, *, multi_label: bool = False,
                   warn: Callable[[str], Any] | None = None) -> Dataset:
    """A CSV or TSV list of ``file,label[,recording]`` rows (``file,tag;tag`` with
    ``multi_label``).

    Blank lines and lines starting with ``#`` are skipped. The delimiter is a tab when
    the first other line has one, else a comma; that line is a header when its first
    cell is ``file``, ``filename``, ``path``, ``audio``, ``audio_file`` or ``filepath``.
    Relative paths are relative to the list's folder. Rows whose file does not exist are
    left out, each reported by ``warn`` (a callable taking one line; default: ignored).

    Parameters
    ----------
    path : str or path-like
        The list.
    multi_label : bool
        The second column holds ``;``-separated tags.
    warn : callable or None
        Called with one line per row left out.

    Returns
    -------
    Dataset
        ``task="scene"`` or, with ``multi_label``, ``"tagging"``.

    Raises
    ------
    DatasetError
        A row without a label, or no row with an existing file.

    Examples
    --------
    >>> ds = read_file_list("train.csv", warn=print)  # doctest: +SKIP
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{p}: cannot read ({exc})") from None
    lines = text.splitlines()
    content = [ln for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
    delim = "\t" if content and "\t" in content[0] else ","
    items, missing, first = [], 0, True
    for k, row in enumerate(csv.reader(lines, delimiter=delim), start=1):
        if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
            continue
        if first:
            first = False
            if row[0].strip().lower() in _HEADER_FILE:
                continue
        if len(row) < 2 or not row[1].strip():
            raise DatasetError(f"{p}:{k}: expected 'file{delim}label', got {delim.join(row)!r}")
        f = Path(row[0].strip())
        f = f if f.is_absolute() else p.parent / f
        if not f.is_file():
            missing += 1
            if callable(warn):
                warn(f"{p}:{k}: {f}: no such file; left out")
            continue
        rec = row[2].strip() if len(row) > 2 and row[2].strip() else recording_id(f)
        if multi_label:
            tags = tuple(sorted({t.strip() for t in row[1].split(";") if t.strip()}))
            items.append(Item(f, tags=tags, recording=rec))
        else:
            items.append(Item(f, label=row[1].strip(), recording=rec))
    if not items:
        raise DatasetError(f"{p}: no rows with an existing audio file"
                           + (f" ({missing} missing)" if missing else ""))
    labels = ({t for it in items for t in it.tags} if multi_label
              else {it.label for it in items})
    return Dataset(p.stem, "tagging" if multi_label else "scene", p.parent, items,
                   sorted(labels))  # type: ignore[type-var]


def read_training_data(data: str | os.PathLike, *, multi_label: bool = False,
                       warn: Callable[[str], Any] | None = None) -> Dataset:
    """:func:`read_file_list` for a file, :func:`read_class_folders` for a folder.

    Parameters
    ----------
    data : str or path-like
        A list file or a folder of class folders.
    multi_label : bool
        Tags instead of labels (lists only).
    warn : callable or None
        As in :func:`read_file_list`.

    Examples
    --------
    >>> ds = read_training_data("my_sounds")  # doctest: +SKIP
    """
    p = Path(data)
    if p.is_file():
        return read_file_list(p, multi_label=multi_label, warn=warn)
    if multi_label:
        raise DatasetError(f"{p}: multi-label data must be a CSV/TSV list of 'file,tag;tag'")
    return read_class_folders(p)


def _annotation_for(audio: Path, by_stem: dict[str, list[Path]]) -> Path | None:
    cands = by_stem.get(audio.stem, [])
    same = sorted(a for a in cands if a.parent == audio.parent)
    if same:
        return same[0]
    sibling = sorted(a for a in cands if a.parent.parent == audio.parent.parent
                     and a.parent.name.lower() in ANNOTATION_FOLDERS)
    return sibling[0] if sibling else None


def read_detector_data(root: str | os.PathLike, *, exclude: Sequence[str | os.PathLike] = ()
                       ) -> tuple[Dataset | None, Dataset | None]:
    """Annotated recordings and isolated event sounds under ``root``.

    An audio file with an annotation file of the same stem (extensions
    :data:`ANNOTATION_EXTENSIONS`, also ``<stem>.selections.txt`` / ``<stem>.labels.txt``)
    in its own folder, or else in a sibling folder named as in
    :data:`ANNOTATION_FOLDERS` (``sound/x.wav`` and ``annotation/x.txt``), is an
    annotated recording; the first such file by name is used, its format guessed as
    :meth:`EventList.read` does. An audio file without one, in a folder below ``root``,
    is an isolated sound of the class named by that first folder. Audio directly in
    ``root`` without annotation is an error.

    Parameters
    ----------
    root : str or path-like
        The folder to read.
    exclude : sequence of path-like
        Folders below ``root`` to leave out (e.g. the background recordings).

    Returns
    -------
    (Dataset or None, Dataset or None)
        Annotated recordings (``task="events"``; ``Item.events`` with the audio file
        name) and isolated sounds (``task="isolated"``); ``None`` where there are none.

    Raises
    ------
    DatasetError
        No audio at all, an unreadable annotation (file and line), or unlabelled audio.

    Examples
    --------
    >>> annotated, isolated = read_detector_data("my_recordings")  # doctest: +SKIP
    """
    base = Path(root)
    if not base.is_dir():
        raise DatasetError(f"{base}: no such folder")
    by_stem: dict[str, list[Path]] = {}
    for a in base.rglob("*"):
        name = a.name.lower()
        if (a.is_file() and a.suffix.lower() in ANNOTATION_EXTENSIONS and _visible(a, base)
                and not name.startswith(("readme", "license", "licence"))):
            by_stem.setdefault(event_list_stem(a), []).append(a)
    annotated, isolated = [], []
    skip = [Path(os.path.abspath(e)) for e in exclude]
    for audio in _audio_under(base):
        if any(d in Path(os.path.abspath(audio)).parents for d in skip):
            continue
        ann = _annotation_for(audio, by_stem)
        if ann is not None:
            try:
                events = EventList.read(ann).with_filename(audio.name)
            except EventFormatError as exc:
                raise DatasetError(str(exc)) from None
            if any(e.label is None for e in events):
                raise DatasetError(f"{ann}: events without labels")
            annotated.append(Item(audio, events=events, recording=audio.relative_to(base)
                                  .as_posix()))
            continue
        rel = audio.relative_to(base)
        if len(rel.parts) < 2:
            raise DatasetError(f"{audio}: no annotation file with its stem and not in a "
                               "class folder: add '<stem>.txt' or move it into DATA/<class>/")
        class_dir = base / rel.parts[0]
        isolated.append(Item(audio, label=rel.parts[0], recording=recording_id(audio, class_dir)))
    if not annotated and not isolated:
        raise DatasetError(f"{base}: no audio files ({', '.join(AUDIO_EXTENSIONS)})")
    ann_ds = iso_ds = None
    if annotated:
        labels = sorted({e.label for it in annotated for e in it.events})  # type: ignore[union-attr]
        ann_ds = Dataset(base.name, "events", base, annotated, labels)  # type: ignore[arg-type]
    if isolated:
        iso_ds = Dataset(base.name, "isolated", base, isolated,
                         sorted({it.label for it in isolated}))  # type: ignore[type-var]
    return ann_ds, iso_ds
