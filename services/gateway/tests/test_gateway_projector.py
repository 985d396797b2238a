"""The job projector against real NATS and PostgreSQL: a poison event is parked after
``event_max_attempts`` deliveries, an event naming another tenant is refused (parked, and never
shown on the job's WebSocket), and the projector restarts after its consumer is deleted under it."""

from __future__ import annotations

import asyncio
import json

import psycopg
import pytest
from websockets.asyncio.client import connect

from clipsift.events.v1 import events_pb2
from clipsift_common.deadletter import dead_letters
from clipsift_common.events import make_event

pytestmark = pytest.mark.integration

BODY = b'{"id": "a", "text": "one two three four five six seven"}\n'


async def _queued_job(platform, tenant: str = "acme") -> str:
    response = await platform.submit(tenant, BODY, "application/jsonl")
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def _event(job_id: str, tenant: str, event_type: int, key: str, **fields) -> events_pb2.JobEvent:
    return make_event(job_id=job_id, tenant_id=tenant, kind="dedup", event_type=event_type, key=key, **fields)


async def _job(platform, job_id: str, tenant: str = "acme") -> dict:
    response = await platform.client.get(f"/v1/jobs/{job_id}", headers=platform.auth(tenant))
    assert response.status_code == 200, response.text
    return dict(response.json())


# Under load JetStream now and then loses a delivery to a pull request that timed out (it comes
# back after the ack wait) or counts a redelivery as a first one: hence the short ack wait, and
# "at least" its attempts.
@pytest.mark.gateway(worker=False, event_max_attempts=2, event_ack_wait_seconds=3.0)
async def test_a_poison_event_is_parked_after_its_attempts_and_the_next_one_applies(platform, eventually):
    job_id = await _queued_job(platform)
    projector = platform.app.state.projector
    # PostgreSQL text cannot hold NUL: this event fails on every delivery, for what it contains.
    poison = _event(
        job_id, "acme", events_pb2.EVENT_TYPE_PROGRESS, "progress/10", progress=0.1, message="a\x00b"
    )
    await platform.bus.publish(poison)

    async def parked() -> bool:
        return projector.parked == 1

    await eventually(parked, within=20, what="the poison event to be parked")
    [letter] = [d for d in await dead_letters(platform.bus) if d.consumer == "gateway-jobs"]
    assert letter.subject == f"jobs.dedup.progress.{job_id}"
    assert letter.deliveries >= 2
    assert letter.reason.startswith("DataError: ")
    assert letter.reason.endswith(f"(after {letter.deliveries} deliveries)")
    assert letter.data == poison.SerializeToString()
    # Not the projector's health: the event was handled, by parking it.
    assert projector.healthy

    # Events after it still apply.
    await platform.bus.publish(
        _event(job_id, "acme", events_pb2.EVENT_TYPE_FAILED, "failed", step="failed", message="bad input")
    )
    job = await platform.wait_job(job_id, "acme")
    assert (job["status"], job["message"], job["progress"]) == ("failed", "bad input", 0.0)


@pytest.mark.gateway(worker=False)
async def test_an_event_naming_another_tenant_is_refused(platform, live_url, eventually):
    job_id = await _queued_job(platform, "acme")
    projector = platform.app.state.projector
    forged = _event(job_id, "globex", events_pb2.EVENT_TYPE_COMPLETED, "forged", progress=1.0, step="done")
    events = []
    async with connect(
        f"ws://{live_url}/v1/jobs/{job_id}/events", additional_headers=platform.auth("acme"), open_timeout=5
    ) as ws:
        events.append(json.loads(await asyncio.wait_for(ws.recv(), 5)))
        await platform.bus.publish(forged)

        async def refused() -> bool:
            return projector.parked == 1

        await eventually(refused, what="the forged event to be parked")
        [letter] = await dead_letters(platform.bus)
        assert letter.reason == f"tenant 'globex' is not the tenant of job {job_id}"
        assert letter.deliveries == 1  # refused at once: a forged event never becomes right
        assert (await _job(platform, job_id))["status"] == "queued"

        # The job's own tenant's event is what ends it, on the socket as in the row.
        await platform.bus.publish(
            _event(job_id, "acme", events_pb2.EVENT_TYPE_FAILED, "failed", step="failed", message="real end")
        )
        async with asyncio.timeout(10):
            events += [json.loads(message) async for message in ws]
    assert ws.close_code == 1000
    assert [(e["type"], e["message"]) for e in events] == [
        ("requested", "1 documents queued"),
        ("failed", "real end"),
    ]
    job = await _job(platform, job_id)
    assert (job["status"], job["message"]) == ("failed", "real end")


@pytest.mark.gateway(worker=False, projector_check_seconds=0.1, restart_initial_seconds=1.5)
async def test_the_projector_restarts_after_its_consumer_is_deleted(platform, eventually):
    projector = platform.app.state.projector
    assert projector.healthy
    assert (projector.restarts, projector.last_error) == (0, None)
    # Fetches from a deleted consumer only time out: without the check it would idle forever.
    await platform.bus.js.delete_consumer(platform.bus.stream, "gateway-jobs")

    async def failing() -> bool:
        return not projector.healthy

    await eventually(failing, within=5, what="the projector to notice")
    assert projector.restarts == 1
    assert projector.last_error == "ConsumerGone: consumer gateway-jobs no longer exists"

    async def healthy_again() -> bool:
        return bool(projector.healthy)

    await eventually(healthy_again, within=10, what="the projector to restart")
    job_id = await _queued_job(platform)
    await platform.bus.publish(
        _event(job_id, "acme", events_pb2.EVENT_TYPE_COMPLETED, "completed", progress=1.0, step="done")
    )
    assert (await platform.wait_job(job_id, "acme"))["status"] == "completed"
    assert projector.restarts == 1


@pytest.mark.gateway(worker=False, event_max_attempts=1)
async def test_a_database_outage_is_retried_not_parked_and_shows_in_health(platform, eventually):
    job_id = await _queued_job(platform)
    projector = platform.app.state.projector
    # Every server connection of the gateway's database dropped: the pool's next use of each fails.
    async with await psycopg.AsyncConnection.connect(platform.database_url, autocommit=True) as admin:
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    await platform.bus.publish(
        _event(job_id, "acme", events_pb2.EVENT_TYPE_COMPLETED, "completed", progress=1.0, step="done")
    )

    async def completed() -> bool:  # read on a connection of its own: the pool's are the ones dropped
        async with await psycopg.AsyncConnection.connect(platform.database_url) as conn:
            cur = await conn.execute("SELECT status FROM jobs WHERE id = %s", (job_id,))
            return (await cur.fetchone()) == ("completed",)

    await eventually(completed, what="the event to be applied once the database is back")
    # One try allowed, yet nothing parked: the outage was the database's, not the event's.
    assert projector.parked == 0
    assert projector.last_error == "AdminShutdown: terminating connection due to administrator command"
    assert projector.healthy
