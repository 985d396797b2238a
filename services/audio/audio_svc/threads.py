"""Blocking model work in worker threads, awaited from the event loop without blocking it.

A thread cannot be interrupted. When the request that started one is cancelled, these helpers
still wait for the thread to finish before letting the cancellation through, so a semaphore
held around them counts work that is really running, not work that was merely asked for.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Generic, ParamSpec, TypeVar

T = TypeVar("T")
P = ParamSpec("P")


async def run_in_thread(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``asyncio.to_thread``, except that a cancelled caller returns only when the thread has."""
    work = asyncio.ensure_future(asyncio.to_thread(fn, *args, **kwargs))
    try:
        return await asyncio.shield(work)
    except asyncio.CancelledError:
        await asyncio.wait([work])
        raise


@dataclass(frozen=True)
class _Item(Generic[T]):
    value: T


@dataclass(frozen=True)
class _Failed:
    error: BaseException


class _Done:
    pass


async def iterate_in_thread(items: Iterator[T]) -> AsyncIterator[T]:
    """Advance ``items`` in a worker thread and yield each item the moment it is produced.

    If the consumer stops early (a client cancels its stream), the worker stops after the
    item in progress, and this generator returns only once it has.
    """
    loop = asyncio.get_running_loop()
    # Unbounded: items are few and small (transcript segments), and the producer must never
    # block on a slow client while it holds the model.
    queue: asyncio.Queue[_Item[T] | _Failed | _Done] = asyncio.Queue()
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if stop.is_set():
                    break
                loop.call_soon_threadsafe(queue.put_nowait, _Item(item))
        except BaseException as exc:  # handed over and re-raised on the event loop
            loop.call_soon_threadsafe(queue.put_nowait, _Failed(exc))
        else:
            loop.call_soon_threadsafe(queue.put_nowait, _Done())

    worker = asyncio.ensure_future(asyncio.to_thread(produce))
    try:
        while True:
            entry = await queue.get()
            if isinstance(entry, _Done):
                return
            if isinstance(entry, _Failed):
                raise entry.error
            yield entry.value
    finally:
        stop.set()
        await asyncio.wait([worker])
