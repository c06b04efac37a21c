"""Hysteresis decoding of frame scores, streaming or offline: one state machine per
class (open above ``high``, close below ``low``, median smoothing, minimum length and
gap), for any model that gives frame posteriors, with optional class competition
(:func:`class_competition`) before the smoothing."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numba
import numpy as np

from ..events import Event, EventList
from .base import per_class

__all__ = ["HysteresisDecoder", "class_competition", "hysteresis_events", "with_thresholds"]


@numba.njit(cache=True, nogil=True, inline="always")
def _close(state, c, f):
    """Class c's open event ends before frame f; it waits (pending) for min_gap."""
    state[c, 0] = 0
    state[c, 2] = 1
    state[c, 3] = state[c, 1]
    state[c, 4] = f


@numba.njit(cache=True, nogil=True, inline="always")
def _settle(state, c, min_len, out, k):
    """Class c's pending event is final: write it to out[k] if long enough; returns
    the next free row."""
    if state[c, 4] - state[c, 3] >= min_len:
        out[k, 0] = c
        out[k, 1] = state[c, 3]
        out[k, 2] = state[c, 4]
        k += 1
    state[c, 2] = 0
    return k


@numba.njit(cache=True, nogil=True)
def _hysteresis(scores, state, high, low, min_len, min_gap, first_frame, final):
    """state[c] = (active, on, pending, pend_on, pend_off) per class; returns events as
    rows (class, onset_frame, offset_frame)."""
    n, C = scores.shape
    out = np.empty((n + C + 1, 3), np.int64)
    k = 0
    for i in range(n):
        f = first_frame + i
        for c in range(C):
            s = scores[i, c]
            if state[c, 0] == 1:
                if s < low[c]:
                    _close(state, c, f)
            else:
                if state[c, 2] == 1 and f - state[c, 4] >= min_gap:
                    k = _settle(state, c, min_len, out, k)
                if s >= high[c]:
                    if state[c, 2] == 1:  # a gap shorter than min_gap: resume that event
                        state[c, 1] = state[c, 3]
                        state[c, 2] = 0
                    else:
                        state[c, 1] = f
                    state[c, 0] = 1
    if final:
        for c in range(C):
            if state[c, 0] == 1:
                _close(state, c, first_frame + n)
            if state[c, 2] == 1:
                k = _settle(state, c, min_len, out, k)
    return out[:k]


def class_competition(scores: np.ndarray, gamma: float) -> np.ndarray:
    """Class competition within each frame: every score ``p_c`` becomes
    ``p_c * (p_c / max_k p_k) ** gamma``.

    The frame's highest score is left as it is and the others shrink the further they lie
    below it, so a class that is only an echo of a stronger one in the same frame (a
    laugh heard as a cough) is damped, while classes that are both strong (overlapping
    events) are hardly touched. Each frame is transformed on its own, so the transform
    streams. ``gamma = 0`` returns the scores unchanged (as float64: the same array when
    they already are); a frame whose scores are all 0 stays 0.

    Parameters
    ----------
    scores : np.ndarray
        Non-negative frame scores ``(frames, C)``.
    gamma : float
        Strength (>= 0).

    Returns
    -------
    np.ndarray

    Examples
    --------
    >>> class_competition(np.array([[0.8, 0.4]]), 1.0).tolist()
    [[0.8, 0.2]]
    """
    if gamma < 0:
        raise ValueError(f"competition must be >= 0, got {gamma}")
    s = np.asarray(scores, dtype=np.float64)
    if gamma == 0 or s.size == 0:
        return s
    top = s.max(axis=1, keepdims=True)
    ratio = np.divide(s, top, out=np.zeros_like(s), where=top > 0)
    return s * ratio ** gamma


