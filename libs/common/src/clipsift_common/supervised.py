"""A long-running loop that is restarted with backoff when it fails, and says how it is doing.

A background task that dies inside a web process dies silently: nothing awaits it. Subclasses
put one pass of their loop in ``run_once``; ``run`` restarts it after any failure (and after an
unexpected return, e.g. its connection closed for good) and keeps ``healthy``, ``last_error`` and
``restarts`` current for readiness checks and operators.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

log = logging.getLogger(__name__)


def describe(exc: BaseException) -> str:
    """``Type: message`` of the first leaf of an exception group (a TaskGroup raises those)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return f"{type(exc).__name__}: {exc}".rstrip(": ")


class Supervised:
    """``healthy``: running and its last piece of work succeeded; ``last_error``: why it last was not
    (kept after it recovers); ``restarts``: how many times ``run_once`` failed and was started again."""

    name = "background task"

    def __init__(self, *, restart_initial_seconds: float, restart_max_seconds: float) -> None:
        self.restart_initial_seconds = restart_initial_seconds
        self.restart_max_seconds = restart_max_seconds
        self.healthy = False
        self.last_error: str | None = None
        self.restarts = 0

    async def run_once(self, stop: asyncio.Event) -> None:
        raise NotImplementedError

    def mark_healthy(self) -> None:
        self.healthy = True

    def mark_failing(self, error: BaseException | str) -> None:
        self.healthy = False
        self.last_error = error if isinstance(error, str) else describe(error)

    async def run(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set, restarting after failures: the delay doubles from
        ``restart_initial_seconds`` up to ``restart_max_seconds`` and starts over once a run has
        lasted longer than the longest delay."""
        loop = asyncio.get_running_loop()
        delay = self.restart_initial_seconds
        while not stop.is_set():
            started = loop.time()
            try:
                await self.run_once(stop)
                if stop.is_set():
                    break
                raise RuntimeError(f"{self.name} stopped by itself")
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.exception("%s failed; restarting", self.name, extra={"restarts": self.restarts + 1})
                self.mark_failing(exc)
                self.restarts += 1
            if loop.time() - started > self.restart_max_seconds:
                delay = self.restart_initial_seconds
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
            delay = min(delay * 2, self.restart_max_seconds)
        self.healthy = False
