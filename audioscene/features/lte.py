"""Label tree embeddings (arXiv:1607.02303).

A :class:`LabelTree` is learned top-down from how classes are confused: at each node the
node's recordings are split 50/50 (stratified by class, grouped by recording), a
classifier for the node's classes is trained on one half, the other half gives a
confusion matrix (mean predicted probability vector per true class), its symmetric
part ``(C + C^T) / 2`` is the affinity of a two-way spectral clustering, and each side
is split again until every leaf holds one class. Classes that are confused end up
together deep in the tree; classes that are never confused are separated early.

A :class:`LabelTreeEmbedder` turns a recording into an "LTE image": for every segment
(mean and standard deviation of the frame features over ``segment_frames`` frames,
every ``hop_frames`` frames), the posteriors ``[P(left), P(right)]`` of one binary
classifier per internal node, ``2 (C - 1)`` values per segment.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> X = [rng.normal(loc=i % 3, size=(40, 4)) for i in range(30)]
>>> y = ["abc"[i % 3] for i in range(30)]
>>> emb = LabelTreeEmbedder(segment_frames=10, hop_frames=10, n_estimators=20)
>>> images = emb.fit_transform(X, y)
>>> images[0].shape
(4, 4)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.cluster import SpectralClustering
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import GroupKFold, StratifiedGroupKFold
from sklearn.utils.validation import check_is_fitted

__all__ = ["LabelTree", "LabelTreeEmbedder", "TreeNode", "segment_stats"]


def segment_stats(frames: np.ndarray, segment_frames: int, hop_frames: int) -> np.ndarray:
    """Mean and standard deviation of the frame features over each segment.

    A recording shorter than one segment gives one segment over all its frames.

    Parameters
    ----------
    frames : np.ndarray
        ``(T, F)`` frame features.
    segment_frames, hop_frames : int
        Segment length and hop in frames.

    Returns
    -------
    np.ndarray
        ``(n_segments, 2 F)``.

    Examples
    --------
    >>> segment_stats(np.arange(12.0).reshape(6, 2), 4, 2)
    array([[3.        , 4.        , 2.23606798, 2.23606798],
           [7.        , 8.        , 2.23606798, 2.23606798]])
    """
    F = np.asarray(frames, dtype=np.float64)
    if F.ndim != 2 or len(F) == 0:
        raise ValueError(f"expected a non-empty (frames x features) array, got shape {F.shape}")
    if segment_frames < 1 or hop_frames < 1:
        raise ValueError("segment_frames and hop_frames must be positive")
    if len(F) <= segment_frames:
        return np.r_[F.mean(axis=0), F.std(axis=0)][None, :]
    n = 1 + (len(F) - segment_frames) // hop_frames
    starts = np.arange(n) * hop_frames
    cs = np.cumsum(np.r_[np.zeros((1, F.shape[1])), F], axis=0)
    cs2 = np.cumsum(np.r_[np.zeros((1, F.shape[1])), F ** 2], axis=0)
    s1 = cs[starts + segment_frames] - cs[starts]
    s2 = cs2[starts + segment_frames] - cs2[starts]
    mean = s1 / segment_frames
    var = np.maximum(s2 / segment_frames - mean ** 2, 0.0)
    return np.c_[mean, np.sqrt(var)]


@dataclass
class TreeNode:
    """An internal node: its classes and those of its two children."""

    classes: list[str]
    left: list[str]
    right: list[str]
    affinity: list[list[float]] | None = field(default=None, repr=False)


def _default_classifier(seed: int, n_estimators: int = 100, n_jobs: int | None = None
                        ) -> RandomForestClassifier:
    return RandomForestClassifier(n_estimators=n_estimators, class_weight="balanced",
                                  min_samples_leaf=2, random_state=seed, n_jobs=n_jobs)


class LabelTree:
    """A binary tree over the classes, built top-down from class confusion.

    Parameters
    ----------
    classifier : estimator or None
        Classifier cloned at each node to measure confusion (default: a balanced random
        forest).
    seed : int
        Seeds the 50/50 splits, the classifiers and the clustering.

    Attributes
    ----------
    nodes : list of TreeNode
        Internal nodes in pre-order (root first); ``len(nodes) == n_classes - 1``.
    classes : list of str
        All classes.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat(["a", "b", "c", "d"], 20)
    >>> centre = {"a": 0.0, "b": 0.3, "c": 5.0, "d": 5.3}
    >>> X = np.array([[centre[c] + rng.normal(scale=0.3)] for c in y])
    >>> tree = LabelTree(seed=0).fit(X, y, groups=np.arange(80))
    >>> print(tree)
    a b c d
    ├── a b
    │   ├── a
    │   └── b
    └── c d
        ├── c
        └── d
    """

    def __init__(self, classifier: Any = None, seed: int = 0) -> None:
        self.classifier = classifier
        self.seed = seed
        self.nodes: list[TreeNode] = []
        self.classes: list[str] = []

    def _split(self, X: np.ndarray, y: np.ndarray, groups: np.ndarray, classes: list[str],
               depth: int) -> tuple[list[str], list[str], np.ndarray | None]:
        if len(classes) == 2:
            return [classes[0]], [classes[1]], None
        seed = self.seed + depth
        keep = np.isin(y, classes)
        Xn, yn, gn = X[keep], y[keep], groups[keep]
        n_groups_min = min(len(np.unique(gn[yn == c])) for c in classes)
        if n_groups_min >= 2:
            sgkf = StratifiedGroupKFold(n_splits=2, shuffle=True, random_state=seed)
            a, b = next(sgkf.split(Xn, yn, gn))
        else:  # a class with one recording: split that class's segments in time
            a, b = self._split_few(yn, gn)
        clf = clone(self.classifier) if self.classifier is not None else _default_classifier(seed)
        clf.fit(Xn[a], yn[a])
        P = clf.predict_proba(Xn[b])
        cols = [list(clf.classes_).index(c) if c in clf.classes_ else -1 for c in classes]
        C = np.zeros((len(classes), len(classes)))
        for i, c in enumerate(classes):
            rows = P[yn[b] == c]
            if len(rows):
                C[i] = [rows[:, j].mean() if j >= 0 else 0.0 for j in cols]
            else:
                C[i, i] = 1.0
        A = (C + C.T) / 2
        A = A + 1e-6  # keep the affinity graph connected
        labels = SpectralClustering(2, affinity="precomputed", random_state=seed,
                                    assign_labels="discretize").fit_predict(A)
        if labels.min() == labels.max():  # degenerate: split off the least confused class
            labels = np.zeros(len(classes), int)
            labels[int(np.argmin(A.sum(axis=1) - np.diag(A)))] = 1
        left = [c for c, lab in zip(classes, labels) if lab == labels[0]]
        right = [c for c, lab in zip(classes, labels) if lab != labels[0]]
        return left, right, A

    @staticmethod
    def _split_few(y: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Fallback halves when some class has a single recording: alternate recordings
        per class, and alternate halves in time within a lone recording."""
        a, b = [], []
        for c in np.unique(y):
            idx = np.flatnonzero(y == c)
            gs = list(dict.fromkeys(groups[idx]))
            if len(gs) >= 2:
                for k, g in enumerate(gs):
                    (a if k % 2 == 0 else b).extend(idx[groups[idx] == g])
            else:
                half = max(1, len(idx) // 2)
                a.extend(idx[:half])
                b.extend(idx[half:] if len(idx) > 1 else idx)
        return np.array(a), np.array(b)

    def fit(self, X: np.ndarray, y: Sequence[str], *, groups: Sequence[Any] | None = None
            ) -> LabelTree:
        """Build the tree from segment features ``X`` with class ``y`` and recording id
        ``groups`` per segment.

        Examples
        --------
        >>> LabelTree().fit(X, y, groups=rec)  # doctest: +SKIP
        """
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y).astype(str)
        groups = np.arange(len(y)) if groups is None else np.asarray(groups)
        if X.ndim != 2 or len(X) != len(y) or len(groups) != len(y):
            raise ValueError("X must be (n_segments, n_features) with one label and group "
                             "per segment")
        self.classes = sorted(set(y.tolist()))
        if len(self.classes) < 2:
            raise ValueError("a label tree needs at least two classes")
        self.nodes = []

        def grow(classes: list[str], depth: int) -> None:
            if len(classes) < 2:
                return
            left, right, A = self._split(X, y, groups, classes, depth)
            self.nodes.append(TreeNode(classes, left, right,
                                       None if A is None else A.round(6).tolist()))
            grow(left, depth + 1)
            grow(right, depth + 1)

        grow(self.classes, 0)
        return self

    # ------------------------------------------------------------------ inspection
    def _children(self) -> dict[tuple[str, ...], TreeNode]:
        return {tuple(n.classes): n for n in self.nodes}

    def __str__(self) -> str:
        by = self._children()
        lines = [" ".join(self.classes)]

        def walk(classes: list[str], prefix: str) -> None:
            node = by.get(tuple(classes))
            if node is None:
                return
            for k, side in enumerate((node.left, node.right)):
                last = k == 1
                lines.append(prefix + ("└── " if last else "├── ") + " ".join(side))
                walk(side, prefix + ("    " if last else "│   "))

        walk(self.classes, "")
        return "\n".join(lines)

    def leaf_order(self) -> list[str]:
        """Classes in left-to-right leaf order.

        Examples
        --------
        >>> tree.leaf_order()  # doctest: +SKIP
        ['a', 'b', 'c', 'd']
        """
        by = self._children()

        def leaves(classes: list[str]) -> list[str]:
            node = by.get(tuple(classes))
            return list(classes) if node is None else leaves(node.left) + leaves(node.right)

        return leaves(self.classes)

    def plot(self, path: str | Path, *, title: str = "label tree") -> Path:
        """Draw the tree as a PNG (leaves at the bottom, root at the top), atomically.

        Examples
        --------
        >>> tree.plot("tree.png")  # doctest: +SKIP
        """
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from ..io_utils import atomic_open

        order = self.leaf_order()
        by = self._children()
        pos: dict[tuple[str, ...], tuple[float, float]] = {}

        def place(classes: list[str]) -> tuple[float, float]:
            node = by.get(tuple(classes))
            if node is None:
                p = (float(order.index(classes[0])), 0.0)
            else:
                a, b = place(node.left), place(node.right)
                p = ((a[0] + b[0]) / 2, max(a[1], b[1]) + 1)
            pos[tuple(classes)] = p
            return p

        place(self.classes)
        fig, ax = plt.subplots(figsize=(max(4, 1.1 * len(order)), 1.2 + 0.7 * len(self.nodes)))
        for node in self.nodes:
            x0, y0 = pos[tuple(node.classes)]
            for side in (node.left, node.right):
                x1, y1 = pos[tuple(side)]
                ax.plot([x0, x1, x1], [y0, y0, y1], color="0.3", lw=1.2)
        for i, c in enumerate(order):
            ax.text(i, -0.15, c, rotation=45, ha="right", va="top", fontsize=9)
        ax.set_xlim(-1, len(order))
        ax.set_ylim(-1.6, max(p[1] for p in pos.values()) + 0.5)
        ax.axis("off")
        ax.set_title(title)
        fig.tight_layout()
        with atomic_open(path, "wb") as f:
            fig.savefig(f, format="png", dpi=100)
        plt.close(fig)
        return Path(path)

    # ------------------------------------------------------------------ serialisation
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description (classes and internal nodes)."""
        return {"classes": list(self.classes),
                "nodes": [{"classes": n.classes, "left": n.left, "right": n.right}
                          for n in self.nodes]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LabelTree:
        """Inverse of :meth:`to_dict`."""
        t = cls()
        t.classes = list(d["classes"])
        t.nodes = [TreeNode(list(n["classes"]), list(n["left"]), list(n["right"]))
                   for n in d["nodes"]]
        return t


def _forest_arrays(rf: RandomForestClassifier, prefix: str) -> tuple[dict[str, np.ndarray],
                                                                    dict[str, Any]]:
    """A fitted random forest as plain arrays (each tree's node table and values) plus
    JSON metadata; no pickle."""
    if type(rf) is not RandomForestClassifier or rf.n_outputs_ != 1:
        raise NotImplementedError("only single-output RandomForestClassifier node "
                                  "classifiers can be saved without pickle")
    arrays: dict[str, np.ndarray] = {}
    depths = []
    for i, est in enumerate(rf.estimators_):
        st = est.tree_.__getstate__()
        arrays[f"{prefix}/{i}/nodes"] = st["nodes"]
        arrays[f"{prefix}/{i}/values"] = st["values"]
        depths.append(int(st["max_depth"]))
    meta = {"n_trees": len(rf.estimators_), "depths": depths, "classes": rf.classes_.tolist(),
            "n_features": int(rf.n_features_in_)}
    return arrays, meta


def _forest_from_arrays(arrays: dict[str, np.ndarray], prefix: str, meta: dict[str, Any]
                        ) -> RandomForestClassifier:
    """Inverse of :func:`_forest_arrays`."""
    from sklearn.tree import DecisionTreeClassifier
    from sklearn.tree._tree import Tree

    classes = np.asarray(meta["classes"])
    n_features = int(meta["n_features"])
    estimators = []
    for i in range(int(meta["n_trees"])):
        nodes = arrays[f"{prefix}/{i}/nodes"]
        tree = Tree(n_features, np.array([len(classes)], dtype=np.intp), 1)
        tree.__setstate__({"max_depth": int(meta["depths"][i]), "node_count": len(nodes),
                           "nodes": nodes, "values": arrays[f"{prefix}/{i}/values"]})
        est = DecisionTreeClassifier()
        est.tree_ = tree
        est.n_features_in_ = n_features
        est.n_outputs_ = 1
        est.classes_ = classes
        est.n_classes_ = len(classes)
        est.max_features_ = n_features
        estimators.append(est)
    rf = RandomForestClassifier(n_estimators=len(estimators))
    rf.estimators_ = estimators
    rf.estimator_ = DecisionTreeClassifier()
    rf.classes_ = classes
    rf.n_classes_ = len(classes)
    rf.n_outputs_ = 1
    rf.n_features_in_ = n_features
    return rf


class LabelTreeEmbedder(TransformerMixin, BaseEstimator):
    """Recordings to LTE images: node-classifier posteriors per segment.

    Parameters
    ----------
    segment_frames, hop_frames : int
        Segment length and hop, in frames of the input features.
    classifier : estimator or None
        Binary node classifier, cloned per internal node (default: a random forest with
        balanced class weights); also used to measure confusion when building the tree.
    n_estimators : int
        Trees of the default forests.
    n_folds : int
        Folds of the cross-fitting in :meth:`fit_transform` (grouped by recording).
    seed : int
        Seed of the tree, the folds and the classifiers.
    n_jobs : int or None
        Parallel jobs of the default forests.

    Attributes
    ----------
    tree_ : LabelTree
    classifiers_ : list
        One fitted binary classifier per internal node (pre-order).
    crossfit_ : list of dict
        For each cross-fitting fold, the recording ids its node classifiers were trained
        on (``"trained_on"``) and those it embedded (``"embedded"``).

    Examples
    --------
    >>> emb = LabelTreeEmbedder().fit(frames, labels, groups=recordings)  # doctest: +SKIP
    >>> image = emb.transform([frames[0]])[0]  # doctest: +SKIP
    """

    def __init__(self, segment_frames: int = 20, hop_frames: int = 10, classifier: Any = None,
                 n_estimators: int = 100, n_folds: int = 5, seed: int = 0,
                 n_jobs: int | None = None) -> None:
        self.segment_frames = segment_frames
        self.hop_frames = hop_frames
        self.classifier = classifier
        self.n_estimators = n_estimators
        self.n_folds = n_folds
        self.seed = seed
        self.n_jobs = n_jobs

    # ------------------------------------------------------------------ helpers
    def _segments(self, X: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        if isinstance(X, np.ndarray) and X.ndim == 2:
            raise TypeError("X must be a list of (frames x features) recordings, not one array")
        segs = [segment_stats(np.asarray(x), self.segment_frames, self.hop_frames) for x in X]
        if not segs:
            raise ValueError("no recordings")
        d = {s.shape[1] for s in segs}
        if len(d) != 1:
            raise ValueError("all recordings must have the same number of features per frame")
        owner = np.repeat(np.arange(len(segs)), [len(s) for s in segs])
        return np.concatenate(segs), owner

    def _new_classifier(self, k: int) -> Any:
        if self.classifier is not None:
            return clone(self.classifier)
        return _default_classifier(self.seed + 1000 + k, self.n_estimators, self.n_jobs)

    def _fit_nodes(self, S: np.ndarray, ys: np.ndarray) -> list[Any]:
        out = []
        for k, node in enumerate(self.tree_.nodes):
            keep = np.isin(ys, node.classes)
            target = np.isin(ys[keep], node.right).astype(int)
            out.append(self._new_classifier(k).fit(S[keep], target))
        return out

    @staticmethod
    def _embed(classifiers: list[Any], S: np.ndarray) -> np.ndarray:
        cols = []
        for clf in classifiers:
            P = clf.predict_proba(S)
            p_right = P[:, list(clf.classes_).index(1)] if 1 in clf.classes_ else np.zeros(len(S))
            cols += [1.0 - p_right, p_right]
        return np.stack(cols, axis=1).astype(np.float32)

    @staticmethod
    def _split_images(E: np.ndarray, owner: np.ndarray, n: int) -> list[np.ndarray]:
        bounds = np.searchsorted(owner, np.arange(n + 1))
        return [E[bounds[i]:bounds[i + 1]] for i in range(n)]

    # ------------------------------------------------------------------ API
    def fit(self, X: Sequence[np.ndarray], y: Sequence[str], *,
            groups: Sequence[Any] | None = None) -> LabelTreeEmbedder:
        """Build the tree and train one node classifier per internal node.

        Parameters
        ----------
        X : list of ndarray
            ``(frames x features)`` per recording.
        y : sequence of str
            Class per recording.
        groups : sequence or None
            Recording id per item (items with the same id are never split apart).

        Returns
        -------
        LabelTreeEmbedder
            ``self``.
        """
        S, owner, _ = self._fit_tree(X, y, groups)
        ys = np.asarray(y).astype(str)[owner]
        self.classifiers_ = self._fit_nodes(S, ys)
        return self

    def _fit_tree(self, X: Sequence[np.ndarray], y: Sequence[str],
                  groups: Sequence[Any] | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if len(X) != len(y):
            raise ValueError(f"X has {len(X)} recordings but y has {len(y)} labels")
        S, owner = self._segments(X)
        g = np.arange(len(X)) if groups is None else np.asarray(groups)
        if len(g) != len(X):
            raise ValueError("groups must have one id per recording")
        ys = np.asarray(y).astype(str)[owner]
        self.tree_ = LabelTree(classifier=self.classifier, seed=self.seed).fit(
            S, ys, groups=g[owner])
        self.classes_ = np.asarray(self.tree_.classes)
        self.n_features_in_ = S.shape[1] // 2
        return S, owner, g

    def fit_transform(self, X: Sequence[np.ndarray], y: Sequence[str] | None = None, *,
                      groups: Sequence[Any] | None = None, **_: Any) -> list[np.ndarray]:
        """Fit, and return *cross-fitted* LTE images of the training recordings.

        The recordings are split into ``n_folds`` folds grouped by recording; each
        fold's images come from node classifiers trained on the other folds only, so a
        model trained on these images never sees posteriors of classifiers that saw the
        same recording. The final node classifiers (for :meth:`transform`) are trained
        on everything.

        Examples
        --------
        >>> images = LabelTreeEmbedder().fit_transform(frames, labels, groups=rec)  # doctest: +SKIP
        """
        if y is None:
            raise ValueError("fit_transform needs the labels y")
        S, owner, g = self._fit_tree(X, y, groups)
        ys = np.asarray(y).astype(str)[owner]
        n_groups = len(np.unique(g))
        k = min(self.n_folds, n_groups)
        if k < 2:
            raise ValueError("cross-fitting needs at least two distinct recordings")
        E = np.zeros((len(S), 2 * len(self.tree_.nodes)), np.float32)
        self.crossfit_ = []
        folds = GroupKFold(n_splits=k).split(np.arange(len(X)), groups=g)
        for tr_rec, te_rec in folds:
            tr = np.isin(owner, tr_rec)
            te = np.isin(owner, te_rec)
            clfs = self._fit_nodes(S[tr], ys[tr])
            E[te] = self._embed(clfs, S[te])
            self.crossfit_.append({"trained_on": sorted(set(g[tr_rec].tolist())),
                                   "embedded": sorted(set(g[te_rec].tolist()))})
        self.classifiers_ = self._fit_nodes(S, ys)
        return self._split_images(E, owner, len(X))

    def transform(self, X: Sequence[np.ndarray]) -> list[np.ndarray]:
        """LTE images ``(segments x 2 (C - 1))`` of recordings, one per recording.

        Examples
        --------
        >>> emb.transform([frames])[0].shape  # doctest: +SKIP
        (19, 18)
        """
        check_is_fitted(self, "classifiers_")
        S, owner = self._segments(X)
        if S.shape[1] != 2 * self.n_features_in_:
            raise ValueError(f"recordings have {S.shape[1] // 2} features per frame, "
                             f"expected {self.n_features_in_}")
        return self._split_images(self._embed(self.classifiers_, S), owner, len(X))

    # ------------------------------------------------------------------ persistence
    def save(self, directory: str | Path) -> Path:
        """Write ``lte.json`` (parameters, tree) and ``lte.npz`` (node forests as plain
        arrays, no pickle) into ``directory``.

        Examples
        --------
        >>> emb.save("models/esc10/embedder")  # doctest: +SKIP
        """
        import json

        from ..io_utils import atomic_save_npz, atomic_write_text

        check_is_fitted(self, "classifiers_")
        if self.classifier is not None:
            raise NotImplementedError("an embedder with a custom node classifier cannot be "
                                      "saved without pickle; use the default forests")
        arrays: dict[str, np.ndarray] = {}
        metas = []
        for k, clf in enumerate(self.classifiers_):
            a, m = _forest_arrays(clf, f"node{k}")
            arrays.update(a)
            metas.append(m)
        d = Path(directory)
        atomic_save_npz(d / "lte.npz", **arrays)
        params = {k: v for k, v in self.get_params().items() if k != "classifier"}
        atomic_write_text(d / "lte.json", json.dumps(
            {"type": "audioscene.LabelTreeEmbedder", "version": 1, "params": params,
             "tree": self.tree_.to_dict(), "forests": metas,
             "n_features_in": int(self.n_features_in_)}, indent=1) + "\n")
        return d

    @classmethod
    def load(cls, directory: str | Path) -> LabelTreeEmbedder:
        """Inverse of :meth:`save`; embeddings are identical.

        Examples
        --------
        >>> emb = LabelTreeEmbedder.load("models/esc10/embedder")  # doctest: +SKIP
        """
        from ..io_utils import read_arrays, read_model_json

        d = Path(directory)
        meta = read_model_json(d / "lte.json", "LabelTreeEmbedder")
        emb = cls(**meta["params"])
        emb.tree_ = LabelTree.from_dict(meta["tree"])
        emb.classes_ = np.asarray(emb.tree_.classes)
        emb.n_features_in_ = int(meta["n_features_in"])
        arrays = read_arrays(d / "lte.npz")
        emb.classifiers_ = [_forest_from_arrays(arrays, f"node{k}", m)
                            for k, m in enumerate(meta["forests"])]
        return emb

    def plot_image(self, image: np.ndarray, path: str | Path, *, title: str = "") -> Path:
        """Draw one LTE image (time on x, node posteriors on y) as a PNG.

        Examples
        --------
        >>> emb.plot_image(emb.transform([frames])[0], "lte.png")  # doctest: +SKIP
        """
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from ..io_utils import atomic_open

        check_is_fitted(self, "classifiers_")
        fig, ax = plt.subplots(figsize=(6, 0.25 * image.shape[1] + 1.2))
        ax.imshow(np.asarray(image).T, aspect="auto", origin="lower", cmap="magma",
                  vmin=0, vmax=1, interpolation="nearest")
        names = [f"n{k} {side}" for k in range(len(self.tree_.nodes)) for side in "LR"]
        ax.set_yticks(range(len(names)), names, fontsize=6)
        ax.set_xlabel("segment")
        ax.set_title(title, fontsize=9)
        fig.tight_layout()
        with atomic_open(path, "wb") as f:
            fig.savefig(f, format="png", dpi=100)
        plt.close(fig)
        return Path(path)
