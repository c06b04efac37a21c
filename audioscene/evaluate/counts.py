"""The counts behind sed_eval's event-based and segment-based metrics, computed by sorted
sweeps instead of sed_eval's all-pairs loops.

sed_eval (``EventBasedMetrics`` with its default optimal matching, and
``SegmentBasedMetrics``) compares every reference event with every estimated event of a
file in Python, which is quadratic in the events of a file. Here:

* candidate pairs come from one sort of the estimated onsets (offsets when onsets are
  not evaluated) and a binary search per reference event; each candidate is then checked
  with sed_eval's own conditions (``|onset difference| <= t_collar`` and
  ``|offset difference| <= max(t_collar, percentage_of_length * reference length)``), in
  the same floating-point operations;
* the matching is sed_eval's own ``bipartite_match`` (Hopcroft-Karp), called on the same
  graph that sed_eval builds (same vertices, same edge order), so it returns the same
  matching, and the substitutions that sed_eval counts greedily among the unmatched
  events are counted in the same order;
* class-wise true positives are the overall matched pairs of each class (a maximum
  matching of the whole graph is a maximum matching of each class, since only events of
  one class are joined);
* segment-based counts come from one event roll per file built with numpy, with the
  same segment boundaries (``floor(onset / resolution)``, ``ceil(offset / resolution)``)
  and the same truncation or padding to the evaluated length.

Per file, with ``n`` events and ``K`` candidate pairs (estimated events whose onset lies
within the collar of a reference onset): the candidates take ``O(n log n + K)``, the
matching is sed_eval's Hopcroft-Karp on those ``K`` edges (``O(K sqrt(n))``), and the
graph and substitution passes are Python loops over the ``K`` pairs. ``K`` grows
quadratically only when many events of a file start within one collar of each other.

The counts are written into sed_eval's own metric objects, which compute every rate, so
F-scores and error rates come from sed_eval's formulas. ``tests/test_evaluate.py``
checks every count and rate against sed_eval on random event lists.

Examples
--------
>>> from audioscene.evaluate.counts import event_counts
>>> ref = [(1.0, 2.0, "dog"), (4.0, 5.0, "cat")]
>>> est = [(1.1, 2.5, "dog"), (4.05, 5.0, "dog")]
>>> overall, per_class = event_counts(ref, est, ["cat", "dog"], evaluate_offset=False)
>>> overall["Ntp"], overall["Nsubs"], per_class["dog"]["Nfp"]
(1, 1, 1)
"""

from __future__ import annotations

import math
import sys
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["event_counts", "segment_counts", "EventTuple"]

EventTuple = tuple[float, float, str]


