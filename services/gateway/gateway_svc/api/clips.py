"""Clip jobs: upload a long video, get the best short vertical clips back."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Annotated, Any

from fastapi import HTTPException, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from clipsift.video.v1 import video_pb2
from clipsift_common.blobkeys import job_prefix
from clipsift_common.contracts import MAX_PROMPT_CHARS, AspectRatio, ClipOptions, parse_range
from clipsift_common.errors import InvalidArgument, ResourceExhausted

from ..auth import Principal
from ..downloads import Redirect, job_file_key, serve_blob
from ..permissions import Permission, requires
from ..submission import queue_job
from ..upload_source import UploadSource, json_upload_id
from ..uploads import check_declared_length, stream_to_blob
from .buckets import json_source, signed_source
from .deps import Blobs, Jobs, Settings, VideoService
from .jobs import completed_result
from .params import MAX_INDEX, JobId, canonical_job_id, has_control_characters
from .schemas import JobView, ReplyRouter, ServerPathIn, alternatives, request_body

router = ReplyRouter(tags=["clips"])
_MAX_JSON_BYTES = 4096
CLIP_FILES = {
    "clip.mp4": "video/mp4",
    "clip.srt": "application/x-subrip",
    "clip.vtt": "text/vtt",
    "thumbnail.jpg": "image/jpeg",
}


VIDEO_BODY = request_body(
    "The video, streamed (any container ffmpeg reads), or a JSON body naming a file on the server",
    json=ServerPathIn,
    binary=("video/*", "application/octet-stream"),
)


class _Open(BaseModel):
    # The manifest is the clip worker's document; the gateway documents what it relies on.
    model_config = ConfigDict(extra="allow")


class ClipScore(_Open):
    total: float


class ListedClip(_Open):
    index: int
    start: float
    end: float
    title: str
    transcript: str
    score: ClipScore
    urls: dict[str, str] = Field(description="File name (clip.mp4, clip.srt, ...) to its download URL")


class ClipManifest(_Open):
    """A clip job's result: the source, the options and the clips, best first."""

    job_id: str
    clips: list[ListedClip]


