"""Whole-clip classification and tagging with a scikit-learn style estimator around the
torch networks of :mod:`audioscene.models.nets`.

Clips keep their own length: a batch is padded to its longest clip and the networks
mask the padding, so nothing is cropped. Batches are built from clips of similar
length so little is padded.

Augmentation (``augment=True``) is chosen for spectrograms: a random circular shift of
each clip's valid part in time (a sound's class does not depend on when it happens in
the clip), and SpecAugment-style masking of up to two frequency bands and two time
spans (robustness to a missing band or a short drop-out). Masked values are set to 0,
the training mean after standardisation. Two warps, off by default, come before them:
``time_stretch`` resamples a clip's frames in time and ``freq_shift`` moves its bands
up or down (a change of pitch on log-mel bands). ``mixup`` (off by default) blends
pairs of clips and their targets; ``ema`` (off by default) keeps a moving average of
the weights and predicts with it.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> X = [rng.normal(size=(rng.integers(20, 60), 8)) + (i % 2) for i in range(40)]
>>> y = ["a" if i % 2 == 0 else "b" for i in range(40)]
>>> clf = ClipClassifier(max_epochs=3, progress=False).fit(X, y)
>>> clf.classes_.tolist(), clf.predict_proba(X[:2]).shape
(['a', 'b'], (2, 2))
"""

from __future__ import annotations

import copy
import hashlib
import os
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import GroupShuffleSplit, ShuffleSplit, StratifiedShuffleSplit
from sklearn.preprocessing import LabelEncoder, MultiLabelBinarizer
from sklearn.utils.validation import check_is_fitted
from tqdm.auto import tqdm

from ..features.config import FeatureConfig
from ..features.core import check_frames, extract_file
from ..persist import ModelRecord, Persistent
from .nets import NETWORKS, load_network_arrays, network_arrays

__all__ = ["ClipClassifier", "CNN_FEATURES", "load_clip_model", "as_frames", "canonical_order",
           "decision_functions_file", "encode_labels", "labels_of"]

#: Default clip features: 64 log-mel bands at 22.05 kHz, 46 ms window, 23 ms hop.
CNN_FEATURES = FeatureConfig(sr=22050, n_fft=1024, hop_length=512, kind="logmel", n_mels=64,
                             fmin=20.0)


def as_frames(X: Sequence[Any], cfg: FeatureConfig, n_features: int | None,
              progress: bool) -> list[np.ndarray]:
    """Validate a list of (frames x features) arrays, extracting features from paths.

    Examples
    --------
    >>> [a.shape for a in as_frames([np.zeros((3, 2))], CNN_FEATURES, 2, False)]
    [(3, 2)]
    """
    if isinstance(X, np.ndarray) and X.ndim == 3:
        X = list(X)
    if not isinstance(X, Sequence) or isinstance(X, (str, bytes)):
        raise TypeError("X must be a list of (frames x features) arrays or audio paths")
    out = []
    it = tqdm(X, desc="features", unit="clip", disable=not progress or len(X) < 2
              or not any(isinstance(x, (str, os.PathLike)) for x in X[:1]))
    for i, x in enumerate(it):
        if isinstance(x, (str, os.PathLike)):
            out.append(check_frames(extract_file(x, cfg)[0], str(x), n_features))
        else:
            out.append(check_frames(x, f"X[{i}]", n_features))
    return out


def canonical_order(frames: Sequence[np.ndarray], y: Any,
                    groups: Sequence[Any] | None = None) -> np.ndarray:
    """A permutation that puts clips in an order fixed by their content alone.

    Clips are sorted by a hash of their float32 frames (and shape), then by label (or
    sorted tags) and recording id, so any reordering of the same ``(clip, label,
    group)`` triples gives the same sequence; clips equal in all three are
    interchangeable. :meth:`ClipClassifier.fit` trains in this order, which makes the
    fitted model independent of the order in which clips are listed.

    Parameters
    ----------
    frames : sequence of ndarray
        ``(frames x features)`` arrays.
    y : array-like
        One label, one tuple of tags, or one binary row per clip.
    groups : sequence or None
        Recording id per clip.

    Returns
    -------
    ndarray
        Indices into ``frames``: ``frames[order[0]]`` comes first.

    Examples
    --------
    >>> a, b = np.zeros((2, 3)), np.ones((2, 3))
    >>> o1, o2 = canonical_order([a, b], ["x", "y"]), canonical_order([b, a], ["y", "x"])
    >>> [["x", "y"][i] for i in o1] == [["y", "x"][i] for i in o2]
    True
    """
    y_arr = y if isinstance(y, list) else np.asarray(y)

    def label_key(i: int) -> str:
        v = y_arr[i]
        if isinstance(v, np.ndarray) and v.dtype.kind in "biuf":  # a binary tag row
            return v.astype(np.float32).tobytes().hex()
        if isinstance(v, np.ndarray):
            v = v.tolist()
        if isinstance(v, (tuple, list, set, frozenset)):
            return "\x1f".join(sorted(map(str, v)))
        return str(v)

    keys = []
    for i, f in enumerate(frames):
        a = np.ascontiguousarray(f, dtype=np.float32)
        h = hashlib.blake2b(str(a.shape).encode() + a.tobytes(), digest_size=16).hexdigest()
        keys.append((h, label_key(i), "" if groups is None else str(groups[i])))
    return np.array(sorted(range(len(keys)), key=keys.__getitem__), dtype=np.int64)


