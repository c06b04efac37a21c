"""Speed benchmarks, measured side by side in one run (medians of repeats, as ratios).

Run with ``make bench``. Rows:

* ``extract`` (log-mel, 40 bands, n_fft 2048, hop 1024, 44.1 kHz) against
  ``librosa.feature.melspectrogram`` with the same parameters (target >= 1.0x);
* ``FeatureStream`` fed 65536-sample blocks against ``extract`` (target >= 0.9x);
* ``CaRForest.fit`` against scikit-learn's ``RandomForestClassifier.fit`` with the same
  trees, depth, leaf size and samples per tree (target: at most 2x the time), and
  ``CaRForest.predict_proba`` against sklearn's (target: at least 2x faster); both also
  against ``ExtraTreesClassifier`` (random thresholds, the same kind of split search;
  reported), with the node counts of the three forests;
* streaming detection of 10 minutes from a file against a bare FFT pass over the
  model's frames (target: at least 1/3 of numpy's rfft throughput) and against offline
  prediction (target >= 0.9x), and the peak RSS of streaming a 2-hour file against a
  2-minute one (target: under 50 MB more);
* clip classification: masked batched inference of the all-convolutional network
  against one clip at a time on the same clips of different lengths (target >= 3x),
  and seconds per training epoch on ESC-10 folds 1-3 (reported, no target);
* detection back-ends (``--only backends --models CARFOREST CNN``): the same 10 minutes
  streamed through a CaR-forest and a CNN detector (target: the CNN >= 10x faster), and
  the CNN's peak RSS on a 2-hour against a 2-minute file (target: under 50 MB more);
* event-based metrics (onset-only and onset+offset, 11 classes) of 4,000 reference and
  about 4,000 estimated events in one file: the sorted-sweep counts against sed_eval's
  ``EventBasedMetrics.evaluate``, both ending in sed_eval's ``results()`` (target >= 20x,
  identical results), and 100,000 events in one file (target: under 2 s).

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
from typing import Any

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


def _rows(rows: list[tuple[str, float, float | None, float | None, str]]) -> bool:
    ok = True
    print(f"{'row':58s} {'median s':>9} {'ratio':>7} {'target':>8}")
    for name, t, ratio, target, sense in rows:
        r = "" if ratio is None else f"{ratio:.2f}x"
        tg = "" if target is None else f"{sense}{target:.1f}x"
        print(f"{name:58s} {t:9.3f} {r:>7} {tg:>8}")
        if ratio is not None and target is not None:
            ok &= ratio >= target if sense == ">=" else ratio <= target
    return ok


def bench_carforest(repeats: int) -> bool:
    """CaR-forest against scikit-learn's RandomForestClassifier: same trees, depth,
    leaf size and samples per tree, on real segment features (task 2 dev mixtures)."""
    from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier

    from audioscene.datasets import read_task2
    from audioscene.models import CaRForest, EventDetector, segment_targets

    root = Path(os.environ.get("AUDIOSCENE_DATA", Path(__file__).resolve().parents[2]
                               / "shared" / "data"))
    det = EventDetector()
    Xs, ys, Ds = [], [], []
    try:
        items = read_task2(root, "dev").items[:6]
    except Exception:  # noqa: BLE001 - no data: synthetic material
        items = []
    if items:
        for it in items:
            X, c = det.segments(det.frames(it.path))
            y, D = segment_targets(c, it.events, ["speech"])
            Xs.append(X)
            ys.append(y[:, 0])
            Ds.append(D[:, 0])
        X, y, D = np.concatenate(Xs), np.concatenate(ys).astype(int), np.concatenate(Ds)
        what = f"{len(X)} segments x {X.shape[1]} features of 6 task 2 dev mixtures, class speech"
    else:
        rng = np.random.default_rng(0)
        X = rng.normal(size=(36000, 280)).astype(np.float32)
        y = (X[:, 0] + X[:, 1] > 1.5).astype(int)
        D = np.abs(X[:, 2:4])
        what = "36000 random segments x 280 features"
    params = {"n_estimators": 20, "max_depth": 14, "min_samples_leaf": 5}
    car = CaRForest(**params, n_features_try=20, max_samples=0.5, random_state=0)
    skl = RandomForestClassifier(**params, max_features=20, max_samples=0.5, n_jobs=-1,
                                 random_state=0)
    # ExtraTrees draws random thresholds, as CaRForest does (n_thresholds per feature):
    # the same kind of split search, where RandomForest searches every threshold
    ext = ExtraTreesClassifier(**params, max_features=20, bootstrap=True, max_samples=0.5,
                               n_jobs=-1, random_state=0)
    times = interleaved_times({"car_fit": lambda: car.fit(X, y, displacements=D),
                               "skl_fit": lambda: skl.fit(X, y),
                               "ext_fit": lambda: ext.fit(X, y)}, max(1, repeats // 3))
    times.update(interleaved_times({"car_pred": lambda: car.predict_proba(X),
                                    "skl_pred": lambda: skl.predict_proba(X),
                                    "ext_pred": lambda: ext.predict_proba(X)}, repeats))
    nodes = {"car": int(len(car.trees_["feature"])),
             "skl": int(sum(e.tree_.node_count for e in skl.estimators_)),
             "ext": int(sum(e.tree_.node_count for e in ext.estimators_))}
    print(f"\nCaR-forest: {what}; 20 trees, depth 14, leaves >= 5, half the samples per tree; "
          f"medians of interleaved rounds; {os.cpu_count()} cores for all; nodes in the "
          f"forests: CaRForest {nodes['car']}, RandomForest {nodes['skl']}, "
          f"ExtraTrees {nodes['ext']}")
    med = {k: statistics.median(v) for k, v in times.items()}
    return _rows([
        ("sklearn RandomForestClassifier.fit (reference)", med["skl_fit"], None, None, ""),
        ("sklearn ExtraTreesClassifier.fit (random thresholds)", med["ext_fit"], None, None,
         ""),
        ("CaRForest.fit (classification + regression), time ratio", med["car_fit"],
         median_ratio(times["car_fit"], times["skl_fit"]), 2.0, "<="),
        ("CaRForest.fit, time ratio to ExtraTrees (reported)", med["car_fit"],
         median_ratio(times["car_fit"], times["ext_fit"]), None, ""),
        ("sklearn RandomForest predict_proba (reference)", med["skl_pred"], None, None, ""),
        ("sklearn ExtraTrees predict_proba", med["ext_pred"], None, None, ""),
        ("CaRForest.predict_proba, speed-up over RandomForest", med["car_pred"],
         median_ratio(times["skl_pred"], times["car_pred"]), 2.0, ">="),
        ("CaRForest.predict_proba, speed-up over ExtraTrees (reported)", med["car_pred"],
         median_ratio(times["ext_pred"], times["car_pred"]), None, ""),
    ])


def _bench_model(root: Path) -> tuple[Any, str]:
    """A task 2 CaR-forest detector with the recipe's architecture (11 classes x 20 trees,
    depth 14), trained on 30 synthesised mixtures (seed 0)."""
    from audioscene.datasets import read_task2
    from audioscene.datasets.synth import load_sources, random_scene
    from audioscene.models import EventDetector

    sr = 22050
    rng = np.random.default_rng(0)
    src = load_sources(read_task2(root, "train").root, sr=sr)
    bgs = [load(p, sr=sr)[0] for p in sorted((root / "backgrounds").glob("*.wav"))[:24]]
    scenes = [random_scene(src, bgs, sr=sr, duration=60.0, events_per_minute=25,
                           ebr_db=(-9.0, 9.0), max_polyphony=2, rng=rng) for _ in range(30)]
    det = EventDetector(random_state=0).fit([s.audio for s in scenes],
                                            [s.events for s in scenes])
    return det, "task 2 CaR-forest (11 classes x 20 trees, depth 14)"


_CHILD = """
import sys
from audioscene.audio import blocks
from audioscene.detect import StreamingDetector
from audioscene.models import EventDetector
sd = StreamingDetector(EventDetector.load(sys.argv[1]), filename="x")
n = 0
for b in blocks(sys.argv[2], block_length=1 << 19, sr=sd.sr):
    n += len(sd.process(b.samples))
