"""Estimator bases that follow scikit-learn's protocol without importing scikit-learn.

scikit-learn's ``BaseEstimator`` costs about 125 MB of resident memory and a second of
start-up (its import pulls in pandas and pyarrow when they are installed). A detection
process needs none of it: the CaR-forest and the event detector are numpy and numba code.
:class:`Estimator` gives those models what scikit-learn's tools expect of an estimator
(``get_params``/``set_params`` read from ``__init__``'s signature, a repr listing the
parameters that differ from their defaults, ``__sklearn_tags__``), and imports
scikit-learn only when scikit-learn itself asks for tags, when a classifier is scored, or
when an unfitted model is used (to raise scikit-learn's ``NotFittedError``).
``sklearn.base.clone``, ``GridSearchCV`` and ``check_estimator`` work with these classes
as with scikit-learn's own.

Examples
--------
>>> class Scaler(Estimator):
...     def __init__(self, factor: float = 1.0) -> None:
...         self.factor = factor
>>> s = Scaler(factor=2.0)
>>> s
Scaler(factor=2.0)
>>> s.set_params(factor=3.0).get_params()
{'factor': 3.0}
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

__all__ = ["Estimator", "ClassifierEstimator", "check_fitted"]


def check_fitted(estimator: Any, attribute: str) -> None:
    """Raise scikit-learn's ``NotFittedError`` unless ``estimator`` has ``attribute``.

    Parameters
    ----------
    estimator : object
        The model.
    attribute : str
        An attribute that ``fit`` sets (e.g. ``"trees_"``).

    Examples
    --------
    >>> class Model(Estimator):
    ...     pass
    >>> check_fitted(Model(), "coef_")
    Traceback (most recent call last):
    ...
    sklearn.exceptions.NotFittedError: This Model instance is not fitted yet. Call 'fit' with appropriate arguments before using this estimator.
    """
    if not hasattr(estimator, attribute):
        from sklearn.exceptions import NotFittedError

        raise NotFittedError(f"This {type(estimator).__name__} instance is not fitted yet. "
                             "Call 'fit' with appropriate arguments before using this "
                             "estimator.")


def _same(a: Any, b: Any) -> bool:
    if a is b:
        return True
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return False
    try:
        return bool(a == b) and type(a) is type(b)
    except Exception:  # noqa: BLE001  (objects whose == is not a truth value)
        return False


class Estimator:
    """Base of a model whose parameters are its ``__init__`` keyword arguments, each kept
    unchanged as an attribute of the same name (scikit-learn's convention).

    Examples
    --------
    >>> from audioscene.models import EventDetector
    >>> EventDetector(n_estimators=5)
    EventDetector(n_estimators=5)
    """

    @classmethod
    def _get_param_names(cls) -> list[str]:
        init = cls.__init__
        if init is object.__init__:
            return []
        params = inspect.signature(init).parameters.values()
        for p in params:
            if p.kind == p.VAR_POSITIONAL:
                raise RuntimeError(f"{cls.__name__} must not take *args in __init__")
        return sorted(p.name for p in params if p.name != "self" and p.kind != p.VAR_KEYWORD)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The parameters, by name (with ``deep``, also those of estimator parameters,
        as ``name__param``).

        Parameters
        ----------
        deep : bool
            Include the parameters of parameters that are estimators.

        Returns
        -------
        dict

        Examples
        --------
        >>> from audioscene.models import CaRForest
        >>> CaRForest(n_estimators=4).get_params()["n_estimators"]
        4
        """
        out: dict[str, Any] = {}
        for key in self._get_param_names():
            value = getattr(self, key)
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                out.update((f"{key}__{k}", v) for k, v in value.get_params().items())
            out[key] = value
        return out

    def set_params(self, **params: Any) -> Estimator:
        """Set parameters (``name__param`` reaches into an estimator parameter).

        Parameters
        ----------
        **params
            New values.

        Returns
        -------
        self

        Examples
        --------
        >>> from audioscene.models import CaRForest
        >>> CaRForest().set_params(max_depth=8).max_depth
        8
        """
        if not params:
            return self
        valid = self.get_params(deep=True)
        nested: dict[str, dict[str, Any]] = {}
        for key, value in params.items():
            key, sep, sub = key.partition("__")
            if key not in valid:
                raise ValueError(f"Invalid parameter {key!r} for estimator {self}. Valid "
                                 f"parameters are: {self._get_param_names()!r}.")
            if sep:
                nested.setdefault(key, {})[sub] = value
            else:
                setattr(self, key, value)
                valid[key] = value
        for key, sub_params in nested.items():
            valid[key].set_params(**sub_params)
        return self

    def __repr__(self) -> str:
        sig = inspect.signature(type(self).__init__).parameters
        changed = []
        for name in self._get_param_names():
            value = getattr(self, name)
            default = sig[name].default
            if default is inspect.Parameter.empty or not _same(value, default):
                changed.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(changed)})"

    def __sklearn_tags__(self) -> Any:
        """scikit-learn's default estimator tags (imports scikit-learn)."""
        from sklearn.utils import Tags, TargetTags

        return Tags(estimator_type=None, target_tags=TargetTags(required=False),
                    transformer_tags=None, regressor_tags=None, classifier_tags=None)


class ClassifierEstimator(Estimator):
    """:class:`Estimator` of a classifier: scikit-learn's classifier tags and a
    ``score`` that is the mean accuracy.

    Examples
    --------
    >>> from audioscene.models import CaRForest
    >>> from sklearn.base import is_classifier
    >>> is_classifier(CaRForest())
    True
    """

    def __sklearn_tags__(self) -> Any:
        """scikit-learn's classifier tags (imports scikit-learn)."""
        from sklearn.utils import ClassifierTags

        tags = super().__sklearn_tags__()
        tags.estimator_type = "classifier"
        tags.classifier_tags = ClassifierTags()
        tags.target_tags.required = True
        return tags

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Mean accuracy of ``predict(X)`` against ``y``.

        Parameters
        ----------
        X : array-like
            Inputs.
        y : array-like
            True labels.
        sample_weight : array-like or None
            Weights of the samples.

        Returns
        -------
        float

        Examples
        --------
        >>> import numpy as np
        >>> from audioscene.models import CaRForest
        >>> X = np.r_[np.zeros((20, 2)), np.ones((20, 2))].astype(np.float32)
        >>> y = np.r_[np.zeros(20), np.ones(20)]
        >>> CaRForest(n_estimators=3, min_samples_leaf=1).fit(X, y).score(X, y)
        1.0
        """
        from sklearn.metrics import accuracy_score

        return float(accuracy_score(y, self.predict(X), sample_weight=sample_weight))
