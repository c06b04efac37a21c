"""The ``audioscene`` command line.

Subcommands: ``features`` (one ``.npz`` per input), ``synth`` (training mixtures with
exact annotations), ``evaluate`` (sed_eval metrics of event lists), ``recipe`` /
``train`` (DCASE experiments), ``detect`` (events from audio with a trained model),
``classify`` / ``tag`` (clip labels or tag scores with a trained clip model). Every
subcommand has ``--help``. A bad input is reported on one line naming it; the other inputs are
still processed and the exit code is 1 when any input failed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from . import __version__

if TYPE_CHECKING:  # annotations only: the detect path imports it when it runs
    from .detect.batch import DetectOptions

__all__ = ["main", "build_parser"]

_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {}


def _fail(msg: str, code: int = 1) -> int:
    """One error line on stderr; returns the exit code."""
    print(f"audioscene: error: {msg}", file=sys.stderr)
    return code


class _Failures:
    """Collects per-input failures: one line each on stderr, exit code 1 at the end."""

    def __init__(self) -> None:
        self.failed: list[str] = []

    def add(self, source: object, exc: BaseException | str) -> None:
        msg = str(exc)
        src = str(source)
        named = msg.startswith(src) or (src == "-" and msg.startswith("<stdin>"))
        line = msg if named else f"{src}: {msg}"
        self.failed.append(line)
        print(f"audioscene: error: {line}", file=sys.stderr)

    def code(self, total: int) -> int:
        if self.failed:
            print(f"audioscene: {len(self.failed)} of {total} input(s) failed", file=sys.stderr)
            return 1
        return 0


def _progress(items: Sequence, desc: str) -> Iterable:
    from tqdm import tqdm

    return tqdm(items, desc=desc, unit="file", disable=len(items) < 2 or not sys.stderr.isatty())


def _expand_inputs(inputs: Sequence[str]) -> list[tuple[str, Path | None]]:
    """Files, folders (searched recursively for audio) and ``-``; pairs of
    (input, folder it was found in or None)."""
    from .datasets.readers import list_audio

    out: list[tuple[str, Path | None]] = []
    for s in inputs:
        p = Path(s)
        if s != "-" and p.is_dir():
            out.extend((str(q), p) for q in list_audio(p, recursive=True))
        else:
            out.append((s, None))
    return out


# ----------------------------------------------------------------------------- features


def _feature_config(args: argparse.Namespace):  # noqa: ANN202
    from .features import FeatureConfig

    base = FeatureConfig()
    if args.config:
        text = Path(args.config).read_text()
        base = FeatureConfig.from_json(text)
    changes = {k: v for k, v in {
        "kind": args.kind, "sr": args.sr, "n_fft": args.n_fft, "hop_length": args.hop_length,
        "n_mels": args.n_mels, "n_mfcc": args.n_mfcc, "deltas": args.deltas,
    }.items() if v is not None}
    return base.replace(**changes) if changes else base


def _cmd_features(args: argparse.Namespace) -> int:
    from .audio import AudioError, load
    from .features import extract
    from .features.core import check_length
    from .io_utils import atomic_save_npz

    problem = _set_stdin_format(args)
    out = Path(args.output)
    if out.exists() and not out.is_dir() and out.suffix != ".npz":
        problem = problem or f"-o {out}: exists and is not a folder"
    if out.exists() and not os.access(out, os.W_OK):
        problem = problem or f"-o {out}: not writable"
    if problem:
        return _fail(problem, 2)
    try:
        cfg = _feature_config(args)
    except (ValueError, OSError) as exc:
        print(f"audioscene: error: feature configuration: {exc}", file=sys.stderr)
        return 2
    inputs = _expand_inputs(args.inputs)
    fails = _Failures()
    written = 0
    seen: set[Path] = set()
    for src, folder in _progress(inputs, "features"):
        try:
            if src == "-":
                dest = out if out.suffix == ".npz" else out / "stdin.npz"
            else:
                rel = Path(src).relative_to(folder) if folder else Path(Path(src).name)
                dest = (out / rel).with_suffix(".npz")
            if dest in seen:
                raise ValueError(f"output {dest} would overwrite another input's output")
            if args.skip_existing and dest.exists():
                seen.add(dest)
                continue
            y, _ = load(src, sr=cfg.sr)
            check_length(src, len(y), cfg)
            X, t = extract(y, cfg)
            atomic_save_npz(dest, features=X, times=t, config=np.array(cfg.to_json()))
            seen.add(dest)
            written += 1
        except (AudioError, ValueError, OSError) as exc:
            fails.add(src, exc)
    print(f"features: {written} file(s) written to {out} "
          f"({cfg.kind}, {cfg.n_features} features per frame, hop {cfg.hop_length} at "
          f"{cfg.sr} Hz)")
    return fails.code(len(inputs))


# ----------------------------------------------------------------------------- synth


def _parse_ebr(text: str) -> float | tuple[float, float]:
    parts = [float(x) for x in text.replace(":", ",").split(",") if x.strip()]
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2 and parts[0] <= parts[1]:
        return (parts[0], parts[1])
    raise argparse.ArgumentTypeError(f"--ebr takes a value or LOW,HIGH, got {text!r}")


def _set_stdin_format(args: argparse.Namespace) -> str | None:
    """Apply ``--raw`` (headerless PCM on standard input); returns a problem or None."""
    from .audio import RawFormat, read_stdin_as

    raw = getattr(args, "raw", None)
    if raw is None:
        read_stdin_as(None)
        return None
    if "-" not in args.inputs:
        return "--raw describes standard input: give '-' as an input"
    try:
        read_stdin_as(RawFormat.parse(raw))
    except ValueError as exc:
        return f"--raw: {exc}"
    return None


def _count(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {v}")
    return v


def _finite(text: str) -> float:
    """argparse type: a finite number."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not np.isfinite(v):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
    return v


def _number(text: str, *, zero_ok: bool) -> float:
    v = _finite(text)
    if v < 0 or (v == 0 and not zero_ok):
        want = "a number >= 0" if zero_ok else "a positive number"
        raise argparse.ArgumentTypeError(f"must be {want}, got {text}")
    return v


def _fraction(text: str) -> float:
    """argparse type: a number in (0, 1]."""
    v = _number(text, zero_ok=False)
    if v > 1:
        raise argparse.ArgumentTypeError(f"must lie in (0, 1], got {text}")
    return v


def _seconds(text: str) -> float:
    """argparse type: a finite number > 0."""
    return _number(text, zero_ok=False)


def _rate(text: str) -> float:
    """argparse type: a finite number >= 0."""
    return _number(text, zero_ok=True)


