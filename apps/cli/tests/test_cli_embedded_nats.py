"""The embedded NATS of ``clipsift up``: a real nats-server with a user per service, each held to
the subjects its service uses. A job's outcome can only come from the worker of its kind."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
import stat
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import nats
import pytest
from nats.errors import Error as NatsError

from analytics_svc.settings import AnalyticsSettings
from clipsift.events.v1 import events_pb2
from clipsift_cli.embedded import EmbeddedNats
from clipsift_common.events import DEPLOYMENTS_SUBJECT, EventBus, job_subject, make_event, requested_subject
from clipsift_common.nats_permissions import JOB_KINDS, USERS, WORKER_KINDS
from clipsift_common.settings import NatsSettings
from clipsift_common.worker import ACK_TIMEOUT_SECONDS
from gateway_svc.projector import JobProjector

STREAM = "CLIPSIFT_JOBS"
pytestmark = pytest.mark.integration


@pytest.fixture
def server(tmp_path: Path) -> Iterator[EmbeddedNats]:
    embedded = EmbeddedNats(tmp_path / "nats", tmp_path / "nats.log", stream=STREAM)
    embedded.start()
    yield embedded
    embedded.stop()


class Violations:
    """What the server told a connection it refused (nats-py reports it to the error callback)."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    async def __call__(self, exc: Exception) -> None:
        self.errors.append(str(exc))


async def connect_as(server: EmbeddedNats, user: str, violations: Violations | None = None) -> EventBus:
    """An EventBus connected exactly as ``clipsift up`` connects ``user``'s service."""
    credentials = server.credentials(user)
    settings = NatsSettings(
        nats_url=server.url,
        nats_user=credentials["NATS_USER"],
        nats_password=credentials["NATS_PASSWORD"],  # type: ignore[arg-type]
        nats_inbox_prefix=credentials["NATS_INBOX_PREFIX"],
        nats_stream=STREAM,
    )
    bus = await EventBus.from_settings(settings, name=user)
    if violations is not None:
        bus.nc._error_cb = violations  # type: ignore[assignment]  # after connect: the same hook
    return bus


def event(kind: str, event_type: int, job_id: str = "job-1", key: str = "") -> events_pb2.JobEvent:
    return make_event(
        job_id=job_id,
        tenant_id="acme",
        kind=kind,
        event_type=event_type,
        key=key or str(event_type),
    )


@pytest.fixture
async def buses(server: EmbeddedNats) -> AsyncIterator[dict[str, EventBus]]:
    connected = {user: await connect_as(server, user) for user in USERS}
    yield connected
    for bus in connected.values():
        await bus.close()


def test_generated_config_holds_a_fresh_password_per_user_readable_by_the_owner_only(
    server: EmbeddedNats, tmp_path: Path
) -> None:
    config = json.loads(server.config_file.read_text())
    users = {entry["user"]: entry["password"] for entry in config["authorization"]["users"]}
    assert set(users) == {"gateway", "text", "video", "training", "analytics"}
    assert len(set(users.values())) == len(users)
    assert stat.S_IMODE(server.config_file.stat().st_mode) == 0o600
    again = EmbeddedNats(tmp_path / "again", tmp_path / "again.log", stream=STREAM)
    try:
        again.start()
        assert again.passwords["gateway"] != server.passwords["gateway"]
    finally:
        again.stop()


async def test_connecting_without_a_user_or_with_a_wrong_password_is_refused(server: EmbeddedNats) -> None:
    with pytest.raises(NatsError):
        await nats.connect(server.url, allow_reconnect=False, connect_timeout=2)
    with pytest.raises(NatsError):
        await nats.connect(
            server.url, user="gateway", password="guessed", allow_reconnect=False, connect_timeout=2
        )


async def test_a_completed_event_forged_by_the_gateway_is_refused_and_a_workers_is_stored(
    server: EmbeddedNats, buses: dict[str, EventBus]
) -> None:
    violations = Violations()
    gateway = await connect_as(server, "gateway", violations)
    try:
        await gateway.publish(event("dedup", events_pb2.EVENT_TYPE_REQUESTED))
        forged = event("dedup", events_pb2.EVENT_TYPE_COMPLETED, key="completed")
        # The server drops the message and says so; the publisher gets no stream ack.
        with pytest.raises(nats.errors.TimeoutError):
            await gateway.publish(forged)
        assert any('publish to "jobs.dedup.completed.job-1"' in error for error in violations.errors)
    finally:
        await gateway.close()
    await buses["text"].publish(event("dedup", events_pb2.EVENT_TYPE_COMPLETED, key="completed"))
    info = await buses["text"].js.stream_info(STREAM)
    assert info.state.messages == 2
    stored = [(await buses["gateway"].js.get_msg(STREAM, seq)).subject for seq in (1, 2)]
    assert stored == ["jobs.dedup.requested.job-1", "jobs.dedup.completed.job-1"]