n += len(sd.flush())
# peak resident set of this program (VmHWM; ru_maxrss would also count the parent's
# pages copied before exec)
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM")][0].split()[1]
print(int(hwm) * 1024, n)
"""


def _peak_rss(model_dir: Path, audio: Path) -> float:
    import subprocess

    out = subprocess.run([sys.executable, "-c", _CHILD, str(model_dir), str(audio)],
                         capture_output=True, text=True, check=True).stdout.split()
    return float(out[0])


def bench_streaming(repeats: int, model_dir: str | None) -> bool:
    """Streaming detection rows: throughput against a bare FFT pass and against offline
    prediction of the same 10 minutes, and peak RSS for a 2-minute and a 2-hour file."""
    import tempfile

    import scipy.fft
    import soundfile as sf

    from audioscene.audio import blocks
    from audioscene.detect import StreamingDetector
    from audioscene.models import EventDetector

    root = Path(os.environ.get("AUDIOSCENE_DATA", Path(__file__).resolve().parents[2]
                               / "shared" / "data"))
    if not (root / "dcase2016_task2").is_dir():
        print("\nstreaming: skipped (needs the task 2 data for a realistic model)")
        return True
    tmp = Path(tempfile.mkdtemp(prefix="audioscene-bench-"))
    if model_dir:
        det, what = EventDetector.load(model_dir), f"model {model_dir}"
    else:
        det, what = _bench_model(root)
        det.save(tmp / "model")
        model_dir = str(tmp / "model")
    sr = det.fconfig.sr
    y44, _ = ten_minutes()
    wav = tmp / "ten_minutes.wav"
    sf.write(wav, y44, SR, subtype="PCM_16")
    y, _ = load(wav, sr=sr)
    fc = det.fconfig
    frames = np.lib.stride_tricks.sliding_window_view(y, fc.n_fft)[:: fc.hop_length]
    win = np.hanning(fc.n_fft).astype(np.float32)
    block = 1 << 19

    def stream() -> int:
        sd = StreamingDetector(det, filename="x")
        n = sum(len(sd.process(b.samples)) for b in blocks(wav, block_length=block, sr=sr))
        return n + len(sd.flush())

    def offline() -> int:
        return len(det.predict(wav))

    fns = {"numpy_fft": lambda: np.fft.rfft(frames * win, axis=1),
           "scipy_fft": lambda: scipy.fft.rfft(frames * win, axis=1),
           "stream": stream, "offline": offline}
    assert stream() == offline()
    times = interleaved_times(fns, max(3, repeats // 2))
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"\nstreaming detection: {what}; 10 min of audio from a 44.1 kHz file, blocks of "
          f"{block} samples at {sr} Hz; FFT floor: rfft of the model's {len(frames)} "
          f"frames ({fc.n_fft} samples, hop {fc.hop_length}) already in memory")
    ok = _rows([
        ("numpy.fft.rfft of the frames (floor)", med["numpy_fft"], None, None, ""),
        ("scipy.fft.rfft of the frames (floor)", med["scipy_fft"], None, None, ""),
        ("stream: file -> events, throughput vs numpy rfft", med["stream"],
         median_ratio(times["stream"], times["numpy_fft"]) ** -1, 1 / 3, ">="),
        ("stream: throughput vs scipy rfft (reported)", med["stream"],
         median_ratio(times["stream"], times["scipy_fft"]) ** -1, None, ""),
        ("offline predict of the same file (reference)", med["offline"], None, None, ""),
        ("stream throughput vs offline", med["stream"],
         median_ratio(times["offline"], times["stream"]), 0.9, ">="),
    ])
    # memory: 2 minutes against 2 hours of the same audio, each in a fresh process
    short = tmp / "two_minutes.wav"
    sf.write(short, y[: 120 * sr], sr, subtype="PCM_16")
    long = tmp / "two_hours.wav"
    with sf.SoundFile(long, "w", sr, 1, subtype="PCM_16") as f:
        for _ in range(12):  # 12 x 10 min
            f.write(y)
    rss_short = _peak_rss(Path(model_dir), short)
    rss_long = _peak_rss(Path(model_dir), long)
    growth = (rss_long - rss_short) / 1e6
    print(f"{'peak RSS streaming 2 min':58s} {rss_short / 1e6:8.1f} MB")
    print(f"{'peak RSS streaming 2 h':58s} {rss_long / 1e6:8.1f} MB")
    print(f"{'growth 2 h - 2 min (target < 50 MB)':58s} {growth:8.1f} MB")
    ok &= growth < 50
    import shutil

    shutil.rmtree(tmp, ignore_errors=True)
    return ok


def _event_lists(n: int, seed: int) -> tuple[list, list]:
    """``n`` reference events of 11 classes in one file (one every 3 s on average, lengths
    exponential with mean 1.5 s) and an estimate: 85 % of them found with onset noise
    (0.1 s), offset noise (0.3 s) and 10 % wrong labels, plus 10 % insertions."""
    rng = np.random.default_rng(seed)
    on = np.sort(rng.uniform(0, 3.0 * n, n))
    length = rng.exponential(1.5, n) + 0.05
    lab = rng.integers(0, 11, n)
    ref = [(float(a), float(a + b), f"c{c}") for a, b, c in zip(on, length, lab)]
    est = []
    for a, b, c in ref:
        if rng.random() < 0.85:
            a2 = max(0.0, a + float(rng.normal(0, 0.1)))
            b2 = max(a2, b + float(rng.normal(0, 0.3)))
            est.append((a2, b2, c if rng.random() < 0.9 else f"c{rng.integers(11)}"))
    for a in rng.uniform(0, 3.0 * n, n // 10):
        est.append((float(a), float(a + rng.exponential(1.0)), f"c{rng.integers(11)}"))
    return ref, sorted(est)


def bench_evaluate(repeats: int) -> bool:
    """Event-based metrics: sorted-sweep counts against sed_eval, same events, same
    result objects."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import dcase_util
        import sed_eval

    from audioscene.evaluate.counts import add_counts, event_counts

    labels = [f"c{k}" for k in range(11)]

    def metrics() -> list:
        return [sed_eval.sound_event.EventBasedMetrics(labels, t_collar=0.2,
                                                       percentage_of_length=0.5,
                                                       evaluate_offset=off)
                for off in (False, True)]

    def reference(ref: list, est: list) -> list:
        R = dcase_util.containers.MetaDataContainer(
            [{"filename": "x", "onset": a, "offset": b, "event_label": c} for a, b, c in ref])
        E = dcase_util.containers.MetaDataContainer(
            [{"filename": "x", "onset": a, "offset": b, "event_label": c} for a, b, c in est])
        out = []
        for m in metrics():
            m.evaluate(R, E)
            out.append(m.results())
        return out

    def fast(ref: list, est: list) -> list:
        out = []
        for m in metrics():
            add_counts(m, *event_counts(ref, est, labels, evaluate_offset=m.evaluate_offset))
            out.append(m.results())
        return out

    ref, est = _event_lists(4000, 0)
    times: dict[str, list[float]] = {"sed_eval": [], "fast": []}
    same = True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        fast(ref, est)  # warm-up (imports); sed_eval's ~50 s rounds need none
        for _ in range(max(1, repeats // 4)):  # interleaved rounds, results compared
            t0 = time.perf_counter()
            a = reference(ref, est)
            t1 = time.perf_counter()
            b = fast(ref, est)
            t2 = time.perf_counter()
            times["sed_eval"].append(t1 - t0)
            times["fast"].append(t2 - t1)
            same &= str(a) == str(b)
        big_ref, big_est = _event_lists(100_000, 1)
        big = interleaved_times({"fast": lambda: fast(big_ref, big_est)}, max(1, repeats // 3))
    med = {k: statistics.median(v) for k, v in times.items()}
    t_big = statistics.median(big["fast"])
    print(f"\nEvent-based metrics (onset-only + onset+offset, 11 classes, one file): "
          f"{len(ref)} reference / {len(est)} estimated events; results identical to "
          f"sed_eval: {same}; {len(big_ref)} / {len(big_est)} events for the last row")
    ok = _rows([
        ("sed_eval EventBasedMetrics.evaluate, 4,000 events (ref.)", med["sed_eval"], None,
         None, ""),
        ("sorted-sweep counts, 4,000 events, speed-up", med["fast"],
         median_ratio(times["sed_eval"], times["fast"]), 20.0, ">="),
    ])
    print(f"{'sorted-sweep counts, 100,000 events (target: under 2 s)':58s} {t_big:9.3f}")
    return ok and same and t_big < 2.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--only", choices=["features", "carforest", "streaming", "clips",
                                       "evaluate", "startup", "backends"],
                    default=None)
    ap.add_argument("--model", help="streaming rows: use this model folder instead of "
                    "training one")
    ap.add_argument("--models", nargs=2, metavar=("CARFOREST", "CNN"),
                    help="backends rows: a CaR-forest and a CNN detector folder (e.g. the "
                    "task 2 recipe's OUT/model-car-forest and OUT/model-cnn); without "
                    "them the rows are skipped")
    args = ap.parse_args(argv)
    ok = True
    if args.only in (None, "features"):
        ok &= bench_features(args.repeats)
    if args.only in (None, "carforest"):
        ok &= bench_carforest(args.repeats)
    if args.only in (None, "streaming"):
        ok &= bench_streaming(args.repeats, args.model)
    if args.only in (None, "clips"):
        ok &= bench_clips(args.repeats)
    if args.only in (None, "evaluate"):
        ok &= bench_evaluate(args.repeats)
    if args.only in (None, "startup"):
        ok &= bench_startup(args.repeats, args.model)
    if args.only in (None, "backends"):
        ok &= bench_backends(max(1, args.repeats // 3), args.models)
    print("\nall targets met" if ok else "\nTARGET MISSED")
    return 0 if ok else 1


def bench_features(repeats: int) -> bool:
    """Feature extraction rows."""
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
    times = interleaved_times({"ref": ref, "ours": ours, "stream": stream}, repeats)
    t_ref, t_ours, t_stream = (statistics.median(times[k]) for k in ("ref", "ours", "stream"))
    rt = SECONDS
    print(f"audio: {SECONDS / 60:.0f} min at {SR} Hz, {what}; medians of {repeats} "
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
    return ok


def bench_clips(repeats: int) -> bool:
    """Clip network rows: batched masked inference, and training epochs on ESC-10."""
    import torch

    from audioscene.datasets import read_esc10
    from audioscene.models import CNN_FEATURES, ClipClassifier
    from audioscene.recipes.clips import frames_for

    root = Path(os.environ.get("AUDIOSCENE_DATA", Path(__file__).resolve().parents[2]
                               / "shared" / "data"))
    rng = np.random.default_rng(0)
    try:
        items = [it for it in read_esc10(root) if it.fold in (1, 2, 3)]
    except Exception:  # noqa: BLE001 - no data: random features
        items = []
    if items:
        F = frames_for([it.path for it in items], CNN_FEATURES, jobs=os.cpu_count() or 1,
                       desc="esc10 features")
        frames = [F[it.path] for it in items]
        labels = [it.label for it in items]
        what = f"ESC-10 folds 1-3 ({len(items)} clips of 5 s)"
    else:
        frames = [rng.normal(size=(215, 64)).astype(np.float32) for _ in range(240)]
        labels = [str(i % 10) for i in range(240)]
        what = "240 random 215 x 64 feature maps"
    # one epoch of the recipe's network and settings, timed per epoch
    clf = ClipClassifier(max_epochs=max(3, repeats // 3), validation_fraction=0.0,
                         progress=False, mixup=0.3)
    clf.fit(frames, labels)
    per_epoch = statistics.median(h["seconds"] for h in clf.history_)
    # inference on clips cut to random lengths of 0.5 to 5 s
    cut = [f[: int(rng.integers(22, len(f) + 1))] for f in frames]
    one = [lambda f=f: clf.predict_proba([f]) for f in cut]
    np.testing.assert_allclose(clf.predict_proba(cut),
                               np.concatenate([fn() for fn in one]), atol=1e-4)
    times = interleaved_times({"single": lambda: [fn() for fn in one],
                               "batched": lambda: clf.predict_proba(cut)}, max(1, repeats // 3))
    print(f"\nclips: {what}; {torch.get_num_threads()} torch threads; inference on the "
          f"clips cut to 0.5-5 s; medians of interleaved rounds")
    return _rows([
        ("AllConvNet one clip at a time (reference)", statistics.median(times["single"]),
         None, None, ""),
        ("AllConvNet masked batches, speed-up", statistics.median(times["batched"]),
         median_ratio(times["single"], times["batched"]), 3.0, ">="),
        ("ClipClassifier training, seconds per epoch (ESC-10 folds 1-3)", per_epoch, None,
         None, ""),
    ])




_RUN_CLI = """
import sys
from audioscene.cli import main
code = main(sys.argv[1:])
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM")][0].split()[1]
print(f"RSS {int(hwm) * 1024} TORCH {'torch' in sys.modules} CODE {code}", file=sys.stderr)
"""


_RSS_STEPS = """
import sys
import numpy as np
def rss():
    kb = [l for l in open("/proc/self/status") if l.startswith("VmRSS")][0].split()[1]
    return int(kb) / 1000
print("python and numpy", rss())
import scipy.ndimage
print("+ scipy.ndimage", rss())
import numba
print("+ numba", rss())
from audioscene.models import load_model
m = load_model(sys.argv[1])
print("+ model loaded", rss())
from audioscene.detect import StreamingDetector
sd = StreamingDetector(m, filename="x")
sd.process(np.zeros(1 << 19, np.float32))
print("+ first block of 2^19 samples", rss())
heavy = [k for k in ("torch", "sklearn", "librosa", "scipy.signal") if k in sys.modules]
print("heavy modules imported: " + (", ".join(heavy) or "none"))
"""


def _cli_peak(args: list[str]) -> tuple[float, bool]:
    """Peak RSS (VmHWM, bytes) of one ``audioscene`` command run in a fresh process, and
    whether it imported torch."""
    import subprocess

    r = subprocess.run([sys.executable, "-c", _RUN_CLI, *args], capture_output=True,
                       text=True)
    line = [x for x in r.stderr.splitlines() if x.startswith("RSS ")]
    if not line or not line[-1].endswith("CODE 0"):
        raise RuntimeError(f"audioscene {' '.join(args)} failed: {r.stderr[-500:]}")
    parts = line[-1].split()
    return float(parts[1]), parts[3] == "True"


def _write_noise(path: Path, seconds: float, sr: int) -> Path:
    """A long test file written block by block (tones over noise, PCM 16)."""
    import soundfile as sf

    rng = np.random.default_rng(0)
    block = sr * 60
    with sf.SoundFile(path, "w", samplerate=sr, channels=1, subtype="PCM_16") as f:
        done = 0
        while done < seconds * sr:
            n = int(min(block, seconds * sr - done))
            t = (done + np.arange(n)) / sr
            y = 0.05 * rng.standard_normal(n) + 0.2 * np.sin(2 * np.pi * 600 * t) * (t % 9 < 2)
            f.write(y.astype(np.float32))
            done += n
    return path


def bench_startup(repeats: int, model_dir: str | None) -> bool:
    """Start-up and memory ceilings: ``import audioscene`` and ``audioscene --help`` wall
    times (medians of fresh processes, beside a bare interpreter), ``audioscene detect``
    with a CaR-forest model (torch never imported, peak RSS on a 2-minute file), and
    ``audioscene classify`` on a 2-hour against a 2-minute file (peak RSS)."""
    import subprocess
    import tempfile

    def wall(cmd: list[str]) -> float:
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        return time.perf_counter() - t0

    exe = Path(sys.executable).parent / "audioscene"
    cli = [str(exe)] if exe.exists() else [sys.executable, "-m", "audioscene"]
    runs: dict[str, list[float]] = {"bare": [], "import": [], "help": []}
    for _ in range(repeats):  # interleaved, so drift hits all rows alike
        runs["bare"].append(wall([sys.executable, "-c", "pass"]))
        runs["import"].append(wall([sys.executable, "-c", "import audioscene"]))
        runs["help"].append(wall([*cli, "--help"]))
    med = {k: float(np.median(v)) for k, v in runs.items()}
    print("\nstart-up (medians of fresh processes)")
    print(f"{'python -c pass (reference)':58s} {med['bare']:9.3f} s")
    label = 'python -c "import audioscene" (target: <= 0.5 s)'
    print(f"{label:58s} {med['import']:9.3f} s")
    print(f"{'audioscene --help (target: <= 0.7 s)':58s} {med['help']:9.3f} s")
    ok = med["import"] <= 0.5 and med["help"] <= 0.7

    from audioscene.models import ClipClassifier

    tmp = Path(tempfile.mkdtemp(prefix="audioscene-bench-"))
    root = Path(os.environ.get("AUDIOSCENE_DATA", Path(__file__).resolve().parents[2]
                               / "shared" / "data"))
    if model_dir:
        det_dir, what = Path(model_dir), f"model {model_dir}"
    elif (root / "dcase2016_task2").is_dir():
        det, what = _bench_model(root)
        det_dir = det.save(tmp / "det")
    else:
        det_dir = None
        print("detect rows: skipped (needs the task 2 data or --model)")
    if det_dir is not None:
        two_min = _write_noise(tmp / "2min.wav", 120, 22050)
        rss, torch_used = _cli_peak(["detect", str(two_min), "--model", str(det_dir),
                                     "-o", str(tmp / "ev.txt")])
        print(f"detect, {what}")
        print(f"{'  imports torch (target: no)':58s} {'yes' if torch_used else 'no':>9s}")
        print(f"{'  peak RSS, 2-minute file (target: <= 250 MB)':58s} {rss / 1e6:9.1f} MB")
        ok &= not torch_used and rss <= 250e6
        import subprocess

        steps = subprocess.run([sys.executable, "-c", _RSS_STEPS, str(det_dir)],
                               capture_output=True, text=True, check=True).stdout
        print("  resident set after each step of a detection process (reported)")
        for line in steps.strip().splitlines():
            if line.startswith("heavy"):
                print(f"    {line}")
                continue
            step, mb = line.rsplit(" ", 1)
            print(f"{'    ' + step:58s} {float(mb):9.1f} MB")

    # classify: the recipes' CNN architecture and features, weights from a short fit
    rng = np.random.default_rng(0)
    X = [rng.normal(size=(int(rng.integers(100, 300)), 64)).astype(np.float32)
         for _ in range(16)]
    clf = ClipClassifier(max_epochs=1, progress=False, validation_fraction=0)
    clf.fit(X, [f"c{i % 4}" for i in range(16)])
    clf.save(tmp / "clf")
    short = _write_noise(tmp / "c2min.wav", 120, 22050)
    long = _write_noise(tmp / "c2h.wav", 7200, 22050)
    # the peak of one run varies by tens of MB (allocator state): medians of interleaved runs
    peaks: dict[str, list[float]] = {"short": [], "long": []}
    for _ in range(3):
        for key, f in (("short", short), ("long", long)):
            peaks[key].append(_cli_peak(["classify", str(f), "--model", str(tmp / "clf")])[0])
    rss_s, rss_l = (float(np.median(peaks[k])) for k in ("short", "long"))
    print("classify (AllConvNet, 64 log-mel bands, 22.05 kHz; medians of 3 interleaved runs)")
    print(f"{'  peak RSS, 2-minute file':58s} {rss_s / 1e6:9.1f} MB")
    print(f"{'  peak RSS, 2-hour file':58s} {rss_l / 1e6:9.1f} MB")
    print(f"{'  2-hour minus 2-minute (target: <= 100 MB)':58s} "
          f"{(rss_l - rss_s) / 1e6:+9.1f} MB")
    ok &= rss_l - rss_s <= 100e6
    return ok


def bench_backends(repeats: int, models: list[str] | None) -> bool:
    """Detection back-ends side by side: the same 10 minutes streamed (blocks of 2^19
    samples from a file) through a CaR-forest and a CNN detector, and the CNN's peak RSS
    on a 2-hour against a 2-minute file."""
    import tempfile

    import soundfile as sf

    from audioscene.audio import blocks
    from audioscene.detect import StreamingDetector
    from audioscene.models import load_model

    if not models:
        print("\nbackends: skipped (pass --models CARFOREST CNN)")
        return True
    car, cnn = load_model(models[0]), load_model(models[1])
    tmp = Path(tempfile.mkdtemp(prefix="audioscene-bench-"))
    y44, what = ten_minutes()
    wav = tmp / "ten_minutes.wav"
    sf.write(wav, y44, SR, subtype="PCM_16")

    def run(model: Any) -> Callable[[], int]:
        def go() -> int:
            sd = StreamingDetector(model, filename="x")
            n = sum(len(sd.process(b.samples))
                    for b in blocks(wav, block_length=1 << 19, sr=model.fconfig.sr))
            return n + len(sd.flush())
        return go

    times = interleaved_times({"car": run(car), "cnn": run(cnn)}, repeats)
    print(f"\nbackends: {what}; models {models[0]} and {models[1]}; medians of {repeats} "
          "interleaved rounds")
    ok = _rows([
        ("stream 10 min, CaR-forest (reference)", statistics.median(times["car"]), None,
         None, ""),
        ("stream 10 min, CNN, speed-up over the CaR-forest", statistics.median(times["cnn"]),
         median_ratio(times["car"], times["cnn"]), 10.0, ">="),
    ])
    short = _write_noise(tmp / "2min.wav", 120, cnn.fconfig.sr)
    long = _write_noise(tmp / "2h.wav", 7200, cnn.fconfig.sr)
    peaks: dict[str, list[float]] = {"short": [], "long": []}
    for _ in range(2):
        for key, f in (("short", short), ("long", long)):
            peaks[key].append(_cli_peak(["detect", str(f), "--model", models[1], "-o",
                                         str(tmp / f"ev-{key}.txt")])[0])
    rss_s, rss_l = (float(np.median(peaks[k])) for k in ("short", "long"))
    print(f"{'CNN detect, peak RSS, 2-minute file':58s} {rss_s / 1e6:9.1f} MB")
    print(f"{'CNN detect, peak RSS, 2-hour file':58s} {rss_l / 1e6:9.1f} MB")
    print(f"{'  2-hour minus 2-minute (target: <= 50 MB)':58s} {(rss_l - rss_s) / 1e6:+9.1f} MB")
    return ok and rss_l - rss_s <= 50e6


if __name__ == "__main__":
    sys.exit(main())