def _cmd_synth(args: argparse.Namespace) -> int:
    from .datasets import synth

    # everything checked before any work
    classes = [c for c in args.classes.split(",") if c]
    unknown = [c for c in classes if c not in synth.PROCEDURAL_EVENTS]
    if not args.events and (unknown or not classes):
        what = f"unknown procedural class(es) {unknown}" if unknown else "no class given"
        return _fail(f"--classes: {what}; choose from {','.join(synth.PROCEDURAL_EVENTS)}", 2)
    for folder, what in ((args.events, "--events"), (args.backgrounds, "--backgrounds")):
        if folder and not Path(folder).is_dir():
            return _fail(f"{what} {folder}: no such folder", 2)
    out = Path(args.output)
    problem = _check_output_path(args.output, "-o", folder=True)
    if problem:
        return _fail(problem, 2)
    fails = _Failures()
    rng = np.random.default_rng(args.seed)
    if args.events:
        sources = synth.load_sources(args.events, sr=args.sr, on_error=fails.add)
        if not sources:
            return _fail(f"{args.events}: no readable audio files")
    else:
        sources = {k: [synth.procedural_event(k, sr=args.sr, rng=rng)
                       for _ in range(args.variants)] for k in classes}
    if args.backgrounds:
        bg_map = synth.load_sources(args.backgrounds, sr=args.sr, label_of=lambda p: "bg",
                                    on_error=fails.add)
        backgrounds = bg_map.get("bg", [])
        if not backgrounds:
            return _fail(f"{args.backgrounds}: no readable audio files")
    else:
        backgrounds = [synth.procedural_background(k, sr=args.sr, duration=min(args.duration, 30),
                                                   rng=rng) for k in synth.PROCEDURAL_BACKGROUNDS]
    n_events = 0
    for i in _progress(list(range(args.n)), "synth"):
        scape = synth.random_scene(sources, backgrounds, sr=args.sr, duration=args.duration,
                                   events_per_minute=args.rate, ebr_db=args.ebr,
                                   max_polyphony=args.polyphony, rng=rng)
        try:
            synth.write_soundscape(scape, out, f"{args.prefix}{i:03d}")
        except OSError as exc:
            return _fail(f"-o {out}: cannot write ({exc.strerror or exc})")
        n_events += len(scape.events)
    print(f"synth: {args.n} mixture(s) of {args.duration:g} s with {n_events} events "
          f"({len(sources)} classes) written to {out}/sound and {out}/annotation")
    return 1 if fails.failed else 0


# ----------------------------------------------------------------------------- evaluate


def _check_output_path(path: str | None, what: str, *, folder: bool = False) -> str | None:
    """An output path that cannot be written, checked before any work (or None).
    Missing folders are created (as every output does); the nearest existing one must be
    a writable folder."""
    if path is None:
        return None
    p = Path(path)
    if folder and p.exists() and not p.is_dir():
        return f"{what} {p}: exists and is not a folder"
    if not folder and p.is_dir():
        return f"{what} {p}: is a folder, not a file"
    start = p if folder else p.parent
    near = next(q for q in [start, *start.parents] if q.exists() or q == q.parent)
    if not near.is_dir():
        return f"{what} {p}: {near} is not a folder"
    if not os.access(near, os.W_OK) or (not folder and p.exists()
                                        and not os.access(p, os.W_OK)):
        return f"{what} {p}: not writable"
    return None


def _read_pairs(path: str, *, scores: bool):  # noqa: ANN202
    """``ref<TAB>est`` lines: each pair is one recording, keyed by the reference's stem
    (:func:`~audioscene.events.event_list_stem`)."""
    from .evaluate import read_event_lists
    from .events import EventList, event_list_stem

    p = Path(path)
    try:
        lines = p.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{p}: cannot read ({exc})") from None
    ref, est, tables = EventList(), EventList(), {}
    seen: dict[str, int] = {}
    for n, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 2 or not all(x.strip() for x in parts):
            raise ValueError(f"{p}:{n}: expected 'reference<TAB>estimate'")
        r, e = (Path(x.strip()) if Path(x.strip()).is_absolute() else p.parent / x.strip()
                for x in parts)
        key = event_list_stem(r)
        if key in seen:
            raise ValueError(f"{p}:{n}: recording {key!r} already paired on line {seen[key]}")
        seen[key] = n
        if not r.is_file():
            raise ValueError(f"{p}:{n}: {r}: no such file")
        ref = ref + read_event_lists(r, require_labels=True).with_filename(key)
        if scores:
            from .evaluate.scores import read_score_table

            tables[key] = read_score_table(e)
        else:
            if not e.is_file():
                raise ValueError(f"{p}:{n}: {e}: no such file")
            est = est + read_event_lists(e, require_labels=True).with_filename(key)
    if not seen:
        raise ValueError(f"{p}: no pairs")
    return ref, est, tables


