"""Keeps job rows current from the event stream (durable consumer shared by gateway replicas)."""

from __future__ import annotations

import asyncio
import logging

from nats.aio.msg import Msg

from clipsift_common.events import EventBus, consume_span, parse_event, pull_loop

from .jobs import JobStore

log = logging.getLogger(__name__)


class JobProjector:
    def __init__(self, bus: EventBus, jobs: JobStore, durable: str = "gateway-jobs") -> None:
        self.bus = bus
        self.jobs = jobs
        self.durable = durable

    async def run(self, stop: asyncio.Event) -> None:
        subscription = await self.bus.durable_consumer(self.durable, "jobs.>", ack_wait_seconds=30.0)
        await pull_loop(
            subscription,
            self._apply,
            stop,
            batch=64,
            fetch_timeout=0.5,
            lag_poll_seconds=self.bus.lag_poll_seconds,
        )

    async def _apply(self, msgs: list[Msg]) -> None:
        for msg in msgs:
            with consume_span(msg, "process job event") as span:
                try:
                    await self.jobs.apply(parse_event(msg))
                except Exception as exc:
                    log.exception("could not apply job event; will be redelivered")
                    span.record_exception(exc)
                    await msg.nak(delay=1.0)
                    continue
                await msg.ack()
