"""Fixtures shared by every test suite: the real NATS and PostgreSQL servers of this machine.

Each test that needs a database gets a fresh one (created and dropped here); each test that
needs the bus gets the jobs stream deleted first, so tests never see each other's events.
Servers are reached at CLIPSIFT_TEST_NATS_URL / CLIPSIFT_TEST_PG_ADMIN_URL (defaults: the
local servers); when one cannot be reached the tests fail with a message saying so.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator

import nats
import psycopg
import pytest
from nats.js.errors import NotFoundError

from clipsift_common.events import EventBus

NATS_URL = os.environ.get("CLIPSIFT_TEST_NATS_URL", "nats://127.0.0.1:4222")
PG_ADMIN_URL = os.environ.get("CLIPSIFT_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
TEST_STREAM = "CLIPSIFT_JOBS"

pytest_plugins = ["clipsift_testing.fixtures", "clipsift_testing.object_stores"]


@pytest.fixture
def nats_url() -> str:
    return NATS_URL


@pytest.fixture
def database_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database on the real server, dropped afterwards."""
    name = f"clipsift_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = psycopg.conninfo.make_conninfo(PG_ADMIN_URL, dbname=name)
    try:
        yield url
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def reset_stream(url: str, stream: str = TEST_STREAM) -> None:
    try:
        nc = await nats.connect(url, connect_timeout=5, max_reconnect_attempts=0)
    except Exception as exc:
        pytest.fail(f"NATS not reachable at {url}: {exc}")
    try:
        # With the streams derived from it: parked messages and captured advisories of earlier tests.
        for name in (stream, f"{stream}_DLQ", f"{stream}_ADVISORIES"):
            with contextlib.suppress(NotFoundError):
                await nc.jetstream().delete_stream(name)
    finally:
        await nc.close()


@pytest.fixture
def clean_nats_url(nats_url: str) -> str:
    """The real NATS server's URL, with the jobs stream deleted (for tests that start services)."""
    asyncio.run(reset_stream(nats_url))
    return nats_url


@pytest.fixture
async def bus(nats_url: str) -> AsyncIterator[EventBus]:
    """An EventBus on a freshly created jobs stream of the real NATS server."""
    await reset_stream(nats_url)
    connected = await EventBus.connect(nats_url, name="test", stream=TEST_STREAM, max_age_seconds=3600)
    yield connected
    await connected.close()