def _single_file_pair(ref_path: str, other: str, ref, est):  # noqa: ANN001, ANN202
    """Two single files, each naming at most one recording, are one recording: returns
    (ref, est, its key), the key None when they are not such a pair."""
    if not (Path(ref_path).is_file() and Path(other).is_file()):
        return ref, est, None
    from .events import event_list_stem

    if len(ref.filenames) > 1 or (est is not None and len(est.filenames) > 1):
        return ref, est, None  # multi-recording lists: matched by their file-name columns
    key = Path(ref.filenames[0]).stem if ref.filenames else event_list_stem(ref_path)
    return ref.with_filename(key), None if est is None else est.with_filename(key), key


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from .audio import AudioError, info
    from .datasets.readers import DatasetError, find_audio
    from .evaluate import read_event_lists, sed_metrics
    from .evaluate.scores import ScoreTableError, read_score_tables, score_metrics
    from .events import EventFormatError
    from .io_utils import atomic_write_text

    given = [x for x in ("est", "scores") if getattr(args, x)]
    if args.pairs_scores and not args.pairs:
        return _fail("--pairs-scores applies to --pairs", 2)
    if args.pairs:
        if args.ref or args.est or args.scores:
            return _fail("--pairs replaces --ref, --est and --scores (--pairs-scores: its "
                        "estimates are score tables)", 2)
    elif not args.ref or len(given) != 1:
        return _fail("give --ref with either --est (event lists) or --scores (score "
                    "tables), or --pairs FILE", 2)
    use_scores = bool(args.scores) or (args.pairs and args.pairs_scores)
    if not use_scores and (args.plots or args.threshold is not None):
        return _fail("--plots and --threshold apply to --scores", 2)
    if use_scores and (args.per_file or args.bootstrap or args.reference_impl):
        return _fail("--per-file, --bootstrap and --reference-impl apply to --est", 2)
    if args.bootstrap is not None and args.bootstrap < 1:
        return _fail(f"--bootstrap needs N >= 1, got {args.bootstrap}", 2)
    for path, what, folder in ((args.json, "--json", False),
                               (args.per_file, "--per-file", False),
                               (args.plots, "--plots", True)):
        problem = _check_output_path(path, what, folder=folder)
        if problem:
            return _fail(problem, 2)
    tables: dict = {}
    est = None
    fails = _Failures()
    left_out: set[str] = set()

    def leave_out(q: Path, exc: BaseException) -> None:  # one bad list of a folder
        from .events import event_list_stem

        stem = event_list_stem(q)  # the recording's name, as read_event_lists gives it
        fails.add(q, f"{exc} (recording {stem!r} left out of the evaluation)")
        left_out.add(stem)

    try:
        if args.pairs:
            ref, est, tables = _read_pairs(args.pairs, scores=use_scores)
            if use_scores:
                est = None
        else:
            ref = read_event_lists(args.ref, require_labels=True, on_error=leave_out)
            if use_scores:
                tables = read_score_tables(args.scores)
                ref, _, key = _single_file_pair(args.ref, args.scores, ref, None)
                if key is not None:
                    tables = {key: next(iter(tables.values()))}
            else:
                est = read_event_lists(args.est, require_labels=True, on_error=leave_out)
                ref, est, _ = _single_file_pair(args.ref, args.est, ref, est)
    except (OSError, ValueError, EventFormatError, ScoreTableError) as exc:
        return _fail(str(exc))
    if not args.pairs:  # a single list without file names is the recording of its stem
        from .events import event_list_stem

        if Path(args.ref).is_file() and not ref.filenames:
            ref = ref.with_filename(event_list_stem(args.ref))
        if est is not None and Path(args.est).is_file() and not est.filenames:
            est = est.with_filename(event_list_stem(args.est))
    if left_out:
        from .events import EventList

        def keep(ev: EventList) -> EventList:
            return EventList(e for e in ev if Path(e.filename or "").stem not in left_out)

        ref = keep(ref)
        est = None if est is None else keep(est)
        tables = {k: v for k, v in tables.items() if k not in left_out}
    if len(ref) == 0 and not use_scores and (est is None or len(est) == 0):
        return _fail(f"{args.ref or args.pairs}: no reference or estimated events")
    durations: dict[str, float] = {}
    if args.audio_dir:
        names = sorted({Path(f).stem for f in ref.filenames + (est.filenames if est else [])}
                       | set(tables))
        for stem in names:
            try:
                durations[stem] = info(find_audio(args.audio_dir, stem)).duration
            except (AudioError, DatasetError) as exc:
                fails.add(stem, exc)
    try:
        if use_scores:
            res = score_metrics(ref, tables, durations=durations or None, collar=args.collar,
                                threshold=args.threshold, dtc=args.dtc, gtc=args.gtc)
        else:
            res = sed_metrics(ref, est, durations=durations or None, t_collar=args.collar,
                              time_resolution=args.resolution,
                              impl="sed_eval" if args.reference_impl else "fast")
    except (ValueError, ScoreTableError) as exc:
        return _fail(str(exc))
    doc = res.to_dict()
    print(res.report())
    if not use_scores and args.bootstrap:
        ci = res.bootstrap(args.bootstrap, seed=args.seed)
        doc["bootstrap"] = {"n": args.bootstrap, "confidence": 0.95, "seed": args.seed,
                            "intervals": ci}
        print(f"\n95 % bootstrap intervals over {len(res.files)} files "
              f"({args.bootstrap} resamples, seed {args.seed}):")
        for kind, d in ci.items():
            f1, er = d["f1"], d["error_rate"]
            f1s = "-" if f1 is None else f"{100 * f1[0]:.1f}-{100 * f1[1]:.1f} %"
            ers = "-" if er is None else f"{er[0]:.2f}-{er[1]:.2f}"
            print(f"  {kind:13s} F1 {f1s:>13}   ER {ers}")
    if not use_scores and args.per_file:
        rows = res.per_file()
        cols = list(rows[0]) if rows else ["file"]

        def cell(v: object) -> str:
            if v is None:
                return ""
            return f"{v:.4f}" if isinstance(v, float) else str(v)

        text = "\t".join(cols) + "\n" + "".join(
            "\t".join(cell(r[c]) for c in cols) + "\n" for r in rows)
        atomic_write_text(args.per_file, text)
    if use_scores and args.plots:
        try:
            for p in res.plot(args.plots):
                print(f"plot: {p}", file=sys.stderr)
        except OSError as exc:
            fails.add(args.plots, f"cannot write the plots ({exc.strerror or exc})")
    if args.json:
        atomic_write_text(args.json, json.dumps(doc, indent=1) + "\n")
    return fails.code(max(1, len(res.files) + len(left_out)))


# ----------------------------------------------------------------------------- recipes


def _cmd_recipe(args: argparse.Namespace) -> int:
    from .recipes import RECIPES, load_config

    overrides = list(args.set)
    for key in ("train_folds", "test_folds"):
        if getattr(args, key):
            overrides.append(f"{key}={getattr(args, key)}")
    if args.data_pos is not None:
        if args.data is not None:
            args.usage_error("give DATA or --data, not both")
        args.data = args.data_pos
    if args.model_backend:
        overrides.append(f"backend={args.model_backend}")
    if args.test:
        overrides.append(f"test={json.dumps(args.test)}")
    if args.multi_label:
        overrides.append("multi_label=true")
    if args.print_config:
        import yaml

        try:
            name, cfg = load_config(args.recipe, overrides)
        except (ValueError, KeyError, OSError) as exc:
            return _fail(str(exc))
        sys.stdout.write(yaml.safe_dump({"recipe": name, **cfg}, sort_keys=False,
                                        default_flow_style=None))
        return 0
    missing = [opt for opt in ("--data", "--out") if getattr(args, opt[2:]) is None]
    if missing:
        args.usage_error("the following arguments are required: " + ", ".join(missing))
    try:
        name, cfg = load_config(args.recipe, overrides)  # RECIPE may be a YAML file
        RECIPES[name](cfg, data=Path(args.data), out=Path(args.out),
                      backgrounds=args.backgrounds, train_only=args.train_only)
    except (ValueError, KeyError, OSError) as exc:
        print(f"audioscene: error: {exc}", file=sys.stderr)
        return 1
    out = Path(args.out)
    own = name in ("classifier", "detector", "bundled-models")
    if (out / "results.md").exists() and (own or not args.train_only):
        print(f"results: {out / 'results.md'}")
    if (out / "model").is_dir():
        print(f"model: {out / 'model'}")
    return 0


# ----------------------------------------------------------------------------- models


