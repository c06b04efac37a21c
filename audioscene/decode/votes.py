"""CaR-forest decoding, arrays in and events out: vote accumulation, peak picking and
onset/offset pairing, offline and incremental.

Each public function validates in Python and calls a small ``@numba.njit(cache=True)``
kernel. ``tests/test_carforest.py`` checks the kernels against plain Python loops written
in the tests (vote accumulation, peak picking, pairing, peak mass) on random inputs, and
:class:`VotePairer` fed curves in random pieces against these functions applied to the
whole curves.

The incremental objects only output values whose inputs are complete, so a stream gives
the same result as the whole recording:

* :class:`VoteCurves` adds each segment's votes to onset/offset curves held for a window
  of the time grid, and releases smoothed curves for the bins that no later segment can
  reach (the longest vote reach of the forests, plus the smoothing radius);
* :class:`VotePairer` picks onset peaks once their neighbourhood is final and pairs each
  onset once every offset it could take is final.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numba
import numpy as np
from scipy.ndimage import gaussian_filter1d

__all__ = ["accumulate_votes", "pick_peaks", "pair_events", "peak_mass", "vote_reach",
           "VoteCurves", "VotePairer"]

_SQRT2PI = math.sqrt(2.0 * math.pi)


@numba.njit(cache=True, nogil=True)
def _accumulate(leaves, values, centres, step, g0, g_end, sigma0, p_min, onset, offset):
    # curves hold grid bins g0 .. g_end - 1 (absolute bin g is time g * step)
    n_seg, n_trees = leaves.shape
    for i in range(n_seg):
        c = centres[i]
        for t in range(n_trees):
            leaf = leaves[i, t]
            p = values[leaf, 0]
            if p < p_min or values[leaf, 1] < 1:
                continue
            w = p / n_trees
            for which in range(2):
                if which == 0:
                    mu = c - values[leaf, 2]
                    sd = math.sqrt(values[leaf, 3] ** 2 + sigma0 * sigma0)
                    curve = onset
                else:
                    mu = c + values[leaf, 4]
                    sd = math.sqrt(values[leaf, 5] ** 2 + sigma0 * sigma0)
                    curve = offset
                lo = max(0, int(math.floor((mu - 3.0 * sd) / step)))
                hi = min(g_end - 1, int(math.ceil((mu + 3.0 * sd) / step)))
                if lo < g0:
                    lo = g0  # only for a caller that bounded its reach wrongly
                if hi < lo:
                    continue
                # bin mass of the Gaussian (sampled density x bin width), by the
                # recurrence f(z + d) = f(z) q, q <- q exp(-d^2): two products a bin
                scale = w * step / (sd * _SQRT2PI)
                d = step / sd
                z = (lo * step - mu) / sd
                f = scale * math.exp(-0.5 * z * z)
                q = math.exp(-z * d - 0.5 * d * d)
                decay = math.exp(-d * d)
                for g in range(lo, hi + 1):
                    curve[g - g0] += f
                    f *= q
                    q *= decay


def accumulate_votes(leaves: np.ndarray, values: np.ndarray, centres: np.ndarray, *,
                     step: float, n_grid: int, sigma0: float = 0.02, p_min: float = 0.5,
                     onset: np.ndarray | None = None, offset: np.ndarray | None = None,
                     first_bin: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Onset and offset vote curves from the leaves that segments reached.

    Every segment, in every tree, whose leaf has ``P(positive) >= p_min`` and at least
    one positive casts two Gaussian votes of mass ``P / n_trees``: one for the onset at
    ``centre - mean onset displacement`` and one for the offset at ``centre + mean offset
    displacement``, each with the leaf's spread (floored by ``sigma0``). Curves hold the
    vote mass that falls in each bin of a grid with spacing ``step`` seconds.

    Parameters
    ----------
    leaves : np.ndarray
        int ``(n_segments, n_trees)`` leaf indices (``CaRForest.apply``).
    values : np.ndarray
        ``(n_nodes, 6)`` node table (``CaRForest.trees_["values"]``).
    centres : np.ndarray
        Segment centre times in seconds.
    step : float
        Grid spacing in seconds; bin ``g`` is time ``g * step``.
    n_grid : int
        Grid length.
    sigma0 : float
        Minimum vote spread in seconds.
    p_min : float
        Leaves with a lower P(positive) do not vote.
    onset, offset : np.ndarray or None
        Curves to add to (for streaming); new zero curves when None.
    first_bin : int
        Absolute grid bin of ``onset[0]`` (streams keep a window of the grid): the curves
        cover bins ``first_bin .. n_grid - 1``.

    Returns
    -------
    onset, offset : np.ndarray
        float64 ``(n_grid,)``.

    Examples
    --------
    >>> values = np.array([[1.0, 3, 0.5, 0.0, 0.5, 0.0]])
    >>> on, off = accumulate_votes(np.zeros((1, 1), np.int64), values, np.array([1.0]),
    ...                            step=0.01, n_grid=300, sigma0=0.02)
    >>> int(np.argmax(on)), int(np.argmax(off)), round(float(on.sum()), 2)
    (50, 150, 1.0)
    """
    leaves = np.ascontiguousarray(leaves, dtype=np.int64)
    values = np.ascontiguousarray(values, dtype=np.float64)
    centres = np.ascontiguousarray(centres, dtype=np.float64)
    if leaves.ndim != 2 or len(leaves) != len(centres):
        raise ValueError("leaves must be (n_segments, n_trees) with one centre per segment")
    if step <= 0 or sigma0 <= 0:
        raise ValueError("step and sigma0 must be positive")
    size = int(n_grid) - int(first_bin)
    on = np.zeros(size) if onset is None else onset
    off = np.zeros(size) if offset is None else offset
    if len(on) != size or len(off) != size:
        raise ValueError(f"curves must have n_grid - first_bin = {size} bins")
    _accumulate(leaves, values, centres, float(step), int(first_bin), int(n_grid),
                float(sigma0), float(p_min), on, off)
    return on, off


