"""ServiceClient: deadlines, unreachable targets and the circuit breaker, against a real server."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import grpc
import pybreaker
import pytest

from clipsift_common.errors import InvalidArgument
from clipsift_common.grpc_client import DeadlineExceeded, ServiceClient, ServiceUnavailable
from clipsift_common.grpc_server import GrpcServer, ServiceBinding
from clipsift_common.metrics import CIRCUIT_BREAKER_STATE, CIRCUIT_BREAKER_TRANSITIONS
from clipsift_common.settings import GrpcServerSettings

SERVICE = "test.Client"


@dataclass
class Backend:
    calls: list[str] = field(default_factory=list)
    delay: float = 0.0

    async def handle(self, request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        command = request.decode()
        self.calls.append(command)
        if command == "invalid":
            raise InvalidArgument("bad input")
        if command == "crash":
            raise RuntimeError("boom")
        if command == "slow":
            await asyncio.sleep(self.delay)
        if command == "unavailable":
            await context.abort(grpc.StatusCode.UNAVAILABLE, "overloaded")
        return b"ok:" + request


def add_backend(backend: Backend, server: grpc.aio.Server) -> None:
    handler = grpc.method_handlers_generic_handler(
        SERVICE, {"Call": grpc.unary_unary_rpc_method_handler(backend.handle)}
    )
    server.add_generic_rpc_handlers((handler,))


@pytest.fixture
async def backend() -> AsyncIterator[tuple[Backend, int]]:
    state = Backend(delay=1.0)
    server = GrpcServer(
        GrpcServerSettings(grpc_host="127.0.0.1", grpc_port=0, grpc_grace_seconds=0),
        [ServiceBinding(add_backend, state, SERVICE)],
    )
    port = await server.start()
    yield state, port
    await server.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_successful_call_returns_the_response(backend: tuple[Backend, int]) -> None:
    state, port = backend
    client = ServiceClient(f"127.0.0.1:{port}", deadline_seconds=5)
    try:
        method = client.channel.unary_unary(f"/{SERVICE}/Call")
        assert await client.call(method, b"hi") == b"ok:hi"
        assert state.calls == ["hi"]
    finally:
        await client.close()


async def test_deadline_exceeded_on_a_live_server_is_the_callers_own(backend: tuple[Backend, int]) -> None:
    _, port = backend
    client = ServiceClient(f"127.0.0.1:{port}", deadline_seconds=0.2)
    try:
        method = client.channel.unary_unary(f"/{SERVICE}/Call")
        assert await client.call(method, b"hi") == b"ok:hi"  # connected
        start = time.perf_counter()
        with pytest.raises(
            DeadlineExceeded, match=f"127.0.0.1:{port} did not answer within this request's deadline of 0.2 s"
        ) as caught:
            await client.call(method, b"slow")
        assert time.perf_counter() - start < 0.9
        assert caught.value.target == f"127.0.0.1:{port}"
        assert isinstance(caught.value.__cause__, grpc.aio.AioRpcError)
        assert caught.value.__cause__.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        # A per-call timeout overrides the default deadline.
        with pytest.raises(DeadlineExceeded, match=r"deadline of 0\.05 s"):
            await client.call(method, b"slow", timeout=0.05)
    finally:
        await client.close()


async def test_slow_calls_with_short_deadlines_keep_the_circuit_closed(backend: tuple[Backend, int]) -> None:
    # One caller's tight deadlines against a live, slow server: each of them gets its timeout,
    # everyone else keeps being served.
    state, port = backend
    client = ServiceClient(
        f"127.0.0.1:{port}", deadline_seconds=5, breaker_fail_max=2, breaker_reset_seconds=60
    )
    try:
        method = client.channel.unary_unary(f"/{SERVICE}/Call")
        assert await client.call(method, b"hi") == b"ok:hi"
        results = await asyncio.gather(
            *(client.call(method, b"slow", timeout=0.1) for _ in range(10)), return_exceptions=True
        )
        assert all(isinstance(r, DeadlineExceeded) for r in results), results
        assert client.breaker.current_state == pybreaker.STATE_CLOSED
        assert client.breaker.fail_counter == 0
        assert await client.call(method, b"after") == b"ok:after"
        assert state.calls.count("slow") == 10
    finally:
        await client.close()


async def test_unreachable_target_opens_the_circuit() -> None:
    client = ServiceClient(
        f"127.0.0.1:{free_port()}", deadline_seconds=2, breaker_fail_max=3, breaker_reset_seconds=60
    )
    try:
        method = client.channel.unary_unary(f"/{SERVICE}/Call")
        for _ in range(2):
            with pytest.raises(ServiceUnavailable, match="is unavailable"):
                await client.call(method, b"hi")
        assert client.breaker.current_state == pybreaker.STATE_CLOSED
        with pytest.raises(ServiceUnavailable, match="circuit breaker open"):
            await client.call(method, b"hi")
        assert client.breaker.current_state == pybreaker.STATE_OPEN
    finally:
        await client.close()


async def test_a_server_that_never_speaks_grpc_opens_the_circuit() -> None:
    # TCP accepted, no HTTP/2 ever: deadlines run out before the channel is READY, so the calls
    # never reached a server: unavailability, even though the code is DEADLINE_EXCEEDED.
    async def black_hole(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()
        writer.close()

    server = await asyncio.start_server(black_hole, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = ServiceClient(
        f"127.0.0.1:{port}", deadline_seconds=0.3, breaker_fail_max=2, breaker_reset_seconds=60
    )
    try:
        method = client.channel.unary_unary(f"/{SERVICE}/Call")
        with pytest.raises(ServiceUnavailable, match="Deadline Exceeded"):
            await client.call(method, b"hi")
        with pytest.raises(ServiceUnavailable, match="circuit breaker open"):
            await client.call(method, b"hi")
        assert client.breaker.current_state == pybreaker.STATE_OPEN
    finally:
        await client.close()
        server.close()


async def test_nothing_listening_is_service_unavailable() -> None:
    port = free_port()
    client = ServiceClient(f"127.0.0.1:{port}", deadline_seconds=2)
    try:
        method = client.channel.unary_unary(f"/{SERVICE}/Call")
        with pytest.raises(ServiceUnavailable, match=f"127.0.0.1:{port} is unavailable") as caught:
            await client.call(method, b"hi")
        assert isinstance(caught.value.__cause__, grpc.aio.AioRpcError)
        assert caught.value.__cause__.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        await client.close()


async def test_breaker_opens_after_fail_max_and_then_fails_fast(backend: tuple[Backend, int]) -> None:
    state, port = backend
    target = f"127.0.0.1:{port}"
    client = ServiceClient(target, deadline_seconds=2, breaker_fail_max=3, breaker_reset_seconds=60)
    try:
        method = client.channel.unary_unary(f"/{SERVICE}/Call")
        assert CIRCUIT_BREAKER_STATE.labels(target)._value.get() == 0  # closed, exported from the start
        for _ in range(2):
            with pytest.raises(ServiceUnavailable, match="overloaded"):
                await client.call(method, b"unavailable")
        assert client.breaker.current_state == pybreaker.STATE_CLOSED
        # The third failure opens the circuit.
        with pytest.raises(ServiceUnavailable, match="circuit breaker open"):
            await client.call(method, b"unavailable")
        assert client.breaker.current_state == pybreaker.STATE_OPEN
        assert CIRCUIT_BREAKER_STATE.labels(target)._value.get() == 2
        assert state.calls == ["unavailable"] * 3

        # Open: the server sees nothing and the caller gets an answer at once.
        start = time.perf_counter()
        for _ in range(20):
            with pytest.raises(ServiceUnavailable, match="circuit breaker open"):
                await client.call(method, b"hi")
        assert time.perf_counter() - start < 0.2
        assert state.calls == ["unavailable"] * 3
    finally:
        await client.close()


async def test_breaker_half_opens_after_reset_and_closes_on_success(backend: tuple[Backend, int]) -> None:
    state, port = backend
    target = f"127.0.0.1:{port}"
    client = ServiceClient(target, deadline_seconds=2, breaker_fail_max=1, breaker_reset_seconds=0.3)
    half_opened = CIRCUIT_BREAKER_TRANSITIONS.labels(target, pybreaker.STATE_HALF_OPEN)._value.get()
    try:
        method = client.channel.unary_unary(f"/{SERVICE}/Call")
        with pytest.raises(ServiceUnavailable):
            await client.call(method, b"unavailable")
        with pytest.raises(ServiceUnavailable, match="circuit breaker open"):
            await client.call(method, b"hi")
        await asyncio.sleep(0.4)
        assert await client.call(method, b"hi") == b"ok:hi"
        assert client.breaker.current_state == pybreaker.STATE_CLOSED
        assert state.calls == ["unavailable", "hi"]
        assert CIRCUIT_BREAKER_STATE.labels(target)._value.get() == 0
        assert (
            CIRCUIT_BREAKER_TRANSITIONS.labels(target, pybreaker.STATE_HALF_OPEN)._value.get()
            == half_opened + 1
        )
    finally:
        await client.close()


async def test_business_errors_do_not_trip_the_breaker(backend: tuple[Backend, int]) -> None:
    state, port = backend
    client = ServiceClient(
        f"127.0.0.1:{port}", deadline_seconds=2, breaker_fail_max=2, breaker_reset_seconds=60
    )
    try:
        method = client.channel.unary_unary(f"/{SERVICE}/Call")
        for _ in range(5):
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await client.call(method, b"invalid")
            assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert caught.value.details() == "bad input"
        assert client.breaker.current_state == pybreaker.STATE_CLOSED
        assert client.breaker.fail_counter == 0
        assert await client.call(method, b"hi") == b"ok:hi"
        assert state.calls == ["invalid"] * 5 + ["hi"]
    finally:
        await client.close()


async def test_internal_errors_keep_their_status_and_the_circuit_closed(
    backend: tuple[Backend, int],
) -> None:
    # A crash on one input is that request's failure: replaying it must not lock others out.
    _, port = backend
    client = ServiceClient(
        f"127.0.0.1:{port}", deadline_seconds=2, breaker_fail_max=2, breaker_reset_seconds=60
    )
    try:
        method = client.channel.unary_unary(f"/{SERVICE}/Call")
        for _ in range(4):
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await client.call(method, b"crash")
            assert caught.value.code() == grpc.StatusCode.INTERNAL
        assert client.breaker.fail_counter == 0
        assert client.breaker.current_state == pybreaker.STATE_CLOSED
        assert await client.call(method, b"hi") == b"ok:hi"
    finally:
        await client.close()


async def test_cancelled_calls_do_not_trip_the_breaker(backend: tuple[Backend, int]) -> None:
    # A caller that gives up (client disconnected, side call no longer needed) says nothing about
    # the dependency's health: the circuit must stay closed and the cancellation must propagate.
    state, port = backend
    state.delay = 5.0
    client = ServiceClient(
        f"127.0.0.1:{port}", deadline_seconds=10, breaker_fail_max=2, breaker_reset_seconds=60
    )
    try:
        method = client.channel.unary_unary(f"/{SERVICE}/Call")
        for _ in range(3):
            call = asyncio.ensure_future(client.call(method, b"slow"))
            await asyncio.sleep(0.2)
            call.cancel()
            with pytest.raises(asyncio.CancelledError):
                await call
        assert client.breaker.current_state == pybreaker.STATE_CLOSED
        assert client.breaker.fail_counter == 0
        assert await client.call(method, b"hi") == b"ok:hi"
    finally:
        await client.close()
