"""GrpcServer: error mapping, message-size limits, health, reflection and graceful stop."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from clipsift_common.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    ResourceExhausted,
    Unavailable,
)
from clipsift_common.grpc_server import GrpcServer, ServiceBinding
from clipsift_common.metrics import GRPC_SERVER_HANDLED
from clipsift_common.settings import GrpcServerSettings

SERVICE = "test.Echo"


class EchoServicer:
    """Raw-bytes unary and server-streaming methods whose behaviour the request picks."""

    def __init__(self) -> None:
        self.calls = 0
        self.release = asyncio.Event()
        self.started = asyncio.Event()

    async def echo(self, request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        self.calls += 1
        command = request.decode(errors="replace")
        if command == "invalid":
            raise InvalidArgument("field x must be positive")
        if command == "missing":
            raise NotFound("job 42 not found")
        if command == "exhausted":
            raise ResourceExhausted("5 documents; the limit is 4")
        if command == "precondition":
            raise FailedPrecondition("model not loaded")
        if command == "unavailable":
            raise Unavailable("downstream is down")
        if command == "crash":
            raise RuntimeError("password=hunter2 at /secret/path")
        if command == "abort":
            await context.abort(grpc.StatusCode.PERMISSION_DENIED, "not yours")
        if command == "wait":
            self.started.set()
            await self.release.wait()
            return b"finished"
        return request

    async def stream(self, request: bytes, context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
        yield b"first"
        if request == b"invalid":
            raise InvalidArgument("stream input is bad")
        if request == b"crash":
            raise KeyError("internal-key")
        yield b"second"


def add_echo(servicer: EchoServicer, server: grpc.aio.Server) -> None:
    handlers = {
        "Echo": grpc.unary_unary_rpc_method_handler(servicer.echo),
        "Stream": grpc.unary_stream_rpc_method_handler(servicer.stream),
    }
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))


@dataclass
class Running:
    server: GrpcServer
    servicer: EchoServicer
    channel: grpc.aio.Channel

    def echo(self) -> Callable[..., Awaitable[bytes]]:
        return self.channel.unary_unary(f"/{SERVICE}/Echo")

    def stream(self) -> Callable[..., Any]:
        return self.channel.unary_stream(f"/{SERVICE}/Stream")


@pytest.fixture
async def running() -> AsyncIterator[Running]:
    settings = GrpcServerSettings(
        grpc_host="127.0.0.1", grpc_port=0, grpc_max_message_bytes=4096, grpc_grace_seconds=2.0
    )
    servicer = EchoServicer()
    server = GrpcServer(settings, [ServiceBinding(add_echo, servicer, SERVICE)])
    port = await server.start()
    channel = grpc.aio.insecure_channel(
        f"127.0.0.1:{port}", options=[("grpc.max_receive_message_length", 1 << 20)]
    )
    try:
        yield Running(server, servicer, channel)
    finally:
        servicer.release.set()
        await channel.close()
        await server.stop()


async def rpc_error(call: Awaitable[Any]) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return caught.value


async def test_success_passes_through(running: Running) -> None:
    assert await running.echo()(b"hello", timeout=5) == b"hello"
    assert [m async for m in running.stream()(b"ok", timeout=5)] == [b"first", b"second"]


@pytest.mark.parametrize(
    ("command", "code", "message"),
    [
        ("invalid", grpc.StatusCode.INVALID_ARGUMENT, "field x must be positive"),
        ("missing", grpc.StatusCode.NOT_FOUND, "job 42 not found"),
        ("exhausted", grpc.StatusCode.RESOURCE_EXHAUSTED, "5 documents; the limit is 4"),
        ("precondition", grpc.StatusCode.FAILED_PRECONDITION, "model not loaded"),
        ("unavailable", grpc.StatusCode.UNAVAILABLE, "downstream is down"),
        ("abort", grpc.StatusCode.PERMISSION_DENIED, "not yours"),
    ],
)
async def test_domain_errors_map_to_status_codes(
    running: Running, command: str, code: grpc.StatusCode, message: str
) -> None:
    before = GRPC_SERVER_HANDLED.labels(SERVICE, "Echo", code.name)._value.get()
    error = await rpc_error(running.echo()(command.encode(), timeout=5))
    assert error.code() == code
    assert error.details() == message
    assert GRPC_SERVER_HANDLED.labels(SERVICE, "Echo", code.name)._value.get() == before + 1


async def test_unexpected_exception_is_internal_without_detail(
    running: Running, caplog: pytest.LogCaptureFixture
) -> None:
    error = await rpc_error(running.echo()(b"crash", timeout=5))
    assert error.code() == grpc.StatusCode.INTERNAL
    assert error.details() == "internal error in Echo"
    assert "hunter2" not in (error.debug_error_string() or "")
    # The detail goes to the server log instead.
    assert any("hunter2" in (r.exc_text or str(r.exc_info)) for r in caplog.records if r.exc_info)


async def test_streaming_errors_are_mapped_after_partial_output(running: Running) -> None:
    received: list[bytes] = []

    async def consume(request: bytes) -> None:
        async for message in running.stream()(request, timeout=5):
            received.append(message)

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await consume(b"invalid")
    assert received == [b"first"]
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.details() == "stream input is bad"

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await consume(b"crash")
    assert caught.value.code() == grpc.StatusCode.INTERNAL
    assert caught.value.details() == "internal error in Stream"


async def test_oversized_request_is_resource_exhausted(running: Running) -> None:
    assert await running.echo()(b"x" * 4000, timeout=5) == b"x" * 4000
    error = await rpc_error(running.echo()(b"x" * 5000, timeout=5))
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert running.servicer.calls == 1  # the oversized request never reached the servicer


async def test_unknown_method_is_unimplemented(running: Running) -> None:
    error = await rpc_error(running.channel.unary_unary(f"/{SERVICE}/Nope")(b"", timeout=5))
    assert error.code() == grpc.StatusCode.UNIMPLEMENTED


async def test_health_and_reflection(running: Running) -> None:
    health = health_pb2_grpc.HealthStub(running.channel)

    async def status(name: str) -> int:
        response = await health.Check(health_pb2.HealthCheckRequest(service=name), timeout=5)
        return int(response.status)

    assert await status("") == health_pb2.HealthCheckResponse.NOT_SERVING
    assert await status(SERVICE) == health_pb2.HealthCheckResponse.NOT_SERVING
    await running.server.set_serving()
    assert await status("") == health_pb2.HealthCheckResponse.SERVING
    assert await status(SERVICE) == health_pb2.HealthCheckResponse.SERVING
    await running.server.set_not_serving()
    assert await status(SERVICE) == health_pb2.HealthCheckResponse.NOT_SERVING

    reflection = reflection_pb2_grpc.ServerReflectionStub(running.channel)

    async def ask() -> AsyncIterator[reflection_pb2.ServerReflectionRequest]:
        yield reflection_pb2.ServerReflectionRequest(list_services="")

    responses = [r async for r in reflection.ServerReflectionInfo(ask(), timeout=5)]
    names = {s.name for s in responses[0].list_services_response.service}
    assert names == {SERVICE, "grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"}


async def test_graceful_stop_lets_in_flight_calls_finish(running: Running) -> None:
    await running.server.set_serving()
    in_flight = asyncio.ensure_future(running.echo()(b"wait", timeout=10))
    await asyncio.wait_for(running.servicer.started.wait(), 5)
    stopping = asyncio.create_task(running.server.stop())
    await asyncio.sleep(0.2)
    assert not stopping.done()  # waiting for the in-flight call, within the grace period
    # New calls are refused while draining.
    late = await rpc_error(running.echo()(b"late", timeout=2))
    assert late.code() == grpc.StatusCode.UNAVAILABLE
    running.servicer.release.set()
    assert await in_flight == b"finished"
    start = time.perf_counter()
    await asyncio.wait_for(stopping, 5)
    assert time.perf_counter() - start < 1.5


async def test_stop_cancels_calls_past_the_grace_period() -> None:
    settings = GrpcServerSettings(grpc_host="127.0.0.1", grpc_port=0, grpc_grace_seconds=0.3)
    servicer = EchoServicer()
    server = GrpcServer(settings, [ServiceBinding(add_echo, servicer, SERVICE)])
    port = await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        call = asyncio.ensure_future(channel.unary_unary(f"/{SERVICE}/Echo")(b"wait", timeout=10))
        await asyncio.wait_for(servicer.started.wait(), 5)
        start = time.perf_counter()
        await server.stop()
        assert time.perf_counter() - start < 2.0
        error = await rpc_error(call)
        assert error.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED)


async def test_start_fails_when_the_port_is_taken(running: Running) -> None:
    # A second server (say a stale instance) must fail to start, not share the port silently.
    settings = GrpcServerSettings(grpc_host="127.0.0.1", grpc_port=running.server.port)
    other = GrpcServer(settings, [])
    try:
        with pytest.raises(RuntimeError, match=rf"bind .*{running.server.port}"):
            await other.start()
    finally:
        await other.server.stop(None)
    assert await running.echo()(b"still here", timeout=5) == b"still here"


def test_a_binding_reads_its_full_name_from_the_generated_descriptor() -> None:
    from clipsift.text.v1 import index_pb2_grpc, text_pb2_grpc
    from clipsift.vision.v1 import duplicates_pb2_grpc

    names = [
        ServiceBinding(add, object()).full_name
        for add in (
            text_pb2_grpc.add_TextServiceServicer_to_server,
            index_pb2_grpc.add_IndexServiceServicer_to_server,
            duplicates_pb2_grpc.add_ImageDuplicateServiceServicer_to_server,
        )
    ]
    assert names == [
        "clipsift.text.v1.TextService",
        "clipsift.text.v1.IndexService",
        "clipsift.vision.v1.ImageDuplicateService",
    ]