@numba.njit(cache=True, nogil=True)
def _peak_mass(curve, half):
    # direct sums (not a running sum): each value depends only on its own window, so a
    # stream that sees the curve in pieces computes the same numbers
    n = len(curve)
    out = np.empty(n)
    for i in range(n):
        acc = 0.0
        for j in range(max(0, i - half), min(n, i + half + 1)):
            acc += curve[j]
        out[i] = acc
    return out


def peak_mass(curve: np.ndarray, half: int) -> np.ndarray:
    """Vote mass within ``half`` bins of every bin (a box sum).

    Examples
    --------
    >>> peak_mass(np.array([0.0, 1.0, 1.0, 0.0]), 1).tolist()
    [1.0, 2.0, 2.0, 1.0]
    """
    return _peak_mass(np.ascontiguousarray(curve, dtype=np.float64), int(half))


@numba.njit(cache=True, nogil=True)
def _pick_peaks(curve, score, min_distance, threshold):
    n = len(curve)
    cand = np.empty(n, np.int64)
    k = 0
    for i in range(n):
        if score[i] < threshold:
            continue
        lo = max(0, i - min_distance)
        hi = min(n, i + min_distance + 1)
        is_max = True
        for j in range(lo, hi):
            # strict on the left, non-strict on the right: one index per plateau
            if curve[j] > curve[i] or (j < i and curve[j] == curve[i]):
                is_max = False
                break
        if is_max:
            cand[k] = i
            k += 1
    return cand[:k]


