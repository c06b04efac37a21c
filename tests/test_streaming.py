"""Streaming detection: same events as offline for any block sizes, bounded memory,
hysteresis decoding, and `audioscene detect` (stdin, batches, --jobs, --skip-existing,
--scores, every --format, the Ray backend)."""

from __future__ import annotations

import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audioscene.audio import load
from audioscene.datasets import read_task2
from audioscene.datasets.synth import load_sources, random_scene
from audioscene.decode import class_competition
from audioscene.detect import HysteresisDecoder, StreamingDetector, hysteresis_events
from audioscene.events import EventList
from audioscene.models import EventDetector

SR = 22050


@pytest.fixture(scope="module")
def task2_model(shared_data: Path, tmp_path_factory) -> Path:
    """A small CaR-forest detector trained on synthesised task 2 material."""
    rng = np.random.default_rng(0)
    train = read_task2(shared_data, "train")
    src = {k: v[:6] for k, v in load_sources(train.root, sr=SR).items()}
    bgs = [load(p, sr=SR)[0] for p in sorted((shared_data / "backgrounds").glob("*.wav"))[:6]]
    scenes = [random_scene(src, bgs, sr=SR, duration=40.0, events_per_minute=30,
                           ebr_db=(-6.0, 6.0), max_polyphony=2, rng=rng) for _ in range(8)]
    det = EventDetector(n_estimators=4, max_depth=10, onset_threshold=4.0,
                        presence_threshold=0.5, random_state=0)
    det.fit([s.audio for s in scenes], [s.events for s in scenes])
    d = tmp_path_factory.mktemp("model")
    det.save(d)
    return d


@pytest.fixture(scope="module")
def mixture(shared_data: Path) -> tuple[Path, np.ndarray]:
    p = (shared_data / "dcase2016_task2" / "dcase2016_task2_dev" / "sound"
         / "dev_1_ebr_0_nec_4_poly_1.flac")
    y, _ = load(p, sr=SR, duration=60.0)
    return p, y


@pytest.fixture(scope="module")
def offline(task2_model: Path, mixture) -> EventList:
    _, y = mixture
    return EventDetector.load(task2_model).predict(y, filename="m")


def _stream(model: EventDetector, y: np.ndarray, sizes: list[int], decoder: str = "votes"
            ) -> EventList:
    sd = StreamingDetector(model, filename="m", decoder=decoder)
    out, i, k = [], 0, 0
    while i < len(y):
        n = sizes[k % len(sizes)]
        out.extend(sd.process(y[i : i + n]))
        i += n
        k += 1
    out.extend(sd.flush())
    return EventList(out)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sizes=st.lists(st.integers(200, 60000), min_size=1, max_size=8))
def test_streaming_equals_offline_for_random_blocks(task2_model: Path, mixture, offline,
                                                    sizes: list[int]) -> None:
    _, y = mixture
    model = EventDetector.load(task2_model)
    got = _stream(model, y, sizes)
    assert len(offline) > 5
    assert got == offline  # identical labels and times (the pipeline is exact)
    assert [e.confidence for e in got] == [e.confidence for e in offline]


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sizes=st.lists(st.integers(1, 70000), min_size=1, max_size=8))
def test_frames_and_segments_stream_exactly(mixture, sizes: list[int]) -> None:
    from audioscene.features import FeatureStream, extract
    from audioscene.features.segments import SegmentStream, segment_features
    from audioscene.models.event_detector import DEFAULT_FEATURES

    _, y = mixture
    X, _ = extract(y, DEFAULT_FEATURES)
    fs, ss = FeatureStream(DEFAULT_FEATURES), SegmentStream()
    frames, segs, i, k = [], [], 0, 0
    while i < len(y):
        F = fs.process(y[i : i + sizes[k % len(sizes)]])[0]
        frames.append(F)
        segs.append(ss.process(F))
        i += sizes[k % len(sizes)]
        k += 1
    frames.append(fs.flush()[0])
    segs += [ss.process(frames[-1]), ss.flush()]
    np.testing.assert_array_equal(np.concatenate(frames), X)  # exact, not close
    np.testing.assert_array_equal(np.concatenate(segs), segment_features(X))


def test_events_are_released_before_the_end(task2_model: Path, mixture, offline) -> None:
    _, y = mixture
    sd = StreamingDetector(EventDetector.load(task2_model), filename="m")
    early = []
    for i in range(0, len(y), 22050):
        early.extend(sd.process(y[i : i + 22050]))
    # everything but the last `latency` seconds is out before flush()
    due = [e for e in offline if e.onset < len(y) / SR - sd.latency]
    assert len(due) > len(offline) // 2 and set(due) <= set(early)
    assert sd.latency < 15.0
    assert EventList(early + list(sd.flush())) == offline


