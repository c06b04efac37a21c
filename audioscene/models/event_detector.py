"""Sound event detection with one CaR-forest per class: segments vote for onsets and
offsets; peaks of the vote curves, paired, become events (arXiv:1607.02306)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.ndimage import gaussian_filter1d

from ..decode.base import FrameScores, check_decoder, per_class
from ..decode.hysteresis import HysteresisDecoder, with_thresholds
from ..decode.votes import VoteCurves, VotePairer, accumulate_votes
from ..estimator import Estimator, check_fitted
from ..events import Event, EventList
from ..features.config import FeatureConfig
from ..features.core import FeatureConstants, FeatureStream, extract, extract_file
from ..features.segments import SegmentConfig, SegmentStream, segment_features, segment_targets
from ..persist import ModelRecord, Persistent
from .carforest import CaRForest

__all__ = ["EventDetector", "EventDetectorStream", "DetectionCurves", "DEFAULT_FEATURES"]

#: Frame features of the detector: 40 log-mel bands, 40 ms window, 20 ms hop, 22.05 kHz.
DEFAULT_FEATURES = FeatureConfig(sr=22050, n_fft=1024, win_length=882, hop_length=441,
                                 kind="logmel", n_mels=40, fmin=50.0)

Recording = str | os.PathLike | np.ndarray


@dataclass
class DetectionCurves:
    """Everything a detector computes before deciding on events.

    Attributes
    ----------
    classes : list of str
    centres : np.ndarray
        Segment centre times (s).
    presence : np.ndarray
        ``(n_segments, C)`` mean P(positive) over each class's trees.
    grid : np.ndarray
        Times (s) of the vote grid.
    onset, offset : np.ndarray
        ``(n_grid, C)`` smoothed vote curves.
    duration : float
        Length of the recording (s).
    """

    classes: list[str]
    centres: np.ndarray
    presence: np.ndarray
    grid: np.ndarray
    onset: np.ndarray
    offset: np.ndarray
    duration: float


class EventDetector(Persistent, Estimator):
    """One :class:`CaRForest` per event class, decoding votes into events.

    Parameters
    ----------
    feature_config : FeatureConfig or None
        Frame features (default :data:`DEFAULT_FEATURES`).
    segment_config : SegmentConfig or None
        Segment features (default ``SegmentConfig()``).
    n_estimators, max_depth, min_samples_leaf, n_features_try, n_thresholds, max_samples,
    classification_depth, regression_purity
        Forest parameters (see :class:`CaRForest`).
    grid_step : float
        Spacing of the vote curves (s).
    sigma0 : float
        Minimum spread of a vote (s).
    p_min : float
        Leaves with a lower P(positive) cast no votes.
    smooth : float
        Standard deviation (s) of the Gaussian smoothing of the vote curves.
    onset_threshold : float
        Minimum vote mass (in segment votes) within ``peak_window`` of an onset peak.
    peak_window : float
        Half-width (s) of the window in which a peak's vote mass is counted.
    min_gap : float
        Minimum distance (s) between two onset peaks of a class.
    presence_threshold : float
        Minimum mean P(positive) over an event for it to be kept.
    duration_margin : float
        Plausible durations of a class are ``[min / margin, max * margin]`` of the
        training events' durations.
    random_state : int
        Seed; class ``j``'s forest uses ``random_state + j``.
    n_jobs : int or None
        Threads for tree building.

    Attributes
    ----------
    classes_ : list of str
    forests_ : list of CaRForest
    durations_ : np.ndarray
        ``(C, 2)`` plausible event durations (s) per class.
    feature_constants_ : FeatureConstants
        The window and mel filterbank the model was trained with (saved in its file).

    Examples
    --------
    >>> det = EventDetector(n_estimators=10).fit(["mix.wav"], [annotation])  # doctest: +SKIP
    >>> det.predict("other.wav")  # doctest: +SKIP
    EventList(12 events, labels=[...])
    """

    #: Range of the scores that detection thresholds apply to (P(present)).
    score_range: tuple[float, float] | None = (0.0, 1.0)

    def __init__(self, feature_config: FeatureConfig | None = None,
                 segment_config: SegmentConfig | None = None, n_estimators: int = 20,
                 max_depth: int = 14, min_samples_leaf: int = 5, n_features_try: int = 20,
                 n_thresholds: int = 4, max_samples: float = 0.5,
                 classification_depth: int | None = None, regression_purity: float = 0.7,
                 grid_step: float = 0.01, sigma0: float = 0.02, p_min: float = 0.5,
                 smooth: float = 0.02, onset_threshold: float = 3.0, peak_window: float = 0.1,
                 min_gap: float = 0.1, presence_threshold: float = 0.5,
                 duration_margin: float = 1.5, random_state: int = 0,
                 n_jobs: int | None = None) -> None:
        self.feature_config = feature_config
        self.segment_config = segment_config
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.min_samples_leaf = min_samples_leaf
        self.n_features_try = n_features_try
        self.n_thresholds = n_thresholds
        self.max_samples = max_samples
        self.classification_depth = classification_depth
        self.regression_purity = regression_purity
        self.grid_step = grid_step
        self.sigma0 = sigma0
        self.p_min = p_min
        self.smooth = smooth
        self.onset_threshold = onset_threshold
        self.peak_window = peak_window
        self.min_gap = min_gap
        self.presence_threshold = presence_threshold
        self.duration_margin = duration_margin
        self.random_state = random_state
        self.n_jobs = n_jobs

    # ------------------------------------------------------------------ features
    @property
    def fconfig(self) -> FeatureConfig:
        """The frame feature configuration in use."""
        return self.feature_config or DEFAULT_FEATURES

    @property
    def sconfig(self) -> SegmentConfig:
        """The segment configuration in use."""
        return self.segment_config or SegmentConfig()

    @property
    def constants(self) -> FeatureConstants:
        """The window and mel filterbank of the frame features: those stored with the
        fitted model, else librosa's (:meth:`FeatureConstants.compute`).

        Examples
        --------
        >>> EventDetector().constants.window.shape
        (1024,)
        """
        c = getattr(self, "feature_constants_", None)
        return c if c is not None else FeatureConstants.compute(self.fconfig)

    def frames(self, recording: Recording) -> np.ndarray:
        """Frame features of a recording (a path, or samples at ``fconfig.sr``)."""
        if isinstance(recording, np.ndarray):
            return extract(recording, self.fconfig, constants=self.constants)[0]
        return extract_file(recording, self.fconfig, constants=self.constants)[0]

    def segments(self, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Segment features and centre times from frame features."""
        X = segment_features(frames, self.sconfig)
        centres = self.fconfig.frame_times(len(frames))[:: self.sconfig.hop]
        return X, centres

    def _forest_params(self, j: int) -> dict[str, Any]:
        return {"n_estimators": self.n_estimators, "max_depth": self.max_depth,
                "min_samples_leaf": self.min_samples_leaf,
                "n_features_try": self.n_features_try, "n_thresholds": self.n_thresholds,
                "max_samples": self.max_samples,
                "classification_depth": self.classification_depth,
                "regression_purity": self.regression_purity,
                "random_state": int(self.random_state) + j, "n_jobs": self.n_jobs}

    # ------------------------------------------------------------------ training
    def fit(self, recordings: Sequence[Recording], annotations: Sequence[EventList],
            *, classes: Sequence[str] | None = None, progress: bool = False) -> EventDetector:
        """Train one forest per class.

        Parameters
        ----------
        recordings : sequence of path or np.ndarray
            Audio files, or samples at ``fconfig.sr``.
        annotations : sequence of EventList
            Events of each recording.
        classes : sequence of str or None
            Class list (default: every label in ``annotations``).
        progress : bool
            Show progress bars.

        Returns
        -------
        self
        """
        from tqdm import tqdm

        if len(recordings) != len(annotations):
            raise ValueError(f"{len(recordings)} recordings but {len(annotations)} annotations")
        frames = [self.frames(r) for r in tqdm(recordings, desc="features", disable=not progress)]
        return self.fit_frames(frames, annotations, classes=classes, progress=progress)

    def fit_frames(self, frames: Sequence[np.ndarray], annotations: Sequence[EventList], *,
                   classes: Sequence[str] | None = None, progress: bool = False
                   ) -> EventDetector:
        """:meth:`fit` from precomputed frame features (``self.frames(recording)``)."""
        from tqdm import tqdm

        if len(frames) != len(annotations):
            raise ValueError(f"{len(frames)} recordings but {len(annotations)} annotations")
        if not frames:
            raise ValueError("no training recordings")
        labels = sorted(set(classes) if classes is not None else
                        {lab for ev in annotations for lab in ev.labels})
        if not labels:
            raise ValueError("the annotations hold no labelled events")
        Xs, ys, Ds = [], [], []
        for F, ev in zip(frames, annotations):
            X, centres = self.segments(F)
            y, D = segment_targets(centres, ev, labels)
            Xs.append(X)
            ys.append(y)
            Ds.append(D)
        X = np.concatenate(Xs)
        Y = np.concatenate(ys)
        D = np.concatenate(Ds)
        self.classes_ = labels
        self.forests_ = []
        durs = np.zeros((len(labels), 2))
        for j, lab in enumerate(tqdm(labels, desc="forests", disable=not progress)):
            d = [e.duration for ev in annotations for e in ev if e.label == lab]
            if not d or not Y[:, j].any():
                raise ValueError(f"class {lab!r} has no training events")
            durs[j] = (min(d) / self.duration_margin, max(d) * self.duration_margin)
            forest = CaRForest(**self._forest_params(j))
            forest.fit(X, Y[:, j].astype(int), displacements=D[:, j])
            self.forests_.append(forest)
        self.durations_ = durs
        self.n_features_in_ = X.shape[1]
        self.feature_constants_ = self.constants
        return self

    # ------------------------------------------------------------------ inference
    def curves(self, recording: Recording) -> DetectionCurves:
        """Presence probabilities and smoothed vote curves of every class.

        Examples
        --------
        >>> c = det.curves("mix.wav")  # doctest: +SKIP
        >>> c.onset.shape  # doctest: +SKIP
        (12001, 11)
        """
        return self.curves_from_frames(self.frames(recording))

    def curves_from_frames(self, F: np.ndarray) -> DetectionCurves:
        """:meth:`curves` from precomputed frame features."""
        check_fitted(self, "forests_")
        duration = self._duration(len(F))
        X, centres = self.segments(F)
        return self._curves(X, centres, duration)

    def _curves(self, X: np.ndarray, centres: np.ndarray, duration: float) -> DetectionCurves:
        step = self.grid_step
        n_grid = self._n_grid(duration)
        C = len(self.classes_)
        onset = np.zeros((n_grid, C))
        offset = np.zeros((n_grid, C))
        presence = np.zeros((len(X), C))
        for j, forest in enumerate(self.forests_):
            if not len(X):
                continue
            leaves = forest.leaves(X)  # X comes from segment_features: float32, finite
            values = forest.trees_["values"]
            presence[:, j] = values[leaves, 0].mean(axis=1)
            on, off = accumulate_votes(leaves, values, centres, step=step, n_grid=n_grid,
                                       sigma0=self.sigma0, p_min=self.p_min)
            if self.smooth > 0:
                on = gaussian_filter1d(on, self.smooth / step, mode="constant")
                off = gaussian_filter1d(off, self.smooth / step, mode="constant")
            onset[:, j] = on
            offset[:, j] = off
        return DetectionCurves(list(self.classes_), centres, presence,
                               np.arange(n_grid) * step, onset, offset, duration)

    def decode(self, curves: DetectionCurves, *, filename: str | None = None,
               thresholds: float | Sequence[float] | None = None) -> EventList:
        """Events from vote curves: onset peaks, each paired with the best following
        offset within the class's plausible durations, kept when present enough (mean
        P(present) over the event at least the class's presence threshold:
        ``thresholds``, one for every class or one per class, else
        ``presence_threshold``).

        Examples
        --------
        >>> det.decode(det.curves("mix.wav"), filename="mix.wav")  # doctest: +SKIP
        >>> det.decode(det.curves("mix.wav"), thresholds=0.7)  # doctest: +SKIP
        """
        n_grid = len(curves.grid)
        pres_thr = self._presence_thresholds(thresholds)
        out: list[Event] = []
        for j in range(len(curves.classes)):
            if not len(curves.centres):
                continue
            pres = np.interp(curves.grid, curves.centres, curves.presence[:, j])
            # the streaming pairer fed the whole curves: offline and streaming decoding
            # are one implementation
            vp = self._pairer(j, pres_thr[j])
            found = vp.push(0, curves.onset[:, j], curves.offset[:, j], pres) + \
                vp.finish(n_grid)
            for a, b, c in found:
                e = self._event(j, a, b, c, filename, curves.duration)
                if e is not None:
                    out.append(e)
        return EventList(out)

    # ------------------------------------------------------------------ shared by the
    # offline decoder above and EventDetectorStream below
    def _duration(self, n_frames: int) -> float:
        """Seconds of audio covered by ``n_frames`` frames (0 for none)."""
        fc = self.fconfig
        return (n_frames - 1) * fc.hop_seconds + fc.frame_seconds if n_frames else 0.0

    def _n_grid(self, duration: float) -> int:
        """Bins of the vote grid for a recording of ``duration`` seconds."""
        return int(np.ceil(duration / self.grid_step)) + 1

    def _presence_thresholds(self, thresholds: float | Sequence[float] | None
                             ) -> np.ndarray:
        """Per-class presence thresholds: ``thresholds`` or ``presence_threshold``."""
        return per_class(self.presence_threshold if thresholds is None else thresholds,
                         len(self.classes_))

    def detection_thresholds(self, decoder: str = "votes") -> np.ndarray:
        """The per-class thresholds that ``thresholds`` of :meth:`stream` replace, as the
        model holds them: ``votes``: ``presence_threshold`` (the mean P(present) an
        event needs); ``hysteresis``: the opening threshold of the segments' P(present),
        :class:`~audioscene.decode.hysteresis.HysteresisDecoder`'s default (0.5).

        Examples
        --------
        >>> det.detection_thresholds().tolist()  # doctest: +SKIP
        [0.5, 0.5, ...]
        """
        check_fitted(self, "forests_")
        check_decoder(decoder)
        if decoder == "votes":
            return self._presence_thresholds(None)
        return HysteresisDecoder(self.classes_, hop=1.0).high.copy()

    def _pairer(self, j: int, presence_threshold: float) -> VotePairer:
        """A fresh :class:`~audioscene.decode.votes.VotePairer` for class ``j``."""
        step = self.grid_step
        lo, hi = self.durations_[j]
        return VotePairer(min_bins=max(1, int(lo / step)),
                          max_bins=max(1, int(np.ceil(hi / step))),
                          gap=max(1, int(round(self.min_gap / step))),
                          half=max(1, int(round(self.peak_window / step))),
                          onset_threshold=self.onset_threshold,
                          presence_threshold=presence_threshold)

    def _event(self, j: int, on_bin: int, off_bin: int, confidence: float,
               filename: str | None, duration: float | None = None) -> Event | None:
        """The event of class ``j`` between two grid bins (times rounded to the
        microsecond, the offset cut at ``duration``), or None when it is empty."""
        t0 = round(float(on_bin * self.grid_step), 6)  # grid times, without binary noise
        t1 = float(off_bin * self.grid_step)
        if duration is not None:
            t1 = min(t1, duration)
        t1 = round(t1, 6)
        if t1 <= t0:
            return None
        return Event(t0, t1, self.classes_[j], float(confidence), filename)

    def stream(self, *, filename: str | None = None, decoder: str = "votes",
               hysteresis: dict | None = None, threads: int | None = None,
               thresholds: float | Sequence[float] | None = None) -> EventDetectorStream:
        """A detection stream of this model (see :class:`EventDetectorStream`;
        ``thresholds`` as there).

        Examples
        --------
        >>> s = det.stream(filename="live")  # doctest: +SKIP
        >>> events = s.process(block) + s.flush()  # doctest: +SKIP
        """
        return EventDetectorStream(self, filename=filename, decoder=decoder,
                                   hysteresis=hysteresis, threads=threads,
                                   thresholds=thresholds)

    def predict(self, recording: Recording, *, filename: str | None = None) -> EventList:
        """Detect the events of one recording.

        Parameters
        ----------
        recording : path or np.ndarray
            Audio file, or samples at ``fconfig.sr``.
        filename : str or None
            Name given to the events (default: the file's name for a path).

        Returns
        -------
        EventList
            Events with a confidence (mean P(positive) over the event); events of one
            class never overlap, events of different classes may.

        Examples
        --------
        >>> det.predict("dev_1_ebr_0_nec_3_poly_1.flac")  # doctest: +SKIP
        """
        if filename is None and not isinstance(recording, np.ndarray):
            filename = Path(recording).name
        return self.decode(self.curves(recording), filename=filename)

    # ------------------------------------------------------------------ persistence
    def to_record(self) -> ModelRecord:
        """Parameters, classes, durations and every forest's arrays, for
        :func:`~audioscene.persist.save_record`.

        Examples
        --------
        >>> det.to_record().kind  # doctest: +SKIP
        'EventDetector'
        """
        check_fitted(self, "forests_")
        params = self.get_params()
        params["feature_config"] = self.fconfig.to_dict()
        params["segment_config"] = self.sconfig.to_dict()
        arrays = {f"{j}/{k}": v for j, f in enumerate(self.forests_)
                  for k, v in f.to_arrays().items()}
        arrays["features/window"] = self.constants.window
        if self.constants.mel is not None:
            arrays["features/mel"] = self.constants.mel
        return ModelRecord("EventDetector", params=params,
                           state={"classes": list(self.classes_),
                                  "durations": self.durations_.tolist(),
                                  "n_features_in": int(self.n_features_in_)},
                           arrays=arrays)

    @classmethod
    def from_record(cls, record: ModelRecord) -> EventDetector:
        """Inverse of :meth:`to_record`.

        Examples
        --------
        >>> EventDetector.from_record(det.to_record())  # doctest: +SKIP
        """
        params = dict(record.params)
        params["feature_config"] = FeatureConfig.from_dict(params["feature_config"])
        params["segment_config"] = SegmentConfig(**params["segment_config"])
        det = cls(**params)
        det.classes_ = [str(c) for c in record.state["classes"]]
        det.durations_ = np.asarray(record.state["durations"], dtype=np.float64)
        if det.durations_.shape != (len(det.classes_), 2):
            raise ValueError("durations do not match the classes")
        det.n_features_in_ = int(record.state["n_features_in"])
        if "features/window" in record.arrays:  # files written before carry none
            det.feature_constants_ = FeatureConstants(
                record.arrays["features/window"], record.arrays.get("features/mel")
            ).check(det.fconfig)
        det.forests_ = []
        for j in range(len(det.classes_)):
            sub = {k.split("/", 1)[1]: v for k, v in record.arrays.items()
                   if k.startswith(f"{j}/")}
            det.forests_.append(CaRForest.from_arrays(det._forest_params(j), sub))
        return det


