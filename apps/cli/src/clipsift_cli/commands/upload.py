"""``clipsift upload FILE``: send a file of any size resumably (parts, progress, resume after an
interruption); prints the upload id that ``POST /v1/clips {"upload_id": ...}`` takes."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..client import ApiError
from ..resumable import ResumableUploader
from ._common import Subcommands, add_connection, connect


def cmd_upload(args: argparse.Namespace) -> int:
    client = connect(args)
    if not args.file.is_file():
        raise ApiError(f"{args.file} does not exist")
    done = ResumableUploader(client, args.home, quiet=args.quiet).upload(args.file)
    print(json.dumps({"id": done.upload_id, "object_key": done.object_key, "size": done.size}))
    return 0


def register(commands: Subcommands) -> None:
    upload = commands.add_parser("upload", help="upload a big file resumably (run again to resume)")
    upload.add_argument("file", type=Path)
    add_connection(upload)
    upload.add_argument("--quiet", action="store_true", help="no progress bar")
    upload.set_defaults(func=cmd_upload)