@router.post("/v1/clips", status_code=202, response_model=JobView, openapi_extra=VIDEO_BODY)
async def submit_clips(
    request: Request,
    principal: Annotated[Principal, requires(Permission.JOBS_WRITE)],
    video: VideoService,
    count: Annotated[int, Query(ge=1, le=50)] = 3,
    min_seconds: Annotated[float, Query(ge=3, le=600)] = 15.0,
    max_seconds: Annotated[float, Query(ge=3, le=600)] = 60.0,
    aspect: Annotated[AspectRatio, Query()] = "9:16",
    captions: bool = True,
    caption_style: Annotated[str, Query(pattern="^(highlight|plain)$")] = "highlight",
    remove_fillers: bool = False,
    language: Annotated[str, Query(max_length=8)] = "",
    range: Annotated[str, Query(max_length=40, description="start-end: 60-300, 1:00-5:00")] = "",
    durations: Annotated[str, Query(max_length=40, description="target lengths, e.g. 30,60")] = "",
    resolution: Annotated[str, Query(max_length=9, description="WxH, e.g. 1080x1920")] = "",
    genre: Annotated[str, Query(max_length=16)] = "auto",
    # Bounded here only against abuse; ClipOptions gives the 400 that names the real limit.
    prompt: Annotated[str, Query(max_length=4 * MAX_PROMPT_CHARS)] = "",
    topic_keywords: Annotated[str, Query(max_length=1000, description="comma-separated")] = "",
    against_index: bool = False,
) -> dict[str, Any]:
    """Start a clip job on a video sent as the request body (any container ffmpeg reads: MP4,
    MOV, MKV, WebM ...; streamed, never held in memory), on an object in one of the tenant's
    registered buckets, named by a JSON body ``{"source": "s3://<bucket name>/<key>"}``, or on a
    file the video service may read, named by ``{"path": "/media/talk.mp4"}``, or on a completed
    resumable upload (``POST /v1/uploads``), named by ``{"upload_id": "..."}``.
    The video is checked before the job exists: a file that is not a video, has no audio track
    or is too long gets a 4xx here, and nothing is kept."""
    state = request.app.state
    settings = state.settings
    try:
        range_start, range_end = parse_range(range) if range else (0.0, None)
        options = ClipOptions.model_validate(
            {
                "count": count,
                "min_seconds": min_seconds,
                "max_seconds": max_seconds,
                "durations": _numbers(durations, "durations"),
                "aspect": aspect,
                "resolution": resolution.strip().lower(),
                "captions": captions,
                "caption_style": caption_style,
                "remove_fillers": remove_fillers,
                "language": language,
                "range_start": range_start,
                "range_end": range_end,
                "genre": genre,
                "prompt": prompt,
                "topic_keywords": [k for k in (p.strip() for p in topic_keywords.split(",")) if k],
                "against_index": against_index,
            }
        )
    except ValidationError as exc:
        raise InvalidArgument(_first_error(exc)) from None
    except ValueError as exc:
        raise InvalidArgument(str(exc)) from None
    job_id = uuid.uuid4()
    blobs = state.blobs
    uploaded: UploadSource | None = None
    try:
        reference = await json_source(request) if media_type(request) == "application/json" else None
        if reference is not None:
            # An object in a registered bucket: the video service probes and reads it through a
            # signed URL; the job records the bucket reference as its input, never the URL.
            source, reference = await signed_source(request, principal.tenant_id, reference)
            probe = _probe(url=source["source_url"])
        else:
            source, probe, uploaded = await _probed_source(request, principal.tenant_id, job_id)
        info = await video.call(video.stub.Probe, probe)
        if info.duration > settings.max_video_seconds:
            raise ResourceExhausted(
                f"the video lasts {info.duration:.0f}s; the limit is {settings.max_video_seconds:.0f}s"
            )
        if options.range_start >= info.duration:
            raise InvalidArgument(
                f"range: starts at {options.range_start:g}s but the video lasts {info.duration:.0f}s"
            )
        if uploaded is not None:  # probed where it lay; now the job's own
            source = {"source_key": await uploaded.claim(job_id)}
        payload = options.model_dump() | source | {"duration": info.duration}
        message = f"{info.duration:.0f}s {info.width}x{info.height} video queued"
        input_key = reference or next(iter(source.values()))
        return await queue_job(state, job_id, principal.tenant_id, "clip", payload, input_key, message)
    except BaseException:
        if uploaded is not None:
            await uploaded.release()
        await asyncio.to_thread(blobs.delete_prefix, job_prefix(principal.tenant_id, str(job_id)))
        raise


async def _probed_source(
    request: Request, tenant_id: str, job_id: uuid.UUID
) -> tuple[dict[str, str], video_pb2.ProbeRequest, UploadSource | None]:
    """The job's video and how to probe it: a completed resumable upload (``{"upload_id"}``), a
    server path (``{"path"}``) or the request body, streamed into the job's prefix."""
    state = request.app.state
    if media_type(request) == "application/json":
        if (upload_id := await json_upload_id(request)) is not None:
            uploaded = await UploadSource.open(state, tenant_id, upload_id)
            return {"source_key": uploaded.key}, _probe(blob_key=uploaded.key), uploaded
        path = await server_path(request)
        return {"source_path": path}, _probe(path=path), None
    key = f"{job_prefix(tenant_id, str(job_id))}/source.video"
    await stream_to_blob(request, state.blobs, key, state.settings.max_video_upload_bytes, "video")
    return {"source_key": key}, _probe(blob_key=key), None


def _probe(**where: str) -> video_pb2.ProbeRequest:
    return video_pb2.ProbeRequest(require_audio=True, **where)


