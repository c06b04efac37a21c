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
frames), with edges padded by repeating the first and last frame, and window sums are
exact integer sums, so :class:`SegmentStream` computes bit-identical features from
blocks of any size; :func:`segment_features` is that stream fed the whole matrix.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numba
import numpy as np

from ..events import EventList

__all__ = ["SegmentConfig", "SegmentStream", "segment_features", "segment_targets", "QUANT"]


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

    @property
    def latency(self) -> int:
        """Frames a stream must see after a centre before its segment is complete."""
        return self.lookahead

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


#: Frame features are quantised to 1/QUANT dB before windowing: integer window sums are
#: exact, so a window gives the same value wherever a block boundary falls.
QUANT = 65536


def _quantise(frames: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(frames, dtype=np.float64) * QUANT).astype(np.int64)


@numba.njit(cache=True, nogil=True)
def _rows_kernel(Q, first, n, hop, scales, std_w, diff_scales, nb, mid_w, quant):
    R, B = Q.shape
    cs = np.zeros((R + 1, B), np.int64)
    for r in range(R):
        for b in range(B):
            cs[r + 1, b] = cs[r, b] + Q[r, b]
    n_stats = len(scales) + 1 + len(diff_scales) + (1 if nb > 0 else 0)
    out = np.empty((n, B * n_stats), np.float32)
    hm = mid_w // 2
    # middle-scale means from nb - 1 rows before the first centre to the last centre
    lo = first - (nb - 1) if nb > 0 else first
    last = first + hop * (n - 1)
    L = last - lo + 1
    mins = np.empty((L, B)) if nb > 0 else np.empty((0, B))
    if nb > 0:
        mids = np.empty(L)
        dq = np.empty(L, np.int64)  # monotonic queue of indices into mids
        for b in range(B):
            for k in range(L):
                r = lo + k
                mids[k] = (cs[r + hm + 1, b] - cs[r - hm, b]) / (mid_w * quant)
            head = 0
            tail = 0
            for k in range(L):
                while tail > head and mids[dq[tail - 1]] >= mids[k]:
                    tail -= 1
                dq[tail] = k
                tail += 1
                if dq[head] <= k - nb:
                    head += 1
                mins[k, b] = mids[dq[head]]
    for i in range(n):
        c = first + hop * i
        for b in range(B):
            j = b * n_stats
            mid_mean = 0.0
            for s in range(len(scales)):
                h = scales[s] // 2
                m = (cs[c + h + 1, b] - cs[c - h, b]) / (scales[s] * quant)
                out[i, j] = m
                if scales[s] == mid_w:
                    mid_mean = m
                j += 1
            h = std_w // 2
            s1 = 0
            s2 = 0.0
            for r in range(c - h, c + h + 1):
                s1 += Q[r, b]
                s2 += float(Q[r, b]) * float(Q[r, b])
            mu = s1 / std_w
            out[i, j] = np.sqrt(max(s2 / std_w - mu * mu, 0.0)) / quant
            j += 1
            for s in range(len(diff_scales)):
                h = diff_scales[s] // 2
                if h == 0:
                    out[i, j] = 0.0
                else:
                    right = cs[c + h + 1, b] - cs[c + 1, b]
                    left = cs[c, b] - cs[c - h, b]
                    out[i, j] = (right - left) / (h * quant)
                j += 1
            if nb > 0:
                out[i, j] = mid_mean - mins[c - lo, b]
    return out


