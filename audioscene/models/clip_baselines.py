"""Clip-level baselines to measure the networks against side by side.

* :class:`GMMClassifier`: the DCASE 2016 task 1 baseline. 20 MFCC including c0, deltas
  and delta-deltas (40 ms Hamming window, 20 ms hop, 40 mel bands); one 16-component
  diagonal GMM per class (scikit-learn's ``GaussianMixture``); the class with the
  largest summed frame log-likelihood wins.
* :class:`GMMTagger`: the DCASE 2016 task 4 baseline. 14 MFCC without c0 (64 ms window,
  10 ms hop); one 8-component diagonal GMM per tag, trained on the frames of the clips
  carrying the tag; the clip score of a tag is the mean frame log-likelihood under the
  tag's model minus that under one background model of all training frames (the
  background term only makes scores comparable between clips; it is the same for
  every tag).
* :class:`ForestClipClassifier`: the ESC-10 paper's baseline, a random forest on
  clip-level statistics (mean and standard deviation over frames) of MFCC without c0
  and the zero-crossing rate.

All take ``X`` as a list (or tuple, or 3-D array) of clips, each an audio path (features
computed with the model's own configuration) or a precomputed ``(frames x features)``
array made with that configuration; or as one 2-D array (or a list of rows of numbers),
read as ``n`` clips of one frame each (so that scikit-learn's estimator checks apply). Class labels may be strings,
integers or booleans; predictions are those labels. Each model is saved as a model
folder (:mod:`audioscene.persist`): the GMMs as their fitted arrays, the forest as a
:class:`~audioscene.trees.PackedForest`.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> X = [rng.normal(loc=i % 2, size=(50, 4)) for i in range(20)]
>>> y = ["a" if i % 2 == 0 else "b" for i in range(20)]
>>> GMMClassifier(n_components=2).fit(X, y).score(X, y)
1.0
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from ..features.config import FeatureConfig
from ..features.core import check_frames, is_clip_list
from ..persist import ModelRecord, Persistent, label_array
from .baselines import fit_gmm, gmm_arrays, gmm_from_arrays

if TYPE_CHECKING:
    from sklearn.mixture import GaussianMixture
    from sklearn.utils import Tags

__all__ = ["GMMClassifier", "GMMTagger", "ForestClipClassifier", "TASK1_MFCC", "TASK4_MFCC",
           "ESC_MFCC"]

#: DCASE 2016 task 1 baseline features.
TASK1_MFCC = FeatureConfig(sr=44100, n_fft=2048, win_length=1764, hop_length=882,
                           window="hamming", kind="mfcc", n_mels=40, n_mfcc=20, c0=True,
                           deltas=2)
#: DCASE 2016 task 4 baseline features (CHiME-Home audio is 16 kHz).
TASK4_MFCC = FeatureConfig(sr=16000, n_fft=1024, hop_length=160, kind="mfcc", n_mels=40,
                           n_mfcc=15, c0=False)
#: ESC-10 random forest baseline: 12 MFCC without c0 (the zero-crossing rate is added
#: by :class:`ForestClipClassifier` when it reads audio).
ESC_MFCC = FeatureConfig(sr=44100, n_fft=1102, hop_length=512, kind="mfcc", n_mels=40,
                         n_mfcc=13, c0=False)


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _clips(est: BaseEstimator, X: Any, read: Callable[[Any], np.ndarray], *, reset: bool
           ) -> list[np.ndarray]:
    """The clips of ``X`` as float32 ``(frames x features)`` arrays, checked; sets
    (``reset``) or checks ``est.n_features_in_``.

    A 3-D array, or a list or tuple whose first item is not 1-D, holds clips (paths are
    read with ``read``); anything else (an array, a list of rows) is one 2-D array of
    one-frame clips, checked by scikit-learn's ``validate_data``.
    """
    if not is_clip_list(X):
        from sklearn.utils.validation import validate_data

        A = validate_data(est, X, reset=reset, dtype=np.float32)
        return list(A[:, None, :])
    if not len(X):
        raise ValueError("X holds no clips")
    expected = None if reset else est.n_features_in_
    out = []
    for i, x in enumerate(X):
        is_path = isinstance(x, (str, os.PathLike))
        a = check_frames(read(x) if is_path else x, str(x) if is_path else f"X[{i}]",
                         expected)
        expected = a.shape[1]
        out.append(a)
    if reset:
        est.n_features_in_ = expected
        est.__dict__.pop("feature_names_in_", None)
    return out


def _class_labels(y: Any, n: int, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Sorted classes (the values and dtype of ``y``) and each clip's class index."""
    from sklearn.utils import assert_all_finite, column_or_1d
    from sklearn.utils.multiclass import check_classification_targets

    if y is None:
        raise ValueError(f"{name} requires y to be passed, but the target y is None")
    y = column_or_1d(y, warn=True)
    if len(y) != n:
        raise ValueError(f"X has {n} clips but y has {len(y)} labels")
    assert_all_finite(y, input_name="y")
    check_classification_targets(y)
    classes, enc = np.unique(y, return_inverse=True)
    return classes, enc.reshape(-1)


