"""Optional experiment tracking. MLflow, when ``mlflow_tracking_uri`` is set and the ``mlflow``
package is installed; otherwise nothing is tracked and nothing is required (offline by default).
A tracker that fails never fails the training job: the model and its metrics are already stored."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Protocol

from .settings import TrainingSettings

log = logging.getLogger(__name__)


class Tracker(Protocol):
    def log_run(
        self,
        run_name: str,
        params: Mapping[str, Any],
        metrics: Mapping[str, float],
        tags: Mapping[str, str],
        epoch_losses: list[float],
    ) -> None: ...


class NoTracker:
    """Tracks nothing."""

    def log_run(
        self,
        run_name: str,
        params: Mapping[str, Any],
        metrics: Mapping[str, float],
        tags: Mapping[str, str],
        epoch_losses: list[float],
    ) -> None:
        return None


class MlflowTracker:
    """One MLflow run per trained version: parameters, final metrics, the loss of every epoch."""

    def __init__(self, tracking_uri: str, experiment: str) -> None:
        import mlflow

        self._mlflow = mlflow
        self.tracking_uri = tracking_uri
        self.experiment = experiment

    def log_run(
        self,
        run_name: str,
        params: Mapping[str, Any],
        metrics: Mapping[str, float],
        tags: Mapping[str, str],
        epoch_losses: list[float],
    ) -> None:
        mlflow = self._mlflow
        mlflow.set_tracking_uri(self.tracking_uri)
        mlflow.set_experiment(self.experiment)
        with mlflow.start_run(run_name=run_name, tags=dict(tags)):
            mlflow.log_params(dict(params))
            mlflow.log_metrics(dict(metrics))
            for epoch, loss in enumerate(epoch_losses, start=1):
                mlflow.log_metric("train_loss", loss, step=epoch)


def make_tracker(settings: TrainingSettings) -> Tracker:
    if not settings.mlflow_tracking_uri:
        return NoTracker()
    try:
        return MlflowTracker(settings.mlflow_tracking_uri, settings.mlflow_experiment)
    except ImportError:
        log.warning("mlflow_tracking_uri is set but mlflow is not installed: runs are not tracked")
        return NoTracker()


def track_safely(tracker: Tracker, **run: Any) -> None:
    """Log a run; a tracker that is down costs a warning, not the job."""
    try:
        tracker.log_run(**run)
    except Exception:
        log.warning("experiment tracker failed; the model is stored regardless", exc_info=True)
