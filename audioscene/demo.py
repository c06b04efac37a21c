"""End-to-end demo on procedural audio (nothing outside the package is needed).

Run with ``make demo`` or ``python -m audioscene.demo [--out DIR]``:

1. renders procedural event sounds and backgrounds, training mixtures and a 5-minute
   continuous test recording with its exact annotation;
2. trains a CaR-forest event detector on the training mixtures;
3. streams the test recording through ``audioscene detect`` (block by block, as a
   user would) and prints the events;
4. evaluates them against the truth (the DCASE 2016 metrics, sed_eval's counts and
   formulas) and writes an event-roll PNG
   (spectrogram, reference events and detected events);
5. when the real audio of ``../shared/data`` (or ``AUDIOSCENE_DATA``) is there, runs the
   bundled models with no ``--model``: ``audioscene classify`` on two ESC-10 fold-4
   clips, and ``audioscene detect`` on a 30-second mixture of four fold-4 clips over a
   background recording (the last by name). Fold 4 is held out from the bundled models'
   training; the bundled detector's recipe, at its seed 0, put that background
   recording on its test side.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .datasets.synth import (
    procedural_background,
    procedural_event,
    random_scene,
    write_soundscape,
)
from .evaluate import sed_metrics
from .events import EventList
from .features import FeatureConfig, extract
from .io_utils import atomic_open
from .models import EventDetector

CLASSES = ("beep", "chirp", "knock", "bell")
SR = 22050


def event_roll(audio: np.ndarray, sr: int, reference: EventList, estimated: EventList,
               path: Path, *, title: str = "") -> Path:
    """Write a PNG: log-mel spectrogram above, reference and estimated events below.

    Examples
    --------
    >>> event_roll(y, 22050, ref, est, Path("roll.png"))  # doctest: +SKIP
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cfg = FeatureConfig(sr=sr, n_fft=1024, hop_length=512, n_mels=64)
    X, _ = extract(audio, cfg)
    labels = sorted(set(reference.labels) | set(estimated.labels))
    fig, (ax0, ax1) = plt.subplots(2, 1, figsize=(14, 6), sharex=True,
                                   gridspec_kw={"height_ratios": [2, 1.4]})
    dur = len(audio) / sr
    ax0.imshow(X.T, origin="lower", aspect="auto", extent=(0, dur, 0, cfg.n_mels),
               cmap="magma", vmin=np.percentile(X, 5), vmax=X.max())
    ax0.set_ylabel("mel band")
    ax0.set_title(title or "event roll")
    for k, lab in enumerate(labels):
        for e in reference.filter(label=lab):
            ax1.broken_barh([(e.onset, e.duration)], (2 * k + 1.0, 0.8), color="tab:green")
        for e in estimated.filter(label=lab):
            ax1.broken_barh([(e.onset, e.duration)], (2 * k + 0.1, 0.8), color="tab:blue")
    ax1.set_yticks([2 * k + 1 for k in range(len(labels))], labels)
    ax1.set_ylim(0, 2 * len(labels))
    ax1.set_xlabel("time (s)")
    ax1.set_xlim(0, dur)
    from matplotlib.patches import Patch

    ax1.legend(handles=[Patch(color="tab:green", label="reference"),
                        Patch(color="tab:blue", label="detected")], loc="upper right")
    fig.tight_layout()
    with atomic_open(path, "wb") as f:
        fig.savefig(f, format="png", dpi=80)
    plt.close(fig)
    return path


def _cli(*args: str) -> subprocess.CompletedProcess:
    r = subprocess.run([sys.executable, "-m", "audioscene", *args], capture_output=True,
                       text=True)
    if r.returncode != 0:
        raise RuntimeError(f"audioscene {args[0]} failed: {r.stderr}")
    return r


def bundled_models_on_real_audio(out: Path, data: Path) -> bool:
    """Step 5 of the demo: the bundled classifier and detector on real audio, without
    ``--model``. Returns False (and says why) when ``data`` lacks ESC-10 or backgrounds.

    Examples
    --------
    >>> bundled_models_on_real_audio(Path("demo_out"), Path("../shared/data"))  # doctest: +SKIP
    True
    """
    import os

    from .audio import load
    from .datasets import read_esc10
    from .datasets.synth import EventSpec, render

    if not (data / "esc10").is_dir() or not (data / "backgrounds").is_dir():
        print(f"5. real audio not found at {data} (set AUDIOSCENE_DATA): bundled models "
              "not shown")
        return False
    esc = read_esc10(data)
    picks = {}
    for it in esc:
        if it.fold == 4 and it.label in ("Dog bark", "Rooster", "Baby cry", "Clock tick"):
            picks.setdefault(it.label, it.path)
    r = _cli("classify", str(picks["Dog bark"]), str(picks["Rooster"]))
    print("5. `audioscene classify` with no --model (the bundled esc10-classifier) on two "
          "ESC-10 fold-4 clips:")
    for line in r.stdout.splitlines():
        cells = line.split("\t")
        print(f"   {os.path.basename(cells[0]):<16} {cells[1]}")
    bg_files = sorted((data / "backgrounds").glob("*.wav"))
    sr = 22050
    bg, _ = load(bg_files[-1], sr=sr)
    specs = [EventSpec(load(p, sr=sr)[0], label, 2.0 + 7.0 * k, 6.0)
             for k, (label, p) in enumerate(sorted(picks.items()))]
    scape = render(bg, specs, sr=sr, duration=30.0)
    wav = write_soundscape(scape, out / "real", "esc10_fold4_mixture")
    r = _cli("detect", str(wav), "--format", "csv")
    est = EventList.from_text(r.stdout, format="csv")
    print(f"   `audioscene detect {wav}` with no --model (the bundled esc10-detector; "
          f"stderr: {r.stderr.splitlines()[0] if r.stderr else ''}):")
    for e in est:
        print(f"   {e.onset:6.2f} {e.offset:6.2f}  {e.label}")
    print("   truth: " + "; ".join(f"{e.onset:.2f}-{e.offset:.2f} {e.label}"
                                    for e in scape.events))
    return True