def test_hysteresis_decoder_stream_equals_offline(task2_model: Path, mixture) -> None:
    _, y = mixture
    model = EventDetector.load(task2_model)
    params = {"high": 0.6, "low": 0.4, "median": 5, "min_duration": 0.1, "min_gap": 0.1}
    a = EventList()
    sd = StreamingDetector(model, filename="m", decoder="hysteresis", hysteresis=params)
    for i in range(0, len(y), 7777):
        a += sd.process(y[i : i + 7777])
    a += sd.flush()
    curves = model.curves(y)
    hop = model.fconfig.hop_seconds
    b = hysteresis_events(curves.presence, model.classes_, hop=hop,
                          offset=curves.centres[0] - hop / 2, filename="m", **params)
    assert a == b and len(a) > 3


def test_hysteresis_semantics() -> None:
    s = np.zeros((30, 2))
    s[2:6, 0] = 0.9   # event 1 of class a ...
    s[6:7, 0] = 0.5   # ... held above low
    s[8:12, 0] = 0.9  # a gap of one frame: merged with event 1
    s[20:21, 0] = 0.9  # too short: dropped
    s[4:25, 1] = 0.8  # class b overlaps class a
    ev = hysteresis_events(s, ["a", "b"], hop=0.1, high=0.7, low=0.4, min_duration=0.2,
                           min_gap=0.15)
    got = [(e.label, round(e.onset, 3), round(e.offset, 3)) for e in ev]
    assert got == [("a", 0.2, 1.2), ("b", 0.4, 2.5)]
    hd = HysteresisDecoder(["a", "b"], hop=0.1, high=0.7, low=0.4, min_duration=0.2,
                           min_gap=0.15)
    parts = [hd.process(s[i : i + 3]) for i in range(0, 30, 3)] + [hd.flush()]
    assert EventList([e for p in parts for e in p]) == ev
    with pytest.raises(ValueError, match="low"):
        HysteresisDecoder(["a"], hop=0.1, high=0.3, low=0.5)


def test_class_competition_damps_echoes_of_a_stronger_class() -> None:
    s = np.array([[0.8, 0.4, 0.2], [0.0, 0.0, 0.0], [0.5, 0.5, 0.1]])
    got = class_competition(s, 2.0)
    want = np.array([[0.8, 0.4 * 0.5 ** 2, 0.2 * 0.25 ** 2], [0.0, 0.0, 0.0],
                     [0.5, 0.5, 0.1 * 0.2 ** 2]])
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)
    assert class_competition(s, 0.0) is s  # off: the scores themselves
    with pytest.raises(ValueError, match="competition"):
        class_competition(s, -1.0)
    with pytest.raises(ValueError, match="competition"):
        HysteresisDecoder(["a"], hop=0.1, competition=-0.5)
    # class b echoes class a at 0.6 of its level: an event without competition, none with
    # it; class c overlaps a at the same level and survives
    x = np.zeros((20, 3))
    x[5:15, 0] = 0.9
    x[5:15, 1] = 0.55
    x[8:12, 2] = 0.9
    plain = hysteresis_events(x, ["a", "b", "c"], hop=0.1, high=0.5)
    assert sorted({e.label for e in plain}) == ["a", "b", "c"]
    comp = hysteresis_events(x, ["a", "b", "c"], hop=0.1, high=0.5, competition=1.0)
    assert [e.label for e in comp] == ["a", "c"]
    # the decoder with competition is the plain decoder fed the transformed scores, in any
    # blocks (the transform is per frame)
    rng = np.random.default_rng(0)
    S = rng.random((200, 3))
    want_ev = hysteresis_events(class_competition(S, 1.5), ["a", "b", "c"], hop=0.1,
                                high=0.5, median=5, min_gap=0.2)
    hd = HysteresisDecoder(["a", "b", "c"], hop=0.1, high=0.5, median=5, min_gap=0.2,
                           competition=1.5)
    cuts = np.sort(rng.choice(np.arange(1, 200), 12, replace=False))
    parts = [hd.process(b) for b in np.split(S, cuts)] + [hd.flush()]
    assert len(want_ev) > 0
    assert EventList([e for p in parts for e in p]) == want_ev


