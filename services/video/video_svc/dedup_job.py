"""The video dedup job: near-duplicate videos in a set, and against the tenant's index.

Steps: probe every video (a bad one fails the job before any work, naming it; on object
storage through a signed URL, nothing downloaded), fingerprint each (one at a time in the job's
scratch folder, a remote copy removed after its fingerprint; frames at a fixed rate, hashed),
align every pair of the set and, when asked, every video against the tenant's indexed ones,
then add the set to the index when asked. The result lists each matching pair with its
segments (time ranges in both videos), and clusters of videos joined by near-duplicate pairs.
Index writes are upserts: a redelivered job repeats them harmlessly.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from clipsift_common.blobkeys import job_prefix
from clipsift_common.errors import ClipsiftError
from clipsift_common.objectstore import ObjectBlobStore
from clipsift_common.worker import JobContext, JobFailed

from .alignment import AlignParams, VideoMatch, align
from .downloads import redacted
from .fingerprint import SAMPLE_SIDE, Fingerprint, fingerprint
from .fingerprint_store import FingerprintStore, IndexedVideo
from .frames import sample_frames
from .probe import probe
from .settings import VideoSettings
from .sources import SourceRef, job_source_ref, job_workspace, open_source, probe_input

log = logging.getLogger(__name__)
KIND = "video_dedup"
_FINGERPRINTED = 0.7


def result_key(tenant_id: str, job_id: str) -> str:
    return f"{job_prefix(tenant_id, job_id)}/video-dedup/result.json"


@dataclass(frozen=True)
class JobVideo:
    video_id: str
    name: str
    source: SourceRef
    fingerprint: Fingerprint | None = None


async def fingerprint_video(source: Path, duration: float, settings: VideoSettings) -> Fingerprint:
    """The fingerprint of a whole video, with the service's fingerprint settings."""
    frames = sample_frames(
        source,
        0.0,
        None,
        settings.fingerprint_fps,
        (SAMPLE_SIDE, SAMPLE_SIDE),
        settings.ffmpeg,
        pix_fmt="gray",
        scale_flags="area",
    )
    return await fingerprint(
        frames,
        fps=settings.fingerprint_fps,
        duration=duration,
        margin=settings.fingerprint_margin,
        min_texture=settings.fingerprint_min_texture,
        max_frames=int(settings.max_dedup_video_seconds * settings.fingerprint_fps) + 1,
    )


def match_view(match: VideoMatch, a: str, b: str, b_indexed: bool, min_coverage: float) -> dict[str, Any]:
    return {
        "a": a,
        "b": b,
        "b_indexed": b_indexed,
        "score": round(match.score, 4),
        "near_duplicate": match.score >= min_coverage,
        "coverage_a": match.coverage_a,
        "coverage_b": match.coverage_b,
        "similarity": match.similarity,
        "segments": [asdict(s) for s in match.segments],
    }


