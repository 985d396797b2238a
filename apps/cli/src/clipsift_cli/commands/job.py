"""``clipsift job ID``: a job's status."""

from __future__ import annotations

import argparse
import json

from ._common import Subcommands, add_connection, connect


def cmd_job(args: argparse.Namespace) -> int:
    client = connect(args)
    print(json.dumps(client.job(args.job_id), indent=2))
    return 0


def register(commands: Subcommands) -> None:
    job = commands.add_parser("job", help="show a job")
    add_connection(job)
    job.set_defaults(func=cmd_job)
    job.add_argument("job_id")