def _arrays(events: Sequence[EventTuple], index: dict[str, int]
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if not events:
        return np.zeros(0), np.zeros(0), np.zeros(0, np.int64)
    on = np.array([e[0] for e in events], dtype=np.float64)
    off = np.array([e[1] for e in events], dtype=np.float64)
    lab = np.array([index.setdefault(e[2], len(index)) for e in events], dtype=np.int64)
    return on, off, lab


def _candidate_pairs(ref_on: np.ndarray, ref_off: np.ndarray, est_on: np.ndarray,
                     est_off: np.ndarray, *, t_collar: float, percentage_of_length: float,
                     evaluate_onset: bool, evaluate_offset: bool
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Every (reference j, estimate i) pair meeting sed_eval's timing conditions, sorted
    by ``(j, i)``."""
    n_ref, n_est = len(ref_on), len(est_on)
    if n_ref == 0 or n_est == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    off_tol = np.maximum(t_collar, percentage_of_length * (ref_off - ref_on))
    if evaluate_onset:
        key, centre, half = est_on, ref_on, np.full(n_ref, t_collar)
    else:
        key, centre, half = est_off, ref_off, off_tol
    order = np.argsort(key, kind="stable")
    skey = key[order]
    # a window a little wider than the collar; the exact conditions are applied below
    slack = 1e-9 * (1.0 + np.abs(centre) + half)
    lo = np.searchsorted(skey, centre - half - slack, side="left")
    hi = np.searchsorted(skey, centre + half + slack, side="right")
    counts = hi - lo
    total = int(counts.sum())
    j = np.repeat(np.arange(n_ref, dtype=np.int64), counts)
    start = np.repeat(lo - np.cumsum(counts) + counts, counts)
    i = order[start + np.arange(total, dtype=np.int64)]
    ok = np.ones(total, dtype=bool)
    if evaluate_onset:
        ok &= np.abs(ref_on[j] - est_on[i]) <= t_collar
    if evaluate_offset:
        ok &= np.abs(ref_off[j] - est_off[i]) <= off_tol[j]
    j, i = j[ok], i[ok]
    s = np.lexsort((i, j))
    return j[s], i[s]


def _bipartite_match(graph: dict[int, list[int]]) -> dict[int, int]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from sed_eval.util import bipartite_match
    # its augmenting-path search recurses once per step of a path
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, min(100_000, 2 * len(graph) + 1000)))
    try:
        return bipartite_match(graph)
    finally:
        sys.setrecursionlimit(old)


def event_counts(reference: Sequence[EventTuple], estimated: Sequence[EventTuple],
                 labels: Sequence[str], *, t_collar: float = 0.2,
                 percentage_of_length: float = 0.5, evaluate_onset: bool = True,
                 evaluate_offset: bool = True
                 ) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
    """The counts that ``sed_eval.sound_event.EventBasedMetrics.evaluate`` adds for one
    file (optimal matching).

    Parameters
    ----------
    reference, estimated : sequence of (onset, offset, label)
        The events of one file, in the order sed_eval would see them.
    labels : sequence of str
        The classes reported class-wise.
    t_collar, percentage_of_length, evaluate_onset, evaluate_offset
        As in sed_eval.

    Returns
    -------
    overall : dict
        ``Nref``, ``Nsys``, ``Ntp``, ``Nsubs``, ``Nfp``, ``Nfn``.
    class_wise : dict of str to dict
        ``Nref``, ``Nsys``, ``Ntp``, ``Nfp``, ``Nfn`` per class in ``labels``.

    Examples
    --------
    >>> o, c = event_counts([(0.0, 1.0, "a")], [(0.1, 1.1, "a")], ["a"])
    >>> o["Ntp"], c["a"]["Nfn"]
    (1, 0)
    """
    if not evaluate_onset and not evaluate_offset:
        raise ValueError("evaluate_onset and evaluate_offset cannot both be False")
    index: dict[str, int] = {lab: k for k, lab in enumerate(labels)}
    ref_on, ref_off, ref_lab = _arrays(reference, index)
    est_on, est_off, est_lab = _arrays(estimated, index)
    n_ref, n_sys = len(ref_on), len(est_on)
    j, i = _candidate_pairs(ref_on, ref_off, est_on, est_off, t_collar=t_collar,
                            percentage_of_length=percentage_of_length,
                            evaluate_onset=evaluate_onset, evaluate_offset=evaluate_offset)
    same = ref_lab[j] == est_lab[i]
    # sed_eval's graph: estimate -> references, keys in order of first (j, i) appearance
    graph: dict[int, list[int]] = {}
    for jj, ii in zip(j[same].tolist(), i[same].tolist()):
        graph.setdefault(ii, []).append(jj)
    matching = _bipartite_match(graph)  # reference -> estimate
    ref_ok = np.zeros(n_ref, dtype=bool)
    sys_ok = np.zeros(n_sys, dtype=bool)
    if matching:
        ref_ok[list(matching)] = True
        sys_ok[list(matching.values())] = True
    n_tp = len(matching)
    # substitutions: unmatched references in order, each taking the first unmatched,
    # not yet counted estimate in order that meets the timing conditions
    n_subs = 0
    left = ~ref_ok[j] & ~sys_ok[i]
    counted = np.zeros(n_sys, dtype=bool)
    last_j = -1
    for jj, ii in zip(j[left].tolist(), i[left].tolist()):
        if jj == last_j or counted[ii]:
            continue
        counted[ii] = True
        n_subs += 1
        last_j = jj
    overall = {"Nref": n_ref, "Nsys": n_sys, "Ntp": n_tp, "Nsubs": n_subs,
               "Nfp": n_sys - n_tp - n_subs, "Nfn": n_ref - n_tp - n_subs}
    n_lab = max(len(index), 1)
    ref_n = np.bincount(ref_lab, minlength=n_lab)
    sys_n = np.bincount(est_lab, minlength=n_lab)
    tp_n = np.bincount(ref_lab[list(matching)], minlength=n_lab) if matching else \
        np.zeros(n_lab, np.int64)
    class_wise = {}
    for lab in labels:
        k = index[lab]
        nr, ns, nt = int(ref_n[k]), int(sys_n[k]), int(tp_n[k])
        class_wise[lab] = {"Nref": nr, "Nsys": ns, "Ntp": nt, "Nfp": ns - nt, "Nfn": nr - nt}
    return overall, class_wise


def _roll(events: Sequence[EventTuple], index: dict[str, int], n_seg: int,
          time_resolution: float) -> np.ndarray:
    """sed_eval's event roll, truncated or zero-padded to ``n_seg`` segments."""
    n_cls = len(index)
    if not events:
        return np.zeros((n_seg, n_cls), dtype=bool)
    on_s = np.array([e[0] for e in events], dtype=np.float64)
    off_s = np.array([e[1] for e in events], dtype=np.float64)
    max_offset = max(0.0, float(off_s.max()))
    length = int(math.ceil(max_offset * 1 / time_resolution))
    diff = np.zeros((max(length, n_seg) + 1, n_cls), dtype=np.int64)
    # the same float operations as sed_eval's math.floor / math.ceil per event
    on = np.floor(on_s * 1 / float(time_resolution)).astype(np.int64)
    off = np.ceil(off_s * 1 / float(time_resolution)).astype(np.int64)
    col = np.array([index[e[2]] for e in events], dtype=np.int64)
    keep = off > on
    np.add.at(diff, (on[keep], col[keep]), 1)
    np.add.at(diff, (off[keep], col[keep]), -1)
    return np.cumsum(diff[:n_seg], axis=0) > 0


def segment_counts(reference: Sequence[EventTuple], estimated: Sequence[EventTuple],
                   labels: Sequence[str], *, time_resolution: float = 1.0,
                   evaluated_length_seconds: float | None = None
                   ) -> tuple[dict[str, int], dict[str, dict[str, int]], float]:
    """The counts that ``sed_eval.sound_event.SegmentBasedMetrics.evaluate`` adds for one
    file.

    Parameters
    ----------
    reference, estimated : sequence of (onset, offset, label)
        The events of one file; every label must be in ``labels``.
    labels : sequence of str
        The classes, in sed_eval's ``event_label_list`` order.
    time_resolution : float
        Segment length in seconds.
    evaluated_length_seconds : float or None
        The file's length (default: the last offset of either list).

    Returns
    -------
    overall : dict
        ``Ntp``, ``Ntn``, ``Nfp``, ``Nfn``, ``Nref``, ``Nsys``, ``S``, ``D``, ``I``.
    class_wise : dict of str to dict
        ``Ntp``, ``Ntn``, ``Nfp``, ``Nfn``, ``Nref``, ``Nsys`` per class.
    length : float
        The evaluated length in seconds.

    Examples
    --------
    >>> o, c, n = segment_counts([(0.0, 1.5, "a")], [(0.2, 0.9, "a")], ["a"],
    ...                          evaluated_length_seconds=3.0)
    >>> o["Ntp"], o["D"], c["a"]["Ntn"], n
    (1, 1, 1, 3.0)
    """
    index = {lab: k for k, lab in enumerate(labels)}
    for e in list(reference) + list(estimated):
        if e[2] not in index:
            raise ValueError(f"event label {e[2]!r} is not among the classes")
    if evaluated_length_seconds is None:
        evaluated_length_seconds = max([0.0] + [float(e[1]) for e in reference]
                                       + [float(e[1]) for e in estimated])
    n_seg = int(math.ceil(evaluated_length_seconds * 1 / float(time_resolution)))
    r = _roll(reference, index, n_seg, time_resolution)
    s = _roll(estimated, index, n_seg, time_resolution)
    per_class = {"Ntp": np.count_nonzero(r & s, axis=0),
                 "Ntn": np.count_nonzero(~(r | s), axis=0),
                 "Nfp": np.count_nonzero(s & ~r, axis=0),
                 "Nfn": np.count_nonzero(r & ~s, axis=0),
                 "Nref": np.count_nonzero(r, axis=0),
                 "Nsys": np.count_nonzero(s, axis=0)}
    nref = np.count_nonzero(r, axis=1)
    nsys = np.count_nonzero(s, axis=1)
    ntp = np.count_nonzero(r & s, axis=1)
    overall = {k: int(v.sum()) for k, v in per_class.items()}
    overall.update(S=int((np.minimum(nref, nsys) - ntp).sum()),
                   D=int(np.maximum(0, nref - nsys).sum()),
                   I=int(np.maximum(0, nsys - nref).sum()))
    class_wise = {lab: {k: int(v[k_]) for k, v in per_class.items()}
                  for lab, k_ in index.items()}
    return overall, class_wise, float(evaluated_length_seconds)


def add_counts(metric: Any, overall: dict[str, int],
               class_wise: dict[str, dict[str, int]]) -> None:
    """Add one file's counts to a sed_eval metric object, as its ``evaluate`` would.

    Examples
    --------
    >>> import sed_eval
    >>> m = sed_eval.sound_event.EventBasedMetrics(["a"])
    >>> add_counts(m, *event_counts([(0.0, 1.0, "a")], [], ["a"]))
    >>> m.overall["Nfn"]
    1.0
    """
    for k, v in overall.items():
        metric.overall[k] += v
    for lab, d in class_wise.items():
        for k, v in d.items():
            metric.class_wise[lab][k] += v
