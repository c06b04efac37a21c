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

All take either audio paths (features computed with their own configuration) or
precomputed ``(frames x features)`` arrays made with that configuration.

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
from collections.abc import Sequence
from typing import Any

import librosa
import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import RandomForestClassifier
from sklearn.mixture import GaussianMixture
from sklearn.preprocessing import LabelEncoder, MultiLabelBinarizer
from sklearn.utils.validation import check_is_fitted

from ..audio import load
from ..features import FeatureConfig, extract
from .baselines import fit_gmm
from .clip import _as_frames

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


class GMMClassifier(ClassifierMixin, BaseEstimator):
    """DCASE 2016 task 1 baseline: one GMM per class, summed frame log-likelihoods.

    Parameters
    ----------
    feature_config : FeatureConfig or None
        Frame features for audio paths (default :data:`TASK1_MFCC`).
    n_components : int
        Gaussians per class (diagonal covariances).
    max_frames : int
        Frames drawn at random per class to train its GMM.
    random_state : int
        Seed.

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
        """Frame features in use."""
        return self.feature_config or TASK1_MFCC

    def fit(self, X: Sequence[Any], y: Sequence[Any]) -> GMMClassifier:
        """Train one GMM per class on the frames of its clips.

        Examples
        --------
        >>> GMMClassifier().fit(["a.wav", "b.wav"], ["x", "y"])  # doctest: +SKIP
        """
        frames = _as_frames(X, self.fconfig, None, False)
        if len(y) != len(frames):
            raise ValueError(f"X has {len(frames)} clips but y has {len(y)} labels")
        le = LabelEncoder()
        enc = le.fit_transform(np.asarray(y))
        self.classes_ = le.classes_
        self.n_features_in_ = frames[0].shape[1]
        self.models_: list[GaussianMixture] = []
        for j in range(len(self.classes_)):
            F = np.concatenate([f for f, e in zip(frames, enc) if e == j])
            self.models_.append(fit_gmm(F, self.n_components, seed=self.random_state + j,
                                        max_frames=self.max_frames))
        return self

    def decision_function(self, X: Sequence[Any]) -> np.ndarray:
        """Summed frame log-likelihood per class, ``(n_clips, n_classes)``."""
        check_is_fitted(self, "models_")
        frames = _as_frames(X, self.fconfig, self.n_features_in_, False)
        return np.array([[g.score_samples(f).sum() for g in self.models_] for f in frames])

    def predict_proba(self, X: Sequence[Any]) -> np.ndarray:
        """Softmax of the *mean* frame log-likelihood per class (for fusion; the argmax
        is the same as that of the summed log-likelihood)."""
        frames = _as_frames(X, self.fconfig, getattr(self, "n_features_in_", None), False)
        S = self.decision_function(frames)
        return _softmax(S / np.array([len(f) for f in frames])[:, None])

    def predict(self, X: Sequence[Any]) -> np.ndarray:
        """The class with the largest summed log-likelihood."""
        return self.classes_[self.decision_function(X).argmax(axis=1)]


class GMMTagger(BaseEstimator):
    """DCASE 2016 task 4 baseline: one GMM per tag; per-clip tag scores.

    Parameters
    ----------
    feature_config : FeatureConfig or None
        Frame features for audio paths (default :data:`TASK4_MFCC`).
    n_components : int
        Gaussians per tag model.
    max_frames : int
        Frames drawn at random to train each model.
    random_state : int
        Seed.

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
        """Frame features in use."""
        return self.feature_config or TASK4_MFCC

    def fit(self, X: Sequence[Any], y: Sequence[Sequence[str]] | np.ndarray, *,
            classes: Sequence[Any] | None = None) -> GMMTagger:
        """Train a GMM per tag on the frames of clips with that tag, and a background
        GMM on all frames.

        Parameters
        ----------
        X : list of ndarray or paths
            Clips.
        y : sequence of tag tuples, or binary ``(n_clips, n_tags)`` matrix
            Tags per clip.
        classes : sequence or None
            Tag order (the column names of a binary matrix); a tag without training
            clips scores 0.

        Examples
        --------
        >>> GMMTagger().fit(["a.wav", "b.wav"], [("c",), ("m",)])  # doctest: +SKIP
        """
        frames = _as_frames(X, self.fconfig, None, False)
        Y = np.asarray(y) if not isinstance(y, list) else None
        if Y is not None and Y.ndim == 2 and Y.dtype != object:
            self.classes_ = np.asarray(classes if classes is not None else np.arange(Y.shape[1]))
        else:
            mlb = MultiLabelBinarizer(classes=list(classes) if classes is not None else None)
            Y = mlb.fit_transform([tuple(t) for t in y])
            self.classes_ = np.asarray(mlb.classes_)
        if len(Y) != len(frames):
            raise ValueError(f"X has {len(frames)} clips but y has {len(Y)} tag sets")
        self.n_features_in_ = frames[0].shape[1]
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

    def decision_function(self, X: Sequence[Any]) -> np.ndarray:
        """Tag scores ``(n_clips, n_tags)``: mean frame log-likelihood ratio of the tag
        model against the background model.

        Examples
        --------
        >>> tagger.decision_function(["c.wav"]).shape  # doctest: +SKIP
        (1, 7)
        """
        check_is_fitted(self, "models_")
        frames = _as_frames(X, self.fconfig, self.n_features_in_, False)
        out = np.zeros((len(frames), len(self.models_)))
        for i, f in enumerate(frames):
            bg = self.background_.score_samples(f).mean()
            out[i] = [0.0 if g is None else g.score_samples(f).mean() - bg
                      for g in self.models_]
        return out


