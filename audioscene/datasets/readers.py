"""Readers for the official DCASE 2016 layouts, ESC-10 and ESC-50.

Each reader returns a :class:`Dataset`: a list of :class:`Item` (audio path, label,
tags or events, fold, recording id) and the class list. Readers accept the dataset's own
folder or any folder above it that holds it (for example ``--data ROOT`` pointing at a
folder with several datasets in it).
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..events import Event, EventFormatError, EventList, event_list_stem, guess_format

__all__ = [
    "Item", "Dataset", "DatasetError", "AUDIO_EXTENSIONS", "TASK4_TAGS",
    "read_task1", "read_task2", "read_task3", "read_task4", "read_esc10", "read_esc50",
    "load_dataset", "find_audio", "task2_label", "read_annotated", "list_audio",
]

#: Audio file extensions a reader will match when it looks a file up by stem.
AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3", ".aif", ".aiff", ".au", ".opus")

#: DCASE 2016 task 4 (CHiME-Home) tag codes, in the official order.
TASK4_TAGS = ("c", "m", "f", "v", "p", "b", "o")
TASK4_TAG_NAMES = {"c": "child speech", "m": "adult male speech", "f": "adult female speech",
                   "v": "video game/tv", "p": "percussive sound", "b": "broadband noise",
                   "o": "other identifiable sound"}


class DatasetError(ValueError):
    """A dataset layout is missing or malformed; the message names the file."""


@dataclass(frozen=True)
class Item:
    """One recording of a dataset.

    Attributes
    ----------
    path : Path
        Audio file.
    label : str or None
        Scene or clip class (single-label tasks).
    tags : tuple of str
        Tags present (tagging tasks).
    events : EventList or None
        Annotated events (detection tasks); ``filename`` of each event is the audio file
        name.
    fold : int or None
        Cross-validation fold in which this item is a *test* item.
    recording : str or None
        Id of the original recording; segments with the same id must never be split
        across training and test material.
    """

    path: Path
    label: str | None = None
    tags: tuple[str, ...] = ()
    events: EventList | None = None
    fold: int | None = None
    recording: str | None = None

    @property
    def name(self) -> str:
        """File name of the audio."""
        return self.path.name

    @property
    def stem(self) -> str:
        """File name without extension."""
        return self.path.stem


@dataclass
class Dataset(Sequence[Item]):
    """Items of one dataset with its class list.

    Attributes
    ----------
    name : str
        Dataset name, e.g. ``"esc10"``.
    task : {"scene", "tagging", "events", "isolated"}
        What the labels mean.
    root : Path
        Folder the dataset was read from.
    items : list of Item
    classes : list of str
    splits : dict
        Official ``fold -> (train paths, test paths)`` where the layout defines them
        (task 1 and task 3); otherwise folds come from ``Item.fold``.

    Examples
    --------
    >>> ds = read_esc10("../shared/data")  # doctest: +SKIP
    >>> len(ds), len(ds.classes), ds.folds  # doctest: +SKIP
    (320, 10, [1, 2, 3, 4])
    """

    name: str
    task: str
    root: Path
    items: list[Item]
    classes: list[str]
    splits: dict[int, tuple[list[Path], list[Path]]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[Item]:
        return iter(self.items)

    def __getitem__(self, i):  # type: ignore[override]
        return self.items[i]

    @property
    def folds(self) -> list[int]:
        """Sorted fold numbers present."""
        if self.splits:
            return sorted(self.splits)
        return sorted({it.fold for it in self.items if it.fold is not None})

    def split(self, test_fold: int) -> tuple[list[Item], list[Item]]:
        """Training and test items for one cross-validation fold.

        Uses the layout's own fold lists where it has them, otherwise
        ``Item.fold == test_fold`` for test and the rest for training.

        Examples
        --------
        >>> train, test = read_esc10("../shared/data").split(1)  # doctest: +SKIP
        """
        if test_fold not in self.folds:
            raise ValueError(f"{self.name}: no fold {test_fold}; folds are {self.folds}")
        if self.splits:
            by_path = {it.path: it for it in self.items}
            tr, te = self.splits[test_fold]
            return [by_path[p] for p in tr if p in by_path], [by_path[p] for p in te
                                                               if p in by_path]
        return ([it for it in self.items if it.fold != test_fold],
                [it for it in self.items if it.fold == test_fold])

    def subset(self, items: Iterable[Item]) -> Dataset:
        """A dataset with the same classes holding only ``items``."""
        return Dataset(self.name, self.task, self.root, list(items), list(self.classes))


# ----------------------------------------------------------------------------- helpers


def _locate(root: str | os.PathLike, marker: str, names: Sequence[str] = (),
            depth: int = 2) -> Path:
    """Find the folder under ``root`` (itself, a named child, or any descendant up to
    ``depth``) that contains ``marker``."""
    root = Path(root)
    if not root.exists():
        raise DatasetError(f"{root}: no such folder")
    candidates = [root] + [root / n for n in names]
    for c in candidates:
        if (c / marker).exists():
            return c
    frontier = [root]
    for _ in range(depth):
        nxt = []
        for d in frontier:
            try:
                children = sorted(p for p in d.iterdir() if p.is_dir())
            except OSError:
                continue
            for c in children:
                if (c / marker).exists():
                    return c
                nxt.append(c)
        frontier = nxt
    raise DatasetError(f"{root}: no {marker!r} found here or below")


def find_audio(folder: str | os.PathLike, stem: str) -> Path:
    """The audio file ``folder/stem.*`` whatever its extension.

    Raises
    ------
    DatasetError
        When no audio file has that stem.

    Examples
    --------
    >>> find_audio("dcase2016_task2_dev/sound", "dev_1_ebr_0_nec_1_poly_0")  # doctest: +SKIP
    PosixPath('dcase2016_task2_dev/sound/dev_1_ebr_0_nec_1_poly_0.flac')
    """
    folder = Path(folder)
    for ext in AUDIO_EXTENSIONS:
        for e in (ext, ext.upper()):
            p = folder / f"{stem}{e}"
            if p.exists():
                return p
    raise DatasetError(f"{folder}: no audio file for {stem!r} (looked for "
                       f"{', '.join(AUDIO_EXTENSIONS)})")


def _read_rows(path: Path, delimiter: str = "\t") -> list[tuple[int, list[str]]]:
    if not path.exists():
        raise DatasetError(f"{path}: missing")
    rows = []
    with open(path, encoding="utf-8-sig", newline="") as f:
        for n, row in enumerate(csv.reader(f, delimiter=delimiter), start=1):
            row = [c.strip() for c in row]
            if any(row):
                rows.append((n, row))
    return rows


def list_audio(folder: str | os.PathLike, *, recursive: bool = False) -> list[Path]:
    """Audio files (by extension, :data:`AUDIO_EXTENSIONS`) in a folder, or also in the
    folders below it with ``recursive``, sorted. Hidden names (starting with ``.``, such
    as the ``._x.wav`` files macOS leaves on shared drives) are skipped, and so is
    everything inside a hidden folder below ``folder``.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> for name in ("b.wav", "a.FLAC", "._b.wav", "notes.txt"):
    ...     _ = (d / name).write_bytes(b"")
    >>> [p.name for p in list_audio(d)]
    ['a.FLAC', 'b.wav']
    """
    folder = Path(folder)
    found = folder.rglob("*") if recursive else folder.iterdir()
    return sorted(p for p in found if p.suffix.lower() in AUDIO_EXTENSIONS
                  and not any(part.startswith(".") for part in p.relative_to(folder).parts))



def _read_events(path: Path, filename: str) -> EventList:
    """DCASE text, or a Raven selection table (:func:`~audioscene.events.guess_format`)."""
    fmt = "raven" if guess_format(path) == "raven" else "dcase"
    try:
        return EventList.read(path, format=fmt).with_filename(filename)
    except EventFormatError as exc:
        raise DatasetError(str(exc)) from None


# ----------------------------------------------------------------------------- task 1


def read_task1(root: str | os.PathLike) -> Dataset:
    """DCASE 2016 task 1, TUT Acoustic Scenes 2016 (development or evaluation set).

    Layout: ``meta.txt`` (``audio/file.wav<TAB>scene[<TAB>recording]``), ``audio/``,
    ``evaluation_setup/fold{k}_{train,test,evaluate}.txt``.

    Parameters
    ----------
    root : str or os.PathLike
        The ``TUT-acoustic-scenes-2016-*`` folder or a folder above it.

    Returns
    -------
    Dataset
        ``task="scene"``; ``splits`` holds the official folds; ``Item.fold`` is the
        fold in which the item is tested; ``Item.recording`` the recording id.

    Examples
    --------
    >>> ds = read_task1("TUT-acoustic-scenes-2016-development")  # doctest: +SKIP
    >>> train, test = ds.split(1)  # doctest: +SKIP
    """
    base = _locate(root, "meta.txt", ["TUT-acoustic-scenes-2016-development",
                                      "TUT-acoustic-scenes-2016-evaluation"])
    meta = base / "meta.txt"
    items: dict[Path, Item] = {}
    for n, row in _read_rows(meta):
        if len(row) < 2:
            raise DatasetError(f"{meta}:{n}: expected file<TAB>scene[<TAB>recording]")
        p = base / row[0]
        rec = row[2] if len(row) > 2 and row[2] else _task1_recording(p)
        items[p] = Item(p, label=row[1], recording=rec)
    splits: dict[int, tuple[list[Path], list[Path]]] = {}
    setup = base / "evaluation_setup"
    fold_of: dict[Path, int] = {}
    if setup.is_dir():
        for f in sorted(setup.glob("fold*_train.txt")):
            m = re.fullmatch(r"fold(\d+)_train\.txt", f.name)
            if not m:
                continue
            k = int(m.group(1))
            train = [base / r[0] for _, r in _read_rows(f)]
            ev = setup / f"fold{k}_evaluate.txt"
            te_file = ev if ev.exists() else setup / f"fold{k}_test.txt"
            test = [base / r[0] for _, r in _read_rows(te_file)]
            for p in test:
                fold_of[p] = k
            for p in train + test:
                if p not in items:
                    raise DatasetError(f"{f if p in train else te_file}: {p.name} is not in "
                                       f"{meta}")
            splits[k] = (train, test)
    out = [Item(it.path, it.label, fold=fold_of.get(it.path), recording=it.recording)
           for it in items.values()]
    classes = sorted({it.label for it in out if it.label})
    return Dataset("dcase2016-task1", "scene", base, out, classes, splits)


def _task1_recording(p: Path) -> str:
    # a001_0_30.wav -> a001 (segments of one recording share the prefix)
    return p.stem.split("_")[0]


# ----------------------------------------------------------------------------- task 2

_TASK2_ALIASES = {"keysDrop": "keys"}


def task2_label(path: str | os.PathLike) -> str:
    """Class of a DCASE 2016 task 2 isolated training file from its name.

    Examples
    --------
    >>> task2_label("keysDrop012.wav"), task2_label("cough003.wav")
    ('keys', 'cough')
    """
    stem = Path(path).stem
    m = re.fullmatch(r"([A-Za-z]+?)_?\d*", stem)
    if not m:
        raise DatasetError(f"{path}: cannot read a class from the file name")
    prefix = m.group(1)
    return _TASK2_ALIASES.get(prefix, prefix)


def read_task2(root: str | os.PathLike, subset: str = "dev") -> Dataset:
    """DCASE 2016 task 2, synthetic audio sound event detection.

    Parameters
    ----------
    root : str or os.PathLike
        ``dcase2016_task2`` (holding ``dcase2016_task2_{train,dev,test}``), a folder
        above it, or the subset folder itself.
    subset : {"train", "dev", "test"}
        ``train``: isolated ``classNNN.wav`` files (``task="isolated"``, ``label`` from
        the name, ``keysDrop`` is ``keys``); ``dev``/``test``: mixtures in ``sound/``
        with ``annotation/*.txt`` (``task="events"``), audio found by stem whatever its
        extension.

    Returns
    -------
    Dataset

    Examples
    --------
    >>> dev = read_task2("../shared/data", "dev")  # doctest: +SKIP
    >>> len(dev), len(dev.classes)  # doctest: +SKIP
    (18, 11)
    """
    if subset not in ("train", "dev", "test"):
        raise ValueError(f"subset must be 'train', 'dev' or 'test', got {subset!r}")
    name = f"dcase2016_task2_{subset}"
    root = Path(root)
    if root.name == name:
        base = root
    else:
        parent = _locate(root, name, ["dcase2016_task2"])
        base = parent / name
    if not base.is_dir():
        raise DatasetError(f"{base}: missing")
    if subset == "train":
        files = list_audio(base)
        if not files:
            raise DatasetError(f"{base}: no audio files")
        items = [Item(p, label=task2_label(p), recording=p.stem) for p in files]
        return Dataset(f"dcase2016-task2-{subset}", "isolated", base, items,
                       sorted({it.label for it in items if it.label}))
    ds = read_annotated(base)
    return Dataset(f"dcase2016-task2-{subset}", "events", base, ds.items, ds.classes)


def read_annotated(folder: str | os.PathLike) -> Dataset:
    """Mixtures with annotations in the DCASE task 2 layout: ``sound/<stem>.*`` and
    ``annotation/<stem>.txt`` (as :func:`audioscene.datasets.synth.write_soundscape`
    writes them) or Raven selection tables ``annotation/<stem>.selections.txt`` (a
    ``.txt`` whose first line names a ``Begin Time (s)`` column is read as one too).
    Audio is found by stem whatever its extension.

    Examples
    --------
    >>> ds = read_annotated("demo_data/mixtures")  # doctest: +SKIP
    """
    base = Path(folder)
    ann_dir, sound_dir = base / "annotation", base / "sound"
    for d in (ann_dir, sound_dir):
        if not d.is_dir():
            raise DatasetError(f"{d}: missing")
    items = []
    seen: dict[str, Path] = {}
    for ann in sorted(ann_dir.glob("*.txt")):
        stem = event_list_stem(ann)
        if stem in seen:
            raise DatasetError(f"{ann}: a second annotation of {stem!r} (the first is "
                               f"{seen[stem].name})")
        seen[stem] = ann
        audio = find_audio(sound_dir, stem)
        items.append(Item(audio, events=_read_events(ann, audio.name), recording=stem))
    if not items:
        raise DatasetError(f"{ann_dir}: no annotation files")
    classes = sorted({lab for it in items for lab in it.events.labels})  # type: ignore[union-attr]
    return Dataset(base.name, "events", base, items, classes)


# ----------------------------------------------------------------------------- task 3


def read_task3(root: str | os.PathLike) -> Dataset:
    """DCASE 2016 task 3, TUT Sound Events 2016 (real-life audio).

    Layout: ``audio/<scene>/<rec>.wav``, ``meta/<scene>/<rec>.ann``
    (``onset<TAB>offset<TAB>label``), ``evaluation_setup/<scene>_fold{k}_train.txt`` and
    ``<scene>_fold{k}_{test,evaluate}.txt``.

    Returns
    -------
    Dataset
        ``task="events"``; ``Item.label`` is the scene; ``splits`` holds the official
        folds (per scene folds merged by fold number).

    Examples
    --------
    >>> ds = read_task3("TUT-sound-events-2016-development")  # doctest: +SKIP
    """
    base = _locate(root, "meta", ["TUT-sound-events-2016-development",
                                  "TUT-sound-events-2016-evaluation"])
    if not (base / "audio").is_dir():
        raise DatasetError(f"{base / 'audio'}: missing")
    items: dict[Path, Item] = {}
    for scene_dir in sorted(p for p in (base / "audio").iterdir() if p.is_dir()):
        scene = scene_dir.name
        for audio in list_audio(scene_dir):
            ann = base / "meta" / scene / f"{audio.stem}.ann"
            events = _read_events(ann, audio.name) if ann.exists() else EventList()
            items[audio] = Item(audio, label=scene, events=events, recording=audio.stem)
    if not items:
        raise DatasetError(f"{base / 'audio'}: no audio files")
    splits: dict[int, tuple[list[Path], list[Path]]] = {}
    fold_of: dict[Path, int] = {}
    setup = base / "evaluation_setup"
    if setup.is_dir():
        for f in sorted(setup.glob("*_fold*_train.txt")):
            m = re.fullmatch(r"(.+)_fold(\d+)_train\.txt", f.name)
            if not m:
                continue
            scene, k = m.group(1), int(m.group(2))
            train = list(dict.fromkeys(base / r[0] for _, r in _read_rows(f)))
            te_file = setup / f"{scene}_fold{k}_test.txt"
            test = list(dict.fromkeys(base / r[0] for _, r in _read_rows(te_file)))
            for p in train + test:
                if p not in items:
                    raise DatasetError(f"{f}: {p} has no audio file")
            for p in test:
                fold_of[p] = k
            tr, te = splits.setdefault(k, ([], []))
            tr.extend(train)
            te.extend(test)
    out = [Item(it.path, it.label, events=it.events, fold=fold_of.get(it.path),
                recording=it.recording) for it in items.values()]
    classes = sorted({lab for it in out for lab in (it.events.labels if it.events else [])})
    return Dataset("dcase2016-task3", "events", base, out, classes, splits)


# ----------------------------------------------------------------------------- task 4


def read_task4(root: str | os.PathLike, *, rate: str = "16kHz") -> Dataset:
    """DCASE 2016 task 4, CHiME-Home refined (domestic audio tagging).

    Layout: ``chime_home/development_chunks_refined_crossval_dcase2016.csv``
    (``index,chunk,fold``), ``chime_home/chunks/<chunk>.csv`` (``key,value`` rows with
    ``majorityvote``), audio ``chunks/<chunk>.16kHz.wav`` (or ``.48kHz.wav``).

    Parameters
    ----------
    root : str or os.PathLike
        ``chime_home`` or a folder above it.
    rate : {"16kHz", "48kHz"}
        Which audio copy to use.

    Returns
    -------
    Dataset
        ``task="tagging"``, ``classes == list(TASK4_TAGS)``; ``Item.tags`` from the
        majority vote (silence ``S`` and ``U`` are not tags).

    Examples
    --------
    >>> ds = read_task4("chime_home")  # doctest: +SKIP
    >>> ds.classes  # doctest: +SKIP
    ['c', 'm', 'f', 'v', 'p', 'b', 'o']
    """
    marker = "development_chunks_refined_crossval_dcase2016.csv"
    base = _locate(root, marker, ["chime_home"])
    chunks = base / "chunks"
    items = []
    for n, row in _read_rows(base / marker, ","):
        if len(row) < 3:
            raise DatasetError(f"{base / marker}:{n}: expected index,chunk,fold")
        chunk, fold = row[1], row[2]
        try:
            k = int(fold)
        except ValueError:
            raise DatasetError(f"{base / marker}:{n}: fold is not a number: {fold!r}") from None
        meta = chunks / f"{chunk}.csv"
        kv = {r[0]: (r[1] if len(r) > 1 else "") for _, r in _read_rows(meta, ",")}
        if "majorityvote" not in kv:
            raise DatasetError(f"{meta}: no majorityvote row")
        tags = tuple(t for t in TASK4_TAGS if t in kv["majorityvote"])
        audio = chunks / f"{chunk}.{rate}.wav"
        if not audio.exists():
            try:
                audio = find_audio(chunks, chunk)
            except DatasetError:
                raise DatasetError(f"{chunks}: no audio for chunk {chunk!r} "
                                   f"(expected {audio.name})") from None
        items.append(Item(audio, tags=tags, fold=k, recording=chunk.split("_chunk")[0]))
    return Dataset("dcase2016-task4", "tagging", base, items, list(TASK4_TAGS))


# ----------------------------------------------------------------------------- ESC


def read_esc10(root: str | os.PathLike) -> Dataset:
    """ESC-10: one folder per class (``NNN - Class name``), files ``F-ID-T.ogg`` where
    ``F`` is the fold.

    Returns
    -------
    Dataset
        ``task="scene"`` (clip classification); ``Item.recording`` is the Freesound id.

    Examples
    --------
    >>> ds = read_esc10("../shared/data")  # doctest: +SKIP
    >>> ds.classes[:2]  # doctest: +SKIP
    ['Baby cry', 'Chainsaw']
    """
    root = Path(root)
    base = root / "esc10" if (root / "esc10").is_dir() else root
    if not base.is_dir():
        raise DatasetError(f"{base}: no such folder")
    class_dirs = sorted(p for p in base.iterdir()
                        if p.is_dir() and re.fullmatch(r"\d{3} - .+", p.name))
    if not class_dirs:
        raise DatasetError(f"{base}: no 'NNN - Class name' folders")
    items = []
    for d in class_dirs:
        label = d.name.split(" - ", 1)[1]
        for p in list_audio(d):
            m = re.fullmatch(r"(\d+)-([^-]+)-.*", p.stem)
            if not m:
                raise DatasetError(f"{p}: name is not F-ID-T (fold-freesound id-take)")
            items.append(Item(p, label=label, fold=int(m.group(1)), recording=m.group(2)))
    return Dataset("esc10", "scene", base, items, sorted({it.label for it in items}))


def read_esc50(root: str | os.PathLike, *, esc10_only: bool = False) -> Dataset:
    """ESC-50: ``meta/esc50.csv`` (``filename,fold,target,category,esc10,...``) and
    ``audio/``.

    Parameters
    ----------
    root : str or os.PathLike
        The ESC-50 folder or a folder above it.
    esc10_only : bool
        Keep only the ESC-10 subset (``esc10 == True``).

    Examples
    --------
    >>> ds = read_esc50("ESC-50-master")  # doctest: +SKIP
    """
    base = _locate(root, os.path.join("meta", "esc50.csv"), ["ESC-50", "ESC-50-master"])
    meta = base / "meta" / "esc50.csv"
    items = []
    with open(meta, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        need = {"filename", "fold", "category"}
        if not reader.fieldnames or not need <= set(reader.fieldnames):
            raise DatasetError(f"{meta}: header must include {sorted(need)}")
        for n, row in enumerate(reader, start=2):
            if esc10_only and str(row.get("esc10", "")).lower() != "true":
                continue
            try:
                fold = int(row["fold"])
            except ValueError:
                raise DatasetError(f"{meta}:{n}: fold is not a number") from None
            src = row.get("src_file") or None
            items.append(Item(base / "audio" / row["filename"], label=row["category"],
                              fold=fold, recording=src))
    return Dataset("esc50" if not esc10_only else "esc10", "scene", base, items,
                   sorted({it.label for it in items if it.label}))


_READERS = {
    "dcase2016-task1": read_task1,
    "dcase2016-task2-train": lambda r: read_task2(r, "train"),
    "dcase2016-task2-dev": lambda r: read_task2(r, "dev"),
    "dcase2016-task2-test": lambda r: read_task2(r, "test"),
    "dcase2016-task3": read_task3,
    "dcase2016-task4": read_task4,
    "esc10": read_esc10,
    "esc50": read_esc50,
}


def load_dataset(name: str, root: str | os.PathLike) -> Dataset:
    """Read a dataset by name (``esc10``, ``esc50``, ``dcase2016-task1``,
    ``dcase2016-task2-{train,dev,test}``, ``dcase2016-task3``, ``dcase2016-task4``).

    Examples
    --------
    >>> ds = load_dataset("esc10", "../shared/data")  # doctest: +SKIP
    """
    try:
        reader = _READERS[name]
    except KeyError:
        raise ValueError(f"unknown dataset {name!r}; known: {sorted(_READERS)}") from None
    return reader(root)


def _events_for(items: Iterable[Item]) -> EventList:
    """All events of ``items`` in one list (each event names its file)."""
    out: list[Event] = []
    for it in items:
        if it.events:
            out.extend(it.events)
    return EventList(out)
