"""Models from users' own audio: ``audioscene train classifier`` and ``audioscene train
detector`` (recipes ``classifier`` and ``detector``).

**Classifier** (:func:`run_classifier`). ``DATA`` is a folder of class folders or a
``file,label`` list (:mod:`audioscene.datasets.folders`). Unless ``test`` names a
separate data set, recordings (:func:`~audioscene.datasets.folders.recording_id`) are
held out whole: for single labels about ``test_fraction`` of the recordings of each
class (:func:`split_by_recording`; each class needs two), for tags (``multi_label``)
about ``test_fraction`` of all recordings. The network (``backend``: ``allconv`` or
``lte-cnn``) trains on the rest, choosing its epoch on a validation split of the
training files (also grouped by recording), and is scored on the held-out files:
per-class accuracy and a confusion PNG (single label) or the equal error rate per tag
(``multi_label``). The saved model is the one scored.

**Detector** (:func:`run_detector`). ``DATA`` holds annotated recordings and/or isolated
sounds in class folders. Both are split three ways by recording: *test* (the report;
``test_fraction``, or the separate data set ``test``), *validation*
(``validation_fraction`` of the rest) and *training*; annotated recordings as a whole,
isolated sounds class by class (:func:`split_by_recording`). Isolated sounds of each
split are synthesised into mixtures over that split's backgrounds: the ``--backgrounds``
recordings split by file (about a quarter for test, a quarter of the rest for
validation; with fewer than three files every split uses all of them), or, without
them, the quiet parts of that split's annotated recordings (stretches at least
``synth.min_quiet`` s long and ``synth.quiet_margin`` s away from every event). The
model is trained on the training recordings and mixtures; on the validation material
only, the CNN chooses its epoch, the shortest gap between events (``cnn.min_gap_grid``)
and each class's threshold, or the CaR-forest its pair of vote thresholds (one for all
classes). It is evaluated on the test material with sed_eval's metrics per class.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from ..audio import load
from ..datasets import DatasetError, Item
from ..datasets.folders import read_detector_data, read_training_data
from ..datasets.readers import list_audio
from ..datasets.synth import random_scene
from ..evaluate import scene_accuracy, sed_metrics, tagging_eer
from ..events import EventList
from ..features import FeatureConfig, extract
from ..io_utils import atomic_write_text
from ..models.clip import ClipClassifier
from ..models.clip_ensemble import ClipEnsemble
from .clips import clip_network, distil_settings, frames_for, network_section, plot_confusion
from .common import class_table, sed_table, write_json
from .tagging import eer_table
from .task2 import fit_detector

__all__ = ["run_classifier", "run_detector", "split_groups", "split_by_recording",
           "quiet_parts"]


def split_groups(groups: Sequence[str], fraction: float, rng: np.random.Generator,
                 *, minimum: int = 1) -> np.ndarray:
    """A random subset of the distinct ``groups``, about ``fraction`` of them (at least
    ``minimum``, at most all but one); returns a boolean mask over ``groups``.

    Examples
    --------
    >>> m = split_groups(["a", "a", "b", "c"], 0.3, np.random.default_rng(0))
    >>> int(m.sum()) in (1, 2), bool(m[0] == m[1])
    (True, True)
    """
    names = sorted(set(groups))
    k = min(len(names) - 1, max(minimum, int(round(fraction * len(names)))))
    chosen = set(rng.permutation(len(names))[:max(k, 0)].tolist())
    picked = {names[i] for i in chosen}
    return np.array([g in picked for g in groups], dtype=bool)


def split_by_recording(items: Sequence[Item], rng: np.random.Generator,
                       fractions: Sequence[tuple[str, float]], *, need: int) -> list[str]:
    """The side of each labelled item (``"train"`` or a name of ``fractions``), whole
    recordings on one side.

    Each recording (``Item.recording``, else the file) belongs to the class most of its
    items have (ties: the first class by name). For every class, its recordings are
    split in the order of ``fractions``: about that fraction of the recordings left
    (at least one, never all) goes to that side; the rest is training.

    Raises
    ------
    DatasetError
        A class owns fewer than ``need`` recordings.

    Examples
    --------
    >>> from audioscene.datasets import Item
    >>> items = [Item(Path(f"{c}{i}.wav"), label=c) for c in "ab" for i in range(3)]
    >>> sides = split_by_recording(items, np.random.default_rng(0), [("test", 0.3)], need=2)
    >>> sorted(sides).count("test")
    2
    """
    from collections import Counter

    rec = [it.recording or str(it.path) for it in items]
    votes: dict[str, Counter] = {}
    for r, it in zip(rec, items):
        votes.setdefault(r, Counter())[str(it.label)] += 1
    owner = {r: sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))[0][0] for r, c in votes.items()}
    side: dict[str, str] = {}
    for label in sorted({str(it.label) for it in items}):
        owned = [r for r, o in owner.items() if o == label]
        if len(owned) < need:
            raise DatasetError(f"class {label!r}: {len(owned)} recording(s); at least {need} "
                               f"are needed ({', '.join(['train', *(n for n, _ in fractions)])})")
        side.update(_sides(owned, fractions, rng))
    return [side[r] for r in rec]


def _sides(names: Sequence[str], fractions: Sequence[tuple[str, float]],
           rng: np.random.Generator) -> dict[str, str]:
    """The side of each distinct name: in the order of ``fractions``, about that fraction
    of the names left (:func:`split_groups`); the rest ``"train"``."""
    side: dict[str, str] = {}
    left = sorted(set(names))
    for name, frac in fractions:
        mask = split_groups(left, frac, rng)
        side.update((r, name) for r, m in zip(left, mask) if m)
        left = [r for r, m in zip(left, mask) if not m]
    side.update(dict.fromkeys(left, "train"))
    return side


def _check_counts(counts: dict[str, int], minimum: int, what: str) -> None:
    few = {c: n for c, n in counts.items() if n < minimum}
    if few:
        listed = ", ".join(f"{c!r}: {n}" for c, n in sorted(few.items()))
        raise DatasetError(f"too few {what} ({listed}); each class needs at least {minimum} "
                           "(min_examples)")


# ----------------------------------------------------------------------------- classifier


def run_classifier(cfg: dict[str, Any], *, data: Path, out: Path, log: Any = print,
                   **_: Any) -> dict[str, Any]:
    """Train and score a clip classifier or tagger on a user's data (module docstring).

    Parameters
    ----------
    cfg : dict
        The ``classifier`` recipe's configuration.
    data : Path
        Class folders, or a CSV/TSV list of ``file,label``.
    out : Path
        Output folder: ``model/``, ``results.md``, ``results.json``,
        ``predictions.tsv`` and (single label) ``confusion.png``.
    log : callable
        Progress lines.

    Returns
    -------
    dict
        What ``results.json`` holds.

    Examples
    --------
    >>> run_classifier(default_config("classifier"), data=Path("my_sounds"),
    ...                out=Path("runs/mine"))  # doctest: +SKIP
    """
    t0 = time.time()
    out = Path(out)
    multi = bool(cfg["multi_label"])
    ds = read_training_data(data, multi_label=multi, warn=log)
    rng = np.random.default_rng(int(cfg["seed"]))
    if cfg["test"]:
        test_ds = read_training_data(cfg["test"], multi_label=multi, warn=log)
        train, test = list(ds), list(test_ds)
        unknown = sorted(set(test_ds.classes) - set(ds.classes))
        if unknown:
            raise DatasetError(f"{cfg['test']}: classes not in the training data: {unknown}")
    elif multi:
        mask = split_groups([it.recording or str(it.path) for it in ds], cfg["test_fraction"],
                            rng)
        train = [it for it, m in zip(ds, mask) if not m]
        test = [it for it, m in zip(ds, mask) if m]
    else:
        sides = split_by_recording(list(ds), rng, [("test", float(cfg["test_fraction"]))],
                                   need=2)
        train = [it for it, sd in zip(ds, sides) if sd == "train"]
        test = [it for it, sd in zip(ds, sides) if sd == "test"]
    classes = list(ds.classes)
    if len(classes) < 2:
        raise DatasetError(f"{data}: {len(classes)} class; at least 2 are needed")
    counts = ({c: sum(c in it.tags for it in ds) for c in classes} if multi
              else {c: sum(it.label == c for it in ds) for c in classes})
    _check_counts(counts, int(cfg["min_examples"]), "files")
    fcfg = FeatureConfig.from_dict(cfg["features"])
    log(f"{len(classes)} classes, {len(train)} training and {len(test)} test files")
    section = network_section(cfg, str(cfg["backend"]))
    n_members = int(section.get("members", 1))
    # checked before any feature is read; the teacher is always the members here
    w_distil, _ = distil_settings(cfg, str(cfg["backend"]))
    F = frames_for([it.path for it in train + test], fcfg, jobs=int(cfg["jobs"]))
    X_tr = [F[it.path] for it in train]
    y_tr: list[Any] = [it.tags if multi else it.label for it in train]
    groups = [it.recording or str(it.path) for it in train]
    nets = []
    for i in range(n_members):
        clf = clip_network(cfg, fcfg, str(cfg["backend"]), member=i)
        if multi:
            clf.set_params(multi_label=True, mixup=0.0)
        nets.append(clf.fit(X_tr, y_tr, groups=groups, classes=classes))
    distilled = w_distil > 0
    model: ClipClassifier | ClipEnsemble
    if distilled:
        model = ClipEnsemble(nets).distil(X_tr, y_tr, groups=groups, weight=w_distil)
    else:
        model = nets[0] if n_members == 1 else ClipEnsemble(nets)
    model.save(out / "model")
    P = model.predict_proba([F[it.path] for it in test])
    seed = int(cfg["seed"])
    results: dict[str, Any] = {"data": str(data), "classes": classes, "backend": cfg["backend"],
                               "members": n_members, "distilled": distilled,
                               "n_train": len(train), "n_test": len(test),
                               "test": str(cfg["test"]) if cfg["test"] else
                               f"{cfg['test_fraction']} of each class's recordings held out"}
    rows = []
    if multi:
        Y = np.array([[c in it.tags for c in classes] for it in test], dtype=int)
        res = tagging_eer(Y, P, classes)
        results["tagging"] = res.to_dict()
        body = eer_table({"EER": res}).splitlines()
        head = f"mean equal error rate on the held-out files: **{res.mean_eer:.3f}**"
        for it, p in zip(test, P):
            rows.append([str(it.path), ";".join(it.tags),
                         ";".join(c for c, v in zip(classes, p) if v >= 0.5),
                         *(f"{v:.6f}" for v in p)])
    else:
        pred = [classes[int(i)] for i in np.argmax(P, axis=1)]
        res_s = scene_accuracy([str(it.label) for it in test], pred, labels=classes)
        results["accuracy"] = res_s.to_dict()
        plot_confusion(res_s, out / "confusion.png", f"{Path(data).name} (held out)")
        body = ["| class | test files | accuracy % |", "|---|---|---|"]
        for c in classes:
            n = sum(it.label == c for it in test)
            body.append(f"| {c} | {n} | {100 * res_s.per_class.get(c, float('nan')):.1f} |")
        body.append(f"| **all** | {len(test)} | **{100 * res_s.accuracy:.1f}** |")
        head = f"accuracy on the held-out files: **{100 * res_s.accuracy:.1f} %**"
        for it, lab, p in zip(test, pred, P):
            rows.append([str(it.path), str(it.label), lab, *(f"{v:.6f}" for v in p)])
    cols = ["file", "tags" if multi else "label", "predicted", *classes]
    atomic_write_text(out / "predictions.tsv",
                      "\n".join("\t".join(r) for r in [cols, *rows]) + "\n")
    results["seconds"] = round(time.time() - t0, 1)
    write_json(out / "results.json", results)
    ensemble = (f" (the mean of {n_members} networks seeded {seed} to {seed + n_members - 1})"
                if n_members > 1 else "")
    if distilled:
        ensemble = (f" (one network seeded {seed}, trained on {1 - w_distil:g} x "
                    f"the labels + {w_distil:g} x the mean probability of "
                    f"{n_members} networks seeded {seed} to {seed + n_members - 1})")
    md = [f"# {'Tagger' if multi else 'Classifier'} trained on {data}", "",
          f"- {len(classes)} classes; {len(train)} training files, {len(test)} test files "
          f"({results['test']}; split by recording).",
          f"- network: {cfg['backend']}{ensemble}; epoch chosen on "
          f"{section['validation_fraction']} of the training files "
          "(grouped by recording); the test files were only predicted.",
          f"- model: `{out / 'model'}` (the model scored here)", "", head, "", *body, ""]
    if not multi:
        md += ["Confusion matrix: `confusion.png`.", ""]
    atomic_write_text(out / "results.md", "\n".join(md))
    log("\n".join(md))
    return results


# ----------------------------------------------------------------------------- detector


def _trim(y: np.ndarray, top_db: float | None) -> np.ndarray:
    if top_db is None or len(y) == 0:
        return y
    import librosa

    t, _ = librosa.effects.trim(y, top_db=float(top_db))
    return t if len(t) else y


def quiet_parts(y: np.ndarray, sr: int, events: EventList, *, margin: float,
                min_length: float) -> list[np.ndarray]:
    """The stretches of a recording at least ``margin`` s away from every event and at
    least ``min_length`` s long.

    Examples
    --------
    >>> from audioscene.events import Event
    >>> y = np.zeros(10 * 100, np.float32)
    >>> [len(q) for q in quiet_parts(y, 100, EventList([Event(4, 5, "a")]), margin=0.5,
    ...                                min_length=2.0)]
    [350, 450]
    """
    busy = sorted((max(0.0, e.onset - margin), e.offset + margin) for e in events)
    out, t = [], 0.0
    for a, b in busy + [(len(y) / sr, len(y) / sr)]:
        if a - t >= min_length:
            out.append(y[int(round(t * sr)):int(round(a * sr))])
        t = max(t, b)
    return out


class _Material:
    """Frames and annotations of one split (recordings and mixtures)."""

    def __init__(self) -> None:
        self.frames: list[np.ndarray] = []
        self.events: list[EventList] = []
        self.names: list[str] = []
        self.durations: list[float] = []

    def add(self, frames: np.ndarray, events: EventList, name: str, duration: float) -> None:
        self.frames.append(frames)
        self.events.append(events.with_filename(None))
        self.names.append(name)
        self.durations.append(duration)

    def reference(self) -> EventList:
        return EventList([e for n, ev in zip(self.names, self.events)
                          for e in ev.with_filename(n)])


def run_detector(cfg: dict[str, Any], *, data: Path, out: Path,
                 backgrounds: Path | None = None, log: Any = print, **_: Any) -> dict[str, Any]:
    """Train, tune and evaluate an event detector on a user's data (module docstring).

    Parameters
    ----------
    cfg : dict
        The ``detector`` recipe's configuration.
    data : Path
        Annotated recordings and/or class folders of isolated sounds.
    out : Path
        Output folder: ``model/``, ``results.md``, ``results.json``, ``test/<name>.txt``
        (the detected events of every test recording and mixture) and
        ``test_reference/<name>.txt``.
    backgrounds : Path or None
        Background recordings for the mixtures of isolated sounds.
    log : callable
        Progress lines.

    Returns
    -------
    dict
        What ``results.json`` holds.

    Examples
    --------
    >>> run_detector(default_config("detector"), data=Path("my_recordings"),
    ...              out=Path("runs/det"))  # doctest: +SKIP
    """
    t0 = time.time()
    out = Path(out)
    backend = str(cfg["backend"])
    if backend not in ("cnn", "carforest"):
        raise ValueError(f"backend must be 'cnn' or 'carforest', got {backend!r}")
    fcfg = FeatureConfig.from_dict(cfg["features"])
    sr, s = fcfg.sr, cfg["synth"]
    rng = np.random.default_rng(int(cfg["seed"]))
    exclude = [backgrounds] if backgrounds is not None else []
    annotated, isolated = read_detector_data(data, exclude=exclude)
    test_ann = test_iso = None
    if cfg["test"]:
        test_ann, test_iso = read_detector_data(cfg["test"], exclude=exclude)
    has_test = bool(cfg["test"])
    fractions = ([] if has_test else [("test", float(cfg["test_fraction"]))]) + \
        [("validation", float(cfg["validation_fraction"]))]

    # which split each recording and each isolated sound belongs to
    sides: dict[str, list[tuple[Item, str]]] = {"annotated": [], "isolated": []}
    if annotated is not None:
        recs = [it.recording or str(it.path) for it in annotated]
        need = 2 if has_test else 3
        if len(set(recs)) < need:
            raise DatasetError(f"{data}: {len(set(recs))} annotated recording(s); at least "
                               f"{need} are needed (training, validation"
                               f"{'' if has_test else ', test'})")
        side_of = _sides(recs, fractions, rng)
        sides["annotated"] = [(it, side_of[r]) for it, r in zip(annotated, recs)]
    if isolated is not None:
        sides["isolated"] = list(zip(isolated, split_by_recording(
            list(isolated), rng, fractions, need=len(fractions) + 1)))
    for ds, kind in ((test_ann, "annotated"), (test_iso, "isolated")):
        if ds is not None:
            sides[kind] += [(it, "test") for it in ds]

    def labels_of(it: Item) -> list[str]:
        return [str(e.label) for e in it.events or ()] if it.events is not None \
            else [str(it.label)]

    counts: dict[str, int] = {}
    trained: set[str] = set()
    for it, side in sides["annotated"] + sides["isolated"]:
        for lab in labels_of(it):
            counts[lab] = counts.get(lab, 0) + 1
            if side == "train":
                trained.add(lab)
    untrained = sorted(set(counts) - trained)
    if untrained:
        raise DatasetError(f"no training events of {untrained}"
                           + (" (classes of the test set only)" if has_test else
                              "; add recordings or sounds of them"))
    classes = sorted(counts)
    _check_counts(counts, int(cfg["min_examples"]), "events or sounds")

    def name_of(it: Item, base: Path) -> str:
        """A recording's name in the outputs: its path below its data folder."""
        try:
            rel = it.path.relative_to(base)
        except ValueError:
            rel = Path(it.path.name)
        return rel.as_posix().replace("/", "__")

    mats = {k: _Material() for k in ("train", "validation", "test")}
    quiet: dict[str, list[np.ndarray]] = {k: [] for k in mats}
    for it, side in tqdm(sides["annotated"], desc="annotated recordings", unit="file"):
        y, _ = load(it.path, sr=sr)
        ev = it.events or EventList()
        base = Path(cfg["test"]) if side == "test" and has_test else Path(data)
        mats[side].add(extract(y, fcfg, sr=sr)[0], ev, name_of(it, base), len(y) / sr)
        quiet[side] += quiet_parts(y, sr, ev, margin=float(s["quiet_margin"]),
                                   min_length=float(s["min_quiet"]))
    bg_note = ""
    bg_count: dict[str, int] | None = None
    if sides["isolated"]:
        if backgrounds is not None:
            files = list_audio(backgrounds, recursive=True)
            if not files:
                raise DatasetError(f"{backgrounds}: no background recordings")
            if len(files) < 3:
                shared = [load(f, sr=sr)[0] for f in files]
                bgs = dict.fromkeys(mats, shared)
                bg_note = (f"{len(files)} background recording(s): shared by training, "
                           "validation and test mixtures")
            else:
                side_of = _sides([str(f) for f in files], [("test", 0.25), ("validation", 0.25)],
                                 rng)
                bgs = {k: [] for k in mats}
                for f in files:
                    bgs[side_of[str(f)]].append(load(f, sr=sr)[0])
                bg_count = {k: len(bgs[k]) for k in mats}
                bg_note = ("background recordings split by file: "
                           + ", ".join(f"{bg_count[k]} {k}" for k in mats))
        else:
            bgs = quiet
            bg_note = "backgrounds: the quiet parts of each split's annotated recordings"
            missing = [k for k in mats if not bgs[k] and any(
                sd == k for _, sd in sides["isolated"])]
            if missing:
                raise DatasetError(
                    "isolated sounds need backgrounds: pass --backgrounds DIR, or include "
                    "annotated recordings with quiet stretches of at least "
                    f"{s['min_quiet']} s (none in the {', '.join(missing)} split)")
        sources: dict[str, dict[str, list[np.ndarray]]] = {k: {} for k in mats}
        for it, side in tqdm(sides["isolated"], desc="isolated sounds", unit="file"):
            y = _trim(load(it.path, sr=sr)[0], s["trim_db"])
            sources[side].setdefault(str(it.label), []).append(y)
        n_mix = {"train": s["train_mixtures"], "validation": s["validation_mixtures"],
                 "test": s["test_mixtures"]}
        for side, mat in mats.items():
            if not sources[side]:
                continue
            for i in tqdm(range(int(n_mix[side])), desc=f"{side} mixtures"):
                scape = random_scene(sources[side], bgs[side], sr=sr,
                                     duration=float(s["duration"]),
                                     events_per_minute=float(s["events_per_minute"]),
                                     ebr_db=(float(s["ebr_db"][0]), float(s["ebr_db"][1])),
                                     max_polyphony=int(s["max_polyphony"]), rng=rng)
                mat.add(extract(scape.audio, fcfg, sr=sr)[0], scape.events,
                        f"{side}-mixture{i:03d}", float(s["duration"]))
    for side, mat in mats.items():
        if not mat.frames:
            raise DatasetError(f"no {side} material; add recordings or sounds")
    tr, va, te = mats["train"], mats["validation"], mats["test"]
    log(f"{len(classes)} classes; recordings + mixtures: {len(tr.frames)} training, "
        f"{len(va.frames)} validation, {len(te.frames)} test")

    model, record = fit_detector(backend, cfg, (tr.frames, tr.events),
                                 (va.frames, va.events, va.names, va.durations), classes,
                                 log=log)
    tuned = record["thresholds"]
    model.save(out / "model")

    def detect(F: np.ndarray, n: str) -> EventList:
        if backend == "cnn":
            return model.decode(model.posteriors(F), filename=n)
        return model.decode(model.curves_from_frames(F), filename=n)

    est = EventList([e for n, F in zip(te.names, te.frames) for e in detect(F, n)])
    ref = te.reference()
    res = sed_metrics(ref, est, durations=dict(zip(te.names, te.durations)), labels=classes)
    found, truth = est.by_file(), ref.by_file()
    for n in te.names:  # every test recording and mixture, an empty list where nothing is
        for folder, lists in (("test", found), ("test_reference", truth)):
            atomic_write_text(out / folder / f"{n}.txt",
                              lists.get(n, EventList()).with_filename(None).to_text())
    name = {"cnn": "CNN", "carforest": "CaR-forest"}[backend]
    n_side = {k: sum(sd == k for _, sd in sides["annotated"]) for k in mats}
    i_side = {k: sum(sd == k for _, sd in sides["isolated"]) for k in mats}
    results = {"data": str(data), "classes": classes, "backend": backend,
               "thresholds": tuned, "annotated_recordings": n_side, "isolated_sounds": i_side,
               "backgrounds": bg_count, "test": res.to_dict(),
               "event_onset_f1": res.event_onset.overall.f1,
               "segment_er": res.segment_based.overall.error_rate,
               "seconds": round(time.time() - t0, 1)}
    write_json(out / "results.json", results)
    md = [f"# Event detector ({name}) trained on {data}", "",
          f"- classes: {', '.join(classes)}",
          f"- annotated recordings: {n_side['train']} training, {n_side['validation']} "
          f"validation, {n_side['test']} test",
          f"- isolated sounds: {i_side['train']} training, {i_side['validation']} validation, "
          f"{i_side['test']} test"
          + (f" (mixtures: {len(tr.frames) - n_side['train']} training, "
             f"{len(va.frames) - n_side['validation']} validation, "
             f"{len(te.frames) - n_side['test']} test; {bg_note})" if sides["isolated"] else ""),
          "- split by recording; " + ("the epoch, the shortest gap between events "
                                       "(min_gap) and each class's threshold"
                                       if backend == "cnn" else "the vote thresholds")
          + " were chosen on the validation material; the test material was only detected.",
          f"- chosen: {tuned}",
          f"- model: `{out / 'model'}`", "",
          "## Test material", "", sed_table({name: res}), "", class_table({name: res}), ""]
    atomic_write_text(out / "results.md", "\n".join(md))
    log("\n".join(md))
    return results
