"""An ensemble of clip networks saved as one model: the mean of its members' class (or
tag) probabilities.

Members are fitted :class:`~audioscene.models.ClipClassifier` objects with the same
classes in the same order, the same task (single label or tags) and the same feature
configuration, so the features :meth:`ClipEnsemble.predict_proba` extracts once feed
them all (:meth:`ClipEnsemble.predict_proba_file` reads a long file once, block by block,
for all of them); each member embeds the features itself when it has a label tree
embedder (an LTE-CNN). The recipes' ``cnn.members`` and ``lte_cnn.members`` settings
train such members (seeded ``seed``, ``seed + 1``, ...), and
:meth:`ClipEnsemble.distil` trains one network on their knowledge.

Examples
--------
>>> import numpy as np
>>> from audioscene.models import ClipClassifier
>>> rng = np.random.default_rng(0)
>>> X = [rng.normal(size=(rng.integers(20, 60), 8)) + (i % 2) for i in range(40)]
>>> y = ["a" if i % 2 == 0 else "b" for i in range(40)]
>>> nets = [ClipClassifier(max_epochs=2, progress=False, random_state=s).fit(X, y)
...         for s in (0, 1)]
>>> ens = ClipEnsemble(nets)
>>> P = ens.predict_proba(X[:3])
>>> bool(np.array_equal(P, np.mean([m.predict_proba(X[:3]) for m in nets], axis=0)))
True
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from ..features.config import FeatureConfig
from ..persist import ModelRecord, Persistent
from .clip import ClipClassifier, as_frames, decision_functions_file, encode_labels, labels_of

__all__ = ["ClipEnsemble", "distillation_targets"]


def distillation_targets(teacher: ClipClassifier | ClipEnsemble, X: Sequence[Any], y: Any,
                         weight: float = 0.5) -> np.ndarray:
    """Training targets that pass a teacher's knowledge to a new network: ``(1 - weight)``
    times the labels' one-hot rows (or tag rows) plus ``weight`` times the teacher's
    probabilities, for :meth:`ClipClassifier.fit`'s ``soft_targets``.

    Parameters
    ----------
    teacher : ClipClassifier or ClipEnsemble
        A fitted network or ensemble; its ``classes_`` order the columns.
    X : list of ndarray or paths
        The clips the new network trains on.
    y : array-like
        Their labels (or, for a tagging teacher, tuples of tags or a binary matrix whose
        columns follow ``teacher.classes_``); every label must be one of the teacher's.
    weight : float
        Share of the teacher's probabilities, in ``[0, 1]``.

    Returns
    -------
    ndarray
        ``(n_clips, n_classes)`` float32 targets; each row sums to 1 for a single-label
        teacher.

    Raises
    ------
    ValueError
        ``weight`` outside ``[0, 1]``, labels (tags) the teacher does not know, or ``X``
        and ``y`` of different lengths.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = [rng.normal(size=(30, 8)) + (i % 2) for i in range(20)]
    >>> y = ["a" if i % 2 == 0 else "b" for i in range(20)]
    >>> teacher = ClipClassifier(max_epochs=2, progress=False).fit(X, y)
    >>> T = distillation_targets(teacher, X, y, weight=0.5)
    >>> T.shape, bool(np.allclose(T.sum(axis=1), 1)), bool(np.all(T[0, 0] >= 0.5))
    ((20, 2), True, True)
    """
    if not 0 <= weight <= 1:
        raise ValueError(f"weight must be in [0, 1], got {weight}")
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} clips but y has {len(y)} labels")
    Y, classes = encode_labels(y, list(teacher.classes_), teacher.multi_label)
    hard = Y if teacher.multi_label else np.eye(len(classes), dtype=np.float32)[Y]
    P = np.asarray(teacher.predict_proba(X), np.float32)
    return ((1 - weight) * hard + weight * P).astype(np.float32)


class ClipEnsemble(Persistent):
    """Fitted clip networks whose probabilities are averaged.

    Parameters
    ----------
    members : sequence of ClipClassifier
        Fitted networks with identical ``classes_``, ``multi_label`` and feature
        configuration (``allconv`` and ``lte-cnn`` members may be mixed).

    Attributes
    ----------
    classes_ : ndarray
        The members' classes (or tags), in output order.

    Raises
    ------
    ValueError
        No member, an unfitted member, or members that differ in classes, task or
        features.

    Examples
    --------
    >>> ens = ClipEnsemble([load_model("m0"), load_model("m1")])  # doctest: +SKIP
    >>> ens.save("runs/esc10-model/model")  # doctest: +SKIP
    """

    def __init__(self, members: Sequence[ClipClassifier]) -> None:
        members = list(members)
        if not members:
            raise ValueError("an ensemble needs at least one member")
        for i, m in enumerate(members):
            if not isinstance(m, ClipClassifier) or not hasattr(m, "network_"):
                raise ValueError(f"member {i} is not a fitted ClipClassifier")
        first = members[0]
        for i, m in enumerate(members[1:], start=1):
            if not np.array_equal(m.classes_, first.classes_):
                raise ValueError(f"member {i} has other classes than member 0")
            if bool(m.multi_label) != bool(first.multi_label):
                raise ValueError(f"member {i} and member 0 differ in multi_label")
            if m.fconfig.to_dict() != first.fconfig.to_dict():
                raise ValueError(f"member {i} reads other features than member 0")
            if m.n_frame_features_ != first.n_frame_features_:
                raise ValueError(f"member {i} reads another number of features per frame")
        self.members = members

    @property
    def classes_(self) -> np.ndarray:
        """The members' classes, in output order."""
        return self.members[0].classes_

    @property
    def multi_label(self) -> bool:
        """Whether the members tag (sigmoid outputs) rather than classify."""
        return bool(self.members[0].multi_label)

    @property
    def fconfig(self) -> FeatureConfig:
        """The feature configuration every member reads."""
        return self.members[0].fconfig

    def set_params(self, **params: Any) -> ClipEnsemble:
        """Set parameters of every member (e.g. ``progress=False``).

        Examples
        --------
        >>> ens.set_params(progress=False)  # doctest: +SKIP
        """
        for m in self.members:
            m.set_params(**params)
        return self

    def frames(self, path: str | os.PathLike) -> np.ndarray:
        """Features of one audio file, as :meth:`predict_proba` takes them.

        Examples
        --------
        >>> ens.frames("clip.wav").shape  # doctest: +SKIP
        (214, 64)
        """
        return self.members[0].frames(path)

    def predict_proba(self, X: Sequence[Any]) -> np.ndarray:
        """The mean of the members' :meth:`ClipClassifier.predict_proba`; audio paths in
        ``X`` are read once.

        Examples
        --------
        >>> ens.predict_proba(["c.wav"]).shape  # doctest: +SKIP
        (1, 10)
        """
        first = self.members[0]
        frames = as_frames(X, first.fconfig, first.n_frame_features_, False)
        return np.mean([m.predict_proba(frames) for m in self.members], axis=0)

    def predict_proba_file(self, path: str | os.PathLike, **kwargs: int) -> np.ndarray:
        """The mean of the members' :meth:`ClipClassifier.predict_proba_file` of one file
        of any length, read once in bounded memory (:func:`decision_functions_file`).

        Examples
        --------
        >>> ens.predict_proba_file("two_hours.flac").shape  # doctest: +SKIP
        (10,)
        """
        act = torch.sigmoid if self.multi_label else lambda z: torch.softmax(z, dim=1)
        return np.mean([act(torch.from_numpy(z[None])).numpy().astype(np.float64)[0]
                        for z in decision_functions_file(self.members, path, **kwargs)],
                       axis=0)

    def distil(self, X: Sequence[Any], y: Any, *, groups: Sequence[Any] | None = None,
               weight: float = 0.5) -> ClipClassifier:
        """One network trained on the ensemble's knowledge (knowledge distillation): a
        clone of member 0 (its settings and seed, hence its validation split, batches
        and augmentation) fitted on ``X`` with :func:`distillation_targets`, ``(1 -
        weight)`` times the labels plus ``weight`` times the ensemble's probabilities.
        Its epoch is chosen on the true labels of its validation split, as member 0's.

        Parameters
        ----------
        X : list of ndarray or paths
            Training clips, usually the ones the members trained on.
        y : array-like
            Their labels (tags for a tagging ensemble).
        groups : sequence or None
            Recording id per clip, for the validation split.
        weight : float
            Share of the ensemble's probabilities in the targets, in ``[0, 1]``.

        Returns
        -------
        ClipClassifier
            The fitted network (predicts at the cost of one member).

        Examples
        --------
        >>> student = ens.distil(X_train, y_train, groups=recordings)  # doctest: +SKIP
        >>> student.save("runs/esc10-distilled/model")  # doctest: +SKIP
        """
        from sklearn.base import clone

        targets = distillation_targets(self, X, y, weight=weight)
        return clone(self.members[0]).fit(X, y, groups=groups, classes=list(self.classes_),
                                          soft_targets=targets)

    def predict(self, X: Sequence[Any]) -> np.ndarray:
        """Labels of the mean probabilities, or for tags a binary matrix at 0.5.

        Examples
        --------
        >>> ens.predict(["c.wav"])  # doctest: +SKIP
        array(['dog'], dtype='<U4')
        """
        return labels_of(self.predict_proba(X), self.classes_, self.multi_label)

    def to_record(self) -> ModelRecord:
        """The members' records as children ``member0``, ``member1``, ...

        Examples
        --------
        >>> ens.to_record().kind  # doctest: +SKIP
        'ClipEnsemble'
        """
        return ModelRecord("ClipEnsemble", params={}, state={"n_members": len(self.members)},
                           arrays={}, children={f"member{i}": m.to_record()
                                                for i, m in enumerate(self.members)})

    @classmethod
    def from_record(cls, record: ModelRecord) -> ClipEnsemble:
        """Inverse of :meth:`to_record`.

        Examples
        --------
        >>> ClipEnsemble.from_record(ens.to_record())  # doctest: +SKIP
        """
        n = int(record.state["n_members"])
        return cls([ClipClassifier.from_record(record.children[f"member{i}"])
                    for i in range(n)])
