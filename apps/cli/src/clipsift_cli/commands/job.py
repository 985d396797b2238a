"""``clipsift job ID``: a job's status; ``clipsift job ID --delete`` deletes a finished job and its files."""

from __future__ import annotations

import argparse
import json

from ._common import Subcommands, add_connection, connect


def cmd_job(args: argparse.Namespace) -> int:
    client = connect(args)
    if args.delete:
        client.delete_job(args.job_id)
        print(f"job {args.job_id} deleted")
        return 0
    print(json.dumps(client.job(args.job_id), indent=2))
    return 0


def register(commands: Subcommands) -> None:
    job = commands.add_parser("job", help="show a job")
    add_connection(job)
    job.set_defaults(func=cmd_job)
    job.add_argument("job_id")
    job.add_argument(
        "--delete", action="store_true", help="delete the finished job, its upload and its results"
    )
