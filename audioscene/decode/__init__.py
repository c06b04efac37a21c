"""Decoding: arrays in, events out. CaR-forest vote kernels, incremental vote curves and
onset/offset pairing (:mod:`audioscene.decode.votes`), per-class hysteresis on frame
scores (:mod:`audioscene.decode.hysteresis`), and the interface every detection stream
offers (:mod:`audioscene.decode.base`). Nothing here knows about models or files.

Examples
--------
>>> import numpy as np
>>> from audioscene.decode import hysteresis_events
>>> [e.label for e in hysteresis_events(np.array([[0.9], [0.1]]), ["dog"], hop=0.5)]
['dog']
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach(
    __name__,
    submodules=["base", "votes", "hysteresis"],
    submod_attrs={
        "votes": ["accumulate_votes", "pick_peaks", "pair_events", "peak_mass", "vote_reach",
                  "VoteCurves", "VotePairer"],
        "hysteresis": ["HysteresisDecoder", "class_competition", "hysteresis_events",
                       "with_thresholds"],
        "base": ["FrameScores", "DetectorStream", "per_class", "check_decoder", "DECODERS"],
    },
)
