"""Every failure becomes a JSON ``{"detail": message}`` with the right HTTP status."""

from __future__ import annotations

import json
from typing import Any

import grpc
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from clipsift_common.errors import ClipsiftError
from clipsift_common.grpc_client import HTTP_STATUS_FOR_GRPC, DeadlineExceeded, ServiceUnavailable

_STATUS_FOR_ERROR = {code: status for code, status in HTTP_STATUS_FOR_GRPC.items()}


class _AsciiJSONResponse(JSONResponse):
    """JSON with non-ASCII escaped: carries any Python string, a lone surrogate included."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's own handler echoes each bad input as UTF-8; an input holding a lone surrogate
        # (valid JSON, invalid Unicode) made the 422 crash into a 500.
        return _AsciiJSONResponse({"detail": jsonable_encoder(exc.errors())}, status_code=422)

    @app.exception_handler(ClipsiftError)
    async def domain_error(request: Request, exc: ClipsiftError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=_STATUS_FOR_ERROR.get(exc.code, 500))

    @app.exception_handler(grpc.aio.AioRpcError)
    async def downstream_error(request: Request, exc: grpc.aio.AioRpcError) -> JSONResponse:
        status = HTTP_STATUS_FOR_GRPC.get(exc.code(), 502)
        detail = exc.details() if status < 500 else f"upstream error: {exc.code().name}"
        return JSONResponse({"detail": detail}, status_code=status)

    @app.exception_handler(ServiceUnavailable)
    async def unavailable(request: Request, exc: ServiceUnavailable) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=503, headers={"Retry-After": "5"})

    @app.exception_handler(DeadlineExceeded)
    async def too_slow(request: Request, exc: DeadlineExceeded) -> JSONResponse:
        # The dependency is up but this request outran its deadline: a smaller input may pass.
        return JSONResponse({"detail": str(exc)}, status_code=504)
