"""The CLI against real platforms: the gateway's, vision's and training's test platforms (in-process
services on the machine's NATS and PostgreSQL, a real uvicorn for the synchronous client), reused
from those suites rather than wired a third time."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[3]


def _suite_module(path: str) -> ModuleType:
    """A module of another suite's tests, by path (test folders are not packages)."""
    name = "clipsift_cli_tests_" + path.replace("/", "_").removesuffix(".py")
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


gateway_suite = _suite_module("services/gateway/tests/conftest.py")
images_suite = _suite_module("services/gateway/tests/test_gateway_images.py")
training_suite = _suite_module("services/training/tests/conftest.py")

pytest_configure = gateway_suite.pytest_configure  # the `gateway` marker
# The gateway with text, analytics and video services (and its live uvicorn); the models they
# share (embedding_model, analyzer) are clipsift_testing fixtures.
platform = gateway_suite.platform
live_url = gateway_suite.live_url
# The gateway with a real vision service.
vision_models_loaded = images_suite.vision_models_loaded
gateway = images_suite.gateway
Gateway = images_suite.Gateway
# The gateway with training and the text service's predictions.
_few_torch_threads = training_suite._few_torch_threads
models_platform = training_suite.models_platform


@pytest.fixture
async def live(gateway: Gateway) -> AsyncIterator[str]:
    """The same app behind a real uvicorn server, for the synchronous CLI client."""
    import asyncio
    import time

    import uvicorn

    transport = gateway.client._transport
    assert isinstance(transport, httpx.ASGITransport)
    server = uvicorn.Server(
        uvicorn.Config(transport.app, host="127.0.0.1", port=0, lifespan="off", log_config=None)
    )
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + 10
    while not server.started:
        assert not task.done(), "uvicorn stopped during start-up"
        assert time.monotonic() < deadline, "uvicorn did not start"
        await asyncio.sleep(0.01)
    yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    server.should_exit = True
    await asyncio.wait_for(task, 10)
