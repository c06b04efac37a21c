"""Feature layer: one frozen :class:`FeatureConfig`, :func:`extract` for whole signals,
:class:`FeatureStream` for blocks, both computed with librosa and framed ``center=False``;
label tree embeddings (:class:`LabelTree`, :class:`LabelTreeEmbedder`).

Examples
--------
>>> import numpy as np
>>> from audioscene.features import FeatureConfig, extract
>>> X, times = extract(np.zeros(44100, dtype=np.float32), FeatureConfig(kind="mfcc"))
>>> X.shape
(42, 20)
"""

from .config import KINDS, FeatureConfig
from .core import FeatureStream, extract, extract_file
from .lte import LabelTree, LabelTreeEmbedder, segment_stats

__all__ = ["KINDS", "FeatureConfig", "FeatureStream", "extract", "extract_file", "LabelTree",
           "LabelTreeEmbedder", "segment_stats"]
