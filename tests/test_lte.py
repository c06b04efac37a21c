"""Label tree embeddings: the tree, cross-fitting, LTE images, persistence, the LTE-CNN."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from audioscene.features import LabelTree, LabelTreeEmbedder, segment_stats
from audioscene.models import ClipClassifier, load_model


def _recordings(n_per_class: int = 8, centres: dict[str, float] | None = None, seed: int = 0
                ) -> tuple[list[np.ndarray], list[str], list[str]]:
    """Recordings of 4 features; classes differ in their mean; two clips per recording."""
    centres = centres or {"a": 0.0, "b": 0.4, "c": 4.0, "d": 4.4, "e": 9.0}
    rng = np.random.default_rng(seed)
    X, y, rec = [], [], []
    for c, mu in centres.items():
        for i in range(n_per_class):
            T = int(rng.integers(25, 60))
            X.append(rng.normal(loc=mu, scale=0.5, size=(T, 4)))
            y.append(c)
            rec.append(f"{c}{i // 2}")
    return X, y, rec


def _check_full_binary(tree: LabelTree, classes: list[str]) -> None:
    assert tree.classes == sorted(classes)
    assert len(tree.nodes) == len(classes) - 1
    assert tree.nodes[0].classes == sorted(classes)
    internal = {tuple(n.classes) for n in tree.nodes}
    leaves = []
    for n in tree.nodes:
        assert n.left and n.right and not set(n.left) & set(n.right)
        assert sorted(n.left + n.right) == sorted(n.classes)
        for side in (n.left, n.right):
            if len(side) == 1:
                leaves.append(side[0])
            else:
                assert tuple(side) in internal
    assert sorted(leaves) == sorted(classes)


def test_tree_is_full_binary_and_separates_unconfused_classes() -> None:
    rng = np.random.default_rng(0)
    centre = {"a": 0.0, "b": 0.3, "c": 6.0, "d": 6.3, "e": 6.6, "f": 20.0}
    y = np.repeat(list(centre), 30)
    X = np.array([[centre[c] + rng.normal(scale=0.4), rng.normal()] for c in y])
    groups = np.arange(len(y)) // 3  # three segments per recording
    tree = LabelTree(seed=0).fit(X, y, groups=groups)
    _check_full_binary(tree, list(centre))
    # a/b are confused with each other and never with c/d/e or f: a and b share a
    # subtree that holds none of c, d, e, f
    by = {tuple(n.classes): n for n in tree.nodes}
    ab = [n for n in by.values() if {"a", "b"} <= set(n.classes)]
    smallest = min(ab, key=lambda n: len(n.classes))
    assert set(smallest.classes) == {"a", "b"}
    assert {"a", "b"} <= set(tree.nodes[0].left) or {"a", "b"} <= set(tree.nodes[0].right)
    text = str(tree)
    assert text.splitlines()[0] == "a b c d e f" and "└── " in text


def test_two_classes_give_one_node(tmp_path: Path) -> None:
    X = np.r_[np.zeros((10, 2)), np.ones((10, 2))]
    y = ["x"] * 10 + ["y"] * 10
    tree = LabelTree().fit(X, y)
    assert len(tree.nodes) == 1 and tree.nodes[0].left == ["x"] and tree.nodes[0].right == ["y"]
    assert tree.plot(tmp_path / "t.png").stat().st_size > 500
    assert LabelTree.from_dict(tree.to_dict()).to_dict() == tree.to_dict()


def test_halves_never_split_a_recording() -> None:
    """The 50/50 split at each node is grouped by recording: check it on the split the
    tree makes, by recording which groups the node classifier was trained on."""
    seen: list[set] = []

    class Spy:
        def __init__(self) -> None:
            from sklearn.ensemble import RandomForestClassifier

            self.rf = RandomForestClassifier(10, random_state=0)

        def get_params(self, deep: bool = True) -> dict:
            return {}

        def set_params(self, **p: object) -> Spy:
            return self

        def fit(self, X: np.ndarray, y: np.ndarray) -> Spy:
            seen.append({float(v) for v in X[:, 1]})
            self.rf.fit(X, y)
            self.classes_ = self.rf.classes_
            return self

        def predict_proba(self, X: np.ndarray) -> np.ndarray:
            seen.append({float(v) for v in X[:, 1]})
            return self.rf.predict_proba(X)

    rng = np.random.default_rng(1)
    y = np.repeat(["a", "b", "c"], 24)
    groups = np.arange(72) // 4
    X = np.c_[rng.normal(size=72) + (y == "c") * 3, groups.astype(float)]  # column 1: group
    LabelTree(classifier=Spy()).fit(X, y, groups=groups)
    train_groups, test_groups = seen[0], seen[1]
    assert train_groups and test_groups and not train_groups & test_groups


def test_segment_stats_matches_numpy() -> None:
    rng = np.random.default_rng(2)
    F = rng.normal(size=(53, 3))
    S = segment_stats(F, 10, 4)
    assert S.shape == (1 + (53 - 10) // 4, 6)
    np.testing.assert_allclose(S[3], np.r_[F[12:22].mean(0), F[12:22].std(0)], atol=1e-10)
    short = segment_stats(F[:5], 10, 4)
    np.testing.assert_allclose(short[0], np.r_[F[:5].mean(0), F[:5].std(0)])
    with pytest.raises(ValueError, match="non-empty"):
        segment_stats(np.zeros((0, 3)), 10, 4)


def test_crossfit_embeddings_never_come_from_classifiers_that_saw_the_recording() -> None:
    """A spy classifier records which recordings each node classifier was trained on and
    which it embedded (a constant feature column carries the recording's number)."""
    from sklearn.base import BaseEstimator, ClassifierMixin
    from sklearn.ensemble import RandomForestClassifier

    trained: dict[int, set] = {}
    embedded: dict[int, set] = {}

    class Spy(ClassifierMixin, BaseEstimator):
        def fit(self, X: np.ndarray, y: np.ndarray) -> Spy:
            self.serial_ = len(trained)  # ids of freed objects are reused; serials are not
            trained[self.serial_] = {int(round(v)) for v in X[:, 4]}  # the id column's mean
            self.rf_ = RandomForestClassifier(10, random_state=0).fit(X, y)
            self.classes_ = self.rf_.classes_
            return self

        def predict_proba(self, X: np.ndarray) -> np.ndarray:
            embedded.setdefault(self.serial_, set()).update(int(round(v)) for v in X[:, 4])
            return self.rf_.predict_proba(X)

    X, y, rec = _recordings()
    ids = {r: k for k, r in enumerate(dict.fromkeys(rec))}
    X = [np.c_[x, np.full(len(x), float(ids[r]))] for x, r in zip(X, rec)]
    emb = LabelTreeEmbedder(segment_frames=8, hop_frames=4, n_folds=4, classifier=Spy())
    images = emb.fit_transform(X, y, groups=rec)
    assert len(images) == len(X) and embedded
    for clf_id, seen in embedded.items():  # nothing embedded by a classifier that saw it
        assert not seen & trained[clf_id], (sorted(seen), sorted(trained[clf_id]))
    assert set().union(*embedded.values()) == set(ids.values())  # every recording embedded
    # the final classifiers (for transform) embedded nothing here; the root's saw everything
    final = [c.serial_ for c in emb.classifiers_]
    assert not set(final) & set(embedded) and trained[final[0]] == set(ids.values())


def test_lte_image_shape_and_pair_sums() -> None:
    X, y, rec = _recordings()
    emb = LabelTreeEmbedder(segment_frames=8, hop_frames=4, n_estimators=20).fit(X, y,
                                                                                  groups=rec)
    images = emb.transform(X[:3])
    C = len(set(y))
    for x, img in zip(X[:3], images):
        assert img.shape == (1 + (len(x) - 8) // 4, 2 * (C - 1))
        np.testing.assert_allclose(img[:, 0::2] + img[:, 1::2], 1.0, atol=1e-6)
        assert ((img >= 0) & (img <= 1)).all()
    with pytest.raises(ValueError, match="features per frame"):
        emb.transform([np.zeros((20, 3))])
    with pytest.raises(TypeError, match="list"):
        emb.transform(X[0])


def test_embedder_save_load_identity(tmp_path: Path) -> None:
    X, y, rec = _recordings()
    emb = LabelTreeEmbedder(segment_frames=8, hop_frames=4, n_estimators=15).fit(X, y,
                                                                                  groups=rec)
    emb.save(tmp_path / "e")
    back = LabelTreeEmbedder.load(tmp_path / "e")
    for a, b in zip(emb.transform(X), back.transform(X)):
        np.testing.assert_array_equal(a, b)
    assert str(back.tree_) == str(emb.tree_)
    with np.load(tmp_path / "e" / "lte.npz", allow_pickle=False) as z:
        assert len(z.files) == 2 * 15 * (len(set(y)) - 1)


def test_lte_cnn_through_clip_classifier(tmp_path: Path) -> None:
    X, y, rec = _recordings(n_per_class=10)
    Xte, yte, _ = _recordings(n_per_class=4, seed=9)
    clf = ClipClassifier(backend="lte-cnn", embedder=LabelTreeEmbedder(
        segment_frames=8, hop_frames=4, n_estimators=20, n_folds=3),
        net_params={"widths": [1, 3], "filters": 16}, max_epochs=25, lr=5e-3,
        progress=False, patience=100).fit(X, y, groups=rec)
    assert clf.embedder_ is not None and clf.n_features_in_ == 2 * (5 - 1)
    assert clf.score(Xte, yte) >= 0.8
    clf.save(tmp_path / "m")
    back = load_model(tmp_path / "m")
    np.testing.assert_array_equal(clf.predict_proba(Xte), back.predict_proba(Xte))
    with pytest.raises(ValueError, match="single-label"):
        ClipClassifier(backend="lte-cnn", multi_label=True, embedder=LabelTreeEmbedder(),
                       progress=False).fit(X, [(c,) for c in y])


def test_sklearn_estimator_contract() -> None:
    from sklearn.base import clone
    from sklearn.utils.estimator_checks import (
        check_get_params_invariance,
        check_no_attributes_set_in_init,
        check_parameters_default_constructible,
    )

    for est in (LabelTreeEmbedder(), ClipClassifier()):
        name = type(est).__name__
        check_parameters_default_constructible(name, est)
        check_no_attributes_set_in_init(name, est)
        check_get_params_invariance(name, est)
        assert clone(est).get_params() == est.get_params()