def _params(est: BaseEstimator) -> dict[str, Any]:
    """JSON-ready constructor arguments (a FeatureConfig as its dict)."""
    out = {}
    for k, v in est.get_params(deep=False).items():
        if isinstance(v, FeatureConfig):
            v = v.to_dict()
        elif isinstance(v, np.generic):
            v = v.item()
        out[k] = v
    return out


def _from_params(cls: type, record: ModelRecord) -> Any:
    params = dict(record.params)
    if params.get("feature_config") is not None:
        params["feature_config"] = FeatureConfig.from_dict(params["feature_config"])
    return cls(**params)


def _fitted_state(est: BaseEstimator) -> dict[str, Any]:
    state: dict[str, Any] = {"n_features_in": int(est.n_features_in_)}
    if hasattr(est, "feature_names_in_"):
        state["feature_names_in"] = [str(c) for c in est.feature_names_in_]
    return state


def _set_fitted_state(est: BaseEstimator, state: dict[str, Any]) -> None:
    est.n_features_in_ = int(state["n_features_in"])
    if "feature_names_in" in state:
        est.feature_names_in_ = np.asarray(state["feature_names_in"], dtype=object)


class GMMClassifier(Persistent, ClassifierMixin, BaseEstimator):
    """DCASE 2016 task 1 baseline: one GMM per class, summed frame log-likelihoods.

    ``X`` is a list of clips (audio paths or ``(frames x features)`` arrays) or one 2-D
    array of ``n`` clips of one frame each.

    Parameters
    ----------
    feature_config : FeatureConfig or None
        Frame features for audio paths (default :data:`TASK1_MFCC`).
    n_components : int
        Gaussians per class (diagonal covariances).
    max_frames : int
        Frames drawn at random per class to train its GMM.
    random_state : int
        Seed (class ``j``'s GMM uses ``random_state + j``).

    Attributes
    ----------
    classes_ : np.ndarray
        Sorted class labels, with the values and dtype of ``y``.
    models_ : list of GaussianMixture
        One fitted GMM per class, in the order of ``classes_``.
    n_features_in_ : int
        Features per frame.

    Examples
    --------
    >>> gmm = GMMClassifier().fit(["a.wav", "b.wav"], ["home", "bus"])  # doctest: +SKIP
    """

    def __init__(self, feature_config: FeatureConfig | None = None, n_components: int = 16,
                 max_frames: int = 50000, random_state: int = 0) -> None:
        self.feature_config = feature_config
        self.n_components = n_components
        self.max_frames = max_frames
        self.random_state = random_state

    @property
    def fconfig(self) -> FeatureConfig:
        """Frame features in use (``feature_config``, or :data:`TASK1_MFCC` when it is
        ``None``).

        Examples
        --------
        >>> GMMClassifier().fconfig.n_mfcc
        20
        """
        return self.feature_config or TASK1_MFCC

    def _read(self, path: str | os.PathLike) -> np.ndarray:
        from ..features.core import extract_file

        return extract_file(path, self.fconfig)[0]

    def fit(self, X: Any, y: Any) -> GMMClassifier:
        """Train one GMM per class on the frames of its clips.

        Parameters
        ----------
        X : list of paths or ndarray, or 2-D array
            Clips.
        y : sequence
            Class label per clip (strings, integers or booleans).

        Returns
        -------
        GMMClassifier
            ``self``.

        Examples
        --------
        >>> GMMClassifier().fit(["a.wav", "b.wav"], ["x", "y"])  # doctest: +SKIP
        """
        frames = _clips(self, X, self._read, reset=True)
        self.classes_, enc = _class_labels(y, len(frames), "GMMClassifier")
        self.models_: list[GaussianMixture] = []
        for j in range(len(self.classes_)):
            F = np.concatenate([f for f, e in zip(frames, enc) if e == j])
            self.models_.append(fit_gmm(F, self.n_components, seed=self.random_state + j,
                                        max_frames=self.max_frames))
        return self

    def _loglik(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        """Summed frame log-likelihood per clip and class, and the clips' frame counts."""
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "models_")
        frames = _clips(self, X, self._read, reset=False)
        S = np.array([[g.score_samples(f).sum() for g in self.models_] for f in frames])
        return S.reshape(len(frames), len(self.models_)), np.array([len(f) for f in frames])

    def decision_function(self, X: Any) -> np.ndarray:
        """Summed frame log-likelihood per class, ``(n_clips, n_classes)``; with two
        classes, scikit-learn's binary form ``(n_clips,)``: that of ``classes_[1]`` minus
        that of ``classes_[0]``.

        Examples
        --------
        >>> gmm.decision_function(["c.wav"]).shape  # doctest: +SKIP
        (1, 15)
        """
        S = self._loglik(X)[0]
        return S[:, 1] - S[:, 0] if S.shape[1] == 2 else S

    def predict_proba(self, X: Any) -> np.ndarray:
        """Softmax of the *mean* frame log-likelihood per class (for fusion; the argmax
        is that of the summed log-likelihood).

        Examples
        --------
        >>> gmm.predict_proba(["c.wav"]).sum()  # doctest: +SKIP
        1.0
        """
        S, lengths = self._loglik(X)
        return _softmax(S / lengths[:, None])

    def predict(self, X: Any) -> np.ndarray:
        """The class with the largest summed log-likelihood.

        Examples
        --------
        >>> gmm.predict(["c.wav"])  # doctest: +SKIP
        array(['home'], dtype='<U4')
        """
        best = self._loglik(X)[0].argmax(axis=1)
        return self.classes_[best]

    def __sklearn_tags__(self) -> Tags:
        """scikit-learn tags: ``y`` is required.

        Examples
        --------
        >>> GMMClassifier().__sklearn_tags__().target_tags.required
        True
        """
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags

    def to_record(self) -> ModelRecord:
        """Parameters, class labels and every GMM's arrays.

        Examples
        --------
        >>> gmm.to_record().kind  # doctest: +SKIP
        'GMMClassifier'
        """
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "models_")
        arrays = {"classes": label_array(self.classes_)}
        for j, g in enumerate(self.models_):
            arrays.update(gmm_arrays(g, f"class{j}/"))
        return ModelRecord("GMMClassifier", params=_params(self), state=_fitted_state(self),
                           arrays=arrays)

    @classmethod
    def from_record(cls, record: ModelRecord) -> GMMClassifier:
        """Inverse of :meth:`to_record`.

        Examples
        --------
        >>> GMMClassifier.from_record(gmm.to_record())  # doctest: +SKIP
        """
        clf = _from_params(cls, record)
        clf.classes_ = np.asarray(record.arrays["classes"])
        _set_fitted_state(clf, record.state)
        clf.models_ = [gmm_from_arrays(record.arrays, f"class{j}/")
                       for j in range(len(clf.classes_))]
        return clf

