"""gRPC server helper: health, reflection, error mapping, metrics, message limits, graceful stop.

Health starts NOT_SERVING for every registered service and turns SERVING only when the
service says its models are loaded, so Kubernetes readiness probes never route traffic to
a pod that would fail its first request.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from .errors import ClipsiftError
from .metrics import GRPC_SERVER_HANDLED, GRPC_SERVER_IN_FLIGHT, GRPC_SERVER_LATENCY, GRPC_SERVER_STARTED
from .settings import GrpcServerSettings
from .telemetry import grpc_server_interceptor

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServiceBinding:
    """One servicer to mount with the generated ``add_<Name>Servicer_to_server`` function; its
    full name (``clipsift.text.v1.TextService``) comes from the generated descriptor unless given
    (a hand-written handler has none)."""

    add_to_server: Callable[[Any, grpc.aio.Server], None]
    servicer: Any
    full_name: str = ""

    def __post_init__(self) -> None:
        if not self.full_name:
            object.__setattr__(self, "full_name", service_full_name(self.add_to_server))


def service_full_name(add_to_server: Callable[..., Any]) -> str:
    """``add_TextServiceServicer_to_server`` of ``clipsift.text.v1.text_pb2_grpc`` ->
    ``clipsift.text.v1.TextService``, read from the ``_pb2`` module's file descriptor."""
    name = add_to_server.__name__.removeprefix("add_").removesuffix("Servicer_to_server")
    messages = importlib.import_module(add_to_server.__module__.removesuffix("_grpc"))
    return str(messages.DESCRIPTOR.services_by_name[name].full_name)


def _split_method(full_method: str) -> tuple[str, str]:
    _, service, method = full_method.split("/", 2)
    return service, method


class ErrorMappingInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Turns domain errors into status codes and records per-method metrics.

    Unexpected exceptions become INTERNAL with a generic message; the detail goes to the log,
    not to the caller.
    """

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        service, method = _split_method(handler_call_details.method)
        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(
                _wrap_unary(handler.unary_unary, service, method),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(
                _wrap_stream(handler.unary_stream, service, method),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return handler


async def _abort_for(exc: BaseException, context: grpc.aio.ServicerContext, method: str) -> grpc.StatusCode:
    if isinstance(exc, ClipsiftError):
        await context.abort(exc.code, str(exc))
    log.exception("unhandled error in %s", method)
    await context.abort(grpc.StatusCode.INTERNAL, f"internal error in {method}")
    raise AssertionError("unreachable")  # context.abort always raises


def _status_of(exc: BaseException | None, context: grpc.aio.ServicerContext) -> str:
    if exc is None:
        return str(grpc.StatusCode.OK.name)
    if isinstance(exc, ClipsiftError):
        return str(exc.code.name)
    code = context.code()
    return str(code.name if isinstance(code, grpc.StatusCode) else grpc.StatusCode.INTERNAL.name)


def _started(service: str, method: str) -> float:
    GRPC_SERVER_STARTED.labels(service, method).inc()
    GRPC_SERVER_IN_FLIGHT.labels(service, method).inc()
    return time.perf_counter()


def _observe(service: str, method: str, status: str, start: float) -> None:
    GRPC_SERVER_IN_FLIGHT.labels(service, method).dec()
    GRPC_SERVER_HANDLED.labels(service, method, status).inc()
    GRPC_SERVER_LATENCY.labels(service, method).observe(time.perf_counter() - start)


async def _fail(
    exc: Exception, context: grpc.aio.ServicerContext, service: str, method: str, start: float
) -> None:
    """Record the failed call, then send its status. Recording comes first so that a caller who
    has seen the error also sees it counted."""
    _observe(service, method, _status_of(exc, context), start)
    if context.code() is not None:  # the servicer aborted on its own
        raise exc
    await _abort_for(exc, context, method)


def _wrap_unary(
    fn: Callable[..., Awaitable[Any]], service: str, method: str
) -> Callable[..., Awaitable[Any]]:
    async def wrapper(request: Any, context: grpc.aio.ServicerContext) -> Any:
        start = _started(service, method)
        try:
            response = await fn(request, context)
        except asyncio.CancelledError:
            _observe(service, method, grpc.StatusCode.CANCELLED.name, start)
            raise
        except Exception as exc:
            await _fail(exc, context, service, method, start)
        _observe(service, method, grpc.StatusCode.OK.name, start)
        return response

    return wrapper


def _wrap_stream(fn: Callable[..., Any], service: str, method: str) -> Callable[..., Any]:
    async def wrapper(request: Any, context: grpc.aio.ServicerContext) -> Any:
        start = _started(service, method)
        try:
            async for item in fn(request, context):
                yield item
        except (asyncio.CancelledError, GeneratorExit):  # the caller went away mid-stream
            _observe(service, method, grpc.StatusCode.CANCELLED.name, start)
            raise
        except Exception as exc:
            await _fail(exc, context, service, method, start)
        _observe(service, method, grpc.StatusCode.OK.name, start)

    return wrapper


class GrpcServer:
    """A grpc.aio server with the standard health and reflection services mounted."""

    def __init__(self, settings: GrpcServerSettings, bindings: Iterable[ServiceBinding]) -> None:
        self.settings = settings
        self.bindings = list(bindings)
        limit = settings.grpc_max_message_bytes
        self.server = grpc.aio.server(
            # Tracing outermost: the server span covers error mapping and carries its status.
            interceptors=[grpc_server_interceptor(), ErrorMappingInterceptor()],
            options=[
                ("grpc.max_receive_message_length", limit),
                ("grpc.max_send_message_length", limit),
                # gRPC sets SO_REUSEPORT by default: a second server (a stale instance) would then
                # bind the same port silently and share its traffic instead of failing to start.
                ("grpc.so_reuseport", 0),
            ],
        )
        self.health = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        for binding in self.bindings:
            binding.add_to_server(binding.servicer, self.server)
        reflection.enable_server_reflection(
            [b.full_name for b in self.bindings] + [health.SERVICE_NAME, reflection.SERVICE_NAME],
            self.server,
        )
        self.port = 0

    async def start(self) -> int:
        """Bind and start; every service reports NOT_SERVING until ``set_serving``."""
        self.port = self.server.add_insecure_port(f"{self.settings.grpc_host}:{self.settings.grpc_port}")
        if self.port == 0:
            raise RuntimeError(f"cannot bind gRPC port {self.settings.grpc_port}")
        await self._set_all(health_pb2.HealthCheckResponse.NOT_SERVING)
        await self.server.start()
        log.info("gRPC listening", extra={"port": self.port})
        return self.port

    async def set_serving(self) -> None:
        await self._set_all(health_pb2.HealthCheckResponse.SERVING)

    async def set_not_serving(self) -> None:
        await self._set_all(health_pb2.HealthCheckResponse.NOT_SERVING)

    async def stop(self) -> None:
        """Drain: report NOT_SERVING, then give in-flight RPCs the grace period."""
        await self.set_not_serving()
        await self.server.stop(self.settings.grpc_grace_seconds)

    async def _set_all(self, status: int) -> None:
        await self.health.set("", status)
        for binding in self.bindings:
            await self.health.set(binding.full_name, status)