class ForestClipClassifier(ClassifierMixin, BaseEstimator):
    """Random forest on clip-level statistics of frame features (the ESC-10 baseline).

    Each clip becomes the mean and standard deviation over its frames of every feature
    (MFCC without c0 and, when reading audio, the zero-crossing rate).

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
        Parallel jobs of the forest.

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
        """Frame features in use."""
        return self.feature_config or ESC_MFCC

    def frames(self, path: str | os.PathLike) -> np.ndarray:
        """Frame features of one file (MFCC, plus the zero-crossing rate if ``zcr``).

        Examples
        --------
        >>> ForestClipClassifier().frames("clip.wav").shape  # doctest: +SKIP
        (428, 13)
        """
        cfg = self.fconfig
        y, _ = load(path, sr=cfg.sr, mono=True)
        F = extract(y, cfg)[0]
        if self.zcr and len(F):
            z = librosa.feature.zero_crossing_rate(y, frame_length=cfg.n_fft,
                                                   hop_length=cfg.hop_length, center=False)[0]
            F = np.c_[F, z[:len(F)]]
        return F

    def _stats(self, X: Sequence[Any]) -> np.ndarray:
        X = [self.frames(x) if isinstance(x, (str, os.PathLike)) else x for x in X]
        frames = _as_frames(X, self.fconfig, getattr(self, "n_frame_features_", None), False)
        return np.array([np.r_[f.mean(axis=0), f.std(axis=0)] for f in frames])

    def fit(self, X: Sequence[Any], y: Sequence[Any]) -> ForestClipClassifier:
        """Train the forest on clip statistics.

        Examples
        --------
        >>> ForestClipClassifier().fit(["a.wav", "b.wav"], ["x", "y"])  # doctest: +SKIP
        """
        if hasattr(self, "n_frame_features_"):
            del self.n_frame_features_
        S = self._stats(X)
        self.n_frame_features_ = S.shape[1] // 2
        self.forest_ = RandomForestClassifier(self.n_estimators, random_state=self.random_state,
                                              n_jobs=self.n_jobs).fit(S, np.asarray(y))
        self.classes_ = self.forest_.classes_
        return self

    def predict_proba(self, X: Sequence[Any]) -> np.ndarray:
        """Class probabilities (share of tree votes)."""
        check_is_fitted(self, "forest_")
        return self.forest_.predict_proba(self._stats(X))

    def predict(self, X: Sequence[Any]) -> np.ndarray:
        """Most voted class."""
        return self.classes_[self.predict_proba(X).argmax(axis=1)]
