"""The clip baselines and the label tree embedder: integer, string and boolean labels,
one 2-D array as one-frame clips, and model folders (exact round trip, wrong kind,
damaged array file)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from audioscene.features.lte import LabelTreeEmbedder
from audioscene.models.clip_baselines import (
    TASK4_MFCC,
    ForestClipClassifier,
    GMMClassifier,
    GMMTagger,
)
from audioscene.persist import ModelFileError

FACTORIES: dict[str, Callable[[], Any]] = {
    "GMMClassifier": lambda: GMMClassifier(n_components=2, random_state=1),
    "GMMTagger": lambda: GMMTagger(n_components=2),
    "ForestClipClassifier": lambda: ForestClipClassifier(n_estimators=20, random_state=2),
    "LabelTreeEmbedder": lambda: LabelTreeEmbedder(segment_frames=8, hop_frames=4,
                                                   n_estimators=10, n_folds=3),
}
LABELS = {"int": np.array([5, -1, 12]), "str": np.array(["dog", "0", "bird"]),
          "bool": np.array([True, False])}


def _clips(labels: np.ndarray, n_per_class: int = 8, seed: int = 0
           ) -> tuple[list[np.ndarray], np.ndarray]:
    """Clips of 10-30 frames of 4 features; class k has mean 3 k."""
    rng = np.random.default_rng(seed)
    X, y = [], []
    for i in range(n_per_class * len(labels)):
        k = i % len(labels)
        X.append(rng.normal(loc=3.0 * k, size=(int(rng.integers(10, 30)), 4)))
        y.append(labels[k])
    return X, np.asarray(y, dtype=labels.dtype)


def _outputs(est: Any, X: Any) -> list[np.ndarray]:
    """Every output of a fitted model on X."""
    if isinstance(est, LabelTreeEmbedder):  # one image per clip, or one 2-D array
        out = est.transform(X)
        return [np.concatenate(out)] if isinstance(out, list) else [out]
    if isinstance(est, GMMTagger):
        return [est.decision_function(X)]
    outs = [est.predict_proba(X), est.predict(X)]
    if isinstance(est, GMMClassifier):
        outs.append(est.decision_function(X))
    return outs


@pytest.mark.parametrize("kind", ["int", "str", "bool"])
@pytest.mark.parametrize("name", ["GMMClassifier", "ForestClipClassifier"])
def test_classifiers_take_and_return_the_users_labels(name: str, kind: str) -> None:
    labels = LABELS[kind]
    X, y = _clips(labels)
    Xte, yte = _clips(labels, n_per_class=4, seed=1)
    clf = FACTORIES[name]().fit(X, y)
    np.testing.assert_array_equal(clf.classes_, np.unique(labels))
    assert clf.classes_.dtype == labels.dtype
    pred = clf.predict(Xte)
    assert pred.dtype == labels.dtype and set(pred.tolist()) <= set(labels.tolist())
    assert clf.score(Xte, yte) >= 0.9
    P = clf.predict_proba(Xte)
    assert P.shape == (len(Xte), len(labels))
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    np.testing.assert_array_equal(clf.classes_[P.argmax(axis=1)], pred)
    # a plain list of labels gives the same model
    np.testing.assert_array_equal(FACTORIES[name]().fit(X, y.tolist()).predict_proba(Xte), P)


@pytest.mark.parametrize("kind", ["int", "str", "bool"])
def test_tagger_takes_the_users_tags(kind: str) -> None:
    labels = LABELS[kind]
    X, y = _clips(labels)
    tagger = FACTORIES["GMMTagger"]().fit(X, y)  # one tag per clip
    np.testing.assert_array_equal(tagger.classes_, np.unique(labels))
    assert tagger.classes_.dtype == labels.dtype
    S = tagger.decision_function(X)
    assert S.shape == (len(X), len(labels))
    assert (tagger.classes_[S.argmax(axis=1)] == y).mean() >= 0.9
    # the same tags as a list of tag tuples, a list of single tags, or a binary matrix
    same = [FACTORIES["GMMTagger"]().fit(X, [(t,) for t in y.tolist()]),
            FACTORIES["GMMTagger"]().fit(X, y.tolist()),
            FACTORIES["GMMTagger"]().fit(X, y[:, None] == tagger.classes_[None, :],
                                         classes=tagger.classes_)]
    for other in same:
        np.testing.assert_array_equal(other.classes_, tagger.classes_)
        assert other.classes_.dtype == labels.dtype
        np.testing.assert_array_equal(other.decision_function(X), S)


@pytest.mark.parametrize("kind", ["int", "str", "bool"])
def test_embedder_takes_the_users_labels(kind: str) -> None:
    labels = LABELS[kind]
    X, y = _clips(labels)
    emb = FACTORIES["LabelTreeEmbedder"]()
    images = emb.fit_transform(X, y)
    np.testing.assert_array_equal(emb.classes_, np.unique(labels))
    assert emb.classes_.dtype == labels.dtype
    assert len(images) == len(X) and images[0].shape[1] == 2 * (len(labels) - 1)
    assert emb.transform(X[:2])[1].shape == images[1].shape


@pytest.mark.parametrize("name", list(FACTORIES))
def test_a_2d_array_is_clips_of_one_frame(name: str) -> None:
    X, y = _clips(LABELS["str"])
    A = np.concatenate([x[:2] for x in X])
    yA = np.repeat(y, 2)
    rows = list(A[:, None, :])
    a = FACTORIES[name]().fit(A, yA)
    b = FACTORIES[name]().fit(rows, yA)
    assert a.n_features_in_ == b.n_features_in_ == 4
    for p, q in zip(_outputs(a, A), _outputs(b, rows)):
        np.testing.assert_array_equal(np.asarray(p).reshape(-1), np.asarray(q).reshape(-1))
    with pytest.raises(ValueError, match="X has 3 features, but .* is expecting 4"):
        _outputs(a, A[:, :3])


def _fitted(name: str) -> tuple[Any, list[np.ndarray]]:
    X, y = _clips(LABELS["str"])
    return FACTORIES[name]().fit(X, y), X


@pytest.mark.parametrize("name", list(FACTORIES))
def test_save_load_round_trip_is_exact(tmp_path: Path, name: str) -> None:
    est, X = _fitted(name)
    assert est.save(tmp_path / "m") == tmp_path / "m"
    back = type(est).load(tmp_path / "m")
    assert type(back) is type(est) and back.get_params() == est.get_params()
    np.testing.assert_array_equal(back.classes_, est.classes_)
    assert back.classes_.dtype == est.classes_.dtype
    assert back.n_features_in_ == est.n_features_in_
    Xte, _ = _clips(LABELS["str"], n_per_class=3, seed=7)
    for a, b in zip(_outputs(est, Xte), _outputs(back, Xte)):
        np.testing.assert_array_equal(a, b)
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    assert meta["kind"] == name and meta["format"] == "audioscene.model"
    with np.load(tmp_path / "m" / "arrays.npz", allow_pickle=False) as z:  # no pickle
        assert all(z[k].dtype != object for k in z.files)


def test_feature_config_and_object_labels_survive_saving(tmp_path: Path) -> None:
    X, y = _clips(LABELS["str"])
    clf = GMMClassifier(feature_config=TASK4_MFCC, n_components=2).fit(X, y.astype(object))
    assert clf.classes_.dtype == object
    clf.save(tmp_path / "m")
    back = GMMClassifier.load(tmp_path / "m")
    assert back.feature_config == TASK4_MFCC and back.classes_.dtype.kind == "U"
    np.testing.assert_array_equal(back.predict(X), clf.predict(X))
    none = GMMClassifier(n_components=2).fit(X, y)
    none.save(tmp_path / "n")
    assert GMMClassifier.load(tmp_path / "n").feature_config is None


def test_tagger_without_clips_for_a_tag_round_trips(tmp_path: Path) -> None:
    X, y = _clips(LABELS["str"])
    tagger = GMMTagger(n_components=2).fit(X, [(t,) for t in y.tolist()],
                                           classes=["bird", "cat", "dog", "0"])
    assert tagger.models_[1] is None
    tagger.save(tmp_path / "m")
    back = GMMTagger.load(tmp_path / "m")
    assert back.models_[1] is None and list(back.classes_) == ["bird", "cat", "dog", "0"]
    S = back.decision_function(X)
    np.testing.assert_array_equal(S, tagger.decision_function(X))
    assert (S[:, 1] == 0).all()


@pytest.mark.parametrize("saved, loader", [
    ("GMMClassifier", ForestClipClassifier), ("ForestClipClassifier", GMMClassifier),
    ("GMMTagger", GMMClassifier), ("GMMClassifier", LabelTreeEmbedder),
    ("LabelTreeEmbedder", GMMTagger)])
def test_a_model_of_another_kind_is_one_error_line(tmp_path: Path, saved: str,
                                                   loader: Any) -> None:
    _fitted(saved)[0].save(tmp_path / "m")
    with pytest.raises(ModelFileError) as err:
        loader.load(tmp_path / "m")
    msg = str(err.value)
    assert "\n" not in msg and "model.json" in msg
    assert f"a {saved} model, not a" in msg and loader.__name__ in msg


@pytest.mark.parametrize("name", list(FACTORIES))
def test_a_truncated_array_file_is_one_error_line(tmp_path: Path, name: str) -> None:
    est, _ = _fitted(name)
    est.save(tmp_path / "m")
    f = tmp_path / "m" / "arrays.npz"
    f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])
    with pytest.raises(ModelFileError) as err:
        type(est).load(tmp_path / "m")
    msg = str(err.value)
    assert "\n" not in msg and "arrays.npz" in msg and "truncated" in msg
