"""CNN detection back-end: frame-level class posteriors from an all-convolutional
network (:class:`~audioscene.models.nets.FrameCNN`), decoded by per-class hysteresis.

The network sees log-mel frames (the CaR-forest's features by default: 40 bands, 20 ms
hop) and gives one posterior per class and frame, so events of different classes may
overlap. It is trained on recordings with frame targets (:func:`frame_targets`: a frame
is active for a class when its centre lies inside an event of that class) by binary
cross-entropy, the epoch chosen by the loss on validation recordings; the per-class
thresholds are chosen on validation recordings only (:meth:`CNNEventDetector.
tune_thresholds`). Training batches may be augmented (``freq_masks``: SpecAugment-style
frequency masks; ``mixup``: pairs of crops and their targets blended); both are off by
default.

Offline prediction is the stream fed everything. The stream runs the network on windows
of ``chunk_frames`` output frames at fixed absolute positions (plus the receptive radius
of context on each side, the first and last frames repeated beyond the signal's ends),
so every frame's posterior comes from the same computation whatever the block sizes, and
the stream and offline give the same posteriors and events exactly.
"""

from __future__ import annotations

import copy
import math
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ..decode.base import FrameScores, check_decoder
from ..decode.hysteresis import HysteresisDecoder, with_thresholds
from ..estimator import Estimator, check_fitted
from ..events import EventList
from ..features.config import FeatureConfig
from ..features.core import FeatureConstants, FeatureStream, extract, extract_file
from ..persist import ModelRecord, Persistent
from .nets import FrameCNN, load_network_arrays, network_arrays

__all__ = ["CNNEventDetector", "CNNEventDetectorStream", "frame_targets", "frame_decoder",
           "tune_class_thresholds",
           "DEFAULT_FEATURES"]

#: The CaR-forest's frame features: 40 log-mel bands, 40 ms window, 20 ms hop, 22.05 kHz.
DEFAULT_FEATURES = FeatureConfig(sr=22050, n_fft=1024, win_length=882, hop_length=441,
                                 kind="logmel", n_mels=40, fmin=50.0)

Recording = str | os.PathLike | np.ndarray


def frame_targets(times: np.ndarray, events: EventList, classes: Sequence[str]) -> np.ndarray:
    """Frame targets ``(n_frames, C)`` (float32 0/1): frame ``i`` is active for a class
    when its centre ``times[i]`` lies in ``[onset, offset)`` of an event of the class.

    Parameters
    ----------
    times : np.ndarray
        Frame centre times (s).
    events : EventList
        The recording's annotation (labels outside ``classes`` are ignored).
    classes : sequence of str
        Column order.

    Returns
    -------
    np.ndarray

    Examples
    --------
    >>> from audioscene.events import Event
    >>> frame_targets(np.array([0.01, 0.03, 0.05]), EventList([Event(0.02, 0.05, "a")]),
    ...               ["a"])[:, 0].tolist()
    [0.0, 1.0, 0.0]
    """
    t = np.asarray(times, dtype=np.float64)
    Y = np.zeros((len(t), len(classes)), np.float32)
    col = {c: j for j, c in enumerate(classes)}
    for e in events:
        j = col.get(e.label)  # type: ignore[arg-type]
        if j is not None:
            Y[(t >= e.onset) & (t < e.offset), j] = 1.0
    return Y


def frame_decoder(model: Any, *, filename: str | None = None, **overrides: Any
                  ) -> HysteresisDecoder:
    """The hysteresis decoder of a frame-scoring detector (the CNN or the fusion): its
    classes and per-class ``thresholds_`` (closing at ``low_ratio`` x them), its
    ``median``, ``min_duration``, ``min_gap`` and ``competition``, frames of ``fconfig``'s
    hop starting half a hop before the first frame's centre; ``overrides`` replace any of
    ``high``, ``low``, ``median``, ``min_duration``, ``min_gap``, ``competition``.

    Examples
    --------
    >>> frame_decoder(det, high=0.7).high.tolist()  # doctest: +SKIP
    [0.7, 0.7, ...]
    """
    cfg = model.fconfig
    hop = cfg.hop_seconds
    high = overrides.pop("high", model.thresholds_)
    low = overrides.pop("low", model.low_ratio * np.asarray(high, np.float64))
    params = {"median": model.median, "min_duration": model.min_duration,
              "min_gap": model.min_gap, "competition": model.competition, **overrides}
    t0 = float(cfg.frame_times(1)[0]) - hop / 2
    return HysteresisDecoder(model.classes_, hop=hop, high=high, low=low,
                             offset=round(t0, 9), filename=filename, **params)