def run(out: str | Path = "demo_out", *, seed: int = 0, minutes: float = 5.0
        ) -> dict[str, float]:
    """Run the demo, writing into ``out``; returns the headline figures.

    Examples
    --------
    >>> figures = run("/tmp/demo", minutes=1.0)  # doctest: +SKIP
    """
    out = Path(out)
    t_all = time.perf_counter()
    rng = np.random.default_rng(seed)
    sources = {k: [procedural_event(k, sr=SR, rng=rng) for _ in range(6)] for k in CLASSES}
    bgs = [procedural_background(b, sr=SR, duration=20.0, rng=rng)
           for b in ("pink", "brown", "hum")]
    train = [random_scene(sources, bgs, sr=SR, duration=30.0, events_per_minute=24,
                          ebr_db=(-3.0, 9.0), max_polyphony=2, rng=rng) for _ in range(16)]
    test = random_scene(sources, bgs, sr=SR, duration=60.0 * minutes, events_per_minute=16,
                        ebr_db=(-3.0, 9.0), max_polyphony=2, rng=rng)
    test_wav = write_soundscape(test, out / "test", "recording")
    print(f"1. rendered {len(train)} training mixtures of 30 s and a {minutes:g}-minute "
          f"recording with {len(test.events)} events ({', '.join(CLASSES)}; EBR -3..9 dB, "
          f"polyphony <= 2) -> {test_wav}")

    t0 = time.perf_counter()
    det = EventDetector(n_estimators=10, max_depth=12, onset_threshold=6.0,
                        presence_threshold=0.6, random_state=seed)
    det.fit([s.audio for s in train], [s.events for s in train])
    det.save(out / "model")
    print(f"2. trained a CaR-forest detector ({len(CLASSES)} classes x 10 trees) in "
          f"{time.perf_counter() - t0:.1f} s -> {out / 'model'}")

    est_path = out / "detected.csv"
    t0 = time.perf_counter()
    _cli("detect", str(test_wav), "--model", str(out / "model"), "-o", str(est_path),
         "--format", "csv")
    wall = time.perf_counter() - t0
    est = EventList.read(est_path)
    print(f"3. streamed it through `audioscene detect {test_wav.name} --model "
          f"{out / 'model'}` in {wall:.1f} s (start-up included): {len(est)} events -> "
          f"{est_path}")
    for e in list(est)[:8]:
        print(f"   {e.onset:7.2f} {e.offset:7.2f}  {e.label:<6} confidence {e.confidence or 0:.2f}"
              if e.confidence is not None else f"   {e.onset:7.2f} {e.offset:7.2f}  {e.label}")
    if len(est) > 8:
        print(f"   ... {len(est) - 8} more")

    ref = test.events.with_filename(test_wav.name)
    est = est.with_filename(test_wav.name)
    res = sed_metrics(ref, est, durations={test_wav.name: test.duration})
    print("4. DCASE 2016 metrics (sed_eval's definitions) against the truth:")
    print("   " + res.report().replace("\n", "\n   "))
    roll = event_roll(test.audio, SR, ref, est, out / "event_roll.png",
                      title=f"{test_wav.name}: reference (green) and detected (blue)")
    print(f"   event roll -> {roll}")
    import os

    bundled_models_on_real_audio(out, Path(os.environ.get("AUDIOSCENE_DATA",
                                                          "../shared/data")))
    print(f"done in {time.perf_counter() - t_all:.1f} s")
    return {"event_onset_f1": res.event_onset.overall.f1 or 0.0,
            "segment_er": res.segment_based.overall.error_rate or 0.0,
            "n_events": float(len(est))}


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry of the demo.

    Examples
    --------
    >>> main(["--out", "/tmp/demo"])  # doctest: +SKIP
    0
    """
    p = argparse.ArgumentParser(prog="python -m audioscene.demo", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="demo_out", help="output folder (default: demo_out)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--minutes", type=float, default=5.0, help="length of the test recording")
    args = p.parse_args(argv)
    run(args.out, seed=args.seed, minutes=args.minutes)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
