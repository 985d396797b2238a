"""The gateway's operator entry point, run as a process: the CLI never imports a service.

``python -m gateway_svc.admin`` (the command an operator runs next to a deployed gateway) creates,
lists and revokes API keys; ``clipsift keys`` and ``clipsift up`` run it with the database they use.
"""

from __future__ import annotations

import os
import subprocess
import sys

from .client import ApiError

ADMIN_MODULE = "gateway_svc.admin"


def gateway_admin(database_url: str, *argv: str, env: dict[str, str] | None = None) -> str:
    """Run ``python -m gateway_svc.admin ARGV...`` against ``database_url``; its output.

    A failure (unknown prefix, unreachable database) is an :class:`ApiError` with the command's
    own message, without its ``error:`` prefix.
    """
    environment = {**os.environ, **(env or {}), "CLIPSIFT_GATEWAY_DATABASE_URL": database_url}
    done = subprocess.run(
        [sys.executable, "-m", ADMIN_MODULE, *argv],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        message = done.stderr.strip() or f"{ADMIN_MODULE} exited with code {done.returncode}"
        raise ApiError(message.removeprefix("error: "))
    return done.stdout.rstrip("\n")
