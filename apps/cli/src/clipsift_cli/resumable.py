"""Resumable uploads from the CLI (the gateway's ``/v1/uploads`` protocol): a big file goes up in
parts with a progress bar; after an interruption the next run asks the gateway which parts it
holds and sends only the missing ones.

Which upload a file belongs to is kept in ``uploads.json`` beside the CLI's runtime file (the
``--home`` folder), keyed by the file's absolute path, size and modification time: an edited file
starts a new upload. Parts go straight to S3 through presigned URLs where the gateway hands them
out, else through the gateway; either way one part (``part_size`` bytes) is in memory at a time."""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from tqdm import tqdm

from .client import ApiError, Client

STATE_FILE = "uploads.json"
# Presigned URLs asked for at once (the gateway allows up to 1000 per request): few enough that
# a batch is sent well within the URLs' validity (15 minutes by default) on a slow link.
_URL_BATCH = 16
# Files above this go up resumably (``clipsift clip``); ``clipsift upload`` always does.
DEFAULT_THRESHOLD = 64 * 1024 * 1024


@dataclass(frozen=True)
class Completed:
    upload_id: str
    object_key: str
    size: int


def file_identity(path: Path) -> str:
    stat = path.stat()
    return f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"


class UploadState:
    """``uploads.json``: file identity -> upload id, rewritten atomically."""

    def __init__(self, home: Path) -> None:
        self.path = home / STATE_FILE

    def _read(self) -> dict[str, str]:
        try:
            return dict(json.loads(self.path.read_text(encoding="utf-8")))
        except (FileNotFoundError, ValueError):
            return {}

    def _write(self, entries: dict[str, str]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(self.path.name + ".partial")
        partial.write_text(json.dumps(entries, indent=2), encoding="utf-8")
        os.replace(partial, self.path)

    def get(self, identity: str) -> str | None:
        return self._read().get(identity)

    def put(self, identity: str, upload_id: str) -> None:
        self._write(self._read() | {identity: upload_id})

    def forget(self, identity: str) -> None:
        entries = self._read()
        if entries.pop(identity, None) is not None:
            self._write(entries)


class ResumableUploader:
    """Uploads one file with the resumable protocol. ``on_part(number)`` runs after each part
    is stored (tests interrupt the upload there)."""

    def __init__(
        self,
        client: Client,
        home: Path,
        *,
        quiet: bool = False,
        on_part: Callable[[int], None] | None = None,
        parallel: int = 4,
        transport: str = "auto",
    ) -> None:
        self.client = client
        self.state = UploadState(home)
        self.quiet = quiet
        self.on_part = on_part or (lambda number: None)
        # Parts in flight at once (each one part_size of memory); transport: auto, presigned, gateway.
        self.parallel = max(1, parallel)
        self.transport = transport

    def upload(self, path: Path, content_type: str = "application/octet-stream") -> Completed:
        identity = file_identity(path)
        upload = self._resume(identity)
        if upload is None:
            body = {
                "filename": path.name,
                "size": path.stat().st_size,
                "content_type": content_type,
                "transport": self.transport,
            }
            upload = self.client._check(self.client.http.post("/v1/uploads", json=body))
            self.state.put(identity, upload["id"])
        if upload["state"] == "open":
            self._send_missing(path, upload)
            reply = self.client.http.post(f"/v1/uploads/{upload['id']}/complete", json={}, timeout=None)
            done = self.client._check(reply)
        else:  # completed by an earlier run that stopped before making the job
            done = {"object_key": upload["object_key"], "size": upload["size"]}
        return Completed(upload["id"], done["object_key"], int(done["size"]))

    def forget(self, path: Path) -> None:
        """Drop the file's entry once a job owns the upload."""
        self.state.forget(file_identity(path))

    def _resume(self, identity: str) -> dict[str, Any] | None:
        """The earlier upload of this very file, if the gateway still has it open or complete."""
        upload_id = self.state.get(identity)
        if upload_id is None:
            return None
        reply = self.client.http.get(f"/v1/uploads/{upload_id}")
        if reply.status_code == 404:
            self.state.forget(identity)
            return None
        upload = dict(self.client._check(reply))
        if upload["state"] in {"open", "complete"}:
            return upload
        self.state.forget(identity)
        return None

    def _send_missing(self, path: Path, upload: dict[str, Any]) -> None:
        have = {p["number"]: p["size"] for p in upload.get("parts") or []}
        count = int(upload["part_count"])
        missing = [n for n in range(1, count + 1) if have.get(n) != _part_bytes(upload, n)]
        done = int(upload["size"]) - sum(_part_bytes(upload, n) for n in missing)
        with (
            path.open("rb") as source,
            tqdm(
                total=int(upload["size"]),
                initial=done,
                unit="B",
                unit_scale=True,
                desc=f"upload {path.name}",
                file=sys.stderr,
                disable=self.quiet,
            ) as bar,
            httpx.Client(timeout=httpx.Timeout(60.0, write=None)) as direct,
            ThreadPoolExecutor(self.parallel) as pool,
        ):
            stopped = threading.Event()
            for start in range(0, len(missing), _URL_BATCH):
                batch = missing[start : start + _URL_BATCH]
                urls = self._urls(upload, batch)

                def send(number: int, urls: dict[int, str] | None = urls) -> None:
                    if stopped.is_set():  # another part failed: stop, the next run resumes
                        return
                    try:
                        self._send_part(source.fileno(), upload, urls, direct, number)
                        bar.update(_part_bytes(upload, number))
                        self.on_part(number)
                    except BaseException:
                        stopped.set()
                        raise

                for _ in pool.map(send, batch):
                    pass

    def _send_part(
        self, fd: int, upload: dict[str, Any], urls: dict[int, str] | None, direct: httpx.Client, number: int
    ) -> None:
        # pread: threads share the file without sharing a position.
        offset = (number - 1) * int(upload["part_size"])
        data = os.pread(fd, _part_bytes(upload, number), offset)
        if urls is None:
            self._put_through_gateway(upload["id"], number, data)
        else:
            self._put_direct(direct, upload, urls, number, data)

    def _put_direct(
        self, direct: httpx.Client, upload: dict[str, Any], urls: dict[int, str], number: int, data: bytes
    ) -> None:
        reply = direct.put(urls[number], content=data)
        if reply.status_code == 403:  # the URL expired meanwhile: a fresh one
            fresh = self._urls(upload, [number]) or {}
            reply = direct.put(fresh[number], content=data)
        if reply.status_code >= 400:
            raise ApiError(f"part {number}: the object store answered HTTP {reply.status_code}")

    def _urls(self, upload: dict[str, Any], numbers: list[int]) -> dict[int, str] | None:
        if upload["transport"] != "presigned":
            return None
        reply = self.client.http.post(f"/v1/uploads/{upload['id']}/parts", json={"numbers": numbers})
        return {u["number"]: u["url"] for u in self.client._check(reply)["urls"]}

    def _put_through_gateway(self, upload_id: str, number: int, data: bytes) -> None:
        reply = self.client.http.put(
            f"/v1/uploads/{upload_id}/parts/{number}",
            content=data,
            headers={"Content-Type": "application/octet-stream"},
            timeout=httpx.Timeout(60.0, write=None),
        )
        self.client._check(reply)


def _part_bytes(upload: dict[str, Any], number: int) -> int:
    size, part_size, count = int(upload["size"]), int(upload["part_size"]), int(upload["part_count"])
    return size - (count - 1) * part_size if number == count else part_size


def submit_from_upload(client: Client, route: str, upload_id: str, params: dict[str, Any]) -> dict[str, Any]:
    """Create a job at ``route`` (``/v1/clips``) from a completed upload."""
    params = {k: str(v).lower() if isinstance(v, bool) else v for k, v in params.items()}
    reply = client.http.post(
        route, params=params, json={"upload_id": upload_id}, timeout=httpx.Timeout(600.0)
    )
    return dict(client._check(reply))
