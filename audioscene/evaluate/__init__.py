"""Evaluation: scene accuracy, tagging equal error rate, and sound event detection metrics
with sed_eval's definitions.

Sound event detection follows the DCASE 2016 protocol: segment-based metrics on 1 s
segments, event-based metrics with a 200 ms onset collar (onset only, and onset+offset
with an offset collar of ``max(0.2 s, 50 % of the event's length)``), each per class and
overall, accumulated over files with each file's true length. By default the counts come
from :mod:`audioscene.evaluate.counts` (sorted sweeps and sed_eval's own matching, the
same counts without sed_eval's all-pairs loops) and sed_eval's metric classes compute
the rates; ``sed_metrics(..., impl="sed_eval")`` runs sed_eval itself. PSDS and
threshold-independent F1 of score tables are in :mod:`audioscene.evaluate.scores`.

Examples
--------
>>> from audioscene.events import Event, EventList
>>> from audioscene.evaluate import sed_metrics
>>> ref = EventList([Event(1.0, 2.0, "dog", filename="a.wav")])
>>> res = sed_metrics(ref, ref, durations={"a.wav": 10.0})
>>> res.segment_based.overall.f1, res.event_onset.overall.error_rate
(1.0, 0.0)
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..events import Event, EventList

__all__ = [
    "SceneResult", "TaggingResult", "Scores", "MetricSet", "SEDResult",
    "scene_accuracy", "tagging_eer", "equal_error_rate", "sed_metrics", "read_event_lists",
    "FileCounts",
]


def _sed_eval() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import dcase_util  # noqa: F401  (imports pkg_resources, which warns)
        import sed_eval
    return sed_eval


def _clean(x: float) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


# ----------------------------------------------------------------------------- scenes


@dataclass
class SceneResult:
    """Clip classification accuracy.

    Attributes
    ----------
    accuracy : float
        Fraction of clips classified correctly.
    per_class : dict
        Accuracy (recall) per true class.
    confusion : np.ndarray
        ``confusion[i, j]``: clips of class ``labels[i]`` predicted as ``labels[j]``.
    labels : list of str
    n : int
        Number of clips.
    """

    accuracy: float
    per_class: dict[str, float]
    confusion: np.ndarray
    labels: list[str]
    n: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        d = asdict(self)
        d["confusion"] = self.confusion.tolist()
        return d

    def report(self) -> str:
        """Readable text: overall, per class, confusion matrix."""
        w = max([len(x) for x in self.labels] + [5])
        lines = [f"accuracy {100 * self.accuracy:.1f} % ({self.n} clips)", "", "per class:"]
        lines += [f"  {lab:<{w}}  {100 * acc:5.1f} %" for lab, acc in self.per_class.items()]
        lines += ["", "confusion (rows: truth, columns: prediction):"]
        lines += [f"  {lab:<{w}}  " + " ".join(f"{v:4d}" for v in row)
                  for lab, row in zip(self.labels, self.confusion)]
        return "\n".join(lines)


def scene_accuracy(y_true: Sequence[str], y_pred: Sequence[str], *,
                   labels: Sequence[str] | None = None) -> SceneResult:
    """Accuracy, per-class accuracy and confusion matrix of single-label predictions.

    Parameters
    ----------
    y_true, y_pred : sequence of str
        True and predicted labels, one per clip.
    labels : sequence of str or None
        Class order (default: sorted union of both).

    Returns
    -------
    SceneResult

    Examples
    --------
    >>> r = scene_accuracy(["a", "a", "b"], ["a", "b", "b"])
    >>> round(r.accuracy, 3), r.per_class
    (0.667, {'a': 0.5, 'b': 1.0})
    """
    from sklearn.metrics import confusion_matrix

    y_true, y_pred = list(y_true), list(y_pred)
    if len(y_true) != len(y_pred):
        raise ValueError(f"{len(y_true)} true labels but {len(y_pred)} predictions")
    if not y_true:
        raise ValueError("no clips to evaluate")
    labs = list(labels) if labels is not None else sorted(set(y_true) | set(y_pred))
    cm = confusion_matrix(y_true, y_pred, labels=labs)
    per = {lab: float(cm[i, i] / cm[i].sum()) for i, lab in enumerate(labs) if cm[i].sum()}
    acc = float(np.mean([t == p for t, p in zip(y_true, y_pred)]))
    return SceneResult(acc, per, cm, labs, len(y_true))


# ----------------------------------------------------------------------------- tagging


def equal_error_rate(y_true: np.ndarray, scores: np.ndarray) -> float:
    """Equal error rate of one binary detector: where false-positive and false-negative
    rates cross on the ROC curve (linear interpolation between its points).

    Returns NaN when ``y_true`` holds a single class.

    Examples
    --------
    >>> equal_error_rate(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]))
    0.5
    """
    from sklearn.metrics import roc_curve

    y_true = np.asarray(y_true).astype(bool)
    scores = np.asarray(scores, dtype=np.float64)
    if y_true.all() or not y_true.any():
        return float("nan")
    fpr, tpr, _ = roc_curve(y_true, scores)
    fnr = 1.0 - tpr
    diff = fpr - fnr  # increasing from <= 0 to >= 0 along the curve
    i = int(np.flatnonzero(diff >= 0)[0])
    if i == 0 or diff[i] == 0:
        return float((fpr[i] + fnr[i]) / 2)
    # crossing between points i-1 and i
    a = diff[i - 1] / (diff[i - 1] - diff[i])
    return float(fpr[i - 1] + a * (fpr[i] - fpr[i - 1]))


@dataclass
class TaggingResult:
    """Equal error rate per tag and their mean (tags without both classes excluded)."""

    eer: dict[str, float]
    mean_eer: float
    n: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (NaN as null)."""
        return {"eer": {k: _clean(v) for k, v in self.eer.items()},
                "mean_eer": _clean(self.mean_eer), "n": self.n}

    def report(self) -> str:
        """Readable text."""
        w = max([len(x) for x in self.eer] + [4])
        lines = [f"mean EER {self.mean_eer:.3f} ({self.n} clips)"]
        lines += [f"  {k:<{w}}  {v:.3f}" for k, v in self.eer.items()]
        return "\n".join(lines)