def _tag_matrix(y: Any, n: int, classes: Iterable[Any] | None
                ) -> tuple[np.ndarray, np.ndarray]:
    """Binary ``(n_clips, n_tags)`` matrix and the tags (see :meth:`GMMTagger.fit`)."""
    from sklearn.utils import assert_all_finite

    if y is None:
        raise ValueError("GMMTagger requires y to be passed, but the target y is None")
    Y = None if isinstance(y, (list, tuple)) else np.asarray(y)
    if Y is not None and Y.dtype != object and Y.ndim in (1, 2):
        if Y.dtype.kind in "fc":
            assert_all_finite(Y, input_name="y")
        if Y.ndim == 2:  # a binary matrix
            tags = np.asarray(classes) if classes is not None else np.arange(Y.shape[1])
            if len(tags) != Y.shape[1]:
                raise ValueError(f"y has {Y.shape[1]} columns but {len(tags)} classes")
            M = Y != 0
        else:  # one tag per clip
            tags = np.unique(Y) if classes is None else np.asarray(list(classes))
            M = Y[:, None] == tags[None, :]
    else:
        sets = [(t,) if isinstance(t, (str, bytes)) or not isinstance(t, Iterable)
                else tuple(t) for t in (y if Y is None else Y.reshape(-1))]
        names = sorted({t for s in sets for t in s}) if classes is None else list(classes)
        index = {t: j for j, t in enumerate(names)}
        M = np.zeros((len(sets), len(names)), dtype=bool)
        for i, s in enumerate(sets):
            M[i, [index[t] for t in s if t in index]] = True
        tags = np.asarray(names)
    if len(M) != n:
        raise ValueError(f"X has {n} clips but y has {len(M)} tag sets")
    return M, tags


