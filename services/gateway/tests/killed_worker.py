"""A job worker process that SIGKILLs itself on every delivery, after reporting progress: what a
job that exhausts its worker's memory leaves behind. Nothing in the process survives to say so.

Usage: ``python killed_worker.py NATS_URL STREAM KIND DURABLE ACK_WAIT_SECONDS MAX_DELIVER``
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Mapping
from typing import Any

from clipsift_common.events import EventBus
from clipsift_common.settings import WorkerSettings
from clipsift_common.worker import JobContext, JobWorker


async def handler(ctx: JobContext) -> Mapping[str, Any]:
    await ctx.progress("work", 0.5, f"attempt {ctx.attempt} about to die")
    os.kill(os.getpid(), signal.SIGKILL)
    raise AssertionError("unreachable: the process is gone")


async def main(url: str, stream: str, kind: str, durable: str, ack_wait: str, max_deliver: str) -> None:
    bus = await EventBus.connect(url, name="killed-worker", stream=stream, max_age_seconds=3600)
    settings = WorkerSettings(worker_ack_wait_seconds=float(ack_wait), worker_max_deliver=int(max_deliver))
    print("ready", flush=True)
    await JobWorker(bus, kind, durable, handler, settings).run(asyncio.Event())


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:7]))
