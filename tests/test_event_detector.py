"""EventDetector (CaR-forests + vote decoding), the GMM baseline, the task 3 recipe on a
miniature official layout, and `audioscene detect`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from audioscene.datasets.synth import (
    EventSpec,
    procedural_background,
    procedural_event,
    random_scene,
    render,
)
from audioscene.evaluate import sed_metrics
from audioscene.events import EventList
from audioscene.features import FeatureConfig
from audioscene.models import EventDetector, GMMEventDetector, load_model

SR = 16000
FC = FeatureConfig(sr=SR, n_fft=1024, win_length=640, hop_length=320, n_mels=32, fmin=50.0)
SMALL = {"n_estimators": 6, "max_depth": 10, "n_features_try": 15, "onset_threshold": 4.0,
         "presence_threshold": 0.6}
CLASSES = ("beep", "chirp", "knock")


@pytest.fixture(scope="module")
def material():
    rng = np.random.default_rng(0)
    sources = {k: [procedural_event(k, sr=SR, rng=rng) for _ in range(4)] for k in CLASSES}
    bgs = [procedural_background(b, sr=SR, duration=8.0, rng=rng) for b in ("pink", "hum")]
    train = [random_scene(sources, bgs, sr=SR, duration=30.0, events_per_minute=30,
                          ebr_db=(0.0, 10.0), max_polyphony=2, rng=rng) for _ in range(10)]
    test = [random_scene(sources, bgs, sr=SR, duration=30.0, events_per_minute=30,
                         ebr_db=(0.0, 10.0), max_polyphony=2, rng=rng) for _ in range(3)]
    return sources, bgs, train, test


@pytest.fixture(scope="module")
def detector(material):
    _, _, train, _ = material
    return EventDetector(feature_config=FC, random_state=0, **SMALL).fit(
        [s.audio for s in train], [s.events for s in train])


def test_detects_procedural_events(material, detector) -> None:
    *_, test = material
    ref = EventList([e for i, s in enumerate(test) for e in s.events.with_filename(f"t{i}")])
    est = EventList([e for i, s in enumerate(test)
                     for e in detector.predict(s.audio, filename=f"t{i}")])
    res = sed_metrics(ref, est, durations={f"t{i}": 30.0 for i in range(3)})
    assert len(ref) >= 30
    assert res.event_onset.overall.f1 > 0.6  # chance is near 0 with a 0.2 s collar
    assert res.segment_based.overall.error_rate < 0.6
    for e in est:  # a class's own events never overlap, confidences are probabilities
        assert 0.0 <= e.confidence <= 1.0
    for lab in est.labels:
        evs = list(est.filter(label=lab, filename="t0"))
        assert all(a.offset <= b.onset for a, b in zip(evs, evs[1:]))


def test_overlapping_events_of_two_classes_are_both_found(material, detector) -> None:
    sources, bgs, _, _ = material
    # two known sounds (as in DCASE 2016 task 2, where mixtures reuse the training
    # recordings) placed so that they overlap
    beep, knock = sources["beep"][0], sources["knock"][0]
    scape = render(bgs[0], [EventSpec(beep, "beep", 2.0, 6.0), EventSpec(knock, "knock", 2.15, 6.0)],
                   sr=SR, duration=6.0)
    assert scape.events[0].offset > scape.events[1].onset
    est = detector.predict(scape.audio)
    for lab, onset in (("beep", 2.0), ("knock", 2.15)):
        found = [e for e in est if e.label == lab and abs(e.onset - onset) <= 0.2]
        assert found, (lab, list(est))
    a, b = (next(e for e in est if e.label == lab) for lab in ("beep", "knock"))
    assert a.onset < b.offset and b.onset < a.offset  # they overlap in the output


def test_save_load_identity_and_seed(tmp_path: Path, material, detector) -> None:
    *_, test = material
    detector.save(tmp_path / "m")
    again = EventDetector.load(tmp_path / "m")
    assert load_model(tmp_path / "m").classes_ == detector.classes_
    y = test[0].audio
    assert again.predict(y) == detector.predict(y)
    c1, c2 = detector.curves(y), again.curves(y)
    np.testing.assert_array_equal(c1.onset, c2.onset)
    np.testing.assert_array_equal(c1.presence, c2.presence)
    _, _, train, _ = material
    same = EventDetector(feature_config=FC, random_state=0, **SMALL).fit(
        [s.audio for s in train[:4]], [s.events for s in train[:4]])
    same2 = EventDetector(feature_config=FC, random_state=0, **SMALL).fit(
        [s.audio for s in train[:4]], [s.events for s in train[:4]])
    assert same.predict(y) == same2.predict(y)


def test_gmm_baseline(tmp_path: Path, material) -> None:
    _, _, train, test = material
    fc = FeatureConfig(sr=SR, n_fft=1024, win_length=640, hop_length=320, kind="mfcc",
                       n_mfcc=21, c0=False, deltas=2)
    gmm = GMMEventDetector(feature_config=fc, n_components=4, threshold=20.0).fit(
        [s.audio for s in train], [s.events for s in train])
    ref = test[0].events.with_filename("t")
    est = gmm.predict(test[0].audio, filename="t")
    res = sed_metrics(ref, est, durations={"t": 30.0}, labels=list(CLASSES))
    assert res.segment_based.overall.f1 > 0.3
    assert all(e.duration >= 0.1 - 1e-9 for e in est)
    gmm.save(tmp_path / "g")
    back = GMMEventDetector.load(tmp_path / "g")
    np.testing.assert_allclose(back.scores(test[0].audio)[0], gmm.scores(test[0].audio)[0])


def _runs(active: np.ndarray, *, hop: float, offset: float, min_length: float,
          min_gap: float) -> list[tuple[float, float]]:
    """Reference post-processing of the DCASE baseline, written plainly: runs of active
    frames, gaps shorter than min_gap closed, events shorter than min_length dropped."""
    edges = np.diff(np.r_[0, np.asarray(active, np.int8), 0])
    runs: list[list[float]] = []
    for s, e in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)):
        on, off = offset + s * hop, offset + e * hop
        if runs and on - runs[-1][1] < min_gap - 1e-9:
            runs[-1][1] = off
        else:
            runs.append([on, off])
    return [(round(on, 6), round(off, 6)) for on, off in runs if off - on >= min_length - 1e-9]


def test_gmm_stream_equals_offline_and_reference_decoding(material) -> None:
    _, _, train, test = material
    fc = FeatureConfig(sr=SR, n_fft=1024, win_length=640, hop_length=320, kind="mfcc",
                       n_mfcc=21, c0=False, deltas=2)
    gmm = GMMEventDetector(feature_config=fc, n_components=4, threshold=20.0).fit(
        [s.audio for s in train[:4]], [s.events for s in train[:4]])
    y = np.concatenate([t.audio for t in test])
    S, times = gmm.scores(y)
    offline = gmm.predict(y, filename="t")
    rng = np.random.default_rng(3)
    for _ in range(3):
        s = gmm.stream(filename="t")
        events, rows, cuts = [], [], np.sort(rng.integers(0, len(y), size=12))
        for a, b in zip(np.r_[0, cuts], np.r_[cuts, len(y)]):
            events.extend(s.process(y[a:b]))
            rows.extend([s.last_scores] if s.last_scores is not None else [])
        events.extend(s.flush())
        rows.extend([s.last_scores] if s.last_scores is not None else [])
        assert EventList(events) == offline
        assert np.array_equal(np.concatenate([r.scores for r in rows]), S)
        assert np.array_equal(np.concatenate([r.times for r in rows]), times)
    # the decoding is the baseline's: frames above the threshold, gaps and lengths
    hop = fc.hop_seconds
    start = max(0.0, fc.n_fft / 2 / fc.sr - hop / 2)
    want = sorted((on, off, lab) for j, lab in enumerate(gmm.classes_)
                  for on, off in _runs(S[:, j] > gmm.threshold, hop=hop, offset=start,
                                       min_length=gmm.min_length, min_gap=gmm.min_gap))
    assert sorted((e.onset, e.offset, e.label) for e in offline) == want
    assert len(want) > 5


def test_detect_cli(tmp_path: Path, material, detector) -> None:
    *_, test = material
    detector.save(tmp_path / "model")
    wav = tmp_path / "in" / "a.wav"
    wav.parent.mkdir()
    sf.write(wav, test[1].audio, SR)
    (tmp_path / "in" / "broken.wav").write_bytes(b"RIFF....WAVEfmt ")
    r = subprocess.run([sys.executable, "-m", "audioscene", "detect", str(tmp_path / "in"),
                        "--model", str(tmp_path / "model"), "-o", str(tmp_path / "out"),
                        "--format", "json"], capture_output=True, text=True)
    assert r.returncode == 1 and "broken.wav" in r.stderr
    got = EventList.read(tmp_path / "out" / "a.json")
    assert got == detector.predict(wav)
    assert not (tmp_path / "out" / "broken.json").exists()
    r = subprocess.run([sys.executable, "-m", "audioscene", "detect", "-", "--model",
                        str(tmp_path / "model")], input=wav.read_bytes(), capture_output=True)
    assert r.returncode == 0
    lines = r.stdout.decode().strip().split("\n")
    assert len(lines) == len(got) and lines[0].split("\t")[0] == "stdin"
    # what `ffmpeg -f wav -` and `sox -t wav -` write to a pipe: sizes 0xFFFFFFFF
    raw = bytearray(wav.read_bytes())
    raw[4:8] = b"\xff\xff\xff\xff"
    i = raw.find(b"data")
    raw[i + 4 : i + 8] = b"\xff\xff\xff\xff"
    r2 = subprocess.run([sys.executable, "-m", "audioscene", "detect", "-", "--model",
                         str(tmp_path / "model")], input=bytes(raw), capture_output=True)
    assert r2.returncode == 0, r2.stderr
    assert r2.stdout == r.stdout and len(lines) > 3  # the same events as the file
    # headerless PCM, its format given by --raw
    pcm = bytes(raw[i + 8 :])
    r3 = subprocess.run([sys.executable, "-m", "audioscene", "detect", "-", "--model",
                         str(tmp_path / "model"), "--raw", f"s16le:{SR}:1"], input=pcm,
                        capture_output=True)
    assert r3.returncode == 0, r3.stderr
    assert r3.stdout == r.stdout


# ----------------------------------------------------------------------------- task 3


def _task3_layout(root: Path, material) -> Path:
    sources, bgs, _, _ = material
    base = root / "TUT-sound-events-2016-development"
    rng = np.random.default_rng(9)
    setup = base / "evaluation_setup"
    setup.mkdir(parents=True)
    scenes = {"home": ("beep", "knock"), "residential_area": ("chirp", "knock")}
    for scene, classes in scenes.items():
        names = []
        for r in range(4):
            scape = random_scene({k: sources[k] for k in classes}, bgs, sr=SR, duration=20.0,
                                 events_per_minute=30, ebr_db=(3.0, 10.0), rng=rng)
            name = f"{scene[0]}{r:03d}"
            names.append(name)
            (base / "audio" / scene).mkdir(parents=True, exist_ok=True)
            sf.write(base / "audio" / scene / f"{name}.wav", scape.audio, SR)
            (base / "meta" / scene).mkdir(parents=True, exist_ok=True)
            (base / "meta" / scene / f"{name}.ann").write_text(scape.events.to_text())
        for k in (1, 2):
            test = names[2 * (k - 1) : 2 * k]
            train = [n for n in names if n not in test]
            rows = [f"audio/{scene}/{n}.wav\t{scene}\t{e.onset}\t{e.offset}\t{e.label}"
                    for n in train for e in EventList.read(base / "meta" / scene / f"{n}.ann")]
            (setup / f"{scene}_fold{k}_train.txt").write_text("\n".join(rows) + "\n")
            (setup / f"{scene}_fold{k}_test.txt").write_text(
                "".join(f"audio/{scene}/{n}.wav\n" for n in test))
    return root


def test_task3_recipe_on_miniature_layout(tmp_path: Path, material) -> None:
    from audioscene.recipes import run_recipe

    root = _task3_layout(tmp_path / "data", material)
    fc = FC.to_dict()
    overrides = [f"features.{k}={v}" for k, v in fc.items() if v is not None] + [
        "forest.n_estimators=4", "forest.max_depth=8", "decoding.onset_threshold=3.0",
        "baseline.features.sr=16000", "baseline.features.n_fft=1024",
        "baseline.features.win_length=640", "baseline.features.hop_length=320",
        "baseline.n_components=2", "baseline.threshold=10.0"]
    res = run_recipe("dcase2016-task3", data=root, out=tmp_path / "out", overrides=overrides,
                     log=lambda *a: None)
    assert set(res["scenes"]) == {"home", "residential_area"}
    car = res["average"]["CaR-forest"]
    assert car["event_onset_f1"] > 0.3
    assert (tmp_path / "out" / "home" / "car-forest" / "h000.txt").exists()
    assert (tmp_path / "out" / "home" / "gmm-baseline" / "h000.scores.tsv").exists()
    psds = res["psds"]["home"]
    assert set(psds) == {"CaR-forest", "GMM baseline"} and psds["CaR-forest"]["psds2"] > 0
    # the recipe's PSDS rows are what `audioscene evaluate` computes from its score tables
    import json

    scene = root / "TUT-sound-events-2016-development"
    (tmp_path / "ref").mkdir()
    for n in ("h000", "h001", "h002", "h003"):
        (tmp_path / "ref" / f"{n}.txt").write_text(
            (scene / "meta" / "home" / f"{n}.ann").read_text())
    for system in ("car-forest", "gmm-baseline"):
        r = subprocess.run([sys.executable, "-m", "audioscene", "evaluate", "--ref",
                            str(tmp_path / "ref"), "--scores",
                            str(tmp_path / "out" / "home" / system), "--audio-dir",
                            str(scene / "audio" / "home"), "--json", str(tmp_path / "p.json")],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        got = json.loads((tmp_path / "p.json").read_text())
        name = {"car-forest": "CaR-forest", "gmm-baseline": "GMM baseline"}[system]
        assert got == psds[name]
    assert "PSDS1" in (tmp_path / "out" / "results.md").read_text()
    assert "residential_area" in (tmp_path / "out" / "results.md").read_text()


def test_task2_recipe_plumbing_on_real_data(tmp_path: Path, shared_data: Path) -> None:
    # a small run of the real recipe: it trains, tunes on validation mixtures only,
    # evaluates every dev mixture and writes models, event lists and tables
    r = subprocess.run(
        [sys.executable, "-m", "audioscene", "recipe", "dcase2016-task2", "--data",
         str(shared_data), "--out", str(tmp_path / "run"), "--set", "synth.train_mixtures=6",
         "--set", "synth.validation_mixtures=2", "--set", "synth.duration=30",
         "--set", "forest.n_estimators=3", "--set", "forest.max_depth=10",
         "--set", "tuning.onset_threshold=[4.0, 8.0]",
         "--set", "tuning.presence_threshold=[0.6]",
         "--set", "baseline.threshold_quantiles=[0.9, 0.99]", "--set", "psds=false",
         "--set", "folds.k=2", "--set", "folds.events_per_class=[2]",
         "--set", "folds.ebr_db=[6.0]", "--set", "folds.polyphony=[0]"],
        capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    run = tmp_path / "run"
    import json

    res = json.loads((run / "results.json").read_text())
    dev = res["sets"]["dev"]
    assert set(dev) == {"CaR-forest", "GMM baseline"}
    assert len(list((run / "dev" / "car-forest").glob("*.txt"))) > 10
    assert dev["CaR-forest"]["event_onset"]["overall"]["f1"] > 0.2  # even this tiny model
    assert res["tuning"]["carforest"]["onset_threshold"] in (4.0, 8.0)
    assert "test" not in res["sets"]  # no test set here
    # the source-disjoint folds: one test mixture each, scored, held-out files listed
    folds = res["folds"]
    assert folds["k"] == 2 and len(folds["per_fold"]) == 2
    for i in range(2):
        (ref,) = (run / "folds" / f"fold{i}" / "reference").glob("*.txt")
        assert len(EventList.read(ref)) == 22  # 2 events of each of the 11 classes
        assert (run / "folds" / f"fold{i}" / "car-forest" / ref.name).exists()
        held = folds["membership"][f"fold{i}"]["test_recordings"]
        assert all(len(v) == 8 for v in held.values())
    m = folds["summary"]["CaR-forest"]["event_onset.f1"]
    assert len(m["per_fold"]) == 2 and m["mean"] == pytest.approx(np.mean(m["per_fold"]))
    md = (run / "results.md").read_text()
    assert md.index("Unseen recordings") < md.index("Seen recordings")
    det = load_model(run / "model")
    assert len(det.classes_) == 11
    assert "psds" not in res and not list((run / "dev" / "car-forest").glob("*.scores.tsv"))


# ----------------------------------------------------------------------------- score tables


@pytest.mark.parametrize("kind", ["carforest-votes", "carforest-hysteresis", "gmm"])
def test_score_tables_of_every_detector_kind(tmp_path: Path, material, detector,
                                             kind: str) -> None:
    import json
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import sed_scores_eval

    _, _, train, test = material
    if kind == "gmm":
        fc = FeatureConfig(sr=SR, n_fft=1024, win_length=640, hop_length=320, kind="mfcc",
                           n_mfcc=21, c0=False, deltas=2)
        model = GMMEventDetector(feature_config=fc, n_components=4, threshold=20.0).fit(
            [s.audio for s in train], [s.events for s in train])
    else:
        model = detector
    model.save(tmp_path / "model")
    (tmp_path / "in").mkdir()
    (tmp_path / "ann").mkdir()
    for i, s in enumerate(test):
        sf.write(tmp_path / "in" / f"t{i}.wav", s.audio, SR)
        (tmp_path / "ann" / f"t{i}.txt").write_text(s.events.to_text())
    decoder = "hysteresis" if kind.endswith("hysteresis") else "votes"
    r = subprocess.run([sys.executable, "-m", "audioscene", "detect", str(tmp_path / "in"),
                        "--model", str(tmp_path / "model"), "-o", str(tmp_path / "out"),
                        "--scores", "--decoder", decoder], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    for i in range(len(test)):
        df = sed_scores_eval.io.read_sed_scores(tmp_path / "out" / f"t{i}.scores.tsv")
        assert list(df.columns) == ["onset", "offset", *model.classes_]
        assert df["offset"].iloc[-1] > 29.0 and len(df) > 100  # the whole 30 s
    # PSDS from the CLI equals sed_scores_eval called directly on the same files
    r = subprocess.run([sys.executable, "-m", "audioscene", "evaluate", "--ref",
                        str(tmp_path / "ann"), "--scores", str(tmp_path / "out"),
                        "--audio-dir", str(tmp_path / "in"), "--json",
                        str(tmp_path / "m.json")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    got = json.loads((tmp_path / "m.json").read_text())
    tables = {f"t{i}": sed_scores_eval.io.read_sed_scores(
        tmp_path / "out" / f"t{i}.scores.tsv") for i in range(len(test))}
    gt = {}
    for i, s in enumerate(test):  # a class's overlapping events joined (sed_scores_eval)
        evs: list[list] = []
        for e in sorted(s.events, key=lambda e: (e.label, e.onset)):
            if evs and evs[-1][2] == e.label and e.onset <= evs[-1][1]:
                evs[-1][1] = max(evs[-1][1], e.offset)
            else:
                evs.append([e.onset, e.offset, e.label])
        gt[f"t{i}"] = [tuple(x) for x in evs]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        psds1 = sed_scores_eval.intersection_based.psds(
            tables, gt, {k: 30.0 for k in gt}, dtc_threshold=0.7, gtc_threshold=0.7,
            alpha_st=1.0, max_efpr=100.0)[0]
        psds2 = sed_scores_eval.intersection_based.psds(
            tables, gt, {k: 30.0 for k in gt}, dtc_threshold=0.1, gtc_threshold=0.1,
            cttc_threshold=0.3, alpha_ct=0.5, alpha_st=1.0, max_efpr=100.0)[0]
    assert got["psds1"] == psds1 and got["psds2"] == psds2
    assert got["psds2"] > 0.2  # these detectors find most procedural events
    assert "PSDS1" in r.stdout


def test_gmm_detect_refuses_hysteresis(tmp_path: Path, material) -> None:
    _, _, train, test = material
    fc = FeatureConfig(sr=SR, n_fft=1024, win_length=640, hop_length=320, kind="mfcc",
                       n_mfcc=21, c0=False, deltas=2)
    GMMEventDetector(feature_config=fc, n_components=2).fit(
        [s.audio for s in train[:3]], [s.events for s in train[:3]]).save(tmp_path / "g")
    sf.write(tmp_path / "a.wav", test[0].audio, SR)
    r = subprocess.run([sys.executable, "-m", "audioscene", "detect", str(tmp_path / "a.wav"),
                        "--model", str(tmp_path / "g"), "--decoder", "hysteresis"],
                       capture_output=True, text=True)
    assert r.returncode == 1 and "needs a CaR-forest model" in r.stderr
    assert "Traceback" not in r.stderr and r.stdout == ""


def test_detect_refuses_outputs_that_collide(tmp_path: Path, material, detector) -> None:
    *_, test = material
    detector.save(tmp_path / "model")
    for d, ext in (("d1", "wav"), ("d2", "flac")):
        (tmp_path / d).mkdir()
        sf.write(tmp_path / d / f"x.{ext}", test[0].audio[: 5 * SR], SR)
    r = subprocess.run([sys.executable, "-m", "audioscene", "detect", str(tmp_path / "d1"),
                        str(tmp_path / "d2"), "--model", str(tmp_path / "model"), "-o",
                        str(tmp_path / "out")], capture_output=True, text=True)
    assert r.returncode == 1
    err = [x for x in r.stderr.splitlines() if x.startswith("audioscene: error:")]
    assert len(err) == 1 and "x.flac: its output" in err[0] and "d1/x.wav" in err[0]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["x.txt"]
    written = [(e.onset, e.offset, e.label) for e in EventList.read(tmp_path / "out" / "x.txt")]
    assert written == [(e.onset, e.offset, e.label)
                       for e in detector.predict(tmp_path / "d1" / "x.wav")]


@pytest.mark.parametrize("damage", ["empty", "truncated", "json", "missing_array"])
def test_damaged_detector_files_are_one_line(tmp_path: Path, material, detector,
                                             damage: str) -> None:
    from audioscene.io_utils import atomic_save_npz, read_arrays

    _, _, train, test = material
    detector.save(tmp_path / "m")
    npz, js = tmp_path / "m" / "arrays.npz", tmp_path / "m" / "model.json"
    if damage == "empty":
        npz.write_bytes(b"")
    elif damage == "truncated":
        npz.write_bytes(npz.read_bytes()[:5000])
    elif damage == "json":
        js.write_text(js.read_text()[:-40])
    else:
        arrays = dict(read_arrays(npz))
        arrays.pop(next(iter(arrays)))
        atomic_save_npz(npz, **arrays)
    with pytest.raises(ValueError, match=r"m/(arrays\.npz|model\.json): "):
        load_model(tmp_path / "m")
    sf.write(tmp_path / "a.wav", test[0].audio[: 3 * SR], SR)
    r = subprocess.run([sys.executable, "-m", "audioscene", "detect", str(tmp_path / "a.wav"),
                        "--model", str(tmp_path / "m")], capture_output=True, text=True)
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 1 and len(lines) == 1 and r.stdout == ""
    assert "arrays.npz" in lines[0] or "model.json" in lines[0]
    # the GMM baseline's files too
    gmm_dir = tmp_path / "g"
    fc = FeatureConfig(sr=SR, n_fft=1024, win_length=640, hop_length=320, kind="mfcc",
                       n_mfcc=13, c0=False)
    GMMEventDetector(feature_config=fc, n_components=2).fit(
        [s.audio for s in train[:2]], [s.events for s in train[:2]]).save(gmm_dir)
    (gmm_dir / "arrays.npz").write_bytes((gmm_dir / "arrays.npz").read_bytes()[:3000])
    with pytest.raises(ValueError, match=r"g/arrays\.npz: does not match model\.json"):
        load_model(gmm_dir)


def test_detect_short_inputs_are_errors_like_features(tmp_path: Path, material,
                                                      detector) -> None:
    *_, test = material
    detector.save(tmp_path / "m")
    (tmp_path / "in").mkdir()
    sf.write(tmp_path / "in" / "zero.wav", np.zeros(0, np.float32), SR)
    sf.write(tmp_path / "in" / "short.wav", np.zeros(100, np.float32), SR)
    sf.write(tmp_path / "in" / "good.wav", test[0].audio[: 4 * SR], SR)
    r = subprocess.run([sys.executable, "-m", "audioscene", "detect", str(tmp_path / "in"),
                        "--model", str(tmp_path / "m"), "-o", str(tmp_path / "out"),
                        "--scores"], capture_output=True, text=True)
    errors = [x for x in r.stderr.splitlines() if x.startswith("audioscene: error:")]
    assert r.returncode == 1 and len(errors) == 2, r.stderr
    assert any("zero.wav: shorter than one frame (0 samples" in e for e in errors)
    assert any("short.wav: shorter than one frame (100 samples" in e for e in errors)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["good.scores.tsv",
                                                                   "good.txt"]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_detect_several_inputs_to_stdout_is_one_table(tmp_path: Path, material, detector,
                                                      jobs: str) -> None:
    import json

    *_, test = material
    detector.save(tmp_path / "m")
    for i in range(2):
        sf.write(tmp_path / f"r{i}.wav", test[i].audio[: 10 * SR], SR)
    inputs = [str(tmp_path / "r0.wav"), str(tmp_path / "r1.wav")]
    base = [sys.executable, "-m", "audioscene", "detect", *inputs, "--model",
            str(tmp_path / "m"), "--jobs", jobs]
    want = {f"r{i}.wav": detector.predict(tmp_path / f"r{i}.wav") for i in range(2)}
    r = subprocess.run(base + ["--format", "csv"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    rows = r.stdout.strip().splitlines()
    assert rows[0].startswith("filename,onset") and sum(x.startswith("filename,") for x in rows) == 1
    assert len(rows) - 1 == sum(len(v) for v in want.values())
    r = subprocess.run(base + ["--format", "json"], capture_output=True, text=True)
    doc = json.loads(r.stdout)  # one valid document
    assert sorted({e["filename"] for e in doc["events"]}) == ["r0.wav", "r1.wav"]
    assert len(doc["events"]) == sum(len(v) for v in want.values())
    r = subprocess.run(base + ["--format", "audacity"], capture_output=True, text=True)
    assert r.returncode == 2 and "give -o FOLDER" in r.stderr and r.stdout == ""


def test_detect_output_file_for_several_inputs_is_refused(tmp_path: Path, material,
                                                          detector) -> None:
    *_, test = material
    detector.save(tmp_path / "m")
    for i in range(2):
        sf.write(tmp_path / f"r{i}.wav", test[i].audio[: 3 * SR], SR)
    (tmp_path / "out.txt").write_text("keep me")
    r = subprocess.run([sys.executable, "-m", "audioscene", "detect", str(tmp_path / "r0.wav"),
                        str(tmp_path / "r1.wav"), "--model", str(tmp_path / "m"), "-o",
                        str(tmp_path / "out.txt")], capture_output=True, text=True)
    assert r.returncode == 2 and "several inputs need a folder" in r.stderr
    assert (tmp_path / "out.txt").read_text() == "keep me"


def test_raw_stdin_with_worker_processes(tmp_path: Path, material, detector) -> None:
    *_, test = material
    detector.save(tmp_path / "m")
    y = test[0].audio[: 6 * SR]
    sf.write(tmp_path / "a.wav", y, SR, subtype="PCM_16")
    sf.write(tmp_path / "b.wav", test[1].audio[: 6 * SR], SR, subtype="PCM_16")
    pcm = sf.read(tmp_path / "a.wav", dtype="int16")[0].astype("<i2").tobytes()
    r = subprocess.run([sys.executable, "-m", "audioscene", "detect", "-",
                        str(tmp_path / "b.wav"), "--model", str(tmp_path / "m"), "--jobs", "2",
                        "--raw", f"s16le:{SR}", "--format", "csv"], input=pcm,
                       capture_output=True, text=False)
    assert r.returncode == 0, r.stderr
    rows = r.stdout.decode().strip().splitlines()[1:]
    from_stdin = [x for x in rows if x.startswith("stdin,")]
    want = detector.predict(tmp_path / "a.wav")
    assert len(from_stdin) == len(want) > 0  # stdin decoded as the raw PCM it is


def test_truncated_input_warns_on_one_line_in_worker_processes(tmp_path: Path, material,
                                                              detector) -> None:
    *_, test = material
    detector.save(tmp_path / "m")
    (tmp_path / "in").mkdir()
    sf.write(tmp_path / "in" / "a.wav", test[0].audio[: 6 * SR], SR, subtype="PCM_16")
    sf.write(tmp_path / "in" / "cut.wav", test[1].audio[: 6 * SR], SR, subtype="PCM_16")
    data = (tmp_path / "in" / "cut.wav").read_bytes()
    (tmp_path / "in" / "cut.wav").write_bytes(data[: len(data) // 2])
    r = subprocess.run([sys.executable, "-m", "audioscene", "detect", str(tmp_path / "in"),
                        "--model", str(tmp_path / "m"), "-o", str(tmp_path / "out"),
                        "--jobs", "2"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    warns = [x for x in r.stderr.splitlines() if "Warning" in x or "warning" in x]
    assert len(warns) == 1 and warns[0].startswith("audioscene: warning: "), r.stderr
    assert "cut.wav: truncated: its header states 6.000 s" in warns[0]


def test_detect_cli_gmm_thresholds_equal_offline_decoding(tmp_path: Path, material,
                                                          capsys) -> None:
    # the baseline's --threshold/--thresholds: decision thresholds on the summed ratio
    from audioscene.cli import main

    _, _, train, test = material
    fc = FeatureConfig(sr=SR, n_fft=1024, win_length=640, hop_length=320, kind="mfcc",
                       n_mfcc=21, c0=False, deltas=2)
    gmm = GMMEventDetector(feature_config=fc, n_components=4, threshold=20.0).fit(
        [s.audio for s in train[:4]], [s.events for s in train[:4]])
    gmm.save(tmp_path / "g")
    wav = tmp_path / "t.wav"
    sf.write(wav, test[0].audio, SR, subtype="FLOAT")
    S, _ = gmm.scores(wav)
    f = tmp_path / "thr.tsv"
    f.write_text(f"{gmm.classes_[2]}\t200\n")
    thr = np.array([40.0, 40.0, 200.0])
    out = tmp_path / "ev.txt"
    for args, want in (
            (["--threshold", "40"], gmm.decode(S, filename="t.wav", thresholds=40)),
            (["--threshold", "40", "--thresholds", str(f)],
             gmm.decode(S, filename="t.wav", thresholds=thr))):
        assert main(["detect", str(wav), "--model", str(tmp_path / "g"), "-o", str(out),
                     *args]) == 0
        assert EventList.read(out) == want.rounded() and len(want) > 0
    assert gmm.decode(S, thresholds=thr) != gmm.decode(S, thresholds=40)
    assert gmm.decode(S, thresholds=40) != gmm.decode(S)
    assert main(["detect", str(wav), "--model", str(tmp_path / "g"), "--decoder",
                 "hysteresis", "--threshold", "3"]) == 2
    assert "--decoder hysteresis needs a CaR-forest model" in capsys.readouterr().err