class GMMTagger(Persistent, BaseEstimator):
    """DCASE 2016 task 4 baseline: one GMM per tag; per-clip tag scores.

    ``X`` is a list of clips (audio paths or ``(frames x features)`` arrays) or one 2-D
    array of ``n`` clips of one frame each.

    Parameters
    ----------
    feature_config : FeatureConfig or None
        Frame features for audio paths (default :data:`TASK4_MFCC`).
    n_components : int
        Gaussians per tag model.
    max_frames : int
        Frames drawn at random to train each model.
    random_state : int
        Seed (tag ``j``'s GMM uses ``random_state + j``, the background model
        ``random_state + n_tags``).

    Attributes
    ----------
    classes_ : np.ndarray
        The tags, in column order.
    models_ : list of GaussianMixture or None
        One GMM per tag (``None`` for a tag without training clips).
    background_ : GaussianMixture
        The GMM of all training frames.
    n_features_in_ : int
        Features per frame.

    Examples
    --------
    >>> tagger = GMMTagger().fit(["a.wav"], [("c", "m")])  # doctest: +SKIP
    """

    def __init__(self, feature_config: FeatureConfig | None = None, n_components: int = 8,
                 max_frames: int = 50000, random_state: int = 0) -> None:
        self.feature_config = feature_config
        self.n_components = n_components
        self.max_frames = max_frames
        self.random_state = random_state

    @property
    def fconfig(self) -> FeatureConfig:
        """Frame features in use (``feature_config``, or :data:`TASK4_MFCC` when it is
        ``None``).

        Examples
        --------
        >>> GMMTagger().fconfig.n_mfcc
        15
        """
        return self.feature_config or TASK4_MFCC

    def _read(self, path: str | os.PathLike) -> np.ndarray:
        from ..features.core import extract_file

        return extract_file(path, self.fconfig)[0]

    def fit(self, X: Any, y: Any, *, classes: Iterable[Any] | None = None) -> GMMTagger:
        """Train a GMM per tag on the frames of clips with that tag, and a background
        GMM on all frames.

        Parameters
        ----------
        X : list of paths or ndarray, or 2-D array
            Clips.
        y : list of tag sets, 1-D array of tags, or binary ``(n_clips, n_tags)`` array
            Tags per clip. In a list (or an object array), an item that is a string or
            not iterable is one tag, any other item a collection of tags; a 1-D array
            (not of objects) gives one tag per clip; a 2-D array is a binary matrix
            (nonzero: the clip carries the tag).
        classes : iterable or None
            Tag order (the column names of a binary matrix; default: the sorted tags of
            ``y``, or ``0 .. n_tags - 1`` for a binary matrix); tags of ``y`` that it
            does not list are ignored, and a tag without training clips scores 0.

        Returns
        -------
        GMMTagger
            ``self``.

        Examples
        --------
        >>> GMMTagger().fit(["a.wav", "b.wav"], [("c",), ("m",)])  # doctest: +SKIP
        """
        frames = _clips(self, X, self._read, reset=True)
        Y, self.classes_ = _tag_matrix(y, len(frames), classes)
        self.models_: list[GaussianMixture | None] = []
        for j in range(Y.shape[1]):
            pos = [f for f, t in zip(frames, Y[:, j]) if t]
            if not pos:
                self.models_.append(None)
                continue
            self.models_.append(fit_gmm(np.concatenate(pos), self.n_components,
                                        seed=self.random_state + j, max_frames=self.max_frames))
        self.background_ = fit_gmm(np.concatenate(frames), self.n_components,
                                   seed=self.random_state + Y.shape[1],
                                   max_frames=self.max_frames)
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        """Tag scores ``(n_clips, n_tags)``: mean frame log-likelihood ratio of the tag
        model against the background model.

        Examples
        --------
        >>> tagger.decision_function(["c.wav"]).shape  # doctest: +SKIP
        (1, 7)
        """
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "models_")
        frames = _clips(self, X, self._read, reset=False)
        out = np.zeros((len(frames), len(self.models_)))
        for i, f in enumerate(frames):
            bg = self.background_.score_samples(f).mean()
            out[i] = [0.0 if g is None else g.score_samples(f).mean() - bg
                      for g in self.models_]
        return out

    def __sklearn_tags__(self) -> Tags:
        """scikit-learn tags: ``y`` is required and may be a binary tag matrix.

        Examples
        --------
        >>> GMMTagger().__sklearn_tags__().target_tags.multi_output
        True
        """
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.target_tags.multi_output = True
        return tags

    def to_record(self) -> ModelRecord:
        """Parameters, tags, which tags have a model, and every GMM's arrays.

        Examples
        --------
        >>> tagger.to_record().kind  # doctest: +SKIP
        'GMMTagger'
        """
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "models_")
        arrays = {"classes": label_array(self.classes_),
                  **gmm_arrays(self.background_, "background/")}
        for j, g in enumerate(self.models_):
            if g is not None:
                arrays.update(gmm_arrays(g, f"tag{j}/"))
        state = {**_fitted_state(self), "trained": [g is not None for g in self.models_]}
        return ModelRecord("GMMTagger", params=_params(self), state=state, arrays=arrays)

    @classmethod
    def from_record(cls, record: ModelRecord) -> GMMTagger:
        """Inverse of :meth:`to_record`.

        Examples
        --------
        >>> GMMTagger.from_record(tagger.to_record())  # doctest: +SKIP
        """
        tagger = _from_params(cls, record)
        tagger.classes_ = np.asarray(record.arrays["classes"])
        trained = [bool(t) for t in record.state["trained"]]
        if len(trained) != len(tagger.classes_):
            raise ValueError("'trained' does not have one entry per tag")
        _set_fitted_state(tagger, record.state)
        tagger.models_ = [gmm_from_arrays(record.arrays, f"tag{j}/") if t else None
                          for j, t in enumerate(trained)]
        tagger.background_ = gmm_from_arrays(record.arrays, "background/")
        return tagger

