"""A real HTTP server on 127.0.0.1 for source-URL tests: serves files by path, answers ranged
requests (as S3 does for ffprobe's seeks), and plays a presigned URL: a request without the
right ``?sig=`` is refused with 403, as an expired or tampered signature would be."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SIGNATURE = "sig=s3cr3t-signature"


@dataclass
class Served:
    base: str
    files: dict[str, Path]
    # Path -> status code to answer instead of the file (e.g. 503).
    fail: dict[str, int] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)

    def url(self, name: str, signature: str = SIGNATURE) -> str:
        return f"{self.base}/{name}?{signature}&X-Amz-Expires=600"


def _handler(served: Served) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            path, _, query = self.path.partition("?")
            served.requests.append(path)
            name = path.lstrip("/")
            if name in served.fail:
                return self._status(served.fail[name])
            if not query.startswith(SIGNATURE):
                return self._status(403)
            if name not in served.files:
                return self._status(404)
            data = served.files[name].read_bytes()
            ranged = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
            start, end = 0, len(data) - 1
            if ranged:
                start = int(ranged.group(1))
                end = min(int(ranged.group(2) or end), end)
            self.send_response(206 if ranged else 200)
            self.send_header("Content-Length", str(end - start + 1))
            self.send_header("Accept-Ranges", "bytes")
            if ranged:
                self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
            self.end_headers()
            self.wfile.write(data[start : end + 1])

        def _status(self, code: int) -> None:
            self.send_response(code)
            self.send_header("Content-Length", "0")
            self.end_headers()

    return Handler


@contextmanager
def serve_files(files: dict[str, Path]) -> Iterator[Served]:
    served = Served("", dict(files))
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(served))
    served.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
