"""Streaming detection: continuous audio in, final events out, in bounded memory, with any
detector that offers a stream (``model.stream()``, the interface of
:class:`~audioscene.decode.base.DetectorStream`).

Each model computes its own stream (features, segments, scores and decoding, all
releasing only values whose inputs are complete); this module drives it: blocks in,
events out, and the scores of each call for score tables.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from ..decode.base import DetectorStream, FrameScores, check_decoder
from ..events import EventList

__all__ = ["StreamingDetector"]


class StreamingDetector:
    """Turn a stream of audio blocks into final events with a trained detector
    (:class:`~audioscene.models.EventDetector` or
    :class:`~audioscene.models.GMMEventDetector`, or any model whose ``stream()`` gives
    a :class:`~audioscene.decode.base.DetectorStream`).

    Parameters
    ----------
    model : detector
        A fitted model with a ``stream()`` method (its runtime state is held here,
        never in the model).
    decoder : {"votes", "hysteresis"}
        For the CaR-forest detector: ``votes`` (the onset/offset votes, the same events
        as ``model.predict``) or ``hysteresis`` (per-class hysteresis on the segments'
        P(positive), parameters in ``hysteresis``). Other models accept ``votes``, which
        means their own decoding.
    filename : str or None
        Name given to the events.
    hysteresis : dict or None
        :class:`~audioscene.decode.hysteresis.HysteresisDecoder` parameters (``high``,
        ``low``, ``median``, ``min_duration``, ``min_gap``).
    threads : int or None
        Threads the model may use per block (``None``: its default).
    thresholds : float, sequence of float or None
        Detection thresholds, one for every class or one per class, on the model's
        score scale, passed to ``model.stream(thresholds=...)`` (``None``: the model's
        own; see each model's ``detection_thresholds``). CaR-forest: the presence
        threshold (``votes``) or the hysteresis opening threshold (``hysteresis``); CNN
        and fusion: the hysteresis opening threshold (closing at ``low_ratio`` x it);
        GMM baseline: the decision threshold on the summed log-likelihood ratio.

    Examples
    --------
    >>> from audioscene.audio import blocks
    >>> from audioscene.models import load_model
    >>> sd = StreamingDetector(load_model("model"))  # doctest: +SKIP
    >>> for b in blocks("long.flac", sr=sd.sr):  # doctest: +SKIP
    ...     for e in sd.process(b.samples):
    ...         print(e)
    >>> sd.flush()  # doctest: +SKIP
    """

    def __init__(self, model: Any, *, decoder: str = "votes", filename: str | None = None,
                 hysteresis: dict | None = None, threads: int | None = None,
                 thresholds: float | Sequence[float] | None = None) -> None:
        if not callable(getattr(model, "stream", None)):
            raise TypeError(f"{type(model).__name__} is not a detector (it has no stream())")
        check_decoder(decoder)
        self.model = model
        self.decoder = decoder
        self.stream: DetectorStream = model.stream(filename=filename, decoder=decoder,
                                                   hysteresis=hysteresis, threads=threads,
                                                   thresholds=thresholds)

    @property
    def sr(self) -> int:
        """Sample rate the blocks must have."""
        return int(self.stream.sr)

    @property
    def classes(self) -> list[str]:
        """Event classes, in score column order."""
        return list(self.stream.classes)

    @property
    def score_hop(self) -> float:
        """Seconds between rows of :attr:`last_scores`."""
        return float(self.stream.score_hop)

    @property
    def latency(self) -> float:
        """The stream's latency (see :class:`~audioscene.decode.base.DetectorStream`):
        from an event's onset for vote decoding, from its end for hysteresis decoding."""
        return float(self.stream.latency)

    @property
    def last_scores(self) -> FrameScores | None:
        """Score rows completed by the last :meth:`process` or :meth:`flush` call."""
        return self.stream.last_scores

    def reset(self, filename: str | None = None) -> None:
        """Start a new stream (optionally for another file name)."""
        self.stream.reset(filename)

    def process(self, block: np.ndarray) -> EventList:
        """Feed the next samples (at :attr:`sr`); return the events now final.

        Examples
        --------
        >>> sd.process(np.zeros(22050, np.float32))  # doctest: +SKIP
        EventList(0 events, labels=[])
        """
        return self.stream.process(block)

    def flush(self) -> EventList:
        """End of stream: return the remaining events.

        Examples
        --------
        >>> sd.flush()  # doctest: +SKIP
        """
        return self.stream.flush()

    def run(self, blocks: Iterable[np.ndarray]) -> EventList:
        """Feed every block, then flush; return all events.

        Examples
        --------
        >>> sd.run(b.samples for b in blocks("long.flac", sr=sd.sr))  # doctest: +SKIP
        """
        events = EventList()
        for b in blocks:
            events = events + self.process(b)
        return events + self.flush()
