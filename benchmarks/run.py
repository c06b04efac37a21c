"""Speed benchmarks, measured side by side in one run (medians of repeats, as ratios).

Run with ``make bench``. Rows:

* ``extract`` (log-mel, 40 bands, n_fft 2048, hop 1024, 44.1 kHz) against
  ``librosa.feature.melspectrogram`` with the same parameters (target >= 1.0x);
* ``FeatureStream`` fed 65536-sample blocks against ``extract`` (target >= 0.9x).

The audio is 10 minutes: the DCASE 2016 task 2 development mixtures when the shared
data is present (``AUDIOSCENE_DATA`` or ``../shared/data``), else procedural audio.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import librosa
import numpy as np

from audioscene.audio import load
from audioscene.features import FeatureConfig, FeatureStream, extract

SR = 44100
SECONDS = 600


def ten_minutes() -> tuple[np.ndarray, str]:
    root = Path(os.environ.get("AUDIOSCENE_DATA", Path(__file__).resolve().parents[2]
                               / "shared" / "data"))
    sound = root / "dcase2016_task2" / "dcase2016_task2_dev" / "sound"
    if sound.is_dir():
        parts, total = [], 0
        for p in sorted(sound.glob("*.flac")):
            y, _ = load(p, sr=SR)
            parts.append(y)
            total += len(y)
            if total >= SECONDS * SR:
                break
        return np.concatenate(parts)[: SECONDS * SR], f"DCASE 2016 task 2 dev mixtures ({sound})"
    from audioscene.datasets.synth import procedural_background

    return procedural_background("pink", sr=SR, duration=SECONDS, rng=0), "procedural pink noise"


def interleaved_times(fns: dict[str, Callable[[], object]], repeats: int
                      ) -> dict[str, list[float]]:
    """Time every function once per round, for ``repeats`` rounds, so that drift in the
    machine's speed touches all of them alike; the first round is a warm-up."""
    times: dict[str, list[float]] = {k: [] for k in fns}
    for r in range(repeats + 1):
        for k, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            if r:
                times[k].append(time.perf_counter() - t0)
    return times


def median_ratio(slow: list[float], fast: list[float]) -> float:
    """Median over rounds of slow/fast (> 1: ``fast`` is faster)."""
    return statistics.median(a / b for a, b in zip(slow, fast))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=9)
    args = ap.parse_args(argv)
    y, what = ten_minutes()
    cfg = FeatureConfig(sr=SR, n_fft=2048, hop_length=1024, n_mels=40, kind="logmel")
    block = 65536

    def ours() -> np.ndarray:
        return extract(y, cfg)[0]

    def ref() -> np.ndarray:
        return librosa.feature.melspectrogram(y=y, sr=SR, n_fft=2048, hop_length=1024,
                                              n_mels=40, center=False, power=2.0)

    def stream() -> np.ndarray:
        fs = FeatureStream(cfg)
        parts = [fs.process(y[i : i + block])[0] for i in range(0, len(y), block)]
        parts.append(fs.flush()[0])
        return np.concatenate(parts)

    assert stream().shape == ours().shape == ref().T.shape
    times = interleaved_times({"ref": ref, "ours": ours, "stream": stream}, args.repeats)
    t_ref, t_ours, t_stream = (statistics.median(times[k]) for k in ("ref", "ours", "stream"))
    rt = SECONDS
    print(f"audio: {SECONDS / 60:.0f} min at {SR} Hz, {what}; medians of {args.repeats} "
          "interleaved rounds (ratio: median of per-round ratios)")
    print(f"{'row':58s} {'median s':>9} {'x realtime':>11} {'ratio':>7} {'target':>7}")
    rows = [
        ("librosa.feature.melspectrogram (reference)", t_ref, None, None),
        ("extract (log-mel 40, n_fft 2048, hop 1024) vs librosa", t_ours,
         median_ratio(times["ref"], times["ours"]), 1.0),
        (f"FeatureStream ({block}-sample blocks) vs extract", t_stream,
         median_ratio(times["ours"], times["stream"]), 0.9),
    ]
    ok = True
    for name, t, ratio, target in rows:
        r = "" if ratio is None else f"{ratio:.2f}x"
        tg = "" if target is None else f">={target:.1f}x"
        print(f"{name:58s} {t:9.3f} {rt / t:11.0f} {r:>7} {tg:>7}")
        ok &= ratio is None or ratio >= target
    print("all targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
