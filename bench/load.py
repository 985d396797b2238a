"""Load on the gateway: REST `/v1/text/similarity` and WebSocket job progress at 1/50/200 clients.

    .venv/bin/python bench/load.py [--seconds 15] [--clients 1,50,200]

The platform runs in a child process (``--serve``): the gateway under uvicorn, a real text gRPC
server and its dedup worker, an embedded nats-server, a fresh database on the local PostgreSQL and
the local Redis (own key prefix). Clients run in this process with httpx and websockets: each REST
client loops on a similarity request with its own key and tenant; alongside, a tenth as many
WebSocket clients each submit a small dedup job, trade their key for a ticket and follow the job's
events until ``completed``; one more key, whose rate-limit window is used up before the run, sends
the same requests and must see 429 and nothing else. Prints rps and p50/p95/p99 per phase, errors,
and the throughput at the highest client count over the one at a single client.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg

PG_ADMIN = os.environ.get("CLIPSIFT_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("CLIPSIFT_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
# High enough that no load client is ever limited; the limited key's window is filled beforehand.
LIMIT = "40000/hour"
A = "The committee met on Tuesday to review the budget for the new library and its reading rooms."
B = "On Tuesday the committee met to review the budget of the new library and its reading rooms."


def _settings_env(
    database_url: str, nats_url: str, blob_dir: str, port: int, text_port: int
) -> dict[str, str]:
    return {
        "CLIPSIFT_TEXT_NATS_URL": nats_url,
        "CLIPSIFT_TEXT_BLOB_DIR": blob_dir,
        "CLIPSIFT_TEXT_DATABASE_URL": database_url,
        "CLIPSIFT_TEXT_GRPC_PORT": str(text_port),
        "CLIPSIFT_GATEWAY_DATABASE_URL": database_url,
        "CLIPSIFT_GATEWAY_NATS_URL": nats_url,
        "CLIPSIFT_GATEWAY_BLOB_DIR": blob_dir,
        "CLIPSIFT_GATEWAY_HTTP_HOST": "127.0.0.1",
        "CLIPSIFT_GATEWAY_HTTP_PORT": str(port),
        "CLIPSIFT_GATEWAY_REDIS_URL": REDIS_URL,
        "CLIPSIFT_GATEWAY_REDIS_KEY_PREFIX": f"clipsift:bench:{uuid.uuid4().hex[:8]}",
        "CLIPSIFT_GATEWAY_RATE_LIMIT_PER_KEY": LIMIT,
        "CLIPSIFT_GATEWAY_RATE_LIMIT_PER_TENANT": LIMIT,
        "CLIPSIFT_GATEWAY_WS_MAX_CONNECTIONS_PER_KEY": "1000",
        # Only the text service takes part; the others are reported down by /readyz, as is fine.
        **{
            f"CLIPSIFT_GATEWAY_{name}_TARGET": "127.0.0.1:1"
            for name in ("ANALYTICS", "VIDEO", "VISION", "TRAINING")
        },
        "CLIPSIFT_GATEWAY_TEXT_TARGET": f"127.0.0.1:{text_port}",
    }


async def serve_text() -> None:
    """The text service's half, in its own process as in production: gRPC server + dedup worker."""
    from clipsift.text.v1 import text_pb2_grpc
    from clipsift_common.events import EventBus
    from clipsift_common.grpc_server import GrpcServer, ServiceBinding
    from clipsift_common.objectstore import open_blob_store
    from clipsift_common.worker import JobWorker
    from text_svc.dedup.detector import Detector
    from text_svc.dedup.job import DedupJob
    from text_svc.dedup.servicer import TextServicer
    from text_svc.settings import TextSettings

    settings = TextSettings(grpc_host="127.0.0.1", grpc_grace_seconds=0)  # type: ignore[call-arg]
    detector = Detector(settings)
    server = GrpcServer(
        settings,
        [ServiceBinding(text_pb2_grpc.add_TextServiceServicer_to_server, TextServicer(detector))],
    )
    await server.start()
    await server.set_serving()
    bus = await EventBus.from_settings(settings, name="bench-text")
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    job = DedupJob(detector, open_blob_store(settings))
    try:
        await JobWorker(bus, "dedup", "text-dedup", job, settings).run(stop)
    finally:
        await bus.close()
        await server.stop()


async def serve_gateway() -> None:
    """The gateway under uvicorn, as ``python -m gateway_svc`` runs it."""
    import uvicorn

    from gateway_svc.app import create_app
    from gateway_svc.settings import GatewaySettings

    settings = GatewaySettings()  # type: ignore[call-arg]
    config = uvicorn.Config(
        create_app(settings),
        host=settings.http_host,
        port=settings.http_port,
        log_level="warning",
        ws="websockets-sansio",
    )
    server = uvicorn.Server(config)
    # Stop on SIGTERM by ourselves: uvicorn re-raises the signal after its shutdown, which would
    # end the process before the profile (CLIPSIFT_BENCH_PROFILE) is written.
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign]
    asyncio.get_running_loop().add_signal_handler(
        signal.SIGTERM, lambda: setattr(server, "should_exit", True)
    )
    await server.serve()


