"""Fine-tuning for real on a tiny dataset: it learns, it is deterministic, its saved files load in
the text service's classifier with the same outputs, and it runs on CUDA where there is one."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from text_svc.predict.classifiers import TextClassifier
from training_svc.dataset import load_dataset
from training_svc.settings import DatasetLimits, TrainingSettings
from training_svc.split import split_dataset
from training_svc.tracking import NoTracker, make_tracker
from training_svc.trainer import StepReport, TrainParams, fine_tune, predict_proba, save_model

from .conftest import DATA, FAST, read_examples

pytestmark = pytest.mark.slow
PARAMS = TrainParams(seed=13, **FAST)


def _accuracy(labels: list[str], probabilities: np.ndarray, expected: list[str]) -> float:
    predicted = [labels[i] for i in probabilities.argmax(axis=1)]
    return sum(p == e for p, e in zip(predicted, expected, strict=True)) / len(expected)


def test_fine_tune_learns_reports_steps_and_reloads(base_model: str, tmp_path: Path) -> None:
    dataset = load_dataset(DATA / "topics.csv", "csv", DatasetLimits())
    split = split_dataset(dataset, 0.2, 13)
    reports: list[StepReport] = []
    trained = fine_tune(base_model, split.train, dataset.labels, PARAMS, "cpu", reports.append)
    assert [r.step for r in reports] == list(range(1, 9))
    assert {r.epoch for r in reports} == {1, 2}
    assert all(r.total_steps == 8 and r.loss > 0 for r in reports)
    assert len(trained.epoch_losses) == 2
    assert trained.epoch_losses[1] < trained.epoch_losses[0]
    held_out = read_examples(DATA / "heldout.csv")
    texts = [e.text for e in held_out]
    probabilities = predict_proba(trained, texts, batch_size=5)
    assert probabilities.shape == (12, 3)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    assert _accuracy(dataset.labels, probabilities, [e.label for e in held_out]) > 2 / 3

    files = save_model(trained, tmp_path / "model", {"name": "topics"})
    names = {p.name for p in files}
    assert {"config.json", "model.safetensors", "tokenizer.json", "clipsift.json"} <= names
    meta = json.loads((tmp_path / "model" / "clipsift.json").read_text())
    assert meta == {"labels": dataset.labels, "max_length": 32, "name": "topics"}
    served = TextClassifier(tmp_path / "model", dataset.labels, 32, "cpu")
    np.testing.assert_allclose(served.predict(texts), probabilities, atol=1e-5)
    with pytest.raises(ValueError, match="differ from the model"):
        TextClassifier(tmp_path / "model", ["x", "y", "z"], 32, "cpu")


def test_same_seed_same_model(base_model: str) -> None:
    dataset = load_dataset(DATA / "topics.csv", "csv", DatasetLimits())
    train = split_dataset(dataset, 0.2, 13).train[:12]
    params = TrainParams(epochs=1, batch_size=6, learning_rate=1e-4, max_length=16, seed=5)
    losses = [fine_tune(base_model, train, dataset.labels, params, "cpu").epoch_losses for _ in range(2)]
    assert losses[0] == losses[1]


def test_missing_base_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"config\.json missing"):
        fine_tune(str(tmp_path), [], ["a", "b"], PARAMS, "cpu")


def test_tracking_is_off_unless_configured(tmp_path: Path) -> None:
    settings = TrainingSettings(
        nats_url="nats://unused", database_url="postgresql://unused", blob_dir=tmp_path
    )
    assert isinstance(make_tracker(settings), NoTracker)


def test_mlflow_tracking_when_installed(tmp_path: Path) -> None:
    mlflow = pytest.importorskip("mlflow", reason="mlflow is optional and not installed here")
    uri = (tmp_path / "mlruns").as_uri()
    settings = TrainingSettings(
        nats_url="nats://unused",
        database_url="postgresql://unused",
        blob_dir=tmp_path,
        mlflow_tracking_uri=uri,
    )
    tracker = make_tracker(settings)
    tracker.log_run("topics-v1", {"epochs": 2}, {"macro_f1": 0.9}, {"tenant": "acme"}, [0.9, 0.5])
    mlflow.set_tracking_uri(uri)
    runs = mlflow.search_runs(experiment_names=["clipsift"])
    assert list(runs["metrics.macro_f1"]) == [0.9]


@pytest.mark.gpu
@pytest.mark.skipif(not __import__("torch").cuda.is_available(), reason="needs a CUDA GPU")
def test_fine_tune_on_cuda_matches_cpu_quality(base_model: str) -> None:
    dataset = load_dataset(DATA / "topics.csv", "csv", DatasetLimits())
    split = split_dataset(dataset, 0.2, 13)
    trained = fine_tune(base_model, split.train, dataset.labels, PARAMS, "cuda")
    assert trained.device == "cuda"
    assert next(trained.model.parameters()).is_cuda
    held_out = read_examples(DATA / "heldout.csv")
    probabilities = predict_proba(trained, [e.text for e in held_out], batch_size=16)
    assert _accuracy(dataset.labels, probabilities, [e.label for e in held_out]) > 2 / 3