def _cmd_models(args: argparse.Namespace) -> int:
    from .bundled import DEFAULTS, bundled_models

    models = bundled_models()
    if args.name:
        found = [m for m in models if m.name == args.name]
        if not found:
            return _fail(f"no bundled model {args.name!r}; bundled: "
                         f"{', '.join(m.name for m in models) or 'none'}", 2)
        sys.stdout.write(found[0].card or f"{found[0].name}: no model card\n")
        return 0
    if not models:
        print("no bundled models are installed")
        return 0
    users = {v: k for k, v in DEFAULTS.items()}
    for mdl in models:
        default = f"; the default of 'audioscene {users[mdl.name]}'" if mdl.name in users else ""
        print(f"{mdl.name}\t{mdl.kind}, {mdl.size / 1e6:.2f} MB{default}\n"
              f"\tclasses: {', '.join(mdl.classes)}\n\tcard: {mdl.path / 'MODEL_CARD.md'}")
    return 0


# ----------------------------------------------------------------------------- classify / tag


#: Frames above which ``classify``/``tag`` read a file in windows (bounded memory).
LONG_CLIP_FRAMES = 4096


def _windows(clf, source: str, window: float, hop: float, *,  # noqa: ANN001
             block_length: int = 1 << 18) -> Iterable[tuple[float, float, np.ndarray]]:
    """``(start, end, probabilities)`` of each window of one input (times in seconds).

    The input is read block by block at the model's rate; each window's probabilities
    are ``clf.predict_proba`` of the features of that window's samples alone (one window
    per call), so they equal ``clf.predict_proba([f])`` of a file ``f`` holding just
    those samples at the model's rate. Windows of ``round(window * sr)`` samples start
    every ``round(hop * sr)`` samples; one cut short by the end of the input is kept,
    ending there, when it holds at least half a window and one analysis frame, and
    always when it is the input's first window. The audio in memory is at most one
    window and one block, whatever the input's length.
    """
    from .audio import blocks
    from .features import extract
    from .features.core import check_frames, check_length

    cfg = clf.fconfig
    sr = cfg.sr
    W, H = max(1, round(window * sr)), max(1, round(hop * sr))

    def proba(seg: np.ndarray) -> np.ndarray:
        return clf.predict_proba([check_frames(extract(seg, cfg)[0], source)])[0]

    buf = np.zeros(0, np.float32)
    b0 = start = n = 0  # b0: input sample of buf[0]; start: next window's first sample
    for b in blocks(source, block_length=block_length, sr=sr):
        buf = np.concatenate([buf, b.samples])
        n += len(b.samples)
        drop = min(start, n) - b0  # samples before the next window (hop > window)
        buf, b0 = buf[drop:], b0 + drop
        while start + W <= n:
            yield start / sr, (start + W) / sr, proba(buf[start - b0:start + W - b0])
            start += H
            drop = min(start, n) - b0
            buf, b0 = buf[drop:], b0 + drop
    check_length(source, n, cfg)
    if start == 0:  # no whole window: the input is shorter than one, and is one row
        yield 0.0, n / sr, proba(buf)
        return
    while start < n and 2 * (n - start) >= W and n - start >= cfg.n_fft:
        yield start / sr, n / sr, proba(buf[start - b0:])
        start += H


def _seconds_text(t: float) -> str:
    """Seconds to the microsecond, without trailing zeros."""
    return f"{t:.6f}".rstrip("0").rstrip(".")


def _resolve_model(args: argparse.Namespace, command: str) -> str | None:
    """Set ``args.model`` to the model folder to read (a bundled one when ``--model`` is
    missing or names one, said on stderr); returns an error message or None."""
    from .bundled import resolve_model

    try:
        path, bundled = resolve_model(args.model, command)
    except FileNotFoundError as exc:
        return str(exc)
    if bundled:
        print(f"audioscene: using the bundled model {path.name} ('audioscene models "
              f"{path.name}' shows its card)", file=sys.stderr)
    args.model = str(path)
    return None


def _cmd_classify(args: argparse.Namespace) -> int:
    from .audio import info
    from .io_utils import atomic_open
    from .models import load_model

    problem = _check_output_path(args.output, "-o") or _set_stdin_format(args)
    if args.hop is not None and args.window is None:
        problem = problem or "--hop applies to --window"
    problem = problem or _resolve_model(args, args.command)
    if problem:
        return _fail(problem, 2)
    try:
        clf = load_model(args.model, ("ClipClassifier", "ClipEnsemble"))
    except (OSError, ValueError, KeyError) as exc:
        print(f"audioscene: error: {exc}", file=sys.stderr)
        return 1
    tagging = args.command == "tag"
    if tagging != bool(clf.multi_label):
        other = "tag" if clf.multi_label else "classify"
        print(f"audioscene: error: {args.model} is a {'tagging' if clf.multi_label else 'single-label'}"
              f" model; use 'audioscene {other}'", file=sys.stderr)
        return 2
    clf.set_params(progress=False)
    frame_s = clf.fconfig.n_fft / clf.fconfig.sr
    if args.window is not None and round(args.window * clf.fconfig.sr) < clf.fconfig.n_fft:
        return _fail(f"--window {args.window:g}: shorter than one analysis frame of the "
                     f"model ({frame_s:.4f} s)", 2)
    files = [src for src, _ in _expand_inputs(args.inputs)]
    fails = _Failures()
    classes = [str(c) for c in clf.classes_]
    # (input, (start, end) of its window or None, probabilities)
    rows: list[tuple[str, tuple[float, float] | None, np.ndarray]] = []
    step = 64
    # files longer than this run through the network in windows, in bounded memory
    long_s = LONG_CLIP_FRAMES * clf.fconfig.hop_seconds
    if args.window is not None:
        hop = args.window if args.hop is None else args.hop
        for f in _progress(files, args.command):
            try:
                rows.extend((f, (t0, t1), p) for t0, t1, p in
                            list(_windows(clf, f, args.window, hop)))
            except Exception as exc:  # noqa: BLE001 - reported per file, batch goes on
                fails.add(f, exc)
    for i in _progress(list(range(0, len(files), step)) if args.window is None else [],
                       args.command):
        ok, feats = [], []
        for f in files[i:i + step]:
            try:
                if f != "-" and info(f).duration > long_s:
                    rows.append((f, None,
                                 clf.predict_proba_file(f, chunk_frames=LONG_CLIP_FRAMES)))
                    continue
                feats.append(clf.frames(f))
                ok.append(f)
            except Exception as exc:  # noqa: BLE001 - reported per file, batch goes on
                fails.add(f, exc)
        if ok:
            P = clf.predict_proba(feats)
            rows.extend((f, None, p) for f, p in zip(ok, P))
    order = {f: k for k, f in enumerate(files)}
    rows.sort(key=lambda r: order[r[0]])  # stable: a file's windows stay in time order
    sep = "," if args.format == "csv" else "\t"
    windowed = args.window is not None
    top_k = args.top_k

    def best(p: np.ndarray) -> list[tuple[str, float]]:
        """Classes by decreasing probability (ties in class order)."""
        return [(classes[j], float(p[j])) for j in np.argsort(-p, kind="stable")]

    def tags_of(p: np.ndarray) -> list[str]:
        if top_k is None:
            return [c for c, v in zip(classes, p) if v >= args.threshold]
        return [c for c, v in best(p) if v >= args.threshold][:top_k]

    target = atomic_open(args.output) if args.output else contextlib.nullcontext(sys.stdout)
    with target as f:
        if args.format == "json":
            recs = []
            for src, span, p in rows:
                rec: dict[str, object] = {"file": src}
                if span is not None:
                    rec["start"], rec["end"] = round(span[0], 6), round(span[1], 6)
                if tagging:
                    rec["tags"] = tags_of(p)
                    rec["scores"] = {c: round(float(v), 4) for c, v in zip(classes, p)}
                else:
                    rec["label"] = classes[int(np.argmax(p))]
                    if top_k is not None:
                        rec["top_k"] = [{"label": c, "probability": round(v, 4)}
                                        for c, v in best(p)[:top_k]]
                    rec["probabilities"] = {c: round(float(v), 4) for c, v in zip(classes, p)}
                recs.append(rec)
            f.write(json.dumps(recs, indent=1) + "\n")
        else:
            import csv

            w = csv.writer(f, delimiter=sep, lineterminator="\n")
            w.writerow(["file", *(["start", "end"] if windowed else []),
                        "tags" if tagging else "label",
                        *(["top_k"] if top_k is not None and not tagging else []), *classes])
            for src, span, p in rows:
                times = [] if span is None else [_seconds_text(t) for t in span]
                if tagging:
                    head = [";".join(tags_of(p))]
                else:
                    head = [classes[int(np.argmax(p))]]
                    if top_k is not None:
                        head.append(";".join(f"{c}:{v:.4f}" for c, v in best(p)[:top_k]))
                w.writerow([src, *times, *head, *(f"{v:.4f}" for v in p)])
    return fails.code(len(files))


