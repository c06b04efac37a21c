"""Models: the CaR-forest and its event detector, segment features, DCASE 2016
baselines.

Examples
--------
>>> from audioscene.models import CaRForest, EventDetector
>>> EventDetector(n_estimators=10).get_params()["n_estimators"]
10
"""

from __future__ import annotations

import os
from pathlib import Path

from .baselines import TASK3_MFCC, GMMEventDetector
from .carforest import CaRForest
from .event_detector import DEFAULT_FEATURES, DetectionCurves, EventDetector
from .segments import SegmentConfig, segment_features, segment_targets

__all__ = [
    "CaRForest", "EventDetector", "DetectionCurves", "DEFAULT_FEATURES", "GMMEventDetector",
    "TASK3_MFCC", "SegmentConfig", "segment_features", "segment_targets", "load_model",
]


def load_model(directory: str | os.PathLike) -> EventDetector | GMMEventDetector:
    """Load any saved detector from its folder (``detector.json`` or ``gmm.json``).

    Examples
    --------
    >>> det = load_model("runs/task2/model")  # doctest: +SKIP
    """
    d = Path(directory)
    if (d / "detector.json").exists():
        return EventDetector.load(d)
    if (d / "gmm.json").exists():
        return GMMEventDetector.load(d)
    raise FileNotFoundError(f"{d}: no detector.json or gmm.json (not a model folder)")
