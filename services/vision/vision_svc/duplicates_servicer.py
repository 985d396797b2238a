"""gRPC ImageDuplicateService: clusters within a set, and the per-tenant index."""

from __future__ import annotations

import asyncio

import grpc

from clipsift.vision.v1 import duplicates_pb2, duplicates_pb2_grpc
from clipsift_common.errors import FailedPrecondition, InvalidArgument

from .analysis import ImageAnalyzer
from .duplicates import Signature, SignatureMatrix, Thresholds, compare, find_clusters
from .index_store import ImageIndex, IndexedImage
from .settings import VisionSettings

_MAX_ID = 512


def default_thresholds(settings: VisionSettings) -> Thresholds:
    return Thresholds(
        max_hash_distance=settings.dup_max_hash_distance,
        min_hashes=settings.dup_min_hashes,
        min_similarity=settings.dup_min_similarity,
        min_similarity_with_hashes=settings.dup_min_similarity_with_hashes,
        max_hash_sum=settings.dup_max_hash_sum,
        use_embeddings=settings.dup_use_embeddings,
    )


class ImageDuplicateServicer(duplicates_pb2_grpc.ImageDuplicateServiceServicer):
    def __init__(self, analyzer: ImageAnalyzer, index: ImageIndex | None) -> None:
        """``index``: None when no database is configured (the index RPCs then fail clearly)."""
        self.analyzer = analyzer
        self.settings = analyzer.settings
        self.index = index
        self.thresholds = default_thresholds(analyzer.settings)

    async def FindDuplicateImages(
        self, request: duplicates_pb2.FindDuplicateImagesRequest, context: grpc.aio.ServicerContext
    ) -> duplicates_pb2.FindDuplicateImagesResponse:
        thresholds = self.thresholds.merged(request.thresholds)
        ids = _ids(list(request.images), self.settings.max_duplicate_images, self.analyzer)
        signatures = await self._signatures(list(request.images), ids, thresholds.use_embeddings)
        clusters = await asyncio.to_thread(find_clusters, signatures, thresholds)
        return duplicates_pb2.FindDuplicateImagesResponse(
            clusters=[
                duplicates_pb2.ImageCluster(
                    image_ids=[ids[i] for i in cluster.members],
                    pairs=[
                        duplicates_pb2.DuplicatePair(a=ids[i], b=ids[j], evidence=evidence.to_proto())
                        for i, j, evidence in cluster.pairs
                    ],
                )
                for cluster in clusters
            ],
            images=len(ids),
            thresholds=thresholds.to_proto(),
        )

    async def IndexImages(
        self, request: duplicates_pb2.IndexImagesRequest, context: grpc.aio.ServicerContext
    ) -> duplicates_pb2.IndexImagesResponse:
        index = self._index(request.tenant_id)
        ids = _ids(list(request.images), self.settings.max_images_per_request, self.analyzer)
        decoded = await self.analyzer.decode_all(
            [named.image for named in request.images],
            [f"image {name!r}" for name in ids],
            self.analyzer.signature_limits,
        )
        signatures = await asyncio.gather(
            *(self.analyzer.signature(image, self.thresholds.use_embeddings) for image in decoded)
        )
        images = [
            IndexedImage(image_id, signature, image.width, image.height)
            for image_id, signature, image in zip(ids, signatures, decoded, strict=True)
        ]
        replaced, total = await index.add(request.tenant_id, images)
        return duplicates_pb2.IndexImagesResponse(indexed=len(images), replaced=replaced, total=total)

    async def QueryImage(
        self, request: duplicates_pb2.QueryImageRequest, context: grpc.aio.ServicerContext
    ) -> duplicates_pb2.QueryImageResponse:
        index = self._index(request.tenant_id)
        thresholds = self.thresholds.merged(request.thresholds)
        limit = request.limit or self.settings.default_query_limit
        [image] = await self.analyzer.decode_all(
            [request.image], ["the query image"], self.analyzer.signature_limits
        )
        query = await self.analyzer.signature(image, thresholds.use_embeddings)
        found, total = await index.candidates(
            request.tenant_id, query.hashes, thresholds, self.settings.index_candidate_hash_sum
        )
        matches: list[duplicates_pb2.IndexMatch] = []
        if found:
            usable = [c for c in found if not thresholds.use_embeddings or c.signature.embedding is not None]
            # Images indexed without an embedding are compared on hashes alone.
            plain = [c for c in found if thresholds.use_embeddings and c.signature.embedding is None]
            matches += _matches(query, usable, thresholds)
            if plain:
                hashes_only = Thresholds(**{**thresholds.__dict__, "use_embeddings": False})
                matches += _matches(Signature(query.hashes), plain, hashes_only)
        matches.sort(
            key=lambda m: (-(m.evidence.similarity if m.evidence.HasField("similarity") else 0.0), _sum(m))
        )
        return duplicates_pb2.QueryImageResponse(
            matches=matches[:limit], searched=total, thresholds=thresholds.to_proto()
        )

    async def RemoveIndexedImages(
        self, request: duplicates_pb2.RemoveIndexedImagesRequest, context: grpc.aio.ServicerContext
    ) -> duplicates_pb2.RemoveIndexedImagesResponse:
        index = self._index(request.tenant_id)
        if not request.image_ids:
            raise InvalidArgument("no image ids given")
        return duplicates_pb2.RemoveIndexedImagesResponse(
            removed=await index.remove(request.tenant_id, list(request.image_ids))
        )

    def _index(self, tenant_id: str) -> ImageIndex:
        if self.index is None:
            raise FailedPrecondition("the image index needs a database: set CLIPSIFT_VISION_DATABASE_URL")
        if not tenant_id:
            raise InvalidArgument("tenant_id is required")
        return self.index

    async def _signatures(
        self, images: list[duplicates_pb2.NamedImage], ids: list[str], use_embeddings: bool
    ) -> list[Signature]:
        decoded = await self.analyzer.decode_all(
            [named.image for named in images], [f"image {i!r}" for i in ids], self.analyzer.signature_limits
        )
        return list(
            await asyncio.gather(*(self.analyzer.signature(image, use_embeddings) for image in decoded))
        )


def _sum(match: duplicates_pb2.IndexMatch) -> int:
    e = match.evidence
    return e.phash_distance + e.dhash_distance + e.whash_distance


def _matches(
    query: Signature, candidates: list[IndexedImage], thresholds: Thresholds
) -> list[duplicates_pb2.IndexMatch]:
    if not candidates:
        return []
    comparison = compare(SignatureMatrix([query]), SignatureMatrix([c.signature for c in candidates]))
    matched, rule = comparison.matches(thresholds)
    return [
        duplicates_pb2.IndexMatch(
            image_id=candidates[j].image_id,
            evidence=comparison.evidence(0, j, int(rule[0, j]), thresholds.use_embeddings).to_proto(),
        )
        for j in range(len(candidates))
        if matched[0, j]
    ]


def _ids(images: list[duplicates_pb2.NamedImage], limit: int, analyzer: ImageAnalyzer) -> list[str]:
    analyzer.check_count(len(images), limit)
    ids = [named.id for named in images]
    for position, image_id in enumerate(ids):
        if not 0 < len(image_id) <= _MAX_ID:
            raise InvalidArgument(f"image {position} needs an id of 1-{_MAX_ID} characters")
    if len(set(ids)) != len(ids):
        duplicate = next(i for i in ids if ids.count(i) > 1)
        raise InvalidArgument(f"image id {duplicate!r} appears more than once")
    return ids