def tune_class_thresholds(decode: Any, scores: Sequence[np.ndarray],
                          annotations: Sequence[EventList], durations: Sequence[float],
                          grid: Sequence[float], classes: Sequence[str]
                          ) -> tuple[np.ndarray, np.ndarray]:
    """Each class's best threshold of ``grid`` on validation recordings: the one with the
    best event-based onset F1 of that class (sed_eval, 200 ms collar), ties going to the
    one that comes first in ``grid``. Every threshold is applied to every class at once, so the search
    costs one evaluation per value of ``grid``.

    Parameters
    ----------
    decode : callable
        ``decode(scores, filename, high)`` -> EventList of one recording at threshold
        ``high``.
    scores : sequence of np.ndarray
        Frame scores of each validation recording.
    annotations : sequence of EventList
        Their events.
    durations : sequence of float
        Their lengths (s).
    grid : sequence of float
        Candidate thresholds.
    classes : sequence of str
        Classes, in score column order.

    Returns
    -------
    thresholds : np.ndarray
        ``(C,)`` chosen thresholds.
    f1 : np.ndarray
        ``(C,)`` each class's onset F1 at its chosen threshold.

    Examples
    --------
    >>> from audioscene.events import Event
    >>> from audioscene.decode import hysteresis_events
    >>> S = np.zeros((100, 1)); S[20:40] = 0.6; S[60:70] = 0.3
    >>> dec = lambda s, name, high: hysteresis_events(s, ["a"], hop=0.1, high=high,
    ...                                               filename=name)
    >>> ref = EventList([Event(2.0, 4.0, "a")])
    >>> tune_class_thresholds(dec, [S], [ref], [10.0], [0.2, 0.5], ["a"])[0].tolist()
    [0.5]
    """
    from ..evaluate import sed_metrics

    names = [f"val{i:04d}" for i in range(len(scores))]
    ref = EventList([e for n, ev in zip(names, annotations) for e in ev.with_filename(n)])
    dur = dict(zip(names, durations))
    f1 = np.zeros((len(grid), len(classes)))
    for g, thr in enumerate(grid):
        est = EventList([e for n, S in zip(names, scores) for e in decode(S, n, float(thr))])
        res = sed_metrics(ref, est, durations=dur, labels=list(classes))
        f1[g] = [res.event_onset.class_wise[c].f1 or 0.0 for c in classes]
    best = np.argmax(f1, axis=0)  # the first of equal scores
    return (np.asarray([float(grid[b]) for b in best]),
            f1[best, np.arange(len(classes))])