def pick_peaks(curve: np.ndarray, *, min_distance: int, threshold: float,
               score: np.ndarray | None = None) -> np.ndarray:
    """Indices of local maxima of ``curve`` over ``+-min_distance`` bins whose ``score``
    (default: the curve itself) is at least ``threshold``.

    Examples
    --------
    >>> pick_peaks(np.array([0, 2, 1, 0, 3, 0.0]), min_distance=1, threshold=1.5).tolist()
    [1, 4]
    """
    c = np.ascontiguousarray(curve, dtype=np.float64)
    s = c if score is None else np.ascontiguousarray(score, dtype=np.float64)
    if s.shape != c.shape:
        raise ValueError("score and curve must have the same shape")
    return _pick_peaks(c, s, int(min_distance), float(threshold))


@numba.njit(cache=True, nogil=True)
def _pair(onsets, nexts, offset_curve, presence, min_bins, max_bins, presence_threshold,
          start_after, n):
    # onsets/nexts/results are relative to the curves' first bin; n: bins in the whole
    # grid from that bin (the recording's end), or a bound beyond every reach
    out_on = np.empty(len(onsets), np.int64)
    out_off = np.empty(len(onsets), np.int64)
    out_conf = np.empty(len(onsets))
    k = 0
    last_end = start_after
    for a in range(len(onsets)):
        on = onsets[a]
        if on < last_end:
            continue  # a class's own events never overlap
        lo = on + min_bins
        hi = min(n - 1, on + max_bins)
        if nexts[a] >= 0:
            # an offset belongs before the next onset of the same class (plus a bin)
            hi = min(hi, nexts[a] + 1)
        if hi < lo:
            lo = min(lo, n - 1)
            hi = lo
        best = lo
        for g in range(lo, hi + 1):
            if offset_curve[g] > offset_curve[best]:
                best = g
        # presence: mean P(positive) over the event
        acc = 0.0
        for g in range(on, best + 1):
            acc += presence[g]
        conf = acc / (best - on + 1)
        if conf < presence_threshold:
            continue
        out_on[k] = on
        out_off[k] = best
        out_conf[k] = conf
        k += 1
        last_end = best
    return out_on[:k], out_off[:k], out_conf[:k]


def pair_events(onsets: np.ndarray, offset_curve: np.ndarray, presence: np.ndarray, *,
                min_bins: int, max_bins: int, presence_threshold: float = 0.5,
                start_after: int = 0, next_onsets: np.ndarray | None = None,
                n_bins: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pair each onset peak with the best offset that follows it.

    Onsets are taken in time order. For each, the offset is the maximum of
    ``offset_curve`` between ``min_bins`` and ``max_bins`` after it (and not past the
    next onset); the event is kept when the mean ``presence`` over it reaches
    ``presence_threshold`` (that mean is its confidence). An onset inside the previous
    kept event is skipped, so events of one class never overlap.

    ``next_onsets`` (default: the following element of ``onsets``, -1 for none) and
    ``n_bins`` (default: the curves' length) let a stream pair one onset at a time.

    Returns
    -------
    onset_bins, offset_bins, confidence : np.ndarray

    Examples
    --------
    >>> off = np.zeros(100); off[40] = 1.0
    >>> pair_events(np.array([10]), off, np.ones(100), min_bins=5, max_bins=60)[1].tolist()
    [40]
    """
    o = np.ascontiguousarray(np.sort(onsets), dtype=np.int64)
    if next_onsets is None:
        nx = np.r_[o[1:], -1].astype(np.int64)
    else:
        nx = np.ascontiguousarray(next_onsets, dtype=np.int64)
        if nx.shape != o.shape:
            raise ValueError("next_onsets must match onsets")
    c = np.ascontiguousarray(offset_curve, dtype=np.float64)
    p = np.ascontiguousarray(presence, dtype=np.float64)
    if c.shape != p.shape:
        raise ValueError("offset_curve and presence must have the same shape")
    if min_bins < 1 or max_bins < min_bins:
        raise ValueError("need 1 <= min_bins <= max_bins")
    n = len(c) if n_bins is None else int(n_bins)
    return _pair(o, nx, c, p, int(min_bins), int(max_bins), float(presence_threshold),
                 int(start_after), n)


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
