"""numba kernels of CaR-forest decoding: vote accumulation, peak picking and pairing.

Each public function validates in Python and calls a small ``@numba.njit(cache=True)``
kernel. ``tests/test_carforest.py`` checks the kernels against plain Python loops written
in the tests (vote accumulation, peak picking, pairing, peak mass) on random inputs, and
:class:`~audioscene.detect.streaming.VotePairer` fed curves in random pieces against
these functions applied to the whole curves.
"""

from __future__ import annotations

import math

import numba
import numpy as np

__all__ = ["accumulate_votes", "pick_peaks", "pair_events", "peak_mass"]

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
