"""scikit-learn's estimator checks on the label tree embedder and the clip baselines.

These estimators take lists of ``(frames x features)`` clips; one 2-D array is read as
clips of one frame each, which is what the checks feed them. Small models keep the
checks fast. No check is expected to fail.
"""

from __future__ import annotations

from typing import Any

from sklearn.utils.estimator_checks import parametrize_with_checks

from audioscene.features.lte import LabelTreeEmbedder
from audioscene.models.clip_baselines import ForestClipClassifier, GMMClassifier, GMMTagger

ESTIMATORS = [
    LabelTreeEmbedder(n_estimators=5, n_folds=2),
    GMMClassifier(n_components=2),
    GMMTagger(n_components=2),
    ForestClipClassifier(n_estimators=10),
]

#: Checks that cannot apply, per estimator class, with the reason (none at present).
EXPECTED_FAILED_CHECKS: dict[str, dict[str, str]] = {}


def _expected_failed_checks(estimator: Any) -> dict[str, str]:
    return EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {})


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failed_checks)
def test_sklearn_estimator_checks(estimator: Any, check: Any) -> None:
    check(estimator)
