"""/v1/images/*: the gateway in front of a real vision service (real models, the index in the
same fresh PostgreSQL database), multipart uploads through httpx's ASGI transport."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import httpx
import numpy as np
import pytest
from clipsift_testing.media import jpeg
from skimage import data

from gateway_svc.admin import create_key
from gateway_svc.app import create_app
from gateway_svc.settings import GatewaySettings
from vision_svc.models import VisionModels
from vision_svc.settings import VisionSettings
from vision_svc.wiring import build


@dataclass
class Gateway:
    client: httpx.AsyncClient
    keys: dict[str, str]

    def auth(self, tenant: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[tenant]}"}


@pytest.fixture(scope="module")
def vision_models_loaded() -> VisionModels:
    """The real models, loaded once for this module (each test gets fresh batchers around them)."""
    models = VisionModels(VisionSettings())
    models.load()
    return models


@pytest.fixture
async def gateway(
    database_url: str, nats_url: str, tmp_path: Path, vision_models_loaded: VisionModels
) -> AsyncIterator[Gateway]:
    loaded = vision_models_loaded
    settings = VisionSettings(
        grpc_port=0, grpc_host="127.0.0.1", grpc_grace_seconds=0.2, database_url=database_url
    )
    models = VisionModels(settings, loaded.faces, loaded.embedder, loaded.objects, loaded.reader)
    # The vision service as its __main__ builds it (the index migrated into this database).
    vision = await build(settings, models)
    port = await vision.start()
    gateway_settings = GatewaySettings(
        nats_url=nats_url,
        database_url=database_url,
        blob_dir=tmp_path / "blobs",
        text_target="127.0.0.1:1",
        analytics_target="127.0.0.1:1",
        video_target="127.0.0.1:1",
        vision_target=f"127.0.0.1:{port}",
        training_target="127.0.0.1:1",
        max_image_request_bytes=3_000_000,
        max_image_files=20,
        db_pool_max=2,
    )
    app = create_app(gateway_settings)
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://test", timeout=120
            ) as client,
        ):
            keys = {
                tenant: await create_key(database_url, tenant, "test", False) for tenant in ("acme", "globex")
            }
            yield Gateway(client, keys)
            await app.state.bus.nc.close()
    finally:
        await vision.stop()
        await models.close()  # handed in, so the test's to close


def _files(named: dict[str, bytes]) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("files", (name, content, "image/jpeg")) for name, content in named.items()]


async def test_analyze_an_uploaded_photo(gateway: Gateway) -> None:
    reply = await gateway.client.post(
        "/v1/images/analyze",
        files=_files({"astronaut.jpg": jpeg(data.astronaut())}),
        params={"features": "faces,hashes,quality,colours"},
        headers=gateway.auth("acme"),
    )
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["features"] == ["colours", "quality", "faces", "hashes"]
    [image] = body["images"]
    assert image["file"] == "astronaut.jpg"
    assert (image["width"], image["height"], image["format"]) == (512, 512, "JPEG")
    assert len(image["faces"]) == 1
    assert image["faces"][0]["confidence"] > 0.9
    assert len(image["hashes"]["phash"]) == 16
    assert image["quality"]["exposure"] == "ok"
    assert image["colours"][0]["hex"].startswith("#")
    assert image["embedding"] == []


@pytest.mark.parametrize(
    ("content", "params", "status", "message"),
    [
        (b"%PDF-1.4 not an image", {}, 400, "not a decodable image"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", {}, 400, "not a decodable image"),
        (None, {"features": "faces,smell"}, 400, "unknown feature 'smell'"),
        (b"x" * 3_000_001, {}, 413, "exceeds the limit"),
    ],
    ids=["pdf", "truncated-jpeg", "unknown-feature", "too-large"],
)
async def test_bad_uploads_are_4xx(
    gateway: Gateway, content: bytes | None, params: dict[str, str], status: int, message: str
) -> None:
    payload = content if content is not None else jpeg(data.coffee())
    reply = await gateway.client.post(
        "/v1/images/analyze", files=_files({"x.jpg": payload}), params=params, headers=gateway.auth("acme")
    )
    assert reply.status_code == status, reply.text
    assert message in reply.json()["detail"]


async def test_images_need_a_key(gateway: Gateway) -> None:
    reply = await gateway.client.post("/v1/images/analyze", files=_files({"x.jpg": jpeg(data.coffee())}))
    assert reply.status_code == 401


async def test_duplicates_among_uploads_with_per_hash_distances(gateway: Gateway) -> None:
    coffee = data.coffee()
    height, width = coffee.shape[:2]
    named = {
        "coffee.jpg": jpeg(coffee),
        "coffee-small.jpg": jpeg(
            cv2.resize(coffee, (width // 3, height // 3), interpolation=cv2.INTER_AREA), 60
        ),
        "coffee-mirror.jpg": jpeg(np.ascontiguousarray(coffee[:, ::-1])),
        "rocket.jpg": jpeg(data.rocket()),
    }
    reply = await gateway.client.post(
        "/v1/images/duplicates", files=_files(named), headers=gateway.auth("acme")
    )
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["images"] == 4
    [cluster] = body["clusters"]
    assert sorted(cluster["image_ids"]) == ["coffee-mirror.jpg", "coffee-small.jpg", "coffee.jpg"]
    for pair in cluster["pairs"]:
        evidence = pair["evidence"]
        assert {
            "phash_distance",
            "dhash_distance",
            "whash_distance",
            "mirrored",
            "similarity",
            "rule",
        } <= set(evidence)
    mirror = next(p for p in cluster["pairs"] if {p["a"], p["b"]} == {"coffee.jpg", "coffee-mirror.jpg"})
    assert mirror["evidence"]["mirrored"] is True


async def test_index_and_query_per_tenant(gateway: Gateway) -> None:
    originals = {"coffee.jpg": jpeg(data.coffee()), "rocket.jpg": jpeg(data.rocket())}
    added = await gateway.client.post(
        "/v1/images/index", files=_files(originals), headers=gateway.auth("acme")
    )
    assert added.status_code == 200, added.text
    assert added.json() == {"indexed": 2, "replaced": 0, "total": "2"}
    query = {"file": ("q.jpg", jpeg(data.rocket(), 40), "image/jpeg")}
    found = await gateway.client.post("/v1/images/index/query", files=query, headers=gateway.auth("acme"))
    assert found.status_code == 200, found.text
    assert [m["image_id"] for m in found.json()["matches"]] == ["rocket.jpg"]
    elsewhere = await gateway.client.post(
        "/v1/images/index/query", files=query, headers=gateway.auth("globex")
    )
    assert elsewhere.json()["matches"] == []
    removed = await gateway.client.delete("/v1/images/index/rocket.jpg", headers=gateway.auth("acme"))
    assert removed.status_code == 200
    again = await gateway.client.delete("/v1/images/index/rocket.jpg", headers=gateway.auth("acme"))
    assert again.status_code == 404
