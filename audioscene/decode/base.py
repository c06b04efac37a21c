"""What every detection stream gives: the interface that runners drive, and the scores a
stream can write beside its events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from ..events import EventList

__all__ = ["FrameScores", "DetectorStream", "per_class", "check_decoder", "DECODERS"]

#: The decoders a detection stream may be asked for (``stream(decoder=...)``).
DECODERS = ("votes", "hysteresis")


def check_decoder(decoder: str) -> None:
    """Raise ValueError unless ``decoder`` is one of :data:`DECODERS`.

    Examples
    --------
    >>> check_decoder("votes")
    >>> check_decoder("peaks")
    Traceback (most recent call last):
    ...
    ValueError: decoder must be 'votes' or 'hysteresis', got 'peaks'
    """
    if decoder not in DECODERS:
        raise ValueError(f"decoder must be 'votes' or 'hysteresis', got {decoder!r}")


def per_class(value: float | Sequence[float], n_classes: int, name: str = "thresholds"
              ) -> np.ndarray:
    """One value for every class, or one value per class, as a float array
    ``(n_classes,)``; ``name`` is what an error calls the values.

    Examples
    --------
    >>> per_class(0.3, 2).tolist()
    [0.3, 0.3]
    >>> per_class([0.2, 0.4], 2).tolist()
    [0.2, 0.4]
    >>> per_class([0.2, 0.4], 3, "high thresholds")
    Traceback (most recent call last):
    ...
    ValueError: 2 high thresholds for 3 classes: give one value, or one per class
    """
    v = np.asarray(value, dtype=np.float64)
    if v.ndim and v.shape != (n_classes,):
        got = f"{v.shape[0]} {name}" if v.ndim == 1 else f"{name} of shape {v.shape}"
        raise ValueError(f"{got} for {n_classes} classes: give one value, or one "
                         "per class")
    return np.array(np.broadcast_to(v, (n_classes,)))


@dataclass
class FrameScores:
    """Scores of consecutive analysis frames (or segments) emitted by one stream call.

    Attributes
    ----------
    times : np.ndarray
        ``(n,)`` centre time of each row (s).
    scores : np.ndarray
        ``(n, C)`` per-class score of each row.

    Examples
    --------
    >>> FrameScores(np.array([0.5]), np.array([[0.9]])).scores.shape
    (1, 1)
    """

    times: np.ndarray
    scores: np.ndarray

    @staticmethod
    def join(parts: list[FrameScores]) -> FrameScores | None:
        """Concatenate parts in order (``None`` for none).

        Examples
        --------
        >>> p = FrameScores(np.array([0.5]), np.array([[0.9]]))
        >>> FrameScores.join([p, p]).times.tolist()
        [0.5, 0.5]
        """
        if not parts:
            return None
        return FrameScores(np.concatenate([p.times for p in parts]),
                           np.concatenate([p.scores for p in parts]))


@runtime_checkable
class DetectorStream(Protocol):
    """A model's detection stream (``model.stream()``): blocks of samples in, final events
    out, in bounded memory; the model's offline prediction gives the same events.

    Attributes
    ----------
    sr : int
        Sample rate the blocks must have.
    classes : list of str
        Event classes, in score column order.
    score_hop : float
        Seconds between rows of :attr:`last_scores`.
    latency : float
        Upper bound (s of audio) by which an event's release lags the audio
        that decides it: measured from the event's onset for the CaR-forest's vote
        decoding, from its end for hysteresis decoding (which releases an event only once
        it has ended).
    last_scores : FrameScores or None
        Rows completed by the last :meth:`process` or :meth:`flush` call.

    Examples
    --------
    >>> s = model.stream(filename="live")  # doctest: +SKIP
    >>> isinstance(s, DetectorStream)  # doctest: +SKIP
    True
    """

    sr: int
    classes: list[str]
    score_hop: float

    @property
    def latency(self) -> float: ...  # pragma: no cover

    @property
    def last_scores(self) -> FrameScores | None: ...  # pragma: no cover

    def process(self, block: np.ndarray) -> EventList:
        """Feed the next samples; return the events now final."""
        ...  # pragma: no cover

    def flush(self) -> EventList:
        """End of stream: return the remaining events."""
        ...  # pragma: no cover

    def reset(self, filename: str | None = None) -> None:
        """Start a new stream (optionally for another file name)."""
        ...  # pragma: no cover
