"""Every failure becomes a JSON ``{"detail": message}`` with the right HTTP status."""

from __future__ import annotations

import grpc
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from clipsift_common.errors import ClipsiftError
from clipsift_common.grpc_client import HTTP_STATUS_FOR_GRPC, ServiceUnavailable

_STATUS_FOR_ERROR = {code: status for code, status in HTTP_STATUS_FOR_GRPC.items()}


def install_error_handlers(app: FastAPI) -> None:
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