def _rows(Q: np.ndarray, first: int, n: int, cfg: SegmentConfig) -> np.ndarray:
    """Segment features of the centres at rows ``first, first + hop, ...`` (``n`` of them)
    of the quantised, edge-padded frame buffer ``Q``, which must hold ``cfg.lookbehind``
    rows before the first centre and ``cfg.lookahead`` rows after the last. All window
    sums are integer sums (exact); the background minimum uses a monotonic queue."""
    B = Q.shape[1]
    if n == 0:
        return np.zeros((0, cfg.n_features(B)), np.float32)
    return _rows_kernel(np.ascontiguousarray(Q, dtype=np.int64), int(first), int(n),
                        int(cfg.hop), np.asarray(cfg.scales, np.int64), int(cfg.std_frames),
                        np.asarray(cfg.diff_scales, np.int64), int(cfg.background_frames),
                        int(cfg.scales[len(cfg.scales) // 2]), float(QUANT))


def _n_centres(T: int, hop: int) -> int:
    return (T + hop - 1) // hop


def segment_features(frames: np.ndarray, config: SegmentConfig | None = None) -> np.ndarray:
    """Segment features of a (frames x bands) matrix.

    This is :class:`SegmentStream` fed every frame in one block, then flushed. The
    matrix is padded by repeating its first frame ``lookbehind`` times and its last
    frame ``lookahead`` times; every window statistic is exact (integer sums of the
    features quantised to 1/65536 dB), so the stream fed the same frames in blocks of any
    size gives bit-identical rows.

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
    F = np.asarray(frames)
    if F.ndim != 2:
        raise ValueError(f"frames must be (T, bands), got shape {F.shape}")
    cfg = config or SegmentConfig()
    if len(F) == 0:
        return np.zeros((0, cfg.n_features(F.shape[1])), np.float32)
    # the stream fed everything at once: offline and streaming are one implementation
    ss = SegmentStream(cfg)
    return np.concatenate([ss.process(F), ss.flush()])


class SegmentStream:
    """Segment features of frames arriving in blocks; equal to :func:`segment_features`.

    ``process(frames)`` returns the rows whose look-ahead is complete; ``flush()``
    returns the rest (the end is padded as in the offline function); ``reset()`` starts
    again. Memory: ``lookbehind + lookahead`` frames.

    Examples
    --------
    >>> F = np.random.default_rng(0).normal(size=(300, 8))
    >>> ss = SegmentStream()
    >>> parts = [ss.process(F[i:i + 37]) for i in range(0, 300, 37)] + [ss.flush()]
    >>> np.array_equal(np.concatenate(parts), segment_features(F))
    True
    """

    def __init__(self, config: SegmentConfig | None = None) -> None:
        self.config = config or SegmentConfig()
        self.reset()

    def reset(self) -> None:
        """Forget the stream."""
        self._Q: np.ndarray | None = None  # quantised, front-padded frames kept
        self._q0 = 0  # absolute padded-row index of _Q[0]
        self._frames = 0  # real frames received
        self._next = 0  # index of the next centre to emit (in centres)

    @property
    def rows_emitted(self) -> int:
        """Segments returned since the last reset."""
        return self._next

    def _emit(self, upto_frame: int) -> np.ndarray:
        """Rows of centres on frames < ``upto_frame`` not yet emitted."""
        cfg = self.config
        assert self._Q is not None
        n = max(0, _n_centres(upto_frame, cfg.hop) - self._next)
        first_frame = self._next * cfg.hop
        first_row = first_frame + cfg.lookbehind - self._q0
        X = _rows(self._Q, first_row, n, cfg)
        self._next += n
        # keep what the next centre's windows reach back to
        keep_from = self._next * cfg.hop  # padded row of next centre minus lookbehind
        drop = keep_from - self._q0
        if drop > 0:
            self._Q = self._Q[drop:]
            self._q0 = keep_from
        return X

    def process(self, frames: np.ndarray) -> np.ndarray:
        """Feed the next frames ``(k, B)``; return the segment rows now complete."""
        cfg = self.config
        F = np.asarray(frames)
        if F.ndim != 2:
            raise ValueError(f"frames must be (k, bands), got shape {F.shape}")
        if len(F) == 0:
            return np.zeros((0, cfg.n_features(F.shape[1])), np.float32)
        Q = _quantise(F)
        if self._Q is None:
            self._Q = np.concatenate([np.repeat(Q[:1], cfg.lookbehind, 0), Q])
        else:
            self._Q = np.concatenate([self._Q, Q])
        self._frames += len(F)
        return self._emit(self._frames - cfg.lookahead)

    def flush(self) -> np.ndarray:
        """End of stream: pad with the last frame and return the remaining rows."""
        cfg = self.config
        if self._Q is None:
            return np.zeros((0, 0), np.float32)
        self._Q = np.concatenate([self._Q, np.repeat(self._Q[-1:], cfg.lookahead, 0)])
        return self._emit(self._frames)


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
