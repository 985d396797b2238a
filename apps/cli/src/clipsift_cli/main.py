"""``clipsift`` command line.

clipsift up                         start the whole platform locally (embedded NATS/PostgreSQL)
clipsift keys create --tenant T     create an API key (prints it once)
clipsift keys list | revoke PREFIX  the keys (prefix, tenant, state, expiry); revoke one by prefix
clipsift dedup PATH...              near-duplicate clusters among text files, through the platform
clipsift index add NAME PATH...     add text files to a persistent index (a job, with a progress bar)
clipsift index query NAME FILE      "have we published this before?": near-duplicates (and --semantic)
clipsift index compare NAME FILE    passages a text shares with indexed documents
clipsift index list | delete NAME   the tenant's indexes; delete one (or one document with --doc)
clipsift dedup --images DIR         near-duplicate clusters among images, with per-hash evidence
clipsift dedup --videos DIR         near-duplicate videos (re-encoded, cropped, trimmed copies) in DIR
clipsift compare A.txt B.txt        passages two text files share (plagiarism report)
clipsift analyze FILE               a text: language, sentiment, keywords, readability, entities;
                                    an image: objects, text, colours, quality, faces, hashes;
                                    a video: scenes, keyframes, faces, colours, transcript summary
clipsift train DATA --name NAME     fine-tune a text classifier on a labelled CSV/JSONL dataset
clipsift predict NAME TEXT...       labels of texts by the deployed model NAME
clipsift models [NAME]              the tenant's models, or NAME's versions; deploy/undeploy/rollback
clipsift job ID                     a job's status
clipsift upload FILE                a big file sent in parts (run again to resume); prints its upload id
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .client import ApiError, default_home
from .commands import COMMANDS


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="clipsift", description="clipsift: self-hosted content platform")
    parser.add_argument(
        "--home",
        type=Path,
        default=default_home(),
        help="state directory of the local platform (default: $CLIPSIFT_HOME or ./.clipsift)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.register(commands)
    return parser


def main() -> None:
    args = build_parser().parse_args()
    try:
        sys.exit(args.func(args))
    except ApiError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
