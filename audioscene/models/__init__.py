"""Models: the all-convolutional and LTE networks with their clip classifier, the
CaR-forest and its event detector, segment features, DCASE 2016 baselines.

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
from .clip import CNN_FEATURES, ClipClassifier
from .clip_baselines import (
    ESC_MFCC,
    TASK1_MFCC,
    TASK4_MFCC,
    ForestClipClassifier,
    GMMClassifier,
    GMMTagger,
)
from .event_detector import DEFAULT_FEATURES, DetectionCurves, EventDetector
from .nets import AllConvNet, LteCNN
from .segments import SegmentConfig, segment_features, segment_targets

__all__ = [
    "AllConvNet", "LteCNN", "ClipClassifier", "CNN_FEATURES", "GMMClassifier", "GMMTagger",
    "ForestClipClassifier", "TASK1_MFCC", "TASK4_MFCC", "ESC_MFCC", "CaRForest", "EventDetector", "DetectionCurves", "DEFAULT_FEATURES", "GMMEventDetector",
    "TASK3_MFCC", "SegmentConfig", "segment_features", "segment_targets", "load_model",
]


def load_model(directory: str | os.PathLike
               ) -> EventDetector | GMMEventDetector | ClipClassifier:
    """Load any saved model from its folder (``detector.json``, ``gmm.json`` or
    ``classifier.json``).

    Examples
    --------
    >>> det = load_model("runs/task2/model")  # doctest: +SKIP
    """
    d = Path(directory)
    if (d / "detector.json").exists():
        return EventDetector.load(d)
    if (d / "gmm.json").exists():
        return GMMEventDetector.load(d)
    if (d / "classifier.json").exists():
        return ClipClassifier.load(d)
    raise FileNotFoundError(f"{d}: no detector.json, gmm.json or classifier.json "
                            "(not a model folder)")
