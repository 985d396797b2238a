"""Reading the gateway's canonical corpus JSONL, shared by the corpus jobs.

A line is ``{"id", "text"[, "title"]}`` or ``{"id", "skipped": reason}`` for a document the
gateway would not read. A document over this service's own length limit is skipped here too, so
one giant file never fails a whole corpus; the jobs list every skipped document in their result."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field

from clipsift_common.objectstore import ObjectBlobStore
from clipsift_common.worker import JobFailed


@dataclass(frozen=True)
class CorpusRecord:
    id: str
    text: str
    title: str = ""


@dataclass
class Corpus:
    records: list[CorpusRecord] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)


def read_corpus(blobs: ObjectBlobStore, key: str, max_document_chars: int) -> Corpus:
    """The corpus at ``key``, streamed line by line (never the whole file in memory at once)."""
    corpus = Corpus()
    for number, line in enumerate(_lines(blobs, key), start=1):
        try:
            record = json.loads(line)
            doc_id = str(record["id"])
            if "skipped" in record:
                corpus.skipped.append({"id": doc_id, "reason": str(record["skipped"])})
                continue
            text = str(record["text"])
            title = str(record.get("title", ""))
        except (ValueError, KeyError, TypeError) as exc:
            raise JobFailed(f"corpus line {number} is not a {{id, text}} record") from exc
        if len(text) > max_document_chars:
            reason = f"{len(text)} characters; the limit per document is {max_document_chars}"
            corpus.skipped.append({"id": doc_id, "reason": reason})
            continue
        corpus.records.append(CorpusRecord(doc_id, text, title))
    if not corpus.records:
        raise JobFailed(f"corpus has no documents left: all {len(corpus.skipped)} were skipped")
    return corpus


def _lines(blobs: ObjectBlobStore, key: str) -> Iterator[bytes]:
    handle = blobs.reader(key)  # buffered ranged reads: one part in memory at a time
    try:
        while line := bytes(handle.readline()):
            yield line
    finally:
        handle.close()
