"""gRPC TextService: synchronous similarity and duplicate search for request-sized inputs."""

from __future__ import annotations

import asyncio

import grpc

from clipsift.text.v1 import text_pb2, text_pb2_grpc
from clipsift_common.errors import Unavailable

from . import html_report, semantic
from .detector import Comparison, Detector
from .minhash import DuplicateResult
from .report import clusters_by_id, exact_groups_by_id
from .semantic import SemanticDetector


class TextServicer(text_pb2_grpc.TextServiceServicer):
    def __init__(self, detector: Detector, semantic: SemanticDetector | None = None) -> None:
        self.detector = detector
        # Optional so that a server without the embedding model (tests of the MinHash side) still
        # answers everything else; the service's __main__ always passes one.
        self.semantic = semantic

    def _semantic(self) -> SemanticDetector:
        if self.semantic is None:
            raise Unavailable("semantic duplicate detection is not enabled on this server")
        return self.semantic

    async def Similarity(
        self, request: text_pb2.SimilarityRequest, context: grpc.aio.ServicerContext
    ) -> text_pb2.SimilarityResponse:
        # CPU-bound numpy work runs off the event loop so health checks stay responsive.
        result = await asyncio.to_thread(
            self.detector.similarity, request.a, request.b, request.options.shingle_size
        )
        return text_pb2.SimilarityResponse(
            estimated_jaccard=result.estimated,
            exact_jaccard=result.exact,
            shingles_a=result.shingles_a,
            shingles_b=result.shingles_b,
            num_perm=result.num_perm,
        )

    async def Compare(
        self, request: text_pb2.CompareRequest, context: grpc.aio.ServicerContext
    ) -> text_pb2.CompareResponse:
        result = await asyncio.to_thread(self.detector.compare, request.a, request.b, request.min_words)
        page = ""
        if request.html:
            page = await asyncio.to_thread(
                html_report.render, request.a, request.b, result.alignment, result.exact_jaccard
            )
        return compare_response(result, page)

    async def FindDuplicates(
        self, request: text_pb2.FindDuplicatesRequest, context: grpc.aio.ServicerContext
    ) -> text_pb2.FindDuplicatesResponse:
        ids = [d.id for d in request.documents]
        texts = [d.text for d in request.documents]
        result, threshold = await asyncio.to_thread(
            self.detector.find_duplicates,
            ids,
            texts,
            request.threshold,
            request.options.shingle_size,
            None,
            self.detector.settings.max_documents_per_request,
        )
        return to_response(ids, result, threshold)

    async def FindSemanticDuplicates(
        self, request: text_pb2.FindSemanticDuplicatesRequest, context: grpc.aio.ServicerContext
    ) -> text_pb2.FindSemanticDuplicatesResponse:
        detector = self._semantic()
        ids = [d.id for d in request.documents]
        result, threshold = await detector.find(ids, [d.text for d in request.documents], request.threshold)
        model = detector.embedder.model
        return text_pb2.FindSemanticDuplicatesResponse(
            clusters=[
                text_pb2.SemanticCluster(
                    document_ids=c["document_ids"],
                    pairs=[text_pb2.SemanticPair(**p) for p in c["pairs"]],
                    max_cosine=c["max_cosine"],
                    min_cosine=c["min_cosine"],
                )
                for c in semantic.clusters_by_id(ids, result)
            ],
            documents=len(ids),
            threshold=threshold,
            model=model.name,
            dimensions=model.dimensions,
        )

    async def Embed(
        self, request: text_pb2.EmbedRequest, context: grpc.aio.ServicerContext
    ) -> text_pb2.EmbedResponse:
        detector = self._semantic()
        vectors = await detector.embed(list(request.texts))
        model = detector.embedder.model
        return text_pb2.EmbedResponse(
            vectors=[text_pb2.Vector(values=row.tolist()) for row in vectors],
            model=model.name,
            dimensions=model.dimensions,
        )


def to_response(ids: list[str], result: DuplicateResult, threshold: float) -> text_pb2.FindDuplicatesResponse:
    clusters = [
        text_pb2.Cluster(
            document_ids=c["document_ids"],
            pairs=[text_pb2.DuplicatePair(**p) for p in c["pairs"]],
            max_jaccard=c["max_jaccard"],
            min_jaccard=c["min_jaccard"],
        )
        for c in clusters_by_id(ids, result)
    ]
    return text_pb2.FindDuplicatesResponse(
        clusters=clusters,
        documents=len(ids),
        candidate_pairs=result.candidate_pairs,
        verified_pairs=len(result.pairs),
        threshold=threshold,
        bands=result.bands,
        rows=result.rows,
        exact_groups=[text_pb2.ExactGroup(**g) for g in exact_groups_by_id(ids, result)],
        exact_pairs=result.exact_pairs,
    )


def compare_response(result: Comparison, page: str = "") -> text_pb2.CompareResponse:
    """The wire form of a comparison (and its HTML report, when rendered)."""
    alignment = result.alignment
    return text_pb2.CompareResponse(
        passages=[
            text_pb2.Passage(
                a_start=p.a_start,
                a_end=p.a_end,
                b_start=p.b_start,
                b_end=p.b_end,
                words_a=p.a_word_end - p.a_word,
                words_b=p.b_word_end - p.b_word,
            )
            for p in alignment.passages
        ],
        coverage_a=alignment.coverage_a,
        coverage_b=alignment.coverage_b,
        exact_jaccard=result.exact_jaccard,
        words_a=alignment.words_a,
        words_b=alignment.words_b,
        min_words=result.min_words,
        html=page,
    )
