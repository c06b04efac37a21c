"""Feature layer: one frozen :class:`FeatureConfig`, :class:`FeatureStream` for blocks and
:func:`extract` (the stream fed a whole signal), computed with librosa and framed
``center=False``; segment features and their stream (:mod:`audioscene.features.segments`);
label tree embeddings (:class:`LabelTree`, :class:`LabelTreeEmbedder`). Submodules load
on first use.

Examples
--------
>>> import numpy as np
>>> from audioscene.features import FeatureConfig, extract
>>> X, times = extract(np.zeros(44100, dtype=np.float32), FeatureConfig(kind="mfcc"))
>>> X.shape
(42, 20)
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach(
    __name__,
    submodules=["config", "core", "segments", "lte"],
    submod_attrs={
        "config": ["KINDS", "PCEN_SCALE", "FeatureConfig"],
        "core": ["FeatureStream", "FeatureConstants", "extract", "extract_file", "stft",
                 "check_length", "pcen"],
        "segments": ["SegmentConfig", "SegmentStream", "segment_features", "segment_targets"],
        "lte": ["LabelTree", "LabelTreeEmbedder", "segment_stats"],
    },
)
