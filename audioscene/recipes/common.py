"""Pieces shared by the detection recipes: threshold tuning on validation material,
writing event lists, and result tables."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..evaluate import SEDResult, sed_metrics
from ..evaluate.scores import ScoreResult
from ..events import EventList
from ..io_utils import atomic_write_text

__all__ = ["tune", "write_event_lists", "sed_table", "class_table", "write_json",
           "find_backgrounds", "write_score_table", "score_results",
           "psds_table"]

def _criterion(res: SEDResult, name: str) -> float:
    if name == "event_onset_f1":
        return res.event_onset.overall.f1 or 0.0
    if name == "segment_er":
        er = res.segment_based.overall.error_rate
        return -(er if er is not None else 1e9)
    if name == "mean":  # onset F1 and (1 - segment ER) together
        er = res.segment_based.overall.error_rate
        return (res.event_onset.overall.f1 or 0.0) + 1.0 - (er if er is not None else 1e9)
    raise ValueError(f"unknown tuning criterion {name!r}")


def tune(decode: Callable[[dict[str, Any]], EventList], grid: Mapping[str, Sequence[Any]],
         reference: EventList, durations: Mapping[str, float], *,
         criterion: str = "event_onset_f1") -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Try every combination in ``grid``; return the best and all rows.

    ``decode(params)`` must return the estimated events of the validation files.
    Ties go to the first combination in grid order.

    Examples
    --------
    >>> best, rows = tune(lambda p: ref, {"t": [1, 2]}, ref, durations)  # doctest: +SKIP
    """
    keys = list(grid)
    rows = []
    best: dict[str, Any] | None = None
    best_score = -np.inf
    for combo in itertools.product(*(grid[k] for k in keys)):
        params = dict(zip(keys, combo))
        res = sed_metrics(reference, decode(params), durations=durations)
        score = _criterion(res, criterion)
        rows.append({**params, "event_onset_f1": res.event_onset.overall.f1,
                     "segment_er": res.segment_based.overall.error_rate, "score": score})
        if score > best_score:
            best, best_score = params, score
    assert best is not None
    return best, rows


def write_event_lists(events: EventList, folder: Path) -> None:
    """One DCASE event list per file (``<stem>.txt``), written atomically."""
    for fname, ev in events.by_file().items():
        stem = Path(fname or "unnamed").stem
        atomic_write_text(folder / f"{stem}.txt", ev.with_filename(None).to_text())


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}"


def _num(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def sed_table(results: Mapping[str, SEDResult]) -> str:
    """Markdown table of the overall metrics of several systems."""
    lines = ["| system | event onset F1 % | event onset ER | event on+off F1 % | "
             "event on+off ER | segment F1 % | segment ER |",
             "|---|---|---|---|---|---|---|"]
    for name, r in results.items():
        lines.append(f"| {name} | {_pct(r.event_onset.overall.f1)} | "
                     f"{_num(r.event_onset.overall.error_rate)} | "
                     f"{_pct(r.event_onset_offset.overall.f1)} | "
                     f"{_num(r.event_onset_offset.overall.error_rate)} | "
                     f"{_pct(r.segment_based.overall.f1)} | "
                     f"{_num(r.segment_based.overall.error_rate)} |")
    return "\n".join(lines)


def class_table(results: Mapping[str, SEDResult]) -> str:
    """Markdown table of per-class event onset F1 and segment ER, systems side by side."""
    names = list(results)
    labels = sorted(next(iter(results.values())).event_onset.class_wise)
    head = "| class | " + " | ".join(f"{n} onset F1 % | {n} segment ER" for n in names) + " |"
    lines = [head, "|---|" + "---|---|" * len(names)]
    for lab in labels:
        cells = []
        for n in names:
            r = results[n]
            cells.append(_pct(r.event_onset.class_wise[lab].f1))
            cells.append(_num(r.segment_based.class_wise[lab].error_rate))
        lines.append(f"| {lab} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_score_table(path: Path, classes: Sequence[str], centres: np.ndarray,
                      scores: np.ndarray, hop: float) -> None:
    """One score table (what ``audioscene detect --scores`` writes), atomically."""
    from ..detect.batch import ScoreTableWriter
    from ..io_utils import atomic_open

    with atomic_open(path, "w") as f:
        ScoreTableWriter(f, classes, hop=hop).write(centres, scores)


def score_results(reference: EventList, folders: Mapping[str, Path],
                  durations: Mapping[str, float]) -> dict[str, ScoreResult]:
    """PSDS and best-threshold F1 of each system's score tables, read back from
    ``folders`` exactly as ``audioscene evaluate --scores FOLDER`` reads them."""
    from ..evaluate.scores import read_score_tables, score_metrics

    return {name: score_metrics(reference, read_score_tables(folder), durations=durations)
            for name, folder in folders.items()}


def psds_table(results: Mapping[str, ScoreResult]) -> str:
    """Markdown table of PSDS 1 and 2 and macro F1 at each class's best threshold."""
    lines = ["| system | PSDS1 | PSDS2 | intersection F1 % (best thr.) | "
             "collar F1 % (best thr.) |", "|---|---|---|---|---|"]
    for name, r in results.items():
        lines.append(f"| {name} | {r.psds1:.3f} | {r.psds2:.3f} | "
                     f"{_pct(r.intersection_best['macro']['f1'])} | "
                     f"{_pct(r.collar_best['macro']['f1'])} |")
    return "\n".join(lines)


def write_json(path: Path, data: Any) -> None:
    """JSON, written atomically."""
    atomic_write_text(path, json.dumps(data, indent=1, default=float) + "\n")


def find_backgrounds(data: Path, backgrounds: Path | None) -> list[Path]:
    """The background recordings for synthesis, sorted by name: the folder
    ``backgrounds`` when given, else ``<data>/backgrounds`` or ``<data>/../backgrounds``.

    Examples
    --------
    >>> len(find_backgrounds(Path("../shared/data"), None))  # doctest: +SKIP
    32
    """
    from ..datasets import DatasetError
    from ..datasets.readers import list_audio

    bg_dir = Path(backgrounds) if backgrounds else next(
        (c for c in (data / "backgrounds", data.parent / "backgrounds") if c.is_dir()), None)
    if bg_dir is None or not bg_dir.is_dir():
        raise DatasetError(f"{data}: no backgrounds folder; pass --backgrounds DIR")
    return list_audio(bg_dir)
