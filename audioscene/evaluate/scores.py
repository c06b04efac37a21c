"""Threshold-independent evaluation of frame-score tables, computed by sed_scores_eval.

A score table (what ``audioscene detect --scores`` writes, the sed_scores_eval layout) is
a TSV file with the columns ``onset``, ``offset`` and one score per class; each row is a
span of time whose offset is the next row's onset. From the score tables of a set of
recordings and their reference events this module computes, with sed_scores_eval:

* **PSDS** (polyphonic sound detection score) in the two DCASE scenarios
  (:data:`PSDS1`, :data:`PSDS2`), overall and per class, with the PSD-ROC curves;
* **intersection-based F1** (DTC = GTC = 0.5 by default) and **collar-based F1**
  (onset collar ``collar``, offset collar ``max(collar, percentage_of_length x
  length)``, as in the DCASE 2016 onset+offset metric) at the best threshold of each
  class and, given a threshold, at that threshold; per class and macro-averaged.

Reference events of one class that overlap or touch in one file are merged into one
event first, because sed_scores_eval requires a class's reference events to be
disjoint. Classes with no reference event in the whole set are left out (their
detection rate is undefined) and listed in ``params["classes_without_reference"]``; with
a single class left, scenario 2 has no other class to cross-trigger on and is computed
without the cross-trigger term. A recording's length is its audio length where given (``durations``), else
the end of its score table, and never less than its last reference offset.

Examples
--------
>>> from audioscene.evaluate.scores import read_score_tables, score_metrics
>>> tables = read_score_tables("events/")  # doctest: +SKIP
>>> ref = read_event_lists("annotation/")  # doctest: +SKIP
>>> print(score_metrics(ref, tables).report())  # doctest: +SKIP
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..events import EventList

__all__ = ["PSDS1", "PSDS2", "ScoreTableError", "ScoreResult", "read_score_table",
           "read_score_tables", "score_metrics", "ground_truth_from_events"]

#: DCASE scenario 1 (detection tolerance): DTC = GTC = 0.7, no cross-trigger penalty,
#: alpha_st = 1, eFPR up to 100 per hour.
PSDS1: dict[str, Any] = {"dtc_threshold": 0.7, "gtc_threshold": 0.7, "cttc_threshold": None,
                         "alpha_ct": 0.0, "alpha_st": 1.0, "max_efpr": 100.0}
#: DCASE scenario 2 (cross-trigger): DTC = GTC = 0.1, CTTC = 0.3, alpha_ct = 0.5,
#: alpha_st = 1, eFPR up to 100 per hour.
PSDS2: dict[str, Any] = {"dtc_threshold": 0.1, "gtc_threshold": 0.1, "cttc_threshold": 0.3,
                         "alpha_ct": 0.5, "alpha_st": 1.0, "max_efpr": 100.0}

SCORE_SUFFIXES = (".scores.tsv", ".tsv")


class ScoreTableError(ValueError):
    """A score table that cannot be read or does not fit the reference (the message names
    the file)."""


def _sse() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import sed_scores_eval
    return sed_scores_eval


def _stem(path: Path) -> str:
    name = path.name
    for suf in SCORE_SUFFIXES:
        if name.lower().endswith(suf):
            return name[: -len(suf)]
    return path.stem


def read_score_table(path: str | os.PathLike) -> Any:
    """Read and check one score table.

    Parameters
    ----------
    path : str or path-like
        A TSV file with ``onset``, ``offset`` and one column per class.

    Returns
    -------
    pandas.DataFrame
        As sed_scores_eval reads it.

    Raises
    ------
    ScoreTableError
        Unreadable, no rows, no class column, non-contiguous or zero-length rows, or
        non-finite values; the message names the file.

    Examples
    --------
    >>> df = read_score_table("events/rec.scores.tsv")  # doctest: +SKIP
    >>> list(df.columns)[:3]  # doctest: +SKIP
    ['onset', 'offset', 'speech']
    """
    import pandas as pd

    p = Path(path)
    if not p.is_file():
        raise ScoreTableError(f"{p}: no such score table")
    try:
        df = pd.read_csv(p, sep="\t")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ScoreTableError(f"{p}: not a score table ({str(exc).splitlines()[0]})") from None
    if len(df) == 0:
        raise ScoreTableError(f"{p}: score table has no rows")
    try:
        _sse().base_modules.scores.validate_score_dataframe(df)
    except (ValueError, AssertionError) as exc:
        raise ScoreTableError(f"{p}: {exc}") from None
    values = df.to_numpy()
    if not np.issubdtype(values.dtype, np.number) or not np.isfinite(values).all():
        raise ScoreTableError(f"{p}: score table holds non-numeric, NaN or infinite values")
    return df


def read_score_tables(path: str | os.PathLike) -> dict[str, Any]:
    """Read one score table, or every score table of a folder, keyed by recording stem.

    In a folder, files named ``<stem>.scores.tsv`` are read when there are any (what
    ``audioscene detect --scores`` writes beside its event lists), else every ``.tsv``
    file. Every table must have the same class columns.

    Examples
    --------
    >>> tables = read_score_tables("events/")  # doctest: +SKIP
    >>> sorted(tables)[:2]  # doctest: +SKIP
    ['dev_1_ebr_-6_nec_1_poly_0', 'dev_1_ebr_-6_nec_2_poly_0']
    """
    p = Path(path)
    if not p.exists():
        raise ScoreTableError(f"{p}: no such file or folder")
    if p.is_file():
        files = [p]
    else:
        files = sorted(q for q in p.iterdir() if q.is_file()
                       and q.name.lower().endswith(".scores.tsv"))
        if not files:
            files = sorted(q for q in p.iterdir() if q.is_file()
                           and q.suffix.lower() == ".tsv")
        if not files:
            raise ScoreTableError(f"{p}: no score tables (*.scores.tsv or *.tsv)")
    out: dict[str, Any] = {}
    columns: list[str] | None = None
    first: Path | None = None
    for q in files:
        df = read_score_table(q)
        cols = list(df.columns[2:])
        if columns is None:
            columns, first = cols, q
        elif cols != columns:
            raise ScoreTableError(f"{q}: class columns {cols} differ from {columns} "
                                  f"in {first}")
        key = _stem(q)
        if key in out:
            raise ScoreTableError(f"{q}: a second score table for recording {key!r}")
        out[key] = df
    return out


def ground_truth_from_events(reference: EventList) -> dict[str, list[tuple[float, float, str]]]:
    """Reference events per recording stem in sed_scores_eval's layout, a class's
    overlapping or touching events merged.

    Examples
    --------
    >>> from audioscene.events import Event, EventList
    >>> ground_truth_from_events(EventList([Event(0, 1, "a", filename="x.wav"),
    ...                                     Event(1, 2, "a", filename="x.wav")]))
    {'x': [(0.0, 2.0, 'a')]}
    """
    spans: dict[str, dict[str, list[list[float]]]] = {}
    for e in reference:
        if e.label is None:
            raise ValueError("every reference event needs a label")
        key = Path(e.filename).stem if e.filename else ""
        spans.setdefault(key, {}).setdefault(e.label, []).append([e.onset, e.offset])
    out: dict[str, list[tuple[float, float, str]]] = {}
    for key, by_label in spans.items():
        evs = []
        for lab, sp in by_label.items():
            sp.sort()
            merged = [sp[0]]
            for on, off in sp[1:]:
                if on <= merged[-1][1]:
                    merged[-1][1] = max(merged[-1][1], off)
                else:
                    merged.append([on, off])
            evs += [(float(a), float(b), lab) for a, b in merged]
        out[key] = sorted(evs)
    return out


def _f(x: Any) -> float | None:
    x = float(x)
    return None if math.isnan(x) or math.isinf(x) else x


@dataclass
class ScoreResult:
    """PSDS and F1 of score tables against reference events.

    Attributes
    ----------
    psds1, psds2 : float
        PSDS in the DCASE scenarios 1 and 2 (:data:`PSDS1`, :data:`PSDS2`).
    psds1_per_class, psds2_per_class : dict of str to float
        The same area for each class's ROC alone.
    intersection_best, collar_best : dict
        ``{class or "macro": {"f1", "precision", "recall", "threshold"}}`` at each
        class's best threshold (the macro row averages the classes' best F1, precision
        and recall; it has no single threshold).
    intersection_at, collar_at : dict or None
        The same at ``threshold`` (``None`` when no threshold was given).
    threshold : float or None
    classes, files : list of str
    params : dict
        ``collar``, ``percentage_of_length``, ``dtc``, ``gtc`` and the PSDS scenarios.
    curves : dict
        PSD-ROCs and per-class precision-recall curves for :meth:`plot` (not in
        :meth:`to_dict`).
    """

    psds1: float
    psds2: float
    psds1_per_class: dict[str, float]
    psds2_per_class: dict[str, float]
    intersection_best: dict[str, dict[str, float | None]]
    collar_best: dict[str, dict[str, float | None]]
    intersection_at: dict[str, dict[str, float | None]] | None
    collar_at: dict[str, dict[str, float | None]] | None
    threshold: float | None
    classes: list[str]
    files: list[str]
    params: dict[str, Any]
    curves: dict[str, Any] = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (undefined values as null)."""
        return {k: getattr(self, k) for k in (
            "psds1", "psds2", "psds1_per_class", "psds2_per_class", "intersection_best",
            "collar_best", "intersection_at", "collar_at", "threshold", "classes", "files",
            "params")}

    def report(self) -> str:
        """Readable text: PSDS, then per-class PSDS and F1 at the best threshold (and at
        the given one)."""
        p = self.params

        def pct(x: float | None) -> str:
            return "    -" if x is None else f"{100 * x:5.1f}"

        s1, s2 = p["psds1"], p["psds2"]
        out = [f"{len(self.files)} files, {len(self.classes)} classes (sed_scores_eval)",
               f"PSDS1 {self.psds1:.4f}   (DTC/GTC {s1['dtc_threshold']}, CTTC "
               f"{s1['cttc_threshold']}, alpha_ct {s1['alpha_ct']}, "
               f"alpha_st {s1['alpha_st']:g}, max eFPR {s1['max_efpr']:g}/h)",
               f"PSDS2 {self.psds2:.4f}   (DTC/GTC {s2['dtc_threshold']}, CTTC "
               f"{s2['cttc_threshold']}, alpha_ct {s2['alpha_ct']}, "
               f"alpha_st {s2['alpha_st']:g}, max eFPR {s2['max_efpr']:g}/h)",
               f"F1 at each class's best threshold: intersection-based (DTC/GTC "
               f"{p['dtc']}/{p['gtc']}), collar-based (collar {p['collar']} s, offset "
               f"{p['percentage_of_length']:g} x length)"]
        if p.get("classes_without_reference"):
            out.append("left out (no reference events): "
                       + ", ".join(p["classes_without_reference"]))
        w = max(len(c) for c in self.classes + ["macro"])
        head = f"{'class':{w}s}  {'PSDS1':>6} {'PSDS2':>6}  {'inter F1 %':>10} {'thr':>7}  " \
               f"{'collar F1 %':>11} {'thr':>7}"
        if self.threshold is not None:
            head += f"  {'inter F1 % @' + format(self.threshold, 'g'):>14} " \
                    f"{'collar F1 % @' + format(self.threshold, 'g'):>15}"
        out += ["", head]

        def thr(x: float | None) -> str:
            return "      -" if x is None else f"{x:7.3f}"

        for c in self.classes + ["macro"]:
            ib, cb = self.intersection_best[c], self.collar_best[c]
            p1 = self.psds1_per_class.get(c)
            p2 = self.psds2_per_class.get(c)
            row = (f"{c:{w}s}  {'' if p1 is None else format(p1, '6.3f'):>6} "
                   f"{'' if p2 is None else format(p2, '6.3f'):>6}  {pct(ib['f1']):>10} "
                   f"{thr(ib['threshold']):>7}  {pct(cb['f1']):>11} {thr(cb['threshold']):>7}")
            if self.threshold is not None and self.intersection_at and self.collar_at:
                row += f"  {pct(self.intersection_at[c]['f1']):>14} " \
                       f"{pct(self.collar_at[c]['f1']):>15}"
            out.append(row)
        return "\n".join(out)

    def plot(self, directory: str | os.PathLike) -> list[Path]:
        """Write ``psd_roc_1.png``, ``psd_roc_2.png`` and ``pr_intersection.png`` /
        ``pr_collar.png`` (per-class precision-recall curves) into ``directory``.

        Examples
        --------
        >>> res.plot("plots/")  # doctest: +SKIP
        [PosixPath('plots/psd_roc_1.png'), ...]
        """
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from ..io_utils import atomic_write_bytes

        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        written = []

        def save(fig: Any, name: str) -> None:
            import io

            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=110)
            plt.close(fig)
            written.append(atomic_write_bytes(d / name, buf.getvalue()))

        for k, value in ((1, self.psds1), (2, self.psds2)):
            sc = self.params[f"psds{k}"]
            tpr, efpr = self.curves[f"psd_roc{k}"]
            fig, ax = plt.subplots(figsize=(6, 5))
            ax.step(efpr, tpr, where="post", label="PSD-ROC")
            ax.fill_between(efpr, tpr, step="post", alpha=0.3)
            ax.axvline(sc["max_efpr"], ls="--", c="k", lw=0.8)
            ax.set(xlim=(0, sc["max_efpr"]), ylim=(0, 1), xlabel="eFPR per hour",
                   ylabel="eTPR", title=f"PSDS{k} {value:.4f} (DTC/GTC "
                   f"{sc['dtc_threshold']}, CTTC {sc['cttc_threshold']}, "
                   f"alpha_ct {sc['alpha_ct']}, alpha_st {sc['alpha_st']:g})")
            ax.title.set_fontsize(9)
            ax.grid(alpha=0.3)
            save(fig, f"psd_roc_{k}.png")
        for kind in ("intersection", "collar"):
            pr = self.curves[f"pr_{kind}"]
            fig, ax = plt.subplots(figsize=(6, 5))
            colours = plt.get_cmap("tab20")
            for k, c in enumerate(self.classes):
                if c in pr:
                    ax.plot(pr[c][1], pr[c][0], label=c, lw=1, color=colours(k % 20),
                            ls="-" if k < 20 else "--")
            ax.set(xlim=(0, 1), ylim=(0, 1.02), xlabel="recall", ylabel="precision",
                   title=f"{kind}-based precision / recall per class")
            ax.legend(fontsize=7, ncol=2)
            ax.grid(alpha=0.3)
            save(fig, f"pr_{kind}.png")
        return written


