"""Fusion of the two detection back-ends, streaming like each of them.

Rule: for every class and 20 ms frame, the fused score is

    s = weight * p_cnn + (1 - weight) * p_car

where ``p_cnn`` is the :class:`~audioscene.models.CNNEventDetector`'s posterior of the
frame and ``p_car`` the CaR-forest's presence at the segment centred on the frame (the
mean P(positive) over the class's trees, :attr:`DetectionCurves.presence`). The fused
scores are decoded like the CNN's posteriors: class competition (``competition``, off
by default), median filter, per-class hysteresis (open at the class threshold, close at
``low_ratio`` x it), minimum length and gap. The
weight and the per-class thresholds are chosen on validation recordings only
(:meth:`FusionEventDetector.tune`).

Both detectors must read the same frames (one feature configuration, the same stored
window and filterbank) and the CaR-forest
must score every frame (segment hop 1), so that the two score sequences share one time
grid.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..decode.base import FrameScores, check_decoder
from ..decode.hysteresis import HysteresisDecoder, with_thresholds
from ..estimator import Estimator, check_fitted
from ..events import EventList
from ..features.config import FeatureConfig
from ..persist import ModelRecord, Persistent
from .cnn_detector import CNNEventDetector, frame_decoder, tune_class_thresholds
from .event_detector import EventDetector

__all__ = ["FusionEventDetector", "FusionEventDetectorStream"]

Recording = str | os.PathLike | np.ndarray


class FusionEventDetector(Persistent, Estimator):
    """A CaR-forest and a CNN detector whose frame scores are averaged with a weight and
    decoded by per-class hysteresis (see the module docstring for the rule).

    Parameters
    ----------
    carforest : EventDetector
        A fitted CaR-forest detector (segment hop 1).
    cnn : CNNEventDetector
        A fitted CNN detector with the same feature configuration.
    weight : float
        Weight of the CNN's posteriors (``1 - weight`` for the CaR-forest's presence).
    threshold, low_ratio, median, min_duration, min_gap, competition
        Decoding, as in :class:`~audioscene.models.CNNEventDetector` (``threshold``
        holds for every class until :meth:`tune` sets per-class ones).

    Attributes
    ----------
    classes_ : list of str
    thresholds_ : np.ndarray

    Examples
    --------
    >>> fused = FusionEventDetector(carforest=car, cnn=cnn).fit()  # doctest: +SKIP
    >>> fused.tune(F_val, ann_val, durations, [0.25, 0.5, 0.75], [0.3, 0.5])  # doctest: +SKIP
    >>> fused.predict("mix.wav")  # doctest: +SKIP
    """

    #: Range of the scores that detection thresholds apply to (weighted means of two
    #: probabilities).
    score_range: tuple[float, float] | None = (0.0, 1.0)

    def __init__(self, carforest: EventDetector | None = None,
                 cnn: CNNEventDetector | None = None, *, weight: float = 0.5,
                 threshold: float = 0.5, low_ratio: float = 0.6, median: int = 5,
                 min_duration: float = 0.06, min_gap: float = 0.1,
                 competition: float = 0.0) -> None:
        self.carforest = carforest
        self.cnn = cnn
        self.weight = weight
        self.threshold = threshold
        self.low_ratio = low_ratio
        self.median = median
        self.min_duration = min_duration
        self.min_gap = min_gap
        self.competition = competition

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The parameters (the two detectors are returned as they are, never expanded).

        Examples
        --------
        >>> sorted(FusionEventDetector().get_params())[:3]
        ['carforest', 'cnn', 'competition']
        """
        return super().get_params(deep=False)

    def fit(self) -> FusionEventDetector:
        """Check that the two fitted detectors can be fused (same classes, same frames,
        a CaR-forest score for every frame) and set every class's threshold to
        ``threshold``.

        Returns
        -------
        self

        Examples
        --------
        >>> FusionEventDetector(carforest=car, cnn=cnn).fit().classes_  # doctest: +SKIP
        """
        car, cnn = self.carforest, self.cnn
        if not isinstance(car, EventDetector) or not isinstance(cnn, CNNEventDetector):
            raise TypeError("carforest must be an EventDetector and cnn a CNNEventDetector")
        check_fitted(car, "forests_")
        check_fitted(cnn, "network_")
        if list(car.classes_) != list(cnn.classes_):
            raise ValueError(f"the detectors have different classes: {car.classes_} and "
                             f"{cnn.classes_}")
        if car.fconfig != cnn.fconfig or any(
                (a is None) != (b is None) or (a is not None and not np.array_equal(a, b))
                for a, b in ((car.constants.window, cnn.constants.window),
                             (car.constants.mel, cnn.constants.mel))):
            raise ValueError("the detectors read different frame features")
        if car.sconfig.hop != 1:
            raise ValueError("the CaR-forest must score every frame (segment hop 1)")
        if not 0.0 <= self.weight <= 1.0:
            raise ValueError(f"weight must be in [0, 1], got {self.weight}")
        self.classes_ = list(cnn.classes_)
        self.thresholds_ = np.full(len(self.classes_), float(self.threshold))
        return self

    @property
    def fconfig(self) -> FeatureConfig:
        """The frame features both detectors read.

        Examples
        --------
        >>> fused.fconfig.hop_length  # doctest: +SKIP
        441
        """
        return self.cnn.fconfig

    def frames(self, recording: Recording) -> np.ndarray:
        """Frame features of a recording (a path, or samples at ``fconfig.sr``).

        Examples
        --------
        >>> fused.frames("mix.wav").shape  # doctest: +SKIP
        (5998, 40)
        """
        return self.cnn.frames(recording)

    def fuse(self, p_cnn: np.ndarray, p_car: np.ndarray, weight: float | None = None
             ) -> np.ndarray:
        """The fusion rule: ``weight * p_cnn + (1 - weight) * p_car`` (``weight``: the
        model's unless given).

        Examples
        --------
        >>> FusionEventDetector(weight=0.75).fuse(np.ones((1, 2)), np.zeros((1, 2)))
        array([[0.75, 0.75]])
        """
        w = self.weight if weight is None else weight
        return w * p_cnn + (1.0 - w) * p_car

    def scores(self, frames: np.ndarray, weight: float | None = None) -> np.ndarray:
        """Fused scores ``(n_frames, C)`` of one recording's frame features.

        Examples
        --------
        >>> fused.scores(fused.frames("mix.wav")).shape  # doctest: +SKIP
        (5998, 11)
        """
        check_fitted(self, "thresholds_")
        return self.fuse(self.cnn.posteriors(frames),
                         self.carforest.curves_from_frames(frames).presence, weight)

    def decoder(self, *, filename: str | None = None, **overrides: Any) -> HysteresisDecoder:
        """The hysteresis decoder of the fused scores (per-class thresholds), with
        ``overrides`` (``high``, ``low``, ``median``, ``min_duration``, ``min_gap``,
        ``competition``).

        Examples
        --------
        >>> fused.decoder().median  # doctest: +SKIP
        5
        """
        check_fitted(self, "thresholds_")
        return frame_decoder(self, filename=filename, **overrides)

    def decode(self, scores: np.ndarray, *, filename: str | None = None,
               **overrides: Any) -> EventList:
        """Events of one recording's fused scores.

        Examples
        --------
        >>> fused.decode(fused.scores(F))  # doctest: +SKIP
        """
        hd = self.decoder(filename=filename, **overrides)
        return hd.process(scores) + hd.flush()

    def predict(self, recording: Recording, *, filename: str | None = None) -> EventList:
        """Events of a recording: :meth:`decode` of :meth:`scores`.

        Examples
        --------
        >>> fused.predict("mix.wav")  # doctest: +SKIP
        """
        if filename is None and not isinstance(recording, np.ndarray):
            filename = Path(recording).name
        return self.decode(self.scores(self.frames(recording)), filename=filename)

    def tune(self, frames: Sequence[np.ndarray], annotations: Sequence[EventList],
             durations: Sequence[float], weights: Sequence[float],
             grid: Sequence[float]) -> dict[str, Any]:
        """Choose the weight and the per-class thresholds on validation recordings: for
        each weight, each class's best threshold of ``grid`` (event-based onset F1 of the
        class); the weight whose chosen thresholds give the best mean of those class F1
        values (ties: the first weight).

        At weight 1 the fused scores are the CNN's posteriors, so with the CNN's decoding
        settings that candidate gets the thresholds
        :meth:`CNNEventDetector.tune_thresholds` chooses on the same recordings and grid,
        and the CNN's events: with 1 among ``weights``, the chosen weight's mean class F1
        on these recordings is at least the CNN's with thresholds tuned on the same
        recordings and grid.

        Parameters
        ----------
        frames : sequence of np.ndarray
            Frame features of the validation recordings.
        annotations : sequence of EventList
            Their events.
        durations : sequence of float
            Their lengths (s).
        weights, grid : sequence of float
            Candidate weights and thresholds.

        Returns
        -------
        dict
            ``weight``, ``thresholds`` (class -> value) and ``mean_f1`` (weight -> the
            mean class onset F1 its thresholds reach on these recordings; float keys,
            which JSON writes as strings).

        Examples
        --------
        >>> fused.tune(F_val, ann_val, [60.0] * 24, [0.25, 0.5, 0.75], [0.3, 0.5])  # doctest: +SKIP
        """
        check_fitted(self, "thresholds_")
        p_cnn = [self.cnn.posteriors(F) for F in frames]
        p_car = [self.carforest.curves_from_frames(F).presence for F in frames]
        best: tuple[float, float, np.ndarray] | None = None
        mean_f1: dict[float, float] = {}
        for w in weights:
            fused = [self.fuse(a, b, w) for a, b in zip(p_cnn, p_car)]
            thr, f1 = tune_class_thresholds(
                lambda S, name, high: self.decode(S, filename=name, high=high),
                fused, annotations, durations, grid, self.classes_)
            score = float(np.mean(f1))
            mean_f1[float(w)] = score
            if best is None or score > best[0]:
                best = (score, float(w), thr)
        assert best is not None
        self.weight, self.thresholds_ = best[1], best[2]
        return {"weight": self.weight,
                "thresholds": dict(zip(self.classes_, self.thresholds_.tolist())),
                "mean_f1": mean_f1}

    def detection_thresholds(self, decoder: str = "votes") -> np.ndarray:
        """The per-class opening thresholds that ``thresholds`` of :meth:`stream`
        replace (a copy of ``thresholds_``; ``decoder`` as in :meth:`stream`).

        Examples
        --------
        >>> fused.detection_thresholds().tolist()  # doctest: +SKIP
        [0.2, 0.4, ...]
        """
        check_fitted(self, "thresholds_")
        check_decoder(decoder)
        return np.array(self.thresholds_, dtype=np.float64)

    def stream(self, *, filename: str | None = None, decoder: str = "votes",
               hysteresis: dict | None = None, threads: int | None = None,
               thresholds: float | Sequence[float] | None = None
               ) -> FusionEventDetectorStream:
        """A detection stream (the :class:`~audioscene.decode.base.DetectorStream`
        interface); ``decoder`` is accepted for the runners' sake (this model always
        decodes its fused scores by hysteresis, ``hysteresis`` overriding its settings);
        ``thresholds`` (one for every class or one per class) replace the opening
        thresholds ``thresholds_`` (closing at ``low_ratio`` x them unless
        ``hysteresis`` gives ``low``), as ``decode(..., high=thresholds)`` does offline.

        Examples
        --------
        >>> s = fused.stream(filename="live")  # doctest: +SKIP
        """
        check_decoder(decoder)
        return FusionEventDetectorStream(self, filename=filename,
                                         hysteresis=with_thresholds(hysteresis, thresholds),
                                         threads=threads)

    # ------------------------------------------------------------------ persistence
    def to_record(self) -> ModelRecord:
        """Parameters, thresholds and the two detectors as child records.

        Examples
        --------
        >>> fused.to_record().kind  # doctest: +SKIP
        'FusionEventDetector'
        """
        check_fitted(self, "thresholds_")
        params = {k: v for k, v in self.get_params().items() if k not in ("carforest", "cnn")}
        return ModelRecord("FusionEventDetector", params=params,
                           state={"classes": list(self.classes_)},
                           arrays={"thresholds": np.asarray(self.thresholds_, np.float64)},
                           children={"carforest": self.carforest.to_record(),
                                     "cnn": self.cnn.to_record()})

    @classmethod
    def from_record(cls, record: ModelRecord) -> FusionEventDetector:
        """Inverse of :meth:`to_record`.

        Examples
        --------
        >>> FusionEventDetector.from_record(fused.to_record())  # doctest: +SKIP
        """
        car = EventDetector.from_record(record.children["carforest"])
        cnn = CNNEventDetector.from_record(record.children["cnn"])
        f = cls(carforest=car, cnn=cnn, **record.params).fit()
        if list(record.state["classes"]) != f.classes_:
            raise ValueError("classes do not match the detectors'")
        thr = np.asarray(record.arrays["thresholds"], np.float64)
        if thr.shape != (len(f.classes_),):
            raise ValueError("thresholds do not match the classes")
        f.thresholds_ = thr
        return f


