"""Streaming detection: continuous audio in, final events out, in bounded memory.

The offline path (:meth:`EventDetector.curves` then :meth:`EventDetector.decode`) and the
streaming path share every kernel, and each streaming stage only outputs values whose
inputs are complete, so a stream gives the same events as the whole file:

* :class:`~audioscene.features.FeatureStream` and
  :class:`~audioscene.models.segments.SegmentStream` give bit-identical frames and segments
  (per-frame FFT and a mel product in fixed chunks aligned on absolute frame indices;
  segment windows summed as integers);
* :class:`VoteCurves` adds each segment's votes to onset/offset curves held for a window
  of the time grid, and releases smoothed curves for the bins that no later segment can
  reach (the longest vote reach of the forests, plus the smoothing radius);
* :class:`VotePairer` picks onset peaks once their neighbourhood is final and pairs each
  onset once every offset it could take is final;
* :class:`HysteresisDecoder` turns any per-frame scores into events with one state machine
  per class (open above ``high``, close below ``low``, median smoothing, minimum length
  and gap), for models that give frame posteriors.

Runtime state lives in these objects, never in a model file.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numba
import numpy as np
from scipy.ndimage import gaussian_filter1d

from ..events import Event, EventList
from ..features import FeatureStream
from .votes import _accumulate, _pair, _peak_mass, _pick_peaks

__all__ = ["VoteCurves", "VotePairer", "HysteresisDecoder", "StreamingDetector",
           "hysteresis_events", "vote_reach"]


def vote_reach(values: np.ndarray, *, sigma0: float, p_min: float) -> tuple[float, float]:
    """How far before and after its centre a segment's votes can land (seconds), over
    every leaf that can vote.

    Examples
    --------
    >>> vote_reach(np.array([[1.0, 2, 0.5, 0.1, 0.3, 0.0]]), sigma0=0.02, p_min=0.5)[0]
    0.8059...
    """
    v = np.asarray(values, dtype=np.float64)
    can = (v[:, 0] >= p_min) & (v[:, 1] >= 1)
    if not can.any():
        return 0.0, 0.0
    v = v[can]
    sd_on = np.sqrt(v[:, 3] ** 2 + sigma0**2)
    sd_off = np.sqrt(v[:, 5] ** 2 + sigma0**2)
    back = max(float(np.max(v[:, 2] + 3 * sd_on)), float(np.max(3 * sd_off - v[:, 4])), 0.0)
    fwd = max(float(np.max(v[:, 4] + 3 * sd_off)), float(np.max(3 * sd_on - v[:, 2])), 0.0)
    return back, fwd


def _smooth_radius(smooth: float, step: float) -> int:
    if smooth <= 0:
        return 0
    return int(4.0 * (smooth / step) + 0.5)  # gaussian_filter1d's truncate=4.0


def _smooth_window(raw: np.ndarray, smooth: float, step: float) -> np.ndarray:
    if smooth <= 0:
        return raw.copy()
    return gaussian_filter1d(raw, smooth / step, axis=0, mode="constant")


class VoteCurves:
    """Incremental vote accumulation and smoothing for all classes of a detector.

    Parameters
    ----------
    values : sequence of np.ndarray
        Each class's node table (``forest.trees_["values"]``).
    step, sigma0, p_min, smooth : float
        As in :class:`~audioscene.models.EventDetector`.
    segment_hop : float
        Seconds between segment centres.

    Examples
    --------
    >>> vc = VoteCurves([forest.trees_["values"]], step=0.01, sigma0=0.02, p_min=0.5,
    ...                 smooth=0.02, segment_hop=0.02)  # doctest: +SKIP
    """

    def __init__(self, values: Sequence[np.ndarray], *, step: float, sigma0: float,
                 p_min: float, smooth: float, segment_hop: float) -> None:
        self.values = [np.ascontiguousarray(v, dtype=np.float64) for v in values]
        self.step, self.sigma0, self.p_min, self.smooth = step, sigma0, p_min, smooth
        self.segment_hop = segment_hop
        reaches = [vote_reach(v, sigma0=sigma0, p_min=p_min) for v in self.values]
        self.back = max([r[0] for r in reaches] + [0.0])
        self.fwd = max([r[1] for r in reaches] + [0.0])
        self.radius = _smooth_radius(smooth, step)
        self.reset()

    def reset(self) -> None:
        """Start a new stream."""
        C = len(self.values)
        self.r0 = 0  # absolute bin of raw column 0
        self.raw_on = np.zeros((C, 0))  # one contiguous row per class
        self.raw_off = np.zeros((C, 0))
        self.done = 0  # bins released so far
        self.pc = np.zeros(0)  # segment centres kept for presence interpolation
        self.pp = np.zeros((0, C))
        self.last_centre: float | None = None

    def _ensure(self, end_bin: int) -> None:
        have = self.r0 + self.raw_on.shape[1]
        if end_bin > have:
            extra = max(end_bin - have, 4096)
            pad = np.zeros((self.raw_on.shape[0], extra))
            self.raw_on = np.concatenate([self.raw_on, pad], axis=1)
            self.raw_off = np.concatenate([self.raw_off, pad], axis=1)

    def prepare(self, centres: np.ndarray) -> None:
        """Make room for the votes of segments up to the last of ``centres``; call before
        :meth:`add` (which may then run for several classes at once, in threads)."""
        if len(centres):
            self._ensure(int(math.ceil((float(centres[-1]) + self.fwd) / self.step)) + 2)

    def add(self, j: int, centres: np.ndarray, leaves: np.ndarray) -> None:
        """Add class ``j``'s votes of these segments (after :meth:`prepare`)."""
        if not len(centres):
            return
        g_end = self.r0 + self.raw_on.shape[1]
        _accumulate(np.ascontiguousarray(leaves, dtype=np.int64), self.values[j],
                    np.ascontiguousarray(centres, dtype=np.float64), float(self.step),
                    int(self.r0), int(g_end), float(self.sigma0), float(self.p_min),
                    self.raw_on[j], self.raw_off[j])

    def push(self, centres: np.ndarray, leaves: Sequence[np.ndarray] | None,
             presence: np.ndarray) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
        """Add segments; return ``(first_bin, onset, offset, presence)`` for the bins that
        are now final (arrays ``(k, C)``, possibly ``k == 0``). ``leaves=None`` means
        their votes were already added with :meth:`add`."""
        centres = np.asarray(centres, dtype=np.float64)
        if len(centres):
            if leaves is not None:
                self.prepare(centres)
                for j, lv in enumerate(leaves):
                    self.add(j, centres, lv)
            self.pc = np.concatenate([self.pc, centres])
            self.pp = np.concatenate([self.pp, np.asarray(presence, dtype=np.float64)])
            self.last_centre = float(centres[-1])
        if self.last_centre is None:
            return self._empty()
        # a later segment's centre is at least one hop on; its votes reach back `back`
        raw_final = int(math.floor((self.last_centre + self.segment_hop - self.back)
                                   / self.step)) - 1
        final = min(raw_final - self.radius, int(math.floor(self.last_centre / self.step)) + 1)
        return self._release(final, None)

    def finish(self, n_grid: int) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
        """End of stream: release every bin up to ``n_grid`` (the recording's grid)."""
        if self.last_centre is None:
            return self._empty()
        self._ensure(n_grid + self.radius + 1)
        # votes past the end of the recording are not part of its curves
        cut = max(0, n_grid - self.r0)
        self.raw_on[:, cut:] = 0.0
        self.raw_off[:, cut:] = 0.0
        return self._release(n_grid, n_grid)

    def _empty(self) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
        C = len(self.values)
        z = np.zeros((0, C))
        return self.done, z, z, z

    def _release(self, final: int, n_grid: int | None
                 ) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
        a = self.done
        if final <= a:
            return self._empty()
        r = self.radius
        C = len(self.values)
        lo, hi = a - r, final + r  # raw bins needed
        win_on = np.zeros((hi - lo, C))
        win_off = np.zeros((hi - lo, C))
        s0, s1 = max(lo, self.r0, 0), min(hi, self.r0 + self.raw_on.shape[1])
        if n_grid is not None:
            s1 = min(s1, n_grid)
        if s1 > s0:
            win_on[s0 - lo : s1 - lo] = self.raw_on[:, s0 - self.r0 : s1 - self.r0].T
            win_off[s0 - lo : s1 - lo] = self.raw_off[:, s0 - self.r0 : s1 - self.r0].T
        on = _smooth_window(win_on, self.smooth, self.step)[r : r + final - a]
        off = _smooth_window(win_off, self.smooth, self.step)[r : r + final - a]
        grid = np.arange(a, final) * self.step
        pres = np.stack([np.interp(grid, self.pc, self.pp[:, j]) for j in range(C)], axis=1) \
            if len(self.pc) else np.zeros((final - a, C))
        self.done = final
        # forget raw bins no later release reads, and centres no later grid bin needs
        drop = (final - r) - self.r0
        if drop > 0:
            # copies, so that the kept window is contiguous for the kernels
            self.raw_on = np.ascontiguousarray(self.raw_on[:, drop:])
            self.raw_off = np.ascontiguousarray(self.raw_off[:, drop:])
            self.r0 += drop
        keep = max(0, int(np.searchsorted(self.pc, final * self.step, side="right")) - 2)
        if keep:
            self.pc = self.pc[keep:]
            self.pp = self.pp[keep:]
        return a, on, off, pres


