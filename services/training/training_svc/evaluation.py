"""Validation metrics of a classifier: accuracy, macro-F1, per-class precision/recall/F1 and the
confusion matrix (scikit-learn)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def evaluate(labels: list[str], expected: Sequence[str], predicted: Sequence[str]) -> dict[str, Any]:
    """Metrics of ``predicted`` against ``expected`` over the classes ``labels``.

    ``confusion_matrix[i][j]`` counts examples of class ``labels[i]`` predicted as ``labels[j]``.
    A class never predicted has precision 0 (not undefined), so macro-F1 punishes ignoring a class.
    """
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

    if len(expected) != len(predicted):
        raise ValueError(f"{len(expected)} expected labels but {len(predicted)} predictions")
    if not expected:
        raise ValueError("nothing to evaluate: no validation examples")
    precision, recall, f1, support = precision_recall_fscore_support(
        expected, predicted, labels=labels, zero_division=0
    )
    return {
        "accuracy": float(accuracy_score(expected, predicted)),
        "macro_f1": float(f1_score(expected, predicted, labels=labels, average="macro", zero_division=0)),
        "per_class": {
            label: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, label in enumerate(labels)
        },
        "labels": list(labels),
        "confusion_matrix": confusion_matrix(expected, predicted, labels=labels).tolist(),
        "examples": len(expected),
    }
