"""Detection engines: numba vote kernels, the streaming detector and hysteresis
decoder, and batch/cluster runners.

Examples
--------
>>> from audioscene.detect import hysteresis_events
>>> import numpy as np
>>> [e.label for e in hysteresis_events(np.array([[0.9], [0.1]]), ["dog"], hop=0.5)]
['dog']
"""

from .streaming import (
    HysteresisDecoder,
    StreamingDetector,
    VoteCurves,
    VotePairer,
    hysteresis_events,
    vote_reach,
)
from .votes import accumulate_votes, pair_events, peak_mass, pick_peaks

__all__ = [
    "HysteresisDecoder", "StreamingDetector", "VoteCurves", "VotePairer",
    "hysteresis_events", "vote_reach", "accumulate_votes", "pair_events", "peak_mass",
    "pick_peaks",
]
