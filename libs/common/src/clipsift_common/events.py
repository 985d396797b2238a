"""Job events on NATS JetStream: stream setup, de-duplicated publishing, durable pull consumers.

Subjects are ``jobs.<kind>.<type>.<job_id>``: a worker filters ``jobs.dedup.requested.>``,
analytics takes ``jobs.>``, and a WebSocket replays one job with ``jobs.*.*.<job_id>``.
Payloads are ``clipsift.events.v1.JobEvent`` protobuf bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import nats
from google.protobuf import json_format, struct_pb2, timestamp_pb2
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.js import JetStreamContext, api
from nats.js.errors import BadRequestError, NotFoundError
from opentelemetry import context as otel_context
from opentelemetry.trace import Span, SpanKind

from clipsift.events.v1 import events_pb2

from .metrics import (
    EVENTS_PUBLISHED,
    NATS_CONSUMER_ACK_PENDING,
    NATS_CONSUMER_PENDING,
    NATS_CONSUMER_REDELIVERED,
)
from .nats_auth import connect_options
from .settings import NatsSettings
from .telemetry import extract_context, inject_headers, tracer

log = logging.getLogger(__name__)

EventType = events_pb2.EventType
TYPE_NAMES: dict[int, str] = {
    events_pb2.EVENT_TYPE_REQUESTED: "requested",
    events_pb2.EVENT_TYPE_PROGRESS: "progress",
    events_pb2.EVENT_TYPE_COMPLETED: "completed",
    events_pb2.EVENT_TYPE_FAILED: "failed",
}
# Core NATS (not the jobs stream): every change of a model deployment, published by the training
# service as a clipsift.training.v1.Deployment on ``models.deployments.<tenant>``, heard by every
# inference replica at once.
DEPLOYMENTS_SUBJECT = "models.deployments"
TERMINAL_TYPES = frozenset({events_pb2.EVENT_TYPE_COMPLETED, events_pb2.EVENT_TYPE_FAILED})
# A fixed namespace makes event ids a pure function of (job, step): republishing after a
# redelivery produces the same id, which JetStream and PostgreSQL both drop as a duplicate.
_EVENT_NAMESPACE = uuid.UUID("6f1c1c55-4a43-4d55-9a4f-2f5e3c1f0b7e")
# JetStream's error code for "stream name already in use with a different configuration".
STREAM_NAME_IN_USE = 10058


def subject_for(kind: str, event_type: int, job_id: str) -> str:
    return f"jobs.{kind}.{TYPE_NAMES[event_type]}.{job_id}"


def requested_subject(kind: str) -> str:
    return f"jobs.{kind}.requested.>"


def job_subject(job_id: str) -> str:
    return f"jobs.*.*.{job_id}"


def event_id_for(job_id: str, key: str) -> str:
    return str(uuid.uuid5(_EVENT_NAMESPACE, f"{job_id}/{key}"))


def make_event(
    *,
    job_id: str,
    tenant_id: str,
    kind: str,
    event_type: int,
    key: str,
    progress: float = 0.0,
    step: str = "",
    message: str = "",
    payload: Mapping[str, Any] | None = None,
    job_created_at: datetime | None = None,
    attempt: int = 1,
) -> events_pb2.JobEvent:
    """Build an event whose id is derived from ``key`` (unique per job, e.g. ``"progress/minhash/3"``)."""
    event = events_pb2.JobEvent(
        event_id=event_id_for(job_id, key),
        job_id=job_id,
        tenant_id=tenant_id,
        job_kind=kind,
        type=event_type,  # type: ignore[arg-type]
        progress=max(0.0, min(1.0, progress)),
        step=step,
        message=message,
        attempt=attempt,
    )
    if payload:
        event.payload.CopyFrom(_struct(payload))
    event.occurred_at.FromDatetime(datetime.now(UTC))
    if job_created_at is not None:
        event.job_created_at.FromDatetime(job_created_at)
    return event


def _struct(values: Mapping[str, Any]) -> struct_pb2.Struct:
    result = struct_pb2.Struct()
    result.update(dict(values))
    return result


# Payload fields that carry a credential (a presigned URL of a tenant's bucket object): they reach
# the worker on the bus, but every view and store of events (REST, WebSocket, analytics) redacts them.
SECRET_PAYLOAD_FIELDS = frozenset({"source_url"})


def public_payload(event: events_pb2.JobEvent) -> dict[str, Any]:
    """The event's payload with ``SECRET_PAYLOAD_FIELDS`` redacted (also in nested lists/objects)."""
    return _redacted(json_format.MessageToDict(event.payload)) if event.HasField("payload") else {}


