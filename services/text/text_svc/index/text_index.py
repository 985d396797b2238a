"""Persistent per-tenant text indexes: "have we published this, or something close, before?"

Adding a document stores its text, its normalised-text digest, its MinHash signature, one key
per LSH band, a sample of its shingle hashes and, for a semantic index, its embedding. A
near-duplicate query is one band-key lookup (a btree probe per band), a MinHash estimate over
the candidates' stored signatures, then the exact Jaccard of the survivors: no false positives,
and no scan of the index. A semantic query asks the vector index (pgvector HNSW, or the
blob-store matrix) for the nearest embeddings. A passage comparison aligns the submitted text
with the indexed documents that share the most sampled shingles (or LSH bands) with it.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from clipsift_common.errors import FailedPrecondition, InvalidArgument, ResourceExhausted, Unavailable

from ..dedup import html_report
from ..dedup.detector import Comparison, Detector
from ..dedup.minhash import lsh_params
from ..dedup.shingles import exact_jaccard, shingle_documents
from ..embeddings import Embedder
from ..settings import TextSettings
from .sketch import Layout, Sketches, signatures_from_bytes, sketch
from .store import AddOutcome, IndexRecord, IndexStore, NewDocuments, StoredDocument
from .vectors import VectorIndex

_INDEX_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_WORD = re.compile(r"\w")
MAX_ID_CHARS = 512
MAX_TITLE_CHARS = 2048
# A text with a NUL or more control characters than this share is binary data decoded by accident
# (man pages with backspace overstrikes stay well below it).
_MAX_CONTROL_SHARE = 0.3


@dataclass(frozen=True)
class Document:
    id: str
    text: str
    title: str = ""


@dataclass(frozen=True)
class Match:
    id: str
    title: str
    jaccard: float = 0.0
    exact: bool = False
    cosine: float = 0.0


@dataclass(frozen=True)
class QueryResult:
    matches: list[Match]
    semantic_matches: list[Match]
    threshold: float
    semantic_threshold: float
    candidates: int
    documents: int
    vector_backend: str


@dataclass(frozen=True)
class PassageMatch:
    id: str
    title: str
    comparison: Comparison
    html: str = ""


@dataclass(frozen=True)
class CompareResult:
    matches: list[PassageMatch]
    coverage: float
    words: int
    candidates: int


@dataclass(frozen=True)
class AddResult:
    outcome: AddOutcome
    created: bool


def _unit_interval(name: str, value: float, default: float) -> float:
    """``value`` in (0, 1], or ``default`` for 0 (unset on the wire)."""
    if value == 0:
        return default
    if not 0.0 < value <= 1.0 or math.isnan(value):
        raise InvalidArgument(f"{name} must be in (0, 1], got {value}")
    return value


def _check_binary(label: str, text: str) -> None:
    controls = len(_CONTROL.findall(text))
    if "\x00" in text or controls > _MAX_CONTROL_SHARE * len(text):
        raise InvalidArgument(f"{label} looks like binary data ({controls} control characters), not text")


class TextIndex:
    """The index operations behind IndexService and the index job. Tenants never meet: every
    lookup is by (tenant, name), and an index of another tenant is NotFound."""

    def __init__(
        self,
        settings: TextSettings,
        detector: Detector,
        store: IndexStore,
        vectors: VectorIndex | None = None,
        embedder: Embedder | None = None,
    ) -> None:
        self.settings = settings
        self.detector = detector
        self.store = store
        self.vectors = vectors
        self.embedder = embedder

    @property
    def vector_backend(self) -> str:
        return self.vectors.name if self.vectors is not None else ""

    def new_layout(self) -> Layout:
        bands, rows = lsh_params(round(self.settings.index_lsh_threshold, 4), self.settings.num_perm)
        return self._layout(self.settings.shingle_size, self.settings.num_perm, bands, rows)

    def _layout(self, shingle_size: int, num_perm: int, bands: int, rows: int) -> Layout:
        return Layout(shingle_size, num_perm, bands, rows, self.settings.index_fingerprint_sampling)

    def record_layout(self, record: IndexRecord) -> Layout:
        return self._layout(record.shingle_size, record.num_perm, record.bands, record.rows)

    # -- validation ------------------------------------------------------------------------------

    @staticmethod
    def _check_names(tenant: str, name: str) -> None:
        if not tenant:
            raise InvalidArgument("tenant is required")
        if not _INDEX_NAME.fullmatch(name):
            raise InvalidArgument(
                f"index name {name!r} must be 1-128 letters, digits, '.', '_' or '-', starting with a letter "
                "or digit"
            )

    def _check_text(self, label: str, text: str) -> None:
        if not text.strip():
            raise InvalidArgument(f"{label} is empty")
        if len(text) > self.settings.max_document_chars:
            raise ResourceExhausted(
                f"{label} has {len(text)} characters; the limit is {self.settings.max_document_chars}"
            )
        _check_binary(label, text)

    def validate_documents(self, documents: Sequence[Document], limit: int | None) -> None:
        """Every reason to refuse the batch, before anything is computed or written."""
        self.detector.validate_batch([d.id for d in documents], [d.text for d in documents], limit=limit)
        for doc in documents:
            if len(doc.id) > MAX_ID_CHARS:
                raise InvalidArgument(f"document id {doc.id[:40]!r}... is over {MAX_ID_CHARS} characters")
            if len(doc.title) > MAX_TITLE_CHARS:
                raise InvalidArgument(f"title of document {doc.id!r} is over {MAX_TITLE_CHARS} characters")
            _check_binary(f"document {doc.id!r}", doc.text)
            if not _WORD.search(doc.text):
                raise InvalidArgument(f"document {doc.id!r} contains no words")

    @staticmethod
    def _check_words(sketches: Sketches, labels: Sequence[str]) -> None:
        for index, count in enumerate(sketches.sets.sizes()):
            if count == 0:
                raise InvalidArgument(f"{labels[index]} contains no words")

    def _embedder(self) -> Embedder:
        if self.embedder is None or self.vectors is None:
            raise Unavailable("semantic indexes are not enabled on this server (no embedding model)")
        return self.embedder

    # -- operations ------------------------------------------------------------------------------

    async def add(
        self,
        tenant: str,
        name: str,
        documents: Sequence[Document],
        semantic: bool,
        limit: int | None = None,
    ) -> AddResult:
        """Store ``documents`` (replacing those with the same id); create the index if needed,
        semantic or not as asked (an existing index keeps what it was created as)."""
        self._check_names(tenant, name)
        self.validate_documents(
            documents, self.settings.index_max_documents_per_request if limit is None else limit
        )
        existing = await self.store.get(tenant, name)
        layout = self.record_layout(existing) if existing else self.new_layout()
        semantic = existing.semantic if existing else semantic
        texts = [d.text for d in documents]
        sketches = await asyncio.to_thread(sketch, texts, layout)
        self._check_words(sketches, [f"document {d.id!r}" for d in documents])
        embeddings = await self._embedder().embed(texts) if semantic else None
        async with self.store.writing(tenant, name, (layout, semantic)) as (conn, record, created):
            if self.record_layout(record) != layout or record.semantic != semantic:
                raise FailedPrecondition(f"index {name!r} was re-created while adding; try again")
            outcome = await self.store.add(
                conn,
                record,
                NewDocuments(
                    [d.id for d in documents], [d.title for d in documents], texts, sketches, embeddings
                ),
            )
            if embeddings is not None:
                assert self.vectors is not None  # _embedder() checked
                await self.vectors.add(conn, record, outcome.document_ids, embeddings)
        return AddResult(outcome, created)

    async def query(
        self,
        tenant: str,
        name: str,
        text: str,
        threshold: float = 0.0,
        limit: int = 0,
        semantic: bool = False,
        semantic_threshold: float = 0.0,
    ) -> QueryResult:
        """Indexed near-duplicates of ``text`` (exact Jaccard >= threshold), most similar first,
        and with ``semantic`` its nearest indexed documents by embedding."""
        self._check_names(tenant, name)
        resolved = _unit_interval("threshold", threshold, self.settings.default_threshold)
        cosine = _unit_interval("semantic_threshold", semantic_threshold, self.settings.semantic_threshold)
        count = self._limit(limit)
        self._check_text("the query text", text)
        record = await self.store.require(tenant, name)
        if semantic and not record.semantic:
            raise FailedPrecondition(
                f"index {name!r} was created without embeddings: semantic queries need an index created "
                "with semantic enabled"
            )
        query = await asyncio.to_thread(sketch, [text], self.record_layout(record))
        self._check_words(query, ["the query text"])
        candidates = await self.store.band_candidates(
            record, query.band_keys[0], self.settings.index_max_candidates
        )
        matches = await self._verify(record, query, candidates, resolved, count)
        semantic_matches: list[Match] = []
        if semantic:
            semantic_matches = await self._nearest(record, text, cosine, count)
        return QueryResult(
            matches=matches,
            semantic_matches=semantic_matches,
            threshold=resolved,
            semantic_threshold=cosine,
            candidates=len(candidates),
            documents=record.documents,
            vector_backend=self.vector_backend if semantic else "",
        )

    def _limit(self, limit: int) -> int:
        if limit > self.settings.index_max_limit:
            raise InvalidArgument(f"limit must be at most {self.settings.index_max_limit}, got {limit}")
        return limit or self.settings.index_default_limit

    async def _verify(
        self,
        record: IndexRecord,
        query: Sketches,
        stored: Sequence[StoredDocument],
        threshold: float,
        count: int,
    ) -> list[Match]:
        if not stored:
            return []
        sigs = signatures_from_bytes([c.signature for c in stored], record.num_perm)
        estimates = np.mean(sigs == query.signatures[0], axis=1)
        # Four standard errors of the MinHash estimate (at its widest, J = 0.5) below the threshold:
        # a pair at the threshold is dropped here with probability ~3e-5.
        margin = 4 * 0.5 / math.sqrt(record.num_perm)
        digest = query.digests[0]
        keep = [c for c, e in zip(stored, estimates.tolist(), strict=True) if e >= threshold - margin]
        exact = [c for c in keep if c.content_sha1 == digest]
        near = [c for c in keep if c.content_sha1 != digest]
        matches = [Match(c.external_id, c.title, 1.0, True) for c in exact]
        if near:
            bodies = await self.store.bodies(record, [c.id for c in near])
            present = [c for c in near if c.id in bodies]
            texts = [bodies[c.id][2] for c in present]

            def jaccards() -> list[float]:
                sets = shingle_documents(texts, record.shingle_size)
                mine = query.sets.of(0)
                return [exact_jaccard(mine, sets.of(i)) for i in range(len(present))]

            for c, value in zip(present, await asyncio.to_thread(jaccards), strict=True):
                if value >= threshold:
                    matches.append(Match(c.external_id, c.title, value, False))
        matches.sort(key=lambda m: (-m.jaccard, not m.exact, m.id))
        return matches[:count]

    async def _nearest(self, record: IndexRecord, text: str, threshold: float, count: int) -> list[Match]:
        vector = (await self._embedder().embed([text]))[0]
        assert self.vectors is not None
        # Ask for more than needed: deleted documents' vectors may still come back (see vectors.py).
        found = await self.vectors.search(record, vector, count * 2 + 10)
        close = [(doc_id, cos) for doc_id, cos in found if cos >= threshold]
        names = await self.store.titles(record, [doc_id for doc_id, _ in close])
        return [
            Match(names[doc_id][0], names[doc_id][1], cosine=cos) for doc_id, cos in close if doc_id in names
        ][:count]

    async def compare(
        self, tenant: str, name: str, text: str, limit: int = 0, min_words: int = 0, html: bool = False
    ) -> CompareResult:
        """The indexed documents sharing passages with ``text``, largest coverage of it first."""
        self._check_names(tenant, name)
        count = self._limit(limit) if limit else 5
        self._check_text("the submitted text", text)
        record = await self.store.require(tenant, name)
        query = await asyncio.to_thread(sketch, [text], self.record_layout(record))
        self._check_words(query, ["the submitted text"])
        # Candidates: most shared sampled shingles (passages), then most shared bands (whole-document
        # similarity, which also covers texts too short to keep a sampled shingle).
        by_passage = await self.store.fingerprint_candidates(record, query.fingerprints[0], count * 4)
        by_bands = await self.store.band_candidates(record, query.band_keys[0], count * 4)
        ids = list(dict.fromkeys([*by_passage, *(c.id for c in by_bands)]))
        bodies = await self.store.bodies(record, ids)

        def align_all() -> list[PassageMatch]:
            found = []
            for doc_id in ids:
                if doc_id not in bodies:
                    continue
                external_id, title, body = bodies[doc_id]
                comparison = self.detector.compare(text, body, min_words)
                if comparison.alignment.passages:
                    found.append(PassageMatch(external_id, title, comparison))
            found.sort(key=lambda m: (-m.comparison.alignment.coverage_a, -m.comparison.exact_jaccard, m.id))
            return found[:count]

        matches = await asyncio.to_thread(align_all)
        words = matches[0].comparison.alignment.words_a if matches else 0
        covered = np.zeros(words, dtype=bool)
        for match in matches:
            for p in match.comparison.alignment.passages:
                covered[p.a_word : p.a_word_end] = True
        if html:
            body_of = {external_id: body for external_id, _, body in bodies.values()}

            def render(match: PassageMatch) -> PassageMatch:
                page = html_report.render(
                    text,
                    body_of[match.id],
                    match.comparison.alignment,
                    match.comparison.exact_jaccard,
                    title_a="submitted",
                    title_b=match.title or match.id,
                )
                return PassageMatch(match.id, match.title, match.comparison, page)

            matches = [await asyncio.to_thread(render, m) for m in matches]
        return CompareResult(
            matches=matches,
            coverage=float(covered.mean()) if words else 0.0,
            words=words,
            candidates=len(bodies),
        )

    async def delete_document(self, tenant: str, name: str, document_id: str) -> int:
        self._check_names(tenant, name)
        if not document_id:
            raise InvalidArgument("document id is required")
        return await self.store.delete_document(tenant, name, document_id)

    async def delete_index(self, tenant: str, name: str) -> int:
        self._check_names(tenant, name)
        async with self.store.writing(tenant, name, None) as (conn, record, _):
            await self.store.delete_index(conn, record)
        if self.vectors is not None and record.semantic:
            await self.vectors.drop(record)
        return record.documents

    async def list_indexes(self, tenant: str) -> list[IndexRecord]:
        if not tenant:
            raise InvalidArgument("tenant is required")
        return await self.store.list_indexes(tenant)

    async def get(self, tenant: str, name: str) -> IndexRecord:
        self._check_names(tenant, name)
        return await self.store.require(tenant, name)
