"""Opening the persistent indexes: migrations, the connection pool and the vector backend."""

from __future__ import annotations

import logging

from psycopg_pool import AsyncConnectionPool

from clipsift_common.db import migrate, open_pool
from clipsift_common.objectstore import ObjectBlobStore
from clipsift_common.settings import DatabaseSettings

from ..dedup.detector import Detector
from ..embeddings import Embedder
from ..settings import TextSettings
from .store import IndexStore
from .text_index import TextIndex
from .vectors import BlobVectorIndex, PgVectorIndex, VectorIndex, pgvector_dimensions

log = logging.getLogger(__name__)
MIGRATIONS = "text_svc.index.migrations"


async def choose_vectors(
    settings: TextSettings, pool: AsyncConnectionPool, store: IndexStore, blobs: ObjectBlobStore
) -> VectorIndex:
    """pgvector where the database has it (and settings allow), else the blob-store index."""
    dimensions = await pgvector_dimensions(pool)
    wanted = settings.index_vector_backend
    if wanted == "pgvector" and dimensions is None:
        raise RuntimeError("index_vector_backend is 'pgvector' but the database has no pgvector extension")
    if wanted != "blob" and dimensions is not None:
        return PgVectorIndex(pool, dimensions)
    return BlobVectorIndex(blobs, store, settings.index_max_segments)


async def open_text_index(
    settings: TextSettings, detector: Detector, embedder: Embedder | None, blobs: ObjectBlobStore
) -> tuple[TextIndex, AsyncConnectionPool]:
    """Migrate the database and build the index; the caller closes the returned pool."""
    if not settings.database_url:
        raise RuntimeError("persistent indexes need database_url")
    await migrate(settings.database_url, "text", MIGRATIONS)
    database = DatabaseSettings(
        database_url=settings.database_url, db_pool_min=settings.db_pool_min, db_pool_max=settings.db_pool_max
    )
    pool = await open_pool(database)
    store = IndexStore(pool)
    vectors = await choose_vectors(settings, pool, store, blobs)
    log.info("persistent indexes ready", extra={"vector_backend": vectors.name})
    return TextIndex(settings, detector, store, vectors, embedder), pool
