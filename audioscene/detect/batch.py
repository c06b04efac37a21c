"""Detection over many files: one streaming pass per file, atomic outputs, a report of
failures; run locally (optionally in parallel processes) or as a Ray Data pipeline."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np

from ..audio import STDIN, AudioError, blocks, info
from ..events import DOCUMENT_FORMATS, EventList
from ..io_utils import atomic_open

__all__ = ["Job", "JobResult", "DetectOptions", "plan_jobs", "split_existing",
           "read_thresholds", "run_job", "run_local", "run_ray", "EXTENSIONS",
           "write_scores_header", "ScoreTableWriter"]

#: Samples per block (at the model's rate) when reading files: large blocks keep the
#: per-block overhead small (see ``make bench``).
FILE_BLOCK = 1 << 19
#: Samples per block when reading standard input: events are printed sooner.
STDIN_BLOCK = 1 << 14

#: File extension of each event-list format.
EXTENSIONS = {"dcase": ".txt", "csv": ".csv", "json": ".json", "audacity": ".labels.txt",
              "raven": ".selections.txt"}


@dataclass(frozen=True)
class Job:
    """One input and where its outputs go (``None``: print events to stdout)."""

    source: str
    events_out: str | None
    scores_out: str | None = None
    name: str = ""


@dataclass
class JobResult:
    """What happened to one input."""

    source: str
    n_events: int = 0
    seconds_audio: float = 0.0
    error: str | None = None
    skipped: bool = False
    events: list = field(default_factory=list)


@dataclass(frozen=True)
class DetectOptions:
    """Detection thresholds and the events kept, the same for every input of a batch.

    Attributes
    ----------
    thresholds : tuple of float or None
        One detection threshold per class of the model, in its class order, given to
        the model's stream (``model.stream(thresholds=...)``; ``None``: the model's
        own).
    classes : tuple of str or None
        Only events of these classes are kept, and with a score table only their
        columns are written (``None``: every class).
    min_confidence : float or None
        Events whose confidence is below this are dropped; events without a confidence
        are kept. The runners apply it to the events as written (confidences rounded
        to 4 decimals).

    Examples
    --------
    >>> from audioscene.events import Event
    >>> o = DetectOptions(classes=("dog",), min_confidence=0.5)
    >>> [e.label for e in o.keep(EventList([Event(0, 1, "dog", 0.6), Event(0, 1, "cat"),
    ...                                     Event(2, 3, "dog", 0.4), Event(4, 5, "dog")]))]
    ['dog', 'dog']
    """

    thresholds: tuple[float, ...] | None = None
    classes: tuple[str, ...] | None = None
    min_confidence: float | None = None

    def keep(self, events: EventList) -> EventList:
        """The events of :attr:`classes` whose confidence is not below
        :attr:`min_confidence` (or that have none).

        Examples
        --------
        >>> from audioscene.events import Event
        >>> ev = EventList([Event(0, 1, "a", 0.2), Event(1, 2, "a", 0.9), Event(2, 3, "b")])
        >>> len(DetectOptions(min_confidence=0.5).keep(ev)), len(DetectOptions(classes=["b"]).keep(ev))
        (2, 1)
        """
        if self.classes is None and self.min_confidence is None:
            return events
        return EventList(e for e in events
                         if (self.classes is None or e.label in self.classes)
                         and (self.min_confidence is None or e.confidence is None
                              or e.confidence >= self.min_confidence))


def read_thresholds(path: str | os.PathLike) -> dict[str, float]:
    """Per-class thresholds from a text file: ``label<TAB>threshold`` or
    ``label,threshold`` lines; blank lines and lines starting with ``#`` are skipped,
    and the first other line is a header when its threshold field holds no digit.

    Raises ValueError naming the file and line for a malformed line, a threshold that
    is not a finite number, or a label given twice.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "t.tsv"
    >>> _ = p.write_text("# tuned\\nlabel\\tthreshold\\ndog\\t0.3\\ncat,0.6\\n")
    >>> read_thresholds(p)
    {'dog': 0.3, 'cat': 0.6}
    """
    import math

    out: dict[str, float] = {}
    first = True
    try:
        lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not a UTF-8 text file") from None
    for n, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split("\t") if "\t" in line else line.rsplit(",", 1)
        where = f"{path} line {n}"
        if len(parts) != 2 or not parts[0].strip():
            raise ValueError(f"{where}: expected 'label<TAB>threshold' or "
                             f"'label,threshold', got {line!r}")
        label, text = parts[0].strip(), parts[1].strip()
        try:
            value = float(text)
        except ValueError:
            if first and not any(ch.isdigit() for ch in text):  # a header
                first = False
                continue
            raise ValueError(f"{where}: threshold {text!r} is not a number") from None
        first = False
        if not math.isfinite(value):
            raise ValueError(f"{where}: threshold {text!r} is not finite")
        if label in out:
            raise ValueError(f"{where}: {label!r} is given twice")
        out[label] = value
    return out


def split_existing(jobs: Sequence[Job]) -> tuple[list[Job], list[Job]]:
    """Split jobs into those to run and those whose events output already exists
    (``--skip-existing``: resuming a batch).

    Examples
    --------
    >>> split_existing([Job("a.wav", None)])
    ([Job(source='a.wav', events_out=None, scores_out=None, name='')], [])
    """
    todo: list[Job] = []
    done: list[Job] = []
    for j in jobs:
        (done if j.events_out and Path(j.events_out).exists() else todo).append(j)
    return todo, done


def plan_jobs(inputs: Sequence[str], *, output: str | None, fmt: str, scores: bool
              ) -> tuple[list[Job], list[tuple[str, str]]]:
    """Expand files, folders (recursive) and globs into jobs; returns (jobs, refused
    inputs with the reason: nothing matched, or their output would overwrite an earlier
    input's).

    ``output``: a file when there is exactly one input and it has a suffix, otherwise a
    folder that mirrors each input's path below the folder or glob it came from.

    Examples
    --------
    >>> jobs, refused = plan_jobs(["a.wav"], output=None, fmt="dcase", scores=False)
    >>> jobs[0].source, jobs[0].events_out, refused
    ('a.wav', None, [])
    """
    import glob

    from ..datasets.readers import list_audio

    found: list[tuple[str, Path | None]] = []
    missing: list[tuple[str, str]] = []
    nothing = "no such file, or no audio files in it"
    for s in inputs:
        p = Path(s)
        if s == STDIN:
            found.append((s, None))
        elif p.is_dir():
            files = list_audio(p, recursive=True)
            found.extend((str(q), p) for q in files)
            if not files:
                missing.append((s, nothing))
        elif any(ch in s for ch in "*?[") and not p.exists():
            hits = sorted(glob.glob(s, recursive=True))
            base = Path(s.split("*")[0].split("?")[0].split("[")[0]).parent if hits else None
            found.extend((h, base) for h in hits if Path(h).is_file())
            if not hits:
                missing.append((s, nothing))
        else:
            found.append((s, None))
    out = Path(output) if output else None
    single = out is not None and len(found) == 1 and out.suffix != "" and not out.is_dir()
    jobs = []
    taken: dict[str, str] = {}  # output -> the input that writes it
    for src, base in found:
        name = "stdin" if src == STDIN else Path(src).name
        if out is None:
            jobs.append(Job(src, None, None, name))
            continue
        if single:
            ev = out
            stem = out.name[: -len(out.suffix)] if out.suffix else out.name
        else:
            rel = Path(src).relative_to(base) if base else Path(name)
            stem = rel.name[: -len(Path(rel).suffix)] if Path(rel).suffix else rel.name
            ev = out / rel.parent / (stem + EXTENSIONS[fmt])
        sc = ev.with_name(stem + ".scores.tsv") if scores else None
        keys = [os.path.normcase(os.path.abspath(p)) for p in (ev, sc) if p is not None]
        clash = next((k for k in keys if k in taken), None)
        if clash is not None:
            missing.append((src, f"its output {clash} would overwrite that of {taken[clash]}"))
            continue
        taken.update(dict.fromkeys(keys, src))
        jobs.append(Job(src, str(ev), None if sc is None else str(sc), name))
    return jobs, missing


def write_scores_header(f: IO[str], classes: Sequence[str]) -> None:
    """Header of a frame-score table (the sed_scores_eval layout).

    Examples
    --------
    >>> import io
    >>> buf = io.StringIO(); write_scores_header(buf, ["dog", "cat"]); buf.getvalue()
    'onset\\toffset\\tdog\\tcat\\n'
    """
    f.write("onset\toffset\t" + "\t".join(classes) + "\n")


class ScoreTableWriter:
    """Rows of a frame-score table: one row per segment, from its centre minus half a
    hop to its centre plus half a hop (times in ms precision, scores to 4 decimals).

    When a row follows the previous one (centres one hop apart), its onset is written as
    the very text of the previous row's offset, so consecutive rows meet exactly, as
    sed_scores_eval requires; the first onset is clipped at 0.

    Parameters
    ----------
    f : text file
        Where the rows go (the header is written here first).
    classes : sequence of str
        One score column per class.
    hop : float
        Seconds between segment centres (times are written to 6 decimals when it is
        under 10 ms).

    Examples
    --------
    >>> import io
    >>> buf = io.StringIO()
    >>> w = ScoreTableWriter(buf, ["dog"], hop=0.5)
    >>> w.write(np.array([0.25, 0.75]), np.array([[0.1], [0.9]]))
    >>> buf.getvalue().splitlines()
    ['onset\\toffset\\tdog', '0.000\\t0.500\\t0.1000', '0.500\\t1.000\\t0.9000']
    """

    def __init__(self, f: IO[str], classes: Sequence[str], *, hop: float) -> None:
        self.f = f
        self.hop = float(hop)
        self._last: tuple[float, str] | None = None
        self._digits = 3 if self.hop >= 0.01 else 6
        write_scores_header(f, classes)

    def write(self, centres: np.ndarray, scores: np.ndarray) -> None:
        """Append the rows of segments centred at ``centres`` with ``scores (n, C)``."""
        half = self.hop / 2
        for c, row in zip(np.asarray(centres, dtype=np.float64), np.asarray(scores)):
            lo, hi = max(0.0, c - half), c + half
            if self._last is not None and abs(lo - self._last[0]) < half / 2:
                lo_s = self._last[1]
            else:
                lo_s = f"{lo:.{self._digits}f}"
            hi_s = f"{hi:.{self._digits}f}"
            self.f.write(f"{lo_s}\t{hi_s}\t" + "\t".join(f"{v:.4f}" for v in row) + "\n")
            self._last = (hi, hi_s)


def _stream_events(model: Any, job: Job, *, block_length: int | None, decoder: str,
                   score_file: IO[str] | None, echo: str | None,
                   progress: bool, options: DetectOptions | None = None
                   ) -> tuple[EventList, float]:
    """Stream one input through a model; returns its events and the audio seconds."""
    from tqdm import tqdm

    from ..features.core import check_length
    from .streaming import StreamingDetector

    opts = options or DetectOptions()
    sd = StreamingDetector(model, filename=job.name, decoder=decoder,
                           thresholds=opts.thresholds)
    total = None
    if job.source != STDIN:
        try:
            total = info(job.source).duration
        except AudioError:
            total = None
    # without a known length (standard input, an unreadable header): seconds read only
    fmt = "{desc}: {percentage:3.0f}%|{bar}| {n:.0f}/{total:.0f} s audio" \
        if total is not None else "{desc}: {n:.0f} s audio"
    bar = tqdm(total=total, desc=job.name, unit="s", disable=not progress, leave=False,
               bar_format=fmt)
    events: list = []
    n = 0
    hop = sd.score_hop
    if block_length is None:
        # files: large blocks (throughput); stdin: small ones (events appear sooner)
        block_length = STDIN_BLOCK if job.source == STDIN else FILE_BLOCK

    printed = [False]
    cols = [i for i, c in enumerate(sd.classes) if opts.classes is None or c in opts.classes]
    every = len(cols) == len(sd.classes)  # all columns, in order: written without a copy
    writer = None if score_file is None else \
        ScoreTableWriter(score_file, [sd.classes[i] for i in cols], hop=hop)

    def emit(new: EventList) -> None:
        # times to the millisecond, confidences to 4 decimals; then the events kept
        new = opts.keep(new.rounded())
        if writer is not None and sd.last_scores is not None:
            scores = sd.last_scores.scores
            writer.write(sd.last_scores.times, scores if every else scores[:, cols])
        if echo in ("dcase", "audacity", "csv") and len(new):
            # rows as soon as they are final (a CSV header once)
            text = new.to_text(format=echo)
            if echo == "csv" and printed[0]:
                text = text.split("\n", 1)[1]
            sys.stdout.write(text)
            sys.stdout.flush()
            printed[0] = True
        events.extend(new)

    with bar:  # closed (and cleared) also when a file fails part-way
        for b in blocks(job.source, block_length=block_length, sr=sd.sr):
            emit(sd.process(b.samples))
            n += len(b.samples)
            bar.update(len(b.samples) / sd.sr)
        emit(sd.flush())
    check_length(job.source, n, model.fconfig)  # too short for one frame: an error
    if echo == "csv" and not printed[0]:  # a table with its header, even without rows
        sys.stdout.write(EventList().to_text(format="csv"))
    if echo in DOCUMENT_FORMATS:  # one document (Raven: numbered selections), at the end
        sys.stdout.write(EventList(events).to_text(format=echo))
    return EventList(events), n / sd.sr


def run_job(model: Any, job: Job, *, fmt: str = "dcase", block_length: int | None = None,
            decoder: str = "votes", progress: bool = False,
            keep_events: bool = False, options: DetectOptions | None = None) -> JobResult:
    """Detect one input; write its outputs atomically (nothing on failure). Without an
    output file the events are printed as they become final, unless ``keep_events``
    (then the caller prints them from the result). Event times are written to the
    millisecond and confidences to 4 decimals (:meth:`EventList.rounded`); ``options``
    sets the thresholds and which events are kept (:class:`DetectOptions`).

    Examples
    --------
    >>> run_job(model, Job("a.wav", "out/a.txt"))  # doctest: +SKIP
    JobResult(source='a.wav', n_events=12, ...)
    """
    try:
        if job.scores_out:
            with atomic_open(job.scores_out, "w") as sf:
                events, secs = _stream_events(model, job, block_length=block_length,
                                              decoder=decoder, score_file=sf, echo=None,
                                              progress=progress, options=options)
        else:
            echo = fmt if job.events_out is None and not keep_events else None
            events, secs = _stream_events(model, job, block_length=block_length,
                                          decoder=decoder, score_file=None, echo=echo,
                                          progress=progress, options=options)
        if job.events_out:
            events.write(job.events_out, format=fmt)
        return JobResult(job.source, len(events), secs,
                         events=[e.to_dict() for e in events] if keep_events else [])
    except BrokenPipeError:
        raise  # the reader of our output went away: not this input's fault
    except (AudioError, ValueError, OSError) as exc:
        msg = str(exc)
        named = msg.startswith(job.source) or (job.source == STDIN and
                                               msg.startswith("<stdin>"))
        return JobResult(job.source, error=msg if named else f"{job.source}: {msg}")


def _worker(model_dir: str, job: Job, fmt: str, block_length: int | None,
            decoder: str, keep_events: bool = False,
            options: DetectOptions | None = None) -> JobResult:
    from ..audio import one_line_warnings
    from ..models import load_model

    with one_line_warnings():  # as in the main process
        return run_job(_cached_model(model_dir, load_model), job, fmt=fmt,
                       block_length=block_length, decoder=decoder, keep_events=keep_events,
                       options=options)


_MODELS: dict[str, Any] = {}


def _cached_model(model_dir: str, loader: Any) -> Any:
    if model_dir not in _MODELS:
        _MODELS[model_dir] = loader(model_dir)
    return _MODELS[model_dir]


def run_local(model_dir: str, jobs: Sequence[Job], *, fmt: str, block_length: int | None,
              decoder: str, n_jobs: int = 1, progress: bool = True,
              keep_events: bool = False,
              options: DetectOptions | None = None) -> Iterator[JobResult]:
    """Run jobs in this process (``n_jobs == 1``) or in ``n_jobs`` worker processes
    (joblib); yields results as they finish. With ``keep_events`` each result carries
    its events (as dicts) and jobs without an output file print nothing themselves.
    ``options`` (:class:`DetectOptions`) reach every worker. ``progress``: a bar per
    file for the files run in this process.

    Examples
    --------
    >>> for r in run_local("model", jobs, fmt="dcase", block_length=65536,
    ...                    decoder="votes", n_jobs=2):  # doctest: +SKIP
    ...     print(r.source, r.n_events)
    """
    # standard input belongs to this process (and so does its --raw format)
    parallel = n_jobs > 1 and len(jobs) > 1
    here = [j for j in jobs if j.source == STDIN] if parallel else list(jobs)
    if here:
        from ..models import load_model

        model = load_model(model_dir)
        for job in here:
            yield run_job(model, job, fmt=fmt, block_length=block_length, decoder=decoder,
                          progress=progress, keep_events=keep_events, options=options)
    if parallel:
        from joblib import Parallel, delayed

        par = Parallel(n_jobs=n_jobs, return_as="generator_unordered")
        yield from par(delayed(_worker)(model_dir, job, fmt, block_length, decoder,
                                        keep_events, options)
                       for job in jobs if job.source != STDIN)


class _RayDetector:
    """Ray Data actor: loads the model once, detects a batch of inputs."""

    def __init__(self, model_dir: str, fmt: str, block_length: int | None,
                 decoder: str, options: DetectOptions | None = None) -> None:
        from ..models import load_model

        self.model = load_model(model_dir)
        self.fmt, self.block_length, self.decoder = fmt, block_length, decoder
        self.options = options

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        out: dict[str, list] = {"source": [], "n_events": [], "seconds": [], "error": []}
        for src, ev, sc, name in zip(batch["source"], batch["events_out"], batch["scores_out"],
                                     batch["name"]):
            job = Job(str(src), str(ev) if ev else None, str(sc) if sc else None, str(name))
            r = run_job(self.model, job, fmt=self.fmt, block_length=self.block_length,
                        decoder=self.decoder, options=self.options)
            out["source"].append(r.source)
            out["n_events"].append(r.n_events)
            out["seconds"].append(r.seconds_audio)
            out["error"].append(r.error or "")
        return {k: np.asarray(v) for k, v in out.items()}


def run_ray(model_dir: str, jobs: Sequence[Job], *, fmt: str, block_length: int | None,
            decoder: str, n_actors: int | None = None,
            address: str | None = None,
            options: DetectOptions | None = None) -> Iterator[JobResult]:
    """Run the same per-file detection as a Ray Data pipeline: the input paths, a pool of
    detector actors (each loads the model once, and gets ``options``), and the atomic
    writers inside them.

    Needs ``pip install 'audioscene[ray]'``. Connects to ``address`` (or
    ``RAY_ADDRESS``), else starts a local instance.

    Examples
    --------
    >>> list(run_ray("model", jobs, fmt="dcase", block_length=65536,
    ...              decoder="votes"))  # doctest: +SKIP
    """
    try:
        import ray
    except ImportError:
        raise RuntimeError("the Ray backend needs: pip install 'audioscene[ray]'") from None
    if any(j.source == STDIN or j.events_out is None for j in jobs):
        raise ValueError("the Ray backend needs files and an output folder (-o)")
    if not ray.is_initialized():
        ray.init(address=address or os.environ.get("RAY_ADDRESS"),
                 include_dashboard=False, log_to_driver=False,
                 logging_level="ERROR", configure_logging=False)
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    items = [{"source": j.source, "events_out": j.events_out or "",
              "scores_out": j.scores_out or "", "name": j.name} for j in jobs]
    actors = n_actors or max(1, int(ray.available_resources().get("CPU", 1)))
    ds = ray.data.from_items(items).map_batches(
        _RayDetector, fn_constructor_args=(model_dir, fmt, block_length, decoder, options),
        batch_size=1, concurrency=min(actors, len(items)), num_cpus=1)
    for row in ds.iter_rows():
        yield JobResult(str(row["source"]), int(row["n_events"]), float(row["seconds"]),
                        error=str(row["error"]) or None)