def clusters(ids: list[str], pairs: list[dict[str, Any]]) -> list[list[str]]:
    """Groups of videos joined by near-duplicate pairs (union-find), largest first."""
    parent = {i: i for i in ids}

    def root(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for pair in pairs:
        if pair["near_duplicate"]:
            parent.setdefault(pair["a"], pair["a"])
            parent.setdefault(pair["b"], pair["b"])
            parent[root(pair["a"])] = root(pair["b"])
    groups: dict[str, list[str]] = {}
    for member in parent:
        groups.setdefault(root(member), []).append(member)
    found = [sorted(g) for g in groups.values() if len(g) > 1]
    return sorted(found, key=lambda g: (-len(g), g))


class VideoDedupJob:
    def __init__(self, settings: VideoSettings, blobs: ObjectBlobStore, store: FingerprintStore) -> None:
        self.settings = settings
        self.blobs = blobs
        self.store = store

    async def __call__(self, ctx: JobContext) -> Mapping[str, Any]:
        key = result_key(ctx.tenant_id, ctx.job_id)
        if await asyncio.to_thread(self.blobs.exists, key):
            return _summary(key, json.loads(await asyncio.to_thread(self.blobs.read_bytes, key)))
        videos = self._videos(ctx.options, ctx.tenant_id)
        add_to_index = bool(ctx.options.get("index", False))
        against_index = bool(ctx.options.get("against_index", False))
        started = time.perf_counter()

        async with job_workspace(self.settings, ctx.job_id) as work:
            durations = {video.video_id: await self._duration(video, work) for video in videos}
            await ctx.progress("probe", 0.02, f"{len(videos)} videos")
            ctx.step_done("probe")

            fingerprinted: list[JobVideo] = []
            for number, video in enumerate(videos, start=1):
                async with open_source(self.blobs, self.settings, video.source, work, video.name) as path:
                    fp = await fingerprint_video(path, durations[video.video_id], self.settings)
                fingerprinted.append(JobVideo(video.video_id, video.name, video.source, fp))
                await ctx.progress(
                    "fingerprint", 0.02 + (_FINGERPRINTED - 0.02) * number / len(videos), video.name
                )
            ctx.step_done("fingerprint")

        indexed = await self.store.all(ctx.tenant_id, self.settings.fingerprint_fps) if against_index else []
        params = self.settings.align_params()
        pairs = await asyncio.to_thread(self._compare, ctx, fingerprinted, indexed, params)
        ctx.step_done("compare")

        if add_to_index:
            for video in fingerprinted:
                assert video.fingerprint is not None
                await self.store.put(ctx.tenant_id, video.video_id, video.name, video.fingerprint, ctx.job_id)
            await ctx.progress("index", 0.99, f"{len(fingerprinted)} videos indexed")
            ctx.step_done("index")

        result = {
            "job_id": ctx.job_id,
            "videos": [
                {
                    "id": v.video_id,
                    "name": v.name,
                    "duration": round(durations[v.video_id], 3),
                    "frames": v.fingerprint.frames if v.fingerprint else 0,
                }
                for v in fingerprinted
            ],
            "indexed_videos_compared": len(indexed),
            "added_to_index": add_to_index,
            "settings": {
                "fingerprint_fps": self.settings.fingerprint_fps,
                "max_distance": params.max_distance,
                "min_match_seconds": params.min_run_seconds,
                "near_duplicate_min_coverage": self.settings.near_duplicate_min_coverage,
            },
            "pairs": pairs,
            "clusters": clusters([v.video_id for v in fingerprinted], pairs),
            "seconds": round(time.perf_counter() - started, 3),
        }
        await asyncio.to_thread(self.blobs.put_bytes, key, json.dumps(result, indent=2).encode())
        return _summary(key, result)

    async def _duration(self, video: JobVideo, work: Path) -> float:
        """The video's duration, from ffprobe, within the limit."""
        try:
            async with probe_input(self.blobs, self.settings, video.source, work) as target:
                info = await probe(
                    target,
                    ffprobe=self.settings.ffprobe,
                    timeout_seconds=self.settings.ffprobe_timeout_seconds,
                )
        except ClipsiftError as exc:
            raise JobFailed(f"{video.name}: {exc}") from exc
        if info.duration > self.settings.max_dedup_video_seconds:
            raise JobFailed(
                f"{video.name} lasts {info.duration:.0f}s; the limit is "
                f"{self.settings.max_dedup_video_seconds:.0f}s"
            )
        return info.duration

    def _videos(self, options: Mapping[str, Any], tenant_id: str) -> list[JobVideo]:
        raw = options.get("videos")
        if not isinstance(raw, list) or len(raw) == 0:
            raise JobFailed("the job names no videos")
        if len(raw) > self.settings.max_dedup_videos:
            raise JobFailed(f"{len(raw)} videos; the limit is {self.settings.max_dedup_videos}")
        found: list[JobVideo] = []
        seen: set[str] = set()
        for item in raw:
            if not isinstance(item, dict):
                raise JobFailed("each video must be an object with a source_key, source_path or source_url")
            url = item.get("source_url")
            named = item.get("name") or item.get("source_path") or item.get("source_key")
            name = str(named or (redacted(url) if isinstance(url, str) and url else "a video"))
            video_id = str(item.get("id") or name)
            if video_id in seen:
                raise JobFailed(f"video id {video_id!r} appears twice")
            seen.add(video_id)
            found.append(JobVideo(video_id, name, job_source_ref(item, tenant_id, name)))
        return found

    def _compare(
        self,
        ctx: JobContext,
        videos: list[JobVideo],
        indexed: list[IndexedVideo],
        params: AlignParams,
    ) -> list[dict[str, Any]]:
        """Align every pair of the set, then every video against the index (in a worker thread)."""
        work = [(i, j) for i in range(len(videos)) for j in range(i + 1, len(videos))]
        own = {v.video_id for v in videos}
        against = [x for x in indexed if x.video_id not in own]
        total = len(work) + len(videos) * len(against)
        minimum = self.settings.near_duplicate_min_coverage
        pairs: list[dict[str, Any]] = []
        done = 0

        def tick() -> None:
            nonlocal done
            done += 1
            if done % 25 == 0 or done == total:
                fraction = _FINGERPRINTED + (0.98 - _FINGERPRINTED) * done / max(1, total)
                ctx.progress_threadsafe("compare", fraction, f"{done}/{total} pairs")

        for i, j in work:
            a, b = videos[i], videos[j]
            assert a.fingerprint is not None
            assert b.fingerprint is not None
            match = align(a.fingerprint, b.fingerprint, params)
            if match is not None:
                pairs.append(match_view(match, a.video_id, b.video_id, False, minimum))
            tick()
        for video in videos:
            assert video.fingerprint is not None
            for other in against:
                match = align(video.fingerprint, other.fingerprint, params)
                if match is not None:
                    pairs.append(match_view(match, video.video_id, other.video_id, True, minimum))
                tick()
        pairs.sort(key=lambda p: (-p["score"], p["a"], p["b"]))
        return pairs


def _summary(key: str, result: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "result_key": key,
        "videos": len(result["videos"]),
        "pairs": len(result["pairs"]),
        "near_duplicate_pairs": sum(1 for p in result["pairs"] if p["near_duplicate"]),
        "clusters": len(result["clusters"]),
    }