def tagging_eer(y_true: np.ndarray, scores: np.ndarray, labels: Sequence[str]) -> TaggingResult:
    """Equal error rate of each tag and the mean over tags.

    Parameters
    ----------
    y_true : np.ndarray
        ``(clips, tags)`` binary truth.
    scores : np.ndarray
        ``(clips, tags)`` scores (higher: more likely present).
    labels : sequence of str
        Tag names, one per column.

    Returns
    -------
    TaggingResult

    Examples
    --------
    >>> y = np.array([[1, 0], [0, 1], [1, 1], [0, 0]])
    >>> tagging_eer(y, y * 0.9 + 0.05, ["a", "b"]).mean_eer
    0.0
    """
    y_true = np.asarray(y_true)
    scores = np.asarray(scores, dtype=np.float64)
    if y_true.shape != scores.shape or y_true.ndim != 2:
        raise ValueError(f"y_true {y_true.shape} and scores {scores.shape} must both be "
                         "(clips, tags)")
    if y_true.shape[1] != len(labels):
        raise ValueError(f"{y_true.shape[1]} tag columns but {len(labels)} labels")
    if not np.isfinite(scores).all():
        raise ValueError("scores hold NaN or Inf")
    eer = {lab: equal_error_rate(y_true[:, j], scores[:, j]) for j, lab in enumerate(labels)}
    valid = [v for v in eer.values() if not math.isnan(v)]
    return TaggingResult(eer, float(np.mean(valid)) if valid else float("nan"), len(y_true))


# ----------------------------------------------------------------------------- events


