"""DCASE 2016 baselines, to measure the systems against side by side.

:class:`GMMEventDetector` is the task 3 baseline: 20 MFCC without c0 plus deltas and
delta-deltas (40 ms window, 20 ms hop); per class, a positive and a negative
16-component diagonal GMM (scikit-learn's ``GaussianMixture``); the frame log-likelihood
ratio summed over a 1 s sliding window; a threshold; events shorter than 0.1 s dropped
and gaps shorter than 0.1 s closed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.mixture import GaussianMixture
from sklearn.utils.validation import check_is_fitted

from ..events import Event, EventList
from ..features import FeatureConfig, extract, extract_file
from ..io_utils import atomic_save_npz, atomic_write_text, read_arrays, read_model_json
from .segments import segment_targets

__all__ = ["GMMEventDetector", "TASK3_MFCC", "activity_to_events", "fit_gmm", "gmm_arrays",
           "gmm_from_arrays"]

#: DCASE 2016 task 3 baseline features: 20 MFCC (c0 dropped), deltas, delta-deltas.
TASK3_MFCC = FeatureConfig(sr=44100, n_fft=2048, win_length=1764, hop_length=882,
                           kind="mfcc", n_mels=40, n_mfcc=21, c0=False, deltas=2)


def activity_to_events(active: np.ndarray, *, hop: float, offset: float = 0.0,
                       min_length: float = 0.1, min_gap: float = 0.1) -> list[tuple[float, float]]:
    """Runs of a boolean frame activity as (onset, offset) seconds, with gaps shorter
    than ``min_gap`` closed and events shorter than ``min_length`` dropped.

    Examples
    --------
    >>> activity_to_events(np.array([0, 1, 1, 0, 1, 1, 1, 0, 0, 0], bool), hop=0.05)
    [(0.05, 0.35)]
    """
    a = np.asarray(active, bool)
    if not a.any():
        return []
    edges = np.diff(np.r_[0, a.astype(np.int8), 0])
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    runs: list[list[float]] = []
    for s, e in zip(starts, ends):
        on, off = offset + s * hop, offset + e * hop
        if runs and on - runs[-1][1] < min_gap - 1e-9:
            runs[-1][1] = off
        else:
            runs.append([on, off])
    return [(round(float(on), 6), round(float(off), 6)) for on, off in runs
            if off - on >= min_length - 1e-9]


def fit_gmm(X: np.ndarray, n_components: int, *, seed: int, max_frames: int = 20000
            ) -> GaussianMixture:
    """A diagonal-covariance GMM on at most ``max_frames`` frames drawn at random from
    ``X`` (fewer components when there are few frames).

    Examples
    --------
    >>> g = fit_gmm(np.random.default_rng(0).normal(size=(500, 3)), 4, seed=0)
    >>> g.means_.shape
    (4, 3)
    """
    rng = np.random.default_rng(seed)
    X = np.asarray(X, dtype=np.float64)  # float32 frames make EM's covariances ill-defined
    if len(X) > max_frames:
        X = X[rng.choice(len(X), max_frames, replace=False)]
    k = min(n_components, max(1, len(X) // 2))
    return GaussianMixture(k, covariance_type="diag", reg_covar=1e-3, max_iter=100,
                           random_state=seed).fit(X)


#: The fitted attributes of a diagonal GaussianMixture that its scores read.
_GMM_KEYS = ("weights_", "means_", "covariances_", "precisions_cholesky_")


def gmm_arrays(g: GaussianMixture, prefix: str = "") -> dict[str, np.ndarray]:
    """The fitted arrays of a diagonal ``GaussianMixture`` (public attributes), for a
    model file; :func:`gmm_from_arrays` rebuilds a mixture with identical scores.

    Examples
    --------
    >>> g = fit_gmm(np.random.default_rng(0).normal(size=(200, 3)), 2, seed=0)
    >>> g2 = gmm_from_arrays(gmm_arrays(g, "a/"), "a/")
    >>> X = np.ones((4, 3))
    >>> np.array_equal(g.score_samples(X), g2.score_samples(X))
    True
    """
    if g.covariance_type != "diag":
        raise ValueError("only diagonal GMMs are saved")
    return {f"{prefix}{k}": np.asarray(getattr(g, k)) for k in _GMM_KEYS}


def gmm_from_arrays(arrays: dict[str, np.ndarray], prefix: str = "") -> GaussianMixture:
    """Inverse of :func:`gmm_arrays`: a fitted diagonal ``GaussianMixture`` set from its
    public fitted attributes.

    Examples
    --------
    >>> g = gmm_from_arrays(gmm_arrays(fit_gmm(np.eye(4), 1, seed=0)))
    >>> g.means_.shape
    (1, 4)
    """
    w = np.asarray(arrays[f"{prefix}weights_"])
    g = GaussianMixture(len(w), covariance_type="diag")
    for k in _GMM_KEYS:
        setattr(g, k, np.asarray(arrays[f"{prefix}{k}"]))
    g.precisions_ = g.precisions_cholesky_ ** 2
    g.converged_ = True
    g.n_iter_ = 0
    g.lower_bound_ = float("nan")
    g.n_features_in_ = g.means_.shape[1]
    return g


class GMMEventDetector(BaseEstimator):
    """DCASE 2016 task 3 baseline: positive/negative GMMs per class and an accumulated
    likelihood ratio.

    Parameters
    ----------
    feature_config : FeatureConfig or None
        Frame features (default :data:`TASK3_MFCC`).
    n_components : int
        Gaussians per model (diagonal covariances).
    window : float
        Seconds over which the frame log-likelihood ratio is summed.
    threshold : float
        Decision threshold on the summed ratio (tuned on validation material by the
        recipes).
    min_length, min_gap : float
        Post-processing, in seconds.
    max_frames : int
        Frames drawn at random to train each GMM (keeps training fast).
    random_state : int
        Seed.

    Examples
    --------
    >>> gmm = GMMEventDetector().fit(recordings, annotations)  # doctest: +SKIP
    >>> gmm.predict("dev_1_ebr_0_nec_1_poly_0.flac")  # doctest: +SKIP
    """

    def __init__(self, feature_config: FeatureConfig | None = None, n_components: int = 16,
                 window: float = 1.0, threshold: float = 0.0, min_length: float = 0.1,
                 min_gap: float = 0.1, max_frames: int = 20000, random_state: int = 0) -> None:
        self.feature_config = feature_config
        self.n_components = n_components
        self.window = window
        self.threshold = threshold
        self.min_length = min_length
        self.min_gap = min_gap
        self.max_frames = max_frames
        self.random_state = random_state

    @property
    def fconfig(self) -> FeatureConfig:
        """Frame features in use."""
        return self.feature_config or TASK3_MFCC

    def frames(self, recording: str | os.PathLike | np.ndarray) -> np.ndarray:
        """MFCC frames of a recording (path, or samples at ``fconfig.sr``)."""
        if isinstance(recording, np.ndarray):
            return extract(recording, self.fconfig)[0]
        return extract_file(recording, self.fconfig)[0]

    def _gmm(self, X: np.ndarray, seed: int) -> GaussianMixture:
        return fit_gmm(X, self.n_components, seed=seed, max_frames=self.max_frames)

    def fit(self, recordings: Sequence[str | os.PathLike | np.ndarray],
            annotations: Sequence[EventList], *,
            classes: Sequence[str] | None = None) -> GMMEventDetector:
        """Train a positive and a negative GMM per class.

        Parameters
        ----------
        recordings : sequence of path or np.ndarray
            Audio (paths or samples at ``fconfig.sr``).
        annotations : sequence of EventList
            Their events.
        classes : sequence of str or None
            Class list (default: all labels in ``annotations``).

        Returns
        -------
        self
        """
        return self.fit_frames([self.frames(r) for r in recordings], annotations,
                               classes=classes)

    def fit_frames(self, frames: Sequence[np.ndarray], annotations: Sequence[EventList], *,
                   classes: Sequence[str] | None = None) -> GMMEventDetector:
        """:meth:`fit` from precomputed frames (``self.frames(recording)``)."""
        if len(frames) != len(annotations) or not frames:
            raise ValueError("need one annotation per recording, and at least one recording")
        labels = sorted(set(classes) if classes is not None else
                        {lab for ev in annotations for lab in ev.labels})
        Fs, Ys = [], []
        for F, ev in zip(frames, annotations):
            y, _ = segment_targets(self.fconfig.frame_times(len(F)), ev, labels)
            Fs.append(F)
            Ys.append(y)
        F = np.concatenate(Fs)
        Y = np.concatenate(Ys)
        self.classes_ = labels
        self.models_: list[tuple[GaussianMixture, GaussianMixture]] = []
        for j, lab in enumerate(labels):
            if not Y[:, j].any() or Y[:, j].all():
                raise ValueError(f"class {lab!r} needs both active and inactive frames")
            seed = int(self.random_state) + 2 * j
            self.models_.append((self._gmm(F[Y[:, j]], seed), self._gmm(F[~Y[:, j]], seed + 1)))
        return self

    def scores(self, recording: str | os.PathLike | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Frame log-likelihood ratio summed over a sliding window centred on each frame,
        ``(T, C)``, and the frame times.

        Examples
        --------
        >>> S, t = gmm.scores("mix.wav")  # doctest: +SKIP
        """
        return self.scores_from_frames(self.frames(recording))

    def scores_from_frames(self, F: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`scores` from precomputed frames."""
        check_is_fitted(self, "models_")
        n = max(1, int(round(self.window / self.fconfig.hop_seconds)))
        out = np.zeros((len(F), len(self.classes_)))
        for j, (pos, neg) in enumerate(self.models_):
            if not len(F):
                break
            llr = pos.score_samples(F) - neg.score_samples(F)
            cs = np.r_[0.0, np.cumsum(llr)]
            # window centred on each frame (cut at the ends)
            idx = np.arange(len(F))
            out[:, j] = cs[np.minimum(idx + n - n // 2, len(F))] - cs[np.maximum(idx - n // 2, 0)]
        return out, self.fconfig.frame_times(len(F))

    def decode(self, S: np.ndarray, *, filename: str | None = None) -> EventList:
        """Events from summed ratios (frames above ``threshold``, post-processed)."""
        hop = self.fconfig.hop_seconds
        start = self.fconfig.n_fft / 2 / self.fconfig.sr - hop / 2
        out = []
        for j, lab in enumerate(self.classes_):
            for on, off in activity_to_events(S[:, j] > self.threshold, hop=hop,
                                              offset=max(0.0, start), min_length=self.min_length,
                                              min_gap=self.min_gap):
                out.append(Event(on, off, lab, None, filename))
        return EventList(out)

    def predict(self, recording: str | os.PathLike | np.ndarray, *,
                filename: str | None = None) -> EventList:
        """Detect events in one recording.

        Examples
        --------
        >>> gmm.predict("mix.wav")  # doctest: +SKIP
        """
        if filename is None and not isinstance(recording, np.ndarray):
            filename = Path(recording).name
        return self.decode(self.scores(recording)[0], filename=filename)

    # ------------------------------------------------------------------ persistence
    def save(self, directory: str | os.PathLike) -> Path:
        """Write ``gmm.json`` and ``gmm.npz`` (no pickle).

        Examples
        --------
        >>> gmm.save("models/gmm")  # doctest: +SKIP
        """
        check_is_fitted(self, "models_")
        d = Path(directory)
        arrays: dict[str, Any] = {}
        for j, pair in enumerate(self.models_):
            for side, g in zip(("pos", "neg"), pair):
                for k in ("weights_", "means_", "covariances_", "precisions_cholesky_"):
                    arrays[f"{j}/{side}/{k}"] = getattr(g, k)
        atomic_save_npz(d / "gmm.npz", **arrays)
        params = self.get_params()
        params["feature_config"] = self.fconfig.to_dict()
        atomic_write_text(d / "gmm.json", json.dumps({"type": "audioscene.GMMEventDetector",
                                                      "params": params,
                                                      "classes": self.classes_}, indent=1))
        return d

    @classmethod
    def load(cls, directory: str | os.PathLike) -> GMMEventDetector:
        """Inverse of :meth:`save`.

        Examples
        --------
        >>> gmm = GMMEventDetector.load("models/gmm")  # doctest: +SKIP
        """
        d = Path(directory)
        meta = read_model_json(d / "gmm.json", "GMMEventDetector")
        params = dict(meta["params"])
        params["feature_config"] = FeatureConfig.from_dict(params["feature_config"])
        det = cls(**params)
        det.classes_ = list(meta["classes"])
        det.models_ = []
        z = read_arrays(d / "gmm.npz")
        for j in range(len(det.classes_)):
            pair = []
            for side in ("pos", "neg"):
                w = z[f"{j}/{side}/weights_"]
                g = GaussianMixture(len(w), covariance_type="diag")
                for k in ("weights_", "means_", "covariances_", "precisions_cholesky_"):
                    setattr(g, k, z[f"{j}/{side}/{k}"])
                g.converged_ = True
                g.n_iter_ = 0
                g.n_features_in_ = g.means_.shape[1]
                pair.append(g)
            det.models_.append((pair[0], pair[1]))
        return det
