"""Corpus uploads: a zip of .txt files or JSONL of {id, text} records, validated whole and
rewritten as canonical JSONL before any job exists, so a bad upload leaves nothing behind.

Every read is bounded before it happens: zip members are inflated one at a time, never past their
declared size (``zipfile`` stops there and a lying header fails its CRC), with the declared sizes
counted against the corpus limit before any byte is inflated; a JSONL line is read at most up to
the per-document limit. A document over the per-document limits is not fatal: it is skipped and
listed, since real corpora hold the odd giant file. The canonical JSONL carries skipped documents
as ``{"id", "skipped": reason}`` lines, so the job lists them in its result."""

from __future__ import annotations

import json
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from clipsift_common.errors import InvalidArgument, ResourceExhausted

ZIP_TYPES = {"application/zip", "application/x-zip-compressed"}
JSONL_TYPES = {"application/jsonl", "application/x-ndjson", "application/ndjson", "application/json-lines"}
# Members this small cannot hurt whatever their compression ratio; above it the ratio is capped.
_RATIO_FLOOR_BYTES = 1024 * 1024


@dataclass(frozen=True)
class CorpusLimits:
    """From GatewaySettings: see the ``max_corpus_*`` and ``max_zip_*`` fields."""

    max_documents: int
    max_text_bytes: int
    # Per document: a bigger one is skipped (and listed), not read.
    max_document_bytes: int
    max_document_chars: int
    # Per zip: entries of any kind, and how many times a member may expand.
    max_zip_members: int
    max_compression_ratio: float


@dataclass(frozen=True)
class Skipped:
    id: str
    reason: str


@dataclass(frozen=True)
class CorpusStats:
    documents: int
    text_bytes: int
    skipped: list[Skipped] = field(default_factory=list)


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


def _is_text_member(info: zipfile.ZipInfo) -> bool:
    name = info.filename
    if info.is_dir() or not name.lower().endswith(".txt"):
        return False
    return not any(part.startswith(".") or part == "__MACOSX" for part in name.split("/"))


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    try:
        with archive.open(info) as member:
            return member.read()
    except zipfile.BadZipFile as exc:
        if "CRC" in str(exc):
            raise InvalidArgument(f"zip member {info.filename!r} is corrupt (CRC mismatch)") from None
        raise InvalidArgument(f"zip cannot be read: {exc}") from None
    except (zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError) as exc:
        # RuntimeError: an encrypted member; NotImplementedError: an unknown compression method.
        raise InvalidArgument(f"zip cannot be read: {exc}") from None


def _zip_documents(path: Path, limits: CorpusLimits) -> Iterator[tuple[str, bytes | Skipped]]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:  # ValueError: a member name that is not UTF-8
        raise InvalidArgument(f"corpus is not a valid zip file: {exc}") from None
    with archive:
        members = archive.infolist()
        if len(members) > limits.max_zip_members:
            raise ResourceExhausted(f"zip has {len(members)} entries; the limit is {limits.max_zip_members}")
        unpacked = 0
        for info in members:
            if not _is_text_member(info):
                continue
            name = info.filename
            if info.file_size > limits.max_document_bytes:
                limit = limits.max_document_bytes
                yield (
                    name,
                    Skipped(name, f"{info.file_size} bytes unpacked; the limit per document is {limit}"),
                )
                continue
            unpacked += info.file_size
            if unpacked > limits.max_text_bytes:
                raise ResourceExhausted(
                    f"corpus text exceeds {limits.max_text_bytes} bytes (the limit) unpacked"
                )
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > _RATIO_FLOOR_BYTES and ratio > limits.max_compression_ratio:
                raise ResourceExhausted(
                    f"zip member {name!r} expands {ratio:.0f} times (the limit is "
                    f"{limits.max_compression_ratio:g}): refused as a likely zip bomb"
                )
            yield name, _read_member(archive, info)


def _bounded_lines(handle: BinaryIO, limit: int) -> Iterator[tuple[int, bytes | None]]:
    """Numbered lines of at most ``limit`` bytes; a longer line is consumed in slices and given as None."""
    number = 0
    while line := handle.readline(limit + 1):
        number += 1
        if len(line) <= limit or line.endswith(b"\n"):
            yield number, line
            continue
        while (rest := handle.readline(1024 * 1024)) and not rest.endswith(b"\n"):
            pass
        yield number, None


def _jsonl_documents(path: Path, limits: CorpusLimits) -> Iterator[tuple[str, bytes | Skipped]]:
    with path.open("rb") as handle:
        for number, raw in _bounded_lines(handle, limits.max_document_bytes):
            if raw is None:
                yield (
                    f"line-{number}",
                    Skipped(
                        f"line-{number}",
                        f"line {number} is over {limits.max_document_bytes} bytes (the limit)",
                    ),
                )
                continue
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


def _record(doc_id: str, **fields: str) -> bytes:
    return json.dumps({"id": doc_id, **fields}, ensure_ascii=False).encode("utf-8") + b"\n"


def write_canonical(source: Path, fmt: str, out: BinaryIO, limits: CorpusLimits) -> CorpusStats:
    """Validate every document and write canonical JSONL to ``out``; raise on the first problem.
    Documents over the per-document limits are written as skipped records and counted in the stats."""
    documents = _zip_documents(source, limits) if fmt == "zip" else _jsonl_documents(source, limits)
    seen: set[str] = set()
    skipped: list[Skipped] = []
    total = 0
    for doc_id, raw in documents:
        if doc_id in seen:
            raise InvalidArgument(f"duplicate document id {doc_id!r}")
        seen.add(doc_id)
        if len(seen) > limits.max_documents:
            raise ResourceExhausted(f"corpus has more than {limits.max_documents} documents (the limit)")
        if isinstance(raw, Skipped):
            skipped.append(raw)
            out.write(_record(doc_id, skipped=raw.reason))
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidArgument(f"document {doc_id!r} is not valid UTF-8 (byte {exc.start})") from None
        if not text.strip():
            raise InvalidArgument(f"document {doc_id!r} is empty")
        if len(text) > limits.max_document_chars:
            skip = Skipped(
                doc_id, f"{len(text)} characters; the limit per document is {limits.max_document_chars}"
            )
            skipped.append(skip)
            out.write(_record(doc_id, skipped=skip.reason))
            continue
        total += len(raw)
        if total > limits.max_text_bytes:
            raise ResourceExhausted(f"corpus text exceeds {limits.max_text_bytes} bytes (the limit)")
        out.write(_record(doc_id, text=text))
    kept = len(seen) - len(skipped)
    if not kept:
        reason = " (no .txt files in the zip)" if fmt == "zip" and not seen else ""
        if skipped:
            reason = f": all {len(skipped)} were skipped ({skipped[0].id}: {skipped[0].reason})"
        raise InvalidArgument("corpus contains no documents" + reason)
    return CorpusStats(documents=kept, text_bytes=total, skipped=skipped)
