"""CaR-forest: a random forest trained jointly for classification and regression.

Phan et al., "CaR-FOREST: Joint Classification-Regression Decision Forests for
Overlapping Audio Event Detection", DCASE 2016 (arXiv:1607.02306).

Each sample is an audio segment with a binary label (inside an event of this forest's
class, or not) and, for positives, two displacements: seconds from the segment's centre
back to its event's onset and forward to its offset. Trees are grown with axis-aligned
threshold tests drawn at random. The split criterion is chosen per node:

* **classification** (information gain on positive vs negative, with class-balanced
  weights) at every node shallower than ``classification_depth``, and at deeper nodes
  whose positives are a minority;
* **regression** (reduction of the summed variance of the onset and offset
  displacements, over the node's positives only) at nodes from ``classification_depth``
  down whose weighted positive fraction is at least ``regression_purity``, and at any
  node that holds positives only (there is nothing left to classify).

Why: the paper grows classification-oriented levels first and regression-oriented ones
after. Regressing displacements is only meaningful among positives, so a node is handed
to regression once classification has made it mostly positive; until then a regression
split would mostly move negatives around. The depth floor guarantees the upper levels
separate event from background before any node specialises on timing.

Leaves keep P(positive) (class-balanced), and the count, mean and standard deviation of
their positives' onset and offset displacements: enough to cast Gaussian votes.

Trees are built by a numba kernel that releases the GIL, one tree per thread, each with
its own seed, so training uses every core and the same ``random_state`` gives the same
forest whatever the thread count.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numba
import numpy as np

from ..estimator import ClassifierEstimator, check_fitted
from ..persist import Persistent

if TYPE_CHECKING:
    from ..persist import ModelRecord

__all__ = ["CaRForest", "LEAF_FIELDS"]

#: Columns of the per-node value table: P(positive), number of positives, onset
#: displacement mean and std, offset displacement mean and std.
LEAF_FIELDS = ("p", "n_pos", "on_mean", "on_std", "off_mean", "off_std")


# ----------------------------------------------------------------------------- kernels


@numba.njit(cache=True)
def _entropy(wp: float, wn: float) -> float:
    t = wp + wn
    if t <= 0.0:
        return 0.0
    h = 0.0
    if wp > 0.0:
        p = wp / t
        h -= p * np.log(p)
    if wn > 0.0:
        q = wn / t
        h -= q * np.log(q)
    return h


@numba.njit(cache=True, nogil=True)
def _build_tree(XT, y, D, sample, w_pos, w_neg, max_depth, min_leaf, n_features_try,
                n_thresholds, classification_depth, regression_purity, seed, max_nodes):
    """Grow one tree on the samples ``sample`` (indices into the columns of ``XT``).

    Returns (feature, threshold, left, right, values, n_nodes); ``feature == -1`` marks
    a leaf. ``values`` has the LEAF_FIELDS columns for every node.
    """
    np.random.seed(seed)  # noqa: NPY002  (numba: per-thread legacy generator)
    n_feat = XT.shape[0]
    feature = np.full(max_nodes, -1, np.int32)
    threshold = np.zeros(max_nodes, np.float32)
    left = np.full(max_nodes, -1, np.int32)
    right = np.full(max_nodes, -1, np.int32)
    values = np.zeros((max_nodes, 6), np.float32)
    idx = sample.copy()
    # explicit stack of (node, start, end, depth)
    st_node = np.zeros(max_nodes, np.int64)
    st_start = np.zeros(max_nodes, np.int64)
    st_end = np.zeros(max_nodes, np.int64)
    st_depth = np.zeros(max_nodes, np.int64)
    sp = 0
    st_node[0], st_start[0], st_end[0], st_depth[0] = 0, 0, len(idx), 0
    sp = 1
    n_nodes = 1
    thr = np.zeros(n_thresholds, np.float32)
    # per-bin statistics: wpos, wneg, npos, s_on, ss_on, s_off, ss_off, count
    stats = np.zeros((n_thresholds + 1, 8))
    while sp > 0:
        sp -= 1
        node, start, end, depth = st_node[sp], st_start[sp], st_end[sp], st_depth[sp]
        # node statistics
        wp = 0.0
        wn = 0.0
        npos = 0
        s_on = 0.0
        ss_on = 0.0
        s_off = 0.0
        ss_off = 0.0
        for k in range(start, end):
            i = idx[k]
            if y[i]:
                wp += w_pos
                npos += 1
                s_on += D[i, 0]
                ss_on += D[i, 0] * D[i, 0]
                s_off += D[i, 1]
                ss_off += D[i, 1] * D[i, 1]
            else:
                wn += w_neg
        n = end - start
        values[node, 0] = wp / (wp + wn) if wp + wn > 0 else 0.0
        values[node, 1] = npos
        if npos > 0:
            m_on = s_on / npos
            m_off = s_off / npos
            values[node, 2] = m_on
            values[node, 3] = np.sqrt(max(ss_on / npos - m_on * m_on, 0.0))
            values[node, 4] = m_off
            values[node, 5] = np.sqrt(max(ss_off / npos - m_off * m_off, 0.0))
        sse_parent = 0.0
        if npos > 0:
            sse_parent = (ss_on - s_on * s_on / npos) + (ss_off - s_off * s_off / npos)
        # stop?
        if depth >= max_depth or n < 2 * min_leaf or npos == 0 or n_nodes + 2 > max_nodes:
            continue
        frac = wp / (wp + wn)
        # a node with only positives has nothing left to classify: it regresses
        regression = (depth >= classification_depth and frac >= regression_purity) or wn == 0.0
        if regression and (npos < 2 * min_leaf or sse_parent <= 1e-8):
            continue  # already pure in position: nothing left to learn here
        h_parent = _entropy(wp, wn)
        best_gain = 0.0
        best_f = -1
        best_t = 0.0
        for _f in range(n_features_try):
            f = np.random.randint(0, n_feat)  # noqa: NPY002
            # thresholds between the values of random samples of the node
            lo = np.inf
            hi = -np.inf
            for _s in range(8):
                v = XT[f, idx[start + np.random.randint(0, n)]]  # noqa: NPY002
                lo = min(lo, v)
                hi = max(hi, v)
            if not hi > lo:
                continue
            for t in range(n_thresholds):
                thr[t] = lo + (hi - lo) * np.random.random()  # noqa: NPY002
            thr.sort()
            stats[:, :] = 0.0
            for k in range(start, end):
                i = idx[k]
                v = XT[f, i]
                b = np.searchsorted(thr, v, side="right")  # samples with v < thr[b] go left
                stats[b, 7] += 1
                if y[i]:
                    stats[b, 0] += w_pos
                    stats[b, 2] += 1
                    stats[b, 3] += D[i, 0]
                    stats[b, 4] += D[i, 0] * D[i, 0]
                    stats[b, 5] += D[i, 1]
                    stats[b, 6] += D[i, 1] * D[i, 1]
                else:
                    stats[b, 1] += w_neg
            # cumulative: left side of threshold t holds bins 0..t
            cl = np.zeros(8)
            for t in range(n_thresholds):
                for c in range(8):
                    cl[c] += stats[t, c]
                nl = cl[7]
                nr = n - nl
                if nl < min_leaf or nr < min_leaf:
                    continue
                if regression:
                    npl = cl[2]
                    npr = npos - npl
                    if npl < 1 or npr < 1:
                        continue
                    sl = (cl[4] - cl[3] * cl[3] / npl) + (cl[6] - cl[5] * cl[5] / npl)
                    r3 = s_on - cl[3]
                    r4 = ss_on - cl[4]
                    r5 = s_off - cl[5]
                    r6 = ss_off - cl[6]
                    sr = (r4 - r3 * r3 / npr) + (r6 - r5 * r5 / npr)
                    gain = (sse_parent - sl - sr) / npos
                else:
                    wl = cl[0] + cl[1]
                    wr = (wp + wn) - wl
                    gain = h_parent - (wl * _entropy(cl[0], cl[1])
                                       + wr * _entropy(wp - cl[0], wn - cl[1])) / (wp + wn)
                if gain > best_gain:
                    best_gain = gain
                    best_f = f
                    best_t = thr[t]
        if best_f < 0:
            continue
        # partition idx[start:end] by XT[best_f] < best_t
        i0 = start
        i1 = end - 1
        while i0 <= i1:
            if XT[best_f, idx[i0]] < best_t:
                i0 += 1
            else:
                tmp = idx[i0]
                idx[i0] = idx[i1]
                idx[i1] = tmp
                i1 -= 1
        feature[node] = best_f
        threshold[node] = best_t
        left[node] = n_nodes
        right[node] = n_nodes + 1
        st_node[sp], st_start[sp], st_end[sp], st_depth[sp] = n_nodes, start, i0, depth + 1
        sp += 1
        st_node[sp], st_start[sp], st_end[sp], st_depth[sp] = n_nodes + 1, i0, end, depth + 1
        sp += 1
        n_nodes += 2
    return feature, threshold, left, right, values, n_nodes


_BLOCK = 64  # samples descending a tree together, one level at a time


@numba.njit(cache=True, nogil=True, inline="always")
def _descend(X, lo, hi, root, depth, feat, thr, left, cur):
    """Leaves of samples lo..hi-1 in one tree. Leaves point to themselves with an
    infinite threshold, so every sample takes exactly ``depth`` branch-free steps and the
    block's loads are independent of each other (the CPU overlaps them)."""
    for j in range(hi - lo):
        cur[j] = root
    for _ in range(depth):
        for j in range(hi - lo):
            node = cur[j]
            cur[j] = root + left[node] + np.int32(X[lo + j, feat[node]] >= thr[node])


