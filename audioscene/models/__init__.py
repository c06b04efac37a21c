"""Models: the all-convolutional and LTE networks with their clip classifier, the
CaR-forest and its event detector, the frame-level CNN event detector, their fusion,
DCASE 2016 baselines. Submodules load on first use
(the networks import torch; the forests do not).

Every model kind saves one folder through :mod:`audioscene.persist` (``model.json`` and
``arrays.npz``); :func:`load_model` reads any of them.

Examples
--------
>>> from audioscene.models import CaRForest, EventDetector
>>> EventDetector(n_estimators=10).get_params()["n_estimators"]
10
"""

from __future__ import annotations

import os
from typing import Any

import lazy_loader as lazy

_getattr, __dir__, _all = lazy.attach(
    __name__,
    submodules=["baselines", "carforest", "clip", "clip_baselines", "clip_ensemble",
                "cnn_detector",
                "event_detector", "fusion", "nets"],
    submod_attrs={
        "baselines": ["TASK3_MFCC", "GMMEventDetector", "GMMEventDetectorStream"],
        "carforest": ["CaRForest"],
        "clip": ["CNN_FEATURES", "ClipClassifier", "encode_labels"],
        "clip_ensemble": ["ClipEnsemble", "distillation_targets"],
        "cnn_detector": ["CNNEventDetector", "CNNEventDetectorStream", "frame_targets",
                         "tune_class_thresholds"],
        "fusion": ["FusionEventDetector", "FusionEventDetectorStream"],
        "clip_baselines": ["ESC_MFCC", "TASK1_MFCC", "TASK4_MFCC", "ForestClipClassifier",
                           "GMMClassifier", "GMMTagger"],
        "event_detector": ["DEFAULT_FEATURES", "DetectionCurves", "EventDetector",
                           "EventDetectorStream"],
        "nets": ["AllConvNet", "LteCNN", "FrameCNN"],
    },
)

#: Segment features moved to the feature layer; still importable from here.
_FEATURES = ("SegmentConfig", "segment_features", "segment_targets")

__all__ = [*_all, *_FEATURES, "MODEL_KINDS", "load_model"]

#: Model kind (as in ``model.json``) -> (module, class) that loads it.
MODEL_KINDS: dict[str, tuple[str, str]] = {
    "EventDetector": ("audioscene.models.event_detector", "EventDetector"),
    "GMMEventDetector": ("audioscene.models.baselines", "GMMEventDetector"),
    "CNNEventDetector": ("audioscene.models.cnn_detector", "CNNEventDetector"),
    "FusionEventDetector": ("audioscene.models.fusion", "FusionEventDetector"),
    "CaRForest": ("audioscene.models.carforest", "CaRForest"),
    "ClipClassifier": ("audioscene.models.clip", "ClipClassifier"),
    "ClipEnsemble": ("audioscene.models.clip_ensemble", "ClipEnsemble"),
    "GMMClassifier": ("audioscene.models.clip_baselines", "GMMClassifier"),
    "GMMTagger": ("audioscene.models.clip_baselines", "GMMTagger"),
    "ForestClipClassifier": ("audioscene.models.clip_baselines", "ForestClipClassifier"),
    "LabelTreeEmbedder": ("audioscene.features.lte", "LabelTreeEmbedder"),
}


def __getattr__(name: str) -> Any:
    if name in _FEATURES:
        from ..features import segments

        return getattr(segments, name)
    return _getattr(name)


def load_model(directory: str | os.PathLike, kinds: tuple[str, ...] | None = None) -> Any:
    """Load any saved model from its folder, importing only the module of its kind (a
    forest never imports torch).

    Parameters
    ----------
    directory : str or os.PathLike
        A model folder (``model.json`` and ``arrays.npz``).
    kinds : tuple of str or None
        Kinds to accept (``None``: any in :data:`MODEL_KINDS`).

    Raises
    ------
    audioscene.persist.ModelFileError
        Not a model folder, a newer format, a damaged file, or another kind.

    Examples
    --------
    >>> det = load_model("runs/task2/model")  # doctest: +SKIP
    """
    import importlib

    from ..persist import MANIFEST, ModelFileError, model_kind

    kind = model_kind(directory)
    allowed = tuple(MODEL_KINDS) if kinds is None else kinds
    if kind not in allowed or kind not in MODEL_KINDS:
        want = " or ".join(allowed)
        a = "an" if want[:1] in "AEIOU" else "a"
        raise ModelFileError(os.path.join(directory, MANIFEST), f"a {kind} model, not {a} {want}")
    module, cls = MODEL_KINDS[kind]
    return getattr(importlib.import_module(module), cls).load(directory)