# ----------------------------------------------------------------------------- detect


def _detect_options(args: argparse.Namespace, model: object) -> DetectOptions:
    """``detect``'s --threshold, --thresholds, --classes and --min-confidence checked
    against the model, as a :class:`~audioscene.detect.batch.DetectOptions`; raises
    ValueError with the one-line reason."""
    from .detect.batch import DetectOptions, read_thresholds

    classes = [str(c) for c in model.classes_]  # type: ignore[attr-defined]
    known = ", ".join(classes)

    def check_class(name: str, what: str) -> None:
        if name not in classes:
            raise ValueError(f"{what}: unknown class {name!r}; the model's classes: {known}")

    thresholds = None
    if args.threshold is not None or args.thresholds is not None:
        kind = type(model).__name__
        current = getattr(model, "detection_thresholds", None)
        if not callable(current):
            raise ValueError(f"--threshold/--thresholds: {kind} takes no detection "
                             "thresholds")
        thr = [float(v) for v in current(args.decoder)]
        lo_hi = getattr(model, "score_range", None)

        def check_value(value: float, what: str) -> float:
            if lo_hi is not None and not lo_hi[0] < value < lo_hi[1]:
                raise ValueError(f"{what}: {value:g} is outside ({lo_hi[0]:g}, {lo_hi[1]:g}), "
                                 f"the range of {kind}'s scores")
            return value

        if args.threshold is not None:
            thr = [check_value(args.threshold, "--threshold")] * len(classes)
        if args.thresholds is not None:
            try:
                given = read_thresholds(args.thresholds)
            except OSError as exc:
                raise ValueError(f"--thresholds {args.thresholds}: "
                                 f"{exc.strerror or exc}") from None
            for name, value in given.items():
                check_class(name, f"--thresholds {args.thresholds}")
                thr[classes.index(name)] = check_value(
                    value, f"--thresholds {args.thresholds}: {name}")
        thresholds = tuple(thr)
    keep = None
    if args.classes is not None:
        names = [c.strip() for c in args.classes.split(",") if c.strip()]
        if not names:
            raise ValueError(f"--classes: no class names in {args.classes!r}; the model's "
                             f"classes: {known}")
        for name in names:
            check_class(name, "--classes")
        keep = tuple(names)
    mc = args.min_confidence
    if mc is not None and not 0.0 <= mc <= 1.0:
        raise ValueError(f"--min-confidence: {mc:g} is outside [0, 1]")
    return DetectOptions(thresholds=thresholds, classes=keep, min_confidence=mc)