class VotePairer:
    """Incremental onset-peak picking and onset/offset pairing for one class.

    Fed the final parts of the smoothed curves in order (``push``), it returns each event
    as soon as nothing later can change it; ``finish(n_grid)`` ends the stream.
    Offline decoding is the same object fed the whole curves at once.

    Examples
    --------
    >>> vp = VotePairer(min_bins=5, max_bins=50, gap=10, half=10, onset_threshold=1.0,
    ...                 presence_threshold=0.5)
    >>> on = np.zeros(200); on[20] = 5.0
    >>> off = np.zeros(200); off[60] = 3.0
    >>> vp.push(0, on, off, np.ones(200)) + vp.finish(200)
    [(20, 60, 1.0)]
    """

    def __init__(self, *, min_bins: int, max_bins: int, gap: int, half: int,
                 onset_threshold: float, presence_threshold: float) -> None:
        self.min_bins, self.max_bins = int(min_bins), int(max_bins)
        self.gap, self.half = int(gap), int(half)
        self.onset_threshold = float(onset_threshold)
        self.presence_threshold = float(presence_threshold)
        self.reset()

    def reset(self) -> None:
        """Start a new stream."""
        self.b0 = 0
        self.on = np.zeros(0)
        self.off = np.zeros(0)
        self.pres = np.zeros(0)
        self.peak_done = 0
        self.pending: list[int] = []
        self.last_end = 0

    @property
    def end(self) -> int:
        """Absolute end (exclusive) of the final curve data received."""
        return self.b0 + len(self.on)

    def push(self, first_bin: int, onset: np.ndarray, offset: np.ndarray,
             presence: np.ndarray) -> list[tuple[int, int, float]]:
        """Append final curve bins starting at ``first_bin``; return events now final as
        ``(onset_bin, offset_bin, confidence)``."""
        if first_bin != self.end:
            raise ValueError(f"expected bins from {self.end}, got {first_bin}")
        if len(onset):
            self.on = np.concatenate([self.on, onset])
            self.off = np.concatenate([self.off, offset])
            self.pres = np.concatenate([self.pres, presence])
        return self._advance(None)

    def finish(self, n_grid: int) -> list[tuple[int, int, float]]:
        """End of stream (the curves must now reach ``n_grid``)."""
        if self.end != n_grid:
            raise ValueError(f"curves end at {self.end}, expected {n_grid}")
        return self._advance(n_grid)

    def _advance(self, n_grid: int | None) -> list[tuple[int, int, float]]:
        ctx = max(self.gap, self.half)
        F = self.end
        p1 = F if n_grid is not None else F - ctx
        if p1 > self.peak_done:
            w0 = max(self.b0, self.peak_done - ctx)
            w = self.on[w0 - self.b0 : F - self.b0]
            score = _peak_mass(np.ascontiguousarray(w), self.half)
            peaks = _pick_peaks(np.ascontiguousarray(w), score, self.gap, self.onset_threshold)
            peaks = peaks + w0
            self.pending.extend(int(p) for p in peaks if self.peak_done <= p < p1)
            self.peak_done = p1
        out = []
        while self.pending:
            a = self.pending[0]
            reach = a + self.max_bins + 1
            if n_grid is None and not (self.peak_done > reach and F > reach):
                break
            nxt = self.pending[1] if len(self.pending) > 1 else -1
            o = np.array([a - self.b0], np.int64)
            nx = np.array([nxt - self.b0 if nxt >= 0 else -1], np.int64)
            n = (n_grid - self.b0) if n_grid is not None else (F - self.b0) + 10 ** 9
            ob, fb, conf = _pair(o, nx, np.ascontiguousarray(self.off),
                                 np.ascontiguousarray(self.pres), self.min_bins,
                                 self.max_bins, self.presence_threshold,
                                 self.last_end - self.b0, n)
            if len(ob):
                out.append((int(ob[0]) + self.b0, int(fb[0]) + self.b0, float(conf[0])))
                self.last_end = int(fb[0]) + self.b0
            self.pending.pop(0)
        # forget what no later peak or pairing reads
        keep = min(self.pending[0] if self.pending else self.peak_done, self.peak_done - ctx)
        drop = keep - self.b0
        if drop > 0:
            self.on = self.on[drop:]
            self.off = self.off[drop:]
            self.pres = self.pres[drop:]
            self.b0 = keep
        return out


