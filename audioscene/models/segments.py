"""Segment ("superframe") features and per-segment detection targets.

A segment is centred on every ``hop``-th frame. Its features describe the frames
around it at several time scales, per frequency band:

* centred means over ``scales`` frames (e.g. 100, 300, 900 ms);
* the standard deviation over the shortest scale;
* right-minus-left differences of half-window means at ``diff_scales`` (they change
  sign across onsets and offsets, which is what the regression needs);
* the middle-scale mean minus a causal background level (the minimum of that mean over
  the past ``background_frames`` frames), so that thresholds do not depend only on
  absolute level.

Every output depends only on a bounded window of frames (``lookbehind`` / ``lookahead``
frames), with edges padded by repeating the first and last frame, so a stream can
compute the same features as a whole file.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..events import EventList

__all__ = ["SegmentConfig", "segment_features", "segment_targets"]


@dataclass(frozen=True)
class SegmentConfig:
    """How frame features become segment features.

    Parameters
    ----------
    scales : tuple of int
        Odd window lengths (frames) of the centred means.
    std_frames : int
        Odd window length of the standard deviation.
    diff_scales : tuple of int
        Odd window lengths of the right-minus-left differences.
    background_frames : int
        Causal window of the background minimum (0 disables the relative feature).
    hop : int
        A segment every ``hop`` frames.

    Examples
    --------
    >>> SegmentConfig().n_features(40)
    280
    """

    scales: tuple[int, ...] = (5, 15, 45)
    std_frames: int = 5
    diff_scales: tuple[int, ...] = (15, 45)
    background_frames: int = 100
    hop: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "scales", tuple(int(s) for s in self.scales))
        object.__setattr__(self, "diff_scales", tuple(int(s) for s in self.diff_scales))
        for w in (*self.scales, *self.diff_scales, self.std_frames):
            if w < 1 or w % 2 == 0:
                raise ValueError(f"SegmentConfig: window lengths must be odd and >= 1, got {w}")
        if not self.scales:
            raise ValueError("SegmentConfig: need at least one scale")
        if self.hop < 1 or self.background_frames < 0:
            raise ValueError("SegmentConfig: hop >= 1 and background_frames >= 0")

    @property
    def lookahead(self) -> int:
        """Frames after a segment's centre that its features read."""
        return max((*self.scales, *self.diff_scales, self.std_frames)) // 2

    @property
    def lookbehind(self) -> int:
        """Frames before a segment's centre that its features read."""
        mid = self.scales[len(self.scales) // 2]
        return max(self.lookahead, mid // 2 + max(self.background_frames - 1, 0))

    def n_features(self, n_bands: int) -> int:
        """Segment features for ``n_bands`` frame features."""
        per_band = len(self.scales) + 1 + len(self.diff_scales) + (1 if self.background_frames
                                                                     else 0)
        return n_bands * per_band

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        d = asdict(self)
        d["scales"] = list(self.scales)
        d["diff_scales"] = list(self.diff_scales)
        return d


def _window_sum(cs: np.ndarray, pad: int, n: int, lo: int, hi: int) -> np.ndarray:
    """Sum over frames [i+lo, i+hi] for every i in 0..n-1 from a cumulative sum of the
    padded frames (``cs[k]`` = sum of padded frames before k)."""
    idx = np.arange(n) + pad
    return cs[idx + hi + 1] - cs[idx + lo]


def segment_features(frames: np.ndarray, config: SegmentConfig | None = None) -> np.ndarray:
    """Segment features of a (frames x bands) matrix.

    Parameters
    ----------
    frames : np.ndarray
        ``(T, B)`` frame features (e.g. log-mel).
    config : SegmentConfig or None
        Scales and hop.

    Returns
    -------
    np.ndarray
        float32 ``(ceil(T / hop), config.n_features(B))``: the segment centred on frame
        ``i * hop`` is row ``i``.

    Examples
    --------
    >>> X = segment_features(np.zeros((100, 40), np.float32))
    >>> X.shape
    (100, 280)
    """
    cfg = config or SegmentConfig()
    F = np.asarray(frames, dtype=np.float64)
    if F.ndim != 2:
        raise ValueError(f"frames must be (T, bands), got shape {F.shape}")
    T, B = F.shape
    if T == 0:
        return np.zeros((0, cfg.n_features(B)), np.float32)
    pad = cfg.lookahead
    P = np.concatenate([np.repeat(F[:1], pad, 0), F, np.repeat(F[-1:], pad, 0)])
    cs = np.concatenate([np.zeros((1, B)), np.cumsum(P, axis=0)])
    cs2 = np.concatenate([np.zeros((1, B)), np.cumsum(P * P, axis=0)])
    parts = []
    means = {}
    for w in cfg.scales:
        h = w // 2
        means[w] = _window_sum(cs, pad, T, -h, h) / w
        parts.append(means[w])
    h = cfg.std_frames // 2
    m = _window_sum(cs, pad, T, -h, h) / cfg.std_frames
    m2 = _window_sum(cs2, pad, T, -h, h) / cfg.std_frames
    parts.append(np.sqrt(np.maximum(m2 - m * m, 0.0)))
    for w in cfg.diff_scales:
        h = w // 2
        if h == 0:
            parts.append(np.zeros((T, B)))
            continue
        right = _window_sum(cs, pad, T, 1, h) / h
        left = _window_sum(cs, pad, T, -h, -1) / h
        parts.append(right - left)
    if cfg.background_frames:
        mid = means[cfg.scales[len(cfg.scales) // 2]]
        nb = cfg.background_frames
        padded = np.concatenate([np.repeat(mid[:1], nb - 1, 0), mid])
        bg = sliding_window_view(padded, nb, axis=0).min(axis=-1)
        parts.append(mid - bg)
    X = np.stack(parts, axis=2).reshape(T, -1)  # per band: all statistics together
    return np.ascontiguousarray(X[:: cfg.hop], dtype=np.float32)


def segment_targets(times: np.ndarray, events: EventList,
                    labels: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Per-class labels and onset/offset displacements of segments.

    Parameters
    ----------
    times : np.ndarray
        Segment centre times in seconds.
    events : EventList
        Annotation of the recording.
    labels : list of str
        Classes, in column order.

    Returns
    -------
    y : np.ndarray
        bool ``(n, C)``: the centre lies inside an event of the class.
    D : np.ndarray
        float32 ``(n, C, 2)``: seconds back to the onset and forward to the offset of
        that event (the one with the latest onset when several overlap); NaN where
        ``y`` is False.

    Examples
    --------
    >>> from audioscene.events import Event
    >>> y, D = segment_targets(np.array([0.5, 1.5]), EventList([Event(1, 2, "a")]), ["a"])
    >>> y[:, 0].tolist(), D[1, 0].tolist()
    ([False, True], [0.5, 0.5])
    """
    t = np.asarray(times, dtype=np.float64)
    y = np.zeros((len(t), len(labels)), bool)
    D = np.full((len(t), len(labels), 2), np.nan, np.float32)
    col = {lab: j for j, lab in enumerate(labels)}
    for e in sorted(events, key=lambda e: e.onset):
        j = col.get(e.label)  # type: ignore[arg-type]
        if j is None:
            continue
        inside = (t >= e.onset) & (t < e.offset)
        y[inside, j] = True
        D[inside, j, 0] = t[inside] - e.onset
        D[inside, j, 1] = e.offset - t[inside]
    return y, D
