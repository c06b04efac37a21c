"""DCASE 2016 task 3 (sound event detection in real-life audio, TUT Sound Events 2016):
CaR-forest against the GMM baseline on the official folds.

For every scene and fold, both systems are trained on the fold's training recordings
(the scene's own classes) and run on its test recordings. As in the challenge, metrics
are computed per scene over all folds' test outputs, then averaged over scenes.
Thresholds are fixed in the configuration (no data of a test fold is used to set them).
With ``psds: true`` (the default) each system's frame scores are also written as score
tables (``<scene>/<system>/<stem>.scores.tsv``) and evaluated per scene with sed_scores_eval
(PSDS 1 and 2, best-threshold F1).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from ..audio import info
from ..datasets import read_task3
from ..evaluate import sed_metrics
from ..events import EventList
from ..features import FeatureConfig
from ..features.segments import SegmentConfig
from ..io_utils import atomic_write_text
from ..models.baselines import GMMEventDetector
from ..models.event_detector import EventDetector
from .common import (
    psds_table,
    score_results,
    sed_table,
    write_event_lists,
    write_json,
    write_score_table,
)

__all__ = ["run"]

def run(cfg: dict[str, Any], *, data: Path, out: Path, log: Any = print,
        **_: Any) -> dict[str, Any]:
    """Run the recipe (see the module docstring); returns per-scene and average metrics.

    Parameters
    ----------
    cfg : dict
        Full configuration.
    data : Path
        ``TUT-sound-events-2016-development`` or a folder above it.
    out : Path
        Output folder: ``<scene>/<system>/*.txt``, ``results.json``, ``results.md``.
    log : callable
        Where progress lines go.
    """
    t_start = time.perf_counter()
    ds = read_task3(data)
    if not ds.folds:
        raise ValueError(f"{ds.root}: no evaluation_setup folds")
    fcfg = FeatureConfig.from_dict(cfg["features"])
    b = cfg["baseline"]
    bcfg = FeatureConfig.from_dict(b["features"])
    scenes = sorted({it.label for it in ds if it.label})
    results: dict[str, Any] = {"scenes": {}, "average": {}}
    report = ["# DCASE 2016 task 3: CaR-forest vs GMM baseline\n"]
    per_system: dict[str, list] = {}
    for scene in scenes:
        est: dict[str, EventList] = {"CaR-forest": EventList(), "GMM baseline": EventList()}
        folders = {name: out / scene / name.lower().replace(" ", "-") for name in est}
        ref = EventList()
        durations: dict[str, float] = {}
        classes = sorted({lab for it in ds if it.label == scene for lab in it.events.labels})
        for k in tqdm(ds.folds, desc=scene):
            train, test = ds.split(k)
            train = [it for it in train if it.label == scene]
            test = [it for it in test if it.label == scene]
            if not train or not test:
                continue
            det = EventDetector(feature_config=fcfg,
                                segment_config=SegmentConfig(**cfg["segments"]),
                                random_state=int(cfg["seed"]), **cfg["forest"],
                                **cfg["decoding"])
            det.fit([it.path for it in train], [it.events for it in train], classes=classes)
            gmm = None
            if b["enabled"]:
                gmm = GMMEventDetector(feature_config=bcfg, n_components=b["n_components"],
                                       window=b["window"], threshold=b["threshold"],
                                       min_length=b["min_length"], min_gap=b["min_gap"],
                                       max_frames=b["max_frames"], random_state=int(cfg["seed"]))
                gmm.fit([it.path for it in train], [it.events for it in train], classes=classes)
            for it in test:
                ref += it.events
                durations[it.path.name] = info(it.path).duration
                curves = det.curves(it.path)
                est["CaR-forest"] += det.decode(curves, filename=it.path.name)
                if cfg["psds"]:
                    write_score_table(folders["CaR-forest"] / f"{it.path.stem}.scores.tsv",
                                      classes, curves.centres, curves.presence,
                                      fcfg.hop_seconds * det.sconfig.hop)
                if gmm is not None:
                    S, times = gmm.scores(it.path)
                    est["GMM baseline"] += gmm.decode(S, filename=it.path.name)
                    if cfg["psds"]:
                        write_score_table(
                            folders["GMM baseline"] / f"{it.path.stem}.scores.tsv",
                            classes, times, S, bcfg.hop_seconds)
        if not b["enabled"]:
            est.pop("GMM baseline")
            folders.pop("GMM baseline")
        res = {name: sed_metrics(ref, e, durations=durations, labels=classes)
               for name, e in est.items()}
        for name, e in est.items():
            write_event_lists(e, folders[name])
            per_system.setdefault(name, []).append(res[name])
        psds = score_results(ref, folders, durations) if cfg["psds"] and len(ref) else {}
        results["scenes"][scene] = {name: r.to_dict() for name, r in res.items()}
        if psds:
            results.setdefault("psds", {})[scene] = {n: r.to_dict() for n, r in psds.items()}
        report += [f"\n## {scene}\n", sed_table(res), ""]
        if psds:
            report += ["Threshold-independent (sed_scores_eval, from the score tables in "
                       f"`{scene}/<system>/*.scores.tsv`):\n", psds_table(psds), ""]
        log(f"\n{scene}:\n" + sed_table(res))
    for name, rs in per_system.items():
        def avg(get: Any, rs: list = rs) -> float | None:
            vals = [get(r) for r in rs if get(r) is not None]
            return float(np.mean(vals)) if vals else None

        results["average"][name] = {
            "segment_f1": avg(lambda r: r.segment_based.overall.f1),
            "segment_er": avg(lambda r: r.segment_based.overall.error_rate),
            "event_onset_f1": avg(lambda r: r.event_onset.overall.f1),
            "event_onset_er": avg(lambda r: r.event_onset.overall.error_rate)}
    results["seconds"] = time.perf_counter() - t_start
    write_json(out / "results.json", results)
    atomic_write_text(out / "results.md", "\n".join(report) + "\n")
    return results