@dataclass
class Scores:
    """F-score and error rate of one class (or overall)."""

    f1: float | None
    precision: float | None
    recall: float | None
    error_rate: float | None
    deletion_rate: float | None
    insertion_rate: float | None
    substitution_rate: float | None = None
    n_ref: int | None = None
    n_sys: int | None = None

    @classmethod
    def _from(cls, r: Mapping[str, Any]) -> Scores:
        f, e, c = r.get("f_measure", {}), r.get("error_rate", {}), r.get("count", {})
        n_ref = c.get("Nref")
        er = {k: _clean(e.get(k)) for k in ("error_rate", "deletion_rate", "insertion_rate",
                                             "substitution_rate")}
        if n_ref is not None and n_ref == 0:
            # sed_eval divides by machine epsilon here; the rate is undefined
            er = dict.fromkeys(er)
        return cls(_clean(f.get("f_measure")), _clean(f.get("precision")),
                   _clean(f.get("recall")), er["error_rate"], er["deletion_rate"],
                   er["insertion_rate"], er["substitution_rate"],
                   None if n_ref is None else int(n_ref),
                   None if c.get("Nsys") is None else int(c["Nsys"]))


@dataclass
class MetricSet:
    """Overall scores, per-class scores and the mean over classes with reference events."""

    overall: Scores
    class_wise: dict[str, Scores]
    class_average: Scores

    @classmethod
    def _from(cls, metric: Any) -> MetricSet:
        with warnings.catch_warnings():  # sed_eval averages empty slices for empty sets
            warnings.simplefilter("ignore", RuntimeWarning)
            r = metric.results()
        cw = {k: Scores._from(v) for k, v in r["class_wise"].items()}

        def avg(attr: str) -> float | None:
            vals = [getattr(s, attr) for s in cw.values()
                    if getattr(s, attr) is not None and (s.n_ref or 0) > 0]
            return float(np.mean(vals)) if vals else None

        av = Scores(avg("f1"), avg("precision"), avg("recall"), avg("error_rate"),
                    avg("deletion_rate"), avg("insertion_rate"))
        return cls(Scores._from(r["overall"]), cw, av)


_KINDS = ("segment_based", "event_onset", "event_onset_offset")
_KIND_NAMES = {"segment_based": "segment", "event_onset": "onset",
               "event_onset_offset": "onset+offset"}


@dataclass
class FileCounts:
    """One file's sed_eval counts for each metric kind.

    Attributes
    ----------
    file : str
        File key (stem).
    length : float
        Evaluated length in seconds (segment-based metrics).
    ref_max_offset : float
        Last reference offset (what sed_eval's event-based metrics add as length).
    counts : dict
        ``{kind: (overall, class_wise)}`` for ``segment_based``, ``event_onset`` and
        ``event_onset_offset``, with sed_eval's count names.
    """

    file: str
    length: float
    ref_max_offset: float
    counts: dict[str, tuple[dict[str, float], dict[str, dict[str, float]]]]


def _new_metric(kind: str, labels: list[str], params: Mapping[str, float]) -> Any:
    sed_eval = _sed_eval()
    if kind == "segment_based":
        return sed_eval.sound_event.SegmentBasedMetrics(
            event_label_list=labels, time_resolution=params["time_resolution"])
    return sed_eval.sound_event.EventBasedMetrics(
        event_label_list=labels, t_collar=params["t_collar"],
        percentage_of_length=params["percentage_of_length"], evaluate_onset=True,
        evaluate_offset=kind == "event_onset_offset")


def _fill(metric: Any, kind: str, fcs: Sequence[FileCounts]) -> Any:
    from .counts import add_counts

    for fc in fcs:
        add_counts(metric, *fc.counts[kind])
        if kind == "segment_based":
            metric.evaluated_length_seconds += fc.length
        else:
            metric.evaluated_length += fc.ref_max_offset
        metric.evaluated_files += 1
    return metric


def _headline(metric: Any) -> tuple[float | None, float | None]:
    """Overall F1 and error rate of a filled metric (sed_eval's formulas)."""
    f = _clean(metric.overall_f_measure()["f_measure"])
    er = None if metric.overall["Nref"] == 0 else _clean(
        metric.overall_error_rate()["error_rate"])
    return f, er