def _redacted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: "[redacted]" if k in SECRET_PAYLOAD_FIELDS else _redacted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redacted(item) for item in value]
    return value


def event_to_dict(event: events_pb2.JobEvent) -> dict[str, Any]:
    """JSON-friendly view used by the REST API and the WebSocket."""
    return {
        "event_id": event.event_id,
        "job_id": event.job_id,
        "kind": event.job_kind,
        "type": TYPE_NAMES.get(event.type, "unspecified"),
        "progress": round(event.progress, 4),
        "step": event.step,
        "message": event.message,
        "payload": public_payload(event),
        "occurred_at": _iso(event.occurred_at),
        "attempt": event.attempt,
    }


def _iso(ts: timestamp_pb2.Timestamp) -> str:
    return ts.ToDatetime(tzinfo=UTC).isoformat()


class EventBus:
    """One NATS connection and its JetStream context, shared by a process."""

    def __init__(
        self, nc: NatsClient, js: JetStreamContext, stream: str, lag_poll_seconds: float = 5.0
    ) -> None:
        self.nc = nc
        self.js = js
        self.stream = stream
        # How often ``pull_loop`` refreshes its consumer's lag gauges.
        self.lag_poll_seconds = lag_poll_seconds

    @classmethod
    async def connect(
        cls,
        url: str,
        *,
        name: str,
        stream: str,
        max_age_seconds: int,
        replicas: int = 1,
        lag_poll_seconds: float = 5.0,
        options: Mapping[str, Any] | None = None,
    ) -> EventBus:
        """Connect (``options``: credentials, inbox prefix, TLS for ``nats.connect``) and make sure
        the jobs stream exists."""
        nc = await nats.connect(
            url,
            name=name,
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.5,
            connect_timeout=5,
            **dict(options or {}),
        )
        js = nc.jetstream(timeout=10)
        bus = cls(nc, js, stream, lag_poll_seconds)
        try:
            await bus.ensure_stream(max_age_seconds, replicas)
        except BaseException:
            await nc.close()
            raise
        return bus

    @classmethod
    async def from_settings(cls, settings: NatsSettings, *, name: str) -> EventBus:
        return await cls.connect(
            settings.nats_url,
            name=name,
            stream=settings.nats_stream,
            max_age_seconds=settings.nats_stream_max_age_seconds,
            replicas=settings.nats_stream_replicas,
            lag_poll_seconds=settings.nats_lag_poll_seconds,
            options=connect_options(settings),
        )

    async def ensure_stream(self, max_age_seconds: int, replicas: int = 1) -> None:
        """Create the jobs stream if it is missing; every service calls this, so start order does
        not matter. An existing stream is left exactly as it is: its replicas, max age and whatever
        else an operator changed are theirs, not reset by the next service that starts."""
        try:
            await self.js.stream_info(self.stream)
        except NotFoundError:
            pass
        else:
            return
        config = api.StreamConfig(
            name=self.stream,
            subjects=["jobs.>"],
            retention=api.RetentionPolicy.LIMITS,
            storage=api.StorageType.FILE,
            max_age=float(max_age_seconds),
            num_replicas=replicas,
            # Window inside which a republished Nats-Msg-Id is dropped by the server; the server
            # refuses a window longer than max_age.
            duplicate_window=min(120.0, float(max_age_seconds)),
        )
        try:
            await self.js.add_stream(config)
        except BadRequestError as exc:
            # Another service created it (with other settings) since stream_info: theirs stays.
            if exc.err_code != STREAM_NAME_IN_USE:
                raise

    async def publish(self, event: events_pb2.JobEvent, context: otel_context.Context | None = None) -> None:
        """Publish in a producer span (child of ``context``, default: the current span) whose trace
        context travels in the message headers, so consumers continue the same trace."""
        type_name = TYPE_NAMES.get(event.type, "unspecified")
        subject = subject_for(event.job_kind, event.type, event.job_id)
        with tracer.start_as_current_span(
            f"send jobs.{event.job_kind}.{type_name}",
            context=context,
            kind=SpanKind.PRODUCER,
            attributes={
                **_messaging_attributes(subject, "send", event.event_id),
                "clipsift.job.id": event.job_id,
                "clipsift.job.kind": event.job_kind,
            },
        ):
            await self.js.publish(
                subject,
                event.SerializeToString(),
                stream=self.stream,
                headers=inject_headers({"Nats-Msg-Id": event.event_id}),
            )
        EVENTS_PUBLISHED.labels(event.job_kind, type_name).inc()

    async def close(self) -> None:
        """Drain: finish in-flight deliveries and flush pending publishes, then disconnect."""
        if not self.nc.is_closed:
            with contextlib.suppress(Exception):
                await self.nc.drain()

    async def durable_consumer(
        self,
        durable: str,
        filter_subject: str,
        *,
        ack_wait_seconds: float,
        max_deliver: int = -1,
        max_ack_pending: int = 1000,
    ) -> JetStreamContext.PullSubscription:
        """Create or update a durable pull consumer with explicit acks and bind to it."""
        config = api.ConsumerConfig(
            durable_name=durable,
            # Named, the consumer is created on $JS.API.CONSUMER.CREATE.<stream>.<name>.<filter>:
            # bus permissions can then hold a service to its own consumers and filters.
            name=durable,
            filter_subject=filter_subject,
            ack_policy=api.AckPolicy.EXPLICIT,
            deliver_policy=api.DeliverPolicy.ALL,
            ack_wait=ack_wait_seconds,
            max_deliver=max_deliver,
            max_ack_pending=max_ack_pending,
        )
        await self.js.add_consumer(self.stream, config)
        return await self.js.pull_subscribe_bind(durable=durable, stream=self.stream)

    async def replay(self, filter_subject: str) -> Any:
        """An ordered, ephemeral push subscription from the first stored message: history, then live."""
        return await self.js.subscribe(
            filter_subject, stream=self.stream, ordered_consumer=True, deliver_policy=api.DeliverPolicy.ALL
        )


