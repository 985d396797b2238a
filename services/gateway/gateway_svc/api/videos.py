"""Video analysis and near-duplicate videos: both run as jobs on the video service."""

from __future__ import annotations

import asyncio
import json
import shutil
import uuid
import zipfile
from pathlib import PurePosixPath
from typing import Annotated, Any

import grpc
from fastapi import HTTPException, Path, Query, Request
from fastapi.responses import Response

from clipsift.video.v1 import video_pb2
from clipsift_common.blobkeys import job_prefix, upload_prefix
from clipsift_common.errors import InvalidArgument, ResourceExhausted
from clipsift_common.objectstore import ObjectBlobStore

from ..auth import Principal
from ..blobio import BlobFile
from ..downloads import Redirect, job_file_key, serve_blob
from ..permissions import Permission, requires
from ..settings import GatewaySettings
from ..submission import queue_job
from ..upload_source import UploadSource, json_upload_id
from ..uploads import check_declared_length, stream_to_blob
from .clips import VIDEO_BODY, media_type, server_path
from .deps import Blobs, Jobs, Settings, VideoService
from .jobs import completed_result
from .params import MAX_INDEX, JobId, Plain, canonical_job_id, has_control_characters, plain_schema
from .schemas import JobView, ReplyRouter, ServerPathsIn, alternatives, request_body