def test_memory_is_bounded_by_the_block_not_the_stream(task2_model: Path) -> None:
    # 20 minutes generated block by block (never held whole): the traced peak stays far
    # below the size of the signal itself (20 min x 22050 Hz x 4 bytes = 106 MB)
    model = EventDetector.load(task2_model)
    sd = StreamingDetector(model, filename="long")
    rng = np.random.default_rng(0)
    block = 1 << 15
    n_blocks = int(20 * 60 * SR / block)
    tone = 0.3 * np.sin(2 * np.pi * 1000 * np.arange(block) / SR).astype(np.float32)
    sd.process((0.01 * rng.standard_normal(block)).astype(np.float32))  # warm-up
    tracemalloc.start()
    for k in range(n_blocks):
        y = (0.01 * rng.standard_normal(block)).astype(np.float32)
        if k % 7 == 0:
            y += tone
        sd.process(y)
    _, peak = tracemalloc.get_traced_memory()
    sd.flush()
    tracemalloc.stop()
    assert peak < 40e6, f"peak traced memory {peak / 1e6:.1f} MB"
    assert sd.stream.curves.raw_on.shape[1] < 10000 and all(len(p.on) < 5000 for p in sd.stream.pairers)
    assert sd.stream.n_frames > 59000  # the whole 20 minutes went through


# ----------------------------------------------------------------------------- CLI


def _cli(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "audioscene", "detect", *args],
                          input=stdin, capture_output=True)


def test_cli_stdin_streams_events(tmp_path: Path, task2_model: Path, mixture, offline) -> None:
    _, y = mixture
    wav = tmp_path / "m.wav"
    sf.write(wav, y, SR, subtype="FLOAT")
    r = _cli("-", "--model", str(task2_model), stdin=wav.read_bytes())
    assert r.returncode == 0, r.stderr
    got = EventList.from_text(r.stdout.decode())
    want = EventList(e.__class__(e.onset, e.offset, e.label, None, "stdin") for e in offline)
    assert got == want


_PROBE = """
import sys
from audioscene.cli import main
code = main(sys.argv[1:])
heavy = ("torch", "sklearn", "librosa", "scipy.signal", "pandas")
print("LOADED", ",".join(m for m in heavy if m in sys.modules), "CODE", code, file=sys.stderr)
"""


def test_cli_detect_with_a_forest_imports_no_heavy_library(tmp_path: Path, task2_model: Path,
                                                           mixture, offline) -> None:
    # the model file carries its window and mel filterbank, so detection needs neither
    # librosa (nor its scipy.signal) nor scikit-learn, and gives the offline events
    _, y = mixture
    wav = tmp_path / "m.wav"
    sf.write(wav, y, SR, subtype="FLOAT")
    out = tmp_path / "ev.csv"
    r = subprocess.run([sys.executable, "-c", _PROBE, "detect", str(wav), "--model",
                        str(task2_model), "-o", str(out), "--format", "csv"],
                       capture_output=True, text=True)
    line = [x for x in r.stderr.splitlines() if x.startswith("LOADED")]
    assert line and line[-1] == "LOADED  CODE 0", r.stderr[-2000:]
    assert [(e.onset, e.offset, e.label) for e in EventList.read(out)] == \
        [(e.onset, e.offset, e.label) for e in offline]


@pytest.mark.parametrize("fmt", ["dcase", "csv", "json", "audacity", "raven"])
def test_cli_formats_read_back(tmp_path: Path, task2_model: Path, mixture, offline,
                               fmt: str) -> None:
    _, y = mixture
    wav = tmp_path / "m.wav"
    sf.write(wav, y, SR, subtype="FLOAT")
    out = tmp_path / "out"
    r = _cli(str(wav), "--model", str(task2_model), "-o", str(out), "--format", fmt)
    assert r.returncode == 0, r.stderr
    (f,) = [p for p in out.iterdir()]
    back = EventList.read(f)
    assert [(e.onset, e.offset, e.label) for e in back] == \
        [(e.onset, e.offset, e.label) for e in offline]