class ForestClipClassifier(Persistent, ClassifierMixin, BaseEstimator):
    """Random forest on clip-level statistics of frame features (the ESC-10 baseline).

    Each clip becomes the mean and standard deviation over its frames of every feature
    (MFCC without c0 and, when reading audio, the zero-crossing rate). ``X`` is a list
    of clips (audio paths or ``(frames x features)`` arrays) or one 2-D array of ``n``
    clips of one frame each (standard deviations 0).

    Parameters
    ----------
    feature_config : FeatureConfig or None
        Frame features for audio paths (default :data:`ESC_MFCC`).
    n_estimators : int
        Trees.
    zcr : bool
        Append the zero-crossing rate (computed with librosa on the same frames) when
        ``X`` holds paths.
    random_state : int
        Seed.
    n_jobs : int or None
        Parallel jobs of the forest while fitting.

    Attributes
    ----------
    classes_ : np.ndarray
        Sorted class labels, with the values and dtype of ``y``.
    forest_ : PackedForest
        The fitted scikit-learn ``RandomForestClassifier`` (trained on the class indices
        into ``classes_``) as a :class:`~audioscene.trees.PackedForest`, packed right
        after fitting, so fitted and loaded models predict with the same code.
    n_features_in_ : int
        Features per frame (the forest reads twice as many clip statistics).

    Examples
    --------
    >>> rf = ForestClipClassifier().fit(["a.wav", "b.wav"], ["x", "y"])  # doctest: +SKIP
    """

    def __init__(self, feature_config: FeatureConfig | None = None, n_estimators: int = 500,
                 zcr: bool = True, random_state: int = 0, n_jobs: int | None = None) -> None:
        self.feature_config = feature_config
        self.n_estimators = n_estimators
        self.zcr = zcr
        self.random_state = random_state
        self.n_jobs = n_jobs

    @property
    def fconfig(self) -> FeatureConfig:
        """Frame features in use (``feature_config``, or :data:`ESC_MFCC` when it is
        ``None``).

        Examples
        --------
        >>> ForestClipClassifier().fconfig.n_mfcc
        13
        """
        return self.feature_config or ESC_MFCC

    def frames(self, path: str | os.PathLike) -> np.ndarray:
        """Frame features of one file (MFCC, plus the zero-crossing rate if ``zcr``).

        Examples
        --------
        >>> ForestClipClassifier().frames("clip.wav").shape  # doctest: +SKIP
        (428, 13)
        """
        import librosa

        from ..audio import load
        from ..features.core import extract

        cfg = self.fconfig
        y, _ = load(path, sr=cfg.sr, mono=True)
        F = extract(y, cfg)[0]
        if self.zcr and len(F):
            z = librosa.feature.zero_crossing_rate(y, frame_length=cfg.n_fft,
                                                   hop_length=cfg.hop_length, center=False)[0]
            F = np.c_[F, z[:len(F)]]
        return F

    def _stats(self, X: Any, *, reset: bool) -> np.ndarray:
        frames = _clips(self, X, self.frames, reset=reset)
        return np.array([np.r_[f.mean(axis=0), f.std(axis=0)] for f in frames])

    def fit(self, X: Any, y: Any) -> ForestClipClassifier:
        """Train the forest on clip statistics.

        Parameters
        ----------
        X : list of paths or ndarray, or 2-D array
            Clips.
        y : sequence
            Class label per clip (strings, integers or booleans).

        Returns
        -------
        ForestClipClassifier
            ``self``.

        Examples
        --------
        >>> ForestClipClassifier().fit(["a.wav", "b.wav"], ["x", "y"])  # doctest: +SKIP
        """
        from sklearn.ensemble import RandomForestClassifier

        from ..trees import PackedForest

        S = self._stats(X, reset=True)
        self.classes_, enc = _class_labels(y, len(S), "ForestClipClassifier")
        rf = RandomForestClassifier(self.n_estimators, random_state=self.random_state,
                                    n_jobs=self.n_jobs).fit(S, enc)
        self.forest_ = PackedForest.from_sklearn(rf)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities (mean over the trees of the leaf class fractions).

        Examples
        --------
        >>> rf.predict_proba(["c.wav"]).shape  # doctest: +SKIP
        (1, 10)
        """
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "forest_")
        return self.forest_.predict_proba(self._stats(X, reset=False))

    def predict(self, X: Any) -> np.ndarray:
        """The class of largest probability.

        Examples
        --------
        >>> rf.predict(["c.wav"])  # doctest: +SKIP
        array(['dog'], dtype='<U3')
        """
        best = self.predict_proba(X).argmax(axis=1)
        return self.classes_[best]

    def __sklearn_tags__(self) -> Tags:
        """scikit-learn tags: ``y`` is required.

        Examples
        --------
        >>> ForestClipClassifier().__sklearn_tags__().target_tags.required
        True
        """
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags

    def to_record(self) -> ModelRecord:
        """Parameters, class labels and the packed forest's arrays.

        Examples
        --------
        >>> rf.to_record().kind  # doctest: +SKIP
        'ForestClipClassifier'
        """
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "forest_")
        arrays = {"classes": label_array(self.classes_),
                  **{f"forest/{k}": a for k, a in self.forest_.to_arrays().items()}}
        return ModelRecord("ForestClipClassifier", params=_params(self),
                           state=_fitted_state(self), arrays=arrays)

    @classmethod
    def from_record(cls, record: ModelRecord) -> ForestClipClassifier:
        """Inverse of :meth:`to_record`.

        Examples
        --------
        >>> ForestClipClassifier.from_record(rf.to_record())  # doctest: +SKIP
        """
        from ..trees import PackedForest

        clf = _from_params(cls, record)
        clf.classes_ = np.asarray(record.arrays["classes"])
        _set_fitted_state(clf, record.state)
        clf.forest_ = PackedForest.from_arrays({k[len("forest/"):]: a
                                                for k, a in record.arrays.items()
                                                if k.startswith("forest/")})
        if clf.forest_.n_features_in_ != 2 * clf.n_features_in_ or \
                len(clf.forest_.classes_) != len(clf.classes_):
            raise ValueError("the forest does not match the features or classes")
        return clf
