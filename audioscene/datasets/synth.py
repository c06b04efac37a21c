"""Soundscape synthesiser: isolated events over backgrounds, with exact annotations.

The event-to-background ratio (EBR) of an event is ``20 log10(rms(event) / rms(bg))``
where the background RMS is taken over the event's own span in the mixture, as in the
DCASE 2016 task 2 material. Events can be placed at given onsets or at random ones
under a polyphony limit (the most events active at any instant).

It also makes procedural event sounds and backgrounds from nothing but a seed, for the
demo and the tests.

Examples
--------
>>> import numpy as np
>>> from audioscene.datasets.synth import procedural_event, procedural_background, render
>>> rng = np.random.default_rng(0)
>>> bg = procedural_background("pink", sr=16000, duration=5.0, rng=rng)
>>> ev = procedural_event("beep", sr=16000, rng=rng)
>>> scape = render(bg, [EventSpec(ev, "beep", onset=1.0, ebr_db=0.0)], sr=16000)
>>> [(round(e.onset, 3), e.label) for e in scape.events]
[(1.0, 'beep')]
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from ..audio import AudioError, load
from ..events import Event, EventList
from ..io_utils import atomic_open, atomic_write_text

__all__ = [
    "EventSpec", "Soundscape", "render", "random_scene", "procedural_event",
    "procedural_background", "PROCEDURAL_EVENTS", "PROCEDURAL_BACKGROUNDS",
    "make_procedural_dataset", "write_soundscape", "load_sources", "source_files", "rms",
    "script_scene", "augment_event",
]

PROCEDURAL_EVENTS = ("beep", "chirp", "knock", "bell", "buzz", "whoosh")
PROCEDURAL_BACKGROUNDS = ("pink", "brown", "hum")

_SILENT_RMS = 1e-4  # reference level used where the background is silent


@dataclass(frozen=True)
class EventSpec:
    """One event to place: its samples, label, onset (s) and EBR (dB)."""

    audio: np.ndarray
    label: str
    onset: float
    ebr_db: float = 0.0


@dataclass(frozen=True)
class Soundscape:
    """A rendered mixture and its exact annotation."""

    audio: np.ndarray
    sr: int
    events: EventList

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return len(self.audio) / self.sr


def rms(x: np.ndarray) -> float:
    """Root mean square of ``x`` (0 for an empty array).

    Examples
    --------
    >>> rms(np.ones(4))
    1.0
    """
    x = np.asarray(x, dtype=np.float64)
    return float(np.sqrt(np.mean(x * x))) if x.size else 0.0


def _fit_background(bg: np.ndarray, n: int, rng: np.random.Generator | None) -> np.ndarray:
    """Crop (at a random offset when ``rng`` is given) or tile ``bg`` to ``n`` samples."""
    bg = np.asarray(bg, dtype=np.float32)
    if len(bg) == 0:
        return np.zeros(n, dtype=np.float32)
    if len(bg) >= n:
        start = int(rng.integers(0, len(bg) - n + 1)) if rng is not None else 0
        return bg[start : start + n].copy()
    reps = int(np.ceil(n / len(bg)))
    return np.tile(bg, reps)[:n].copy()


def render(background: np.ndarray, events: Sequence[EventSpec], *, sr: int,
           duration: float | None = None, peak: float = 0.99,
           rng: np.random.Generator | None = None) -> Soundscape:
    """Mix events into a background at the requested EBRs.

    Parameters
    ----------
    background : np.ndarray
        Mono background samples at ``sr`` (cropped or tiled to ``duration``).
    events : sequence of EventSpec
        Events to place; an event running past the end is cut there (and so is its
        annotation).
    sr : int
        Sample rate of every input.
    duration : float or None
        Mixture length in seconds; ``None`` keeps the background's length.
    peak : float
        If the mixture's peak exceeds this, the whole mixture is scaled down (EBRs are
        unchanged).
    rng : np.random.Generator or None
        Random crop offset of a longer background.

    Returns
    -------
    Soundscape
        Audio, rate and the exact annotation (onsets/offsets on sample boundaries).

    Examples
    --------
    >>> bg = np.full(16000, 0.01, dtype=np.float32)
    >>> s = render(bg, [EventSpec(np.ones(1600, np.float32), "x", 0.5, 6.0)], sr=16000)
    >>> round(float(20 * np.log10(rms(s.audio[8000:9600] - s.audio[0]) / 0.01)), 1)
    6.0
    """
    n = len(background) if duration is None else int(round(duration * sr))
    bg = _fit_background(background, n, rng)
    mix = bg.astype(np.float64)
    annotated = []
    for spec in events:
        ev = np.asarray(spec.audio, dtype=np.float64)
        if ev.ndim != 1:
            raise ValueError(f"event {spec.label!r}: expected mono samples, got {ev.shape}")
        start = int(round(spec.onset * sr))
        if start < 0 or start >= n:
            raise ValueError(f"event {spec.label!r}: onset {spec.onset} s outside the "
                             f"mixture (0 to {n / sr} s)")
        stop = min(n, start + len(ev))
        ev = ev[: stop - start]
        e_rms = rms(ev)
        if e_rms == 0:
            continue  # a silent event adds nothing and is not annotated
        b_rms = rms(bg[start:stop]) or rms(bg) or _SILENT_RMS
        gain = b_rms * 10 ** (spec.ebr_db / 20) / e_rms
        mix[start:stop] += gain * ev
        annotated.append(Event(start / sr, stop / sr, spec.label))
    top = float(np.max(np.abs(mix))) if n else 0.0
    if top > peak:
        mix *= peak / top
    return Soundscape(mix.astype(np.float32), sr, EventList(annotated))


def _active_max(intervals: list[tuple[float, float]], on: float, off: float) -> int:
    """Most intervals active at once within [on, off)."""
    points = sorted({on} | {a for a, _ in intervals if on <= a < off})
    return max((sum(1 for a, b in intervals if a <= t < b) for t in points), default=0)


def augment_event(x: np.ndarray, sr: int, rng: np.random.Generator, *,
                  speed: tuple[float, float] = (0.9, 1.1), eq_db: float = 6.0,
                  reverb: float = 0.5, rt60: tuple[float, float] = (0.2, 0.8),
                  drr_db: tuple[float, float] = (0.0, 12.0)) -> np.ndarray:
    """A randomly altered copy of an isolated event sound: speed, spectrum, room.

    1. **Speed**: the sound is played ``f`` times faster, ``f`` drawn uniformly from
       ``speed`` (pitch and length change together, as when a tape runs faster): it is
       resampled from ``sr`` to ``sr / f`` with :func:`librosa.resample`.
    2. **Spectrum**: a smooth random equaliser: gains drawn uniformly in ``[-eq_db,
       eq_db]`` dB at six log-spaced frequencies from 50 Hz to ``sr / 2``, interpolated
       over log frequency and applied to the spectrum of the whole sound.
    3. **Room**: with probability ``reverb``, the sound is convolved with a synthetic
       room response (Gaussian noise under an exponential decay of ``rt60`` seconds
       to -60 dB, ``rt60`` drawn from its range) and added to the dry sound at a
       direct-to-reverberant ratio drawn from ``drr_db``; the tail is cut at the
       sound's length, so the annotation's span does not change.

    The output is float32, mono, at ``sr``; its level is set by the mixture's EBR later.

    Parameters
    ----------
    x : np.ndarray
        Mono samples.
    sr : int
        Sample rate.
    rng : np.random.Generator
        Randomness.
    speed : (float, float)
        Range of the speed factor (``(1, 1)`` turns it off).
    eq_db : float
        Largest equaliser gain or cut in dB (0 turns it off).
    reverb : float
        Probability of the room (0 turns it off).
    rt60 : (float, float)
        Range of the room's decay time in seconds.
    drr_db : (float, float)
        Range of the direct-to-reverberant ratio in dB.

    Returns
    -------
    np.ndarray
        A new array, also when nothing was altered.

    Examples
    --------
    >>> x = procedural_event("beep", sr=16000, rng=0)
    >>> y = augment_event(x, 16000, np.random.default_rng(0), speed=(1.2, 1.2), eq_db=0,
    ...                   reverb=0)
    >>> round(len(x) / len(y), 2)
    1.2
    """
    import librosa
    from scipy.signal import fftconvolve

    y = np.array(x, dtype=np.float32)  # a copy, altered or not
    if y.ndim != 1:
        raise ValueError(f"expected mono samples, got shape {y.shape}")
    for name, (lo, hi), low in (("speed", speed, 0.0), ("rt60", rt60, 0.0),
                                ("drr_db", drr_db, -np.inf)):
        if not low < lo <= hi:
            raise ValueError(f"{name} must be a range (low, high) with "
                             f"{'0 < ' if low == 0 else ''}low <= high, got {(lo, hi)}")
    f = float(rng.uniform(*speed)) if speed[1] > speed[0] else float(speed[0])
    if f != 1.0 and len(y) > 1:
        y = librosa.resample(y, orig_sr=sr, target_sr=sr / f).astype(np.float32)
    if eq_db > 0 and len(y) > 1:
        knots = np.geomspace(50.0, sr / 2, 6)
        gains = rng.uniform(-eq_db, eq_db, size=len(knots))
        freqs = np.fft.rfftfreq(len(y), 1.0 / sr)
        g_db = np.interp(np.log(np.maximum(freqs, 1.0)), np.log(knots), gains)
        y = np.fft.irfft(np.fft.rfft(y) * 10 ** (g_db / 20), n=len(y)).astype(np.float32)
    if reverb > 0 and rng.random() < reverb and len(y) > 1:
        t60 = float(rng.uniform(*rt60))
        t = np.arange(max(1, int(t60 * sr))) / sr
        h = rng.standard_normal(len(t)) * np.exp(-6.908 * t / t60)
        wet = fftconvolve(y, h)[: len(y)]
        r_dry, r_wet = rms(y), rms(wet)
        if r_dry > 0 and r_wet > 0:
            drr = float(rng.uniform(*drr_db))
            y = (y + wet * (r_dry / r_wet) * 10 ** (-drr / 20)).astype(np.float32)
    return y


def random_scene(sources: Mapping[str, Sequence[np.ndarray]],
                 backgrounds: Sequence[np.ndarray], *, sr: int, duration: float,
                 n_events: int | None = None, events_per_minute: float = 12.0,
                 ebr_db: float | tuple[float, float] = 0.0, max_polyphony: int = 1,
                 rng: np.random.Generator | int | None = None,
                 max_tries: int = 200,
                 augment: Callable[[np.ndarray, np.random.Generator], np.ndarray] | None = None
                 ) -> Soundscape:
    """Render a mixture with randomly chosen events at random onsets.

    Parameters
    ----------
    sources : mapping of label to sequence of np.ndarray
        Isolated event recordings (mono, at ``sr``) per class.
    backgrounds : sequence of np.ndarray
        Background recordings; one is chosen at random and cropped or tiled.
    sr : int
        Sample rate.
    duration : float
        Mixture length in seconds.
    n_events : int or None
        Number of events; ``None`` uses ``events_per_minute``.
    events_per_minute : float
        Event rate when ``n_events`` is None.
    ebr_db : float or (low, high)
        Fixed EBR, or a range drawn uniformly per event.
    max_polyphony : int
        Most events active at once (1: no overlap). An event that cannot be placed
        within ``max_tries`` attempts is left out.
    rng : Generator, int or None
        Randomness (a seed gives a repeatable scene).
    max_tries : int
        Placement attempts per event.
    augment : callable or None
        ``augment(samples, rng)`` alters each chosen event sound before it is placed
        (e.g. ``lambda x, r: augment_event(x, sr, r)``).

    Returns
    -------
    Soundscape

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> src = {"beep": [procedural_event("beep", sr=8000, rng=rng)]}
    >>> bg = [procedural_background("brown", sr=8000, duration=3.0, rng=rng)]
    >>> s = random_scene(src, bg, sr=8000, duration=10.0, n_events=3, rng=1)
    >>> len(s.events)
    3
    """
    if max_polyphony < 1:
        raise ValueError("max_polyphony must be >= 1")
    if not backgrounds:
        raise ValueError("random_scene needs at least one background")
    labels = sorted(k for k, v in sources.items() if len(v))
    if not labels:
        raise ValueError("random_scene needs at least one event source")
    rng = np.random.default_rng(rng)
    if n_events is None:
        n_events = int(rng.poisson(events_per_minute * duration / 60.0))
    bg = backgrounds[int(rng.integers(len(backgrounds)))]
    specs: list[EventSpec] = []
    placed: list[tuple[float, float]] = []
    for _ in range(n_events):
        label = labels[int(rng.integers(len(labels)))]
        pool = sources[label]
        ev = np.asarray(pool[int(rng.integers(len(pool)))], dtype=np.float32)
        if augment is not None:
            ev = augment(ev, rng)
        length = min(len(ev), int(duration * sr)) / sr
        for _try in range(max_tries):
            onset = float(rng.uniform(0.0, max(0.0, duration - length)))
            onset = round(onset * sr) / sr
            if _active_max(placed, onset, onset + length) < max_polyphony:
                lo_hi = ebr_db if isinstance(ebr_db, tuple) else (ebr_db, ebr_db)
                ebr = float(rng.uniform(*lo_hi)) if lo_hi[0] != lo_hi[1] else float(lo_hi[0])
                specs.append(EventSpec(ev, label, onset, ebr))
                placed.append((onset, onset + length))
                break
    return render(bg, specs, sr=sr, duration=duration, rng=rng)


def script_scene(sources: Mapping[str, Sequence[np.ndarray]], background: np.ndarray, *,
                 sr: int, duration: float = 120.0, events_per_class: int = 1,
                 ebr_db: float = 0.0, polyphony: int = 0,
                 rng: np.random.Generator | int | None = None,
                 max_tries: int = 1000) -> Soundscape:
    """Render a mixture with the statistics of the DCASE 2016 task 2 event scripts:
    exactly ``events_per_class`` events of every class, all at one EBR, with at most
    ``polyphony + 1`` events at once (``polyphony=0``: no overlap), at random onsets.

    Parameters
    ----------
    sources : mapping of label to sequence of np.ndarray
        Isolated event recordings (mono, at ``sr``) per class; each event is one of its
        class's recordings, drawn at random.
    background : np.ndarray
        The background recording (cropped or tiled to ``duration``).
    sr : int
        Sample rate.
    duration : float
        Mixture length in seconds (120 s in the official scripts).
    events_per_class : int
        Events of each class (1, 2 or 3 in the official scripts).
    ebr_db : float
        Event-to-background ratio of every event (-6, 0 or +6 dB in the official scripts).
    polyphony : int
        0: events never overlap; 1: at most two at once (the official scripts' two values).
    rng : Generator, int or None
        Randomness.
    max_tries : int
        Onset draws per event before the whole placement starts again with the events
        in a new order; ``ValueError`` after 20 such restarts (the events do not fit).

    Returns
    -------
    Soundscape
        With exactly ``events_per_class`` annotated events per class (every class has a
        non-silent recording).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> src = {k: [procedural_event(k, sr=8000, rng=rng)] for k in ("beep", "knock")}
    >>> bg = procedural_background("pink", sr=8000, duration=5.0, rng=rng)
    >>> s = script_scene(src, bg, sr=8000, duration=20.0, events_per_class=2, rng=0)
    >>> sorted(e.label for e in s.events)
    ['beep', 'beep', 'knock', 'knock']
    """
    if polyphony < 0:
        raise ValueError("polyphony must be >= 0")
    rng = np.random.default_rng(rng)
    labels = sorted(k for k, v in sources.items() if len(v))
    if not labels:
        raise ValueError("script_scene needs at least one event source")
    n = int(round(duration * sr))
    for _restart in range(20):
        chosen = []
        for label in labels:
            pool = sources[label]
            for _ in range(events_per_class):
                ev = np.asarray(pool[int(rng.integers(len(pool)))], dtype=np.float32)
                chosen.append((label, ev if len(ev) <= n else ev[:n]))
        order = rng.permutation(len(chosen))
        specs: list[EventSpec] = []
        placed: list[tuple[float, float]] = []
        for i in order:
            label, ev = chosen[int(i)]
            length = len(ev) / sr
            for _try in range(max_tries):
                onset = round(float(rng.uniform(0.0, max(0.0, duration - length))) * sr) / sr
                if _active_max(placed, onset, onset + length) <= polyphony:
                    specs.append(EventSpec(ev, label, onset, float(ebr_db)))
                    placed.append((onset, onset + length))
                    break
            else:
                break
        if len(specs) == len(chosen):
            return render(background, specs, sr=sr, duration=duration, rng=rng)
    raise ValueError(f"{len(labels) * events_per_class} events do not fit in {duration} s "
                     f"with polyphony {polyphony}")


# --------------------------------------------------------------------------- procedural


def _envelope(n: int, attack: int, release: int) -> np.ndarray:
    env = np.ones(n)
    a, r = min(attack, n // 2), min(release, n // 2)
    if a:
        env[:a] = np.linspace(0, 1, a, endpoint=False)
    if r:
        env[n - r :] = np.linspace(1, 0, r)
    return env


def _colored_noise(n: int, exponent: float, rng: np.random.Generator) -> np.ndarray:
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.arange(len(spec), dtype=np.float64)
    f[0] = 1.0
    spec /= f ** (exponent / 2)
    x = np.fft.irfft(spec, n)
    return x / (np.max(np.abs(x)) + 1e-12)


def procedural_event(kind: str, *, sr: int = 44100, rng: np.random.Generator | int | None = None,
                     duration: float | None = None) -> np.ndarray:
    """A synthetic event sound of a recognisable kind, normalised to peak 0.5.

    Parameters
    ----------
    kind : {"beep", "chirp", "knock", "bell", "buzz", "whoosh"}
        Sound kind; each has its own spectral and temporal signature.
    sr : int
        Sample rate.
    rng : Generator, int or None
        Randomness (pitch, length, timbre vary within the kind).
    duration : float or None
        Length in seconds (default: drawn per kind).

    Returns
    -------
    np.ndarray
        float32 mono samples.

    Examples
    --------
    >>> x = procedural_event("chirp", sr=16000, rng=0)
    >>> x.dtype, float(abs(x).max())
    (dtype('float32'), 0.5)
    """
    rng = np.random.default_rng(rng)
    ranges = {"beep": (0.25, 0.6), "chirp": (0.3, 0.8), "knock": (0.3, 0.6),
              "bell": (0.8, 1.5), "buzz": (0.5, 1.2), "whoosh": (0.4, 1.0)}
    if kind not in ranges:
        raise ValueError(f"unknown procedural event {kind!r}; choose from {PROCEDURAL_EVENTS}")
    dur = float(duration if duration is not None else rng.uniform(*ranges[kind]))
    n = max(1, int(dur * sr))
    t = np.arange(n) / sr
    ms = sr // 1000
    if kind == "beep":
        f0 = rng.uniform(600, 1600)
        x = sum(a * np.sin(2 * np.pi * k * f0 * t) for k, a in ((1, 1.0), (2, 0.4), (3, 0.2)))
        x = x * _envelope(n, 5 * ms, 20 * ms)
    elif kind == "chirp":
        f1, f2 = rng.uniform(300, 700), rng.uniform(2000, 5000)
        phase = 2 * np.pi * (f1 * t + (f2 - f1) * t**2 / (2 * dur))
        x = np.sin(phase) * _envelope(n, 10 * ms, 30 * ms)
    elif kind == "knock":
        x = np.zeros(n)
        hits = int(rng.integers(2, 4))
        gap = int(rng.uniform(0.08, 0.14) * sr)
        f = rng.uniform(150, 300)
        for h in range(hits):
            s = h * gap
            if s >= n:
                break
            m = min(n - s, int(0.08 * sr))
            tt = np.arange(m) / sr
            burst = (np.sin(2 * np.pi * f * tt) + 0.5 * rng.standard_normal(m)) * np.exp(-tt * 60)
            x[s : s + m] += burst
    elif kind == "bell":
        f0 = rng.uniform(400, 900)
        x = sum(a * np.sin(2 * np.pi * r * f0 * t) * np.exp(-t * d)
                for r, a, d in ((1.0, 1.0, 3), (2.76, 0.5, 5), (5.40, 0.25, 8), (8.93, 0.1, 12)))
        x = x * _envelope(n, 2 * ms, 20 * ms)
    elif kind == "buzz":
        f0 = rng.uniform(100, 180)
        saw = 2 * ((f0 * t) % 1.0) - 1
        x = saw * (0.6 + 0.4 * np.sin(2 * np.pi * rng.uniform(4, 9) * t))
        x = x * _envelope(n, 20 * ms, 40 * ms)
    else:  # whoosh
        noise = _colored_noise(n, 0.0, rng)
        spec = np.fft.rfft(noise)
        f = np.fft.rfftfreq(n, 1 / sr)
        fc = rng.uniform(1500, 4000)
        spec *= np.exp(-0.5 * ((f - fc) / (0.3 * fc)) ** 2)
        x = np.fft.irfft(spec, n) * np.sin(np.pi * t / dur) ** 2
    x = np.asarray(x, dtype=np.float64)
    x /= np.max(np.abs(x)) + 1e-12
    return (0.5 * x).astype(np.float32)


def procedural_background(kind: str = "pink", *, sr: int = 44100, duration: float = 10.0,
                          rng: np.random.Generator | int | None = None) -> np.ndarray:
    """A synthetic background: pink or brown noise, or pink noise with mains hum.

    Parameters
    ----------
    kind : {"pink", "brown", "hum"}
        Background kind.
    sr : int
        Sample rate.
    duration : float
        Length in seconds.
    rng : Generator, int or None
        Randomness.

    Returns
    -------
    np.ndarray
        float32 mono samples at about -30 dBFS RMS, slowly modulated in level.

    Examples
    --------
    >>> procedural_background("brown", sr=8000, duration=2.0, rng=0).shape
    (16000,)
    """
    rng = np.random.default_rng(rng)
    n = int(round(duration * sr))
    if kind not in PROCEDURAL_BACKGROUNDS:
        raise ValueError(f"unknown background {kind!r}; choose from {PROCEDURAL_BACKGROUNDS}")
    if n == 0:
        return np.zeros(0, dtype=np.float32)
    x = _colored_noise(n, 2.0 if kind == "brown" else 1.0, rng)
    if kind == "hum":
        t = np.arange(n) / sr
        x = x + sum(0.2 / k * np.sin(2 * np.pi * 50 * k * t + rng.uniform(0, 6.28))
                    for k in (1, 2, 3))
    t = np.arange(n) / sr
    x = x * (1 + 0.3 * np.sin(2 * np.pi * rng.uniform(0.05, 0.2) * t + rng.uniform(0, 6.28)))
    x = x / (rms(x) + 1e-12) * 10 ** (-30 / 20)
    return x.astype(np.float32)


# --------------------------------------------------------------------------- files


def source_files(folder: str | os.PathLike, *, label_of: object = None
                 ) -> dict[str, list[Path]]:
    """The isolated event recordings of a folder, grouped by class, in the order
    :func:`load_sources` loads them (one entry per recording: the grouping unit of
    source-disjoint folds).

    The class of a file is its sub-folder's name when the files are in sub-folders,
    otherwise its name's letter prefix (``cough003.wav`` -> ``cough``; ``keysDrop`` ->
    ``keys`` as in DCASE 2016 task 2), or ``label_of(path)`` when given.

    Examples
    --------
    >>> files = source_files("dcase2016_task2_train")  # doctest: +SKIP
    >>> files["cough"][0].name  # doctest: +SKIP
    'cough001.wav'
    """
    from .readers import list_audio, task2_label

    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder")
    out: dict[str, list[Path]] = {}
    for p in list_audio(folder, recursive=True):
        if callable(label_of):
            label = label_of(p)
        elif p.parent != folder:
            label = p.parent.name
        else:
            label = task2_label(p)
        out.setdefault(label, []).append(p)
    return out


def load_sources(folder: str | os.PathLike, *, sr: int, label_of: object = None,
                 on_error: Callable[[Path, Exception], None] | None = None
                 ) -> dict[str, list[np.ndarray]]:
    """Load isolated event recordings from a folder, grouped by class
    (:func:`source_files`; without ``on_error``, ``load_sources(f)[c][i]`` is the
    recording ``source_files(f)[c][i]``).

    An unreadable file raises :class:`~audioscene.audio.AudioError`, or, with
    ``on_error``, is reported to it and left out.

    Examples
    --------
    >>> src = load_sources("dcase2016_task2_train", sr=44100)  # doctest: +SKIP
    >>> sorted(src)[:2]  # doctest: +SKIP
    ['clearthroat', 'cough']
    """
    out: dict[str, list[np.ndarray]] = {}
    for label, paths in source_files(folder, label_of=label_of).items():
        for p in paths:
            try:
                y, _ = load(p, sr=sr)
            except AudioError as exc:
                if on_error is None:
                    raise
                on_error(p, exc)
                continue
            out.setdefault(label, []).append(y)
    return out


def write_soundscape(scape: Soundscape, out_dir: str | os.PathLike, name: str) -> Path:
    """Write ``sound/<name>.wav`` and ``annotation/<name>.txt`` (the DCASE task 2 layout,
    times to the millisecond) atomically; returns the audio path.

    Examples
    --------
    >>> write_soundscape(scape, "mixtures", "mix000")  # doctest: +SKIP
    """
    out = Path(out_dir)
    audio = out / "sound" / f"{name}.wav"
    with atomic_open(audio, "wb") as f:
        sf.write(f, scape.audio, scape.sr, format="WAV", subtype="PCM_16")
    atomic_write_text(out / "annotation" / f"{name}.txt",
                      scape.events.with_filename(None).rounded().to_text(format="dcase"))
    return audio


def make_procedural_dataset(out_dir: str | os.PathLike, *, sr: int = 22050,
                            classes: Sequence[str] = ("beep", "chirp", "knock", "bell"),
                            n_isolated: int = 6, n_backgrounds: int = 3,
                            n_mixtures: int = 4, duration: float = 30.0,
                            ebr_db: float | tuple[float, float] = (-6.0, 6.0),
                            events_per_minute: float = 20.0, max_polyphony: int = 2,
                            seed: int = 0) -> dict[str, Path]:
    """Write a small procedural dataset: isolated events, backgrounds, mixtures.

    Layout: ``isolated/<class>NNN.wav``, ``backgrounds/bgNN.wav``,
    ``mixtures/sound/mixNNN.wav`` and ``mixtures/annotation/mixNNN.txt``.

    Returns
    -------
    dict
        ``{"isolated": Path, "backgrounds": Path, "mixtures": Path}``.

    Examples
    --------
    >>> paths = make_procedural_dataset("demo_data", n_mixtures=2)  # doctest: +SKIP
    """
    out = Path(out_dir)
    rng = np.random.default_rng(seed)
    sources: dict[str, list[np.ndarray]] = {}
    for c in classes:
        for i in range(n_isolated):
            y = procedural_event(c, sr=sr, rng=rng)
            sources.setdefault(c, []).append(y)
            with atomic_open(out / "isolated" / f"{c}{i:03d}.wav", "wb") as f:
                sf.write(f, y, sr, format="WAV", subtype="PCM_16")
    bgs = []
    for i in range(n_backgrounds):
        kind = PROCEDURAL_BACKGROUNDS[i % len(PROCEDURAL_BACKGROUNDS)]
        y = procedural_background(kind, sr=sr, duration=min(duration, 20.0), rng=rng)
        bgs.append(y)
        with atomic_open(out / "backgrounds" / f"bg{i:02d}.wav", "wb") as f:
            sf.write(f, y, sr, format="WAV", subtype="PCM_16")
    for i in range(n_mixtures):
        scape = random_scene(sources, bgs, sr=sr, duration=duration,
                             events_per_minute=events_per_minute, ebr_db=ebr_db,
                             max_polyphony=max_polyphony, rng=rng)
        write_soundscape(scape, out / "mixtures", f"mix{i:03d}")
    return {"isolated": out / "isolated", "backgrounds": out / "backgrounds",
            "mixtures": out / "mixtures"}
