"""JetStream job worker: pull a job request, run it, publish progress, ack only when stored.

Delivery semantics: a job is acknowledged after its result is stored and its COMPLETED (or
FAILED) event is published. A worker killed mid-job never acks, so JetStream redelivers the
request after ``ack_wait``; heartbeats (``in_progress``, sent every third of ``ack_wait`` while
the handler runs, and with each progress event) keep a live job from being redelivered. Event
ids are derived from (job, step), so a rerun republishes the same ids and nothing downstream
counts them twice.

A request no attempt finishes ends ``failed`` either way: after an error the worker fails it on
the last delivery itself; after a worker died on every delivery (killed, out of memory), the
gateway's dead-job sweeper fails it from JetStream's max-deliveries advisory and parks the request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from google.protobuf import json_format
from nats.aio.msg import Msg
from opentelemetry import context as otel_context
from opentelemetry.trace import Span, Status, StatusCode

from clipsift.events.v1 import events_pb2

from .deadletter import ensure_dead_letter_stream, park_message
from .errors import ClipsiftError
from .events import EventBus, consume_span, make_event, parse_event, pull_loop, requested_subject
from .logging import job_id_var
from .metrics import JOB_SECONDS, JOB_STEP_SECONDS, JOBS_FINISHED, JOBS_IN_PROGRESS, JOBS_STARTED
from .settings import WorkerSettings
from .telemetry import tracer

log = logging.getLogger(__name__)

# How long the server may take to confirm an ack. nats-py's default (1 s) is short enough for a
# busy server to miss, and a missed confirmation after `completed` would run the job again.
ACK_TIMEOUT_SECONDS = 15.0


class JobFailed(ClipsiftError):
    """The job cannot succeed (bad input, over a limit): fail it now, do not retry."""


class JobContext:
    """What a job handler gets: its request and options, progress reporting, step timing.

    A step runs from the first progress event naming it until ``step_done`` or the next step's
    first progress (or the job's end); each step is a ``clipsift_job_step_seconds`` observation
    and a span inside the job's trace.
    """

    def __init__(self, bus: EventBus, request: events_pb2.JobEvent, msg: Msg, attempt: int) -> None:
        self.bus = bus
        self.request = request
        self.msg = msg
        self.attempt = attempt
        self.options: dict[str, Any] = (
            json_format.MessageToDict(request.payload) if request.HasField("payload") else {}
        )
        self._loop = asyncio.get_running_loop()
        self._last_fraction = -1.0
        # The job's span: events published from worker threads or other tasks stay in its trace.
        self._trace_context = otel_context.get_current()
        self._open_step: tuple[str, float, Span] | None = None
        self._steps_seen: set[str] = set()
        # Progress events carry the time since this attempt started, so analytics can time each step
        # without trusting two machines' clocks or counting the time the job waited in the queue.
        self._attempt_started = time.perf_counter()

    @property
    def job_id(self) -> str:
        return self.request.job_id

    @property
    def tenant_id(self) -> str:
        return self.request.tenant_id

    @property
    def kind(self) -> str:
        return self.request.job_kind

    def _event(self, event_type: int, key: str, **fields: Any) -> events_pb2.JobEvent:
        created = (
            self.request.job_created_at.ToDatetime() if self.request.HasField("job_created_at") else None
        )
        return make_event(
            job_id=self.job_id,
            tenant_id=self.tenant_id,
            kind=self.kind,
            event_type=event_type,
            key=key,
            job_created_at=created,
            attempt=self.attempt,
            **fields,
        )

    async def progress(
        self, step: str, fraction: float, message: str = "", details: Mapping[str, Any] | None = None
    ) -> None:
        """Publish progress (at most one event per whole percent) and extend the ack deadline.

        ``details`` (e.g. epoch, step and loss of a training job) travel as the event's payload."""
        if step not in self._steps_seen:
            self._start_step(step)
        percent = int(fraction * 100)
        if percent <= int(self._last_fraction * 100) and fraction < 1.0:
            return
        self._last_fraction = fraction
        await self.msg.in_progress()
        await self.bus.publish(
            self._event(
                events_pb2.EVENT_TYPE_PROGRESS,
                f"progress/{percent}",
                progress=fraction,
                step=step,
                message=message,
                # ``details`` first: the attempt's elapsed time is the worker's to state.
                payload={
                    **(details or {}),
                    "elapsed_seconds": round(time.perf_counter() - self._attempt_started, 3),
                },
            ),
            self._trace_context,
        )

    def progress_threadsafe(
        self, step: str, fraction: float, message: str = "", details: Mapping[str, Any] | None = None
    ) -> None:
        """For CPU-bound code running in a worker thread."""
        asyncio.run_coroutine_threadsafe(self.progress(step, fraction, message, details), self._loop)

    def step_done(self, step: str) -> None:
        """End ``step`` now (otherwise it ends when the next step starts or the job ends)."""
        if self._open_step is None or self._open_step[0] != step:
            return
        _, started, span = self._open_step
        self._open_step = None
        JOB_STEP_SECONDS.labels(self.kind, step).observe(time.perf_counter() - started)
        span.end()

    def _start_step(self, step: str) -> None:
        if self._open_step is not None:
            self.step_done(self._open_step[0])
        self._steps_seen.add(step)
        span = tracer.start_span(
            f"step {step}", context=self._trace_context, attributes={"clipsift.job.step": step}
        )
        self._open_step = (step, time.perf_counter(), span)

    def end_steps(self) -> None:
        if self._open_step is not None:
            self.step_done(self._open_step[0])

    async def completed(self, payload: Mapping[str, Any]) -> None:
        self.end_steps()
        await self.bus.publish(
            self._event(
                events_pb2.EVENT_TYPE_COMPLETED, "completed", progress=1.0, step="done", payload=payload
            ),
            self._trace_context,
        )

    async def failed(self, reason: str) -> None:
        self.end_steps()
        await self.bus.publish(
            self._event(events_pb2.EVENT_TYPE_FAILED, "failed", step="failed", message=reason),
            self._trace_context,
        )


JobHandler = Callable[[JobContext], Awaitable[Mapping[str, Any]]]


class JobWorker:
    """Runs ``handler`` for every ``jobs.<kind>.requested`` event, ``concurrency`` at a time."""

    def __init__(self, bus: EventBus, kind: str, durable: str, handler: JobHandler, settings: WorkerSettings):
        self.bus = bus
        self.kind = kind
        self.durable = durable
        self.handler = handler
        self.settings = settings

    async def run(self, stop: asyncio.Event) -> None:
        await ensure_dead_letter_stream(self.bus)
        subscription = await self.bus.durable_consumer(
            self.durable,
            requested_subject(self.kind),
            ack_wait_seconds=self.settings.worker_ack_wait_seconds,
            max_deliver=self.settings.worker_max_deliver,
            max_ack_pending=self.settings.worker_concurrency,
        )
        slots = asyncio.Semaphore(self.settings.worker_concurrency)
        running: set[asyncio.Task[None]] = set()

        async def dispatch(msgs: list[Msg]) -> None:
            for msg in msgs:
                await slots.acquire()
                task = asyncio.create_task(self._run_one(msg))
                running.add(task)
                task.add_done_callback(finished)

        def finished(task: asyncio.Task[None]) -> None:
            running.discard(task)
            slots.release()

        log.info("worker started", extra={"kind": self.kind, "durable": self.durable})
        try:
            await pull_loop(subscription, dispatch, stop, batch=1, lag_poll_seconds=self.bus.lag_poll_seconds)
        finally:
            # Also when this task is cancelled: job tasks must not outlive their worker.
            # Unfinished jobs are not acked: JetStream hands them to another replica.
            for task in list(running):
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)

    async def _run_one(self, msg: Msg) -> None:
        try:
            request = parse_event(msg)
        except Exception:
            log.error("parking an undecodable job request", extra={"subject": msg.subject})
            await park_message(self.bus, msg, self.durable, "not a JobEvent")
            return
        attempt = msg.metadata.num_delivered
        with consume_span(msg, f"process jobs.{self.kind}.requested") as span:
            span.set_attributes(
                {
                    "clipsift.job.id": request.job_id,
                    "clipsift.job.kind": self.kind,
                    "clipsift.job.attempt": attempt,
                }
            )
            await self._attempt(JobContext(self.bus, request, msg, attempt), span)

    async def _attempt(self, ctx: JobContext, span: Span) -> None:
        msg, attempt = ctx.msg, ctx.attempt
        token = job_id_var.set(ctx.job_id)
        heartbeat = asyncio.create_task(self._heartbeat(msg))
        JOBS_STARTED.labels(self.kind).inc()
        in_progress = JOBS_IN_PROGRESS.labels(self.kind)
        in_progress.inc()
        started = time.perf_counter()
        outcome = "cancelled"
        try:
            log.info("job started", extra={"kind": self.kind, "attempt": attempt})
            payload = await self.handler(ctx)
            await ctx.completed(payload)
            await msg.ack_sync(timeout=ACK_TIMEOUT_SECONDS)
            outcome = "completed"
            JOBS_FINISHED.labels(self.kind, outcome).inc()
            log.info("job completed")
        except ClipsiftError as exc:
            outcome = "failed"
            span.set_status(Status(StatusCode.ERROR, str(exc)))
            await self._fail(ctx, msg, str(exc))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("job attempt failed", extra={"attempt": attempt})
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            if attempt >= self.settings.worker_max_deliver:
                outcome = "failed"
                await self._fail(ctx, msg, f"internal error after {attempt} attempts: {type(exc).__name__}")
            else:
                outcome = "retried"
                await msg.nak(delay=min(30.0, 2.0**attempt))
        finally:
            ctx.end_steps()
            heartbeat.cancel()
            in_progress.dec()
            JOB_SECONDS.labels(self.kind, outcome).observe(time.perf_counter() - started)
            job_id_var.reset(token)

    async def _heartbeat(self, msg: Msg) -> None:
        """Extend the ack deadline while the handler runs: a step that reports no progress for
        longer than ``ack_wait`` would otherwise be redelivered and run twice."""
        interval = self.settings.worker_ack_wait_seconds / 3
        while True:
            await asyncio.sleep(interval)
            with contextlib.suppress(Exception):
                await msg.in_progress()

    async def _fail(self, ctx: JobContext, msg: Msg, reason: str) -> None:
        await ctx.failed(reason)
        await msg.term()
        JOBS_FINISHED.labels(self.kind, "failed").inc()
        log.warning("job failed", extra={"reason": reason})
