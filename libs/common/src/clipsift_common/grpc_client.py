"""gRPC client helper: a deadline on every call and a circuit breaker per target.

Kubernetes DNS Services do discovery (the target is ``text:50051``); this adds what DNS
cannot: fail fast while a dependency is down instead of piling up requests behind it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, TypeVar

import grpc
import pybreaker

from .metrics import (
    CIRCUIT_BREAKER_STATE,
    CIRCUIT_BREAKER_TRANSITIONS,
    GRPC_CLIENT_HANDLED,
    GRPC_CLIENT_LATENCY,
)
from .telemetry import grpc_client_interceptors

T = TypeVar("T")

# Why the breaker opens on unavailability only: one breaker per target is shared by every caller
# (every tenant of a gateway replica), so opening it turns everyone away; it must be a verdict on
# the dependency, never on one request.
# - UNAVAILABLE: no connection, the connection dropped, or the server shedding load: the dependency.
# - DEADLINE_EXCEEDED before the channel was READY (a host that accepts TCP and never speaks
#   HTTP/2, a black-holed address): the call never reached a server, so unavailability too.
# - DEADLINE_EXCEEDED on a READY channel: a live server took the request and was slower than this
#   caller's deadline (a large input, a tight timeout). That is the caller's budget, answered with
#   504 to that caller alone (``DeadlineExceeded``); otherwise one tenant's slow requests would
#   open the circuit for all. A server that hangs on a live connection is its health check's case
#   (probes restart it), and every caller is still bounded by its own deadline.
# - INTERNAL, UNKNOWN and business codes: one input's failure; a caller replaying a poison input
#   must not lock out the others. A service failing every request fails its health check instead.
_TRIPPING_CODES = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})

# How gateway responses reflect a failed downstream call.
HTTP_STATUS_FOR_GRPC = {
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 413,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
}


class ServiceUnavailable(Exception):
    """The dependency cannot be reached (circuit open, down, or never connecting): HTTP 503."""

    def __init__(self, target: str, reason: str) -> None:
        super().__init__(f"{target} is unavailable: {reason}")
        self.target = target


class DeadlineExceeded(Exception):
    """A reachable dependency did not answer within this call's deadline: HTTP 504, for this
    caller only (the circuit stays closed)."""

    def __init__(self, target: str, seconds: float) -> None:
        super().__init__(f"{target} did not answer within this request's deadline of {seconds:g} s")
        self.target = target
        self.seconds = seconds


def _is_not_a_fault(exc: BaseException) -> bool:
    """Errors that say nothing about the dependency's health: a business error (bad request), a
    deadline a live server could not meet, or our own cancellation (the caller went away)."""
    if isinstance(exc, asyncio.CancelledError | DeadlineExceeded):
        return True
    return isinstance(exc, grpc.aio.AioRpcError) and exc.code() not in _TRIPPING_CODES


# Values of clipsift_circuit_breaker_state.
BREAKER_STATE_VALUES = {pybreaker.STATE_CLOSED: 0, pybreaker.STATE_HALF_OPEN: 1, pybreaker.STATE_OPEN: 2}


class _BreakerGauge(pybreaker.CircuitBreakerListener):
    def __init__(self, target: str) -> None:
        self.target = target
        # A series from the start: "closed" must be visible before the first failure.
        CIRCUIT_BREAKER_STATE.labels(target).set(BREAKER_STATE_VALUES[pybreaker.STATE_CLOSED])

    def state_change(self, cb: pybreaker.CircuitBreaker, old_state: Any, new_state: Any) -> None:
        CIRCUIT_BREAKER_STATE.labels(self.target).set(BREAKER_STATE_VALUES[new_state.name])
        CIRCUIT_BREAKER_TRANSITIONS.labels(self.target, new_state.name).inc()


class ServiceClient:
    """A channel to one service plus its breaker. Use ``call(stub.Method, request)``."""

    def __init__(
        self,
        target: str,
        *,
        deadline_seconds: float = 30.0,
        breaker_fail_max: int = 5,
        breaker_reset_seconds: float = 15.0,
        max_message_bytes: int = 64 * 1024 * 1024,
    ) -> None:
        self.target = target
        self.deadline_seconds = deadline_seconds
        self.channel = grpc.aio.insecure_channel(
            target,
            interceptors=grpc_client_interceptors(),
            options=[
                ("grpc.max_receive_message_length", max_message_bytes),
                ("grpc.max_send_message_length", max_message_bytes),
            ],
        )
        self.breaker = pybreaker.CircuitBreaker(
            fail_max=breaker_fail_max,
            reset_timeout=breaker_reset_seconds,
            exclude=[_is_not_a_fault],
            listeners=[_BreakerGauge(target)],
            name=target,
        )

    async def call(
        self,
        method: Callable[..., Awaitable[T]],
        request: Any,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - a gRPC deadline, sent to the server
    ) -> T:
        """Invoke ``method`` with a deadline; raise ``ServiceUnavailable`` when the circuit is open
        or the target cannot be reached, and re-raise business errors (INVALID_ARGUMENT ...) as-is."""
        seconds = timeout or self.deadline_seconds
        with self._guard(method, seconds):
            return await method(request, timeout=seconds)
        raise AssertionError("unreachable")  # _guard re-raises every failure

    async def stream(
        self,
        method: Callable[..., AsyncIterator[T]],
        request: Any,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - a gRPC deadline, sent to the server
    ) -> AsyncIterator[T]:
        """Server-streaming variant of ``call``: the deadline covers the whole stream."""
        seconds = timeout or self.deadline_seconds
        with self._guard(method, seconds):
            async for item in method(request, timeout=seconds):
                yield item

    @contextlib.contextmanager
    def _guard(self, method: Any, seconds: float) -> Iterator[None]:
        name = getattr(method, "_method", b"")
        method_name = name.decode().rsplit("/", 1)[-1] if isinstance(name, bytes) else str(name)
        start = time.perf_counter()
        code = "OK"
        try:
            with self.breaker.calling():
                try:
                    yield
                except grpc.aio.AioRpcError as exc:
                    if exc.code() == grpc.StatusCode.DEADLINE_EXCEEDED and self._connected():
                        raise DeadlineExceeded(self.target, seconds) from exc
                    raise
        except DeadlineExceeded:
            code = grpc.StatusCode.DEADLINE_EXCEEDED.name
            raise
        except pybreaker.CircuitBreakerError as exc:
            code = "CIRCUIT_OPEN"
            raise ServiceUnavailable(self.target, "circuit breaker open") from exc
        except grpc.aio.AioRpcError as exc:
            code = exc.code().name
            if exc.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                raise ServiceUnavailable(self.target, exc.details() or exc.code().name) from exc
            raise
        finally:
            GRPC_CLIENT_HANDLED.labels(self.target, method_name, code).inc()
            GRPC_CLIENT_LATENCY.labels(self.target, method_name).observe(time.perf_counter() - start)

    def _connected(self) -> bool:
        """The channel holds a live connection: a call that timed out reached a server."""
        return bool(self.channel.get_state(try_to_connect=False) == grpc.ChannelConnectivity.READY)

    async def close(self) -> None:
        await self.channel.close()
