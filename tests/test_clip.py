"""ClipClassifier: training, repeatability, persistence, tagging, real ESC-10 clips,
and the clip baselines."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from audioscene.datasets import read_esc10
from audioscene.models import (
    ClipClassifier,
    ForestClipClassifier,
    GMMClassifier,
    GMMTagger,
    load_model,
)

SMALL = {"channels": [8, 16, 16], "strides": [2, 2, 2], "dropout": 0.1}


def _toy(n: int = 48, n_feat: int = 12, seed: int = 0) -> tuple[list[np.ndarray], list[str]]:
    """Clips of random length; class b has a raised band, class c a late burst."""
    rng = np.random.default_rng(seed)
    X, y = [], []
    for i in range(n):
        T = int(rng.integers(15, 60))
        x = rng.normal(size=(T, n_feat)).astype(np.float32)
        lab = "abc"[i % 3]
        if lab == "b":
            x[:, 3:6] += 2.5
        elif lab == "c":
            x[T // 2:, 8:] += 2.5
        X.append(x)
        y.append(lab)
    return X, y


def _fit(**kw: object) -> tuple[ClipClassifier, list[np.ndarray], list[str]]:
    X, y = _toy()
    params = {"net_params": SMALL, "max_epochs": 12, "batch_size": 8, "progress": False,
              "patience": 50}
    params.update(kw)
    return ClipClassifier(**params).fit(X, y), X, y


def test_fit_predict_and_batch_equals_single() -> None:
    clf, X, y = _fit()
    Xte, yte = _toy(24, seed=5)
    assert clf.score(Xte, yte) >= 0.8
    P = clf.predict_proba(Xte)
    assert P.shape == (24, 3) and np.allclose(P.sum(axis=1), 1)
    one_by_one = np.concatenate([clf.predict_proba([x]) for x in Xte])
    np.testing.assert_allclose(P, one_by_one, atol=1e-5)
    assert 1 <= clf.best_epoch_ <= len(clf.history_) and "val_loss" in clf.history_[0]


def test_same_seed_same_model_other_seed_differs() -> None:
    a, X, _ = _fit(max_epochs=3)
    b, _, _ = _fit(max_epochs=3)
    c, _, _ = _fit(max_epochs=3, random_state=7)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert not np.allclose(a.predict_proba(X), c.predict_proba(X))



def _weights(clf: ClipClassifier) -> dict[str, np.ndarray]:
    out = {k: v.numpy() for k, v in clf.network_.state_dict().items()}
    out.update(mean=clf.mean_, scale=clf.scale_)
    return out


def _assert_same_model(a: ClipClassifier, b: ClipClassifier) -> None:
    wa, wb = _weights(a), _weights(b)
    assert wa.keys() == wb.keys()
    for k in wa:
        np.testing.assert_array_equal(wa[k], wb[k], err_msg=k)
    assert a.history_ == [{**h, "seconds": a.history_[i]["seconds"]}
                          for i, h in enumerate(b.history_)]
    assert a.best_epoch_ == b.best_epoch_


@pytest.mark.parametrize("with_groups", [False, True])
def test_clip_order_does_not_change_the_model(with_groups: bool) -> None:
    X, y = _toy()
    groups = [f"rec{i // 2}" for i in range(len(X))] if with_groups else None
    params = {"net_params": SMALL, "max_epochs": 3, "batch_size": 8, "progress": False,
              "mixup": 0.3}
    a = ClipClassifier(**params).fit(X, y, groups=groups)
    p = np.random.default_rng(1).permutation(len(X))
    b = ClipClassifier(**params).fit([X[i] for i in p], [y[i] for i in p],
                                     groups=None if groups is None else [groups[i] for i in p])
    _assert_same_model(a, b)
    # a different set of clips is a different model
    c = ClipClassifier(**params).fit(X[1:], y[1:],
                                     groups=None if groups is None else groups[1:])
    assert not np.array_equal(_weights(a)["mean"], _weights(c)["mean"])


def _toy_tags() -> tuple[list[np.ndarray], list[tuple[str, ...]], dict[str, object]]:
    """The toy clips with their class as a tag, every fourth also tagged "x", and the
    settings of a small tagger."""
    X, y = _toy()
    tags = [(lab, "x") if i % 4 == 0 else (lab,) for i, lab in enumerate(y)]
    params = {"multi_label": True, "net_params": SMALL, "max_epochs": 2, "batch_size": 8,
              "progress": False}
    return X, tags, params


def test_tag_order_and_clip_order_do_not_change_a_tagger() -> None:
    X, tags, params = _toy_tags()
    a = ClipClassifier(**params).fit(X, tags)
    p = np.random.default_rng(2).permutation(len(X))
    b = ClipClassifier(**params).fit([X[i] for i in p], [tuple(reversed(tags[i])) for i in p])
    _assert_same_model(a, b)
    Yb = np.array([[t in tg for t in a.classes_] for tg in tags], dtype=int)
    c = ClipClassifier(**params).fit([X[i] for i in p], Yb[p], classes=list(a.classes_))
    _assert_same_model(a, c)
    # tags as arrays of strings
    d = ClipClassifier(**params).fit([X[i] for i in p], [np.array(tags[i]) for i in p])
    _assert_same_model(a, d)


def test_validation_order_does_not_change_the_model() -> None:
    X, y = _toy()
    Xv, yv = _toy(12, seed=9)
    params = {"net_params": SMALL, "max_epochs": 3, "batch_size": 8, "progress": False,
              "validation_fraction": 0.0, "patience": 1}
    a = ClipClassifier(**params).fit(X, y, validation_data=(Xv, yv))
    p = np.random.default_rng(4).permutation(len(Xv))
    b = ClipClassifier(**params).fit(X, y, validation_data=([Xv[i] for i in p],
                                                            [yv[i] for i in p]))
    _assert_same_model(a, b)
    assert [h["val_loss"] for h in a.history_] == [h["val_loss"] for h in b.history_]


def test_save_load_identity_without_pickle(tmp_path: Path) -> None:
    clf, X, _ = _fit(max_epochs=3, mixup=0.4)
    clf.save(tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    assert meta["kind"] == "ClipClassifier" and meta["written_by"]["torch"]
    loaded = load_model(tmp_path / "m")
    assert isinstance(loaded, ClipClassifier)
    np.testing.assert_array_equal(clf.predict_proba(X), loaded.predict_proba(X))
    with np.load(tmp_path / "m" / "arrays.npz", allow_pickle=False) as z:  # no pickle
        assert all(z[k].dtype.kind in "fi" for k in z.files)
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["arrays.npz", "model.json"]


def test_long_file_in_chunks_equals_whole_clip(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # a 3-minute file classified in windows of 256 frames: the pooled logits are those of
    # the whole clip up to rounding
    from audioscene.features import FeatureConfig

    cfg = FeatureConfig(sr=8000, n_fft=256, hop_length=128, kind="logmel", n_mels=12)
    clf, X, y = _fit(max_epochs=2, feature_config=cfg)
    rng = np.random.default_rng(1)
    t = np.arange(180 * 8000) / 8000
    sig = 0.05 * rng.standard_normal(len(t)) + 0.3 * np.sin(2 * np.pi * 700 * t) * (t % 7 < 2)
    path = tmp_path / "long.wav"
    sf.write(path, sig.astype(np.float32), 8000)
    whole = clf.decision_function([clf.frames(path)])[0]
    chunked = clf.decision_function_file(path, chunk_frames=256, block_length=5000)
    assert len(clf.frames(path)) > 10 * 256
    np.testing.assert_allclose(chunked, whole, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(clf.predict_proba_file(path), clf.predict_proba([path])[0],
                               atol=1e-4)
    # an ensemble reads the file once for all its members, with the same result
    import audioscene.audio
    from audioscene.models import ClipEnsemble

    other, _, _ = _fit(max_epochs=2, feature_config=cfg, random_state=1)
    ens = ClipEnsemble([clf, other])
    reads = []
    real_blocks = audioscene.audio.blocks

    def counting_blocks(*args: object, **kwargs: object):  # noqa: ANN202
        reads.append(args[0])
        return real_blocks(*args, **kwargs)

    monkeypatch.setattr(audioscene.audio, "blocks", counting_blocks)
    P = ens.predict_proba_file(path, chunk_frames=256, block_length=5000)
    monkeypatch.undo()
    assert reads == [path]
    assert np.array_equal(P, np.mean([m.predict_proba_file(path, chunk_frames=256,
                                                           block_length=5000)
                                      for m in (clf, other)], axis=0))


def test_multi_label_tags() -> None:
    rng = np.random.default_rng(3)
    X, Y = [], []
    for i in range(60):
        x = rng.normal(size=(int(rng.integers(20, 50)), 10)).astype(np.float32)
        tags = (i % 2, (i // 2) % 2)
        if tags[0]:
            x[:, :3] += 2.0
        if tags[1]:
            x[:, 6:] += 2.0
        X.append(x)
        Y.append(tuple(t for t, on in zip(("low", "high"), tags) if on))
    clf = ClipClassifier(multi_label=True, net_params=SMALL, max_epochs=15, batch_size=8,
                         progress=False, patience=50).fit(X[:40], Y[:40])
    assert list(clf.classes_) == ["high", "low"]
    P = clf.predict_proba(X[40:])
    assert P.shape == (20, 2) and ((P >= 0) & (P <= 1)).all()
    assert not np.allclose(P.sum(axis=1), 1)  # independent sigmoids
    assert clf.score(X[40:], Y[40:]) >= 0.8
    # a binary matrix with named columns gives the same order
    Yb = np.array([[int("high" in t), int("low" in t)] for t in Y[:40]])
    clf2 = ClipClassifier(multi_label=True, net_params=SMALL, max_epochs=2, progress=False)
    assert list(clf2.fit(X[:40], Yb, classes=["high", "low"]).classes_) == ["high", "low"]


def test_explicit_validation_data_chooses_epoch() -> None:
    X, y = _toy()
    Xv, yv = _toy(12, seed=9)
    clf = ClipClassifier(net_params=SMALL, max_epochs=4, progress=False,
                         validation_fraction=0.0).fit(X, y, validation_data=(Xv, yv))
    assert all("val_accuracy" in h for h in clf.history_)
    no_val = ClipClassifier(net_params=SMALL, max_epochs=2, progress=False,
                            validation_fraction=0.0).fit(X, y)
    assert no_val.best_epoch_ == 2 and "val_loss" not in no_val.history_[0]


def test_ema_validates_keeps_and_predicts_with_the_averaged_network() -> None:
    X, y = _toy()
    Xv, yv = _toy(12, seed=9)
    params = {"net_params": SMALL, "max_epochs": 10, "batch_size": 8, "progress": False,
              "validation_fraction": 0.0, "patience": 50}
    plain = ClipClassifier(**params).fit(X, y, validation_data=(Xv, yv))
    avg = ClipClassifier(**params, ema=0.8).fit(X, y, validation_data=(Xv, yv))
    # the returned network is the averaged one of the chosen epoch, restored after the
    # last epoch
    assert avg.best_epoch_ < len(avg.history_)
    best = avg.history_[avg.best_epoch_ - 1]["val_loss"]
    logits = torch.from_numpy(avg.decision_function(Xv))
    target = torch.as_tensor(np.searchsorted(avg.classes_, yv))
    assert float(torch.nn.functional.cross_entropy(logits, target)) == pytest.approx(best,
                                                                                    rel=1e-5)
    # and it is not the plain network: same seed, batches and augmentation
    assert [h["loss"] for h in avg.history_] == [h["loss"] for h in plain.history_]
    assert not np.allclose(avg.predict_proba(Xv), plain.predict_proba(Xv))
    for bad, match in (({"ema": 1.0}, "ema"), ({"ema": -0.1}, "ema"),
                       ({"freq_shift": -1}, "freq_shift"), ({"time_stretch": 1.0}, "time_stretch")):
        with pytest.raises(ValueError, match=match):
            ClipClassifier(**{**params, **bad}).fit(X, y)


def test_soft_targets_replace_the_labels_in_the_training_loss() -> None:
    """One-hot soft targets (with mixup, which mixes one-hot rows anyway) give the plain
    model weight for weight; soft targets follow their clips when the clips are listed
    in another order; other soft targets give another model whose epoch is still chosen
    on the true labels of the validation clips."""
    from audioscene.models import distillation_targets

    X, y = _toy()
    groups = [f"rec{i // 2}" for i in range(len(X))]
    params = {"net_params": SMALL, "max_epochs": 4, "batch_size": 8, "progress": False,
              "mixup": 0.3, "patience": 50}
    plain = ClipClassifier(**params).fit(X, y, groups=groups)
    onehot = (np.asarray(y)[:, None] == plain.classes_[None, :]).astype(np.float32)
    _assert_same_model(plain, ClipClassifier(**params).fit(X, y, groups=groups,
                                                           soft_targets=onehot))
    T = distillation_targets(plain, X, y, weight=0.7)
    np.testing.assert_allclose(T, 0.3 * onehot + 0.7 * plain.predict_proba(X), atol=1e-6)
    a = ClipClassifier(**params).fit(X, y, groups=groups, soft_targets=T)
    p = np.random.default_rng(3).permutation(len(X))
    b = ClipClassifier(**params).fit([X[i] for i in p], [y[i] for i in p],
                                     groups=[groups[i] for i in p], soft_targets=T[p])
    _assert_same_model(a, b)
    wa, wp = _weights(a), _weights(plain)
    assert not all(np.array_equal(wa[k], wp[k]) for k in wa)
    assert [h["loss"] for h in a.history_] != [h["loss"] for h in plain.history_]
    # the validation loss is on the hard labels of the held-out clips, as the plain model's
    from audioscene.models.clip import canonical_order

    order = canonical_order(X, y, groups)
    _, va = ClipClassifier(**params)._split(
        len(X), np.searchsorted(plain.classes_, [y[i] for i in order]), [groups[i] for i in order])
    Xv = [X[order[i]] for i in va]
    yv = np.searchsorted(a.classes_, [y[order[i]] for i in va])
    best = a.history_[a.best_epoch_ - 1]["val_loss"]
    logits = torch.from_numpy(a.decision_function(Xv))
    assert float(torch.nn.functional.cross_entropy(logits, torch.as_tensor(yv))) == \
        pytest.approx(best, rel=1e-5)
    # weights 0 and 1 are the labels and the teacher exactly
    assert np.array_equal(distillation_targets(plain, X, y, weight=0.0), onehot)
    np.testing.assert_array_equal(distillation_targets(plain, X, y, weight=1.0),
                                  plain.predict_proba(X).astype(np.float32))
    for bad, match in ((T[:-1], "one row per clip"),
                       (T[:, :2] / T[:, :2].sum(axis=1, keepdims=True), "columns"),
                       (T * 2, r"\[0, 1\]"), (T * 0.5, "sum to 1")):
        with pytest.raises(ValueError, match=match):
            ClipClassifier(**params).fit(X, y, soft_targets=bad)
    with pytest.raises(ValueError, match="not among the classes"):
        distillation_targets(plain, X, ["z", *y[1:]])
    with pytest.raises(ValueError, match="weight"):
        distillation_targets(plain, X, y, weight=1.5)


def test_distillation_targets_of_a_tagger() -> None:
    from audioscene.models import distillation_targets

    X, tags, params = _toy_tags()
    tagger = ClipClassifier(**params).fit(X, tags)
    Y = np.array([[t in tg for t in tagger.classes_] for tg in tags], np.float32)
    T = distillation_targets(tagger, X, tags, weight=0.25)
    np.testing.assert_allclose(T, 0.75 * Y + 0.25 * tagger.predict_proba(X), atol=1e-6)
    assert np.array_equal(distillation_targets(tagger, X, Y, weight=0.25), T)
    student = ClipClassifier(**params).fit(X, tags, soft_targets=T)
    assert student.classes_.tolist() == tagger.classes_.tolist()
    assert [h["loss"] for h in student.history_] != [h["loss"] for h in tagger.history_]


def test_warp_shifts_bands_and_stretches_time() -> None:
    from audioscene.models.clip import _warp

    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.normal(size=(6, 30, 16)).astype(np.float32))
    lengths = torch.tensor([30, 25, 20, 30, 12, 7])
    g = torch.Generator().manual_seed(0)
    out, L = _warp(x, lengths, g, 3, 0.0)
    assert torch.equal(L, lengths)
    shifts = set()
    for b in range(6):
        n = int(lengths[b])
        found = [k for k in range(-3, 4)
                 if torch.equal(out[b, :n], torch.cat(
                     [torch.zeros(n, max(k, 0)), x[b, :n, max(-k, 0):16 - max(k, 0)],
                      torch.zeros(n, max(-k, 0))], dim=1))]
        assert len(found) == 1
        shifts.add(found[0])
        assert torch.all(out[b, n:] == 0)
    assert len(shifts) > 1
    # a ramp in time stays a ramp from 0 to 39 at its new length (interpolated, not cut
    # or zero-padded); every feature is stretched alike
    ramp = torch.arange(40.0)[None, :, None].expand(6, 40, 5).contiguous()
    out, L = _warp(ramp, torch.full((6,), 40), g, 0, 0.25)
    assert all(30 <= int(n) <= 50 for n in L) and len(set(L.tolist())) > 2
    for b in range(6):
        n = int(L[b])
        r = out[b, :n, 0]
        assert float(r[0]) < 1 and float(r[-1]) > 38.5 and torch.all(r[1:] >= r[:-1])
        assert torch.equal(out[b, :n], r[:, None].expand(n, 5))
        assert torch.all(out[b, n:] == 0)


def test_bad_inputs_are_named() -> None:
    X, y = _toy(6)
    with pytest.raises(ValueError, match=r"X\[1\]: no frames"):
        ClipClassifier(progress=False).fit([X[0], np.zeros((0, 12)), *X[2:]], y)
    bad = [x.copy() for x in X]
    bad[2][0, 0] = np.nan
    with pytest.raises(ValueError, match=r"X\[2\]: features contain NaN"):
        ClipClassifier(progress=False).fit(bad, y)
    with pytest.raises(ValueError, match="labels"):
        ClipClassifier(progress=False).fit(X, y[:-1])
    clf, _, _ = _fit(max_epochs=1)
    with pytest.raises(ValueError, match="12 expected|expected 12"):
        clf.predict([np.zeros((10, 5))])
    with pytest.raises(ValueError, match="backend"):
        ClipClassifier(backend="rnn", progress=False).fit(X, y)


def test_missing_and_short_audio_files_are_named(tmp_path: Path) -> None:
    clf, _, _ = _fit(max_epochs=1)
    short = tmp_path / "short.wav"
    sf.write(short, np.zeros(100, np.float32), 22050)
    with pytest.raises(ValueError, match="short.wav: no frames"):
        clf.frames(short)
    with pytest.raises(Exception, match="missing.wav"):
        clf.frames(tmp_path / "missing.wav")


def _esc_subset(root: Path, classes: int = 3) -> tuple[list, list]:
    ds = read_esc10(root)
    keep = set(ds.classes[:classes])
    train = [it for it in ds if it.label in keep and it.fold in (1, 2, 3)]
    test = [it for it in ds if it.label in keep and it.fold == 4]
    return train, test


def test_real_esc10_clips_beat_chance(shared_data: Path) -> None:
    train, test = _esc_subset(shared_data)
    clf = ClipClassifier(net_params={"channels": [16, 16, 32, 32], "strides": [2, 2, 2, 1]},
                         max_epochs=10, patience=50, progress=False, random_state=0)
    clf.fit([it.path for it in train], [it.label for it in train],
            groups=[it.recording for it in train])
    acc = clf.score([it.path for it in test], [it.label for it in test])
    assert acc >= 0.6, f"3-class accuracy {acc:.2f} (chance 0.33)"


def test_baselines_on_real_esc10_clips(shared_data: Path) -> None:
    train, test = _esc_subset(shared_data)
    Xtr, ytr = [it.path for it in train], [it.label for it in train]
    Xte, yte = [it.path for it in test], [it.label for it in test]
    gmm = GMMClassifier(n_components=4).fit(Xtr, ytr)
    assert gmm.score(Xte, yte) >= 0.6
    P = gmm.predict_proba(Xte)
    np.testing.assert_allclose(P.sum(axis=1), 1)
    assert (gmm.classes_[P.argmax(1)] == gmm.predict(Xte)).all()
    rf = ForestClipClassifier(n_estimators=100).fit(Xtr, ytr)
    assert rf.n_features_in_ == 13  # 12 MFCC + zero-crossing rate
    assert rf.score(Xte, yte) >= 0.6


def test_gmm_tagger_scores_rank_tags() -> None:
    rng = np.random.default_rng(4)
    X, Y = [], []
    for i in range(40):
        x = rng.normal(size=(80, 6))
        tags = ((i % 2) == 1, (i % 3) == 0)
        if tags[0]:
            x[::2, 0] += 4
        if tags[1]:
            x[1::2, 5] -= 4
        X.append(x)
        Y.append(tuple(t for t, on in zip("ab", tags) if on))
    tagger = GMMTagger(n_components=2).fit(X[:30], Y[:30])
    S = tagger.decision_function(X[30:])
    truth = np.array([[t in y for t in "ab"] for y in Y[30:]])
    for j in range(2):
        assert S[truth[:, j], j].min() > S[~truth[:, j], j].max()


@pytest.mark.parametrize("damage", ["empty", "truncated", "garbage"])
def test_damaged_clip_model_files_are_named(tmp_path: Path, damage: str) -> None:
    clf, _, _ = _fit(max_epochs=1)
    clf.save(tmp_path / "m")
    w = tmp_path / "m" / "arrays.npz"
    data = w.read_bytes()
    w.write_bytes({"empty": b"", "truncated": data[: len(data) // 2],
                   "garbage": b"not a weights file" * 10}[damage])
    with pytest.raises(ValueError, match=r"m/arrays\.npz: (empty file|does not match)"):
        load_model(tmp_path / "m")
    (tmp_path / "m" / "model.json").write_text('{"format": "audioscene.mod')
    with pytest.raises(ValueError, match=r"m/model\.json: not valid JSON \(line 1"):
        load_model(tmp_path / "m")


def test_long_file_with_an_embedder_in_chunks_equals_whole_clip(tmp_path: Path) -> None:
    # the LTE path: the image is embedded from hop-aligned runs of frames
    from audioscene.features import FeatureConfig, LabelTreeEmbedder

    cfg = FeatureConfig(sr=8000, n_fft=256, hop_length=128, kind="logmel", n_mels=4)
    rng = np.random.default_rng(0)
    X = [rng.normal(loc=-40 + 10 * (i % 3), scale=3, size=(int(rng.integers(30, 60)), 4))
         for i in range(30)]
    y = ["abc"[i % 3] for i in range(30)]
    clf = ClipClassifier(backend="lte-cnn", feature_config=cfg, embedder=LabelTreeEmbedder(
        segment_frames=8, hop_frames=4, n_estimators=10, n_folds=2),
        net_params={"widths": [1, 3], "filters": 8}, max_epochs=2, progress=False).fit(X, y)
    t = np.arange(120 * 8000) / 8000
    sig = 0.05 * rng.standard_normal(len(t)) + 0.3 * np.sin(2 * np.pi * 900 * t) * (t % 5 < 1)
    path = tmp_path / "long.wav"
    sf.write(path, sig.astype(np.float32), 8000)
    whole = clf.decision_function([path])[0]
    chunked = clf.decision_function_file(path, chunk_frames=300, block_length=7000)
    assert len(clf.frames(path)) > 10 * 300
    np.testing.assert_allclose(chunked, whole, rtol=1e-4, atol=1e-4)


def test_encode_labels_is_what_fit_and_distillation_use() -> None:
    from audioscene.models import encode_labels

    Y, classes = encode_labels(["b", "a", "b"], ["b", "a"], multi_label=False)
    assert Y.tolist() == [0, 1, 0] and classes.tolist() == ["b", "a"]
    with pytest.raises(ValueError, match="not among the classes"):
        encode_labels(["a", "c"], ["a", "b"], multi_label=False)
    # an unknown tag is refused, not dropped from the targets
    with pytest.raises(ValueError, match=r"tags \['z'\] are not among"):
        encode_labels([("a",), ("z",)], ["a", "b"], multi_label=True)
    with pytest.raises(ValueError, match="3 classes for 2 columns"):
        encode_labels(np.eye(2), ["a", "b", "c"], multi_label=True)
    X, tags, params = _toy_tags()
    with pytest.raises(ValueError, match="not among the classes"):
        ClipClassifier(**params).fit(X, tags, classes=sorted({t for tg in tags for t in tg})[1:])
    Y, classes = encode_labels(tags, None, multi_label=True)
    tagger = ClipClassifier(**params).fit(X, tags)
    assert tagger.classes_.tolist() == classes.tolist()
