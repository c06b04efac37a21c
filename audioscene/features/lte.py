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
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from ..persist import ModelRecord, Persistent, label_array
from .core import is_clip_list

if TYPE_CHECKING:
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.utils import Tags

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
    """An internal node: its classes and those of its two children.

    Examples
    --------
    >>> TreeNode(["a", "b"], ["a"], ["b"])
    TreeNode(classes=['a', 'b'], left=['a'], right=['b'])
    """

    classes: list[str]
    left: list[str]
    right: list[str]
    affinity: list[list[float]] | None = field(default=None, repr=False)


def _default_classifier(seed: int, n_estimators: int = 100, n_jobs: int | None = None
                        ) -> RandomForestClassifier:
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(n_estimators=n_estimators, class_weight="balanced",
                                  min_samples_leaf=2, random_state=seed, n_jobs=n_jobs)


class LabelTree:
    """A binary tree over the classes, built top-down from class confusion.

    Parameters
    ----------
    classifier : estimator or None
        Classifier cloned at each node to measure confusion, trained on the index of
        each segment's class among the node's classes (default: a random forest of 100
        trees with balanced class weights).
    random_state : int
        Seeds the 50/50 splits, the default classifiers and the clustering (a node ``d``
        levels below the root uses ``random_state + d``).

    Attributes
    ----------
    nodes : list of TreeNode
        Internal nodes in pre-order (root first); ``len(nodes) == n_classes - 1``.
    classes : list of str
        All classes (``str`` of each label), sorted.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat(["a", "b", "c", "d"], 20)
    >>> centre = {"a": 0.0, "b": 0.3, "c": 5.0, "d": 5.3}
    >>> X = np.array([[centre[c] + rng.normal(scale=0.3)] for c in y])
    >>> tree = LabelTree(random_state=0).fit(X, y, groups=np.arange(80))
    >>> print(tree)
    a b c d
    ├── a b
    │   ├── a
    │   └── b
    └── c d
        ├── c
        └── d
    """

    def __init__(self, classifier: Any = None, random_state: int = 0) -> None:
        self.classifier = classifier
        self.random_state = random_state
        self.nodes: list[TreeNode] = []
        self.classes: list[str] = []

    def _split(self, X: np.ndarray, y: np.ndarray, groups: np.ndarray, classes: list[str],
               depth: int) -> tuple[list[str], list[str], np.ndarray | None]:
        if len(classes) == 2:
            return [classes[0]], [classes[1]], None
        from sklearn.base import clone
        from sklearn.cluster import SpectralClustering
        from sklearn.model_selection import StratifiedGroupKFold

        seed = self.random_state + depth
        keep = np.isin(y, classes)
        Xn, yn, gn = X[keep], y[keep], groups[keep]
        # the node classifier learns the index of each class in `classes` (scikit-learn's
        # class weights mistake string labels such as "0" for the integers they spell)
        code = {c: i for i, c in enumerate(classes)}
        yc = np.array([code[v] for v in yn.tolist()], dtype=np.int64)
        n_groups_min = min(len(np.unique(gn[yc == i])) for i in range(len(classes)))
        if n_groups_min >= 2:
            sgkf = StratifiedGroupKFold(n_splits=2, shuffle=True, random_state=seed)
            a, b = next(sgkf.split(Xn, yc, gn))
        else:  # a class with one recording: split that class's segments in time
            a, b = self._split_few(yc, gn)
        clf = clone(self.classifier) if self.classifier is not None else _default_classifier(seed)
        clf.fit(Xn[a], yc[a])
        P = clf.predict_proba(Xn[b])
        fitted = list(clf.classes_)
        cols = [fitted.index(i) if i in fitted else -1 for i in range(len(classes))]
        C = np.zeros((len(classes), len(classes)))
        for i in range(len(classes)):
            rows = P[yc[b] == i]
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

        Parameters
        ----------
        X : np.ndarray
            ``(n_segments, n_features)``.
        y : sequence
            Class per segment; the tree names each class by ``str(label)``.
        groups : sequence or None
            Recording id per segment (default: every segment its own recording).

        Returns
        -------
        LabelTree
            ``self``.

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
            raise ValueError(f"a label tree needs at least two classes (y has "
                             f"{len(self.classes)} class)")
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
        """JSON-ready description (classes and internal nodes).

        Examples
        --------
        >>> tree.to_dict()["classes"]  # doctest: +SKIP
        ['a', 'b', 'c', 'd']
        """
        return {"classes": list(self.classes),
                "nodes": [{"classes": n.classes, "left": n.left, "right": n.right}
                          for n in self.nodes]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LabelTree:
        """Inverse of :meth:`to_dict` (the affinities are not part of it).

        Examples
        --------
        >>> d = {"classes": ["x", "y"],
        ...      "nodes": [{"classes": ["x", "y"], "left": ["x"], "right": ["y"]}]}
        >>> LabelTree.from_dict(d).leaf_order()
        ['x', 'y']
        """
        t = cls()
        t.classes = list(d["classes"])
        t.nodes = [TreeNode(list(n["classes"]), list(n["left"]), list(n["right"]))
                   for n in d["nodes"]]
        return t



def _class_labels(y: Any, n: int) -> np.ndarray:
    """``y`` as a validated 1-D array of class labels, one per recording."""
    from sklearn.utils import column_or_1d
    from sklearn.utils.multiclass import check_classification_targets

    if y is None:
        raise ValueError("LabelTreeEmbedder requires y to be passed, but the target y is None")
    y = column_or_1d(y)
    if len(y) != n:
        raise ValueError(f"X has {n} recordings but y has {len(y)} labels")
    check_classification_targets(y)
    return y


def _pack(clf: Any) -> Any:
    """A fitted default node forest as a :class:`~audioscene.trees.PackedForest` (the
    same ``predict_proba``, exactly)."""
    from ..trees import PackedForest

    return PackedForest.from_sklearn(clf)


class LabelTreeEmbedder(Persistent, TransformerMixin, BaseEstimator):
    """Recordings to LTE images: node-classifier posteriors per segment.

    ``X`` is a list (or tuple, or 3-D array) of ``(frames x features)`` recordings, or
    one 2-D array (or a list of rows of numbers), read as ``n`` recordings of one frame
    each: each row is then its own
    segment (mean the row, standard deviation 0), and :meth:`transform` and
    :meth:`fit_transform` return one 2-D array ``(n, 2 (C - 1))`` (the one-row images
    stacked) instead of a list of images.

    Parameters
    ----------
    segment_frames, hop_frames : int
        Segment length and hop, in frames of the input features.
    classifier : estimator or None
        Binary node classifier, cloned per internal node (default: a random forest with
        balanced class weights); also used to measure confusion when building the tree.
    n_estimators : int
        Trees of the default node forests (the default forests that measure confusion
        while the tree is built have 100).
    n_folds : int
        Folds of the cross-fitting in :meth:`fit_transform` (grouped by recording).
    random_state : int
        Seed of the tree (see :class:`LabelTree`) and of the default node forests (node
        ``k``'s uses ``random_state + 1000 + k``); a custom ``classifier`` keeps its own
        seed.
    n_jobs : int or None
        Parallel jobs of the default node forests while fitting.

    Attributes
    ----------
    tree_ : LabelTree
        The label tree; it names each class by ``str(label)``.
    classes_ : np.ndarray
        The class labels, sorted, with the values and dtype of ``y``.
    n_features_in_ : int
        Features per frame.
    feature_names_in_ : np.ndarray
        Column names, when ``X`` was a data frame with string column names.
    classifiers_ : list
        One fitted binary classifier per internal node (pre-order): with the default
        ``classifier=None``, each node's random forest as a
        :class:`~audioscene.trees.PackedForest` (packed right after fitting, so fitted and
        loaded embedders compute posteriors with the same code); otherwise the fitted
        clones of ``classifier``.
    crossfit_ : list of dict
        Set by :meth:`fit_transform` only: for each cross-fitting fold, the recording ids
        its node classifiers were trained on (``"trained_on"``) and those it embedded
        (``"embedded"``).

    Examples
    --------
    >>> emb = LabelTreeEmbedder().fit(frames, labels, groups=recordings)  # doctest: +SKIP
    >>> image = emb.transform([frames[0]])[0]  # doctest: +SKIP
    """

    def __init__(self, segment_frames: int = 20, hop_frames: int = 10, classifier: Any = None,
                 n_estimators: int = 100, n_folds: int = 5, random_state: int = 0,
                 n_jobs: int | None = None) -> None:
        self.segment_frames = segment_frames
        self.hop_frames = hop_frames
        self.classifier = classifier
        self.n_estimators = n_estimators
        self.n_folds = n_folds
        self.random_state = random_state
        self.n_jobs = n_jobs

    def __sklearn_tags__(self) -> Tags:
        """scikit-learn tags: ``y`` is required; the output is float32 whatever the input.

        Examples
        --------
        >>> LabelTreeEmbedder().__sklearn_tags__().target_tags.required
        True
        """
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.transformer_tags.preserves_dtype = []
        return tags

    # ------------------------------------------------------------------ helpers
    def _segments(self, X: Any, *, reset: bool) -> tuple[np.ndarray, np.ndarray, int, bool]:
        """Segment features, the recording of each segment, the number of recordings,
        and whether ``X`` was one 2-D array; sets (``reset``) or checks the number of
        features per frame."""
        if not is_clip_list(X):
            from sklearn.utils.validation import validate_data

            A = validate_data(self, X, reset=reset, dtype=np.float64)
            return np.c_[A, np.zeros_like(A)], np.arange(len(A)), len(A), True
        segs = []
        for i, x in enumerate(X):
            a = np.asarray(x, dtype=np.float64)
            if a.ndim == 2 and not np.isfinite(a).all():
                raise ValueError(f"X[{i}]: features contain NaN or infinity")
            segs.append(segment_stats(a, self.segment_frames, self.hop_frames))
        if not segs:
            raise ValueError("no recordings")
        d = {s.shape[1] for s in segs}
        if len(d) != 1:
            raise ValueError("all recordings must have the same number of features per frame")
        n_features = d.pop() // 2
        if reset:
            self.n_features_in_ = n_features
            self.__dict__.pop("feature_names_in_", None)
        elif n_features != self.n_features_in_:
            raise ValueError(f"recordings have {n_features} features per frame, "
                             f"expected {self.n_features_in_}")
        owner = np.repeat(np.arange(len(segs)), [len(s) for s in segs])
        return np.concatenate(segs), owner, len(segs), False

    def _new_classifier(self, k: int) -> Any:
        if self.classifier is not None:
            from sklearn.base import clone

            return clone(self.classifier)
        return _default_classifier(self.random_state + 1000 + k, self.n_estimators,
                                   self.n_jobs)

    def _fit_nodes(self, S: np.ndarray, ys: np.ndarray) -> list[Any]:
        """One fitted classifier per node (``None`` for a node none of whose classes is in
        ``ys``, which cross-fitting can meet)."""
        out = []
        for k, node in enumerate(self.tree_.nodes):
            keep = np.isin(ys, node.classes)
            if not keep.any():
                out.append(None)
                continue
            target = np.isin(ys[keep], node.right).astype(int)
            clf = self._new_classifier(k).fit(S[keep], target)
            out.append(_pack(clf) if self.classifier is None else clf)
        return out

    @staticmethod
    def _embed(classifiers: list[Any], S: np.ndarray) -> np.ndarray:
        cols = []
        for clf in classifiers:
            if clf is None:
                p_right = np.full(len(S), 0.5)
            else:
                P = clf.predict_proba(S)
                fitted = list(clf.classes_)
                p_right = P[:, fitted.index(1)] if 1 in fitted else np.zeros(len(S))
            cols += [1.0 - p_right, p_right]
        return np.stack(cols, axis=1).astype(np.float32)

    @staticmethod
    def _split_images(E: np.ndarray, owner: np.ndarray, n: int) -> list[np.ndarray]:
        bounds = np.searchsorted(owner, np.arange(n + 1))
        return [E[bounds[i]:bounds[i + 1]] for i in range(n)]

    def _fit_tree(self, X: Any, y: Any, groups: Sequence[Any] | None
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, bool]:
        """Validate, build the tree; segment features, recording per segment, recording
        ids, class name per segment, and whether ``X`` was one 2-D array."""
        S, owner, n, flat = self._segments(X, reset=True)
        labels = _class_labels(y, n)
        g = np.arange(n) if groups is None else np.asarray(groups)
        if len(g) != n:
            raise ValueError("groups must have one id per recording")
        self.classes_ = np.unique(labels)
        names = labels.astype(str)
        if len(np.unique(names)) != len(self.classes_):
            raise ValueError("two class labels have the same text")
        ys = names[owner]
        self.tree_ = LabelTree(classifier=self.classifier,
                               random_state=self.random_state).fit(S, ys, groups=g[owner])
        return S, owner, g, ys, flat

    # ------------------------------------------------------------------ API
    def fit(self, X: Any, y: Any, *, groups: Sequence[Any] | None = None
            ) -> LabelTreeEmbedder:
        """Build the tree and train one node classifier per internal node.

        Parameters
        ----------
        X : list of ndarray, or 2-D array
            ``(frames x features)`` per recording, or one 2-D array of one-frame
            recordings.
        y : sequence
            Class per recording (strings, integers or booleans).
        groups : sequence or None
            Recording id per item (items with the same id are never split apart).

        Returns
        -------
        LabelTreeEmbedder
            ``self``.

        Examples
        --------
        >>> LabelTreeEmbedder().fit(frames, labels, groups=recordings)  # doctest: +SKIP
        """
        S, _, _, ys, _ = self._fit_tree(X, y, groups)
        self.__dict__.pop("crossfit_", None)
        self.classifiers_ = self._fit_nodes(S, ys)
        return self

    def fit_transform(self, X: Any, y: Any = None, *, groups: Sequence[Any] | None = None,
                      **_: Any) -> list[np.ndarray] | np.ndarray:
        """Fit, and return *cross-fitted* LTE images of the training recordings.

        The recordings are split into ``n_folds`` folds grouped by recording; each
        fold's images come from node classifiers trained on the other folds only, so a
        model trained on these images never sees posteriors of classifiers that saw the
        same recording (a node none of whose classes occurs in the other folds gives
        0.5 and 0.5). The final node classifiers (for :meth:`transform`) are trained on
        everything, so ``fit(X, y).transform(X)`` differs from ``fit_transform(X, y)``.

        Returns
        -------
        list of np.ndarray, or np.ndarray
            One image per recording; one 2-D array when ``X`` is one 2-D array.

        Examples
        --------
        >>> images = LabelTreeEmbedder().fit_transform(frames, labels, groups=rec)  # doctest: +SKIP
        """
        from sklearn.model_selection import GroupKFold

        S, owner, g, ys, flat = self._fit_tree(X, y, groups)
        n = len(g)
        k = min(self.n_folds, len(np.unique(g)))
        if k < 2:
            raise ValueError("cross-fitting needs at least two distinct recordings")
        E = np.zeros((len(S), 2 * len(self.tree_.nodes)), np.float32)
        self.crossfit_ = []
        for tr_rec, te_rec in GroupKFold(n_splits=k).split(np.arange(n), groups=g):
            tr = np.isin(owner, tr_rec)
            te = np.isin(owner, te_rec)
            clfs = self._fit_nodes(S[tr], ys[tr])
            E[te] = self._embed(clfs, S[te])
            self.crossfit_.append({"trained_on": sorted(set(g[tr_rec].tolist())),
                                   "embedded": sorted(set(g[te_rec].tolist()))})
        self.classifiers_ = self._fit_nodes(S, ys)
        return E if flat else self._split_images(E, owner, n)

    def transform(self, X: Any) -> list[np.ndarray] | np.ndarray:
        """LTE images ``(segments x 2 (C - 1))`` of recordings, one per recording (one
        2-D array ``(n, 2 (C - 1))`` when ``X`` is one 2-D array).

        Examples
        --------
        >>> emb.transform([frames])[0].shape  # doctest: +SKIP
        (19, 18)
        """
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "classifiers_")
        S, owner, n, flat = self._segments(X, reset=False)
        E = self._embed(self.classifiers_, S)
        return E if flat else self._split_images(E, owner, n)

    # ------------------------------------------------------------------ persistence
    def to_record(self) -> ModelRecord:
        """Parameters, the tree, the class labels and every node forest's arrays (the
        cross-fitting record ``crossfit_`` is not part of it).

        Raises
        ------
        NotImplementedError
            With a custom ``classifier``: only the default forests are saved without
            pickle.

        Examples
        --------
        >>> emb.to_record().kind  # doctest: +SKIP
        'LabelTreeEmbedder'
        """
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "classifiers_")
        if self.classifier is not None:
            raise NotImplementedError("an embedder with a custom node classifier cannot be "
                                      "saved without pickle; use the default forests")
        arrays = {"classes": label_array(self.classes_)}
        for k, clf in enumerate(self.classifiers_):
            arrays.update({f"node{k}/{key}": a for key, a in clf.to_arrays().items()})
        state: dict[str, Any] = {"tree": self.tree_.to_dict(),
                                 "n_features_in": int(self.n_features_in_)}
        if hasattr(self, "feature_names_in_"):
            state["feature_names_in"] = [str(c) for c in self.feature_names_in_]
        params = {k: v.item() if isinstance(v, np.generic) else v
                  for k, v in self.get_params(deep=False).items()}
        return ModelRecord("LabelTreeEmbedder", params=params, state=state, arrays=arrays)

    @classmethod
    def from_record(cls, record: ModelRecord) -> LabelTreeEmbedder:
        """Inverse of :meth:`to_record`.

        Examples
        --------
        >>> LabelTreeEmbedder.from_record(emb.to_record())  # doctest: +SKIP
        """
        from ..trees import PackedForest

        emb = cls(**record.params)
        if emb.classifier is not None:
            raise ValueError("a saved embedder has the default node classifier")
        emb.tree_ = LabelTree.from_dict(record.state["tree"])
        emb.classes_ = np.asarray(record.arrays["classes"])
        if len(emb.classes_) != len(emb.tree_.classes):
            raise ValueError("the class labels do not match the tree")
        emb.n_features_in_ = int(record.state["n_features_in"])
        if "feature_names_in" in record.state:
            emb.feature_names_in_ = np.asarray(record.state["feature_names_in"], dtype=object)
        emb.classifiers_ = []
        for k in range(len(emb.tree_.nodes)):
            prefix = f"node{k}/"
            forest = PackedForest.from_arrays({key[len(prefix):]: a
                                               for key, a in record.arrays.items()
                                               if key.startswith(prefix)})
            if forest.n_features_in_ != 2 * emb.n_features_in_:
                raise ValueError(f"node {k} forest reads {forest.n_features_in_} features, "
                                 f"not {2 * emb.n_features_in_}")
            emb.classifiers_.append(forest)
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
        from sklearn.utils.validation import check_is_fitted

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