@dataclass
class SEDResult:
    """Sound event detection metrics (sed_eval), DCASE 2016 protocol.

    Attributes
    ----------
    segment_based : MetricSet
        1 s segments (``time_resolution``).
    event_onset : MetricSet
        Event-based, onset only, ``t_collar``.
    event_onset_offset : MetricSet
        Event-based, onset and offset (offset collar: ``max(t_collar,
        percentage_of_length * event length)``).
    files : list of str
        Files evaluated.
    params : dict
        ``time_resolution``, ``t_collar``, ``percentage_of_length``.
    file_counts : list of FileCounts
        Each file's counts (for :meth:`per_file` and :meth:`bootstrap`).
    """

    segment_based: MetricSet
    event_onset: MetricSet
    event_onset_offset: MetricSet
    files: list[str]
    params: dict[str, float]
    raw: dict[str, Any] = field(default_factory=dict, repr=False)
    file_counts: list[FileCounts] = field(default_factory=list, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (undefined values as null)."""
        d = asdict(self)
        d.pop("raw", None)
        d.pop("file_counts", None)
        return d

    def per_file(self) -> list[dict[str, Any]]:
        """Each file's overall F1 and error rate for the three metric kinds.

        Returns
        -------
        list of dict
            ``file``, ``n_ref``, ``n_sys`` and ``<kind>_f1`` / ``<kind>_er`` for
            ``segment``, ``onset`` and ``onset_offset`` (None where undefined).

        Examples
        --------
        >>> from audioscene.events import Event, EventList
        >>> ref = EventList([Event(1.0, 2.0, "dog", filename="a.wav")])
        >>> sed_metrics(ref, ref, durations={"a.wav": 10.0}).per_file()[0]["onset_f1"]
        1.0
        """
        labels = sorted(self.segment_based.class_wise)
        rows = []
        for fc in self.file_counts:
            row: dict[str, Any] = {"file": fc.file,
                                   "n_ref": int(fc.counts["event_onset"][0]["Nref"]),
                                   "n_sys": int(fc.counts["event_onset"][0]["Nsys"])}
            for kind in _KINDS:
                f, er = _headline(_fill(_new_metric(kind, labels, self.params), kind, [fc]))
                name = _KIND_NAMES[kind].replace("+", "_")
                row[f"{name}_f1"], row[f"{name}_er"] = f, er
            rows.append(row)
        return rows

    def bootstrap(self, n: int = 1000, *, confidence: float = 0.95,
                  seed: int = 0) -> dict[str, dict[str, tuple[float, float] | None]]:
        """Percentile bootstrap intervals over files of the overall F1 and error rates.

        Files are drawn with replacement ``n`` times; each draw sums the drawn files'
        counts and computes the metrics with sed_eval's formulas.

        Parameters
        ----------
        n : int
            Number of resamples.
        confidence : float
            Central coverage of each interval.
        seed : int
            Seed of the resampling (the same seed gives the same intervals).

        Returns
        -------
        dict
            ``{kind: {"f1": (low, high), "error_rate": (low, high)}}`` for
            ``segment``, ``onset`` and ``onset+offset``; None where no draw defines it.

        Examples
        --------
        >>> from audioscene.events import Event, EventList
        >>> ref = EventList([Event(1.0, 2.0, "dog", filename="a.wav")])
        >>> sed_metrics(ref, ref).bootstrap(50)["onset"]["f1"]
        (1.0, 1.0)
        """
        if n < 1:
            raise ValueError(f"bootstrap needs n >= 1, got {n}")
        if not 0 < confidence < 1:
            raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
        labels = sorted(self.segment_based.class_wise)
        rng = np.random.default_rng(seed)
        n_files = len(self.file_counts)
        draws = rng.integers(0, n_files, size=(n, n_files)) if n_files else None
        out: dict[str, dict[str, tuple[float, float] | None]] = {}
        for kind in _KINDS:
            keys = list(self.file_counts[0].counts[kind][0]) if n_files else []
            table = np.array([[fc.counts[kind][0][k] for k in keys]
                              for fc in self.file_counts], dtype=np.float64)
            f1s, ers = [], []
            for b in range(n if n_files else 0):
                m = _new_metric(kind, labels, self.params)
                sums = table[draws[b]].sum(axis=0)
                for k, v in zip(keys, sums):
                    m.overall[k] = float(v)
                f, er = _headline(m)
                if f is not None:
                    f1s.append(f)
                if er is not None:
                    ers.append(er)
            out[_KIND_NAMES[kind]] = {"f1": _interval(f1s, confidence),
                                      "error_rate": _interval(ers, confidence)}
        return out

    def report(self) -> str:
        """Readable text: an overall table and a per-class table."""
        res = self.params["time_resolution"]
        rows = [(f"segment-based ({res:g}s)", self.segment_based),
                ("event-based onset", self.event_onset),
                ("event-based onset+offset", self.event_onset_offset)]

        def f(x: float | None, pct: bool = False) -> str:
            if x is None:
                return "    -"
            return f"{100 * x:5.1f}" if pct else f"{x:5.2f}"

        out = [f"{len(self.files)} files, collar {self.params['t_collar']} s", "",
               f"{'':26s} {'F1 %':>6} {'P %':>6} {'R %':>6} {'ER':>6} {'S':>6} {'D':>6} {'I':>6}"]
        for name, m in rows:
            o = m.overall
            out.append(f"{name:26s} {f(o.f1, True):>6} {f(o.precision, True):>6} "
                       f"{f(o.recall, True):>6} {f(o.error_rate):>6} "
                       f"{f(o.substitution_rate):>6} {f(o.deletion_rate):>6} "
                       f"{f(o.insertion_rate):>6}")
        labels = sorted(self.segment_based.class_wise)
        if labels:
            w = max(len(x) for x in labels + ["class"])
            out += ["", f"{'class':{w}s}  {'Nref':>5}  {'seg F1 %':>8} {'seg ER':>6}  "
                        f"{'onset F1 %':>10} {'on ER':>6}  {'on+off F1 %':>11} {'on+off ER':>9}"]
            for lab in labels:
                s = self.segment_based.class_wise[lab]
                e1 = self.event_onset.class_wise[lab]
                e2 = self.event_onset_offset.class_wise[lab]
                out.append(f"{lab:{w}s}  {e1.n_ref or 0:5d}  {f(s.f1, True):>8} "
                           f"{f(s.error_rate):>6}  {f(e1.f1, True):>10} {f(e1.error_rate):>6}  "
                           f"{f(e2.f1, True):>11} {f(e2.error_rate):>9}")
        return "\n".join(out)


def _interval(values: list[float], confidence: float) -> tuple[float, float] | None:
    if not values:
        return None
    a, b = np.percentile(values, [50 * (1 - confidence), 50 * (1 + confidence)])
    return float(a), float(b)


def _key(filename: str | None) -> str:
    return Path(filename).stem if filename else ""


def _by_key(events: EventList) -> dict[str, list[Event]]:
    """Events grouped by file stem (``a.wav`` and ``a.flac`` are one file)."""
    out: dict[str, list[Event]] = {}
    keys: dict[str | None, str] = {}
    for e in events:
        k = keys.get(e.filename)
        if k is None:
            k = keys[e.filename] = _key(e.filename)
        out.setdefault(k, []).append(e)
    return out


def _snapshot(metric: Any) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    return dict(metric.overall), {k: dict(v) for k, v in metric.class_wise.items()}


def _delta(before: tuple[dict, dict], metric: Any) -> tuple[dict, dict]:
    o0, c0 = before
    o1, c1 = _snapshot(metric)
    return ({k: o1[k] - o0[k] for k in o1},
            {lab: {k: c1[lab][k] - c0[lab][k] for k in c1[lab]} for lab in c1})


def sed_metrics(reference: EventList, estimated: EventList, *,
                durations: Mapping[str, float] | None = None,
                labels: Sequence[str] | None = None, time_resolution: float = 1.0,
                t_collar: float = 0.2, percentage_of_length: float = 0.5,
                impl: str = "fast") -> SEDResult:
    """Segment-based and event-based metrics of estimated events against a reference.

    Files are matched by the *stem* of each event's ``filename`` (so ``a.wav`` in the
    reference matches ``a.flac`` or ``a`` in the estimate); events without a file name
    form one unnamed file. Every file in the reference, the estimate or ``durations`` is
    evaluated, including files without any event (an estimate there counts as
    insertions).

    Parameters
    ----------
    reference, estimated : EventList
        Ground truth and system output.
    durations : mapping of str to float, or None
        True length in seconds of each file (keys: file names or stems). Without it the
        last offset in either list stands in for the length, which undercounts empty
        segments at the end.
    labels : sequence of str or None
        Classes (default: union of the labels in both lists).
    time_resolution : float
        Segment length for segment-based metrics.
    t_collar : float
        Onset (and minimum offset) collar in seconds.
    percentage_of_length : float
        Offset collar as a fraction of the reference event's length.
    impl : {"fast", "sed_eval"}
        ``"fast"`` counts with sorted sweeps (:mod:`audioscene.evaluate.counts`) and lets
        sed_eval compute the rates from those counts; ``"sed_eval"`` runs sed_eval's own
        ``evaluate`` on every file (quadratic in the events of a file). Both give the
        same counts and rates.

    Returns
    -------
    SEDResult

    Examples
    --------
    >>> from audioscene.events import Event, EventList
    >>> ref = EventList([Event(1.0, 2.0, "dog", filename="a.wav")])
    >>> est = EventList([Event(1.1, 2.6, "dog", filename="a.wav")])
    >>> r = sed_metrics(ref, est, durations={"a.wav": 10.0})
    >>> r.event_onset.overall.f1, r.event_onset_offset.overall.f1
    (1.0, 0.0)
    """
    _sed_eval()  # imports dcase_util quietly
    from dcase_util.containers import MetaDataContainer

    if impl not in ("fast", "sed_eval"):
        raise ValueError(f"impl must be 'fast' or 'sed_eval', got {impl!r}")
    labs = sorted(labels) if labels is not None else sorted(set(reference.labels) |
                                                             set(estimated.labels))
    if any(e.label is None for e in list(reference) + list(estimated)):
        raise ValueError("every event needs a label for sed_eval")
    for lab in set(reference.labels) | set(estimated.labels) | set(labs):
        # dcase_util (under sed_eval) strips labels and reads "none" or "" as no label
        if lab != lab.strip() or lab.strip().lower() in ("", "none"):
            raise ValueError(f"event label {lab!r} cannot be evaluated: sed_eval reads "
                             "labels without surrounding spaces, and 'none' as no label")
    for name, ev in (("estimated", estimated), ("reference", reference)):
        unknown = set(ev.labels) - set(labs)
        if unknown:
            raise ValueError(f"{name} labels not among the classes: {sorted(unknown)}")
    params = {"time_resolution": time_resolution, "t_collar": t_collar,
              "percentage_of_length": percentage_of_length}
    lengths = {_key(k): float(v) for k, v in (durations or {}).items()}
    ref_by, est_by = _by_key(reference), _by_key(estimated)
    files = sorted(set(ref_by) | set(est_by) | set(lengths))
    metrics = {kind: _new_metric(kind, labs, params) for kind in _KINDS}
    file_counts: list[FileCounts] = []
    for f in files:
        # each file's events in the order EventList(...).with_filename(f) gives them
        rt = sorted((e.onset, e.offset, e.label) for e in ref_by.get(f, []))
        et = sorted((e.onset, e.offset, e.label) for e in est_by.get(f, []))
        length = lengths.get(f)
        if length is None:
            length = max([t[1] for t in rt + et] + [0.0])
        ref_max = max([0.0] + [t[1] for t in rt if t[1] > 0])
        if impl == "fast":
            from .counts import event_counts, segment_counts

            so, sc, _ = segment_counts(rt, et, labs, time_resolution=time_resolution,
                                       evaluated_length_seconds=length)
            counts = {"segment_based": (so, sc)}
            for kind in ("event_onset", "event_onset_offset"):
                counts[kind] = event_counts(rt, et, labs, t_collar=t_collar,
                                            percentage_of_length=percentage_of_length,
                                            evaluate_offset=kind == "event_onset_offset")
            fc = FileCounts(f, float(length), float(ref_max), counts)
            for kind in _KINDS:
                _fill(metrics[kind], kind, [fc])
        else:
            R = MetaDataContainer(EventList(ref_by.get(f, [])).with_filename(f).to_dicts())
            E = MetaDataContainer(EventList(est_by.get(f, [])).with_filename(f).to_dicts())
            before = {kind: _snapshot(m) for kind, m in metrics.items()}
            metrics["segment_based"].evaluate(reference_event_list=R, estimated_event_list=E,
                                              evaluated_length_seconds=length)
            metrics["event_onset"].evaluate(reference_event_list=R, estimated_event_list=E)
            metrics["event_onset_offset"].evaluate(reference_event_list=R,
                                                   estimated_event_list=E)
            fc = FileCounts(f, float(length), float(ref_max),
                            {kind: _delta(before[kind], m) for kind, m in metrics.items()})
        file_counts.append(fc)
    return SEDResult(MetricSet._from(metrics["segment_based"]),
                     MetricSet._from(metrics["event_onset"]),
                     MetricSet._from(metrics["event_onset_offset"]), files, params,
                     raw=dict(metrics), file_counts=file_counts)


def _unlabelled_line(path: Path, fmt: str | None) -> int | None:
    """The first line of a text event list that reads as an event without a label."""
    from ..events import EventFormatError, guess_format

    fmt = fmt or guess_format(path)
    if fmt == "json":
        return None
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    # a Raven row is read under its table's header
    head = next((x + "\n" for x in lines if x.strip()), "") if fmt == "raven" else ""
    for n, line in enumerate(lines, 1):
        if head and line + "\n" == head:
            continue
        try:
            evs = EventList.from_text(head + line + "\n", format=fmt)
        except (EventFormatError, ValueError):
            continue
        if any(e.label is None for e in evs):
            return n
    return None


def read_event_lists(path: str | os.PathLike, *, require_labels: bool = False,
                     on_error: Any = None) -> EventList:
    """Read one event-list file, or every ``.txt``/``.csv``/``.json``/``.ann``/``.tsv``
    file of a folder but score tables (``*.scores.tsv``); there, an event without a file
    name takes its list file's stem (:func:`~audioscene.events.event_list_stem`:
    ``a.selections.txt`` and ``a.labels.txt`` are recording ``a``). A folder without
    any such file is an error. The format is guessed (:func:`~audioscene.events.guess_format`),
    ``.ann`` and ``.tsv`` files being ``dcase`` unless they are Raven selection tables.

    Parameters
    ----------
    path : str or path-like
        A file or a folder.
    require_labels : bool
        An event without a label is an error naming the file and line.
    on_error : callable or None
        Called as ``on_error(file, exc)`` for a file of a folder that cannot be read; the
        file is then left out. Without it the first such file raises.

    Examples
    --------
    >>> ref = read_event_lists("dcase2016_task2_dev/annotation")  # doctest: +SKIP
    """
    from ..events import EventFormatError, event_list_stem, guess_format

    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such file or folder")
    files = [p] if p.is_file() else sorted(
        q for q in p.iterdir() if q.suffix.lower() in (".txt", ".csv", ".json", ".ann", ".tsv")
        and not q.name.endswith(".scores.tsv"))  # frame-score tables are not event lists
    if not files:
        raise FileNotFoundError(f"{p}: no event lists (.txt, .csv, .json, .ann, .tsv) in "
                                "this folder")
    out = EventList()
    for q in files:
        fmt = "dcase" if q.suffix.lower() in (".ann", ".tsv") else None
        if fmt is not None and guess_format(q) == "raven":
            fmt = "raven"
        try:
            ev = EventList.read(q, format=fmt)
            if require_labels and any(e.label is None for e in ev):
                n = _unlabelled_line(q, fmt)
                where = f"{q}:{n}" if n else str(q)
                raise EventFormatError(f"{where}: an event without a label (evaluation "
                                       "needs onset, offset and label)")
        except (EventFormatError, OSError, ValueError) as exc:
            if on_error is None or not p.is_dir():
                raise
            on_error(q, exc)
            continue
        if p.is_dir():
            stem = event_list_stem(q)
            ev = EventList(e if e.filename else type(e)(e.onset, e.offset, e.label,
                                                         e.confidence, stem) for e in ev)
        out = out + ev
    return out
