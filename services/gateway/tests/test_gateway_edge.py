"""The edge layer: keys before bodies, body limits while streaming, WebSocket caps and idle closes.

The memory tests run the gateway as its own process (``python -m gateway_svc``, real uvicorn, real
NATS and PostgreSQL) so its resident set size can be read from /proc while huge bodies stream in.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from gateway_svc.admin import create_key
from gateway_svc.app import create_app
from gateway_svc.edge import ROUTE_LIMITS
from gateway_svc.settings import GatewaySettings

pytestmark = pytest.mark.integration

MiB = 1024 * 1024
GB = 1000**3
CHUNK = b"x" * MiB


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _rss(pid: int) -> int:
    """Resident set size of ``pid`` in bytes (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for {pid}")


@dataclass
class RssWatch:
    """The peak RSS of a process, sampled every 10 ms while the block runs."""

    pid: int
    baseline: int = 0
    peak: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)

    def __enter__(self) -> RssWatch:
        self.baseline = self.peak = _rss(self.pid)
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, _rss(self.pid))

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss(self.pid))

    @property
    def growth(self) -> int:
        return self.peak - self.baseline


@dataclass
class GatewayProcess:
    pid: int
    url: str
    key: str
    sent: int = 0

    def body(self, total: int) -> Iterator[bytes]:
        """``total`` bytes from a generator, counting what the client actually got to send."""
        self.sent = 0
        for _ in range(total // len(CHUNK)):
            self.sent += len(CHUNK)
            yield CHUNK


@pytest.fixture
def gateway_process(clean_nats_url: str, database_url: str, tmp_path: Path) -> Iterator[GatewayProcess]:
    """The gateway as its own process; only the database and NATS are real, the gRPC services are
    absent (nothing here gets that far)."""
    port = _free_port()
    settings = {
        "NATS_URL": clean_nats_url,
        "DATABASE_URL": database_url,
        "BLOB_DIR": str(tmp_path / "blobs"),
        "HTTP_HOST": "127.0.0.1",
        "HTTP_PORT": str(port),
        "LOG_LEVEL": "WARNING",
        "MAX_UPLOAD_BYTES": str(20 * MiB),
        "MAX_JSON_BODY_BYTES": str(4 * MiB),
        **{f"{name}_TARGET": "127.0.0.1:1" for name in ("TEXT", "ANALYTICS", "VIDEO", "VISION", "TRAINING")},
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLIPSIFT_")}
    env.update({f"CLIPSIFT_GATEWAY_{name}": value for name, value in settings.items()})
    key = asyncio.run(create_key(database_url, "acme", "edge test", False))
    process = subprocess.Popen([sys.executable, "-m", "gateway_svc"], env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, f"the gateway exited with {process.returncode}"
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the gateway did not start in 60 s"
            time.sleep(0.1)
        yield GatewayProcess(process.pid, url, key)
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_a_3_gb_unauthenticated_body_gets_401_unread_and_memory_stays_flat(
    gateway_process: GatewayProcess,
) -> None:
    gateway = gateway_process
    with RssWatch(gateway.pid) as rss:
        reply = httpx.post(
            f"{gateway.url}/v1/text/similarity",
            content=gateway.body(3 * GB),
            headers={"Content-Type": "application/json"},
            timeout=60,
        )
    assert reply.status_code == 401, reply.text
    assert reply.json()["detail"].startswith("missing API key")
    assert reply.headers["connection"] == "close"
    assert rss.growth < 50 * MiB, f"RSS grew {rss.growth / MiB:.1f} MiB"
    # The body was never read: the client got to send no more than the sockets' buffers hold.
    assert gateway.sent < 64 * MiB, f"{gateway.sent / MiB:.0f} MiB were sent before the 401"

    # A wrong key is refused the same way, declared length or not.
    with RssWatch(gateway.pid) as rss:
        reply = httpx.post(
            f"{gateway.url}/v1/jobs",
            content=gateway.body(3 * GB),
            headers={"Authorization": "Bearer cs_00000000_wrong", "Content-Length": str(3 * GB)},
            timeout=60,
        )
    assert reply.status_code == 401
    assert reply.json() == {"detail": "invalid or revoked API key"}
    assert rss.growth < 50 * MiB
    assert gateway.sent < 64 * MiB


def test_an_authenticated_body_over_the_route_limit_gets_413_as_it_streams(
    gateway_process: GatewayProcess,
) -> None:
    gateway = gateway_process
    auth = {"Authorization": f"Bearer {gateway.key}"}
    # A corpus upload (20 MiB limit here) streamed without a length: refused once the limit is passed.
    with RssWatch(gateway.pid) as rss:
        reply = httpx.post(
            f"{gateway.url}/v1/jobs",
            content=gateway.body(3 * GB),
            headers={**auth, "Content-Type": "application/jsonl"},
            timeout=60,
        )
    assert reply.status_code == 413, reply.text
    assert reply.json() == {"detail": f"upload exceeds the limit of {20 * MiB} bytes"}
    assert rss.growth < 50 * MiB, f"RSS grew {rss.growth / MiB:.1f} MiB"
    assert 20 * MiB < gateway.sent < 100 * MiB

    # A JSON route has its own, smaller limit: the body never reaches the JSON parser.
    with RssWatch(gateway.pid) as rss:
        reply = httpx.post(
            f"{gateway.url}/v1/text/similarity",
            content=gateway.body(3 * GB),
            headers={**auth, "Content-Type": "application/json"},
            timeout=60,
        )
    assert reply.status_code == 413
    assert reply.json() == {"detail": f"upload exceeds the limit of {4 * MiB} bytes"}
    assert rss.growth < 50 * MiB
    assert gateway.sent < 80 * MiB

    # The refused requests left the gateway answering.
    assert httpx.get(f"{gateway.url}/v1/jobs", headers=auth).status_code == 200


def _raw_request(url: str, head: str) -> tuple[str, float]:
    """Send only a request head and read the answer: what the server says before any body byte."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        start = time.monotonic()
        conn.sendall(head.encode())
        answer = b""
        while chunk := conn.recv(65536):  # the server closes the connection after answering
            answer += chunk
        return answer.decode(), time.monotonic() - start


def test_a_declared_length_over_the_limit_gets_413_before_the_body(gateway_process: GatewayProcess) -> None:
    gateway = gateway_process
    answer, seconds = _raw_request(
        gateway.url,
        "POST /v1/jobs HTTP/1.1\r\nHost: test\r\nContent-Type: application/jsonl\r\n"
        f"Authorization: Bearer {gateway.key}\r\nContent-Length: {3 * GB}\r\n\r\n",
    )
    status, _, body = answer.partition("\r\n\r\n")
    assert status.startswith("HTTP/1.1 413"), answer
    assert "connection: close" in status.lower()
    assert json.loads(body) == {"detail": f"upload of {3 * GB} bytes exceeds the limit of {20 * MiB}"}
    assert seconds < 5

    # Without a key the same head gets 401, and neither waits for a body.
    answer, _ = _raw_request(
        gateway.url, f"POST /v1/jobs HTTP/1.1\r\nHost: test\r\nContent-Length: {3 * GB}\r\n\r\n"
    )
    assert answer.startswith("HTTP/1.1 401"), answer


def test_every_route_in_the_limit_table_exists_and_names_a_setting() -> None:
    settings = GatewaySettings(
        nats_url="nats://unused",
        database_url="postgresql://unused",
        blob_dir=Path("/nonexistent"),
        **{f"{name}_target": "127.0.0.1:1" for name in ("text", "analytics", "video", "vision", "training")},
    )
    routes = {
        (method.upper(), path)
        for path, operations in create_app(settings).openapi()["paths"].items()
        for method in operations
    }
    assert set(ROUTE_LIMITS) <= routes, set(ROUTE_LIMITS) - routes
    for limit in ROUTE_LIMITS.values():
        assert isinstance(getattr(settings, limit.max_bytes), int)
        assert limit.max_parts is None or isinstance(getattr(settings, limit.max_parts), int)


@pytest.mark.gateway(max_json_body_bytes=1000, worker=False)
async def test_json_routes_are_limited_by_declared_and_streamed_length(platform) -> None:  # type: ignore[no-untyped-def]
    auth = {**platform.auth("acme"), "Content-Type": "application/json"}
    body = json.dumps({"a": "word " * 300, "b": "word"}).encode()
    declared = await platform.client.post("/v1/text/similarity", content=body, headers=auth)
    assert declared.status_code == 413
    assert declared.json() == {"detail": f"upload of {len(body)} bytes exceeds the limit of 1000"}

    async def chunks():  # type: ignore[no-untyped-def]
        for start in range(0, len(body), 100):
            yield body[start : start + 100]

    streamed = await platform.client.post("/v1/text/similarity", content=chunks(), headers=auth)
    assert streamed.status_code == 413
    assert streamed.json() == {"detail": "upload exceeds the limit of 1000 bytes"}

    small = await platform.client.post("/v1/text/similarity", json={"a": "a b c", "b": "a b c"}, headers=auth)
    assert small.status_code == 200, small.text


def _images(count: int) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("files", (f"{i}.png", b"not decoded here", "image/png")) for i in range(count)]


@pytest.mark.gateway(max_image_files=3, worker=False)
async def test_multipart_image_uploads_are_capped_by_their_parts(platform) -> None:  # type: ignore[no-untyped-def]
    for path in ("/v1/images/analyze", "/v1/images/duplicates", "/v1/images/index"):
        over = await platform.client.post(path, files=_images(4), headers=platform.auth("acme"))
        assert over.status_code == 413, (path, over.text)
        assert over.json() == {"detail": "more than 3 parts in one multipart body; the limit is 3"}
    # At the cap the upload passes the edge (and fails further on: no vision service here).
    at_cap = await platform.client.post("/v1/images/analyze", files=_images(3), headers=platform.auth("acme"))
    assert at_cap.status_code not in (401, 413), at_cap.text


async def test_public_paths_need_no_key(platform) -> None:  # type: ignore[no-untyped-def]
    for path in ("/healthz", "/openapi.json", "/docs", "/ui/"):
        reply = await platform.client.get(path)
        assert reply.status_code == 200, (path, reply.status_code)
    assert (await platform.client.get("/v1/does-not-exist")).status_code == 401


async def _close(ws) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    """The server's close code and reason, once it closes (messages before are skipped)."""
    with contextlib.suppress(ConnectionClosed):  # raised for every code but 1000 and 1001
        async for _ in ws:
            pass
    assert ws.close_code is not None, "still open"
    return ws.close_code, ws.close_reason


async def _queued_job(platform) -> str:  # type: ignore[no-untyped-def]
    body = json.dumps({"id": "a", "text": "a few words to dedup"}).encode()
    reply = await platform.submit("acme", body, "application/jsonl")
    assert reply.status_code == 202, reply.text
    return str(reply.json()["id"])


@pytest.mark.gateway(ws_max_connections_per_key=2, worker=False)
async def test_websockets_are_capped_per_key(platform, live_url, eventually) -> None:  # type: ignore[no-untyped-def]
    job_id = await _queued_job(platform)
    url = f"ws://{live_url}/v1/jobs/{job_id}/events"
    first = await connect(url, additional_headers=platform.auth("acme"), open_timeout=5)
    second = await connect(url, additional_headers=platform.auth("acme"), open_timeout=5)
    try:
        for ws in (first, second):
            assert json.loads(await ws.recv())["type"] == "requested"
        async with connect(url, additional_headers=platform.auth("acme"), open_timeout=5) as third:
            assert await _close(third) == (
                4429,
                "2 WebSockets are already open with this API key (the limit)",
            )
        # Another key has its own allowance (globex cannot see acme's job: 4404, not 4429).
        async with connect(url, additional_headers=platform.auth("globex"), open_timeout=5) as other:
            assert (await _close(other))[0] == 4404
    finally:
        await first.close()

    async def admitted() -> bool:
        async with connect(url, additional_headers=platform.auth("acme"), open_timeout=5) as again:
            try:
                return json.loads(await asyncio.wait_for(again.recv(), 5))["type"] == "requested"
            except ConnectionClosed:
                return False

    # Closing one frees its place.
    await eventually(admitted, within=10, what="a WebSocket admitted after one closed")
    await second.close()


@pytest.mark.gateway(ws_idle_timeout_seconds=1.0, worker=False)
async def test_idle_websockets_are_closed_and_talking_ones_kept(platform, live_url) -> None:  # type: ignore[no-untyped-def]
    job_id = await _queued_job(platform)
    url = f"ws://{live_url}/v1/jobs/{job_id}/events"
    async with connect(url, additional_headers=platform.auth("acme"), open_timeout=5) as quiet:
        assert json.loads(await quiet.recv())["type"] == "requested"
        start = time.monotonic()
        assert await asyncio.wait_for(_close(quiet), 10) == (4408, "idle for 1 s")
        assert 0.8 < time.monotonic() - start < 5

    async with connect(url, additional_headers=platform.auth("acme"), open_timeout=5) as talking:
        assert json.loads(await talking.recv())["type"] == "requested"
        for _ in range(8):  # 2.4 s, more than twice the idle timeout
            await talking.send("keepalive")
            await asyncio.sleep(0.3)
        assert talking.close_code is None


async def _ticket(platform, who: str = "acme") -> str:  # type: ignore[no-untyped-def]
    reply = await platform.client.post("/v1/ws-tickets", headers=platform.auth(who))
    assert reply.status_code == 201, reply.text
    assert reply.json()["expires_in"] == platform.settings.ws_ticket_seconds
    return str(reply.json()["ticket"])


@pytest.mark.gateway(worker=False)
async def test_tickets_work_once(platform, live_url) -> None:  # type: ignore[no-untyped-def]
    assert (await platform.client.post("/v1/ws-tickets")).status_code == 401
    job_id = await _queued_job(platform)
    ticket = await _ticket(platform)
    url = f"ws://{live_url}/v1/jobs/{job_id}/events?ticket={ticket}"
    async with connect(url, open_timeout=5) as ws:
        assert json.loads(await ws.recv())["type"] == "requested"
    async with connect(url, open_timeout=5) as reused:
        assert await _close(reused) == (
            4401,
            "invalid, used or expired ticket: get a new one from POST /v1/ws-tickets",
        )
    async with connect(
        f"ws://{live_url}/v1/jobs/{job_id}/events?ticket=wst_made-up", open_timeout=5
    ) as forged:
        assert (await _close(forged))[0] == 4401
    # A ticket is a WebSocket credential only, never an API key.
    reply = await platform.client.get(
        "/v1/jobs", headers={"Authorization": f"Bearer {await _ticket(platform)}"}
    )
    assert reply.status_code == 401


@pytest.mark.gateway(ws_ticket_seconds=0.5, worker=False)
async def test_tickets_expire_and_die_with_their_key(platform, live_url) -> None:  # type: ignore[no-untyped-def]
    job_id = await _queued_job(platform)
    base = f"ws://{live_url}/v1/jobs/{job_id}/events"
    stale = await _ticket(platform)
    await asyncio.sleep(0.8)
    async with connect(f"{base}?ticket={stale}", open_timeout=5) as ws:
        assert (await _close(ws))[0] == 4401

    fresh = await _ticket(platform)
    async with platform.app.state.pool.connection() as conn:
        await conn.execute("UPDATE api_keys SET revoked_at = now() WHERE tenant_id = 'acme'")
    async with connect(f"{base}?ticket={fresh}", open_timeout=5) as ws:
        assert (await _close(ws))[0] == 4401


@pytest.mark.gateway(worker=False)
async def test_expired_keys_are_refused(platform) -> None:  # type: ignore[no-untyped-def]
    lasting = await create_key(platform.database_url, "acme", "lasting", False, timedelta(days=30))
    assert (
        await platform.client.get("/v1/jobs", headers={"Authorization": f"Bearer {lasting}"})
    ).status_code == 200
    async with platform.app.state.pool.connection() as conn:
        await conn.execute(
            "UPDATE api_keys SET expires_at = '2026-01-02T03:04:05Z' WHERE prefix = %s",
            (lasting.split("_")[1],),
        )
    reply = await platform.client.get("/v1/jobs", headers={"Authorization": f"Bearer {lasting}"})
    assert reply.status_code == 401
    assert reply.json() == {"detail": "API key expired at 2026-01-02T03:04:05+00:00"}
    assert reply.headers["www-authenticate"] == "Bearer"
    # Other keys of the tenant are untouched.
    assert (await platform.client.get("/v1/jobs", headers=platform.auth("acme"))).status_code == 200