class CNNEventDetector(Persistent, Estimator):
    """Frame-level CNN event detector with per-class hysteresis thresholds.

    Parameters
    ----------
    feature_config : FeatureConfig or None
        Frame features (default :data:`DEFAULT_FEATURES`).
    channels, dilations : sequence of int
        The network's blocks (see :class:`~audioscene.models.nets.FrameCNN`).
    dropout : float
        Dropout before the output layer.
    max_epochs : int
        Training epochs (each reads every training frame at least once: each recording
        cut into crops at a random phase, its last crop overlapping the one before).
    patience : int
        Stop after this many epochs without a lower validation loss.
    batch_size : int
        Crops per batch.
    crop_frames : int
        Output frames per training crop.
    lr, weight_decay : float
        AdamW settings.
    threshold : float
        Opening threshold of every class until :meth:`tune_thresholds` sets per-class ones.
    low_ratio : float
        Closing threshold = ``low_ratio`` x opening threshold.
    median : int
        Median filter of the posteriors (odd, frames).
    min_duration, min_gap : float
        Shortest event kept, shortest gap kept (s).
    competition : float
        Class competition of the posteriors before decoding (each frame's
        :func:`~audioscene.decode.hysteresis.class_competition`; 0: none).
    chunk_frames : int
        Output frames per network window when detecting.
    freq_masks : int
        SpecAugment-style frequency masks per training crop: each sets a random run of
        0 to ``n_features // 8`` bands to 0 (the training mean after standardisation)
        over the whole crop, context included; 0 disables them.
    mixup : float
        Beta(mixup, mixup) blending of pairs of training crops and of their frame
        targets (the same weight for both); 0 disables it.
    random_state : int
        Seed of the initial weights and crop order.
    progress : bool
        Show progress bars.

    Attributes
    ----------
    classes_ : list of str
    network_ : FrameCNN
    mean_, scale_ : np.ndarray
        Feature standardisation (per band).
    thresholds_ : np.ndarray
        Per-class opening thresholds.
    feature_constants_ : FeatureConstants
    history_ : list of dict
        Per epoch: training and validation loss, seconds.
    best_epoch_ : int

    Examples
    --------
    >>> det = CNNEventDetector(max_epochs=5).fit(["mix.wav"], [annotation])  # doctest: +SKIP
    >>> det.predict("other.wav")  # doctest: +SKIP
    EventList(9 events, labels=[...])
    """

    #: Range of the scores that detection thresholds apply to (posteriors).
    score_range: tuple[float, float] | None = (0.0, 1.0)

    def __init__(self, feature_config: FeatureConfig | None = None, *,
                 channels: Sequence[int] = (16, 32, 32, 64, 64),
                 dilations: Sequence[int] = (1, 2, 4, 8, 16), dropout: float = 0.1,
                 max_epochs: int = 20, patience: int = 5, batch_size: int = 16,
                 crop_frames: int = 256, lr: float = 2e-3, weight_decay: float = 1e-4,
                 threshold: float = 0.5, low_ratio: float = 0.6, median: int = 5,
                 min_duration: float = 0.06, min_gap: float = 0.1, competition: float = 0.0,
                 chunk_frames: int = 128, freq_masks: int = 0, mixup: float = 0.0,
                 random_state: int = 0, progress: bool = False) -> None:
        self.feature_config = feature_config
        self.channels = channels
        self.dilations = dilations
        self.dropout = dropout
        self.max_epochs = max_epochs
        self.patience = patience
        self.batch_size = batch_size
        self.crop_frames = crop_frames
        self.lr = lr
        self.weight_decay = weight_decay
        self.threshold = threshold
        self.low_ratio = low_ratio
        self.median = median
        self.min_duration = min_duration
        self.min_gap = min_gap
        self.competition = competition
        self.chunk_frames = chunk_frames
        self.freq_masks = freq_masks
        self.mixup = mixup
        self.random_state = random_state
        self.progress = progress

    # ------------------------------------------------------------------ features
    @property
    def fconfig(self) -> FeatureConfig:
        """The frame feature configuration in use.

        Examples
        --------
        >>> CNNEventDetector().fconfig.n_mels
        40
        """
        return self.feature_config or DEFAULT_FEATURES

    @property
    def constants(self) -> FeatureConstants:
        """The window and mel filterbank: those stored with the fitted model, else
        librosa's.

        Examples
        --------
        >>> CNNEventDetector().constants.mel.shape
        (40, 513)
        """
        c = getattr(self, "feature_constants_", None)
        return c if c is not None else FeatureConstants.compute(self.fconfig)

    def frames(self, recording: Recording) -> np.ndarray:
        """Frame features of a recording (a path, or samples at ``fconfig.sr``).

        Examples
        --------
        >>> CNNEventDetector().frames(np.zeros(22050, np.float32)).shape
        (48, 40)
        """
        if isinstance(recording, np.ndarray):
            return extract(recording, self.fconfig, constants=self.constants)[0]
        return extract_file(recording, self.fconfig, constants=self.constants)[0]

    def _new_network(self, n_classes: int, n_features: int) -> FrameCNN:
        return FrameCNN(n_classes, n_features, channels=tuple(self.channels),
                        dilations=tuple(self.dilations), dropout=self.dropout)

    # ------------------------------------------------------------------ training
    def fit(self, recordings: Sequence[Recording], annotations: Sequence[EventList], *,
            validation: tuple[Sequence[Recording], Sequence[EventList]] | None = None,
            classes: Sequence[str] | None = None) -> CNNEventDetector:
        """Train on recordings (paths or samples at ``fconfig.sr``) and their events.

        Parameters
        ----------
        recordings, annotations : sequence
            Training material.
        validation : (recordings, annotations) or None
            Material that chooses the epoch (``None``: the last epoch is kept).
        classes : sequence of str or None
            Class order (default: every label in ``annotations``, sorted).

        Returns
        -------
        self

        Examples
        --------
        >>> det = CNNEventDetector(max_epochs=5).fit(["a.wav"], [ann])  # doctest: +SKIP
        """
        val = None
        if validation is not None:
            val = ([self.frames(r) for r in validation[0]], list(validation[1]))
        return self.fit_frames([self.frames(r) for r in recordings], annotations,
                               validation=val, classes=classes)

    def fit_frames(self, frames: Sequence[np.ndarray], annotations: Sequence[EventList], *,
                   validation: tuple[Sequence[np.ndarray], Sequence[EventList]] | None = None,
                   classes: Sequence[str] | None = None) -> CNNEventDetector:
        """:meth:`fit` from frame features (``self.frames(recording)``).

        Parameters
        ----------
        frames : sequence of np.ndarray
            ``(n_frames, n_features)`` per training recording.
        annotations : sequence of EventList
            Their events.
        validation : (frames, annotations) or None
            Validation material that chooses the epoch.
        classes : sequence of str or None
            Class order (default: every label in ``annotations``, sorted).

        Returns
        -------
        self

        Examples
        --------
        >>> det.fit_frames([F], [annotation])  # doctest: +SKIP
        """
        from tqdm import tqdm

        if len(frames) != len(annotations) or not len(frames):
            raise ValueError(f"{len(frames)} recordings but {len(annotations)} annotations")
        labels = sorted(set(classes) if classes is not None else
                        {lab for ev in annotations for lab in ev.labels})
        if not labels:
            raise ValueError("the annotations hold no labelled events")
        n_feat = self.fconfig.n_features
        for i, Fm in enumerate(frames):
            if Fm.ndim != 2 or Fm.shape[1] != n_feat:
                raise ValueError(f"recording {i}: frames of shape {Fm.shape}, expected "
                                 f"(n, {n_feat})")
        torch.manual_seed(int(self.random_state))
        rng = np.random.default_rng(self.random_state)
        self.classes_ = labels
        self.n_features_in_ = n_feat
        self.feature_constants_ = self.constants
        allf = np.concatenate(frames)
        self.mean_ = allf.mean(axis=0).astype(np.float32)
        self.scale_ = np.maximum(allf.std(axis=0), 1e-5).astype(np.float32)
        del allf
        net = self._new_network(len(labels), n_feat)
        R = net.receptive_radius()
        train = self._padded(frames, annotations, R)
        val = None if validation is None else self._padded(*validation, R)
        opt = torch.optim.AdamW(net.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        if not train:
            raise ValueError("no training frames")
        if self.max_epochs < 1:
            raise ValueError(f"max_epochs must be >= 1, got {self.max_epochs}")
        # crops per epoch depend on each epoch's random phase: at most ceil(n / L) + 1;
        # short recordings make batches of one
        n_crops = sum(math.ceil(len(y) / self.crop_frames) + 1 for _, y in train)
        n_short = sum(len(y) < self.crop_frames for _, y in train)
        steps = self.max_epochs * (math.ceil(n_crops / self.batch_size) + n_short)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=self.lr, total_steps=steps)
        best, best_loss, since = None, math.inf, 0
        self.history_ = []
        for epoch in tqdm(range(self.max_epochs), desc="epochs", disable=not self.progress):
            t0 = time.perf_counter()
            net.train()
            crops = self._crops(train, R, rng)
            losses = []
            # full-length crops in batches; a recording shorter than a crop is a batch alone
            full = [c for c in crops if len(train[c[0]][1]) >= self.crop_frames]
            batches = [full[b : b + self.batch_size]
                       for b in range(0, len(full), self.batch_size)]
            batches += [[c] for c in crops if len(train[c[0]][1]) < self.crop_frames]
            for batch in batches:
                x, y = self._augment(*self._batch(train, batch, R), rng)
                loss = F.binary_cross_entropy_with_logits(net(x), y)
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.step()
                losses.append(loss.item())
            row = {"epoch": epoch, "loss": float(np.mean(losses)),
                   "seconds": time.perf_counter() - t0}
            if val is not None:
                row["val_loss"] = self._val_loss(net, val, R)
                if row["val_loss"] < best_loss:
                    best_loss, best, since = row["val_loss"], copy.deepcopy(net.state_dict()), 0
                    self.best_epoch_ = epoch
                else:
                    since += 1
            self.history_.append(row)
            if val is not None and since >= self.patience:
                break
        if best is not None:
            net.load_state_dict(best)
        else:
            self.best_epoch_ = len(self.history_) - 1
        self.network_ = net.eval()
        self.thresholds_ = np.full(len(labels), float(self.threshold))
        return self

    def _padded(self, frames: Sequence[np.ndarray], annotations: Sequence[EventList], R: int
                ) -> list[tuple[np.ndarray, np.ndarray]]:
        """Standardised frames with ``R`` edge frames repeated at each end (what the
        stream reads), and their frame targets."""
        out = []
        for Fm, ev in zip(frames, annotations):
            X = (np.asarray(Fm, np.float32) - self.mean_) / self.scale_
            Y = frame_targets(self.fconfig.frame_times(len(Fm)), ev, self.classes_)
            if len(X):
                out.append((np.pad(X, ((R, R), (0, 0)), mode="edge"), Y))
        return out

    def _crops(self, data: list[tuple[np.ndarray, np.ndarray]], R: int,
               rng: np.random.Generator) -> list[tuple[int, int]]:
        """(recording, first output frame) of every crop of an epoch: each recording cut
        into crops at a random phase, in random order."""
        L = self.crop_frames
        crops = []
        for i, (_, Y) in enumerate(data):
            n = len(Y)
            if n <= L:
                crops.append((i, 0))
                continue
            start = -int(rng.integers(0, L))
            crops += [(i, max(0, min(s, n - L))) for s in range(start, n, L)]
        return [crops[j] for j in rng.permutation(len(crops))]

    def _batch(self, data: list[tuple[np.ndarray, np.ndarray]], crops: list[tuple[int, int]],
               R: int) -> tuple[torch.Tensor, torch.Tensor]:
        L = min(self.crop_frames, min(len(data[i][1]) for i, _ in crops))
        x = np.stack([data[i][0][s : s + L + 2 * R] for i, s in crops])
        y = np.stack([data[i][1][s : s + L] for i, s in crops])
        return torch.from_numpy(x), torch.from_numpy(y)

    def _augment(self, x: torch.Tensor, y: torch.Tensor, rng: np.random.Generator
                 ) -> tuple[torch.Tensor, torch.Tensor]:
        """Frequency masks and mixup of a training batch (``freq_masks``, ``mixup``)."""
        if self.freq_masks > 0:
            n_feat = x.shape[2]
            for b in range(len(x)):
                for _ in range(int(self.freq_masks)):
                    w = int(rng.integers(0, max(1, n_feat // 8) + 1))
                    f0 = int(rng.integers(0, n_feat - w + 1))
                    x[b, :, f0:f0 + w] = 0
        if self.mixup > 0 and len(x) > 1:
            lam = float(rng.beta(self.mixup, self.mixup))
            perm = torch.from_numpy(rng.permutation(len(x)))
            x = lam * x + (1 - lam) * x[perm]
            y = lam * y + (1 - lam) * y[perm]
        return x, y

    @torch.no_grad()
    def _val_loss(self, net: FrameCNN, data: list[tuple[np.ndarray, np.ndarray]], R: int
                  ) -> float:
        net.eval()
        tot, n = 0.0, 0
        for X, Y in data:
            logits = net(torch.from_numpy(X[None]))[0]
            tot += float(F.binary_cross_entropy_with_logits(
                logits, torch.from_numpy(Y), reduction="sum"))
            n += Y.size
        return tot / max(n, 1)

    # ------------------------------------------------------------------ inference
    def posteriors(self, frames: np.ndarray) -> np.ndarray:
        """Per-frame class posteriors ``(n_frames, C)`` of one recording's frame
        features: the stream's, fed the frames at once.

        Examples
        --------
        >>> det.posteriors(det.frames("mix.wav")).shape  # doctest: +SKIP
        (5998, 11)
        """
        return self.stream().push_frames(np.asarray(frames, np.float32), final=True)

    def decoder(self, *, filename: str | None = None, **overrides: Any) -> HysteresisDecoder:
        """The model's hysteresis decoder (per-class thresholds), with ``overrides``
        (``high``, ``low``, ``median``, ``min_duration``, ``min_gap``, ``competition``).

        Examples
        --------
        >>> det.decoder(high=0.7).high.tolist()  # doctest: +SKIP
        [0.7, 0.7, ...]
        """
        check_fitted(self, "network_")
        return frame_decoder(self, filename=filename, **overrides)

    def decode(self, posteriors: np.ndarray, *, filename: str | None = None,
               **overrides: Any) -> EventList:
        """Events of one recording's posteriors (:meth:`decoder` fed them at once).

        Examples
        --------
        >>> det.decode(det.posteriors(det.frames("mix.wav")))  # doctest: +SKIP
        """
        hd = self.decoder(filename=filename, **overrides)
        return hd.process(posteriors) + hd.flush()

    def predict(self, recording: Recording, *, filename: str | None = None) -> EventList:
        """Events of a recording (a path, or samples at ``fconfig.sr``): the stream fed
        the whole signal.

        Examples
        --------
        >>> det.predict("mix.wav")  # doctest: +SKIP
        """
        if filename is None and not isinstance(recording, np.ndarray):
            filename = Path(recording).name
        return self.decode(self.posteriors(self.frames(recording)), filename=filename)

    def tune_thresholds(self, posteriors: Sequence[np.ndarray], annotations: Sequence[EventList],
                        durations: Sequence[float], grid: Sequence[float], *,
                        return_f1: bool = False
                        ) -> dict[str, float] | tuple[dict[str, float], np.ndarray]:
        """Choose each class's opening threshold on validation recordings
        (:func:`tune_class_thresholds` with this model's decoding).

        Parameters
        ----------
        posteriors : sequence of np.ndarray
            :meth:`posteriors` of each validation recording.
        annotations : sequence of EventList
            Their events.
        durations : sequence of float
            Their lengths (s).
        grid : sequence of float
            Candidate thresholds.
        return_f1 : bool
            Also return each class's onset F1 at its chosen threshold.

        Returns
        -------
        dict
            Class -> chosen threshold (also stored in ``thresholds_``).
        f1 : np.ndarray
            ``(C,)`` each class's onset F1 at its chosen threshold (with ``return_f1``).

        Examples
        --------
        >>> det.tune_thresholds(P_val, ann_val, [60.0] * len(P_val), [0.3, 0.5, 0.7])  # doctest: +SKIP
        """
        check_fitted(self, "network_")
        self.thresholds_, f1 = tune_class_thresholds(
            lambda P, name, high: self.decode(P, filename=name, high=high),
            posteriors, annotations, durations, grid, self.classes_)
        chosen = dict(zip(self.classes_, self.thresholds_.tolist()))
        return (chosen, f1) if return_f1 else chosen

    def detection_thresholds(self, decoder: str = "votes") -> np.ndarray:
        """The per-class opening thresholds that ``thresholds`` of :meth:`stream`
        replace (a copy of ``thresholds_``; ``decoder`` as in :meth:`stream`).

        Examples
        --------
        >>> det.detection_thresholds().tolist()  # doctest: +SKIP
        [0.3, 0.5, ...]
        """
        check_fitted(self, "network_")
        check_decoder(decoder)
        return np.array(self.thresholds_, dtype=np.float64)

    def stream(self, *, filename: str | None = None, decoder: str = "votes",
               hysteresis: dict | None = None, threads: int | None = None,
               thresholds: float | Sequence[float] | None = None
               ) -> CNNEventDetectorStream:
        """A detection stream (the :class:`~audioscene.decode.base.DetectorStream`
        interface). ``decoder`` is accepted for the runners' sake: this model always
        decodes by hysteresis, with ``hysteresis`` overriding its settings;
        ``thresholds`` (one for every class or one per class) replace the opening
        thresholds ``thresholds_`` (closing at ``low_ratio`` x them unless
        ``hysteresis`` gives ``low``), as ``decode(..., high=thresholds)`` does offline.

        Examples
        --------
        >>> s = det.stream(filename="live")  # doctest: +SKIP
        >>> s = det.stream(thresholds=0.7)  # doctest: +SKIP
        """
        check_decoder(decoder)
        return CNNEventDetectorStream(self, filename=filename,
                                      hysteresis=with_thresholds(hysteresis, thresholds))

    # ------------------------------------------------------------------ persistence
    def to_record(self) -> ModelRecord:
        """Parameters, classes, standardisation, thresholds, feature constants and the
        network's tensors.

        Examples
        --------
        >>> det.to_record().kind  # doctest: +SKIP
        'CNNEventDetector'
        """
        check_fitted(self, "network_")
        params = self.get_params()
        params["feature_config"] = self.fconfig.to_dict()
        params["channels"] = [int(c) for c in self.channels]
        params["dilations"] = [int(d) for d in self.dilations]
        arrays = network_arrays(self.network_)
        arrays.update({"mean": self.mean_, "scale": self.scale_,
                       "thresholds": np.asarray(self.thresholds_, np.float64),
                       "features/window": self.constants.window})
        if self.constants.mel is not None:
            arrays["features/mel"] = self.constants.mel
        state = {"classes": list(self.classes_), "n_features_in": int(self.n_features_in_),
                 "best_epoch": int(self.best_epoch_), "history": self.history_}
        return ModelRecord("CNNEventDetector", params=params, state=state, arrays=arrays)

    @classmethod
    def from_record(cls, record: ModelRecord) -> CNNEventDetector:
        """Inverse of :meth:`to_record`.

        Examples
        --------
        >>> CNNEventDetector.from_record(det.to_record())  # doctest: +SKIP
        """
        params = dict(record.params)
        params["feature_config"] = FeatureConfig.from_dict(params["feature_config"])
        det = cls(**params)
        st = record.state
        det.classes_ = [str(c) for c in st["classes"]]
        det.n_features_in_ = int(st["n_features_in"])
        det.best_epoch_ = int(st["best_epoch"])
        det.history_ = list(st["history"])
        det.mean_ = np.asarray(record.arrays["mean"], np.float32)
        det.scale_ = np.asarray(record.arrays["scale"], np.float32)
        det.thresholds_ = np.asarray(record.arrays["thresholds"], np.float64)
        if det.thresholds_.shape != (len(det.classes_),):
            raise ValueError("thresholds do not match the classes")
        det.feature_constants_ = FeatureConstants(
            record.arrays["features/window"], record.arrays.get("features/mel")
        ).check(det.fconfig)
        det.network_ = load_network_arrays(
            det._new_network(len(det.classes_), det.n_features_in_), record.arrays)
        return det


class CNNEventDetectorStream:
    """Streaming detection with a :class:`CNNEventDetector` (``model.stream()``).

    Frames from a :class:`~audioscene.features.FeatureStream` are standardised and
    buffered; the network runs on windows of ``chunk_frames`` output frames at fixed
    absolute positions, each read with ``R`` (receptive radius) frames of context on
    both sides, the first frame repeated before the signal and the last one after it;
    posteriors go to the model's :class:`~audioscene.decode.hysteresis.HysteresisDecoder`.
    Memory is the window and a few frames of state.

    Examples
    --------
    >>> s = det.stream(filename="live")  # doctest: +SKIP
    >>> events = s.process(block) + s.flush()  # doctest: +SKIP
    """

    def __init__(self, model: CNNEventDetector, *, filename: str | None = None,
                 hysteresis: dict | None = None) -> None:
        check_fitted(model, "network_")
        self.model = model
        self.net = model.network_.eval()
        self.R = self.net.receptive_radius()
        self.W = int(model.chunk_frames)
        if self.W < 1:
            raise ValueError("chunk_frames must be >= 1")
        self.fs = FeatureStream(model.fconfig, constants=model.constants)
        self.classes = list(model.classes_)
        self.score_hop = model.fconfig.hop_seconds
        self.sr = model.fconfig.sr
        self.hyst_params = dict(hysteresis or {})
        self.reset(filename)

    @property
    def latency(self) -> float:
        """Upper bound (seconds of audio) between an event's end and its release (an
        event is released once it has ended): one window and its right context, the
        median filter and the minimum gap.

        Examples
        --------
        >>> round(det.stream().latency, 3)  # doctest: +SKIP
        3.446
        """
        hd = self.hd
        frames = self.W + self.R + hd.median + hd.min_gap + 1
        return frames * self.score_hop + self.model.fconfig.frame_seconds

    @property
    def last_scores(self) -> FrameScores | None:
        """Posteriors completed by the last ``process``/``flush`` call.

        Examples
        --------
        >>> s = det.stream(); _ = s.process(block); s.last_scores.scores.shape  # doctest: +SKIP
        (128, 11)
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
        self.fs.reset()
        self.hd = self.model.decoder(filename=self.filename, **self.hyst_params)
        self.buf = np.zeros((0, self.model.n_features_in_), np.float32)
        self.b0 = -self.R  # absolute frame index of buf[0] (negative: repeated frame 0)
        self.n_in = 0  # frames received
        self.done = 0  # frames whose posteriors are out
        self._parts: list[FrameScores] = []

    @torch.no_grad()
    def _window(self, n_out: int) -> np.ndarray:
        a = self.done - self.R - self.b0  # input of output frame t: frames t - R to t + R
        x = torch.from_numpy(np.ascontiguousarray(self.buf[a : a + n_out + 2 * self.R]))
        p = torch.sigmoid(self.net(x[None])[0]).double().numpy()
        self.done += n_out
        keep = self.done - self.R - self.b0
        self.buf = self.buf[keep:]
        self.b0 += keep
        return p

    def push_frames(self, X: np.ndarray, *, final: bool = False) -> np.ndarray:
        """Feed feature frames; return the posteriors now complete (all of them when
        ``final``). Used by :meth:`process` and by the model's offline ``posteriors``.

        Examples
        --------
        >>> det.stream().push_frames(F, final=True).shape  # doctest: +SKIP
        (5998, 11)
        """
        m = self.model
        if len(X):
            X = (np.asarray(X, np.float32) - m.mean_) / m.scale_
            if self.n_in == 0:
                X = np.concatenate([np.repeat(X[:1], self.R, axis=0), X])
            self.buf = np.concatenate([self.buf, X]) if len(self.buf) else X
            self.n_in += len(X) - (self.R if self.n_in == 0 else 0)
        out = []
        while self.n_in >= self.done + self.W + self.R:
            out.append(self._window(self.W))
        if final and self.n_in > self.done:
            self.buf = np.concatenate([self.buf, np.repeat(self.buf[-1:], self.R, axis=0)])
            while self.done < self.n_in:
                out.append(self._window(min(self.W, self.n_in - self.done)))
        return np.concatenate(out) if out else np.zeros((0, len(self.classes)))

    def _emit(self, P: np.ndarray) -> EventList:
        if len(P):
            first = self.done - len(P)
            self._parts.append(FrameScores(self.model.fconfig.frame_times(len(P), first), P))
        return self.hd.process(P) if len(P) else EventList()

    def process(self, block: np.ndarray) -> EventList:
        """Feed the next samples; return the events now final.

        Examples
        --------
        >>> det.stream().process(np.zeros(22050, np.float32))  # doctest: +SKIP
        EventList(0 events)
        """
        self._parts = []
        X, _ = self.fs.process(block)
        return self._emit(self.push_frames(X))

    def flush(self) -> EventList:
        """End of stream: the remaining posteriors and events.

        Examples
        --------
        >>> det.stream().flush()  # doctest: +SKIP
        EventList(0 events)
        """
        self._parts = []
        X, _ = self.fs.flush()
        ev = self._emit(self.push_frames(X, final=True))
        return ev + self.hd.flush()
