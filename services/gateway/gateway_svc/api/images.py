"""Image analysis and near-duplicate images: multipart uploads in, the vision service's answers out."""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from fastapi import File, HTTPException, Path, Query, Request, UploadFile
from pydantic import BaseModel, Field

from clipsift.vision.v1 import analysis_pb2, duplicates_pb2, vision_pb2
from clipsift_common.errors import InvalidArgument, ResourceExhausted

from ..auth import Principal
from ..permissions import Permission, requires
from ..settings import GatewaySettings
from ..uploads import check_declared_length
from .bodies import as_dict
from .deps import ImageAnalysisService, ImageDuplicatesService, Settings
from .params import Plain, plain_schema
from .proto_models import Reply, reply_model
from .schemas import ReplyRouter

router = ReplyRouter(prefix="/v1/images", tags=["images"])

FEATURES = {
    "objects": analysis_pb2.FEATURE_OBJECTS,
    "text": analysis_pb2.FEATURE_TEXT,
    "colours": analysis_pb2.FEATURE_COLOURS,
    "quality": analysis_pb2.FEATURE_QUALITY,
    "faces": analysis_pb2.FEATURE_FACES,
    "hashes": analysis_pb2.FEATURE_HASHES,
    "embedding": analysis_pb2.FEATURE_EMBEDDING,
}
FeatureName = Literal["objects", "text", "colours", "quality", "faces", "hashes", "embedding"]
assert set(FEATURES) == set(get_args(FeatureName))
_ImageAnalysis: type[BaseModel] = reply_model(
    analysis_pb2.ImageAnalysis.DESCRIPTOR,
    name="UploadedImageAnalysis",
    fields={"file": (str, ...)},
    doc="The analysis of one uploaded image; ``file`` is its file name.",
)
ImagesAnalysis = reply_model(
    analysis_pb2.AnalyzeImageResponse.DESCRIPTOR,
    name="ImagesAnalysis",
    fields={"images": (list[_ImageAnalysis], ...), "features": (list[FeatureName], ...)},  # type: ignore[valid-type]
)


class RemovedImage(Reply):
    removed: str = Field(description="The file name removed from the index")


Files = Annotated[list[UploadFile], File(description="Image files (JPEG, PNG, WebP, GIF, BMP, TIFF)")]


async def _read(settings: GatewaySettings, files: list[UploadFile]) -> list[tuple[str, bytes]]:
    """(file name, bytes) of every upload, within the gateway's count and size limits."""
    if not files:
        raise InvalidArgument("no files: send the images as multipart form fields named 'files'")
    if len(files) > settings.max_image_files:
        raise ResourceExhausted(f"{len(files)} files in one request; the limit is {settings.max_image_files}")
    out = []
    total = 0
    for position, upload in enumerate(files):
        data = await upload.read(settings.max_image_request_bytes + 1)
        total += len(data)
        if total > settings.max_image_request_bytes:
            raise ResourceExhausted(
                f"the images exceed the limit of {settings.max_image_request_bytes} bytes"
            )
        out.append((upload.filename or f"file{position}", data))
    return out


def _thresholds(
    max_hash_distance: int | None, min_similarity: float | None, use_embeddings: bool | None
) -> duplicates_pb2.DuplicateThresholds:
    thresholds = duplicates_pb2.DuplicateThresholds(
        max_hash_distance=max_hash_distance or 0, min_similarity=min_similarity or 0.0
    )
    if use_embeddings is not None:
        thresholds.use_embeddings = use_embeddings
    return thresholds


MaxHashDistance = Annotated[
    int | None, Query(ge=1, le=64, description="pHash/dHash/wHash distance (bits of 64) that counts as close")
]
MinSimilarity = Annotated[
    float | None, Query(gt=0, le=1, description="Embedding cosine similarity that alone makes a duplicate")
]
UseEmbeddings = Annotated[bool | None, Query(description="false: hashes only (faster)")]


@router.post("/analyze", response_model=ImagesAnalysis)
async def analyze_images(
    request: Request,
    principal: Annotated[Principal, requires(Permission.ANALYZE)],
    analysis: ImageAnalysisService,
    settings: Settings,
    files: Files,
    features: Annotated[
        str | None, Query(description=f"Comma-separated subset of {', '.join(FEATURES)} (default: all)")
    ] = None,
    min_confidence: Annotated[float | None, Query(gt=0, le=1)] = None,
) -> dict[str, Any]:
    """Objects, text (OCR), dominant colours, quality (blur, exposure, noise, resolution), faces,
    perceptual hashes and an embedding of each uploaded image. Boxes are in pixels of the image as
    uploaded. 400 for a file that is not an image (or is truncated, or a decompression bomb), 413
    over the size limits."""
    check_declared_length(request, settings.max_image_request_bytes)
    wanted = []
    for name in (features or "").split(","):
        if name.strip():
            if name.strip() not in FEATURES:
                raise InvalidArgument(f"unknown feature {name.strip()!r}; choose from {', '.join(FEATURES)}")
            wanted.append(FEATURES[name.strip()])
    uploads = await _read(settings, files)
    reply = await analysis.call(
        analysis.stub.AnalyzeImage,
        analysis_pb2.AnalyzeImageRequest(
            images=[vision_pb2.Image(encoded=data) for _, data in uploads],
            features=wanted,
            min_confidence=min_confidence or 0.0,
        ),
        timeout=max(analysis.deadline_seconds, 5.0 * len(uploads)),
    )
    result = as_dict(reply)
    for (name, _), image in zip(uploads, result["images"], strict=True):
        image["file"] = name
    result["features"] = [name for name, value in FEATURES.items() if value in reply.features]
    return result


