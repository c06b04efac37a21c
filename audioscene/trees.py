"""Fitted scikit-learn forests as plain arrays, and their predictions without scikit-learn.

A :class:`PackedForest` holds the public tree arrays of a fitted
``RandomForestClassifier`` (``children_left``, ``children_right``, ``feature``,
``threshold``, ``missing_go_to_left`` and ``value`` of each ``tree_``) concatenated, so it
can be saved without pickle and read by any scikit-learn version, or none.
:meth:`PackedForest.predict_proba` follows scikit-learn's arithmetic step by step (inputs
cast to float32 and compared with float64 thresholds, NaN routed by
``missing_go_to_left``, each tree's leaf fractions added in tree order into float64, the
sum divided by the number of trees), so it equals the forest's own ``predict_proba``
computed with ``n_jobs=1`` exactly (with several jobs scikit-learn adds the trees in the
order its threads finish).

Examples
--------
>>> from sklearn.ensemble import RandomForestClassifier
>>> X = np.random.default_rng(0).normal(size=(60, 3)); y = X[:, 0] > 0
>>> rf = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)
>>> pf = PackedForest.from_sklearn(rf)
>>> np.array_equal(pf.predict_proba(X), rf.predict_proba(X))
True
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

__all__ = ["PackedForest"]

_KEYS = ("roots", "left", "right", "feature", "threshold", "missing_left", "proba")


@numba.njit(cache=True, nogil=True)
def _proba(X, roots, left, right, feature, threshold, missing_left, proba):
    n = X.shape[0]
    out = np.zeros((n, proba.shape[1]))
    for t in range(len(roots)):
        for i in range(n):
            node = roots[t]
            while left[node] >= 0:
                x = X[i, feature[node]]
                if np.isnan(x):
                    go_left = missing_left[node] != 0
                else:
                    go_left = x <= threshold[node]
                node = left[node] if go_left else right[node]
            for c in range(proba.shape[1]):
                out[i, c] += proba[node, c]
    return out


class PackedForest:
    """A fitted single-output random forest classifier as plain arrays.

    Attributes
    ----------
    classes_ : np.ndarray
        Class labels in column order.
    n_features_in_ : int
        Features per sample.
    arrays : dict of np.ndarray
        ``roots`` (first node of each tree), ``left``/``right`` (absolute child indices,
        -1 at leaves), ``feature``, ``threshold``, ``missing_left`` and ``proba`` (per node,
        the class fractions of its training samples).

    Examples
    --------
    >>> pf = PackedForest.from_sklearn(rf)  # doctest: +SKIP
    >>> PackedForest.from_arrays(pf.to_arrays()).predict_proba(X)  # doctest: +SKIP
    """

    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        missing = [k for k in (*_KEYS, "classes", "n_features_in") if k not in arrays]
        if missing:
            raise KeyError(missing[0])
        self.arrays = {k: np.ascontiguousarray(arrays[k]) for k in _KEYS}
        self.classes_ = np.asarray(arrays["classes"])
        self.n_features_in_ = int(arrays["n_features_in"])
        a = self.arrays
        n_nodes = len(a["left"])
        if any(len(a[k]) != n_nodes for k in ("right", "feature", "threshold", "missing_left",
                                             "proba")) or a["proba"].ndim != 2 or \
                a["proba"].shape[1] != len(self.classes_):
            raise ValueError("tree arrays of different lengths")
        inner = a["left"] >= 0
        if len(a["roots"]) and (a["roots"].min() < 0 or a["roots"].max() >= n_nodes):
            raise ValueError("tree roots outside the node arrays")
        if inner.any() and (a["left"][inner].max() >= n_nodes or
                            a["right"][inner].min() < 0 or a["right"][inner].max() >= n_nodes
                            or a["feature"][inner].min() < 0 or
                            a["feature"][inner].max() >= self.n_features_in_):
            raise ValueError("tree arrays point outside themselves")

    @classmethod
    def from_sklearn(cls, forest: Any) -> PackedForest:
        """Pack a fitted single-output ``RandomForestClassifier`` (or any fitted ensemble
        of ``DecisionTreeClassifier`` with ``estimators_``, ``classes_`` and
        ``n_features_in_``) from the trees' public arrays.

        Examples
        --------
        >>> PackedForest.from_sklearn(rf).n_trees  # doctest: +SKIP
        5
        """
        if getattr(forest, "n_outputs_", 1) != 1:
            raise ValueError("only single-output forests can be packed")
        parts: dict[str, list[np.ndarray]] = {k: [] for k in _KEYS if k != "roots"}
        roots = []
        offset = 0
        for est in forest.estimators_:
            t = est.tree_
            n = int(t.node_count)
            left = np.asarray(t.children_left, np.int64)
            right = np.asarray(t.children_right, np.int64)
            roots.append(offset)
            parts["left"].append(np.where(left >= 0, left + offset, -1))
            parts["right"].append(np.where(right >= 0, right + offset, -1))
            parts["feature"].append(np.asarray(t.feature, np.int64))
            parts["threshold"].append(np.asarray(t.threshold, np.float64))
            parts["missing_left"].append(np.asarray(t.missing_go_to_left, np.uint8))
            parts["proba"].append(np.asarray(t.value, np.float64)[:, 0, :])
            offset += n
        arrays = {k: np.concatenate(v) for k, v in parts.items()}
        arrays["roots"] = np.asarray(roots, np.int64)
        arrays["classes"] = np.asarray(forest.classes_)
        arrays["n_features_in"] = np.asarray(int(forest.n_features_in_))
        return cls(arrays)

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> PackedForest:
        """Inverse of :meth:`to_arrays`.

        Examples
        --------
        >>> PackedForest.from_arrays(pf.to_arrays())  # doctest: +SKIP
        """
        return cls(arrays)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Every array, for an ``.npz`` file (no object arrays).

        Examples
        --------
        >>> sorted(pf.to_arrays())[:2]  # doctest: +SKIP
        ['classes', 'feature']
        """
        return {**self.arrays, "classes": self.classes_,
                "n_features_in": np.asarray(self.n_features_in_)}

    @property
    def n_trees(self) -> int:
        """Number of trees."""
        return len(self.arrays["roots"])

    def predict_proba(self, X: Any) -> np.ndarray:
        """Mean class fractions of the leaves reached, ``(n_samples, n_classes)``.

        Examples
        --------
        >>> pf.predict_proba(X).shape  # doctest: +SKIP
        (60, 2)
        """
        X = np.asarray(X, dtype=np.float32)
        if X.ndim != 2 or X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has shape {X.shape}, expected (n, {self.n_features_in_})")
        if np.isinf(X).any():
            raise ValueError("Input X contains infinity or a value too large for "
                             "dtype('float32').")
        a = self.arrays
        out = _proba(np.ascontiguousarray(X), a["roots"], a["left"], a["right"], a["feature"],
                     a["threshold"], a["missing_left"], a["proba"])
        out /= max(self.n_trees, 1)
        return out

    def predict(self, X: Any) -> np.ndarray:
        """The class of largest mean fraction.

        Examples
        --------
        >>> pf.predict(X)[:3]  # doctest: +SKIP
        """
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
