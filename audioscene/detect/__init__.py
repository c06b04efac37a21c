"""Detection runners over any model's stream: :class:`StreamingDetector` (blocks in,
events out) and the batch, process-pool and Ray runners behind ``audioscene detect``.
The decoders themselves live in :mod:`audioscene.decode` (re-exported here). Submodules
load on first use.

Examples
--------
>>> from audioscene.detect import hysteresis_events
>>> import numpy as np
>>> [e.label for e in hysteresis_events(np.array([[0.9], [0.1]]), ["dog"], hop=0.5)]
['dog']
"""

import lazy_loader as lazy

__getattr__, __dir__, _all = lazy.attach(
    __name__,
    submodules=["streaming", "batch"],
    submod_attrs={"streaming": ["StreamingDetector"]},
)

_DECODE = ("HysteresisDecoder", "VoteCurves", "VotePairer", "hysteresis_events",
           "vote_reach", "accumulate_votes", "pair_events", "peak_mass", "pick_peaks")
__all__ = [*_all, *_DECODE]
_attach_getattr = __getattr__


def __getattr__(name: str):  # noqa: ANN202, F811
    if name in _DECODE:
        from .. import decode

        return getattr(decode, name)
    return _attach_getattr(name)