def _apply_impl(X, roots, depths, feat, thr, left):  # compiled twice below
    n = X.shape[0]
    n_trees = len(roots)
    out = np.empty((n, n_trees), np.int64)
    for b in numba.prange((n + _BLOCK - 1) // _BLOCK):
        lo = b * _BLOCK
        hi = min(n, lo + _BLOCK)
        cur = np.empty(_BLOCK, np.int64)
        for t in range(n_trees):
            _descend(X, lo, hi, roots[t], depths[t], feat, thr, left, cur)
            for j in range(hi - lo):
                out[lo + j, t] = cur[j]
    return out


#: Leaf (global node index) of every sample in every tree: (n_samples, n_trees). The
#: threaded version pays off on large inputs; streams hand over small blocks, where
#: waking threads costs more than it saves (and competes with BLAS threads).
_apply = numba.njit(cache=True, nogil=True, parallel=True)(_apply_impl)
_apply_serial = numba.njit(cache=True, nogil=True)(_apply_impl)
_PARALLEL_MIN = 4096  # samples


@numba.njit(cache=True, nogil=True, parallel=True)
def _mean_p(X, roots, depths, feat, thr, left, p_leaf):
    # _apply's block loop, averaging P(positive) as it goes: not materialising the
    # (n_samples, n_trees) leaf table is what makes predict_proba 2x sklearn's
    n = X.shape[0]
    n_trees = len(roots)
    out = np.zeros(n, np.float64)
    for b in numba.prange((n + _BLOCK - 1) // _BLOCK):
        lo = b * _BLOCK
        hi = min(n, lo + _BLOCK)
        cur = np.empty(_BLOCK, np.int64)
        for t in range(n_trees):
            _descend(X, lo, hi, roots[t], depths[t], feat, thr, left, cur)
            for j in range(hi - lo):
                out[lo + j] += p_leaf[cur[j]]
        for i in range(lo, hi):
            out[i] /= n_trees
    return out


def _pack(trees: dict[str, np.ndarray]) -> tuple[np.ndarray, ...]:
    """Traversal arrays: tree depths, and per node feature (int32), threshold (float32)
    and left child (int32, relative to the root). Children are allocated as a pair
    (right == left + 1); a leaf gets feature 0, threshold +inf and itself as child."""
    feat = np.asarray(trees["feature"], dtype=np.int32).copy()
    thr = np.asarray(trees["threshold"], dtype=np.float32).copy()
    left = np.asarray(trees["left"], dtype=np.int32).copy()
    inner = feat >= 0
    if not np.all(trees["right"][inner] == trees["left"][inner] + 1):
        raise ValueError("corrupt forest: children are not allocated in pairs")
    roots = np.asarray(trees["roots"], dtype=np.int64)
    depths = np.zeros(len(roots), np.int64)
    ends = np.r_[roots[1:], len(feat)]
    for t, (r, e) in enumerate(zip(roots, ends)):
        local = np.arange(e - r)
        leaf = ~inner[r:e]
        left[r:e][leaf] = local[leaf]
        # depth of each node: children have higher indices than parents
        d = np.zeros(e - r, np.int64)
        for k in np.flatnonzero(inner[r:e]):
            d[left[r + k]] = d[left[r + k] + 1] = d[k] + 1
        depths[t] = d.max() if len(d) else 0
    feat[~inner] = 0
    thr[~inner] = np.inf
    return depths, feat, thr, left


# ----------------------------------------------------------------------------- estimator


class CaRForest(Persistent, ClassifierEstimator):
    """Joint classification-regression forest for one event class.

    Parameters
    ----------
    n_estimators : int
        Number of trees.
    max_depth : int
        Maximum depth of a tree.
    min_samples_leaf : int
        Fewest samples a leaf may hold.
    n_features_try : int
        Random features tried at a node.
    n_thresholds : int
        Random thresholds tried per feature (drawn between sampled values of the node).
    max_samples : float
        Fraction of the training samples drawn (without replacement) for each tree.
    classification_depth : int or None
        Nodes shallower than this always split for classification; ``None`` means half
        of ``max_depth``.
    regression_purity : float
        From ``classification_depth`` down, a node whose class-balanced positive
        fraction is at least this splits for regression.
    random_state : int
        Seed; the same seed gives the same forest.
    n_jobs : int or None
        Threads building trees (``None``: all cores).

    Attributes
    ----------
    classes_ : np.ndarray
        ``[0, 1]`` (negative, positive).
    n_features_in_ : int
    trees_ : dict of np.ndarray
        ``roots``, ``feature``, ``threshold``, ``left``, ``right``, ``values``: every
        tree's nodes, concatenated; ``left``/``right`` are relative to the tree's root.
    packed_ : tuple of np.ndarray
        The same trees laid out for branch-free traversal (derived, not saved).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(400, 3)).astype(np.float32)
    >>> y = (X[:, 0] > 0).astype(int)
    >>> D = np.stack([X[:, 1] ** 2, X[:, 2] ** 2], axis=1)  # onset/offset displacements
    >>> f = CaRForest(n_estimators=10, random_state=0).fit(X, y, displacements=D)
    >>> f.score(X, y) > 0.95
    True
    """

    def __init__(self, n_estimators: int = 20, max_depth: int = 14, min_samples_leaf: int = 5,
                 n_features_try: int = 20, n_thresholds: int = 4, max_samples: float = 0.5,
                 classification_depth: int | None = None, regression_purity: float = 0.7,
                 random_state: int = 0, n_jobs: int | None = None) -> None:
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.min_samples_leaf = min_samples_leaf
        self.n_features_try = n_features_try
        self.n_thresholds = n_thresholds
        self.max_samples = max_samples
        self.classification_depth = classification_depth
        self.regression_purity = regression_purity
        self.random_state = random_state
        self.n_jobs = n_jobs

    def __sklearn_tags__(self):  # noqa: ANN204
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags

    def _check_params(self) -> None:
        for name in ("n_estimators", "max_depth", "min_samples_leaf", "n_features_try",
                     "n_thresholds"):
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        if not 0 < self.max_samples <= 1:
            raise ValueError(f"max_samples must be in (0, 1], got {self.max_samples!r}")
        if not 0 <= self.regression_purity <= 1:
            raise ValueError("regression_purity must be in [0, 1]")

    def fit(self, X: np.ndarray, y: np.ndarray,
            displacements: np.ndarray | None = None) -> CaRForest:
        """Grow the forest.

        Parameters
        ----------
        X : array-like, (n_samples, n_features)
            Segment features.
        y : array-like, (n_samples,)
            Binary labels (the larger of two values is the positive class).
        displacements : array-like, (n_samples, 2) or None
            Seconds from each positive segment's centre back to its event's onset and
            forward to its offset (ignored for negatives; may be NaN there). Without
            it the forest is a plain classifier.

        Returns
        -------
        self
        """
        from sklearn.utils.multiclass import check_classification_targets
        from sklearn.utils.validation import validate_data

        self._check_params()
        X, y = validate_data(self, X, y, dtype=np.float32, ensure_min_samples=2)
        check_classification_targets(y)
        classes = np.unique(y)
        if len(classes) > 2:
            raise ValueError("Only binary classification is supported. "
                             f"CaRForest got {len(classes)} classes.")
        self.classes_ = classes
        yb = (y == classes[-1]) if len(classes) == 2 else np.zeros(len(y), bool)
        if displacements is None:
            D = np.zeros((len(X), 2), np.float64)
        else:
            D = np.asarray(displacements, dtype=np.float64)
            if D.shape != (len(X), 2):
                raise ValueError(f"displacements must be (n_samples, 2), got {D.shape}")
            D = np.where(yb[:, None], D, 0.0)
            if not np.isfinite(D).all():
                raise ValueError("displacements of positive samples must be finite")
        XT = np.ascontiguousarray(X.T)
        n = len(X)
        n_pos = int(yb.sum())
        w_pos = 0.5 / n_pos if n_pos else 0.0
        w_neg = 0.5 / (n - n_pos) if n - n_pos else 0.0
        cdepth = self.max_depth // 2 if self.classification_depth is None \
            else self.classification_depth
        m = max(2, int(round(self.max_samples * n)))
        max_nodes = int(min(2 ** (self.max_depth + 1) - 1, 2 * (m // self.min_samples_leaf) + 3))
        rng = np.random.default_rng(self.random_state)
        seeds = rng.integers(0, 2**31 - 1, size=self.n_estimators)
        samples = [np.sort(rng.choice(n, size=m, replace=False)).astype(np.int64)
                   if m < n else np.arange(n, dtype=np.int64) for _ in range(self.n_estimators)]
        yv = yb.astype(np.bool_)

        def grow(t: int):  # noqa: ANN202
            return _build_tree(XT, yv, D, samples[t], w_pos, w_neg, self.max_depth,
                               self.min_samples_leaf, self.n_features_try, self.n_thresholds,
                               cdepth, self.regression_purity, int(seeds[t]), max_nodes)

        workers = self.n_jobs or os.cpu_count() or 1
        if workers > 1 and self.n_estimators > 1:
            with ThreadPoolExecutor(max_workers=workers) as ex:
                trees = list(ex.map(grow, range(self.n_estimators)))
        else:
            trees = [grow(t) for t in range(self.n_estimators)]
        self.trees_ = _concat(trees)
        self.packed_ = _pack(self.trees_)
        return self

    # ------------------------------------------------------------------ inference
    def _check_X(self, X: np.ndarray) -> np.ndarray:
        from sklearn.utils.validation import validate_data

        check_fitted(self, "trees_")
        return validate_data(self, X, dtype=np.float32, reset=False)

    def apply(self, X: np.ndarray) -> np.ndarray:
        """Leaf reached by every sample in every tree, ``(n_samples, n_estimators)``; index
        rows of ``leaf_values(...)``/``trees_["values"]``."""
        X = self._check_X(X)  # rejects NaN/Inf, which the descent relies on
        return self.leaves(X)

    def leaves(self, X: np.ndarray) -> np.ndarray:
        """:meth:`apply` without input validation, for callers that built ``X`` themselves
        (float32, C-contiguous, finite, ``n_features_in_`` columns), such as the event
        detector's segment features.

        Examples
        --------
        >>> forest.leaves(np.zeros((2, forest.n_features_in_), np.float32)).shape  # doctest: +SKIP
        (2, 20)
        """
        kernel = _apply if len(X) >= _PARALLEL_MIN else _apply_serial
        return kernel(X, self.trees_["roots"], *self.packed_)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities ``(n_samples, 2)``: mean over trees of the leaves'
        class-balanced P(positive)."""
        X = self._check_X(X)  # rejects NaN/Inf, which the descent relies on
        p = _mean_p(X, self.trees_["roots"], *self.packed_,
                    np.ascontiguousarray(self.trees_["values"][:, 0]))
        if len(self.classes_) == 1:
            return np.ones((len(X), 1))
        return np.stack([1 - p, p], axis=1)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Class labels (P(positive) >= 0.5 is positive)."""
        proba = self.predict_proba(X)
        if proba.shape[1] == 1:
            return np.full(len(proba), self.classes_[0])
        return self.classes_[(proba[:, 1] >= 0.5).astype(int)]

    # ------------------------------------------------------------------ persistence
    def to_arrays(self) -> dict[str, np.ndarray]:
        """The learned state as plain arrays (for ``.npz``)."""
        check_fitted(self, "trees_")
        return {**self.trees_, "classes": np.asarray(self.classes_),
                "n_features_in": np.array(self.n_features_in_)}

    @classmethod
    def from_arrays(cls, params: dict[str, Any], arrays: dict[str, np.ndarray]) -> CaRForest:
        """Rebuild a fitted forest from ``get_params()`` and :meth:`to_arrays`."""
        f = cls(**params)
        f.trees_ = {k: np.asarray(arrays[k]) for k in ("roots", "feature", "threshold",
                                                       "left", "right", "values")}
        f.classes_ = np.asarray(arrays["classes"])
        f.n_features_in_ = int(arrays["n_features_in"])
        f.packed_ = _pack(f.trees_)
        return f

    def to_record(self) -> ModelRecord:
        """Parameters and trees, for :func:`~audioscene.persist.save_record`.

        Examples
        --------
        >>> forest.to_record().kind  # doctest: +SKIP
        'CaRForest'
        """
        from ..persist import ModelRecord

        return ModelRecord("CaRForest", params=self.get_params(), arrays=self.to_arrays())

    @classmethod
    def from_record(cls, record: ModelRecord) -> CaRForest:
        """Inverse of :meth:`to_record`.

        Examples
        --------
        >>> CaRForest.from_record(forest.to_record())  # doctest: +SKIP
        """
        return cls.from_arrays(record.params, record.arrays)

def _concat(trees: list[tuple]) -> dict[str, np.ndarray]:
    roots, feats, thrs, lefts, rights, vals = [], [], [], [], [], []
    offset = 0
    for feature, threshold, left, right, values, n_nodes in trees:
        roots.append(offset)
        feats.append(feature[:n_nodes])
        thrs.append(threshold[:n_nodes])
        lefts.append(left[:n_nodes])
        rights.append(right[:n_nodes])
        vals.append(values[:n_nodes])
        offset += n_nodes
    return {"roots": np.asarray(roots, np.int64), "feature": np.concatenate(feats),
            "threshold": np.concatenate(thrs), "left": np.concatenate(lefts),
            "right": np.concatenate(rights), "values": np.concatenate(vals)}
