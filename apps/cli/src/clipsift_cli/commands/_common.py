"""What the commands share: the gateway connection options, text corpora, job progress bars."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeAlias

from tqdm import tqdm

from ..client import ApiError, Client

# What each command module's register() adds its subcommand to.
Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def add_connection(parser: argparse.ArgumentParser) -> None:
    """--gateway-url and --api-key; unset, they come from the environment or the running `clipsift up`."""
    parser.add_argument("--gateway-url")
    parser.add_argument("--api-key")


def connect(args: argparse.Namespace) -> Client:
    return Client.from_environment(args.gateway_url, args.api_key, args.home)


# Files `analyze` and `dedup --videos` treat as videos (the server probes them for real).
VIDEO_SUFFIXES = frozenset(
    {".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".mpg", ".mpeg", ".ts", ".wmv", ".flv"}
)


def text_files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*.txt") if p.is_file()))
        elif path.is_file():
            files.append(path)
        else:
            raise ApiError(f"{path} does not exist")
    if not files:
        raise ApiError("no .txt files found in the given paths")
    return files


def jsonl(files: list[Path], root: Path) -> Iterator[bytes]:
    for path in files:
        text = read_text(path)
        name = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
        yield json.dumps({"id": name, "text": text}).encode() + b"\n"


def corpus(paths: list[Path]) -> tuple[int, Iterator[bytes]]:
    """JSONL of the .txt files under ``paths``, ids relative to their common folder."""
    files = text_files(paths)
    root = Path(os.path.commonpath([p.resolve() for p in files]))
    root = root if root.is_dir() else root.parent
    return len(files), jsonl([p.resolve() for p in files], root)


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ApiError(f"{path} does not exist") from None
    except UnicodeDecodeError:
        raise ApiError(f"{path} is not UTF-8 text") from None


def follow(client: Client, job_id: str, quiet: bool) -> dict[str, Any] | None:
    """Follow a job's events with one progress bar per step; return the final event."""
    final = None
    bar = None
    for event in client.events(job_id):
        step = event["step"] or event["type"]
        if not quiet and (bar is None or bar.desc != step):
            if bar is not None:
                bar.close()
            bar = tqdm(
                total=100, unit="%", desc=step, file=sys.stderr, initial=round(event["progress"] * 100)
            )
        if bar is not None:
            details = event.get("payload") or {}
            if "loss" in details:  # a training step: show where it is and how it learns
                bar.set_postfix(
                    epoch=f"{details['epoch']}/{details['epochs']}", loss=f"{details['loss']:.4f}"
                )
            bar.update(round(event["progress"] * 100) - bar.n)
        final = event
    if bar is not None:
        bar.close()
    return final
