"""A small client of the public REST/WebSocket API, used by the CLI commands."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import httpx
from websockets.sync.client import connect


class ApiError(Exception):
    pass


# Dataset file suffix -> the media type the gateway expects.
DATASET_TYPES = {".csv": "text/csv", ".jsonl": "application/jsonl", ".ndjson": "application/jsonl"}


def default_home() -> Path:
    return Path(os.environ.get("CLIPSIFT_HOME", ".clipsift"))


class Client:
    def __init__(self, base_url: str, api_key: str, timeout: float = 60.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.http = httpx.Client(
            base_url=self.base_url, headers={"Authorization": f"Bearer {api_key}"}, timeout=timeout
        )

    @classmethod
    def from_environment(
        cls, gateway_url: str | None, api_key: str | None, home: Path | None = None
    ) -> Client:
        """Flags win, then CLIPSIFT_GATEWAY_URL / CLIPSIFT_API_KEY, then the local runner's runtime.json."""
        url = gateway_url or os.environ.get("CLIPSIFT_GATEWAY_URL")
        key = api_key or os.environ.get("CLIPSIFT_API_KEY")
        runtime_file = (home or default_home()) / "runtime.json"
        if (not url or not key) and runtime_file.exists():
            runtime = json.loads(runtime_file.read_text())
            url, key = url or runtime["gateway_url"], key or runtime["api_key"]
        if not url or not key:
            raise ApiError(
                "no running platform found: start one with `clipsift up`, or pass --gateway-url and --api-key"
            )
        return cls(url, key)

    def _check(self, reply: httpx.Response) -> Any:
        if reply.status_code >= 400:
            try:
                detail = reply.json().get("detail", reply.text)
            except ValueError:
                detail = reply.text
            raise ApiError(f"HTTP {reply.status_code}: {detail}")
        return reply.json()

    def submit_corpus(self, lines: Iterable[bytes], threshold: float | None) -> dict[str, Any]:
        params: dict[str, str | float] = {"kind": "dedup"}
        if threshold:
            params["threshold"] = threshold
        reply = self.http.post(
            "/v1/jobs", params=params, content=lines, headers={"Content-Type": "application/jsonl"}
        )
        return dict(self._check(reply))

    def compare(self, a: str, b: str, min_words: int | None = None, *, html: bool = False) -> Any:
        """Shared passages of two texts: the JSON report, or the HTML page (a str) with ``html``."""
        body: dict[str, Any] = {"a": a, "b": b}
        if min_words is not None:
            body["min_words"] = min_words
        reply = self.http.post("/v1/text/compare", json=body, params={"format": "html" if html else "json"})
        if html and reply.status_code < 400:
            return reply.text
        return self._check(reply)

    def analyze(self, text: str, language: str | None = None) -> dict[str, Any]:
        """Language, sentiment, keywords, readability and named entities of one text."""
        body: dict[str, Any] = {"text": text}
        if language:
            body["language"] = language
        return dict(self._check(self.http.post("/v1/text/analyze", json=body)))

    def submit_video(self, path: Path, options: dict[str, Any]) -> dict[str, Any]:
        """Stream the video file as the request body (never read whole into memory)."""

        def chunks() -> Iterator[bytes]:
            with path.open("rb") as handle:
                while chunk := handle.read(1 << 20):
                    yield chunk

        params = {k: str(v).lower() if isinstance(v, bool) else v for k, v in options.items()}
        reply = self.http.post(
            "/v1/clips",
            params=params,
            content=chunks(),
            headers={"Content-Type": "application/octet-stream"},
            timeout=httpx.Timeout(60.0, write=None),
        )
        return dict(self._check(reply))

    def submit_training(self, path: Path, name: str, options: dict[str, Any]) -> dict[str, Any]:
        """Upload a labelled dataset (.csv, or .jsonl/.ndjson) and start a training job for ``name``."""
        suffix = path.suffix.lower()
        if suffix not in DATASET_TYPES:
            raise ApiError(f"{path}: a dataset is a .csv or .jsonl file (text and label per row)")

        def chunks() -> Iterator[bytes]:
            with path.open("rb") as handle:
                while chunk := handle.read(1 << 20):
                    yield chunk

        reply = self.http.post(
            f"/v1/models/{name}/train",
            params={k: v for k, v in options.items() if v is not None},
            content=chunks(),
            headers={"Content-Type": DATASET_TYPES[suffix]},
            timeout=httpx.Timeout(60.0, write=None),
        )
        return dict(self._check(reply))

    def models(self) -> list[dict[str, Any]]:
        return list(self._check(self.http.get("/v1/models"))["models"])

    def model(self, name: str) -> dict[str, Any]:
        return dict(self._check(self.http.get(f"/v1/models/{name}")))

    def model_action(self, name: str, action: str, version: int | None = None) -> dict[str, Any]:
        """``deploy``, ``undeploy`` or ``rollback`` (with an optional version)."""
        params = {"version": version} if version else {}
        return dict(self._check(self.http.post(f"/v1/models/{name}/{action}", params=params)))

    def predict(self, name: str, texts: list[str]) -> dict[str, Any]:
        return dict(self._check(self.http.post(f"/v1/models/{name}/predict", json={"texts": texts})))

    def clips(self, job_id: str) -> dict[str, Any]:
        return dict(self._check(self.http.get(f"/v1/jobs/{job_id}/clips")))

    def download(self, url: str, target: Path) -> None:
        """Stream a file to ``target`` (written beside it first, renamed when complete)."""
        partial = target.with_name(target.name + ".partial")
        with self.http.stream("GET", url) as reply:
            if reply.status_code >= 400:
                reply.read()
                self._check(reply)
            with partial.open("wb") as out:
                for chunk in reply.iter_bytes(1 << 20):
                    out.write(chunk)
        partial.replace(target)

    def job(self, job_id: str) -> dict[str, Any]:
        return dict(self._check(self.http.get(f"/v1/jobs/{job_id}")))

    def result(self, job_id: str) -> dict[str, Any]:
        return dict(self._check(self.http.get(f"/v1/jobs/{job_id}/result")))

    def events(self, job_id: str) -> Iterator[dict[str, Any]]:
        """Job events from the first, until the job completes or fails."""
        ws_url = self.base_url.replace("http", "ws", 1) + f"/v1/jobs/{job_id}/events"
        with connect(ws_url, additional_headers={"Authorization": f"Bearer {self.api_key}"}) as ws:
            for raw in ws:
                yield json.loads(raw)
