"""A small client of the public REST/WebSocket API, used by the CLI commands."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

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

    def add_corpus(self, index: str, lines: Iterable[bytes], semantic: bool) -> dict[str, Any]:
        """Queue an index job adding the JSONL ``{"id", "text"}`` lines to ``index``."""
        reply = self.http.post(
            f"/v1/indexes/{quote(index, safe='')}/documents",
            params={"semantic": str(semantic).lower()},
            content=lines,
            headers={"Content-Type": "application/jsonl"},
        )
        return dict(self._check(reply))

    def query_index(self, index: str, body: dict[str, Any], *, csv: bool = False) -> Any:
        """Near-duplicate (and semantic) matches of a text: the JSON result, or CSV text with ``csv``."""
        reply = self.http.post(
            f"/v1/indexes/{quote(index, safe='')}/query",
            json=body,
            params={"format": "csv" if csv else "json"},
        )
        if csv and reply.status_code < 400:
            return reply.text
        return self._check(reply)

    def compare_to_index(self, index: str, body: dict[str, Any], *, html_match: int | None = None) -> Any:
        """Passages shared with indexed documents: JSON, or one match's HTML report (a str)."""
        params: dict[str, Any] = {"format": "json"}
        if html_match is not None:
            params = {"format": "html", "match": html_match}
        reply = self.http.post(f"/v1/indexes/{quote(index, safe='')}/compare", json=body, params=params)
        if html_match is not None and reply.status_code < 400:
            return reply.text
        return self._check(reply)

    def indexes(self) -> dict[str, Any]:
        return dict(self._check(self.http.get("/v1/indexes")))

    def delete_index(self, index: str) -> dict[str, Any]:
        return dict(self._check(self.http.delete(f"/v1/indexes/{quote(index, safe='')}")))

    def delete_indexed_document(self, index: str, document_id: str) -> dict[str, Any]:
        path = f"/v1/indexes/{quote(index, safe='')}/documents/{quote(document_id, safe='')}"
        return dict(self._check(self.http.delete(path)))

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

    def analyze_images(self, paths: list[Path], features: str | None = None) -> dict[str, Any]:
        """Objects, text, colours, quality, faces, hashes, embedding of image files (one request)."""
        params = {"features": features} if features else {}
        return dict(
            self._check(self.http.post("/v1/images/analyze", files=_image_files(paths), params=params))
        )

    def image_duplicates(self, paths: list[Path], params: dict[str, Any]) -> dict[str, Any]:
        """Near-duplicate clusters among image files, ids relative to their common folder."""
        return dict(
            self._check(
                self.http.post("/v1/images/duplicates", files=_image_files(paths), params=params, timeout=600)
            )
        )

    def _upload(self, url: str, path: Path, params: dict[str, Any], content_type: str) -> dict[str, Any]:
        """Stream a file as the request body (never read whole into memory)."""

        def chunks() -> Iterator[bytes]:
            with path.open("rb") as handle:
                while chunk := handle.read(1 << 20):
                    yield chunk

        params = {k: str(v).lower() if isinstance(v, bool) else v for k, v in params.items()}
        reply = self.http.post(
            url,
            params=params,
            content=chunks(),
            headers={"Content-Type": content_type},
            timeout=httpx.Timeout(60.0, write=None),
        )
        return dict(self._check(reply))

    def submit_video(self, path: Path, options: dict[str, Any]) -> dict[str, Any]:
        """Start a clip job on a video file."""
        return self._upload("/v1/clips", path, options, "application/octet-stream")

    def submit_video_analysis(self, path: Path, language: str = "") -> dict[str, Any]:
        """Start a video analysis job (scenes, keyframes, transcript, summary)."""
        return self._upload("/v1/videos/analyze", path, {"language": language}, "application/octet-stream")

    def submit_video_duplicates(self, zip_path: Path, index: bool, against_index: bool) -> dict[str, Any]:
        """Start a near-duplicate job over the videos in a zip."""
        params = {"index": index, "against_index": against_index}
        return self._upload("/v1/videos/duplicates", zip_path, params, "application/zip")

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
        """Stream a file to ``target`` (written beside it first, renamed when complete). On object
        storage the gateway answers 307 to a short-lived signed URL: followed here (httpx drops the
        Authorization header when the redirect leaves the gateway's origin)."""
        partial = target.with_name(target.name + ".partial")
        with self.http.stream("GET", url, follow_redirects=True) as reply:
            if reply.status_code >= 400:
                reply.read()
                self._check(reply)
            with partial.open("wb") as out:
                for chunk in reply.iter_bytes(1 << 20):
                    out.write(chunk)
        partial.replace(target)

    def job(self, job_id: str) -> dict[str, Any]:
        return dict(self._check(self.http.get(f"/v1/jobs/{job_id}")))

    def delete_job(self, job_id: str) -> None:
        """Delete a finished job with every file it stored (refused while it runs)."""
        reply = self.http.delete(f"/v1/jobs/{job_id}")
        if reply.status_code >= 400:
            self._check(reply)

    def result(self, job_id: str) -> dict[str, Any]:
        return dict(self._check(self.http.get(f"/v1/jobs/{job_id}/result")))

    def result_csv(self, job_id: str) -> str:
        reply = self.http.get(f"/v1/jobs/{job_id}/result", params={"format": "csv"})
        if reply.status_code >= 400:
            self._check(reply)
        return reply.text

    def events(self, job_id: str) -> Iterator[dict[str, Any]]:
        """Job events from the first, until the job completes or fails."""
        ws_url = self.base_url.replace("http", "ws", 1) + f"/v1/jobs/{job_id}/events"
        with connect(ws_url, additional_headers={"Authorization": f"Bearer {self.api_key}"}) as ws:
            for raw in ws:
                yield json.loads(raw)


IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff"})


def _image_files(paths: list[Path]) -> list[tuple[str, tuple[str, bytes, str]]]:
    root = Path(os.path.commonpath([p.resolve() for p in paths])) if paths else Path()
    root = root if root.is_dir() else root.parent
    files = []
    for path in paths:
        name = str(path.resolve().relative_to(root)) if len(paths) > 1 else path.name
        files.append(("files", (name, path.read_bytes(), "application/octet-stream")))
    return files