@dataclass
class Phase:
    clients: int
    seconds: float
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    ws_seconds: list[float] = field(default_factory=list)
    ws_outcomes: Counter[str] = field(default_factory=Counter)
    limited: Counter[str] = field(default_factory=Counter)
    client_cpu: float = 0.0
    gateway_cpu: float = 0.0
    text_cpu: float = 0.0

    def quantile(self, values: list[float], q: float) -> float:
        if not values:
            return float("nan")
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.seconds

    def row(self) -> str:
        ms = [x * 1000 for x in self.latencies]
        errors = sum(n for s, n in self.statuses.items() if s != "200")
        ws_errors = sum(n for s, n in self.ws_outcomes.items() if s != "completed")
        p50, p95, p99 = (self.quantile(ms, q) for q in (0.5, 0.95, 0.99))
        return (
            f"| {self.clients} | {self.rps:.1f} | {p50:.0f} | {p95:.0f} | {p99:.0f} "
            f"| {errors} | {len(self.ws_seconds)} "
            f"| {self.quantile(self.ws_seconds, 0.5) * 1000:.0f} | {ws_errors} "
            f"| {dict(self.limited)} | {self.client_cpu:.1f} | {self.gateway_cpu:.1f} | {self.text_cpu:.1f} |"
        )


class RawHttp:
    """One keep-alive HTTP/1.1 connection speaking just enough to POST JSON and read the reply.

    httpx costs the client more CPU than the request costs the gateway, and its pool does more
    work per request the more connections it holds: with 200 clients on 2 cores the load
    generator starved the platform it was measuring (12.6 s client vs 5.7 s platform CPU in 10 s).
    """

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> int:
        if self.writer is None or self.writer.is_closing():
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        lines = [f"POST {path} HTTP/1.1", f"Host: {self.host}", f"Content-Length: {len(body)}"]
        lines += ["Content-Type: application/json", *(f"{k}: {v}" for k, v in headers.items())]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        close = False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
            elif name.lower() == b"connection" and value.strip().lower() == b"close":
                close = True
        await self.reader.readexactly(length)
        if close:
            await self.close()
        return status

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()
            self.writer = None


SIMILARITY = json.dumps({"a": A, "b": B}).encode()


async def rest_client(base: str, key: str, phase: Phase, until: float) -> None:
    url = httpx.URL(base)
    connection = RawHttp(url.host, url.port or 80)
    headers = {"Authorization": f"Bearer {key}"}
    try:
        while time.monotonic() < until:
            start = time.perf_counter()
            try:
                status = str(await connection.post("/v1/text/similarity", SIMILARITY, headers))
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                status = type(exc).__name__
                await connection.close()
            phase.statuses[status] += 1
            if status == "200":
                phase.latencies.append(time.perf_counter() - start)
    finally:
        await connection.close()


async def limited_client(client: httpx.AsyncClient, key: str, phase: Phase, until: float) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    while time.monotonic() < until:
        try:
            reply = await client.post("/v1/text/similarity", json={"a": A, "b": B}, headers=headers)
            phase.limited[str(reply.status_code)] += 1
        except httpx.HTTPError as exc:
            phase.limited[type(exc).__name__] += 1
        await asyncio.sleep(0.05)


