"""``clipsift up``: the whole platform as local processes, supervised.

Infrastructure comes from the environment when given (``CLIPSIFT_NATS_URL``,
``CLIPSIFT_DATABASE_URL``, ``CLIPSIFT_REDIS_URL``) and is embedded otherwise; blobs go to a folder
in the home, or to an embedded S3 server (``object_store="s3"``, see ``local_blobs``). Each service runs
as its own process, exactly as it would in its pod; a service that dies is restarted (as
Kubernetes would), and Ctrl-C / SIGTERM stops everything in reverse order. What a client needs
to reach the running platform (gateway URL, a local API key) is written to
``<home>/runtime.json``.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from clipsift_common.nats_permissions import USERS
from clipsift_common.settings import NatsSettings

from .admin import gateway_admin
from .embedded import EmbeddedNats, EmbeddedPostgres, EmbeddedRedis, free_ports, stop_process, wait_for_port
from .local_blobs import LocalBlobs, ObjectStoreKind

log = logging.getLogger(__name__)
LOCAL_TENANT = "local"


@dataclass
class ServiceProcess:
    name: str
    module: str
    env: dict[str, str]
    port: int
    log_file: Path
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    started_at: float = 0.0

    def start(self) -> None:
        out = self.log_file.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", self.module],
            env={**os.environ, **self.env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        out.close()
        self.started_at = time.monotonic()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, grace: float = 15.0) -> None:
        stop_process(self.process, grace)


@dataclass
class RunnerConfig:
    home: Path
    http_port: int = 8080
    nats_url: str | None = None
    database_url: str | None = None
    redis_url: str | None = None
    log_level: str = "INFO"
    # Where blobs live: "folder" (<home>/blobs) or "s3" (an embedded SeaweedFS, data in the home).
    object_store: ObjectStoreKind = "folder"
    extra_env: dict[str, str] = field(default_factory=dict)


class LocalPlatform:
    def __init__(self, config: RunnerConfig) -> None:
        self.config = config
        self.home = config.home.resolve()
        self.logs = self.home / "logs"
        self.nats: EmbeddedNats | None = None
        self.postgres: EmbeddedPostgres | None = None
        self.redis: EmbeddedRedis | None = None
        self.blobs = LocalBlobs(config.object_store, self.home, self.logs)
        self.services: list[ServiceProcess] = []
        self.gateway_url = ""
        self.metrics_port = 0
        self.api_key = ""
        self.nats_url = ""
        self.database_url = ""
        self.redis_url = ""

    @property
    def runtime_file(self) -> Path:
        return self.home / "runtime.json"

    def start(self) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        self.nats_url = self.config.nats_url or self._start_nats()
        self.database_url = self.config.database_url or self._start_postgres()
        self.redis_url = self.config.redis_url or self._start_redis()
        self.services = self.plan(self.blobs.start())
        for service in self.services:
            service.start()
        for service in self.services:
            wait_for_port("127.0.0.1", service.port, 120, service.process)
        self.gateway_url = f"http://127.0.0.1:{self.services[-1].port}"
        self._wait_ready(timeout=120)
        self.api_key = self._local_api_key()
        self.write_runtime()

    def plan(self, blob_env: dict[str, str]) -> list[ServiceProcess]:
        """Every service's process and env (the gateway last), on free ports; nothing started.
        ``blob_env``: the BlobSettings values every service gets (``LocalBlobs.start``)."""
        names = ("text", "analytics", "audio", "vision", "video", "training", "gateway", "metrics")
        ports = dict(zip(names, free_ports(len(names)), strict=True))
        http_port = self.config.http_port or ports.pop("gateway")
        ports.pop("gateway", None)
        self.metrics_port = ports.pop("metrics")  # the gateway's Prometheus port
        targets = {f"{name.upper()}_TARGET": f"127.0.0.1:{port}" for name, port in ports.items()}
        common = {"LOG_LEVEL": self.config.log_level, "NATS_URL": self.nats_url, **blob_env}

        def grpc_service(name: str, **values: str) -> ServiceProcess:
            port = ports[name]
            env = {**common, **self._nats_credentials(name), "GRPC_HOST": "127.0.0.1", "GRPC_PORT": str(port)}
            env.update(values)
            return self._service(name, f"{name}_svc", port, env)

        # Inference services first: the video worker and the gateway call them.
        return [
            grpc_service("audio"),
            grpc_service("vision", DATABASE_URL=self.database_url),  # the per-tenant image index
            grpc_service(
                "text", DATABASE_URL=self.database_url, TRAINING_TARGET=targets["TRAINING_TARGET"]
            ),  # the per-tenant text index
            grpc_service("analytics", DATABASE_URL=self.database_url),
            grpc_service("training", DATABASE_URL=self.database_url),
            grpc_service(
                "video",
                AUDIO_TARGET=targets["AUDIO_TARGET"],
                VISION_TARGET=targets["VISION_TARGET"],
                TEXT_TARGET=targets["TEXT_TARGET"],  # clips checked against the text indexes
                DATABASE_URL=self.database_url,
            ),
            self._service(
                "gateway",
                "gateway_svc",
                http_port,
                {
                    **common,
                    **self._nats_credentials("gateway"),
                    "HTTP_HOST": "127.0.0.1",
                    "HTTP_PORT": str(http_port),
                    "METRICS_PORT": str(self.metrics_port),
                    "DATABASE_URL": self.database_url,
                    "REDIS_URL": self.redis_url,  # rate limits
                    **targets,
                },
            ),
        ]

    def _service(self, name: str, module: str, port: int, values: dict[str, str]) -> ServiceProcess:
        prefix = f"CLIPSIFT_{name.upper()}_"
        env = {prefix + key: value for key, value in values.items()}
        env.update(self.config.extra_env)
        return ServiceProcess(name, module, env, port, self.logs / f"{name}.log")

    def _start_nats(self) -> str:
        # With a user per service: a process on this machine cannot forge a job's outcome.
        stream = NatsSettings.model_fields["nats_stream"].default
        self.nats = EmbeddedNats(self.home / "nats", self.logs / "nats.log", stream=stream)
        return self.nats.start()

    def _nats_credentials(self, service: str) -> dict[str, str]:
        """The embedded server's user for ``service``; nothing for an external server (its
        credentials come from the environment) or a service that never uses the bus."""
        if self.nats is None or service not in USERS:
            return {}
        return self.nats.credentials(service)

    def _start_redis(self) -> str:
        self.redis = EmbeddedRedis(self.home / "redis", self.logs / "redis.log")
        return self.redis.start()

    def _start_postgres(self) -> str:
        self.postgres = EmbeddedPostgres(self.home / "pgdata")
        return self.postgres.start()

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            for service in self.services:
                if not service.alive():
                    raise RuntimeError(f"{service.name} exited during start-up; see {service.log_file}")
            try:
                reply = httpx.get(f"{self.gateway_url}/readyz", timeout=5)
                last = reply.json()
                # The gateway is ready on its own; `up` also waits for every service it calls.
                if reply.status_code == 200 and all(
                    d["health"] == "ok" for d in last.get("dependencies", {}).values()
                ):
                    return
            except httpx.HTTPError as exc:
                last = str(exc)
            time.sleep(0.2)
        raise TimeoutError(f"platform not ready after {timeout:.0f}s: {last}")

    def _local_api_key(self) -> str:
        """Reuse the key of an earlier run on the same database; create one otherwise."""
        if self.runtime_file.exists():
            previous = json.loads(self.runtime_file.read_text())
            if previous.get("database_url") == self.database_url and previous.get("api_key"):
                reply = httpx.get(
                    f"{self.gateway_url}/v1/jobs?limit=1",
                    headers={"Authorization": f"Bearer {previous['api_key']}"},
                    timeout=10,
                )
                if reply.status_code == 200:
                    return str(previous["api_key"])
        # The local tenant's owner, and a platform operator (analytics of every tenant).
        create = ["create-key", f"--tenant={LOCAL_TENANT}", "--label=clipsift up", "--role=owner", "--admin"]
        return gateway_admin(self.database_url, *create, env=self.config.extra_env)

    def write_runtime(self) -> None:
        runtime = {
            "gateway_url": self.gateway_url,
            "metrics_url": f"http://127.0.0.1:{self.metrics_port}/metrics",
            "api_key": self.api_key,
            "tenant": LOCAL_TENANT,
            "nats_url": self.nats_url,
            "database_url": self.database_url,
            "redis_url": self.redis_url,
            **self.blobs.runtime(),
            "runner_pid": os.getpid(),
            "services": {
                s.name: {
                    "pid": s.process.pid if s.process else None,
                    "port": s.port,
                    "restarts": s.restarts,
                    "log": str(s.log_file),
                }
                for s in self.services
            },
        }
        tmp = self.runtime_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(runtime, indent=2))
        tmp.replace(self.runtime_file)

    def supervise(self, stop: list[bool]) -> None:
        """Restart services that exit, with a backoff, until ``stop[0]`` is set."""
        while not stop[0]:
            for service in self.services:
                if service.alive() or stop[0]:
                    continue
                code = service.process.returncode if service.process else None
                backoff = min(10.0, 0.5 * 2 ** min(service.restarts, 5))
                if time.monotonic() - service.started_at < backoff:
                    continue
                log.warning("%s exited (code %s); restarting", service.name, code)
                service.restarts += 1
                service.start()
                self.write_runtime()
            time.sleep(0.2)

    def stop(self) -> None:
        # Gateway first (no new work), then workers, then infrastructure.
        for service in reversed(self.services):
            service.stop()
        self.blobs.stop()
        if self.nats:
            self.nats.stop()
        if self.postgres:
            self.postgres.stop()
        if self.redis:
            self.redis.stop()
        self.runtime_file.unlink(missing_ok=True)


def run_until_signal(platform: LocalPlatform) -> None:
    stop = [False]

    def request_stop(signum: int, frame: object) -> None:
        stop[0] = True

    try:
        platform.start()  # Ctrl-C here raises KeyboardInterrupt and still reaches the cleanup below
        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
        print(f"clipsift is up at {platform.gateway_url}  (API docs: {platform.gateway_url}/docs)")
        print(f"API key for tenant '{LOCAL_TENANT}': {platform.api_key}")
        print(f"Prometheus metrics at http://127.0.0.1:{platform.metrics_port}/metrics")
        print(f"logs in {platform.logs}; Ctrl-C stops everything")
        sys.stdout.flush()
        platform.supervise(stop)
    finally:
        print("stopping clipsift ...")
        platform.stop()
        print("stopped")