def encode_labels(y: Any, classes: Sequence[Any] | None, multi_label: bool
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Training targets and output order of clip labels, as :meth:`ClipClassifier.fit`
    encodes them.

    Parameters
    ----------
    y : array-like
        One label per clip; with ``multi_label``, a tuple of tags per clip or a binary
        ``(n_clips, n_tags)`` matrix.
    classes : sequence or None
        The output order; every label (tag) must be one of them, and a tag matrix must
        have one column per class. None: the sorted labels (tags) seen in ``y``, or the
        column numbers of a tag matrix.
    multi_label : bool
        Tags (several or none per clip) instead of one class per clip.

    Returns
    -------
    Y : ndarray
        Single-label: ``(n_clips,)`` int64 class indices; multi-label: ``(n_clips,
        n_classes)`` float32 binary rows.
    classes : ndarray
        The class (tag) of each index (column).

    Raises
    ------
    ValueError
        Labels (tags) not among ``classes``, or a tag matrix with another number of
        columns.

    Examples
    --------
    >>> Y, classes = encode_labels(["dog", "cat", "dog"], None, multi_label=False)
    >>> Y.tolist(), classes.tolist()
    ([1, 0, 1], ['cat', 'dog'])
    >>> Y, classes = encode_labels([("a",), ("a", "b"), ()], ["b", "a"], multi_label=True)
    >>> Y.tolist(), classes.tolist()
    ([[0.0, 1.0], [1.0, 1.0], [0.0, 0.0]], ['b', 'a'])
    """
    if multi_label:
        y_arr = np.asarray(y) if not isinstance(y, list) else None
        if y_arr is not None and y_arr.ndim == 2 and y_arr.dtype != object:
            if classes is not None and len(classes) != y_arr.shape[1]:
                raise ValueError(f"{len(classes)} classes for {y_arr.shape[1]} columns")
            return (y_arr.astype(np.float32),
                    np.asarray(classes if classes is not None else np.arange(y_arr.shape[1])))
        tags = [tuple(t) for t in y]
        if classes is not None:
            unknown = {t for tg in tags for t in tg} - set(classes)
            if unknown:
                raise ValueError(f"tags {sorted(unknown)} are not among the classes")
        mlb = MultiLabelBinarizer(classes=list(classes) if classes is not None else None)
        return mlb.fit_transform(tags).astype(np.float32), np.asarray(mlb.classes_)
    y_arr = np.asarray(y)
    if classes is not None:
        unknown = set(y_arr.tolist()) - set(classes)
        if unknown:
            raise ValueError(f"labels {sorted(unknown)} are not among the classes")
        index = {c: i for i, c in enumerate(np.asarray(classes).tolist())}
        return (np.array([index[v] for v in y_arr.tolist()], np.int64),
                np.asarray(classes))
    le = LabelEncoder()
    enc = le.fit_transform(y_arr)
    return enc.astype(np.int64), le.classes_


def _take(y: Any, order: np.ndarray) -> Any:
    """``y`` in ``order``: a list stays a list, anything else becomes an array."""
    return [y[i] for i in order] if isinstance(y, list) else np.asarray(y)[order]


def _batches(lengths: np.ndarray, batch_size: int, rng: np.random.Generator | None
             ) -> list[np.ndarray]:
    """Index batches of clips of similar length; random order when ``rng`` is given."""
    if rng is None:
        order = np.argsort(lengths, kind="stable")
    else:
        order = np.lexsort((rng.random(len(lengths)), lengths))
    batches = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    if rng is not None:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return batches


def _pad(frames: list[np.ndarray], idx: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    lens = np.array([frames[i].shape[0] for i in idx])
    x = np.zeros((len(idx), lens.max(), frames[idx[0]].shape[1]), np.float32)
    for k, i in enumerate(idx):
        x[k, :lens[k]] = frames[i]
    return torch.from_numpy(x), torch.from_numpy(lens)


def _augment(x: torch.Tensor, lengths: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Random circular time shift within each clip, two frequency and two time masks."""
    x = x.clone()
    B, _, n_feat = x.shape
    for b in range(B):
        L = int(lengths[b])
        shift = int(torch.randint(0, L, (1,), generator=g))
        if shift:
            x[b, :L] = torch.roll(x[b, :L], shift, dims=0)
        for _ in range(2):
            w = int(torch.randint(0, max(1, n_feat // 8) + 1, (1,), generator=g))
            f0 = int(torch.randint(0, n_feat - w + 1, (1,), generator=g))
            x[b, :L, f0:f0 + w] = 0
            w = int(torch.randint(0, max(1, L // 10) + 1, (1,), generator=g))
            t0 = int(torch.randint(0, L - w + 1, (1,), generator=g))
            x[b, t0:t0 + w] = 0
    return x


def _warp(x: torch.Tensor, lengths: torch.Tensor, g: torch.Generator, shift: int,
          stretch: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Random time stretch (linear interpolation of each clip's valid frames to
    ``round(L * r)`` frames, ``r`` uniform in ``[1 - stretch, 1 + stretch]``) and random
    shift of the feature axis by a whole number of bands in ``[-shift, shift]`` (vacated
    bands set to 0) of a standardised batch; returns the batch and its new lengths."""
    clips, new_len = [], []
    for b in range(x.shape[0]):
        L = int(lengths[b])
        c = x[b, :L]
        if stretch > 0:
            r = 1.0 + stretch * (2.0 * float(torch.rand((), generator=g)) - 1.0)
            n = max(1, round(L * r))
            c = F.interpolate(c.T[None], size=n, mode="linear", align_corners=False)[0].T
        if shift > 0:
            k = int(torch.randint(-shift, shift + 1, (1,), generator=g))
            if k:
                c = torch.roll(c, k, dims=1)
                if k > 0:
                    c[:, :k] = 0
                else:
                    c[:, k:] = 0
        clips.append(c)
        new_len.append(c.shape[0])
    return (torch.nn.utils.rnn.pad_sequence(clips, batch_first=True),
            torch.tensor(new_len, dtype=lengths.dtype))


class ClipClassifier(Persistent, ClassifierMixin, BaseEstimator):
    """Classify or tag whole clips of any length with a masked-pooling network.

    Parameters
    ----------
    backend : {"allconv", "lte-cnn"}
        :class:`~audioscene.models.AllConvNet` on feature maps, or
        :class:`~audioscene.models.LteCNN` on label-tree-embedding images.
    feature_config : FeatureConfig or None
        Features computed when ``X`` holds audio paths (default :data:`CNN_FEATURES`).
    multi_label : bool
        Tagging: ``y`` holds a tuple of tags per clip (or a binary matrix), outputs are
        sigmoids trained with binary cross-entropy. Otherwise one label per clip,
        softmax and cross-entropy.
    net_params : dict or None
        Keyword arguments of the network (channels, strides, pooling, dropout for
        ``allconv``; widths, filters, dropout for ``lte-cnn``).
    max_epochs : int
        Upper bound on training epochs.
    batch_size : int
        Clips per batch.
    lr : float
        Peak learning rate of AdamW; a cosine schedule decays it to ``lr / 100`` at
        ``max_epochs`` after a one-epoch linear warm-up.
    weight_decay : float
        AdamW weight decay.
    validation_fraction : float
        Share of the training clips held out to choose the epoch: a random split
        grouped by recording when ``groups`` is given, otherwise stratified by class;
        0 trains on everything for ``max_epochs``.
    patience : int
        Stop after this many epochs without a lower validation loss; the weights of the
        best epoch are kept.
    augment : bool
        Time shift and SpecAugment-style masking during training (see the module
        docstring).
    mixup : float
        Beta(mixup, mixup) blending of clip pairs; 0 disables it.
    freq_shift : int
        With ``augment``: shift each training clip's features by a random whole number
        of bands in ``[-freq_shift, freq_shift]`` (on log-mel bands, a change of pitch),
        vacated bands set to 0. 0 (default) disables it.
    time_stretch : float
        With ``augment``: resample each training clip's frames in time by a random
        factor in ``[1 - time_stretch, 1 + time_stretch]`` (linear interpolation). 0
        (default) disables it.
    ema : float
        Decay of an exponential moving average of the network's parameters and
        batch-norm statistics (:class:`torch.optim.swa_utils.AveragedModel`), updated
        after every training step; with ``ema > 0`` validation, the kept weights and all
        predictions use the averaged network. 0 (default) disables it.
    random_state : int
        Seeds the split, initialisation, batch order and augmentation: the same seed
        and the same clips give the same model, in whatever order the clips are listed.
    progress : bool
        Show a tqdm bar per epoch.
    embedder : LabelTreeEmbedder or None
        With ``backend="lte-cnn"``: ``X`` holds frame features (or paths) and this
        embedder, cloned and fitted inside :meth:`fit` with cross-fitting, turns them into
        the LTE images the network reads; predictions embed new clips the same way.

    Attributes
    ----------
    classes_ : ndarray
        Labels (or tags) in output order.
    network_ : torch.nn.Module
        The trained network (evaluation mode).
    mean_, scale_ : ndarray
        Per-feature standardisation learned from the training frames.
    history_ : list of dict
        Per-epoch training loss, validation loss and accuracy, learning rate and seconds
        of training (validation excluded).
    best_epoch_ : int
        Epoch whose weights were kept.
    embedder_ : LabelTreeEmbedder or None
        The fitted embedder (when ``embedder`` is given).

    Examples
    --------
    >>> clf = ClipClassifier(max_epochs=30)
    >>> clf.fit(["a.wav", "b.wav"], ["dog", "rain"])  # doctest: +SKIP
    >>> clf.predict_proba(["c.wav"])  # doctest: +SKIP
    """

    def __init__(self, backend: str = "allconv", feature_config: FeatureConfig | None = None,
                 multi_label: bool = False, net_params: dict[str, Any] | None = None,
                 max_epochs: int = 60, batch_size: int = 16, lr: float = 2e-3,
                 weight_decay: float = 1e-3, validation_fraction: float = 0.15,
                 patience: int = 15, augment: bool = True, mixup: float = 0.0,
                 freq_shift: int = 0, time_stretch: float = 0.0, ema: float = 0.0,
                 random_state: int = 0,
                 progress: bool = True, embedder: Any = None) -> None:
        self.backend = backend
        self.feature_config = feature_config
        self.multi_label = multi_label
        self.net_params = net_params
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.augment = augment
        self.mixup = mixup
        self.freq_shift = freq_shift
        self.time_stretch = time_stretch
        self.ema = ema
        self.random_state = random_state
        self.progress = progress
        self.embedder = embedder

    # ------------------------------------------------------------------ helpers
    @property
    def fconfig(self) -> FeatureConfig:
        """The feature configuration in use."""
        return self.feature_config or CNN_FEATURES

    def frames(self, path: str | os.PathLike) -> np.ndarray:
        """Features of one audio file, as :meth:`predict` takes them (frames x features;
        a model with an ``embedder`` embeds them inside :meth:`predict`).

        Raises a clear error naming the file when it cannot be read or is shorter than
        one frame.

        Examples
        --------
        >>> clf.frames("clip.wav").shape  # doctest: +SKIP
        (214, 64)
        """
        check_is_fitted(self, "network_")
        return as_frames([path], self.fconfig, self.n_frame_features_, False)[0]

    @property
    def n_frame_features_(self) -> int:
        """Features per frame the fitted model reads (before any embedding).

        Examples
        --------
        >>> clf.n_frame_features_  # doctest: +SKIP
        64
        """
        emb = getattr(self, "embedder_", None)
        return int(emb.n_features_in_ if emb is not None else self.n_features_in_)

    def _frames(self, X: Sequence[Any]) -> list[np.ndarray]:
        """Network inputs of fitted-model clips: features, LTE images with an embedder."""
        frames = as_frames(X, self.fconfig, self.n_frame_features_, self.progress)
        emb = getattr(self, "embedder_", None)
        return emb.transform(frames) if emb is not None else frames

    def _encode(self, y: Any, classes: Sequence[Any] | None) -> np.ndarray:
        Y, self.classes_ = encode_labels(y, classes, self.multi_label)
        return Y

    def _new_network(self) -> torch.nn.Module:
        if self.backend not in NETWORKS:
            raise ValueError(f"backend must be one of {sorted(NETWORKS)}, got {self.backend!r}")
        return NETWORKS[self.backend](len(self.classes_), int(self.n_features_in_),
                                      **(self.net_params or {}))

    def _standardise(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        x = (x - torch.from_numpy(self.mean_)) / torch.from_numpy(self.scale_)
        mask = torch.arange(x.shape[1])[None, :] < lengths[:, None]
        return x * mask[:, :, None]

    def _loss(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if self.multi_label:
            return F.binary_cross_entropy_with_logits(logits, target)
        if target.dim() == 2:  # mixed soft targets
            return -(target * F.log_softmax(logits, dim=1)).sum(dim=1).mean()
        return F.cross_entropy(logits, target)

    def _split(self, n: int, y: np.ndarray, groups: Sequence[Any] | None
               ) -> tuple[np.ndarray, np.ndarray]:
        idx = np.arange(n)
        if self.validation_fraction <= 0:
            return idx, idx[:0]
        if not 0 < self.validation_fraction < 1:
            raise ValueError("validation_fraction must be in [0, 1)")
        if groups is not None:
            sp: Any = GroupShuffleSplit(1, test_size=self.validation_fraction,
                                        random_state=self.random_state)
            tr, va = next(sp.split(idx, groups=np.asarray(groups)))
            return tr, va
        if not self.multi_label:
            counts = np.bincount(y)
            n_val = int(np.ceil(self.validation_fraction * n))
            if counts.min() >= 2 and n_val >= len(counts):
                sp = StratifiedShuffleSplit(1, test_size=self.validation_fraction,
                                            random_state=self.random_state)
                return next(sp.split(idx, y))
        sp = ShuffleSplit(1, test_size=self.validation_fraction, random_state=self.random_state)
        return next(sp.split(idx))

    # ------------------------------------------------------------------ fit
    def fit(self, X: Sequence[Any], y: Any, *, groups: Sequence[Any] | None = None,
            validation_data: tuple[Sequence[Any], Any] | None = None,
            classes: Sequence[Any] | None = None,
            soft_targets: Any = None) -> ClipClassifier:
        """Train on clips ``X`` (arrays or audio paths) with labels ``y``.

        The clips are first put in :func:`canonical_order`, so listing the same clips,
        labels and groups in another order gives the same model, weight for weight.

        Parameters
        ----------
        X : list of ndarray or paths
            ``(frames x features)`` arrays of any length, or audio files.
        y : array-like
            One label per clip; with ``multi_label``, a tuple of tags per clip or a
            binary ``(n_clips, n_tags)`` matrix.
        groups : sequence or None
            Recording id per clip: the validation split never separates one recording.
        validation_data : (X_val, y_val) or None
            A separate validation set that chooses the epoch instead of a split of
            ``X`` (``validation_fraction`` is then ignored).
        classes : sequence or None
            Class (tag) order of the outputs; default: sorted labels seen in ``y``.
            With a binary tag matrix, the names of its columns. Every label (tag) of
            ``y`` and of ``validation_data`` must be one of them (:func:`encode_labels`).
        soft_targets : array-like or None
            ``(n_clips, n_classes)`` training targets that replace the one-hot labels
            (or the tag matrix) of ``y`` in the training loss, rows in the order of
            ``X``, columns in the order of the classes: for example a teacher
            ensemble's probabilities blended with the labels (knowledge distillation,
            :func:`~audioscene.models.distillation_targets`). Without tags, every row is a
            probability distribution. ``y`` still sets the classes, the validation
            split and the validation loss, so the epoch is chosen on the true labels;
            the rows of clips held out for validation are not used. Listing the clips
            in another order gives the same model when identical clips with identical
            labels and groups have identical rows (as rows of
            :func:`~audioscene.models.distillation_targets` do).

        Returns
        -------
        ClipClassifier
            ``self``.

        Examples
        --------
        >>> ClipClassifier(max_epochs=20).fit(["a.wav", "b.wav"], ["x", "y"])  # doctest: +SKIP
        """
        frames = as_frames(X, self.fconfig, None, self.progress)
        if len(frames) < 2:
            raise ValueError("need at least two training clips")
        if len({f.shape[1] for f in frames}) != 1:
            raise ValueError("all clips must have the same number of features per frame")
        if len(y) != len(frames):
            raise ValueError(f"X has {len(frames)} clips but y has {len(y)} labels")
        if groups is not None and len(groups) != len(frames):
            raise ValueError(f"X has {len(frames)} clips but groups has {len(groups)} ids")
        S = None
        if soft_targets is not None:
            S = np.asarray(soft_targets, dtype=np.float32)
            if S.ndim != 2 or S.shape[0] != len(frames):
                raise ValueError(f"soft_targets must have one row per clip ({len(frames)}), "
                                 f"got shape {S.shape}")
            if not np.all(np.isfinite(S)) or S.min() < 0 or S.max() > 1:
                raise ValueError("soft_targets must hold values in [0, 1]")
            if not self.multi_label and not np.allclose(S.sum(axis=1), 1, atol=1e-4):
                raise ValueError("each row of soft_targets must sum to 1 (a probability "
                                 "distribution over the classes)")
        order = canonical_order(frames, y, groups)
        frames, y = [frames[i] for i in order], _take(y, order)
        S = None if S is None else S[order]
        groups = None if groups is None else [groups[i] for i in order]
        n_fit = len(frames)
        val_frames = None
        if validation_data is not None:
            X_val, y_val = validation_data
            val_frames = as_frames(X_val, self.fconfig, frames[0].shape[1], self.progress)
            if len(y_val) != len(val_frames):
                raise ValueError("validation_data: X and y differ in length")
            v_order = canonical_order(val_frames, y_val)
            val_frames, y_val = [val_frames[i] for i in v_order], _take(y_val, v_order)
        self.embedder_ = None
        if self.embedder is not None:
            if self.multi_label:
                raise ValueError("the label tree embedder needs single-label clips")
            from sklearn.base import clone

            self.embedder_ = clone(self.embedder)
            frames = self.embedder_.fit_transform(frames, np.asarray(y).astype(str),
                                                  groups=groups)
            if val_frames is not None:
                val_frames = self.embedder_.transform(val_frames)
        if validation_data is not None:
            assert val_frames is not None
            frames = list(frames) + list(val_frames)
            y = (np.concatenate([np.asarray(y), np.asarray(y_val)])
                 if not isinstance(y, list) else list(y) + list(y_val))
        Y = self._encode(y, classes)
        if not self.multi_label and len(self.classes_) < 2:
            raise ValueError("need at least two classes")
        if S is not None and S.shape[1] != len(self.classes_):
            raise ValueError(f"soft_targets has {S.shape[1]} columns for "
                             f"{len(self.classes_)} classes")
        self.n_features_in_ = frames[0].shape[1]
        allf = np.concatenate(frames[:n_fit])
        self.mean_ = allf.mean(axis=0).astype(np.float32)
        self.scale_ = np.maximum(allf.std(axis=0), 1e-3).astype(np.float32)
        del allf

        rng = np.random.default_rng(self.random_state)
        torch.manual_seed(self.random_state)
        g = torch.Generator().manual_seed(self.random_state)
        if validation_data is not None:
            tr, va = np.arange(n_fit), np.arange(n_fit, len(frames))
        else:
            tr, va = self._split(n_fit, Y if not self.multi_label else Y.argmax(1), groups)
        net = self._new_network()
        opt = torch.optim.AdamW(net.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        if not 0 <= self.ema < 1:
            raise ValueError(f"ema must be in [0, 1), got {self.ema}")
        if self.freq_shift < 0 or not 0 <= self.time_stretch < 1:
            raise ValueError("freq_shift must be >= 0 and time_stretch in [0, 1)")
        averaged = (None if self.ema == 0 else torch.optim.swa_utils.AveragedModel(
            net, multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(self.ema),
            use_buffers=True))
        # the network that is validated, kept and returned
        kept = net if averaged is None else averaged.module
        lengths = np.array([f.shape[0] for f in frames])
        tr_frames = [frames[i] for i in tr]
        # training targets: class indices (one-hot in the loss), tag rows or soft rows
        tr_Y = Y[tr] if S is None else S[tr]
        n_batches = len(_batches(lengths[tr], self.batch_size, None))
        total = max(1, self.max_epochs * n_batches)
        warm = n_batches

        def lr_at(step: int) -> float:
            if step < warm:
                return (step + 1) / warm
            p = (step - warm) / max(1, total - warm)
            return 0.01 + 0.99 * 0.5 * (1 + np.cos(np.pi * min(1.0, p)))

        sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
        self.history_ = []
        best = (np.inf, -1, None)
        va_frames = [frames[i] for i in va]
        bar = tqdm(range(self.max_epochs), desc="training", unit="epoch",
                   disable=not self.progress)
        for epoch in bar:
            net.train()
            losses = []
            t_epoch = time.perf_counter()
            for idx in _batches(lengths[tr], self.batch_size, rng):
                x, L = _pad(tr_frames, idx)
                x = self._standardise(x, L)
                if self.augment and (self.freq_shift > 0 or self.time_stretch > 0):
                    x, L = _warp(x, L, g, int(self.freq_shift), float(self.time_stretch))
                if self.augment:
                    x = _augment(x, L, g)
                target = torch.from_numpy(tr_Y[idx])
                if self.mixup > 0 and len(idx) > 1:
                    lam = float(rng.beta(self.mixup, self.mixup))
                    perm = torch.from_numpy(rng.permutation(len(idx)))
                    x = lam * x + (1 - lam) * x[perm]
                    L = torch.maximum(L, L[perm])
                    if target.dim() == 1:
                        target = F.one_hot(target, len(self.classes_)).float()
                    target = lam * target + (1 - lam) * target[perm]
                logits = net(x, L)
                loss = self._loss(logits, target)
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.step()
                if averaged is not None:
                    averaged.update_parameters(net)
                losses.append(float(loss.detach()))
            rec: dict[str, float] = {"epoch": epoch + 1, "loss": float(np.mean(losses)),
                                     "lr": float(sched.get_last_lr()[0]),
                                     "seconds": round(time.perf_counter() - t_epoch, 3)}
            if len(va):
                P = self._predict_logits(kept, va_frames)
                tgt = torch.from_numpy(Y[va])
                rec["val_loss"] = float(self._loss(torch.from_numpy(P), tgt))
                if not self.multi_label:
                    rec["val_accuracy"] = float(np.mean(P.argmax(1) == Y[va]))
                if rec["val_loss"] < best[0]:
                    best = (rec["val_loss"], epoch + 1, copy.deepcopy(kept.state_dict()))
            self.history_.append(rec)
            bar.set_postfix({k: round(v, 3) for k, v in rec.items()
                             if k not in ("epoch", "seconds")})
            if len(va) and epoch + 1 - best[1] >= self.patience:
                break
        if best[2] is not None:
            kept.load_state_dict(best[2])
            self.best_epoch_ = best[1]
        else:
            self.best_epoch_ = len(self.history_)
        self.network_ = kept.eval()
        return self

    @torch.no_grad()
    def _predict_logits(self, net: torch.nn.Module, frames: list[np.ndarray]) -> np.ndarray:
        was = net.training
        net.eval()
        lengths = np.array([f.shape[0] for f in frames])
        out = np.zeros((len(frames), len(self.classes_)), np.float32)
        for idx in _batches(lengths, max(self.batch_size, 32), None):
            x, L = _pad(frames, idx)
            out[idx] = net(self._standardise(x, L), L).numpy()
        net.train(was)
        return out

    # ------------------------------------------------------------------ predict
    def decision_function(self, X: Sequence[Any]) -> np.ndarray:
        """Logits ``(n_clips, n_classes)``.

        Examples
        --------
        >>> clf.decision_function(["c.wav"])  # doctest: +SKIP
        """
        check_is_fitted(self, "network_")
        return self._predict_logits(self.network_, self._frames(X))

    def predict_proba(self, X: Sequence[Any]) -> np.ndarray:
        """Class probabilities (softmax) or tag probabilities (sigmoid).

        Examples
        --------
        >>> clf.predict_proba(["c.wav"]).shape  # doctest: +SKIP
        (1, 10)
        """
        z = torch.from_numpy(self.decision_function(X))
        p = torch.sigmoid(z) if self.multi_label else torch.softmax(z, dim=1)
        return p.numpy().astype(np.float64)

    def decision_function_file(self, path: str | os.PathLike, *,
                               chunk_frames: int = 4096,
                               block_length: int = 1 << 18) -> np.ndarray:
        """Logits ``(n_classes,)`` of one audio file of any length, in bounded memory.

        The file is read block by block (:func:`~audioscene.audio.blocks`) into a
        :class:`~audioscene.features.FeatureStream`. ``allconv``: the network runs on
        windows of ``chunk_frames`` frames plus a margin of at least its receptive radius
        on each side, aligned on its total stride, and only the output positions whose
        inputs lie inside the window are pooled (running sum, count and maximum), so each
        pooled value is the one the whole clip gives, up to floating-point rounding of the
        convolutions and of the pooled sum. ``lte-cnn``: the LTE image is embedded from
        hop-aligned runs of frames and the network reads the whole image (a few numbers
        per segment). Memory depends on ``chunk_frames`` and ``block_length``, not on the
        file's length.

        Examples
        --------
        >>> clf.decision_function_file("two_hours.flac").shape  # doctest: +SKIP
        (10,)
        """
        return decision_functions_file([self], path, chunk_frames=chunk_frames,
                                       block_length=block_length)[0]

    def predict_proba_file(self, path: str | os.PathLike, **kwargs: int) -> np.ndarray:
        """Probabilities ``(n_classes,)`` of one file of any length, from
        :meth:`decision_function_file` (same keyword arguments).

        Examples
        --------
        >>> clf.predict_proba_file("two_hours.flac").argmax()  # doctest: +SKIP
        3
        """
        z = torch.from_numpy(self.decision_function_file(path, **kwargs)[None])
        p = torch.sigmoid(z) if self.multi_label else torch.softmax(z, dim=1)
        return p.numpy().astype(np.float64)[0]

    def predict(self, X: Sequence[Any]) -> np.ndarray:
        """Labels, or for ``multi_label`` a binary ``(n_clips, n_tags)`` matrix at 0.5.

        Examples
        --------
        >>> clf.predict(["c.wav"])  # doctest: +SKIP
        array(['dog'], dtype='<U4')
        """
        return labels_of(self.predict_proba(X), self.classes_, bool(self.multi_label))

    def score(self, X: Sequence[Any], y: Any, sample_weight: Any = None) -> float:
        """Accuracy (single label) or mean per-tag accuracy (``multi_label``).

        Examples
        --------
        >>> clf.score(["c.wav"], ["dog"])  # doctest: +SKIP
        1.0
        """
        if not self.multi_label:
            return super().score(X, y, sample_weight=sample_weight)
        Y = np.asarray(y) if isinstance(y, np.ndarray) else None
        if Y is None or Y.ndim != 2 or Y.dtype == object:
            Y = MultiLabelBinarizer(classes=list(self.classes_)).fit_transform(
                [tuple(t) for t in y])
        return float(np.mean(self.predict(X) == Y))

    # ------------------------------------------------------------------ persistence
    def to_record(self) -> ModelRecord:
        """Parameters, classes, standardisation, training history and the network's
        tensors as plain arrays; a fitted embedder is a child record.

        Examples
        --------
        >>> clf.to_record().kind  # doctest: +SKIP
        'ClipClassifier'
        """
        check_is_fitted(self, "network_")
        params = self.get_params(deep=False)
        params["feature_config"] = self.fconfig.to_dict()
        params["embedder"] = (None if self.embedder is None else
                              {k: v for k, v in self.embedder.get_params(deep=False).items()
                               if k != "classifier"})
        state = {"classes": [c.item() if hasattr(c, "item") else c for c in self.classes_],
                 "n_features_in": int(self.n_features_in_),
                 "best_epoch": int(self.best_epoch_), "history": self.history_}
        arrays = network_arrays(self.network_)
        arrays["mean"] = self.mean_
        arrays["scale"] = self.scale_
        children = {}
        if getattr(self, "embedder_", None) is not None:
            children["embedder"] = self.embedder_.to_record()
        return ModelRecord("ClipClassifier", params=params, state=state, arrays=arrays,
                           children=children)

    @classmethod
    def from_record(cls, record: ModelRecord) -> ClipClassifier:
        """Inverse of :meth:`to_record`.

        Examples
        --------
        >>> ClipClassifier.from_record(clf.to_record())  # doctest: +SKIP
        """
        params = dict(record.params)
        params["feature_config"] = FeatureConfig.from_dict(params["feature_config"])
        embedder = None
        if params.get("embedder") is not None:
            from ..features.lte import LabelTreeEmbedder

            params["embedder"] = LabelTreeEmbedder(**params["embedder"])
            embedder = LabelTreeEmbedder.from_record(record.children["embedder"])
        clf = cls(**params)
        clf.embedder_ = embedder
        st = record.state
        clf.classes_ = np.asarray(st["classes"])
        clf.n_features_in_ = int(st["n_features_in"])
        clf.mean_ = np.asarray(record.arrays["mean"], np.float32)
        clf.scale_ = np.asarray(record.arrays["scale"], np.float32)
        clf.best_epoch_ = int(st["best_epoch"])
        clf.history_ = list(st["history"])
        clf.network_ = load_network_arrays(clf._new_network(), record.arrays)
        return clf

class _LongClip:
    """Running state of :meth:`ClipClassifier.decision_function_file`."""

    def __init__(self, clf: ClipClassifier, chunk_frames: int, name: str) -> None:
        self.clf, self.net, self.name = clf, clf.network_, name
        self.emb = getattr(clf, "embedder_", None)
        self.n_feat = clf.n_frame_features_
        self.buf = np.zeros((0, self.n_feat), np.float32)
        self.b0 = 0  # absolute frame of buf[0]
        self.n_in = 0  # frames received
        if self.emb is None:
            S = self.net.total_stride
            self.S = S
            self.M = -(-(self.net.receptive_radius() + S) // S) * S
            self.C = max(S, int(chunk_frames) // S * S)
            self.a = 0  # next output position to pool
            self.sum: np.ndarray | None = None
            self.count = 0
            self.max: np.ndarray | None = None
        else:
            self.C = max(int(chunk_frames), int(self.emb.segment_frames))
            self.rows: list[np.ndarray] = []

    def push(self, F: np.ndarray) -> None:
        if not len(F):
            return
        if F.shape[1] != self.n_feat:
            raise ValueError(f"{self.name}: {F.shape[1]} features per frame, "
                             f"expected {self.n_feat}")
        self.buf = np.concatenate([self.buf, np.asarray(F, np.float32)])
        self.n_in += len(F)
        if self.emb is None:
            while self.n_in >= self.S * self._next_stop() + self.M:
                self._window(self._next_stop(), final=False)
        else:
            while len(self.buf) >= self.C + self.emb.segment_frames:
                self._embed(final=False)

    def _next_stop(self) -> int:
        """End of the next window's pooled positions. The first window has no left
        margin, so it pools ``M`` more frames: every full window then reads ``C + 2M``
        frames, and the working memory is the same from the first window on."""
        return self.a + (self.C + (self.M if self.a == 0 else 0)) // self.S

    @torch.no_grad()
    def _window(self, b: int, *, final: bool) -> None:
        """Pool output positions [a, b) (to the end when ``final``)."""
        S, M = self.S, self.M
        w0 = max(0, S * self.a - M)
        w1 = self.n_in if final else S * b + M
        x = torch.from_numpy(self.buf[w0 - self.b0 : w1 - self.b0][None])
        L = torch.tensor([w1 - w0])
        h, out_len = self.net.feature_map(self.clf._standardise(x, L), L)
        if final:
            b = w0 // S + int(out_len[0])
        j0, j1 = self.a - w0 // S, b - w0 // S
        part = h[0, :, j0:j1].double().numpy()  # (C, k, F')
        if part.shape[1]:
            s = part.sum(axis=(1, 2))
            m = part.max(axis=(1, 2))
            self.sum = s if self.sum is None else self.sum + s
            self.max = m if self.max is None else np.maximum(self.max, m)
            self.count += part.shape[1] * part.shape[2]
        self.a = b
        keep = max(self.b0, S * b - M)
        self.buf = self.buf[keep - self.b0:]
        self.b0 = keep

    def _embed(self, *, final: bool) -> None:
        seg, hop = int(self.emb.segment_frames), int(self.emb.hop_frames)
        if final and not self.rows:  # the whole recording at once (short-file rule)
            self.rows.append(self.emb.transform([self.buf])[0])
            self.buf = self.buf[:0]
            return
        if len(self.buf) < seg:
            return
        n = 1 + (len(self.buf) - seg) // hop
        self.rows.append(self.emb.transform([self.buf[: (n - 1) * hop + seg]])[0])
        self.buf = self.buf[n * hop:]

    def finish(self) -> np.ndarray:
        if self.n_in == 0:
            raise ValueError(f"{self.name}: no frames (the clip is shorter than one frame)")
        if self.emb is not None:
            self._embed(final=True)
            image = np.concatenate(self.rows).astype(np.float32)
            return self.clf._predict_logits(self.net, [image])[0]
        self._window(self.a, final=True)
        assert self.sum is not None and self.max is not None
        mean, mx = self.sum / self.count, self.max
        mode = self.net.pooling
        out = mean if mode == "mean" else mx if mode == "max" else 0.5 * (mean + mx)
        return out.astype(np.float32)


def labels_of(P: np.ndarray, classes: np.ndarray, multi_label: bool) -> np.ndarray:
    """What ``predict`` returns for probabilities ``P`` ``(n_clips, n_classes)``: the
    most probable class of each clip, or with ``multi_label`` a binary matrix of the
    tags at 0.5 or above.

    Examples
    --------
    >>> P = np.array([[0.2, 0.8], [0.6, 0.4]])
    >>> labels_of(P, np.array(["a", "b"]), False).tolist()
    ['b', 'a']
    >>> labels_of(P, np.array(["a", "b"]), True).tolist()
    [[0, 1], [1, 0]]
    """
    if multi_label:
        return (P >= 0.5).astype(int)
    return classes[P.argmax(axis=1)]


def decision_functions_file(models: Sequence[ClipClassifier], path: str | os.PathLike, *,
                            chunk_frames: int = 4096,
                            block_length: int = 1 << 18) -> list[np.ndarray]:
    """:meth:`ClipClassifier.decision_function_file` of several networks that read the
    same features, from one reading of the file: each block's features are computed once
    and pushed to every network, so each result equals the network's own
    :meth:`~ClipClassifier.decision_function_file` exactly.

    Parameters
    ----------
    models : sequence of ClipClassifier
        Fitted networks with the feature configuration of the first.
    path : str or path-like
        An audio file of any length.
    chunk_frames, block_length : int
        As in :meth:`ClipClassifier.decision_function_file`.

    Returns
    -------
    list of ndarray
        One ``(n_classes,)`` logit vector per network.

    Raises
    ------
    ValueError
        No network, or networks that read other features than the first.

    Examples
    --------
    >>> za, zb = decision_functions_file([clf_a, clf_b], "two_hours.flac")  # doctest: +SKIP
    """
    from ..audio import blocks
    from ..features.core import FeatureStream

    models = list(models)
    if not models:
        raise ValueError("no network given")
    for i, m in enumerate(models):
        check_is_fitted(m, "network_")
        if m.fconfig.to_dict() != models[0].fconfig.to_dict():
            raise ValueError(f"network {i} reads other features than network 0")
    fconfig = models[0].fconfig
    fs = FeatureStream(fconfig)
    accs = [_LongClip(m, chunk_frames, str(path)) for m in models]
    for b in blocks(path, block_length=block_length, sr=fconfig.sr):
        F = fs.process(b.samples)[0]
        for acc in accs:
            acc.push(F)
    F = fs.flush()[0]
    for acc in accs:
        acc.push(F)
    return [acc.finish() for acc in accs]


def load_clip_model(directory: str | os.PathLike) -> ClipClassifier:
    """Load a saved :class:`ClipClassifier` (alias of :meth:`ClipClassifier.load`).

    Examples
    --------
    >>> clf = load_clip_model("runs/esc10/model")  # doctest: +SKIP
    """
    return ClipClassifier.load(directory)
