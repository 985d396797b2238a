"""One service process: what it runs, started and stopped in one order for ``__main__`` and tests.

Each service's ``wiring.build(settings, ...)`` returns a :class:`Service`; its ``__main__`` hands
that to :func:`serve`, and test fixtures start and stop the very same object, so tests cannot
drift from production wiring.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .grpc_server import GrpcServer
from .logging import configure_logging
from .metrics import serve_metrics
from .settings import ServiceSettings
from .telemetry import configure_telemetry, shutdown_telemetry

log = logging.getLogger(__name__)

Loop = Callable[[asyncio.Event], Coroutine[Any, Any, None]]
T = TypeVar("T")


async def _nothing_to_load() -> None:
    return None


@dataclass
class Service:
    """The gRPC server, what must load before health turns SERVING, named background loops (job
    workers, ingesters) that run until stopped, and what to close afterwards, in order."""

    server: GrpcServer
    load: Callable[[], Awaitable[None]] = _nothing_to_load
    background: Mapping[str, Loop] = field(default_factory=dict)
    cleanup: Sequence[Callable[[], Awaitable[None]]] = ()
    _stop: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list, init=False)

    @property
    def port(self) -> int:
        return self.server.port

    def servicer(self, kind: type[T]) -> T:
        """The mounted servicer of that class (tests reach into one this way)."""
        for binding in self.server.bindings:
            if isinstance(binding.servicer, kind):
                return binding.servicer
        raise LookupError(f"no {kind.__name__} mounted")

    @property
    def tasks(self) -> list[asyncio.Task[None]]:
        return list(self._tasks)

    async def start(self) -> int:
        """Listen (NOT_SERVING), load, start the background loops, then report SERVING."""
        await self.server.start()
        await self.load()
        self._tasks = [
            asyncio.create_task(loop(self._stop), name=name) for name, loop in self.background.items()
        ]
        await self.server.set_serving()
        return self.server.port

    async def stop(self, *, drain: bool = True) -> None:
        """NOT_SERVING, stop the background loops (they drain NATS; ``drain=False`` cancels them,
        for tests that need not wait out a fetch), stop the gRPC server with grace, then the
        cleanup callbacks (connections, models). A second call does nothing."""
        if self._stop.is_set():
            return
        self._stop.set()
        await self.server.set_not_serving()
        if not drain:
            for task in self._tasks:
                task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.server.stop()
        for callback in self.cleanup:
            await callback()

    async def run_until_signal(self) -> None:
        """Start, serve until SIGTERM/SIGINT or until a background loop dies, then stop."""
        await self.start()
        waiter = asyncio.create_task(wait_for_shutdown_signal())
        # A background loop that dies is a broken pod: stop, so Kubernetes restarts it.
        done, _ = await asyncio.wait([waiter, *self._tasks], return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task is not waiter and task.exception() is not None:
                log.error("background task %s failed", task.get_name(), exc_info=task.exception())
        waiter.cancel()
        await self.stop()
        log.info("stopped")


async def wait_for_shutdown_signal() -> None:
    """Resolve on SIGTERM or SIGINT (Kubernetes sends SIGTERM; Ctrl-C sends SIGINT)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("shutdown signal received")


def serve(name: str, settings: ServiceSettings, build: Callable[[], Awaitable[Service]]) -> None:
    """The whole ``__main__`` of a gRPC service: logging, tracing, the metrics listener, then the
    service built by ``build`` until SIGTERM; traces still buffered are flushed on the way out."""
    configure_logging(name, settings.log_level)
    configure_telemetry(name, settings)
    serve_metrics(settings.metrics_port)

    async def main() -> None:
        service = await build()
        await service.run_until_signal()

    try:
        asyncio.run(main())
    finally:
        shutdown_telemetry()