def _messaging_attributes(subject: str, operation: str, message_id: str) -> dict[str, str]:
    return {
        "messaging.system": "nats",
        "messaging.operation.type": operation,
        "messaging.destination.name": subject,
        "messaging.message.id": message_id,
    }


@contextlib.contextmanager
def consume_span(msg: Msg, name: str) -> Iterator[Span]:
    """A consumer span for one message, continuing the trace its publisher put in the headers."""
    headers = msg.headers or {}
    with tracer.start_as_current_span(
        name,
        context=extract_context(headers),
        kind=SpanKind.CONSUMER,
        attributes=_messaging_attributes(msg.subject, "process", headers.get("Nats-Msg-Id", "")),
    ) as span:
        yield span


def parse_event(msg: Msg) -> events_pb2.JobEvent:
    event = events_pb2.JobEvent()
    event.ParseFromString(msg.data)
    return event


async def pull_loop(
    subscription: JetStreamContext.PullSubscription,
    handle: Callable[[list[Msg]], Awaitable[None]],
    stop: asyncio.Event,
    *,
    batch: int = 1,
    fetch_timeout: float = 1.0,
    lag_poll_seconds: float = 5.0,
) -> None:
    """Fetch batches until ``stop`` is set; ``handle`` owns acking each message.

    Meanwhile the consumer's lag (``clipsift_nats_consumer_pending`` and friends) is read from
    JetStream every ``lag_poll_seconds``. Unsubscribes on the way out: a pull subscription left
    open makes the connection's drain wait for its full timeout on shutdown.
    """
    lag = asyncio.create_task(poll_consumer_lag(subscription, lag_poll_seconds))
    try:
        while not stop.is_set():
            try:
                msgs = await subscription.fetch(batch, timeout=fetch_timeout)
            except TimeoutError:
                continue
            except nats.errors.ConnectionClosedError:
                return
            await handle(msgs)
    finally:
        lag.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await lag
        with contextlib.suppress(Exception):
            await subscription.unsubscribe()


async def poll_consumer_lag(subscription: JetStreamContext.PullSubscription, interval: float) -> None:
    """Keep the lag gauges of the subscription's consumer current until cancelled."""
    while True:
        try:
            info = await subscription.consumer_info()
        except Exception as exc:  # NATS away for a moment: the next poll tries again
            log.debug("consumer info unavailable", extra={"error": repr(exc)})
        else:
            labels = (info.stream_name, info.name)
            NATS_CONSUMER_PENDING.labels(*labels).set(info.num_pending or 0)
            NATS_CONSUMER_ACK_PENDING.labels(*labels).set(info.num_ack_pending or 0)
            NATS_CONSUMER_REDELIVERED.labels(*labels).set(info.num_redelivered or 0)
        await asyncio.sleep(interval)