def test_cli_batch_jobs_scores_skip_existing_and_a_corrupt_file(
        tmp_path: Path, task2_model: Path, mixture) -> None:
    _, y = mixture
    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    for name, part in (("a.wav", y[: 20 * SR]), ("sub/b.flac", y[20 * SR : 45 * SR])):
        sf.write(src / name, part, SR)
    (src / "c.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    out = tmp_path / "out"
    r = _cli(str(src), "--model", str(task2_model), "-o", str(out), "--jobs", "2",
             "--scores")
    err = r.stderr.decode()
    assert r.returncode == 1 and "c.wav" in err and "1 of 3 input(s) failed" in err
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*")) == [
        "a.scores.tsv", "a.txt", "sub", "sub/b.scores.tsv", "sub/b.txt"]
    scores = (out / "a.scores.tsv").read_text().split("\n")
    model = EventDetector.load(task2_model)
    assert scores[0].split("\t") == ["onset", "offset", *model.classes_]
    assert len(scores) - 2 == len(model.curves(y[: 20 * SR]).centres)
    assert EventList.read(out / "a.txt") == model.predict(src / "a.wav")
    before = (out / "a.txt").stat().st_mtime_ns
    r = _cli(str(src), "--model", str(task2_model), "-o", str(out), "--skip-existing")
    # a and sub/b are done; only the corrupt file is tried (and fails) again
    assert r.returncode == 1 and b"0 file(s)" in r.stderr and b"1 of 1 input" in r.stderr
    assert (out / "a.txt").stat().st_mtime_ns == before


def test_ray_backend_gives_the_local_results(tmp_path: Path, task2_model: Path, mixture) -> None:
    pytest.importorskip("ray")
    _, y = mixture
    src = tmp_path / "in"
    src.mkdir()
    for k in range(3):
        sf.write(src / f"f{k}.wav", y[k * 15 * SR : (k + 1) * 15 * SR], SR)
    env_out = {}
    for backend in ("local", "ray"):
        out = tmp_path / backend
        r = subprocess.run([sys.executable, "-m", "audioscene", "detect", str(src), "--model",
                            str(task2_model), "-o", str(out), "--backend", backend],
                           capture_output=True, env={**__import__("os").environ,
                                                     "RAY_num_cpus": "2"})
        assert r.returncode == 0, r.stderr.decode()[-2000:]
        env_out[backend] = {p.name: p.read_text() for p in sorted(out.iterdir())}
    assert env_out["ray"] == env_out["local"] and len(env_out["ray"]) == 3


# ------------------------------------------- detect: thresholds, filters, batch summary


def _detect(*args: object) -> int:
    from audioscene.cli import main

    return main(["detect", *map(str, args)])


def _rows(events: EventList) -> list[tuple]:
    """Events as written (times to the ms, confidences to 4 decimals), every field."""
    return [(e.onset, e.offset, e.label, e.confidence, e.filename) for e in events.rounded()]


def test_cli_thresholds_equal_offline_decoding(tmp_path: Path, task2_model: Path,
                                               mixture) -> None:
    _, y = mixture
    wav = tmp_path / "m.wav"
    sf.write(wav, y, SR, subtype="FLOAT")
    model = EventDetector.load(task2_model)
    classes = model.classes_
    curves = model.curves(wav)
    out = tmp_path / "ev.csv"

    def run(*args: object) -> list[tuple]:
        assert _detect(wav, "--model", task2_model, "-o", out, "--format", "csv", *args) == 0
        return _rows(EventList.read(out))

    # votes: --threshold is every class's presence threshold (the model's is 0.5)
    default = model.decode(curves, filename="m.wav")
    want = model.decode(curves, filename="m.wav", thresholds=0.7)
    assert 0 < len(want) < len(default)
    assert run("--threshold", 0.7) == _rows(want)
    # a file sets some classes; the others keep --threshold
    thr = np.full(len(classes), 0.6)
    thr[0], thr[1] = 0.3, 0.9
    f = tmp_path / "thr.txt"
    f.write_text(f"# by hand\nlabel\tthreshold\n{classes[0]}\t0.3\n\n{classes[1]},0.9\n")
    want = model.decode(curves, filename="m.wav", thresholds=thr)
    assert want != model.decode(curves, filename="m.wav", thresholds=0.6)
    assert run("--threshold", 0.6, "--thresholds", f) == _rows(want)
    # hysteresis: the opening (and closing) threshold of the segments' P(present); the
    # classes not in the file keep the decoder's 0.5
    high = np.full(len(classes), 0.5)
    high[0], high[1] = 0.3, 0.9
    hop = model.fconfig.hop_seconds * model.sconfig.hop
    want = hysteresis_events(curves.presence, classes, hop=hop,
                             offset=curves.centres[0] - hop / 2, filename="m.wav", high=high)
    assert len(want) > 3
    assert run("--decoder", "hysteresis", "--thresholds", f) == _rows(want)


