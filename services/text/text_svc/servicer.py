"""gRPC TextService: synchronous similarity and duplicate search for request-sized inputs."""

from __future__ import annotations

import asyncio

import grpc

from clipsift.text.v1 import text_pb2, text_pb2_grpc

from .detector import Detector
from .minhash import DuplicateResult
from .report import clusters_by_id


class TextServicer(text_pb2_grpc.TextServiceServicer):
    def __init__(self, detector: Detector) -> None:
        self.detector = detector

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
    )
