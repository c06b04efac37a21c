"""DCASE 2016 task 2 (synthetic audio sound event detection): the detection back-ends
(CaR-forest, CNN, their fusion; ``backend``) against the GMM baseline.

1. **Source-disjoint folds (the headline).** The isolated training recordings
   (``dcase2016_task2_train``, 16 per class) are split into ``folds.k`` folds by
   recording: contiguous runs of each class's sorted file names. For fold ``i``, every
   system is trained on mixtures synthesised from the other folds' recordings, their
   thresholds are tuned on validation mixtures of those recordings (with
   ``synth.validation_recordings`` above 0, of the last ones of each class, which the
   training mixtures then leave out), and they are tested on mixtures rendered from fold
   ``i``'s recordings (never heard in training or tuning) over background recordings
   held out for fold ``i`` (every ``k``-th file by name), with the statistics of the
   official event scripts (:func:`~audioscene.datasets.synth.script_scene`). The
   training, validation and test mixtures of a fold draw from three separate random
   streams. Metrics are reported per fold and as mean and spread over folds.
2. **Seen recordings** (``seen: true``, the default). Every system is trained again on
   mixtures of all the training recordings (backgrounds: all but the last
   ``synth.validation_backgrounds`` files,
   which render the validation mixtures) and evaluated on every official-layout set under
   the data root (``dcase2016_task2_dev``, and ``dcase2016_task2_test`` when present).
   The dev mixtures are rendered from the same isolated recordings as the training
   mixtures, so this row flatters every system; it is reported second.
3. Evaluation is sed_eval's: event-based (onset, onset+offset, 0.2 s collar) and
   segment-based (1 s), per class and overall. With ``psds: true`` (the default) each
   system's frame scores are also written as score tables
   (``<set>/<system>/<stem>.scores.tsv``) and evaluated with sed_scores_eval: PSDS 1
   and 2, and intersection- and collar-based F1 at each class's best threshold.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from tqdm import tqdm

from ..audio import info, load
from ..datasets import DatasetError, read_task2
from ..datasets.synth import (
    augment_event,
    load_sources,
    random_scene,
    script_scene,
    source_files,
)
from ..evaluate import SEDResult, sed_metrics
from ..events import EventList
from ..features import FeatureConfig, extract
from ..features.segments import SegmentConfig
from ..io_utils import atomic_write_text
from ..models.baselines import GMMEventDetector
from ..models.cnn_detector import CNNEventDetector
from ..models.event_detector import EventDetector
from ..models.fusion import FusionEventDetector
from .common import (
    class_table,
    find_backgrounds,
    psds_table,
    score_results,
    sed_table,
    tune,
    write_event_lists,
    write_json,
    write_score_table,
)

__all__ = ["run", "recording_folds", "fold_backgrounds", "split_fold", "FoldSplit",
           "validation_recordings", "fit_detector", "fold_mixtures", "mean_sd", "fmt_mean_sd", "backends", "BACKENDS"]

def _frames(y: np.ndarray, sr: int, cfg: FeatureConfig) -> np.ndarray:
    return extract(y, cfg, sr=sr)[0]


def recording_folds(files: dict[str, list[Path]], k: int) -> dict[str, list[int]]:
    """The fold of every isolated recording: each class's recordings, in the order
    given (sorted file names), cut into ``k`` contiguous runs of near-equal length, so
    recordings with neighbouring numbers (likely one session) share a fold.

    Examples
    --------
    >>> files = {"cough": [Path(f"cough{i:03d}.wav") for i in range(6)]}
    >>> recording_folds(files, 3)
    {'cough': [0, 0, 1, 1, 2, 2]}
    """
    out = {}
    for label, paths in files.items():
        n = len(paths)
        if n < k:
            raise ValueError(f"class {label!r} has {n} recordings, fewer than {k} folds")
        out[label] = [i * k // n for i in range(n)]
    return out


def _synth(sources: dict, backgrounds: list, n: int, s: dict[str, Any], rng: np.random.Generator,
           configs: list[FeatureConfig], desc: str, augment: bool = False
           ) -> tuple[list[list[np.ndarray]], list[EventList]]:
    """Render ``n`` mixtures and keep only their frame features (one list per config);
    with ``augment``, every event sound is altered first (``synth.augment``)."""
    frames: list[list[np.ndarray]] = [[] for _ in configs]
    annotations = []
    a = s["augment"]
    alter = None
    if augment and a["enabled"]:
        def alter(x: np.ndarray, r: np.random.Generator) -> np.ndarray:
            return augment_event(x, s["sr"], r, speed=tuple(a["speed"]), eq_db=a["eq_db"],
                                 reverb=a["reverb"], rt60=tuple(a["rt60"]),
                                 drr_db=tuple(a["drr_db"]))
    for i in tqdm(range(n), desc=desc):
        scape = random_scene(sources, backgrounds, sr=s["sr"], duration=s["duration"],
                             events_per_minute=s["events_per_minute"],
                             ebr_db=tuple(s["ebr_db"]), max_polyphony=s["max_polyphony"],
                             rng=rng, augment=alter)
        for k, cfg in enumerate(configs):
            frames[k].append(_frames(scape.audio, s["sr"], cfg))
        annotations.append(scape.events.with_filename(f"{desc}{i:03d}"))
    return frames, annotations


#: Recipe back-end name -> system name in the reports.
BACKENDS = {"carforest": "CaR-forest", "cnn": "CNN", "fusion": "Fusion"}


def backends(cfg: dict[str, Any]) -> list[str]:
    """The configured detection back-ends (``backend``: a name or a list of names; the
    first one's model is saved as ``OUT/model``).

    Examples
    --------
    >>> backends({"backend": "cnn"}), backends({"backend": ["carforest", "cnn"]})
    (['cnn'], ['carforest', 'cnn'])
    """
    b = cfg["backend"]
    names = [b] if isinstance(b, str) else list(b)
    unknown = [n for n in names if n not in BACKENDS]
    if unknown or not names:
        raise ValueError(f"backend must be one or more of {sorted(BACKENDS)}, got {b!r}")
    if "fusion" in names and not {"carforest", "cnn"} <= set(names):
        raise ValueError("backend fusion needs carforest and cnn in the list too")
    return names


def validation_recordings(sources: dict[str, list[Any]], n: int
                          ) -> tuple[dict[str, list[Any]], dict[str, list[Any]]]:
    """Split each class's recordings into training and validation recordings: the last
    ``n`` of each class validate, the others train; ``n = 0`` keeps every recording for
    both (the validation mixtures then replay training recordings).

    Parameters
    ----------
    sources : dict of label to list
        Each class's recordings, in file-name order.
    n : int
        Validation recordings per class.

    Returns
    -------
    (dict, dict)
        Training and validation recordings per class.

    Raises
    ------
    ValueError
        When a class would keep no training recording.

    Examples
    --------
    >>> validation_recordings({"a": [0, 1, 2, 3], "b": [4, 5]}, 1)
    ({'a': [0, 1, 2], 'b': [4]}, {'a': [3], 'b': [5]})
    """
    if n < 0:
        raise ValueError(f"validation recordings must be >= 0, got {n}")
    if n == 0:
        return sources, sources
    short = [c for c, v in sources.items() if len(v) <= n]
    if short:
        raise ValueError(f"{n} validation recordings per class leave no training recording "
                         f"for {short}")
    return ({c: v[:-n] for c, v in sources.items()}, {c: v[-n:] for c, v in sources.items()})


def fit_detector(backend: str, cfg: dict[str, Any],
                 train: tuple[Sequence[np.ndarray], Sequence[EventList]],
                 validation: tuple[Sequence[np.ndarray], Sequence[EventList], Sequence[str],
                                   Sequence[float]],
                 classes: list[str], *, log: Any = print, tag: str = ""
                 ) -> tuple[Any, dict[str, Any]]:
    """Train one detection back-end on frame features and choose its thresholds on
    validation material only.

    ``carforest``: one CaR-forest per class (``forest``, ``segments``, ``decoding``), then
    the best onset and presence thresholds of the ``tuning`` grid by ``tuning.criterion``.
    ``cnn``: the frame-posterior CNN (``cnn``), its epoch chosen on the validation loss,
    then each class's opening threshold from ``cnn.threshold_grid`` (best onset F1); with
    ``cnn.min_gap_grid``, the merging gap is chosen first (best overall onset F1, each gap
    with its own per-class thresholds), then with ``cnn.competition_grid`` the class
    competition strength in the same way (with the chosen gap).

    Parameters
    ----------
    backend : str
        ``"carforest"`` or ``"cnn"``.
    cfg : dict
        Recipe settings: ``features``, ``seed``, and the back-end's sections above.
    train : (list of ndarray, list of EventList)
        Training frames (one array per recording or mixture) and their annotations.
    validation : (list of ndarray, list of EventList, list of str, list of float)
        Validation frames, annotations, names and durations (seconds).
    classes : list of str
        The classes, in model order.
    log : callable
        Where the chosen settings are reported.
    tag : str
        Prefix of the log lines.

    Returns
    -------
    model : EventDetector or CNNEventDetector
        The trained model, with the chosen thresholds set.
    record : dict
        ``thresholds`` (the chosen settings), ``fit_seconds``, and ``grid`` (every
        CaR-forest combination tried) or ``history`` (the CNN's epochs) and ``mean_f1``
        (the mean of the classes' onset F1 at their chosen thresholds, the fusion's
        criterion).

    Examples
    --------
    >>> from audioscene.recipes import load_config
    >>> _, cfg = load_config("dcase2016-task2")
    >>> model, record = fit_detector("cnn", cfg, (frames, events), (vf, ve, names, durs),
    ...                              classes)  # doctest: +SKIP
    """
    seed = int(cfg["seed"])
    fcfg = FeatureConfig.from_dict(cfg["features"])
    va_frames, va_events, va_names, va_durs = validation
    plain = [ev.with_filename(None) for ev in va_events]
    va_ref = EventList([e for n, ev in zip(va_names, plain) for e in ev.with_filename(n)])
    va_dur = dict(zip(va_names, va_durs))
    if backend == "carforest":
        det = EventDetector(feature_config=fcfg,
                            segment_config=SegmentConfig(**cfg["segments"]),
                            random_state=seed, **cfg["forest"], **cfg["decoding"])
        t0 = time.perf_counter()
        det.fit_frames(list(train[0]), list(train[1]), classes=classes, progress=True)
        t_fit = time.perf_counter() - t0
        log(f"{tag}CaR-forest: {len(classes)} forests trained in {t_fit:.0f} s")
        curves = [det.curves_from_frames(F) for F in va_frames]

        def decode_car(params: dict[str, Any]) -> EventList:
            det.set_params(**params)
            return EventList([e for name, c in zip(va_names, curves)
                              for e in det.decode(c, filename=name)])

        t = cfg["tuning"]
        best, rows = tune(decode_car, {"onset_threshold": t["onset_threshold"],
                                       "presence_threshold": t["presence_threshold"]},
                          va_ref, va_dur, criterion=t["criterion"])
        det.set_params(**best)
        log(f"{tag}CaR-forest thresholds chosen on validation: {best}")
        return det, {"thresholds": best, "grid": rows, "fit_seconds": t_fit}
    if backend != "cnn":
        raise ValueError(f"backend must be 'carforest' or 'cnn', got {backend!r}")
    c = dict(cfg["cnn"])
    grid = c.pop("threshold_grid")
    gaps = c.pop("min_gap_grid", None)
    comps = c.pop("competition_grid", None)
    c.pop("competition_recordings", None)  # read by the recipe (_train), not the model
    cnn = CNNEventDetector(feature_config=fcfg, random_state=seed, progress=True, **c)
    t0 = time.perf_counter()
    cnn.fit_frames(list(train[0]), list(train[1]), validation=(list(va_frames), plain),
                   classes=classes)
    t_fit = time.perf_counter() - t0
    post = [cnn.posteriors(F) for F in va_frames]
    chosen: dict[str, Any] = {}

    def decode_with(params: dict[str, Any]) -> EventList:
        cnn.set_params(**params)
        cnn.tune_thresholds(post, plain, list(va_durs), grid)
        return EventList([e for n, P in zip(va_names, post)
                          for e in cnn.decode(P, filename=n)])

    for key, values in (("min_gap", gaps), ("competition", comps)):
        if values:
            best, _ = tune(decode_with, {key: [float(v) for v in values]}, va_ref, va_dur)
            cnn.set_params(**best)
            chosen.update(best)
    searched = "".join(f"{k}, " for k in chosen)
    thresholds, f1 = cnn.tune_thresholds(post, plain, list(va_durs), grid, return_f1=True)
    chosen = {**chosen, **thresholds}
    log(f"{tag}CNN: {len(cnn.history_)} epochs in {t_fit:.0f} s (best epoch "
        f"{cnn.best_epoch_ + 1}); {searched}per-class thresholds chosen on validation: "
        f"{chosen}")
    return cnn, {"thresholds": chosen, "fit_seconds": t_fit, "history": cnn.history_,
                 "mean_f1": float(np.mean(f1))}


def _competition_on_unheard(cfg: dict[str, Any], sources: dict, train_bgs: list,
                            val_bgs: list, classes: list[str], n: int,
                            rng: np.random.Generator, log: Any, tag: str) -> float:
    """The CNN's class competition chosen on recordings its training never heard: a
    preliminary CNN is trained on mixtures of all but the last ``n`` recordings of each
    class of ``sources`` and validated on mixtures of those ``n`` (both drawn from
    ``rng``, as many as ``synth`` says, over the training and validation backgrounds);
    its gap, then its competition (``cnn.competition_grid``), are chosen on them as in
    :func:`fit_detector`, and the competition is returned. The preliminary CNN is then
    dropped."""
    s = cfg["synth"]
    fcfg = FeatureConfig.from_dict(cfg["features"])
    tr_src, va_src = validation_recordings(sources, n)
    tr_frames, tr_ann = _synth(tr_src, train_bgs, int(s["train_mixtures"]), s, rng, [fcfg],
                               f"{tag}pre-train", augment=True)
    va_frames, va_ann = _synth(va_src, val_bgs, int(s["validation_mixtures"]), s, rng,
                               [fcfg], f"{tag}pre-val")
    names = [f"{tag}pre-val{i:03d}" for i in range(len(va_ann))]
    _, rec = fit_detector("cnn", cfg, (tr_frames[0], tr_ann),
                          (va_frames[0], va_ann, names, [float(s["duration"])] * len(va_ann)),
                          classes, log=log, tag=f"{tag}preliminary ")
    gamma = float(rec["thresholds"].get("competition", cfg["cnn"].get("competition", 0.0)))
    log(f"{tag}CNN competition chosen on {n} unheard recordings per class: {gamma}")
    return gamma


def _train(cfg: dict[str, Any], sources: dict, train_bgs: list, val_bgs: list,
           classes: list[str], rngs: Sequence[np.random.Generator],
           log: Any, tag: str = "") -> tuple[dict[str, Any], dict[str, Any]]:
    """Synthesise training and validation mixtures (from ``rngs[0]`` and ``rngs[1]``)
    from ``sources`` over the given backgrounds, train every configured system and tune
    its thresholds on the validation mixtures only. With ``synth.validation_recordings``
    above 0 the validation mixtures are rendered from recordings that training never
    heard (:func:`validation_recordings`). With ``cnn.competition_recordings`` above 0
    (and a ``cnn.competition_grid``), the CNN's class competition is chosen first by a
    preliminary CNN on that many unheard recordings per class
    (:func:`_competition_on_unheard`, mixtures from ``rngs[2]``), and the CNN then
    keeps it. Returns the systems (report name -> model) and the tuning record."""
    seed = int(cfg["seed"])
    s = cfg["synth"]
    fcfg = FeatureConfig.from_dict(cfg["features"])
    bcfg = FeatureConfig.from_dict(cfg["baseline"]["features"])
    configs = [fcfg] + ([bcfg] if cfg["baseline"]["enabled"] else [])
    tr_src, va_src = validation_recordings(sources, int(s["validation_recordings"]))
    tr_frames, tr_ann = _synth(tr_src, train_bgs, int(s["train_mixtures"]), s, rngs[0],
                               configs, f"{tag}train", augment=True)
    va_frames, va_ann = _synth(va_src, val_bgs, int(s["validation_mixtures"]), s, rngs[1],
                               configs, f"{tag}val")
    va_names = [f"{tag}val{i:03d}" for i in range(len(va_ann))]
    va_ref = EventList([e for ev in va_ann for e in ev])
    va_dur = dict.fromkeys(va_names, s["duration"])
    t = cfg["tuning"]
    systems: dict[str, Any] = {}
    record: dict[str, Any] = {}

    validation = (va_frames[0], va_ann, va_names, [float(s["duration"])] * len(va_ann))
    if "carforest" in backends(cfg):
        det, rec = fit_detector("carforest", cfg, (tr_frames[0], tr_ann), validation, classes,
                                log=log, tag=tag)
        systems["CaR-forest"] = det
        record.update({"carforest": rec["thresholds"], "carforest_grid": rec["grid"],
                       "carforest_fit_seconds": rec["fit_seconds"]})

    if "cnn" in backends(cfg):
        cnn_cfg = cfg
        n_pre = int(cfg["cnn"].get("competition_recordings") or 0)
        if n_pre and cfg["cnn"].get("competition_grid"):
            gamma = _competition_on_unheard(cfg, tr_src, train_bgs, val_bgs, classes, n_pre,
                                            rngs[2], log, tag)
            record["cnn_competition_preliminary"] = gamma
            cnn_cfg = {**cfg, "cnn": {**cfg["cnn"], "competition": gamma,
                                      "competition_grid": None}}
        cnn, rec = fit_detector("cnn", cnn_cfg, (tr_frames[0], tr_ann), validation, classes,
                                log=log, tag=tag)
        if cnn_cfg is not cfg:
            rec["thresholds"] = {"competition": cnn.competition, **rec["thresholds"]}
        systems["CNN"] = cnn
        record.update({"cnn": rec["thresholds"], "cnn_fit_seconds": rec["fit_seconds"],
                       "cnn_history": rec["history"], "cnn_mean_f1": rec["mean_f1"]})

    if "fusion" in backends(cfg):
        # decoded as the CNN: its merging gap and competition are the ones chosen on
        # validation above
        c, cnn = cfg["cnn"], systems["CNN"]
        fused = FusionEventDetector(carforest=systems["CaR-forest"], cnn=cnn,
                                    low_ratio=cnn.low_ratio, median=cnn.median,
                                    min_duration=cnn.min_duration, min_gap=cnn.min_gap,
                                    competition=cnn.competition).fit()
        chosen = fused.tune(va_frames[0], [ev.with_filename(None) for ev in va_ann],
                            list(validation[3]), cfg["fusion"]["weights"],
                            c["threshold_grid"])
        log(f"{tag}Fusion: weight and per-class thresholds chosen on validation mixtures: "
            f"{chosen}")
        systems["Fusion"] = fused
        record["fusion"] = chosen

    if cfg["baseline"]["enabled"]:
        b = cfg["baseline"]
        gmm = GMMEventDetector(feature_config=bcfg, n_components=b["n_components"],
                               window=b["window"], min_length=b["min_length"],
                               min_gap=b["min_gap"], max_frames=b["max_frames"],
                               random_state=seed)
        t0 = time.perf_counter()
        gmm.fit_frames(tr_frames[1], tr_ann, classes=classes)
        log(f"{tag}GMM baseline trained in {time.perf_counter() - t0:.0f} s")
        va_scores = [gmm.scores_from_frames(F)[0] for F in va_frames[1]]
        qs = np.quantile(np.concatenate(va_scores).ravel(), b["threshold_quantiles"])

        def decode_gmm(params: dict[str, Any]) -> EventList:
            gmm.set_params(**params)
            return EventList([e for name, S in zip(va_names, va_scores)
                              for e in gmm.decode(S, filename=name)])

        gmm_best, _ = tune(decode_gmm, {"threshold": [float(q) for q in qs]}, va_ref, va_dur,
                           criterion=t["criterion"])
        gmm.set_params(**gmm_best)
        log(f"{tag}GMM threshold chosen on validation mixtures: {gmm_best}")
        systems["GMM baseline"] = gmm
        record["gmm"] = gmm_best
    return systems, record


def _evaluate(items: Iterable[tuple[str, np.ndarray, int, EventList, float]],
              systems: dict[str, Any], cfg: dict[str, Any], folder: Path,
              classes: list[str], desc: str
              ) -> tuple[dict[str, SEDResult], dict[str, Any] | None]:
    """Detect with every system on ``(name, samples, sr, reference, duration)`` items
    (one at a time) and score them; event lists (and score tables) go under ``folder``."""
    fcfg = FeatureConfig.from_dict(cfg["features"])
    bcfg = FeatureConfig.from_dict(cfg["baseline"]["features"])
    found = {name: EventList() for name in systems}
    folders = {name: folder / name.lower().replace(" ", "-") for name in systems}
    ref, durations = EventList(), {}
    for name, y, sr, events, duration in tqdm(items, desc=desc):
        ref += events.with_filename(name)
        durations[name] = duration
        F = _frames(y, sr, fcfg) if set(systems) & {"CaR-forest", "CNN"} else None
        part: dict[str, np.ndarray] = {}
        for sysname, model in systems.items():
            if sysname == "CaR-forest":
                curves = model.curves_from_frames(F)
                found[sysname] += model.decode(curves, filename=name)
                times, scores = curves.centres, curves.presence
                hop = fcfg.hop_seconds * model.sconfig.hop
                part[sysname] = scores
            elif sysname == "CNN":
                scores = model.posteriors(F)
                found[sysname] += model.decode(scores, filename=name)
                times, hop = fcfg.frame_times(len(scores)), fcfg.hop_seconds
                part[sysname] = scores
            elif sysname == "Fusion":  # FusionEventDetector.scores, from the parts above
                scores = model.fuse(part["CNN"], part["CaR-forest"])
                found[sysname] += model.decode(scores, filename=name)
                times, hop = fcfg.frame_times(len(scores)), fcfg.hop_seconds
            else:
                scores, times = model.scores_from_frames(_frames(y, sr, bcfg))
                found[sysname] += model.decode(scores, filename=name)
                hop = bcfg.hop_seconds
            if cfg["psds"]:
                write_score_table(folders[sysname] / f"{Path(name).stem}.scores.tsv",
                                  classes, times, scores, hop)
    res = {n: sed_metrics(ref, est, durations=durations, labels=classes)
           for n, est in found.items()}
    for n, est in found.items():
        write_event_lists(est, folders[n])
    psds = score_results(ref, folders, durations) if cfg["psds"] else None
    return res, psds


def fold_backgrounds(n: int, k: int, fold: int, n_test: int, n_validation: int
                     ) -> tuple[list[int], list[int], list[int]]:
    """Indices of the background recordings (sorted by name) that test, train and
    validate fold ``fold`` of ``k``: every ``k``-th one from ``fold`` tests it (at most
    ``n_test``); of the others, the last ``n_validation`` validate and the rest train.

    Parameters
    ----------
    n : int
        Number of background recordings.
    k : int
        Number of folds.
    fold : int
        The fold, ``0 <= fold < k``.
    n_test : int
        Most test backgrounds of the fold.
    n_validation : int
        Validation backgrounds.

    Returns
    -------
    (list of int, list of int, list of int)
        Test, training and validation indices, disjoint.

    Raises
    ------
    DatasetError
        When no test background or no training background is left.

    Examples
    --------
    >>> fold_backgrounds(12, 4, 1, 2, 3)
    ([1, 5], [0, 2, 3, 4, 6, 7, 8], [9, 10, 11])
    """
    test = [j for j in range(n) if j % k == fold][:n_test]
    other = [j for j in range(n) if j not in test]
    if len(other) <= n_validation or not test:
        raise DatasetError(f"{n} background recordings are too few for {k} folds of "
                           f"{n_test} and {n_validation} for validation")
    return test, other[:-n_validation], other[-n_validation:]


class FoldSplit(NamedTuple):
    """What fold ``i`` of :func:`split_fold` is tested on and trained on."""

    #: label -> the fold's isolated recordings (its test sounds)
    held: dict[str, list[np.ndarray]]
    #: label -> the other folds' recordings (its training and validation sounds)
    rest: dict[str, list[np.ndarray]]
    #: indices of the test backgrounds (:func:`fold_backgrounds`)
    test: list[int]
    #: indices of the training backgrounds
    train: list[int]
    #: indices of the validation backgrounds
    validation: list[int]
    #: file names of the fold's test recordings and of its three sets of backgrounds
    membership: dict[str, Any]


def split_fold(files: dict[str, list[Path]], sources: dict[str, list[np.ndarray]],
               bg_files: list[Path], k: int, fold: int, n_test: int, n_validation: int
               ) -> FoldSplit:
    """Fold ``fold`` of ``k`` source-disjoint folds: its recordings
    (:func:`recording_folds`) and its backgrounds (:func:`fold_backgrounds`).

    Parameters
    ----------
    files : dict of label to list of Path
        Each class's isolated recordings, sorted by name.
    sources : dict of label to list of ndarray
        Their samples, in the same order.
    bg_files : list of Path
        The background recordings, sorted by name.
    k : int
        Number of folds.
    fold : int
        The fold, ``0 <= fold < k``.
    n_test : int
        Most test backgrounds of the fold.
    n_validation : int
        Validation backgrounds.

    Returns
    -------
    FoldSplit

    Examples
    --------
    >>> files = {"a": [Path(f"a{i}.wav") for i in range(4)]}
    >>> sources = {"a": [np.full(3, i) for i in range(4)]}
    >>> bgs = [Path(f"bg{i}.wav") for i in range(8)]
    >>> f = split_fold(files, sources, bgs, 2, 1, 2, 2)
    >>> f.membership["test_recordings"], [int(x[0]) for x in f.rest["a"]], f.test
    ({'a': ['a2.wav', 'a3.wav']}, [0, 1], [1, 3])
    """
    fold_of = recording_folds(files, k)
    held = {c: [y for y, g in zip(sources[c], fold_of[c]) if g == fold] for c in sources}
    rest = {c: [y for y, g in zip(sources[c], fold_of[c]) if g != fold] for c in sources}
    te, tr, va = fold_backgrounds(len(bg_files), k, fold, n_test, n_validation)
    membership = {
        "test_recordings": {c: [p.name for p, g in zip(files[c], fold_of[c]) if g == fold]
                            for c in files},
        "test_backgrounds": [bg_files[j].name for j in te],
        "validation_backgrounds": [bg_files[j].name for j in va],
        "training_backgrounds": [bg_files[j].name for j in tr]}
    return FoldSplit(held, rest, te, tr, va, membership)


def fold_mixtures(held_out: dict[str, list[np.ndarray]], bgs: list[np.ndarray], f: dict,
                  sr: int, rng: np.random.Generator, fold: int, ref_dir: Path
                  ) -> Iterator[tuple[str, np.ndarray, int, EventList, float]]:
    """A fold's test mixtures, rendered one at a time: every combination of the official
    scripts' statistics in ``f`` (``events_per_class``, ``ebr_db``, ``polyphony``,
    ``duration``), each over the next of ``bgs``.

    Parameters
    ----------
    held_out : dict of label to list of ndarray
        The fold's isolated recordings (mono, at ``sr``).
    bgs : list of ndarray
        The fold's test backgrounds.
    f : dict
        The statistics (the recipe's ``folds`` settings).
    sr : int
        Sample rate.
    rng : np.random.Generator
        Randomness of the event choice and placement.
    fold : int
        The fold (in the mixture names).
    ref_dir : Path
        Where each mixture's annotation is written (``<name>.txt``).

    Yields
    ------
    (str, ndarray, int, EventList, float)
        Name, audio, rate, annotation and duration of each mixture.

    Examples
    --------
    >>> from audioscene.datasets.synth import procedural_background, procedural_event
    >>> held = {k: [procedural_event(k, sr=8000, rng=0)] for k in ("beep", "knock")}
    >>> bgs = [procedural_background("pink", sr=8000, duration=5.0, rng=0)]
    >>> f = {"events_per_class": [1], "ebr_db": [0.0], "polyphony": [0], "duration": 10.0}
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     name, audio, sr, events, dur = next(fold_mixtures(
    ...         held, bgs, f, 8000, np.random.default_rng(0), 0, Path(d)))
    >>> name, len(audio) / sr, sorted(e.label for e in events)
    ('fold0_ebr_+0_nec_1_poly_0', 10.0, ['beep', 'knock'])
    """
    combos = itertools.product(f["events_per_class"], f["ebr_db"], f["polyphony"])
    for i, (nec, ebr, poly) in enumerate(combos):
        scape = script_scene(held_out, bgs[i % len(bgs)], sr=sr, duration=f["duration"],
                             events_per_class=int(nec), ebr_db=float(ebr),
                             polyphony=int(poly), rng=rng)
        name = f"fold{fold}_ebr_{ebr:+g}_nec_{nec}_poly_{poly}"
        atomic_write_text(ref_dir / f"{name}.txt", scape.events.to_text())
        yield name, scape.audio, sr, scape.events, float(f["duration"])


_HEADLINE = (("event_onset", "f1", "event onset F1 %", True),
             ("event_onset", "error_rate", "event onset ER", False),
             ("event_onset_offset", "f1", "event on+off F1 %", True),
             ("segment_based", "f1", "segment F1 %", True),
             ("segment_based", "error_rate", "segment ER", False))


def mean_sd(values: list[float | None]) -> dict[str, Any]:
    """Mean and sample standard deviation over folds, with the values themselves.

    Parameters
    ----------
    values : list of float or None
        One value per fold; ``None`` and NaN (undefined in that fold) are left out.

    Returns
    -------
    dict
        ``mean`` (None when no value is defined), ``sd`` (None with fewer than two) and
        ``per_fold`` (the values as given).

    Examples
    --------
    >>> mean_sd([0.5, None, 0.7])["mean"]
    0.6
    """
    v = [float(x) for x in values if x is not None and not np.isnan(x)]
    return {"mean": float(np.mean(v)) if v else None,
            "sd": float(np.std(v, ddof=1)) if len(v) > 1 else None, "per_fold": values}


def fmt_mean_sd(stat: dict[str, Any], pct: bool, digits: int | None = None) -> str:
    """``mean ± sd`` of a :func:`mean_sd` result: ``-`` when no value is defined, the
    mean alone when there is no spread.

    Parameters
    ----------
    stat : dict
        A :func:`mean_sd` result.
    pct : bool
        In percent (x 100).
    digits : int or None
        Decimals; default 1 in percent, else 2.

    Returns
    -------
    str

    Examples
    --------
    >>> fmt_mean_sd(mean_sd([0.5, 0.7]), True), fmt_mean_sd(mean_sd([0.05]), False, 3)
    ('60.0 ± 14.1', '0.050')
    """
    if stat["mean"] is None:
        return "-"
    k = 100.0 if pct else 1.0
    d = digits if digits is not None else (1 if pct else 2)
    sd = "" if stat["sd"] is None else f" ± {k * stat['sd']:.{d}f}"
    return f"{k * stat['mean']:.{d}f}{sd}"


def _fold_summary(per_fold: list[dict[str, SEDResult]], psds: list[dict[str, Any] | None],
                  classes: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in per_fold[0]:
        rs = [r[name] for r in per_fold]
        m = {f"{kind}.{attr}": mean_sd([getattr(getattr(r, kind).overall, attr) for r in rs])
             for kind, attr, _, _ in _HEADLINE}
        m["class_onset_f1"] = {c: mean_sd([r.event_onset.class_wise[c].f1 for r in rs])
                               for c in classes}
        m["class_segment_er"] = {c: mean_sd([r.segment_based.class_wise[c].error_rate
                                              for r in rs]) for c in classes}
        if all(p is not None for p in psds):
            m["psds1"] = mean_sd([p[name].psds1 for p in psds])
            m["psds2"] = mean_sd([p[name].psds2 for p in psds])
        out[name] = m
    return out


def _fold_tables(summary: dict[str, Any], classes: list[str]) -> list[str]:
    cols = [label for _, _, label, _ in _HEADLINE]
    has_psds = all("psds1" in m for m in summary.values())
    head = "| system | " + " | ".join(cols) + (" | PSDS1 | PSDS2 |" if has_psds else " |")
    lines = [head, "|---|" + "---|" * (len(cols) + 2 * has_psds)]
    for name, m in summary.items():
        cells = [fmt_mean_sd(m[f"{kind}.{attr}"], pct) for kind, attr, _, pct in _HEADLINE]
        if has_psds:
            cells += [f"{m[k]['mean']:.3f} ± {m[k]['sd'] or 0:.3f}" for k in ("psds1", "psds2")]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    names = list(summary)
    per_class = ["| class | " + " | ".join(f"{n} onset F1 %" for n in names)
                 + " | " + " | ".join(f"{n} segment ER" for n in names) + " |",
                 "|---|" + "---|" * (2 * len(names))]
    for c in classes:
        per_class.append(f"| {c} | " + " | ".join(
            fmt_mean_sd(summary[n]["class_onset_f1"][c], True) for n in names) + " | "
            + " | ".join(fmt_mean_sd(summary[n]["class_segment_er"][c], False)
                         for n in names) + " |")
    return lines + [""] + per_class


def run(cfg: dict[str, Any], *, data: Path, out: Path, backgrounds: Path | None = None,
        log: Any = print, train_only: bool = False, **_: Any) -> dict[str, Any]:
    """Run the recipe (see the module docstring); returns the results.

    Parameters
    ----------
    cfg : dict
        Full configuration (see :func:`audioscene.recipes.load_config`).
    data : Path
        Root holding ``dcase2016_task2/`` (or that folder itself).
    out : Path
        Output folder: ``folds/fold<i>/reference/`` and ``folds/fold<i>/<system>/``
        (``car-forest``, ``cnn``, ``fusion``, ``gmm-baseline``: event lists and score
        tables), ``results.json``, ``results.md``; with ``seen: true``, also
        ``model/`` (the first back-end), ``model-<system>/`` (the others),
        ``baseline/`` and ``<set>/<system>/``.
    backgrounds : Path or None
        Background recordings for synthesis (default: ``<data>/backgrounds``).
    log : callable
        Where progress lines go.
    train_only : bool
        Set by ``audioscene train``: the whole recipe runs all the same, but it must
        save a model, so ``seen: false`` is refused.

    Returns
    -------
    dict
        Metrics per fold and their summary, per set and system, the tuned thresholds and
        timings.

    Examples
    --------
    >>> from audioscene.recipes import load_config
    >>> _, cfg = load_config("dcase2016-task2")
    >>> run(cfg, data=Path("../shared/data"), out=Path("runs/task2"))  # doctest: +SKIP
    """
    t_start = time.perf_counter()
    seed = int(cfg["seed"])
    s = cfg["synth"]
    f = cfg["folds"]
    k = int(f["k"])
    if k == 0 and not cfg["seen"]:
        raise ValueError("folds.k is 0 and seen is false: nothing to run")
    if train_only and not cfg["seen"]:
        raise ValueError("seen is false: no model would be trained to save; use "
                         "'audioscene recipe' for the folds alone")
    train = read_task2(data, "train")
    classes = train.classes
    files = source_files(train.root)
    sources = load_sources(train.root, sr=s["sr"])  # aligned with `files` (same order)
    bg_files = find_backgrounds(data, backgrounds)
    all_bgs = [load(p, sr=s["sr"])[0] for p in bg_files]
    n_val_bg = int(s["validation_backgrounds"])
    log(f"training sounds: {sum(len(v) for v in sources.values())} recordings in "
        f"{len(sources)} classes; backgrounds: {len(all_bgs)}")
    results: dict[str, Any] = {"tuning": {}, "sets": {}, "seconds": {}}
    shown = [BACKENDS[b] for b in backends(cfg)] + (["GMM baseline"] if cfg["baseline"]["enabled"]
                                                    else [])
    report = [f"# DCASE 2016 task 2: {', '.join(shown)}\n"]

    if k > 0:
        per_fold: list[dict[str, SEDResult]] = []
        per_fold_psds: list[dict[str, Any] | None] = []
        membership: dict[str, Any] = {}
        for i in range(k):
            sp = split_fold(files, sources, bg_files, k, i, int(f["backgrounds"]), n_val_bg)
            membership[f"fold{i}"] = sp.membership
            log(f"\nfold {i + 1}/{k}: testing on {sum(len(v) for v in sp.held.values())} "
                f"recordings and {len(sp.test)} backgrounds never used for training or tuning")
            # one random stream each for the training, validation and test mixtures: a
            # change to how training mixtures are made leaves the others as they were
            # (and a fourth for the preliminary CNN's)
            rngs = np.random.default_rng([seed, i + 1]).spawn(4)
            systems, tuning = _train(cfg, sp.rest, [all_bgs[j] for j in sp.train],
                                     [all_bgs[j] for j in sp.validation], classes,
                                     (rngs[0], rngs[1], rngs[3]), log, tag=f"fold{i}-")
            results["tuning"][f"fold{i}"] = tuning
            folder = out / "folds" / f"fold{i}"
            items = fold_mixtures(sp.held, [all_bgs[j] for j in sp.test], f, s["sr"],
                                  rngs[2], i, folder / "reference")
            res, psds = _evaluate(items, systems, cfg, folder, classes, f"fold{i}-test")
            per_fold.append(res)
            per_fold_psds.append(psds)
            log(f"fold {i + 1}:\n" + sed_table(res))
        summary = _fold_summary(per_fold, per_fold_psds, classes)
        results["folds"] = {"k": k, "membership": membership, "summary": summary,
                            "per_fold": [{n: r.to_dict() for n, r in res.items()}
                                         for res in per_fold]}
        n_mix = len(list(itertools.product(f["events_per_class"], f["ebr_db"],
                                           f["polyphony"])))
        report += [f"## Unseen recordings: {k} source-disjoint folds (mean ± sd over folds)\n",
                   f"Each fold is tested on {n_mix} mixtures of {f['duration']:g} s rendered "
                   "from isolated recordings and background recordings that its training and "
                   "tuning never used (membership in `results.json`, `folds.membership`).\n",
                   *_fold_tables(summary, classes), ""]
        log("\nsource-disjoint folds (mean ± sd):\n" + "\n".join(_fold_tables(summary,
                                                                             classes)))

    if not cfg["seen"]:  # the folds alone (no model is saved)
        results["seconds"]["total"] = time.perf_counter() - t_start
        write_json(out / "results.json", results)
        atomic_write_text(out / "results.md", "\n".join(report) + "\n")
        return results

    # seen recordings: every training recording, the official sets
    train_bgs, val_bgs = all_bgs[:-n_val_bg], all_bgs[-n_val_bg:]
    r_train, r_val, r_pre = np.random.default_rng(seed).spawn(3)
    systems, tuning = _train(cfg, sources, train_bgs, val_bgs, classes,
                             (r_train, r_val, r_pre), log)
    results["tuning"].update(tuning)
    results["seconds"].update({k.removesuffix("_seconds"): v for k, v in tuning.items()
                               if k.endswith("_seconds")})
    names = [BACKENDS[b] for b in backends(cfg)]
    systems[names[0]].save(out / "model")
    for extra in names[1:]:
        systems[extra].save(out / f"model-{extra.lower().replace(' ', '-')}")
    if "GMM baseline" in systems:
        systems["GMM baseline"].save(out / "baseline")
    report += ["## Seen recordings: the official sets, with every training recording\n",
               f"Training: {s['train_mixtures']} synthesised mixtures of {s['duration']:g} s "
               f"(seed {seed}); thresholds tuned on {s['validation_mixtures']} validation "
               "mixtures over held-out backgrounds. The official mixtures are rendered from "
               "the same isolated recordings as the training mixtures.\n"]
    for subset in ("dev", "test"):
        try:
            ds = read_task2(data, subset)
        except DatasetError:
            continue

        def items(ds: Any = ds) -> Iterator[tuple[str, np.ndarray, int, EventList, float]]:
            for it in ds.items:
                y, sr = load(it.path)
                yield it.path.name, y, sr, EventList(it.events or ()), info(it.path).duration

        res, psds = _evaluate(items(), systems, cfg, out / subset, classes, subset)
        results["sets"][subset] = {name: r.to_dict() for name, r in res.items()}
        report += [f"\n### {subset} set ({len(ds)} mixtures)\n", sed_table(res), "",
                   class_table(res), ""]
        log(f"\n{subset}:\n" + sed_table(res))
        if psds is not None:
            results.setdefault("psds", {})[subset] = {n: r.to_dict() for n, r in psds.items()}
            report += ["Threshold-independent (sed_scores_eval, from the score tables in "
                       f"`{subset}/<system>/*.scores.tsv`):\n", psds_table(psds), ""]
            log(psds_table(psds))
    results["seconds"]["total"] = time.perf_counter() - t_start
    write_json(out / "results.json", results)
    atomic_write_text(out / "results.md", "\n".join(report) + "\n")
    return results