def test_cli_classes_and_min_confidence_filter_exactly(tmp_path: Path, task2_model: Path,
                                                       mixture, offline) -> None:
    _, y = mixture
    src = tmp_path / "in"
    src.mkdir()
    for name, part in (("a.wav", y[: 30 * SR]), ("b.wav", y[30 * SR :])):
        sf.write(src / name, part, SR)
    model = EventDetector.load(task2_model)
    # the two classes with most events, and the median confidence of theirs
    counts = {c: sum(e.label == c for e in offline) for c in model.classes_}
    keep = sorted(counts, key=counts.get)[-2:]
    confs = sorted(round(e.confidence, 4) for e in offline if e.label in keep)
    c = confs[len(confs) // 2]
    out = tmp_path / "out"
    # worker processes (--jobs 2) get the options too
    assert _detect(src, "--model", task2_model, "-o", out, "--format", "csv", "--jobs", 2,
                   "--scores", "--classes", ",".join(keep), "--min-confidence", c) == 0
    n_all = n_kept = 0
    for name in ("a.wav", "b.wav"):
        full = model.predict(src / name).rounded()
        want = EventList(e for e in full if e.label in keep and e.confidence >= c)
        assert _rows(EventList.read(out / f"{Path(name).stem}.csv")) == _rows(want)
        n_all += sum(e.label in keep for e in full)
        n_kept += len(want)
        header = (out / f"{Path(name).stem}.scores.tsv").read_text().split("\n")[0]
        assert header.split("\t") == ["onset", "offset", *[k for k in model.classes_
                                                            if k in keep]]
    assert 0 < n_kept < n_all


def test_cli_detect_options_are_checked(tmp_path: Path, task2_model: Path, capsys) -> None:
    wav = tmp_path / "m.wav"
    sf.write(wav, np.zeros(SR, np.float32), SR)
    classes = EventDetector.load(task2_model).classes_
    f = tmp_path / "thr.csv"
    for args, msg in (
            (["--classes", f"{classes[0]},nope"], "--classes: unknown class 'nope'; the "
             f"model's classes: {', '.join(classes)}"),
            (["--threshold", "1.5"], "--threshold: 1.5 is outside (0, 1)"),
            (["--threshold", "0"], "--threshold: 0 is outside (0, 1)"),
            (["--min-confidence", "2"], "--min-confidence: 2 is outside [0, 1]"),
            (["--thresholds", f], f"--thresholds {f}: unknown class 'nope'; the model's "
             f"classes: {', '.join(classes)}"),
            (["--thresholds", tmp_path / "none.csv"], "No such file")):
        f.write_text(f"{classes[0]},0.4\nnope,0.3\n")
        assert _detect(wav, "--model", task2_model, *args) == 2
        err = capsys.readouterr().err
        assert err.startswith("audioscene: error: ") and msg in err and err.count("\n") == 1
    f.write_text(f"{classes[0]},0.4\n{classes[1]} 0.3\n")
    assert _detect(wav, "--model", task2_model, "--thresholds", f) == 2
    assert f"{f} line 2: expected 'label<TAB>threshold'" in capsys.readouterr().err


def test_cli_batch_summary_counts_skipped_and_failed(tmp_path: Path, task2_model: Path,
                                                     mixture, capsys) -> None:
    _, y = mixture
    src = tmp_path / "in"
    src.mkdir()
    sf.write(src / "a.wav", y[: 15 * SR], SR)
    sf.write(src / "b.wav", y[15 * SR : 30 * SR], SR)
    (src / "c.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    out = tmp_path / "out"

    def summary(*args: object) -> str:
        assert _detect(src, "--model", task2_model, "-o", out, *args) == 1  # c.wav fails
        err = capsys.readouterr().err
        return [x for x in err.splitlines() if x.startswith("detect: ")][-1]

    line = summary()
    n = len(EventList.read(out / "a.txt")) + len(EventList.read(out / "b.txt"))
    assert n > 0
    assert line.startswith(f"detect: 2 file(s) (1 failed), {n} events, 30 s of audio in ")
    assert line.endswith(f"; outputs in {out}")
    # resuming: a and b are counted as skipped, c is tried again
    line = summary("--skip-existing")
    assert line.startswith("detect: 0 file(s) (2 skipped: output exists, 1 failed), "
                           "0 events, 0 s of audio in ")
    # the batch's bar (forced on: stderr is not a terminal here) counts files and events
    (out / "a.txt").unlink()
    assert _detect(src, "--model", task2_model, "-o", out, "--skip-existing",
                   "--progress") == 1
    err = capsys.readouterr().err
    n_a = len(EventList.read(out / "a.txt"))
    assert "2/2" in err and f"{n_a} events, 1 failed" in err
    assert "detect: 1 file(s) (1 skipped: output exists, 1 failed)" in err