@router.post("/duplicates", response_model=reply_model(duplicates_pb2.FindDuplicateImagesResponse.DESCRIPTOR))
async def find_duplicate_images(
    request: Request,
    principal: Annotated[Principal, requires(Permission.ANALYZE)],
    duplicates: ImageDuplicatesService,
    settings: Settings,
    files: Files,
    max_hash_distance: MaxHashDistance = None,
    min_similarity: MinSimilarity = None,
    use_embeddings: UseEmbeddings = None,
) -> dict[str, Any]:
    """Clusters of near-duplicates among the uploaded images (ids are the file names), with the
    evidence for every matching pair: the distance of each hash, mirrored or not, the embedding
    similarity and the rule that matched."""
    check_declared_length(request, settings.max_image_request_bytes)
    uploads = await _read(settings, files)
    reply = await duplicates.call(
        duplicates.stub.FindDuplicateImages,
        duplicates_pb2.FindDuplicateImagesRequest(
            images=[
                duplicates_pb2.NamedImage(id=name, image=vision_pb2.Image(encoded=data))
                for name, data in uploads
            ],
            thresholds=_thresholds(max_hash_distance, min_similarity, use_embeddings),
        ),
        timeout=max(duplicates.deadline_seconds, 1.0 * len(uploads)),
    )
    return as_dict(reply)


@router.post("/index", response_model=reply_model(duplicates_pb2.IndexImagesResponse.DESCRIPTOR))
async def index_images(
    request: Request,
    principal: Annotated[Principal, requires(Permission.INDEXES_WRITE)],
    duplicates: ImageDuplicatesService,
    settings: Settings,
    files: Files,
) -> dict[str, Any]:
    """Add the uploaded images to the tenant's near-duplicate index under their file names
    (a name already indexed is replaced)."""
    check_declared_length(request, settings.max_image_request_bytes)
    uploads = await _read(settings, files)
    reply = await duplicates.call(
        duplicates.stub.IndexImages,
        duplicates_pb2.IndexImagesRequest(
            tenant_id=principal.tenant_id,
            images=[
                duplicates_pb2.NamedImage(id=name, image=vision_pb2.Image(encoded=data))
                for name, data in uploads
            ],
        ),
        timeout=max(duplicates.deadline_seconds, 1.0 * len(uploads)),
    )
    return as_dict(reply)


@router.post("/index/query", response_model=reply_model(duplicates_pb2.QueryImageResponse.DESCRIPTOR))
async def query_image_index(
    request: Request,
    principal: Annotated[Principal, requires(Permission.INDEXES_READ)],
    duplicates: ImageDuplicatesService,
    settings: Settings,
    file: Annotated[UploadFile, File(description="The image to look up")],
    limit: Annotated[int, Query(ge=1, le=1000)] = 20,
    max_hash_distance: MaxHashDistance = None,
    min_similarity: MinSimilarity = None,
    use_embeddings: UseEmbeddings = None,
) -> dict[str, Any]:
    """The tenant's indexed images that are near-duplicates of the uploaded one, best first."""
    check_declared_length(request, settings.max_image_request_bytes)
    [(_, data)] = await _read(settings, [file])
    reply = await duplicates.call(
        duplicates.stub.QueryImage,
        duplicates_pb2.QueryImageRequest(
            tenant_id=principal.tenant_id,
            image=vision_pb2.Image(encoded=data),
            thresholds=_thresholds(max_hash_distance, min_similarity, use_embeddings),
            limit=limit,
        ),
    )
    return as_dict(reply)


@router.delete("/index/{image_id:path}", response_model=RemovedImage)
async def remove_indexed_image(
    image_id: Annotated[
        Plain, Path(max_length=1024, description="The image's file name", json_schema_extra=plain_schema())
    ],
    principal: Annotated[Principal, requires(Permission.INDEXES_WRITE)],
    duplicates: ImageDuplicatesService,
) -> dict[str, Any]:
    """Remove one image from the tenant's index; 404 when it is not there."""
    reply = await duplicates.call(
        duplicates.stub.RemoveIndexedImages,
        duplicates_pb2.RemoveIndexedImagesRequest(tenant_id=principal.tenant_id, image_ids=[image_id]),
    )
    if reply.removed == 0:
        raise HTTPException(404, f"no indexed image {image_id!r}")
    return {"removed": image_id}
