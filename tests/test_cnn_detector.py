"""The CNN detection back-end: frame targets, stream == offline exactly for random block
sizes on a real mixture, save/load identity, `audioscene detect` with it."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from audioscene.audio import load
from audioscene.datasets import read_task2
from audioscene.datasets.synth import load_sources, random_scene
from audioscene.decode.hysteresis import HysteresisDecoder
from audioscene.detect import StreamingDetector
from audioscene.events import Event, EventList
from audioscene.features import FeatureConfig
from audioscene.models import (
    CNNEventDetector,
    EventDetector,
    FusionEventDetector,
    frame_targets,
    load_model,
)

SR = 22050


@pytest.fixture(scope="module")
def scenes(shared_data: Path) -> list:
    rng = np.random.default_rng(0)
    train = read_task2(shared_data, "train")
    src = {k: v[:4] for k, v in load_sources(train.root, sr=SR).items()}
    bgs = [load(p, sr=SR)[0] for p in sorted((shared_data / "backgrounds").glob("*.wav"))[:4]]
    return [random_scene(src, bgs, sr=SR, duration=30.0, events_per_minute=40,
                         ebr_db=(0.0, 9.0), max_polyphony=2, rng=rng) for _ in range(6)]


@pytest.fixture(scope="module")
def model(scenes: list) -> CNNEventDetector:
    det = CNNEventDetector(channels=(8, 8, 8), dilations=(1, 2, 4), max_epochs=2,
                           crop_frames=128, chunk_frames=64, random_state=0)
    det.fit([s.audio for s in scenes[:5]], [s.events for s in scenes[:5]],
            validation=([scenes[5].audio], [scenes[5].events]))
    return det


@pytest.fixture(scope="module")
def mixture(shared_data: Path) -> tuple[Path, np.ndarray, EventList]:
    ds = read_task2(shared_data, "dev")
    it = next(i for i in ds.items if i.path.stem == "dev_1_ebr_0_nec_3_poly_1")
    y, _ = load(it.path, sr=SR, duration=60.0)
    return it.path, y, EventList(e for e in it.events if e.offset <= 60.0)


def test_frame_targets_line_up_with_the_annotation(model: CNNEventDetector, mixture) -> None:
    # targets decoded back into events give the annotation to within one frame
    _, y, ref = mixture
    cfg = model.fconfig
    n = cfg.n_frames(len(y))
    Y = frame_targets(cfg.frame_times(n), ref, model.classes_)
    hop = cfg.hop_seconds
    hd = HysteresisDecoder(model.classes_, hop=hop, high=0.5,
                           offset=float(cfg.frame_times(1)[0]) - hop / 2)
    got = sorted((e.label, e.onset, e.offset) for e in hd.process(Y) + hd.flush())
    # events of one class that overlap or touch merge in a frame roll: merge them too
    want = []
    for e in sorted(ref, key=lambda e: (e.label, e.onset)):
        if want and want[-1][0] == e.label and e.onset <= want[-1][2] + hop:
            want[-1] = (e.label, want[-1][1], max(want[-1][2], e.offset))
        else:
            want.append((e.label, e.onset, e.offset))
    assert len(got) == len(want) > 10
    for (gl, gon, goff), (wl, won, woff) in zip(got, sorted(want)):
        assert gl == wl
        assert abs(gon - won) <= hop + 1e-9 and abs(goff - woff) <= hop + 1e-9


def _stream(sd: StreamingDetector, y: np.ndarray, rng: np.random.Generator, max_block: int,
            fixed: int) -> tuple[EventList, np.ndarray]:
    """Feed ``y`` in random blocks of 1 to ``max_block`` samples (``fixed`` samples when
    ``max_block`` is 0); return the events and the score rows, in order."""
    events, parts, i = EventList(), [], 0
    while i < len(y):
        n = int(rng.integers(1, max_block)) if max_block else fixed
        events += sd.process(y[i : i + n])
        if sd.last_scores is not None:
            parts.append(sd.last_scores.scores)
        i += n
    events += sd.flush()
    if sd.last_scores is not None:
        parts.append(sd.last_scores.scores)
    return events, np.concatenate(parts)


def test_stream_equals_offline_for_random_blocks(model: CNNEventDetector, mixture) -> None:
    _, y, _ = mixture
    F = model.frames(y)
    P = model.posteriors(F)
    assert P.shape == (len(F), len(model.classes_))
    offline = model.decode(P, filename="m", high=0.3)
    assert len(offline) > 0
    rng = np.random.default_rng(1)
    for trial in range(3):
        sd = StreamingDetector(model, filename="m", hysteresis={"high": 0.3})
        events, scores = _stream(sd, y, rng, 30000 if trial else 0, 512)
        np.testing.assert_array_equal(scores, P)
        assert events == offline
    # with class competition too
    offline = model.decode(P, filename="m", high=0.3, competition=1.0)
    assert len(offline) > 0
    sd = StreamingDetector(model, filename="m", hysteresis={"high": 0.3, "competition": 1.0})
    events, scores = _stream(sd, y, rng, 30000, 512)
    assert events == offline


def test_pcen_features_stream_equal_offline_and_travel_with_the_model(
        scenes: list, mixture, tmp_path: Path) -> None:
    # PCEN's smoother carries state across blocks: the stream still gives the offline
    # posteriors and events exactly, and the saved model computes the same features
    cfg = FeatureConfig(sr=SR, n_fft=1024, win_length=882, hop_length=441, kind="pcen",
                        n_mels=40, fmin=50.0)
    det = CNNEventDetector(cfg, channels=(8, 8), dilations=(1, 2), max_epochs=1,
                           crop_frames=128, chunk_frames=64, random_state=0)
    det.fit([s.audio for s in scenes[:3]], [s.events for s in scenes[:3]],
            validation=([scenes[5].audio], [scenes[5].events]))
    _, y, _ = mixture
    P = det.posteriors(det.frames(y))
    offline = det.decode(P, filename="m", high=0.2)
    assert len(offline) > 0
    sd = StreamingDetector(det, filename="m", hysteresis={"high": 0.2})
    events, scores = _stream(sd, y, np.random.default_rng(2), 30000, 512)
    np.testing.assert_array_equal(scores, P)
    assert events == offline
    det.save(tmp_path / "pcen")
    back = load_model(tmp_path / "pcen")
    assert back.fconfig == cfg
    np.testing.assert_array_equal(back.posteriors(back.frames(y)), P)


def test_save_load_identity_and_cli(model: CNNEventDetector, mixture, tmp_path: Path) -> None:
    _, y, _ = mixture
    model.save(tmp_path / "cnn")
    back = load_model(tmp_path / "cnn")
    assert isinstance(back, CNNEventDetector)
    F = model.frames(y)
    np.testing.assert_array_equal(back.posteriors(back.frames(y)), model.posteriors(F))
    np.testing.assert_array_equal(back.thresholds_, model.thresholds_)
    # the decoding settings travel with the model
    other = copy.deepcopy(model).set_params(competition=1.5, min_gap=0.3)
    other.save(tmp_path / "cnn2")
    back2 = load_model(tmp_path / "cnn2")
    assert (back2.competition, back2.min_gap) == (1.5, 0.3)
    assert back2.predict(y) == other.predict(y) != model.predict(y)
    wav = tmp_path / "m.wav"
    sf.write(wav, y, SR, subtype="FLOAT")
    r = subprocess.run([sys.executable, "-m", "audioscene", "detect", str(wav), "--model",
                        str(tmp_path / "cnn"), "--format", "csv", "-o", str(tmp_path / "o.csv")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    got = [(e.onset, e.offset, e.label) for e in EventList.read(tmp_path / "o.csv")]
    want = model.predict(y, filename="m.wav")
    assert len(want) > 0
    assert got == [(round(e.onset, 3), round(e.offset, 3), e.label) for e in want]


def test_per_class_thresholds_are_tuned_on_what_they_are_given(model: CNNEventDetector,
                                                               mixture) -> None:
    _, y, ref = mixture
    P = model.posteriors(model.frames(y))
    saved = model.thresholds_.copy()
    try:
        chosen = model.tune_thresholds([P], [ref], [60.0], [0.2, 0.5, 0.8])
        assert set(chosen) == set(model.classes_)
        assert set(chosen.values()) <= {0.2, 0.5, 0.8}
        np.testing.assert_array_equal(model.thresholds_, [chosen[c] for c in model.classes_])
        # a class with no reference events scores 0 everywhere: the lowest value wins
        absent = [c for c in model.classes_ if c not in ref.labels]
        assert all(chosen[c] == 0.2 for c in absent)
    finally:
        model.thresholds_ = saved


def test_bad_inputs_are_refused(model: CNNEventDetector) -> None:
    with pytest.raises(ValueError, match="frames of shape"):
        CNNEventDetector(max_epochs=1).fit_frames([np.zeros((50, 7), np.float32)],
                                                  [EventList([Event(0, 1, "a")])])
    with pytest.raises(ValueError, match="thresholds for"):
        model.decoder(high=[0.5, 0.5])


def test_task2_recipe_trains_the_cnn_backend(shared_data: Path, tmp_path: Path) -> None:
    import json

    r = subprocess.run(
        [sys.executable, "-m", "audioscene", "train", "dcase2016-task2", "--data",
         str(shared_data), "--out", str(tmp_path / "run"),
         "--set", "backend=[cnn, carforest, fusion]", "--set", "forest.n_estimators=2",
         "--set", "forest.max_depth=8", "--set", "fusion.weights=[0.5, 1.0]",
         "--set", "synth.train_mixtures=6", "--set", "synth.validation_mixtures=2",
         "--set", "synth.duration=30", "--set", "cnn.max_epochs=1",
         "--set", "cnn.channels=[8, 8]", "--set", "cnn.dilations=[1, 2]",
         "--set", "cnn.threshold_grid=[0.3, 0.6]", "--set", "cnn.min_gap_grid=[0.3]",
         "--set", "cnn.competition_grid=[1.5]", "--set", "baseline.enabled=false",
         "--set", "psds=false", "--set", "folds.k=0", "--set", "synth.augment.enabled=true"],
        capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    run = tmp_path / "run"
    res = json.loads((run / "results.json").read_text())
    assert set(res["sets"]["dev"]) == {"CNN", "CaR-forest", "Fusion"} and "folds" not in res
    # weight 1.0 is the CNN: the same mean class F1 on the validation mixtures, exactly
    by_weight = res["tuning"]["fusion"]["mean_f1"]
    assert by_weight["1.0"] == res["tuning"]["cnn_mean_f1"]
    assert res["tuning"]["fusion"]["weight"] == (0.5 if by_weight["0.5"] >= by_weight["1.0"]
                                                 else 1.0)
    det = load_model(run / "model")
    assert isinstance(det, CNNEventDetector) and len(det.classes_) == 11
    assert {res["tuning"]["cnn"][c] for c in det.classes_} <= {0.3, 0.6}
    assert det.thresholds_.tolist() == [res["tuning"]["cnn"][c] for c in det.classes_]
    # the merging gap and the competition chosen on validation (cnn.min_gap is 0.1,
    # cnn.competition 0) are the CNN's, and the fusion decodes with them
    assert det.min_gap == res["tuning"]["cnn"]["min_gap"] == 0.3
    assert det.competition == res["tuning"]["cnn"]["competition"] == 1.5
    assert res["tuning"]["cnn_competition_preliminary"] == 1.5
    assert det.decoder().competition == 1.5
    assert len(list((run / "dev" / "cnn").glob("*.txt"))) > 10
    fusion = load_model(run / "model-fusion")
    assert isinstance(fusion, FusionEventDetector) and fusion.min_gap == det.min_gap
    assert fusion.competition == det.competition == fusion.decoder().competition
    assert isinstance(load_model(run / "model-car-forest"), EventDetector)


# ----------------------------------------------------------------------------- fusion


@pytest.fixture(scope="module")
def fused(scenes: list, model: CNNEventDetector) -> FusionEventDetector:
    car = EventDetector(n_estimators=2, max_depth=8, random_state=0).fit(
        [s.audio for s in scenes[:5]], [s.events for s in scenes[:5]])
    f = FusionEventDetector(carforest=car, cnn=model, weight=0.5).fit()
    s = scenes[5]
    f.tune([f.frames(s.audio)], [s.events], [30.0], [0.25, 0.75], [0.2, 0.4])
    return f


def test_fusion_stream_equals_offline_and_the_rule(fused: FusionEventDetector, mixture) -> None:
    _, y, _ = mixture
    F = fused.frames(y)
    S = fused.scores(F)
    w = fused.weight
    assert w in (0.25, 0.75) and set(fused.thresholds_) <= {0.2, 0.4}
    np.testing.assert_array_equal(
        S, w * fused.cnn.posteriors(F) + (1 - w) * fused.carforest.curves_from_frames(F).presence)
    offline = fused.decode(S, filename="m")
    assert len(offline) > 0
    rng = np.random.default_rng(2)
    for trial in range(2):
        sd = StreamingDetector(fused, filename="m")
        events, scores = _stream(sd, y, rng, 40000 if trial else 0, 2048)
        np.testing.assert_array_equal(scores, S)
        assert events == offline


def test_fusion_at_weight_one_is_the_cnn(fused: FusionEventDetector,
                                         model: CNNEventDetector, mixture) -> None:
    # decoded with the CNN's settings, weight 1 gives the CNN's scores, its thresholds
    # (tuned on the same recording and grid) and its events, exactly
    _, y, ref = mixture
    f = FusionEventDetector(carforest=fused.carforest, cnn=model, low_ratio=model.low_ratio,
                            median=model.median, min_duration=model.min_duration,
                            min_gap=model.min_gap, competition=model.competition).fit()
    F = f.frames(y)
    P = model.posteriors(F)
    np.testing.assert_array_equal(f.scores(F, weight=1.0), P)
    saved = model.thresholds_.copy()
    try:
        grid = [0.2, 0.35, 0.5, 0.6]  # the 2-epoch CNN scores near 0.5
        cnn_thr, cnn_f1 = model.tune_thresholds([P], [ref], [60.0], grid, return_f1=True)
        assert np.mean(cnn_f1) > 0 and len(set(cnn_thr.values())) > 1
        assert f.tune([F], [ref], [60.0], [1.0], grid) == {
            "weight": 1.0, "thresholds": cnn_thr, "mean_f1": {1.0: float(np.mean(cnn_f1))}}
        want = model.predict(y, filename="m")
        assert len(want) > 0 and f.predict(y, filename="m") == want
        # among other weights: the best mean class F1 (ties: the first), at least the CNN's
        chosen = f.tune([F], [ref], [60.0], [0.0, 0.5, 1.0], grid)
        by_weight = chosen["mean_f1"]
        assert list(by_weight) == [0.0, 0.5, 1.0] and by_weight[1.0] == np.mean(cnn_f1)
        assert chosen["weight"] == max(by_weight, key=lambda w: (by_weight[w], -w))
    finally:
        model.thresholds_ = saved


def test_fusion_save_load_identity(fused: FusionEventDetector, mixture, tmp_path: Path) -> None:
    _, y, _ = mixture
    fused.save(tmp_path / "f")
    back = load_model(tmp_path / "f")
    assert isinstance(back, FusionEventDetector)
    assert back.weight == fused.weight
    np.testing.assert_array_equal(back.thresholds_, fused.thresholds_)
    F = fused.frames(y)
    np.testing.assert_array_equal(back.scores(back.frames(y)), fused.scores(F))
    assert back.predict(y, filename="m") == fused.predict(y, filename="m")
    other = copy.copy(fused).set_params(competition=2.0)
    other.save(tmp_path / "f2")
    back2 = load_model(tmp_path / "f2")
    assert back2.competition == 2.0
    assert back2.predict(y, filename="m") == other.predict(y, filename="m")


def test_fusion_refuses_detectors_that_do_not_fit(scenes: list, model: CNNEventDetector) -> None:
    other = EventDetector(feature_config=FeatureConfig(sr=SR, n_fft=1024, hop_length=512,
                                                       n_mels=40), n_estimators=1,
                          max_depth=4).fit([s.audio for s in scenes[:5]],
                                           [s.events for s in scenes[:5]])
    with pytest.raises(ValueError, match="different frame features"):
        FusionEventDetector(carforest=other, cnn=model).fit()
    with pytest.raises(TypeError, match="must be an EventDetector"):
        FusionEventDetector(carforest=model, cnn=model).fit()


def test_training_takes_recordings_shorter_than_a_crop() -> None:
    rng = np.random.default_rng(0)
    frames = [rng.normal(size=(n, 40)).astype(np.float32) for n in (40, 700, 90)]
    ev = [EventList([Event(0.1, 0.5, "a"), Event(0.6, 0.7, "b")])] * 3
    det = CNNEventDetector(channels=(4, 4), dilations=(1, 2), max_epochs=3, batch_size=2,
                           crop_frames=128).fit_frames(frames, ev)
    assert len(det.history_) == 3
    assert det.posteriors(frames[0]).shape == (40, 2)
    with pytest.raises(ValueError, match="max_epochs"):
        CNNEventDetector(max_epochs=0).fit_frames(frames, ev)


def test_cli_thresholds_equal_offline_decoding(model: CNNEventDetector,
                                               fused: FusionEventDetector, mixture,
                                               tmp_path: Path) -> None:
    # `detect --threshold/--thresholds` streams the same events as offline decoding of the
    # scores with those opening thresholds (closing at low_ratio x them)
    from audioscene.cli import main

    _, y, _ = mixture
    wav = tmp_path / "m.wav"
    sf.write(wav, y, SR, subtype="FLOAT")
    classes = model.classes_
    f = tmp_path / "thr.csv"
    f.write_text(f"label,threshold\n{classes[0]},0.2\n{classes[2]},0.6\n")
    out = tmp_path / "ev.csv"
    for det in (model, fused):
        det.save(tmp_path / "m")
        scores = det.posteriors(det.frames(wav)) if det is model else \
            det.scores(det.frames(wav))
        one = np.full(len(classes), 0.35)
        per_file = det.thresholds_.copy()
        for thr in (one, per_file):
            thr[0], thr[2] = 0.2, 0.6
        n = 0
        for args, high in ((["--threshold", "0.35"], 0.35),
                           (["--threshold", "0.35", "--thresholds", f], one),
                           (["--thresholds", f], per_file)):
            assert main(["detect", str(wav), "--model", str(tmp_path / "m"), "-o", str(out),
                         "--format", "csv", *map(str, args)]) == 0
            want = det.decode(scores, filename="m.wav", high=high).rounded()
            got = EventList.read(out)
            assert [(e.onset, e.offset, e.label, e.confidence) for e in got] == \
                [(e.onset, e.offset, e.label, e.confidence) for e in want]
            n += len(want)
        assert n > 0
        assert det.decode(scores, high=one) != det.decode(scores, high=0.35)


def test_frequency_masks_and_mixup_of_a_training_batch() -> None:
    import torch

    B, T, n_feat = 8, 50, 40
    x = torch.from_numpy(np.random.default_rng(1).normal(size=(B, T, n_feat)).astype(np.float32)
                         + 5.0)
    y = torch.zeros(B, T - 10, 2)
    det = CNNEventDetector(freq_masks=2)
    xm, ym = det._augment(x.clone(), y.clone(), np.random.default_rng(0))
    zero = (xm == 0).numpy()
    assert np.array_equal(np.where(zero, 0, x.numpy()), xm.numpy())  # kept or zeroed
    assert zero.any() and torch.equal(ym, y)
    # a masked band is zero over the whole crop, at most two runs of n_feat // 8 bands
    bands = zero.all(axis=1)
    assert np.array_equal(bands, zero.any(axis=1))
    assert (bands.sum(axis=1) <= 2 * (n_feat // 8)).all()
    # mixup: crops and targets blended with the same weights
    xs = torch.arange(B, dtype=torch.float32)[:, None, None].expand(B, T, n_feat).clone()
    ys = (torch.arange(B, dtype=torch.float32) / (B - 1))[:, None, None].expand(B, T - 10, 2)
    xm, ym = CNNEventDetector(mixup=0.5)._augment(xs, ys.clone(), np.random.default_rng(0))
    assert not torch.equal(xm, xs)
    assert torch.allclose(xm[:, :T - 10, :2] / (B - 1), ym, atol=1e-6)
    # off by default: the batch passes unchanged
    x2, y2 = CNNEventDetector()._augment(x.clone(), y.clone(), np.random.default_rng(0))
    assert torch.equal(x2, x) and torch.equal(y2, y)


def test_training_with_masks_and_mixup_is_deterministic() -> None:
    rng = np.random.default_rng(0)
    frames = [rng.normal(size=(n, 40)).astype(np.float32) for n in (300, 500)]
    ev = [EventList([Event(0.1, 0.5, "a"), Event(0.6, 2.7, "b")])] * 2
    kw = dict(channels=(4, 4), dilations=(1, 2), max_epochs=2, batch_size=2, crop_frames=64,
              freq_masks=2, mixup=0.3)
    a = CNNEventDetector(**kw).fit_frames(frames, ev)
    b = CNNEventDetector(**kw).fit_frames(frames, ev)
    plain = CNNEventDetector(**{**kw, "freq_masks": 0, "mixup": 0.0}).fit_frames(frames, ev)
    assert np.array_equal(a.posteriors(frames[0]), b.posteriors(frames[0]))
    assert not np.array_equal(a.posteriors(frames[0]), plain.posteriors(frames[0]))
