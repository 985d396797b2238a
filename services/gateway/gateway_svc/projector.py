"""Keeps job rows current from the event stream (durable consumer shared by gateway replicas).

Supervised: when the loop fails (NATS gone, its consumer deleted) it is restarted with backoff, and
``healthy`` / ``last_error`` / ``restarts`` / ``parked`` on ``app.state.projector`` say how it is
doing. An event that cannot be applied because of what it contains (undecodable, refused by
PostgreSQL) is parked on the dead-letter stream after ``event_max_attempts`` deliveries; one that
names another tenant than its job's is parked at once, since a forged event never becomes right.
While PostgreSQL itself is unavailable events are retried for as long as that lasts, never parked.
"""

from __future__ import annotations

import asyncio
import logging

from google.protobuf.message import DecodeError
from nats.aio.msg import Msg
from nats.js.errors import NotFoundError

from clipsift_common.deadletter import (
    ensure_dead_letter_stream,
    is_transient,
    park_message,
    retry_delay,
    retry_or_park,
)
from clipsift_common.events import EventBus, consume_span, parse_event, pull_loop
from clipsift_common.supervised import Supervised, describe

from .jobs import Applied, JobStore
from .settings import GatewaySettings

log = logging.getLogger(__name__)


class ConsumerGone(RuntimeError):
    """The durable consumer was deleted: fetches would time out quietly forever."""


class JobProjector(Supervised):
    name = "job projector"

    def __init__(
        self, bus: EventBus, jobs: JobStore, settings: GatewaySettings, durable: str = "gateway-jobs"
    ) -> None:
        super().__init__(
            restart_initial_seconds=settings.restart_initial_seconds,
            restart_max_seconds=settings.restart_max_seconds,
        )
        self.bus = bus
        self.jobs = jobs
        self.durable = durable
        self.max_attempts = settings.event_max_attempts
        self.ack_wait_seconds = settings.event_ack_wait_seconds
        self.check_seconds = settings.projector_check_seconds
        # Events parked by this process since it started.
        self.parked = 0

    async def run_once(self, stop: asyncio.Event) -> None:
        await ensure_dead_letter_stream(self.bus)
        subscription = await self.bus.durable_consumer(
            self.durable, "jobs.>", ack_wait_seconds=self.ack_wait_seconds
        )
        self.mark_healthy()
        async with asyncio.TaskGroup() as group:
            watcher = group.create_task(self._watch_consumer())
            await pull_loop(
                subscription,
                self._apply,
                stop,
                batch=64,
                fetch_timeout=0.5,
                lag_poll_seconds=self.bus.lag_poll_seconds,
            )
            watcher.cancel()

    async def _watch_consumer(self) -> None:
        while True:
            await asyncio.sleep(self.check_seconds)
            try:
                await self.bus.js.consumer_info(self.bus.stream, self.durable)
            except NotFoundError as exc:
                raise ConsumerGone(f"consumer {self.durable} no longer exists") from exc
            except Exception as exc:  # NATS away for a moment: pull_loop notices on its own
                log.debug("consumer check failed", extra={"error": repr(exc)})

    async def _apply(self, msgs: list[Msg]) -> None:
        for msg in msgs:
            with consume_span(msg, "process job event") as span:
                try:
                    event = parse_event(msg)
                except DecodeError:
                    await self._park(msg, "not a JobEvent")
                    continue
                try:
                    applied = await self.jobs.apply(event)
                except Exception as exc:
                    span.record_exception(exc)
                    if is_transient(exc):
                        log.warning("job event not applied; will be redelivered", extra={"error": repr(exc)})
                        self.mark_failing(exc)
                        await msg.nak(delay=retry_delay(msg.metadata.num_delivered))
                    else:
                        log.exception("job event could not be applied")
                        if await retry_or_park(self.bus, msg, self.durable, describe(exc), self.max_attempts):
                            self.parked += 1
                    continue
                if applied is Applied.FOREIGN_TENANT:
                    log.warning(
                        "refused a job event naming another tenant",
                        extra={"job": event.job_id, "event_tenant": event.tenant_id},
                    )
                    await self._park(
                        msg, f"tenant {event.tenant_id!r} is not the tenant of job {event.job_id}"
                    )
                    continue
                await msg.ack()
                self.mark_healthy()

    async def _park(self, msg: Msg, reason: str) -> None:
        await park_message(self.bus, msg, self.durable, reason)
        self.parked += 1
