"""DCASE 2016 task 2 (synthetic audio sound event detection): CaR-forest against the
GMM baseline.

1. Training mixtures are synthesised from the isolated training sounds
   (``dcase2016_task2_train``) over background recordings, with a fixed seed; a few
   backgrounds are held out to synthesise *validation* mixtures.
2. Both systems are trained on the training mixtures; their decision thresholds are
   chosen on the validation mixtures only.
3. Every official-layout set under the data root (``dcase2016_task2_dev``, and
   ``dcase2016_task2_test`` when present) is evaluated with sed_eval: event-based
   (onset, onset+offset, 0.2 s collar) and segment-based (1 s), per class and overall.
   These sets are never used for training or tuning. With ``psds: true`` (the default)
   each system's frame scores are also written as score tables (``<set>/<system>/<stem>.scores.tsv``) and evaluated
   with sed_scores_eval: PSDS 1 and 2, and intersection- and collar-based F1 at each
   class's best threshold.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from ..audio import info, load
from ..datasets import DatasetError, read_task2
from ..datasets.synth import load_sources, random_scene
from ..evaluate import sed_metrics
from ..events import EventList
from ..features import FeatureConfig, extract
from ..features.segments import SegmentConfig
from ..models.baselines import GMMEventDetector
from ..models.event_detector import EventDetector
from .common import (
    class_table,
    load_backgrounds,
    psds_table,
    score_results,
    sed_table,
    tune,
    write_event_lists,
    write_json,
    write_score_table,
)

__all__ = ["run"]

def _frames(y: np.ndarray, sr: int, cfg: FeatureConfig) -> np.ndarray:
    return extract(y, cfg, sr=sr)[0]


def _synth(sources: dict, backgrounds: list, n: int, s: dict[str, Any], rng: np.random.Generator,
           configs: list[FeatureConfig], desc: str) -> tuple[list[list[np.ndarray]], list[EventList]]:
    """Render ``n`` mixtures and keep only their frame features (one list per config)."""
    frames: list[list[np.ndarray]] = [[] for _ in configs]
    annotations = []
    for i in tqdm(range(n), desc=desc):
        scape = random_scene(sources, backgrounds, sr=s["sr"], duration=s["duration"],
                             events_per_minute=s["events_per_minute"],
                             ebr_db=tuple(s["ebr_db"]), max_polyphony=s["max_polyphony"],
                             rng=rng)
        for k, cfg in enumerate(configs):
            frames[k].append(_frames(scape.audio, s["sr"], cfg))
        annotations.append(scape.events.with_filename(f"{desc}{i:03d}"))
    return frames, annotations


def run(cfg: dict[str, Any], *, data: Path, out: Path, backgrounds: Path | None = None,
        log: Any = print, **_: Any) -> dict[str, Any]:
    """Run the recipe (see the module docstring); returns the results.

    Parameters
    ----------
    cfg : dict
        Full configuration (see :func:`audioscene.recipes.load_config`).
    data : Path
        Root holding ``dcase2016_task2/`` (or that folder itself).
    out : Path
        Output folder: ``model/``, ``baseline/``, ``<set>/<system>/*.txt``,
        ``results.json``, ``results.md``.
    backgrounds : Path or None
        Background recordings for synthesis (default: ``<data>/backgrounds``).
    log : callable
        Where progress lines go.

    Returns
    -------
    dict
        Metrics per set and system, the tuned thresholds and timings.
    """
    t_start = time.perf_counter()
    seed = int(cfg["seed"])
    s = cfg["synth"]
    train = read_task2(data, "train")
    train_bgs, val_bgs = load_backgrounds(data, backgrounds, sr=s["sr"],
                                          n_validation=int(s["validation_backgrounds"]))
    sources = load_sources(train.root, sr=s["sr"])
    log(f"training sounds: {sum(len(v) for v in sources.values())} in {len(sources)} classes; "
        f"backgrounds: {len(train_bgs)} for training, {len(val_bgs)} held out for validation")

    fcfg = FeatureConfig.from_dict(cfg["features"])
    bcfg = FeatureConfig.from_dict(cfg["baseline"]["features"])
    configs = [fcfg] + ([bcfg] if cfg["baseline"]["enabled"] else [])
    rng = np.random.default_rng(seed)
    tr_frames, tr_ann = _synth(sources, train_bgs, int(s["train_mixtures"]), s, rng, configs,
                               "train")
    va_frames, va_ann = _synth(sources, val_bgs, int(s["validation_mixtures"]), s, rng,
                               configs, "val")
    classes = train.classes

    det = EventDetector(feature_config=fcfg, segment_config=SegmentConfig(**cfg["segments"]),
                        random_state=seed, **cfg["forest"], **cfg["decoding"])
    t0 = time.perf_counter()
    det.fit_frames(tr_frames[0], tr_ann, classes=classes, progress=True)
    t_fit = time.perf_counter() - t0
    log(f"CaR-forest: {len(classes)} forests trained in {t_fit:.0f} s")

    va_ref = EventList([e for ev in va_ann for e in ev])
    va_dur = {ev_name: s["duration"] for ev_name in (f"val{i:03d}" for i in range(len(va_ann)))}
    va_curves = [det.curves_from_frames(F) for F in va_frames[0]]

    def decode_car(params: dict[str, Any]) -> EventList:
        det.set_params(**params)
        return EventList([e for i, c in enumerate(va_curves)
                          for e in det.decode(c, filename=f"val{i:03d}")])

    t = cfg["tuning"]
    best, rows = tune(decode_car, {"onset_threshold": t["onset_threshold"],
                                   "presence_threshold": t["presence_threshold"]},
                      va_ref, va_dur, criterion=t["criterion"])
    det.set_params(**best)
    log(f"CaR-forest thresholds chosen on validation mixtures: {best}")
    det.save(out / "model")

    gmm = None
    gmm_best: dict[str, Any] = {}
    if cfg["baseline"]["enabled"]:
        b = cfg["baseline"]
        gmm = GMMEventDetector(feature_config=bcfg, n_components=b["n_components"],
                               window=b["window"], min_length=b["min_length"],
                               min_gap=b["min_gap"], max_frames=b["max_frames"],
                               random_state=seed)
        t0 = time.perf_counter()
        gmm.fit_frames(tr_frames[1], tr_ann, classes=classes)
        log(f"GMM baseline trained in {time.perf_counter() - t0:.0f} s")
        va_scores = [gmm.scores_from_frames(F)[0] for F in va_frames[1]]
        qs = np.quantile(np.concatenate(va_scores).ravel(), b["threshold_quantiles"])

        def decode_gmm(params: dict[str, Any]) -> EventList:
            gmm.set_params(**params)
            return EventList([e for i, S in enumerate(va_scores)
                              for e in gmm.decode(S, filename=f"val{i:03d}")])

        gmm_best, _ = tune(decode_gmm, {"threshold": [float(q) for q in qs]}, va_ref, va_dur,
                           criterion=t["criterion"])
        gmm.set_params(**gmm_best)
        log(f"GMM threshold chosen on validation mixtures: {gmm_best}")
        gmm.save(out / "baseline")

    results: dict[str, Any] = {"tuning": {"carforest": best, "gmm": gmm_best,
                                          "carforest_grid": rows},
                               "sets": {}, "seconds": {}}
    report = ["# DCASE 2016 task 2: CaR-forest vs GMM baseline\n",
              f"Training: {s['train_mixtures']} synthesised mixtures of {s['duration']:g} s "
              f"(seed {seed}); thresholds tuned on {s['validation_mixtures']} validation "
              "mixtures over held-out backgrounds.\n"]
    for subset in ("dev", "test"):
        try:
            ds = read_task2(data, subset)
        except DatasetError:
            continue
        ref = EventList([e for it in ds for e in (it.events or ())])
        durations = {it.path.name: info(it.path).duration for it in ds}
        systems: dict[str, EventList] = {"CaR-forest": EventList(), "GMM baseline": EventList()}
        folders = {name: out / subset / name.lower().replace(" ", "-") for name in systems}
        seg_hop = fcfg.hop_seconds * det.sconfig.hop
        for it in tqdm(ds.items, desc=subset):
            y, sr = load(it.path)
            curves = det.curves_from_frames(_frames(y, sr, fcfg))
            systems["CaR-forest"] += det.decode(curves, filename=it.path.name)
            if cfg["psds"]:
                write_score_table(folders["CaR-forest"] / f"{it.path.stem}.scores.tsv",
                                  classes, curves.centres, curves.presence, seg_hop)
            if gmm is not None:
                S, times = gmm.scores_from_frames(_frames(y, sr, bcfg))
                systems["GMM baseline"] += gmm.decode(S, filename=it.path.name)
                if cfg["psds"]:
                    write_score_table(folders["GMM baseline"] / f"{it.path.stem}.scores.tsv",
                                      classes, times, S, bcfg.hop_seconds)
        if gmm is None:
            systems.pop("GMM baseline")
            folders.pop("GMM baseline")
        res = {name: sed_metrics(ref, est, durations=durations, labels=classes)
               for name, est in systems.items()}
        for name, est in systems.items():
            write_event_lists(est, folders[name])
        results["sets"][subset] = {name: r.to_dict() for name, r in res.items()}
        report += [f"\n## {subset} set ({len(ds)} mixtures)\n", sed_table(res), "",
                   class_table(res), ""]
        log(f"\n{subset}:\n" + sed_table(res))
        if cfg["psds"]:
            psds = score_results(ref, folders, durations)
            results.setdefault("psds", {})[subset] = {n: r.to_dict() for n, r in psds.items()}
            report += ["Threshold-independent (sed_scores_eval, from the score tables in "
                       f"`{subset}/<system>/*.scores.tsv`):\n", psds_table(psds), ""]
            log(psds_table(psds))
    results["seconds"] = {"carforest_fit": t_fit, "total": time.perf_counter() - t_start}
    write_json(out / "results.json", results)
    from ..io_utils import atomic_write_text

    atomic_write_text(out / "results.md", "\n".join(report) + "\n")
    return results
