"""Domain errors, mapped to gRPC status codes in one place (the server interceptor)."""

from __future__ import annotations

import grpc


class ClipsiftError(Exception):
    """Base class: an error a caller can act on, with a message that says what is wrong."""

    code: grpc.StatusCode = grpc.StatusCode.INTERNAL


class InvalidArgument(ClipsiftError):
    code = grpc.StatusCode.INVALID_ARGUMENT


class NotFound(ClipsiftError):
    code = grpc.StatusCode.NOT_FOUND


class ResourceExhausted(ClipsiftError):
    """A request over a configured limit (size, count, duration)."""

    code = grpc.StatusCode.RESOURCE_EXHAUSTED


class FailedPrecondition(ClipsiftError):
    code = grpc.StatusCode.FAILED_PRECONDITION


class Unavailable(ClipsiftError):
    code = grpc.StatusCode.UNAVAILABLE
