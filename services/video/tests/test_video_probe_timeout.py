"""ffprobe is bounded in time: a source that never yields data is refused, not waited on forever."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from clipsift_common.errors import InvalidArgument
from video_svc.probe import probe


def test_probe_of_a_source_that_never_yields_data_is_refused_after_the_timeout(tmp_path: Path) -> None:
    # A named pipe nobody writes to: ffprobe blocks on it exactly as on a stalled network mount.
    fifo = tmp_path / "stalled.mp4"
    os.mkfifo(fifo)
    started = time.monotonic()
    with pytest.raises(InvalidArgument, match=r"within 1 s"):
        asyncio.run(probe(fifo, timeout_seconds=1.0))
    assert time.monotonic() - started < 10