def _cmd_detect(args: argparse.Namespace) -> int:
    import time

    from .detect.batch import plan_jobs, run_local, run_ray, split_existing
    from .events import DOCUMENT_FORMATS, Event, EventList
    from .models import load_model

    problem = _resolve_model(args, "detect")
    if problem:
        return _fail(problem, 2)
    try:
        model = load_model(args.model)  # fail early, with one line, on a bad model folder
    except (OSError, ValueError, KeyError) as exc:
        print(f"audioscene: error: {exc}", file=sys.stderr)
        return 1
    if not callable(getattr(model, "stream", None)):  # clip models (no isinstance: no torch)
        print(f"audioscene: error: {args.model} is a clip model ({type(model).__name__}); "
              "use 'audioscene classify' or 'audioscene tag'", file=sys.stderr)
        return 2
    if args.scores and not args.output:
        print("audioscene: error: --scores needs -o", file=sys.stderr)
        return 2
    if args.backend == "ray" and not args.output:
        return _fail("--backend ray needs -o", 2)
    problem = _set_stdin_format(args)
    if problem:
        return _fail(problem, 2)
    try:
        options = _detect_options(args, model)
    except ValueError as exc:
        return _fail(str(exc), 2)
    jobs, missing = plan_jobs(args.inputs, output=args.output, fmt=args.format,
                              scores=args.scores)
    skipped: list = []
    if args.skip_existing:  # resuming: inputs whose events output exists, counted
        jobs, skipped = split_existing(jobs)
    if args.output and len(jobs) + len(missing) > 1 and Path(args.output).is_file():
        return _fail(f"-o {args.output}: several inputs need a folder, and this is a file", 2)
    if args.output and Path(args.output).exists() and not os.access(args.output, os.W_OK):
        return _fail(f"-o {args.output}: not writable", 2)
    # several inputs to standard output: one table or document, printed here
    collect = not args.output and len(jobs) + len(missing) > 1
    if collect and args.format == "audacity":
        return _fail("--format audacity labels one recording; with several inputs give "
                     "-o FOLDER", 2)
    fails = _Failures()
    for m, why in missing:
        fails.add(m, why)
    total = len(jobs) + len(missing)
    t0 = time.perf_counter()
    kw = {"fmt": args.format, "block_length": args.block_length, "decoder": args.decoder,
          "options": options}
    progress = sys.stderr.isatty() if args.progress is None else args.progress
    if args.backend == "ray":
        try:
            results = list(run_ray(args.model, jobs, **kw))
        except (RuntimeError, ValueError) as exc:
            print(f"audioscene: error: {exc}", file=sys.stderr)
            return 1
    else:
        results = run_local(args.model, jobs, n_jobs=args.jobs, keep_events=collect,
                            progress=progress, **kw)
    from tqdm import tqdm

    # the batch's bar: files done of those to run, events so far
    bar = tqdm(total=len(jobs), desc="detect", unit="file", leave=False,
               disable=not progress or len(jobs) < 2, file=sys.stderr)

    def quiet() -> contextlib.AbstractContextManager:  # lines printed around the bar
        return tqdm.external_write_mode(file=sys.stderr) if not bar.disable \
            else contextlib.nullcontext()

    n_files = n_events = 0
    seconds = 0.0
    json_events: list = []
    header_done = False
    for r in results:
        bar.update(1)
        if r.error:
            with quiet():
                fails.add(r.source, r.error)
        else:
            n_files += 1
            n_events += r.n_events
            seconds += r.seconds_audio
        bar.set_postfix_str(f"{n_events} events" + (f", {len(fails.failed)} failed"
                                                    if fails.failed else ""))
        if collect and not r.error:  # rows of one table as each input finishes; JSON: one
            events = EventList(Event(**d) for d in r.events)  # Event.to_dict's fields
            if args.format in DOCUMENT_FORMATS:  # one document / one numbered table
                json_events += list(events)
                continue
            text = events.to_text(format=args.format)
            if args.format == "csv":
                text = text.split("\n", 1)[1] if header_done else text
                header_done = True
            with quiet():
                sys.stdout.write(text)
                sys.stdout.flush()
    bar.close()
    if collect and args.format in DOCUMENT_FORMATS:
        sys.stdout.write(EventList(json_events).to_text(format=args.format))
    wall = time.perf_counter() - t0
    speed = f", {seconds / wall:.0f}x real time" if wall > 0 and seconds else ""
    notes = ([f"{len(skipped)} skipped: output exists"] if skipped else []) + \
        ([f"{len(fails.failed)} failed"] if fails.failed else [])
    print(f"detect: {n_files} file(s)" + (f" ({', '.join(notes)})" if notes else "") +
          f", {n_events} events, {seconds:.0f} s of audio in {wall:.1f} s{speed}" +
          (f"; outputs in {args.output}" if args.output else ""), file=sys.stderr)
    return fails.code(total)


