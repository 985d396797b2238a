"""Dynamic micro-batching: items submitted by concurrent callers share one call of a batch function.

Model inference usually costs less per item in batches, and a service gets its items one
request at a time. A ``MicroBatcher`` queues each submitted item; a background task takes the oldest,
keeps collecting until it holds ``max_batch`` items or ``max_wait_ms`` have passed since that
first item, runs the batch function on the batch in a worker thread and hands every caller its
own result. The wait bounds the latency a lone request pays for batching; under load, batches
fill up without waiting.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from types import TracebackType
from typing import Generic, TypeVar

from .errors import Unavailable
from .metrics import BATCH_QUEUE_DEPTH, BATCH_SECONDS, BATCH_SIZE, BATCH_WAIT_SECONDS

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class _Pending(Generic[T, R]):
    item: T
    future: asyncio.Future[R]
    queued_at: float = field(default_factory=time.perf_counter)


class MicroBatcher(Generic[T, R]):
    """Collects concurrently submitted items into batches for ``batch_fn``.

    ``batch_fn`` gets a list of items and must return one result per item, in the same order.
    It runs in one dedicated thread, one batch at a time, so a model that is not thread-safe
    needs no lock and the event loop stays free (health checks, new requests) while it runs.
    An exception from ``batch_fn`` fails every item of that batch and no other.

    The worker task starts on the first ``submit``; ``close`` finishes what was submitted and
    stops it. Metrics, labelled with ``name``: ``clipsift_batch_size``, ``clipsift_batch_queue_depth``,
    ``clipsift_batch_seconds`` (the batch function) and ``clipsift_batch_wait_seconds`` (queueing).
    """

    def __init__(
        self,
        batch_fn: Callable[[list[T]], Sequence[R]],
        *,
        max_batch: int,
        max_wait_ms: float,
        name: str,
    ) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, got {max_batch}")
        if max_wait_ms < 0:
            raise ValueError(f"max_wait_ms must not be negative, got {max_wait_ms}")
        self.name = name
        self._batch_fn = batch_fn
        self._max_batch = max_batch
        self._max_wait = max_wait_ms / 1000.0
        # None is the stop marker that ``close`` queues behind the last submitted item.
        self._queue: asyncio.Queue[_Pending[T, R] | None] = asyncio.Queue()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"batch-{name}")
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self._batch_size = BATCH_SIZE.labels(name)
        self._queue_depth = BATCH_QUEUE_DEPTH.labels(name)
        self._batch_seconds = BATCH_SECONDS.labels(name)
        self._wait_seconds = BATCH_WAIT_SECONDS.labels(name)

    async def submit(self, item: T) -> R:
        """Queue ``item`` for the next batch and wait for its result (or its batch's exception).

        Raises ``Unavailable`` once the batcher is closed. A caller cancelled while its item is
        still queued costs nothing: the item is dropped when its batch is formed.
        """
        if self._closed:
            raise Unavailable(f"batcher {self.name!r} is shut down")
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name=f"batcher-{self.name}")
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Pending(item, future))
        self._queue_depth.set(self._queue.qsize())
        return await future

    async def submit_many(self, items: Sequence[T]) -> list[R]:
        """``submit`` for several items at once: all queued together, behind each other, with one
        future each and no task per item; results in order. If one item's batch fails, the
        caller gets that exception and the items not yet run are dropped."""
        if self._closed:
            raise Unavailable(f"batcher {self.name!r} is shut down")
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name=f"batcher-{self.name}")
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[R]] = [loop.create_future() for _ in items]
        for item, future in zip(items, futures, strict=True):
            self._queue.put_nowait(_Pending(item, future))
        self._queue_depth.set(self._queue.qsize())
        try:
            return list(await asyncio.gather(*futures))
        finally:
            for future in futures:
                future.cancel()  # no-op for finished ones; unrun items cost no inference

    async def close(self) -> None:
        """Refuse new items, run every item already submitted, then stop the worker thread."""
        if self._closed:
            return
        self._closed = True
        if self._task is not None:
            self._queue.put_nowait(None)
            await self._task
        self._executor.shutdown(wait=True)
        self._queue_depth.set(0)

    async def __aenter__(self) -> MicroBatcher[T, R]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def _run(self) -> None:
        batch: list[_Pending[T, R]] = []
        try:
            while True:
                first = await self._queue.get()
                if first is None:
                    return
                batch = [first]
                stop = await self._collect(batch)
                self._queue_depth.set(self._queue.qsize())
                await self._execute(batch)
                batch = []
                if stop:
                    return
        finally:
            # Only reached with work left when the task itself is cancelled (the loop is going
            # away without ``close``): callers must get an error rather than wait forever.
            while not self._queue.empty():
                pending = self._queue.get_nowait()
                if pending is not None:
                    batch.append(pending)
            _fail(batch, Unavailable(f"batcher {self.name!r} stopped"))

    async def _collect(self, batch: list[_Pending[T, R]]) -> bool:
        """Add items to ``batch`` until it is full or the wait is over; True if the stop marker came."""
        deadline = asyncio.get_running_loop().time() + self._max_wait
        while len(batch) < self._max_batch:
            try:
                pending = self._queue.get_nowait()
            except asyncio.QueueEmpty:
                try:
                    async with asyncio.timeout_at(deadline):
                        pending = await self._queue.get()
                except TimeoutError:
                    return False
            if pending is None:
                return True
            batch.append(pending)
        return False

    async def _execute(self, batch: list[_Pending[T, R]]) -> None:
        # Callers that gave up (deadline passed, client went away) cost no inference.
        live = [pending for pending in batch if not pending.future.done()]
        if not live:
            return
        self._batch_size.observe(len(live))
        started = time.perf_counter()
        for pending in live:
            self._wait_seconds.observe(started - pending.queued_at)
        loop = asyncio.get_running_loop()
        try:
            results = await loop.run_in_executor(self._executor, self._batch_fn, [p.item for p in live])
            self._batch_seconds.observe(time.perf_counter() - started)
            if len(results) != len(live):
                raise RuntimeError(
                    f"batch function of {self.name!r} returned {len(results)} results for {len(live)} items"
                )
        except Exception as exc:
            _fail(live, exc)
            return
        for pending, result in zip(live, results, strict=True):
            if not pending.future.done():
                pending.future.set_result(result)


def _fail(batch: list[_Pending[T, R]], exc: BaseException) -> None:
    for pending in batch:
        if not pending.future.done():
            pending.future.set_exception(exc)
