"""``clipsift clip VIDEO``: the best short vertical clips of a long video, a progress bar per step."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..client import ApiError, Client
from ..resumable import DEFAULT_THRESHOLD, ResumableUploader, submit_from_upload
from ._common import Subcommands, add_connection, connect, follow


def cmd_clip(args: argparse.Namespace) -> int:
    client = connect(args)
    if not args.video.is_file():
        raise ApiError(f"{args.video} does not exist")
    options = {
        "count": args.count,
        "min_seconds": args.min_seconds,
        "max_seconds": args.max_seconds,
        "aspect": args.aspect,
        "captions": not args.no_captions,
        "remove_fillers": args.remove_fillers,
        "language": args.language,
    }
    job = _submit(client, args, options)
    print(f"job {job['id']}: {job['message']}", file=sys.stderr)
    final = follow(client, job["id"], args.quiet)
    if final is None or final["type"] != "completed":
        raise ApiError(f"job failed: {final['message'] if final else 'no events received'}")
    manifest = client.clips(job["id"])
    args.out.mkdir(parents=True, exist_ok=True)
    for clip in manifest["clips"]:
        stem = f"clip{clip['index']:02d}"
        for name, url in clip["urls"].items():
            client.download(url, args.out / f"{stem}{Path(name).suffix}")
        (args.out / f"{stem}.json").write_text(json.dumps(clip, indent=2), encoding="utf-8")
        print(
            f"{stem}  score {clip['score']['total']:5.1f}  {clip['start']:7.1f}-{clip['end']:7.1f}s  "
            f"{clip['title'][:70]}"
        )
    print(f"{len(manifest['clips'])} clips in {args.out}")
    return 0


def _submit(client: Client, args: argparse.Namespace, options: dict[str, Any]) -> dict[str, Any]:
    """One request for a small video; above ``--resumable-above`` MiB, the resumable protocol
    (parts with a progress bar; rerun after an interruption to send only what is missing)."""
    if args.video.stat().st_size <= args.resumable_above * 1024 * 1024:
        print(f"uploading {args.video} ...", file=sys.stderr)
        return client.submit_video(args.video, options)
    uploader = ResumableUploader(client, args.home, quiet=args.quiet)
    done = uploader.upload(args.video, "video/mp4")
    job = submit_from_upload(client, "/v1/clips", done.upload_id, options)
    uploader.forget(args.video)
    return job


def register(commands: Subcommands) -> None:
    clip = commands.add_parser("clip", help="cut a long video into short vertical clips")
    clip.add_argument("video", type=Path)
    clip.add_argument(
        "--out", type=Path, default=Path("clips"), help="folder for the clips (default ./clips)"
    )
    clip.add_argument("--count", type=int, default=3)
    clip.add_argument("--min-seconds", type=float, default=15.0)
    clip.add_argument("--max-seconds", type=float, default=60.0)
    clip.add_argument("--aspect", choices=["9:16", "1:1", "16:9"], default="9:16")
    clip.add_argument("--no-captions", action="store_true")
    clip.add_argument("--remove-fillers", action="store_true", help="cut um, uh, ...")
    clip.add_argument("--language", default="", help="ISO 639-1 code (default: detect)")
    clip.add_argument(
        "--resumable-above",
        type=float,
        default=DEFAULT_THRESHOLD / 1024 / 1024,
        help="MiB above which the video goes up resumably, in parts (default %(default)g)",
    )
    add_connection(clip)
    clip.add_argument("--quiet", action="store_true", help="no progress bars")
    clip.set_defaults(func=cmd_clip)
