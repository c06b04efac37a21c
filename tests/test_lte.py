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
    tree = LabelTree(random_state=0).fit(X, y, groups=groups)
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
    # one 2-D array is read as one-frame recordings: one row of embedding per row
    flat = emb.transform(X[0])
    assert isinstance(flat, np.ndarray) and flat.shape == (len(X[0]), 2 * (C - 1))
    np.testing.assert_array_equal(flat, np.concatenate(emb.transform(list(X[0][:, None]))))
    with pytest.raises(ValueError, match="2D array"):
        emb.transform(X[0][0])
    bad = X[1].copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match=r"X\[1\]: features contain NaN"):
        emb.transform([X[0], bad])


def _embedder(**kw: object) -> LabelTreeEmbedder:
    return LabelTreeEmbedder(segment_frames=8, hop_frames=4, n_estimators=15, **kw)


def test_packed_forests_embed_exactly_as_the_scikit_learn_forests(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The node forests are packed right after fitting: an embedder fitted with packing
    switched off (keeping scikit-learn's forests) gives the same images, bit for bit."""
    from sklearn.ensemble import RandomForestClassifier

    from audioscene.features import lte
    from audioscene.trees import PackedForest

    X, y, rec = _recordings()
    packed = _embedder().fit(X, y, groups=rec)
    assert all(isinstance(c, PackedForest) for c in packed.classifiers_)
    packed_crossfit = _embedder(n_folds=3).fit_transform(X, y, groups=rec)
    monkeypatch.setattr(lte, "_pack", lambda clf: clf)
    plain = _embedder().fit(X, y, groups=rec)
    assert all(type(c) is RandomForestClassifier for c in plain.classifiers_)
    for a, b in zip(packed.transform(X), plain.transform(X)):
        np.testing.assert_array_equal(a, b)
    S = np.concatenate([segment_stats(x, 8, 4) for x in X])
    for rf in plain.classifiers_:
        np.testing.assert_array_equal(PackedForest.from_sklearn(rf).predict_proba(S),
                                      rf.predict_proba(S))
    # cross-fitted images too (the fold forests are packed the same way)
    for a, b in zip(packed_crossfit, _embedder(n_folds=3).fit_transform(X, y, groups=rec)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kind", ["int", "str", "bool"])
def test_integer_string_and_boolean_labels(kind: str) -> None:
    """Integer labels used to fail in scikit-learn's class weights; every kind works and
    ``classes_`` keeps the values and dtype of ``y``."""
    X, names, rec = _recordings(centres={"a": 0.0, "b": 4.0, "c": 9.0} if kind != "bool"
                                else {"a": 0.0, "b": 4.0})
    mapping = {"int": {"a": 10, "b": 2, "c": 0}, "str": {"a": "x", "b": "0", "c": "1"},
               "bool": {"a": True, "b": False}}[kind]
    y = np.array([mapping[c] for c in names])
    emb = _embedder().fit(X, y, groups=rec)
    np.testing.assert_array_equal(emb.classes_, np.unique(y))
    assert emb.classes_.dtype == y.dtype
    assert emb.tree_.classes == sorted(str(v) for v in set(y.tolist()))
    images = emb.transform(X)
    assert images[0].shape[1] == 2 * (len(mapping) - 1)
    images_list_y = _embedder().fit(X, y.tolist(), groups=rec).transform(X)
    for a, b in zip(images, images_list_y):
        np.testing.assert_array_equal(a, b)


def test_string_labels_that_spell_integers_build_the_same_tree() -> None:
    X, names, rec = _recordings()
    digits = {c: str(k) for k, c in enumerate(sorted(set(names)))}
    S = np.concatenate([segment_stats(x, 8, 4) for x in X])
    owner = np.repeat(np.arange(len(X)), [len(segment_stats(x, 8, 4)) for x in X])
    groups = np.asarray(rec)[owner]
    by_letter = LabelTree().fit(S, np.asarray(names)[owner], groups=groups)
    by_digit = LabelTree().fit(S, np.asarray([digits[c] for c in names])[owner], groups=groups)
    assert str(by_digit) == str(by_letter).translate(str.maketrans(
        {c: d for c, d in digits.items()}))


def test_embedder_save_load_identity(tmp_path: Path) -> None:
    import json

    from audioscene.trees import PackedForest

    X, y, rec = _recordings()
    emb = _embedder(random_state=3).fit(X, y, groups=rec)
    assert emb.save(tmp_path / "e") == tmp_path / "e"
    back = LabelTreeEmbedder.load(tmp_path / "e")
    for a, b in zip(emb.transform(X), back.transform(X)):
        np.testing.assert_array_equal(a, b)
    assert str(back.tree_) == str(emb.tree_)
    assert back.get_params() == emb.get_params() and back.random_state == 3
    np.testing.assert_array_equal(back.classes_, emb.classes_)
    assert all(isinstance(c, PackedForest) for c in back.classifiers_)
    meta = json.loads((tmp_path / "e" / "model.json").read_text())
    assert meta["kind"] == "LabelTreeEmbedder" and meta["state"]["tree"] == emb.tree_.to_dict()
    with np.load(tmp_path / "e" / "arrays.npz", allow_pickle=False) as z:  # no pickle
        n_nodes = len(set(y)) - 1
        assert {k.split("/")[0] for k in z.files} == {"classes"} | {
            f"node{k}" for k in range(n_nodes)}
        assert all(z[k].dtype != object for k in z.files)


def test_embedder_with_custom_classifier_is_not_saved(tmp_path: Path) -> None:
    from sklearn.tree import DecisionTreeClassifier

    X, y, rec = _recordings(n_per_class=4)
    emb = LabelTreeEmbedder(segment_frames=8, hop_frames=4,
                            classifier=DecisionTreeClassifier(max_depth=2)).fit(X, y,
                                                                                 groups=rec)
    assert all(isinstance(c, DecisionTreeClassifier) for c in emb.classifiers_)
    with pytest.raises(NotImplementedError, match="custom node classifier"):
        emb.save(tmp_path / "e")
    assert not (tmp_path / "e").exists()


def test_importing_lte_leaves_the_heavy_modules_unloaded() -> None:
    import subprocess
    import sys

    code = ("import sys, audioscene.features.lte; "
            "print(sorted(m for m in ('sklearn.ensemble', 'sklearn.cluster', "
            "'sklearn.model_selection', 'numba', 'matplotlib', 'torch') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


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
