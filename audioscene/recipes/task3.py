"""DCASE 2016 task 3 (sound event detection in real-life audio, TUT Sound Events 2016):
CaR-forest against the GMM baseline on the official folds.

For every scene and fold, both systems are trained on the fold's training recordings
(the scene's own classes) and run on its test recordings. As in the challenge, metrics
are computed per scene over all folds' test outputs, then averaged over scenes.
Thresholds are fixed in the configuration (no data of a test fold is used to set them).
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
from ..io_utils import atomic_write_text
from ..models.baselines import TASK3_MFCC, GMMEventDetector
from ..models.event_detector import DEFAULT_FEATURES, EventDetector
from ..models.segments import SegmentConfig
from .common import (
    DECODING_DEFAULTS,
    FOREST_DEFAULTS,
    GMM_DEFAULTS,
    sed_table,
    write_event_lists,
    write_json,
)

__all__ = ["run", "DEFAULTS"]

DEFAULTS: dict[str, Any] = {
    "seed": 0,
    "features": DEFAULT_FEATURES.to_dict(),
    "segments": SegmentConfig().to_dict(),
    "forest": dict(FOREST_DEFAULTS),
    "decoding": {**DECODING_DEFAULTS, "onset_threshold": 8.0, "presence_threshold": 0.7},
    "baseline": {**GMM_DEFAULTS, "features": TASK3_MFCC.to_dict(), "threshold": 0.0},
}


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
                est["CaR-forest"] += det.predict(it.path)
                if gmm is not None:
                    est["GMM baseline"] += gmm.predict(it.path)
        if not b["enabled"]:
            est.pop("GMM baseline")
        res = {name: sed_metrics(ref, e, durations=durations, labels=classes)
               for name, e in est.items()}
        for name, e in est.items():
            write_event_lists(e, out / scene / name.lower().replace(" ", "-"))
            per_system.setdefault(name, []).append(res[name])
        results["scenes"][scene] = {name: r.to_dict() for name, r in res.items()}
        report += [f"\n## {scene}\n", sed_table(res), ""]
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