def _numbers(text: str, name: str) -> list[float]:
    try:
        return [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ValueError(f"{name} must be comma-separated seconds, e.g. 30,60; got {text!r}") from None


def _first_error(exc: ValidationError) -> str:
    """The first problem, naming the option: 'genre: Input should be ...'."""
    error = exc.errors()[0]
    message = str(error["msg"]).removeprefix("Value error, ")
    where = ".".join(str(part) for part in error["loc"] if not isinstance(part, int))
    return f"{where}: {message}" if where else message


def media_type(request: Request) -> str:
    """The request's media type, lowercased, without parameters."""
    return (request.headers.get("content-type") or "").split(";")[0].strip().lower()


async def server_path(request: Request) -> str:
    """The absolute server path named by a small JSON body ``{"path": "..."}``."""
    check_declared_length(request, _MAX_JSON_BYTES)
    body = await request.body()
    if len(body) > _MAX_JSON_BYTES:
        raise ResourceExhausted(f"a JSON body naming a server path must be under {_MAX_JSON_BYTES} bytes")
    try:
        path = json.loads(body).get("path")
    except (ValueError, AttributeError):
        raise InvalidArgument('send {"path": "/server/path/video.mp4"} as the JSON body') from None
    if not isinstance(path, str) or not path.startswith("/"):
        raise InvalidArgument('"path" must be an absolute path on the server')
    if has_control_characters(path):
        raise InvalidArgument('"path" must not contain control characters')
    return path


async def _manifest(jobs: Jobs, blobs: Blobs, job_id: str, tenant_id: str) -> dict[str, Any]:
    return dict(json.loads(await completed_result(jobs, blobs, job_id, tenant_id, "clip")))


@router.get("/v1/jobs/{job_id}/clips", response_model=ClipManifest)
async def list_clips(
    job_id: JobId, principal: Annotated[Principal, requires(Permission.JOBS_READ)], jobs: Jobs, blobs: Blobs
) -> dict[str, Any]:
    """The job's clips, best first: score with every component, transcript, title, file URLs."""
    manifest = await _manifest(jobs, blobs, job_id, principal.tenant_id)
    job_id = canonical_job_id(job_id)
    for clip in manifest["clips"]:
        clip["urls"] = {name: f"/v1/jobs/{job_id}/clips/{clip['index']}/{name}" for name in clip.pop("files")}
    manifest["clips"].sort(key=lambda c: -c["score"]["total"])
    return manifest


@router.get(
    "/v1/jobs/{job_id}/clips/{index}/{name}",
    response_class=Response,
    responses={
        **alternatives(*CLIP_FILES.values()),
        206: {"description": "The requested byte range (folder backend)"},
        307: {"description": "Redirect to a short-lived signed URL of the file (object storage)"},
        416: {"description": "The requested range lies past the end of the file"},
    },
)
async def download_clip_file(
    job_id: JobId,
    index: Annotated[int, Path(ge=0, le=MAX_INDEX)],
    name: Annotated[str, Path(max_length=32, description=", ".join(CLIP_FILES))],
    request: Request,
    principal: Annotated[Principal, requires(Permission.JOBS_READ)],
    jobs: Jobs,
    blobs: Blobs,
    settings: Settings,
    redirect: Redirect = True,
) -> Response:
    """One file of one clip: clip.mp4, clip.srt, clip.vtt or thumbnail.jpg. On object storage a
    307 to a signed URL valid ``download_url_seconds``; otherwise the bytes, with ``Range``."""
    if name not in CLIP_FILES:
        raise HTTPException(404, f"no clip file named {name!r}; choose one of {', '.join(CLIP_FILES)}")
    manifest = await _manifest(jobs, blobs, job_id, principal.tenant_id)
    clip = next((c for c in manifest["clips"] if c["index"] == index), None)
    if clip is None or name not in clip["files"]:
        raise HTTPException(404, f"job {job_id} has no clip {index}" + (f" {name}" if clip else ""))
    job_id = canonical_job_id(job_id)
    return await serve_blob(
        request,
        blobs,
        job_file_key(principal.tenant_id, job_id, clip["files"][name]),
        media_type=CLIP_FILES[name],
        filename=f"{job_id[:8]}-clip{index}-{name}",
        url_seconds=settings.download_url_seconds,
        redirect=redirect,
    )