@pytest.mark.parametrize(
    ("user", "subject"),
    [
        ("gateway", "jobs.dedup.progress.job-1"),
        ("text", "jobs.clip.completed.job-1"),  # another service's kind
        ("text", "jobs.dedup.requested.job-1"),  # workers do not announce jobs
        ("video", "jobs.dedup.failed.job-1"),
        ("analytics", "jobs.train.completed.job-1"),
        ("analytics", "jobs.dedup.requested.job-1"),
        ("gateway", f"{DEPLOYMENTS_SUBJECT}.acme"),  # only training announces deployments
    ],
)
async def test_each_service_is_refused_what_is_not_its_to_say(
    server: EmbeddedNats, user: str, subject: str
) -> None:
    violations = Violations()
    bus = await connect_as(server, user, violations)
    try:
        await bus.nc.publish(subject, b"forged")
        await bus.nc.flush()
        for _ in range(50):
            if violations.errors:
                break
            await asyncio.sleep(0.02)
        assert any(f'publish to "{subject}"' in error for error in violations.errors)
    finally:
        await bus.close()


async def test_every_service_can_do_what_its_code_does(buses: dict[str, EventBus]) -> None:
    gateway, text, training, analytics = (
        buses["gateway"],
        buses["text"],
        buses["training"],
        buses["analytics"],
    )
    # The gateway announces a job and follows it: its projector's durable consumer and a replay.
    await gateway.publish(event("dedup", events_pb2.EVENT_TYPE_REQUESTED))
    projector = await gateway.durable_consumer("gateway-jobs", "jobs.>", ack_wait_seconds=30)
    replay = await gateway.replay(job_subject("job-1"))
    # The text worker takes it, reports progress (extending its deadline) and completes it.
    worker = await text.durable_consumer(
        "text-dedup", requested_subject("dedup"), ack_wait_seconds=30, max_deliver=5
    )
    (request,) = await worker.fetch(1, timeout=5)
    await request.in_progress()
    await text.publish(event("dedup", events_pb2.EVENT_TYPE_PROGRESS, key="progress/50"))
    await text.publish(event("dedup", events_pb2.EVENT_TYPE_COMPLETED, key="completed"))
    await request.ack_sync(timeout=ACK_TIMEOUT_SECONDS)  # confirmed: the ack was the text user's to send
    assert (await worker.consumer_info()).num_ack_pending == 0
    seen = [(await replay.next_msg(timeout=5)).subject for _ in range(3)]
    assert seen == [f"jobs.dedup.{kind}.job-1" for kind in ("requested", "progress", "completed")]
    await replay.unsubscribe()
    for msg in await projector.fetch(3, timeout=5):
        await msg.ack()
    assert (await projector.consumer_info()).num_pending == 0
    # The gateway fails a job whose worker died on every delivery (the dead-job sweeper).
    await gateway.publish(event("clip", events_pb2.EVENT_TYPE_FAILED, job_id="job-2", key="failed"))
    # Analytics reads everything.
    ingest = await analytics.durable_consumer("analytics-events", "jobs.>", ack_wait_seconds=30)
    batch = await ingest.fetch(10, timeout=5)
    assert len(batch) == 4
    for msg in batch:
        await msg.ack()
    # Training announces a deployment; text hears it.
    heard: asyncio.Queue[str] = asyncio.Queue()

    async def on_notice(msg: nats.aio.msg.Msg) -> None:
        await heard.put(msg.subject)

    notices = await text.nc.subscribe(f"{DEPLOYMENTS_SUBJECT}.>", cb=on_notice)
    await text.nc.flush()
    await training.nc.publish(f"{DEPLOYMENTS_SUBJECT}.acme", b"deployment")
    assert await asyncio.wait_for(heard.get(), 5) == f"{DEPLOYMENTS_SUBJECT}.acme"
    await notices.unsubscribe()


async def test_a_worker_cannot_take_another_kinds_jobs_or_widen_its_consumer(
    server: EmbeddedNats, buses: dict[str, EventBus]
) -> None:
    await buses["gateway"].publish(event("clip", events_pb2.EVENT_TYPE_REQUESTED))
    text = await connect_as(server, "text", Violations())
    try:
        with pytest.raises(nats.errors.TimeoutError):  # refused: no reply comes
            await text.durable_consumer("video-clip", requested_subject("clip"), ack_wait_seconds=30)
        with pytest.raises(nats.errors.TimeoutError):
            await text.durable_consumer("text-dedup", "jobs.>", ack_wait_seconds=30)
    finally:
        await text.close()
    assert (await buses["gateway"].js.stream_info(STREAM)).state.consumer_count == 0


def test_the_permission_table_names_the_services_own_kinds_and_consumers() -> None:
    """The lists mirror the code: a renamed durable or a new job kind must be granted here too."""
    import text_svc.dedup.job
    import text_svc.index.job
    import training_svc.job
    import video_svc.analysis_job
    import video_svc.clip_job
    import video_svc.dedup_job

    kinds = {
        "text": {text_svc.dedup.job.KIND, text_svc.index.job.KIND},
        "video": {video_svc.clip_job.KIND, video_svc.analysis_job.KIND, video_svc.dedup_job.KIND},
        "training": {training_svc.job.KIND},
    }
    assert {service: set(table) for service, table in WORKER_KINDS.items()} == kinds
    for service, table in WORKER_KINDS.items():
        wiring = Path(inspect.getfile(importlib.import_module(f"{service}_svc.wiring")))
        for durable in table.values():
            assert f'"{durable}"' in wiring.read_text(), f"{service} no longer creates {durable}"
    assert set(JOB_KINDS) == set().union(*kinds.values())
    assert inspect.signature(JobProjector.__init__).parameters["durable"].default == "gateway-jobs"
    assert AnalyticsSettings.model_fields["consumer_name"].default == "analytics-events"
