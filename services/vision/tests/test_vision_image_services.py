"""ImageAnalysisService and ImageDuplicateService through a real in-process gRPC server (port 0),
with the real models and the image index in a fresh PostgreSQL database."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import dataclass

import cv2
import grpc
import numpy as np
import pytest
from clipsift_testing.media import jpeg, png
from PIL import Image as PilImage
from skimage import data

from clipsift.vision.v1 import (
    analysis_pb2,
    analysis_pb2_grpc,
    duplicates_pb2,
    duplicates_pb2_grpc,
    vision_pb2,
)
from vision_svc.embedding import Embedder
from vision_svc.faces import FaceDetector
from vision_svc.models import VisionModels
from vision_svc.objects import HogPeopleDetector
from vision_svc.ocr import TextReader
from vision_svc.settings import VisionSettings
from vision_svc.wiring import build

from .conftest import ASTRONAUT_FACE, Image

F = analysis_pb2


@dataclass
class Services:
    analysis: analysis_pb2_grpc.ImageAnalysisServiceStub
    duplicates: duplicates_pb2_grpc.ImageDuplicateServiceStub


def _settings(**overrides: object) -> VisionSettings:
    values: dict[str, object] = {
        "grpc_port": 0,
        "grpc_host": "127.0.0.1",
        "grpc_grace_seconds": 0.2,
        "max_images_per_request": 8,
        "max_image_pixels": 4000 * 3000,
        "max_image_bytes": 5_000_000,
        "batch_max_wait_ms": 20,
    }
    values.update(overrides)
    return VisionSettings(**values)  # type: ignore[arg-type]


@pytest.fixture
async def services(
    database_url: str,
    detector: FaceDetector,
    embedder: Embedder,
    people_detector: HogPeopleDetector,
    text_reader: TextReader,
) -> AsyncIterator[Services]:
    settings = _settings(database_url=database_url)
    models = VisionModels(settings, detector, embedder, people_detector, text_reader)
    service = await build(settings, models)
    port = await service.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield Services(
            analysis_pb2_grpc.ImageAnalysisServiceStub(channel),
            duplicates_pb2_grpc.ImageDuplicateServiceStub(channel),
        )
    finally:
        await channel.close()
        await service.stop()  # closes the index's pool; the preloaded models are ours to close
        await models.close()


def encoded(data_bytes: bytes) -> vision_pb2.Image:
    return vision_pb2.Image(encoded=data_bytes)


def named(name: str, data_bytes: bytes) -> duplicates_pb2.NamedImage:
    return duplicates_pb2.NamedImage(id=name, image=encoded(data_bytes))


def variants(image: Image) -> dict[str, bytes]:
    """Near-duplicate copies of a real photo: smaller, recompressed, cropped, mirrored, brighter."""
    height, width = image.shape[:2]
    small = cv2.resize(image, (width // 2, height // 2), interpolation=cv2.INTER_AREA)
    crop = np.ascontiguousarray(
        image[height // 20 : height - height // 20, width // 20 : width - width // 20]
    )
    return {
        "original": png(image),
        "small": jpeg(small, 80),
        "low-quality": jpeg(image, 25),
        "cropped": jpeg(crop),
        "mirrored": jpeg(np.ascontiguousarray(image[:, ::-1])),
        "brighter": jpeg(np.clip(image.astype(np.float32) * 1.25, 0, 255).astype(np.uint8)),
    }


async def test_every_feature_of_the_astronaut(services: Services, astronaut: Image) -> None:
    response = await services.analysis.AnalyzeImage(
        F.AnalyzeImageRequest(images=[encoded(jpeg(astronaut))]), timeout=60
    )
    assert sorted(response.features) == sorted(v for v in F.Feature.values() if v)
    assert response.models.faces == "mediapipe-blazeface-full-range"
    assert response.models.embedding == "mobilenet_v2-imagenet"
    assert response.models.text == "rapidocr-pp-ocrv4"
    assert response.models.objects == "opencv-hog"
    [image] = response.images
    assert (image.width, image.height, image.format) == (512, 512, "JPEG")
    [face] = image.faces
    x0, y0, x1, y1 = ASTRONAUT_FACE
    assert x0 <= face.box.x
    assert face.box.x + face.box.width <= x1
    assert y0 <= face.box.y
    assert face.box.y + face.box.height <= y1
    assert len(image.embedding) == 1280
    assert abs(float(np.linalg.norm(image.embedding)) - 1.0) < 1e-4
    assert len(image.hashes.phash) == len(image.hashes.dhash) == len(image.hashes.whash) == 16
    assert 1 <= len(image.colours) <= 5
    assert abs(sum(c.fraction for c in image.colours) - 1.0) < 1e-6
    assert image.quality.exposure == "ok"
    assert not image.quality.blurry
    assert image.quality.megapixels == pytest.approx(512 * 512 / 1e6)
    # The astronaut's name patch is too small to read; what OCR returns must at least be well formed.
    assert all(len(line.polygon) == 4 for line in image.text_lines)


async def test_features_are_selectable_and_large_images_are_analysed_downscaled(services: Services) -> None:
    big = cv2.resize(data.coffee(), (2400, 1600), interpolation=cv2.INTER_CUBIC)
    response = await services.analysis.AnalyzeImage(
        F.AnalyzeImageRequest(images=[encoded(jpeg(big))], features=[F.FEATURE_HASHES, F.FEATURE_QUALITY]),
        timeout=60,
    )
    [image] = response.images
    assert (image.width, image.height) == (2400, 1600)
    assert max(image.analyzed_width, image.analyzed_height) <= 1600
    assert image.hashes.phash
    assert image.quality.megapixels == pytest.approx(3.84)
    assert not image.embedding
    assert not image.faces
    assert not image.colours
    assert not image.text_lines
    assert response.models.embedding == ""
    assert response.models.faces == ""


async def test_text_of_a_scanned_page(services: Services) -> None:
    page = np.stack([data.page()] * 3, axis=-1)
    response = await services.analysis.AnalyzeImage(
        F.AnalyzeImageRequest(images=[encoded(png(page))], features=[F.FEATURE_TEXT]), timeout=60
    )
    text = response.images[0].text
    assert "Region" in text
    assert "markers" in text
    assert "background" in text


@pytest.mark.parametrize(
    ("payload", "code", "message"),
    [
        (b"just some text", grpc.StatusCode.INVALID_ARGUMENT, "image 0 is not a decodable image"),
        (b"", grpc.StatusCode.INVALID_ARGUMENT, "image 0 is not a decodable image: it is empty"),
        ("truncated", grpc.StatusCode.INVALID_ARGUMENT, "truncated or corrupt"),
        ("bomb", grpc.StatusCode.INVALID_ARGUMENT, "decompression bomb"),
        ("too-many-pixels", grpc.StatusCode.RESOURCE_EXHAUSTED, "pixels; the limit is 12000000"),
        ("too-many-bytes", grpc.StatusCode.RESOURCE_EXHAUSTED, "bytes; the limit is 5000000"),
    ],
    ids=["text", "empty", "truncated", "bomb", "too-many-pixels", "too-many-bytes"],
)
async def test_bad_images_get_status_codes(
    services: Services, astronaut: Image, payload: bytes | str, code: grpc.StatusCode, message: str
) -> None:
    if payload == "truncated":
        whole = jpeg(astronaut)
        payload = whole[: len(whole) // 2]
    elif payload == "bomb":
        payload = bomb_png(60_000, 60_000)
    elif payload == "too-many-pixels":
        payload = jpeg(np.zeros((3200, 4000, 3), dtype=np.uint8), 50)
    elif payload == "too-many-bytes":
        payload = png(np.random.default_rng(0).integers(0, 255, (1500, 1500, 3), dtype=np.uint8))
    assert isinstance(payload, bytes)
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await services.analysis.AnalyzeImage(F.AnalyzeImageRequest(images=[encoded(payload)]), timeout=30)
    assert error.value.code() == code
    assert message in (error.value.details() or "")


def bomb_png(width: int, height: int) -> bytes:
    """A real, valid PNG of one flat colour: a few hundred kilobytes that decode to gigapixels."""
    out = io.BytesIO()
    PilImage.new("1", (width, height)).save(out, format="PNG", optimize=True)
    return out.getvalue()


async def test_near_duplicates_cluster_with_per_hash_evidence(services: Services, astronaut: Image) -> None:
    astro = variants(astronaut)
    coffee = variants(data.coffee())
    images = (
        [named(f"astronaut/{k}", v) for k, v in astro.items()]
        + [named(f"coffee/{k}", v) for k, v in coffee.items()]
        + [named("rocket", jpeg(data.rocket())), named("chelsea", jpeg(data.chelsea()))]
    )
    response = await services.duplicates.FindDuplicateImages(
        duplicates_pb2.FindDuplicateImagesRequest(images=images), timeout=120
    )
    assert response.images == 14
    clusters = sorted(sorted(c.image_ids) for c in response.clusters)
    assert clusters == [sorted(f"astronaut/{k}" for k in astro), sorted(f"coffee/{k}" for k in coffee)]
    pairs = {(p.a, p.b): p.evidence for c in response.clusters for p in c.pairs}
    mirrored = pairs[("astronaut/original", "astronaut/mirrored")]
    assert mirrored.mirrored
    assert max(mirrored.phash_distance, mirrored.dhash_distance, mirrored.whash_distance) <= 6
    small = pairs[("astronaut/original", "astronaut/small")]
    assert small.rule == "hashes"
    assert not small.mirrored
    assert small.HasField("similarity")
    assert small.similarity > 0.9
    assert response.thresholds.max_hash_distance == 10
    assert response.thresholds.use_embeddings
    # Hashes only: still finds the easy copies, and says no embedding was used.
    hashes_only = await services.duplicates.FindDuplicateImages(
        duplicates_pb2.FindDuplicateImagesRequest(
            images=images, thresholds=duplicates_pb2.DuplicateThresholds(use_embeddings=False)
        ),
        timeout=120,
    )
    evidence = [p.evidence for c in hashes_only.clusters for p in c.pairs]
    assert evidence
    assert all(not e.HasField("similarity") and e.rule == "hashes" for e in evidence)


async def test_the_index_is_per_tenant_and_queries_return_evidence(
    services: Services, astronaut: Image
) -> None:
    originals = {
        "astronaut": png(astronaut),
        "coffee": png(data.coffee()),
        "rocket": png(data.rocket()),
        "chelsea": png(data.chelsea()),
    }
    added = await services.duplicates.IndexImages(
        duplicates_pb2.IndexImagesRequest(
            tenant_id="acme", images=[named(k, v) for k, v in originals.items()]
        ),
        timeout=60,
    )
    assert (added.indexed, added.replaced, added.total) == (4, 0, 4)
    again = await services.duplicates.IndexImages(
        duplicates_pb2.IndexImagesRequest(tenant_id="acme", images=[named("rocket", originals["rocket"])]),
        timeout=60,
    )
    assert (again.indexed, again.replaced, again.total) == (1, 1, 4)
    query = variants(astronaut)["mirrored"]
    found = await services.duplicates.QueryImage(
        duplicates_pb2.QueryImageRequest(tenant_id="acme", image=encoded(query)), timeout=60
    )
    assert found.searched == 4
    assert [m.image_id for m in found.matches] == ["astronaut"]
    assert found.matches[0].evidence.mirrored
    cropped = await services.duplicates.QueryImage(
        duplicates_pb2.QueryImageRequest(tenant_id="acme", image=encoded(variants(data.coffee())["cropped"])),
        timeout=60,
    )
    assert [m.image_id for m in cropped.matches] == ["coffee"]
    other_tenant = await services.duplicates.QueryImage(
        duplicates_pb2.QueryImageRequest(tenant_id="globex", image=encoded(query)), timeout=60
    )
    assert (other_tenant.searched, list(other_tenant.matches)) == (0, [])
    removed = await services.duplicates.RemoveIndexedImages(
        duplicates_pb2.RemoveIndexedImagesRequest(tenant_id="acme", image_ids=["astronaut", "nope"]),
        timeout=10,
    )
    assert removed.removed == 1
    after = await services.duplicates.QueryImage(
        duplicates_pb2.QueryImageRequest(tenant_id="acme", image=encoded(query)), timeout=60
    )
    assert (after.searched, list(after.matches)) == (3, [])


async def test_duplicate_requests_are_checked(services: Services, astronaut: Image) -> None:
    one = png(astronaut)
    cases = [
        (
            duplicates_pb2.FindDuplicateImagesRequest(images=[named("a", one), named("a", one)]),
            "appears more than once",
        ),
        (duplicates_pb2.FindDuplicateImagesRequest(images=[named("", one)]), "needs an id"),
        (duplicates_pb2.FindDuplicateImagesRequest(images=[]), "no images given"),
        (
            duplicates_pb2.FindDuplicateImagesRequest(
                images=[named("a", one)], thresholds=duplicates_pb2.DuplicateThresholds(max_hash_distance=65)
            ),
            "max_hash_distance must be at most 64",
        ),
        (
            duplicates_pb2.FindDuplicateImagesRequest(images=[named("a", one), named("b", b"GIF89a")]),
            "image 'b'",
        ),
    ]
    for request, message in cases:
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await services.duplicates.FindDuplicateImages(request, timeout=30)
        assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert message in (error.value.details() or "")
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await services.duplicates.QueryImage(duplicates_pb2.QueryImageRequest(image=encoded(one)), timeout=30)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "tenant_id is required" in (error.value.details() or "")


async def test_the_index_without_a_database_is_a_failed_precondition(
    detector: FaceDetector, embedder: Embedder, people_detector: HogPeopleDetector, text_reader: TextReader
) -> None:
    settings = _settings()
    models = VisionModels(settings, detector, embedder, people_detector, text_reader)
    service = await build(settings, models)  # no database_url: no index
    port = await service.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = duplicates_pb2_grpc.ImageDuplicateServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await stub.QueryImage(
                duplicates_pb2.QueryImageRequest(tenant_id="acme", image=encoded(png(data.coffee()))),
                timeout=10,
            )
    await service.stop()
    await models.close()
    assert error.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "CLIPSIFT_VISION_DATABASE_URL" in (error.value.details() or "")


def test_clusters_form_around_leaders_not_along_chains() -> None:
    from vision_svc.duplicates import leader_clusters

    # 0~1~2~3~4 is a chain; 2 has no more matches than 1 or 3, so the first best-connected image
    # (1) leads 0 and 2, and 3 leads 4: no cluster holds images that only resemble each other
    # through two bridges.
    chain = np.zeros((6, 6), dtype=bool)
    for i in range(4):
        chain[i, i + 1] = chain[i + 1, i] = True
    assert leader_clusters(chain) == [[0, 1, 2], [3, 4]]
    star = np.zeros((4, 4), dtype=bool)
    star[0, 1:] = star[1:, 0] = True
    assert leader_clusters(star) == [[0, 1, 2, 3]]
