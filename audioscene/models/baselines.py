"""DCASE 2016 baselines, to measure the systems against side by side.

:class:`GMMEventDetector` is the task 3 baseline: 20 MFCC without c0 plus deltas and
delta-deltas (40 ms window, 20 ms hop); per class, a positive and a negative
16-component diagonal GMM (scikit-learn's ``GaussianMixture``); the frame log-likelihood
ratio summed over a 1 s sliding window; a threshold; events shorter than 0.1 s dropped
and gaps shorter than 0.1 s closed. Offline scoring (:meth:`GMMEventDetector.scores`,
:meth:`GMMEventDetector.decode`) and the stream (:class:`GMMEventDetectorStream`) run the
same steps: log-likelihoods in fixed 128-frame chunks aligned on absolute frame indices,
window sums added frame by frame in order, and the threshold decoded by
:class:`~audioscene.decode.hysteresis.HysteresisDecoder`; the tests check that a stream
fed in random blocks gives exactly the offline scores and events.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numba
import numpy as np
from sklearn.base import BaseEstimator
from sklearn.mixture import GaussianMixture
from sklearn.utils.validation import check_is_fitted

from ..decode.base import FrameScores, per_class
from ..decode.hysteresis import HysteresisDecoder
from ..events import EventList
from ..features.config import FeatureConfig
from ..features.core import FeatureStream, extract, extract_file
from ..features.segments import segment_targets
from ..persist import ModelRecord, Persistent

__all__ = ["GMMEventDetector", "GMMEventDetectorStream", "TASK3_MFCC", "fit_gmm", "gmm_arrays", "gmm_from_arrays"]

#: DCASE 2016 task 3 baseline features: 20 MFCC (c0 dropped), deltas, delta-deltas.
TASK3_MFCC = FeatureConfig(sr=44100, n_fft=2048, win_length=1764, hop_length=882,
                           kind="mfcc", n_mels=40, n_mfcc=21, c0=False, deltas=2)


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


class GMMEventDetector(Persistent, BaseEstimator):
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

    #: Range of the scores that detection thresholds apply to: summed log-likelihood
    #: ratios, unbounded.
    score_range: tuple[float, float] | None = None

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

    def _llr(self, F: np.ndarray, first_frame: int) -> np.ndarray:
        """Per-frame log-likelihood ratios ``(k, C)`` of frames whose first has absolute
        index ``first_frame``, computed in canonical 128-frame chunks (every frame meets
        the same matrix products wherever a block boundary falls)."""
        out = np.zeros((len(F), len(self.classes_)))
        start = 0
        while start < len(F):
            pos = (first_frame + start) % _CHUNK
            stop = min(len(F), start + _CHUNK - pos)
            full = np.zeros((_CHUNK, F.shape[1]), np.float64)
            full[pos:pos + stop - start] = F[start:stop]
            for j, (g_pos, g_neg) in enumerate(self.models_):
                r = g_pos.score_samples(full) - g_neg.score_samples(full)
                out[start:stop, j] = r[pos:pos + stop - start]
            start = stop
        return out

    @property
    def window_frames(self) -> int:
        """Frames summed per score (``window`` in frames, at least 1)."""
        return max(1, int(round(self.window / self.fconfig.hop_seconds)))

    def scores_from_frames(self, F: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`scores` from precomputed frames (the same arithmetic as the stream:
        the window of frame ``i`` is ``[i - n // 2, i + n - n // 2)`` cut at the ends).

        Examples
        --------
        >>> S, t = gmm.scores_from_frames(gmm.frames("mix.wav"))  # doctest: +SKIP
        """
        check_is_fitted(self, "models_")
        F = np.asarray(F)
        n = self.window_frames
        llr = self._llr(F, 0)
        S = _window_sums(llr, 0, len(F), n // 2, n, len(F))
        return S, self.fconfig.frame_times(len(F))

    def detection_thresholds(self, decoder: str = "votes") -> np.ndarray:
        """The per-class decision thresholds that ``thresholds`` of :meth:`stream`
        replace: ``threshold`` for every class (``decoder`` must be ``"votes"``, this
        baseline's own decoding).

        Examples
        --------
        >>> gmm.detection_thresholds().tolist()  # doctest: +SKIP
        [0.0, 0.0, ...]
        """
        check_is_fitted(self, "models_")
        if decoder != "votes":
            raise ValueError(f"--decoder {decoder} needs a CaR-forest model; "
                             "GMMEventDetector has its own decoding")
        return per_class(self.threshold, len(self.classes_))

    def _decoder(self, filename: str | None,
                 thresholds: float | Sequence[float] | None = None) -> HysteresisDecoder:
        hop = self.fconfig.hop_seconds
        start = self.fconfig.n_fft / 2 / self.fconfig.sr - hop / 2
        thr = per_class(self.threshold if thresholds is None else thresholds,
                        len(self.classes_))
        # active when the summed ratio is above the threshold (strictly)
        high = np.nextafter(thr, np.inf)
        return HysteresisDecoder(list(self.classes_), hop=hop, high=high, low=high,
                                 min_duration=self.min_length, min_gap=self.min_gap,
                                 offset=max(0.0, start), filename=filename)

    def decode(self, S: np.ndarray, *, filename: str | None = None,
               thresholds: float | Sequence[float] | None = None) -> EventList:
        """Events from summed ratios: frames above ``threshold`` (or ``thresholds``: one
        for every class or one per class), gaps shorter than ``min_gap`` closed, events
        shorter than ``min_length`` dropped.

        Examples
        --------
        >>> gmm.decode(gmm.scores("mix.wav")[0], filename="mix.wav")  # doctest: +SKIP
        """
        check_is_fitted(self, "models_")
        hd = self._decoder(filename, thresholds)
        return hd.process(S) + hd.flush()

    def stream(self, *, filename: str | None = None, decoder: str = "votes",
               hysteresis: dict | None = None, threads: int | None = None,
               thresholds: float | Sequence[float] | None = None
               ) -> GMMEventDetectorStream:
        """A detection stream of this model (see :class:`GMMEventDetectorStream`); the
        baseline has one decoder of its own, so ``decoder`` must be ``"votes"`` (the
        default) and ``hysteresis`` None; ``threads`` is not used; ``thresholds``
        (one for every class or one per class) replace ``threshold``.

        Examples
        --------
        >>> s = gmm.stream(filename="live")  # doctest: +SKIP
        """
        if decoder != "votes" or hysteresis:
            raise ValueError(f"--decoder {decoder} needs a CaR-forest model; "
                             "GMMEventDetector has its own decoding")
        return GMMEventDetectorStream(self, filename=filename, thresholds=thresholds)

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
    def to_record(self) -> ModelRecord:
        """Parameters, classes and every GMM's arrays.

        Examples
        --------
        >>> gmm.to_record().kind  # doctest: +SKIP
        'GMMEventDetector'
        """
        check_is_fitted(self, "models_")
        arrays: dict[str, np.ndarray] = {}
        for j, pair in enumerate(self.models_):
            for side, g in zip(("pos", "neg"), pair):
                arrays.update(gmm_arrays(g, f"{j}/{side}/"))
        params = self.get_params()
        params["feature_config"] = self.fconfig.to_dict()
        return ModelRecord("GMMEventDetector", params=params,
                           state={"classes": list(self.classes_)}, arrays=arrays)

    @classmethod
    def from_record(cls, record: ModelRecord) -> GMMEventDetector:
        """Inverse of :meth:`to_record`.

        Examples
        --------
        >>> GMMEventDetector.from_record(gmm.to_record())  # doctest: +SKIP
        """
        params = dict(record.params)
        params["feature_config"] = FeatureConfig.from_dict(params["feature_config"])
        det = cls(**params)
        det.classes_ = [str(c) for c in record.state["classes"]]
        det.models_ = [(gmm_from_arrays(record.arrays, f"{j}/pos/"),
                        gmm_from_arrays(record.arrays, f"{j}/neg/"))
                       for j in range(len(det.classes_))]
        return det

_CHUNK = 128  # frames per canonical log-likelihood chunk


@numba.njit(cache=True, nogil=True)
def _window_sums(llr, first, n_out, h, n, total):
    """Sums over rows ``[i - h, i - h + n)`` of ``llr`` (cut at 0 and at ``total`` when
    ``total >= 0``) for ``i = first .. first + n_out - 1``, added one row at a time in
    order; ``llr`` row 0 is frame 0 of the buffer's coordinates."""
    C = llr.shape[1]
    out = np.zeros((n_out, C))
    for k in range(n_out):
        i = first + k
        lo = max(0, i - h)
        hi = i - h + n
        if total >= 0:
            hi = min(hi, total)
        for c in range(C):
            acc = 0.0
            for r in range(lo, hi):
                acc += llr[r, c]
            out[k, c] = acc
    return out


class GMMEventDetectorStream:
    """A :class:`GMMEventDetector`'s detection stream: audio blocks in, final events out,
    in bounded memory, with the scores and events of :meth:`GMMEventDetector.scores` and
    :meth:`GMMEventDetector.predict` (the same kernels, fed in pieces).

    Each frame's score needs ``window_frames - window_frames // 2 - 1`` frames of
    look-ahead; the per-frame ratios of the last ``window_frames`` frames are kept.

    Parameters
    ----------
    model : GMMEventDetector
        A fitted baseline.
    filename : str or None
        Name given to the events.
    thresholds : float, sequence of float or None
        Decision thresholds on the summed ratio, one for every class or one per class
        (``None``: the model's ``threshold``).

    Examples
    --------
    >>> s = GMMEventDetector.load("models/gmm").stream()  # doctest: +SKIP
    >>> events = s.process(samples) + s.flush()  # doctest: +SKIP
    """

    def __init__(self, model: GMMEventDetector, *, filename: str | None = None,
                 thresholds: float | Sequence[float] | None = None) -> None:
        check_is_fitted(model, "models_")
        self.model = model
        self.filename = filename
        self.thresholds = None if thresholds is None else \
            per_class(thresholds, len(model.classes_))
        self.classes = list(model.classes_)
        self.score_hop = model.fconfig.hop_seconds
        self.fs = FeatureStream(model.fconfig)
        self.reset()

    @property
    def sr(self) -> int:
        """Sample rate the blocks must have."""
        return self.model.fconfig.sr

    @property
    def latency(self) -> float:
        """Upper bound (s of audio) between an event's onset and its release: the frame,
        the window's look-ahead, the feature look-ahead and the gap an event waits for."""
        fc, n = self.model.fconfig, self.model.window_frames
        frames = (n - n // 2) + self.fs.latency_frames + self.hd.min_gap + 1
        return fc.frame_seconds + frames * fc.hop_seconds

    @property
    def last_scores(self) -> FrameScores | None:
        """Frame times and summed ratios completed by the last call."""
        return FrameScores.join(self._parts)

    def reset(self, filename: str | None = None) -> None:
        """Start a new stream (optionally for another file name)."""
        if filename is not None:
            self.filename = filename
        self.fs.reset()
        self.hd = self.model._decoder(self.filename, self.thresholds)
        self.llr = np.zeros((0, len(self.classes)))
        self.b0 = 0  # absolute frame of llr row 0
        self.n_in = 0  # frames received
        self.n_out = 0  # scores emitted
        self._parts: list[FrameScores] = []

    def _scores(self, final: bool) -> EventList:
        n = self.model.window_frames
        h = n // 2
        # frame i is complete once frames up to i - h + n - 1 are in
        upto = self.n_in if final else max(self.n_out, self.n_in + h - n + 1)
        k = upto - self.n_out
        if k <= 0:
            return EventList()
        S = _window_sums(self.llr, self.n_out - self.b0, k, h, n,
                         (self.n_in - self.b0) if final else -1)
        times = self.model.fconfig.frame_times(k, self.n_out)
        self.n_out = upto
        self._parts.append(FrameScores(times, S))
        # keep the rows that later windows read
        drop = (self.n_out - h) - self.b0
        if drop > 0:
            self.llr = self.llr[drop:]
            self.b0 += drop
        return self.hd.process(S)

    def process(self, block: np.ndarray) -> EventList:
        """Feed the next samples (at :attr:`sr`); return the events now final.

        Examples
        --------
        >>> s.process(np.zeros(44100, np.float32))  # doctest: +SKIP
        EventList(0 events, labels=[])
        """
        self._parts = []
        F, _ = self.fs.process(block)
        if len(F):
            self.llr = np.concatenate([self.llr, self.model._llr(F, self.n_in)])
            self.n_in += len(F)
        return self._scores(False)

    def flush(self) -> EventList:
        """End of stream: return the remaining events.

        Examples
        --------
        >>> s.flush()  # doctest: +SKIP
        """
        self._parts = []
        F, _ = self.fs.flush()
        if len(F):
            self.llr = np.concatenate([self.llr, self.model._llr(F, self.n_in)])
            self.n_in += len(F)
        return self._scores(True) + self.hd.flush()