class FusionEventDetectorStream:
    """Streaming fusion: the CaR-forest's and the CNN's streams fed the same blocks, their
    frame scores joined on the shared frame grid as both become available, fused and
    decoded. Equal to :meth:`FusionEventDetector.predict` (each part stream equals its
    offline scores exactly, and the fusion is the same arithmetic on the same values).

    Examples
    --------
    >>> s = fused.stream()  # doctest: +SKIP
    >>> events = s.process(block) + s.flush()  # doctest: +SKIP
    """

    def __init__(self, model: FusionEventDetector, *, filename: str | None = None,
                 hysteresis: dict | None = None, threads: int | None = None) -> None:
        check_fitted(model, "thresholds_")
        self.model = model
        self.car = model.carforest.stream(decoder="votes", threads=threads)
        self.cnn = model.cnn.stream()
        self.classes = list(model.classes_)
        self.sr = model.fconfig.sr
        self.score_hop = model.fconfig.hop_seconds
        self.hyst_params = dict(hysteresis or {})
        self.reset(filename)

    @property
    def latency(self) -> float:
        """Upper bound (s of audio) between an event's end and its release: the slower
        of the two score streams' delays plus the decoder's (median filter, minimum gap).

        Examples
        --------
        >>> round(fused.stream().latency, 3)  # doctest: +SKIP
        3.446
        """
        m = self.model
        seg = (m.carforest.sconfig.lookahead + 1) * self.score_hop + m.fconfig.frame_seconds
        cnn = (self.cnn.W + self.cnn.R) * self.score_hop + m.fconfig.frame_seconds
        return max(seg, cnn) + (self.hd.median + self.hd.min_gap + 1) * self.score_hop

    @property
    def last_scores(self) -> FrameScores | None:
        """Fused scores completed by the last ``process``/``flush`` call.

        Examples
        --------
        >>> s = fused.stream(); _ = s.process(block); s.last_scores  # doctest: +SKIP
        """
        return FrameScores.join(self._parts)

    def reset(self, filename: str | None = None) -> None:
        """Start a new stream (optionally for another file name).

        Examples
        --------
        >>> s.reset("next.wav")  # doctest: +SKIP
        """
        if filename is not None or not hasattr(self, "filename"):
            self.filename = filename
        self.car.reset()
        self.cnn.reset()
        self.hd = self.model.decoder(filename=self.filename, **self.hyst_params)
        C = len(self.classes)
        self.p_car = np.zeros((0, C))
        self.p_cnn = np.zeros((0, C))
        self.done = 0
        self._parts: list[FrameScores] = []

    def _collect(self) -> EventList:
        for part, stream in (("p_car", self.car), ("p_cnn", self.cnn)):
            s = stream.last_scores
            if s is not None and len(s.scores):
                setattr(self, part, np.concatenate([getattr(self, part), s.scores]))
        n = min(len(self.p_car), len(self.p_cnn))
        if n == 0:
            return EventList()
        S = self.model.fuse(self.p_cnn[:n], self.p_car[:n])
        self.p_car, self.p_cnn = self.p_car[n:], self.p_cnn[n:]
        self._parts.append(FrameScores(self.model.fconfig.frame_times(n, self.done), S))
        self.done += n
        return self.hd.process(S)

    def process(self, block: np.ndarray) -> EventList:
        """Feed the next samples; return the events now final.

        Examples
        --------
        >>> fused.stream().process(np.zeros(22050, np.float32))  # doctest: +SKIP
        EventList(0 events)
        """
        self._parts = []
        self.car.process(block)
        self.cnn.process(block)
        return self._collect()

    def flush(self) -> EventList:
        """End of stream: the remaining fused scores and events.

        Examples
        --------
        >>> fused.stream().flush()  # doctest: +SKIP
        EventList(0 events)
        """
        self._parts = []
        self.car.flush()
        self.cnn.flush()
        return self._collect() + self.hd.flush()