# ----------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    """The ``audioscene`` argument parser (for documentation tools and tests).

    Examples
    --------
    >>> build_parser().parse_args(["features", "a.wav", "-o", "out"]).command
    'features'
    """
    from .features.config import KINDS  # a few dataclass lines, no numerical import

    p = argparse.ArgumentParser(prog="audioscene", description=(
        "Acoustic scene classification, audio tagging and sound event detection."))
    p.add_argument("--version", action="version", version=f"audioscene {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    f = sub.add_parser("features", help="extract frame features, one .npz per input",
                       description="Extract frame-level features (log-mel, MFCC, STFT) with "
                                   "librosa. Writes OUT/<name>.npz with arrays 'features' "
                                   "(frames x features), 'times' (frame centres, s) and "
                                   "'config' (the FeatureConfig as JSON).")
    f.add_argument("inputs", nargs="+", metavar="IN",
                   help="audio files, folders (searched recursively) or - for stdin")
    f.add_argument("-o", "--output", required=True, metavar="OUT", help="output folder")
    f.add_argument("--config", help="FeatureConfig JSON file (the options below override "
                                    "it; without it, each option's default applies)")
    f.add_argument("--kind", choices=list(KINDS),
                   help="feature kind (default: logmel)")
    f.add_argument("--sr", type=_count, help="sample rate the audio is resampled to "
                                             "(default: 44100)")
    f.add_argument("--n-fft", type=_count, dest="n_fft",
                   help="FFT length in samples (default: 2048)")
    f.add_argument("--hop-length", type=_count, dest="hop_length",
                   help="hop between frames in samples (default: 1024)")
    f.add_argument("--n-mels", type=_count, dest="n_mels",
                   help="mel bands, logmel, mfcc and pcen (default: 40)")
    f.add_argument("--n-mfcc", type=_count, dest="n_mfcc",
                   help="coefficients, mfcc (default: 20)")
    f.add_argument("--deltas", type=int, choices=[0, 1, 2],
                   help="append deltas (1) or deltas and delta-deltas (2) (default: 0)")
    f.add_argument("--skip-existing", action="store_true", help="keep outputs already there")
    f.add_argument("--raw", metavar="ENC:RATE[:CH]",
                   help="standard input ('-') is headerless PCM in this format: ENCODING:RATE[:CHANNELS], ENCODING one of u8, s16le, s24le, s32le, f32le, f64le (e.g. s16le:16000)")
    f.set_defaults(func=_cmd_features)

    s = sub.add_parser("synth", help="render mixtures of events over backgrounds",
                       description="Render soundscapes with exact annotations in the DCASE "
                                   "task 2 layout: OUT/sound/*.wav and OUT/annotation/*.txt.")
    s.add_argument("-o", "--output", required=True, metavar="OUT")
    s.add_argument("--events", metavar="DIR", help="isolated event recordings (class from "
                   "sub-folder or name prefix); default: procedural sounds")
    s.add_argument("--backgrounds", metavar="DIR", help="background recordings; default: "
                   "procedural noise")
    s.add_argument("--classes", default="beep,chirp,knock,bell",
                   help="procedural classes when --events is not given")
    s.add_argument("--variants", type=_count, default=5, help="procedural sounds per class")
    s.add_argument("-n", type=_count, default=10, help="number of mixtures")
    s.add_argument("--duration", type=_seconds, default=30.0, help="seconds per mixture")
    s.add_argument("--ebr", type=_parse_ebr, default=(-6.0, 6.0),
                   help="event-to-background ratio in dB: a value or LOW,HIGH "
                        "(write --ebr=-6,6 for a negative LOW)")
    s.add_argument("--polyphony", type=_count, default=2, help="most events active at once")
    s.add_argument("--rate", type=_rate, default=12.0, help="events per minute")
    s.add_argument("--sr", type=_count, default=44100, help="sample rate (default 44100)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--prefix", default="mix", help="file name prefix")
    s.set_defaults(func=_cmd_synth)

    e = sub.add_parser("evaluate", help="event metrics (sed_eval) or PSDS of score tables",
                       description="With --est: segment-based (1 s) and event-based (onset, "
                                   "onset+offset; 0.2 s collar) metrics per class and overall, "
                                   "the counts of sed_eval computed by sorted sweeps "
                                   "(--reference-impl runs sed_eval itself). With --scores: "
                                   "PSDS (DCASE scenarios 1 and 2), intersection-based and "
                                   "collar-based F1 at each class's best threshold, by "
                                   "sed_scores_eval. Files are matched by stem; two single "
                                   "files are one recording.")
    e.add_argument("--ref", help="reference events (file or folder)")
    e.add_argument("--est", help="estimated events (file or folder)")
    e.add_argument("--scores", help="score tables: a file or a folder (*.scores.tsv as "
                                    "'detect --scores' writes, else *.tsv)")
    e.add_argument("--pairs", metavar="FILE", help="'reference<TAB>estimate' lines (paths "
                                                   "relative to FILE), instead of --ref/--est")
    e.add_argument("--pairs-scores", action="store_true", dest="pairs_scores",
                   help="the estimates in --pairs are score tables")
    e.add_argument("--audio-dir", help="folder with the audio, for each file's true length "
                                       "(default: the last offset; for score tables, the "
                                       "table's end, at least the last reference offset)")
    e.add_argument("--collar", type=_seconds, default=0.2,
                   help="onset collar in seconds (default 0.2)")
    e.add_argument("--resolution", type=_seconds, default=1.0,
                   help="segment length in seconds (default 1.0)")
    e.add_argument("--per-file", dest="per_file", metavar="TSV",
                   help="write each file's F1 and error rates here")
    e.add_argument("--bootstrap", type=int, metavar="N",
                   help="95 %% intervals over files from N resamples")
    e.add_argument("--seed", type=int, default=0, help="seed of --bootstrap (default 0)")
    e.add_argument("--reference-impl", action="store_true", dest="reference_impl",
                   help="count with sed_eval itself (quadratic in events per file)")
    e.add_argument("--threshold", type=_finite,
                   help="with --scores: also the F1 at this score threshold")
    e.add_argument("--dtc", type=_fraction, default=0.5,
                   help="with --scores: intersection-based F1 DTC, in (0, 1] (default 0.5)")
    e.add_argument("--gtc", type=_fraction, default=0.5,
                   help="with --scores: intersection-based F1 GTC, in (0, 1] (default 0.5)")
    e.add_argument("--plots", metavar="DIR", help="with --scores: PSD-ROC and "
                                                  "precision-recall PNGs here")
    e.add_argument("--json", help="also write the metrics as JSON here")
    e.set_defaults(func=_cmd_evaluate)

    names = ("dcase2016-task2, dcase2016-task3, esc10, dcase2016-task1, dcase2016-task4, "
             "task2-tagging, classifier, detector, bundled-models")
    own = ("'classifier' and 'detector' train on your own audio: 'audioscene train "
           "classifier DATA --out DIR' (DATA: a folder of class folders, or a CSV/TSV of "
           "file,label) and 'audioscene train detector DATA --out DIR [--backgrounds BG]' "
           "(DATA: audio files with annotation files of the same stem, and/or isolated "
           "sounds in class folders); both hold out recordings for a test and write "
           "OUT/results.md.")
    for cmd, helptext, writes in (
            ("recipe", "run a DCASE recipe: train, tune, evaluate, report",
             "Writes OUT/results.md and OUT/results.json, the trained model(s) (OUT/model "
             "and, for some recipes, the baselines') and each system's outputs."),
            ("train", "train a model: a recipe's, or one on your own audio (writes OUT/model)",
             "Writes OUT/model. For the clip recipes (esc10, dcase2016-task1, "
             "dcase2016-task4, task2-tagging): one CNN on all its training material, nothing "
             "else. For dcase2016-task2 and dcase2016-task3 it is the whole recipe run "
             "(their training tunes on validation material and reports).")):
        r = sub.add_parser(cmd, help=helptext, description=(
            f"{helptext[0].upper()}{helptext[1:]}. RECIPE is one of {names}, or a YAML "
            f"file with 'recipe: NAME' and the settings it changes. {writes} {own} Each "
            "recipe's settings are in audioscene/recipes/configs/NAME.yaml; --print-config "
            "shows the resolved ones."))
        r.add_argument("recipe", metavar="RECIPE")
        r.add_argument("data_pos", nargs="?", metavar="DATA", help="the same as --data")
        r.add_argument("--data", help="dataset root, or your data for classifier/detector "
                       "(required unless --print-config)")
        r.add_argument("--test", metavar="DATA2", help="classifier/detector: a separate "
                       "held-out data set, in DATA's layout, instead of a split of DATA")
        r.add_argument("--backend", dest="model_backend", metavar="NAME",
                       help="classifier: allconv (default) or lte-cnn; detector: cnn "
                       "(default) or carforest; the recipes: their 'backend' setting")
        r.add_argument("--multi-label", action="store_true", dest="multi_label",
                       help="classifier: DATA is a 'file,tag;tag' list; train a tagger")
        r.add_argument("--out", help="output folder (required unless --print-config)")
        r.add_argument("--print-config", action="store_true", dest="print_config",
                       help="print the resolved config (packaged settings, then RECIPE's "
                       "file, --set and the fold options) as YAML and exit")
        r.add_argument("--backgrounds", help="background recordings for synthesis "
                       "(default: DATA/backgrounds)")
        r.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                       help="override a config value, e.g. cnn.max_epochs=30")
        r.add_argument("--train-folds", dest="train_folds", metavar="K,K,...",
                       help="clip recipes: train on these folds only")
        r.add_argument("--test-folds", dest="test_folds", metavar="K,K,...",
                       help="clip recipes: evaluate these folds only")
        r.set_defaults(func=_cmd_recipe, train_only=cmd == "train", usage_error=r.error)

    m = sub.add_parser("models", help="list the bundled models, or show one's model card",
                       description="List the models shipped inside the package (name, kind, "
                                   "size, classes, and which command uses it without "
                                   "--model), or print one model's card.")
    m.add_argument("name", nargs="?", metavar="NAME", help="print this bundled model's card")
    m.set_defaults(func=_cmd_models)

    for cmd, helptext, what in (
            ("classify", "classify clips with a trained single-label clip model",
             "the most probable label and the probability of every class"),
            ("tag", "tag clips with a trained multi-label clip model",
             "the tags scoring at least --threshold and the score of every tag")):
        c = sub.add_parser(cmd, help=helptext, description=(
            f"{helptext[0].upper()}{helptext[1:]} (a model folder written by 'audioscene "
            f"train' or a clip recipe). One row per INPUT (files, or folders searched "
            f"recursively) with {what}; with --window, one row per window of each INPUT "
            "(a timeline: file, start, end, then the same columns), each window's scores "
            "computed from its own samples alone, the audio read block by block."))
        c.add_argument("inputs", nargs="+", metavar="INPUT")
        c.add_argument("--model", help="model folder (model.json and arrays.npz) or a "
                       "bundled model's name" + (" (default: the bundled esc10-classifier)"
                                                 if cmd == "classify" else ""))
        c.add_argument("-o", "--output", help="output file (default: standard output)")
        c.add_argument("--format", choices=["tsv", "csv", "json"], default="tsv",
                       help="output format (default: tsv)")
        c.add_argument("--raw", metavar="ENC:RATE[:CH]",
                       help="standard input ('-') is headerless PCM in this format: ENCODING:RATE[:CHANNELS], ENCODING one of u8, s16le, s24le, s32le, f32le, f64le (e.g. s16le:16000)")
        c.add_argument("--window", type=_seconds, metavar="S",
                       help="label windows of S seconds (rounded to whole samples at the "
                       "model's rate; at least one analysis frame) instead of whole files; "
                       "a window cut short by the end of a file is kept, ending there, when "
                       "it holds at least half a window and one analysis frame, and always "
                       "when it is the file's first; start and end are written in seconds, "
                       "to the microsecond")
        c.add_argument("--hop", type=_seconds, metavar="S",
                       help="seconds between window starts (default: --window)")
        if cmd == "tag":
            c.add_argument("--threshold", type=float, default=0.5,
                           help="score from which a tag is listed (default: 0.5)")
            c.add_argument("--top-k", type=_count, dest="top_k", metavar="K",
                           help="list at most the K highest-scoring of the tags that pass "
                           "the threshold, best first (default: all, in class order)")
        else:
            c.add_argument("--top-k", type=_count, dest="top_k", metavar="K",
                           help="also the K most probable labels (all of them when K "
                           "exceeds their number), most probable first: a 'top_k' column "
                           "of label:probability pairs joined by ';' (tsv, csv), or a "
                           "'top_k' list of {label, probability} (json)")
        c.set_defaults(func=_cmd_classify, command=cmd, threshold=0.5)

    d = sub.add_parser("detect", help="detect sound events with a trained model",
                       description="Stream audio through a detector and write the events. "
                                   "INPUTs are files, folders (searched recursively), globs, "
                                   "or - for standard input (WAV, FLAC, Ogg, or headerless "
                                   "PCM with --raw). Without -o events go to stdout: one "
                                   "input's as they become final, several inputs' as one "
                                   "table or JSON document.")
    d.add_argument("inputs", nargs="+", metavar="INPUT")
    d.add_argument("--model", help="model folder or a bundled model's name (default: the "
                   "bundled esc10-detector; 'audioscene models' lists them)")
    d.add_argument("-o", "--output", help="output file (one input) or folder (one output "
                   "per input)")
    d.add_argument("--format", choices=["dcase", "csv", "json", "audacity", "raven"], default="dcase")
    d.add_argument("--scores", action="store_true", help="also write <name>.scores.tsv: "
                   "onset, offset and one score column per class (CaR-forest: segment "
                   "P(present); GMM baseline: summed log-likelihood ratio per frame)")
    d.add_argument("--jobs", type=_count, default=1, help="files processed in parallel")
    d.add_argument("--raw", metavar="ENC:RATE[:CH]",
                   help="standard input ('-') is headerless PCM in this format: ENCODING:RATE[:CHANNELS], ENCODING one of u8, s16le, s24le, s32le, f32le, f64le (e.g. s16le:16000)")
    d.add_argument("--skip-existing", action="store_true", help="skip inputs whose output "
                   "exists (resume a batch)")
    d.add_argument("--backend", choices=["local", "ray"], default="local",
                   help="ray: a Ray Data pipeline (pip install 'audioscene[ray]'; "
                   "RAY_ADDRESS selects a cluster)")
    d.add_argument("--decoder", choices=["votes", "hysteresis"], default="votes",
                   help="CaR-forest vote decoding, or hysteresis on segment scores")
    d.add_argument("--block-length", type=_count, default=None, dest="block_length",
                   help="samples per block at the model's rate (default: 524288 for files, "
                   "16384 for stdin)")
    d.add_argument("--threshold", type=_finite, metavar="X",
                   help="one detection threshold for every class instead of the model's "
                   "stored ones, on the model's score scale. CNN and fusion: the hysteresis "
                   "opening threshold of the frame scores (closing at low_ratio x X); "
                   "CaR-forest: with --decoder votes the presence threshold (an event is "
                   "kept when its mean P(present) reaches X), with --decoder hysteresis the "
                   "opening and closing threshold of the segments' P(present) (default "
                   "0.5); these scores are probabilities, so X must lie strictly between 0 "
                   "and 1. GMM baseline: the decision threshold on the summed "
                   "log-likelihood ratio (a frame is active above X; any finite number)")
    d.add_argument("--thresholds", metavar="FILE",
                   help="per-class thresholds, each as --threshold: lines "
                   "'label<TAB>threshold' or 'label,threshold', an optional header line, "
                   "'#' comments; classes not listed keep --threshold if given, else the "
                   "model's threshold")
    d.add_argument("--classes", metavar="A,B,...",
                   help="write only these classes' events (and, with --scores, score "
                   "columns)")
    d.add_argument("--min-confidence", type=_finite, dest="min_confidence", metavar="C",
                   help="drop events whose confidence (as written: 4 decimals) is below C, "
                   "in [0, 1]. Only CaR-forest vote decoding gives confidences (the mean "
                   "P(present) over the event); events without a confidence are kept")
    d.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bars on stderr: with several files the batch's (files "
                   "done, events so far); for files read in this process (all of them "
                   "without --jobs) the audio read (default: when stderr is a terminal)")
    d.set_defaults(func=_cmd_detect)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code.

    Examples
    --------
    >>> main(["features", "clip.wav", "-o", "feats"])  # doctest: +SKIP
    0
    """
    from .audio import one_line_warnings

    args = build_parser().parse_args(argv)
    try:
        with one_line_warnings():  # a truncated input: one line naming it
            return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("audioscene: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader closed our output (e.g. `| head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
