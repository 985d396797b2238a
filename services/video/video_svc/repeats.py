"""Clips the tenant already has: a candidate whose words are in one of its text indexes, or whose
frames are in its video fingerprint index, is a repeat (``against_index=true`` drops it).

Words are compared passage by passage (the text service's CompareToIndex: the share of the
clip's words inside passages shared with an indexed document), so a clip cut from a published
article or an earlier clip's transcript is found even when the indexed document is much longer.
Frames are compared with the same fingerprints and alignment as the video dedup job, the source
fingerprinted once and sliced per candidate.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from clipsift.text.v1 import index_pb2, index_pb2_grpc
from clipsift_common.grpc_client import ServiceClient

from .alignment import AlignParams, align
from .candidates import Candidate
from .dedup_job import fingerprint_video
from .fingerprint import Fingerprint
from .fingerprint_store import FingerprintStore, IndexedVideo
from .settings import VideoSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Repeat:
    kind: str  # "text" or "video"
    index: str  # the text index, or "videos"
    id: str  # the matching document or video
    title: str
    coverage: float  # share of the clip found in it

    @property
    def reason(self) -> str:
        where = f"text index '{self.index}'" if self.kind == "text" else "the video index"
        what = "words" if self.kind == "text" else "frames"
        name = f" ({self.title})" if self.title and self.title != self.id else ""
        return f"{self.coverage:.0%} of its {what} match '{self.id}'{name} in {where}"


class RepeatFinder:
    """What of a job's candidates the tenant already has; each lookup bounded by the settings."""

    def __init__(
        self, settings: VideoSettings, text: ServiceClient | None, store: FingerprintStore | None
    ) -> None:
        self.settings = settings
        self.text = text
        self.store = store

    async def find(
        self, tenant: str, source: Path, duration: float, candidates: Sequence[Candidate]
    ) -> tuple[dict[int, Repeat], list[str]]:
        """Repeats by ``id(candidate)``, and warnings for the indexes that could not be checked."""
        warnings: list[str] = []
        repeats: dict[int, Repeat] = {}
        if self.text is None:
            warnings.append(
                "no text service is configured: transcripts were not checked against text indexes"
            )
        else:
            repeats |= await self._in_text(tenant, candidates)
        if self.store is None:
            warnings.append("no database is configured: frames were not checked against the video index")
        else:
            for key, found in (await self._in_videos(tenant, source, duration, candidates)).items():
                repeats.setdefault(key, found)
        return repeats, warnings

    async def _in_text(self, tenant: str, candidates: Sequence[Candidate]) -> dict[int, Repeat]:
        assert self.text is not None
        stub = index_pb2_grpc.IndexServiceStub(self.text.channel)
        listed = await self.text.call(stub.ListIndexes, index_pb2.ListIndexesRequest(tenant=tenant))
        names = [i.name for i in listed.indexes if i.documents][: self.settings.repeat_max_text_indexes]
        log.info("text indexes checked for repeats", extra={"indexes": names})
        found: dict[int, Repeat] = {}
        for candidate in candidates:
            text = " ".join(s.text for s in candidate.sentences)
            for name in names:
                reply = await self.text.call(
                    stub.CompareToIndex,
                    index_pb2.CompareToIndexRequest(
                        tenant=tenant,
                        index=name,
                        text=text,
                        limit=1,
                        min_words=self.settings.repeat_min_words,
                    ),
                )
                log.debug("repeat check", extra={"index": name, "coverage": round(reply.coverage, 3)})
                if reply.matches and reply.coverage >= self.settings.repeat_min_coverage:
                    best = reply.matches[0]
                    found[id(candidate)] = Repeat("text", name, best.id, best.title, reply.coverage)
                    break
        return found

    async def _in_videos(
        self, tenant: str, source: Path, duration: float, candidates: Sequence[Candidate]
    ) -> dict[int, Repeat]:
        assert self.store is not None
        indexed = await self.store.all(tenant, self.settings.fingerprint_fps)
        if not indexed:
            return {}
        whole = await fingerprint_video(source, duration, self.settings)
        params = self.settings.align_params()
        return await asyncio.to_thread(self._align, whole, indexed, candidates, params)

    def _align(
        self,
        whole: Fingerprint,
        indexed: list[IndexedVideo],
        candidates: Sequence[Candidate],
        params: AlignParams,
    ) -> dict[int, Repeat]:
        found: dict[int, Repeat] = {}
        for candidate in candidates:
            part = excerpt(whole, candidate.start, candidate.end)
            for video in indexed:
                match = align(part, video.fingerprint, params)
                if match is not None and match.coverage_a >= self.settings.repeat_min_coverage:
                    found[id(candidate)] = Repeat(
                        "video", "videos", video.video_id, video.name, match.coverage_a
                    )
                    break
        return found


def excerpt(fingerprint: Fingerprint, start: float, end: float) -> Fingerprint:
    """The frames of ``fingerprint`` between ``start`` and ``end`` seconds."""
    first = max(0, int(np.floor(start * fingerprint.fps)))
    last = min(fingerprint.frames, int(np.ceil(end * fingerprint.fps)))
    return Fingerprint(
        fps=fingerprint.fps,
        duration=max(0.0, end - start),
        hashes=fingerprint.hashes[first:last],
        valid=fingerprint.valid[first:last],
    )
