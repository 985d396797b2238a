"""S3 multipart uploads whose parts the client sends straight to the bucket, through URLs the
gateway presigns: the gateway stays out of the data path. boto3, because obstore (the blob store's
library) cannot presign UploadPart; configured from the same blob settings (``blob_url`` s3://,
``blob_options`` aws_* keys), so it writes the keys the blob store reads.

Every method blocks (boto3 is synchronous): routes call them through ``asyncio.to_thread``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from clipsift_common.errors import InvalidArgument, NotFound
from clipsift_common.settings import BlobSettings

_SCHEMES = ("s3", "s3a")


@dataclass(frozen=True)
class Part:
    number: int
    size: int
    etag: str


def is_s3(settings: BlobSettings) -> bool:
    return settings.blob_url is not None and urlsplit(settings.blob_url).scheme in _SCHEMES


def _true(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes"}


class S3Multipart:
    """The bucket and key prefix of an ``s3://bucket/prefix`` blob URL, and a client for them."""

    def __init__(self, settings: BlobSettings, presign_endpoint: str | None = None) -> None:
        if not is_s3(settings):
            raise InvalidArgument("presigned multipart uploads need an s3:// blob store")
        assert settings.blob_url is not None
        url = urlsplit(settings.blob_url)
        self.bucket = url.netloc
        self.prefix = url.path.strip("/")
        options = settings.blob_options
        # obstore's keys; unset ones come from boto3's own environment (AWS_*, instance roles).
        virtual = options.get("aws_virtual_hosted_style_request")
        addressing = "auto" if virtual is None else ("virtual" if _true(virtual) else "path")
        endpoint = options.get("aws_endpoint") or options.get("aws_endpoint_url")
        self.client: Any = _client(options, endpoint, addressing)
        # Part URLs name the endpoint clients reach, which may differ from the one the gateway
        # uses inside the cluster; signing needs no request, so this client never connects.
        self.signer: Any = _client(options, presign_endpoint, addressing) if presign_endpoint else self.client

    def move(self, source: str, target: str) -> None:
        """A server-side move of blob keys of any size: boto3's managed copy switches to
        UploadPartCopy above its threshold, where a single CopyObject stops at 5 GiB."""
        self.client.copy({"Bucket": self.bucket, "Key": self.key(source)}, self.bucket, self.key(target))
        self.client.delete_object(Bucket=self.bucket, Key=self.key(source))

    def key(self, blob_key: str) -> str:
        """The bucket key of a blob-store key."""
        return f"{self.prefix}/{blob_key}" if self.prefix else blob_key

    def create(self, blob_key: str, content_type: str) -> str:
        """Start a multipart upload of ``blob_key``; returns its upload id."""
        reply = self.client.create_multipart_upload(
            Bucket=self.bucket, Key=self.key(blob_key), ContentType=content_type
        )
        return str(reply["UploadId"])

    def part_url(self, blob_key: str, upload_id: str, number: int, expires_seconds: int) -> str:
        """A URL the client PUTs part ``number`` to, valid for ``expires_seconds``."""
        params = {
            "Bucket": self.bucket,
            "Key": self.key(blob_key),
            "UploadId": upload_id,
            "PartNumber": number,
        }
        return str(
            self.signer.generate_presigned_url("upload_part", Params=params, ExpiresIn=expires_seconds)
        )

    def parts(self, blob_key: str, upload_id: str) -> list[Part]:
        """The parts S3 holds for the upload, by number (ListParts, every page)."""
        found: list[Part] = []
        marker = 0
        while True:
            try:
                reply = self.client.list_parts(
                    Bucket=self.bucket, Key=self.key(blob_key), UploadId=upload_id, PartNumberMarker=marker
                )
            except ClientError as exc:
                raise _translated(exc) from exc
            found.extend(
                Part(int(p["PartNumber"]), int(p["Size"]), str(p["ETag"])) for p in reply.get("Parts", [])
            )
            if not reply.get("IsTruncated"):
                return sorted(found, key=lambda p: p.number)
            marker = int(reply["NextPartNumberMarker"])

    def complete(self, blob_key: str, upload_id: str, parts: list[Part]) -> None:
        """Join ``parts`` (in order) into the object: it becomes visible now, whole."""
        listed = [{"PartNumber": p.number, "ETag": p.etag} for p in parts]
        try:
            self.client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=self.key(blob_key),
                UploadId=upload_id,
                MultipartUpload={"Parts": listed},
            )
        except ClientError as exc:
            raise _translated(exc) from exc

    def abort(self, blob_key: str, upload_id: str) -> None:
        """Drop the upload and the parts S3 stored for it (nothing becomes visible)."""
        try:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=self.key(blob_key), UploadId=upload_id)
        except ClientError as exc:
            if _code(exc) not in {"NoSuchUpload", "404"}:
                raise


def _client(options: dict[str, str], endpoint: str | None, addressing: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=options.get("aws_access_key_id"),
        aws_secret_access_key=options.get("aws_secret_access_key"),
        aws_session_token=options.get("aws_session_token") or options.get("aws_token"),
        region_name=options.get("aws_region") or options.get("aws_default_region"),
        config=Config(signature_version="s3v4", s3={"addressing_style": addressing}),
    )


def _code(exc: Any) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _translated(exc: Exception) -> Exception:
    code = _code(exc)
    if code in {"NoSuchUpload", "404"}:
        return NotFound("S3 no longer has this multipart upload (aborted or expired)")
    if code in {"InvalidPart", "InvalidPartOrder", "EntityTooSmall"}:
        return InvalidArgument(f"S3 refused to complete the upload: {code}")
    return exc