router = ReplyRouter(tags=["videos"])
ANALYSIS_KIND = "video_analysis"
DEDUP_KIND = "video_dedup"
VIDEO_SUFFIXES = frozenset(
    {".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".mpg", ".mpeg", ".ts", ".wmv", ".flv"}
)
_MAX_PATHS_JSON_BYTES = 256 * 1024


async def _probe(
    video: VideoService, settings: GatewaySettings, probe: video_pb2.ProbeRequest, name: str
) -> video_pb2.MediaInfo:
    """Probe a video on the video service; a bad one is a 400 that names it."""
    try:
        info: video_pb2.MediaInfo = await video.call(video.stub.Probe, probe)
    except grpc.aio.AioRpcError as exc:
        if exc.code() == grpc.StatusCode.INVALID_ARGUMENT:
            raise InvalidArgument(f"{name}: {exc.details()}") from None
        raise
    if info.duration > settings.max_video_seconds:
        raise ResourceExhausted(
            f"{name} lasts {info.duration:.0f}s; the limit is {settings.max_video_seconds:.0f}s"
        )
    return info


@router.post("/v1/videos/analyze", status_code=202, response_model=JobView, openapi_extra=VIDEO_BODY)
async def analyze_video(
    request: Request,
    principal: Annotated[Principal, requires(Permission.JOBS_WRITE)],
    video: VideoService,
    language: Annotated[
        Plain,
        Query(max_length=8, description="ISO 639-1 code; empty = detect", json_schema_extra=plain_schema()),
    ] = "",
) -> dict[str, Any]:
    """Start a video analysis job: scenes, a keyframe per scene (thumbnail, faces, perceptual
    hashes, dominant colours), the transcript and a summary (top keyframes + key sentences).

    The video is the request body (streamed), a file the video service may read, named by a
    JSON body ``{"path": "/media/video.mp4"}``, or a completed resumable upload, named by
    ``{"upload_id": ...}``. It is probed before the job exists: a file that is not a video or has
    no video stream gets a 400, one over the duration limit a 413. The result
    is served by ``GET /v1/jobs/{id}/result``, keyframes by ``GET /v1/jobs/{id}/keyframes/{n}``."""
    state = request.app.state
    job_id = uuid.uuid4()
    blobs: ObjectBlobStore = state.blobs
    uploaded: UploadSource | None = None
    try:
        upload_id = await json_upload_id(request) if media_type(request) == "application/json" else None
        if upload_id is not None:
            uploaded = await UploadSource.open(state, principal.tenant_id, upload_id)
            source = {"source_key": uploaded.key}
            probe = video_pb2.ProbeRequest(blob_key=uploaded.key)
        elif media_type(request) == "application/json":
            path = await server_path(request)
            source = {"source_path": path}
            probe = video_pb2.ProbeRequest(path=path)
        else:
            key = f"{job_prefix(principal.tenant_id, str(job_id))}/source.video"
            await stream_to_blob(request, blobs, key, state.settings.max_video_upload_bytes, "video")
            source = {"source_key": key}
            probe = video_pb2.ProbeRequest(blob_key=key)
        info = await _probe(video, state.settings, probe, "the video")
        if uploaded is not None:  # probed where it lay; now the job's own
            source = {"source_key": await uploaded.claim(job_id)}
        payload = source | {"language": language, "duration": info.duration}
        message = f"{info.duration:.0f}s {info.width}x{info.height} video queued for analysis"
        return await queue_job(
            state, job_id, principal.tenant_id, ANALYSIS_KIND, payload, next(iter(source.values())), message
        )
    except BaseException:
        if uploaded is not None:
            await uploaded.release()
        await asyncio.to_thread(blobs.delete_prefix, job_prefix(principal.tenant_id, str(job_id)))
        raise


@router.get(
    "/v1/jobs/{job_id}/keyframes/{index}",
    response_class=Response,
    responses={
        **alternatives("image/jpeg"),
        206: {"description": "The requested byte range (folder backend)"},
        307: {"description": "Redirect to a short-lived signed URL of the keyframe (object storage)"},
        416: {"description": "The requested range lies past the end of the file"},
    },
)
async def download_keyframe(
    job_id: JobId,
    index: Annotated[int, Path(ge=0, le=MAX_INDEX)],
    request: Request,
    principal: Annotated[Principal, requires(Permission.JOBS_READ)],
    jobs: Jobs,
    blobs: Blobs,
    settings: Settings,
    redirect: Redirect = True,
) -> Response:
    """One keyframe thumbnail (JPEG) of a completed analysis job: a 307 to a signed URL on object
    storage, else the bytes (with ``Range``)."""
    manifest = json.loads(await completed_result(jobs, blobs, job_id, principal.tenant_id, ANALYSIS_KIND))
    keyframe = next((k for k in manifest["keyframes"] if k["index"] == index), None)
    if keyframe is None:
        raise HTTPException(404, f"job {job_id} has no keyframe {index}")
    job_id = canonical_job_id(job_id)
    return await serve_blob(
        request,
        blobs,
        job_file_key(principal.tenant_id, job_id, keyframe["file"]),
        media_type="image/jpeg",
        filename=f"{job_id[:8]}-keyframe{index:03d}.jpg",
        url_seconds=settings.download_url_seconds,
        redirect=redirect,
    )


def _unpack_videos(
    blobs: ObjectBlobStore, archive_key: str, job_keys: str, limit: int, max_bytes: int
) -> list[dict[str, str]]:
    """The video files of an uploaded zip, copied under the job's prefix ``job_keys``; their names
    are their paths. The archive is read in place through a seekable reader (ranged reads on
    object storage), never copied whole to local disk."""
    try:
        archive = zipfile.ZipFile(BlobFile(blobs.reader(archive_key)))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InvalidArgument(f"the upload is not a valid zip file: {exc}") from None
    found: list[dict[str, str]] = []
    unpacked = 0
    with archive:
        members = [
            m
            for m in archive.infolist()
            if not m.is_dir()
            and PurePosixPath(m.filename).suffix.lower() in VIDEO_SUFFIXES
            and not any(part.startswith(".") or part == "__MACOSX" for part in m.filename.split("/"))
        ]
        if len(members) < 2:
            raise InvalidArgument(
                f"the zip holds {len(members)} video files; near-duplicates need at least 2 "
                f"({', '.join(sorted(VIDEO_SUFFIXES))})"
            )
        if len(members) > limit:
            raise ResourceExhausted(f"the zip holds {len(members)} videos; the limit is {limit}")
        for number, member in enumerate(members):
            # Checked before reading: a small zip can unpack to more than the disk holds.
            unpacked += member.file_size
            if unpacked > max_bytes:
                raise ResourceExhausted(f"the videos exceed {max_bytes} bytes (the limit) unpacked")
            key = f"{job_keys}/videos/{number:04d}{PurePosixPath(member.filename).suffix.lower()}"
            try:
                with archive.open(member) as source, blobs.writer(key) as out:
                    shutil.copyfileobj(source, out, 1 << 20)
            except (zipfile.BadZipFile, OSError, EOFError) as exc:
                raise InvalidArgument(f"zip member {member.filename!r} cannot be read: {exc}") from None
            found.append({"source_key": key, "name": member.filename})
    return found


async def _server_paths(request: Request, limit: int) -> list[dict[str, str]]:
    check_declared_length(request, _MAX_PATHS_JSON_BYTES)
    body = await request.body()
    if len(body) > _MAX_PATHS_JSON_BYTES:
        raise ResourceExhausted(
            f"a JSON body naming server paths must be under {_MAX_PATHS_JSON_BYTES} bytes"
        )
    try:
        paths = json.loads(body).get("paths")
    except (ValueError, AttributeError):
        raise InvalidArgument('send {"paths": ["/server/a.mp4", "/server/b.mp4"]} as the JSON body') from None
    if not isinstance(paths, list) or not all(isinstance(p, str) and p.startswith("/") for p in paths):
        raise InvalidArgument('"paths" must be a list of absolute paths on the server')
    if any(has_control_characters(p) for p in paths):
        raise InvalidArgument('"paths" must not contain control characters')
    if len(set(paths)) < 2:
        raise InvalidArgument("near-duplicates need at least 2 distinct videos")
    if len(paths) > limit:
        raise ResourceExhausted(f"{len(paths)} videos; the limit is {limit}")
    return [{"source_path": p, "name": p} for p in dict.fromkeys(paths)]


@router.post(
    "/v1/videos/duplicates",
    status_code=202,
    response_model=JobView,
    openapi_extra=request_body(
        "A zip of video files, or a JSON body naming files on the server",
        json=ServerPathsIn,
        binary=("application/zip",),
    ),
)
async def video_duplicates(
    request: Request,
    principal: Annotated[Principal, requires(Permission.JOBS_WRITE)],
    video_service: VideoService,
    index: Annotated[bool, Query(description="Add these videos to the tenant's index")] = False,
    against_index: Annotated[
        bool, Query(description="Also compare them with every video in the tenant's index")
    ] = False,
) -> dict[str, Any]:
    """Start a near-duplicate job over a set of videos: a zip of video files as the body
    (``Content-Type: application/zip``), or server paths as ``{"paths": [...]}`` (JSON).

    Every pair is aligned by its frame-hash sequences; re-encoded, cropped, trimmed and
    watermarked copies match, and each match reports the time ranges in both videos. With
    ``index=true`` the videos join the tenant's index; with ``against_index=true`` they are also
    compared with it. Every video is probed first: one that is not a video is a 400 naming it."""
    state = request.app.state
    settings = state.settings
    job_id = uuid.uuid4()
    blobs: ObjectBlobStore = state.blobs
    uploads = upload_prefix(principal.tenant_id, str(job_id))
    archive_key = f"{uploads}/videos.zip"
    job_keys = job_prefix(principal.tenant_id, str(job_id))
    kind = media_type(request)
    try:
        if kind == "application/json":
            videos = await _server_paths(request, settings.max_dedup_videos)
        elif kind in {"application/zip", "application/x-zip-compressed"}:
            await stream_to_blob(
                request, blobs, archive_key, settings.max_video_upload_bytes, "zip of videos"
            )
            videos = await asyncio.to_thread(
                _unpack_videos,
                blobs,
                archive_key,
                job_keys,
                settings.max_dedup_videos,
                settings.max_video_upload_bytes,
            )
        else:
            raise InvalidArgument(
                f"unsupported content type {kind or '(none)'!r}: send application/zip (video files) "
                'or application/json ({"paths": [...]})'
            )
        total = 0.0
        for video in videos:
            probe = (
                video_pb2.ProbeRequest(blob_key=video["source_key"])
                if "source_key" in video
                else video_pb2.ProbeRequest(path=video["source_path"])
            )
            info = await _probe(video_service, settings, probe, video["name"])
            total += info.duration
        options = {"videos": videos, "index": index, "against_index": against_index}
        message = f"{len(videos)} videos ({total:.0f}s) queued for near-duplicate detection"
        input_key = f"{job_keys}/videos" if kind != "application/json" else videos[0]["source_path"]
        return await queue_job(state, job_id, principal.tenant_id, DEDUP_KIND, options, input_key, message)
    except BaseException:
        await asyncio.to_thread(blobs.delete_prefix, job_keys)
        raise
    finally:
        await asyncio.to_thread(blobs.delete_prefix, uploads)
