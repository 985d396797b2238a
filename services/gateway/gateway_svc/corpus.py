"""Corpus uploads: a zip of .txt files or JSONL of {id, text} records, validated whole and
rewritten as canonical JSONL before any job exists, so a bad upload leaves nothing behind."""

from __future__ import annotations

import json
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from clipsift_common.errors import InvalidArgument, ResourceExhausted

ZIP_TYPES = {"application/zip", "application/x-zip-compressed"}
JSONL_TYPES = {"application/jsonl", "application/x-ndjson", "application/ndjson", "application/json-lines"}


@dataclass(frozen=True)
class CorpusLimits:
    max_documents: int
    max_text_bytes: int


@dataclass(frozen=True)
class CorpusStats:
    documents: int
    text_bytes: int


def corpus_format(content_type: str | None) -> str:
    media = (content_type or "").split(";")[0].strip().lower()
    if media in ZIP_TYPES:
        return "zip"
    if media in JSONL_TYPES:
        return "jsonl"
    raise InvalidArgument(
        f"unsupported corpus content type {media or '(none)'!r}: send application/zip "
        '(a zip of .txt files) or application/jsonl (one {"id", "text"} object per line)'
    )


def _zip_documents(path: Path, max_text_bytes: int) -> Iterator[tuple[str, bytes]]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:  # ValueError: a member name that is not UTF-8
        raise InvalidArgument(f"corpus is not a valid zip file: {exc}") from None
    with archive:
        try:
            broken = archive.testzip()
        except (zlib.error, EOFError, NotImplementedError, ValueError) as exc:
            raise InvalidArgument(f"zip cannot be read: {exc}") from None
        if broken is not None:
            raise InvalidArgument(f"zip member {broken!r} is corrupt (CRC mismatch)")
        unpacked = 0
        for info in archive.infolist():
            name = info.filename
            if info.is_dir() or not name.lower().endswith(".txt"):
                continue
            if any(part.startswith(".") or part == "__MACOSX" for part in name.split("/")):
                continue
            # Checked before reading: a small zip can unpack to more than memory holds.
            unpacked += info.file_size
            if unpacked > max_text_bytes:
                raise ResourceExhausted(f"corpus text exceeds {max_text_bytes} bytes (the limit) unpacked")
            yield name, archive.read(info)


def _jsonl_documents(path: Path) -> Iterator[tuple[str, bytes]]:
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                record = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError:
                raise InvalidArgument(f"line {number} is not valid UTF-8") from None
            except ValueError:
                raise InvalidArgument(f"line {number} is not valid JSON") from None
            if not isinstance(record, dict) or not isinstance(record.get("text"), str):
                raise InvalidArgument(f'line {number} must be an object with a string "text" field')
            doc_id = record.get("id", f"line-{number}")
            if not isinstance(doc_id, (str, int)) or isinstance(doc_id, bool):
                raise InvalidArgument(f'line {number}: "id" must be a string or an integer')
            try:
                # Valid JSON may escape a lone surrogate ("\ud800"), which no UTF-8 text can hold.
                text, name = record["text"].encode("utf-8"), str(doc_id)
                name.encode("utf-8")
            except UnicodeEncodeError:
                raise InvalidArgument(f"line {number} is not valid Unicode (lone surrogate escape)") from None
            yield name, text


def write_canonical(source: Path, fmt: str, out: BinaryIO, limits: CorpusLimits) -> CorpusStats:
    """Validate every document and write canonical JSONL to ``out``; raise on the first problem."""
    documents = _zip_documents(source, limits.max_text_bytes) if fmt == "zip" else _jsonl_documents(source)
    seen: set[str] = set()
    total = 0
    for doc_id, raw in documents:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidArgument(f"document {doc_id!r} is not valid UTF-8 (byte {exc.start})") from None
        if not text.strip():
            raise InvalidArgument(f"document {doc_id!r} is empty")
        if doc_id in seen:
            raise InvalidArgument(f"duplicate document id {doc_id!r}")
        seen.add(doc_id)
        total += len(raw)
        if len(seen) > limits.max_documents:
            raise ResourceExhausted(f"corpus has more than {limits.max_documents} documents (the limit)")
        if total > limits.max_text_bytes:
            raise ResourceExhausted(f"corpus text exceeds {limits.max_text_bytes} bytes (the limit)")
        out.write(json.dumps({"id": doc_id, "text": text}, ensure_ascii=False).encode("utf-8") + b"\n")
    if not seen:
        raise InvalidArgument(
            "corpus contains no documents" + (" (no .txt files in the zip)" if fmt == "zip" else "")
        )
    return CorpusStats(documents=len(seen), text_bytes=total)