async def ws_client(client: httpx.AsyncClient, base: str, key: str, phase: Phase, until: float) -> None:
    from websockets.asyncio.client import connect

    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/jsonl"}
    body = "".join(json.dumps({"id": str(i), "text": t}) + "\n" for i, t in enumerate((A, B))).encode()
    while time.monotonic() < until:
        start = time.perf_counter()
        outcome = "error"
        try:
            job = await client.post("/v1/jobs", content=body, headers=headers)
            if job.status_code != 202:
                phase.ws_outcomes[f"submit {job.status_code}"] += 1
                await asyncio.sleep(0.5)
                continue
            ticket = (
                await client.post("/v1/ws-tickets", headers={"Authorization": headers["Authorization"]})
            ).json()
            url = (
                base.replace("http", "ws", 1)
                + f"/v1/jobs/{job.json()['id']}/events?ticket={ticket['ticket']}"
            )
            async with connect(url, open_timeout=30) as ws:
                async for message in ws:
                    outcome = json.loads(message)["type"]
        except Exception as exc:
            outcome = type(exc).__name__
        phase.ws_outcomes[outcome] += 1
        if outcome == "completed":
            phase.ws_seconds.append(time.perf_counter() - start)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def drive(
    base: str, keys: list[str], limited_key: str, clients: int, seconds: float, pids: tuple[int, int]
) -> Phase:
    phase = Phase(clients, seconds)
    cpu_before = time.process_time()
    gateway_before, text_before = (_cpu_seconds(pid) for pid in pids)
    # httpx only for the few WebSocket clients' submissions and the limited key.
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        until = time.monotonic() + seconds
        tasks = [rest_client(base, keys[i], phase, until) for i in range(clients)]
        tasks += [ws_client(client, base, keys[-1 - i], phase, until) for i in range(max(1, clients // 10))]
        tasks.append(limited_client(client, limited_key, phase, until))
        await asyncio.gather(*tasks)
    phase.client_cpu = time.process_time() - cpu_before
    phase.gateway_cpu = _cpu_seconds(pids[0]) - gateway_before
    phase.text_cpu = _cpu_seconds(pids[1]) - text_before
    return phase


async def exhaust(env: dict[str, str], tenant: str) -> None:
    """Use up ``tenant``'s rate-limit windows in Redis, as if it had sent that many requests."""
    from gateway_svc.ratelimit import RateLimiter
    from gateway_svc.settings import GatewaySettings

    os.environ.update({k: v for k, v in env.items() if k.startswith("CLIPSIFT_GATEWAY_")})
    limiter = RateLimiter(GatewaySettings())  # type: ignore[call-arg]
    try:
        for item in limiter.per_tenant:
            assert await limiter.strategy.hit(item, "tenant", tenant, cost=item.amount)
    finally:
        await limiter.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each phase")
    parser.add_argument("--clients", default="1,50,200", help="client counts, one phase each")
    parser.add_argument("--serve", choices=("text", "gateway"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        profile = os.environ.get("CLIPSIFT_BENCH_PROFILE")  # where to write the platform's cProfile
        serve = serve_text if args.serve == "text" else serve_gateway
        if profile and args.serve == "gateway":
            import cProfile

            cProfile.runctx("asyncio.run(serve())", globals(), {"serve": serve}, profile)
        else:
            asyncio.run(serve())
        return 0
    counts = [int(c) for c in args.clients.split(",")]
    return asyncio.run(run(counts, args.seconds))


async def run(counts: list[int], seconds: float) -> int:
    from clipsift_cli.embedded import EmbeddedNats, free_port, wait_for_port
    from gateway_svc.admin import create_key

    work = Path(tempfile.mkdtemp(prefix="clipsift-load-"))
    database = f"clipsift_load_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
    database_url = psycopg.conninfo.make_conninfo(PG_ADMIN, dbname=database)
    nats = EmbeddedNats(work / "nats", work / "nats.log")
    port, text_port = free_port(), free_port()
    settings = _settings_env(database_url, nats.start(), str(work / "blobs"), port, text_port)
    env = {**os.environ, **settings}
    log = (work / "platform.log").open("wb")
    children = [
        subprocess.Popen(  # noqa: ASYNC220 - once, before any load
            [sys.executable, __file__, "--serve", role], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        for role in ("text", "gateway")
    ]
    pids = (children[1].pid, children[0].pid)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_port("127.0.0.1", text_port, 120, children[0])
        wait_for_port("127.0.0.1", port, 120, children[1])
        wait_clients = max(*counts, 4) + max(counts) // 10 + 1
        keys = [await create_key(database_url, f"tenant-{i}", "load", False) for i in range(wait_clients)]
        limited = await create_key(database_url, "limited", "load", False)
        await exhaust(env, "limited")
        await drive(base, keys, limited, 4, 3.0, pids)  # warm-up: connections, first-call caches
        phases = [await drive(base, keys, limited, n, seconds, pids) for n in counts]
    finally:
        for child in reversed(children):
            child.terminate()
            child.wait(30)
        nats.stop()
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    print(f"{seconds:.0f} s per phase; platform log {work / 'platform.log'}")
    print(
        "| clients | rps | p50 ms | p95 ms | p99 ms | errors | ws jobs | ws p50 ms | ws errors | limited "
        "| CPU s: clients | gateway | text |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for phase in phases:
        print(phase.row())
    first, last = phases[0], phases[-1]
    print(f"throughput {last.clients} vs {first.clients} clients: {last.rps / max(first.rps, 1e-9):.2f}x")
    bad = [
        p.clients
        for p in phases
        if set(p.statuses) != {"200"} or set(p.limited) != {"429"} or set(p.ws_outcomes) - {"completed"}
    ]
    for p in phases:
        if p.clients in bad:
            print(f"{p.clients} clients: REST {dict(p.statuses)}, WS {dict(p.ws_outcomes)}")
    print("errors or non-429 for the limited key in phases:", bad or "none")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
