"""Jobs whose worker died on every delivery: failed with a reason, their request parked.

A worker that is SIGKILLed, runs out of memory or hangs past its ack deadline cannot report its
own death. JetStream stops redelivering a job request after the worker consumer's ``max_deliver``
and publishes a MAX_DELIVERIES advisory on core NATS. This sweeper turns each advisory into a
``failed`` event for the job (which the projector folds in, and which ends the job's WebSocket)
and copies the request onto the dead-letter stream.

Why here and why advisories:

- The advisory is exact: it fires once per request, only when JetStream has given up on it. A
  sweeper of stale ``running`` rows would have to guess a timeout longer than any job's quiet
  stretch (workers heartbeat JetStream, not the database) and could fail a job JetStream still
  means to redeliver.
- It runs in the gateway, beside the projector: the gateway owns the job records and always runs,
  whereas a worker is the very thing that dies (and a kind may have no live worker at all).
- Advisories are captured by a stream (``<jobs stream>_ADVISORIES``), so none is lost while no
  gateway is up, and read through one durable consumer shared by every gateway replica, so each
  advisory is handled by exactly one of them however many run.

The server emits the advisory when it would have redelivered, i.e. when a worker of that kind
next asks for work (a restarted worker does so at once).
"""

from __future__ import annotations

import asyncio
import json
import logging

from google.protobuf.message import DecodeError
from nats.aio.msg import Msg
from nats.js import api
from nats.js.errors import NotFoundError

from clipsift.events.v1 import events_pb2
from clipsift_common.deadletter import (
    ensure_dead_letter_stream,
    ensure_derived_stream,
    is_transient,
    park,
    retry_delay,
    retry_or_park,
)
from clipsift_common.events import EventBus, make_event, pull_loop
from clipsift_common.supervised import Supervised, describe
from clipsift_common.telemetry import extract_context

from .jobs import JobStore
from .settings import GatewaySettings

log = logging.getLogger(__name__)

MAX_DELIVERIES_ADVISORY = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES"


def advisory_stream(stream: str) -> str:
    return f"{stream}_ADVISORIES"


def failure_reason(deliveries: int) -> str:
    return (
        f"no worker finished the job: its worker stopped (killed, out of memory or past its ack "
        f"deadline) on each of its {deliveries} deliveries"
    )


class DeadJobSweeper(Supervised):
    name = "dead-job sweeper"

    def __init__(
        self, bus: EventBus, jobs: JobStore, settings: GatewaySettings, durable: str = "gateway-dead-jobs"
    ) -> None:
        super().__init__(
            restart_initial_seconds=settings.restart_initial_seconds,
            restart_max_seconds=settings.restart_max_seconds,
        )
        self.bus = bus
        self.jobs = jobs
        self.durable = durable
        self.stream = advisory_stream(bus.stream)
        self.max_attempts = settings.event_max_attempts
        # Jobs failed by this process since it started.
        self.failed_jobs = 0

    async def run_once(self, stop: asyncio.Event) -> None:
        await ensure_dead_letter_stream(self.bus)
        await ensure_derived_stream(self.bus, self.stream, [f"{MAX_DELIVERIES_ADVISORY}.{self.bus.stream}.*"])
        await self.bus.js.add_consumer(
            self.stream,
            api.ConsumerConfig(
                durable_name=self.durable,
                ack_policy=api.AckPolicy.EXPLICIT,
                deliver_policy=api.DeliverPolicy.ALL,
                ack_wait=30.0,
            ),
        )
        subscription = await self.bus.js.pull_subscribe_bind(durable=self.durable, stream=self.stream)
        self.mark_healthy()
        await pull_loop(
            subscription,
            self._handle,
            stop,
            batch=16,
            fetch_timeout=0.5,
            lag_poll_seconds=self.bus.lag_poll_seconds,
        )

    async def _handle(self, msgs: list[Msg]) -> None:
        for msg in msgs:
            try:
                await self._sweep(msg)
            except Exception as exc:
                if is_transient(exc):
                    log.warning("advisory not handled; will be redelivered", extra={"error": repr(exc)})
                    self.mark_failing(exc)
                    await msg.nak(delay=retry_delay(msg.metadata.num_delivered))
                else:
                    log.exception("advisory could not be handled")
                    await retry_or_park(self.bus, msg, self.durable, describe(exc), self.max_attempts)
                continue
            await msg.ack()
            self.mark_healthy()

    async def _sweep(self, advisory: Msg) -> None:
        try:
            notice = json.loads(advisory.data)
            consumer, seq, deliveries = (
                str(notice["consumer"]),
                int(notice["stream_seq"]),
                int(notice["deliveries"]),
            )
        except (ValueError, KeyError, TypeError):
            log.error("ignoring an unreadable max-deliveries advisory", extra={"data": advisory.data[:200]})
            return
        try:
            original = await self.bus.js.get_msg(self.bus.stream, seq)
        except NotFoundError:
            log.warning("message of a max-deliveries advisory is gone", extra={"stream_seq": seq})
            return
        # A stream recreated since the advisory reuses its sequence numbers for newer messages.
        if original.time is not None and original.time > advisory.metadata.timestamp:
            log.warning("ignoring a max-deliveries advisory older than its stream", extra={"stream_seq": seq})
            return
        reason = failure_reason(deliveries)
        await park(
            self.bus,
            consumer=consumer,
            subject=original.subject or "",
            data=original.data or b"",
            headers=original.headers,
            stream_seq=seq,
            deliveries=deliveries,
            reason=reason,
        )
        parts = (original.subject or "").split(".")
        if len(parts) == 4 and parts[2] == "requested":
            await self._fail_job(original.data or b"", original.headers or {}, deliveries, reason)

    async def _fail_job(self, data: bytes, headers: dict[str, str], deliveries: int, reason: str) -> None:
        request = events_pb2.JobEvent()
        try:
            request.ParseFromString(data)
        except DecodeError:
            return  # parked as it was; there is no job to fail
        if not await self.jobs.is_unfinished(request.job_id, request.tenant_id):
            return  # finished after all, or not one of this gateway's jobs
        created = request.job_created_at.ToDatetime() if request.HasField("job_created_at") else None
        failed = make_event(
            job_id=request.job_id,
            tenant_id=request.tenant_id,
            kind=request.job_kind,
            event_type=events_pb2.EVENT_TYPE_FAILED,
            key="failed",  # the id a worker's own failure would have: stored once if both happen
            step="failed",
            message=reason,
            job_created_at=created,
            attempt=deliveries,
        )
        # In the job's trace, which the request's headers carry.
        await self.bus.publish(failed, extract_context(headers))
        self.failed_jobs += 1
        log.warning("job failed after its last delivery", extra={"job": request.job_id, "reason": reason})
