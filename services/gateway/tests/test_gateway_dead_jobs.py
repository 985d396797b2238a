"""A job whose worker process is SIGKILLed on every delivery ends ``failed`` with a reason: the
gateway's dead-job sweeper hears JetStream's max-deliveries advisory, fails the job, parks the
request on the dead-letter stream, and the job's WebSocket closes after the ``failed`` event."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from clipsift_common.deadletter import dead_letters
from clipsift_common.events import EventBus

pytestmark = [pytest.mark.integration, pytest.mark.slow]

KILLED_WORKER = Path(__file__).with_name("killed_worker.py")
MAX_DELIVER = 3


class Restarter:
    """Restarts the worker process whenever it dies, as Kubernetes restarts a crashed pod."""

    def __init__(self, bus: EventBus, nats_url: str) -> None:
        self.args = [nats_url, bus.stream, "dedup", "text-dedup", "1.0", str(MAX_DELIVER)]
        self.exit_codes: list[int] = []
        self.process: asyncio.subprocess.Process | None = None

    async def run(self) -> None:
        while True:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, str(KILLED_WORKER), *self.args, stdout=asyncio.subprocess.DEVNULL
            )
            self.exit_codes.append(await self.process.wait())

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()


@pytest.mark.gateway(worker=False)
async def test_job_killed_on_every_delivery_fails_with_a_reason_and_its_websocket_closes(
    platform, live_url, nats_url
):
    body = b'{"id": "a", "text": "one two three four five six seven"}\n'
    job_id = (await platform.submit("acme", body, "application/jsonl")).json()["id"]
    restarter = Restarter(platform.bus, nats_url)
    restarting = asyncio.create_task(restarter.run())
    events = []
    try:
        async with connect(
            f"ws://{live_url}/v1/jobs/{job_id}/events",
            additional_headers=platform.auth("acme"),
            open_timeout=5,
        ) as ws:
            async with asyncio.timeout(90):
                events = [json.loads(message) async for message in ws]
        assert ws.close_code == 1000
    finally:
        restarting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await restarting
        await restarter.stop()

    # Every delivery killed its worker; none of them got to say so.
    assert restarter.exit_codes == [-signal.SIGKILL] * MAX_DELIVER
    types = [e["type"] for e in events]
    assert types == ["requested", "progress", "failed"], types  # reruns republish the same progress id
    failed = events[-1]
    assert failed["message"] == (
        "no worker finished the job: its worker stopped (killed, out of memory or past its ack "
        f"deadline) on each of its {MAX_DELIVER} deliveries"
    )
    assert failed["attempt"] == MAX_DELIVER

    job = (await platform.client.get(f"/v1/jobs/{job_id}", headers=platform.auth("acme"))).json()
    assert job["status"] == "failed"
    assert job["message"] == failed["message"]

    [letter] = await dead_letters(platform.bus)
    assert letter.subject == f"jobs.dedup.requested.{job_id}"
    assert letter.consumer == "text-dedup"
    assert letter.deliveries == MAX_DELIVER
    assert letter.reason == failed["message"]
    assert platform.app.state.dead_jobs.failed_jobs == 1
    assert platform.app.state.dead_jobs.healthy