class EventDetectorStream:
    """An :class:`EventDetector`'s detection stream: audio blocks in, final events out,
    in bounded memory.

    Its events equal those of :meth:`EventDetector.predict` (the tests check this for
    random block sizes on a real mixture): both add the same votes in the same order
    and decode with the same :class:`~audioscene.decode.votes.VotePairer`. Features
    (:class:`~audioscene.features.FeatureStream`) and segments
    (:class:`~audioscene.features.segments.SegmentStream`) are bit-identical to the
    offline ones; :class:`~audioscene.decode.votes.VoteCurves` and
    :class:`~audioscene.decode.votes.VotePairer` release curves and events once no later
    input can change them. Runtime state lives here, never in the model.

    Parameters
    ----------
    model : EventDetector
        A fitted detector (its runtime state is held here, never in the model).
    decoder : {"votes", "hysteresis"}
        ``votes``: the CaR-forest onset/offset votes (same events as
        ``model.predict``); ``hysteresis``: per-class hysteresis on the segments'
        P(positive) (parameters in ``hysteresis``).
    filename : str or None
        Name given to the events.
    hysteresis : dict or None
        :class:`~audioscene.decode.hysteresis.HysteresisDecoder` parameters (``high``,
        ``low``, ``median``, ``min_duration``, ``min_gap``).
    threads : int or None
        Threads applying the class forests to each block (``None``: one per core).
    thresholds : float, sequence of float or None
        Detection thresholds, one for every class or one per class (``None``: the
        model's, :meth:`EventDetector.detection_thresholds`). ``votes``: the presence
        threshold (an event is kept when its mean P(present) reaches it; as
        ``EventDetector.decode(..., thresholds=...)``); ``hysteresis``: the opening
        threshold ``high`` (then ``hysteresis`` must not hold one; ``low`` defaults to
        it).

    Examples
    --------
    >>> from audioscene.audio import blocks
    >>> sd = EventDetector.load("model").stream()  # doctest: +SKIP
    >>> for b in blocks("long.flac", sr=sd.sr):  # doctest: +SKIP
    ...     for e in sd.process(b.samples):
    ...         print(e)
    >>> sd.flush()  # doctest: +SKIP
    """

    def __init__(self, model: EventDetector, *, decoder: str = "votes",
                 filename: str | None = None, hysteresis: dict | None = None,
                 threads: int | None = None,
                 thresholds: float | Sequence[float] | None = None) -> None:
        check_fitted(model, "forests_")
        check_decoder(decoder)
        self.model = model
        self.decoder = decoder
        self.filename = filename
        self.fs = FeatureStream(model.fconfig, constants=model.constants)
        self.ss = SegmentStream(model.sconfig)
        fc, sc = model.fconfig, model.sconfig
        self.score_hop = fc.hop_seconds * sc.hop  # seconds between segments
        self.classes = list(model.classes_)
        votes = decoder == "votes"
        self.hyst_params = dict(hysteresis or {}) if votes else \
            with_thresholds(hysteresis, thresholds)
        # presence thresholds of the vote pairers
        self.presence = model._presence_thresholds(thresholds if votes else None)
        self._score_parts: list[FrameScores] = []
        workers = min(len(model.forests_), os.cpu_count() or 1) if threads is None else threads
        self._pool = ThreadPoolExecutor(max_workers=workers) if workers > 1 else None
        self.reset()

    @property
    def sr(self) -> int:
        """Sample rate the blocks must have."""
        return self.model.fconfig.sr

    @property
    def last_scores(self) -> FrameScores | None:
        """Segment centres and P(present) per class of the segments completed by the
        last :meth:`process` or :meth:`flush` call."""
        return FrameScores.join(self._score_parts)

    @property
    def latency(self) -> float:
        """Upper bound (seconds of audio) between an event's onset and its release by
        :meth:`process`: segment look-ahead, the longest vote reach back, the smoothing
        radius, the peak neighbourhood and the longest plausible duration."""
        m = self.model
        seg = (m.sconfig.lookahead + 1) * m.fconfig.hop_seconds + m.fconfig.frame_seconds
        if self.decoder == "hysteresis":
            h = self.hyst
            return seg + (h.median + h.min_gap + 1) * h.hop
        ctx = max(self.pairers[0].gap, self.pairers[0].half) if self.pairers else 0
        bins = self.curves.radius + ctx + 3
        return seg + self.score_hop + self.curves.back + bins * m.grid_step + \
            float(np.max(m.durations_[:, 1]))

    def reset(self, filename: str | None = None) -> None:
        """Start a new stream (optionally for another file name)."""
        m = self.model
        if filename is not None:
            self.filename = filename
        self.fs.reset()
        self.ss.reset()
        self.n_frames = 0
        self.n_segments = 0
        self.curves = VoteCurves([f.trees_["values"] for f in m.forests_], step=m.grid_step,
                                 sigma0=m.sigma0, p_min=m.p_min, smooth=m.smooth,
                                 segment_hop=self.score_hop)
        self.pairers = [m._pairer(j, self.presence[j]) for j in range(len(m.classes_))]
        first_centre = m.fconfig.frame_times(1)[0]
        self.hyst = HysteresisDecoder(m.classes_, hop=self.score_hop,
                                      offset=first_centre - self.score_hop / 2,
                                      filename=self.filename, **self.hyst_params)

    def _segments(self, X: np.ndarray) -> EventList:
        m = self.model
        fc = m.fconfig
        n = len(X)
        # the same arithmetic as fc.frame_times(...)[::hop] offline
        idx = (self.n_segments + np.arange(n, dtype=np.float64)) * m.sconfig.hop
        centres = (idx * fc.hop_length + fc.n_fft / 2) / fc.sr
        self.n_segments += n
        pres = np.zeros((n, len(m.classes_)))
        votes = self.decoder == "votes"
        if n:
            if votes:
                self.curves.prepare(centres)

            def run(j: int) -> np.ndarray:
                # one class per thread (the kernels release the GIL): leaves, presence
                # and votes of this block
                f = m.forests_[j]
                lv = f.leaves(X)
                if votes:
                    self.curves.add(j, centres, lv)
                return f.trees_["values"][lv, 0].mean(axis=1)

            idx = range(len(m.forests_))
            done = list(self._pool.map(run, idx)) if self._pool is not None \
                else [run(j) for j in idx]
            for j, p in enumerate(done):
                pres[:, j] = p
        self._score_parts.append(FrameScores(centres, pres))
        if self.decoder == "hysteresis":
            return self.hyst.process(pres) if n else EventList()
        first, on, off, pr = self.curves.push(centres, None, pres)
        return self._pair(first, on, off, pr, None)

    def _pair(self, first: int, on: np.ndarray, off: np.ndarray, pr: np.ndarray,
              n_grid: int | None, duration: float | None = None) -> EventList:
        m = self.model
        out = []
        for j, vp in enumerate(self.pairers):
            res = vp.push(first, on[:, j], off[:, j], pr[:, j]) if n_grid is None else \
                vp.push(first, on[:, j], off[:, j], pr[:, j]) + vp.finish(n_grid)
            for a, b, c in res:
                e = m._event(j, a, b, c, self.filename, duration)
                if e is not None:
                    out.append(e)
        return EventList(out)

    def process(self, block: np.ndarray) -> EventList:
        """Feed the next samples (at :attr:`sr`); return the events now final.

        Examples
        --------
        >>> sd.process(np.zeros(22050, np.float32))  # doctest: +SKIP
        EventList(0 events, labels=[])
        """
        self._score_parts = []
        frames, _ = self.fs.process(block)
        self.n_frames += len(frames)
        return self._segments(self.ss.process(frames))

    def flush(self) -> EventList:
        """End of stream: return the remaining events.

        Examples
        --------
        >>> sd.flush()  # doctest: +SKIP
        """
        self._score_parts = []
        frames, _ = self.fs.flush()
        self.n_frames += len(frames)
        events = self._segments(self.ss.process(frames)) if len(frames) else EventList()
        events = events + self._segments(self.ss.flush())
        if self.decoder == "hysteresis":
            return events + self.hyst.flush()
        m = self.model
        duration = m._duration(self.n_frames)
        n_grid = m._n_grid(duration)
        if not self.n_frames:
            return events
        first, on, off, pr = self.curves.finish(n_grid)
        return events + self._pair(first, on, off, pr, n_grid, duration)
