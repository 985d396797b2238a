"""JSON logging: one object per line with service, level, message, job id and extra fields."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from clipsift_common.logging import JsonFormatter, configure_logging, job_id_var


@pytest.fixture
def capture() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("text"))
    logger = logging.getLogger("clipsift.test.logging")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    text = stream.getvalue()
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def test_one_json_object_per_line(capture: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = capture
    logger.info("hello %s", "world")
    logger.warning("multi\nline message")
    first, second = lines(stream)
    assert first["msg"] == "hello world"
    assert first["level"] == "INFO"
    assert first["service"] == "text"
    assert first["logger"] == "clipsift.test.logging"
    assert "job_id" not in first
    assert second["msg"] == "multi\nline message"
    assert second["level"] == "WARNING"
    stamp = str(first["ts"])
    assert stamp.endswith("Z")
    datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ")


def test_job_id_and_extra_fields(capture: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = capture
    token = job_id_var.set("job-123")
    try:
        logger.info("job started", extra={"kind": "dedup", "attempt": 2, "path": Path("/x/y")})
    finally:
        job_id_var.reset(token)
    logger.info("after the job")
    inside, after = lines(stream)
    assert inside["job_id"] == "job-123"
    assert inside["kind"] == "dedup"
    assert inside["attempt"] == 2
    assert inside["path"] == "/x/y"  # not JSON-serialisable: rendered with str()
    assert "job_id" not in after
    # Standard LogRecord attributes are not dumped as extras.
    assert not {"args", "levelno", "pathname", "thread", "msecs"} & set(inside)


def test_exceptions_are_included(capture: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = capture
    try:
        raise ValueError("bad value 7")
    except ValueError:
        logger.exception("failed")
    (entry,) = lines(stream)
    assert entry["level"] == "ERROR"
    assert "ValueError: bad value 7" in str(entry["exc"])


def test_configure_logging_writes_json_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    try:
        configure_logging("gateway", "debug")
        assert root.level == logging.DEBUG
        assert logging.getLogger("nats").level == logging.WARNING
        logging.getLogger("clipsift.test.stdout").debug("to stdout", extra={"tenant": "acme"})
        out = capsys.readouterr().out.strip().splitlines()
        entry = json.loads(out[-1])
        assert entry["service"] == "gateway"
        assert entry["msg"] == "to stdout"
        assert entry["tenant"] == "acme"
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
