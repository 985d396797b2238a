"""Validation metrics against values worked out by hand."""

from __future__ import annotations

import pytest

from training_svc.evaluation import evaluate


def test_metrics_by_hand() -> None:
    labels = ["a", "b", "c"]
    expected = ["a", "a", "a", "b", "b", "c"]
    predicted = ["a", "a", "b", "b", "c", "b"]
    metrics = evaluate(labels, expected, predicted)
    assert metrics["accuracy"] == pytest.approx(3 / 6)
    assert metrics["confusion_matrix"] == [[2, 1, 0], [0, 1, 1], [0, 1, 0]]
    a, b, c = (metrics["per_class"][label] for label in labels)
    assert (a["precision"], a["recall"], a["support"]) == (1.0, pytest.approx(2 / 3), 3)
    assert (b["precision"], b["recall"]) == (pytest.approx(1 / 3), 0.5)
    # Never predicted: precision 0 rather than undefined, so macro-F1 counts the miss.
    assert (c["precision"], c["recall"], c["f1"]) == (0.0, 0.0, 0.0)
    f1_a, f1_b = 2 * 1 * (2 / 3) / (1 + 2 / 3), 2 * (1 / 3) * 0.5 / (1 / 3 + 0.5)
    assert metrics["macro_f1"] == pytest.approx((f1_a + f1_b + 0) / 3)
    assert metrics["examples"] == 6


def test_refuses_mismatched_or_empty_input() -> None:
    with pytest.raises(ValueError, match="2 expected labels but 1 predictions"):
        evaluate(["a", "b"], ["a", "b"], ["a"])
    with pytest.raises(ValueError, match="no validation examples"):
        evaluate(["a", "b"], [], [])