def _f1_table(f: Mapping, p: Mapping, r: Mapping, thr: Mapping | None,
              classes: Sequence[str]) -> dict[str, dict[str, float | None]]:
    out = {c: {"f1": _f(f[c]), "precision": _f(p[c]), "recall": _f(r[c]),
               "threshold": None if thr is None else _f(thr[c])} for c in classes}
    out["macro"] = {"f1": _f(f["macro_average"]), "precision": _f(p["macro_average"]),
                    "recall": _f(r["macro_average"]), "threshold": None}
    return out


def score_metrics(reference: EventList, scores: Mapping[str, Any], *,
                  durations: Mapping[str, float] | None = None, collar: float = 0.2,
                  percentage_of_length: float = 0.5, dtc: float = 0.5, gtc: float = 0.5,
                  threshold: float | None = None) -> ScoreResult:
    """PSDS 1 and 2, intersection-based and collar-based F1 of score tables.

    Parameters
    ----------
    reference : EventList
        Reference events; files are matched to score tables by stem.
    scores : mapping of str to pandas.DataFrame
        Score tables by recording stem (:func:`read_score_tables`).
    durations : mapping of str to float, or None
        Audio length of each recording (keys: file names or stems); default: the end
        of its score table.
    collar, percentage_of_length : float
        Collar-based F1 criteria (onset collar; offset collar ``max(collar,
        percentage_of_length x length)``).
    dtc, gtc : float
        Intersection-based F1 criteria.
    threshold : float or None
        Also report both F1 at this score threshold (every class).

    Returns
    -------
    ScoreResult

    Raises
    ------
    ScoreTableError
        A reference recording without a score table, or a reference class without a
        score column.

    Examples
    --------
    >>> import pandas as pd
    >>> from audioscene.events import Event, EventList
    >>> t = np.arange(0, 10.5, 0.5)
    >>> s = ((t[:-1] >= 2) & (t[:-1] < 4)).astype(float)
    >>> df = pd.DataFrame({"onset": t[:-1], "offset": t[1:], "dog": s})
    >>> ref = EventList([Event(2.0, 4.0, "dog", filename="a.wav")])
    >>> r = score_metrics(ref, {"a": df})
    >>> round(r.psds1, 3), r.intersection_best["dog"]["f1"]
    (1.0, 1.0)
    """
    sse = _sse()
    scores = dict(scores)
    if not scores:
        raise ScoreTableError("no score tables to evaluate")
    gt = ground_truth_from_events(reference)
    missing = sorted(set(gt) - set(scores))
    if missing:
        raise ScoreTableError(f"no score table for reference recording {missing[0]!r}"
                              + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""))
    files = sorted(scores)
    classes = list(next(iter(scores.values())).columns[2:])
    for key in files:
        cols = list(scores[key].columns[2:])
        if cols != classes:
            raise ScoreTableError(f"score table {key!r}: class columns {cols} differ from "
                                  f"{classes}")
    unknown = sorted({e[2] for evs in gt.values() for e in evs} - set(classes))
    if unknown:
        raise ScoreTableError(f"reference class {unknown[0]!r} has no score column "
                              f"(score tables have {classes})")
    gt = {k: gt.get(k, []) for k in files}
    present = {e[2] for evs in gt.values() for e in evs}
    if not present:
        raise ScoreTableError("the reference has no events: PSDS and F1 are undefined")
    # sed_scores_eval needs reference events for every class it scores
    dropped = [c for c in classes if c not in present]
    classes = [c for c in classes if c in present]
    if dropped:
        scores = {k: v.drop(columns=dropped) for k, v in scores.items()}
    lengths = {Path(k).stem: float(v) for k, v in (durations or {}).items()}
    dur = {k: lengths.get(k, float(scores[k]["offset"].iloc[-1])) for k in files}
    for k in files:
        last = max([e[1] for e in gt[k]], default=0.0)
        if last > dur[k] + 1e-6:
            dur[k] = last
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ib = sse.intersection_based
        runs = {}
        scenarios = {"1": dict(PSDS1), "2": dict(PSDS2)}
        if len(classes) == 1:  # no other class to cross-trigger on
            scenarios["2"].update(cttc_threshold=None, alpha_ct=0.0)
        for name, sc in scenarios.items():
            runs[name] = ib.psds(scores, gt, dur, dtc_threshold=sc["dtc_threshold"],
                                 gtc_threshold=sc["gtc_threshold"],
                                 cttc_threshold=sc["cttc_threshold"], alpha_ct=sc["alpha_ct"],
                                 alpha_st=sc["alpha_st"], max_efpr=sc["max_efpr"],
                                 unit_of_time="hour")
        # one pass of intermediate statistics per criterion serves the best-threshold
        # F1, the F1 at ``threshold`` and the precision-recall curves
        from sed_scores_eval.base_modules import precision_recall as prc

        stats_i, _ = ib.intermediate_statistics.accumulated_intermediate_statistics(
            scores, gt, dtc_threshold=dtc, gtc_threshold=gtc)
        stats_c, _ = sse.collar_based.intermediate_statistics.\
            accumulated_intermediate_statistics(scores, gt, onset_collar=collar,
                                                offset_collar=collar,
                                                offset_collar_rate=percentage_of_length)
        tables = {}
        for kind, stats in (("intersection", stats_i), ("collar", stats_c)):
            f, p, r, thr, _ = prc.best_fscore_from_intermediate_statistics(stats)
            tables[f"{kind}_best"] = _f1_table(f, p, r, thr, classes)
            tables[f"{kind}_at"] = None
            if threshold is not None:
                f, p, r, _ = prc.single_fscore_from_intermediate_statistics(
                    stats, threshold=threshold)
                at = _f1_table(f, p, r, None, classes)
                for c in classes:
                    at[c]["threshold"] = float(threshold)
                tables[f"{kind}_at"] = at
            tables[f"pr_{kind}"] = prc.precision_recall_curve_from_intermediate_statistics(
                stats)
    curves = {"psd_roc1": runs["1"][2], "psd_roc2": runs["2"][2],
              "pr_intersection": {c: v[:2] for c, v in tables["pr_intersection"].items()},
              "pr_collar": {c: v[:2] for c, v in tables["pr_collar"].items()}}
    return ScoreResult(
        psds1=float(runs["1"][0]), psds2=float(runs["2"][0]),
        psds1_per_class={c: float(v) for c, v in runs["1"][1].items()},
        psds2_per_class={c: float(v) for c, v in runs["2"][1].items()},
        intersection_best=tables["intersection_best"], collar_best=tables["collar_best"],
        intersection_at=tables["intersection_at"], collar_at=tables["collar_at"],
        threshold=threshold, classes=classes, files=files,
        params={"collar": collar, "percentage_of_length": percentage_of_length,
                "dtc": dtc, "gtc": gtc, "psds1": scenarios["1"], "psds2": scenarios["2"],
                "durations": dur, "classes_without_reference": dropped},
        curves=curves)
