"""Dead letters: messages a consumer could not process, parked on their own stream, not retried forever.

A parked message keeps its subject (under ``dlq.<consumer>.``), payload and headers, and gains
headers saying which consumer parked it, after how many deliveries, and why. The stream
``<jobs stream>_DLQ`` is created with the jobs stream's retention, storage and replicas the first
time it is needed and never updated afterwards, so an operator's changes to it stay. Operators read
it with ``nats stream view CLIPSIFT_JOBS_DLQ`` and may republish a message once its cause is fixed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass

import psycopg
import psycopg_pool
from nats.aio.msg import Msg
from nats.errors import Error as NatsError
from nats.js import api
from nats.js.errors import BadRequestError, NotFoundError
from prometheus_client import Counter

from .events import EventBus

log = logging.getLogger(__name__)

DEAD_LETTER_SUBJECTS = "dlq.>"
REASON_HEADER = "Clipsift-Dlq-Reason"
CONSUMER_HEADER = "Clipsift-Dlq-Consumer"
SUBJECT_HEADER = "Clipsift-Dlq-Subject"
STREAM_SEQ_HEADER = "Clipsift-Dlq-Stream-Seq"
DELIVERIES_HEADER = "Clipsift-Dlq-Deliveries"

DEAD_LETTERS = Counter(
    "clipsift_dead_letters_total", "Messages parked on the dead-letter stream", ["consumer"]
)

# Failures of a dependency, not of the message: retried for as long as they last (the consumer
# reports itself unhealthy meanwhile), never counted towards parking the message.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    psycopg.OperationalError,
    psycopg_pool.PoolTimeout,
    ConnectionError,
    TimeoutError,
    NatsError,
)


def is_transient(exc: BaseException) -> bool:
    return isinstance(exc, TRANSIENT_ERRORS)


def dead_letter_stream(stream: str) -> str:
    return f"{stream}_DLQ"


def dead_letter_subject(consumer: str, subject: str) -> str:
    return f"dlq.{consumer}.{subject}"


_CREATE_ATTEMPTS = 5


async def ensure_derived_stream(bus: EventBus, name: str, subjects: list[str], **config: object) -> None:
    """Create stream ``name`` (if missing) with the jobs stream's max age, storage and replicas."""
    try:
        await bus.js.stream_info(name)
        return
    except NotFoundError:
        pass
    jobs = (await bus.js.stream_info(bus.stream)).config
    stream = api.StreamConfig(
        name=name,
        subjects=subjects,
        retention=api.RetentionPolicy.LIMITS,
        storage=jobs.storage or api.StorageType.FILE,
        max_age=jobs.max_age,
        num_replicas=jobs.num_replicas,
        duplicate_window=jobs.duplicate_window,
        **config,  # type: ignore[arg-type]
    )
    # Every worker, ingester and projector starting at once creates it: one wins, and the server
    # may refuse the others ("subjects overlap") while it registers the winner's, or while it
    # still removes a stream of that name just deleted.
    for attempt in range(_CREATE_ATTEMPTS):
        try:
            await bus.js.add_stream(stream)
            return
        except BadRequestError:
            if attempt == _CREATE_ATTEMPTS - 1:
                raise
        await asyncio.sleep(0.1 * (attempt + 1))
        with contextlib.suppress(NotFoundError):
            await bus.js.stream_info(name)
            return


async def ensure_dead_letter_stream(bus: EventBus) -> None:
    await ensure_derived_stream(bus, dead_letter_stream(bus.stream), [DEAD_LETTER_SUBJECTS])


async def park(
    bus: EventBus,
    *,
    consumer: str,
    subject: str,
    data: bytes,
    headers: Mapping[str, str] | None,
    stream_seq: int,
    deliveries: int,
    reason: str,
) -> None:
    """Copy one jobs-stream message onto the dead-letter stream, saying why.

    Parking the same (consumer, stream sequence) twice, e.g. after a crash between parking and
    acknowledging, stores it once: the message id is derived from both."""
    parked_headers = {
        **{k: v for k, v in (headers or {}).items() if k != "Nats-Msg-Id"},
        REASON_HEADER: reason,
        CONSUMER_HEADER: consumer,
        SUBJECT_HEADER: subject,
        STREAM_SEQ_HEADER: str(stream_seq),
        DELIVERIES_HEADER: str(deliveries),
        "Nats-Msg-Id": f"{bus.stream}/{consumer}/{stream_seq}",
    }
    await bus.js.publish(
        dead_letter_subject(consumer, subject),
        data,
        stream=dead_letter_stream(bus.stream),
        headers=parked_headers,
    )
    DEAD_LETTERS.labels(consumer).inc()
    log.warning(
        "message parked on the dead-letter stream",
        extra={"consumer": consumer, "subject": subject, "stream_seq": stream_seq, "reason": reason},
    )


async def park_message(bus: EventBus, msg: Msg, consumer: str, reason: str) -> None:
    """Park ``msg`` (delivered by ``consumer``) and terminate it there: it is never redelivered."""
    await park(
        bus,
        consumer=consumer,
        subject=msg.subject,
        data=msg.data,
        headers=msg.headers,
        stream_seq=msg.metadata.sequence.stream,
        deliveries=msg.metadata.num_delivered,
        reason=reason,
    )
    await msg.term()


def retry_delay(deliveries: int, max_seconds: float = 30.0) -> float:
    """1, 2, 4 ... seconds before the next delivery, up to ``max_seconds``."""
    return min(max_seconds, 2.0 ** max(0, deliveries - 1))


async def retry_or_park(bus: EventBus, msg: Msg, consumer: str, reason: str, max_attempts: int) -> bool:
    """After a failure caused by the message itself: park it when this was its ``max_attempts``-th
    delivery, otherwise ask for a later redelivery. True when it was parked."""
    deliveries = msg.metadata.num_delivered
    if deliveries >= max_attempts:
        await park_message(bus, msg, consumer, f"{reason} (after {deliveries} deliveries)")
        return True
    await msg.nak(delay=retry_delay(deliveries))
    return False


@dataclass(frozen=True)
class DeadLetter:
    """One parked message: where it came from, who parked it and why."""

    subject: str
    data: bytes
    headers: dict[str, str]
    consumer: str
    reason: str
    deliveries: int
    stream_seq: int


async def dead_letters(bus: EventBus, limit: int = 1000) -> list[DeadLetter]:
    """The parked messages still on the dead-letter stream, oldest first, at most ``limit``."""
    name = dead_letter_stream(bus.stream)
    try:
        state = (await bus.js.stream_info(name)).state
    except NotFoundError:
        return []
    letters: list[DeadLetter] = []
    for seq in range(state.first_seq, state.last_seq + 1):
        if len(letters) >= limit:
            break
        try:
            msg = await bus.js.get_msg(name, seq)
        except NotFoundError:  # deleted or aged out since the stream info was read
            continue
        headers = dict(msg.headers or {})
        letters.append(
            DeadLetter(
                subject=headers.get(SUBJECT_HEADER, ""),
                data=msg.data or b"",
                headers=headers,
                consumer=headers.get(CONSUMER_HEADER, ""),
                reason=headers.get(REASON_HEADER, ""),
                deliveries=int(headers.get(DELIVERIES_HEADER, "0")),
                stream_seq=int(headers.get(STREAM_SEQ_HEADER, "0")),
            )
        )
    return letters