class HysteresisDecoder:
    """Per-class hysteresis on frame scores, streaming or offline.

    A class's event opens when its (median-smoothed) score reaches ``high`` and closes
    when it falls below ``low``; events shorter than ``min_duration`` are dropped and
    gaps shorter than ``min_gap`` are closed. Each class has its own state machine, so
    events of different classes overlap freely.

    Parameters
    ----------
    classes : sequence of str
    hop : float
        Seconds between frames.
    high, low : float or sequence of float
        Opening and closing thresholds (``low <= high``): one for every class, or one per
        class.
    median : int
        Odd median-filter length in frames (1: none); edges repeat the first/last frame.
    min_duration, min_gap : float
        Seconds.
    offset : float
        Time of the start of frame 0 (frame ``i`` spans ``offset + i * hop`` onwards).
    filename : str or None
        File name of the events.
    competition : float
        Class competition strength: each frame's scores go through
        :func:`class_competition` before the median filter (0: none).

    Examples
    --------
    >>> hd = HysteresisDecoder(["a"], hop=0.1, high=0.6, low=0.4)
    >>> s = np.array([[0.1], [0.7], [0.5], [0.3], [0.1]])
    >>> [(round(e.onset, 2), round(e.offset, 2)) for e in hd.process(s) + hd.flush()]
    [(0.1, 0.3)]
    """

    def __init__(self, classes: Sequence[str], *, hop: float,
                 high: float | Sequence[float] = 0.5,
                 low: float | Sequence[float] | None = None, median: int = 1, min_duration: float = 0.0,
                 min_gap: float = 0.0, offset: float = 0.0, filename: str | None = None,
                 competition: float = 0.0) -> None:
        low = high if low is None else low
        hi = per_class(high, len(classes), "high thresholds")
        lo = per_class(low, len(classes), "low thresholds")
        if np.any(lo > hi):
            raise ValueError(f"low ({low}) must not exceed high ({high})")
        if median < 1 or median % 2 == 0:
            raise ValueError(f"median must be an odd length >= 1, got {median}")
        if competition < 0:
            raise ValueError(f"competition must be >= 0, got {competition}")
        self.classes = list(classes)
        self.hop, self.high, self.low, self.median = hop, hi, lo, int(median)
        # in frames: an event of k frames lasts k * hop; keep it when that reaches
        # min_duration, and close a gap of k frames when k * hop < min_gap
        self.min_len = max(0, math.ceil(min_duration / hop - 1e-9))
        self.min_gap = max(0, math.ceil(min_gap / hop - 1e-9))
        self.offset = offset
        self.filename = filename
        self.competition = float(competition)
        self.reset()

    def reset(self) -> None:
        """Start a new stream."""
        self.state = np.zeros((len(self.classes), 5), np.int64)
        self.buf = np.zeros((0, len(self.classes)))
        self.frames_in = 0
        self.frames_done = 0

    def _events(self, rows: np.ndarray) -> EventList:
        return EventList(Event(round(self.offset + on * self.hop, 6),
                               round(self.offset + off * self.hop, 6),
                               self.classes[c], None, self.filename) for c, on, off in rows)

    def _smoothed(self, final: bool) -> np.ndarray:
        h = self.median // 2
        if h == 0:
            out, self.buf = self.buf, self.buf[:0]
            return out
        # buf holds frames from frames_done - h (edge-padded at the start)
        if self.frames_done == 0 and self.frames_in and len(self.buf) == self.frames_in:
            self.buf = np.concatenate([np.repeat(self.buf[:1], h, 0), self.buf])
        if final and self.frames_in:
            self.buf = np.concatenate([self.buf, np.repeat(self.buf[-1:], h, 0)])
        n_out = len(self.buf) - 2 * h
        if n_out <= 0:
            return np.zeros((0, len(self.classes)))
        from numpy.lib.stride_tricks import sliding_window_view

        out = np.median(sliding_window_view(self.buf, self.median, axis=0), axis=-1)
        self.buf = self.buf[n_out:]
        return out

    def process(self, scores: np.ndarray) -> EventList:
        """Feed frame scores ``(k, C)``; return the events now final."""
        s = np.asarray(scores, dtype=np.float64)
        if s.ndim != 2 or s.shape[1] != len(self.classes):
            raise ValueError(f"scores must be (frames, {len(self.classes)})")
        self.buf = np.concatenate([self.buf, class_competition(s, self.competition)])
        self.frames_in += len(s)
        sm = self._smoothed(False)
        rows = _hysteresis(np.ascontiguousarray(sm), self.state, self.high, self.low,
                           self.min_len, self.min_gap, self.frames_done, False)
        self.frames_done += len(sm)
        return self._events(rows)

    def flush(self) -> EventList:
        """End of stream: close open events."""
        sm = self._smoothed(True)
        rows = _hysteresis(np.ascontiguousarray(sm), self.state, self.high, self.low,
                           self.min_len, self.min_gap, self.frames_done, True)
        self.frames_done += len(sm)
        return self._events(rows)


def with_thresholds(hysteresis: dict | None, thresholds: float | Sequence[float] | None
                    ) -> dict:
    """:class:`HysteresisDecoder` parameters ``hysteresis`` with ``thresholds`` as the
    opening thresholds (``high``: one for every class, or one per class); ``None`` leaves
    them unchanged. Giving both ``thresholds`` and ``hysteresis["high"]`` is an error.

    Examples
    --------
    >>> with_thresholds({"median": 3}, 0.7)
    {'median': 3, 'high': 0.7}
    """
    params = dict(hysteresis or {})
    if thresholds is None:
        return params
    if "high" in params:
        raise ValueError("give thresholds or hysteresis['high'], not both")
    params["high"] = thresholds
    return params


def hysteresis_events(scores: np.ndarray, classes: Sequence[str], *, hop: float,
                      **kwargs: Any) -> EventList:
    """Offline hysteresis decoding of frame scores ``(frames, C)``: the same as a
    :class:`HysteresisDecoder` fed everything at once.

    Examples
    --------
    >>> hysteresis_events(np.array([[0.9], [0.9], [0.0]]), ["a"], hop=0.5, high=0.5)[0].offset
    1.0
    """
    hd = HysteresisDecoder(classes, hop=hop, **kwargs)
    return hd.process(scores) + hd.flush()