# ----------------------------------------------------------------------------- hysteresis


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
                if s < low:
                    _close(state, c, f)
            else:
                if state[c, 2] == 1 and f - state[c, 4] >= min_gap:
                    k = _settle(state, c, min_len, out, k)
                if s >= high:
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
    high, low : float
        Opening and closing thresholds (``low <= high``).
    median : int
        Odd median-filter length in frames (1: none); edges repeat the first/last frame.
    min_duration, min_gap : float
        Seconds.
    offset : float
        Time of the start of frame 0 (frame ``i`` spans ``offset + i * hop`` onwards).

    Examples
    --------
    >>> hd = HysteresisDecoder(["a"], hop=0.1, high=0.6, low=0.4)
    >>> s = np.array([[0.1], [0.7], [0.5], [0.3], [0.1]])
    >>> [(round(e.onset, 2), round(e.offset, 2)) for e in hd.process(s) + hd.flush()]
    [(0.1, 0.3)]
    """

    def __init__(self, classes: Sequence[str], *, hop: float, high: float = 0.5,
                 low: float | None = None, median: int = 1, min_duration: float = 0.0,
                 min_gap: float = 0.0, offset: float = 0.0, filename: str | None = None) -> None:
        low = high if low is None else low
        if low > high:
            raise ValueError(f"low ({low}) must not exceed high ({high})")
        if median < 1 or median % 2 == 0:
            raise ValueError(f"median must be an odd length >= 1, got {median}")
        self.classes = list(classes)
        self.hop, self.high, self.low, self.median = hop, float(high), float(low), int(median)
        # in frames: an event of k frames lasts k * hop; keep it when that reaches
        # min_duration, and close a gap of k frames when k * hop < min_gap
        self.min_len = max(0, math.ceil(min_duration / hop - 1e-9))
        self.min_gap = max(0, math.ceil(min_gap / hop - 1e-9))
        self.offset = offset
        self.filename = filename
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
        self.buf = np.concatenate([self.buf, s])
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


def hysteresis_events(scores: np.ndarray, classes: Sequence[str], *, hop: float,
                      **kwargs: float) -> EventList:
    """Offline hysteresis decoding of frame scores ``(frames, C)``: the same as a
    :class:`HysteresisDecoder` fed everything at once.

    Examples
    --------
    >>> hysteresis_events(np.array([[0.9], [0.9], [0.0]]), ["a"], hop=0.5, high=0.5)[0].offset
    1.0
    """
    hd = HysteresisDecoder(classes, hop=hop, **kwargs)
    return hd.process(scores) + hd.flush()


# ----------------------------------------------------------------------------- detector


@dataclass
class _Scores:
    """Segment scores emitted by a stream (for ``--scores`` outputs)."""

    centres: np.ndarray
    presence: np.ndarray


class StreamingDetector:
    """Turn a stream of audio blocks into final events with a trained
    :class:`~audioscene.models.EventDetector`.

    Parameters
    ----------
    model : EventDetector
        A fitted detector (its runtime state is held here, never in the model).
    decoder : {"votes", "hysteresis"}
        ``votes``: the CaR-forest onset/offset votes (same events as
        ``model.predict``); ``hysteresis``: per-class hysteresis on the segments'
        P(positive) (parameters in ``hysteresis``).
    filename : str or None
        Name given to the events.
    hysteresis : dict or None
        :class:`HysteresisDecoder` parameters (``high``, ``low``, ``median``,
        ``min_duration``, ``min_gap``).
    threads : int or None
        Threads applying the class forests to each block (``None``: one per core).

    Examples
    --------
    >>> from audioscene.audio import blocks
    >>> sd = StreamingDetector(EventDetector.load("model"))  # doctest: +SKIP
    >>> for b in blocks("long.flac", sr=sd.sr):  # doctest: +SKIP
    ...     for e in sd.process(b.samples):
    ...         print(e)
    >>> sd.flush()  # doctest: +SKIP
    """

    def __init__(self, model, *, decoder: str = "votes", filename: str | None = None,
                 hysteresis: dict | None = None, threads: int | None = None) -> None:
        from sklearn.utils.validation import check_is_fitted

        from ..models.segments import SegmentStream

        check_is_fitted(model, "forests_")
        if decoder not in ("votes", "hysteresis"):
            raise ValueError(f"decoder must be 'votes' or 'hysteresis', got {decoder!r}")
        self.model = model
        self.decoder = decoder
        self.filename = filename
        self.fs = FeatureStream(model.fconfig)
        self.ss = SegmentStream(model.sconfig)
        fc, sc = model.fconfig, model.sconfig
        self.seg_hop = fc.hop_seconds * sc.hop
        self.hyst_params = dict(hysteresis or {})
        self._score_parts: list[_Scores] = []
        workers = min(len(model.forests_), os.cpu_count() or 1) if threads is None else threads
        self._pool = ThreadPoolExecutor(max_workers=workers) if workers > 1 else None
        self.reset()

    @property
    def sr(self) -> int:
        """Sample rate the blocks must have."""
        return self.model.fconfig.sr

    @property
    def last_scores(self) -> _Scores | None:
        """Segment centres and P(present) per class of the segments completed by the
        last :meth:`process` or :meth:`flush` call."""
        parts = self._score_parts
        if not parts:
            return None
        return _Scores(np.concatenate([p.centres for p in parts]),
                       np.concatenate([p.presence for p in parts]))

    @property
    def latency(self) -> float:
        """Upper bound (seconds of audio) between an event's onset and its release by
        :meth:`process`: segment look-ahead, the longest vote reach back, the smoothing
        radius, the peak neighbourhood and the longest plausible duration."""
        m = self.model
        seg = (m.sconfig.lookahead + 1) * m.fconfig.hop_seconds + m.fconfig.frame_seconds
        if self.decoder == "hysteresis":
            h = self.hyst
            return seg + (h.median + h.min_gap + 1) * h.hop
        ctx = max(self.pairers[0].gap, self.pairers[0].half) if self.pairers else 0
        bins = self.curves.radius + ctx + 3
        return seg + self.seg_hop + self.curves.back + bins * m.grid_step + \
            float(np.max(m.durations_[:, 1]))

    def reset(self, filename: str | None = None) -> None:
        """Start a new stream (optionally for another file name)."""
        m = self.model
        if filename is not None:
            self.filename = filename
        self.fs.reset()
        self.ss.reset()
        self.n_frames = 0
        self.n_segments = 0
        self.curves = VoteCurves([f.trees_["values"] for f in m.forests_], step=m.grid_step,
                                 sigma0=m.sigma0, p_min=m.p_min, smooth=m.smooth,
                                 segment_hop=self.seg_hop)
        self.pairers = [m._pairer(j) for j in range(len(m.classes_))]
        first_centre = m.fconfig.frame_times(1)[0]
        self.hyst = HysteresisDecoder(m.classes_, hop=self.seg_hop,
                                      offset=first_centre - self.seg_hop / 2,
                                      filename=self.filename, **self.hyst_params)

    def _segments(self, X: np.ndarray) -> EventList:
        m = self.model
        fc = m.fconfig
        n = len(X)
        # the same arithmetic as fc.frame_times(...)[::hop] offline
        idx = (self.n_segments + np.arange(n, dtype=np.float64)) * m.sconfig.hop
        centres = (idx * fc.hop_length + fc.n_fft / 2) / fc.sr
        self.n_segments += n
        pres = np.zeros((n, len(m.classes_)))
        votes = self.decoder == "votes"
        if n:
            if votes:
                self.curves.prepare(centres)

            def run(j: int) -> np.ndarray:
                # one class per thread (the kernels release the GIL): leaves, presence
                # and votes of this block
                f = m.forests_[j]
                lv = f._leaves(X)
                if votes:
                    self.curves.add(j, centres, lv)
                return f.trees_["values"][lv, 0].mean(axis=1)

            idx = range(len(m.forests_))
            done = list(self._pool.map(run, idx)) if self._pool is not None \
                else [run(j) for j in idx]
            for j, p in enumerate(done):
                pres[:, j] = p
        self._score_parts.append(_Scores(centres, pres))
        if self.decoder == "hysteresis":
            return self.hyst.process(pres) if n else EventList()
        first, on, off, pr = self.curves.push(centres, None, pres)
        return self._pair(first, on, off, pr, None)

    def _pair(self, first: int, on: np.ndarray, off: np.ndarray, pr: np.ndarray,
              n_grid: int | None, duration: float | None = None) -> EventList:
        m = self.model
        out = []
        for j, vp in enumerate(self.pairers):
            res = vp.push(first, on[:, j], off[:, j], pr[:, j]) if n_grid is None else \
                vp.push(first, on[:, j], off[:, j], pr[:, j]) + vp.finish(n_grid)
            for a, b, c in res:
                e = m._event(j, a, b, c, self.filename, duration)
                if e is not None:
                    out.append(e)
        return EventList(out)

    def process(self, block: np.ndarray) -> EventList:
        """Feed the next samples (at :attr:`sr`); return the events now final.

        Examples
        --------
        >>> sd.process(np.zeros(22050, np.float32))  # doctest: +SKIP
        EventList(0 events, labels=[])
        """
        self._score_parts = []
        frames, _ = self.fs.process(block)
        self.n_frames += len(frames)
        return self._segments(self.ss.process(frames))

    def flush(self) -> EventList:
        """End of stream: return the remaining events.

        Examples
        --------
        >>> sd.flush()  # doctest: +SKIP
        """
        self._score_parts = []
        frames, _ = self.fs.flush()
        self.n_frames += len(frames)
        events = self._segments(self.ss.process(frames)) if len(frames) else EventList()
        events = events + self._segments(self.ss.flush())
        if self.decoder == "hysteresis":
            return events + self.hyst.flush()
        m = self.model
        duration = m._duration(self.n_frames)
        n_grid = m._n_grid(duration)
        if not self.n_frames:
            return events
        first, on, off, pr = self.curves.finish(n_grid)
        return events + self._pair(first, on, off, pr, n_grid, duration)
